"""The per-step times of stats.json (tamis.executors.timing.StepClock)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from tamis.executors.timing import StepClock, _Level


def _spin(seconds: float) -> None:
    """Burn this thread's CPU for ``seconds``."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def _busy(items: Iterable[int], seconds: float) -> Iterator[int]:
    for item in items:
        _spin(seconds)
        yield item


def _levels(clock: StepClock, values: list[tuple[str, int, int, int, int]]) -> None:
    """Levels as a finished chain leaves them: (name, wall, sampled CPU, sampled wall, out)."""
    for name, wall_ns, cpu_ns, sampled_ns, out in values:
        level = _Level(name)
        level.wall_ns, level.cpu_ns, level.sampled_wall_ns, level.out = wall_ns, cpu_ns, sampled_ns, out
        clock._levels.append(level)


def test_a_small_step_over_a_large_one_keeps_its_share() -> None:
    # The level below ran at 0.50 CPU per wall second in its sampled calls, the small step's
    # level at 0.45 (other calls, the same load): the difference of the two estimates is
    # negative (0.4725 - 0.50 s) and read as 0; the small step's own wall time says 0.05 s.
    clock = StepClock()
    _levels(clock, [("big", 1_000_000_000, 50_000_000, 100_000_000, 10), ("small", 1_050_000_000, 45_000_000, 100_000_000, 10)])
    rows = {row["step"]: row for row in clock.rows()}
    assert rows["small"]["wall_s"] == 0.05
    assert 0.015 < rows["small"]["cpu_s"] < 0.03
    # the steps add up to the outermost level's estimate (its wall time at its own ratio)
    assert abs(rows["big"]["cpu_s"] + rows["small"]["cpu_s"] - 0.4725) < 1e-6


def test_unsampled_levels_count_their_wall_time() -> None:
    clock = StepClock()
    _levels(clock, [("a", 2_000_000, 0, 0, 3), ("b", 3_000_000, 0, 0, 2)])
    rows = clock.rows("write", 4_000_000, 4_000_000)
    assert [(r["step"], r["docs_in"], r["docs_out"], r["cpu_s"]) for r in rows] == [("a", 3, 3, 0.002), ("b", 3, 2, 0.001), ("write", 2, 2, 0.001)]


def test_measured_chain_gives_every_step_its_own_cpu() -> None:
    # Three steps spending 1, 3 and 0.5 ms of CPU per item: each row's CPU follows its own
    # work (sampled calls), none is clipped to zero, and with the task's totals the rows add up.
    clock = StepClock()
    wall0, cpu0 = time.perf_counter_ns(), time.thread_time_ns()
    docs: Iterable[int] = clock.wrap("source", iter(range(200)))
    for name, seconds in (("one", 0.001), ("three", 0.003), ("half", 0.0005)):
        docs = clock.wrap(name, _busy(docs, seconds))
    assert sum(1 for _ in docs) == 200
    wall, cpu = time.perf_counter_ns() - wall0, time.thread_time_ns() - cpu0
    rows = {row["step"]: row for row in clock.rows("write", wall, cpu)}
    assert list(rows) == ["source", "one", "three", "half", "write"]
    for name in ("one", "three", "half"):
        assert rows[name]["cpu_s"] > 0, rows
        # a loaded machine stretches wall time; the ratio stays within the cap
        assert rows[name]["cpu_s"] <= rows[name]["wall_s"] * 1.5 + 1e-6
    assert rows["three"]["cpu_s"] > rows["half"]["cpu_s"]
    assert abs(sum(row["cpu_s"] for row in rows.values()) - cpu / 1e9) < 2e-3  # rows are rounded to microseconds
