"""The per-document time budget of a step: the last line of defence against a stalled run.

Every pattern and loop in tamis is linear in its input (tests/test_hostile.py), so no document
should come near the budget; this is for what nobody foresaw (a library's quadratic corner, a
user's own step). A step gets ``max_doc_seconds`` (30 s by default) of its own CPU time for each
document: the time it spends pulling its input (which is the upstream steps' work) does not
count, and neither does the machine's load (a wall-clock budget would cut different documents
on a busy machine than on an idle one, and runs must be identical). A document that runs past it is rejected with ``<step id>:timeout``, listed in
``errors.jsonl``, and the step goes on with the next document.

How: ``signal.setitimer(ITIMER_PROF)`` ticks every ``interval`` seconds of the process's CPU
time while a guarded step exists (a sixteenth of the smallest budget, at most 1 s, at least
1 ms), and the ``SIGPROF`` handler takes one tick from the running step's budget, raising
:class:`StepTimeout` inside it once the budget has run out. Python runs signal handlers between
bytecodes, and the regular-expression engine checks for signals while it matches, so a
backtracking pattern is cut too; a call into other C code that never returns to Python is cut
when it does. The exception ends the step's generator, so the step is started again on the
rest of its input (steps keep no state between documents that matters to their verdicts).

Arming a budget per document is one store into :data:`_BUDGET` (``left``: seconds, ``INF``
while no guarded step's own code runs), not a system call: steps hand over thousands of
documents a second, and two ``setitimer`` calls a hand-over cost more than the rest of the
watchdog. The handler only subtracts a tick once a whole tick has passed since arming (it
fires when ``left`` is already spent, before subtracting), so a step is never cut before its
budget: it is cut between ``max_doc_seconds`` and ``max_doc_seconds`` + 2 ticks.

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


INF = float("inf")
MAX_TICK_S = 1.0
MIN_TICK_S = 0.001
TICKS_PER_BUDGET = 16


class _Budget:
    """The process's CPU-time ticks and what is left of the running step's budget."""

    __slots__ = ("guards", "installed", "interval", "left")

    def __init__(self) -> None:
        self.left = INF  # seconds left to the step whose own code runs now; INF: none is armed
        self.interval = 0.0  # seconds of CPU between ticks; 0: not ticking
        self.guards = 0  # guarded steps alive (the ticks stop with the last one)
        self.installed: bool | None = None  # None: not tried yet

    def available(self) -> bool:
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            return False
        if self.installed is None:
            current = signal.getsignal(signal.SIGPROF)
            self.installed = current in (signal.SIG_DFL, signal.SIG_IGN, None) or current == _on_tick
            if self.installed:
                signal.signal(signal.SIGPROF, _on_tick)
        return self.installed

    def enter(self, seconds: float) -> None:
        """A guarded step starts: tick at least sixteen times per its budget."""
        self.guards += 1
        interval = min(MAX_TICK_S, max(MIN_TICK_S, seconds / TICKS_PER_BUDGET))
        if not self.interval or interval < self.interval:
            self.interval = interval
            signal.setitimer(signal.ITIMER_PROF, interval, interval)

    def leave(self) -> None:
        self.guards -= 1
        if self.guards <= 0:
            self.guards, self.interval, self.left = 0, 0.0, INF
            signal.setitimer(signal.ITIMER_PROF, 0)


_BUDGET = _Budget()


def _on_tick(signum: int, frame: Any) -> None:
    budget = _BUDGET
    left = budget.left
    if left <= 0:  # a whole budget has passed since arming (INF: nobody armed, never spent)
        budget.left = INF
        raise StepTimeout
    budget.left = left - budget.interval


class _Feeder:
    """The step's input: pauses the step's budget while upstream work runs, restarts it whole
    for each new document, and remembers which document the step is on."""

    __slots__ = ("current", "seconds", "source")

    def __init__(self, source: Iterator[Document], seconds: float) -> None:
        self.source = source
        self.seconds = seconds
        self.current: Document | None = None

    def __iter__(self) -> _Feeder:
        return self

    def __next__(self) -> Document:
        budget = _BUDGET
        budget.left = INF
        self.current = None
        doc = next(self.source)  # StopIteration ends the step's input
        self.current = doc
        budget.left = self.seconds
        return doc


def guard(step: Step, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
    """``step.run(docs, ctx)``, with each document held to ``step.max_doc_seconds``."""
    seconds = step.max_doc_seconds
    if not seconds or seconds <= 0 or step.times_itself or not _BUDGET.available():
        return step.run(docs, ctx)
    return _guarded(step, iter(docs), ctx, float(seconds))


def _guarded(step: Step, source: Iterator[Document], ctx: TaskContext, seconds: float) -> Iterator[Document]:
    budget = _BUDGET
    feeder = _Feeder(source, seconds)
    budget.enter(seconds)
    try:
        while True:
            out = step.run(feeder, ctx)
            pull = out.__next__
            try:
                while True:
                    budget.left = seconds
                    try:
                        doc = pull()
                    finally:
                        budget.left = INF  # disarmed: a tick already pending is then ignored
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
    finally:
        budget.leave()


def _reject_timeout(step: Step, doc: Document, ctx: TaskContext, seconds: float) -> None:
    reason = f"{step.step_id}:timeout"
    message = f"{step.step_id} spent more than max_doc_seconds={seconds:g} s on this document"
    source = doc.metadata.get("source") or {}
    ctx.errors.append({"path": source.get("path"), "line": source.get("line"), "reason": reason, "message": message, "id": doc.id})
    ctx.reject(doc, reason, detail=message)
