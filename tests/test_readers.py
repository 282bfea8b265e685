"""Readers: every format, configurable fields, and bad input that is reported, never lost."""

import gzip
import itertools
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from runutil import assert_accounting, kept, rejected, run_recipe, write_jsonl

from tamis.cli import main
from tamis.io.readers import BadRecord, ReaderOptions, plan_tasks, read_task

STEPS = [{"step": "normalize"}]  # no dedup: every readable record must come out


def docs(n: int, prefix: str = "d") -> list[dict]:
    return [{"id": f"{prefix}{i}", "text": f"Document number {i} says something different from the others."} for i in range(n)]


def errors(out: Path) -> list[dict]:
    path = out / "errors.jsonl"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def test_jsonl_plain_gzip_zstd_parquet_and_text_all_read(tmp_path: Path):
    write_jsonl(tmp_path / "a.jsonl", docs(3, "a"))
    write_jsonl(tmp_path / "b.jsonl.gz", docs(3, "b"), gz=True)
    (tmp_path / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(b"".join(orjson.dumps(d) + b"\n" for d in docs(3, "c"))))
    pq.write_table(pa.Table.from_pylist(docs(3, "p")), tmp_path / "d.parquet")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "page-one.txt").write_text("A plain text page with a few words in it.", encoding="utf-8")
    with gzip.open(tmp_path / "pages" / "release.v2.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write("A compressed page whose name has dots in it.")
    out = tmp_path / "run"
    run_recipe([tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz", tmp_path / "c.jsonl.zst", tmp_path / "d.parquet", tmp_path / "pages"], out, STEPS)
    ids = [d["id"] for d in kept(out)]
    assert ids == [f"{p}{i}" for p in "abcp" for i in range(3)] + ["page-one", "release.v2"]
    first = kept(out)[0]
    assert first["metadata"]["source"] == {"path": str(tmp_path / "a.jsonl"), "line": 1}


def test_field_names_are_configurable_and_extra_fields_become_metadata(tmp_path: Path):
    write_jsonl(tmp_path / "x.jsonl", [{"content": "Some text that is long enough.", "doc_id": 7, "url": "https://example.org/a"}])
    out = tmp_path / "run"
    run_recipe([tmp_path / "x.jsonl"], out, STEPS, reader={"text_field": "content", "id_field": "doc_id"})
    (doc,) = kept(out)
    assert doc["id"] == "7"
    assert doc["metadata"]["url"] == "https://example.org/a"


def test_record_without_id_gets_one_from_its_position(tmp_path: Path):
    path = write_jsonl(tmp_path / "noid.jsonl", [{"text": "first text here"}, {"text": "second text here"}])
    out = tmp_path / "run"
    run_recipe([path], out, STEPS)
    assert [d["id"] for d in kept(out)] == [f"{path}:1", f"{path}:2"]


def test_bad_records_are_rejected_with_file_and_line_and_the_rest_is_kept(tmp_path: Path):
    good = [orjson.dumps(d) for d in docs(4)]
    lines = [
        good[0],
        b'{"id": "broken", "text": "unterminated',  # line 2: malformed JSON
        good[1],
        b'{"id": "latin1", "text": "caf\xe9"}',  # line 4: invalid UTF-8
        b'{"id": "notext", "body": "wrong field"}',  # line 5: no text
        b'{"id": "empty", "text": "   "}',  # line 6: empty
        good[2],
        b"[1, 2, 3]",  # line 8: not an object
        good[3],
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "run"
    outcome = run_recipe([path], out, STEPS)
    assert outcome.input_errors == 5
    assert [d["id"] for d in kept(out)] == ["d0", "d1", "d2", "d3"]
    reasons = {r["id"]: r["reason"] for r in rejected(out)}
    assert reasons == {
        f"{path}:2": "reader:invalid_json",
        f"{path}:4": "reader:invalid_utf8",
        "notext": "reader:missing_text",
        "empty": "reader:empty",
        f"{path}:8": "reader:invalid_json",
    }
    located = {(e["line"], e["reason"]) for e in errors(out)}
    assert located == {(2, "reader:invalid_json"), (4, "reader:invalid_utf8"), (5, "reader:missing_text"), (6, "reader:empty"), (8, "reader:invalid_json")}
    assert all(e["path"] == str(path) for e in errors(out))
    # The undecodable line is kept whole in the rejects, its bad byte escaped, not dropped.
    latin = next(r for r in rejected(out) if r["reason"] == "reader:invalid_utf8")
    assert "caf\\xe9" in latin["text"]
    assert_accounting(out, ["d0", "d1", "d2", "d3", f"{path}:2", f"{path}:4", "notext", "empty", f"{path}:8"])


def test_encoding_auto_reads_legacy_encodings(tmp_path: Path):
    path = tmp_path / "legacy.txt"
    path.write_bytes("Le café de la gare est ouvert tous les jours de la semaine, même le dimanche matin.".encode("cp1252"))
    out = tmp_path / "run"
    run_recipe([path], out, STEPS, reader={"encoding": "auto"})
    (doc,) = kept(out)
    assert "café" in doc["text"]
    assert doc["metadata"]["encoding"]
    strict = tmp_path / "strict"
    run_recipe([path], strict, STEPS)
    assert [r["reason"] for r in rejected(strict)] == ["reader:invalid_utf8"]


def test_text_files_in_utf16_and_utf32_are_read(tmp_path: Path):
    """What Windows tools save as "Unicode" text: UTF-16 (or UTF-32) with its byte order mark is
    read in either mode (the mark says the encoding: no guess); UTF-16 without a mark is read
    with encoding: auto (utf16_by_zeros), and in strict mode is an invalid-UTF-8 reject whose
    message (use encoding: auto) is then true."""
    text = "Le conseil a voté le budget mardi soir, après trois heures de débat.\nLa séance a fini tard."
    folder = tmp_path / "in"
    folder.mkdir()
    for name, encoding in (("u16.txt", "utf-16"), ("u16be.txt", "utf-16-be"), ("u32.txt", "utf-32"), ("u8.txt", "utf-8")):
        (folder / name).write_bytes(text.encode(encoding))
    (folder / "u16be-mark.txt").write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    found = {}
    for mode in ("utf-8", "auto"):
        out = tmp_path / mode
        run_recipe([folder], out, STEPS, reader={"encoding": mode})
        found[mode] = {r["id"]: (r["text"], r["metadata"].get("encoding")) for r in kept(out)}
        assert all(body == text for body, _ in found[mode].values())
        assert_accounting(out, [*found[mode], *(r["id"] for r in rejected(out))])
    marked = {"u16": (text, "utf-16-le"), "u16be-mark": (text, "utf-16-be"), "u32": (text, "utf-32-le"), "u8": (text, None)}
    assert found["utf-8"] == marked
    assert found["auto"] == {**marked, "u16be": (text, "utf-16-be")}
    assert [(r["id"], r["reason"]) for r in rejected(tmp_path / "utf-8")] == [("u16be", "reader:invalid_utf8")]


def test_a_utf16_jsonl_file_says_what_to_do(tmp_path: Path):
    """PowerShell 5's ``>`` writes UTF-16: every line is a located reject, as before, and each
    message now says why and what to do; a bad UTF-8 line says nothing of it."""
    lines = "".join(orjson.dumps(d).decode() + "\r\n" for d in docs(3))
    (tmp_path / "wide.jsonl").write_bytes(lines.encode("utf-16"))
    (tmp_path / "bad.jsonl").write_bytes(b'{"id": "x", "text": "no end\n')
    out = tmp_path / "run"
    run_recipe([tmp_path / "wide.jsonl", tmp_path / "bad.jsonl"], out, STEPS)
    found = {(Path(e["path"]).name, e["line"]): e["message"] for e in errors(out)}
    wide = [message for (name, _), message in found.items() if name == "wide.jsonl"]
    assert len(wide) >= 3 and all("looks like UTF-16" in m and "iconv -f UTF-16 -t UTF-8" in m for m in wide)
    assert "UTF-16" not in found[("bad.jsonl", 1)]
    assert_accounting(out, [r["id"] for r in rejected(out)])


def test_files_no_reader_takes_are_counted_and_said(tmp_path: Path, capsys):
    """A site mirror's .php and .aspx pages, a .csv beside the data: left out as before (a folder's
    README or checksums are no input), and now counted by suffix in stats.json and the summary."""
    folder = tmp_path / "mirror"
    (folder / "sub").mkdir(parents=True)
    write_jsonl(folder / "data.jsonl", docs(2))
    for name in ("page.php", "sub/item.aspx", "sub/other.php", "table.csv"):
        (folder / name).write_text("<p>not read</p>")
    out = tmp_path / "run"
    assert main(["run", "-i", str(folder), "-o", str(out), "--no-report", "-w", "1"]) == 0
    stats = orjson.loads((out / "stats.json").read_bytes())
    assert stats["read"] == 2 and stats["skipped_files"] == {".php": 2, ".aspx": 1, ".csv": 1}
    assert "files left out (their names say no format tamis reads): 4 (.php 2, .aspx 1, .csv 1)" in capsys.readouterr().out
    clean = tmp_path / "clean"
    assert main(["run", "-i", str(folder / "data.jsonl"), "-o", str(clean), "--no-report", "-w", "1"]) == 0
    assert "skipped_files" not in orjson.loads((clean / "stats.json").read_bytes())


def test_a_parquet_binary_text_column_is_decoded_and_every_row_counted(tmp_path: Path):
    """A text column of Parquet's binary type (bytes, no UTF-8 annotation): each value decoded as
    a text file's bytes are (UTF-8; legacy code pages with encoding: auto); a value that does not
    decode is a located reject, and the rows after it are read. Before, the first value ended
    the file's reading as "Parquet data is corrupt" and its rows were never counted."""
    body = "Le conseil a voté le budget mardi soir, après trois heures de débat."
    table = pa.table({"id": ["a", "b", "c", "d"], "text": pa.array([body.encode(), body.encode("cp1252"), None, b"plain"], pa.binary())})
    pq.write_table(table, tmp_path / "binary.parquet")
    found = {}
    for mode in ("utf-8", "auto"):
        out = tmp_path / mode
        run_recipe([tmp_path / "binary.parquet"], out, STEPS, reader={"encoding": mode})
        found[mode] = ({r["id"]: r["text"] for r in kept(out)}, {r["id"]: r["reason"] for r in rejected(out)})
        assert_accounting(out, ["a", "b", "c", "d"])
    assert found["utf-8"] == ({"a": body, "d": "plain"}, {"b": "reader:invalid_utf8", "c": "reader:missing_text"})
    assert found["auto"] == ({"a": body, "b": body, "d": "plain"}, {"c": "reader:missing_text"})


def test_bzip2_and_xz_inputs_are_read(tmp_path: Path):
    """JSON Lines, text and HTML under .bz2 and .xz (as datatrove's fsspec infers them): read as
    their gzip forms are; an xz stream cut short keeps the records before the cut, as gzip's does."""
    import bz2
    import lzma

    lines = b"".join(orjson.dumps(d) + b"\n" for d in docs(300))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl.bz2").write_bytes(bz2.compress(lines))
    (folder / "b.ndjson.xz").write_bytes(lzma.compress(lines.replace(b'"d', b'"x')))
    (folder / "c.txt.xz").write_bytes(lzma.compress(b"A text file that xz compressed, with words."))
    (folder / "d.md.bz2").write_bytes(bz2.compress(b"A markdown file that bzip2 compressed, with words."))
    out = tmp_path / "run"
    run_recipe([folder], out, STEPS)
    ids = [r["id"] for r in kept(out)]
    assert ids == [f"d{i}" for i in range(300)] + [f"x{i}" for i in range(300)] + ["c", "d"]
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "e.jsonl.xz").write_bytes(lzma.compress(lines)[:-200])
    out = tmp_path / "cut-run"
    run_recipe([cut], out, STEPS)
    (err,) = errors(out)
    assert err["reason"] == "reader:truncated" and "Compressed file ended" in err["message"]
    got = [r["id"] for r in kept(out)]
    assert 0 < len(got) < 300 and got == [f"d{i}" for i in range(len(got))]
    assert_accounting(out, got + [r["id"] for r in rejected(out)])


def test_a_jsonl_file_that_is_not_json_lines_says_how_to_make_it_so(tmp_path: Path):
    """One JSON array on one line, an indented array, an indented object under a JSON Lines name:
    each line is a located reject, and the first says what the file looks like and the jq
    command that rewrites it as JSON Lines. (Under a .json name they are read: below.)"""
    records = docs(2)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "array.jsonl").write_bytes(orjson.dumps(records))
    (folder / "indented.jsonl").write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))
    (folder / "object.ndjson").write_bytes(orjson.dumps(records[0], option=orjson.OPT_INDENT_2))
    out = tmp_path / "run"
    run_recipe([folder], out, STEPS)
    first = {Path(e["path"]).name: e["message"] for e in errors(out) if e["line"] == 1}
    assert first["array.jsonl"].startswith("a JSON line must be an object, got list; the file looks like one JSON array")
    assert "looks like indented JSON" in first["indented.jsonl"] and "jq -c '.[]' FILE > FILE.jsonl" in first["indented.jsonl"]
    assert "jq -c '.' FILE > FILE.jsonl" in first["object.ndjson"]
    assert kept(out) == [] and len(rejected(out)) == len(errors(out))


