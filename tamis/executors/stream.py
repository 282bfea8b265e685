"""Exact document dedup in one pass, for runs whose tasks one process reads in input order.

The plan of ``tamis run`` with ``exact_dedup`` as its only step is two segments around a
stage: every task collects its keys, the global passes find each key's first occurrence,
then every task reads its input again to write what was kept. When one process runs every
task one after another in input order (the local executor with one worker, or a run of one
task), the first occurrence of a key is simply the first one read, so each document can be
decided as it is read and its record written at once: one read of the input instead of two,
and the output's compression overlaps the whole read instead of the second pass only.

What it writes is what the two passes write, file for file: each task's output shards, its
rejects (bad records under ``-s0``, duplicates under ``-s1``), its errors, its keys and ids
(the collect's files), and both segments' markers with the same counts. So ``--resume``
works across the two ways: a resumed run streams on from the finished tasks' keys
(:meth:`FirstSeen.load`), or, when it cannot stream, runs the passes and the second segment
for the tasks left, which decides them exactly as the stream would have. The stream also
hands over to the passes when its table of keys reaches the stage's ``memory_budget_mb`` (between tasks, or within one: that
task's partial output is then removed and the passes redo it).

Each task's close (its keys and ids, the rest of its gzip stream, its shards' notes, the
fsyncs, the renames, its errors and both markers) runs in a thread of its own while the next task streams: the
profile of a 1 GB run (16 tasks) had the read wait there ~1/6 of the time. Tasks still commit
one at a time in input order (a task's close starts only after the previous one has
finished), so a crash leaves what it left before: whole committed tasks, markers last, and a
resume point after the last of them. A close that fails stops the stream: the task after it,
already streamed, is aborted rather than committed, and the run reports the failed task.

``TAMIS_EXACT_STREAM=0`` turns it off (the two passes always run), for comparisons.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from tamis.errors import InputError, TaskError
from tamis.executors import staging
from tamis.executors.plan import RunPlan, attempt_sentinel, segment_marker_name
from tamis.executors.progress import Bar, reporting
from tamis.executors.tasks import _clean_task_outputs, _first_attempt, _prepared, _Task, _without_gc
from tamis.io.atomic import write_bytes_atomic
from tamis.io.readers import InputTask
from tamis.io.sources import source_for

if TYPE_CHECKING:
    from tamis.dedup.exact import FirstSeen


def streamable(plan: RunPlan, tasks: list[InputTask], executor: Any, limit: int | None) -> bool:
    """Whether the run's plan and executor allow the one-pass dedup (see the module)."""
    if os.environ.get("TAMIS_EXACT_STREAM") == "0" or limit is not None or plan.remote is not None or not tasks:
        return False
    if getattr(executor, "name", None) != "local" or (executor.workers != 1 and len(tasks) != 1):
        return False  # more workers would run more tasks at once: the passes let them
    if len(plan.segments) != 2 or not plan.keep_text:
        return False
    first, second = plan.segments
    stage = first.stage
    if stage is None or first.steps or second.steps or second.stage is not None:
        return False
    return bool(getattr(stage, "streams_first_seen", lambda: False)())


def _done(plan: RunPlan, segment: int, task: InputTask) -> bool:
    return plan.marker(segment_marker_name(segment, task.index)).exists()


