"""Issue 12: what a user installs and runs must hold at the edges (each test failed before its fix)."""

from __future__ import annotations

import pickle
from pathlib import Path

import orjson
import pytest
import zstandard
from runutil import kept, load_stats, rejected, run_recipe, write_jsonl

from tamis.cli import main

STEPS = [{"step": "normalize"}]


def texts(n: int, prefix: str = "d") -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": f"Record {prefix} number {i} is not like any of the others here."} for i in range(n)]


def lines(records: list[dict]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def errors(out: Path) -> list[dict]:
    path = out / "errors.jsonl"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


# ---------------------------------------------------------------- 4: truncated zstd


@pytest.mark.parametrize("frames", [1, 3])
def test_truncated_zstd_is_reported_not_silently_short(tmp_path: Path, frames: int):
    records = texts(30)
    compressor = zstandard.ZstdCompressor()
    per = len(records) // frames
    blob = b"".join(compressor.compress(lines(records[i * per : (i + 1) * per])) for i in range(frames))
    whole, cut = tmp_path / "whole" / "a.jsonl.zst", tmp_path / "cut" / "a.jsonl.zst"
    whole.parent.mkdir()
    cut.parent.mkdir()
    whole.write_bytes(blob)
    cut.write_bytes(blob[:-7])
    run_recipe([whole], tmp_path / "out-whole", STEPS)
    assert len(kept(tmp_path / "out-whole")) == 30  # every frame is read
    run_recipe([cut], tmp_path / "out-cut", STEPS)
    reasons = [e["reason"] for e in errors(tmp_path / "out-cut")]
    assert reasons == ["reader:truncated"]
    assert "reader:invalid_json" not in {r["reason"] for r in rejected(tmp_path / "out-cut")}


# ---------------------------------------------------------------- 5: loaded state never pickled


def test_a_set_up_step_pickles_as_its_parameters():
    from tamis.registry import get_step_class

    step = get_step_class("language")(min_score=0.5)
    step.setup()
    clone = pickle.loads(pickle.dumps(step))
    assert clone.params() == step.params()
    assert clone._identifier is None  # the model is loaded again where the step runs


def test_limit_with_the_default_recipe_and_two_workers(tmp_path: Path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    write_jsonl(src / "a.jsonl", texts(8, "a"))
    write_jsonl(src / "b.jsonl", texts(8, "b"))
    code = main(["run", "-i", str(src), "-o", str(tmp_path / "out"), "--limit", "10", "--workers", "2", "--no-report", "-q"])
    assert code == 0, capsys.readouterr().err
    assert load_stats(tmp_path / "out")["read"] == 10


# ---------------------------------------------------------------- 9: parquet without text


def test_dedup_no_text_parquet(tmp_path: Path):
    src = write_jsonl(tmp_path / "a.jsonl", [*texts(5), {"id": "dup", "text": texts(1)[0]["text"]}])
    code = main(["dedup", "-i", str(src), "-o", str(tmp_path / "out"), "--no-text", "--format", "parquet", "--no-report", "-q", "-w", "1"])
    assert code == 0
    out = kept(tmp_path / "out")
    assert sorted(r["id"] for r in out) == [f"d{i}" for i in range(5)]
    assert all(r["text"] is None for r in out)
    assert [r["id"] for r in rejected(tmp_path / "out")] == ["dup"]


# ---------------------------------------------------------------- 2, 3: resume on changed input, overlaps


def test_resume_refuses_a_changed_input(tmp_path: Path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    write_jsonl(src / "b.jsonl", texts(4, "b"))
    out = tmp_path / "out"
    args = ["run", "-i", str(src), "-o", str(out), "--recipe", "foundation", "--no-report", "-q", "-w", "1"]
    assert main(args) == 0
    write_jsonl(src / "a.jsonl", texts(3, "a"))  # sorts first: every task index would shift
    assert main([*args, "--resume"]) == 2
    assert "input changed" in capsys.readouterr().err
    (src / "a.jsonl").unlink()
    assert main([*args, "--resume"]) == 0  # the same files again: resumable
    write_jsonl(src / "b.jsonl", texts(5, "b"))  # same name, new content
    assert main([*args, "--resume"]) == 2


@pytest.mark.parametrize("layout", ["output_is_input", "output_inside_input", "input_inside_output"])
def test_overlapping_input_and_output_refused(tmp_path: Path, layout: str, capsys):
    data = tmp_path / "data"
    data.mkdir()
    write_jsonl(data / "a.jsonl", texts(3))
    run_recipe([data], tmp_path / "R", STEPS)
    inp, out = {
        "output_is_input": (data, data),
        "output_inside_input": (data, data / "clean"),
        "input_inside_output": (tmp_path / "R" / "output", tmp_path / "R"),
    }[layout]
    before = sorted(p.name for p in (tmp_path / "R" / "output").iterdir())
    for extra in ([], ["--dry-run"]):
        assert main(["run", "-i", str(inp), "-o", str(out), "--overwrite", "--no-report", "-q", *extra]) == 2
        assert "choose an output folder outside every input" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "R" / "output").iterdir()) == before
    assert (data / "a.jsonl").exists() and not (data / "clean").exists()


def test_resume_with_overwrite_is_a_usage_error(tmp_path: Path, capsys):
    src = write_jsonl(tmp_path / "a.jsonl", texts(2))
    assert main(["run", "-i", str(src), "-o", str(tmp_path / "o"), "--resume", "--overwrite", "-q"]) == 2
    assert "contradict" in capsys.readouterr().err


# ---------------------------------------------------------------- 13, 14, 16: ids, BOM, dotted fields


def test_ids_keep_their_json_text(tmp_path: Path):
    raw = (
        b'{"id": 12345678901234567890123, "text": "A record whose id is a very long integer."}\n'
        b'{"id": 1.50, "text": "A record whose id is a number written with a decimal point."}\n'
        b'{"id": 7, "text": "A record whose id is a small integer, seven."}\n'
        b'{"id": true, "text": "A record whose id is a JSON boolean value."}\n'
    )
    (tmp_path / "a.jsonl").write_bytes(raw)
    for steps in (STEPS, [{"step": "exact_dedup"}]):  # the reference reader and the compiled scanner
        out = tmp_path / f"out{len(steps)}{steps[0]['step']}"
        run_recipe([tmp_path / "a.jsonl"], out, steps)
        assert [r["id"] for r in kept(out)] == ["12345678901234567890123", "1.50", "7", "true"]


def test_text_file_ids_are_relative_to_the_input_folder(tmp_path: Path):
    for sub in ("a", "b"):
        (tmp_path / "in" / sub).mkdir(parents=True)
        (tmp_path / "in" / sub / "readme.txt").write_text(f"The readme of folder {sub}, which says something of its own.")
    (tmp_path / "in" / "top.txt").write_text("A page at the top of the input folder, with words.")
    run_recipe([tmp_path / "in"], tmp_path / "out", STEPS)
    assert sorted(r["id"] for r in kept(tmp_path / "out")) == ["a/readme", "b/readme", "top"]


def test_utf8_bom_at_the_start_of_a_jsonl_file_is_skipped(tmp_path: Path):
    records = texts(3)
    (tmp_path / "a.jsonl").write_bytes(b"\xef\xbb\xbf" + lines(records))
    (tmp_path / "t.txt").write_bytes("\ufeffA text file written by a tool that adds a byte-order mark.".encode())
    for steps in (STEPS, [{"step": "exact_dedup"}]):
        out = tmp_path / f"out-{steps[0]['step']}"
        run_recipe([tmp_path / "a.jsonl", tmp_path / "t.txt"], out, steps)
        assert [r["id"] for r in kept(out)] == ["d0", "d1", "d2", "t"]
        assert not errors(out)
        assert not kept(out)[3]["text"].startswith("\ufeff")


def test_dotted_text_and_id_fields(tmp_path: Path):
    records = [{"meta": {"key": f"k{i}"}, "doc": {"body": r["text"], "lang": "en"}} for i, r in enumerate(texts(3))]
    write_jsonl(tmp_path / "a.jsonl", records)
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"meta": {"key": "p0"}, "doc": {"body": "A Parquet row with a nested text column in it."}}]), tmp_path / "b.parquet")
    for steps in (STEPS, [{"step": "exact_dedup"}]):
        out = tmp_path / f"out-{steps[0]['step']}"
        run_recipe([tmp_path / "a.jsonl", tmp_path / "b.parquet"], out, steps, reader={"text_field": "doc.body", "id_field": "meta.key"})
        got = kept(out)
        assert [r["id"] for r in got] == ["k0", "k1", "k2", "p0"]
        assert got[0]["text"] == records[0]["doc"]["body"]
        assert got[0]["metadata"]["doc"] == {"lang": "en"}  # the text is not kept twice
    flags = ["--text-field", "doc.body", "--id-field", "meta.key", "--recipe", "foundation", "--no-report", "-q"]
    assert main(["run", "-i", str(tmp_path / "a.jsonl"), "-o", str(tmp_path / "cli"), *flags]) == 0
    assert [r["id"] for r in kept(tmp_path / "cli")] == ["k0", "k1", "k2"]