def test_a_json_file_holding_one_document_is_read_record_by_record(tmp_path: Path):
    """A .json file holding a JSON array of records (``json.dump(records, f, indent=2)``, what
    Hugging Face's json loader reads) was read as JSON Lines: every line of it a reject, and
    ``read`` counted lines. It is read as one document: each object a record, numbered in the
    array; one indented object is one record. A .json file of JSON Lines stays JSON Lines."""
    records = docs(3)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-indented.json").write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))
    (folder / "b-compact.json").write_bytes(orjson.dumps([{"text": r["text"] + " Again."} for r in records]))
    (folder / "c-zipped.json.gz").write_bytes(gzip.compress(b"\xef\xbb\xbf \n" + orjson.dumps([{"id": "z1", "text": "A zipped record."}])))
    (folder / "d-object.json").write_bytes(orjson.dumps({"id": "o1", "text": "One indented object."}, option=orjson.OPT_INDENT_2))
    (folder / "e-lines.json").write_bytes(b"".join(orjson.dumps(r | {"id": "l-" + r["id"]}) + b"\n" for r in records))
    (folder / "f-mixed.json").write_bytes(b'[\n  {"id": "m1", "text": "Kept."},\n  "a string",\n  {"id": "m3", "body": "no text", "lang": "en"}\n]')
    (folder / "g-empty.json").write_bytes(b"[]")
    (folder / "g-stream.json").write_bytes(b'{\n  "id": "s1",\n  "text": "jq ."\n}\n{\n  "id": "s2",\n  "text": "output"\n}\n')
    (folder / "h-broken.json").write_bytes(b'[\n  {"id": "x", "text": "fine"},\n  {"id": "y", "text": oops}\n]')
    (folder / "i-stream-broken.json").write_bytes(b'{\n  "id": "t1",\n  "text": "ok"\n}\n{\n  "id": "t2",\n  "text": oops\n}\n')
    (folder / "j-stream-deep.json").write_bytes(b'{\n  "text": "ok"\n}\n' + b"[" * 100_000 + b"]" * 100_000)
    tasks = plan_tasks([str(folder)], ReaderOptions(batch_bytes=0))
    assert [t.format for t in tasks] == ["json", "json", "json", "json", "jsonl", "json", "json", "json", "json", "json", "json"]
    out = tmp_path / "run"
    run_recipe([folder], out, STEPS)
    compact = str(folder / "b-compact.json")
    ids = [r["id"] for r in records] + [f"{compact}:{i}" for i in (1, 2, 3)] + ["z1", "o1"] + ["l-" + r["id"] for r in records] + ["m1", "m3"]
    assert [r["id"] for r in kept(out)] == [*ids[:11], "m1", "s1", "s2"]  # g-stream.json: jq's output, values one after another
    assert kept(out)[3]["metadata"]["source"] == {"path": compact, "line": 1}
    found = {(Path(e["path"]).name, e["line"], e["reason"]) for e in errors(out)}
    assert found == {
        ("f-mixed.json", 2, "reader:invalid_json"),
        ("f-mixed.json", 3, "reader:missing_text"),
        ("g-empty.json", None, "reader:empty_file"),
        ("h-broken.json", 3, "reader:invalid_json"),
        ("i-stream-broken.json", 7, "reader:invalid_json"),  # where the second value breaks
        ("j-stream-deep.json", 4, "reader:invalid_json"),  # too deep for either parser: one reject, no crash
    }
    messages = {e["line"]: e["message"] for e in errors(out) if e["path"].endswith("f-mixed.json")}
    assert messages[2] == "record 2 of the JSON document is not an object (got str)"
    assert messages[3] == "record has no 'text' field (its fields: body, lang; --text-field names the one to read)"
    broken = [f"{folder / name}:{line}" for name, line in (("f-mixed.json", 2), ("h-broken.json", 3), ("i-stream-broken.json", 7), ("j-stream-deep.json", 4))]
    assert_accounting(out, [*ids, "s1", "s2", *broken])
    # Forced: --input-format json reads a file of any name as one document; jsonl keeps a .json file JSON Lines
    assert [t.format for t in plan_tasks([str(folder / "a-indented.json")], ReaderOptions(), input_format="jsonl")] == ["jsonl"]
    (tmp_path / "records.txt").write_bytes(orjson.dumps(records))
    assert [d.id for d in read_task(plan_tasks([str(tmp_path / "records.txt")], ReaderOptions(), input_format="json")[0], ReaderOptions())] == ids[:3]


