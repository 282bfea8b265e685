"""Does a change to the ``extract`` step leave every extractor's output as it was?

    # before the change (a checkout of the old commit; its own tamis on PYTHONPATH):
    PYTHONPATH=/path/to/old/checkout .venv/bin/python bench/check_extract_identity.py --save before.json
    # after it:
    .venv/bin/python bench/check_extract_identity.py --save after.json --compare before.json

Each extractor runs as a user runs it (``tamis run`` with a recipe of the ``extract`` step alone,
one worker) over every page of both evaluation sets (``bench/bench_extract.py``'s page folders)
and, with ``--wceb DIR``, of the third set (``bench/wceb_pages.py``: its 946 pages),
and each page's kept record (text and metadata) or reject (its rule) is hashed. ``--compare``
prints every page whose record differs, per extractor and set, and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_extract import load_aeb, load_teval, write_pages  # noqa: E402

EXTRACTORS = ("tamis", "trafilatura", "tamis_quick", "tamis_fast", "tamis_learned", "tamis_learned_hybrid")
_RUN = "import sys; from tamis.cli import main; sys.exit(main(sys.argv[1:]))"


def _records(folder: Path, pages: Path) -> dict[str, str]:
    """Page file name -> hash of what the run wrote for it (output record, or reject rule). The
    pages' folder is taken out of the record (its id and source path name it) before hashing, so
    two runs compare equal whatever ``--workdir`` each used."""
    found: dict[str, str] = {}
    for kind in ("output", "rejects"):
        for shard in sorted((folder / kind).glob("*.jsonl.gz")):
            with gzip.open(shard, "rt", encoding="utf-8") as fh:
                for line in fh:
                    record = json.loads(line)
                    name = Path(record["metadata"]["source"]["path"]).name
                    if kind == "rejects":
                        # A reject's detail may carry timings; its rule is what the step decided.
                        record = {"rule": record.get("reason") or record.get("rule") or record.get("metadata", {}).get("reject")}
                    text = json.dumps([kind, record], sort_keys=True, ensure_ascii=False).replace(json.dumps(str(pages))[1:-1], "PAGES")
                    digest = hashlib.sha256(text.encode()).hexdigest()
                    found[name] = digest[:16]
    return found


def run_extractor(pages: Path, extractor: str, workdir: Path) -> dict[str, str]:
    config = workdir / f"identity-{extractor}.yaml"
    config.write_text(f"steps:\n  - step: extract\n    extractor: {extractor}\n", encoding="utf-8")
    out = workdir / f"identity-run-{extractor}"
    cmd = [sys.executable, "-c", _RUN, "run", str(config), "-i", str(pages), "-o", str(out), "-w", "1", "--no-report", "--quiet", "--overwrite"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return _records(out, pages)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--extractors", nargs="+", default=list(EXTRACTORS))
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tamis-extract-identity")
    parser.add_argument("--wceb", type=Path, default=None, metavar="DIR", help="also the web-content-extraction-benchmark's pages (bench/wceb_pages.py)")
    parser.add_argument("--save", type=Path, required=True, help="write the per-page hashes here")
    parser.add_argument("--compare", type=Path, help="hashes saved by an earlier run to compare with")
    args = parser.parse_args()
    import tamis

    print(f"tamis from {Path(tamis.__file__).parent}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    _, teval_files, _ = load_teval(args.corpus, args.workdir)
    _, aeb_files = load_aeb(args.corpus)
    sets: list[tuple[str, dict[str, Path] | dict[str, bytes]]] = [("trafilatura-eval", teval_files), ("scrapinghub-aeb", aeb_files)]
    if args.wceb is not None:
        from readability_pages import evaluation_sites
        from wceb_pages import load_wceb

        wceb, _ = load_wceb(args.wceb, evaluation_sites(args.corpus))
        sets.append(("wceb2026", {page.key: page.raw for page in wceb}))
    hashes: dict[str, dict[str, dict[str, str]]] = {}
    for set_name, files in sets:
        pages = args.workdir / f"pages-{set_name}"
        write_pages(files, pages)
        for extractor in args.extractors:
            hashes.setdefault(set_name, {})[extractor] = found = run_extractor(pages, extractor, args.workdir)
            print(f"  {set_name:<17} {extractor:<22} {len(found)} of {len(files)} pages")
    args.save.write_text(json.dumps(hashes, indent=1, sort_keys=True), encoding="utf-8")
    if args.compare is None:
        return 0
    before = json.loads(args.compare.read_text(encoding="utf-8"))
    differences = 0
    for set_name, by_extractor in hashes.items():
        for extractor, after in by_extractor.items():
            old = before.get(set_name, {}).get(extractor)
            if old is None:
                print(f"  {set_name} {extractor}: not in {args.compare}")
                continue
            changed = sorted(name for name in old.keys() | after.keys() if old.get(name) != after.get(name))
            differences += len(changed)
            verdict = "identical" if not changed else f"{len(changed)} pages differ: {', '.join(changed[:10])}"
            print(f"  {set_name:<17} {extractor:<22} {len(after)} pages {verdict}")
    print("every compared page identical" if not differences else f"{differences} page records differ")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
