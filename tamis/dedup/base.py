"""Global stages: steps that need to see the whole corpus before they can decide.

A stage runs in three moves the executor knows how to schedule:

1. ``collect(docs, ctx)`` — per input task, in parallel: look at each document that reaches
   the stage (hash it, sign it) and write compact per-task files under ``ctx.scratch_dir``.
   The documents themselves are spilled by the executor, unchanged.
2. ``global_passes(scratch, n_tasks)`` — a generator of *rounds*; each round is a list of
   independent :class:`PassTask` s (buckets, partitions, clustering rounds ...) that the
   executor runs in parallel, with a barrier between rounds. A generator may look at what
   the previous round wrote before it yields the next (e.g. until clusters converge).
3. ``apply(docs, ctx)`` — per task again: read the decisions for this task and reject or
   annotate documents.

Most stages decide by position: document *i* of a task is rejected (reason, detail, keeper)
or annotated (metadata added), the others pass unchanged. Such a stage implements only
:meth:`GlobalStage.decisions`; the base class applies them with one loop, and an input
source or output that can do better with positions (write the kept records in bulk without
decoding them) is handed the :class:`Decisions` themselves. A stage that changes documents
(line dedup) overrides ``apply`` and returns None from ``decisions``.

A stage whose collect needs only ``(id, normalized_utf8(text))`` per document (exact document
dedup) also offers :meth:`GlobalStage.key_collector`; when such a stage is the first step, an
input source with a fast path (the compiled JSONL scanner) feeds it without building documents.

Scratch lives under ``OUT/dedup/<config fingerprint>/<stage>/``, so a changed config never
reads stale files. Every ``PassTask`` has a stable name, which is also its completion marker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tamis.document import Document
from tamis.errors import TaskError
from tamis.steps.base import Step, TaskContext


@dataclass(frozen=True)
class PassTask:
    """One independent unit of a global round. ``fn`` must be picklable (a module-level
    function or a ``functools.partial`` of one) because it may run in another process or
    on another machine."""

    name: str
    fn: Callable[[], Any]


class KeyCollector(Protocol):
    """Takes what a key-only collect needs, in input order, many documents at a time."""

    def add_many(self, doc_ids: list[str], keys: list[bytes]) -> None: ...

    def close(self) -> None:
        """Write the task's files (called once, after the last document)."""


@dataclass
class TextRewrite:
    """A text change applied with a stage's decisions (the fused stage's ``normalize``): ``fn``
    on the text of every document at a position in ``changed``, counted as a modification by
    ``step_id`` where it changes it. ``changed`` holds the positions whose text the first pass
    saw ``fn`` change (every other text is left as it is, so a last pass can copy those
    documents as they were read); None: not known, ``fn`` runs on every document."""

    step_id: str
    fn: Callable[[str], str]
    changed: frozenset[int] | None = None

    def touches(self, position: int) -> bool:
        """Whether the document at ``position`` may come out of :meth:`apply` changed."""
        return self.changed is None or position in self.changed

    def apply(self, doc: Document, position: int, ctx: TaskContext) -> None:
        if not self.touches(position):
            return
        text = doc.text
        new_text = self.fn(text)
        if new_text is not text and new_text != text:
            doc.text = new_text
            ctx.modified(self.step_id)


@dataclass
class Decisions:
    """A stage's decisions for one task, by position in the task: ``rejects[i] = (reason,
    detail, duplicate_of)``, ``annotations[i]`` = metadata to add; any other position is kept
    unchanged but for ``rewrite``, applied to every document (rejected ones too) first."""

    rejects: dict[int, tuple[str, str | None, str | None]] = field(default_factory=dict)
    annotations: dict[int, dict[str, Any]] = field(default_factory=dict)
    rewrite: TextRewrite | None = None

    def check(self, n_documents: int, task: int) -> None:
        """Decisions about positions past the task's end mean the files do not match."""
        last = max(max(self.rejects, default=-1), max(self.annotations, default=-1))
        if last >= n_documents:
            msg = f"task {task}: a decision for document {last} of {n_documents}: the first pass's files do not match"
            raise TaskError(msg)

    def apply(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        """The one loop that applies decisions to documents in task order."""
        rejects, annotations, rewrite = self.rejects, self.annotations, self.rewrite
        if not rejects and not annotations and rewrite is None:
            yield from docs
            return
        reject = ctx.reject
        for position, doc in enumerate(docs):
            if rewrite is not None:
                rewrite.apply(doc, position, ctx)
            found = rejects.get(position)
            if found is not None:
                reason, detail, keeper = found
                reject(doc, reason, detail=detail, duplicate_of=keeper)
                continue
            extra = annotations.get(position)
            if extra is not None:
                doc.metadata.update(extra)
            yield doc


@dataclass(kw_only=True)
class GlobalStage(Step):
    """Base of steps that need a global view (dedup)."""

    def collect(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        raise NotImplementedError

    def key_collector(self, ctx: TaskContext) -> KeyCollector | None:
        """A collector that does all ``collect`` does when fed each document's id and its
        ``normalized_utf8(text)`` key, or None when the stage needs whole documents (the default)."""
        return None

    def decides_by_position(self) -> bool:
        """Whether :meth:`decisions` says all ``apply`` does (known before the stage runs, so
        a first pass can keep what a positional second pass needs). Such a stage never reads
        the text of the documents it keeps."""
        return False

    def applies_by_position(self) -> bool:
        """Whether ``apply`` is exactly ``decisions(ctx).apply(docs, ctx)`` (a text rewrite
        included): a last pass that only writes what it applies may then hand the decisions to
        the input source, which can write kept records as it read them (JSONL: their bytes)."""
        return self.decides_by_position()

    def decisions(self, ctx: TaskContext) -> Decisions | None:
        """This task's decisions by position (after the global passes), or None when
        ``apply`` must see the documents."""
        return None

    def global_passes(self, scratch: Path, n_tasks: int) -> Iterator[list[PassTask]]:
        raise NotImplementedError

    def apply(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        decided = self.decisions(ctx)
        if decided is None:
            raise NotImplementedError(f"{self.name}: implement decisions() or apply()")
        return decided.apply(docs, ctx)

    def run(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        msg = f"{self.name} is a global stage: run it through an executor, not as a plain step"
        raise TypeError(msg)
