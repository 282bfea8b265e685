"""Streaming reads of a run's shards for the report (never of its input).

The report must cost a small fraction of the run, so it reads shards in two ways:

- ``iter_records(path, limit)``: whole records, fully parsed, for at most ``limit`` records of
  a shard (the first ones: deterministic, and cheap because a shard is read from its start).
- ``iter_reject_tails(path)``: for every reject, only ``reason``, ``detail`` and
  ``duplicate_of``. In JSONL these are the last keys of each record (the writers put them after
  ``metadata``), and a JSON string escapes its quotes, so the last ``,"reason":`` of a line is
  the record's own key: the tail is parsed without parsing the text. Parquet reads the three
  columns only.

JSONL shards are decompressed in large blocks and split on newlines (gzip's own line iterator
costs several times more per line).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

SHARD_SUFFIXES = (".jsonl.gz", ".jsonl.zst", ".jsonl", ".parquet")
BLOCK_BYTES = 4 << 20
SMALL_BLOCK_BYTES = 256 << 10  # for reads that stop after a few records: decompress little more than needed
REASON_KEY = b',"reason":'
FIND_MAX_BYTES = 2 << 30


def list_shards(folder: Path) -> list[Path]:
    """Finished shards of ``folder`` in name order (task order); temporary files are skipped."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.name.endswith(SHARD_SUFFIXES))


def iter_lines(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """The non-empty lines of a JSONL shard, decompressed block by block."""
    for block in iter_blocks(path, block_bytes):
        for line in block.split(b"\n"):
            if line:
                yield line


def iter_blocks(path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """A JSONL shard decompressed in blocks of whole lines (each block ends at a line end)."""
    name = path.name
    with open(path, "rb") as raw:
        if name.endswith(".gz"):
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)

            def read_block() -> bytes:
                nonlocal inflate
                while True:
                    compressed = raw.read(block_bytes)
                    if not compressed:
                        return inflate.flush()
                    out = inflate.decompress(compressed)
                    if inflate.eof and inflate.unused_data:
                        # concatenated gzip members: start a new one with what is left
                        rest = inflate.unused_data
                        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                        out += inflate.decompress(rest)
                    if out:
                        return out

        elif name.endswith(".zst"):
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)

            def read_block() -> bytes:
                return reader.read(block_bytes)

        else:

            def read_block() -> bytes:
                return raw.read(block_bytes)

        pending = b""
        while True:
            block = read_block()
            if not block:
                break
            cut = block.rfind(b"\n")
            if cut < 0:
                pending += block
                continue
            yield pending + block[: cut + 1]
            pending = block[cut + 1 :]
        if pending.strip():
            yield pending


def _parquet_rows(path: Path, columns: list[str] | None, limit: int | None) -> Iterator[dict[str, Any]]:
    import pyarrow.parquet as pq

    shard = pq.ParquetFile(path)
    names = set(shard.schema_arrow.names)
    wanted = [c for c in columns if c in names] if columns else None
    seen = 0
    for batch in shard.iter_batches(batch_size=4096, columns=wanted):
        for row in batch.to_pylist():
            if limit is not None and seen >= limit:
                return
            seen += 1
            yield row


def _decode_metadata(record: dict[str, Any]) -> dict[str, Any]:
    meta = record.get("metadata")
    if isinstance(meta, str | bytes):
        try:
            meta = orjson.loads(meta)
        except orjson.JSONDecodeError:
            meta = {}
    record["metadata"] = meta if isinstance(meta, dict) else {}
    return record


def iter_records(path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Whole records of one shard (metadata decoded to a dict), at most ``limit`` of them."""
    if limit is not None and limit <= 0:
        return
    if path.name.endswith(".parquet"):
        for row in _parquet_rows(path, None, limit):
            yield _decode_metadata(row)
        return
    seen = 0
    for line in iter_lines(path, SMALL_BLOCK_BYTES if limit is not None else BLOCK_BYTES):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(record, dict):
            continue
        yield _decode_metadata(record)
        seen += 1
        if limit is not None and seen >= limit:
            return


def iter_reject_tails(path: Path) -> Iterator[tuple[dict[str, Any], bytes | dict[str, Any]]]:
    """``({"reason", "detail", "duplicate_of"}, source)`` for every reject of a shard.

    ``source`` is the raw JSONL line (parse it with :func:`parse_line` only when the whole
    record is wanted) or, for Parquet, the already-read row.
    """
    if path.name.endswith(".parquet"):
        for row in _parquet_rows(path, None, None):
            tail = {"reason": row.get("reason"), "detail": row.get("detail"), "duplicate_of": row.get("duplicate_of")}
            yield tail, row
        return
    for line in iter_lines(path):
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


def parse_line(source: bytes | dict[str, Any]) -> dict[str, Any] | None:
    """A whole record from what :func:`iter_reject_tails` yielded."""
    if isinstance(source, dict):
        return _decode_metadata(dict(source))
    try:
        record = orjson.loads(source)
    except orjson.JSONDecodeError:
        return None
    return _decode_metadata(record) if isinstance(record, dict) else None


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
    scanned = 0
    for shard in list_shards(folder):
        if shard.name.endswith(".parquet"):
            for row in _parquet_rows(shard, None, None):
                if row.get("id") in ids and row["id"] not in found:
                    found[row["id"]] = _decode_metadata(row)
                    if len(found) == len(ids):
                        return found
            continue
        for block in iter_blocks(shard):
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
