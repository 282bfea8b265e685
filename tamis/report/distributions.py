"""Before/after distributions of document length, language score and every recorded signal.

"Before" a step means every document that reached it (it carries the step's signals: the
Filter base class records them before deciding); "after" means those the step let through.
Thresholds come from the resolved config (a numeric parameter named for the signal:
``min_<signal>``, ``max_<signal>``, ``<signal>_min``/``_max``/``_threshold``) and from the
rejects' details (``rule=value (threshold T)``, written by ``Rejection.detail``), so a filter
whose parameter names differ from its signal names still gets its line drawn.

Plain Python lists, not numpy: a run writes its report at the end, and numpy's import (~0.1 s)
would be most of the report's cost on the inputs a report samples (a few thousand documents).
``tests/test_report.py`` compares the bins and counts with numpy's on random values.
"""

from __future__ import annotations

import bisect
import math
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tamis.report.funnel import rule_of, step_of
from tamis.report.sample import Findings, Observation

LINEAR_BINS = 24
MAX_INTEGER_BINS = 40
DETAIL_RE = re.compile(r"^(?P<rule>[\w.]+)=(?P<value>\S+) \(threshold (?P<threshold>[^)]+)\)$")
AFFIXES = ("min_", "max_")
SUFFIXES = ("_min", "_max", "_threshold")


@dataclass
class Bin:
    """One histogram bin: its bounds and counts."""
    lo: float
    hi: float
    label: str


@dataclass
class Distribution:
    """One value's histogram, before and after a step, with its thresholds."""
    title: str
    key: str  # unique, for anchors and tests
    bins: list[Bin]
    before: list[float]
    after: list[float]
    thresholds: list[tuple[float, str]] = field(default_factory=list)
    sampled_docs: int | None = None  # documents read from the shards; None = exact counts from stats.json
    estimated: bool = False  # True when those documents are a sample, weighted to the run's counts
    before_label: str = "before"
    after_label: str = "after"
    note: str = ""
    step: str | None = None  # the step whose signal this is

    @property
    def before_total(self) -> float:
        return sum(self.before)

    @property
    def after_total(self) -> float:
        return sum(self.after)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _fmt(x: float) -> str:
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:.3g}"


def make_bins(values: Sequence[float], extra: Iterable[float] = ()) -> list[Bin]:
    """Bins that suit the values (finite numbers): one per integer for small counts, powers of
    two for long tails (lengths, word counts), equal widths otherwise. Thresholds stay inside
    the range."""
    if not len(values):
        return []
    lo, hi, median, p99, integers = _bin_facts(values)
    for t in extra:
        lo, hi = min(lo, t), max(hi, t)
    integers = integers and lo == math.floor(lo) and hi == math.floor(hi)
    if integers and hi - lo < MAX_INTEGER_BINS:
        return [Bin(v, v + 1, _fmt(v)) for v in range(int(lo), int(hi) + 1)]
    if lo >= 0 and hi >= 64 and p99 > 20 * (median + 1):
        bins = [Bin(0, 1, "0")]
        edge = 1
        while edge <= hi:
            bins.append(Bin(edge, edge * 2, f"{_fmt(edge)}–{_fmt(edge * 2 - 1)}"))
            edge *= 2
        return bins
    if hi == lo:
        return [Bin(lo, lo, _fmt(lo))]
    if integers:
        step = math.ceil((hi - lo + 1) / LINEAR_BINS)
        starts = range(int(lo), int(hi) + 1, step)
        return [Bin(a, a + step, f"{_fmt(a)}–{_fmt(a + step - 1)}") for a in starts]
    width = (hi - lo) / LINEAR_BINS
    return [Bin(lo + i * width, lo + (i + 1) * width, f"{lo + i * width:.3g}–{lo + (i + 1) * width:.3g}") for i in range(LINEAR_BINS)]


