"""normalize -> exact_dedup -> minhash fused into one stage: the same run as the three steps apart."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import orjson
import pytest
from runutil import assert_accounting, kept, load_stats, rejected, run_recipe, write_jsonl

from tamis.dedup.exact import ExactDedup
from tamis.dedup.fused import FusedDedup, fuse_dedup_steps
from tamis.dedup.minhash import MinHashDedup
from tamis.pipeline import build_steps, split_segments
from tamis.steps.normalize import Normalize, strip_controls, strip_controls_reference

DEDUP_STEPS = [{"step": "normalize"}, {"step": "exact_dedup"}, {"step": "minhash", "threshold": 0.8}]


def _corpus(seed: int) -> list[dict]:
    """Originals, exact and near copies (also across files), texts that normalize changes or
    empties, unspaced scripts and case that only folding equates."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(400)] + ["straße", "İstanbul", "ÉCOLE", "e\u0301cole", "ŉ", "ΣΊΣΥΦΟΣ"]
    bases = [" ".join(rng.choice(vocab) for _ in range(rng.randint(30, 90))) for _ in range(40)]
    bases += ["日本語のテキストです" * 6 + str(k) for k in range(3)] + ["ภาษาไทยข้อความ" * 5]
    texts = list(bases)
    for _ in range(120):
        base = rng.choice(bases)
        kind = rng.randrange(7)
        if kind == 0:
            texts.append(base)
        elif kind == 1:
            texts.append(base.upper())
        elif kind == 2:
            words = base.split()
            words[rng.randrange(len(words))] = "edited"
            texts.append(" ".join(words))
        elif kind == 3:
            texts.append("\x01" + base + "\x7f\ufeff")
        elif kind == 4:
            texts.append(unicodedata.normalize("NFD", base))
        elif kind == 5:
            texts.append(base.replace(" ", "\x0b", 3))
        else:
            texts.append(base + " tail")
    texts += ["\x01\x02", "\ufeff \x07", "   x", "ß " * 40, "SS " * 40]
    rng.shuffle(texts)
    return [{"id": f"d{i}", "text": t, "lang": "xx"} for i, t in enumerate(texts)]


def _run(tmp_path: Path, name: str, inputs: list[Path], monkeypatch: pytest.MonkeyPatch, fused: bool, **config) -> Path:
    monkeypatch.setenv("TAMIS_FUSE_DEDUP", "1" if fused else "0")
    out = tmp_path / name
    run_recipe(inputs, out, steps=DEDUP_STEPS, **config)
    return out


def _by_id(records: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in records}


@pytest.mark.parametrize("seed", [1, 2])
def test_fused_stage_writes_what_the_three_steps_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int):
    records = _corpus(seed)
    half = len(records) // 2
    inputs = [write_jsonl(tmp_path / "a.jsonl", records[:half]), write_jsonl(tmp_path / "b.jsonl", records[half:])]
    apart = _run(tmp_path, "apart", inputs, monkeypatch, fused=False)
    fused = _run(tmp_path, "fused", inputs, monkeypatch, fused=True)
    assert _by_id(kept(fused)) == _by_id(kept(apart))
    assert _by_id(rejected(fused)) == _by_id(rejected(apart))
    stats_apart, stats_fused = load_stats(apart), load_stats(fused)
    for key in ("read", "kept", "rejected", "rejected_bytes", "modified", "bytes_in", "bytes_out", "languages", "histograms", "steps"):
        assert stats_fused[key] == stats_apart[key], key
    reasons = stats_fused["rejected"]
    assert reasons.get("normalize:empty_after_normalize") and reasons.get("exact_dedup:duplicate") and reasons.get("minhash:duplicate")
    assert_accounting(fused, [r["id"] for r in records])
    phases = [row["step"] for row in stats_fused["run"]["steps"]]
    # No document spills; the last pass is the JSONL source's own (kept records copied as bytes).
    assert "normalize+exact_dedup+minhash.apply" in phases and not any(p.startswith("read spill") for p in phases)


def test_fused_stage_with_several_workers_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    records = _corpus(3)
    third = len(records) // 3
    inputs = [write_jsonl(tmp_path / f"{k}.jsonl", records[k * third : (k + 1) * third if k < 2 else None]) for k in range(3)]
    apart = _run(tmp_path, "apart", inputs, monkeypatch, fused=False)
    fused = _run(tmp_path, "fused", inputs, monkeypatch, fused=True, workers=2)
    assert _by_id(kept(fused)) == _by_id(kept(apart))
    assert _by_id(rejected(fused)) == _by_id(rejected(apart))
    # A resumed run redoes nothing and keeps the result.
    from tamis.pipeline import RunConfig
    from tamis.runner import run

    again = run(RunConfig(input=[str(p) for p in inputs], output=str(fused), steps=DEDUP_STEPS, report=False, workers=2), resume=True)
    assert not again.failed
    assert _by_id(kept(fused)) == _by_id(kept(apart))


