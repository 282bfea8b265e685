"""Compiled paths for JSONL input, taken where the plain reader would do more than is needed.

The plain reader (:func:`tamis.io.readers.read_jsonl`: orjson, one Document per record) is
the reference. The compiled scanner (``tamis/_native/jsonl.c``) frames lines, validates each
record and measures its text without building Python objects for it; any record it is not
sure of goes through the reference parser, so the two paths cannot disagree about what a
record is (``tests/test_native_jsonl.py`` runs both and compares what they write). Two
places use it:

* the first pass of a stage that needs only ``(id, normalized_utf8(text))`` per document
  (exact document dedup): :func:`jsonl_blocks` + :func:`scan_block`, no Python per line;
* the last pass after a stage that applies by position, writing texts
  (:meth:`JsonlSource.write_decided_texts`): the scanner makes a record's output line from
  its bytes (copied where they are as orjson writes them, else written again without the
  whitespace and with orjson's escapes; a nested metadata object merged and the ``source``
  set as the reader does), and a kept record whose text the stage leaves as it is goes out as
  that line, a rejected one with its reason fields appended; no Document, no parse, no dumps;
* the second pass of a run that writes no text (``keep_text: false``) after such a stage:
  documents whose text is decoded only if they are rejected (:class:`LazyTextDocument`),
  read either again from the input (:func:`scan_jsonl_textless`) or, for uncompressed input,
  from what the first pass left for it (:class:`TextlessSidecar`): each kept record's output
  line, made by the scanner where the record is written as orjson writes, so the second pass
  neither reads nor parses the input except for the rejected documents.

All of it is reached through :class:`JsonlSource`, the JSONL format's source
(:mod:`tamis.io.sources`); nothing outside this module knows about it.
``TAMIS_JSONL_SCANNER=0`` turns all of it off (every run then reads JSONL the plain way).
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import xxhash

from tamis.document import Document
from tamis.io import storage
from tamis.io.atomic import write_bytes_atomic
from tamis.io.idstore import IdReader, IdWriter
from tamis.io.outputs import document_record, dumps
from tamis.io.readers import (
    BadRecord,
    InputTask,
    ReaderOptions,
    ReadResult,
    _line_to_its_end,
    _parse_json_record,
    count_newline_bytes,
    derived_id,
    empty_file,
    is_compressed,
    line_cap,
    metadata_of,
    open_binary,
    open_failed,
    overlong_line,
    truncated_stream,
)
from tamis.io.sources import Admit, Source
from tamis.io.streams import Overlong, StreamBroken
from tamis.text import count_words, normalized_utf8, utf8_length

if TYPE_CHECKING:
    import numpy as np

    from tamis.dedup.base import Decisions, KeyCollector
    from tamis.dedup.exact import FirstSeen
    from tamis.io.outputs import ShardWriter
    from tamis.stats import TaskStats
    from tamis.steps.base import TaskContext

BLOCK = 8 << 20
TEXT_KEY, METADATA_KEY = b',"text":', b',"metadata":'  # as an output line lays them out (see _annotated_line)
# Keys (top level or in a nested metadata object) that keep a record from being copied into
# the output: the statistics read the language. (The scanner merges a nested metadata object
# and replaces a source key itself, as the reader does.)
TEXTLESS_RESERVED = b"language"


def has_jsonl_scanner() -> bool:
    """Whether the compiled scanner is built and not turned off (TAMIS_JSONL_SCANNER=0)."""
    if os.environ.get("TAMIS_JSONL_SCANNER") == "0":
        return False
    try:
        from tamis._native import _jsonl  # noqa: F401
    except ImportError:  # pragma: no cover - the extension is built on install
        return False
    return True


def is_seekable(task: InputTask) -> bool:
    """Uncompressed JSONL on a filesystem: a record can be read again from its byte offset."""
    return not any(is_compressed(path) or storage.is_remote(path) for path in task.files)


_nfc_loaded = False


def _load_nfc_table() -> None:
    global _nfc_loaded
    if not _nfc_loaded:
        from tamis._native._jsonl import set_nfc_unsafe
        from tamis.text import nfc_unstable_bitmap

        set_nfc_unsafe(nfc_unstable_bitmap())
        _nfc_loaded = True


# --------------------------------------------------------------------------- framing


class Block:
    """Complete lines of one of a task's files: ``data[start:limit]``, the file, the number of
    its first line, and where ``data[start]`` is in the file (None for a compressed stream).
    ``newlines``: its newline count where :func:`scan_block` has counted it (the framing then
    does not)."""

    __slots__ = ("data", "first_line", "limit", "newlines", "offset", "path", "start")

    def __init__(self, data: bytes, start: int, limit: int, first_line: int, offset: int | None, path: str) -> None:
        self.data, self.start, self.limit, self.first_line, self.offset = data, start, limit, first_line, offset
        self.path = path
        self.newlines: int | None = None

    def count_newlines(self) -> int:
        if self.newlines is None:
            self.newlines = count_newline_bytes(memoryview(self.data)[self.start : self.limit])
        return self.newlines

    @property
    def path_json(self) -> bytes:
        """The file's path as a JSON string (the scanner writes it into ``metadata.source``)."""
        return _path_json(self.path)


@functools.lru_cache(maxsize=1024)
def _path_json(path: str) -> bytes:
    return orjson.dumps(path)


def jsonl_blocks(task: InputTask, options: ReaderOptions) -> Iterator[Block | BadRecord]:
    """The task's lines a block at a time, framed as :func:`tamis.io.readers.read_jsonl`
    frames them (byte ranges own the lines that start in them; a file's last line may lack
    its newline); a broken stream or an empty file comes as a BadRecord in its place. A
    block always ends with a newline (one is added after a last line that has none), and
    holds lines of one file: a batch of small files gives each file's blocks in turn.

    A line cut between two reads is glued on its own (a small block) rather than by
    copying the next read whole. A block's newlines are counted when the next block is
    made, after the caller had it: where the caller scanned it, the scan's count is taken
    (one pass over the bytes fewer)."""
    for path in task.files:
        yield from _file_blocks(task, path, options)


