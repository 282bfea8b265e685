"""``OUT/report.html``: what a run kept, what it removed and why, as one self-contained page.

Sources are the run's own files only: ``stats.json`` (every count, exact), ``config.resolved.yaml``
(the thresholds) and the output and rejects shards (signal values, sample documents, duplicate
clusters), read within a bounded budget (see :mod:`tamis.report.sample`). The input is never
read again and nothing is recomputed from it.
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from tamis.errors import ConfigError
from tamis.gcpause import gc_paused
from tamis.io import yamltext
from tamis.io.atomic import atomic_open
from tamis.report.page import RunView, render
from tamis.report.sample import collect

__all__ = ["load_run", "write_report"]


def load_run(root: Path, *, read_shards: bool = True) -> RunView:
    """The run directory's stats and config (and, if asked, what its shards tell)."""
    stats_path = root / "stats.json"
    if not stats_path.is_file():
        msg = f"{root} has no stats.json: is it a finished tamis run?"
        raise ConfigError(msg)
    try:
        stats = orjson.loads(stats_path.read_bytes())
    except orjson.JSONDecodeError as exc:
        msg = f"{stats_path} is not valid JSON ({exc}); run the pipeline again to rewrite it"
        raise ConfigError(msg) from exc
    if not isinstance(stats, dict) or "read" not in stats:
        msg = f"{stats_path} is not a tamis stats file (no 'read' count)"
        raise ConfigError(msg)
    config_path = root / "config.resolved.yaml"
    config_text = config_path.read_text(encoding="utf-8") if config_path.is_file() else ""
    # the text this run just wrote is known without PyYAML; another goes to libyaml's parser
    config = yamltext.load_or_none(config_text) or {}
    findings = collect(root, stats) if read_shards else None
    return RunView(root=root, stats=stats, config_text=config_text, config=config if isinstance(config, dict) else {}, findings=findings)


def write_report(root: Path, against: Path | None = None) -> Path:
    """Write ``root/report.html`` (comparing with the run ``against`` if given); return its path."""
    root = Path(root)
    started = time.perf_counter()
    with gc_paused():  # tens of thousands of sampled records, no cycles among them
        run = load_run(root)
        other = load_run(Path(against), read_shards=False) if against is not None else None
        html = render(run, other, generated_in=time.perf_counter() - started)
    path = root / "report.html"
    # Whole or absent (renamed into place) but not fsynced (~5-10 ms of every run's end): no
    # program reads the report, and ``tamis report OUT`` writes it again from stats.json and the
    # shards, which are synced. A crash of the machine can leave it empty or cut short, which
    # shows as a broken page, never as data read as valid.
    with atomic_open(path, "wb", sync=False) as fh:
        fh.write(html.encode("utf-8"))
    return path
