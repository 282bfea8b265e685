"""The report's distributions in plain Python give numpy's bins and weighted counts."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np

from tamis.report.distributions import Bin, _Sample, make_bins


class _Obs:
    def __init__(self, weight: float, outcome: str | None) -> None:
        self.weight, self.outcome = weight, outcome


def _numpy_bins(values: list[float], extra: list[float]) -> list[tuple[float, float, str]]:
    """make_bins as it was written with numpy (the reference)."""
    from tamis.report.distributions import LINEAR_BINS, MAX_INTEGER_BINS, _fmt

    points = np.sort(np.asarray(values, dtype=np.float64))
    if not len(points):
        return []
    lo, hi = float(points[0]), float(points[-1])
    for t in extra:
        lo, hi = min(lo, t), max(hi, t)
    integers = bool(np.all(points == np.floor(points))) and lo == math.floor(lo) and hi == math.floor(hi)
    if integers and hi - lo < MAX_INTEGER_BINS:
        return [(v, v + 1, _fmt(v)) for v in range(int(lo), int(hi) + 1)]
    median = float(points[len(points) // 2])
    p99 = float(points[min(len(points) - 1, int(len(points) * 0.99))])
    if lo >= 0 and hi >= 64 and p99 > 20 * (median + 1):
        bins = [(0, 1, "0")]
        edge = 1
        while edge <= hi:
            bins.append((edge, edge * 2, f"{_fmt(edge)}–{_fmt(edge * 2 - 1)}"))
            edge *= 2
        return bins
    if hi == lo:
        return [(lo, lo, _fmt(lo))]
    if integers:
        step = math.ceil((hi - lo + 1) / LINEAR_BINS)
        return [(a, a + step, f"{_fmt(a)}–{_fmt(a + step - 1)}") for a in range(int(lo), int(hi) + 1, step)]
    width = (hi - lo) / LINEAR_BINS
    return [(lo + i * width, lo + (i + 1) * width, f"{lo + i * width:.3g}–{lo + (i + 1) * width:.3g}") for i in range(LINEAR_BINS)]


def _numpy_counts(weights: list[float], rejected_by: list[str], values: list[float], rows: list[int], bins: list[Bin], passed: str | None) -> list[float]:
    edges = np.array([b.lo for b in bins], dtype=np.float64)
    where = np.clip(np.searchsorted(edges, np.asarray(values, dtype=np.float64), side="right") - 1, 0, len(bins) - 1)
    w = np.array(weights, dtype=np.float64)[np.asarray(rows, dtype=np.int64)]
    if passed is not None:
        w = w * (np.array(rejected_by, dtype=object)[np.asarray(rows, dtype=np.int64)] != passed)
    return np.bincount(where, weights=w, minlength=len(bins)).tolist()


def _values(rng: random.Random, kind: int, n: int) -> list[float]:
    if kind == 0:  # small counts
        return [float(rng.randint(0, 30)) for _ in range(n)]
    if kind == 1:  # long tail
        return [float(int(rng.paretovariate(0.7))) for _ in range(n)]
    if kind == 2:  # ratios
        return [rng.random() for _ in range(n)]
    if kind == 3:  # wide integers
        return [float(rng.randint(-500, 5000)) for _ in range(n)]
    return [rng.choice([0.25, 0.5, 3.0]) for _ in range(n)]  # few values, one may repeat only


def test_bins_and_weighted_counts_match_numpy_on_random_values() -> None:
    rng = random.Random(7)
    steps = ["", "gopher_quality", "c4_quality", "language"]
    for trial in range(300):
        n = rng.randint(1, 400)
        values = _values(rng, trial % 5, n)
        extra = [rng.choice([0.1, 0.5, 10.0, 100.0, -3.0])] if trial % 3 == 0 else []
        bins = make_bins(values, extra)
        assert [(b.lo, b.hi, b.label) for b in bins] == _numpy_bins(values, extra)
        observations = [_Obs(rng.choice([1.0, 2.5, 1 / 3, 7.25]), rng.choice([*steps, None]) or None) for _ in range(n + 5)]
        observations = [_Obs(o.weight, f"{o.outcome}:rule" if o.outcome else None) for o in observations]
        sample = _Sample(observations)  # type: ignore[arg-type]
        rows = rng.sample(range(n + 5), n)
        for passed in (None, "gopher_quality", "language"):
            got = sample.counts(values, rows, bins, passed_step=passed)
            assert got == _numpy_counts(sample.weights, sample.rejected_by, values, rows, bins, passed)
            assert sample.before_after(values, rows, bins, passed) == (_numpy_counts(sample.weights, sample.rejected_by, values, rows, bins, None), got)


def test_values_below_and_above_every_bin_fall_in_the_first_and_last() -> None:
    bins = [Bin(0, 1, "0"), Bin(1, 2, "1"), Bin(2, 4, "2–3")]
    sample = _Sample([_Obs(1.0, None), _Obs(2.0, "c4:x"), _Obs(4.0, None)])  # type: ignore[arg-type]
    assert sample.counts([-5.0, 1.5, 99.0], [0, 1, 2], bins) == [1.0, 2.0, 4.0]
    assert sample.counts([-5.0, 1.5, 99.0], [0, 1, 2], bins, passed_step="c4") == [1.0, 0.0, 4.0]


def test_signal_distributions_leave_out_non_finite_values() -> None:
    """A signal holding inf or nan is drawn from its finite values and their documents only,
    as it would be without those documents' value; a sum that alone overflows changes nothing."""
    from tamis.report.distributions import signal_distributions
    from tamis.report.sample import Findings, Observation

    def findings(values: list[object]) -> Findings:
        observations = [Observation({"q": {"x": v, "flag": True}}, None, None if i % 3 else "q:x") for i, v in enumerate(values)]
        return Findings(observations, 0, 0, Counter(), Counter(), {}, {}, [], Counter(), Counter())

    def drawn(values: list[object]) -> tuple[object, ...]:
        (dist,) = signal_distributions(findings(values), {}, ["q"])
        return dist.sampled_docs, [(b.lo, b.hi) for b in dist.bins], dist.before, dist.after

    rng = random.Random(3)
    finite = [rng.choice([rng.random() * 50, rng.randrange(30)]) for _ in range(200)]
    with_bad = list(finite)
    for at, bad in ((5, math.inf), (50, math.nan), (120, -math.inf)):
        with_bad[at] = bad
    expected = drawn([v if i not in (5, 50, 120) else None for i, v in enumerate(with_bad)])  # None: not a number, not drawn
    assert drawn(with_bad) == expected and expected[0] == 197
    huge = [1.5e308, 1.6e308, 1.0, 2.0]  # finite values whose sum overflows
    assert drawn(huge)[0] == 4