def test_a_json_document_over_the_cap_is_refused_with_the_command_that_converts_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from tamis.io import readers

    monkeypatch.setattr(readers, "line_cap", lambda options: 1000)
    path = tmp_path / "big.json"
    path.write_bytes(orjson.dumps(docs(40), option=orjson.OPT_INDENT_2))
    (task,) = plan_tasks([str(path)], ReaderOptions())
    (bad,) = read_task(task, ReaderOptions())
    assert isinstance(bad, BadRecord) and bad.error.reason == "reader:too_large" and bad.error.line == 1
    assert "jq -c '.[]'" in str(bad.error) and bad.doc is not None and bad.doc.text.startswith("[")


def test_a_linked_folder_is_read_once_and_hidden_folders_are_not(tmp_path: Path):
    """``data/ -> elsewhere`` inside an input folder is read (os.walk alone left it out, silently);
    a loop of links ends; a folder reached twice is read once; .git and other hidden folders are
    no input (and so not counted as files left out)."""
    import os

    outside = tmp_path / "outside"
    outside.mkdir()
    write_jsonl(outside / "linked.jsonl", docs(2, "l"))
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    write_jsonl(folder / "sub" / "own.jsonl", docs(2, "o"))
    os.symlink(outside, folder / "data")
    os.symlink(outside, folder / "sub" / "again")  # the same folder by a second link
    os.symlink(folder, folder / "sub" / "loop")  # a loop back to the top
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main")
    write_jsonl(folder / ".git" / "hidden.jsonl", docs(1, "h"))
    out = tmp_path / "run"
    run_recipe([folder], out, STEPS)
    assert sorted(r["id"] for r in kept(out)) == ["l0", "l1", "o0", "o1"]
    assert "skipped_files" not in orjson.loads((out / "stats.json").read_bytes())


