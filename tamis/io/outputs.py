"""Output formats: a registry of classes that write, list and read back a run's shards.

Every shard a run writes (kept documents, rejects, stage spills) goes through one
:class:`OutputFormat`; the report, ``runfiles`` and the tests read shards back through the
same classes, so a new format is one registered class (``@register_output``) and nothing
else learns about it. A format says:

* how a shard is named (``suffix``) and which codecs it takes (``compressions``);
* how a record is written (``open_sink(path).write(record)``) and how records already
  serialised as JSON lines are written in bulk (``write_lines``; a format that stores
  something else parses them, see :class:`Sink`);
* how a finished shard is read back (``read``: records as dicts, ``metadata`` an object).

Shards are named ``part-<task>-<shard>.<ext>``, written under a temporary name and renamed
when complete (:mod:`tamis.io.atomic`), so a killed task never leaves a half shard that
looks finished; :func:`list_shards` is the one place that lists finished shards. Every record
has the same keys in every run: ``id``, ``text``, ``metadata`` and, for rejects, ``reason``,
``detail`` and ``duplicate_of`` (null where absent). Rejects are always JSONL (the run's codec
where JSONL takes it, else gzip), whatever the output format: one well-defined format that
every tool reads and the report scans without parsing texts.
"""

from __future__ import annotations

import bisect
import contextlib
import gzip
import itertools
import os
import queue
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import orjson

from tamis.errors import ConfigError
from tamis.io.atomic import commit, temp_name
from tamis.io.shardnotes import ShardNotes

COMPRESSIONS = ("gzip", "zstd", "none")
REJECT_KEYS = ("reason", "detail", "duplicate_of")
BLOCK_BYTES = 4 << 20
FLUSH_BYTES = 1 << 20  # a JSONL sink hands its codec at least this much at a time
NOTED_FOLDERS = ("output", "rejects")


def dumps(record: dict[str, Any]) -> bytes:
    """One JSON line. Lone surrogates (from undecodable input) are escaped, never lost."""
    try:
        return orjson.dumps(record) + b"\n"
    except TypeError:
        import json

        return json.dumps(record, ensure_ascii=True, default=str).encode("ascii") + b"\n"


def document_record(doc: Any) -> dict[str, Any]:
    return {"id": doc.id, "text": doc.text, "metadata": doc.metadata}


