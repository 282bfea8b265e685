"""A redone task's leftovers are found by listing each folder once: the same files the glob
patterns it replaced matched (tamis.executors.tasks._clean_task_outputs)."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from types import SimpleNamespace

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