def _file_blocks(task: InputTask, path: str, options: ReaderOptions) -> Iterator[Block | BadRecord]:
    try:
        fh = open_binary(path) if task.end is None else storage.open_input(path)
    except OSError as exc:
        yield open_failed(path, exc)
        return
    seekable = is_seekable(task)
    line = task.line_at_start() if task.end is not None else 1
    offset = task.start  # of the first byte not yet handed out (pending's first byte)
    any_record = False
    previous: Block | None = None  # the block handed out last, its newlines not yet counted in ``line``

    def settle() -> None:
        nonlocal line, previous
        if previous is not None:
            line += previous.count_newlines()
            previous = None

    def block(data: bytes, start: int, limit: int) -> Block:
        nonlocal offset, any_record, previous
        settle()
        found = previous = Block(data, start, limit, line, offset if seekable else None, path)
        offset += limit - start
        # Every byte of data is handed out in some block, so a non-space byte anywhere in
        # it means a non-blank line; isspace() stops at the first one (no copy).
        any_record = any_record or not data.isspace()
        return found

    def overlong(head: bytes, length: int) -> BadRecord:
        """A line over the cap, read past: a reject in its place, counted as one line."""
        nonlocal line, offset, any_record
        settle()
        bad = overlong_line(Overlong(head, length), path, line, options)
        line += 1
        offset += length + 1
        any_record = True
        return bad

    cap, keep = line_cap(options), options.max_doc_bytes  # BLOCK is under the cap: only a glued line can pass it
    try:
        if task.end is not None:
            fh.seek(task.start)
        remaining = None if task.end is None else task.end - task.start
        read = getattr(fh, "read1", fh.read)
        # The line cut by reads: its pieces (glued once, at its end: gluing at every read copied a
        # long line over and over), its size, and its head once it is over the cap.
        parts: list[bytes] = []
        size = 0
        over: bytes | None = None
        while remaining is None or remaining > 0:
            try:
                chunk = read(BLOCK if remaining is None else min(BLOCK, remaining))
            except Exception as exc:  # noqa: BLE001 - any decompression failure is a broken stream
                settle()  # the lines before the break, counted
                yield truncated_stream(path, line - 1, StreamBroken(exc, over if over is not None else b"".join(parts)))
                return
            if not chunk:
                break
            if remaining is not None:
                remaining -= len(chunk)
            first = chunk.find(b"\n") + 1
            if first == 0:  # no line ends in this read
                size += len(chunk)
                if over is None:
                    parts.append(chunk)
                    if size > cap:
                        over, parts = b"".join(parts)[:keep], []
                continue
            start = 0
            if over is not None:  # the overlong line ends here
                yield overlong(over, size + first - 1)
                over = None
                start = first
            elif parts:  # the line cut by the previous reads, glued to its end
                parts.append(chunk[:first])
                head = b"".join(parts)
                parts = []
                yield overlong(head[:keep], len(head) - 1) if len(head) - 1 > cap else block(head, 0, len(head))
                start = first
            limit = chunk.rfind(b"\n") + 1
            if limit > start:
                yield block(chunk, start, limit)
            tail = chunk[limit:]
            parts, size = ([tail] if tail else []), len(tail)
        if task.end is not None and (parts or over is not None):
            # The range cut its last line: it is this range's to read, to its end (held up to the cap).
            rest = _line_to_its_end(fh, Overlong(over, size) if over is not None else b"".join(parts), cap, keep)
            parts, over, size = ([rest], None, len(rest)) if isinstance(rest, bytes) else ([], rest.head, rest.length)
        if over is not None:
            yield overlong(over, size)
        elif parts:
            data = b"".join(parts)
            data = data if data.endswith(b"\n") else data + b"\n"
            yield overlong(data[:keep], len(data) - 1) if len(data) - 1 > cap else block(data, 0, len(data))
    finally:
        fh.close()
    settle()
    if task.lines is not None and offset == task.end:  # every byte of the range, no more: the next range's first line
        task.lines.note(task.end, line)
    if not any_record and task.start == 0:
        yield empty_file(path)


def scan_block(
    block: Block,
    options: ReaderOptions,
    *,
    fold: bool,
    path_json: bytes | None = None,
    with_text: bool = False,
    digest: bool = False,
    digests_joined: bool = False,
    joined: bool = False,
) -> tuple[Any, ...]:
    """The compiled scan of every line of ``block``: (newlines, numbers, ids, keys, textless);
    ``numbers`` is an int64 array of (line, start, length, chars, UTF-8 bytes, words, text
    start, text end) rows (the text's span within the line), chars -1 for a line left to the
    reference parser. With ``with_text``, ``textless`` holds whole output lines, text
    included (None where the record is not written as orjson writes). With ``fold`` and
    ``digest``, ``keys`` holds each key's xxh3-128 digest (``xxhash.xxh3_128_digest``, hashed
    in the scan: no key is built; None for a declined line), or with ``digests_joined`` the
    digests as one bytes, 16 a line (zeros for a declined line: see :func:`digest_list`).
    With ``joined`` (and ``path_json``), ``textless`` is instead (lines, ends): the output
    lines end to end in one bytes and an int64 array of where each ends (an uncopied line
    is empty: see :func:`joined_lines`). See ``scan_block`` in jsonl.c."""
    import numpy as np

    from tamis._native._jsonl import scan_block as scan

    _load_nfc_table()
    found = scan(
        block.data,
        block.start,
        block.limit,
        block.first_line - 1,
        options.text_field.encode(),
        options.id_field.encode(),
        options.max_doc_bytes,
        fold,
        path_json,
        TEXTLESS_RESERVED,
        with_text,
        digest,
        joined,
    )
    newlines, numbers, ids, keys, textless = found
    block.newlines = newlines  # the framing takes it rather than counting the block again
    rows = np.frombuffer(numbers, dtype=np.int64).reshape(-1, 8)
    if fold and digest and not digests_joined:
        keys = digest_list(keys, rows)
    if joined and path_json is not None:
        textless = (textless[0], np.frombuffer(textless[1], dtype=np.int64))
    return newlines, rows, ids, keys, textless


