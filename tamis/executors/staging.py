"""Where the run plan meets the object-store commit protocol (:mod:`tamis.io.remote_run`).

Each hook is a no-op for a run directory on a filesystem (``plan.remote`` is None) except
that the marker is written as before; for a run on a store it stages what a task reads,
and commits what it wrote, marker last.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tamis.io import storage
from tamis.io.atomic import write_bytes_atomic, write_scratch_bytes
from tamis.io.shardnotes import NOTES_DIR

if TYPE_CHECKING:
    from tamis.dedup.base import PassTask
    from tamis.executors.plan import RunPlan
    from tamis.io import remote_run


def _remote() -> Any:
    """:mod:`tamis.io.remote_run`, imported by a run on an object store only (it brings
    concurrent.futures, logging and tempfile: ~0.03 s of every local run's start)."""
    from tamis.io import remote_run

    return remote_run


def _rel(plan: RunPlan, path: Any) -> str:
    return str(path)[len(str(plan.root)) + 1 :].replace("\\", "/")


def segment_task_files(plan: RunPlan, segment: int, task: int) -> list[str]:
    """The files one task of one segment writes (the same patterns it cleans before it runs)."""
    root = plan.root
    notes = root / NOTES_DIR  # the shards' notes for the card and the report (tamis.io.shardnotes)
    patterns = [root / "rejects" / f"part-{task:05d}-s{segment}-*", root / "errors" / f"seg{segment}-task{task:05d}.jsonl"]
    patterns.append(notes / "rejects" / f"part-{task:05d}-s{segment}-*")
    if plan.segments[segment].stage is not None:
        patterns += [plan.spill_dir(segment) / f"{task:05d}-*", plan.sidecar_dir / f"{task:05d}.*"]
    else:
        patterns += [root / "output" / f"part-{task:05d}-*", notes / "output" / f"part-{task:05d}-*"]
    found = []
    for pattern in patterns:
        for path in glob.glob(str(pattern)):
            if not _remote()._is_scratch_name(path):
                found.append(_rel(plan, path))
    return found


def before_segment_task(plan: RunPlan, segment: int, task: int) -> remote_run.Snapshot | None:
    """Stage what this task reads that earlier work committed: the previous stage's scratch,
    this task's spill and sidecar. Returns the stage folder's state, to tell what it wrote."""
    if plan.remote is None:
        return None
    storage.configure(plan.storage_options)
    if segment > 0:
        dedup = _rel(plan, plan.dedup_dir)
        wanted = (f"{dedup}/stage{segment - 1}-", f"{dedup}/spill{segment - 1}/{task:05d}-", f"{dedup}/textless/{task:05d}.")
        _remote().sync_down(plan.remote, plan.root, lambda rel: rel.startswith(wanted), list_markers=_must_list(plan))
    if plan.segments[segment].stage is None:
        return {}
    return _remote().snapshot(plan.root, plan.stage_dir(segment))


def commit_segment_task(plan: RunPlan, segment: int, task: int, name: str, result: dict[str, Any], before: remote_run.Snapshot | None) -> None:
    """The task's marker, written last (after its files are committed, on a store)."""
    if plan.remote is None or before is None:
        write_bytes_atomic(plan.marker(name), orjson.dumps(result))
        return
    files = segment_task_files(plan, segment, task)
    if plan.segments[segment].stage is not None:
        files += _remote().changed_since(before, _remote().snapshot(plan.root, plan.stage_dir(segment)))
    _remote().commit(plan.remote, plan.root, name, result, files)
    if _must_list(plan):  # a node other than the driver's: no later task reads its shards here
        for rel in files:
            if rel.startswith(("output/", "rejects/", f"{NOTES_DIR}/")):
                (plan.root / rel).unlink(missing_ok=True)


def _must_list(plan: RunPlan) -> bool:
    """Workers beside the driver find every marker staged; others list the store's."""
    return not _remote().staged_by_driver(plan.root, plan.session)


def _pass_scratch(plan: RunPlan) -> str:
    return _rel(plan, plan.dedup_dir) + "/stage"


def localize(plan: RunPlan, fn: Any) -> Any:
    """A pass built by the driver names files in the driver's staging folder; on a machine
    whose staging folder is elsewhere, the same call with those paths moved to its own."""
    import functools

    here, there = str(plan.root), plan.run_dir
    if plan.remote is None or here == there or not isinstance(fn, functools.partial):
        return fn

    def move(value: Any) -> Any:
        if isinstance(value, str) and (value == there or value.startswith(there + "/")):
            return here + value[len(there) :]
        if isinstance(value, Path):
            return Path(move(str(value)))
        if isinstance(value, list | tuple):
            return type(value)(move(v) for v in value)
        return value

    return functools.partial(localize(plan, fn.func), *(move(a) for a in fn.args), **{k: move(v) for k, v in fn.keywords.items()})


def before_pass(plan: RunPlan) -> remote_run.Snapshot | None:
    if plan.remote is None:
        return None
    storage.configure(plan.storage_options)
    prefix = _pass_scratch(plan)
    _remote().sync_down(plan.remote, plan.root, lambda rel: rel.startswith(prefix), list_markers=_must_list(plan))
    return _remote().snapshot(plan.root, plan.dedup_dir)


def commit_pass(plan: RunPlan, name: str, result: dict[str, Any], before: remote_run.Snapshot | None) -> None:
    if plan.remote is None or before is None:
        # Whole or absent (renamed into place), not fsynced: a pass's outputs are scratch files,
        # never fsynced (tamis.io.atomic.write_scratch_bytes), so a synced marker never promised
        # them after a crash of the machine; an unsynced one lost in that crash only reruns the
        # pass (an empty or missing marker reads as not done). Six passes on the default recipe:
        # six fsyncs (3-12 ms each here) of every run's wall time.
        write_scratch_bytes(plan.marker(name), orjson.dumps(result))
        return
    prefix = _pass_scratch(plan)
    files = [rel for rel in _remote().changed_since(before, _remote().snapshot(plan.root, plan.dedup_dir)) if rel.startswith(prefix)]
    _remote().commit(plan.remote, plan.root, name, result, files)


def driver_rounds(plan: RunPlan, segment: int, rounds: Iterator[list[PassTask]]) -> Iterator[list[PassTask]]:
    """A stage's rounds as the driver runs them. On a store, the driver first stages what the
    tasks (or the previous round) committed, since its own code between rounds reads it, and
    commits what it wrote itself (a layout, a partition count) before the round's tasks run
    elsewhere, under a marker of its own."""
    if plan.remote is None:
        yield from rounds
        return
    prefix = _rel(plan, plan.stage_dir(segment)) + "/"
    index = 0
    while True:
        _remote().sync_down(plan.remote, plan.root, lambda rel: rel.startswith(prefix), list_markers=False)  # staged after each round
        before = _remote().snapshot(plan.root, plan.stage_dir(segment))
        try:
            round_tasks = next(rounds)
        except StopIteration:
            return
        written = _remote().changed_since(before, _remote().snapshot(plan.root, plan.stage_dir(segment)))
        if written:
            _remote().commit(plan.remote, plan.root, f"stage{segment}-driver-{index:03d}", {}, written, exclusive=False)
        yield round_tasks
        index += 1


def after_calls(plan: RunPlan, names: list[str]) -> None:
    """The driver stages the markers of the calls that just finished (they may have run on
    other machines)."""
    if plan.remote is not None and names:
        _remote().pull_markers(plan.remote, plan.root, names)


def before_summary(plan: RunPlan) -> None:
    """The driver stages every task's input-error file before merging them."""
    if plan.remote is not None:
        _remote().sync_down(plan.remote, plan.root, lambda rel: rel.startswith("errors/"), list_markers=False)
