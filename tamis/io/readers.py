"""Readers: turn input files into documents, and bad input into clear, located rejects.

Input order is the order of the ``--input`` arguments, folders and globs sorted, then record
order inside each file. The split into tasks depends on the input alone (files, and byte
ranges of large uncompressed JSONL files), never on the number of workers, so the output is
the same whatever ``--workers`` is.

A reader yields :class:`Document` for good records and :class:`BadRecord` for bad ones; a
bad record keeps the raw input it came from (decoded with escapes where it is not UTF-8),
so the rejects hold it whole. A problem that has no record (a truncated gzip, an empty
file) is a ``BadRecord`` with ``doc=None``: it goes to ``errors.jsonl`` only.
"""

from __future__ import annotations

import bisect
import glob
import gzip
import importlib
import itertools
import os
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tamis.document import Document
from tamis.errors import ConfigError, InputError
from tamis.io import storage
from tamis.io.streams import Overlong, StreamBroken, ZstdFrames, iter_stream_lines
from tamis.text import utf8_length


@dataclass(frozen=True)
class ReaderOptions:
    """How records are read: fields, decoding, size limits, batching."""
    text_field: str = "text"
    id_field: str = "id"
    encoding: str = field(default="utf-8", metadata={"choices": ("utf-8", "auto")})  # auto: detect legacy encodings
    max_doc_bytes: int = field(default=16 << 20, metadata={"min": 1})
    chunk_bytes: int = field(default=128 << 20, metadata={"min": 1})  # large plain JSONL files are split into ranges of this size
    text_batch_files: int = field(default=512, metadata={"min": 1})  # small files are read at most this many to a task
    # Small files of every format but WARC and WET (a quarter of this or less) are read several to a task, up to
    # this many bytes (a compressed or Parquet file counted at COMPRESSED_WEIGHT times its size): a task
    # costs tens of milliseconds and a few files of its own in the run directory and an output shard,
    # which a folder of small files paid per file. Batches stay small enough to keep every worker busy,
    # and a large text or HTML file is a task of its own. 0: one task per file.
    batch_bytes: int = field(default=8 << 20, metadata={"min": 0})


@dataclass(frozen=True)
class InputTask:
    """One unit of reading: a file, a byte range of a file, or a batch of small files (read whole, in order)."""

    index: int
    format: str
    files: tuple[str, ...]
    start: int = 0
    end: int | None = None
    first_line: int = 1  # line number of the first line at ``start`` (byte-range tasks)
    roots: tuple[str, ...] = ()  # the --input argument each file was found under (ids are relative to it)
    # A split file's line numbers, shared by its byte-range tasks and counted when first asked
    # (then first_line is not used): see :class:`LineStarts`.
    lines: LineStarts | None = field(default=None, compare=False, repr=False)

    def line_at_start(self) -> int:
        """The number of the task's first line."""
        return self.first_line if self.lines is None else self.lines.at(self.start)

    def root_of(self, position: int) -> str | None:
        return self.roots[position] if position < len(self.roots) else None

    def describe(self) -> str:
        if len(self.files) > 1:
            return f"{self.files[0]} (+{len(self.files) - 1} files)"
        if self.end is not None:
            return f"{self.files[0]}[{self.start}:{self.end}]"
        return self.files[0]


@dataclass
class BadRecord:
    """An input record that could not be read: the error, and the document where one was made."""
    error: InputError
    doc: Document | None = None


ReadResult = Document | BadRecord


@dataclass(frozen=True)
class FormatSpec:
    """An input format: its name, file suffixes and reader."""
    name: str
    suffixes: tuple[str, ...]
    read: Callable[[InputTask, ReaderOptions], Iterator[ReadResult]]
    # Split one file into (start, end, first line number or the file's LineStarts) ranges;
    # None = one task.
    split: Callable[[str, ReaderOptions], list[tuple[int, int, int | LineStarts]] | None] | None = None
    batch_by_size: bool = False  # files up to a quarter of batch_bytes are batched (batch_bytes a task)
    # A batch holds either plain or compressed files (the compiled paths read uncompressed local files by offset)
    batch_by_compression: bool = False
    packed: bool = False  # the format compresses its data itself (Parquet): batched as a compressed file
    extra: dict[str, Any] = field(default_factory=dict)
    # "module:Class" of a tamis.io.sources.Source subclass with fast paths (None: the reader)
    source: str | None = None


FORMATS: dict[str, FormatSpec] = {}


def register_format(spec: FormatSpec) -> FormatSpec:
    FORMATS[spec.name] = spec
    return spec


ZSTD_SUFFIXES = (".zst", ".zstd")
# The codecs a line format's files may be compressed with, by suffix (as datatrove's fsspec infers
# them); bzip2 and xz from the standard library, for dumps that ship so (Wikipedia's, .xz corpora).
COMPRESSION_SUFFIXES = (".gz", *ZSTD_SUFFIXES, ".bz2", ".xz")


def compressed_forms(*bases: str) -> tuple[str, ...]:
    """Each base suffix as it is and under every COMPRESSION_SUFFIXES codec (``.txt``, ``.txt.gz`` ...)."""
    return tuple(base + codec for base in bases for codec in ("", *COMPRESSION_SUFFIXES))


# The formats other modules of tamis.io register, with the module and the suffixes each one
# registers: a file's format is found from this table and only the module that reads it is
# imported (a JSONL run no longer imports the WARC and HTML readers, nor reads every source of
# tamis.io to find them). tests/test_readers.py checks it equals what the modules register.
FORMAT_MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "html": ("tamis.io.html", compressed_forms(".html", ".htm")),
    "warc": ("tamis.io.warc", (".warc", ".warc.gz")),
    "wet": ("tamis.io.warc", (".wet", ".wet.gz", ".warc.wet.gz", ".wet.warc.gz")),
}


