"""Executors run lists of independent task calls; the driver here decides what to run.

An executor implements one method, ``map(calls, label)``: run every ``(name, fn, args)``
call, in any order and in parallel, and return ``{name: result}`` for the ones that
succeeded and ``{name: error text}`` for the ones that failed. Steps never see it.

The driver (:func:`execute`) walks the plan: for each segment, its tasks; then, if the
segment ends in a global stage, the stage's rounds; finally it merges the task markers into
``stats.json``. A call whose marker exists is not submitted again, which is all ``--resume``
needs.
"""

from __future__ import annotations

import contextlib
import glob
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from tamis import __version__
from tamis.errors import TaskError
from tamis.executors import staging, stream
from tamis.executors.plan import RunPlan, segment_marker_name
from tamis.executors.progress import Bar, pass_label, remove_folder, segment_label
from tamis.executors.tasks import run_pass_task, run_segment_task
from tamis.executors.timing import merge_rows
from tamis.io.atomic import write_bytes_atomic
from tamis.io.readers import InputTask
from tamis.stats import TaskStats

Call = tuple[str, Callable[..., Any], tuple[Any, ...]]
MARKER_VISIBILITY_WAIT_S = 30.0


class Executor(Protocol):
    name: str
    workers: int

    def map(self, calls: list[Call], label: str) -> tuple[dict[str, Any], dict[str, str]]: ...

    def close(self) -> None: ...


@dataclass
class RunOutcome:
    """What a run ended with: stats.json's summary, the failed tasks, the input errors."""
    stats: dict[str, Any]
    failed: dict[str, str] = field(default_factory=dict)
    input_errors: int = 0


def _load_marker(path: Path) -> dict[str, Any] | None:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None



def markers_not_visible(marker: Callable[[str], Path], folder: Path, names: list[str]) -> list[str]:
    """The calls among ``names`` whose marker the driver still cannot see after waiting up to
    MARKER_VISIBILITY_WAIT_S (a shared filesystem may show another node's file late)."""
    missing = [name for name in names if not marker(name).exists()]
    waited = 0.0
    while missing and waited < MARKER_VISIBILITY_WAIT_S:
        time.sleep(0.5)
        waited += 0.5
        with contextlib.suppress(FileNotFoundError):
            os.listdir(folder)  # a directory read refreshes cached lookups on NFS
        missing = [name for name in missing if not marker(name).exists()]
    return missing


def _hostname() -> str:
    """``socket.gethostname()``: on POSIX the kernel's node name, which ``os.uname`` gives
    without importing socket (~4 CPU-ms of every run's end)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def run_info(
    executor: Executor, tasks: int, started: float, timings: dict[str, float], failed: Any, steps: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``stats.json["run"]``: everything that varies between two identical runs."""
    info: dict[str, Any] = {
        "executor": executor.name,
        "workers": executor.workers,
        "tasks": tasks,
        "started": started,
        "seconds": round(time.time() - started, 3),
        "timings": timings,
    }
    if steps is not None:
        info["steps"] = steps
    import platform

    info |= {"host": _hostname(), "python": platform.python_version(), "failed_tasks": sorted(failed)}
    return info