def test_a_json_line_escaping_half_a_surrogate_pair_is_kept(tmp_path: Path):
    """JSON escapes a lone UTF-16 surrogate legally ("\\ud83d": half an emoji, from text cut at a
    UTF-16 length); orjson refuses the line, so the record was a reader:invalid_json reject. Now
    the half becomes U+FFFD, in the text, the id and the metadata, and the record is read; a pair
    stays the character it spells, and the rest of the line is as written. Both JSONL paths."""
    import json

    lines = [
        json.dumps({"id": "cut\ud83d", "text": "Half an emoji \ud83d here, and a whole one \U0001f600 there.", "tags": ["a\udc00"]}),
        json.dumps({"id": "fine", "text": "A line orjson reads."}),
        '{"id": "broken", "text": "\\ud83d" ',  # not JSON for either parser: a reject, as before
    ]
    # A surrogate's own UTF-8 bytes (CESU-8) are bad bytes, not an escape: orjson names surrogates
    # for them too, and the line stays an invalid-UTF-8 reject.
    cesu = b'{"id": "cesu", "text": "' + "\ud83d".encode("utf-8", "surrogatepass") + b'"}\n'
    (tmp_path / "in.jsonl").write_bytes(("\n".join(lines) + "\n").encode() + cesu)
    run_recipe([tmp_path / "in.jsonl"], tmp_path / "run", STEPS)
    assert main(["dedup", "-i", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "dedup"), "--no-report", "-w", "1", "-q"]) == 1
    for command in ("run", "dedup"):
        out = tmp_path / command
        records = {r["id"]: r for r in kept(out)}
        assert records["cut\ufffd"]["text"] == "Half an emoji \ufffd here, and a whole one \U0001f600 there."
        assert records["cut\ufffd"]["metadata"]["tags"] == ["a\ufffd"] and "fine" in records
        assert sorted(r["reason"] for r in rejected(out)) == ["reader:invalid_json", "reader:invalid_utf8"]


