"""Per-step time and document counts of one task, for ``stats.json["run"]["steps"]``.

Steps are generators chained one into the next, so the time a step takes is measured as
the time spent inside its ``next()`` (which includes every step upstream of it) minus the
same for the step before it. Wall time is measured on every call (``perf_counter_ns``, tens
of nanoseconds); CPU time costs about a microsecond a reading, so it is read on about one
call in 16, at random gaps (and on the first, where set-up happens). A step's CPU time is its
own exact wall time (its level's minus the level below's) times the CPU/wall ratio of its
level's sampled calls, and the chain's steps are scaled together so that they add up to the
outermost level's estimate (its wall time times its ratio), or, given the task's measured
CPU, with the chain's consumer (writing, spilling: its own wall time at the outermost ratio)
to that CPU less the task's one-call phases. Not the difference of two levels'
estimates: those come from different sampled calls, and under load their noise exceeds a small
step's own time, which then read as 0 (clipped) or as a share of its neighbour's. A fast path
that does a whole phase in one call (the compiled key collect, the bulk apply) is timed as
that one call.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
CPU_SAMPLE_BITS = 5  # CPU read on about one call in 16 (random gaps of 0-31 calls)


class _Level:
    __slots__ = ("cpu_ns", "name", "out", "sampled_wall_ns", "wall_ns")

    def __init__(self, name: str) -> None:
        self.name = name
        self.wall_ns = self.cpu_ns = self.sampled_wall_ns = self.out = 0

    def cpu_ratio(self) -> float:
        """CPU per wall second of the level's sampled calls (1 if none was sampled)."""
        if self.sampled_wall_ns <= 0:
            return 1.0
        return min(1.5, self.cpu_ns / self.sampled_wall_ns)


class StepClock:
    """The chain of one task: :meth:`wrap` each generator in order (the source first), or
    :meth:`call` a phase done in one call; :meth:`rows` gives each step's own share."""

    def __init__(self) -> None:
        self._levels: list[_Level] = []
        self._rows: list[dict[str, Any]] = []

    def wrap(self, name: str, items: Iterable[T]) -> Iterator[T]:
        level = _Level(name)
        self._levels.append(level)
        return self._timed(level, iter(items))

    @staticmethod
    def _timed(level: _Level, it: Iterator[T]) -> Iterator[T]:
        # Counters are locals (written to ``level`` once, at the end): this runs once per
        # document per step, so every attribute access shows.
        wall, cpu, gap, step = time.perf_counter_ns, time.thread_time_ns, random.getrandbits, it.__next__
        wall_ns = cpu_ns = sampled_ns = out = 0
        countdown = 0  # calls until the next CPU reading: the first call is read (set-up happens there)
        try:
            while True:
                if countdown:
                    countdown -= 1
                    w0 = wall()
                    try:
                        item = step()
                    except StopIteration:
                        wall_ns += wall() - w0
                        return
                    wall_ns += wall() - w0
                else:
                    countdown = gap(CPU_SAMPLE_BITS)  # a random gap, mean 2**bits / 2
                    c0, w0 = cpu(), wall()
                    try:
                        item = step()
                    except StopIteration:
                        spent = wall() - w0
                        wall_ns, cpu_ns, sampled_ns = wall_ns + spent, cpu_ns + cpu() - c0, sampled_ns + spent
                        return
                    spent = wall() - w0
                    wall_ns, cpu_ns, sampled_ns = wall_ns + spent, cpu_ns + cpu() - c0, sampled_ns + spent
                out += 1
                yield item
        finally:
            level.wall_ns, level.cpu_ns, level.sampled_wall_ns, level.out = wall_ns, cpu_ns, sampled_ns, out

    def call(self, name: str, fn: Callable[[], T], docs_in: Callable[[], int], docs_out: Callable[[], int]) -> T:
        """A phase done in one call: its own row, outside the chain."""
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        result = fn()
        self._rows.append(_row(name, docs_in(), docs_out(), time.perf_counter_ns() - w0, time.thread_time_ns() - c0))
        return result

    def rows(self, consumer: str = "write", total_wall_ns: int | None = None, total_cpu_ns: int | None = None) -> list[dict[str, Any]]:
        """One row per step: docs in and out, its own wall and CPU seconds. With the task's
        totals, what the chain's consumer took (writing the output or a spill) is a last row
        named ``consumer``."""
        rows = list(self._rows)
        below_wall, docs_in = 0, 0
        # (name, docs in, docs out, own wall, own CPU before scaling: own wall times the level's ratio)
        own: list[tuple[str, int, int, int, float]] = []
        for k, level in enumerate(self._levels):
            own_wall = max(0, level.wall_ns - below_wall)
            own.append((level.name, docs_in if k else level.out, level.out, own_wall, own_wall * level.cpu_ratio()))
            below_wall, docs_in = level.wall_ns, level.out
        if own:
            outer = self._levels[-1]
            chain_cpu = outer.wall_ns * outer.cpu_ratio()
            if total_wall_ns is not None and total_cpu_ns is not None:
                # the consumer's own wall time at the outermost ratio, and the steps with it
                # share what the task measured, less its one-call phases: exact in sum
                consumer_wall = max(0, total_wall_ns - outer.wall_ns - sum(r["wall_ns"] for r in rows))
                own.append((consumer, docs_in, docs_in, consumer_wall, consumer_wall * outer.cpu_ratio()))
                chain_cpu = max(0, total_cpu_ns - sum(r["cpu_ns"] for r in rows))
            unscaled = sum(row[-1] for row in own)
            scale = chain_cpu / unscaled if unscaled > 0 else 0.0
            rows.extend(_row(name, n_in, n_out, wall_ns, cpu * scale) for name, n_in, n_out, wall_ns, cpu in own)
        for row in rows:
            del row["wall_ns"], row["cpu_ns"]
        return rows


def _row(name: str, docs_in: int, docs_out: int, wall_ns: float, cpu_ns: float) -> dict[str, Any]:
    wall_ns = max(0.0, wall_ns)
    cpu_ns = max(0.0, min(cpu_ns, wall_ns * 1.5))  # an estimate: never past what the wall time allows
    return {
        "step": name,
        "docs_in": docs_in,
        "docs_out": docs_out,
        "wall_s": round(wall_ns / 1e9, 6),
        "cpu_s": round(cpu_ns / 1e9, 6),
        "wall_ns": wall_ns,
        "cpu_ns": cpu_ns,
    }


def merge_rows(into: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    """Add one task's rows to the run's (same step names, in order of first appearance)."""
    index = {row["step"]: row for row in into}
    for row in rows:
        found = index.get(row["step"])
        if found is None:
            found = index[row["step"]] = {"step": row["step"], "docs_in": 0, "docs_out": 0, "wall_s": 0.0, "cpu_s": 0.0}
            into.append(found)
        found["docs_in"] += row["docs_in"]
        found["docs_out"] += row["docs_out"]
        found["wall_s"] = round(found["wall_s"] + row["wall_s"], 6)
        found["cpu_s"] = round(found["cpu_s"] + row["cpu_s"], 6)
