"""A redone task's leftovers are found by listing each folder once: the same files the glob
patterns it replaced matched (tamis.executors.tasks._clean_task_outputs)."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tamis.executors.tasks import _clean_task_outputs

NAMES = [
    "part-00003-s1-0.jsonl.gz", "part-00003-s1-", "part-00003-s2-0.jsonl.gz", "part-00013-s1-0.jsonl.gz", "part-00003-0.jsonl.gz",
    "seg1-task00003.jsonl", "seg1-task00003.jsonl.tmp-1", "seg1-task00030.jsonl", "seg0-task00003.jsonl",
    "00003-a.bin", "00003.bin", "00003.", "00030-a.bin", "x-00003.u32", "-00003.", ".x-00003.u32", ".00003-a", "x-00003u32", "00003",
]


def _globbed(plan: SimpleNamespace, segment: int, task: int) -> set[str]:
    # the patterns the function used before, as glob read them
    patterns = [str(plan.root / "rejects" / f"part-{task:05d}-s{segment}-*"), str(plan.root / "errors" / f"seg{segment}-task{task:05d}.jsonl*")]
    if plan.segments[segment].stage is not None:
        patterns += [str(plan.spill_dir(segment) / f"{task:05d}-*"), str(plan.sidecar_dir / f"{task:05d}.*"), str(plan.stage_dir(segment) / f"*-{task:05d}.*")]
    else:
        patterns.append(str(plan.root / "output" / f"part-{task:05d}-*"))
    return {path for pattern in patterns for path in glob.glob(pattern)}


@pytest.mark.parametrize("staged", [True, False])
def test_removes_what_the_glob_patterns_matched(tmp_path: Path, staged: bool) -> None:
    folders = ["rejects", "errors", "output", "spill1", "sidecar", "stage1"]
    plan = SimpleNamespace(
        root=tmp_path,
        segments={1: SimpleNamespace(stage="minhash" if staged else None)},
        spill_dir=lambda segment: tmp_path / f"spill{segment}",
        sidecar_dir=tmp_path / "sidecar",
        stage_dir=lambda segment: tmp_path / f"stage{segment}",
    )
    for folder in folders:
        if folder == "errors":  # an absent folder: nothing to remove there
            continue
        (tmp_path / folder).mkdir()
        for name in NAMES:
            (tmp_path / folder / name).write_bytes(b"")
    before = {str(path) for path in tmp_path.rglob("*") if path.is_file()}
    expected = _globbed(plan, 1, 3)
    assert len({os.path.dirname(path) for path in expected}) == (4 if staged else 2)  # matches in every folder there is
    _clean_task_outputs(plan, 1, 3)  # type: ignore[arg-type]
    after = {str(path) for path in tmp_path.rglob("*") if path.is_file()}
    assert before - after == expected
    assert all(os.path.basename(path) in NAMES for path in expected)


def _new_run(tmp_path: Path) -> tuple[Any, list[Any]]:
    """A new run's plan and tasks (three files, a task each), its directory prepared."""
    from runutil import write_jsonl

    from tamis.io.readers import plan_tasks
    from tamis.pipeline import RunConfig, build_steps
    from tamis.runner import build_plan, prepare_run_dir

    records = [[{"id": f"d{k}-{i}", "text": f"Document {i} of file {k}, with words enough."} for i in range(3)] for k in range(3)]
    inputs = [write_jsonl(tmp_path / f"in{k}.jsonl", rows) for k, rows in enumerate(records)]
    config = RunConfig(input=[str(p) for p in inputs], output=str(tmp_path / "run"), steps=[{"step": "normalize"}], report=False, reader={"batch_bytes": 0})
    steps = build_steps(config.step_configs())
    tasks = plan_tasks(config.input, config.reader_options())
    root = prepare_run_dir(config, steps, resume=False, overwrite=False, tasks=tasks)
    plan = build_plan(config, root, steps)
    plan.attempt_sentinels = True  # as run() sets it for a new run
    return plan, tasks