def _giant_line_file(path: Path, before: int, after: int, line_bytes: int) -> None:
    """Records, one JSON line of ``line_bytes`` (no newline inside), records: written a
    megabyte at a time (gzip where the name says so), never held whole."""
    with gzip.open(path, "wb", compresslevel=1) if path.suffix == ".gz" else open(path, "wb") as fh:
        fh.write(b"".join(orjson.dumps(d) + b"\n" for d in docs(before, "b")))
        fh.write(b'{"id": "giant", "text": "')
        chunk = b"a" * (1 << 20)
        for _ in range(line_bytes >> 20):
            fh.write(chunk)
        fh.write(b'"}\n')
        fh.write(b"".join(orjson.dumps(d) + b"\n" for d in docs(before + after, "z")[before:]))  # texts unlike the first ones


@pytest.mark.parametrize("name", ["giant.jsonl.gz", "giant.jsonl"])
def test_a_line_longer_than_the_cap_is_read_past_not_held(tmp_path: Path, name: str):
    """One JSON line longer than any record (line_cap: 8 x max_doc_bytes, 64 MiB at least): a
    reader:too_large reject in its place, its first max_doc_bytes kept, the records around it
    read, in both JSONL paths (run's reader, dedup's block framing) and across byte ranges
    (plain file, 4 MiB ranges). The dedup path used to glue such a line read by read
    (quadratic: a 4.6 MB gzip file of one 1 GB line ran past 120 s), and both held it whole."""
    from tamis.io.readers import line_cap

    path = tmp_path / name
    cap = line_cap(ReaderOptions(max_doc_bytes=1 << 20))
    _giant_line_file(path, 3, 4, cap + (2 << 20))
    runs = {"run": tmp_path / "run", "dedup": tmp_path / "dedup"}
    run_recipe([path], runs["run"], STEPS, reader={"max_doc_bytes": 1 << 20, "chunk_bytes": 4 << 20})
    assert main(["dedup", "-i", str(path), "-o", str(runs["dedup"]), "--no-report", "-q", "-w", "1", "--max-doc-bytes", str(1 << 20)]) == 1
    for out in runs.values():
        assert [r["id"] for r in kept(out)] == [f"b{i}" for i in range(3)] + [f"z{i}" for i in range(3, 7)]
        (reject,) = rejected(out)
        assert reject["reason"] == "reader:too_large" and reject["id"].endswith(":4") and len(reject["text"]) == 1 << 20
        (err,) = errors(out)
        assert err["line"] == 4 and f"line of {cap + (2 << 20) + 27:,} bytes is longer than any record read" in err["message"]
        assert_accounting(out, [r["id"] for r in kept(out)] + [reject["id"]])


def test_iter_stream_lines_caps_a_line_as_splitting_would_not():
    """Lines as bytes.split gives them, and each line over ``max_line`` as an Overlong with its
    head and length, whatever the reads' sizes."""
    import io
    import random

    from tamis.io.streams import Overlong, iter_stream_lines

    rng = random.Random(5)
    for _ in range(2000):
        data = b"".join(rng.choice([b"a", b"bb", b"\n", b"ccccccc", b"\n\n"]) for _ in range(rng.randint(0, 60)))
        block = rng.randint(1, 8)
        cap = rng.randint(block + 1, block + 12)
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        want = [line if len(line) <= cap else (line[:3], len(line)) for line in lines]
        got = [g if isinstance(g, bytes) else (g.head, g.length) for g in iter_stream_lines(io.BytesIO(data), block, max_line=cap, keep=3)]
        assert got == want, (data, block, cap)
        assert all(not isinstance(g, Overlong) for g in iter_stream_lines(io.BytesIO(data), block))


def test_damaged_compressed_text_and_html_files_are_located_errors(tmp_path: Path):
    """A cut or corrupt .txt/.html under any codec is one located input error; the files beside
    it are read (an lzma or zstd error used to fail the whole batch's task), and a text file that
    decompresses past max_doc_bytes is a reader:too_large reject read only that far."""
    import lzma

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-cut.txt.xz").write_bytes(lzma.compress(b"Some text that is long enough to matter here.")[:-20])
    (folder / "b-junk.html.xz").write_bytes(b"not xz at all")
    (folder / "c-junk.txt.bz2").write_bytes(b"BZh9 garbage")
    (folder / "d-junk.txt.zst").write_bytes(b"\x28\xb5\x2f\xfd garbage")
    (folder / "e-cut.txt.gz").write_bytes(gzip.compress(b"Some text that is long enough to matter here.")[:-10])
    (folder / "f-fine.txt").write_text("A fine text file, with words in it.")
    (folder / "g-big.txt.gz").write_bytes(gzip.compress(b"word " * (3 << 20)))  # 15 MB of text
    (folder / "h-big.txt").write_bytes("é".encode() * (1 << 20))  # 2 MiB: the cut falls inside a character
    out = tmp_path / "run"
    run_recipe([folder], out, STEPS, reader={"max_doc_bytes": 1 << 20})
    assert [r["id"] for r in kept(out)] == ["f-fine"]
    assert [(r["id"], r["reason"]) for r in rejected(out)] == [("g-big", "reader:too_large"), ("h-big", "reader:too_large")]
    assert all(len(r["text"].encode()) <= 1 << 20 for r in rejected(out))
    found = {Path(e["path"]).name: e["reason"] for e in errors(out)}
    assert found == {name: "reader:unreadable_file" for name in ("a-cut.txt.xz", "b-junk.html.xz", "c-junk.txt.bz2", "d-junk.txt.zst", "e-cut.txt.gz")} | {
        "g-big.txt.gz": "reader:too_large",
        "h-big.txt": "reader:too_large",
    }
    assert_accounting(out, ["f-fine", "g-big", "h-big"])