def bin_facts_reference(values: Sequence[float]) -> tuple[float, float, float, float, bool]:
    """(lowest, highest, median, 99th percentile, all integers) of ``values`` (one or more
    finite numbers) sorted as ``sorted`` sorts them: what the compiled ``bin_facts`` returns."""
    points = sorted(map(float, values))
    return points[0], points[-1], points[len(points) // 2], points[min(len(points) - 1, int(len(points) * 0.99))], all(map(float.is_integer, points))


def _bin_facts(values: Sequence[float]) -> tuple[float, float, float, float, bool]:
    native = _native()
    if native is not None and isinstance(values, memoryview):  # native doubles (from group_signals)
        return native.bin_facts(values)  # type: ignore[no-any-return]
    return bin_facts_reference(values)


_NATIVE: Any = False  # not looked up yet


def _native() -> Any:
    """``tamis._native._report`` (the per-value loops, compiled), or None where not built."""
    global _NATIVE
    if _NATIVE is False:
        try:
            from tamis._native import _report
        except ImportError:  # pragma: no cover - the extension is built on install
            _report = None
        _NATIVE = _report
    return _NATIVE


def step_params(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Resolved parameters by step id."""
    out: dict[str, dict[str, Any]] = {}
    for entry in config.get("steps") or []:
        if isinstance(entry, dict) and entry.get("step"):
            out[str(entry.get("id") or entry["step"])] = entry
    return out


def _core(name: str) -> str:
    for prefix in AFFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def config_thresholds(params: dict[str, Any], signal: str) -> list[tuple[float, str]]:
    """Numeric parameters that bound ``signal``: named for it (``dup_line_frac``), with a
    bound prefix or suffix (``min_words``, ``min_doc_words``), or a list of ``[n, limit]``
    pairs whose name has ``n`` in it (``top_n_grams`` holds the limit of ``top_2_gram``)."""
    found = []
    for name, value in params.items():
        if name in {"id", "step"}:
            continue
        number = _number(value)
        if number is not None:
            core = _core(name)
            if signal in (name, core) or core.endswith("_" + signal):
                found.append((number, f"{name} = {_fmt(number)}"))
        elif isinstance(value, list) and "_n_" in name:
            for pair in value:
                is_pair = isinstance(pair, list | tuple) and len(pair) == 2 and _number(pair[1]) is not None
                if is_pair and name.replace("_n_", f"_{pair[0]}_").removesuffix("s") == signal:
                    found.append((float(pair[1]), f"{name}[{pair[0]}] = {_fmt(float(pair[1]))}"))
    return found


def detail_thresholds(
    samples: dict[str, list[dict[str, Any]]], step: str, signal: str, details: list[tuple[str, str, str, float]] | None = None
) -> list[tuple[float, str]]:
    """Thresholds of ``signal`` named in the sample rejects' details of ``step``. ``details``:
    :func:`parsed_details` of ``samples``, parsed once for every signal of a report."""
    found: dict[float, str] = {}
    for reason_step, reason_rule, rule, threshold in parsed_details(samples) if details is None else details:
        if reason_step != step:
            continue
        if rule != signal and signal not in reason_rule and rule not in signal:
            continue
        if threshold not in found:
            found[threshold] = f"{_fmt(threshold)} (in rejects' details)"
    return sorted(found.items())


def parsed_details(samples: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str, float]]:
    """(step, rule of the reason, rule named in the detail, threshold) of every sample reject
    whose detail reads ``rule=value (threshold T)`` with a finite T, in sample order."""
    out = []
    for reason, records in samples.items():
        step, reason_rule = step_of(reason), rule_of(reason)
        for record in records:
            match = DETAIL_RE.match(str(record.get("detail") or ""))
            if match:
                threshold = _threshold_number(match["threshold"])
                if threshold is not None:
                    out.append((step, reason_rule, match["rule"], threshold))
    return out


def _threshold_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class _Sample:
    """The sampled documents: weights, and the step that rejected each ('' = kept)."""

    def __init__(self, observations: list[Observation]) -> None:
        self.weights = [float(o.weight) for o in observations]
        steps: dict[str | None, str] = {}  # a reason's step, worked out once per reason
        rejected_by = self.rejected_by = []
        for o in observations:
            step = steps.get(o.outcome)
            if step is None:
                step = steps[o.outcome] = step_of(o.outcome) if o.outcome else ""
            rejected_by.append(step)
        self._weight_bytes: bytes | None = None  # the weights as native doubles, made once
        self._passed: dict[str | None, bytes] = {}  # step -> 1 for each row that step let through

    def before_after(self, values: Sequence[float], rows: Sequence[int], bins: list[Bin], step: str | None) -> tuple[list[float], list[float]]:
        """Weighted documents per bin (the bin whose ``lo`` is the last at or below the value,
        the first for values below all): all of them, and those ``step`` let through (all of
        them where ``step`` is None). Summed in the order of ``values``, as numpy's weighted
        bincount sums. One pass fills both (compiled for the native doubles and int32 rows
        of ``group_signals``; :meth:`before_after_reference` otherwise)."""
        native = _native()
        if native is not None and isinstance(values, memoryview) and isinstance(rows, memoryview) and bins:
            if self._weight_bytes is None:
                self._weight_bytes = array("d", self.weights).tobytes()
            passed = self._passed.get(step)
            if passed is None:
                passed = self._passed[step] = bytes([by != step for by in self.rejected_by])
            return native.weighted_counts(values, rows, [float(b.lo) for b in bins], self._weight_bytes, passed)  # type: ignore[no-any-return]
        return self.before_after_reference(values, rows, bins, step)

    def before_after_reference(self, values: Sequence[float], rows: Sequence[int], bins: list[Bin], step: str | None) -> tuple[list[float], list[float]]:
        """:meth:`before_after` in Python: what the compiled ``weighted_counts`` returns."""
        edges = [float(b.lo) for b in bins]
        before = [0.0] * len(bins)
        after = [0.0] * len(bins)
        weights, rejected_by, find = self.weights, self.rejected_by, bisect.bisect_right
        for value, row in zip(values, rows, strict=True):
            # lo=1: a value below every edge lands in bin 0; bisect never passes len(edges),
            # so the last bin takes everything above
            at = find(edges, value, 1) - 1
            weight = weights[row]
            before[at] += weight
            if rejected_by[row] != step:
                after[at] += weight
        return before, after

    def counts(self, values: Sequence[float], rows: Sequence[int], bins: list[Bin], passed_step: str | None = None) -> list[float]:
        """One of :meth:`before_after`'s lists: all documents, or with ``passed_step`` only
        those that step let through."""
        before, after = self.before_after(values, rows, bins, passed_step)
        return before if passed_step is None else after


def _all_finite(values: list[float]) -> bool:
    """True where every value is finite, seen from their sum (an inf or a nan carries into it);
    False also where only the sum overflows (the caller then checks value by value)."""
    try:
        return math.isfinite(sum(values))
    except OverflowError:
        return False


def group_signals_reference(signals_by_row: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[list[float], list[int]]]:
    """(step, signal) -> (values, rows) of every value whose type is float or int (not bool) and
    that is finite, from each row's ``{step: {signal: value}}``: what the compiled
    ``group_signals`` returns (with native doubles and int32s, as bytes)."""
    # step -> signal -> (values, rows): the step's table looked up once per document
    by_step: dict[str, dict[str, tuple[list[float], list[int]]]] = {}
    for row, by_name in enumerate(signals_by_row):
        for step, signals in by_name.items():
            if not isinstance(signals, dict):
                continue
            table = by_step.get(step)
            if table is None:
                table = by_step[step] = {}
            for name, raw in signals.items():
                kind = type(raw)
                if kind is float or kind is int:  # not bool, not str
                    found = table.get(name)
                    if found is None:  # (setdefault would build two lists per value)
                        found = table[name] = ([], [])
                    found[0].append(raw)
                    found[1].append(row)
    grouped = {}
    for step, table in by_step.items():
        for name, (raw_values, raw_rows) in table.items():
            if _all_finite(raw_values):
                values, rows = list(map(float, raw_values)), raw_rows
            else:
                finite = [k for k, value in enumerate(raw_values) if math.isfinite(value)]
                values = [float(raw_values[k]) for k in finite]
                rows = [raw_rows[k] for k in finite]
            if values:
                grouped[(step, name)] = (values, rows)
    return grouped


def _group_signals(observations: list[Observation]) -> dict[tuple[str, str], tuple[Sequence[float], Sequence[int]]]:
    signals = [o.signals for o in observations]
    native = _native()
    found = native.group_signals(signals) if native is not None else None
    if found is None:  # not built, or an input the compiled loop leaves to the reference
        return group_signals_reference(signals)  # type: ignore[return-value]
    return {key: (memoryview(values).cast("d"), memoryview(rows).cast("i")) for key, (values, rows) in found.items()}


def signal_distributions(findings: Findings, config: dict[str, Any], step_order: list[str]) -> list[Distribution]:
    by_key = _group_signals(findings.observations)
    sample = _Sample(findings.observations)
    params = step_params(config)
    order = {s: i for i, s in enumerate(step_order)}
    details = parsed_details(findings.samples)
    estimated = findings.sampled  # (a walk over every reason: once, not per signal)
    dists = []
    for step, signal in sorted(by_key, key=lambda k: (order.get(k[0], len(order)), str(k[0]), str(k[1]))):
        values, rows = by_key[(step, signal)]
        thresholds = config_thresholds(params.get(step, {}), signal)
        seen = {t for t, _ in thresholds}
        thresholds += [(t, label) for t, label in detail_thresholds(findings.samples, step, signal, details) if t not in seen]
        dists.append(_sampled(f"{step} · {signal}", f"signal-{step}-{signal}", step, values, rows, thresholds, sample, estimated))
    return dists


def _sampled(
    title: str,
    key: str,
    step: str | None,
    values: Sequence[float],
    rows: Sequence[int],
    thresholds: list[tuple[float, str]],
    sample: _Sample,
    estimated: bool,
) -> Distribution:
    """A distribution of values measured on the sampled documents (``rows``): all those that
    reached ``step``, and those that passed it."""
    bins = make_bins(values, (t for t, _ in thresholds))
    before, after = sample.before_after(values, rows, bins, step)
    return Distribution(
        title=title,
        step=step,
        key=key,
        bins=bins,
        before=before,
        after=after,
        thresholds=thresholds,
        sampled_docs=len(values),
        estimated=estimated,
        before_label=f"reached {step}" if step else "scored",
        after_label=f"passed {step}" if step else "scored",
    )


def language_score_distribution(findings: Findings, config: dict[str, Any]) -> Distribution | None:
    if not any(o.language_score is not None for o in findings.observations):
        return None
    lang_steps = [(sid, p) for sid, p in step_params(config).items() if "lang" in str(p.get("step", ""))]
    thresholds: list[tuple[float, str]] = []
    step = lang_steps[0][0] if lang_steps else None
    for _, p in lang_steps[:1]:
        for name, value in p.items():
            number = _number(value)
            if number is not None and "score" in name:
                thresholds.append((number, f"{name} = {_fmt(number)}"))
    rows = [i for i, o in enumerate(findings.observations) if o.language_score is not None]
    values = [float(findings.observations[i].language_score) for i in rows]  # type: ignore[arg-type]
    return _sampled("language score", "language-score", step, values, rows, thresholds, _Sample(findings.observations), findings.sampled)


def length_distribution(stats: dict[str, Any]) -> Distribution | None:
    """Document length in characters, read vs kept: exact counts from stats.json."""
    hist = stats.get("histograms", {})
    read, kept = hist.get("chars_read", {}), hist.get("chars_kept", {})
    edges = sorted({int(k) for k in read} | {int(k) for k in kept})
    if not edges:
        return None
    bins = [Bin(e, max(e * 2, 1), "0" if e == 0 else (_fmt(e) if e == 1 else f"{_fmt(e)}–{_fmt(e * 2 - 1)}")) for e in edges]
    return Distribution(
        title="document length (characters)",
        key="length",
        bins=bins,
        before=[float(read.get(str(e), 0)) for e in edges],
        after=[float(kept.get(str(e), 0)) for e in edges],
        before_label="read",
        after_label="kept",
        note="Counted for every document during the run (stats.json histograms chars_read and chars_kept).",
    )
