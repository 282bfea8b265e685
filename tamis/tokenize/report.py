"""``TOKDIR/report.html``: what ``tamis tokenize`` read, wrote and rejected, and the tokens.

Built from ``stats.json`` alone (exact counts): the accounting, the reject reasons, tokens
per language and per source, the token-length histogram and the shards. One self-contained
page; the chart is inline SVG with its numbers in a table beside it.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import orjson

from tamis.io.atomic import write_bytes_atomic
from tamis.report.svg import BLUE, Series, columns_svg

SOURCES_SHOWN = 50

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;color:#1f2933;max-width:980px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{padding:.2em .8em;border-bottom:1px solid #dde2e8;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#166534}.bad{color:#b91c1c}
.tick{font-size:11px;fill:#5f6b7a}.strong{font-weight:600;fill:#1f2933}code{background:#f1f4f7;padding:0 .3em}
"""


def _n(value: int) -> str:
    return f"{value:,}"


def _bucket_label(low: int) -> str:
    return "0" if low == 0 else (str(low) if low == 1 else f"{low:,}–{2 * low - 1:,}")


def _table(headers: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(f'<th class="{"n" if i >= numeric_from else ""}">{escape(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="{"n" if i >= numeric_from else ""}">{c}</td>' for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _share_rows(table: dict[str, dict[str, int]], total: int, limit: int | None = None) -> tuple[list[list[str]], int]:
    items = sorted(table.items(), key=lambda kv: (-kv[1]["tokens"], kv[0]))
    shown = items if limit is None else items[:limit]
    rows = [[f"<code>{escape(name)}</code>", _n(v["documents"]), _n(v["tokens"]), f"{100 * v['tokens'] / total:.2f} %" if total else "—"] for name, v in shown]
    return rows, len(items) - len(shown)


def render_tokens_report(stats: dict[str, Any]) -> str:
    tokens = stats["tokens"]
    read, written, rejected = stats["read"], stats["written"], stats["rejected_total"]
    ok = read == written + rejected
    total = tokens["tokens"]
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>tamis tokenize — {_n(total)} tokens</title><style>{_STYLE}</style></head><body>"]
    parts.append(f"<h1>Tokenized corpus: {_n(total)} tokens in {_n(len(tokens['shards']))} shard(s)</h1>")
    parts.append(
        f'<p>read <b data-stat="read">{_n(read)}</b> = written <b data-stat="written">{_n(written)}</b> + rejected '
        f'<b data-stat="rejected_total">{_n(rejected)}</b> <span class="{"ok" if ok else "bad"}">[{"OK" if ok else "MISMATCH"}]</span></p>'
    )
    settings = [
        ["format", escape(tokens["format"])],
        ["token dtype", escape(tokens["dtype"])],
        ["tokenizer", f"<code>{escape(str(tokens.get('tokenizer')))}</code> (sha256 {escape(str(tokens.get('tokenizer_sha256', ''))[:16])}…)"],
        ["vocabulary size", _n(tokens.get("vocab_size", 0))],
        ["BOS / EOS", f"{escape(str(tokens.get('bos')))} / {escape(str(tokens.get('eos')))}"],
        ["shuffle seed", escape(str(tokens.get("shuffle_seed")))],
        ["tokens per shard (target)", _n(tokens.get("shard_tokens", 0))],
        ["mean tokens per document", f"{total / tokens['documents']:,.1f}" if tokens["documents"] else "—"],
    ]
    parts.append("<h2>Settings</h2>" + _table(["", ""], settings, numeric_from=2))
    if stats["rejected"]:
        rows = [[f"<code>{escape(r)}</code>", _n(n)] for r, n in sorted(stats["rejected"].items(), key=lambda kv: -kv[1])]
        parts.append("<h2>Rejected</h2>" + _table(["reason", "documents"], rows))
    hist = tokens["tokens_per_document"]
    if hist:
        lows = sorted(int(b) for b in hist)
        labels = [_bucket_label(b) for b in lows]
        values = [float(hist[str(b)]) for b in lows]
        svg = columns_svg(labels, [Series("documents", values, BLUE)], "Tokens per document", "Documents by token count, power-of-two bins")
        parts.append(
            "<h2>Tokens per document</h2>" + svg + _table(["tokens", "documents"], [[escape(lab), _n(int(v))] for lab, v in zip(labels, values, strict=True)])
        )
    rows, _ = _share_rows(tokens["by_language"], total)
    parts.append("<h2>Tokens per language</h2>" + _table(["language", "documents", "tokens", "share"], rows))
    rows, hidden = _share_rows(tokens["by_source"], total, SOURCES_SHOWN)
    more = f"<p>… and {hidden:,} more sources (all of them are in <code>stats.json</code>)</p>" if hidden else ""
    parts.append("<h2>Tokens per source</h2>" + _table(["source", "documents", "tokens", "share"], rows) + more)
    shard_rows = [[f"<code>{escape(s['name'])}</code>", _n(s["documents"]), _n(s["tokens"])] for s in tokens["shards"]]
    parts.append("<h2>Shards</h2>" + _table(["shard", "documents", "tokens"], shard_rows))
    parts.append(f"<p>tamis {escape(str(stats.get('tamis_version')))} · config {escape(str(stats.get('config_fingerprint')))}</p></body></html>")
    return "".join(parts)


def write_tokens_report(root: Path) -> Path:
    stats = orjson.loads((Path(root) / "stats.json").read_bytes())
    path = Path(root) / "report.html"
    write_bytes_atomic(path, render_tokens_report(stats).encode("utf-8"))
    return path