def joined_lines(joined: bytes, ends: Any) -> list[bytes | None]:
    """:func:`scan_block`'s joined output lines one per line, None for an uncopied (empty)
    one: the list ``joined=False`` gives."""
    bounds = [0, *ends.tolist()]
    return [joined[a:b] if b > a else None for a, b in itertools.pairwise(bounds)]


def digest_list(joined: bytes, rows: Any) -> list[bytes | None]:
    """:func:`scan_block`'s joined digests one per line, None for a declined line (chars -1)."""
    import numpy as np
    keys: list[bytes | None] = [joined[k : k + 16] for k in range(0, len(joined), 16)]
    for i in np.flatnonzero(rows[:, 3] < 0).tolist():
        keys[i] = None
    return keys


SCAN_PIECE = 1 << 20


def _scan_pieces(blocks: Iterable[Block | BadRecord]) -> Iterator[Block | BadRecord]:
    """Each block cut at line ends into pieces of about ``size`` bytes (a line longer than
    that alone), numbered on from the lines before them; the block's newlines are the sum
    of its pieces' (counted by their scans), as the framing expects. A scan holds the GIL
    throughout: on 8 MB it kept the deflate threads, which need it between blocks, waiting
    ~30 ms at a time, and their queue was full when the reading ended."""
    size = SCAN_PIECE
    for block in blocks:
        if isinstance(block, BadRecord) or block.limit - block.start <= 2 * size:
            yield block
            continue
        data, start, line, total = block.data, block.start, block.first_line, 0
        while start < block.limit:
            cut = data.find(b"\n", start + size - 1, block.limit) + 1 if start + size < block.limit else block.limit
            piece = Block(data, start, cut, line, None if block.offset is None else block.offset + start - block.start, block.path)
            yield piece
            newlines = piece.count_newlines()
            line += newlines
            total += newlines
            start = cut
        block.newlines = total


def block_texts(block: Block, numbers: Any) -> list[str | None]:
    """The text of each line :func:`scan_block` scanned (``numbers``: its rows), as the str
    ``orjson.loads`` gives; None for a line it declined. See ``block_texts`` in jsonl.c."""
    import numpy as np

    from tamis._native._jsonl import block_texts as texts

    return texts(block.data, np.ascontiguousarray(numbers, dtype=np.int64).tobytes())


def declined_line(block: Block, row: Any, options: ReaderOptions) -> ReadResult:
    """The record of a line the scanner left to the reference parser, read by it (``row``:
    the line's row of :func:`scan_block`'s numbers)."""
    line_no, start, length = int(row[0]), int(row[1]), int(row[2])
    return _parse_json_record(block.data[start : start + length], block.path, line_no, options, options.text_field, options.id_field)


# --------------------------------------------------------------------------- lazy documents

_TEXT_SLOT = Document.__dict__["text"]  # the slots under Document's fields, for the lazy subclass
_METADATA_SLOT = Document.__dict__["metadata"]
UNKNOWN = object()  # a LazyTextDocument's language before its metadata is read


class LazyTextDocument(Document):
    """A JSONL document decoded only as far as something reads it.

    Made where nothing needs the text of a kept document: a kept document never decodes its
    text, and where its output line is known (``textless_line``) its metadata is not parsed
    either. A rejected document is written whole, so it decodes both then. ``counts`` is
    (chars, UTF-8 bytes, words) of the text, for the statistics; ``language`` is the
    metadata's language where known without parsing it (None: none), else UNKNOWN.
    """

    __slots__ = ("_meta_pending", "_origin", "_text_pending", "_where", "counts", "language", "textless_line")

    def __init__(self, doc_id: str, origin: Any, where: Any, counts: tuple[int, int, int], textless_line: bytes | None, language: Any) -> None:
        self.id = doc_id
        self._origin = origin
        self._where = where
        self.counts = counts
        self.textless_line = textless_line
        self.language = language
        self._text_pending = self._meta_pending = True

    @property  # type: ignore[override]
    def text(self) -> str:
        if self._text_pending:
            _TEXT_SLOT.__set__(self, self._origin.text(self._where))
            self._text_pending = False
        return _TEXT_SLOT.__get__(self)

    @text.setter
    def text(self, value: str) -> None:
        _TEXT_SLOT.__set__(self, value)
        self._text_pending = False

    @property  # type: ignore[override]
    def metadata(self) -> dict[str, Any]:
        if self._meta_pending:
            _METADATA_SLOT.__set__(self, self._origin.metadata(self._where))
            self._meta_pending = False
            self.textless_line = None  # the caller may change the metadata
        return _METADATA_SLOT.__get__(self)

    @metadata.setter
    def metadata(self, value: dict[str, Any]) -> None:
        _METADATA_SLOT.__set__(self, value)
        self._meta_pending = False
        self.textless_line = None

    @property
    def text_pending(self) -> bool:
        """True while the text has not been decoded (``counts`` then describes it)."""
        return self._text_pending


class _FromLine:
    """Decodes a lazy document from its input line: where = (line, text start, text end, source)."""

    def __init__(self, options: ReaderOptions) -> None:
        self._options = options

    def text(self, where: tuple[bytes, int, int, dict[str, Any]]) -> str:
        line, start, end, _ = where
        return orjson.loads(line[start:end])

    def metadata(self, where: tuple[bytes, int, int, dict[str, Any]]) -> dict[str, Any]:
        return line_metadata(*where, self._options)


def line_metadata(line: bytes, text_start: int, text_end: int, source: dict[str, Any], options: ReaderOptions) -> dict[str, Any]:
    """A scanned record's metadata, as the reader builds it, parsing all but its text."""
    record = orjson.loads(line[:text_start] + b"null" + line[text_end:])
    del record[options.text_field]
    record.pop(options.id_field, None)
    return metadata_of(record, source)


