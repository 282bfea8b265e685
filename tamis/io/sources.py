"""Sources: how the documents of one input task are read, with the fast paths a format offers.

Every input format has a source (``FormatSpec.source``; the default, :class:`Source`, reads
with the format's reader). The per-task layer (:mod:`tamis.executors.tasks`) only ever asks a
source, so it never knows about formats. A source always offers :meth:`Source.documents` (the
reference); a format may override the optional fast paths, each of which must produce
exactly what the reference path produces (``tests/test_equivalence.py`` compares them):

* :meth:`Source.collect_keys` — feed a key-only stage (exact document dedup) without building
  documents; may leave, for a later pass that writes no text, what that pass needs;
* :meth:`Source.replay_without_text` — read the task again for a last pass that writes no
  text, after a stage that decides by position: documents whose text is decoded only if a
  decision needs it;
* :meth:`Source.write_decided` — that last pass done in bulk from what ``collect_keys``
  left: kept records written without being built;
* :meth:`Source.write_kept_without_text` — write kept documents without their text (a
  source's lazy documents may know their output line already);
* :meth:`Source.write_decided_texts` — the last pass after a stage that applies by position
  (text output): the task read again, the decisions applied and the kept documents written,
  where the format can, as the bytes they were read as;
* :meth:`Source.stream_first_seen` — exact document dedup in one pass (read, hash, decide,
  write), for runs whose tasks one process reads in order (:mod:`tamis.executors.stream`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tamis.document import Document
from tamis.io.readers import InputTask, ReaderOptions, ReadResult, format_spec, read_task

if TYPE_CHECKING:
    from tamis.dedup.base import Decisions, KeyCollector
    from tamis.dedup.exact import FirstSeen
    from tamis.io.outputs import ShardWriter
    from tamis.stats import TaskStats
    from tamis.steps.base import TaskContext

# Counts one reader result of a first pass (errors, rejects, statistics) and returns the
# document to go on with, or None: (whether it counts as a record read, the document).
Admit = Callable[[ReadResult], "tuple[bool, Document | None]"]


class Source:
    """The documents of one input task, read by the format's reader."""

    def __init__(self, task: InputTask, options: ReaderOptions) -> None:
        self.task = task
        self.options = options

    def documents(self) -> Iterator[ReadResult]:
        return read_task(self.task, self.options)

    def collect_keys(self, collector: KeyCollector, admit: Admit, stats: TaskStats, leave_for: Path | None) -> bool:
        """Feed ``collector`` every document's ``(id, normalized_utf8(text))`` in order,
        passing bad records to ``admit`` and counting read documents in ``stats`` as
        ``admit`` would. With ``leave_for``, also leave there what :meth:`write_decided`
        needs. False: no fast path (the caller builds documents)."""
        return False

    def replay_without_text(self, leave_for: Path) -> Iterator[ReadResult] | None:
        """The task read again, for a pass whose kept documents' texts nobody reads. None:
        no fast path (the caller reads :meth:`documents`)."""
        return None

    def write_decided(self, decisions: Decisions, ctx: TaskContext, leave_for: Path, writer: ShardWriter) -> bool:
        """Apply ``decisions`` and write the kept documents without text, from what
        :meth:`collect_keys` left; rejected documents go to ``ctx.reject`` whole. False: not
        possible here (nothing was left)."""
        return False

    def write_decided_texts(self, decisions: Decisions, ctx: TaskContext, writer: ShardWriter, rejects: ShardWriter, limit: int | None) -> bool:
        """Read the task again (its first ``limit`` records: what the first pass read), apply
        ``decisions`` (their text rewrite included) and write the kept documents whole to
        ``writer`` and the rejected ones to ``rejects`` (what ``decisions.apply`` then writing
        every kept document does, counted the same way).
        False: no fast path (the caller reads :meth:`documents`)."""
        return False

    def streams_first_seen(self) -> bool:
        """Whether :meth:`stream_first_seen` is offered (no: the two passes run)."""
        return False

    def stream_first_seen(
        self, seen: FirstSeen, collector: Any, admit: Admit, read_stats: TaskStats, ctx: TaskContext, writer: ShardWriter, rejects: ShardWriter, reason: str
    ) -> None:
        """Exact document dedup of the task in one pass: what ``collect_keys`` (``collector``,
        ``admit``, ``read_stats``) then ``write_decided_texts`` (``ctx``, ``writer``, ``rejects``) do, with
        each document decided as it is read: kept if its key is not in ``seen`` (then added),
        else rejected with ``reason`` as a duplicate of the keeper ``seen`` names."""
        raise NotImplementedError

    def write_kept_without_text(self, docs: Iterable[Document], stats: TaskStats, writer: ShardWriter) -> None:
        """Write kept documents as records with ``text: null`` and count them as kept."""
        for doc in docs:
            stats.observe_kept(doc.text, doc.metadata.get("language"))
            writer.write({"id": doc.id, "text": None, "metadata": doc.metadata})


def source_for(task: InputTask, options: ReaderOptions) -> Source:
    """The source of ``task``'s format (``FormatSpec.source``: ``"module:Class"``)."""
    spec = format_spec(task.format)  # None: a file that cannot be read under its name (readers.UNREADABLE)
    if spec is None or spec.source is None:
        return Source(task, options)
    module, _, name = spec.source.partition(":")
    cls: Any = getattr(importlib.import_module(module), name)
    return cls(task, options)
