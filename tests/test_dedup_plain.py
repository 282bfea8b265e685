"""The dedup passes' plain-Python twins (tamis.dedup.plain, small runs) against their numpy
originals: the same files, byte for byte, and the same outputs."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest
from runutil import kept, load_stats, rejected, run_recipe, write_jsonl

from tamis.dedup import plain
from tamis.dedup.lsh import bucket_edges, choose_banding
from tamis.dedup.minhash import WEDGE_BUDGET, star_scores, unspaced_bitmap
from tamis.dedup.shingles import UNSPACED_CHARS
from tamis.io.idstore import IdsByNumber, IdWriter

DEDUP = [{"step": "normalize"}, {"step": "exact_dedup"}, {"step": "minhash", "threshold": 0.8}]


def _families(seed: int, n_families: int = 30) -> list[dict]:
    """Documents in families of near copies (a few words edited: Jaccard of word 5-grams around
    the threshold, so chains, triangles and members left to a second pivot round), exact copies
    (also with case and spacing that normalisation removes), empties and singletons."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(300)] + ["straße", "ÉCOLE", "日本語", "テキスト"]
    texts: list[str] = []
    for _ in range(n_families):
        base = [rng.choice(vocab) for _ in range(rng.randint(40, 120))]
        current = list(base)
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.5:
                current = list(base)  # a star around the base ...
            for _ in range(rng.randint(0, 4)):  # ... or a chain of edits
                current[rng.randrange(len(current))] = rng.choice(vocab)
            texts.append(" ".join(current))
        texts.append(" ".join(base))
        if rng.random() < 0.4:
            texts.append(" ".join(base).upper())
        if rng.random() < 0.3:
            texts.append("  " + " ".join(base) + "\x01")
    texts += [" ".join(rng.choice(vocab) for _ in range(rng.randint(3, 60))) for _ in range(40)]
    texts += ["\x01\x02", "", "日本語のテキストです" * 8, "日本語のテキストでした" * 8]
    rng.shuffle(texts)
    return [{"id": f"doc-{seed}-{i}", "text": t} for i, t in enumerate(texts)]


def _run(tmp_path: Path, name: str, inputs: list[Path], monkeypatch: pytest.MonkeyPatch, use_plain: bool, steps: list[dict], **config) -> Path:
    monkeypatch.setenv("TAMIS_DEDUP_PLAIN", "1" if use_plain else "0")
    out = tmp_path / name
    run_recipe(inputs, out, steps=steps, **config)
    return out


def _scratch(out: Path) -> dict[str, bytes]:
    """Every file the dedup stages left, the run's folder named alike (layout.json holds paths)."""
    root = out / "dedup"
    return {str(p.relative_to(root)): p.read_bytes().replace(str(out).encode(), b"OUT") for p in sorted(root.rglob("*")) if p.is_file()}


def _same_runs(a: Path, b: Path) -> None:
    assert kept(a) == kept(b)
    assert rejected(a) == rejected(b)
    stats_a, stats_b = load_stats(a), load_stats(b)
    for key in ("read", "kept", "rejected", "rejected_bytes", "modified", "removed_units", "steps"):
        assert stats_a.get(key) == stats_b.get(key), key
    files_a, files_b = _scratch(a), _scratch(b)
    assert sorted(files_a) == sorted(files_b)
    for name in files_a:
        assert files_a[name] == files_b[name], name


@pytest.mark.parametrize(
    ("seed", "steps", "fuse"),
    [
        (1, DEDUP, "1"),
        (2, DEDUP, "1"),
        (3, [{"step": "exact_dedup"}, {"step": "minhash", "threshold": 0.7, "partitions": 2}], "1"),
        (4, DEDUP, "0"),  # the stages apart: their own collect, passes and decisions
        (5, [{"step": "normalize"}, {"step": "exact_dedup"}, {"step": "minhash", "verify": False}], "1"),
    ],
)
def test_plain_passes_write_the_files_and_outputs_numpy_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, steps: list[dict], fuse: str
) -> None:
    monkeypatch.setenv("TAMIS_FUSE_DEDUP", fuse)
    records = _families(seed)
    third = len(records) // 3
    inputs = [
        write_jsonl(tmp_path / "a.jsonl", records[:third]),
        write_jsonl(tmp_path / "b.jsonl", records[third : 2 * third]),
        write_jsonl(tmp_path / "c.jsonl", records[2 * third :]),
    ]
    with_numpy = _run(tmp_path, "numpy", inputs, monkeypatch, False, steps)
    without = _run(tmp_path, "plain", inputs, monkeypatch, True, steps)
    reasons = load_stats(with_numpy)["rejected"]
    assert reasons.get("minhash:duplicate") and reasons.get("exact_dedup:duplicate")
    _same_runs(with_numpy, without)