def scan_jsonl_textless(task: InputTask, options: ReaderOptions) -> Iterator[ReadResult]:
    """The task's records as :class:`LazyTextDocument` s, read again from the input: the
    scanner measures each text and, where it can, makes the output line without text.
    Records it is not sure of are read by the reference parser, whole."""
    origin = _FromLine(options)
    for block in jsonl_blocks(task, options):
        if isinstance(block, BadRecord):
            continue  # the first pass counted and rejected it
        _, numbers, ids, _, textless = scan_block(block, options, fold=False, path_json=block.path_json)
        data, path = block.data, block.path
        for row, doc_id, line in zip(numbers.tolist(), ids, textless, strict=True):
            line_no, start, length, chars, n_bytes, words, text_start, text_end = row
            raw = data[start : start + length]
            if chars < 0:
                yield _parse_json_record(raw, path, line_no, options, options.text_field, options.id_field)
                continue
            where = (raw, text_start, text_end, {"path": path, "line": line_no})
            language = None if line is not None else UNKNOWN  # a copied line has no language key
            yield LazyTextDocument(doc_id or derived_id(path, line_no), origin, where, (chars, n_bytes, words), line, language)


# --------------------------------------------------------------------------- the sidecar


class TextlessSidecar:
    """What the first pass leaves for a second pass that writes no text, per task: each
    document's output line without text, (chars, bytes, words), its byte range in the input
    and which of the task's files holds it (to read it again if it is rejected), its language
    where the metadata has one, its id.
    """

    def __init__(self, directory: Path, task: int) -> None:
        self._stem = directory / f"{task:05d}"
        self._lines: list[bytes] = []
        self._numbers: list[np.ndarray] = []
        self._languages: dict[int, Any] = {}
        self._ids = IdWriter()
        self._count = 0

    def add_many(self, ids: list[str], lines: list[bytes], numbers: np.ndarray, languages: dict[int, Any]) -> None:
        """``numbers``: rows of (chars, bytes, words, offset, length, file), one per document
        (file: the position of its file in the task's files)."""
        self._ids.extend(ids)
        self._lines.extend(lines)
        self._numbers.append(numbers)
        for i, language in languages.items():
            self._languages[self._count + i] = language
        self._count += len(ids)

    def close(self) -> None:
        import numpy as np
        self._stem.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self._stem.with_suffix(".lines"), b"".join(self._lines))
        numbers = np.concatenate(self._numbers) if self._numbers else np.zeros((0, SIDECAR_COLUMNS), dtype=np.int64)
        write_bytes_atomic(self._stem.with_suffix(".numbers"), np.ascontiguousarray(numbers, dtype=np.int64).tobytes())
        write_bytes_atomic(self._stem.with_suffix(".languages"), orjson.dumps({str(k): v for k, v in self._languages.items()}))
        self._ids.save(self._stem)

    @staticmethod
    def exists(directory: Path, task: int) -> bool:
        return (directory / f"{task:05d}.off").exists()  # the last file close() writes


SIDECAR_COLUMNS = 6  # chars, UTF-8 bytes, words, offset, length, file


class _FromSidecar:
    """Decodes a lazy document from the sidecar and the input: where = (index, output line)."""

    def __init__(self, paths: tuple[str, ...], options: ReaderOptions, offsets: list[int], lengths: list[int], files: list[int]) -> None:
        self._paths = paths
        self._options = options
        self._offsets = offsets
        self._lengths = lengths
        self._files = files
        self._fds: dict[int, int] = {}

    def text(self, where: tuple[int, bytes]) -> str:
        index = where[0]
        file = self._files[index]
        fd = self._fds.get(file)
        if fd is None:
            fd = self._fds[file] = os.open(self._paths[file], os.O_RDONLY)
        raw = os.pread(fd, self._lengths[index], self._offsets[index])
        return orjson.loads(raw)[self._options.text_field]

    def metadata(self, where: tuple[int, bytes]) -> dict[str, Any]:
        return orjson.loads(where[1])["metadata"]

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}


class SidecarReader:
    """What the first pass left for one task (see :class:`TextlessSidecar`), read back."""

    def __init__(self, directory: Path, task: InputTask, options: ReaderOptions) -> None:
        import numpy as np
        stem = directory / f"{task.index:05d}"
        self.lines = stem.with_suffix(".lines").read_bytes().splitlines(keepends=True)
        # Rows of (chars, UTF-8 bytes, words, offset, length, file), one per document.
        self.numbers = np.fromfile(stem.with_suffix(".numbers"), dtype=np.int64).reshape(-1, SIDECAR_COLUMNS)
        self.languages = {int(k): v for k, v in orjson.loads(stem.with_suffix(".languages").read_bytes()).items()}
        self.ids = IdReader(stem).all()
        self._origin = _FromSidecar(task.files, options, *(self.numbers[:, k].tolist() for k in (3, 4, 5)))

    def documents(self) -> Iterator[LazyTextDocument]:
        """Every document, lazily decoded: kept ones are written as their line."""
        counts = list(zip(*(self.numbers[:, k].tolist() for k in range(3)), strict=True))
        ids, languages, origin = self.ids, self.languages, self._origin
        for i, line in enumerate(self.lines):
            yield LazyTextDocument(ids[i], origin, (i, line), counts[i], line, languages.get(i))

    def document(self, index: int) -> Document:
        """Document ``index`` decoded whole (text read again from the input)."""
        where = (index, self.lines[index])
        return Document(self.ids[index], self._origin.text(where), self._origin.metadata(where))

    def close(self) -> None:
        self._origin.close()


def read_sidecar(directory: Path, task: InputTask, options: ReaderOptions) -> Iterator[Document]:
    """The documents of ``task`` as the first pass left them (see :class:`TextlessSidecar`)."""
    sidecar = SidecarReader(directory, task, options)
    try:
        yield from sidecar.documents()
    finally:
        sidecar.close()


# --------------------------------------------------------------------------- the source


