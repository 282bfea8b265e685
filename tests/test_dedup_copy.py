"""The last pass of a positional dedup stage writes kept records from their input bytes
(``JsonlSource.write_decided_texts``): it must write exactly what the reference path writes
(documents parsed, decided, serialised), byte for byte, on JSONL written every which way."""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path

import orjson
import pytest
from runutil import assert_accounting, load_stats, run_recipe

from tamis.io.jsonl_fast import jsonl_blocks, scan_block
from tamis.io.outputs import JsonlOutput, document_record, dumps, list_shards
from tamis.io.readers import BadRecord, InputTask, ReaderOptions, _parse_json_record

FUSED = [{"step": "normalize"}, {"step": "exact_dedup"}, {"step": "minhash", "threshold": 0.8}]
UNCOPYABLE = (
    b"d\\u00e9",
    b"\x7f",  # an escaped id, a raw DEL: left to the reference reader
    b'"score"',
    b'"big"',
    b'"top"',  # a top-level key over a nested metadata key
    b'"language"',
    b"dup-key",
    b"nested-",
    b"minus-zero",
    b'"exp"',
    b'"lone"',
)
STATS = ("read", "kept", "rejected", "rejected_bytes", "modified", "bytes_in", "bytes_out", "languages", "histograms")


def _styles(record: dict) -> list[str]:
    """One record written as different tools write JSON (each a line without its newline)."""
    try:
        exact = orjson.dumps(record).decode()
    except TypeError:  # an integer past 64 bits
        exact = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    return [
        exact,
        json.dumps(record),  # ", " and ": ", non-ASCII as \\uXXXX (Python's and pandas' default)
        json.dumps(record, ensure_ascii=False),
        json.dumps(record, separators=(",", ":")),  # compact, escaped non-ASCII
        json.dumps(record, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/"),  # escaped slashes
        json.dumps(record, indent=None, separators=(" , ", " : "), ensure_ascii=False),
    ]


def _corpus(seed: int) -> list[bytes]:
    """Originals, exact and near copies, texts normalize changes, escapes of every form,
    ids and metadata of every shape, and lines the reader rejects."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(300)] + ["straße", "é", "日本語", "😀", 'q"uote', "back\\slash", "tab\tx", "a/b", "\u2028", "\x1f", "ÉCOLE"]
    bases = [" ".join(rng.choice(vocab) for _ in range(rng.randint(30, 70))) for _ in range(30)]
    texts = []
    for _ in range(160):
        base = rng.choice(bases)
        kind = rng.randrange(6)
        if kind == 0:
            texts.append(base)
        elif kind == 1:
            words = base.split(" ")
            words[rng.randrange(len(words))] = "edited"
            texts.append(" ".join(words))
        elif kind == 2:
            texts.append("\x01" + base + "\ufeff")  # normalize strips these
        elif kind == 3:
            texts.append(unicodedata.normalize("NFD", base))  # normalize recomposes
        elif kind == 4:
            texts.append(base + "\r\nline two\n")
        else:
            texts.append(base + f" unique {rng.random()}")
    texts += ["\x01\x02", "\ufeff \x07"]  # empty after normalize
    metas = [
        {},
        {"lang": "xx", "n": 7, "flag": True, "none": None},
        {"tags": ["a", "é", {"deep": [1, -2, "\u2028"]}], "url": "https://example.com/a/b?c=d"},
        {"score": 0.5},  # a float: orjson writes its own form
        {"big": 2**70},  # past 64 bits
        {"metadata": {"inner": 1, "source": "nested", "deep": {"x": ["é"]}}, "top": 2},  # merged, source in place
        {"source": "crawl", "after": 1},  # replaced by the reader's source, in place
        {"metadata": {"top": 1}, "top": 2},  # a top-level key over a nested one
        {"language": "fr"},
    ]
    lines: list[bytes] = []
    for i, text in enumerate(texts):
        record: dict = {}
        shape = i % 9
        if shape == 0:
            record["id"] = f"d{i}"
        elif shape == 1:
            record["id"] = i  # an integer id
        elif shape == 2:
            pass  # no id: derived from the position
        elif shape == 3:
            record["id"] = None
        elif shape == 4:
            record["id"] = f"dé{i}"
        else:
            record["id"] = f"d{i}"
        record["text"] = text
        record.update(metas[i % len(metas)])
        if shape == 5:  # text after the metadata
            record = {k: record[k] for k in [*(k for k in record if k != "text"), "text"]}
        style = _styles(record)[i % 6]
        ending = "\r\n" if i % 7 == 0 else "\n"
        lines.append((style + ending).encode())
    lines += [
        b'{"id": "dup-key", "text": "one two three four", "k": 1, "k": 2}\n',
        b'{"id":"nested-dup","text":"five six seven eight","m":{"a":1,"a":2}}\n',
        b'{"id":"nested-esc","text":"nine ten eleven","m":{"\\u0061":1,"a":2}}\n',
        b'{"id":"upper","text":"\\u00C9T\\u00c9 \\u001F control \\u0041","x":"\\uD83D\\uDE00"}\n',
        b'{"id":"lone","text":"broken \\ud800 surrogate here"}\n',
        b'{"id":"minus-zero","text":"negative zero field","z":-0}\n',
        b'{"id":"exp","text":"exponent field here","z":1e2}\n',
        b'{"id":"del","text":"a raw \x7f delete"}\n',
        b"\n",
        b"   \n",
        b"not json at all\n",
        b"[1, 2, 3]\n",
        b'{"id":"notext","body":"x"}\n',
        b'{"id":"numtext","text":5}\n',
        b'{"id":"emptytext","text":""}\n',
    ]
    rng.shuffle(lines)
    return lines


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


def test_scanned_output_lines_are_the_writers(tmp_path: Path):
    """Every line the scanner makes (text included) is byte for byte what the writer writes
    for the document the reference reader reads; most lines get one, whatever the JSON style."""
    path = _write(tmp_path / "in.jsonl", _corpus(1))
    options = ReaderOptions()
    task = InputTask(0, "jsonl", (str(path),))
    made = declined = 0
    for block in jsonl_blocks(task, options):
        assert not isinstance(block, BadRecord)
        _, numbers, _, _, lines = scan_block(block, options, fold=False, path_json=orjson.dumps(str(path)), with_text=True)
        for row, line in zip(numbers.tolist(), lines, strict=True):
            line_no, start, length = row[:3]
            item = _parse_json_record(block.data[start : start + length], str(path), line_no, options, "text", "id")
            if line is None:
                # Only what orjson would write otherwise (floats, long or -0 integers, repeated
                # or escaped keys), reserved keys and records the reader refuses are declined.
                raw = block.data[start : start + length]
                assert isinstance(item, BadRecord) or any(k in raw for k in UNCOPYABLE), raw
                declined += 1
                continue
            assert not isinstance(item, BadRecord)
            assert line == dumps(document_record(item)), line_no
            made += 1
    assert made > 50 and declined < 150  # spaces and escaped non-ASCII do not stop the copy


def _shards(out: Path, which: str) -> dict[str, bytes]:
    return {p.name: b"".join(JsonlOutput.blocks(p)) for p in list_shards(out / which)}


def _both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inputs: list[Path], steps: list[dict], workers: int = 1, **config) -> tuple[Path, Path]:
    """The reference run (TAMIS_JSONL_SCANNER=0: every document parsed and serialised) and
    the run with the scanner. The reference runs in this process (one worker), where the
    variable is read; pool workers fork from a server that keeps the environment it began with."""
    monkeypatch.setenv("TAMIS_JSONL_SCANNER", "0")
    reference = tmp_path / "reference"
    run_recipe(inputs, reference, steps=steps, workers=1, **config)
    monkeypatch.setenv("TAMIS_JSONL_SCANNER", "1")
    fast = tmp_path / "fast"
    run_recipe(inputs, fast, steps=steps, workers=workers, **config)
    return reference, fast


def _assert_same(reference: Path, fast: Path, *, copied: bool = True) -> None:
    for which in ("output", "rejects"):
        assert _shards(fast, which) == _shards(reference, which), which
    ref_stats, fast_stats = load_stats(reference), load_stats(fast)
    for key in STATS:
        assert fast_stats[key] == ref_stats[key], key
    phases = [row["step"] for row in fast_stats["run"]["steps"]]
    assert ("read again" not in phases) == copied  # the source wrote the last pass itself
    assert "read again" in [row["step"] for row in ref_stats["run"]["steps"]]


@pytest.mark.parametrize(
    "steps",
    [FUSED, [{"step": "exact_dedup"}], [{"step": "minhash", "threshold": 0.8}]],
    ids=["normalize+exact+minhash", "exact", "minhash"],
)
def test_copy_path_writes_what_the_reference_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, steps: list[dict]):
    lines = _corpus(2)
    half = len(lines) // 2
    inputs = [_write(tmp_path / "a.jsonl", lines[:half]), _write(tmp_path / "b.jsonl", lines[half:])]
    reference, fast = _both(tmp_path, monkeypatch, inputs, steps, compression="none")
    _assert_same(reference, fast)
    ids = [r["id"] for r in orjson.loads(b"[" + b",".join(_shards(fast, "output")["part-00000-0000.jsonl"].splitlines()) + b"]")]
    assert ids and len(ids) == len(set(ids))
    stats = load_stats(fast)
    assert stats["read"] == stats["kept"] + stats["rejected_total"]
    if steps is FUSED:
        assert stats["modified"].get("normalize") and stats["rejected"].get("normalize:empty_after_normalize")


def test_copy_path_with_limit_workers_gzip_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    lines = _corpus(3)
    third = len(lines) // 3
    inputs = [_write(tmp_path / f"{k}.jsonl", lines[k * third : (k + 1) * third if k < 2 else None]) for k in range(3)]
    reference, fast = _both(tmp_path, monkeypatch, inputs, FUSED, workers=2, limit=len(lines) - 20)
    # (whether pool workers took the copy path depends on the environment their server began with)
    _assert_same(reference, fast, copied="read again" not in [r["step"] for r in load_stats(fast)["run"]["steps"]])
    # the reference run's ids: every one read once, kept or rejected
    from runutil import kept, rejected

    assert_accounting(fast, [r["id"] for r in kept(reference)] + [r["id"] for r in rejected(reference)])
    from tamis.pipeline import RunConfig
    from tamis.runner import run

    before = _shards(fast, "output")
    again = run(RunConfig(input=[str(p) for p in inputs], output=str(fast), steps=FUSED, report=False, workers=2, limit=len(lines) - 20), resume=True)
    assert not again.failed
    assert _shards(fast, "output") == before


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"source": {"path": "a.jsonl", "line": 3}},
        {"a": 'x,"metadata":{}', "b": [1, {"c": None}]},
        {"cluster_size": 2},  # a key the annotation sets: left to the reference path
        {"deep": {"cluster_id": "z"}},  # the key at another depth: left to the reference path too
        {"ü": "日本語 😀", "n": -0.5},
    ],
)
@pytest.mark.parametrize("extra", [{"cluster_id": 'doc"1\\u00e9', "cluster_size": 3}, {"cluster_id": "ü"}, {}, {"language": "en"}, {"bad": "\ud800"}])
def test_annotated_line_is_what_update_then_dumps_writes(metadata: dict, extra: dict):
    """A keeper's copied line with its annotation spliced into the metadata is byte for byte
    the line the reference path writes (parse, ``metadata.update``, ``dumps``), or None."""
    from tamis.io.jsonl_fast import _annotated_line

    line = dumps({"id": 'i,"text":"d', "text": 'a ,"metadata":{} "q"\n', "metadata": metadata})
    spliced = _annotated_line(line, extra)
    nested_key = any(f'"{k}":' in orjson.dumps(metadata).decode() for k in extra)
    if "language" in extra or "bad" in extra or nested_key:
        assert spliced is None
        return
    assert spliced == dumps({"id": 'i,"text":"d', "text": 'a ,"metadata":{} "q"\n', "metadata": {**metadata, **extra}})
