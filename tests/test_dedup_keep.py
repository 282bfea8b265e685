"""The fused stage's keep round: sketches of exact dedup's keepers, fingerprints linked, not copied."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tamis.dedup.fused import PRE, _keep_exact_survivors
from tamis.dedup.index import FingerprintReader, Source, fingerprint_starts, save_index, span_indices, task_stem
from tamis.io.idstore import IdReader, save_ids


def _pre_task(scratch: Path, task: int, counts: list[int], bands: int, dropped: list[int]) -> list[np.ndarray]:
    rng = np.random.default_rng(task)
    exact_dir, minhash_dir = scratch / "exact", scratch / "minhash"
    exact_dir.mkdir(parents=True, exist_ok=True)
    minhash_dir.mkdir(parents=True, exist_ok=True)
    stem = str(minhash_dir / f"{PRE}-{task:05d}")
    fps = [np.sort(rng.choice(1 << 30, size=c, replace=False)).astype("<u4") for c in counts]
    np.asarray(counts, dtype="<u4").tofile(stem + ".counts")
    rng.integers(0, 1 << 63, size=len(counts) * bands, dtype=np.uint64).astype("<u8").tofile(stem + ".keys")
    (np.concatenate(fps) if fps else np.zeros(0, dtype="<u4")).tofile(stem + ".fps")
    save_ids(exact_dir / f"ids-{task:05d}", [f"doc-{task}-{i}-é" * (1 + i % 3) for i in range(len(counts))])
    rows = np.asarray([(d, 0, 0) for d in dropped], dtype="<u8").reshape(-1, 3)
    rows.tofile(exact_dir / f"dups-0000-{task:05d}.bin")
    return fps


def test_span_indices() -> None:
    starts, lengths = np.array([5, 0, 9, 3]), np.array([2, 0, 3, 1])
    assert span_indices(starts, lengths).tolist() == [5, 6, 9, 10, 11, 3]
    assert span_indices(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)).tolist() == []


def test_keep_round_equals_a_copy_of_the_kept_documents(tmp_path: Path) -> None:
    bands = 3
    counts = [4, 0, 7, 2, 5, 0, 9, 1]
    dropped = [0, 3, 4, 7]
    fps = _pre_task(tmp_path, 0, counts, bands, dropped)
    _keep_exact_survivors(str(tmp_path), 0)
    kept = [i for i in range(len(counts)) if i not in dropped]
    stem = task_stem(tmp_path / "minhash", 0)
    kept_counts = np.fromfile(stem + ".counts", dtype="<u4")
    assert kept_counts.tolist() == [counts[i] for i in kept]
    pre_keys = np.fromfile(str(tmp_path / "minhash" / f"{PRE}-00000.keys"), dtype="<u8").reshape(-1, bands)
    assert np.array_equal(np.fromfile(stem + ".keys", dtype="<u8").reshape(-1, bands), pre_keys[kept])
    all_ids = IdReader(tmp_path / "exact" / "ids-00000").all()
    assert IdReader(Path(stem)).all() == [all_ids[i] for i in kept]
    starts = fingerprint_starts(stem, kept_counts)
    assert len(starts) == len(kept)
    # Every kept document's fingerprints, read through the reader, in any order and grouping.
    reader = FingerprintReader([Source(stem, 0, len(kept))])
    try:
        order = np.array([3, 0, 2, 1, 1, 2], dtype=np.int64)
        data, offsets = reader.gather(order)
        got = np.frombuffer(data, dtype="<u4")
        for n, doc in enumerate(order.tolist()):
            assert np.array_equal(got[offsets[n] : offsets[n + 1]], fps[kept[doc]])
        assert reader.sizes(order).tolist() == [counts[kept[d]] for d in order.tolist()]
    finally:
        reader.close()
    # A saved index holds the kept documents' fingerprints end to end (no position file).
    index = tmp_path / "index"
    saved = save_index(str(index), {}, [Source(stem, 0, len(kept))], np.array([True, False, True, True]), bands)
    assert saved == 3
    assert not (index / "index.fpo").exists()
    expected = np.concatenate([fps[kept[i]] for i in (0, 2, 3)])
    assert np.array_equal(np.fromfile(index / "index.fps", dtype="<u4"), expected)


def test_keep_round_runs_again_over_its_own_files(tmp_path: Path) -> None:
    # A resumed run repeats the round: the linked file is replaced, not appended to.
    fps = _pre_task(tmp_path, 2, [3, 5, 2], 2, [1])
    _keep_exact_survivors(str(tmp_path), 2)
    _keep_exact_survivors(str(tmp_path), 2)
    stem = task_stem(tmp_path / "minhash", 2)
    reader = FingerprintReader([Source(stem, 0, 2)])
    try:
        data, offsets = reader.gather(np.array([0, 1]))
        got = np.frombuffer(data, dtype="<u4")
        assert np.array_equal(got[offsets[0] : offsets[1]], fps[0]) and np.array_equal(got[offsets[1] : offsets[2]], fps[2])
    finally:
        reader.close()


def test_ids_by_number_get_many_is_get(tmp_path: Path, monkeypatch):
    """Keepers' ids fetched together (one read per file) are the ids fetched one by one,
    across files, in any order, repeated, and past the one-read limit."""
    from tamis.io import idstore

    sources = []
    start = 0
    for task, size in enumerate([5, 0, 40, 7]):
        stem = tmp_path / f"ids-{task}"
        save_ids(stem, [f"t{task}-{i}-" + "é" * (i % 4) + "\ud800" * (i == 3) for i in range(size)])
        sources.append((str(stem), start))
        start += size
    rng = np.random.default_rng(0)
    numbers = rng.integers(0, start, size=200)
    reader = idstore.IdsByNumber(sources)
    expected = [reader.get(int(n)) for n in numbers]
    assert reader.get_many(numbers) == expected
    assert reader.get_many([]) == []
    monkeypatch.setattr(idstore, "WHOLE_READ_BYTES", 8)  # every file past the limit: read id by id
    assert reader.get_many(numbers) == expected
    reader.close()


def test_decision_rows_are_the_decisions_dict(tmp_path: Path):
    """The minhash apply's decision rows (an array) hold what the reference dict holds:
    sorted by position, the last file's row where a position is written twice."""
    from tamis.dedup.minhash import _decision_rows, _load_decisions

    rng = np.random.default_rng(1)
    for partition in range(3):
        rows = np.stack([rng.choice(50, size=20, replace=False), rng.integers(0, 2, 20), rng.integers(0, 999, 20), rng.integers(0, 10**6, 20)], axis=1)
        rows.astype("<i8").tofile(tmp_path / f"decisions-{partition:04d}-00002.i64")
    expected = sorted(_load_decisions(tmp_path, 2).items())
    assert [(p, (k, keeper, v)) for p, k, keeper, v in _decision_rows(tmp_path, 2).tolist()] == expected
    assert _decision_rows(tmp_path, 3).shape == (0, 4)


