"""Output formats are plugins: one registered class is a new ``--format``.

The toy format below writes tab-separated shards (``id``, JSON metadata, JSON text). Once
registered, a run writes it, the run's files list and read back through it, the report
builds from it, and the CLI offers it: nothing else in tamis changes.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from runutil import kept, load_stats, rejected, run_recipe, write_jsonl

from tamis.errors import ConfigError
from tamis.io import outputs
from tamis.io.outputs import GZIP_BLOCK_BYTES, JsonlOutput, OutputFormat, ShardWriter, Sink, list_shards, output_format, register_output
from tamis.report.sample import collect


class _TsvSink(Sink):
    def __init__(self, path: Path) -> None:
        self._fh = open(path, "wb")  # noqa: SIM115 - closed in close()

    def write(self, record: dict[str, Any]) -> int:
        fields = [orjson.dumps(record["id"]), orjson.dumps(record["metadata"]), orjson.dumps(record["text"])]
        line = b"\t".join(fields) + b"\n"
        self._fh.write(line)
        return len(line)

    def close(self) -> None:
        self._fh.close()


class ToyTsv(OutputFormat):
    name = "toy_tsv"
    help = "id, metadata and text as three JSON values separated by tabs"
    compressions: ClassVar[tuple[str, ...]] = ("none",)
    suffixes = (".toy.tsv",)

    def suffix(self) -> str:
        return ".toy.tsv"

    def open_sink(self, path: Path, *, rejects: bool) -> Sink:
        return _TsvSink(path)

    @classmethod
    def read(cls, path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
        for n, line in enumerate(path.read_bytes().splitlines()):
            if limit is not None and n >= limit:
                return
            doc_id, metadata, text = (orjson.loads(part) for part in line.split(b"\t"))
            yield {"id": doc_id, "text": text, "metadata": metadata}


@pytest.fixture
def toy_format() -> Iterator[type[OutputFormat]]:
    register_output(ToyTsv)
    yield ToyTsv
    outputs._OUTPUTS.pop(ToyTsv.name)


def _records() -> list[dict[str, Any]]:
    texts = [f"Document {i}: une phrase assez longue pour le test, numéro {i % 12}." for i in range(30)]
    return [{"id": f"d{i}", "text": text, "url": f"https://example.org/{i}"} for i, text in enumerate(texts)] + [{"id": "copy", "text": texts[3]}]


def test_a_registered_output_format_is_written_listed_read_and_reported(tmp_path: Path, toy_format: type[OutputFormat]):
    src = write_jsonl(tmp_path / "in.jsonl", _records())
    reference, out = tmp_path / "reference", tmp_path / "toy"
    run_recipe([src], reference, [{"step": "exact_dedup"}], workers=1)
    run_recipe([src], out, [{"step": "exact_dedup"}], workers=1, format="toy_tsv", compression="none", report=True)
    shards = list_shards(out / "output")
    assert shards and all(p.name.endswith(".toy.tsv") for p in shards)
    assert kept(out) == kept(reference)  # read back through the toy format
    assert rejected(out) == rejected(reference)  # rejects stay JSONL
    assert all(p.name.endswith(".jsonl") for p in list_shards(out / "rejects"))
    assert load_stats(out)["kept"] == 30
    assert "Time per step" in (out / "report.html").read_text(encoding="utf-8")  # the funnel section shows per-step times
    findings = collect(out, load_stats(out))  # what the report reads: the kept documents come from the toy shards
    assert findings.kept_sampled == 30
    assert [c.keeper for c in findings.largest] == ["d3"] and findings.largest[0].keeper_record["text"] == _records()[3]["text"]


def test_a_registered_output_format_is_a_cli_choice_and_checks_its_codecs(toy_format: type[OutputFormat]):
    from tamis.registry import output_format_names

    assert "toy_tsv" in output_format_names()
    with pytest.raises(ConfigError, match="takes compression none"):
        output_format("toy_tsv", "gzip")
    with pytest.raises(ConfigError, match="toy_tsv"):
        output_format("no_such_format")


def test_gzip_sink_blocks_hold_every_line_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Threaded gzip is handed blocks cut between lines (a line longer than a block alone):
    # the file is the lines in order, the same bytes every run, and what the plain writer holds.
    rng = random.Random(4)
    batches = [[b"x" * rng.randrange(1, 5000) + b"\n" for _ in range(rng.randrange(1, 3000))] for _ in range(12)]
    batches.insert(3, [b"long" * (GZIP_BLOCK_BYTES // 2) + b"\n", b"short\n"])
    expected = b"".join(b"".join(batch) for batch in batches)
    files = []
    for threads, name in (("1", "a"), ("1", "b"), ("0", "c")):
        monkeypatch.setenv("TAMIS_GZIP_THREADS", threads)
        writer = ShardWriter(tmp_path / name / "output", "part-00000", JsonlOutput("gzip"), notes=False)
        for batch in batches:
            writer.write_lines(batch)
        (shard,) = writer.close()
        files.append(shard.read_bytes())
        assert gzip.decompress(files[-1]) == expected
    assert files[0] == files[1]


def test_gzip_blocks_ahead_raise_the_writers_error() -> None:
    # The worker hands gzip blocks over up to 32 ahead; an error of the writer behind (a full
    # disk) is raised by a later write or by close, never lost.
    class Full:
        def __init__(self) -> None:
            self.blocks: list[bytes] = []

        def write(self, block: bytes) -> int:
            if len(self.blocks) == 3:
                raise OSError(28, "No space left on device")
            self.blocks.append(block)
            return len(block)

    target = Full()
    ahead = outputs._AheadWriter(target, 4)
    with pytest.raises(OSError, match="No space"):
        for i in range(100):
            ahead.write(b"%d" % i)
        ahead.close()
    with pytest.raises(OSError, match="No space"):
        ahead.close()
    assert target.blocks == [b"0", b"1", b"2"]
    fine = Full()
    ahead = outputs._AheadWriter(fine, 2)
    for block in (b"a", b"b", b"c"):
        ahead.write(block)
    ahead.close()
    assert fine.blocks == [b"a", b"b", b"c"]


@pytest.mark.parametrize("rejects", [False, True])
def test_write_serialises_once_and_notes_as_write_lines_does(tmp_path: Path, rejects: bool) -> None:
    """ShardWriter.write on JSON lines: the same shards and notes, byte for byte, as the bulk
    write_lines of the same records; a record orjson refuses (lone surrogates) is still written
    (escaped, noted field by field)."""
    from tamis.io.shardnotes import ShardNotes, notes_path

    rng = random.Random(7)
    records: list[dict[str, Any]] = []
    for i in range(300):
        meta = {"language": rng.choice(["en", "fr", None]), "signals": {"s": {"x": rng.random(), "n": i}}}
        record: dict[str, Any] = {"id": f"d{i}", "text": "é" * rng.randrange(50) + "\n" * (i % 3), "metadata": meta}
        if rejects:
            record.update(reason=rng.choice(["a:b", "c:d"]), detail=None if i % 2 else f"x={i}", duplicate_of=None if i % 5 else f"d{i - 1}")
        records.append(record)
    fmt = outputs.rejects_format("gzip") if rejects else output_format("jsonl", "gzip")
    one = ShardWriter(tmp_path / "a" / "rejects", "part", fmt, max_bytes=4000, rejects=rejects, notes=True)
    bulk = ShardWriter(tmp_path / "b" / "rejects", "part", fmt, max_bytes=4000, rejects=rejects, notes=True)
    for record in records:
        one.write(record)
        bulk.write_lines([outputs.dumps(record)])
    shards_one, shards_bulk = one.close(), bulk.close()
    assert len(shards_one) == len(shards_bulk) > 3
    for a, b in zip(shards_one, shards_bulk, strict=True):
        assert gzip.decompress(a.read_bytes()) == gzip.decompress(b.read_bytes())
        assert notes_path(a).read_bytes() == notes_path(b).read_bytes()
    # The reference notes (each field serialised on its own) hold the same values.
    reference = ShardNotes(rejects=rejects, json_lines=True)
    for record in records:
        reference.add_record(record)
    noted = ShardNotes(rejects=rejects, json_lines=True)
    noted.add_lines([outputs.dumps(r) for r in records])
    assert reference.ids.values() == noted.ids.values() and reference.metas.values() == noted.metas.values()
    assert reference.reasons.values() == noted.reasons.values() and reference.keepers.values() == noted.keepers.values()
    odd = ShardWriter(tmp_path / "c" / "rejects", "part", fmt, rejects=rejects, notes=True)
    odd.write({**records[0], "text": "lone \udc80"})
    (shard,) = odd.close()
    assert gzip.decompress(shard.read_bytes()) == outputs.dumps({**records[0], "text": "lone \udc80"})
    assert b"\\udc80" in gzip.decompress(shard.read_bytes()) and notes_path(shard).exists()


@pytest.mark.parametrize("rejects", [False, True])
def test_an_id_with_a_lone_surrogate_is_noted_as_its_line_holds_it(tmp_path: Path, rejects: bool) -> None:
    """ShardNotes.add_record raised on a lone surrogate in the id (orjson refuses it): the id is
    now noted escaped, as the shard's line writes it, and the card counts it like any id."""
    from tamis.io.card import describe_folder, duplicate_ids
    from tamis.io.shardnotes import read_notes

    folder = "rejects" if rejects else "output"
    record: dict[str, Any] = {"id": "doc \ud800 é", "text": "text \udc80", "metadata": {"n": 1}}
    if rejects:
        record.update(reason="a:b", detail=None, duplicate_of="keeper \udfff")
    fmt = outputs.rejects_format("gzip") if rejects else output_format("jsonl", "gzip")
    shards = []
    for part in ("p", "q"):  # the same id in two shards: one repeated id
        writer = ShardWriter(tmp_path / folder, part, fmt, rejects=rejects, notes=True)
        writer.write(record)
        writer.write({**record, "id": "plain"})
        shards += writer.close()
    line = gzip.decompress(shards[0].read_bytes()).splitlines(keepends=True)[0]
    assert line == outputs.dumps(record)
    notes = read_notes(shards[0], rejects=rejects)
    assert notes is not None and notes.rows == 2
    noted = notes.ids.to_pylist()[0]
    assert noted == b'"doc \\ud800 \\u00e9"' and json.loads(noted) == record["id"]  # the line's escaped form
    if rejects:
        assert notes.column_values("duplicate_of")[0] == "keeper \udfff" and notes.column_values("reason") == ["a:b", "a:b"]
    assert duplicate_ids([describe_folder(tmp_path, folder)]) == (2, ["doc \ud800 é", "plain"])