def test_fusion_takes_only_the_documented_sequence(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TAMIS_FUSE_DEDUP", "1")
    steps = build_steps(DEDUP_STEPS)
    fused = fuse_dedup_steps(steps)
    assert len(fused) == 1 and isinstance(fused[0], FusedDedup)
    assert fused[0].step_id == "normalize+exact_dedup+minhash"
    assert isinstance(fuse_dedup_steps(steps[1:])[0], FusedDedup)  # normalize is optional
    segments = split_segments(steps)
    assert len(segments) == 2 and not segments[0].steps and isinstance(segments[0].stage, FusedDedup)
    line_unit = build_steps([{"step": "exact_dedup", "unit": "line"}, {"step": "minhash"}])
    assert [type(s) for s in fuse_dedup_steps(line_unit)] == [ExactDedup, MinHashDedup]
    reordered = build_steps([{"step": "normalize"}, {"step": "minhash"}, {"step": "exact_dedup"}])
    assert [type(s) for s in fuse_dedup_steps(reordered)] == [Normalize, MinHashDedup, ExactDedup]
    monkeypatch.setenv("TAMIS_FUSE_DEDUP", "0")
    assert fuse_dedup_steps(steps) == steps


def test_fused_stage_pickles_as_its_parts():
    import pickle

    stage = fuse_dedup_steps(build_steps(DEDUP_STEPS))[0]
    copy = pickle.loads(pickle.dumps(stage))
    assert isinstance(copy, FusedDedup) and copy.params() == stage.params()


def test_compiled_strip_controls_equals_the_regex():
    rng = random.Random(5)
    alphabet = ["a", "\x00", "\t", "\n", "\r", "\x0b", "\x0c", "\x1f", "\x7f", "\x80", "\ufeff", "\ufffe", "é", "日", "\U00020000", "\x1c", " "]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(14)))
        assert strip_controls(text) == strip_controls_reference(text), repr(text)
    plain = "nothing to strip here é 日"
    assert strip_controls(plain) is plain


