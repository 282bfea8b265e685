"""Streaming reads of a run's shards for the report (never of its input).

The report must cost a small fraction of the run, so it reads shards in two ways:

- ``iter_records(path, limit)``: whole records, fully parsed, for at most ``limit`` records of
  a shard (the first ones: deterministic, and cheap because a shard is read from its start).
- ``iter_reject_tails(path)``: for every reject, only ``reason``, ``detail`` and
  ``duplicate_of``. In JSONL these are the last keys of each record (the writers put them after
  ``metadata``), and a JSON string escapes its quotes, so the last ``,"reason":`` of a line is
  the record's own key: the tail is parsed without parsing the text (rejects are always JSONL).

Where the writer committed a shard's notes (:mod:`tamis.io.shardnotes`: every record's id and,
for rejects, its ``reason`` and ``duplicate_of``), those answer instead: a reject shard is then
decompressed only as far as its last whole record wanted, and a lookup by id reads only the
shards that hold the ids, only up to the last of them. In the process that wrote a rejects
shard, the first lines of each reason come from the writer's memory
(:func:`tamis.io.shardnotes.held_lines`: the same bytes), so the shard is often not
decompressed at all.

Shards are listed and read through :mod:`tamis.io.outputs` (the one shard reader).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from tamis.io.outputs import JsonlOutput, decode_metadata, list_shards, read_shard
from tamis.io.shardnotes import Notes, held_lines, read_notes, split_record

SMALL_BLOCK_BYTES = 256 << 10  # for reads that stop after a few records: decompress little more than needed
REASON_KEY = b',"reason":'
FIND_MAX_BYTES = 2 << 30


def iter_records(path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Whole records of one shard (metadata decoded to a dict), at most ``limit`` of them."""
    return read_shard(path, limit)


def iter_reject_tails(path: Path) -> Iterator[tuple[dict[str, Any], bytes | dict[str, Any]]]:
    """``({"reason", "detail", "duplicate_of"}, source)`` for every reject of a shard.

    ``source`` is the raw JSONL line (parse it with :func:`parse_line` only when the whole
    record is wanted) or, for Parquet, the already-read row.
    """
    if not JsonlOutput.owns(path.name):  # rejects of a run from before rejects were always JSONL
        for row in read_shard(path):
            yield {"reason": row.get("reason"), "detail": row.get("detail"), "duplicate_of": row.get("duplicate_of")}, row
        return
    for line in JsonlOutput.lines(path):
        at = line.rfind(REASON_KEY)
        tail: Any = None
        if at >= 0:
            try:
                tail = orjson.loads(b"{" + line[at + 1 :])
            except orjson.JSONDecodeError:
                tail = None
        if not isinstance(tail, dict):
            full = parse_line(line)
            if full is None:
                continue
            tail = full
        yield {"reason": tail.get("reason"), "detail": tail.get("detail"), "duplicate_of": tail.get("duplicate_of")}, line


def parse_metadata(line: bytes, rejects: bool) -> dict[str, Any] | None:
    """``{"metadata": ...}`` of a JSONL line as :func:`parse_line` would give it, parsing the
    metadata alone where the line is laid out as tamis writes it (not the text)."""
    found = split_record(line, rejects)
    if found is not None:
        try:
            return decode_metadata({"metadata": orjson.loads(found[1])})
        except orjson.JSONDecodeError:
            pass
    record = parse_line(line)
    return None if record is None else {"metadata": record["metadata"]}


def iter_metadata(path: Path, limit: int, only: tuple[bytes, ...] | None = None) -> Iterator[dict[str, Any]]:
    """``{"metadata": ...}`` of the first ``limit`` records of a shard: what
    ``iter_records(path, limit)`` gives, but only the metadata parsed (JSONL). ``only``: the
    keys the caller reads; from the notes, a metadata value holding none of them is given as
    ``{}`` undecoded (:func:`tamis.io.shardnotes.decode_metadata_text`)."""
    if not JsonlOutput.owns(path.name):
        for record in read_shard(path, limit):
            yield {"metadata": record["metadata"]}
        return
    if limit <= 0:
        return
    notes = read_notes(path, rejects=False)
    noted = notes.metadata_objects(limit, only) if notes is not None else None
    if noted is not None:  # from the notes: the shard is not decompressed
        for meta in noted:
            yield {"metadata": meta}
        return
    seen = 0
    for line in JsonlOutput.lines(path, SMALL_BLOCK_BYTES):
        record = parse_metadata(line, rejects=False)
        if record is None:
            continue
        yield record
        seen += 1
        if seen >= limit:
            return