class _Closer:
    """Closes streamed tasks in the background, one at a time and in the order handed over
    (see the module): :meth:`hand_over` waits for the previous close before it starts the
    next, so commits keep the input order. A close's error is kept with its task's marker
    name and given by :meth:`wait`."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self.failed: dict[str, str] = {}

    def _run(self, name: str, close: Callable[[], None]) -> None:
        try:
            close()
        except BaseException as exc:  # noqa: BLE001 - reported as the local executor reports a failed task
            from tamis.executors.local import _describe

            self.failed = {name: _describe(exc)}

    def wait(self) -> dict[str, str]:
        """Wait for the close in flight; the failed task (its marker's name and the error), if any."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return self.failed

    def hand_over(self, name: str, close: Callable[[], None], abort: Callable[[], None]) -> None:
        """Close a streamed task after the one before it; abort it instead where an earlier
        close failed (the stream then stops: see :attr:`failed`)."""
        if self.wait():
            abort()
            return
        self._thread = threading.Thread(target=self._run, args=(name, close), name="tamis-stream-close", daemon=False)
        self._thread.start()


def stream_tasks(plan: RunPlan, tasks: list[InputTask]) -> dict[str, str]:
    """Stream the tasks in order, here, as far as they can be; returns the failed task (its
    marker's name and the error), if one failed. Tasks left unstreamed (a format without the
    one-pass path, the table full, a half-finished earlier run) are left to the ordinary
    segments and passes, which skip the finished ones. Every close handed over has finished
    (committed or failed) when it returns."""
    closer = _Closer()
    try:
        failed = _stream_in_order(plan, tasks, closer)
    finally:
        closed = closer.wait()
    return closed or failed


def _stream_in_order(plan: RunPlan, tasks: list[InputTask], closer: _Closer) -> dict[str, str]:
    stage = _prepared(plan.segments[0].stage)
    scratch = plan.stage_dir(0)
    seen = stage.first_seen()
    for task in tasks:
        first, second = _done(plan, 0, task), _done(plan, 1, task)
        if first and second:
            if seen.next_task != task.index:
                return {}  # finished out of order: the passes decide the rest
            seen.load(scratch, task.index)
            continue
        if first or seen.full() or seen.next_task != task.index or not source_for(task, plan.reader).streams_first_seen():
            return {}
        if closer.failed:
            return {}  # the failed close is the run's error
        name = segment_marker_name(1, task.index)
        bar = Bar(plan.root, f"{stage.step_id} (one pass), task {task.index + 1}/{len(tasks)}", [name], documents=True, enabled=plan.progress)
        try:
            streamed = run_stream_task(plan, task, seen, closer)
        except Exception as exc:  # noqa: BLE001 - reported as the local executor reports a failed task
            from tamis.executors.local import _describe

            return {name: _describe(exc)}
        finally:
            bar.close()
        if not streamed:
            return {}
    return {}


@contextlib.contextmanager
def _aborted_on_error(abort: Callable[[], None]) -> Iterator[None]:
    """Any error inside aborts the task's writers (nothing half-written is committed); a bad
    input line becomes the task's error, with its file and line, as in the passes."""
    try:
        yield
    except InputError as exc:
        abort()
        raise TaskError(str(exc)) from exc
    except BaseException:
        abort()
        raise


def run_stream_task(plan: RunPlan, task: InputTask, seen: FirstSeen, closer: _Closer | None = None) -> bool:
    """One task streamed: both segments' work and markers (the first segment's first). False
    when the table of keys filled up during the task: what it wrote is removed, no marker is
    written, and the passes take this task over with the rest. With a ``closer``, the task
    is closed and committed in its thread (after the tasks handed to it before); without,
    here, before it returns."""
    if seen.next_task != task.index:
        msg = f"task {task.index} cannot be streamed before task {seen.next_task}"
        raise TaskError(msg)
    started, cpu_started = time.perf_counter_ns(), time.thread_time_ns()
    for segment in (0, 1):
        # Cleaned whatever the sentinels say, and the sentinels set: a crash mid-stream leaves them
        # for whichever way a resume takes this task (the stream again, or the passes).
        _first_attempt(plan, segment_marker_name(segment, task.index))
        _clean_task_outputs(plan, segment, task.index)
    from tamis.dedup.exact import TableFull  # numpy and xxhash: imported only when a run streams

    first, second = _Task(plan, 0, task, None), _Task(plan, 1, task, None)
    stage = _prepared(plan.segments[0].stage)
    collector = stage.key_collector(first.ctx)
    writers = (first.sink, first.rejects, second.sink, second.rejects)
    name = f"{stage.step_id}.stream"

    def abort() -> None:
        for writer in writers:
            writer.abort()

    try:
        progress = reporting(plan.root, segment_marker_name(1, task.index), lambda: (first.stats.read, first.stats.bytes_in), plan.progress)
        with _aborted_on_error(abort), progress:
            first.clock.call(
                name,
                lambda: _without_gc(
                    first.source.stream_first_seen,
                    seen,
                    collector,
                    first.admit,
                    first.stats,
                    second.ctx,
                    second.sink,
                    second.rejects,
                    f"{stage.step_id}:duplicate",
                ),
                first._settled,  # the documents decided (read, less the reader's rejects), as an apply row counts them
                lambda: second.sink.records,
            )
    except TableFull:
        for segment in (0, 1):
            _clean_task_outputs(plan, segment, task.index)
        return False
    streamed_wall, streamed_cpu = time.perf_counter_ns() - started, time.thread_time_ns() - cpu_started

    def close() -> None:
        """The task's writers closed (shards and notes committed), its errors and markers
        written: its time is the stream's plus this close's (the close's own thread's CPU)."""
        close_started, close_cpu = time.perf_counter_ns(), time.thread_time_ns()
        with _aborted_on_error(abort):
            collector.close()  # the task's keys and ids, which a resume loads: before its markers
            for writer in writers:
                writer.close()
        if first.errors:
            blob = b"".join(orjson.dumps(e) + b"\n" for e in first.errors)
            write_bytes_atomic(plan.root / "errors" / f"seg0-task{task.index:05d}.jsonl", blob)
        wall = streamed_wall + time.perf_counter_ns() - close_started
        cpu = streamed_cpu + time.thread_time_ns() - close_cpu
        results = (
            {"stats": first.stats.to_dict(), "errors": len(first.errors), "seconds": wall / 1e9, "steps": []},
            {"stats": second.stats.to_dict(), "errors": 0, "seconds": 0.0, "steps": first.clock.rows("write", wall, cpu)},
        )
        for segment, result in enumerate(results):
            staging.commit_segment_task(plan, segment, task.index, segment_marker_name(segment, task.index), result, None)
            attempt_sentinel(plan.root, segment_marker_name(segment, task.index)).unlink(missing_ok=True)

    seen.next_task = task.index + 1
    if closer is None:
        close()
    else:
        closer.hand_over(segment_marker_name(1, task.index), close, abort)
    return True
