"""The outputs load with Hugging Face datasets, JSONL and Parquet, with one schema; rejects are
JSONL whatever the output format."""

from pathlib import Path

import pytest
from runutil import run_recipe, write_jsonl

datasets = pytest.importorskip("datasets")


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_output_loads_with_load_dataset(tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    line = "Une deuxième ligne assez longue pour être comptée."
    records = [{"id": f"d{i}", "text": f"Texte numéro {i}.\n{line}\n" * (1 + i % 2), "url": f"https://example.org/{i}"} for i in range(50)]
    records += [{"id": f"copy{i}", "text": records[i]["text"], "url": None} for i in range(10)]
    src = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "run"
    run_recipe([src], out, format=fmt, shard_size_mb=1)
    files = sorted(str(p) for p in (out / "output").iterdir())
    builder = "json" if fmt == "jsonl" else "parquet"
    ds = datasets.load_dataset(builder, data_files=files, split="train", cache_dir=str(tmp_path / "cache"))
    assert len(ds) == 50
    assert ds.column_names == ["id", "text", "metadata"]
    assert ds[0]["id"] == "d0"
    rejects = sorted(str(p) for p in (out / "rejects").iterdir())
    assert all(".jsonl" in name for name in rejects)
    rej = datasets.load_dataset("json", data_files=rejects, split="train", cache_dir=str(tmp_path / "cache2"))
    assert rej.column_names == ["id", "text", "metadata", "reason", "detail", "duplicate_of"]
    assert sorted(rej["duplicate_of"]) == sorted(f"d{i}" for i in range(10))