def test_compiled_default_normalisation_equals_the_plain_one():
    """normalize_quick (one scan: NFC-stable and controls) gives what NFC then strip_controls
    give, returns the text itself where nothing changes, and leaves NFC-unstable texts to the
    plain path."""
    from tamis.steps.normalize import _quick

    quick = _quick()
    assert quick is not None
    step = Normalize(fix_mojibake=False)  # the compiled NFC + controls path (the repair comes before it)
    repairing = Normalize()
    rng = random.Random(9)
    alphabet = ["a", "Z", " ", "\x00", "\t", "\n", "\r", "\x0b", "\x1f", "\x7f", "\x85", "é", "e\u0301", "\u0301", "Å", "\u212b", "\ufeff", "\ufffe",
                "日", "\u1100\u1161", "\u1161", "가", "\U00020000", "\U0001d15e", "\U0001f600", "ß", "\u00c0", "A\u0300", "\u0344", "\u0b47\u0b3e", "\u2126"]
    for _ in range(6000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
        assert step.normalize(text) == step.normalize_reference(text) == strip_controls_reference(unicodedata.normalize("NFC", text)), repr(text)
        assert repairing.normalize(text) == repairing.normalize_reference(text), repr(text)
        done = quick(text)
        if done is not None:
            assert unicodedata.is_normalized("NFC", text)
    plain = "nothing changes here é 日 \U0001f600"
    assert quick(plain) is plain and step.normalize(plain) is plain
    assert quick("e\u0301") is None and quick("\u212b") is None


def test_fused_stage_saves_and_uses_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    records = _corpus(4)
    half = len(records) // 2
    first, second = write_jsonl(tmp_path / "first.jsonl", records[:half]), write_jsonl(tmp_path / "second.jsonl", records[half:])
    saved = {}
    for fused in (False, True):
        monkeypatch.setenv("TAMIS_FUSE_DEDUP", "1" if fused else "0")
        index = tmp_path / f"index-{fused}"
        steps = [*DEDUP_STEPS[:2], {**DEDUP_STEPS[2], "save_index": str(index)}]
        run_recipe([first], tmp_path / f"save-{fused}", steps=steps)
        saved[fused] = {p.name: p.read_bytes() for p in sorted(index.iterdir())}
        steps = [*DEDUP_STEPS[:2], {**DEDUP_STEPS[2], "against": str(index)}]
        run_recipe([second], tmp_path / f"against-{fused}", steps=steps)
    assert saved[True] == saved[False]
    assert _by_id(kept(tmp_path / "against-True")) == _by_id(kept(tmp_path / "against-False"))
    assert _by_id(rejected(tmp_path / "against-True")) == _by_id(rejected(tmp_path / "against-False"))


def test_block_texts_are_the_texts_orjson_reads():
    """The fused collect's reader: each scanned line's text decoded by block_texts equals
    orjson's (escapes, surrogate pairs, NUL, raw non-ASCII), None where the scanner declined."""
    from test_native_jsonl import dump, random_record

    from tamis.io.jsonl_fast import Block, block_texts, scan_block
    from tamis.io.readers import ReaderOptions

    rng = random.Random(5)
    lines = [dump(random_record(rng), ascii_only=rng.random() < 0.5) for _ in range(1500)]
    lines += [
        b'{"id":"s","text":"\\ud83d\\ude00 \\u0000 a\\"b\\\\c\\/\\b\\f\\n\\r\\t \\u00e9\\u2019"}',
        b'{"text":"plain, no escape \xc3\xa9"}',
        b'{"text":"\\n"}',
    ]
    data = b"\n".join(lines) + b"\n"
    block = Block(data, 0, len(data), 1, 0, "x.jsonl")
    _, numbers, _, _, _ = scan_block(block, ReaderOptions(), fold=False)
    texts = block_texts(block, numbers)
    assert len(texts) == len(lines) == len(numbers)
    answered = 0
    for line, row, text in zip(lines, numbers.tolist(), texts, strict=True):
        if row[3] < 0:
            assert text is None
            continue
        answered += 1
        assert text == orjson.loads(line)["text"] and len(text) == row[3]
    assert answered > 700 and texts[-3] == "\U0001f600 \x00 a\"b\\c/\b\f\n\r\t é\u2019"


def test_fused_collect_reads_blocks_and_documents_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The collect fed by the JSONL scanner a block at a time and fed documents one by one
    (TAMIS_JSONL_SCANNER=0) leave the same scratch files, hence the same run."""
    records = _corpus(4)
    inputs = [write_jsonl(tmp_path / "a.jsonl", records)]
    outs = {}
    for scanner in ("1", "0"):
        monkeypatch.setenv("TAMIS_JSONL_SCANNER", scanner)
        outs[scanner] = _run(tmp_path, f"scanner{scanner}", inputs, monkeypatch, fused=True)
    suffixes = (".u32", ".bin", ".keys", ".counts", ".fps", ".ids", ".off")
    scratch = {k: sorted(p for p in (out / "dedup").rglob("*") if p.is_file() and p.suffix in suffixes) for k, out in outs.items()}
    assert [p.relative_to(outs["1"]) for p in scratch["1"]] == [p.relative_to(outs["0"]) for p in scratch["0"]]
    assert len(scratch["1"]) > 8
    for fast, plain in zip(scratch["1"], scratch["0"], strict=True):
        assert fast.read_bytes() == plain.read_bytes(), fast.name
    assert _by_id(kept(outs["1"])) == _by_id(kept(outs["0"]))
    assert load_stats(outs["1"])["histograms"] == load_stats(outs["0"])["histograms"]


@pytest.mark.parametrize(("fused", "batch_chars"), [(True, 1 << 30), (True, 900), (False, 900)])
def test_sketches_signed_in_a_helper_thread_are_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fused: bool, batch_chars: int):
    """The first pass signing its batches in a helper thread (small batches here, cut by
    documents or by characters, several in flight) and in the calling thread leave
    byte-identical scratch files and the same run."""
    import tamis.dedup.minhash as minhash_module

    monkeypatch.setattr(minhash_module, "THREAD_BATCH_DOCS", 7)
    monkeypatch.setattr(minhash_module, "THREAD_BATCH_CHARS", batch_chars)
    monkeypatch.setattr(minhash_module, "SKETCH_AHEAD", 3)
    inputs = [write_jsonl(tmp_path / "a.jsonl", _corpus(5)), write_jsonl(tmp_path / "b.jsonl", _corpus(6))]
    outs = {}
    for thread in ("1", "0"):
        monkeypatch.setenv("TAMIS_SKETCH_THREAD", thread)
        outs[thread] = _run(tmp_path, f"thread{thread}", inputs, monkeypatch, fused=fused, reader={"batch_bytes": 0})  # a task per file: several tasks' files
    scratch = {k: sorted(p for p in (out / "dedup").rglob("*") if p.is_file() and p.suffix in (".keys", ".counts", ".fps")) for k, out in outs.items()}
    assert len(scratch["1"]) >= 6
    assert [p.relative_to(outs["1"]) for p in scratch["1"]] == [p.relative_to(outs["0"]) for p in scratch["0"]]
    for threaded, plain in zip(scratch["1"], scratch["0"], strict=True):
        assert threaded.read_bytes() == plain.read_bytes(), threaded.name
    assert _by_id(kept(outs["1"])) == _by_id(kept(outs["0"]))
    assert _by_id(rejected(outs["1"])) == _by_id(rejected(outs["0"]))