def _random_signals(rng: random.Random, n: int) -> list[dict[str, object]]:
    """Rows of {step: {signal: value}} with every kind of value the report meets or must skip."""
    kinds = [
        lambda: rng.random() * 100,
        lambda: rng.randint(-50, 10**6),
        lambda: float(rng.randint(0, 9)),
        lambda: rng.choice([True, False]),
        lambda: rng.choice(["0.5", None, [1.0], {"x": 1}]),
        lambda: rng.choice([math.inf, -math.inf, math.nan, 0.0, -0.0, 2**60, -(2**63)]),
    ]
    rows: list[dict[str, object]] = []
    for _ in range(n):
        row: dict[str, object] = {}
        for step in rng.sample(["gopher_quality", "c4_quality", "fineweb_quality", "language"], rng.randint(0, 4)):
            if rng.random() < 0.05:
                row[step] = rng.choice([None, 3.0, "text", [1, 2]])  # not a signals table
                continue
            row[step] = {name: rng.choice(kinds)() for name in rng.sample(["words", "ratio", "lines", "x", "flag"], rng.randint(0, 5))}
        rows.append(row)
    return rows


def test_compiled_grouping_bins_and_counts_equal_their_references() -> None:
    """group_signals, bin_facts and weighted_counts (tamis/_native/report.c) give what their
    Python references give, value for value (floats compared by their bits: -0.0 is not 0.0)."""
    from tamis._native import _report
    from tamis.report.distributions import _group_signals, bin_facts_reference, group_signals_reference

    def bits(values: object) -> list[str]:
        return [float(v).hex() for v in values]  # type: ignore[attr-defined]

    rng = random.Random(11)
    steps = ["", "gopher_quality", "c4_quality", "language"]
    for trial in range(150):
        n = rng.randint(0, 300)
        signals = _random_signals(rng, n)
        expected = group_signals_reference(signals)
        found = _report.group_signals(signals)
        assert found is not None
        got = {key: (memoryview(v).cast("d"), memoryview(r).cast("i")) for key, (v, r) in found.items()}
        assert got.keys() == expected.keys()
        observations = [_Obs(rng.choice([1.0, 2.5, 1 / 3, 7.25]), f"{rng.choice(steps)}:rule" if rng.random() < 0.7 else None) for _ in range(n)]
        sample = _Sample(observations)  # type: ignore[arg-type]
        for key, (values, rows) in expected.items():
            native_values, native_rows = got[key]
            assert bits(native_values) == bits(values) and native_rows.tolist() == rows
            facts = _report.bin_facts(native_values)
            assert bits(facts[:4]) == bits(bin_facts_reference(values)[:4]) and facts[4] == bin_facts_reference(values)[4]
            extra = [rng.choice([0.1, 0.5, 10.0, -3.0])] if trial % 2 else []
            bins = make_bins(native_values, extra)
            assert [(b.lo, b.hi, b.label) for b in bins] == [(b.lo, b.hi, b.label) for b in make_bins(values, extra)]
            for passed in (None, "gopher_quality", key[0]):
                assert sample.before_after(native_values, native_rows, bins, passed) == sample.before_after_reference(values, rows, bins, passed)
        assert _group_signals(observations=[_Sig(s) for s in signals]).keys() == expected.keys()  # type: ignore[arg-type]


class _Sig:
    def __init__(self, signals: dict[str, object]) -> None:
        self.signals = signals


def test_compiled_grouping_leaves_odd_inputs_to_the_reference() -> None:
    """A dict subclass or an integer past a double's range: the compiled loop answers None and
    the reference runs (which raises on the integer, as the report always did)."""
    from tamis._native import _report

    class Table(dict):  # type: ignore[type-arg]
        pass

    assert _report.group_signals([{"q": Table(x=1.0)}]) is None
    assert _report.group_signals([Table(q={"x": 1.0})]) is None
    assert _report.group_signals([{"q": {"x": 10**400}}]) is None
    assert _report.group_signals(({"q": {"x": 1.0}},)) is None  # not a list
    found = _report.group_signals([{"q": {"x": 1.0}}, {"q": {"x": 2, "y": True}}])
    assert {k: (memoryview(v).cast("d").tolist(), memoryview(r).cast("i").tolist()) for k, (v, r) in found.items()} == {("q", "x"): ([1.0, 2.0], [0, 1])}