def test_utf16_by_zeros_takes_only_utf16():
    from tamis.io.encodings import utf16_by_zeros

    page = "<html><body><p>Grüße aus Köln – 東京</p></body></html>" * 20
    assert utf16_by_zeros(page.encode("utf-16-le")) == (page, "utf-16-le")
    assert utf16_by_zeros(page.encode("utf-16-be")) == (page, "utf-16-be")
    for other in (page.encode("utf-8"), page.encode("gb18030"), bytes(range(256)) * 16, b"\x00" * 4096, b"<p>\x00</p>" * 400):
        assert utf16_by_zeros(other) is None


def test_truncated_gzip_keeps_what_was_readable_and_says_where(tmp_path: Path):
    blob = gzip.compress(b"".join(orjson.dumps(d) + b"\n" for d in docs(2000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(blob[: len(blob) * 2 // 3])
    good = write_jsonl(tmp_path / "z-after.jsonl", docs(2, "z"))
    out = tmp_path / "run"
    outcome = run_recipe([path, good], out, STEPS)
    assert not outcome.failed and outcome.input_errors == 1
    (err,) = errors(out)
    assert err["reason"] == "reader:truncated" and err["path"] == str(path)
    assert "truncated" in err["message"]
    ids = [d["id"] for d in kept(out)]
    n_read = len(ids) - 2
    assert n_read > 100 and ids[:n_read] == [f"d{i}" for i in range(n_read)]
    assert ids[-2:] == ["z0", "z1"]
    assert err["line"] == n_read + 1 or err["line"] == n_read + 2  # the line being read when the stream broke


def test_empty_file_is_reported(tmp_path: Path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    other = write_jsonl(tmp_path / "other.jsonl", docs(1))
    out = tmp_path / "run"
    outcome = run_recipe([empty, other], out, STEPS)
    assert outcome.input_errors == 1
    assert errors(out)[0]["reason"] == "reader:empty_file"
    assert [d["id"] for d in kept(out)] == ["d0"]


def test_a_50_mb_document_is_rejected_whole_as_too_large(tmp_path: Path):
    big_text = ("Une phrase assez longue qui se répète pour remplir le document. " * 800_000)[: 50 * 1024 * 1024]
    path = write_jsonl(tmp_path / "big.jsonl", [docs(1)[0], {"id": "huge", "text": big_text}, {"id": "after", "text": "still read after the huge one"}])
    out = tmp_path / "run"
    outcome = run_recipe([path], out, STEPS)
    assert outcome.input_errors == 1
    assert [d["id"] for d in kept(out)] == ["d0", "after"]
    (reject,) = rejected(out)
    assert reject["reason"] == "reader:too_large" and reject["id"] == "huge"
    assert len(reject["text"]) == len(big_text)
    assert errors(out)[0]["line"] == 2


def test_strict_stops_at_the_first_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(orjson.dumps(docs(1)[0]) + b"\n{not json\n")
    code = main(["run", "--input", str(path), "--output", str(tmp_path / "run"), "--strict", "--no-report", "-q"])
    assert code == 1  # done, with input errors: --strict stopped at the first one (issue 12)
    assert f"{path}:2" in capsys.readouterr().err


@pytest.mark.parametrize("chunk_bytes", [8192, 50, 7])  # ranges larger and smaller than a line
def test_byte_ranges_of_a_large_file_read_every_line_once(tmp_path: Path, chunk_bytes: int):
    records = docs(5000)
    path = write_jsonl(tmp_path / "big.jsonl", records)
    options = ReaderOptions(chunk_bytes=chunk_bytes)
    tasks = plan_tasks([str(path)], options)
    assert len(tasks) > 10
    seen = []
    for task in tasks:
        for item in read_task(task, options):
            assert not isinstance(item, BadRecord)
            seen.append((item.id, item.metadata["source"]["line"]))
    assert seen == [(f"d{i}", i + 1) for i in range(5000)]


@pytest.mark.parametrize("order", ["in order", "reversed", "pickled"])
def test_byte_ranges_number_their_lines_whoever_counts(tmp_path: Path, order: str):
    """Range tasks find their first line numbers when asked (not at plan time): the same
    numbers read in order (each range's reader tells the next one's), out of order (counted
    from the nearest number known) or after a copy to a worker (counted before it leaves);
    blank and CRLF lines count, and the last line has no newline."""
    import pickle

    from tamis.io.jsonl_fast import jsonl_blocks

    lines = [orjson.dumps(d) for d in docs(400)]
    for i in range(0, 400, 7):
        lines[i] += b"\r"
    blob = b"\n".join(line + (b"\n" if i % 11 == 0 else b"") for i, line in enumerate(lines))
    path = tmp_path / "ranges.jsonl"
    path.write_bytes(blob)
    options = ReaderOptions(chunk_bytes=997)
    tasks = plan_tasks([str(path)], options)
    assert len(tasks) > 10 and tasks[0].lines is not None
    expected = {task.index: blob[: task.start].count(b"\n") + 1 for task in tasks}
    if order == "reversed":
        tasks = tasks[::-1]
    elif order == "pickled":
        tasks = pickle.loads(pickle.dumps(tasks))
        assert len(tasks[0].lines._known) == len(tasks)  # counted before the copy left
    for task in tasks:
        blocks = list(jsonl_blocks(task, options))  # the compiled path's framing (tells the next range where it starts)
        assert blocks[0].first_line == expected[task.index]
        assert task.line_at_start() == expected[task.index]
    records = [item for task in sorted(tasks, key=lambda t: t.index) for item in read_task(task, options)]
    assert [r.metadata["source"]["line"] for r in records] == [i + 1 + (i + 10) // 11 for i in range(400)]


def test_crlf_jsonl_is_read(tmp_path: Path):
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"".join(orjson.dumps(d) + b"\r\n" for d in docs(3)))
    out = tmp_path / "run"
    run_recipe([path], out, STEPS)
    assert [d["id"] for d in kept(out)] == ["d0", "d1", "d2"]


def test_input_order_is_arguments_then_sorted_folders(tmp_path: Path):
    folder = tmp_path / "folder"
    folder.mkdir()
    for name in ["b.jsonl", "a.jsonl"]:
        write_jsonl(folder / name, docs(1, name[0]))
    first = write_jsonl(tmp_path / "z.jsonl", docs(1, "z"))
    tasks = plan_tasks([str(first), str(folder)], ReaderOptions())
    assert [Path(f).name for t in tasks for f in t.files] == ["z.jsonl", "a.jsonl", "b.jsonl"]


def test_small_jsonl_files_are_read_several_to_a_task(tmp_path: Path):
    """A folder of small JSONL files is read a batch of files at a time (a task per file cost
    ~35 ms and a dozen run files each: 5,000 one-record files took 3 minutes). A batch keeps
    the input order, holds files of one kind (plain or compressed: the compiled paths read plain
    files again by offset), ends before a file too large to join it, and stays under batch_bytes."""
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(6):
        write_jsonl(folder / f"a{k}.jsonl", docs(3, f"a{k}-"))
    (folder / "b.jsonl").write_bytes(b"".join(orjson.dumps({"id": f"b{i}", "text": "x" * 900}) + b"\n" for i in range(30)))  # 27 kB
    for k in range(2):
        (folder / f"c{k}.jsonl.gz").write_bytes(gzip.compress(b"".join(orjson.dumps(d) + b"\n" for d in docs(3, f"c{k}-"))))
    write_jsonl(folder / "d.jsonl", docs(3, "d-"))
    options = ReaderOptions(batch_bytes=80_000)  # files up to 20 kB join a batch
    tasks = plan_tasks([str(folder)], options)
    assert [[Path(f).name for f in t.files] for t in tasks] == [
        [f"a{k}.jsonl" for k in range(6)],
        ["b.jsonl"],
        ["c0.jsonl.gz", "c1.jsonl.gz"],
        ["d.jsonl"],
    ]
    assert [t.index for t in tasks] == [0, 1, 2, 3]
    sizes = [(folder / f"a{k}.jsonl").stat().st_size for k in range(6)]
    capped = plan_tasks([str(folder)], ReaderOptions(batch_bytes=4 * max(sizes)))  # four files' worth a task at most
    assert [len(t.files) for t in capped][:2] == [4, 2]
    assert len(plan_tasks([str(folder)], ReaderOptions(batch_bytes=0))) == 10  # a task per file
    assert [len(t.files) for t in plan_tasks([str(folder)], ReaderOptions(batch_bytes=80_000, text_batch_files=4))][:2] == [4, 2]
    read = [item.id for task in tasks for item in read_task(task, options)]
    per_file = ReaderOptions(batch_bytes=0)
    assert read == [d.id for path in sorted(folder.iterdir()) for task in plan_tasks([str(path)], per_file) for d in read_task(task, per_file)]


def test_a_batch_of_small_files_locates_each_file_and_line(tmp_path: Path):
    """In a batch, ids derived from position, ``metadata.source`` and every error name the file
    and line they come from; the run keeps and rejects what a run with a task per file does."""
    folder = tmp_path / "in"
    folder.mkdir()
    ids = []
    for k in range(40):
        records = [{"text": f"Document {i} of file {k}, long enough to be kept by every step of the run."} for i in range(3)]
        lines = [orjson.dumps(r) for r in records]
        if k == 7:
            lines[1] = b'{"text": "cut'
        (folder / f"f{k:02d}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
        ids += [f"{folder / f'f{k:02d}.jsonl'}:{i + 1}" for i in range(3)]
    (folder / "empty.jsonl").write_bytes(b"")
    outs = {}
    for name, reader in (("batched", {}), ("per-file", {"batch_bytes": 0})):
        outs[name] = tmp_path / name
        run_recipe([folder], outs[name], STEPS, reader=reader)
        assert_accounting(outs[name], ids)
    assert len(list((outs["batched"] / "output").iterdir())) == 1
    for name, out in outs.items():
        by_id = {d["id"]: d for d in kept(out)}
        assert by_id[f"{folder / 'f03.jsonl'}:2"]["metadata"]["source"] == {"path": str(folder / "f03.jsonl"), "line": 2}, name
        errors = [orjson.loads(line) for line in (out / "errors.jsonl").read_bytes().splitlines()]
        assert sorted((Path(e["path"]).name, e.get("line")) for e in errors) == [("empty.jsonl", None), ("f07.jsonl", 2)], name
    assert sorted(map(orjson.dumps, kept(outs["batched"]))) == sorted(map(orjson.dumps, kept(outs["per-file"])))
    assert sorted(map(orjson.dumps, rejected(outs["batched"]))) == sorted(map(orjson.dumps, rejected(outs["per-file"])))


def test_a_large_parquet_file_is_read_in_ranges_of_row_groups(tmp_path: Path):
    """A Parquet file larger than chunk_bytes is read by several tasks, each a range of whole row
    groups, as a large JSONL file is by byte ranges: the same rows in the same order, numbered by
    their place in the file; what holds for the whole file (no text column, no rows) is said once."""
    rows = [{"id": None if i % 7 == 0 else f"p{i}", "text": f"Row {i} " + "words " * (i % 50), "n": i} for i in range(5000)]
    path = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=250)  # 20 row groups
    whole = ReaderOptions(chunk_bytes=1 << 30)
    options = ReaderOptions(chunk_bytes=30_000)
    assert len(plan_tasks([str(path)], whole)) == 1
    tasks = plan_tasks([str(path)], options)
    assert 3 <= len(tasks) <= 20 and tasks[0].start == 0 and tasks[-1].end == 20
    assert all(a.end == b.start for a, b in itertools.pairwise(tasks))

    def read(opts: ReaderOptions) -> list[tuple[str, str, dict]]:
        return [(d.id, d.text, d.metadata) for task in plan_tasks([str(path)], opts) for d in read_task(task, opts)]

    assert read(options) == read(whole)
    assert read(options)[14][0] == f"{path}:15"  # a derived id numbers the row in the file
    no_text = ReaderOptions(chunk_bytes=30_000, text_field="body")
    errors = [item.error for task in plan_tasks([str(path)], no_text) for item in read_task(task, no_text)]
    assert [e.reason for e in errors] == ["reader:missing_text"]
    out = tmp_path / "run"
    run_recipe([path], out, STEPS, reader={"chunk_bytes": 30_000}, workers=2)
    assert_accounting(out, [r["id"] or f"{path}:{i + 1}" for i, r in enumerate(rows)])
    assert len(list((out / "output").iterdir())) == len(tasks)


def test_text_and_html_files_are_batched_by_size(tmp_path: Path):
    """Text and HTML files join batches by size as JSONL files do: a folder of a few hundred pages
    or a few dozen books was one task (512 files a task), so one worker did all of it while the
    others waited. A file over a quarter of batch_bytes is a task of its own; plain and compressed
    files share batches (only the compiled JSONL paths need them apart)."""
    folder = tmp_path / "in"
    folder.mkdir()
    page = "<html><body><article><p>" + "A sentence of the page, long enough to count. " * 40 + "</p></article></body></html>"
    for k in range(6):
        (folder / f"a{k}.html").write_text(page, encoding="utf-8")  # ~1.9 kB each
    (folder / "b.txt").write_text("A book. " * 4000, encoding="utf-8")  # 32 kB: alone
    (folder / "c0.txt").write_text("Short text.", encoding="utf-8")
    (folder / "c1.txt.gz").write_bytes(gzip.compress(b"Short compressed text."))
    (folder / "c2.md").write_text("# Short note", encoding="utf-8")
    options = ReaderOptions(batch_bytes=8_000)  # files up to 2 kB join a batch, 8 kB a batch
    tasks = plan_tasks([str(folder)], options)
    assert [[Path(f).name for f in t.files] for t in tasks] == [
        ["a0.html", "a1.html", "a2.html", "a3.html"],
        ["a4.html", "a5.html"],
        ["b.txt"],
        ["c0.txt", "c1.txt.gz", "c2.md"],
    ]
    assert [len(t.files) for t in plan_tasks([str(folder)], ReaderOptions())] == [6, 4]  # 8 MB batches: the format changes once
    assert len(plan_tasks([str(folder)], ReaderOptions(batch_bytes=0))) == 10  # a task per file
    assert [len(t.files) for t in plan_tasks([str(folder)], ReaderOptions(text_batch_files=3))] == [3, 3, 3, 1]
    out = tmp_path / "run"
    run_recipe([folder], out, [], reader={"batch_bytes": 8_000})
    pages = [str(folder / f"a{k}.html") for k in range(6)]  # a page's id is its path, a text file's its name
    assert_accounting(out, [*pages, "b", "c0", "c1", "c2"])
    assert [r["id"] for r in kept(out)] == [*pages, "b", "c0", "c1", "c2"]  # input order across the batches


def test_a_folder_of_small_parquet_files_is_read_several_to_a_task(tmp_path: Path):
    """Spark writes a folder of small part files (and a _SUCCESS marker): they are read a batch at
    a time, as small JSONL files are, each file's rows numbered in it, each file's problems its own."""
    folder = tmp_path / "spark-out"
    folder.mkdir()
    ids = []
    for k in range(30):
        rows = [{"id": None if i == 1 else f"k{k}-{i}", "text": f"Row {i} of part {k}, with enough words to be kept."} for i in range(4)]
        pq.write_table(pa.Table.from_pylist(rows), folder / f"part-{k:05d}.snappy.parquet")
        ids += [r["id"] or f"{folder / f'part-{k:05d}.snappy.parquet'}:{i + 1}" for i, r in enumerate(rows)]
    pq.write_table(pa.Table.from_pylist([{"id": "x", "body": "no text column"}]), folder / "part-00030.snappy.parquet")
    (folder / "_SUCCESS").write_bytes(b"")
    tasks = plan_tasks([str(folder)], ReaderOptions())
    assert len(tasks) == 1 and len(tasks[0].files) == 31
    assert len(plan_tasks([str(folder)], ReaderOptions(batch_bytes=0))) == 31
    out = tmp_path / "run"
    run_recipe([folder], out, STEPS)
    assert_accounting(out, ids)
    by_id = {d["id"]: d for d in kept(out)}
    assert by_id[f"{folder / 'part-00007.snappy.parquet'}:2"]["metadata"]["source"] == {"path": str(folder / "part-00007.snappy.parquet"), "line": 2}
    errors = [orjson.loads(line) for line in (out / "errors.jsonl").read_bytes().splitlines()]
    assert [(Path(e["path"]).name, e["reason"]) for e in errors] == [("part-00030.snappy.parquet", "reader:missing_text")]