class JsonlSource(Source):
    """JSONL input: the reference reader, and the compiled paths where they apply."""

    def _fast(self) -> bool:
        return has_jsonl_scanner()

    def collect_keys(self, collector: KeyCollector, admit: Admit, stats: TaskStats, leave_for: Path | None) -> bool:
        """The compiled scanner frames and hashes a block of lines at a time; the lines it
        declines are read, counted and rejected by ``admit`` exactly as the reference path
        does. With ``leave_for`` (uncompressed input only: the sidecar reads rejected texts
        again by offset), each document's output line without text is kept in a sidecar."""
        if not self._fast():
            return False
        import numpy as np

        task, options = self.task, self.options
        sidecar = TextlessSidecar(leave_for, task.index) if leave_for is not None and is_seekable(task) else None
        file_of = {path: position for position, path in enumerate(task.files)}
        # A collector that wants texts (the fused dedup collect) gets each record's text as
        # the str orjson would give (block_texts); the scanner then folds no key.
        wants_texts = getattr(collector, "wants_texts", False)
        # A collector that takes digests gets them hashed by the scan (no key is built).
        hashed = not wants_texts and hasattr(collector, "add_digests")
        digest = xxhash.xxh3_128_digest
        for block in jsonl_blocks(task, options):
            if isinstance(block, BadRecord):
                admit(block)
                continue
            path = block.path
            path_json = block.path_json if sidecar is not None else None
            _, numbers, ids, keys, lines = scan_block(block, options, fold=not wants_texts, path_json=path_json, digest=hashed)
            if wants_texts:
                keys = block_texts(block, numbers)
            scanned = numbers[:, 3] >= 0
            stats.observe_read_many(numbers[scanned, 3].tolist(), numbers[scanned, 4].tolist())
            valid = scanned.copy()
            # (chars, bytes, words, offset in the file, length, file) of each line, for the sidecar
            table = numbers[:, [3, 4, 5, 1, 2, 0]].copy() if sidecar is not None else None
            languages: dict[int, Any] = {}
            for i in [i for i, doc_id in enumerate(ids) if doc_id is None]:
                if scanned[i]:
                    ids[i] = derived_id(path, int(numbers[i, 0]))
            for i in np.flatnonzero(~scanned).tolist():
                _, doc = admit(declined_line(block, numbers[i], options))
                if doc is not None:  # counted by admit
                    valid[i] = True
                    ids[i], keys[i] = doc.id, doc.text if wants_texts else digest(normalized_utf8(doc.text)) if hashed else normalized_utf8(doc.text)
                    if table is not None:
                        lines[i] = _dumps_textless(doc.id, doc.metadata)
                        table[i, :3] = (len(doc.text), utf8_length(doc.text), count_words(doc.text))
                        languages[i] = doc.metadata.get("language")
            if table is not None:
                for i in [i for i, line in enumerate(lines) if line is None and scanned[i]]:
                    line_no, start, length, _, _, _, text_start, text_end = numbers[i].tolist()  # a record the scanner could not copy
                    raw = block.data[start : start + length]
                    metadata = line_metadata(raw, text_start, text_end, {"path": path, "line": line_no}, options)
                    lines[i] = _dumps_textless(ids[i], metadata)
                    languages[i] = metadata.get("language")
            taken_ids, taken = ids, keys
            if not valid.all():
                taken_ids, taken = [d for d, ok in zip(ids, valid, strict=True) if ok], [k for k, ok in zip(keys, valid, strict=True) if ok]
            if wants_texts:
                collector.add_texts(taken_ids, taken)  # type: ignore[attr-defined]
            elif hashed:
                collector.add_digests(taken_ids, taken)  # type: ignore[attr-defined]
            else:
                collector.add_many(taken_ids, taken)
            if sidecar is not None and table is not None:
                assert block.offset is not None
                table[:, 3] += block.offset - block.start
                table[:, 5] = file_of[path]
                kept = np.flatnonzero(valid).tolist()
                order = {i: n for n, i in enumerate(kept)}
                named = {order[i]: lang for i, lang in languages.items() if lang is not None and i in order}
                sidecar.add_many([ids[i] for i in kept], [lines[i] for i in kept], table[kept], named)
        collector.close()
        if sidecar is not None:
            sidecar.close()
        return True

    def replay_without_text(self, leave_for: Path) -> Iterator[ReadResult] | None:
        if not self._fast():
            return None
        if TextlessSidecar.exists(leave_for, self.task.index):
            return read_sidecar(leave_for, self.task, self.options)
        return scan_jsonl_textless(self.task, self.options)

    def write_decided(self, decisions: Decisions, ctx: TaskContext, leave_for: Path, writer: ShardWriter) -> bool:
        """The kept documents are their sidecar lines, written in bulk and counted from the
        sidecar's numbers; only rejected and annotated ones are decoded (rejects are written
        whole, an annotation changes the metadata)."""
        if not self._fast() or not TextlessSidecar.exists(leave_for, self.task.index):
            return False
        import numpy as np

        stats = ctx.stats
        sidecar = SidecarReader(leave_for, self.task, self.options)
        try:
            n = len(sidecar.lines)
            decisions.check(n, self.task.index)
            for position in sorted(decisions.rejects):
                reason, detail, keeper = decisions.rejects[position]
                ctx.reject(sidecar.document(position), reason, detail=detail, duplicate_of=keeper)
            keep = np.ones(n, dtype=bool)
            keep[list(decisions.rejects)] = False
            lines = list(sidecar.lines)
            for position, extra in decisions.annotations.items():
                if keep[position]:
                    metadata = orjson.loads(lines[position])["metadata"]
                    metadata.update(extra)
                    lines[position] = _dumps_textless(sidecar.ids[position], metadata)
                    if metadata.get("language") is not None:
                        sidecar.languages[position] = metadata["language"]
            plain = keep.copy()
            for i, language in sidecar.languages.items():
                if keep[i]:
                    plain[i] = False
                    stats.observe_kept_counts(*sidecar.numbers[i, :3].tolist(), language)
            numbers = sidecar.numbers[plain]
            stats.observe_kept_many(numbers[:, 0].tolist(), numbers[:, 1].tolist(), numbers[:, 2].tolist(), None)
            kept = np.flatnonzero(keep).tolist()
            for start in range(0, len(kept), 4096):
                writer.write_lines([lines[i] for i in kept[start : start + 4096]])
        finally:
            sidecar.close()
        return True

    def write_decided_texts(self, decisions: Decisions, ctx: TaskContext, writer: ShardWriter, rejects: ShardWriter, limit: int | None) -> bool:
        """The scanner makes each record's output line from its bytes where the record is
        written as orjson writes it (text included, no reserved key): such a line is written as
        it is when kept, and with the reject fields appended when rejected, counted from the
        scanner's numbers. A record the rewrite may change, an annotated one, or one the
        scanner declines or cannot copy is read and written the reference way, in its place."""
        if not self._fast():
            return False
        import numpy as np

        task, options = self.task, self.options
        stats = ctx.stats
        refused, annotations, rewrite = decisions.rejects, decisions.annotations, decisions.rewrite
        every = rewrite is not None and rewrite.changed is None  # the rewrite may change any text
        special = set(refused) | set(annotations) | (set(rewrite.changed or ()) if rewrite is not None else set())
        marks = np.fromiter(sorted(special), dtype=np.int64, count=len(special))
        copies = _CopiedLines(writer, rejects, stats)
        position = 0
        count = 0  # records read, as the first pass counted them (bad ones holding a record too)
        limit = limit if limit is not None else -1

        for block in jsonl_blocks(task, options):
            if limit >= 0 and count >= limit:
                break
            if isinstance(block, BadRecord):
                count += block.doc is not None
                continue  # the first pass counted and rejected it; it has no position
            path = block.path
            _, numbers, ids, _, lines = scan_block(block, options, fold=False, path_json=block.path_json, with_text=True)
            n = len(ids)
            at = int(np.searchsorted(marks, position))
            if not every and (at == len(marks) or marks[at] >= position + n) and lines.count(None) == 0 and (limit < 0 or count + n <= limit):
                copies.keep_block(lines, numbers)  # the common block: every record copied and kept
                position += n
                count += n
                continue
            data = block.data
            copied: list[int] = []
            for i, row in enumerate(numbers.tolist()):
                if count == limit:
                    break
                count += 1
                line = lines[i]
                if line is not None and not every and position not in special:
                    copies.keep(line)
                    copied.append(i)
                    position += 1
                    continue
                found = refused.get(position)
                untouched = not (rewrite is not None and rewrite.touches(position))
                if line is not None and found is None and untouched:
                    extra = annotations.get(position)
                    spliced = _annotated_line(line, extra) if extra is not None else None
                    if spliced is not None:  # a cluster's keeper: its metadata gains the annotation in place
                        copies.keep(spliced)
                        copied.append(i)
                        position += 1
                        continue
                if line is not None and found is not None and untouched:
                    tail = _reject_tail(*found)
                    if tail is not None:  # the whole record as ctx.reject writes it
                        copies.reject(line[:-2] + tail, found[0], row[4], row[5])
                        position += 1
                        continue
                line_no, start, length, chars, _, _, text_start, text_end = row
                raw = data[start : start + length]
                if chars < 0:
                    item = _parse_json_record(raw, path, line_no, options, options.text_field, options.id_field)
                    if isinstance(item, BadRecord):
                        count -= item.doc is None  # a line with no record is not counted
                        continue  # counted and rejected by the first pass; no position
                    doc = item
                else:
                    metadata = line_metadata(raw, text_start, text_end, {"path": path, "line": line_no}, options)
                    doc = Document(ids[i] or derived_id(path, line_no), orjson.loads(raw[text_start:text_end]), metadata)
                if rewrite is not None:
                    rewrite.apply(doc, position, ctx)
                if found is not None:
                    copies.flush_rejects()  # the copied rejects before it, in order
                    ctx.reject(doc, found[0], detail=found[1], duplicate_of=found[2])
                else:
                    extra = annotations.get(position)
                    if extra is not None:
                        doc.metadata.update(extra)
                    copies.flush()  # the copied lines before it, in order
                    stats.observe_kept(doc.text, doc.metadata.get("language"))
                    writer.write(document_record(doc))
                position += 1
            copies.end_block(numbers, copied)
        copies.close()
        decisions.check(position, task.index)
        return True

    def streams_first_seen(self) -> bool:
        return self._fast()

    def stream_first_seen(
        self, seen: FirstSeen, collector: Any, admit: Admit, read_stats: TaskStats, ctx: TaskContext, writer: ShardWriter, rejects: ShardWriter, reason: str
    ) -> None:
        """One scan per block gives what both passes take from it: the folded key (hashed
        here, decided against ``seen``) and the record's whole output line, which is written
        as it is when kept and with the reject fields appended when it is a duplicate.
        Declined lines are read by the reference parser through ``admit`` (as
        :meth:`collect_keys` does) and written the reference way, as are records the scanner
        cannot copy (as :meth:`write_decided_texts` does)."""
        import numpy as np
        task, options = self.task, self.options
        stats = ctx.stats
        keepers = seen.keepers
        find = keepers.get
        digest = xxhash.xxh3_128_digest
        copies = _CopiedLines(writer, rejects, stats)
        from tamis._native._jsonl import first_seen

        for block in _scan_pieces(jsonl_blocks(task, options)):
            if isinstance(block, BadRecord):
                admit(block)
                continue
            # the output lines come as one buffer (out, ends): a block's kept lines go to the
            # writer as one piece, with no bytes object per line
            path = block.path
            _, numbers, ids, joined, (out, ends) = scan_block(
                block, options, fold=True, path_json=block.path_json, with_text=True, digest=True, digests_joined=True, joined=True
            )
            scanned = numbers[:, 3] >= 0
            everything = bool(scanned.all())
            counted = numbers if everything else numbers[scanned]
            read_stats.observe_read_many(counted[:, 3].tolist(), counted[:, 4].tolist())
            if None in ids:
                for i in [i for i, doc_id in enumerate(ids) if doc_id is None]:
                    if scanned[i]:
                        ids[i] = derived_id(path, int(numbers[i, 0]))
            read: dict[int, Document] = {}  # the declined lines' documents, read by the reference parser
            order: Iterable[int] = range(len(ids))
            if everything:  # the common block: decided in C, as the loop below decides
                collector.add_joined_digests(ids, joined)
                duplicates = first_seen(joined, ids, keepers)
            else:
                digests = digest_list(joined, numbers)
                valid = scanned.copy()
                for i in np.flatnonzero(~scanned).tolist():
                    _, doc = admit(declined_line(block, numbers[i], options))
                    if doc is not None:  # counted by admit
                        valid[i] = True
                        ids[i], digests[i] = doc.id, digest(normalized_utf8(doc.text))
                        read[i] = doc
                order = np.flatnonzero(valid).tolist()
                digests = [digests[i] for i in order]
                collector.add_digests([ids[i] for i in order], digests)
                duplicates = {}
                for i, key in zip(order, digests, strict=True):
                    keeper = find(key)
                    if keeper is None:
                        keepers[key] = ids[i]
                    else:
                        duplicates[i] = keeper
            seen.check()  # a full table stops the task here: the passes take it over
            if everything and (len(ends) == 0 or (ends[0] > 0 and bool((ends[1:] > ends[:-1]).all()))):  # every line copied
                if not duplicates:
                    copies.keep_joined(out, ends, numbers)  # the common block: every record copied and kept
                    continue
                if copies.split_joined(out, ends, numbers, duplicates, reason):  # every record copied, some rejected
                    continue
            lines = joined_lines(out, ends)
            copied: list[int] = []
            for i in order:
                line = lines[i]
                keeper = duplicates.get(i)
                if keeper is None and line is not None:
                    copies.keep(line)
                    copied.append(i)
                    continue
                if keeper is not None and line is not None:
                    tail = _reject_tail(reason, None, keeper)
                    if tail is not None:  # the whole record as ctx.reject writes it
                        copies.reject(line[:-2] + tail, reason, int(numbers[i, 4]), int(numbers[i, 5]))
                        continue
                doc = read.get(i)
                if doc is None:  # scanned, but its line is not copied: read the reference way
                    line_no, start, length, _, _, _, text_start, text_end = numbers[i].tolist()
                    raw = block.data[start : start + length]
                    metadata = line_metadata(raw, text_start, text_end, {"path": path, "line": line_no}, options)
                    doc = Document(ids[i], orjson.loads(raw[text_start:text_end]), metadata)
                if keeper is not None:
                    copies.flush_rejects()  # the copied duplicates before it, in order
                    ctx.reject(doc, reason, duplicate_of=keeper)
                else:
                    copies.flush()  # the copied lines before it, in order
                    stats.observe_kept(doc.text, doc.metadata.get("language"))
                    writer.write(document_record(doc))
            copies.end_block(numbers, copied)
        copies.close()  # the collector is closed by the caller (the stream closes tasks in the background)

    def write_kept_without_text(self, docs: Iterable[Document], stats: TaskStats, writer: ShardWriter) -> None:
        """A lazily read document whose output line is known is written as that line (lines
        go out a batch at a time, and are counted at the end)."""
        lines: list[bytes] = []
        counts: list[tuple[int, int, int]] = []
        for doc in docs:
            line = None
            if type(doc) is LazyTextDocument and doc.text_pending:
                language = doc.language
                if language is UNKNOWN:
                    language = doc.metadata.get("language")
                line = doc.textless_line
                if line is not None and language is None:
                    lines.append(line)
                    counts.append(doc.counts)
                    if len(lines) >= 4096:
                        writer.write_lines(lines)
                        lines = []
                    continue
                stats.observe_kept_counts(*doc.counts, language)
            else:
                stats.observe_kept(doc.text, doc.metadata.get("language"))
            if lines:
                writer.write_lines(lines)
                lines = []
            if line is not None:
                writer.write_lines([line])
            else:
                writer.write({"id": doc.id, "text": None, "metadata": doc.metadata})
        if lines:
            writer.write_lines(lines)
        if counts:
            stats.observe_kept_many(*zip(*counts, strict=True), None)