# ---------------------------------------------------------------- 6, 7: odd file names, dangling links


def test_undecodable_file_name_and_dangling_link_are_input_errors(tmp_path: Path):
    import os

    src = tmp_path / "in"
    src.mkdir()
    write_jsonl(src / "ok.jsonl", texts(3))
    with open(os.path.join(os.fsencode(src), b"caf\xe9.jsonl"), "wb") as fh:
        fh.write(lines(texts(2, "x")))
    os.symlink(tmp_path / "nowhere.jsonl", src / "broken.jsonl")
    out = tmp_path / "out"
    args = ["run", "-i", str(src), "-o", str(out), "--recipe", "foundation", "--no-report", "-q", "-w", "2"]
    assert main(args) == 1  # done, with input errors
    assert [r["id"] for r in kept(out)] == ["d0", "d1", "d2"]
    found = {Path(e["path"]).name: e["reason"] for e in errors(out)}
    assert found == {"broken.jsonl": "reader:unreadable_file", "caf\\xe9.jsonl": "reader:unreadable_file"}
    assert main([*args, "--resume"]) == 1  # and a resume does not trip over them either


# ---------------------------------------------------------------- 8: every parameter checked at load


@pytest.mark.parametrize(
    ("recipe_text", "flags", "named"),
    [
        ("steps:\n  - step: repetition\n    min_chars: thirty\n", [], "min_chars = 'thirty'"),
        ('workers: "2"\n', [], "workers = '2'"),
        ("", ["--compression-level", "42"], "compression_level = 42"),
        ("", ["--compression", "zstd", "--compression-level", "99"], "compression_level = 99"),
        ("", ["--shard-size-mb", "0"], "shard_size_mb = 0"),
        ("", ["--max-doc-bytes", "-5"], "max_doc_bytes = -5"),
        ("", ["--workers", "0"], "workers = 0"),
        ("steps:\n  - step: language\n    allow: [en, xx]\n", [], "unknown language code(s) xx"),
        ("steps:\n  - step: gopher_quality\n    default_language: klingon\n", [], "default_language = 'klingon'"),
        ("steps:\n  - step: minhash\n    threshold: 1.5\n", [], "threshold = 1.5"),
        ("steps:\n  - step: gopher_quality\n    max_symbol_word_ratio: -0.1\n", [], "max_symbol_word_ratio = -0.1"),
        ("steps:\n  - step: normalize\n    nfc: 'yes'\n", [], "nfc = 'yes'"),
        ("reader:\n  encoding: latin-1\n", [], "encoding = 'latin-1'"),
    ],
)
def test_wrong_types_and_ranges_are_usage_errors_before_any_work(tmp_path: Path, capsys, recipe_text: str, flags: list[str], named: str):
    src = write_jsonl(tmp_path / "a.jsonl", texts(2))
    config = tmp_path / "recipe.yaml"
    config.write_text(f"input: [{src}]\noutput: {tmp_path / 'out'}\n" + recipe_text)
    for extra in ([], ["--dry-run"]):
        assert main(["run", str(config), *flags, "-q", "--no-report", *extra]) == 2
        err = capsys.readouterr().err
        assert named in err and "not allowed" in err
    assert not (tmp_path / "out").exists()


