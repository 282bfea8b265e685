"""The first pass of ``tamis dedup`` computes what an earlier revision computed, on a real corpus.

    .venv/bin/python bench/check_collect_identity.py [--rev b961a30] [--shards PATHS...]

Builds ``tamis/_native/minhash.c`` and ``text.c`` of git revision ``--rev`` into a temporary
directory and runs, over every document of the bench corpus (``bench/corpus.py``: 103k
documents) or the given JSONL files, the collect's two compiled computations both ways:

* MinHash sketch (band keys, shingle counts, fingerprint sets): this checkout's sketch with
  the per-document rule in C (unit mode 2 | 4 | 8) against the revision's, fed as its collect
  fed it (``shingles.spread_mostly_unspaced`` in Python, then mode 2 | 4);
* exact key (``fold_spaces_utf8(text, True)``): this checkout's against the revision's.

Every byte equal means the same decisions: nothing else of the collect changed.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def build_old(rev: str, folder: Path) -> tuple[object, object]:
    """The revision's _minhash and _text extension modules, compiled and imported."""
    for name in ("minhash.c", "text.c", "unicode_core.h"):
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:tamis/_native/{name}"], capture_output=True, check=True).stdout
        (folder / name).write_bytes(source)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    modules = []
    for stem in ("minhash", "text"):
        target = folder / f"_{stem}{suffix}"
        cmd = ["gcc", "-shared", "-fPIC", "-O3", "-std=c11", f"-I{sysconfig.get_paths()['include']}", str(folder / f"{stem}.c"), "-o", str(target)]
        subprocess.run(cmd, check=True)
        spec = importlib.util.spec_from_file_location(f"_{stem}", target)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    return modules[0], modules[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default="b961a30", help="the revision to compare with (before the per-document rule moved into C)")
    parser.add_argument("--shards", nargs="*", type=Path, help="JSONL files (default: the bench corpus)")
    args = parser.parse_args()

    from tamis._native import _minhash as new_minhash
    from tamis._native import _text as new_text
    from tamis.dedup.lsh import permutations
    from tamis.dedup.minhash import BATCH_DOCS, MinHashDedup, unspaced_bitmap
    from tamis.dedup.shingles import UNSPACED_DOCUMENT_SHARE, spread_mostly_unspaced
    from tamis.steps.normalize import Normalize

    paths = args.shards
    if not paths:
        from corpus import build_corpus

        paths = build_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        old_minhash, old_text = build_old(args.rev, Path(tmp))
    bitmap = unspaced_bitmap()
    old_minhash.set_unspaced(bitmap)
    new_minhash.set_unspaced(bitmap, UNSPACED_DOCUMENT_SHARE)
    stage = MinHashDedup(threshold=0.8)
    bands, rows = stage.banding
    a, b = permutations(stage.seed, bands * rows)
    normalize = Normalize().normalize
    docs = spread = key_diffs = sketch_diffs = 0
    old_s = new_s = 0.0
    for path in paths:
        with open(path, "rb") as fh:
            texts = [normalize(orjson.loads(line)["text"]) for line in fh]
        docs += len(texts)
        key_diffs += sum(old_text.fold_spaces_utf8(t, True) != new_text.fold_spaces_utf8(t, True) for t in texts)
        for start in range(0, len(texts), BATCH_DOCS):
            batch = texts[start : start + BATCH_DOCS]
            t0 = time.thread_time()
            prepared = [spread_mostly_unspaced(t) for t in batch]
            old = old_minhash.sketch(prepared, stage.ngram, 2 | 4, a, b, bands, rows)
            t1 = time.thread_time()
            new = new_minhash.sketch(batch, stage.ngram, 2 | 4 | 8, a, b, bands, rows)
            t2 = time.thread_time()
            old_s, new_s = old_s + t1 - t0, new_s + t2 - t1
            spread += sum(p is not t for p, t in zip(prepared, batch, strict=True))
            sketch_diffs += old != new
        print(f"{path.name}: {len(texts):,} documents checked", flush=True)
    print(f"{docs:,} documents ({spread:,} shingled by characters throughout); exact keys differing: {key_diffs}; sketch batches differing: {sketch_diffs}")
    print(f"sketch CPU: revision {args.rev} (spread in Python + C) {old_s:.2f} s, this checkout {new_s:.2f} s")
    sys.exit(1 if key_diffs or sketch_diffs else 0)


if __name__ == "__main__":
    main()
