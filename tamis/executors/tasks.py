"""The work of one task, the same whichever executor runs it.

A task function reads its source (input files for the first segment, the previous stage's
spill otherwise), applies the previous stage's decisions, runs the segment's steps, and
writes either the next stage's spill or the final output shards, plus its rejects and input
errors. Its completion marker is written last, atomically, with the task's counters: a task
with a marker is finished; any other task is redone from scratch on ``--resume``.

Nothing here knows an input or output format: the task asks its source
(:mod:`tamis.io.sources`) for documents and for the fast paths a format may offer, and
writes through output formats (:mod:`tamis.io.outputs`).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from tamis.document import Document
from tamis.errors import InputError, TaskError
from tamis.executors import staging
from tamis.executors.plan import RunPlan, attempt_sentinel, mark_first_attempt, segment_marker_name
from tamis.executors.progress import reporting
from tamis.executors.timing import StepClock
from tamis.gcpause import gc_paused, set_up_done
from tamis.io.atomic import write_bytes_atomic
from tamis.io.outputs import ShardWriter, document_record, list_shards, output_format, read_shard, rejects_format
from tamis.io.readers import BadRecord, InputTask, ReadResult
from tamis.io.sources import Source, source_for
from tamis.pipeline import Segment
from tamis.stats import TaskStats
from tamis.steps.base import Step, TaskContext
from tamis.steps.watchdog import guard

SPILL = output_format("jsonl", "zstd", 1)  # stage spills: read back by the next segment only


_PREPARED: dict[bytes, Step] = {}


def _prepared(step: Step) -> Any:
    """One set-up instance per process for each distinct step config (models load once)."""
    key = orjson.dumps({"cls": type(step).__qualname__, **step.params()}, default=str, option=orjson.OPT_SORT_KEYS)
    cached = _PREPARED.get(key)
    if cached is None:
        step.setup()
        cached = _PREPARED[key] = step
        set_up_done()  # its model or tables live as long as the process: out of later collections (CLI only)
    return cached


def _clean_task_outputs(plan: RunPlan, segment: int, task: int) -> None:
    """A redone task starts from nothing: remove whatever an earlier attempt left.

    Each folder is listed once and its names matched by prefix (``glob`` compiled a pattern per
    file name asked, ~1 % of a short run); like ``*`` in glob, no match opens with a dot."""
    wanted: list[tuple[Path, Callable[[str], bool]]] = [
        (plan.root / "rejects", lambda name: name.startswith(f"part-{task:05d}-s{segment}-")),
        (plan.root / "errors", lambda name: name.startswith(f"seg{segment}-task{task:05d}.jsonl")),
    ]
    if plan.segments[segment].stage is not None:
        wanted.append((plan.spill_dir(segment), lambda name: name.startswith(f"{task:05d}-")))
        wanted.append((plan.sidecar_dir, lambda name: name.startswith(f"{task:05d}.")))
        wanted.append((plan.stage_dir(segment), lambda name: f"-{task:05d}." in name and not name.startswith(".")))
    else:
        wanted.append((plan.root / "output", lambda name: name.startswith(f"part-{task:05d}-")))
    for folder, matches in wanted:
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            if matches(name):
                os.unlink(os.path.join(folder, name))


class _Task:
    """One task of one segment while it runs: its context, writers, errors and clock."""

    def __init__(self, plan: RunPlan, segment: int, task: InputTask, max_docs: int | None) -> None:
        self.plan, self.segment, self.task, self.max_docs = plan, segment, task, max_docs
        self.seg: Segment = plan.segments[segment]
        self.stats = TaskStats()
        self.errors: list[dict[str, Any]] = []
        self.clock = StepClock()
        rejects = rejects_format(plan.compression, plan.compression_level)
        self.rejects = ShardWriter(plan.root / "rejects", f"part-{task.index:05d}-s{segment}", rejects, max_bytes=plan.shard_bytes, rejects=True)
        scratch = plan.stage_dir(segment) if self.seg.stage is not None else None
        if scratch is not None:
            scratch.mkdir(parents=True, exist_ok=True)
            self.sink = ShardWriter(plan.spill_dir(segment), f"{task.index:05d}", SPILL, max_bytes=1 << 62)
        else:
            output = output_format(plan.fmt, plan.compression, plan.compression_level)
            self.sink = ShardWriter(plan.root / "output", f"part-{task.index:05d}", output, max_bytes=plan.shard_bytes)
        self.ctx = TaskContext(task.index, stats=self.stats, reject_sink=self.rejects.write, scratch_dir=scratch, errors=self.errors)
        self.source: Source = source_for(task, plan.reader)

    def context(self, scratch: Path) -> TaskContext:
        return TaskContext(self.task.index, stats=self.stats, reject_sink=self.rejects.write, scratch_dir=scratch)

    def admit(self, item: ReadResult) -> tuple[bool, Document | None]:
        """Count one reader result of the first segment: a good document is returned to go
        on; a bad record is listed in the errors and, when it holds a record, rejected whole.
        Returns (whether it counts as a record read, the document to go on with)."""
        if isinstance(item, BadRecord):
            err = item.error
            self.errors.append({"path": err.path, "line": err.line, "reason": err.reason, "message": err.message, "id": item.doc.id if item.doc else None})
            if self.plan.strict:
                raise TaskError(f"input error (--strict): {err}")
            if item.doc is None:
                return False, None
            self.stats.observe_read(item.doc.text)
            self.ctx.reject(item.doc, err.reason, detail=err.message)
            return True, None
        self.stats.observe_read(item.text)
        return True, item

    def _settled(self) -> int:
        return self.stats.read - sum(self.stats.rejected.values())

    def run(self) -> None:
        plan, seg, segment = self.plan, self.seg, self.segment
        if segment == 0 and not seg.steps and seg.stage is not None and self.max_docs is None:
            collector = _prepared(seg.stage).key_collector(self.ctx)
            leave_for = plan.sidecar_dir if plan.replays_without_text() else None
            collect = functools.partial(self.source.collect_keys, collector, self.admit, self.stats, leave_for)
            if collector is not None and self.clock.call(f"{seg.stage.step_id}.collect", lambda: _without_gc(collect), self._settled, self._settled):
                return
        previous = plan.segments[segment - 1].stage if segment > 0 else None
        without_text = segment == 1 and plan.replays_without_text()
        if without_text:
            assert previous is not None
            ctx = self.context(plan.stage_dir(0))
            decisions = _without_gc(_prepared(previous).decisions, ctx)
            before = self.stats.kept + sum(self.stats.rejected.values())
            if self.clock.call(
                f"{previous.step_id}.apply",
                lambda: _without_gc(self.source.write_decided, decisions, ctx, plan.sidecar_dir, self.sink),
                lambda: self.sink.records + sum(self.stats.rejected.values()) - before,
                lambda: self.sink.records,
            ):
                return
        if (
            previous is not None
            and not without_text
            and plan.keep_text
            and plan.replays_input(segment)
            and not seg.steps
            and seg.stage is None
            and _prepared(previous).applies_by_position()
        ):
            # The last pass only applies the stage's decisions and writes: the source may do
            # both where it reads (JSONL: kept records copied as their bytes).
            ctx = self.context(plan.stage_dir(segment - 1))
            decided = _without_gc(_prepared(previous).decisions, ctx)
            before = self.stats.kept + sum(self.stats.rejected.values())
            if decided is not None and self.clock.call(
                f"{previous.step_id}.apply",
                lambda: _without_gc(self.source.write_decided_texts, decided, ctx, self.sink, self.rejects, self.max_docs),
                lambda: self.stats.kept + sum(self.stats.rejected.values()) - before,
                lambda: self.sink.records,
            ):
                return
        source = "read" if segment == 0 else "read again" if plan.replays_input(segment) else f"read spill {segment - 1}"
        docs: Iterable[Document] = self.clock.wrap(source, self._documents(without_text))
        if previous is not None:
            docs = self.clock.wrap(f"{previous.step_id}.apply", _prepared(previous).apply(docs, self.context(plan.stage_dir(segment - 1))))
        for step in seg.steps:
            docs = self.clock.wrap(step.step_id, guard(_prepared(step), docs, self.ctx))
        if seg.stage is not None:
            docs = self.clock.wrap(f"{seg.stage.step_id}.collect", _prepared(seg.stage).collect(docs, self.ctx))
            if plan.replays_input(segment + 1):
                for _ in docs:  # the next segment reads the input again
                    pass
            else:
                for doc in docs:
                    self.sink.write(document_record(doc))
        elif without_text or not plan.keep_text:
            self.source.write_kept_without_text(docs, self.stats, self.sink)
        else:
            for doc in docs:
                self.stats.observe_kept(doc.text, doc.metadata.get("language"))
                self.sink.write(document_record(doc))

    def _documents(self, without_text: bool) -> Iterator[Document]:
        """The segment's documents: the input (counted and rejected here on the first
        segment), the input again (already counted), or the previous stage's spill."""
        plan, segment = self.plan, self.segment
        replay = plan.replays_input(segment)
        if segment > 0 and not replay:
            for path in list_shards(plan.spill_dir(segment - 1)):
                if path.name.startswith(f"{self.task.index:05d}-"):
                    for record in read_shard(path):
                        yield Document(record["id"], record["text"], record["metadata"])
            return
        items = (self.source.replay_without_text(plan.sidecar_dir) if without_text else None) or self.source.documents()
        count, limit = 0, self.max_docs
        for item in items:
            if limit is not None and count >= limit:
                return
            if replay:  # the first segment already counted and rejected everything read
                if isinstance(item, BadRecord):
                    count += item.doc is not None
                    continue
                count += 1
                yield item
                continue
            counted, doc = self.admit(item)
            count += counted
            if doc is not None:
                yield doc


