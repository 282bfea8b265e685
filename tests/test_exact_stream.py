"""Exact dedup in one pass (tamis.executors.stream) writes what the two passes write.

The reference is the same run with ``TAMIS_EXACT_STREAM=0`` (collect, global passes, second
read). Compared: every output and rejects shard after decompression, errors.jsonl, the
card's notes and stats.json less its ``run`` part; on a corpus with every framing case
(byte ranges, CRLF, blank lines, a truncated gzip, an empty file), duplicates within a
block, across blocks and across tasks, texts the scanner declines (combining marks, bad
lines), records it cannot copy (a ``language`` key, escapes written otherwise) and derived
ids. Then the ways a run changes hands: resumed after some tasks, resumed from a half-done
two-pass run, and a table that reaches its memory budget.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from isal import igzip
from runutil import assert_accounting, load_stats, run_recipe
from test_native_jsonl import _mixed_corpus

from tamis.executors.plan import segment_marker_name
from tamis.pipeline import RunConfig
from tamis.runner import run

READER = {"chunk_bytes": 20_000}


def _odd_records(folder: Path) -> Path:
    """Records the scanner declines or cannot copy, with duplicates among them and of each other."""
    rng = random.Random(5)
    lines = []
    for i in range(300):
        base = rng.choice(["Cafe\u0301 au lait, s'il vous plaît.", "Ωμέγα και άλφα.", "Plain words here.", "ﬁne ligature", "tab\there"])
        record: dict[str, Any] = {"id": f"o{i}", "text": base if rng.random() < 0.6 else f"{base} {i}"}
        if rng.random() < 0.3:
            record["language"] = rng.choice(["fr", "el", "en"])
        if rng.random() < 0.2:
            record["metadata"] = {"source": "elsewhere", "n": i}
        if rng.random() < 0.2:
            record["url"] = f"https://example.org/{i}?q=\u00e9"
        line = json.dumps(record, ensure_ascii=rng.random() < 0.5).encode()  # \u escapes orjson does not write
        lines.append(line if rng.random() < 0.5 else orjson.dumps(record))
    path = folder / "odd.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _inputs(folder: Path) -> list[Path]:
    folder.mkdir()
    plain, truncated, empty = _mixed_corpus(folder)
    again = folder / "again.jsonl"  # every record of it a duplicate of an earlier task's
    again.write_bytes(plain.read_bytes())
    return [plain, _odd_records(folder), empty, again, truncated]


def _snapshot(out: Path) -> dict[str, Any]:
    files = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if rel.startswith(("output/", "rejects/", "_notes/")) or rel == "errors.jsonl":
            data = path.read_bytes()
            files[rel] = igzip.decompress(data) if rel.endswith(".gz") else data
    stats = load_stats(out)
    steps = [row["step"] for row in stats.pop("run")["steps"]]
    return {"files": files, "stats": stats, "steps": steps}


def _run(inputs: list[Path], out: Path, monkeypatch: pytest.MonkeyPatch, *, stream: bool, **config: Any) -> dict[str, Any]:
    monkeypatch.setenv("TAMIS_EXACT_STREAM", "1" if stream else "0")
    steps = config.pop("steps", [{"step": "exact_dedup"}])
    run_recipe(inputs, out, steps, workers=1, reader=READER, **config)
    return _snapshot(out)


def test_one_pass_writes_what_two_passes_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    inputs = _inputs(tmp_path / "in")
    reference = _run(inputs, tmp_path / "two", monkeypatch, stream=False)
    got = _run(inputs, tmp_path / "one", monkeypatch, stream=True)
    assert got["files"] == reference["files"]
    assert got["stats"] == reference["stats"]
    # blocks scanned in pieces of a few lines (a long line alone): line numbers, ids and decisions unchanged
    from tamis.io import jsonl_fast

    monkeypatch.setattr(jsonl_fast, "SCAN_PIECE", 300)
    pieces = _run(inputs, tmp_path / "pieces", monkeypatch, stream=True)
    assert pieces["files"] == reference["files"] and pieces["stats"] == reference["stats"]
    monkeypatch.undo()
    # it did stream (every JSONL task up to the truncated gzip, which streams too), and ran no pass
    assert "exact_dedup.stream" in got["steps"] and "exact_dedup.passes" not in got["steps"]
    assert "exact_dedup.passes" in reference["steps"]
    stats = got["stats"]
    assert stats["rejected"]["exact_dedup:duplicate"] > 100 and stats["rejected"]["reader:truncated"] == 1
    assert any(rel.startswith("errors") for rel in got["files"])


def test_zstd_and_plain_output_and_another_text_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    rng = random.Random(3)
    rows = [{"doc": f"d{i}", "body": rng.choice(["Un", "deux", "TROIS", "trois", "Deux "]) + " mots", "k": i} for i in range(500)]
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    for compression in ("zstd", "none"):
        config = {"compression": compression, "reader": {"chunk_bytes": 4000, "text_field": "body", "id_field": "doc"}}
        monkeypatch.setenv("TAMIS_EXACT_STREAM", "0")
        run_recipe([path], tmp_path / f"two-{compression}", [{"step": "exact_dedup"}], workers=1, **config)
        monkeypatch.setenv("TAMIS_EXACT_STREAM", "1")
        run_recipe([path], tmp_path / f"one-{compression}", [{"step": "exact_dedup"}], workers=1, **config)
        one, two = load_stats(tmp_path / f"one-{compression}"), load_stats(tmp_path / f"two-{compression}")
        assert "exact_dedup.stream" in [r["step"] for r in one.pop("run")["steps"]]
        two.pop("run")
        assert one == two and one["kept"] == 3  # "trois" and "TROIS" are one key, "Deux  mots" and "deux mots" too
        for folder in ("output", "rejects"):
            a = sorted((tmp_path / f"one-{compression}" / folder).iterdir())
            b = sorted((tmp_path / f"two-{compression}" / folder).iterdir())
            assert [p.name for p in a] == [p.name for p in b] and [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
        assert_accounting(tmp_path / f"one-{compression}", [r["doc"] for r in rows])


def _resume(inputs: list[Path], out: Path, monkeypatch: pytest.MonkeyPatch, *, stream: bool) -> dict[str, Any]:
    monkeypatch.setenv("TAMIS_EXACT_STREAM", "1" if stream else "0")
    config = RunConfig(input=[str(p) for p in inputs], output=str(out), steps=[{"step": "exact_dedup"}], workers=1, reader=READER, report=False)
    run(config, resume=True)
    return _snapshot(out)


@pytest.mark.parametrize(("first", "then"), [(True, True), (True, False), (False, True)])
def test_a_resumed_run_decides_as_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: bool, then: bool):
    inputs = _inputs(tmp_path / "in")
    reference = _run(inputs, tmp_path / "whole", monkeypatch, stream=False)
    out = tmp_path / "run"
    _run(inputs, out, monkeypatch, stream=first)
    markers = sorted((out / "_markers").glob("seg1-task*.json"))
    assert len(markers) > 4
    # Undo the last tasks, as if the run had stopped there: a task's shards stay behind (a
    # crash before its marker), which the resumed run must replace. After a two-pass run,
    # the first segment's markers stay (the collect was done): the stream must not take over.
    for marker in markers[3:]:
        task = int(marker.stem.rsplit("task", 1)[1])
        marker.unlink()
        if first:
            (out / "_markers" / f"{segment_marker_name(0, task)}.json").unlink()
    (out / "stats.json").unlink()
    got = _resume(inputs, out, monkeypatch, stream=then)
    assert got["files"] == reference["files"]
    assert got["stats"] == reference["stats"]
    if first and then:
        assert "exact_dedup.stream" in got["steps"] and "exact_dedup.passes" not in got["steps"]
    else:
        assert "exact_dedup.passes" in got["steps"]


def test_a_full_table_hands_over_to_the_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    rng = random.Random(8)
    rows = [{"id": f"t{i}", "text": f"text {rng.randrange(20_000)}"} for i in range(12_000)]
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    steps = [{"step": "exact_dedup", "memory_budget_mb": 1}]  # about 6,500 keys: full after a few tasks
    config = {"reader": {"chunk_bytes": 40_000}}
    monkeypatch.setenv("TAMIS_EXACT_STREAM", "0")
    run_recipe([path], tmp_path / "two", steps, workers=1, **config)
    monkeypatch.setenv("TAMIS_EXACT_STREAM", "1")
    run_recipe([path], tmp_path / "one", steps, workers=1, **config)
    one, two = _snapshot(tmp_path / "one"), _snapshot(tmp_path / "two")
    assert one["files"] == two["files"] and one["stats"] == two["stats"]
    assert "exact_dedup.stream" in one["steps"] and "exact_dedup.apply" in one["steps"]  # some tasks each way
    assert_accounting(tmp_path / "one", [r["id"] for r in rows])
    # One task (no byte ranges): the table fills within it; the task's partial output is
    # removed, nothing of it is marked, and the passes do the whole run.
    for mode in ("0", "1"):
        monkeypatch.setenv("TAMIS_EXACT_STREAM", mode)
        run_recipe([path], tmp_path / f"whole{mode}", steps, workers=1)
    one, two = _snapshot(tmp_path / "whole1"), _snapshot(tmp_path / "whole0")
    assert one["files"] == two["files"] and one["stats"] == two["stats"]
    assert "exact_dedup.stream" not in one["steps"] and "exact_dedup.passes" in one["steps"]


def test_a_failed_close_stops_the_commits_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Tasks close in a background thread while the next one streams: a close that fails
    leaves the tasks before it committed, nothing of it or of any later task marked (the
    task after it, already streamed, is aborted), and a resume finishes as one run would."""
    from tamis.io import outputs

    inputs = _inputs(tmp_path / "in")
    reference = _run(inputs, tmp_path / "whole", monkeypatch, stream=False)
    real_commit = outputs.commit

    def failing_commit(tmp: Path, final: Path) -> None:
        if final.parent.name == "output" and final.name.startswith("part-00002-"):
            raise OSError(28, "No space left on device")
        real_commit(tmp, final)

    monkeypatch.setattr(outputs, "commit", failing_commit)
    out = tmp_path / "run"
    monkeypatch.setenv("TAMIS_EXACT_STREAM", "1")
    outcome = run_recipe(inputs, out, [{"step": "exact_dedup"}], workers=1, reader=READER)
    assert list(outcome.failed) == [segment_marker_name(1, 2)] and "No space left on device" in outcome.failed[segment_marker_name(1, 2)]
    marked = sorted(int(p.stem.rsplit("task", 1)[1]) for p in (out / "_markers").glob("seg1-task*.json"))
    assert marked == [0, 1]
    assert not list((out / "output").glob("part-00003-*")) and not list((out / "output").glob("*.tmp-*"))
    monkeypatch.setattr(outputs, "commit", real_commit)
    got = _resume(inputs, out, monkeypatch, stream=True)
    assert got["files"] == reference["files"] and got["stats"] == reference["stats"]
    assert "exact_dedup.stream" in got["steps"]