class _CopiedLines:
    """The output lines a pass copies from its input as they are: kept lines and whole rejects,
    each written a batch at a time and in order with the records the pass writes the reference
    way (which call :meth:`flush` / :meth:`flush_rejects` first); the kept ones counted in one
    call at the end from the scanner's (chars, bytes, words) columns."""

    BATCH = 4096

    def __init__(self, writer: ShardWriter, rejects: ShardWriter, stats: TaskStats) -> None:
        self._writer, self._rejects, self._stats = writer, rejects, stats
        self._kept: list[bytes] = []
        self._kept_counts: list[np.ndarray] = []  # (chars, bytes, words) rows of the kept lines
        self._rejected: list[bytes] = []  # copied rejects not yet written
        self._reject_counts: list[tuple[str, int, int]] = []  # their (reason, bytes, words)

    def keep_block(self, lines: list[bytes], numbers: np.ndarray) -> None:
        """A whole block's lines, every record kept as it is."""
        self._kept.extend(lines)
        self._kept_counts.append(numbers[:, 3:6])
        if len(self._kept) >= self.BATCH:
            self.flush()

    def keep_joined(self, joined: bytes, ends: np.ndarray, numbers: np.ndarray) -> None:
        """A whole block's lines end to end in one buffer (line ``i`` ending at ``ends[i]``),
        every record kept as it is: handed to the writer as one piece, after the lines
        waiting before it."""
        self.flush()
        self._writer.write_joined(joined, ends)
        self._kept_counts.append(numbers[:, 3:6])

    def split_joined(self, joined: bytes, ends: np.ndarray, numbers: np.ndarray, duplicates: dict[int, str], reason: str) -> bool:
        """A whole block's lines end to end in one buffer, each record copied: the duplicates
        (position -> keeper id, in input order) as whole rejects, the runs of kept lines
        between them joined into one buffer (a slice per reject, no step per line in Python;
        kept and rejected lines go to different files, so each keeps its order). False, with
        nothing taken, where a reject's fields are not sure to be written as the reference
        writes them (the caller then goes record by record)."""
        import numpy as np
        head = _reject_head(reason, None)  # the fields before the keeper's id, written once
        if head is None:
            return False
        rejected = sorted(duplicates)
        try:
            tails = [head + orjson.dumps(duplicates[i]) + b"}\n" for i in rejected]
        except TypeError:  # an id orjson cannot write (a lone surrogate): the reference path
            return False
        kept_lines, kept_ends, spans = _take_lines(joined, ends, rejected)
        if kept_lines:
            kept = np.ones(len(ends), dtype=bool)
            kept[rejected] = False
            self.keep_joined(kept_lines, np.frombuffer(kept_ends, dtype=np.int64), numbers[kept])
        counts = numbers[rejected, 4:6].tolist()
        bounds = memoryview(spans).cast("q").tolist()
        self._rejected.extend(joined[bounds[2 * k] : bounds[2 * k + 1] - 2] + tails[k] for k in range(len(rejected)))
        self._reject_counts.extend((reason, n_bytes, words) for n_bytes, words in counts)
        self.flush_rejects()
        return True

    def keep(self, line: bytes) -> None:
        """One kept line; its counts come with :meth:`end_block`."""
        self._kept.append(line)

    def reject(self, line: bytes, reason: str, n_bytes: int, words: int) -> None:
        self._rejected.append(line)
        self._reject_counts.append((reason, n_bytes, words))

    def end_block(self, numbers: np.ndarray, copied: list[int]) -> None:
        """After a block taken record by record: counts of the rows it kept by :meth:`keep`."""
        if copied:
            self._kept_counts.append(numbers[copied, 3:6])
        if len(self._kept) >= self.BATCH:
            self.flush()
        self.flush_rejects()

    def flush(self) -> None:
        if self._kept:
            self._writer.write_lines(self._kept)
            self._kept = []

    def flush_rejects(self) -> None:
        if self._rejected:
            self._rejects.write_lines(self._rejected)
            for reason, n_bytes, words in self._reject_counts:
                self._stats.observe_rejected_counts(reason, n_bytes, words, None)
            self._rejected, self._reject_counts = [], []

    def close(self) -> None:
        import numpy as np
        self.flush()
        self.flush_rejects()
        if self._kept_counts:
            counts = np.concatenate(self._kept_counts)
            self._stats.observe_kept_many(counts[:, 0].tolist(), counts[:, 1].tolist(), counts[:, 2].tolist(), None)