def test_plain_passes_match_against_a_saved_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = _families(6, 40)
    half = len(records) // 2
    first = write_jsonl(tmp_path / "first.jsonl", records[:half])
    second = write_jsonl(tmp_path / "second.jsonl", records[half:])
    index = tmp_path / "index"
    monkeypatch.setenv("TAMIS_DEDUP_PLAIN", "0")
    run_recipe([first], tmp_path / "build", steps=[{"step": "minhash", "save_index": str(index)}])
    steps = [{"step": "exact_dedup"}, {"step": "minhash", "against": str(index)}]
    with_numpy = _run(tmp_path, "numpy", [second], monkeypatch, False, steps)
    without = _run(tmp_path, "plain", [second], monkeypatch, True, steps)
    assert any("indexed document" in (r.get("detail") or "") for r in rejected(with_numpy))
    _same_runs(with_numpy, without)


def test_decision_files_read_the_same_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The files being the same, a resumed run may take either path for any pass; the readers
    # of the decisions agree too (the last row of a position wins, rows sorted by position).
    records = _families(7)
    inputs = [write_jsonl(tmp_path / "a.jsonl", records)]
    reference = _run(tmp_path, "numpy", inputs, monkeypatch, False, DEDUP)
    without = _run(tmp_path, "plain", inputs, monkeypatch, True, DEDUP)
    _same_runs(reference, without)
    from tamis.dedup.minhash import _decision_rows

    stages = list((without / "dedup").rglob("minhash"))
    assert stages
    for stage in stages:
        rows = _decision_rows(stage, 0)
        assert rows.tolist() == [list(r) for r in plain.decision_rows(stage, 0)]


