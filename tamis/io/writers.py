"""Sharded writers for kept documents, rejects and stage spill files.

Shards are named ``part-<task>-<shard>.<ext>``, written under a temporary name and renamed
when complete, so a killed task never leaves a half shard that looks finished. Every record
has the same keys in every run: ``id``, ``text``, ``metadata`` and, for rejects, ``reason``,
``detail`` and ``duplicate_of`` (null where absent). In Parquet, ``metadata`` is a JSON string
column (its keys differ between steps, and Parquet wants one schema); in JSONL it is an object.
"""

from __future__ import annotations

import contextlib
import gzip
import io
from pathlib import Path
from typing import Any

import orjson

from tamis.errors import ConfigError
from tamis.io.atomic import commit, temp_name

FORMATS = ("jsonl", "parquet")
COMPRESSIONS = ("gzip", "zstd", "none")
REJECT_KEYS = ("reason", "detail", "duplicate_of")


def shard_suffix(fmt: str, compression: str) -> str:
    if fmt == "parquet":
        return ".parquet"
    return {"gzip": ".jsonl.gz", "zstd": ".jsonl.zst", "none": ".jsonl"}[compression]


def dumps(record: dict[str, Any]) -> bytes:
    """One JSON line. Lone surrogates (from undecodable input) are escaped, never lost."""
    try:
        return orjson.dumps(record) + b"\n"
    except TypeError:
        import json

        return json.dumps(record, ensure_ascii=True, default=str).encode("ascii") + b"\n"


class _JsonlSink:
    def __init__(self, path: Path, compression: str, level: int | None) -> None:
        self._raw = open(path, "wb")  # noqa: SIM115 - closed in close()
        if compression == "gzip":
            self._fh: Any = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=level or 6, mtime=0)
        elif compression == "zstd":
            import zstandard

            self._fh = zstandard.ZstdCompressor(level=level or 3).stream_writer(self._raw, closefd=False)
        else:
            self._fh = self._raw
        self._buf = io.BytesIO()

    def write(self, record: dict[str, Any]) -> int:
        return self.write_line(dumps(record))

    def write_line(self, line: bytes) -> int:
        self._buf.write(line)
        if self._buf.tell() >= 1 << 20:
            self.flush()
        return len(line)

    def flush(self) -> None:
        self._fh.write(self._buf.getvalue())
        self._buf = io.BytesIO()

    def close(self) -> None:
        self.flush()
        if self._fh is not self._raw:
            self._fh.close()
        self._raw.close()


class _ParquetSink:
    def __init__(self, path: Path, compression: str, level: int | None, rejects: bool) -> None:
        import pyarrow as pa

        self._pa = pa
        fields = [pa.field("id", pa.string()), pa.field("text", pa.string()), pa.field("metadata", pa.string())]
        if rejects:
            fields += [pa.field(k, pa.string()) for k in REJECT_KEYS]
        self._schema = pa.schema(fields)
        self._path = path
        self._codec = {"gzip": "gzip", "zstd": "zstd", "none": "none"}[compression]
        self._level = level
        self._rows: dict[str, list[Any]] = {f.name: [] for f in fields}
        self._writer: Any = None
        self._pending = 0

    def write(self, record: dict[str, Any]) -> int:
        for key, column in self._rows.items():
            value = record.get(key)
            if key == "metadata":
                value = orjson.dumps(value).decode()
            column.append(value)
        size = len(record.get("text") or "") + 64  # the text is None in a run that writes none
        self._pending += size
        if self._pending >= 32 << 20:
            self.flush()
        return size

    def flush(self) -> None:
        if not self._rows["id"]:
            return
        import pyarrow.parquet as pq

        table = self._pa.Table.from_pydict(self._rows, schema=self._schema)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._path, self._schema, compression=self._codec, compression_level=self._level)
        self._writer.write_table(table)
        self._rows = {k: [] for k in self._rows}
        self._pending = 0

    def close(self) -> None:
        self.flush()
        if self._writer is None:  # an empty shard still has a schema
            import pyarrow.parquet as pq

            pq.write_table(self._schema.empty_table(), self._path, compression=self._codec)
        else:
            self._writer.close()