def take_lines_reference(joined: bytes, ends: Any, rejected: list[int]) -> tuple[bytes, bytes, bytes]:
    """Lines end to end (line ``i`` ending at ``ends[i]``) less the ``rejected`` positions
    (ascending): (the kept lines end to end, their int64 ends in it, each rejected line's
    int64 (start, end) in ``joined``). What the compiled ``take_lines`` gives."""
    import numpy as np
    bounds = [0, *(int(end) for end in ends)]
    rising = all(a <= b for a, b in itertools.pairwise(bounds))
    if bounds[-1] != len(joined) or not rising or any(b <= a for a, b in itertools.pairwise([-1, *rejected, len(bounds) - 1])):
        msg = "take_lines: ends must rise to len(joined), rejected positions ascend within them"
        raise ValueError(msg)
    dropped = set(rejected)
    kept = [joined[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1) if i not in dropped]
    kept_ends = list(itertools.accumulate(map(len, kept)))
    spans = [x for i in rejected for x in (bounds[i], bounds[i + 1])]
    return b"".join(kept), np.array(kept_ends, dtype=np.int64).tobytes(), np.array(spans, dtype=np.int64).tobytes()


def _take_lines(joined: bytes, ends: Any, rejected: list[int]) -> tuple[bytes, bytes, bytes]:
    from tamis._native._jsonl import take_lines

    return take_lines(joined, ends, rejected)


