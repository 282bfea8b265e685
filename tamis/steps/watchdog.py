"""The per-document time budget of a step: the last line of defence against a stalled run.

Every pattern and loop in tamis is linear in its input (tests/test_hostile.py), so no document
should come near the budget; this is for what nobody foresaw (a library's quadratic corner, a
user's own step). A step gets ``max_doc_seconds`` (30 s by default) of its own time for each
document: the time it spends pulling its input (which is the upstream steps' work) does not
count. A document that runs past it is rejected with ``<step id>:timeout``, listed in
``errors.jsonl``, and the step goes on with the next document.

How: ``signal.setitimer`` arms a real-time timer while the step's own code runs, and the
``SIGALRM`` handler raises :class:`StepTimeout` inside it. Python runs signal handlers between
bytecodes, and the regular-expression engine checks for signals while it matches, so a
backtracking pattern is cut too; a call into other C code that never returns to Python is cut
when it does. The exception ends the step's generator, so the step is started again on the
rest of its input (steps keep no state between documents that matters to their verdicts).

Where no timer can be used (not the main thread of a process, no ``setitimer`` on the
platform, ``SIGALRM`` already used by the host program), steps run unguarded. A step that
limits its own time per document (``extract``: a child process it kills) sets
``times_itself`` and is not guarded twice.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from tamis.document import Document

if TYPE_CHECKING:
    from tamis.steps.base import Step, TaskContext


class StepTimeout(BaseException):
    """Raised inside a step whose document ran past its budget."""


class _Timer:
    """The process's one real-time timer, owned by at most one guarded step at a time."""

    def __init__(self) -> None:
        self.armed = False
        self.installed: bool | None = None  # None: not tried yet

    def available(self) -> bool:
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            return False
        if self.installed is None:
            current = signal.getsignal(signal.SIGALRM)
            self.installed = current in (signal.SIG_DFL, signal.SIG_IGN, None) or current == _on_alarm
            if self.installed:
                signal.signal(signal.SIGALRM, _on_alarm)
        return self.installed

    def start(self, seconds: float) -> None:
        self.armed = True
        signal.setitimer(signal.ITIMER_REAL, seconds)

    def stop(self) -> None:
        # Disarm before cancelling: a signal already pending is then ignored by the handler.
        self.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)


_TIMER = _Timer()


def _on_alarm(signum: int, frame: Any) -> None:
    if _TIMER.armed:
        _TIMER.armed = False
        raise StepTimeout


class _Feeder:
    """The step's input: pauses the step's clock while upstream work runs, restarts it with a
    whole budget for each new document, and remembers which document the step is on."""

    def __init__(self, source: Iterator[Document], seconds: float) -> None:
        self.source = source
        self.seconds = seconds
        self.current: Document | None = None

    def __iter__(self) -> _Feeder:
        return self

    def __next__(self) -> Document:
        _TIMER.stop()
        self.current = None
        doc = next(self.source)  # StopIteration ends the step's input
        self.current = doc
        _TIMER.start(self.seconds)
        return doc


def guard(step: Step, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
    """``step.run(docs, ctx)``, with each document held to ``step.max_doc_seconds``."""
    seconds = step.max_doc_seconds
    if not seconds or seconds <= 0 or step.times_itself or not _TIMER.available():
        return step.run(docs, ctx)
    return _guarded(step, iter(docs), ctx, float(seconds))


def _guarded(step: Step, source: Iterator[Document], ctx: TaskContext, seconds: float) -> Iterator[Document]:
    feeder = _Feeder(source, seconds)
    while True:
        out = step.run(feeder, ctx)
        try:
            while True:
                _TIMER.start(seconds)
                try:
                    doc = next(out)
                finally:
                    _TIMER.stop()
                yield doc
        except StopIteration:
            return
        except StepTimeout:
            victim = feeder.current
            if victim is None:  # the step's own start-up, not a document, ran out of time
                raise RuntimeError(f"{step.step_id}: ran past max_doc_seconds={seconds:g} before reading a document") from None
            feeder.current = None
            out.close()
            _reject_timeout(step, victim, ctx, seconds)


def _reject_timeout(step: Step, doc: Document, ctx: TaskContext, seconds: float) -> None:
    reason = f"{step.step_id}:timeout"
    message = f"{step.step_id} spent more than max_doc_seconds={seconds:g} s on this document"
    source = doc.metadata.get("source") or {}
    ctx.errors.append({"path": source.get("path"), "line": source.get("line"), "reason": reason, "message": message, "id": doc.id})
    ctx.reject(doc, reason, detail=message)