def test_every_step_builds_with_its_defaults_and_the_recipes_validate():
    from tamis.pipeline import build_steps
    from tamis.recipes import RECIPES, recipe
    from tamis.registry import all_steps

    for name in RECIPES:
        build_steps(recipe(name))
    for name in all_steps():
        if name != "url_filter":  # needs a block-list
            build_steps([{"step": name}])


def test_demo_refuses_a_non_empty_folder_and_bad_counts(tmp_path: Path, capsys):
    target = tmp_path / "demo"
    target.mkdir()
    (target / "mine.txt").write_text("not the demo's")
    assert main(["demo", str(target), "--docs", "40"]) == 2
    assert main(["demo", str(target), "--docs", "40", "--overwrite"]) == 2  # a file the demo did not write
    assert (target / "mine.txt").read_text() == "not the demo's"
    fresh = tmp_path / "fresh"
    assert main(["demo", str(fresh), "--docs", "40"]) == 0
    assert main(["demo", str(fresh), "--docs", "40"]) == 2
    assert main(["demo", str(fresh), "--docs", "60", "--overwrite"]) == 0
    with pytest.raises(SystemExit) as exc:
        main(["demo", str(tmp_path / "neg"), "--docs", "-3"])
    assert exc.value.code == 2
    assert "--docs" in capsys.readouterr().err