def _annotated_line(line: bytes, extra: dict[str, Any]) -> bytes | None:
    """A copied output line (``{"id":..,"text":..,"metadata":{..}}`` as orjson writes it) with
    ``extra`` merged into its metadata as ``metadata.update(extra)`` then :func:`dumps` would
    write it: new keys appended in order. None where that is not sure (a key already in the
    metadata, at any depth; a value orjson cannot write; ``language``, which the statistics
    read): the caller takes the reference path."""
    if not line.endswith(b"}}\n") or "language" in extra:
        return None
    text_at = line.find(TEXT_KEY)
    meta_at = line.find(METADATA_KEY, text_at) if text_at >= 0 else -1
    if meta_at < 0:
        return None
    meta = line[meta_at + len(METADATA_KEY) : -2]  # the metadata object: no bare ``,"metadata":`` in a string before it
    items = []
    for key, value in extra.items():
        if not isinstance(key, str):
            return None
        try:
            name = orjson.dumps(key)
            items.append(name + b":" + orjson.dumps(value))
        except TypeError:
            return None
        if name + b":" in meta:  # a quote in a string is escaped: a bare "key": is a key somewhere
            return None
    if not items:
        return line
    joined = b",".join(items)
    body = b"{" + joined + b"}" if meta == b"{}" else meta[:-1] + b"," + joined + b"}"
    return line[: meta_at + len(METADATA_KEY)] + body + b"}\n"


def _reject_head(reason: str, detail: str | None) -> bytes | None:
    """A rejected record's line after its metadata, up to the value of ``duplicate_of`` (None:
    a value orjson cannot write, left to the reference path)."""
    try:
        return b',"reason":' + orjson.dumps(reason) + b',"detail":' + orjson.dumps(detail) + b',"duplicate_of":'
    except TypeError:
        return None


def _reject_tail(reason: str, detail: str | None, duplicate_of: str | None) -> bytes | None:
    """What a rejected record's line has after its metadata: the reject fields as
    :func:`tamis.io.outputs.dumps` writes them, closing the object (None: a value orjson
    cannot write, left to the reference path)."""
    head = _reject_head(reason, detail)
    if head is None:
        return None
    try:
        return head + orjson.dumps(duplicate_of) + b"}\n"
    except TypeError:
        return None


def _dumps_textless(doc_id: str, metadata: dict[str, Any]) -> bytes:
    return dumps({"id": doc_id, "text": None, "metadata": metadata})
