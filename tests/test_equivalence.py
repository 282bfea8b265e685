"""Paths that must agree write the same run.

One corpus holds every input format (plain JSONL split into byte ranges, a truncated gzip, an
empty file, Parquet, plain text) with duplicates, near duplicates and bad records. Each stage
configuration is run once the reference way (the plain reader, JSONL output with texts) and
then over scanner on/off x output format x keep_text: kept records (texts absent without
keep_text), rejects, errors and stats (minus ``run``) must be those of the reference, and the
JSONL files themselves byte for byte the same with and without the scanner.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from runutil import kept, load_stats, rejected, run_recipe
from test_native_jsonl import _mixed_corpus

STAGES: dict[str, list[dict[str, Any]]] = {
    "exact": [{"step": "exact_dedup"}],
    "minhash": [{"step": "minhash", "threshold": 0.6, "partitions": 2}],
    "exact+minhash": [{"step": "exact_dedup"}, {"step": "minhash", "threshold": 0.6, "partitions": 2}],
}


def _corpus(folder: Path) -> list[Path]:
    inputs = _mixed_corpus(folder)
    base = "Le même paragraphe revient souvent dans ces pages, presque mot pour mot, avec une variante"
    texts = [f"{base} numéro {i % 7}.\nUne ligne propre à la page {i}." for i in range(40)]
    table = pa.table({"id": [f"pq{i}" for i in range(40)], "text": texts, "url": [f"https://example.org/{i}" for i in range(40)]})
    pq.write_table(table, folder / "d.parquet")
    (folder / "pages").mkdir()
    for i in range(5):
        (folder / "pages" / f"p{i}.txt").write_text(texts[i] if i % 2 else f"{base} numéro 1.\nUne ligne propre à la page 1.", encoding="utf-8")
    return [*inputs, folder / "d.parquet", folder / "pages"]


def _run(inputs: list[Path], out: Path, steps: list[dict[str, Any]], **config: Any) -> dict[str, Any]:
    run_recipe(inputs, out, steps, workers=1, compression="none", reader={"chunk_bytes": 20_000}, **config)
    stats = load_stats(out)
    run = stats.pop("run")
    stats.pop("config_fingerprint")  # covers the output settings, which differ on purpose
    return {
        "stats": stats,
        "kept": kept(out),
        "rejects": rejected(out),
        "errors": (out / "errors.jsonl").read_bytes(),
        "steps": run["steps"],
        "files": {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "output").glob("*.jsonl")) + sorted((out / "rejects").glob("*"))},
    }


def _apply_counts(rows: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Documents each stage decided and kept: its apply rows, and the rows of tasks that
    exact dedup decided in one pass (``.stream``, tamis.executors.stream)."""
    counts: dict[str, tuple[int, int]] = {}
    for r in rows:
        stage, _, phase = r["step"].rpartition(".")
        if phase in ("apply", "stream"):
            docs_in, docs_out = counts.get(stage, (0, 0))
            counts[stage] = (docs_in + r["docs_in"], docs_out + r["docs_out"])
    return counts


@pytest.mark.slow
@pytest.mark.parametrize("stage", list(STAGES))
def test_every_path_writes_what_the_reference_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str):
    inputs = _corpus(tmp_path)
    steps = STAGES[stage]
    monkeypatch.setenv("TAMIS_JSONL_SCANNER", "0")
    reference = _run(inputs, tmp_path / "reference", steps)
    assert reference["stats"]["read"] == reference["stats"]["kept"] + reference["stats"]["rejected_total"]
    assert sum(n for reason, n in reference["stats"]["rejected"].items() if not reason.startswith("reader:")) > 10, stage
    by_path: dict[tuple[str, bool], dict[str, bytes]] = {}
    for scanner, fmt, keep_text in itertools.product(("1", "0"), ("jsonl", "parquet"), (True, False)):
        monkeypatch.setenv("TAMIS_JSONL_SCANNER", scanner)
        label = f"{stage} scanner={scanner} format={fmt} keep_text={keep_text}"
        got = _run(inputs, tmp_path / f"s{scanner}-{fmt}-{keep_text}", steps, format=fmt, keep_text=keep_text)
        expected_kept = reference["kept"] if keep_text else [{**r, "text": None} for r in reference["kept"]]
        assert got["kept"] == expected_kept, label
        assert got["rejects"] == reference["rejects"], label
        assert got["errors"] == reference["errors"], label
        assert got["stats"] == reference["stats"], label
        # per-step counts: a stage's apply sees and keeps as many documents on every path
        assert _apply_counts(got["steps"]) == _apply_counts(reference["steps"]), label
        if fmt == "jsonl":
            previous = by_path.setdefault((fmt, keep_text), got["files"])
            assert got["files"] == previous, label  # the same bytes with and without the scanner


def test_per_step_rows_account_for_every_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TAMIS_FUSE_DEDUP", "0")  # the stages apart: each has its own rows
    inputs = _corpus(tmp_path)
    out = tmp_path / "run"
    run_recipe(inputs, out, [{"step": "normalize"}, {"step": "repetition"}, {"step": "exact_dedup"}, {"step": "minhash"}], workers=1, compression="none")
    stats = orjson.loads((out / "stats.json").read_bytes())
    rows = {r["step"]: r for r in stats["run"]["steps"]}
    assert list(rows)[:3] == ["read", "normalize", "repetition"]
    assert rows["read"]["docs_out"] == stats["read"] - sum(n for reason, n in stats["rejected"].items() if reason.startswith("reader:"))
    assert rows["repetition"]["docs_in"] == rows["normalize"]["docs_out"]
    assert rows["repetition"]["docs_in"] - rows["repetition"]["docs_out"] == stats["rejected"].get("repetition:all_lines_identical", 0)
    assert rows["exact_dedup.apply"]["docs_in"] - rows["exact_dedup.apply"]["docs_out"] == stats["rejected"]["exact_dedup:duplicate"]
    assert rows["write"]["docs_out"] == stats["kept"]
    assert {"exact_dedup.passes", "minhash.passes", "minhash.collect"} <= set(rows)
    for row in stats["run"]["steps"]:
        assert row["wall_s"] >= 0 and (row["cpu_s"] is None or row["cpu_s"] >= 0), row


def test_per_step_rows_of_the_fused_dedup_stage(tmp_path: Path):
    """exact_dedup then minhash run as one stage: one collect, passes and apply row, and the
    apply row accounts for both stages' rejects."""
    inputs = _corpus(tmp_path)
    out = tmp_path / "run"
    run_recipe(inputs, out, [{"step": "normalize"}, {"step": "repetition"}, {"step": "exact_dedup"}, {"step": "minhash"}], workers=1, compression="none")
    stats = orjson.loads((out / "stats.json").read_bytes())
    rows = {r["step"]: r for r in stats["run"]["steps"]}
    assert list(rows)[:4] == ["read", "normalize", "repetition", "exact_dedup+minhash.collect"]
    apply = rows["exact_dedup+minhash.apply"]
    assert apply["docs_in"] - apply["docs_out"] == stats["rejected"]["exact_dedup:duplicate"] + stats["rejected"].get("minhash:duplicate", 0)
    assert rows["write"]["docs_out"] == stats["kept"]
    assert "exact_dedup+minhash.passes" in rows and not any(step.startswith("minhash.") for step in rows)