# ---------------------------------------------------------------- 12: one schema, a dataset card; 13: repeated ids


def test_load_dataset_on_a_run_over_mixed_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in"
    (src / "pages").mkdir(parents=True)
    body = "A sentence of the corpus with enough words in it to pass, number {}."
    write_jsonl(src / "a.jsonl", [{"id": f"a{i}", "text": body.format(i), "url": f"https://x.org/{i}", "tags": ["x"]} for i in range(30)])
    write_jsonl(src / "b.jsonl", [{"id": f"b{i}", "text": body.format(i), "score": 0.5} for i in range(3)])  # copies of a0-a2
    pq.write_table(pa.Table.from_pylist([{"id": f"p{i}", "text": f"A Parquet row, row {i}, that says its own thing."} for i in range(5)]), src / "c.parquet")
    for i in range(3):
        (src / "pages" / f"t{i}.txt").write_text(f"A text page, page {i}, with words of its own.")
    write_jsonl(src / "d.jsonl", [{"id": "a5", "text": "The same id as another record, but a text of its own."}])
    tricky = 'A text that looks like JSON: ","metadata":{"x":1},"reason":"no" and more words.'
    write_jsonl(src / "e.jsonl", [{"id": f"q{i}", "text": tricky, "reason": "a user field", "metadata": {"reason": 1}} for i in range(2)])
    out = tmp_path / "out"
    run_recipe([src], out, [{"step": "normalize"}, {"step": "exact_dedup"}], shard_size_mb=1)
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: kept" in card and "config_name: rejects" in card
    kept_ds = datasets.load_dataset(str(out), split="train", cache_dir=str(tmp_path / "c1"))
    assert len(kept_ds) == 30 + 5 + 3 + 1 + 1
    assert set(kept_ds.column_names) == {"id", "text", "metadata"}
    assert {"url", "tags", "source"} <= set(kept_ds.features["metadata"])
    rejects_ds = datasets.load_dataset(str(out), "rejects", split="train", cache_dir=str(tmp_path / "c2"))
    assert sorted(rejects_ds["duplicate_of"]) == ["a0", "a1", "a2", "q0"]
    assert kept_ds.filter(lambda r: r["id"] == "q0")[0]["text"] == tricky
    stats = load_stats(out)
    assert stats["duplicate_ids"] == {"count": 1, "examples": ["a5"]}
    assert "a5" in card


