"""Inline SVG charts, drawn in Python: no script, no font or library to fetch.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` summing it up; the
page puts the same numbers in a table next to it (the accessible alternative). Colours are a
blue/orange/grey set that stays distinct for the common colour-vision deficiencies, and the
series also differ by shape (outline versus filled bars, dashed threshold lines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

BLUE = "#1f5fbf"
ORANGE = "#c2410c"
GREY = "#b8c0cc"
INK = "#1f2933"
MUTED = "#5f6b7a"
WIDTH = 760


@dataclass
class FunnelBar:
    """One bar of the funnel chart."""
    label: str
    remaining: int
    removed: int
    caption: str  # text at the right of the bar


def funnel_svg(bars: list[FunnelBar], title: str, desc: str, width: int = WIDTH) -> str:
    """Horizontal bars: what remains after each step (blue) and what the step removed (orange)."""
    top = max((b.remaining + b.removed for b in bars), default=0) or 1
    label_w, caption_w, row_h = 170, 200, 30
    plot_w = width - label_w - caption_w
    height = row_h * len(bars) + 10
    parts = [_open(width, height, title, desc)]
    for i, b in enumerate(bars):
        y = 5 + i * row_h
        w_keep = plot_w * b.remaining / top
        w_gone = plot_w * b.removed / top
        parts.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end" class="lbl">{escape(_short(b.label, 26))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w_keep:.1f}" height="{row_h - 10}" fill="{BLUE}"/>')
        if b.removed:
            parts.append(
                f'<rect x="{label_w + w_keep:.1f}" y="{y + 4}" width="{max(w_gone, 1.5):.1f}" height="{row_h - 10}" fill="{ORANGE}" fill-opacity="0.75"/>'
            )
        parts.append(f'<text x="{label_w + plot_w + 8}" y="{y + 18}" class="val">{escape(b.caption)}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass
class Series:
    """One series of a chart: its name and values."""
    name: str
    values: list[float]
    color: str
    filled: bool = True


def columns_svg(
    labels: list[str],
    series: list[Series],
    title: str,
    desc: str,
    markers: list[tuple[float, str]] | None = None,
    width: int = WIDTH,
    y_label: str = "share of documents",  # of the first series' documents
    as_share: bool = True,
) -> str:
    """Vertical bars per bin, series drawn on top of each other (later ones narrower), and
    ``markers`` as dashed vertical lines at fractional bin positions (0 = left of the first bin)."""
    markers = markers or []
    # one text row above the plot per threshold, so that close thresholds keep readable labels
    height, left, right, top, bottom = 218 + 13 * max(len(markers), 1), 56, 16, 13 + 13 * max(len(markers), 1), 46
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels), 1)
    # shares are of the first series' total, so a subset (kept, passed) draws inside its whole
    total = sum(series[0].values) if series else 0.0
    scaled = [[v / (total or 1.0) if as_share else v for v in s.values] for s in series]
    peak = max((max(vals, default=0.0) for vals in scaled), default=0.0) or 1.0
    slot = plot_w / n
    parts = [_open(width, height, title, desc)]
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{MUTED}"/>')
    peak_text = f"{peak:.0%}" if as_share else f"{peak:,.0f}"
    parts.append(f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" class="tick">{peak_text}</text>')
    parts.append(f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" class="tick">0</text>')
    parts.append(
        f'<text x="12" y="{top + plot_h / 2}" transform="rotate(-90 12 {top + plot_h / 2})" text-anchor="middle" class="tick">{escape(y_label)}</text>'
    )
    for k, (s, vals) in enumerate(zip(series, scaled, strict=True)):
        inset = slot * (0.08 + 0.14 * k)
        for i, v in enumerate(vals):
            if v <= 0:
                continue
            h = plot_h * v / peak
            x = left + i * slot + inset
            w = max(slot - 2 * inset, 1.0)
            style = f'fill="{s.color}"' if s.filled else f'fill="{s.color}" fill-opacity="0.35" stroke="{s.color}"'
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{w:.1f}" height="{h:.1f}" {style}/>')
    step = max(1, math.ceil(n / max(3, width // 95)))  # about one label per 95 px
    for i in range(0, n, step):
        x = left + (i + 0.5) * slot
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 15}" text-anchor="middle" class="tick">{escape(_short(labels[i], 14))}</text>')
    for k, (pos, label) in enumerate(markers):
        x = left + max(0.0, min(pos, n)) * slot
        y_text = 12 + 13 * k
        parts.append(f'<line x1="{x:.1f}" y1="{y_text + 2}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{INK}" stroke-width="2" stroke-dasharray="6 4"/>')
        anchor = "end" if x > left + plot_w * 0.6 else "start"
        dx = -4 if anchor == "end" else 4
        parts.append(f'<text x="{x + dx:.1f}" y="{y_text}" text-anchor="{anchor}" class="tick strong">{escape(_short(label, 44))}</text>')
    legend_x = left
    for s in series:
        swatch = f'fill="{s.color}"' if s.filled else f'fill="{s.color}" fill-opacity="0.35" stroke="{s.color}"'
        parts.append(f'<rect x="{legend_x}" y="{height - 16}" width="12" height="12" {swatch}/>')
        parts.append(f'<text x="{legend_x + 16}" y="{height - 6}" class="tick">{escape(s.name)}</text>')
        legend_x += 24 + 7 * len(s.name)
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, title: str, desc: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}" '
        f'preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>"
    )


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
