"""The work of one task, the same whichever executor runs it.

A task function reads its source (input files for the first segment, the previous stage's
spill otherwise), applies the previous stage's decisions, runs the segment's steps, and
writes either the next stage's spill or the final output shards, plus its rejects and input
errors. Its completion marker is written last, atomically, with the task's counters: a task
with a marker is finished; any other task is redone from scratch on ``--resume``.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from tamis.dedup.base import KeyCollector
from tamis.document import Document
from tamis.errors import InputError, TaskError
from tamis.executors import staging
from tamis.io.atomic import write_bytes_atomic
from tamis.io.jsonl_fast import (
    UNKNOWN,
    LazyTextDocument,
    SidecarReader,
    TextlessSidecar,
    declined_line,
    has_jsonl_scanner,
    is_seekable,
    jsonl_blocks,
    line_metadata,
    read_sidecar,
    scan_block,
    scan_jsonl_textless,
)
from tamis.io.readers import BadRecord, InputTask, ReaderOptions, ReadResult, derived_id, read_task
from tamis.io.runfiles import iter_shard
from tamis.io.writers import ShardWriter, document_record, dumps
from tamis.pipeline import Segment
from tamis.stats import TaskStats
from tamis.steps.base import Step, TaskContext
from tamis.text import count_words, normalized_utf8, utf8_length


@dataclass
class RunPlan:
    """Everything a worker needs, picklable (steps are dataclasses)."""

    run_dir: str
    fingerprint: str
    segments: list[Segment]
    reader: ReaderOptions
    fmt: str
    compression: str
    compression_level: int | None
    shard_bytes: int
    strict: bool
    keep_text: bool = True
    # A run directory on an object store: its URL (``run_dir`` is then this machine's
    # staging copy) and the --storage-option values, which never leave memory.
    remote: str | None = None
    storage_options: dict[str, Any] = field(default_factory=dict, repr=False)
    session: str | None = None  # this driver's token in its staging folder (tamis.io.remote_run)

    def replays_input(self, segment: int) -> bool:
        """Segment ``segment`` re-reads the input instead of a spill.

        When a stage is the first step, the documents it saw are exactly what the reader
        yields, so reading the input again is cheaper than writing and reading a spill.
        """
        return segment == 1 and not self.segments[0].steps

    @property
    def root(self) -> Path:
        if self.remote is not None:  # each machine stages a store's run in a folder of its own
            from tamis.io.remote_run import staging_dir

            return staging_dir(self.remote)
        return Path(self.run_dir)

    @property
    def dedup_dir(self) -> Path:
        return self.root / "dedup" / self.fingerprint

    def stage_dir(self, segment: int) -> Path:
        stage = self.segments[segment].stage
        assert stage is not None
        return self.dedup_dir / f"stage{segment}-{stage.step_id}"

    def spill_dir(self, segment: int) -> Path:
        return self.dedup_dir / f"spill{segment}"

    @property
    def sidecar_dir(self) -> Path:
        return self.dedup_dir / "textless"

    def textless_replay(self) -> bool:
        """Nothing reads the text of a document the second segment keeps: the first segment's
        stage decides from what it collected, the second segment has no steps of its own,
        and the output has no text. Texts are then decoded only for rejected documents."""
        if len(self.segments) < 2 or self.keep_text or not self.replays_input(1):
            return False
        stage, last = self.segments[0].stage, self.segments[1]
        return stage is not None and not stage.apply_reads_kept_text() and not last.steps and last.stage is None

    def marker(self, name: str) -> Path:
        return self.root / "_markers" / f"{name}.json"


def segment_marker_name(segment: int, task: int) -> str:
    return f"seg{segment}-task{task:05d}"


_PREPARED: dict[bytes, Step] = {}


def _prepared(step: Step) -> Step:
    """One set-up instance per process for each distinct step config (models load once)."""
    key = orjson.dumps({"cls": type(step).__qualname__, **step.params()}, default=str, option=orjson.OPT_SORT_KEYS)
    cached = _PREPARED.get(key)
    if cached is None:
        step.setup()
        cached = _PREPARED[key] = step
    return cached


def _clean_task_outputs(plan: RunPlan, segment: int, task: int) -> None:
    """A redone task starts from nothing: remove whatever an earlier attempt left."""
    patterns = [str(plan.root / "rejects" / f"part-{task:05d}-s{segment}-*"), str(plan.root / "errors" / f"seg{segment}-task{task:05d}.jsonl*")]
    if plan.segments[segment].stage is not None:
        patterns.append(str(plan.spill_dir(segment) / f"{task:05d}-*"))
        patterns.append(str(plan.sidecar_dir / f"{task:05d}.*"))
        patterns.append(str(plan.stage_dir(segment) / f"*-{task:05d}.*"))
    else:
        patterns.append(str(plan.root / "output" / f"part-{task:05d}-*"))
    for pattern in patterns:
        for path in glob.glob(pattern):
            os.unlink(path)


def _read_source(
    plan: RunPlan,
    segment: int,
    task: InputTask,
    ctx: TaskContext,
    errors: list[dict[str, Any]],
    max_docs: int | None,
    *,
    textless: bool = False,
) -> Iterator[Document]:
    replay = plan.replays_input(segment)
    if segment > 0 and not replay:
        yield from read_spill(plan.spill_dir(segment - 1), task.index)
        return
    count = 0
    items = scan_jsonl_textless(task, plan.reader) if textless else read_task(task, plan.reader)
    for item in items:
        if max_docs is not None and count >= max_docs:
            return
        if replay:  # the first segment already counted and rejected everything read
            if isinstance(item, BadRecord):
                count += item.doc is not None
                continue
            count += 1
            yield item
            continue
        counted, doc = _admit(plan, item, ctx, errors)
        count += counted
        if doc is not None:
            yield doc


def _admit(plan: RunPlan, item: ReadResult, ctx: TaskContext, errors: list[dict[str, Any]]) -> tuple[bool, Document | None]:
    """Count one reader result of the first segment: a good document is returned to go on;
    a bad record is listed in the errors and, when it holds a record, rejected whole.
    Returns (whether it counts as a record read, the document to go on with)."""
    if isinstance(item, BadRecord):
        err = item.error
        errors.append({"path": err.path, "line": err.line, "reason": err.reason, "message": err.message, "id": item.doc.id if item.doc else None})
        if plan.strict:
            raise TaskError(f"input error (--strict): {err}")
        if item.doc is None:
            return False, None
        ctx.stats.observe_read(item.doc.text)
        ctx.reject(item.doc, err.reason, detail=err.message)
        return True, None
    ctx.stats.observe_read(item.text)
    return True, item


def _collect_keys(
    plan: RunPlan, task: InputTask, ctx: TaskContext, errors: list[dict[str, Any]], collector: KeyCollector, sidecar: TextlessSidecar | None
) -> None:
    """A first segment whose only work is a key-only stage: the compiled scanner frames and
    hashes a block of lines at a time; the lines it declines are read, counted and rejected
    exactly as :func:`_read_source` does. With a sidecar, each document's output line
    without text is kept for the second segment too."""
    path, options, stats = task.files[0], plan.reader, ctx.stats
    path_json = orjson.dumps(path) if sidecar is not None else None
    for block in jsonl_blocks(task, options):
        if isinstance(block, BadRecord):
            _admit(plan, block, ctx, errors)
            continue
        _, numbers, ids, keys, lines = scan_block(block, options, fold=True, path_json=path_json)
        scanned = numbers[:, 3] >= 0
        stats.observe_read_many(numbers[scanned, 3].tolist(), numbers[scanned, 4].tolist())
        valid = scanned.copy()
        # (chars, bytes, words, offset in the file, length) of each line, for the sidecar
        table = numbers[:, [3, 4, 5, 1, 2]].copy() if sidecar is not None else None
        languages: dict[int, Any] = {}
        for i in [i for i, doc_id in enumerate(ids) if doc_id is None]:
            if scanned[i]:
                ids[i] = derived_id(path, int(numbers[i, 0]))
        for i in np.flatnonzero(~scanned).tolist():
            _, doc = _admit(plan, declined_line(block, numbers[i], path, options), ctx, errors)
            if doc is not None:  # counted by _admit
                valid[i] = True
                ids[i], keys[i] = doc.id, normalized_utf8(doc.text)
                if table is not None:
                    lines[i] = dumps({"id": doc.id, "text": None, "metadata": doc.metadata})
                    table[i, :3] = (len(doc.text), utf8_length(doc.text), count_words(doc.text))
                    languages[i] = doc.metadata.get("language")
        if table is not None:
            for i in [i for i, line in enumerate(lines) if line is None and scanned[i]]:
                line_no, start, length, _, _, _, text_start, text_end = numbers[i].tolist()  # a record the scanner could not copy
                raw = block.data[start : start + length]
                metadata = line_metadata(raw, text_start, text_end, {"path": path, "line": line_no}, options)
                lines[i] = dumps({"id": ids[i], "text": None, "metadata": metadata})
                languages[i] = metadata.get("language")
        if valid.all():
            collector.add_many(ids, keys)
        else:
            collector.add_many([d for d, ok in zip(ids, valid, strict=True) if ok], [k for k, ok in zip(keys, valid, strict=True) if ok])
        if sidecar is not None and table is not None:
            assert block.offset is not None
            table[:, 3] += block.offset - block.start
            kept = np.flatnonzero(valid).tolist()
            order = {i: n for n, i in enumerate(kept)}
            named = {order[i]: lang for i, lang in languages.items() if lang is not None and i in order}
            sidecar.add_many([ids[i] for i in kept], [lines[i] for i in kept], table[kept], named)


def read_spill(directory: Path, task: int) -> Iterator[Document]:
    for path in sorted(glob.glob(str(directory / f"{task:05d}-*.jsonl.zst"))):
        for record in iter_shard(Path(path)):
            yield Document(record["id"], record["text"], record["metadata"])


def run_segment_task(plan: RunPlan, segment: int, task: InputTask, max_docs: int | None = None) -> dict[str, Any]:
    """Run one task of one segment to completion and write its marker; returns its stats."""
    started = time.perf_counter()
    _clean_task_outputs(plan, segment, task.index)
    staged = staging.before_segment_task(plan, segment, task.index)
    seg: Segment = plan.segments[segment]
    rejects = ShardWriter(
        plan.root / "rejects",
        f"part-{task.index:05d}-s{segment}",
        fmt=plan.fmt,
        compression=plan.compression,
        level=plan.compression_level,
        max_bytes=plan.shard_bytes,
        rejects=True,
    )
    stats = TaskStats()
    errors: list[dict[str, Any]] = []
    scratch = None
    if seg.stage is not None:
        scratch = plan.stage_dir(segment)
        scratch.mkdir(parents=True, exist_ok=True)
    ctx = TaskContext(task.index, stats=stats, reject_sink=rejects.write, scratch_dir=scratch)
    if seg.stage is not None:
        sink = ShardWriter(plan.spill_dir(segment), f"{task.index:05d}", fmt="jsonl", compression="zstd", level=1, max_bytes=1 << 62)
    else:
        sink = ShardWriter(
            plan.root / "output",
            f"part-{task.index:05d}",
            fmt=plan.fmt,
            compression=plan.compression,
            level=plan.compression_level,
            max_bytes=plan.shard_bytes,
        )
    try:
        collector = None
        if segment == 0 and not seg.steps and seg.stage is not None and task.format == "jsonl" and max_docs is None and has_jsonl_scanner():
            collector = _prepared(seg.stage).key_collector(ctx)
        if collector is not None:
            sidecar = TextlessSidecar(plan.sidecar_dir, task.index) if plan.textless_replay() and is_seekable(task) else None
            _collect_keys(plan, task, ctx, errors, collector, sidecar)
            collector.close()
            if sidecar is not None:
                sidecar.close()
        else:
            _run_documents(plan, segment, task, ctx, stats, rejects, sink, errors, max_docs)
        sink.close()
        rejects.close()
    except InputError as exc:
        sink.abort()
        rejects.abort()
        raise TaskError(str(exc)) from exc
    except BaseException:
        sink.abort()
        rejects.abort()
        raise
    if errors:
        blob = b"".join(orjson.dumps(e) + b"\n" for e in errors)
        write_bytes_atomic(plan.root / "errors" / f"seg{segment}-task{task.index:05d}.jsonl", blob)
    result = {"stats": stats.to_dict(), "errors": len(errors), "seconds": time.perf_counter() - started}
    staging.commit_segment_task(plan, segment, task.index, segment_marker_name(segment, task.index), result, staged)
    return result


def _run_documents(
    plan: RunPlan,
    segment: int,
    task: InputTask,
    ctx: TaskContext,
    stats: TaskStats,
    rejects: ShardWriter,
    sink: ShardWriter,
    errors: list[dict[str, Any]],
    max_docs: int | None,
) -> None:
    """The ordinary flow of a task: documents from the source, through the previous stage's
    decisions and this segment's steps, into the next stage's collect or the output."""
    seg = plan.segments[segment]
    spill = seg.stage is not None and not plan.replays_input(segment + 1)
    previous = _prepared(plan.segments[segment - 1].stage) if segment > 0 else None  # type: ignore[arg-type]
    textless = segment == 1 and plan.textless_replay() and task.format == "jsonl" and has_jsonl_scanner()
    docs: Iterable[Document]
    if textless and TextlessSidecar.exists(plan.sidecar_dir, task.index):
        apply_ctx = TaskContext(task.index, stats=stats, reject_sink=rejects.write, scratch_dir=plan.stage_dir(segment - 1))
        decided = previous.positional_rejects(apply_ctx) if previous is not None and plan.fmt == "jsonl" else None  # type: ignore[attr-defined]
        if decided is not None:
            _write_decided(plan, task, decided, apply_ctx, stats, sink)
            return
        docs = read_sidecar(plan.sidecar_dir, task, plan.reader)
    else:
        docs = _read_source(plan, segment, task, ctx, errors, max_docs, textless=textless)
    if previous is not None:
        apply_ctx = TaskContext(task.index, stats=stats, reject_sink=rejects.write, scratch_dir=plan.stage_dir(segment - 1))
        docs = previous.apply(docs, apply_ctx)  # type: ignore[attr-defined]
    for step in seg.steps:
        docs = _prepared(step).run(docs, ctx)
    if seg.stage is not None:
        docs = _prepared(seg.stage).collect(docs, ctx)
        if spill:
            for doc in docs:
                sink.write(document_record(doc))
        else:
            for _ in docs:
                pass
    elif plan.keep_text:
        for doc in docs:
            stats.observe_kept(doc.text, doc.metadata.get("language"))
            sink.write(document_record(doc))
    else:
        _write_textless(plan, docs, stats, sink)


def _write_decided(
    plan: RunPlan, task: InputTask, decided: dict[int, tuple[str, str | None, str | None]], ctx: TaskContext, stats: TaskStats, sink: ShardWriter
) -> None:
    """The last segment of a run that writes no text, after a stage that rejects by position
    alone: the kept documents are their sidecar lines, written in bulk and counted from the
    sidecar's numbers; only the rejected ones are decoded (they are written whole)."""
    sidecar = SidecarReader(plan.sidecar_dir, task, plan.reader)
    try:
        n = len(sidecar.lines)
        removed = sorted(decided)
        if removed and removed[-1] >= n:
            msg = f"task {task.index}: a decision for document {removed[-1]} of {n}: the first pass's files do not match"
            raise TaskError(msg)
        for position in removed:
            reason, detail, keeper = decided[position]
            ctx.reject(sidecar.document(position), reason, detail=detail, duplicate_of=keeper)
        keep = np.ones(n, dtype=bool)
        keep[removed] = False
        plain = keep.copy()
        for i, language in sidecar.languages.items():
            if keep[i]:
                plain[i] = False
                stats.observe_kept_counts(*sidecar.numbers[i, :3].tolist(), language)
        numbers = sidecar.numbers[plain]
        stats.observe_kept_many(numbers[:, 0].tolist(), numbers[:, 1].tolist(), numbers[:, 2].tolist(), None)
        lines, kept = sidecar.lines, np.flatnonzero(keep).tolist()
        for start in range(0, len(kept), 4096):
            sink.write_lines([lines[i] for i in kept[start : start + 4096]])
    finally:
        sidecar.close()


