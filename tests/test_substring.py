"""Exact-substring dedup: compiled parts against their Python twins, the cut rules, and the
stage on real text in three scripts with planted repeats (one shard, and many shards)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest
from pydivsufsort import divsufsort
from runutil import assert_accounting, kept, load_stats, rejected, run_recipe, write_jsonl

from tamis._native import _substring as native
from tamis.dedup import substring_reference as ref
from tamis.dedup.substring import apply_cuts, plan_cuts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import substring_corpus as sc

# ---------------------------------------------------------------------- compiled == reference


def _random_text(rng: random.Random, n: int, alphabet: bytes) -> bytes:
    data = bytearray(rng.choice(alphabet) for _ in range(n))
    for _ in range(n // 60):  # document separators
        data[rng.randrange(n)] = 0xFF
    # a few long repeats
    for _ in range(4):
        a, length = rng.randrange(n // 2), rng.randint(10, 40)
        b = rng.randrange(n - length)
        data[b : b + length] = data[a : a + length]
    return bytes(data) + b"\xff"


@pytest.mark.parametrize("seed", range(6))
def test_native_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    text = _random_text(rng, rng.randint(50, 600), b"ab" if seed % 2 else b"abcdefgh")
    k = rng.choice([4, 8, 12])
    q = rng.choice([2, 3])
    w = k - q + 1
    hashes, positions = native.winnow(text, q, w)
    assert (np.frombuffer(hashes, np.uint64).tolist(), np.frombuffer(positions, np.uint64).tolist()) == ref.winnow(text, q, w)

    sa = divsufsort(text)
    flags = np.zeros(len(text), dtype=np.uint8)
    native.mark_groups(text, sa, k, flags)
    expected = ref.mark_groups(text, k)
    assert flags.tobytes() == bytes(expected)
    sa64 = sa.astype(np.int64)
    flags64 = np.zeros(len(text), dtype=np.uint8)
    native.mark_groups(text, sa64, k, flags64)
    assert flags64.tobytes() == bytes(expected)
    boundary = rng.randrange(len(text))  # first copies of k-grams repeated from here on: | 4
    bounded = np.zeros(len(text), dtype=np.uint8)
    native.mark_groups(text, sa, k, bounded, boundary)
    assert bounded.tobytes() == bytes(ref.mark_groups(text, k, boundary))

    pairs = np.frombuffer(native.cover(flags, k, 0, len(text)), np.int64).reshape(-1, 2).tolist()
    assert [tuple(p) for p in pairs] == ref.cover(expected, k, 0, len(text))

    starts = np.asarray(sorted(rng.sample(range(len(text)), 5)), dtype=np.int64)
    ends = np.minimum(starts + rng.randint(1, 80), len(text)).astype(np.int64)
    for mask, want in ((1, 1), (2, 2), (3, 2)):
        got = np.frombuffer(native.flagged_ranges(flags, mask, want, starts, ends), np.int64).tolist()
        assert got == ref.flagged_ranges(expected, mask, want, starts.tolist(), ends.tolist())
    got = np.frombuffer(native.first_flagged(flags, 1, starts, ends), np.int64).tolist()
    assert got == ref.first_flagged(expected, 1, starts.tolist(), ends.tolist())

    for pos in rng.sample(range(len(text) - k), 5):
        assert native.group_bounds(text, sa, pos, k) == ref.group_bounds(text, sa.tolist(), pos, k)


def test_winnow_selects_the_same_anchor_in_every_copy() -> None:
    rng = random.Random(3)
    shared = bytes(rng.choice(b"abcdefghij klmnop") for _ in range(100))
    left = bytes(rng.choice(b"qrstuvwxyz") for _ in range(300)) + shared
    right = shared + bytes(rng.choice(b"0123456789") for _ in range(300))
    q, w = 32, 100 - 32 + 1
    lp = set(np.frombuffer(native.winnow(left, q, w)[1], np.uint64).tolist())
    rp = set(np.frombuffer(native.winnow(right, q, w)[1], np.uint64).tolist())
    assert {p - 300 for p in lp if p >= 300} & rp


# ---------------------------------------------------------------------- the cut rules


def _cut(text: str, ranges: list[tuple[int, int]], fragment: int = 100) -> str:
    raw = text.encode()
    return apply_cuts(text, plan_cuts(text, raw, ranges, fragment_bytes=fragment))


def _byte_range(text: str, piece: str) -> tuple[int, int]:
    raw, sub = text.encode(), piece.encode()
    start = raw.index(sub)
    return start, start + len(sub)


def test_whole_lines_leave_one_line_break() -> None:
    text = "first line\nrepeated line one\nrepeated line two\nlast line"
    assert _cut(text, [_byte_range(text, "repeated line one\nrepeated line two")]) == "first line\nlast line"
    assert _cut(text, [_byte_range(text, "repeated line one\nrepeated line two\n")]) == "first line\nlast line"
    assert _cut(text, [_byte_range(text, "\nrepeated line one\nrepeated line two\n")]) == "first line\nlast line"
    assert _cut(text, [_byte_range(text, "\nlast line")]) == "first line\nrepeated line one\nrepeated line two"
    assert _cut(text, [_byte_range(text, "first line\n")]) == "repeated line one\nrepeated line two\nlast line"


def test_partial_lines_at_the_ends_of_a_cut_are_kept() -> None:
    text = "unique words end.\nrepeated paragraph\nstart of another unique line"
    # the repeat was matched with a few characters of its neighbours
    assert _cut(text, [_byte_range(text, "end.\nrepeated paragraph\nstart")]) == "unique words end.\nstart of another unique line"


def test_cut_inside_a_line_snaps_to_words_and_keeps_one_space() -> None:
    text = "Hello there, this sentence was copied from elsewhere today, friend."
    assert _cut(text, [_byte_range(text, "this sentence was copied from elsewhere ")]) == "Hello there, today, friend."
    assert _cut(text, [_byte_range(text, " this sentence was copied from elsewhere")]) == "Hello there, today, friend."
    # a match that starts and ends inside words shrinks to whole words (never grows)
    assert _cut(text, [_byte_range(text, "is sentence was copied from elsewh")]) == "Hello there, this elsewhere today, friend."


def test_cuts_never_break_a_character() -> None:
    text = "日本語の文章です。これは繰り返された文です。終わり"
    raw = text.encode()
    for a in range(len(raw)):
        for b in range(a + 1, len(raw) + 1, 5):
            out = apply_cuts(text, plan_cuts(text, raw, [(a, b)], fragment_bytes=100))
            assert "\ufffd" not in out
            out.encode("utf-8")
            assert sc.is_deletion_of(out, text)
            assert len(text.encode()) - len(out.encode()) <= b - a + 1  # never more than the range (plus a line break)


# ---------------------------------------------------------------------- the stage


def _ids(records: list[dict]) -> list[str]:
    return [r["id"] for r in records]


def _run(
    tmp_path: Path, records: list[dict], name: str, files: int = 2, reader: dict | None = None, workers: int = 2, **step: object
) -> tuple[dict, dict, Path]:
    """The stage over ``records`` cut into ``files`` files, a task each unless ``reader`` says otherwise."""
    inputs = []
    per = -(-len(records) // files)
    for i in range(files):
        path = tmp_path / f"{name}-in{i}.jsonl"
        write_jsonl(path, records[i * per : (i + 1) * per])
        inputs.append(path)
    out = tmp_path / f"{name}-out"
    run_recipe(inputs, out, steps=[{"step": "substring_dedup", **step}], workers=workers, reader={"batch_bytes": 0} if reader is None else reader)
    assert_accounting(out, _ids(records))
    return {r["id"]: r for r in kept(out)}, {r["id"]: r for r in rejected(out)}, out


@pytest.fixture(scope="module")
def planted() -> sc.Planted:
    scripts = [s for s in ("latin", "cyrillic", "cjk") if sc.available(s)]
    if len(scripts) < 3:
        pytest.skip(f"man pages of every script needed under /usr/share/man (found {scripts})")
    lines = {s: sc.real_lines(s, 120_000, seed=1) for s in scripts}
    return sc.plant(lines, docs_per_script=60, spans_per_script=40, seed=7)


@pytest.mark.parametrize("shard_mb", [256, 0.03])
def test_planted_spans_in_three_scripts(tmp_path: Path, planted: sc.Planted, shard_mb: float) -> None:
    kept_docs, rejected_docs, out = _run(tmp_path, planted.records, f"planted-{shard_mb}", shard_mb=shard_mb)
    result = sc.check(planted, kept_docs, rejected_docs)
    summary = result.summary()
    assert result.later_copies >= 150, summary
    assert result.later_removed >= 0.99 * result.later_copies, summary
    assert result.later_bytes_removed >= 0.99 * result.later_bytes, summary
    assert result.first_kept == result.first_copies, summary
    assert result.unique_damaged == 0, summary
    assert result.not_deletions == 0 and result.bad_text == 0, summary
    stats = load_stats(out)
    modified = [r for r in kept_docs.values() if "substring_removed_bytes" in r["metadata"]]
    assert stats["modified"]["substring_dedup"] == len(modified) > 0
    source = {r["id"]: r["text"] for r in planted.records}
    for record in modified:
        assert record["metadata"]["substring_removed_bytes"] == len(source[record["id"]].encode()) - len(record["text"].encode())
    assert stats["removed_units"]["substring_dedup.spans"] >= len(modified)


def test_many_shards_give_the_same_result_as_one(tmp_path: Path, planted: sc.Planted) -> None:
    one, one_rej, _ = _run(tmp_path, planted.records, "one", shard_mb=256)
    many, many_rej, _ = _run(tmp_path, planted.records, "many", shard_mb=0.02)
    assert {i: r["text"] for i, r in one.items()} == {i: r["text"] for i, r in many.items()}
    assert {i: (r["reason"], r["duplicate_of"]) for i, r in one_rej.items()} == {i: (r["reason"], r["duplicate_of"]) for i, r in many_rej.items()}


def _para(rng: random.Random, words: int = 60) -> str:
    vocab = ["river", "stone", "bright", "quiet", "morning", "window", "garden", "paper", "silver", "orange", "market", "winter", "lantern", "harbor", "meadow"]
    return " ".join(rng.choice(vocab) + str(rng.randrange(1000)) for _ in range(words)) + "."


@pytest.mark.parametrize("shard_mb", [256, 0.002])
def test_documents_copies_within_a_document_and_boundaries(tmp_path: Path, shard_mb: float) -> None:
    rng = random.Random(5)
    span = _para(rng, 25)
    a_tail, b_head = _para(rng, 5), _para(rng, 5)  # ~50 bytes each, ~100 together
    records = [
        {"id": "a", "text": _para(rng) + "\n" + span + "\n" + _para(rng) + "\n" + a_tail},
        {"id": "b", "text": b_head + "\n" + _para(rng)},
        {"id": "within", "text": _para(rng) + "\n" + (inner := _para(rng, 25)) + "\n" + _para(rng) + "\n" + inner + "\n" + _para(rng)},
        {"id": "copy-of-a", "text": ""},
        {"id": "straddle", "text": _para(rng) + "\n" + a_tail + "\n" + b_head + "\n" + _para(rng)},
        {"id": "later", "text": _para(rng) + "\n" + span + "\n" + _para(rng)},
    ]
    records[3]["text"] = records[0]["text"]
    kept_docs, rejected_docs, _ = _run(tmp_path, records, f"rules-{shard_mb}", shard_mb=shard_mb)
    assert rejected_docs["copy-of-a"]["reason"] == "substring_dedup:duplicate"
    assert rejected_docs["copy-of-a"]["duplicate_of"] == "a"
    assert span in kept_docs["a"]["text"]
    assert span not in kept_docs["later"]["text"]
    assert kept_docs["later"]["text"].count("\n") == 1
    # inside one document: the first copy stays, the second goes
    assert kept_docs["within"]["text"].count(inner) == 1
    assert kept_docs["within"]["text"].startswith(records[2]["text"][:100])
    # a_tail and b_head are each < 100 bytes: only their concatenation across the boundary
    # of a and b would be long enough, and matches never cross documents
    assert kept_docs["straddle"]["text"] == records[4]["text"]
    assert kept_docs["b"]["text"] == records[1]["text"]


def test_too_short_and_the_only_kept_copy(tmp_path: Path) -> None:
    rng = random.Random(9)
    shared, common = _para(rng, 20), _para(rng, 30)
    records = [
        {"id": "origin", "text": _para(rng) + "\n" + common},
        # holds the first copy of `shared`; cut below min_chars by the copy of `common`
        {"id": "holder", "text": shared + "\n" + common},
        {"id": "short", "text": "Short note.\n" + common},
        {"id": "again", "text": _para(rng) + "\n" + shared},
    ]
    kept_docs, rejected_docs, _ = _run(tmp_path, records, "short", files=1)
    assert rejected_docs["short"]["reason"] == "substring_dedup:too_short"
    # `holder` is shorter than min_chars after the cut, but it holds the only kept copy of
    # `shared` (removed from `again`): it is kept
    assert kept_docs["holder"]["text"] == shared
    assert shared not in kept_docs["again"]["text"]


@pytest.mark.parametrize("seed", [3, 4])
def test_a_cut_document_is_kept_only_for_a_first_copy_whatever_the_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """A document cut below min_chars is rejected as too short unless it holds the first copy of
    a k-gram removed elsewhere, checked against a dictionary of every k-gram; and the same
    documents are kept, cut the same, over one shard, many shards, many tasks, or a scan whose
    earlier-shard windows take several suffix arrays. (A k-gram that only earlier shards
    repeated protected whichever of its copies a later shard's windows held first.)"""
    from tamis.dedup import substring

    rng = random.Random(seed)
    pieces = [" ".join(rng.choice(["ab", "cd", "ef", "gh", "ij"]) for _ in range(rng.randint(8, 20))) for _ in range(30)]
    records = []
    for i in range(150):
        text = " ".join(rng.choice(pieces) if rng.random() < 0.6 else f"w{rng.randrange(10**5)}" for _ in range(rng.randint(2, 12)))
        records.append({"id": f"r{i}", "text": text})
    k, min_chars = 24, 60
    step = {"min_bytes": k, "anchor_bytes": 8, "min_chars": min_chars, "max_providers": 10_000}
    runs = {
        "one-shard": _run(tmp_path, records, "one", files=1, shard_mb=256, **step),
        "many-shards": _run(tmp_path, records, "many", files=1, shard_mb=0.002, **step),
        "many-tasks": _run(tmp_path, records, "tasks", files=5, shard_mb=0.003, **step),
    }
    monkeypatch.setattr(substring, "SCAN_CHUNK_MIN", 200)  # one worker: the passes run in this process
    runs["small-scan-chunks"] = _run(tmp_path, records, "chunks", files=1, shard_mb=0.002, workers=1, **step)
    flags = ref.mark_groups(b"".join(r["text"].encode() + b"\xff" for r in records), k)
    starts = np.cumsum([0] + [len(r["text"].encode()) + 1 for r in records]).tolist()
    holds_first = {r["id"] for r, a, b in zip(records, starts, starts[1:], strict=False) if 2 in flags[a:b]}
    one_kept, one_rejected, _ = runs["one-shard"]
    short = {i for i, r in one_rejected.items() if r["reason"] == "substring_dedup:too_short"}
    assert short and not short & holds_first
    assert {i for i, r in one_kept.items() if len(r["text"]) < min_chars and r["text"] != next(x["text"] for x in records if x["id"] == i)} <= holds_first
    for name, (kept_docs, rejected_docs, _) in runs.items():
        assert {i: r["text"] for i, r in kept_docs.items()} == {i: r["text"] for i, r in one_kept.items()}, name
        assert {i: r["reason"] for i, r in rejected_docs.items()} == {i: r["reason"] for i, r in one_rejected.items()}, name


def test_a_k_gram_only_earlier_shards_repeat_protects_no_document(tmp_path: Path) -> None:
    """The project's demo text (12,000 documents, 24 MB): over one shard and over 2 MB shards, the
    same documents are kept, cut the same. Before, a later shard's scan saw a document's copy of
    a k-gram that only earlier shards repeated (its windows held that copy, not the first one)
    and kept it as a first copy: demo-0000729, cut to 138 characters, was kept over 12 shards and
    rejected as too short over one."""
    from tamis.demo import generate

    records = [{"id": d["id"], "text": d["text"]} for d in generate(12_000, seed=0)]
    one_kept, one_rejected, _ = _run(tmp_path, records, "one", files=1, shard_mb=256)
    many_kept, many_rejected, _ = _run(tmp_path, records, "many", files=1, shard_mb=2)
    assert one_rejected["demo-0000729"]["reason"] == "substring_dedup:too_short"
    assert {i: r["reason"] for i, r in many_rejected.items()} == {i: r["reason"] for i, r in one_rejected.items()}
    assert {i: r["text"] for i, r in many_kept.items()} == {i: r["text"] for i, r in one_kept.items()}


@pytest.mark.parametrize(("shard_mb", "seed"), [(256, 0), (0.004, 1), (0.002, 2)])
def test_removed_ranges_equal_brute_force(tmp_path: Path, shard_mb: float, seed: int) -> None:
    """Every byte in a k-gram seen earlier (anywhere before, in input order), and only those:
    the stage's ranges, over one or many shards, against a dictionary of every k-gram."""
    from tamis.dedup.substring import _load_task_decisions

    rng = random.Random(seed)
    pieces = [" ".join(rng.choice(["ab", "cd", "éf", "日本", "ру", "x"]) for _ in range(rng.randint(5, 30))) for _ in range(40)]
    records = []
    for i in range(120):
        text = " ".join(rng.choice(pieces) if rng.random() < 0.3 else f"w{rng.randrange(10**6)}" for _ in range(rng.randint(3, 25)))
        records.append({"id": f"r{i}", "text": text})
    k = 24
    _, _, out = _run(tmp_path, records, "brute", files=3, min_bytes=k, anchor_bytes=8, min_chars=0, shard_mb=shard_mb, max_providers=10_000)
    corpus = b"".join(r["text"].encode() + b"\xff" for r in records)
    expected_flags = ref.mark_groups(corpus, k)
    starts = np.cumsum([0] + [len(r["text"].encode()) + 1 for r in records])
    expected: dict[int, list[tuple[int, int]]] = {}
    for a, b in ref.cover(expected_flags, k, 0, len(corpus)):
        doc = int(np.searchsorted(starts, a, side="right")) - 1
        expected.setdefault(doc, []).append((a - int(starts[doc]), b - int(starts[doc])))
    scratch = next(out.glob("dedup/*/*/shards.json")).parent
    got: dict[int, list[tuple[int, int]]] = {}
    per_file = -(-len(records) // 3)
    for task in range(3):
        for position, ranges in _load_task_decisions(scratch, task).ranges.items():
            got[task * per_file + position] = sorted(ranges)
    assert got == expected
    assert len(expected) > 20


def test_hostile_documents(tmp_path: Path) -> None:
    rng = random.Random(11)
    para = _para(rng, 30)
    records = [
        {"id": "empty", "text": ""},
        {"id": "one-char", "text": "a" * 300_000},
        {"id": "crlf", "text": "first unique line here\r\n" + para + "\r\n" + _para(rng) + "\r\nlast"},
        {"id": "crlf-copy", "text": _para(rng) + "\r\n" + para + "\r\nend line that is unique too " + _para(rng, 10)},
    ]
    kept_docs, _rejected, _ = _run(tmp_path, records, "hostile", files=1)
    # every window but the first starts one byte after an identical one: only the first byte
    # is in no window seen earlier (and the document holds a first copy: it is not too_short)
    assert kept_docs["one-char"]["text"] == "a"
    copy = kept_docs["crlf-copy"]["text"]
    assert para not in copy and "\r\n\r\n" not in copy and copy.count("\r\n") == 1
    # a lone surrogate (possible in a Python str) is one character to the cut rules
    text = "lone \ud800 surrogate " + para
    raw = text.encode("utf-8", "surrogatepass")
    assert apply_cuts(text, plan_cuts(text, raw, [(len(raw) - len(para.encode()) - 1, len(raw))], fragment_bytes=100)) == "lone \ud800 surrogate"
