"""The command line: exit codes, YAML recipes, dry runs, resume rules, the step list."""

import gzip
from pathlib import Path

import orjson
import pytest
import yaml
from runutil import kept, load_stats, rejected, write_jsonl

from tamis.cli import main


def corpus(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "in.jsonl", [{"id": f"d{i}", "text": f"Un texte numéro {i % 5} pour la ligne de commande."} for i in range(20)])


def run_cli(*args: str) -> int:
    """The CLI with the foundation recipe, so that steps joining the default recipe change nothing here."""
    if args and args[0] == "run":
        return main([*args, "--recipe", "foundation", "--no-report", "-q"])
    return main(list(args))


def test_run_then_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    src, out = corpus(tmp_path), tmp_path / "out"
    assert run_cli("run", "--input", str(src), "--output", str(out), "--workers", "1") == 0
    summary = capsys.readouterr().out
    assert "read 20 = kept 5 + rejected 15   [OK]" in summary
    # A non-empty OUT without --resume or --overwrite is a usage error, before any work.
    assert run_cli("run", "--input", str(src), "--output", str(out)) == 2
    assert "not empty" in capsys.readouterr().err
    assert run_cli("run", "--input", str(src), "--output", str(out), "--overwrite") == 0


def test_resume_of_a_finished_run_redoes_nothing_and_a_changed_config_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    src, out = corpus(tmp_path), tmp_path / "out"
    assert run_cli("run", "--input", str(src), "--output", str(out)) == 0
    markers = {p.name: p.stat().st_mtime_ns for p in (out / "_markers").iterdir()}
    assert run_cli("run", "--input", str(src), "--output", str(out), "--resume") == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "_markers").iterdir()} == markers
    assert run_cli("run", "--input", str(src), "--output", str(out), "--resume", "--format", "parquet") == 2
    assert "config changed" in capsys.readouterr().err


def test_input_errors_exit_1_and_are_listed(tmp_path: Path):
    src = tmp_path / "bad.jsonl"
    src.write_bytes(b'{"id": "ok", "text": "fine text"}\n{oops\n')
    out = tmp_path / "out"
    assert run_cli("run", "--input", str(src), "--output", str(out)) == 1
    (err,) = [orjson.loads(x) for x in (out / "errors.jsonl").read_bytes().splitlines()]
    assert (err["path"], err["line"], err["reason"]) == (str(src), 2, "reader:invalid_json")


def test_yaml_recipe_flags_override_and_unknown_keys_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    src = corpus(tmp_path)
    config = tmp_path / "recipe.yaml"
    config.write_text(yaml.safe_dump({"input": [src.name], "output": "from-yaml", "workers": 1, "steps": [{"step": "normalize"}, {"step": "exact_dedup"}]}))
    assert run_cli("run", str(config)) == 0
    assert load_stats(tmp_path / "from-yaml")["kept"] == 5  # relative paths are relative to the config
    assert run_cli("run", str(config), "--output", str(tmp_path / "flag-out"), "--format", "parquet") == 0
    assert list((tmp_path / "flag-out" / "output").glob("*.parquet"))
    config.write_text(yaml.safe_dump({"input": [str(src)], "outptu": "x"}))
    assert run_cli("run", str(config)) == 2
    assert "unknown key(s) outptu" in capsys.readouterr().err
    config.write_text(yaml.safe_dump({"input": [str(src)], "output": str(tmp_path / "o"), "steps": [{"step": "no_such_step"}]}))
    assert run_cli("run", str(config)) == 2
    assert "unknown step 'no_such_step'; available steps:" in capsys.readouterr().err
    config.write_text(yaml.safe_dump({"input": [str(src)], "output": str(tmp_path / "o"), "steps": [{"step": "repetition", "min_char": 3}]}))
    assert run_cli("run", str(config)) == 2
    assert "has no parameter(s) min_char" in capsys.readouterr().err
    config.write_text("steps: [unclosed")
    assert run_cli("run", str(config)) == 2


