"""The shards' notes (tamis.io.shardnotes) give the card and the report exactly what reading
the shards back gives, and are ignored wherever they do not describe the shard."""

from __future__ import annotations

import gzip
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from runutil import load_stats, run_recipe, write_jsonl

from tamis.cli import main
from tamis.io.card import describe_folder, duplicate_ids, write_card
from tamis.io.outputs import JsonlOutput, ShardWriter, dumps, list_shards, output_format, read_shard
from tamis.io.shardnotes import NOTES_DIR, notes_path, read_notes
from tamis.report.sample import collect
from tamis.report.shards import ShardLines


def _inputs(tmp_path: Path) -> list[Path]:
    """Metadata of many shapes (nested, null, lists, int then float, date-like strings,
    keys first seen late), exact copies (rejects with keepers) and a repeated id."""
    src = tmp_path / "in"
    src.mkdir()
    base = "Words of document {} that make it long enough to be kept by every step of the run, {}."
    a = [{"id": f"a{i}", "text": base.format(i, "a"), "url": f"https://x.org/{i}", "n": i, "when": f"2024-01-{1 + i % 28:02d}T10:00:00"} for i in range(120)]
    b = [
        {"id": f"b{i}", "text": base.format(i % 40 if i < 60 else 1000 + i, "a"), "tags": ["x", str(i)], "n": i + 0.5, "deep": {"k": [1, 2], "v": None}}
        for i in range(90)
    ]
    c = [{"id": "a7", "text": "A text of its own under an id that is used twice in the input."}]
    c += [{"id": f"c{i}", "text": base.format(i, "c"), "late_key": {"z": True}} for i in range(30)]
    return [write_jsonl(src / "a.jsonl", a), write_jsonl(src / "b.jsonl", b), write_jsonl(src / "c.jsonl", c)]


# One task, hence one output shard, per input file (small files are otherwise read together):
# the notes are checked across several shards.
PER_FILE = {"reader": {"batch_bytes": 0}}


def _card_view(out: Path) -> tuple[Any, ...]:
    folders = [describe_folder(out, "output"), describe_folder(out, "rejects")]
    described = tuple((f.pattern, f.features, f.rows, f.problem) for f in folders)
    return described, duplicate_ids(folders)


def _report_view(out: Path) -> Any:
    found = collect(out, load_stats(out), kept_budget=50, reject_budget=40)
    obs = [(o.signals, o.language_score, o.outcome, o.weight) for o in found.observations]
    largest = [(c.step, c.keeper, c.size, c.members, c.keeper_record, c.member_records) for c in found.largest]
    return (obs, found.rejected_seen, found.rejected_sampled, found.samples, found.cluster_sizes, largest, found.kept_languages)


def _drop_notes(out: Path) -> None:
    shutil.rmtree(out / NOTES_DIR)


def _assert_notes_equal_read_back(out: Path) -> None:
    shards = list_shards(out / "output") + list_shards(out / "rejects")
    assert len(list_shards(out / "output")) >= 2 and list_shards(out / "rejects")
    for path in shards:  # every shard noted, row for row
        notes, records = read_notes(path), list(read_shard(path))
        assert notes is not None and notes.rows == len(records)
        assert notes.column_values("id") == [r["id"] for r in records]
        assert notes.metadata_objects() == [r["metadata"] for r in records]  # what the report samples
        assert notes.metadata_objects(3) == [r["metadata"] for r in records[:3]]
        if path.parent.name == "rejects":
            assert notes.column_values("reason") == [r["reason"] for r in records]
            assert notes.column_values("duplicate_of") == [r["duplicate_of"] for r in records]
    assert {p.name for p in (out / "output").iterdir()} == {p.name for p in list_shards(out / "output")}
    card, stats = (out / "README.md").read_text(), load_stats(out)
    assert stats["duplicate_ids"] == {"count": 1, "examples": ["a7"]}
    noted, report_noted = _card_view(out), _report_view(out)
    assert noted[0][0][1] is not None and noted[0][0][2] == stats["kept"]  # features declared, rows counted

    _drop_notes(out)
    assert _card_view(out) == noted
    assert write_card(out, stats) == stats["duplicate_ids"] and (out / "README.md").read_text() == card
    assert _report_view(out) == report_noted


@pytest.mark.parametrize(("fmt", "workers"), [("jsonl", 2), ("parquet", 1)])
def test_notes_give_what_reading_the_shards_back_gives(tmp_path: Path, fmt: str, workers: int):
    out = tmp_path / "out"
    run_recipe(_inputs(tmp_path), out, [{"step": "normalize"}, {"step": "exact_dedup"}], format=fmt, workers=workers, **PER_FILE)
    _assert_notes_equal_read_back(out)