def format_spec(name: str) -> FormatSpec | None:
    """The spec of format ``name``, importing only the module that registers it (from
    :data:`FORMAT_MODULES`); a name the table does not hold imports every format module."""
    if name == UNREADABLE:
        return None
    spec = FORMATS.get(name)
    if spec is None and name in FORMAT_MODULES:
        importlib.import_module(FORMAT_MODULES[name][0])
        spec = FORMATS.get(name)
    if spec is None:
        _ensure_formats()
        spec = FORMATS.get(name)
    return spec


def _suffix_table() -> Iterator[tuple[str, tuple[str, ...]]]:
    """(format, suffixes) of the registered formats and of the table's, not yet imported."""
    for spec in FORMATS.values():
        yield spec.name, spec.suffixes
    for name, (_, suffixes) in FORMAT_MODULES.items():
        if name not in FORMATS:
            yield name, suffixes


def detect_format(path: str) -> str | None:
    """The format of ``path`` from its name (the longest suffix that matches); a name no known
    suffix matches imports every format module and looks again."""
    found = _detect_format(path)
    if found is None and not _formats_loaded:
        _ensure_formats()
        found = _detect_format(path)
    return found


def _detect_format(path: str) -> str | None:
    name = path.lower()
    best: tuple[int, str] | None = None
    for fmt, suffixes in _suffix_table():
        for suffix in suffixes:
            if name.endswith(suffix) and (best is None or len(suffix) > best[0]):
                best = (len(suffix), fmt)
    return best[1] if best else None


def expand_inputs(inputs: list[str]) -> list[str]:
    """Paths in input order: arguments as given, folders and globs expanded and sorted."""
    return [path for path, _ in expand_inputs_with_roots(inputs)]


def expand_inputs_with_roots(inputs: list[str]) -> list[tuple[str, str]]:
    """(path, root) in input order; the root is the folder a path is named relative to: the
    folder given, the folder a glob matched, or a file's own folder."""
    files: list[tuple[str, str]] = []
    for item in inputs:
        if storage.is_remote(item):  # s3://bucket/prefix/, gs://..., hf://datasets/...: listed by the store
            files.extend(storage.expand_remote_with_roots(item))
            continue
        if any(ch in item for ch in "*?["):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                msg = f"--input {item!r} matches no file"
                raise ConfigError(msg)
            for match in matches:
                root = match if os.path.isdir(match) else os.path.dirname(match)
                files.extend((path, root) for path in _walk(match))
        elif os.path.isdir(item):
            files.extend((path, item) for path in _walk(item))
        elif os.path.lexists(item):
            files.append((item, os.path.dirname(item)))
        else:
            msg = f"input not found: {item}"
            raise ConfigError(msg)
    return files


def _walk(path: str) -> list[str]:
    """The files under ``path``, hidden names (files and folders) left out. A folder linked in
    (``data/ -> /mnt/disk/data``) is read as if it were there, once: a folder reached again, by a
    link or a loop of links, is not walked twice."""
    if not os.path.isdir(path):
        return [path]
    found = []
    seen = {os.path.realpath(path)}
    for root, dirs, names in os.walk(path, followlinks=True):
        walked = []
        for name in sorted(dirs):
            real = os.path.realpath(os.path.join(root, name))
            if not name.startswith(".") and real not in seen:
                seen.add(real)
                walked.append(name)
        dirs[:] = walked
        found.extend(os.path.join(root, n) for n in sorted(names) if not n.startswith("."))
    return sorted(found)


def _suffix_of(path: str) -> str:
    """A file's suffix as the summary names it: with the one before a codec's (``.wat.gz``)."""
    stem, suffix = os.path.splitext(os.path.basename(path.rstrip("/")).lower())
    if suffix in COMPRESSION_SUFFIXES:
        suffix = os.path.splitext(stem)[1] + suffix
    return suffix or "no suffix"


def plan_tasks(inputs: list[str], options: ReaderOptions, input_format: str | None = None, skipped: Counter[str] | None = None) -> list[InputTask]:
    """The deterministic task list for ``inputs``. ``skipped`` counts, by suffix, the files found
    in input folders whose format no name tells (a site mirror's ``.php`` pages, a ``.csv``): they
    are left out, and the run's summary says so."""
    tasks: list[InputTask] = []
    batch: list[str] = []
    batch_roots: list[str] = []
    batch_key: tuple[str, bool, bool] = ("", False, False)
    batch_size = 0

    def flush_batch() -> None:
        nonlocal batch, batch_roots, batch_size
        if batch:
            tasks.append(InputTask(len(tasks), batch_key[0], tuple(batch), roots=tuple(batch_roots)))
            batch, batch_roots, batch_size = [], [], 0

    def add_to_batch(path: str, root: str, key: tuple[str, bool, bool], size: int, byte_limit: int) -> None:
        nonlocal batch_key, batch_size
        if batch and (batch_key != key or len(batch) >= options.text_batch_files or batch_size + size > byte_limit):
            flush_batch()
        batch_key = key
        batch.append(path)
        batch_roots.append(root)
        batch_size += size

    for path, root in expand_inputs_with_roots(inputs):
        fmt = input_format or detect_format(path)
        if fmt is None:
            if len(inputs) == 1 and (path == inputs[0] if storage.is_remote(path) else os.path.isfile(inputs[0])):
                msg = (
                    f"cannot tell the format of {display_path(path)}; name it .jsonl, .parquet, .txt, .warc[.gz], .wet[.gz] "
                    "or .html (JSONL, text and HTML also .gz, .zst, .bz2 or .xz), or pass --input-format"
                )
                raise ConfigError(msg)
            if skipped is not None:
                skipped[_suffix_of(path)] += 1
            continue  # unknown files inside folders are skipped (README, checksums ...)
        problem = _unreadable_name(path)
        if problem is not None:  # an input error like any other: listed, and the rest goes on
            flush_batch()
            tasks.append(InputTask(len(tasks), UNREADABLE, (display_path(path), problem)))
            continue
        if fmt == "jsonl" and input_format is None and is_json_document(path):
            fmt = "json"  # a .json file holding one JSON array (or one indented object), not JSON Lines
        spec = format_spec(fmt)
        if spec is None:
            msg = f"unknown input format {fmt!r}; choose from: {', '.join(input_format_names())}"
            raise ConfigError(msg)
        ranges = spec.split(path, options) if spec.split else None
        if not ranges and spec.batch_by_size and options.batch_bytes > 0:
            size = _size_or_none(path)
            if size is not None and (spec.packed or is_compressed(path)):
                size *= COMPRESSED_WEIGHT
            if size is not None and size <= options.batch_bytes // 4:
                key = (fmt, spec.batch_by_compression and is_compressed(path), spec.batch_by_compression and storage.is_remote(path))
                add_to_batch(path, root, key, size, options.batch_bytes)
                continue
        flush_batch()
        if ranges:
            for start, end, first in ranges:
                if isinstance(first, LineStarts):
                    tasks.append(InputTask(len(tasks), fmt, (path,), start, end, roots=(root,), lines=first))
                else:
                    tasks.append(InputTask(len(tasks), fmt, (path,), start, end, first, roots=(root,)))
        else:
            tasks.append(InputTask(len(tasks), fmt, (path,), roots=(root,)))
    flush_batch()
    if not tasks:
        msg = f"no readable input in {', '.join(inputs)} (JSONL, Parquet, text, WARC/WET or HTML files)"
        raise ConfigError(msg)
    return tasks


