"""Helpers shared by the foundation tests: write inputs, run a recipe, read results."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson

from tamis.io.runfiles import iter_records
from tamis.pipeline import RunConfig
from tamis.recipes import recipe
from tamis.runner import run


def write_jsonl(path: Path, records: list[dict[str, Any]], *, gz: bool = False) -> Path:
    blob = b"".join(orjson.dumps(r) + b"\n" for r in records)
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(blob)
    else:
        path.write_bytes(blob)
    return path


def run_recipe(inputs: list[Path], out: Path, steps: list[dict[str, Any]] | None = None, **config: Any) -> Any:
    cfg = RunConfig(
        input=[str(p) for p in inputs],
        output=str(out),
        steps=recipe("foundation") if steps is None else steps,
        report=config.pop("report", False),
        **config,
    )
    return run(cfg, overwrite=True)


def kept(out: Path) -> list[dict[str, Any]]:
    return list(iter_records(out, "output"))


def rejected(out: Path) -> list[dict[str, Any]]:
    return list(iter_records(out, "rejects"))


def load_stats(out: Path) -> dict[str, Any]:
    return orjson.loads((out / "stats.json").read_bytes())


def assert_accounting(out: Path, input_ids: list[str]) -> None:
    """read = kept + rejected, and every input id is in exactly one place, once."""
    stats = load_stats(out)
    assert stats["read"] == stats["kept"] + stats["rejected_total"]
    ids = [r["id"] for r in kept(out)] + [r["id"] for r in rejected(out)]
    assert sorted(ids) == sorted(input_ids)
    assert len(ids) == len(set(ids))