class ShardWriter:
    """Writes records into ``<stem>-<n>`` shards of at most ``max_bytes`` (uncompressed).

    Nothing is visible under the final names until ``close()``; a writer that is never closed
    leaves only ``*.tmp-*`` files, which ``--resume`` removes.
    """

    def __init__(
        self,
        directory: Path,
        stem: str,
        *,
        fmt: str = "jsonl",
        compression: str = "gzip",
        level: int | None = None,
        max_bytes: int = 256 << 20,
        rejects: bool = False,
        write_empty: bool = False,
    ) -> None:
        if fmt not in FORMATS:
            msg = f"unknown output format {fmt!r}; choose from: {', '.join(FORMATS)}"
            raise ConfigError(msg)
        if compression not in COMPRESSIONS:
            msg = f"unknown compression {compression!r}; choose from: {', '.join(COMPRESSIONS)}"
            raise ConfigError(msg)
        self.directory = directory
        self.stem = stem
        self.fmt = fmt
        self.compression = compression
        self.level = level
        self.max_bytes = max_bytes
        self.rejects = rejects
        self.write_empty = write_empty
        self.records = 0
        self._shard = 0
        self._sink: Any = None
        self._tmp: Path | None = None
        self._final: Path | None = None
        self._bytes = 0
        self._pending: list[tuple[Path, Path]] = []

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{self.stem}-{self._shard:04d}{shard_suffix(self.fmt, self.compression)}"
        self._final = self.directory / name
        self._tmp = temp_name(self._final)
        if self.fmt == "parquet":
            self._sink = _ParquetSink(self._tmp, self.compression, self.level, self.rejects)
        else:
            self._sink = _JsonlSink(self._tmp, self.compression, self.level)
        self._bytes = 0

    def _finish_shard(self) -> None:
        assert self._sink is not None and self._tmp is not None and self._final is not None
        self._sink.close()
        self._pending.append((self._tmp, self._final))
        self._sink = None
        self._shard += 1

    def write(self, record: dict[str, Any]) -> None:
        if self._sink is None:
            self._open()
        self._wrote(self._sink.write(record), 1)

    def write_lines(self, lines: list[bytes]) -> None:
        """Records already serialised as ``dumps`` would, in order (JSONL shards only)."""
        assert self.fmt == "jsonl"
        if self._sink is not None and self._bytes + sum(map(len, lines)) < self.max_bytes:
            self._wrote(self._sink.write_line(b"".join(lines)), len(lines))  # all in this shard
            return
        for line in lines:  # a shard ends among them (or none is open yet)
            if self._sink is None:
                self._open()
            self._wrote(self._sink.write_line(line), 1)

    def _wrote(self, n_bytes: int, records: int) -> None:
        self._bytes += n_bytes
        self.records += records
        if self._bytes >= self.max_bytes:
            self._finish_shard()

    def close(self) -> list[Path]:
        """Finish the last shard and rename every shard to its final name."""
        if self._sink is None and not self._pending and self.write_empty:
            self._open()
        if self._sink is not None:
            self._finish_shard()
        finals = []
        for tmp, final in self._pending:
            commit(tmp, final)
            finals.append(final)
        self._pending = []
        return finals

    def abort(self) -> None:
        if self._sink is not None:
            with contextlib.suppress(Exception):  # best effort on the way out
                self._sink.close()
        for tmp in [p for p, _ in self._pending] + ([self._tmp] if self._tmp else []):
            tmp.unlink(missing_ok=True)


def document_record(doc: Any) -> dict[str, Any]:
    return {"id": doc.id, "text": doc.text, "metadata": doc.metadata}