def _write_textless(plan: RunPlan, docs: Iterable[Document], stats: TaskStats, sink: ShardWriter) -> None:
    """Kept documents without their text. A lazily read document whose output line is known
    is written as that line (lines go out a batch at a time, and are counted at the end)."""
    copy_lines = plan.fmt == "jsonl"
    lines: list[bytes] = []
    counts: list[tuple[int, int, int]] = []
    for doc in docs:
        line = None
        if type(doc) is LazyTextDocument and doc.text_pending:
            language = doc.language
            if language is UNKNOWN:
                language = doc.metadata.get("language")
            line = doc.textless_line if copy_lines else None
            if line is not None and language is None:
                lines.append(line)
                counts.append(doc.counts)
                if len(lines) >= 4096:
                    sink.write_lines(lines)
                    lines = []
                continue
            stats.observe_kept_counts(*doc.counts, language)
        else:
            stats.observe_kept(doc.text, doc.metadata.get("language"))
        if lines:
            sink.write_lines(lines)
            lines = []
        if line is not None:
            sink.write_lines([line])
        else:
            sink.write({"id": doc.id, "text": None, "metadata": doc.metadata})
    if lines:
        sink.write_lines(lines)
    if counts:
        stats.observe_kept_many(*zip(*counts, strict=True), None)


def run_pass_task(plan: RunPlan, marker_name: str, fn: Any) -> dict[str, Any]:
    started = time.perf_counter()
    staged = staging.before_pass(plan)
    fn()
    result = {"seconds": time.perf_counter() - started}
    staging.commit_pass(plan, marker_name, result, staged)
    return result
