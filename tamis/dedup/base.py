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

A stage whose collect needs only ``(id, normalized_utf8(text))`` per document (exact document
dedup) also offers :meth:`GlobalStage.key_collector`; when such a stage is the first step, the
executor may then feed it from the compiled JSONL scanner without building documents.

Scratch lives under ``OUT/dedup/<config fingerprint>/<stage>/``, so a changed config never
reads stale files. Every ``PassTask`` has a stable name, which is also its completion marker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tamis.document import Document
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


@dataclass(kw_only=True)
class GlobalStage(Step):
    """Base of steps that need a global view (dedup)."""

    def collect(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        raise NotImplementedError

    def key_collector(self, ctx: TaskContext) -> KeyCollector | None:
        """A collector that does all ``collect`` does when fed each document's id and its
        ``normalized_utf8(text)`` key, or None when the stage needs whole documents (the default)."""
        return None

    def apply_reads_kept_text(self) -> bool:
        """Whether ``apply`` reads the text of the documents it keeps. A stage that does not
        (it decides from what it collected) lets a run that writes no text (``keep_text:
        false``) skip decoding the texts of kept documents."""
        return True

    def positional_rejects(self, ctx: TaskContext) -> dict[int, tuple[str, str | None, str | None]] | None:
        """For a stage whose ``apply`` only rejects documents by their position in the task
        and leaves the others unchanged: ``{position: (reason, detail, duplicate_of)}``, so
        the executor may apply it without building the kept documents. None (the default):
        ``apply`` must see every document."""
        return None

    def global_passes(self, scratch: Path, n_tasks: int) -> Iterator[list[PassTask]]:
        raise NotImplementedError

    def apply(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        raise NotImplementedError

    def run(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        msg = f"{self.name} is a global stage: run it through an executor, not as a plain step"
        raise TypeError(msg)