# What a compressed file's bytes are taken to hold when small files are batched: text compresses
# three to five times with gzip or zstd (the size read is not known before reading).
COMPRESSED_WEIGHT = 4


def _size_or_none(path: str) -> int | None:
    """The file's size; None where it cannot be had (its task's reading then says why)."""
    try:
        return storage.size(path)
    except OSError:
        return None


def read_task(task: InputTask, options: ReaderOptions) -> Iterator[ReadResult]:
    if task.format == UNREADABLE:
        return _read_unreadable(task)
    spec = format_spec(task.format)
    if spec is None:
        raise KeyError(task.format)  # as before: only plan_tasks makes tasks, of known formats
    return spec.read(task, options)


# A file found in the input that cannot be read under its name: a task of its own that yields
# one located error (files = (the name as text, the reason)); nothing else ever opens it.
UNREADABLE = "unreadable"


def display_path(path: str) -> str:
    """A path as valid UTF-8 text: undecodable bytes of a file name shown as ``\\xe9``."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    return path


def _unreadable_name(path: str) -> str | None:
    if storage.is_remote(path):
        return None  # listed by the store a moment ago: a missing object fails its task's open
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8; rename the file (its contents were not read)"
    if not os.path.exists(path):
        if os.path.islink(path):
            return f"a broken symbolic link (to {os.readlink(path)!r})"
        return "the file disappeared after the input was listed"
    return None


def _read_unreadable(task: InputTask) -> Iterator[ReadResult]:
    path, problem = task.files
    yield BadRecord(InputError(f"cannot read: {problem}", path=path, reason="reader:unreadable_file"))


# --------------------------------------------------------------------------- decoding


def decode_text(raw: bytes, encoding: str, *, path: str, line: int | None, language: str | None = None) -> tuple[str, str | None]:
    """Decode ``raw``; returns (text, detected encoding if not UTF-8). With ``auto``, the
    encodings of ``language``'s family come first (:mod:`tamis.io.encodings`).

    Raises ``InputError(reason="reader:invalid_utf8")`` in strict mode.
    """
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        if encoding == "auto":
            from tamis.io.encodings import guess

            found = guess(raw, language)
            if found is not None:
                return found
        msg = f"invalid UTF-8 at byte {exc.start} ({raw[exc.start : exc.start + 4]!r}); use encoding: auto to detect legacy encodings"
        raise InputError(msg, path=path, line=line, reason="reader:invalid_utf8") from None


def escaped(raw: bytes) -> str:
    """Undecodable bytes kept visible (``\\xff``) so a reject still holds the whole input."""
    return raw.decode("utf-8", "backslashreplace")


def derived_id(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line is not None else path


def _too_large(doc: Document, size: int, options: ReaderOptions, path: str, line: int | None) -> BadRecord:
    msg = f"document of {size:,} bytes is larger than max_doc_bytes={options.max_doc_bytes:,}"
    return BadRecord(InputError(msg, path=path, line=line, reason="reader:too_large"), doc)


# --------------------------------------------------------------------------- JSONL


UTF8_BOM = b"\xef\xbb\xbf"


def is_compressed(path: str) -> bool:
    """A compressed file (COMPRESSION_SUFFIXES): read as a stream, never split into byte ranges or seeked into."""
    return path.lower().endswith(COMPRESSION_SUFFIXES)


def open_binary(path: str) -> Any:
    """The decompressed bytes of a file, or of an object (``s3://...``: big buffered reads, retried)."""
    lower = path.lower()
    if lower.endswith(".gz"):
        return gzip.open(storage.open_input(path), "rb") if storage.is_remote(path) else gzip.open(path, "rb")
    if lower.endswith(ZSTD_SUFFIXES):
        return ZstdFrames(storage.open_input(path))
    if lower.endswith((".bz2", ".xz")):
        import bz2
        import lzma

        opener = bz2.open if lower.endswith(".bz2") else lzma.open
        return opener(storage.open_input(path) if storage.is_remote(path) else path, "rb")
    return storage.open_input(path)


def _split_jsonl(path: str, options: ReaderOptions) -> list[tuple[int, int, int | LineStarts]] | None:
    """Ranges of about ``chunk_bytes`` that start and end at line starts, sharing one
    :class:`LineStarts` (their first line numbers, counted when first asked, not here)."""
    if is_compressed(path):
        return None
    size = storage.size(path)
    if size <= options.chunk_bytes:
        return None
    starts = sorted({_aligned_start(path, b) for b in range(0, size, options.chunk_bytes)} - {size})
    bounds = [*starts, size]
    ranges = [(start, end) for start, end in itertools.pairwise(bounds) if start < end]
    lines = LineStarts(path, [start for start, _ in ranges])
    return [(start, end, lines) for start, end in ranges]


class LineStarts:
    """The number of the first line of each byte range of one split JSONL file.

    Counting the newlines before every range at plan time read the whole file once before
    any task started (4-6 % of a one-pass exact dedup's wall time, which reads the file
    once). Instead the numbers are found when a task first asks: a reader that reads a
    range to its end in order tells (:meth:`note`) the number of the line after it, so
    tasks read one after another in input order (one worker, the one-pass dedup) never
    count; a task asked out of order counts the ranges before it from the nearest number
    known, once each, as the plan did. A copy sent to another process (pickled to a worker
    or a cluster) has every number counted first, in the sender, so workers never count
    what their neighbours count. Numbers are the same either way: ids derived from line
    numbers, errors and ``metadata.source.line`` do not depend on who counted."""

    def __init__(self, path: str, starts: list[int]) -> None:
        self._path = path
        self._starts = starts  # sorted range starts, the first one 0
        self._known: dict[int, int] = {starts[0]: 1}
        self._lock = threading.Lock()

    def at(self, start: int) -> int:
        """The number of the line that starts at ``start`` (a range start)."""
        found = self._known.get(start)
        if found is not None:
            return found
        with self._lock:
            index = bisect.bisect_left(self._starts, start)
            if index == len(self._starts) or self._starts[index] != start:
                msg = f"{start} is not where a range of {self._path} starts"
                raise ValueError(msg)
            known = index
            while self._starts[known] not in self._known:
                known -= 1
            line = self._known[self._starts[known]]
            for at in range(known, index):  # each range before it counted once, then kept
                line += _count_newlines(self._path, self._starts[at], self._starts[at + 1])
                self._known[self._starts[at + 1]] = line
            return line

    def note(self, start: int, line: int) -> None:
        """A reader read the range before ``start`` whole: the line at ``start`` is ``line``
        (ignored where ``start`` begins no range, the file's end)."""
        if start in self._known:
            return
        index = bisect.bisect_left(self._starts, start)
        if index < len(self._starts) and self._starts[index] == start:
            with self._lock:
                self._known.setdefault(start, line)

    def __getstate__(self) -> dict[str, Any]:
        self.at(self._starts[-1])  # every number counted here, once, before a copy leaves
        return {"path": self._path, "starts": self._starts, "known": dict(self._known)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._path, self._starts, self._known = state["path"], state["starts"], state["known"]
        self._lock = threading.Lock()


try:
    from tamis._native._jsonl import count_newlines as count_newline_bytes
except ImportError:  # pragma: no cover - the extension is built on install

    def count_newline_bytes(buffer: Any) -> int:
        return bytes(buffer).count(b"\n")


def _count_newlines(path: str, start: int, end: int) -> int:
    """Newlines in ``[start, end)`` of a file. Plain reads into one reused buffer: as fast as
    a mapping when the file is cached, and unlike ``MAP_POPULATE`` it never faults in (or
    holds) the whole range at once (profiled: 0.7 s of a ``tamis dedup`` start on 590 MB)."""
    if end <= start:
        return 0
    with storage.open_input(path) if storage.is_remote(path) else open(path, "rb", buffering=0) as fh:
        return _count_newlines_read(fh, start, end)


def _count_newlines_read(fh: Any, start: int, end: int) -> int:
    count = 0
    block = bytearray(1 << 20)  # one buffer, refilled: stays in cache, no fresh pages to fault in
    view = memoryview(block)
    fh.seek(start)
    remaining = end - start
    while remaining > 0:
        n = fh.readinto(view[: min(remaining, len(block))])
        if not n:
            break
        count += count_newline_bytes(view[:n])
        remaining -= n
    return count


def _aligned_start(path: str, start: int) -> int:
    """The offset of the first line that *starts* at or after ``start``."""
    if start == 0:
        return 0
    with storage.open_input(path) as fh:
        fh.seek(start - 1)
        if fh.read(1) == b"\n":
            return start
        # The line in progress belongs to the previous range: found a megabyte at a time, not
        # read whole (readline() would hold a gigabyte-long line in memory at planning).
        at = start
        while chunk := fh.read(1 << 20):
            newline = chunk.find(b"\n")
            if newline >= 0:
                return at + newline + 1
            at += len(chunk)
        return at


class _RangeReader:
    """A file object that ends after ``length`` bytes (for byte-range tasks)."""

    def __init__(self, fh: Any, length: int) -> None:
        self._fh = fh
        self._left = length

    def read(self, n: int) -> bytes:
        if self._left <= 0:
            return b""
        block = self._fh.read(min(n, self._left))
        self._left -= len(block)
        return block


def _ranged_lines(path: str, start: int, end: int, cap: int, keep: int) -> Iterator[bytes | Overlong]:
    """Lines that start inside [start, end) of an uncompressed file (``start`` aligned); a line
    longer than ``cap`` as an :class:`Overlong` (iter_stream_lines)."""
    with storage.open_input(path) as fh:
        fh.seek(start)
        previous: bytes | Overlong | None = None
        for line in iter_stream_lines(_RangeReader(fh, end - start), max_line=cap, keep=keep):
            if previous is not None:
                yield previous
            previous = line
        if previous is not None:
            fh.seek(end - 1)
            if fh.read(1) != b"\n":  # the range cut the last line: read it to its end
                previous = _line_to_its_end(fh, previous, cap, keep)
            yield previous


def _line_to_its_end(fh: Any, line: bytes | Overlong, cap: int, keep: int) -> bytes | Overlong:
    """``line`` (cut where a range ended) continued from ``fh`` to its newline, held up to ``cap``."""
    overlong = line.head if isinstance(line, Overlong) else None  # the head, once over the cap
    parts = [line] if isinstance(line, bytes) else []
    length = line.length if isinstance(line, Overlong) else len(line)
    while piece := fh.readline(1 << 20):
        ended = piece.endswith(b"\n")
        if ended:
            piece = piece[:-1]
        length += len(piece)
        if overlong is None:
            parts.append(piece)
            if length > cap:
                overlong, parts = b"".join(parts)[:keep], []
        if ended:
            break
    return b"".join(parts) if overlong is None else Overlong(overlong, length)


def line_cap(options: ReaderOptions) -> int:
    """The longest JSON line a reader holds: 8 times max_doc_bytes (a text at the limit, escaped,
    beside its metadata), 64 MiB at least. A longer line (one JSON array of a whole dataset on
    one line, a binary file) is read past and rejected as reader:too_large, its first
    max_doc_bytes kept: memory follows the cap, not the line."""
    return max(8 * options.max_doc_bytes, 64 << 20)


def overlong_line(line: Overlong, path: str, line_no: int, options: ReaderOptions) -> BadRecord:
    cap = line_cap(options)
    msg = f"line of {line.length:,} bytes is longer than any record read ({cap:,} bytes: 8 x max_doc_bytes); not parsed, its first bytes kept in the reject"
    doc = Document(derived_id(path, line_no), escaped(line.head), {"source": {"path": path, "line": line_no}})
    return BadRecord(InputError(msg, path=path, line=line_no, reason="reader:too_large"), doc)


def read_jsonl(task: InputTask, options: ReaderOptions) -> Iterator[ReadResult]:
    """The task's records: a byte range of one file, one whole file, or a batch of small
    files one after the other."""
    for path in task.files:
        yield from _read_jsonl_file(path, task, options)


def _read_jsonl_file(path: str, task: InputTask, options: ReaderOptions) -> Iterator[ReadResult]:
    cap = line_cap(options)
    if task.end is not None:
        line_no = task.line_at_start() - 1
        lines: Iterator[bytes | Overlong] = _ranged_lines(path, task.start, task.end, cap, options.max_doc_bytes)
        fh = None
    else:
        line_no = 0
        try:
            fh = open_binary(path)
        except OSError as exc:
            yield open_failed(path, exc)
            return
        lines = iter_stream_lines(fh, max_line=cap, keep=options.max_doc_bytes)
    seen_any = False
    text_field, id_field = options.text_field, options.id_field
    try:
        for raw in lines:
            line_no += 1
            if isinstance(raw, Overlong):
                seen_any = True
                yield overlong_line(raw, path, line_no, options)
                continue
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            if not raw or raw.isspace():  # not strip(): that copies every line
                continue
            seen_any = True
            yield _parse_json_record(raw, path, line_no, options, text_field, id_field)
    except StreamBroken as exc:
        yield truncated_stream(path, line_no, exc)
        return
    finally:
        if fh is not None:
            fh.close()
    if not seen_any and task.start == 0:
        yield empty_file(path)


def truncated_stream(path: str, lines_read: int, exc: StreamBroken) -> BadRecord:
    """The error for a compressed stream that breaks after ``lines_read`` lines."""
    msg = f"compressed stream is truncated or corrupt after line {lines_read}: {exc}; the records before it were read"
    fragment = None
    if exc.fragment.strip():
        line = lines_read + 1
        fragment = Document(derived_id(path, line), escaped(exc.fragment), {"source": {"path": path, "line": line}})
        msg += "; the incomplete record at the cut is kept in the rejects"
    return BadRecord(InputError(msg, path=path, line=lines_read + 1, reason="reader:truncated"), fragment)


def empty_file(path: str) -> BadRecord:
    return BadRecord(InputError("file is empty (no records)", path=path, reason="reader:empty_file"))


def open_failed(path: str, exc: OSError) -> BadRecord:
    return BadRecord(InputError(f"cannot open: {exc}", path=path, reason="reader:unreadable_file"))


_LONE_SURROGATE = None


def _with_lone_surrogates(raw: bytes) -> Any:
    """A JSON line whose strings escape a lone UTF-16 surrogate (``"\\ud83d"``: half an emoji, as
    text cut by a UTF-16 length and then serialized writes it) read with each such half as U+FFFD:
    valid JSON that orjson refuses, since no UTF-8 text can hold the half. None if the line is not
    JSON for Python's parser either, or its bytes are not UTF-8."""
    import json
    import re

    global _LONE_SURROGATE
    if _LONE_SURROGATE is None:
        _LONE_SURROGATE = re.compile("[\ud800-\udfff]")
    try:
        # Decoded here, strictly: json.loads of bytes would guess UTF-16 or UTF-32 too, and a line
        # whose bytes are not UTF-8 (orjson says "surrogates not allowed" of some) is no such line.
        record = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _LONE_SURROGATE.sub("\ufffd", value)
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {clean(key): clean(item) for key, item in value.items()}
        return value

    try:
        return clean(record)
    except RecursionError:  # nested deeper than the walk may go: the line stays a reject
        return None


# A JSON file that is not JSON Lines (one object a line): what to run to make it so.
_ARRAY_HINT = "; the file looks like {}, not JSON Lines (one object a line): jq -c '{}' FILE > FILE.jsonl makes it so"


def _wide_hint(raw: bytes) -> str:
    """What to do about a bad JSON line that is UTF-16 or UTF-32 (a zero byte beside nearly every
    character, as PowerShell 5's ``>`` writes text): JSONL is read as UTF-8. Empty otherwise."""
    if raw.count(0) * 3 < len(raw):
        return ""
    return "; the file looks like UTF-16 or UTF-32 (a zero byte beside each character): JSONL is read as UTF-8, so convert it first (iconv -f UTF-16 -t UTF-8)"


def _parse_json_record(
    raw: bytes, path: str, line_no: int, options: ReaderOptions, text_field: str, id_field: str
) -> ReadResult:
    source = {"path": path, "line": line_no}
    if raw.startswith(UTF8_BOM):  # written by some Windows tools at the start of a file
        raw = raw[3:]
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "surrogate" in str(exc):
            record = _with_lone_surrogates(raw)
            if isinstance(record, dict):
                return _record_to_doc(record, raw, source, path, line_no, options, text_field, id_field)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as uexc:
            if options.encoding == "auto":
                from tamis.io.encodings import language_hint

                detected = None
                try:
                    text, detected = decode_text(raw, "auto", path=path, line=line_no, language=language_hint(raw))
                    record = orjson.loads(text)
                except (InputError, orjson.JSONDecodeError):
                    record = None
                if isinstance(record, dict):
                    result = _record_to_doc(record, raw, source, path, line_no, options, text_field, id_field)
                    target = result if isinstance(result, Document) else result.doc
                    if target is not None and detected:
                        target.metadata["encoding"] = detected  # what the bytes were read as
                    return result
            doc = Document(derived_id(path, line_no), escaped(raw), {"source": source})
            msg = f"invalid UTF-8 at byte {uexc.start} of the line{_wide_hint(raw)}"
            return BadRecord(InputError(msg, path=path, line=line_no, reason="reader:invalid_utf8"), doc)
        doc = Document(derived_id(path, line_no), escaped(raw), {"source": source})
        opening = raw.strip()
        hint = _wide_hint(raw) or (_ARRAY_HINT.format("indented JSON", ".[]" if opening == b"[" else ".") if opening in (b"[", b"{") else "")
        return BadRecord(InputError(f"malformed JSON: {exc}{hint}", path=path, line=line_no, reason="reader:invalid_json"), doc)
    if not isinstance(record, dict):
        doc = Document(derived_id(path, line_no), escaped(raw), {"source": source})
        hint = _ARRAY_HINT.format("one JSON array", ".[]") if isinstance(record, list) else ""
        msg = f"a JSON line must be an object, got {type(record).__name__}{hint}"
        return BadRecord(InputError(msg, path=path, line=line_no, reason="reader:invalid_json"), doc)
    return _record_to_doc(record, raw, source, path, line_no, options, text_field, id_field)


def metadata_of(record: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """A record's fields other than its text and id (the record dict is ours to reuse), with
    a nested ``metadata`` object merged in, and where it came from."""
    nested = record.pop("metadata", None)
    if nested is None:
        metadata = record
    elif isinstance(nested, dict):
        metadata = {**nested, **record}
    else:
        metadata = {"metadata": nested, **record}
    metadata["source"] = source
    return metadata


_MISSING = object()


def take_field(record: dict[str, Any], name: str) -> Any:
    """Remove and return ``record[name]``; a dotted name (``doc.body``) that is not itself a key
    is a path through nested objects. The value stays out of the metadata either way."""
    value = record.pop(name, _MISSING)
    if value is not _MISSING:
        return value
    if "." not in name:
        return None
    *parents, leaf = name.split(".")
    holder: Any = record
    for part in parents:
        holder = holder.get(part) if isinstance(holder, dict) else None
    return holder.pop(leaf, None) if isinstance(holder, dict) else None


def field_json_text(raw: bytes, name: str) -> str | None:
    """The JSON text of a number in a record line, exactly as written (``1.50``, a 23-digit
    integer that a float would round), for ids; None if it cannot be found."""
    import json

    try:
        record = json.loads(raw, parse_float=str, parse_int=str, parse_constant=str)
    except ValueError:
        return None
    value = take_field(record, name) if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


def id_text(value: Any, raw: bytes, id_field: str) -> str:
    """A record's id as text: strings as they are, other JSON values as their JSON text
    (integers exactly as written, never through a float)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and raw:
        exact = field_json_text(raw, id_field)
        if exact is not None:
            return exact
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _record_to_doc(
    record: dict[str, Any],
    raw: bytes,
    source: dict[str, Any],
    path: str,
    line_no: int,
    options: ReaderOptions,
    text_field: str,
    id_field: str,
) -> ReadResult:
    text = take_field(record, text_field)
    doc_id = take_field(record, id_field)
    if doc_id is None or doc_id == "":
        doc_id = derived_id(path, line_no)
    elif not isinstance(doc_id, str):
        doc_id = id_text(doc_id, raw, id_field)
    fields = list(record)[:8] if text is None else None  # for the message below (metadata_of adds "source")
    metadata = metadata_of(record, source)
    if isinstance(text, bytes):  # a Parquet binary column holding text: decoded as a text file is
        try:
            text, detected = decode_text(text, options.encoding, path=path, line=line_no)
        except InputError as err:
            return BadRecord(err, Document(doc_id, escaped(text), metadata))
        if detected:
            metadata["encoding"] = detected
    if not isinstance(text, str):
        what = "has no" if text is None else f"has a non-string ({type(text).__name__})"
        doc = Document(doc_id, "" if text is None else escaped(orjson.dumps(text, default=str)), metadata)
        msg = f"record {what} {text_field!r} field"
        if fields:
            msg += f" (its fields: {', '.join(fields)}; --text-field names the one to read)"
        return BadRecord(InputError(msg, path=path, line=line_no, reason="reader:missing_text"), doc)
    doc = Document(doc_id, text, metadata)
    if len(raw) > options.max_doc_bytes or len(text) > options.max_doc_bytes // 4:
        size = utf8_length(text)
        if size > options.max_doc_bytes:
            return _too_large(doc, size, options, path, line_no)
    if not text or text.isspace():  # isspace stops at the first letter; strip() would copy
        return BadRecord(InputError("document text is empty", path=path, line=line_no, reason="reader:empty"), doc)
    return doc


# --------------------------------------------------------------------------- JSON documents

# What is read of a .json file to tell a JSON document from JSON Lines.
_SNIFF_BYTES = 16 << 10


def is_json_document(path: str) -> bool:
    """Whether a ``.json`` file (any codec) holds one JSON document rather than JSON Lines: it
    opens with ``[`` (an array of records, as ``json.dump(records, f)`` writes them and Hugging
    Face's ``json`` loader reads them), or its first line is a lone ``{`` (one indented object).
    A file that cannot be read is left to the JSONL reader, which says why."""
    if not _strip_suffix(path.lower(), COMPRESSION_SUFFIXES).endswith(".json"):
        return False
    try:
        head = _decompressed_head(path)
    except Exception:  # noqa: BLE001 - any codec's error: the JSONL reader reports it, located
        return False
    if head.startswith(UTF8_BOM):
        head = head[3:]
    head = head.lstrip()
    if head.startswith(b"["):
        return True
    first_line = head.split(b"\n", 1)[0].strip()
    return first_line == b"{" and b"\n" in head


def _decompressed_head(path: str) -> bytes:
    """The first bytes of the file's data (a few kB or more), from one small read: C4's 1,024
    ``.json.gz`` files on S3 are 1,024 ranged GETs of 16 kB at planning, not of a read block each."""
    raw = storage.read_head(path, _SNIFF_BYTES)
    lower = path.lower()
    if lower.endswith(".gz"):
        return zlib.decompressobj(wbits=31).decompress(raw, _SNIFF_BYTES)
    if lower.endswith(ZSTD_SUFFIXES):
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(raw)[:_SNIFF_BYTES]
    if lower.endswith((".bz2", ".xz")):  # whole blocks (hundreds of kB) before any output: read as a stream
        with open_binary(path) as fh:
            return fh.read(_SNIFF_BYTES)
    return raw


def _json_values(raw: bytes) -> Any:
    """The JSON values (a list) of a text holding several one after another, separated by
    whitespace (each a record, as an array's elements are); the JSONDecodeError where one is
    malformed; None where the text is not UTF-8 or nests too deep. Each value is parsed once
    from where the last ended: linear in the text."""
    import json

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    decoder = json.JSONDecoder()
    values: list[Any] = []
    at, end = 0, len(text)
    while True:
        while at < end and text[at] in " \t\r\n":
            at += 1
        if at == end:
            return values
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            return exc
        except RecursionError:  # nested past the parser's depth: said as orjson says it
            return None
        values.append(value)


def read_json_documents(task: InputTask, options: ReaderOptions) -> Iterator[ReadResult]:
    """Each file of the task as one JSON document: an array's objects are its records (numbered
    from 1: ``metadata.source.line`` and derived ids give a record's number in the array), a
    single object is one record, and so is each of several values one after another."""
    for path in task.files:
        yield from _read_json_document(path, options)


def _read_json_document(path: str, options: ReaderOptions) -> Iterator[ReadResult]:
    # Parsed whole (its records in memory at once, several times its size), so held to the longest
    # line a JSONL file may have; larger ones are refused with the command that makes them JSON Lines.
    cap = line_cap(options)
    try:
        with open_binary(path) as fh:
            raw = read_capped(fh, cap + 1)
    except Exception as exc:  # noqa: BLE001 - each codec raises its own
        yield BadRecord(InputError(f"cannot read: {exc}", path=path, reason="reader:unreadable_file"))
        return
    if len(raw) > cap:
        convert = f"make it JSON Lines (one object a line, read a line at a time): jq -c '.[]' {display_path(path)} > FILE.jsonl"
        msg = f"a JSON document of more than {cap >> 20} MiB is not read whole; {convert}"
        doc = Document(derived_id(path, 1), escaped(raw[: options.max_doc_bytes]), {"source": {"path": path, "line": 1}})
        yield BadRecord(InputError(msg, path=path, line=1, reason="reader:too_large"), doc)
        return
    if raw.startswith(UTF8_BOM):
        raw = raw[3:]
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # One value, then more: indented objects one after another (jq's output, mongoexport --pretty)
        stream = _json_values(raw) if "after document" in str(exc) else None
        if not isinstance(stream, list):
            if stream is None:
                problem, line = str(exc), exc.lineno
            else:  # where the values one after another stop being JSON
                problem, line = f"{stream.msg} (in a file of JSON values one after another)", stream.lineno
            doc = Document(derived_id(path, line), escaped(raw[: options.max_doc_bytes]), {"source": {"path": path, "line": line}})
            yield BadRecord(InputError(f"malformed JSON document: {problem}", path=path, line=line, reason="reader:invalid_json"), doc)
            return
        value = stream
    del raw
    records = value if isinstance(value, list) else [value]
    if not records:
        yield empty_file(path)
        return
    text_field, id_field = options.text_field, options.id_field
    for number, record in enumerate(records, 1):
        source = {"path": path, "line": number}
        if isinstance(record, dict):
            yield _record_to_doc(record, b"", source, path, number, options, text_field, id_field)
            continue
        doc = Document(derived_id(path, number), escaped(orjson.dumps(record)[: options.max_doc_bytes]), {"source": source})
        msg = f"record {number} of the JSON document is not an object (got {type(record).__name__})"
        yield BadRecord(InputError(msg, path=path, line=number, reason="reader:invalid_json"), doc)


# --------------------------------------------------------------------------- plain text


def _strip_suffix(name: str, suffixes: tuple[str, ...]) -> str:
    """``page.v2.txt.gz`` → ``page.v2``: the file name without its (longest) format suffix."""
    for suffix in sorted(suffixes, key=len, reverse=True):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def relative_id(path: str, root: str | None, suffixes: tuple[str, ...]) -> str:
    """A file's id: its path relative to the input folder it was found in, without its format
    suffix (``a/readme.txt`` → ``a/readme``), so that files of the same name in two folders
    keep distinct ids."""
    relative = os.path.relpath(path, root) if root else Path(path).name
    if relative.startswith(".."):  # a root that is not above the path (should not happen)
        relative = Path(path).name
    head, _, name = relative.replace(os.sep, "/").rpartition("/")
    name = _strip_suffix(name, suffixes)
    return f"{head}/{name}" if head else name


_CHUNK = 256 << 10


def read_capped(fh: Any, limit: int) -> bytes:
    """At most ``limit`` bytes of ``fh``, read in 256 kB chunks: ``fh.read(limit)`` allocates the
    whole limit first (16 MB by default, five times a 150 kB page's read time in mmap, mremap and
    munmap), and ``fh.read()`` holds whatever the file decompresses to."""
    parts = []
    total = 0
    while total < limit:
        part = fh.read(min(_CHUNK, limit - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_text_files(task: InputTask, options: ReaderOptions) -> Iterator[ReadResult]:
    from tamis.io.encodings import wide_unicode

    for position, path in enumerate(task.files):
        doc_id = relative_id(path, task.root_of(position), FORMATS["text"].suffixes)
        source = {"path": path, "line": None}
        try:
            with open_binary(path) as fh:
                raw = read_capped(fh, options.max_doc_bytes + 1)  # a 5 MB .txt.gz may hold 5 GB
        except Exception as exc:  # noqa: BLE001 - each codec raises its own (OSError, EOFError, zlib, lzma, zstd errors)
            yield BadRecord(InputError(f"cannot read: {exc}", path=path, reason="reader:unreadable_file"))
            continue
        if raw.startswith(UTF8_BOM):
            raw = raw[3:]
        if len(raw) > options.max_doc_bytes:  # before decoding: the cut may fall inside a character
            msg = f"file is larger than max_doc_bytes={options.max_doc_bytes:,} (kept its first bytes in the reject)"
            doc = Document(doc_id, escaped(raw[: options.max_doc_bytes]), {"source": source})
            yield BadRecord(InputError(msg, path=path, reason="reader:too_large"), doc)
            continue
        wide = wide_unicode(raw, guess_unmarked=options.encoding == "auto")
        try:
            text, detected = wide if wide is not None else decode_text(raw, options.encoding, path=path, line=None)
        except InputError as err:
            yield BadRecord(err, Document(doc_id, escaped(raw), {"source": source}))
            continue
        metadata: dict[str, Any] = {"source": source}
        if detected:
            metadata["encoding"] = detected
        doc = Document(doc_id, text, metadata)
        if not text.strip():
            yield BadRecord(InputError("file is empty", path=path, reason="reader:empty"), doc)
        else:
            yield doc


# --------------------------------------------------------------------------- Parquet


def _split_parquet(path: str, options: ReaderOptions) -> list[tuple[int, int, int | LineStarts]] | None:
    """Ranges of whole row groups of about ``chunk_bytes`` (as pyarrow reads them, uncompressed),
    as (first row group, end row group, number of the first row): a large Parquet file is read by
    several tasks, as a large JSONL file is. None (one task) for a file of one row group, or whose
    footer cannot be read (its task says why)."""
    if storage.size(path) <= options.chunk_bytes // 8:  # no file this small holds chunk_bytes of data
        return None
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(storage.open_input(path) if storage.is_remote(path) else path)
    except Exception:  # noqa: BLE001 - pyarrow raises several unrelated types
        return None
    ranges: list[tuple[int, int, int | LineStarts]] = []
    start, size, first_row, rows = 0, 0, 1, 0
    for group in range(metadata.num_row_groups):
        info = metadata.row_group(group)
        size += info.total_byte_size
        rows += info.num_rows
        if size >= options.chunk_bytes and group + 1 < metadata.num_row_groups:
            ranges.append((start, group + 1, first_row))
            start, size, first_row = group + 1, 0, rows + 1
    if not ranges:
        return None
    ranges.append((start, metadata.num_row_groups, first_row))
    return ranges


def read_parquet(task: InputTask, options: ReaderOptions) -> Iterator[ReadResult]:
    """The rows of the task's files (a batch of small files, one after the other), or those of a
    range of one file's row groups (``task.start`` to ``task.end``, the first numbered
    ``task.first_line``): a row's number is its place in its file."""
    for path in task.files:
        yield from _read_parquet_file(path, task, options)


def _read_parquet_file(path: str, task: InputTask, options: ReaderOptions) -> Iterator[ReadResult]:
    import pyarrow.parquet as pq

    first = task.start == 0  # the file's first task: the one that says what holds for the whole file
    try:
        parquet = pq.ParquetFile(storage.open_input(path) if storage.is_remote(path) else path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated types
        yield BadRecord(InputError(f"not a readable Parquet file: {exc}", path=path, reason="reader:unreadable_file"))
        return
    if options.text_field not in parquet.schema_arrow.names and options.text_field.split(".")[0] not in parquet.schema_arrow.names:
        msg = f"no column {options.text_field!r} (columns: {', '.join(parquet.schema_arrow.names)})"
        if first:
            yield BadRecord(InputError(msg, path=path, reason="reader:missing_text"))
        return
    row = 0 if task.end is None else task.first_line - 1
    seen_any = False
    groups = None if task.end is None else list(range(task.start, task.end))
    batches = iter(parquet.iter_batches(batch_size=4096, row_groups=groups))
    while True:
        # Only pyarrow's reading is guarded here: a fault in a record's own handling is not the
        # file's corruption, and must not end the file's reading under that name.
        try:
            batch = next(batches, None)
            records = None if batch is None else batch.to_pylist()
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several unrelated types
            yield BadRecord(InputError(f"Parquet data is corrupt after row {row}: {exc}", path=path, line=row + 1, reason="reader:truncated"))
            return
        if records is None:
            break
        for record in records:
            row += 1
            seen_any = True
            yield _record_to_doc(record, b"", {"path": path, "line": row}, path, row, options, options.text_field, options.id_field)
    if not seen_any and first:
        yield BadRecord(InputError("file is empty (no rows)", path=path, reason="reader:empty_file"))


JSONL_SUFFIXES = compressed_forms(".jsonl", ".ndjson", ".json")
register_format(
    FormatSpec("jsonl", JSONL_SUFFIXES, read_jsonl, _split_jsonl, batch_by_size=True, batch_by_compression=True, source="tamis.io.jsonl_fast:JsonlSource")
)
# No suffix of its own: planning reads the first bytes of .json files (is_json_document), and
# --input-format json reads any file as one JSON document.
register_format(FormatSpec("json", (), read_json_documents, batch_by_size=True))
register_format(FormatSpec("parquet", (".parquet",), read_parquet, _split_parquet, batch_by_size=True, packed=True))
register_format(FormatSpec("text", compressed_forms(".txt", ".md"), read_text_files, batch_by_size=True))

_formats_loaded = False


def input_format_names() -> list[str]:
    """Every input format a reader is registered for (``--input-format``): the registered ones
    and :data:`FORMAT_MODULES`'s, none imported for it."""
    return sorted({*FORMATS, *FORMAT_MODULES})


def _ensure_formats() -> None:
    """Import the other reader modules (WARC, HTML ...) so their formats are registered."""
    global _formats_loaded
    if not _formats_loaded:
        from tamis.registry import load_formats

        load_formats()
        _formats_loaded = True