def test_yaml_cannot_execute_code(tmp_path: Path):
    config = tmp_path / "evil.yaml"
    config.write_text("input: !!python/object/apply:os.system ['echo pwned > pwned']\noutput: x\n")
    assert run_cli("run", str(config)) == 2
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_dry_run_prints_the_resolved_pipeline_and_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    src, out = corpus(tmp_path), tmp_path / "out"
    assert main(["run", "--input", str(src), "--output", str(out), "--dry-run"]) == 0
    resolved = yaml.safe_load(capsys.readouterr().out)
    steps = [s["step"] for s in resolved["steps"]]
    assert {"normalize", "repetition", "exact_dedup"} <= set(steps)
    assert resolved["steps"][steps.index("repetition")]["min_chars"] == 30
    assert resolved["fingerprint"] and resolved["output"] == str(out)
    assert not out.exists()


def test_limit_processes_the_first_n_documents_in_input_order(tmp_path: Path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": f"text a {i}"} for i in range(3)])
    b = write_jsonl(tmp_path / "b.jsonl", [{"id": f"b{i}", "text": f"text b {i}"} for i in range(3)])
    out = tmp_path / "out"
    assert run_cli("run", "--input", str(a), str(b), "--output", str(out), "--limit", "4", "--workers", "2") == 0
    assert [d["id"] for d in kept(out)] == ["a0", "a1", "a2", "b0"]
    assert load_stats(out)["read"] == 4


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert run_cli("run", "--output", str(tmp_path / "o")) == 2
    assert "no input" in capsys.readouterr().err
    assert run_cli("run", "--input", str(tmp_path / "missing.jsonl"), "--output", str(tmp_path / "o")) == 2
    assert "input not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["run", "--workers", "many"])
    assert exc.value.code == 2
    assert run_cli("run", "--input", str(corpus(tmp_path)), "--output", "https://example.org/run") == 2  # read-only scheme
    assert "read-only" in capsys.readouterr().err


def test_steps_lists_parameters_with_defaults(capsys: pytest.CaptureFixture[str]):
    assert main(["steps"]) == 0
    listing = capsys.readouterr().out
    for name in ("normalize:", "repetition:", "exact_dedup:"):
        assert name in listing
    assert "min_chars = 30" in listing
    assert main(["steps", "nope"]) == 2


def test_every_output_codec_round_trips(tmp_path: Path):
    src = corpus(tmp_path)
    for codec, suffix in (("gzip", ".jsonl.gz"), ("zstd", ".jsonl.zst"), ("none", ".jsonl")):
        out = tmp_path / codec
        assert run_cli("run", "--input", str(src), "--output", str(out), "--compression", codec) == 0
        (shard,) = (out / "output").iterdir()
        assert shard.name.endswith(suffix)
        assert sorted(d["id"] for d in kept(out)) == ["d0", "d1", "d2", "d3", "d4"]
    with gzip.open(tmp_path / "gzip" / "output" / "part-00000-0000.jsonl.gz") as fh:
        first = orjson.loads(fh.readline())
    assert set(first) == {"id", "text", "metadata"}


def test_unusable_outputs_and_inputs_are_clear_errors_not_tracebacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    src = corpus(tmp_path)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert run_cli("run", "--input", str(src), "--output", str(a_file)) == 2
    assert "is not a directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert run_cli("run", "--input", str(tmp_path / "empty"), "--output", str(tmp_path / "o")) == 2
    assert "no readable input" in capsys.readouterr().err
    blocked = tmp_path / "read-only"
    blocked.write_text("")  # a file where a parent folder should be
    assert run_cli("run", "--input", str(src), "--output", str(blocked / "run")) == 2
    err = capsys.readouterr().err
    assert "cannot create the run directory" in err and "Traceback" not in err


def test_no_text_writes_ids_and_metadata_and_whole_rejects(tmp_path: Path):
    src, out = corpus(tmp_path), tmp_path / "out"
    yaml_path = tmp_path / "dedup.yaml"
    yaml_path.write_text(yaml.safe_dump({"steps": [{"step": "exact_dedup"}]}))
    assert main(["run", str(yaml_path), "--input", str(src), "--output", str(out), "--workers", "1", "--no-text", "--no-report", "-q"]) == 0
    records = kept(out)
    assert [r["id"] for r in records] == ["d0", "d1", "d2", "d3", "d4"]
    assert all(r["text"] is None and r["metadata"]["source"]["path"] == str(src) for r in records)
    rejects = rejected(out)
    assert len(rejects) == 15 and all(r["text"].startswith("Un texte") for r in rejects)
    assert load_stats(out)["kept"] == 5