def decode_metadata(record: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` as an object, whatever the format stored (Parquet: a JSON string)."""
    meta = record.get("metadata")
    if isinstance(meta, str | bytes):
        try:
            meta = orjson.loads(meta)
        except orjson.JSONDecodeError:
            meta = {}
    record["metadata"] = meta if isinstance(meta, dict) else {}
    return record


# --------------------------------------------------------------------------- the interface


class Sink:
    """An open shard. ``write`` returns the (uncompressed) bytes it added, which the
    :class:`ShardWriter` counts against its shard size."""

    def write(self, record: dict[str, Any]) -> int:
        raise NotImplementedError

    def write_lines(self, lines: list[bytes], size: int | None = None) -> int:
        """Records already serialised by :func:`dumps`, in order (the bulk path of a pass
        that knows its records' lines without building them; ``size``: their bytes, where
        the caller has counted them). A format that does not store JSON lines gets them
        parsed, one record at a time."""
        return sum(self.write(orjson.loads(line)) for line in lines)

    def close(self) -> None:
        raise NotImplementedError


class OutputFormat:
    """One output format. Subclasses set ``name``, ``help``, ``compressions`` and implement
    ``suffix``, ``open_sink`` and ``read``; ``@register_output`` makes them a choice of
    ``--format`` and of recipes."""

    name: ClassVar[str]
    help: ClassVar[str] = ""
    compressions: ClassVar[tuple[str, ...]] = COMPRESSIONS
    suffixes: ClassVar[tuple[str, ...]] = ()  # every suffix its shards may have, for listing

    def __init__(self, compression: str = "gzip", level: int | None = None) -> None:
        if compression not in self.compressions:
            msg = f"output format {self.name!r} takes compression {', '.join(self.compressions)}, not {compression!r}"
            raise ConfigError(msg)
        self.compression = compression
        self.level = level

    def suffix(self) -> str:
        raise NotImplementedError

    def open_sink(self, path: Path, *, rejects: bool) -> Sink:
        raise NotImplementedError

    @classmethod
    def read(cls, path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """The records of a finished shard, in order (at most ``limit``), metadata decoded."""
        raise NotImplementedError

    @classmethod
    def owns(cls, name: str) -> bool:
        return name.endswith(cls.suffixes)


_OUTPUTS: dict[str, type[OutputFormat]] = {}
F = TypeVar("F", bound=type[OutputFormat])


def register_output(cls: F) -> F:
    """Class decorator: make an output format available under ``cls.name``."""
    if cls.name in _OUTPUTS and _OUTPUTS[cls.name] is not cls:
        msg = f"output format {cls.name!r} is registered twice"
        raise TypeError(msg)
    _OUTPUTS[cls.name] = cls
    return cls


def output_names() -> list[str]:
    return list(_OUTPUTS)


def output_format(name: str, compression: str = "gzip", level: int | None = None) -> OutputFormat:
    """An instance of the format ``name`` (a ConfigError naming the choices otherwise)."""
    cls = _OUTPUTS.get(name)
    if cls is None:
        msg = f"unknown output format {name!r}; choose from: {', '.join(_OUTPUTS)}"
        raise ConfigError(msg)
    return cls(compression, level)


def rejects_format(compression: str, level: int | None = None) -> OutputFormat:
    """Rejects are JSONL whatever the output format: the run's codec where JSONL takes it."""
    return JsonlOutput(compression if compression in JsonlOutput.compressions else "gzip", level)


def format_of(path: Path) -> type[OutputFormat]:
    """The registered format that writes shards named like ``path`` (longest suffix wins)."""
    best: tuple[int, type[OutputFormat]] | None = None
    for cls in _OUTPUTS.values():
        for suffix in cls.suffixes:
            if path.name.endswith(suffix) and (best is None or len(suffix) > best[0]):
                best = (len(suffix), cls)
    if best is None:
        msg = f"{path}: not a shard of any output format ({', '.join(_OUTPUTS)})"
        raise ConfigError(msg)
    return best[1]


def list_shards(folder: Path) -> list[Path]:
    """Finished shards of ``folder`` in name order (task order): files named ``part-*`` with
    a registered format's suffix; temporary files are skipped. The one listing of shards."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        name = path.name
        if name.startswith(".") or ".tmp-" in name or not path.is_file():
            continue
        if any(cls.owns(name) for cls in _OUTPUTS.values()):
            found.append(path)
    return sorted(found)


def read_shard(path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The records of one finished shard, whatever format wrote it."""
    return format_of(path).read(path, limit)


def iter_records(root: Path, which: str = "output") -> Iterator[dict[str, Any]]:
    """Every record of ``root/which`` (``output`` or ``rejects``), in shard order."""
    for path in list_shards(root / which):
        yield from read_shard(path)


# --------------------------------------------------------------------------- JSONL


# gzip levels 0-3 are ISA-L's (python-isal's igzip: the same gzip format, several times
# zlib's speed); 4-9 are zlib's. The README's table says what each costs: level 2 writes at
# 1.7x level 3's speed for files 4 % larger (gzip was the largest CPU cost of a dedup run).
GZIP_LEVEL = 2


GZIP_BLOCK_BYTES = 1 << 20
# Blocks the worker may be ahead of the deflate thread. python-isal's threaded writer queues one
# block: a worker that writes 8 MB at once then waited for most of it to be deflated, and the
# deflate thread then idled while the worker read on (profiled: ~1/3 of a one-pass exact
# dedup's wall time was that wait). With room for 32 blocks the two overlap.
GZIP_AHEAD_BLOCKS = 32


class _AheadWriter:
    """Hands blocks to a writer that may block (the threaded gzip's) from a thread of its own,
    up to ``depth`` blocks ahead of it, in order. An error of the writer is raised by the
    next ``write`` or by ``close``."""

    def __init__(self, target: Any, depth: int) -> None:
        self._target = target
        self._queue: queue.Queue[bytes | None] = queue.Queue(depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="tamis-gzip-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            block = self._queue.get()
            if block is None:
                return
            if self._error is None:  # after an error, blocks are taken and dropped until close
                try:
                    self._target.write(block)
                except BaseException as exc:  # noqa: BLE001 - handed to the worker's thread
                    self._error = exc

    def write(self, block: bytes) -> int:
        if self._error is not None:
            raise self._error
        self._queue.put(block)
        return len(block)

    def close(self) -> None:
        """Wait until every block is handed over; raise the writer's error, if any."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


def gzip_threads() -> int:
    """How many threads deflate ISA-L gzip output beside the worker: ``TAMIS_GZIP_THREADS``
    (default 1; ``0``: in the worker itself)."""
    value = os.environ.get("TAMIS_GZIP_THREADS", "1")
    try:
        return max(0, int(value))
    except ValueError:
        msg = f"TAMIS_GZIP_THREADS must be a whole number of threads, not {value!r}"
        raise ConfigError(msg) from None


def gzip_writer(raw: Any, level: int | None) -> Any:
    """A gzip stream over ``raw`` (no timestamp and no file name, which would be the shard's
    temporary name: identical runs write identical files).

    ISA-L levels (0-3) deflate in a thread of their own (python-isal's ``igzip_threaded``):
    1 MB blocks, each deflated with the previous block's last 32 KB as its dictionary by a
    call that releases the GIL, written in order, so the file is the same whatever the
    timing (one gzip member, a ratio within 0.1 % of one stream). Measured on ``tamis
    dedup``'s apply pass (590 MB): the worker's own work bounds it once gzip is off its
    thread (apply 4.4-5.0 s with one thread, 5.6-6.1 s in the worker); a second thread did
    not shorten it, so one is the default."""
    level = GZIP_LEVEL if level is None else level
    if level <= 3:
        threads = gzip_threads()
        if threads:
            from isal import igzip_threaded

            return igzip_threaded.open(raw, "wb", compresslevel=level, threads=threads, block_size=GZIP_BLOCK_BYTES)
        from isal import igzip

        return igzip.IGzipFile(filename="", fileobj=raw, mode="wb", compresslevel=level, mtime=0)
    return gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=level, mtime=0)


class _JsonlSink(Sink):
    def __init__(self, path: Path, compression: str, level: int | None) -> None:
        self._raw = open(path, "wb")  # noqa: SIM115 - closed in close()
        if compression == "gzip":
            self._fh: Any = gzip_writer(self._raw, level)
        elif compression == "zstd":
            import zstandard

            self._fh = zstandard.ZstdCompressor(level=level or 3).stream_writer(self._raw, closefd=False)
        else:
            self._fh = self._raw
        # Lines waiting to be written, joined once when they pass FLUSH_BYTES (one copy; a
        # BytesIO in between copied each byte twice more).
        self._parts: list[bytes] = []
        self._pending = 0
        # Threaded ISA-L gzip takes blocks of at most GZIP_BLOCK_BYTES as they are: lines are
        # joined into such blocks and handed to its raw writer, which would otherwise copy
        # every byte once more (its buffered front passes a view, which it copies to bytes).
        raw_gzip = getattr(self._fh, "raw", None) if compression == "gzip" else None
        self._blocks = _AheadWriter(raw_gzip, GZIP_AHEAD_BLOCKS) if raw_gzip is not None else None

    def write(self, record: dict[str, Any]) -> int:
        line = dumps(record)
        self._parts.append(line)
        self._add(len(line))
        return len(line)

    def write_lines(self, lines: list[bytes], size: int | None = None) -> int:
        if size is None:
            size = sum(map(len, lines))
        self._parts.extend(lines)
        self._add(size)
        return size

    def write_joined(self, joined: bytes | memoryview) -> int:
        """Whole lines end to end, as one part: the gzip thread takes it as a block of its own (or joined
        with its neighbours where they are small), cut between parts, not lines."""
        self._parts.append(joined)
        size = len(joined)
        self._add(size)
        return size

    def _add(self, size: int) -> None:
        self._pending += size
        if self._pending >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self._parts:
            return
        if self._blocks is not None:  # every write goes there: the buffered front holds nothing
            self._write_blocks()
        else:
            self._fh.write(self._parts[0] if len(self._parts) == 1 else b"".join(self._parts))
        self._parts, self._pending = [], 0

    def _write_blocks(self) -> None:
        """The waiting lines as joined blocks of at most GZIP_BLOCK_BYTES (a longer line alone),
        cut between lines: where each block ends changes the compressed bytes, not the file's
        content, and depends only on the lines, so identical runs still write identical files."""
        write, parts = self._blocks.write, self._parts  # type: ignore[union-attr]
        # Each block is the longest run of lines from ``start`` that fits (at least one line),
        # found by bisecting the running ends: a step per line in Python had cost ~5 % of a
        # one-pass exact dedup.
        ends = list(itertools.accumulate(map(len, parts)))
        start, before = 0, 0  # the first line of the block, the bytes before it
        while start < len(parts):
            stop = max(bisect.bisect_right(ends, before + GZIP_BLOCK_BYTES, lo=start), start + 1)
            write(b"".join(parts[start:stop]))
            start, before = stop, ends[stop - 1]

    def close(self) -> None:
        try:
            self.flush()
            if self._blocks is not None:
                self._blocks.close()
        finally:
            if self._fh is not self._raw:
                self._fh.close()
            self._raw.close()


@register_output
class JsonlOutput(OutputFormat):
    name = "jsonl"
    help = "one JSON object per line; gzip, zstd or none"
    suffixes = (".jsonl.gz", ".jsonl.zst", ".jsonl")

    def suffix(self) -> str:
        return {"gzip": ".jsonl.gz", "zstd": ".jsonl.zst", "none": ".jsonl"}[self.compression]

    def open_sink(self, path: Path, *, rejects: bool) -> Sink:
        return _JsonlSink(path, self.compression, self.level)

    @classmethod
    def read(cls, path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
        if limit is not None and limit <= 0:
            return
        seen = 0
        for line in cls.lines(path, 256 << 10 if limit is not None else BLOCK_BYTES):
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(record, dict):
                continue
            yield decode_metadata(record)
            seen += 1
            if limit is not None and seen >= limit:
                return

    @classmethod
    def lines(cls, path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
        """The non-empty lines of a shard, decompressed block by block."""
        for block in cls.blocks(path, block_bytes):
            for line in block.split(b"\n"):
                if line.strip():
                    yield line

    @classmethod
    def blocks(cls, path: Path, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
        """A shard decompressed in blocks of whole lines (each block ends at a line end; a
        gzip line iterator costs several times more per line)."""
        with open(path, "rb") as raw:
            read_block = _block_reader(raw, path.name, block_bytes)
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


def _block_reader(raw: Any, name: str, block_bytes: int) -> Any:
    if name.endswith(".gz"):
        # ISA-L's inflate (python-isal, already what writes gzip here): the same stream, about
        # three times zlib's speed; the card and the report read every output shard back.
        from isal import isal_zlib

        inflate = isal_zlib.decompressobj(16 + zlib.MAX_WBITS)

        def read_gzip() -> bytes:
            nonlocal inflate
            while True:
                compressed = raw.read(block_bytes)
                if not compressed:
                    return inflate.flush()
                out = inflate.decompress(compressed)
                if inflate.eof and inflate.unused_data:
                    # concatenated gzip members: start a new one with what is left
                    rest = inflate.unused_data
                    inflate = isal_zlib.decompressobj(16 + zlib.MAX_WBITS)
                    out += inflate.decompress(rest)
                if out:
                    return out

        return read_gzip
    if name.endswith(".zst"):
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return lambda: reader.read(block_bytes)
    return lambda: raw.read(block_bytes)


# --------------------------------------------------------------------------- Parquet


class _ParquetSink(Sink):
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
        size = len(record["text"] or "") + 64
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


@register_output
class ParquetOutput(OutputFormat):
    name = "parquet"
    help = "Parquet (metadata as a JSON string column); gzip, zstd or none column codec"
    suffixes = (".parquet",)

    def suffix(self) -> str:
        return ".parquet"

    def open_sink(self, path: Path, *, rejects: bool) -> Sink:
        return _ParquetSink(path, self.compression, self.level, rejects)

    @classmethod
    def read(cls, path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
        for row in parquet_rows(path, None, limit):
            yield decode_metadata(row)


def parquet_rows(path: Path, columns: list[str] | None, limit: int | None) -> Iterator[dict[str, Any]]:
    """Rows of a Parquet shard as stored (``metadata`` a string), only ``columns`` if given."""
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


# --------------------------------------------------------------------------- the writer


# Records a JSON-lines ShardWriter holds before it serialises and notes them together. One
# record at a time, between the steps' work on other documents, orjson's and the notes' code and
# tables were cold at every call: on the 1,130 recipe pages in-run their 1,208 calls took
# 22.5 + 24.5 ms of CPU, against 10 + 2.5 ms for the same records in one batch after evicting
# every cache (5 + 4 ms warm).
WRITE_BATCH = 64


class ShardWriter:
    """Writes records into ``<stem>-<n><suffix>`` shards of one output format, each of at
    most ``max_bytes`` (uncompressed).

    Nothing is visible under the final names until ``close()``; a writer that is never closed
    leaves only ``*.tmp-*`` files, which ``--resume`` removes. A JSON-lines writer serialises
    the records given to :meth:`write` a batch at a time (:data:`WRITE_BATCH`), in order, with
    the same shard ends: a record is the writer's once written (it is not copied, and must not
    change afterwards).
    """

    def __init__(
        self,
        directory: Path,
        stem: str,
        output: OutputFormat,
        *,
        max_bytes: int = 256 << 20,
        rejects: bool = False,
        write_empty: bool = False,
        notes: bool | None = None,
    ) -> None:
        self.directory = directory
        self.stem = stem
        self.output = output
        self.max_bytes = max_bytes
        self.rejects = rejects
        self.write_empty = write_empty
        self._records = 0
        self._batch: list[dict[str, Any]] = []  # records given to write, not serialised yet
        self._shard = 0
        self._sink: Sink | None = None
        self._tmp: Path | None = None
        self._final: Path | None = None
        self._bytes = 0
        self._pending: list[tuple[Path, Path]] = []
        # The card's and the report's notes (tamis.io.shardnotes), by default for the run's
        # own output/ and rejects/ folders (not for stage spills, which nothing describes).
        self.notes = directory.name in NOTED_FOLDERS if notes is None else notes
        self._notes: ShardNotes | None = None
        self._pending_notes: list[ShardNotes | None] = []
        self._lines = isinstance(output, JsonlOutput)  # write: one serialisation a record

    @property
    def records(self) -> int:
        """Records written so far (those waiting in the batch included)."""
        return self._records + len(self._batch)

    def _open(self) -> Sink:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._final = self.directory / f"{self.stem}-{self._shard:04d}{self.output.suffix()}"
        self._tmp = temp_name(self._final)
        self._sink = self.output.open_sink(self._tmp, rejects=self.rejects)
        self._bytes = 0
        self._notes = ShardNotes(rejects=self.rejects, json_lines=isinstance(self.output, JsonlOutput)) if self.notes else None
        return self._sink

    def _finish_shard(self) -> None:
        assert self._sink is not None and self._tmp is not None and self._final is not None
        self._sink.close()
        self._pending.append((self._tmp, self._final))
        self._pending_notes.append(self._notes)
        self._sink = None
        self._shard += 1

    def write(self, record: dict[str, Any]) -> None:
        if self._lines:
            batch = self._batch
            batch.append(record)
            if len(batch) >= WRITE_BATCH:
                self._drain()
            return
        sink = self._sink or self._open()
        if self._notes is not None:
            self._notes.add_record(record)
        self._wrote(sink.write(record), 1)

    def _drain(self) -> None:
        """Serialise and write the batch, in order. JSON lines: each record serialised once and
        its notes read from the line, as write_lines notes them (add_record would serialise the
        metadata a second time). A record orjson refuses (lone surrogates) takes the per-record
        path: the same bytes."""
        batch, self._batch = self._batch, []
        lines: list[bytes] = []
        dumps_line = orjson.dumps
        for record in batch:
            try:
                lines.append(dumps_line(record) + b"\n")
            except TypeError:
                if lines:
                    self._write_each(lines)
                    lines = []
                sink = self._sink or self._open()
                if self._notes is not None:
                    self._notes.add_record(record)
                self._wrote(sink.write(record), 1)
        if lines:
            self._write_each(lines)

    def _write_each(self, lines: list[bytes]) -> None:
        """Lines of :meth:`write`'s records: noted together, handed to the sink one at a time
        as :meth:`write` did (the sink's flushes, hence a gzip shard's bytes, stay the same)."""
        size = sum(map(len, lines))
        sink = self._sink or self._open()
        if self._bytes + size >= self.max_bytes:
            self._write_lines(lines)  # a shard ends among them: line by line
            return
        if self._notes is not None:
            self._notes.add_lines(lines)
        write = sink.write_lines
        for line in lines:
            write([line], len(line))
        self._wrote(size, len(lines))

    def write_lines(self, lines: list[bytes]) -> None:
        """Records already serialised as :func:`dumps` would, in order: the bulk path."""
        if self._batch:
            self._drain()
        self._write_lines(lines)

    def _write_lines(self, lines: list[bytes]) -> None:
        if self._sink is None and lines:
            self._open()  # the first lines of a shard go in bulk too
        size = sum(map(len, lines))
        if self._sink is not None and self._bytes + size < self.max_bytes:
            if self._notes is not None:
                self._notes.add_lines(lines)
            self._wrote(self._sink.write_lines(lines, size), len(lines))  # all in this shard
            return
        for line in lines:  # a shard ends among them (or none is open yet)
            sink = self._sink or self._open()
            if self._notes is not None:
                self._notes.add_lines([line])
            self._wrote(sink.write_lines([line]), 1)

    def write_joined(self, joined: bytes, ends: Any) -> None:
        """Records serialised as :func:`dumps` would, end to end in ``joined`` (record ``i``
        ends at ``ends[i]``, an int64 numpy array; none empty), in order: :meth:`write_lines`
        with one buffer in place of a bytes object per record. Shards end where
        :meth:`write_lines` ends them (after the record that brings a shard to its size).
        Another format than JSON lines (whose sizes are not the lines') takes them as lines."""
        if self._batch:
            self._drain()
        if not isinstance(self.output, JsonlOutput):
            bounds = [0, *ends.tolist()]
            self.write_lines([bytes(joined[a:b]) for a, b in itertools.pairwise(bounds)])
            return
        n, first, at = len(ends), 0, 0
        while first < n:
            sink = self._sink or self._open()
            room = self.max_bytes - self._bytes
            # the shard's last record: the first whose end reaches its size (else the last)
            stop = min(int(ends.searchsorted(at + room, side="left")) + 1, n)
            end = int(ends[stop - 1])
            if self._notes is not None:
                self._notes.add_joined(joined, ends, first, stop)
            whole = first == 0 and stop == n
            piece = joined if whole else memoryview(joined)[at:end]
            self._wrote(sink.write_joined(piece), stop - first)  # type: ignore[attr-defined]
            first, at = stop, end

    def _wrote(self, n_bytes: int, records: int) -> None:
        self._bytes += n_bytes
        self._records += records
        if self._bytes >= self.max_bytes:
            self._finish_shard()

    def close(self) -> list[Path]:
        """Finish the last shard and rename every shard to its final name."""
        if self._batch:
            self._drain()
        if self._sink is None and not self._pending and self.write_empty:
            self._open()
        if self._sink is not None:
            self._finish_shard()
        finals = []
        for (tmp, final), notes in zip(self._pending, self._pending_notes, strict=True):
            if notes is not None:  # committed first: a shard is never newer than its notes
                notes.save(tmp, final)
            commit(tmp, final)
            finals.append(final)
        self._pending, self._pending_notes = [], []
        return finals

    def abort(self) -> None:
        self._batch = []
        if self._sink is not None:
            with contextlib.suppress(Exception):  # best effort on the way out
                self._sink.close()
        for tmp in [p for p, _ in self._pending] + ([self._tmp] if self._tmp else []):
            tmp.unlink(missing_ok=True)
