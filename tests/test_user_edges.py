"""Issue 12: what a user installs and runs must hold at the edges (each test failed before its fix)."""

from __future__ import annotations

import pickle
from pathlib import Path

import orjson
import pytest
import zstandard
from runutil import kept, load_stats, rejected, run_recipe, write_jsonl

from tamis.cli import main

STEPS = [{"step": "normalize"}]


def texts(n: int, prefix: str = "d") -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": f"Record {prefix} number {i} is not like any of the others here."} for i in range(n)]


def lines(records: list[dict]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def errors(out: Path) -> list[dict]:
    path = out / "errors.jsonl"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


# ---------------------------------------------------------------- 4: truncated zstd


@pytest.mark.parametrize("frames", [1, 3])
def test_truncated_zstd_is_reported_not_silently_short(tmp_path: Path, frames: int):
    records = texts(30)
    compressor = zstandard.ZstdCompressor()
    per = len(records) // frames
    blob = b"".join(compressor.compress(lines(records[i * per : (i + 1) * per])) for i in range(frames))
    whole, cut = tmp_path / "whole" / "a.jsonl.zst", tmp_path / "cut" / "a.jsonl.zst"
    whole.parent.mkdir()
    cut.parent.mkdir()
    whole.write_bytes(blob)
    cut.write_bytes(blob[:-7])
    run_recipe([whole], tmp_path / "out-whole", STEPS)
    assert len(kept(tmp_path / "out-whole")) == 30  # every frame is read
    run_recipe([cut], tmp_path / "out-cut", STEPS)
    reasons = [e["reason"] for e in errors(tmp_path / "out-cut")]
    assert reasons == ["reader:truncated"]
    assert "reader:invalid_json" not in {r["reason"] for r in rejected(tmp_path / "out-cut")}


# ---------------------------------------------------------------- 5: loaded state never pickled


def test_a_set_up_step_pickles_as_its_parameters():
    from tamis.registry import get_step_class

    step = get_step_class("language")(min_score=0.5)
    step.setup()
    clone = pickle.loads(pickle.dumps(step))
    assert clone.params() == step.params()
    assert clone._identifier is None  # the model is loaded again where the step runs


def test_limit_with_the_default_recipe_and_two_workers(tmp_path: Path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    write_jsonl(src / "a.jsonl", texts(8, "a"))
    write_jsonl(src / "b.jsonl", texts(8, "b"))
    code = main(["run", "-i", str(src), "-o", str(tmp_path / "out"), "--limit", "10", "--workers", "2", "--no-report", "-q"])
    assert code == 0, capsys.readouterr().err
    assert load_stats(tmp_path / "out")["read"] == 10


# ---------------------------------------------------------------- 9: parquet without text


def test_dedup_no_text_parquet(tmp_path: Path):
    src = write_jsonl(tmp_path / "a.jsonl", [*texts(5), {"id": "dup", "text": texts(1)[0]["text"]}])
    code = main(["dedup", "-i", str(src), "-o", str(tmp_path / "out"), "--no-text", "--format", "parquet", "--no-report", "-q", "-w", "1"])
    assert code == 0
    out = kept(tmp_path / "out")
    assert sorted(r["id"] for r in out) == [f"d{i}" for i in range(5)]
    assert all(r["text"] is None for r in out)
    assert [r["id"] for r in rejected(tmp_path / "out")] == ["dup"]


# ---------------------------------------------------------------- 2, 3: resume on changed input, overlaps


def test_resume_refuses_a_changed_input(tmp_path: Path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    write_jsonl(src / "b.jsonl", texts(4, "b"))
    out = tmp_path / "out"
    args = ["run", "-i", str(src), "-o", str(out), "--recipe", "foundation", "--no-report", "-q", "-w", "1"]
    assert main(args) == 0
    write_jsonl(src / "a.jsonl", texts(3, "a"))  # sorts first: every task index would shift
    assert main([*args, "--resume"]) == 2
    assert "input changed" in capsys.readouterr().err
    (src / "a.jsonl").unlink()
    assert main([*args, "--resume"]) == 0  # the same files again: resumable
    write_jsonl(src / "b.jsonl", texts(5, "b"))  # same name, new content
    assert main([*args, "--resume"]) == 2


@pytest.mark.parametrize("layout", ["output_is_input", "output_inside_input", "input_inside_output"])
def test_overlapping_input_and_output_refused(tmp_path: Path, layout: str, capsys):
    data = tmp_path / "data"
    data.mkdir()
    write_jsonl(data / "a.jsonl", texts(3))
    run_recipe([data], tmp_path / "R", STEPS)
    inp, out = {
        "output_is_input": (data, data),
        "output_inside_input": (data, data / "clean"),
        "input_inside_output": (tmp_path / "R" / "output", tmp_path / "R"),
    }[layout]
    before = sorted(p.name for p in (tmp_path / "R" / "output").iterdir())
    for extra in ([], ["--dry-run"]):
        assert main(["run", "-i", str(inp), "-o", str(out), "--overwrite", "--no-report", "-q", *extra]) == 2
        assert "choose an output folder outside every input" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "R" / "output").iterdir()) == before
    assert (data / "a.jsonl").exists() and not (data / "clean").exists()


def test_resume_with_overwrite_is_a_usage_error(tmp_path: Path, capsys):
    src = write_jsonl(tmp_path / "a.jsonl", texts(2))
    assert main(["run", "-i", str(src), "-o", str(tmp_path / "o"), "--resume", "--overwrite", "-q"]) == 2
    assert "contradict" in capsys.readouterr().err