@pytest.mark.parametrize("rejects", [False, True])
def test_batched_write_gives_the_bytes_of_one_record_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rejects: bool) -> None:
    """ShardWriter.write serialises and notes its records a batch at a time: the shards (their
    gzip bytes, so the sink's flushes too), the notes and the shard ends are those of writing
    each record at once (a batch of 1), with records orjson refuses among them and bulk
    write_lines between writes kept in order; ``records`` counts the waiting ones."""
    from tamis.io.shardnotes import notes_path

    rng = random.Random(11)
    records: list[dict[str, Any]] = []
    for i in range(700):
        text = "w" * rng.randrange(12_000) + ("é" if i % 7 == 0 else "") + (" \udc80" if i % 97 == 5 else "")
        record: dict[str, Any] = {"id": f"d{i}", "text": text, "metadata": {"language": rng.choice(["en", None]), "signals": {"s": {"x": rng.random()}}}}
        if rejects:
            record.update(reason=rng.choice(["a:b", "c:d"]), detail=None, duplicate_of=None if i % 5 else f"d{i - 1}")
        records.append(record)
    fmt = outputs.rejects_format("gzip") if rejects else output_format("jsonl", "gzip")

    def written(folder: str, batch: int) -> list[tuple[bytes, bytes]]:
        monkeypatch.setattr(outputs, "WRITE_BATCH", batch)
        writer = ShardWriter(tmp_path / folder / "rejects", "part", fmt, max_bytes=1_500_000, rejects=rejects, notes=True)  # flushes (1 MB) inside shards
        for i, record in enumerate(records):
            if i % 250 == 249:
                writer.write_lines([outputs.dumps(record)])
            else:
                writer.write(record)
            assert writer.records == i + 1
        return [(path.read_bytes(), notes_path(path).read_bytes()) for path in writer.close()]

    one, batched = written("one", 1), written("batched", 64)
    assert len(one) >= 3
    assert batched == one