def test_a_task_cleans_only_when_its_sentinel_shows_an_earlier_attempt(tmp_path: Path) -> None:
    """In a new run, a task lists the run's folders to clean only when its attempt sentinel is
    there (an earlier attempt crashed, or Ray retries it): listing them at every task cost each
    task the whole run's file count (4,000 tasks took 110 s, 1,000 took 10 s)."""
    from tamis.executors.plan import attempt_sentinel
    from tamis.executors.tasks import run_segment_task

    plan, tasks = _new_run(tmp_path)
    run_segment_task(plan, 0, tasks[0])
    sentinel = attempt_sentinel(plan.root, "seg0-task00000")
    assert (plan.root / "_markers" / "seg0-task00000.json").exists() and not sentinel.exists()  # removed once marked
    stale = plan.root / "output" / "part-00000-0099.jsonl.gz"
    stale.write_bytes(b"")
    run_segment_task(plan, 0, tasks[0])  # no sentinel: a first attempt, nothing listed
    assert stale.exists()
    sentinel.write_bytes(b"")  # what a crashed attempt leaves
    run_segment_task(plan, 0, tasks[0])
    assert not stale.exists() and not sentinel.exists()


def test_a_resumed_run_cleans_every_task_it_redoes(tmp_path: Path) -> None:
    """A resumed run's tasks clean whatever the sentinels say: an earlier version left none."""
    from runutil import assert_accounting, kept, run_recipe, write_jsonl

    from tamis.pipeline import RunConfig
    from tamis.runner import run

    inputs = [write_jsonl(tmp_path / f"in{k}.jsonl", [{"id": f"d{k}", "text": f"Document of file {k}, with words enough."}]) for k in range(3)]
    out = tmp_path / "run"
    run_recipe(inputs, out, [{"step": "normalize"}], reader={"batch_bytes": 0})
    expected = sorted(r["id"] for r in kept(out))
    stale = out / "output" / "part-00000-0099.jsonl.gz"
    stale.write_bytes((out / "output" / "part-00000-0000.jsonl.gz").read_bytes())
    (out / "_markers" / "seg0-task00000.json").unlink()
    run(RunConfig(input=[str(p) for p in inputs], output=str(out), steps=[{"step": "normalize"}], report=False, reader={"batch_bytes": 0}), resume=True)
    assert not stale.exists()
    assert sorted(r["id"] for r in kept(out)) == expected
    assert_accounting(out, expected)


def test_a_first_attempt_does_not_list_the_run_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runutil import run_recipe, write_jsonl

    from tamis.executors import tasks

    listed: list[int] = []
    monkeypatch.setattr(tasks, "_clean_task_outputs", lambda plan, segment, task: listed.append(task))
    inputs = [write_jsonl(tmp_path / f"in{k}.jsonl", [{"id": f"d{k}", "text": "A document with a few words."}]) for k in range(4)]
    run_recipe(inputs, tmp_path / "run", [{"step": "normalize"}], reader={"batch_bytes": 0}, workers=1)
    assert listed == []


def test_a_task_finds_its_partition_files_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The apply tasks of exact and MinHash dedup find their files of each partition by name from
    the count the passes wrote, not by a glob of the scratch folder (every task's files: quadratic);
    a folder without the count (an earlier version's) is globbed as before."""
    from tamis.dedup import plain

    for partition, task in [(0, 3), (2, 3), (1, 4), (2, 30003)]:
        (tmp_path / f"decisions-{partition:04d}-{task:05d}.i64").write_bytes(b"")
    (tmp_path / plain.DECISION_PARTITIONS).write_text("3")
    monkeypatch.setattr(plain.glob, "glob", lambda pattern: pytest.fail("globbed"))
    assert [Path(p).name for p in plain.decision_files(tmp_path, 3)] == ["decisions-0000-00003.i64", "decisions-0002-00003.i64"]
    assert plain.decision_files(tmp_path, 5) == []
    monkeypatch.undo()
    (tmp_path / plain.DECISION_PARTITIONS).unlink()
    assert [Path(p).name for p in plain.decision_files(tmp_path, 3)] == ["decisions-0000-00003.i64", "decisions-0002-00003.i64"]