def test_notes_of_the_dedup_command(tmp_path: Path):
    """``tamis dedup`` (the fused stage, kept lines written in bulk) with its defaults."""
    out = tmp_path / "out"
    inputs = _inputs(tmp_path)
    assert main(["dedup", "-i", *map(str, inputs), "-o", str(out), "--threshold", "0.8", "-w", "1", "-q", "--batch-mb", "0"]) == 0
    assert (out / "report.html").is_file()
    _assert_notes_equal_read_back(out)


def test_rejects_lines_held_for_the_report_are_the_shards_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A one-worker run holds the first lines of each reason of its rejects shards in memory
    (shardnotes.held_lines): the same bytes as the shard's lines, so the report reads the same
    findings with them as from the shard; a shard rewritten since holds none. Past HOLD_ROWS
    nothing more is held (the report reads the shard from there)."""
    from tamis.io import shardnotes

    monkeypatch.setattr(shardnotes, "HOLD_ROWS", 40)
    out = tmp_path / "out"
    run_recipe(_inputs(tmp_path), out, [{"step": "normalize"}, {"step": "exact_dedup"}], workers=1, **PER_FILE)
    shard = list_shards(out / "rejects")[0]
    held = shardnotes.held_lines(shard)
    lines = gzip.decompress(shard.read_bytes()).split(b"\n")
    reasons = [orjson.loads(line)["reason"] for line in lines if line]
    assert len(reasons) > 40 and held and max(held) < 40
    firsts = {}
    for row, reason in enumerate(reasons[:40]):
        firsts.setdefault(reason, []).append(row)
    assert sorted(held) == sorted(row for rows in firsts.values() for row in rows[: shardnotes.HOLD_PER_REASON])
    assert all(held[row] == lines[row] for row in held)
    with_held = _report_view(out)
    monkeypatch.setattr(shardnotes, "_held_for_report", {})
    assert shardnotes.held_lines(shard) == {} and _report_view(out) == with_held
    shardnotes._hold_for_report(shardnotes._identity(shard.stat()), {0: b"not the shard's line"})
    before = shard.stat()
    shard.write_bytes(shard.read_bytes())  # rewritten (the same size): another modification time
    os.utime(shard, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    assert shardnotes.held_lines(shard) == {} and _report_view(out) == with_held


def test_notes_that_do_not_describe_the_shard_are_ignored(tmp_path: Path):
    out = tmp_path / "out"
    run_recipe(_inputs(tmp_path), out, [{"step": "exact_dedup"}], **PER_FILE)
    shard = list_shards(out / "output")[0]
    lines = gzip.decompress(shard.read_bytes()).splitlines(keepends=True)
    shard.write_bytes(gzip.compress(b"".join(lines[1:])))  # another file under the same name
    assert read_notes(shard) is None
    truth = _card_view(out)
    assert truth[0][0][2] == load_stats(out)["kept"] - 1
    notes_path(list_shards(out / "output")[1]).write_bytes(b"not arrow")  # unreadable notes
    assert _card_view(out) == truth
    _drop_notes(out)
    assert _card_view(out) == truth


def test_notes_a_crash_cut_short_or_emptied_are_ignored(tmp_path: Path):
    # Notes are renamed whole but not fsynced (they only save time): after a crash of the machine
    # one may be empty or cut short; read_notes refuses it and the card reads the shard instead.
    out = tmp_path / "out"
    run_recipe(_inputs(tmp_path), out, [{"step": "exact_dedup"}], **PER_FILE)
    truth = _card_view(out)
    shard = list_shards(out / "output")[0]
    whole = notes_path(shard).read_bytes()
    for damaged in (b"", whole[: len(whole) // 2], whole[:-8], bytes(len(whole))):
        notes_path(shard).write_bytes(damaged)
        assert read_notes(shard) is None
        assert _card_view(out) == truth


def test_metadata_no_type_covers_is_reported_as_when_read_back(tmp_path: Path):
    src = write_jsonl(tmp_path / "a.jsonl", [{"id": f"d{i}", "text": f"Document number {i} with words.", "x": i if i % 2 else f"s{i}"} for i in range(6)])
    out = tmp_path / "out"
    run_recipe([src], out, [{"step": "normalize"}])
    noted = _card_view(out)
    assert noted[0][0][3] is not None and noted[0][0][1] is None  # no features, a reason given
    _drop_notes(out)
    assert _card_view(out) == noted


def test_resumed_run_keeps_notes_matching_its_shards(tmp_path: Path):
    inputs = _inputs(tmp_path)
    out = tmp_path / "out"
    run_recipe(inputs, out, [{"step": "exact_dedup"}], **PER_FILE)
    before = _card_view(out)
    # a task that reruns rewrites its shards and their notes
    markers = list((out / "_markers").glob("seg0-task00001*"))
    assert markers  # the run had a second task
    for marker in markers:
        marker.unlink()
    from tamis.pipeline import RunConfig
    from tamis.runner import run

    cfg = RunConfig(input=[str(p) for p in inputs], output=str(out), steps=[{"step": "exact_dedup"}], report=False, **PER_FILE)
    run(cfg, resume=True)
    assert all(read_notes(p) is not None for p in list_shards(out / "output"))
    assert _card_view(out) == before
    ids = [orjson.loads(v) for p in list_shards(out / "output") for v in read_notes(p).ids.to_pylist()]
    assert len(ids) == load_stats(out)["kept"]


def _rewrite_as_version_1(out: Path) -> int:
    """Every notes file of ``out`` written again as runs before version 2 wrote it (an Arrow
    IPC file, the header in its schema metadata, the schema as Arrow's, base64), from the same
    values: what a run made by the old version leaves. Returns how many."""
    import base64

    import pyarrow as pa

    from tamis.io import jsontypes
    from tamis.io.shardnotes import META_KEY, binary_array, notes_path

    count = 0
    for shard in list_shards(out / "output") + list_shards(out / "rejects"):
        notes = read_notes(shard)
        assert notes is not None and notes.info["version"] == 2
        info = {key: notes.info[key] for key in ("shard_bytes", "rows", "rejects", "json_lines")}
        info["version"] = 1
        if notes.info["json_lines"]:
            schema = notes.schema()
            if isinstance(schema, list):  # typed by jsontypes (else Arrow's already)
                schema = jsontypes.arrow_schema(schema)
            info["schema"] = None if schema is None else base64.b64encode(schema.serialize().to_pybytes()).decode()
        columns = {name: binary_array(values) for name, values in notes.to_pydict().items()}
        table = pa.table(columns).replace_schema_metadata({META_KEY: orjson.dumps(info)})
        with open(notes_path(shard), "wb") as fh, pa.ipc.new_file(fh, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
            writer.write_table(table)
        assert notes_path(shard).read_bytes()[:6] == b"ARROW1"
        read_back = read_notes(shard)
        assert read_back is not None and read_back.to_pydict() == notes.to_pydict() and read_back.rows == notes.rows
        count += 1
    return count


def test_notes_of_runs_before_version_2_are_read(tmp_path: Path):
    """A run made by the old version (Arrow notes): the card and the report read its notes and
    give what they give from version 2 notes; resumed, its finished tasks keep their old notes
    and the card is the same."""
    inputs = _inputs(tmp_path)
    out = tmp_path / "out"
    run_recipe(inputs, out, [{"step": "exact_dedup"}], workers=2, **PER_FILE)
    card, report = _card_view(out), _report_view(out)
    assert _rewrite_as_version_1(out) >= 3
    assert _card_view(out) == card and _report_view(out) == report
    markers = list((out / "_markers").glob("seg1-task00001*"))
    assert markers  # the run had a second task
    for marker in markers:
        marker.unlink()
    from tamis.pipeline import RunConfig
    from tamis.runner import run

    cfg = RunConfig(input=[str(p) for p in inputs], output=str(out), steps=[{"step": "exact_dedup"}], report=False, workers=2, **PER_FILE)
    run(cfg, resume=True)
    versions = {read_notes(p).info["version"] for p in list_shards(out / "output") + list_shards(out / "rejects")}
    assert versions == {1, 2}  # the rerun task's notes are new, the others old
    assert _card_view(out) == card and _report_view(out) == report


def test_default_jsonl_run_imports_no_pyarrow(tmp_path: Path):
    """The default recipe on JSON lines writes its notes, card and report without pyarrow
    (the modules loaded are listed by an atexit handler: the run ends in os._exit)."""
    import subprocess
    import sys

    text = "Document number {} has enough plain words in it to be kept by the run. "
    src = write_jsonl(tmp_path / "a.jsonl", [{"id": f"d{i}", "text": text.format(i) * 5} for i in range(20)])
    out, seen = tmp_path / "out", tmp_path / "modules.json"
    code = (
        "import atexit, json, sys; from tamis.cli import main; "
        f"atexit.register(lambda: open({str(seen)!r}, 'w').write(json.dumps(sorted(sys.modules)))); "
        "sys.exit(main(sys.argv[1:]))"
    )
    args = ["run", "--input", str(src), "--output", str(out), "-q", "--workers", "1"]
    done = subprocess.run([sys.executable, "-c", code, *args], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    modules = orjson.loads(seen.read_bytes())
    assert "tamis.io.card" in modules and "tamis.io.shardnotes" in modules
    assert not [m for m in modules if m.split(".")[0] == "pyarrow"]
    assert (out / "README.md").is_file() and (out / "report.html").is_file()
    assert all(read_notes(p).info.get("fields") for p in list_shards(out / "output"))


@pytest.mark.parametrize("rejects", [False, True])
def test_lines_written_in_bulk_are_noted_as_records_are(tmp_path: Path, rejects: bool):
    """The bulk path (records already serialised) notes what the record path notes, including
    a line laid out otherwise (parsed whole) and texts that look like the keys it looks for."""
    tricky = 'a text with ,"metadata":{"x":1},"reason":"no" inside'
    records: list[dict[str, Any]] = [
        {"id": f"r{i}", "text": tricky if i % 3 else f"text {i}", "metadata": {"n": i, "s": [str(i)]} if i % 2 else {"t": "2024-02-03"}} for i in range(50)
    ]
    if rejects:
        for i, record in enumerate(records):
            record.update(reason=f"step:{i % 2}", detail=None, duplicate_of=f"r{i - 1}" if i else None)
    views = []
    for bulk in (False, True):
        writer = ShardWriter(tmp_path / f"b{bulk}" / ("rejects" if rejects else "output"), "part-00000", output_format("jsonl"), rejects=rejects)
        if bulk:
            lines = [dumps(r) for r in records]
            lines[5] = orjson.dumps(dict(reversed(list(records[5].items())))) + b"\n"  # keys in another order
            writer.write_lines(lines[:20])
            writer.write_lines(lines[20:])
        else:
            for record in records:
                writer.write(record)
        (shard,) = writer.close()
        notes = read_notes(shard, rejects=rejects)
        assert notes is not None
        views.append((notes.to_pydict(), notes.schema(), notes.rows))
    assert views[0] == views[1]
    assert views[0][2] == 50


def test_shard_lines_by_position_across_blocks(tmp_path: Path):
    writer = ShardWriter(tmp_path / "output", "part-00000", output_format("jsonl"))
    for i in range(300):
        writer.write({"id": f"r{i}", "text": "x" * (i % 37), "metadata": {}})
    (shard,) = writer.close()
    every = list(JsonlOutput.lines(shard))
    for wanted in ([0, 1, 2], [5, 17, 18, 150, 299], [299], [298, 299, 300]):
        lines = ShardLines(shard, block_bytes=512)
        got = [lines.line(p) for p in wanted]
        lines.close()
        assert got == [every[p] if p < len(every) else None for p in wanted]


def test_overwrite_takes_a_run_with_notes_back(tmp_path: Path):
    inputs = _inputs(tmp_path)
    out = tmp_path / "out"
    args = ["dedup", "-i", *map(str, inputs), "-o", str(out), "--no-report", "-q", "-w", "1"]
    assert main(args) == 0 and (out / NOTES_DIR / "output").is_dir()
    assert main([*args, "--overwrite"]) == 0
    assert all(read_notes(p) is not None for p in list_shards(out / "output"))


def test_reject_values_sliced_equal_parsed() -> None:
    # The reject tail sliced from a line is what parsing it and writing it again gives.
    from tamis.io.outputs import dumps
    from tamis.io.shardnotes import _reject_values

    details = [None, 'a ,"duplicate_of": b', '","reason":"x', "é\n\t\\"]
    keepers = [None, "k-1", 'q"uote ,"detail":', "日本", ""]
    reasons = ["minhash:near_duplicate", 'r ,"detail": "x"', "ü"]
    for reason in reasons:
        for detail in details:
            for keeper in keepers:
                line = dumps({"id": "x", "text": 't ,"reason":', "metadata": {"reason": 1}, "reason": reason, "detail": detail, "duplicate_of": keeper})
                assert _reject_values(line) == (orjson.dumps(reason), orjson.dumps(keeper))
    odd = b'{"id":"x","text":"t","metadata":{},"reason":"r","duplicate_of":"k","detail":null}\n'  # another key order
    assert _reject_values(odd) == (b'"r"', b'"k"')


def test_duplicate_ids_same_with_either_counter(monkeypatch: pytest.MonkeyPatch) -> None:
    from tamis.io import card
    from tamis.io.card import Folder
    from tamis.io.shardnotes import binary_array

    values = ["a", 1, "b", "a", "", "é", 1, "é", "é", None, None, "z"] * 3 + [f"u{i}" for i in range(50)]
    array = binary_array([orjson.dumps(v) for v in values])
    first, second = Folder("output"), Folder("rejects")
    first.ids.append(array.slice(0, 20))
    second.ids += [array.slice(20), binary_array([orjson.dumps("u7")])]
    in_python = duplicate_ids([first, second], examples=10)
    monkeypatch.setattr(card, "PYTHON_COUNT_MAX_IDS", 0)
    assert duplicate_ids([first, second], examples=10) == in_python
    assert in_python[0] == 8 and in_python[1][:3] == ["a", "1", "b"]


def _object_lines(lines: list[bytes]) -> list[bytes]:
    """The lines that parse as a JSON object: what a shard could hold, mangled or not."""
    records = []
    for line in lines:
        try:
            if isinstance(orjson.loads(line), dict):
                records.append(line)
        except orjson.JSONDecodeError:
            pass
    return records


def _hostile_lines(seed: int) -> list[bytes]:
    """Output lines as tamis writes them (keys, reject tails) with strings that hold every
    delimiter the split looks for, then cut, spaced and mangled copies of them."""
    import random

    rng = random.Random(seed)
    pieces = ['",', '\\"', "\\", '\\\\"', ',"metadata":', ',"text":', ',"reason":', ',"detail":', ',"duplicate_of":', "}\n", "{}", "é", "😀", "x", " "]

    def string() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))

    lines = []
    for _ in range(400):
        metadata: Any = rng.choice([{}, {"a": string()}, {"metadata": {"metadata": string()}, "n": 1.5}, {"reason": string(), "l": [string(), None]}])
        record: dict[str, Any] = {"id": rng.choice([string(), 7, None]), "text": rng.choice([string(), string() * 50, None]), "metadata": metadata}
        if rng.random() < 0.5:
            record.update(reason=string(), detail=rng.choice([None, string()]), duplicate_of=rng.choice([None, string(), 3]))
        line = dumps(record)
        lines.append(line)
        cut = rng.randint(0, len(line))
        lines.append(rng.choice([line[:cut], line[:-1], line[:-1] + b" \n", line.replace(b'"text"', b'"txt"', 1), line[cut:], b" " + line]))
    return lines


@pytest.mark.parametrize("rejects", [False, True])
def test_compiled_line_split_is_the_reference(rejects: bool):
    """The compiled split of output lines into the notes' column buffers
    (tamis/_native/shardnotes.c) appends exactly what the plain-Python reference appends and
    stops at the same lines (those left to the parser); then ShardNotes, going on past each
    stop the reference way, notes every line as one line at a time would."""
    from tamis._native._shardnotes import split_into

    from tamis.io.shardnotes import ShardNotes, split_into_reference

    for seed in range(5):
        lines = _hostile_lines(seed)
        got = tuple(bytearray(8) for _ in range(8))
        want = tuple(bytearray(8) for _ in range(8))
        at = stops = 0
        while at < len(lines):
            stop = split_into(lines, at, rejects, got)
            assert stop == split_into_reference(lines, at, rejects, want) and got == want
            at, stops = stop + 1, stops + 1
        assert stops > 50 and len(got[1]) > 8 * 100  # lines of both kinds
        records = _object_lines(lines)  # the lines a shard could hold (JSON objects), mangled or not
        bulk, single = ShardNotes(rejects=rejects, json_lines=True), ShardNotes(rejects=rejects, json_lines=True)
        bulk.add_lines(records)
        for line in records:
            single._add_line(line)
        for name in ("ids", "metas", "reasons", "keepers"):
            assert getattr(bulk, name).values() == getattr(single, name).values()
        assert len(bulk.ids) == len(records) > 400


def test_metadata_decoded_only_for_keys_read_gives_what_full_decoding_gives() -> None:
    """decode_metadata_text(raw, only): where it skips decoding, the keys asked for are absent
    from the full decode too (escapes, nested keys, key-like values, not-JSON and non-objects)."""
    from tamis.io.shardnotes import decode_metadata_text
    from tamis.report.sample import READ_KEYS

    texts = [
        b"{}", b"null", b"[1,2]", b'{"source":"x","planted":"edit0.01"}', b'{"language":"en"}',
        b'{"\\u006canguage":"fr"}', b'{"a":{"language":"de"}}', b'{"note":"language"}', b'{"note":"\\"language\\""}',
        b'{"signals":{"x":1},"language_score":0.5}', b'{"cluster_size":3,"cluster_id":"k"}', b"not json", '{"lang":"é"}',
    ]  # fmt: skip
    for raw in texts:
        full = decode_metadata_text(raw)
        quick = decode_metadata_text(raw, READ_KEYS)
        if quick == {}:
            assert full is None or not any(key.strip(b'"').decode() in full for key in READ_KEYS), raw
        else:
            assert quick == full, raw
    assert decode_metadata_text(b'{"\\u006canguage":"fr"}', READ_KEYS) == {"language": "fr"}  # an escape is decoded


def test_noted_ids_wanted_by_text_are_those_decoding_finds() -> None:
    """find_records' row selection from noted ids: as decoding every id would select, escapes
    (of wanted and unwanted ids), non-ASCII ids and ids already found included."""
    from tamis.report.shards import _wanted_rows

    ids = {"a", "é", 'q"uote', "tab\there", "x/y"}
    raws = [b'"a"', b'"b"', b'"\\u00e9"', '"é"'.encode(), b'"q\\"uote"', b'"tab\\there"', b'"x\\/y"', b'"\\u0062"', b'"a"', b"12", b'"x/y"']
    by_text = {orjson.dumps(i): i for i in ids}
    for found in ({}, {"a": {}}):
        expected = [(row, value) for row, raw in enumerate(raws) if (value := orjson.loads(raw)) in ids and value not in found]
        assert _wanted_rows(raws, by_text, ids, found) == expected


def _metadata_texts(seed: int) -> list[bytes]:
    """Metadata JSON texts with integers of every length and sign, floats, exponents, digits
    and escapes inside strings, date-like strings, nesting; then cut and mangled copies."""
    import random

    rng = random.Random(seed)

    def value(depth: int) -> Any:
        kind = rng.randrange(9 if depth < 3 else 6)
        if kind == 0:
            return rng.choice([0, -1, 7, 10**17, 10**18 - 1, -(10**18) + 1, 10**18, 2**63 - 1, -(2**63), 10**25])
        if kind == 1:
            return rng.choice([0.5, -2.25, 1e300, 3.0, 1e-07, -1.5e20, 0.1 + 0.2, rng.random()])
        if kind == 2:
            plain = ["", "12", "2024-01-05T10:00:00", 'a\\"9"', "x\\", "\u00e9 1", '"-3"']
            return rng.choice([*plain, "1234", "123", "\ud800", "a\tb", "\U0001f600 ok", f"w{rng.randrange(99)}"])
        if kind == 3:
            return rng.choice([None, True, False])
        if kind in (4, 5):
            return rng.randrange(10**6)
        if kind == 6:
            return [value(depth + 1) for _ in range(rng.randrange(3))]
        return {rng.choice(["line", "n", "when", "7", "source"]): value(depth + 1) for _ in range(rng.randrange(3))}

    texts = []
    for _ in range(300):
        import json

        metadata = {"source": {"path": "in.jsonl", "line": rng.randrange(10**9)}, "v": value(0)}
        spaced = rng.random() < 0.2  # JSON whitespace between keys, colons and values
        meta = json.dumps(metadata, separators=(", ", " : ") if spaced else (",", ":"), ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        texts.append(meta)
        cut = rng.randrange(len(meta) + 1)
        mangled = [meta.replace(b"1", b"-", 1), meta.replace(b"0", b"00", 1), meta.replace(b"e", b"\xc3", 1)]
        mangled += [meta.replace(b"5", b"5e123", 1), meta.replace(b"w", b"w\x01", 1)]
        texts.append(rng.choice([meta[:cut], meta[cut:], *mangled, b"1e5-2.", b"--", b'"\\', b'"x"', b'["1.5","1e5",-0.0e0]']))
    return texts


def test_compiled_metadata_shapes_are_the_reference():
    """The compiled shapes of metadata texts (integers written as 0, in shardnotes.c) are the
    plain-Python reference's, on valid and broken texts alike."""
    from tamis._native._shardnotes import metadata_shapes

    from tamis.io.shardnotes import _Column, metadata_shapes_column_reference, metadata_shapes_reference

    def column(texts: list[bytes]) -> _Column:
        found = _Column()
        for text in texts:
            found.append(text)
        return found

    for seed in range(4):
        texts = _metadata_texts(seed)
        values = column(texts)
        shapes = metadata_shapes(values.data, values.offsets)
        assert shapes == metadata_shapes_column_reference(values.data, values.offsets) == metadata_shapes_reference(texts)
        assert len(shapes) < len(texts) // 2
    texts = [b'{"a":12,"b":"34","c":-5,"d":1.5}', b'{"a":99,"b":"x y","c":0,"d":2e-07}']
    values = column([*texts, b'{"2024":"2024-01","b":"\xc3\xa9","c":"\xed\xa0\x80","d":1e400}'])
    expected = [b'{"a":0,"b":"","c":0,"d":0.0}', b'{"2024":"2024-01","b":"","c":"\xed\xa0\x80","d":1e400}']  # keys, dates, surrogates, 1e400 kept
    assert metadata_shapes(values.data, values.offsets) == expected == metadata_shapes_reference(values.values())
    assert metadata_shapes(b"", bytes(8)) == []
    with pytest.raises(ValueError, match="offsets"):
        metadata_shapes(b"abc", bytes(8) + (9).to_bytes(8, "little"))


def test_schema_from_metadata_shapes_is_the_schema_from_every_text():
    """What the notes rest on: Arrow infers from the distinct shapes the schema it infers from
    all the texts (or fails on both)."""
    import pyarrow as pa

    from tamis.io.shardnotes import metadata_schema, metadata_shapes_reference

    groups = []
    for seed in range(6):
        texts = [t for t in _metadata_texts(seed)[::2] if b"1e300" not in t or seed % 2]  # valid ones
        if seed >= 3:  # one type per field: a schema exists
            texts = [t for t in texts if b'"v":{' not in t and b'"v":[' not in t and b'"v":"' not in t and b'"v":true' not in t and b'"v":false' not in t]
        groups.append(texts)
    ints = [b'{"line":%d,"v":%d}' % (i, v) for i, v in enumerate([0, -1, 10**17, 10**18 - 1, -(10**18) + 1, 10**18, 2**63 - 1, -(2**63)])]
    groups += [ints, ints[:5], [*ints[:5], b'{"line":9,"v":10000000000000000000000000}']]
    groups.append([b'{"when":"2024-01-05T10:00:00","n":3}', b'{"when":"2024-02-05T10:00:00","n":4}'])  # a timestamp
    groups.append([b'{"when":"2024-01-05T10:00:00","n":3}', b'{"when":"12","n":-4}'])  # a string
    for texts in groups:
        for rejects in (False, True):
            try:
                expected: Any = metadata_schema(texts, rejects)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                expected = type(exc)
            try:
                got: Any = metadata_schema(metadata_shapes_reference(texts), rejects)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                got = type(exc)
            assert got == expected


def test_notes_schema_from_shapes_is_the_schema_from_every_text():
    """The notes' schema entry (jsontypes' fields, or Arrow's schema where jsontypes is unsure)
    from the distinct shapes is the entry from all the texts, on groups that jsontypes
    answers and groups it hands to Arrow (dates, long integers, broken texts)."""
    import random

    from tamis.io.shardnotes import metadata_shapes_reference, schema_info

    groups = []
    for seed in range(8):
        texts = _metadata_texts(seed)
        groups += [texts[::2], texts, [t for t in texts[::2] if b"2024-" not in t and b"0000000000000000000" not in t and b"\\ud8" not in t]]
    groups.append([b'{"n":%s,"s":"%s"}' % (value, text) for value in (b"1", b"2.5", b"-3e-07", b"0.0") for text in (b"a", b"\xc3\xa9", b"12", b"")])
    rng = random.Random(7)
    for _ in range(6):  # one type per field (a schema jsontypes gives): fields present or not, values of all kinds
        kinds = {f"f{k}": rng.choice(["int", "float", "str", "list", "obj"]) for k in range(5)}
        make = {
            "int": lambda: rng.randrange(-(10**12), 10**12),
            "float": lambda: rng.choice([rng.random(), rng.randrange(9), -rng.random() * 1e-9, 1e20 * rng.random()]),
            "str": lambda: rng.choice(["", "x", "\u00e9t\u00e9", f"w{rng.randrange(9)}", "12", "line\nbreak", "\U0001f600"]),
            "list": lambda: [rng.random() for _ in range(rng.randrange(3))],
            "obj": lambda: {"a": rng.randrange(5), "b": rng.choice([None, "s", "\\u00e9"])},
        }
        groups.append([orjson.dumps({key: make[kind]() for key, kind in kinds.items() if rng.random() < 0.8}) for _ in range(60)])
    answered = 0
    for texts in groups:
        for rejects in (False, True):
            expected = schema_info(texts, rejects)
            assert schema_info(metadata_shapes_reference(texts), rejects) == expected
            answered += "fields" in expected
    assert answered >= 12  # not only Arrow's answers compared


@pytest.mark.parametrize("rejects", [False, True])
def test_compiled_joined_split_is_the_reference(rejects: bool):
    """split_joined_into (lines end to end in one buffer, their int64 ends) appends what the
    reference appends and stops where it stops, and ShardNotes.add_joined notes any range
    of the lines as add_lines notes them."""
    import numpy as np
    from tamis._native._shardnotes import split_joined_into

    from tamis.io.shardnotes import ShardNotes, split_joined_into_reference

    for seed in range(5):
        lines = [line for line in _hostile_lines(seed) if line]
        joined = b"".join(lines)
        ends = np.cumsum([len(line) for line in lines]).astype(np.int64)
        got = tuple(bytearray(8) for _ in range(8))
        want = tuple(bytearray(8) for _ in range(8))
        at = stops = 0
        while at < len(lines):
            stop = split_joined_into(joined, ends, at, len(lines), rejects, got)
            assert stop == split_joined_into_reference(joined, ends, at, len(lines), rejects, want) and got == want
            at, stops = stop + 1, stops + 1
        assert stops > 50 and len(got[1]) > 8 * 100
        records = _object_lines(lines)
        joined = b"".join(records)
        ends = np.cumsum([len(line) for line in records]).astype(np.int64)
        bulk, whole = ShardNotes(rejects=rejects, json_lines=True), ShardNotes(rejects=rejects, json_lines=True)
        bulk.add_lines(records)
        third = len(records) // 3
        for first, stop in ((0, third), (third, third), (third, len(records))):  # an empty range too
            whole.add_joined(memoryview(joined), ends, first, stop)
        for name in ("ids", "metas", "reasons", "keepers"):
            assert getattr(bulk, name).values() == getattr(whole, name).values()
    with pytest.raises(ValueError):
        split_joined_into(b"ab", np.array([3], dtype=np.int64), 0, 1, rejects, tuple(bytearray(8) for _ in range(8)))


@pytest.mark.parametrize(
    ("fmt", "compression", "rejects"), [("jsonl", "gzip", False), ("jsonl", "none", True), ("jsonl", "zstd", False), ("parquet", "zstd", False)]
)
def test_lines_written_joined_make_the_shards_written_line_by_line(tmp_path: Path, fmt: str, compression: str, rejects: bool):
    """ShardWriter.write_joined (records end to end in one buffer) cuts shards where
    write_lines cuts them and writes and notes the same records: small shards so that
    buffers straddle shard ends."""
    import numpy as np

    records: list[dict[str, Any]] = [{"id": f"r{i}", "text": "word " * (i % 37), "metadata": {"n": i}} for i in range(400)]
    if rejects:
        for i, record in enumerate(records):
            record.update(reason="step:x", detail=None, duplicate_of=f"r{i - 1}")
    lines = [dumps(r) for r in records]
    views = []
    for joined in (False, True):
        folder = tmp_path / f"j{joined}" / ("rejects" if rejects else "output")
        writer = ShardWriter(folder, "part-00000", output_format(fmt, compression), rejects=rejects, max_bytes=3000)
        for a, b in ((0, 3), (3, 90), (90, 91), (91, 400)):
            if joined:
                writer.write_joined(b"".join(lines[a:b]), np.cumsum([len(line) for line in lines[a:b]]).astype(np.int64))
            else:
                writer.write_lines(lines[a:b])
        shards = writer.close()
        assert len(shards) > 10
        views.append([([dict(r) for r in read_shard(p)], read_notes(p, rejects=rejects).to_pydict()) for p in shards])
    assert views[0] == views[1]


def test_card_yaml_is_the_python_emitters_text() -> None:
    """The card's header, written through libyaml where it can be, is byte for byte what
    ``yaml.safe_dump`` (the Python emitter) writes: names of many scripts, YAML's special
    words and signs, long lines, and the characters libyaml would escape (which fall back)."""
    import random

    import yaml

    from tamis.io.card import card_yaml

    rng = random.Random(7)
    pools = [range(0x20, 0x80), range(0, 0x20), range(0x80, 0x100), range(0x100, 0x800), range(0x2000, 0x2100), range(0xE000, 0x10000), range(0x1F440, 0x1F460)]
    special = ["y", "No", "null", "~", "1e3", "0x1f", "-", "? a", "a #b", " lead", "trail ", "", "'q'", '"d"', "a: b",
               "!t", "&a", "*b", "|", ">", "%", "@", "a\nb", "\t", "x" * 120, " ".join(["word"] * 40), "a\x85b", "\u2028", "👍"]

    def text() -> str:
        if rng.random() < 0.3:
            return rng.choice(special)
        pool = rng.choice(pools)
        return "".join(chr(rng.choice(pool)) for _ in range(rng.randint(0, 12)))

    for _ in range(1000):
        features = [{"name": text(), "dtype": rng.choice(["string", "int64", text()])} for _ in range(rng.randint(0, 5))]
        data = {
            "configs": [{"config_name": "kept", "default": True, "data_files": [{"split": "train", "path": text()}]}],
            "dataset_info": [{"config_name": "kept", "features": features, "splits": [{"name": "train", "num_examples": rng.randint(0, 10**9)}]}],
        }
        assert card_yaml(data) == yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def test_binary_column_values_and_their_first_few() -> None:
    from tamis.io.shardnotes import BinaryColumn

    values = [b'"a"', b"", b'{"x":1}', "é".encode(), b"null"]
    column = BinaryColumn.from_values(values)
    assert len(column) == 5 and column.to_pylist() == values
    assert [column.to_pylist(n) for n in (0, 2, 5, 9)] == [[], values[:2], values, values]
    assert column.arrow().to_pylist() == values
    assert BinaryColumn.from_values([]).to_pylist() == []


def test_held_reject_lines_are_the_first_of_each_reason_whatever_the_batches() -> None:
    """The notes of a rejects shard hold the first HOLD_PER_REASON lines of each reason among
    the first HOLD_ROWS rows, the same whether the lines come one by one or in batches."""
    import random

    from tamis.io import shardnotes as S
    from tamis.io.outputs import dumps

    rng = random.Random(5)
    reasons = [f"step:r{k}" for k in range(12)]
    records = [{"id": f"d{i}", "text": "t" * rng.randrange(5), "metadata": {}, "reason": rng.choice(reasons), "detail": None} for i in range(S.HOLD_ROWS + 300)]
    lines = [dumps({**record, "duplicate_of": None}) for record in records]
    expected: dict[int, bytes] = {}
    seen: Counter[bytes] = Counter()
    for row, line in enumerate(lines[: S.HOLD_ROWS]):
        reason = orjson.dumps(orjson.loads(line)["reason"])
        seen[reason] += 1
        if seen[reason] <= S.HOLD_PER_REASON:
            expected[row] = line[:-1]
    for sizes in ([len(lines)], [1] * 40 + [len(lines) - 40], [rng.randrange(1, 500) for _ in range(40)]):
        notes, at = S.ShardNotes(rejects=True, json_lines=True), 0
        for size in sizes:
            notes.add_lines(lines[at : at + size])
            at += size
        notes.add_lines(lines[at:])
        assert notes._held == expected