def noted_rejects(path: Path) -> tuple[Notes, ShardLines] | None:
    """A JSONL reject shard's notes and its lines to be read on demand, or None where the
    shard has no valid notes (then :func:`iter_reject_tails` reads it)."""
    if not JsonlOutput.owns(path.name):
        return None
    notes = read_notes(path, rejects=True)
    return None if notes is None else (notes, ShardLines(path, held=held_lines(path)))


class ShardLines:
    """The lines of a JSONL shard by position, decompressed only up to the last one asked for
    (positions must be asked in increasing order); a block holding no wanted line is counted,
    never split. Lines are positions in the shard as its writer wrote them (one record a line,
    no blank lines), which is what its notes number. Close it to stop early."""

    def __init__(self, path: Path, block_bytes: int = SMALL_BLOCK_BYTES, held: dict[int, bytes] | None = None) -> None:
        self._blocks = JsonlOutput.blocks(path, block_bytes)  # opened at the first line not held
        self._start = 0  # the position of self._lines[0]
        self._lines: list[bytes] = []
        self._held = held or {}  # lines the writer of this process held (shardnotes.held_lines)

    def line(self, position: int) -> bytes | None:
        held = self._held.get(position)
        if held is not None:
            return held
        while position >= self._start + len(self._lines):
            self._start += len(self._lines)
            self._lines = []
            block = next(self._blocks, None)
            if block is None:
                return None
            n = block.count(b"\n") + (not block.endswith(b"\n"))
            if position < self._start + n:
                self._lines = block.split(b"\n")[:n]
            else:
                self._start += n
        return self._lines[position - self._start]

    def close(self) -> None:
        self._blocks.close()


def parse_line(source: bytes | dict[str, Any]) -> dict[str, Any] | None:
    """A whole record from what :func:`iter_reject_tails` yielded."""
    if isinstance(source, dict):
        return decode_metadata(dict(source))
    try:
        record = orjson.loads(source)
    except orjson.JSONDecodeError:
        return None
    return decode_metadata(record) if isinstance(record, dict) else None


def _wanted_rows(raw_ids: list[bytes], by_text: dict[bytes, str], ids: set[str], found: dict[str, Any]) -> list[tuple[int, str]]:
    """(row, id) of the noted ids (JSON texts) that are in ``ids`` and not yet ``found``, in
    row order. Without an escape a JSON string names a wanted id exactly when it is the text
    orjson writes for it (``by_text``): only texts holding a backslash are decoded."""
    wanted = [(row, by_text[raw]) for row, raw in enumerate(raw_ids) if raw in by_text]
    wanted += [(row, value) for row, raw in enumerate(raw_ids) if b"\\" in raw and raw not in by_text and (value := orjson.loads(raw)) in ids]
    return sorted((row, value) for row, value in wanted if value not in found)


def find_records(folder: Path, ids: set[str], max_bytes: int = FIND_MAX_BYTES) -> dict[str, dict[str, Any]]:
    """The records of ``folder``'s shards whose id is in ``ids``, scanning in order and stopping
    as soon as all are found (keepers come first in input order, so this usually ends early)
    or after ``max_bytes`` of decompressed JSONL (the report's time stays bounded; a record not
    found is shown as such).

    A line is parsed only when its raw bytes contain one of the ids.
    """
    found: dict[str, dict[str, Any]] = {}
    if not ids:
        return found
    needles = {i: orjson.dumps(i) for i in ids}
    by_text = {text: i for i, text in needles.items()}
    scanned = 0
    for shard in list_shards(folder):
        notes = read_notes(shard) if JsonlOutput.owns(shard.name) else None
        if notes is not None:  # only the positions of the wanted ids, only this far
            wanted = _wanted_rows(notes.ids.to_pylist(), by_text, ids, found)
            lines = ShardLines(shard)
            try:
                for row, value in wanted:
                    line = lines.line(row)
                    record = parse_line(line) if line is not None else None
                    if record is not None and record.get("id") == value:
                        found.setdefault(value, record)
            finally:
                lines.close()
            if len(found) == len(ids):
                return found
            continue
        if not JsonlOutput.owns(shard.name):
            for row in read_shard(shard):
                if row.get("id") in ids and row["id"] not in found:
                    found[row["id"]] = row
                    if len(found) == len(ids):
                        return found
            continue
        for block in JsonlOutput.blocks(shard):
            scanned += len(block)
            if scanned > max_bytes:
                return found
            for key, needle in needles.items():
                at = block.find(needle) if key not in found else -1
                while at >= 0:
                    # the line around the match: parse it, keep it if the id is its own
                    start = block.rfind(b"\n", 0, at) + 1
                    end = block.find(b"\n", at)
                    end = len(block) if end < 0 else end
                    record = parse_line(block[start:end])
                    if record is not None and record.get("id") == key:
                        found[key] = record
                        break
                    at = block.find(needle, end)
            if len(found) == len(ids):
                return found
    return found