def execute(
    plan: RunPlan,
    tasks: list[InputTask],
    executor: Executor,
    *,
    limit: int | None = None,
    step_ids: list[str] | None = None,
    before_stats: Callable[[dict[str, Any]], None] | None = None,
) -> RunOutcome:
    """Run every task and stage, then write ``stats.json`` (the run's last file: a finished
    run's mark). ``before_stats(summary)`` runs first, on a run without failures: the runner
    writes the dataset card there and adds what it found to the summary, so ``stats.json`` is
    written once."""
    started = time.time()
    timings: dict[str, float] = {}
    failed: dict[str, str] = {}
    if stream.streamable(plan, tasks, executor, limit):  # exact dedup in one pass, where it can be
        t0 = time.perf_counter()
        failed.update(stream.stream_tasks(plan, tasks))
        timings["stream"] = round(time.perf_counter() - t0, 3)
    for seg_index, segment in enumerate(plan.segments):
        if failed:
            break
        t0 = time.perf_counter()
        calls: list[Call] = []
        if seg_index == 0 and limit is not None:
            # --limit: the first N documents in input order, so tasks run one after another.
            remaining = limit
            for task in tasks:
                name = segment_marker_name(0, task.index)
                marker = _load_marker(plan.marker(name))
                if marker is None:
                    label = segment_label(0, None, [s.step_id for s in segment.steps], segment.stage.step_id if segment.stage else None)
                    fail = _run_calls(executor, plan, [(name, run_segment_task, (plan, 0, task, remaining))], label)
                    failed.update(fail)
                    marker = _load_marker(plan.marker(name))
                if marker is not None:
                    remaining -= marker["stats"]["read"]
        else:
            for task in tasks:
                name = segment_marker_name(seg_index, task.index)
                if not plan.marker(name).exists():
                    max_docs = None
                    if plan.replays_input(seg_index):  # read exactly what the first segment read
                        first = _load_marker(plan.marker(segment_marker_name(0, task.index)))
                        max_docs = first["stats"]["read"] if first else None
                    calls.append((name, run_segment_task, (plan, seg_index, task, max_docs)))
            previous = plan.segments[seg_index - 1].stage if seg_index else None
            segment_steps = [s.step_id for s in segment.steps]
            label = segment_label(seg_index, previous.step_id if previous else None, segment_steps, segment.stage.step_id if segment.stage else None)
            fail = _run_calls(executor, plan, calls, label)
            failed.update(fail)
        if failed:
            break
        timings[f"segment{seg_index}"] = round(time.perf_counter() - t0, 3)
        stage = segment.stage
        if stage is None or (tasks and all(plan.marker(segment_marker_name(seg_index + 1, t.index)).exists() for t in tasks)):
            continue  # no stage, or every task it decides for is done (streamed): no passes
        t0 = time.perf_counter()
        scratch = plan.stage_dir(seg_index)
        scratch.mkdir(parents=True, exist_ok=True)
        for round_tasks in staging.driver_rounds(plan, seg_index, stage.global_passes(scratch, len(tasks))):
            calls = []
            for pass_task in round_tasks:
                name = f"stage{seg_index}-{pass_task.name}"
                if _load_marker(plan.marker(name)) is None:  # missing, or emptied by a crash (not fsynced)
                    calls.append((name, run_pass_task, (plan, name, pass_task.fn)))
            fail = _run_calls(executor, plan, calls, pass_label(stage.step_id, [c[0].split("-", 1)[1] for c in calls]), documents=False)
            failed.update(fail)
            if failed:
                break
        if failed:
            break
        timings[f"stage{seg_index}-{stage.step_id}"] = round(time.perf_counter() - t0, 3)

    staging.before_summary(plan)
    stats = TaskStats()
    input_errors = 0
    step_rows: list[dict[str, Any]] = []
    for seg_index, segment in enumerate(plan.segments):
        for task in tasks:
            marker = _load_marker(plan.marker(segment_marker_name(seg_index, task.index)))
            if marker is not None:
                stats.merge(TaskStats.from_dict(marker["stats"]))
                input_errors += marker["errors"]
                merge_rows(step_rows, marker.get("steps", []))
        passes = f"stage{seg_index}-{segment.stage.step_id}" if segment.stage is not None else None
        if segment.stage is not None and passes in timings:
            # the global passes: wall time of the rounds (their tasks run in parallel)
            step_rows.append({"step": f"{segment.stage.step_id}.passes", "docs_in": None, "docs_out": None, "wall_s": timings[passes], "cpu_s": None})
    _merge_errors(plan.root, len(plan.segments), tasks)
    summary = stats.to_dict()
    summary["steps"] = step_ids or []
    summary["tamis_version"] = __version__
    summary["config_fingerprint"] = plan.fingerprint
    summary["input_errors"] = input_errors
    summary["run"] = run_info(executor, len(tasks), started, timings, failed, steps=step_rows)
    if not failed:
        if before_stats is not None:
            before_stats(summary)
        write_bytes_atomic(plan.root / "stats.json", orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    remove_folder(plan.root)
    return RunOutcome(summary, failed, input_errors)


def _run_calls(executor: Executor, plan: RunPlan, calls: list[Call], label: str, *, documents: bool = True) -> dict[str, str]:
    """``executor.map``, plus one check: every call that succeeded has a marker the driver sees.

    Each call's name is its marker's name. A task that finished on a worker whose run directory
    is not the driver's (cluster nodes without a shared filesystem) leaves no marker here;
    counting it as done would drop its documents from ``stats.json`` without a word. Network
    filesystems may cache a missing name briefly, so the check waits a little before failing.
    """
    bar = Bar(plan.root, label, [name for name, _, _ in calls], documents=documents, enabled=plan.progress)
    try:
        results, failed = executor.map(calls, label)
    finally:
        bar.close()
    staging.after_calls(plan, list(results))
    missing = markers_not_visible(plan.marker, plan.root / "_markers", list(results))
    for name in missing:
        failed[name] = (
            f"it finished, but its completion marker {plan.marker(name)} is not visible to the driver: the run "
            "directory must be on a filesystem that the driver and every worker share (see the README)"
        )
    return failed


def _merge_errors(root: Path, n_segments: int, tasks: list[InputTask]) -> None:
    """``errors.jsonl``: every input error, in input order."""
    parts = []
    for seg in range(n_segments):
        for task in tasks:
            path = root / "errors" / f"seg{seg}-task{task.index:05d}.jsonl"
            if path.exists():
                parts.append(path.read_bytes())
    if parts or (root / "errors.jsonl").exists():
        write_bytes_atomic(root / "errors.jsonl", b"".join(parts))


def failed_summary(failed: dict[str, str]) -> str:
    lines = [f"{len(failed)} task(s) failed:"]
    for name in sorted(failed)[:10]:
        lines.append(f"  {name}: {failed[name].strip().splitlines()[-1] if failed[name].strip() else 'unknown error'}")
    if len(failed) > 10:
        lines.append(f"  ... and {len(failed) - 10} more (see {os.path.join('OUT', '_markers')})")
    return "\n".join(lines)


def clear_stale_markers(root: Path) -> None:
    for path in glob.glob(str(root / "_markers" / "*.json")):
        os.unlink(path)


__all__ = ["Executor", "RunOutcome", "TaskError", "execute", "failed_summary"]