def test_star_scores_match_numpy_on_random_groups() -> None:
    rng = random.Random(11)
    for trial in range(300):
        n = rng.randint(1, 60)
        doc = rng.sample(range(1000), n)
        group = [rng.choice(doc[: max(1, n // 4)]) for _ in range(n)]
        pairs = set()
        for _ in range(rng.randint(0, 4 * n)):
            a, b = rng.sample([*doc, 2000, 2001], 2)  # some edges leave the round's documents
            pairs.add((max(a, b) << 32) | min(a, b))
        keys = sorted(pairs)
        budget = rng.choice([WEDGE_BUDGET, 3, 0]) if trial % 3 == 0 else WEDGE_BUDGET
        expected = star_scores(np.array(doc, dtype=np.int64), np.array(group, dtype=np.int64), np.array(keys, dtype=np.uint64), budget)
        assert plain.star_scores(doc, group, keys, budget) == expected.tolist()


def test_bucket_edges_match_numpy() -> None:
    rng = random.Random(12)
    for _ in range(200):
        m = rng.randint(0, 80)
        keys = [rng.choice([1, 2, 3, 2**64 - 1, rng.getrandbits(64)]) for _ in range(m)]
        docs = sorted(rng.sample(range(5000), m))
        expected = bucket_edges(np.array(keys, dtype=np.uint64), np.array(docs, dtype=np.uint32)).astype("<u4").tobytes()
        assert plain.bucket_edges(keys, docs) == expected


def test_the_unspaced_bitmap_is_numpys_packbits() -> None:
    bits = np.zeros(0x110000, dtype=bool)
    chars, k = UNSPACED_CHARS, 0
    while k < len(chars):
        if k + 2 < len(chars) and chars[k + 1] == "-":
            bits[ord(chars[k]) : ord(chars[k + 2]) + 1] = True
            k += 3
        else:
            bits[ord(chars[k])] = True
            k += 1
    assert unspaced_bitmap() == np.packbits(bits, bitorder="little").tobytes()


def test_banding_without_numpy_is_numpys() -> None:
    def numpy_banding(threshold: float, num_perm: int) -> tuple[int, int]:
        best = (num_perm, 1)
        for rows in range(1, num_perm + 1):
            bands = num_perm // rows
            if 1.0 - (1.0 - np.power(threshold, rows)) ** bands >= 0.99:
                best = (bands, rows)
        return best

    for threshold in [t / 100 for t in range(1, 101)]:
        for num_perm in (1, 16, 64, 100, 128, 256):
            assert choose_banding(threshold, num_perm) == numpy_banding(threshold, num_perm)


def test_ids_by_number_plain_and_numpy_lookups_agree(tmp_path: Path) -> None:
    rng = random.Random(13)
    sources = []
    start = 0
    for k in range(3):
        writer = IdWriter()
        ids = [f"id-{k}-{i}-" + "é" * rng.randint(0, 3) for i in range(rng.randint(1, 50))]
        writer.extend(ids)
        writer.save(tmp_path / f"s{k}")
        sources.append((str(tmp_path / f"s{k}"), start))
        start += len(ids)
    numbers = [rng.randrange(start) for _ in range(300)]
    names = IdsByNumber(sources)
    try:
        expected = [names.get(n) for n in numbers]
        assert names._get_many_plain(numbers) == expected
        assert names.get_many(numbers) == expected
        many = numbers * 20  # past PLAIN_NUMBERS: numpy's path
        assert names.get_many(many) == expected * 20
    finally:
        names.close()


def test_a_small_default_run_imports_no_numpy(tmp_path: Path) -> None:
    # numpy (and OpenBLAS's set-up) is ~0.1-0.15 s of a run's start: a small default run on JSONL
    # imports none of it, dedup and report included (nor pyarrow, which would load it).
    records = [r for r in _families(8, 10) if r["text"]]  # (an empty text is an input error: exit 1)
    source = write_jsonl(tmp_path / "in.jsonl", records)
    probe = (
        "import importlib.abc, json, sys, traceback\n"
        "seen = []\n"
        "class Finder(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'numpy' and not seen:\n"
        "            seen.append([f.filename for f in traceback.extract_stack()])\n"
        "        return None\n"
        "sys.meta_path.insert(0, Finder())\n"
        "from tamis.cli import main\n"
        f"code = main(['run', '--input', {str(source)!r}, '--output', {str(tmp_path / 'out')!r}, '--workers', '1', '-q'])\n"
        "print(json.dumps({'code': code, 'stack': seen[0] if seen else None}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAMIS_")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    found = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert found["code"] == 0
    stats = load_stats(tmp_path / "out")
    assert stats["read"] == len(records)
    importers = [f for f in found["stack"] or [] if "importlib" not in f and "<frozen" not in f]
    assert found["stack"] is None, importers


def test_plain_verify_checks_every_candidate_in_batches_as_numpy_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Candidates are verified a batch at a time, each of them, also inside families that verified
    # edges already join (the keeper rule scores on those pairs): small batches, both paths alike.
    from tamis.dedup import minhash

    monkeypatch.setattr(minhash, "VERIFY_BATCH", 3)
    scored = []
    real = plain.Fingerprints.score

    def counting(self, left, right, *threshold):
        if threshold:  # verify's calls (resolve's give no threshold)
            scored.append(len(left))
        return real(self, left, right, *threshold)

    monkeypatch.setattr(plain.Fingerprints, "score", counting)
    records = _families(9)
    inputs = [write_jsonl(tmp_path / "a.jsonl", records)]
    with_numpy = _run(tmp_path, "numpy", inputs, monkeypatch, False, DEDUP, workers=1)
    without = _run(tmp_path, "plain", inputs, monkeypatch, True, DEDUP, workers=1)
    assert len(scored) > 3 and max(scored) <= 3
    pairs = np.concatenate([np.fromfile(p, dtype="<u4").reshape(-1, 2) for p in without.glob("dedup/**/cand-*.u32")])
    assert sum(scored) == len(np.unique(pairs, axis=0))  # every distinct candidate, once
    _same_runs(with_numpy, without)