def _without_gc(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` with cyclic GC paused: a dedup stage's bulk first pass or apply, which
    makes no reference cycles (:mod:`tamis.gcpause`)."""
    with gc_paused():
        return fn(*args)


def _first_attempt(plan: RunPlan, marker_name: str) -> bool:
    """Whether no earlier attempt of this task can have left files: its attempt sentinel is
    created now and was not there. Listing the run's folders to clean each task cost every task
    the whole run's file count (quadratic in the tasks); a first attempt has nothing to clean."""
    return plan.attempt_sentinels and mark_first_attempt(plan.root, marker_name)


def run_segment_task(plan: RunPlan, segment: int, task: InputTask, max_docs: int | None = None) -> dict[str, Any]:
    """Run one task of one segment to completion and write its marker; returns its stats."""
    started, cpu_started = time.perf_counter_ns(), time.thread_time_ns()
    marker_name = segment_marker_name(segment, task.index)
    if not _first_attempt(plan, marker_name):
        _clean_task_outputs(plan, segment, task.index)
    staged = staging.before_segment_task(plan, segment, task.index)
    work = _Task(plan, segment, task, max_docs)
    try:
        counts = functools.partial(_progress_counts, work, segment)
        with reporting(plan.root, segment_marker_name(segment, task.index), counts, plan.progress):
            work.run()
        work.sink.close()
        work.rejects.close()
    except InputError as exc:
        work.sink.abort()
        work.rejects.abort()
        raise TaskError(str(exc)) from exc
    except BaseException:
        work.sink.abort()
        work.rejects.abort()
        raise
    if work.errors:
        blob = b"".join(orjson.dumps(e) + b"\n" for e in work.errors)
        write_bytes_atomic(plan.root / "errors" / f"seg{segment}-task{task.index:05d}.jsonl", blob)
    wall, cpu = time.perf_counter_ns() - started, time.thread_time_ns() - cpu_started
    consumer = "write" if work.seg.stage is None else f"spill {segment}"
    result = {"stats": work.stats.to_dict(), "errors": len(work.errors), "seconds": wall / 1e9, "steps": work.clock.rows(consumer, wall, cpu)}
    staging.commit_segment_task(plan, segment, task.index, marker_name, result, staged)
    attempt_sentinel(plan.root, marker_name).unlink(missing_ok=True)  # after the marker: a redo finds one or the other
    return result


def _progress_counts(work: _Task, segment: int) -> tuple[int, int]:
    """Documents and bytes a task has handled so far: read (first segment), or taken from
    its source (the documents the first timed level, the source, has yielded)."""
    stats = work.stats
    if segment == 0:
        return stats.read, stats.bytes_in
    levels = getattr(work.clock, "_levels", None) or []
    done = stats.kept + sum(stats.rejected.values())
    return max(done, levels[0].out if levels else 0), stats.bytes_out + sum(stats.rejected_bytes.values())


def run_pass_task(plan: RunPlan, marker_name: str, fn: Any) -> dict[str, Any]:
    started = time.perf_counter()
    staged = staging.before_pass(plan)
    staging.localize(plan, fn)()
    result = {"seconds": time.perf_counter() - started}
    staging.commit_pass(plan, marker_name, result, staged)
    return result