# ---------------------------------------------------------------- messages


def test_console_names_the_first_input_errors_and_strict_stops_with_exit_1(tmp_path: Path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(lines(texts(5)) + b'{"id": "x", "text": \n' + lines(texts(2, "z")))
    assert main(["run", "-i", str(bad), "-o", str(tmp_path / "out"), "--recipe", "foundation", "--no-report", "-q"]) == 1
    assert f"{bad}:6: malformed JSON" in capsys.readouterr().out
    assert main(["run", "-i", str(bad), "-o", str(tmp_path / "strict"), "--recipe", "foundation", "--no-report", "-q", "--strict"]) == 1
    err = capsys.readouterr().err
    assert "--strict" in err and f"{bad}:6:" in err and "--resume" not in err


def test_a_copy_differing_only_by_invisible_characters_is_an_exact_duplicate(tmp_path: Path):
    from tamis.text import normalize_for_hash, normalized_utf8

    original = "Le conseil a ouvert la nouvelle médiathèque du village hier matin."
    disguised = "Le\u200b conseil a ouvert la \u200dnouvelle\u2060 médiathèque du \u202evillage\u202c hier matin.\ufeff\u200e"
    assert normalize_for_hash(disguised) == normalize_for_hash(original)
    assert normalized_utf8(disguised) == normalized_utf8(original) == normalize_for_hash(original).encode()
    write_jsonl(tmp_path / "a.jsonl", [{"id": "o", "text": original}, {"id": "c", "text": disguised}])
    for steps in ([{"step": "exact_dedup"}], [{"step": "normalize"}, {"step": "exact_dedup"}]):  # scanner, then reference path
        out = tmp_path / f"out{len(steps)}"
        run_recipe([tmp_path / "a.jsonl"], out, steps)
        assert [r["id"] for r in kept(out)] == ["o"]
        assert [(r["id"], r["duplicate_of"]) for r in rejected(out)] == [("c", "o")]


# ---------------------------------------------------------------- 15: encoding auto


SHORT_WESTERN = {
    "fr": ["crème", "Où est la gare ?", "Une fête à côté du château."],
    "de": ["Bär", "Schöne Grüße aus München", "Die Größe der Straße."],
    "es": ["año", "¿Qué tal? Mañana.", "El niño comió en España."],
}


@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_encoding_auto_reads_short_western_records_in_their_code_page(tmp_path: Path, codec: str):
    raw = b""
    expected = []
    for language, phrases in SHORT_WESTERN.items():
        for i, phrase in enumerate(phrases):
            raw += orjson.dumps({"id": f"{language}{i}"})[:-1] + b', "text": "' + phrase.encode(codec) + b'"}\n'
            expected.append(phrase)
    (tmp_path / "legacy.jsonl").write_bytes(raw)
    (tmp_path / "page.txt").write_bytes("Une crème brûlée, s'il vous plaît.".encode(codec))
    out = tmp_path / "out"
    run_recipe([tmp_path / "legacy.jsonl", tmp_path / "page.txt"], out, STEPS, reader={"encoding": "auto"})
    got = kept(out)
    assert [r["text"] for r in got] == [*expected, "Une crème brûlée, s'il vous plaît."]
    assert {r["metadata"]["encoding"] for r in got} == {"cp1252"}


def test_encoding_auto_prefers_the_declared_language_family(tmp_path: Path):
    phrase = "Zażółć gęślą"
    raw = b'{"id": "pl", "lang": "pl", "text": "' + phrase.encode("cp1250") + b'"}\n'
    (tmp_path / "a.jsonl").write_bytes(raw)
    run_recipe([tmp_path / "a.jsonl"], tmp_path / "out", STEPS, reader={"encoding": "auto"})
    (doc,) = kept(tmp_path / "out")
    assert doc["text"] == phrase and doc["metadata"]["encoding"] == "cp1250"


def test_encoding_auto_reads_cyrillic_and_japanese_records_in_their_code_pages(tmp_path: Path):
    """The one guesser (tamis.io.encodings) on records of other scripts. A Russian record whose
    letters are mostly ASCII (a link, a product code) was read as windows-1252 by the guess of
    before, which took mostly-ASCII letters for Latin-script text."""
    russian = "Подробнее о Кремле: https://example.com/news/2024/05/moscow-kremlin-museum-tickets-and-opening-hours.html (ref. KREMLIN-2024-05)"
    japanese = "日本の首都は東京です。東京には多くの人が住んでおり、電車で通勤しています。"
    raw = b'{"id": "ru", "text": "' + russian.encode("cp1251") + b'"}\n' + b'{"id": "ja", "text": "' + japanese.encode("shift_jis") + b'"}\n'
    (tmp_path / "a.jsonl").write_bytes(raw)
    run_recipe([tmp_path / "a.jsonl"], tmp_path / "out", STEPS, reader={"encoding": "auto"})
    got = {doc["id"]: doc for doc in kept(tmp_path / "out")}
    assert got["ru"]["text"] == russian and got["ru"]["metadata"]["encoding"] == "cp1251"
    assert got["ja"]["text"] == japanese and got["ja"]["metadata"]["encoding"] in ("shift_jis", "cp932")


def test_every_command_help_lists_defaults_and_exit_codes(capsys):
    import argparse

    from tamis.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, command in sub.choices.items():
        for action in command._actions:
            takes_value = action.option_strings and action.nargs != 0 and not isinstance(action, argparse._HelpAction)
            if takes_value:
                shown = command.formatter_class(name)._get_help_string(action) or ""
                assert "default" in shown or "(required)" in shown, f"tamis {name} {action.option_strings[0]}: no default in its help"
        if name == "tokenizer":
            continue  # a group of commands (tokenizer train)
        with pytest.raises(SystemExit):
            main([name, "--help"])
        shown = capsys.readouterr().out
        assert "exit codes:" in shown and "143" in shown and "130" in shown


def test_progress_counts_documents_and_names_what_runs_for_a_single_file(tmp_path: Path, capsys):
    import re

    from tamis.pipeline import RunConfig
    from tamis.runner import run

    src = write_jsonl(tmp_path / "one.jsonl", texts(300) + texts(20))
    config = RunConfig(input=[str(src)], output=str(tmp_path / "out"), steps=[{"step": "normalize"}, {"step": "exact_dedup"}], report=False, workers=2)
    run(config, progress=True)
    shown = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", capsys.readouterr().err.replace("\r", "\n"))
    assert re.search(r"reading, exact_dedup: collecting: 320 docs .*MB", shown), shown
    assert "exact_dedup: resolving" in shown and re.search(r"exact_dedup: applying: 320 docs", shown)
    assert "segment" not in shown and "round" not in shown and " task" not in shown
    assert not (tmp_path / "out" / "_progress").exists()


def test_an_input_argument_whose_name_is_not_utf8_is_a_usage_error(tmp_path: Path, capsys):
    import os

    name = os.path.join(os.fsencode(tmp_path), b"caf\xe9.jsonl")
    with open(name, "wb") as fh:
        fh.write(lines(texts(2)))
    assert main(["run", "-i", os.fsdecode(name), "-o", str(tmp_path / "out"), "-q", "--no-report"]) == 2
    assert "caf\\xe9.jsonl is not valid UTF-8" in capsys.readouterr().err