def test_preloaded_sets_are_checked_once_and_scored_the_same(tmp_path: Path):
    """The verify pass checks a preloaded buffer for sets once (_are_sets) and then tells
    jaccard_pairs to skip its own check: the scores are those of the checking call and of the
    Python reference; a buffer that is not sets is found as such."""
    from tamis.dedup import reference
    from tamis.dedup.lsh import native
    from tamis.dedup.minhash import _are_sets

    rng = np.random.default_rng(3)
    docs = [np.unique(rng.integers(0, 400, size=int(rng.integers(0, 60)))).astype("<u4") for _ in range(40)]
    docs += [docs[5][:-1].copy(), docs[5].copy(), np.zeros(0, dtype="<u4")]
    fps = np.concatenate(docs)
    offsets = np.r_[0, np.cumsum([len(d) for d in docs])].astype("<i8")
    assert _are_sets(fps, offsets)
    left, right = rng.integers(0, len(docs), size=300).astype("<i8"), rng.integers(0, len(docs), size=300).astype("<i8")
    args = (fps.tobytes(), offsets.tobytes(), left.tobytes(), right.tobytes())
    for threshold in (0.0, 0.5):
        checked = np.frombuffer(native().jaccard_pairs(*args, threshold), dtype="<f8")
        trusted = np.frombuffer(native().jaccard_pairs(*args, threshold, True), dtype="<f8")
        assert np.array_equal(checked, trusted)
    expected = np.frombuffer(reference.jaccard_pairs(*args), dtype="<f8")
    assert np.allclose(np.frombuffer(native().jaccard_pairs(*args, 0.0, True), dtype="<f8"), expected)
    unsorted = fps.copy()
    k = int(offsets[3])
    unsorted[k], unsorted[k + 1] = unsorted[k + 1], unsorted[k]  # inside document 3 (of >= 2 fingerprints)
    assert len(docs[3]) < 2 or not _are_sets(unsorted, offsets)
    repeated = np.concatenate([docs[0], docs[0]])  # one document holding a repeat
    assert len(docs[0]) == 0 or not _are_sets(repeated, np.asarray([0, len(repeated)], dtype="<i8"))
    assert _are_sets(np.zeros(0, dtype="<u4"), np.zeros(1, dtype="<i8"))


def test_gather_into_a_reused_buffer_reads_the_same(tmp_path: Path):
    """Fingerprints read into a buffer used again (larger than needed, or too small: then a
    new one) are the bytes read into a fresh one; the verify pass's spare buffer is handed
    back, taken again when large enough, and dropped by the next round."""
    from tamis.dedup import minhash

    fps = [_pre_task(tmp_path, t, [5, 0, 9, 3, 12], 2, [])[0] for t in range(2)]
    assert fps
    sources = [Source(str(tmp_path / "minhash" / f"{PRE}-{t:05d}"), 5 * t, 5) for t in range(2)]
    reader = FingerprintReader(sources)
    docs = np.asarray([0, 2, 3, 6, 7, 9], dtype=np.int64)
    fresh, offsets = reader.gather(docs)
    for into in (bytearray(b"\xff" * (len(fresh) + 64)), bytearray(8)):
        got, got_offsets = reader.gather(docs, into)
        assert bytes(got) == bytes(fresh) and np.array_equal(got_offsets, offsets)
    reader.close()
    buffer = minhash._take_buffer(100)
    minhash._give_back_buffer(buffer)
    assert minhash._take_buffer(90) is buffer
    minhash._give_back_buffer(buffer)
    assert minhash._take_buffer(len(buffer) + 1) is not buffer
    minhash._give_back_buffer(buffer)
    minhash._cluster_task(str(tmp_path), 0, [])
    assert not minhash._spare_buffer


def test_in_sorted_is_isin():
    from tamis.dedup.minhash import _in_sorted

    rng = np.random.default_rng(4)
    for n in (0, 1, 50):
        table = np.unique(rng.integers(0, 200, size=n)).astype(np.int64)
        values = rng.integers(0, 220, size=300).astype("<u4")
        assert np.array_equal(_in_sorted(values, table), np.isin(values, table))
