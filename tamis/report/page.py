"""The report page: one HTML file with its style inline, no script and nothing to fetch.

Every number taken from ``stats.json`` is printed in an element with a ``data-stat`` attribute
naming where it comes from (``rejected|exact_dedup:duplicate``, ``languages|fr|kept_docs``),
so tests and users can check the page against the file. Charts are inline SVG with a table
alternative next to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from tamis.report.distributions import Distribution, length_distribution, signal_distributions
from tamis.report.distributions import language_score_distribution as score_distribution
from tamis.report.funnel import Funnel, FunnelRow, build_funnel, language_rows, rule_of, step_of, step_times
from tamis.report.sample import Cluster, Findings
from tamis.report.svg import BLUE, GREY, ORANGE, FunnelBar, Series, columns_svg, funnel_svg

FIRST_LINES = 4
LINE_CHARS = 200
REPAIR_SAMPLES_SHOWN = 2
LANGUAGES_CHARTED = 12
CHART_IN_GRID = 520  # SVG width of the charts shown two to a row: text stays about 11 px

SECTIONS = [
    ("summary", "Summary"),
    ("funnel", "Funnel"),
    ("languages", "Languages"),
    ("distributions", "Distributions"),
    ("clusters", "Duplicate clusters"),
    ("samples", "Rejected samples"),
    ("repetition", "Repetition repair"),
    ("config", "Configuration"),
    ("run", "Run"),
]

CSS = """
:root { color-scheme: light; --ink:#1f2933; --muted:#5f6b7a; --line:#d9dee5; --blue:#1f5fbf; --orange:#c2410c; --bg:#f7f8fa; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color:var(--ink); background:var(--bg); }
header, main, footer { max-width: 1120px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { font-size: 1.6rem; margin: .2em 0; }
h2 { font-size: 1.3rem; margin: 0 0 .6em; padding-top: .3em; }
h3 { font-size: 1.05rem; margin: 1.2em 0 .4em; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin:16px 0; }
nav ul { list-style:none; padding:0; margin:.6em 0; display:flex; flex-wrap:wrap; gap:6px 14px; }
nav a { color:var(--blue); }
a:focus-visible, summary:focus-visible { outline: 3px solid var(--orange); outline-offset: 2px; }
.cards { display:grid; grid-template-columns: repeat(auto-fit, minmax(150px,1fr)); gap:10px; margin:.6em 0; }
.card { border:1px solid var(--line); border-radius:6px; padding:8px 12px; }
.card .k { color:var(--muted); font-size:.85rem; }
.card .v { font-size:1.35rem; font-weight:600; font-variant-numeric: tabular-nums; }
.accounting { font-size:1.05rem; padding:8px 12px; border-left:4px solid var(--blue); background:#eef4fc; }
.accounting.bad { border-color: var(--orange); background:#fdf0e9; }
table { border-collapse: collapse; width:100%; margin:.4em 0 .8em; font-size:.92rem; }
caption { text-align:left; color:var(--muted); padding:2px 0 6px; }
th, td { padding:4px 8px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
td.n, th.n { text-align:right; font-variant-numeric: tabular-nums; white-space:nowrap; }
tr.step td { font-weight:600; background:#f3f5f8; }
tr.sub td:first-child { padding-left: 22px; }
.muted { color:var(--muted); }
.note { color:var(--muted); font-size:.9rem; }
svg { display:block; max-width:100%; height:auto; margin:.3em 0; }
section > figure svg, .cluster-chart svg { max-width: 800px; }
svg .lbl, svg .val, svg .tick { font: 12px system-ui, sans-serif; fill: var(--ink); }
svg .tick { font-size: 11px; fill: var(--muted); }
svg .strong { fill: var(--ink); font-weight: 600; }
.grid2 { display:grid; grid-template-columns: repeat(auto-fit, minmax(420px,1fr)); gap: 14px 24px; }
figure { margin: 0; }
.grid2 > .span { grid-column: 1 / -1; margin-bottom: 0; }
figcaption { font-weight:600; }
details { margin:.2em 0 .8em; }
summary { cursor:pointer; color:var(--blue); }
.doc { border:1px solid var(--line); border-radius:6px; padding:8px 12px; margin:8px 0; }
.doc .meta { font-size:.85rem; color:var(--muted); }
.doc pre, pre.lines { white-space:pre-wrap; word-break:break-word; margin:.4em 0 0; font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; }
ol.repair { font: 13px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; padding-left: 2.6em; }
ol.repair li.removed { background:#fdf0e9; color:#7c2d12; }
ol.repair li.removed del { text-decoration-thickness: 2px; }
.tag { font: 600 11px system-ui, sans-serif; color:#fff; background:var(--orange); border-radius:3px; padding:0 5px; margin-left:6px; }
pre.config { background:#f3f5f8; padding:10px; border-radius:6px; overflow:auto; max-height:520px; font-size:12.5px; }
"""


@dataclass
class RunView:
    """A run directory as the report reads it: stats, config and findings."""
    root: Path
    stats: dict[str, Any]
    config_text: str
    config: dict[str, Any]
    findings: Findings | None


def _n(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{round(value):,}"


def _bytes(n: float | None) -> str:
    if n is None:
        return "—"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{n} B"


def _docs(n: int) -> str:
    return f"{n:,} document" + ("" if n == 1 else "s")


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f} %" if whole else "—"


def _stat(key: str, value: Any, fmt: str | None = None) -> str:
    text = fmt if fmt is not None else _n(value)
    return f'<span data-stat="{escape(key)}">{escape(text)}</span>'


def _td_stat(key: str, value: Any) -> str:
    return f'<td class="n">{_stat(key, value)}</td>'


def render(run: RunView, against: RunView | None = None, *, generated_in: float | None = None) -> str:
    stats = run.stats
    funnel = build_funnel(stats)
    body = [
        _summary(run, funnel),
        _funnel_section(run, funnel),
        _compare(run, against) if against is not None else "",
        _languages(stats),
        _distributions(run),
        _clusters(run.findings),
        _samples(run),
        _repetition(stats),
        _config(run),
        _run_info(run, generated_in),
    ]
    sections = SECTIONS if against is None else [*SECTIONS[:2], ("compare", "Comparison"), *SECTIONS[2:]]
    nav = "".join(f'<li><a href="#{sid}">{escape(title)}</a></li>' for sid, title in sections)
    title = f"tamis report · {run.root.name or run.root}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><p class="muted">What was kept, what was removed and why · '
        f"tamis {escape(str(stats.get('tamis_version', '?')))} · run directory <code>{escape(str(run.root))}</code></p>"
        f'<nav aria-label="Sections"><ul>{nav}</ul></nav></header>'
        f"<main>{''.join(body)}</main>"
        '<footer><p class="note">Written by <code>tamis report</code> from stats.json, config.resolved.yaml and the run\'s '
        "output and rejects shards; the input is never read again.</p></footer></body></html>\n"
    )


# ---------------------------------------------------------------------------- sections


def _summary(run: RunView, funnel: Funnel) -> str:
    s = run.stats
    rejected_total = int(s.get("rejected_total", sum(s.get("rejected", {}).values())))
    holds = funnel.read == funnel.kept + rejected_total
    verdict = "holds" if holds else f"does NOT hold: {funnel.read - funnel.kept - rejected_total:+,} documents unaccounted for"
    cards = [
        ("documents read", _stat("read", funnel.read)),
        ("documents kept", _stat("kept", funnel.kept)),
        ("documents rejected", _stat("rejected_total", rejected_total)),
        ("kept share", escape(_pct(funnel.kept, funnel.read))),
        ("bytes read", escape(_bytes(funnel.bytes_in))),
        ("bytes kept", escape(_bytes(funnel.bytes_out))),
        ("documents edited", escape(_n(sum(s.get("modified", {}).values())))),
        ("input errors", _stat("input_errors", s.get("input_errors", 0))),
    ]
    card_html = "".join(f'<div class="card"><div class="k">{k}</div><div class="v">{v}</div></div>' for k, v in cards)
    return (
        '<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>'
        f'<p class="accounting{"" if holds else " bad"}" id="accounting">Accounting: read '
        f"<strong>{_n(funnel.read)}</strong> = kept <strong>{_n(funnel.kept)}</strong> + rejected "
        f"<strong>{_n(rejected_total)}</strong> — {escape(verdict)}.</p>"
        f'<div class="cards">{card_html}</div>'
        f'<p class="note">Bytes are UTF-8 bytes of the text. Exact values: read {_n(funnel.bytes_in)} B, kept {_n(funnel.bytes_out)} B.</p>'
        "</section>"
    )


def _funnel_bars(funnel: Funnel) -> list[FunnelBar]:
    bars = [FunnelBar("read", funnel.read, 0, f"{funnel.read:,} docs · {_bytes(funnel.bytes_in)}")]
    for row in funnel.rows:
        label = row.step if row.in_pipeline else f"{row.step} (input)"
        caption = f"{row.docs_after:,} docs" + (f" (−{row.removed_docs:,})" if row.removed_docs else "")
        bars.append(FunnelBar(label, row.docs_after, row.removed_docs, caption))
    bars.append(FunnelBar("kept", funnel.kept, 0, f"{funnel.kept:,} docs · {_bytes(funnel.bytes_out)}"))
    return bars


def _funnel_section(run: RunView, funnel: Funnel) -> str:
    s = run.stats
    modified, units = s.get("modified", {}), s.get("removed_units", {})
    svg = funnel_svg(
        _funnel_bars(funnel),
        "Documents remaining after each step",
        f"{funnel.read:,} documents read, {funnel.kept:,} kept; blue: remaining after the step, orange: removed by it.",
    )
    rows = [
        "<tr><th scope='col'>Step · rule</th><th scope='col' class='n'>Documents removed</th><th scope='col' class='n'>Share of read</th>"
        "<th scope='col' class='n'>Bytes removed</th><th scope='col' class='n'>Documents after</th><th scope='col' class='n'>Bytes after</th></tr>",
        f"<tr class='step'><td>read</td><td class='n'></td><td class='n'></td><td class='n'></td>"
        f"{_td_stat('read', funnel.read)}{_td_stat('bytes_in', funnel.bytes_in)}</tr>",
    ]
    for row in funnel.rows:
        rows.append(_funnel_step_row(row, funnel, modified, units))
        for r in row.reasons:
            rows.append(
                f"<tr class='sub'><td><code>{escape(r.reason)}</code></td>{_td_stat('rejected|' + r.reason, r.docs)}"
                f"<td class='n'>{_pct(r.docs, funnel.read)}</td>"
                + (_td_stat("rejected_bytes|" + r.reason, r.bytes) if r.bytes is not None else "<td class='n'>—</td>")
                + "<td></td><td></td></tr>"
            )
    rows.append(
        f"<tr class='step'><td>kept</td><td class='n'>{_n(funnel.rejected)}</td><td class='n'>{_pct(funnel.rejected, funnel.read)}</td>"
        f"<td class='n'></td>{_td_stat('kept', funnel.kept)}{_td_stat('bytes_out', funnel.bytes_out)}</tr>"
    )
    edited = ""
    if funnel.edited_bytes is not None:
        verb = "removed" if funnel.edited_bytes >= 0 else "added"
        edited = (
            f"<p class='note'>Steps that edit text (normalisation, repetition repair, …) {verb} "
            f"{_n(abs(funnel.edited_bytes))} bytes in the documents they edited: the bytes after the last filter "
            "minus these are the bytes kept.</p>"
        )
    else:
        edited = "<p class='note'>This run's stats.json has no bytes by reason (rejected_bytes): bytes per step are not shown.</p>"
    return (
        '<section id="funnel" aria-labelledby="h-funnel"><h2 id="h-funnel">Funnel</h2>'
        f"<figure>{svg}<figcaption class='note'>Documents remaining after each step, in pipeline order; "
        "the table below holds the same numbers.</figcaption></figure>"
        f"<table><caption>Removed by each step and rule (reasons are <code>step:rule</code>)</caption>{''.join(rows)}</table>{edited}"
        f"{_step_times_table(s)}</section>"
    )


def _step_times_table(stats: dict[str, Any]) -> str:
    """Where the time went: documents in and out and wall/CPU seconds of each step, summed over
    tasks (so with several workers the sum exceeds the run's wall time)."""
    times = step_times(stats)
    if not times:
        return ""
    total = sum(t.wall_s for t in times) or 1.0
    rows = [
        "<tr><th scope='col'>Step</th><th scope='col' class='n'>Documents in</th><th scope='col' class='n'>Documents out</th>"
        "<th scope='col' class='n'>Wall s</th><th scope='col' class='n'>CPU s</th><th scope='col' class='n'>Share of time</th></tr>"
    ]
    for t in times:
        cpu = "—" if t.cpu_s is None else f"{t.cpu_s:,.2f}"
        rows.append(
            f"<tr><td>{escape(t.step)}</td><td class='n'>{_n(t.docs_in)}</td><td class='n'>{_n(t.docs_out)}</td>"
            f"<td class='n'>{t.wall_s:,.2f}</td><td class='n'>{cpu}</td><td class='n'>{_pct(t.wall_s, total)}</td></tr>"
        )
    return (
        "<table><caption>Time per step, summed over tasks (a step's time excludes the steps before it; "
        "<code>passes</code>: a dedup stage's global rounds; CPU is estimated from a sample of calls)</caption>"
        f"{''.join(rows)}</table>"
    )


def _funnel_step_row(row: FunnelRow, funnel: Funnel, modified: dict[str, int], units: dict[str, int]) -> str:
    notes = []
    if row.step in modified:
        notes.append(f"edited {_stat('modified|' + row.step, modified[row.step])} documents")
    for key, count in sorted(units.items()):
        if key.split(".", 1)[0] == row.step:
            notes.append(f"removed {_stat('removed_units|' + key, count)} {escape(key.split('.', 1)[1])}")
    label = escape(row.step) + ("" if row.in_pipeline else " <span class='muted'>(while reading input)</span>")
    if notes:
        label += " <span class='muted'>· " + ", ".join(notes) + "</span>"
    bytes_after = _n(row.bytes_after)
    return (
        f"<tr class='step'><td>{label}</td><td class='n'>{_n(row.removed_docs)}</td><td class='n'>{_pct(row.removed_docs, funnel.read)}</td>"
        f"<td class='n'>{_n(row.removed_bytes)}</td><td class='n'>{_n(row.docs_after)}</td><td class='n'>{bytes_after}</td></tr>"
    )


def _compare(a: RunView, b: RunView) -> str:
    fa, fb = build_funnel(a.stats), build_funnel(b.stats)
    after_a = {r.step: r for r in fa.rows}
    after_b = {r.step: r for r in fb.rows}
    order = [r.step for r in fa.rows] + [r.step for r in fb.rows if r.step not in after_a]
    head = (
        "<tr><th scope='col'>Step</th><th scope='col' class='n'>A removed</th><th scope='col' class='n'>A after</th>"
        "<th scope='col' class='n'>B removed</th><th scope='col' class='n'>B after</th><th scope='col' class='n'>B − A after</th></tr>"
    )
    rows = [
        head,
        f"<tr class='step'><td>read</td><td></td><td class='n'>{_n(fa.read)}</td><td></td><td class='n'>{_n(fb.read)}</td>"
        f"<td class='n'>{fb.read - fa.read:+,}</td></tr>",
    ]
    for step in order:
        ra, rb = after_a.get(step), after_b.get(step)
        delta = f"{rb.docs_after - ra.docs_after:+,}" if ra and rb else "—"
        rows.append(
            f"<tr><td>{escape(step)}</td><td class='n'>{_n(ra.removed_docs) if ra else '—'}</td><td class='n'>{_n(ra.docs_after) if ra else '—'}</td>"
            f"<td class='n'>{_n(rb.removed_docs) if rb else '—'}</td><td class='n'>{_n(rb.docs_after) if rb else '—'}</td><td class='n'>{delta}</td></tr>"
        )
    rows.append(
        f"<tr class='step'><td>kept</td><td></td><td class='n' data-compare='a-kept'>{_n(fa.kept)}</td><td></td>"
        f"<td class='n' data-compare='b-kept'>{_n(fb.kept)}</td><td class='n'>{fb.kept - fa.kept:+,}</td></tr>"
    )
    figs = []
    for name, view, funnel in (("A", a, fa), ("B", b, fb)):
        svg = funnel_svg(_funnel_bars(funnel), f"Run {name}: documents remaining after each step", f"{funnel.read:,} read, {funnel.kept:,} kept", width=560)
        figs.append(f"<figure><figcaption>Run {name}: <code>{escape(str(view.root))}</code></figcaption>{svg}</figure>")
    return (
        '<section id="compare" aria-labelledby="h-compare"><h2 id="h-compare">Comparison</h2>'
        f"<div class='grid2'>{''.join(figs)}</div>"
        f"<table><caption>Both funnels, step by step (A = this run, B = --against)</caption>{''.join(rows)}</table></section>"
    )


def _languages(stats: dict[str, Any]) -> str:
    rows = language_rows(stats)
    if not rows:
        return '<section id="languages" aria-labelledby="h-languages"><h2 id="h-languages">Languages</h2><p>No language counts in stats.json.</p></section>'
    note = ""
    if [r.language for r in rows] == ["unknown"]:
        note = (
            "<p class='note'>No step of this run identified languages (documents have no <code>language</code> metadata), "
            "so every document counts as <em>unknown</em>.</p>"
        )
    fields = ("kept_docs", "kept_words", "kept_bytes", "rejected_docs", "rejected_words", "rejected_bytes")
    head = "".join(f"<th scope='col' class='n'>{f.replace('_', ' ')}</th>" for f in fields)
    body = []
    for r in rows:
        cells = "".join(_td_stat(f"languages|{r.language}|{f}", getattr(r, f)) for f in fields)
        body.append(f"<tr><th scope='row'>{escape(r.language)}</th>{cells}<td class='n'>{r.kept_share:.1%}</td></tr>")
    shown = rows[:LANGUAGES_CHARTED]
    bars = [FunnelBar(r.language, r.kept_docs, r.rejected_docs, f"{r.kept_docs:,} kept · {r.rejected_docs:,} removed") for r in shown]
    svg = funnel_svg(bars, "Documents per language", "Blue: kept documents, orange: removed documents, per language (largest first).")
    return (
        '<section id="languages" aria-labelledby="h-languages"><h2 id="h-languages">Languages</h2>'
        f"{note}<figure>{svg}<figcaption class='note'>Kept (blue) and removed (orange) documents per language"
        f"{f' ({LANGUAGES_CHARTED} largest)' if len(rows) > LANGUAGES_CHARTED else ''}.</figcaption></figure>"
        "<table><caption>Per language (words are whitespace-separated tokens)</caption>"
        f"<tr><th scope='col'>language</th>{head}<th scope='col' class='n'>kept share</th></tr>{''.join(body)}</table></section>"
    )


def _bin_position(dist: Distribution, value: float) -> float:
    """Fractional bin index of ``value`` (for drawing threshold lines)."""
    for i, b in enumerate(dist.bins):
        if b.lo <= value < b.hi or (i == len(dist.bins) - 1 and value >= b.lo):
            width = b.hi - b.lo
            return i + ((value - b.lo) / width if width else 0.5)
    return 0.0 if not dist.bins or value < dist.bins[0].lo else float(len(dist.bins))


def _distribution_figure(dist: Distribution) -> str:
    labels = [b.label for b in dist.bins]
    markers = [(_bin_position(dist, t), label) for t, label in dist.thresholds]
    if dist.sampled_docs is None:
        source = "exact counts"
    elif dist.estimated:
        source = f"estimated from a sample of {dist.sampled_docs:,} documents (each weighted by the number of documents it stands for)"
    else:
        source = f"all {dist.sampled_docs:,} documents that carry this value"
    desc = (
        f"Documents per bin, {dist.before_label} (outline) and {dist.after_label} (filled), "
        f"as shares of the documents counted as '{dist.before_label}'; {source}."
    )
    if dist.thresholds:
        desc += " Thresholds: " + "; ".join(label for _, label in dist.thresholds) + "."
    svg = columns_svg(
        labels,
        [Series(dist.before_label, dist.before, GREY, filled=False), Series(dist.after_label, dist.after, BLUE)],
        dist.title,
        desc,
        markers=markers,
        width=CHART_IN_GRID,
    )
    table_rows = "".join(
        f"<tr><td>{escape(b.label)}</td><td class='n'>{_n(x)}</td><td class='n'>{_n(y)}</td></tr>"
        for b, x, y in zip(dist.bins, dist.before, dist.after, strict=True)
    )
    thresholds = (
        "<p class='note'>Threshold: " + "; ".join(escape(label) for _, label in dist.thresholds) + "</p>"
        if dist.thresholds
        else "<p class='note'>No threshold for this value in the config.</p>"
    )
    count_kind = "documents (estimated)" if dist.estimated else "documents"
    return (
        f'<figure id="{escape(dist.key)}" class="dist"><figcaption>{escape(dist.title)}</figcaption>{svg}'
        f"<p class='note'>{escape(source.capitalize())}. {escape(dist.note)}</p>{thresholds}"
        f"<details><summary>Table: {escape(dist.title)}</summary><table><caption>{escape(dist.title)}: {count_kind} per bin</caption>"
        f"<tr><th scope='col'>bin</th><th scope='col' class='n'>{escape(dist.before_label)}</th><th scope='col' class='n'>{escape(dist.after_label)}</th></tr>"
        f"{table_rows}</table></details></figure>"
    )


def _distributions(run: RunView) -> str:
    parts = []
    length = length_distribution(run.stats)
    if length is not None:
        parts.append(_distribution_figure(length))
    findings = run.findings
    intro = ""
    if findings is not None:
        score = score_distribution(findings, run.config)
        if score is not None:
            parts.append(_distribution_figure(score))
        else:
            parts.append("<p class='note' id='language-score'>No document carries a <code>language_score</code>: no language identification ran.</p>")
        signals = signal_distributions(findings, run.config, list(run.stats.get("steps", [])))
        step = None
        for d in signals:
            if d.step != step:
                step = d.step
                parts.append(f"<h3 class='span'>Signals of <code>{escape(step)}</code></h3>")
            parts.append(_distribution_figure(d))
        if not signals:
            parts.append("<p class='note'>No filter recorded signals (<code>metadata.signals</code>) in this run.</p>")
        if findings.sampled:
            intro = (
                f"<p class='note'>Signal and score distributions come from a deterministic sample: the first "
                f"{findings.kept_sampled:,} of {findings.kept_total:,} kept documents (the first records of every output shard) and "
                f"the first {sum(findings.rejected_sampled.values()):,} of {sum(findings.rejected_seen.values()):,} rejected ones "
                "(per reason, in shard order), each weighted by how many documents of its kind it stands for.</p>"
            )
        else:
            intro = "<p class='note'>Signal and score distributions use every kept and rejected document of the run.</p>"
    return (
        '<section id="distributions" aria-labelledby="h-distributions"><h2 id="h-distributions">Distributions before and after</h2>'
        f"{intro}<div class='grid2'>{''.join(parts)}</div></section>"
    )


def _first_lines(text: str, n: int = FIRST_LINES) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    shown = [line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…" for line in lines[:n]]
    more = f"\n… ({len(lines) - n} more lines)" if len(lines) > n else ""
    return "\n".join(shown) + more


def _record_html(record: dict[str, Any] | None, role: str, doc_id: str) -> str:
    if record is None:
        return f"<div class='doc'><div class='meta'>{escape(role)} <code>{escape(doc_id)}</code> (record not found in the shards)</div></div>"
    return (
        f"<div class='doc'><div class='meta'>{escape(role)} <code>{escape(str(record.get('id')))}</code></div>"
        f"<pre>{escape(_first_lines(str(record.get('text') or '')))}</pre></div>"
    )


def _clusters(findings: Findings | None) -> str:
    head = '<section id="clusters" aria-labelledby="h-clusters"><h2 id="h-clusters">Duplicate clusters</h2>'
    if findings is None:
        return head + "<p>Shards were not read.</p></section>"
    parts = []
    for step in sorted(findings.cluster_sizes):
        sizes = findings.cluster_sizes[step]
        edges = _size_edges(max(sizes))
        counts = [sum(c for s, c in sizes.items() if lo <= s <= hi) for lo, hi in edges]
        labels = [str(lo) if lo == hi else f"{lo}–{hi}" for lo, hi in edges]
        clusters, docs = sum(sizes.values()), sum(s * c for s, c in sizes.items())
        svg = columns_svg(
            labels,
            [Series("clusters", [float(c) for c in counts], ORANGE)],
            f"{step}: cluster sizes",
            f"{clusters:,} clusters holding {docs:,} documents; one document of each is kept.",
            y_label="clusters",
            as_share=False,
        )
        rows = "".join(f"<tr><td>{escape(label)}</td><td class='n'>{c:,}</td></tr>" for label, c in zip(labels, counts, strict=True) if c)
        parts.append(
            f"<h3>{escape(step)}</h3><p>{clusters:,} clusters of duplicates, {docs:,} documents, {docs - clusters:,} removed "
            f"(size = the keeper plus the documents whose <code>duplicate_of</code> names it; counted over every reject).</p>"
            f"<figure>{svg}<figcaption class='note'>Cluster size histogram ({escape(step)})</figcaption></figure>"
            f"<details><summary>Table: cluster sizes ({escape(step)})</summary>"
            f"<table><tr><th scope='col'>size</th><th scope='col' class='n'>clusters</th></tr>{rows}</table></details>"
        )
    if findings.largest:
        parts.append("<h3>Largest clusters</h3>")
        for c in findings.largest:
            parts.append(_cluster_html(c))
    if not parts and findings.kept_cluster_sizes:
        sizes = findings.kept_cluster_sizes
        rows = "".join(f"<tr><td>{s}</td><td class='n'>{c:,}</td></tr>" for s, c in sorted(sizes.items()))
        parts.append(
            "<p>Kept documents carry <code>cluster_size</code> but no reject names its keeper; sizes from the sampled kept documents:</p>"
            f"<table><tr><th scope='col'>size</th><th scope='col' class='n'>clusters (sampled)</th></tr>{rows}</table>"
        )
    if not parts:
        parts.append("<p>No duplicates were found or no dedup step ran (no reject has <code>duplicate_of</code>).</p>")
    return head + "".join(parts) + "</section>"


def _cluster_html(c: Cluster) -> str:
    members = "".join(_record_html(r, "member (removed)", r.get("id", "")) for r in c.member_records)
    missing = [m for m in c.members if m not in {str(r.get("id")) for r in c.member_records}]
    members += "".join(_record_html(None, "member (removed)", m) for m in missing)
    return (
        f"<div class='cluster'><p><strong>{c.size:,} documents</strong> · {escape(c.step)} · keeper <code>{escape(c.keeper)}</code></p>"
        f"{_record_html(c.keeper_record, 'keeper (kept)', c.keeper)}{members}</div>"
    )


def _size_edges(largest: int) -> list[tuple[int, int]]:
    edges = [(2, 2), (3, 3), (4, 4)]
    lo = 5
    while lo <= largest:
        hi = lo * 2 - 2
        edges.append((lo, hi))
        lo = hi + 1
    return [e for e in edges if e[0] <= largest]


def _samples(run: RunView) -> str:
    head = '<section id="samples" aria-labelledby="h-samples"><h2 id="h-samples">Rejected samples</h2>'
    rejected = run.stats.get("rejected", {})
    if not rejected:
        return head + "<p>Nothing was rejected.</p></section>"
    samples = run.findings.samples if run.findings else {}
    parts = ["<p class='note'>The first rejected documents of each reason, in shard order, with the value the rule measured.</p>"]
    for reason in sorted(rejected, key=lambda r: (-rejected[r], r)):
        parts.append(f"<h3 id='reason-{escape(reason.replace(':', '-'))}'><code>{escape(reason)}</code> · {_docs(int(rejected[reason]))}</h3>")
        records = samples.get(reason, [])
        if not records:
            parts.append("<p class='muted'>No record of this reason in the rejects shards.</p>")
        for record in records:
            parts.append(_reject_html(record, reason))
    return head + "".join(parts) + "</section>"


def _reject_html(record: dict[str, Any], reason: str) -> str:
    meta = []
    if record.get("detail"):
        meta.append(f"measured: <strong>{escape(str(record['detail']))}</strong>")
    if record.get("duplicate_of"):
        meta.append(f"duplicate of <code>{escape(str(record['duplicate_of']))}</code>")
    signals = (record.get("metadata") or {}).get("signals", {})
    step_signals = signals.get(step_of(reason)) if isinstance(signals, dict) else None
    if isinstance(step_signals, dict) and step_signals:
        rule = rule_of(reason)
        items = []
        for k, v in step_signals.items():
            text = f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
            items.append(f"<strong>{escape(text)}</strong>" if k in rule or rule in k else escape(text))
        meta.append("signals: " + ", ".join(items))
    return (
        f"<div class='doc'><div class='meta'><code>{escape(str(record.get('id')))}</code>"
        f"{' · ' if meta else ''}{' · '.join(meta)}</div><pre>{escape(_first_lines(str(record.get('text') or '')))}</pre></div>"
    )


def _repetition(stats: dict[str, Any]) -> str:
    head = '<section id="repetition" aria-labelledby="h-repetition"><h2 id="h-repetition">Repetition repair</h2>'
    kinds = [k for k, v in stats.get("samples", {}).items() if k.endswith(":repaired") and v]
    if not kinds:
        return head + "<p>No document was repaired (no repeated lines removed) in this run.</p></section>"
    parts = []
    for kind in kinds:
        step = kind.rsplit(":", 1)[0]
        edited = stats.get("modified", {}).get(step, 0)
        removed = stats.get("removed_units", {}).get(f"{step}.lines", 0)
        parts.append(
            f"<p><code>{escape(step)}</code> edited {_docs(edited)} and removed {_n(removed)} repeated lines. "
            "Sample documents (removed lines struck through and tagged):</p>"
        )
        for sample in stats["samples"][kind][:REPAIR_SAMPLES_SHOWN]:
            lines = sample.get("lines", [])
            n_removed = sum(1 for line in lines if line.get("removed"))
            items = []
            for line in lines:
                text = escape(str(line.get("text", "")))
                if line.get("removed"):
                    items.append(f"<li class='removed'><del>{text}</del><span class='tag'>removed</span></li>")
                else:
                    items.append(f"<li>{text}</li>")
            parts.append(
                f"<div class='doc repair-sample' data-removed='{n_removed}'><div class='meta'><code>{escape(str(sample.get('id')))}</code> · "
                f"{n_removed} of {len(lines)} lines removed</div><ol class='repair'>{''.join(items)}</ol></div>"
            )
    return head + "".join(parts) + "</section>"


def _config(run: RunView) -> str:
    return (
        '<section id="config" aria-labelledby="h-config"><h2 id="h-config">Configuration</h2>'
        "<p class='note'>config.resolved.yaml: every step with all its parameters, as the run used them.</p>"
        f"<pre class='config'>{escape(run.config_text)}</pre></section>"
    )


def _run_info(run: RunView, generated_in: float | None) -> str:
    s = run.stats
    info = s.get("run", {}) or {}
    rows = [
        ("tamis version", escape(str(s.get("tamis_version", "?")))),
        ("config fingerprint", f"<code>{escape(str(s.get('config_fingerprint', '?')))}</code>"),
        ("steps", escape(" → ".join(s.get("steps", [])))),
        ("executor", escape(f"{info.get('executor', '?')} · {info.get('workers', '?')} workers · {info.get('tasks', '?')} tasks")),
        ("run time", _stat("run|seconds", info.get("seconds"), f"{info.get('seconds', 0):,.3f} s") if "seconds" in info else "—"),
        ("python", escape(str(info.get("python", "?")))),
        ("failed tasks", escape(", ".join(info.get("failed_tasks", [])) or "none")),
    ]
    if generated_in is not None:
        rows.append(("report read the shards in", escape(f"{generated_in:.2f} s")))
    timings = info.get("timings", {}) or {}
    timing_rows = "".join(f"<tr><td>{escape(k)}</td><td class='n'>{float(v):,.3f} s</td></tr>" for k, v in timings.items())
    table = "".join(f"<tr><th scope='row'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        '<section id="run" aria-labelledby="h-run"><h2 id="h-run">Run</h2>'
        f"<table><caption>Version and timings</caption>{table}</table>"
        + (
            "<table><caption>Time per segment and global stage</caption>"
            f"<tr><th scope='col'>part</th><th scope='col' class='n'>seconds</th></tr>{timing_rows}</table>"
            if timing_rows
            else ""
        )
        + "</section>"
    )
