"""What the dataset card and the report need to know of a shard, noted while it is written.

After a run, the card (:mod:`tamis.io.card`) needs every shard's row count, its schema and its
ids (to count repeated ids), and the report needs every reject's ``reason`` and
``duplicate_of`` (its duplicate clusters). Reading all of that back means decompressing the
whole output once more (about 15 % of a ``tamis dedup`` run). Instead, the
:class:`~tamis.io.outputs.ShardWriter` notes it as it writes, and commits it beside the shard,
as ``OUT/_notes/<folder>/<shard name>.notes``, just before it commits the shard:

- ``id`` (each record's id as JSON text, the form the card compares), ``metadata`` (its
  metadata object as JSON text: the report's samples need no decompression for it) and, for
  rejects, ``reason`` and ``duplicate_of`` (JSON text too), one value per record, in shard
  order (notes written before ``metadata`` was noted have no such column: the shard is read);
- in the header: the shard's size in bytes (a note whose size differs from the shard's
  describes another file and is ignored), its row count and, for JSON lines, the shard's
  schema: the types Arrow's JSON reader infers from the distinct metadata objects (the same
  types and field order as from all of them: inference only unions what it sees), as
  :mod:`tamis.io.jsontypes` finds them without Arrow (``fields``), or, where only Arrow can
  say, the Arrow schema it gives (``schema``).

The file (version 2) is tamis's own: ``MAGIC``, then one deflate stream holding each column's
offsets (``rows + 1`` little-endian int64s, from 0) followed by its bytes, then the header
(JSON: the fields above, the columns' names and byte sizes, the stream's size), the header's
size (little-endian uint64) and ``MAGIC`` again. Writing and reading it needs no pyarrow (its
import was a default run's largest fixed cost after numpy's). Notes of runs made before
(version 1, an Arrow IPC file with the same columns and the header in the schema metadata)
are still read, through pyarrow, so a run resumed across the change keeps its notes.

Notes are never inside ``output/`` or ``rejects/``, which users and ``datasets`` glob whole.
A task's notes are committed to an object store with its shards (its marker lists them). A
shard without valid notes (older runs, other tools, a crash between the two commits, notes
of an earlier attempt: their recorded size differs) is read back as before: notes only ever
save time.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import struct
import sys
import zlib
from array import array
from pathlib import Path
from typing import Any

import orjson

from tamis.io import jsontypes

NOTES_DIR, NOTES_SUFFIX = "_notes", ".notes"
VERSION = 2
ARROW_VERSION = 1  # notes written by runs before VERSION 2: an Arrow IPC file, read through pyarrow
MAGIC = b"TAMISNT2"  # at both ends of a version 2 file
ARROW_MAGIC = b"ARROW1"
META_KEY = b"tamis.shard"  # the header's key in a version 1 file's schema metadata
_FOOTER = struct.Struct("<Q")
ID_PREFIX, TEXT_KEY, METADATA_KEY = b'{"id":', b',"text":', b',"metadata":'
REJECT_TAIL = b',"reason":'
DETAIL_KEY, KEEPER_KEY = b',"detail":', b',"duplicate_of":'
STRING_COLUMNS = ("reason", "detail", "duplicate_of")


def notes_path(shard: Path) -> Path:
    """``OUT/_notes/<folder>/<shard name>.notes``: outside the shard folders, which users and
    loaders glob whole."""
    return shard.parent.parent / NOTES_DIR / shard.parent.name / (shard.name + NOTES_SUFFIX)


def split_record(line: bytes, rejects: bool) -> tuple[bytes, bytes] | None:
    """(id JSON, metadata JSON) of a shard line as tamis writes it (keys ``id``, ``text``,
    ``metadata`` [, ``reason``, ``detail``, ``duplicate_of``] in that order, serialised so that
    a quote inside a string is always escaped), found without parsing the text: no string can
    hold a bare ``,"metadata":``, and no later string a bare ``,"reason":``. None if the
    line is laid out otherwise."""
    if not line.startswith(ID_PREFIX):
        return None
    text_at = line.find(TEXT_KEY)
    meta_at = line.find(METADATA_KEY, text_at)
    if text_at < 0 or meta_at < 0:
        return None
    if rejects:
        end = line.rfind(REJECT_TAIL)
    else:  # tamis's lines end with "}\n": no copy of the line to strip it
        end = len(line) - 2 if line.endswith(b"}\n") else len(line.rstrip()) - 1
    if end <= meta_at:
        return None
    return line[len(ID_PREFIX) : text_at], line[meta_at + len(METADATA_KEY) : end]


def metadata_schema(metas: list[bytes], rejects: bool) -> Any:
    """The Arrow schema ``datasets`` infers for JSON lines whose metadata objects (JSON text,
    one per record) are ``metas``: ``id``, ``text``, ``metadata`` [, the reject columns]."""
    import pyarrow as pa
    import pyarrow.json as pj

    fields = [pa.field("id", pa.string()), pa.field("text", pa.string())]
    if metas:
        blob = b"\n".join(b'{"m":' + m + b"}" for m in metas)
        # One block, read in this thread: Arrow's thread pool would only be woken to wait for it
        # (its threads' start and hand-over cost a run's end more wall time than the read).
        options = pj.ReadOptions(block_size=max(1 << 20, len(blob) + 1), use_threads=False)
        table = pj.read_json(pa.BufferReader(blob), read_options=options)
        fields.append(table.schema.field("m").with_name("metadata"))
    else:
        fields.append(pa.field("metadata", pa.struct([])))
    if rejects:
        fields += [pa.field(name, pa.string()) for name in STRING_COLUMNS]
    return pa.schema(fields)


def binary_array(values: list[bytes]) -> Any:
    """``pa.array(values, type=pa.binary())`` built from its buffers: ``pa.array`` on a Python
    list imports pandas to ask whether the list is a pandas object (about 0.4 s of every run)."""
    return column_array(b"".join(values), array("q", itertools.accumulate(map(len, values), initial=0)))


def column_array(data: bytes | bytearray, offsets: Any) -> Any:
    """A binary Arrow array of the values ``data[offsets[i]:offsets[i + 1]]`` (native int64
    offsets, as :class:`_Column` keeps them), built from the buffers without a Python object
    per value (offsets narrowed to Arrow's int32 where the data allows)."""
    import numpy as np
    import pyarrow as pa

    ends = np.frombuffer(offsets, dtype=np.int64)
    count = len(ends) - 1
    if len(data) >= 1 << 31:  # past 32-bit offsets: let Arrow chunk it
        return pa.array([bytes(data[a:b]) for a, b in zip(ends[:-1].tolist(), ends[1:].tolist(), strict=True)], type=pa.binary())
    return pa.Array.from_buffers(pa.binary(), count, [None, pa.py_buffer(ends.astype(np.int32)), pa.py_buffer(data)])


class _Column:
    """One notes column being collected: the values' bytes end to end, and their offsets
    (native int64, a leading 0), appended to by the compiled split with no object per value."""

    __slots__ = ("data", "offsets")

    def __init__(self) -> None:
        self.data = bytearray()
        self.offsets = bytearray(_INT64.pack(0))

    def append(self, value: bytes) -> None:
        self.data += value
        self.offsets += _INT64.pack(len(self.data))

    def __len__(self) -> int:
        return len(self.offsets) // 8 - 1

    def values(self) -> list[bytes]:
        ends = memoryview(self.offsets).cast("q")
        return [bytes(self.data[ends[i] : ends[i + 1]]) for i in range(len(ends) - 1)]

    def array(self) -> Any:
        return column_array(self.data, self.offsets)


_INT64 = struct.Struct("=q")


def _json(value: Any) -> bytes:
    """``value`` as JSON text, as :func:`tamis.io.outputs.dumps` writes it (lone surrogates escaped)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        import json

        return json.dumps(value, ensure_ascii=True, default=str).encode("ascii")


def _sliced_reject_values(line: bytes) -> tuple[bytes, bytes] | None:
    """(reason, duplicate_of) sliced from a reject line laid out as tamis writes it, else None."""
    at = line.rfind(REJECT_TAIL)
    detail_at = line.find(DETAIL_KEY, at)
    keeper_at = line.find(KEEPER_KEY, detail_at)
    end = len(line) - 2 if line.endswith(b"}\n") else -1
    if at >= 0 and detail_at > at and keeper_at > detail_at and end > keeper_at:
        reason, keeper = line[at + len(REJECT_TAIL) : detail_at], line[keeper_at + len(KEEPER_KEY) : end]
        if reason[:1] == b'"' and (keeper == b"null" or keeper[:1] == b'"'):  # plain strings: as orjson writes them
            return reason, keeper
    return None


def _reject_values(line: bytes) -> tuple[bytes, bytes]:
    """(reason, duplicate_of) of a reject line as JSON text, the form :meth:`ShardNotes.add_record`
    notes: sliced where the tail is laid out as tamis writes it (``,"reason":R,"detail":D,
    "duplicate_of":K}``, each value as orjson writes it: no bare ``,"detail":`` can be inside
    R, nor a bare ``,"duplicate_of":`` inside D), else parsed."""
    found = _sliced_reject_values(line)
    if found is not None:
        return found
    at = line.rfind(REJECT_TAIL)
    tail = orjson.loads(b"{" + line[at + 1 :])
    return orjson.dumps(tail.get("reason")), orjson.dumps(tail.get("duplicate_of"))


def split_into_reference(lines: list[bytes], start: int, rejects: bool, columns: tuple[bytearray, ...]) -> int:
    """Append the id and metadata (and, for ``rejects``, reason and duplicate_of) JSON text
    slices of ``lines[start:]`` that :func:`split_record` and :func:`_reject_values` find
    without parsing to ``columns`` (a ``(data, offsets)`` pair of bytearrays per column, as
    :class:`_Column` keeps them), up to the first line they cannot; returns its index
    (``len(lines)`` when none). What the compiled ``split_into`` does
    (``tests/test_card_notes.py`` compares them)."""
    for i in range(start, len(lines)):
        line = lines[i]
        found = split_record(line, rejects) if isinstance(line, bytes) else None
        tail = _sliced_reject_values(line) if found is not None and rejects else None
        if found is None or (rejects and tail is None):
            return i
        values = (*found, *tail) if rejects and tail is not None else found
        for k, value in enumerate(values):
            columns[2 * k].extend(value)
            columns[2 * k + 1].extend(_INT64.pack(len(columns[2 * k])))
    return len(lines)


def split_joined_into_reference(joined: bytes | memoryview, ends: Any, first: int, stop: int, rejects: bool, columns: tuple[bytearray, ...]) -> int:
    """:func:`split_into_reference` of lines ``first`` to ``stop - 1`` of ``joined``, which
    holds lines end to end (line ``i`` ends at ``ends[i]``, native int64, and starts where
    line ``i - 1`` ends): what the compiled ``split_joined_into`` does."""
    bounds = memoryview(bytes(ends)).cast("q").tolist()
    lines = [bytes(joined[bounds[i - 1] if i else 0 : bounds[i]]) for i in range(first, stop)]
    return first + split_into_reference(lines, 0, rejects, columns)


def metadata_shapes_column_reference(data: bytes | bytearray, offsets: bytes | bytearray) -> list[bytes]:
    """:func:`metadata_shapes_reference` of a column's values (``data`` and its native int64
    ``offsets``, as :class:`_Column` keeps them): what the compiled ``metadata_shapes`` returns."""
    ends = memoryview(bytes(offsets)).cast("q").tolist()
    return metadata_shapes_reference([bytes(data[a:b]) for a, b in itertools.pairwise(ends)])


_PLAIN_FLOAT = re.compile(rb"-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]+(?:[eE][+-]?[0-9]{1,2})?|[eE][+-]?[0-9]{1,2})")
_JSON_SPACE = b" \t\n\r"


def _plain_string(content: bytes) -> bool:
    """A string value whose type is "string" whatever its text (see
    :func:`metadata_shapes_reference`): no escape, no control byte, valid UTF-8 (Python's
    strict decoder: no surrogate), not opening with four ASCII digits."""
    if len(content) >= 4 and content[:4].isdigit():
        return False
    if b"\\" in content or any(c < 0x20 for c in content):
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _shape_reference(meta: bytes) -> bytes:
    """One metadata text's shape (see :func:`metadata_shapes_reference`)."""
    out, i, n = bytearray(), 0, len(meta)
    while i < n:
        c = meta[i]
        if c == 0x22:  # a string, kept whole through its closing quote (or to the end)
            j = i + 1
            while j < n and meta[j] != 0x22:
                j += 2 if meta[j] == 0x5C else 1
            k = j + 1
            while k < n and meta[k] in _JSON_SPACE:
                k += 1
            if j < n and (k >= n or meta[k] != 0x3A) and _plain_string(meta[i + 1 : j]):
                out += b'""'  # a value, not a key
                i = j + 1
                continue
            j = j + 1 if j < n else n
            out += meta[i:j]
            i = j
        elif c == 0x2D or 0x30 <= c <= 0x39:  # a number
            d = j = i + (c == 0x2D)
            while j < n and 0x30 <= meta[j] <= 0x39:
                j += 1
            more = j < n and meta[j] in b".eE"
            if not more and 1 <= j - d <= 18:
                out += b"0"
                i = j
                continue
            while j < n and (0x30 <= meta[j] <= 0x39 or meta[j] in b".eE+-"):
                j += 1
            j = max(j, i + 1)
            out += b"0.0" if more and _PLAIN_FLOAT.fullmatch(meta, i, j) else meta[i:j]
            i = j
        else:
            out.append(c)
            i += 1
    return bytes(out)


def metadata_shapes_reference(metas: list[Any]) -> list[Any]:
    """The distinct shapes of metadata JSON texts, in order of first appearance: each text
    with every value whose type does not depend on its text written as one text of that type
    (what ``shardnotes.c`` says in full): an integer of at most 18 digits (a minus sign
    allowed; Arrow's JSON reader infers int64 for any) as ``0``; a number with a fraction or
    an exponent (strict JSON, at most 18 integer digits and 2 exponent digits: a finite
    double) as ``0.0``; a string value (not a key) with no escape, no control byte, valid
    UTF-8 and not opening with four digits (no timestamp) as ``""``. Keys, other strings and
    numbers are kept whole. The shapes infer the schema all the texts infer (a handful of
    shapes where every record's metadata differs by its source line and signal values). An
    item that is not bytes is given back as it is. What the compiled ``metadata_shapes``
    returns (``tests/test_card_notes.py``)."""
    found: dict[Any, None] = {}
    out: list[Any] = []
    for meta in metas:
        if not isinstance(meta, bytes):
            out.append(meta)
            continue
        shape = _shape_reference(meta)
        if shape not in found:
            found[shape] = None
            out.append(shape)
    return out


def _load_native() -> tuple[Any, Any, Any]:
    try:
        from tamis._native._shardnotes import metadata_shapes, split_into, split_joined_into
    except ImportError:  # pragma: no cover - the extension is built on install
        return split_into_reference, metadata_shapes_column_reference, split_joined_into_reference
    return split_into, metadata_shapes, split_joined_into


_native: tuple[Any, Any, Any] | None = None


def _split_into(lines: list[bytes], start: int, rejects: bool, columns: tuple[bytearray, ...]) -> int:
    global _native
    if _native is None:  # looked up once (an import statement per call costs on small batches)
        _native = _load_native()
    return _native[0](lines, start, rejects, columns)


def _split_joined_into(joined: bytes | memoryview, ends: Any, first: int, stop: int, rejects: bool, columns: tuple[bytearray, ...]) -> int:
    global _native
    if _native is None:
        _native = _load_native()
    return _native[2](joined, ends, first, stop, rejects, columns)


def _column_shapes(column: _Column) -> list[bytes]:
    global _native
    if _native is None:
        _native = _load_native()
    return _native[1](column.data, column.offsets)


# The report of a run shows the first few rejects of each reason whole (text and detail),
# which the notes do not hold: reading them back decompressed most of the rejects shard (a rare
# reason's first reject can be its last line), ~20 % of the report's time on the recipe. The
# notes of a rejects shard hold those lines in memory instead (the first HOLD_PER_REASON of each
# reason, the report's tamis.report.sample.SAMPLE_DOCS_PER_REASON), and a report made in the
# same process (``tamis run`` with one worker) takes them from here: the same bytes as the
# shard's lines, found by the file's identity (device, inode, size, modification time), so a
# file rewritten since is read instead. Other processes, ``tamis report OUT`` and lines past
# these bounds read the shard as before.
HOLD_PER_REASON = 3
HOLD_ROWS = 4096  # rows of a shard looked at (~1.5 us a row: at most ~6 ms a shard)
HOLD_BYTES = 4 << 20  # per shard
HOLD_TOTAL_BYTES = 16 << 20  # per process: older shards' lines are dropped first
_held_for_report: dict[tuple[int, int, int, int], dict[int, bytes]] = {}


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _hold_for_report(identity: tuple[int, int, int, int], lines: dict[int, bytes]) -> None:
    _held_for_report[identity] = lines
    total = sum(len(line) for held in _held_for_report.values() for line in held.values())
    while total > HOLD_TOTAL_BYTES and len(_held_for_report) > 1:
        oldest = next(iter(_held_for_report))
        total -= sum(map(len, _held_for_report.pop(oldest).values()))


def held_lines(shard: Path) -> dict[int, bytes]:
    """Lines of ``shard`` by row (as the shard holds them, without their newline) that this
    process's writer held when it wrote the shard, if the file is still that one; else {}."""
    try:
        identity = _identity(shard.stat())
    except OSError:
        return {}
    return _held_for_report.get(identity, {})


class ShardNotes:
    """Collects the notes of one shard while it is written. ``json_lines``: the shard is JSON
    lines (its schema is inferred from the metadata; a Parquet shard carries its own)."""

    def __init__(self, *, rejects: bool, json_lines: bool) -> None:
        self.rejects = rejects
        self.json_lines = json_lines
        # JSON text columns: each record's id and metadata (and reason, duplicate_of).
        self.ids, self.metas, self.reasons, self.keepers = _Column(), _Column(), _Column(), _Column()
        columns = (self.ids, self.metas, self.reasons, self.keepers) if rejects else (self.ids, self.metas)
        self._buffers = tuple(buf for column in columns for buf in (column.data, column.offsets))
        # Rejects: the first lines of each reason, held for this process's report (see held_lines)
        self._held: dict[int, bytes] = {}
        self._held_bytes = 0
        self._reason_counts: dict[bytes, int] = {}

    def add_record(self, record: dict[str, Any]) -> None:
        """One record, each field serialised on its own (a record orjson refuses, or a Parquet
        shard's). A value with a lone surrogate (an id read from undecodable input) is noted
        as :func:`tamis.io.outputs.dumps` writes it, escaped, as the shard's line holds it."""
        self.ids.append(_json(record.get("id")))
        self.metas.append(_json(record.get("metadata")))
        if self.rejects:
            self.reasons.append(_json(record.get("reason")))
            self.keepers.append(_json(record.get("duplicate_of")))

    def add_lines(self, lines: list[bytes]) -> None:
        """Records already serialised as JSON lines (found by position, as the card reads
        them; a line laid out otherwise is parsed whole). The split is compiled
        (``tamis/_native/shardnotes.c``) where built, :func:`split_into_reference` the plain
        one; a line either leaves is noted the reference way, in its place."""
        at, n, first_row = 0, len(lines), len(self.ids)
        while at < n:
            at = _split_into(lines, at, self.rejects, self._buffers)
            if at < n:
                self._add_line(lines[at])
                at += 1
        if self.rejects and first_row < HOLD_ROWS:
            self._hold(lines, first_row)

    def _hold(self, lines: list[bytes], first_row: int) -> None:
        """Keep the first :data:`HOLD_PER_REASON` lines of each reason among the shard's first
        :data:`HOLD_ROWS` rows (``lines[i]`` is row ``first_row + i``), within :data:`HOLD_BYTES`."""
        stop = min(first_row + len(lines), HOLD_ROWS)
        if stop <= first_row:
            return
        # the rows' reason ends in one unpack, their reasons in one bytes object (sliced to
        # hashable bytes with one copy a row)
        ends = struct.unpack_from(f"={stop - first_row + 1}q", self.reasons.offsets, 8 * first_row)
        base = ends[0]
        reasons, counts = bytes(self.reasons.data[base : ends[-1]]), self._reason_counts
        for i in range(stop - first_row):
            reason = reasons[ends[i] - base : ends[i + 1] - base]
            seen = counts.get(reason, 0)
            if seen < HOLD_PER_REASON:
                counts[reason] = seen + 1
                row = first_row + i
                line = lines[i]
                line = line[:-1] if line.endswith(b"\n") else line
                if self._held_bytes + len(line) <= HOLD_BYTES:
                    self._held[row] = line
                    self._held_bytes += len(line)

    def add_joined(self, joined: bytes | memoryview, ends: Any, first: int, stop: int) -> None:
        """Lines ``first`` to ``stop - 1`` of ``joined`` (lines end to end, line ``i`` ending
        at ``ends[i]``, a native int64 array), as :meth:`add_lines` notes them: one compiled
        split over the buffer, no bytes object per line."""
        while first < stop:
            first = _split_joined_into(joined, ends, first, stop, self.rejects, self._buffers)
            if first < stop:
                self._add_line(bytes(joined[int(ends[first - 1]) if first else 0 : int(ends[first])]))
                first += 1

    def _add_line(self, line: bytes) -> None:
        """One line noted the reference way."""
        found = split_record(line, self.rejects)
        if found is None:
            self.add_record(orjson.loads(line))
            return
        self.ids.append(found[0])
        self.metas.append(found[1])
        if self.rejects:
            reason, keeper = _reject_values(line)
            self.reasons.append(reason)
            self.keepers.append(keeper)

    def save(self, shard_tmp: Path, final: Path) -> None:
        """Commit the notes of the finished (not yet renamed) shard ``shard_tmp`` as
        ``final``'s notes."""
        from tamis.io.atomic import atomic_open

        shard_stat = shard_tmp.stat()
        info: dict[str, Any] = {"version": VERSION, "shard_bytes": shard_stat.st_size, "rows": len(self.ids)}
        info.update(rejects=self.rejects, json_lines=self.json_lines)
        if self.json_lines:  # inferred from the distinct shapes of the metadata (metadata_shapes_reference)
            info.update(schema_info(_column_shapes(self.metas), self.rejects))
        columns = [("id", self.ids), ("metadata", self.metas)]
        if self.rejects:
            columns += [("reason", self.reasons), ("duplicate_of", self.keepers)]
        info["columns"] = [[name, len(column.data)] for name, column in columns]
        # Not fsynced: notes only save time. Notes lost or cut short by a crash of the machine
        # fail read_notes' checks (the magic at the end, the sizes, the row count) and the shard
        # is read instead; their shard itself is synced. One fsync less per shard.
        with atomic_open(notes_path(final), sync=False) as fh:
            fh.write(MAGIC)
            deflate, written = _compressor(), 0
            for _, column in columns:
                for part in (_little_endian(column.offsets), column.data):
                    chunk = deflate.compress(part)
                    fh.write(chunk)
                    written += len(chunk)
            chunk = deflate.flush()
            fh.write(chunk)
            info["body_bytes"] = written + len(chunk)
            header = orjson.dumps(info)
            fh.write(header + _FOOTER.pack(len(header)) + MAGIC)
        if self._held:  # the rename to ``final`` keeps the file's identity
            _hold_for_report(_identity(shard_stat), self._held)


def _compressor() -> Any:
    """A deflate stream at a fast level (ISA-L's where installed, as the gzip output uses: the
    same format, several times faster than zlib's)."""
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal is a dependency
        return zlib.compressobj(1)
    return isal_zlib.compressobj(1)


def _little_endian(offsets: bytearray) -> bytes | bytearray:
    if sys.byteorder == "little":
        return offsets
    swapped = array("q", bytes(offsets))  # pragma: no cover - big-endian machines
    swapped.byteswap()
    return swapped.tobytes()


def schema_info(shapes: list[bytes], rejects: bool) -> dict[str, Any]:
    """The notes' schema entry for JSON lines whose distinct metadata shapes are ``shapes``:
    ``fields`` (:mod:`tamis.io.jsontypes`) where known without Arrow, else ``schema`` (the
    Arrow schema Arrow infers, base64; None where no type covers the metadata: the card then
    reads the shard and says why)."""
    try:
        metadata = jsontypes.infer(shapes) if shapes else ["struct", []]
    except jsontypes.Unsure:
        import pyarrow as pa

        try:
            schema = metadata_schema(shapes, rejects)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return {"schema": None}
        return {"schema": base64.b64encode(schema.serialize().to_pybytes()).decode()}
    fields = [["id", "string"], ["text", "string"], ["metadata", metadata]]
    if rejects:
        fields += [[name, "string"] for name in STRING_COLUMNS]
    return {"fields": fields}


class BinaryColumn:
    """A column of byte strings read back from notes: the values end to end in ``data``,
    value ``i`` at ``data[offsets[i]:offsets[i + 1]]`` (``offsets``: int64s, from 0)."""

    __slots__ = ("data", "offsets")

    def __init__(self, data: bytes, offsets: Any) -> None:
        self.data = data
        self.offsets = offsets

    @classmethod
    def from_values(cls, values: list[bytes]) -> BinaryColumn:
        return cls(b"".join(values), array("q", itertools.accumulate(map(len, values), initial=0)))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def to_pylist(self, limit: int | None = None) -> list[bytes]:
        """The values (the first ``limit`` of them), as ``pyarrow.Array.to_pylist`` gives a
        binary array's."""
        data = self.data
        count = len(self.offsets) - 1 if limit is None else min(limit, len(self.offsets) - 1)
        ends = self.offsets[: count + 1].tolist()
        return [data[a:b] for a, b in itertools.pairwise(ends)]

    def arrow(self) -> Any:
        """The values as an Arrow binary array."""
        return column_array(self.data, self.offsets)


class Notes:
    """A shard's committed notes, read back: ``info`` (the header), ``columns`` (each a
    :class:`BinaryColumn` of JSON texts)."""

    def __init__(self, info: dict[str, Any], columns: dict[str, BinaryColumn]) -> None:
        self.info = info
        self.columns = columns

    @property
    def rows(self) -> int:
        return int(self.info["rows"])

    @property
    def ids(self) -> BinaryColumn:
        """The ids as JSON texts."""
        return self.columns["id"]

    def schema(self) -> Any:
        """The shard's schema: a list of ``[name, type]`` (:mod:`tamis.io.jsontypes`) or an
        Arrow schema, or None where the note has none (Parquet: read the footer; JSON lines
        whose metadata no type covers: read the shard to say why)."""
        if self.info.get("fields") is not None:
            return self.info["fields"]
        encoded = self.info.get("schema")
        if encoded is None:
            return None
        import pyarrow as pa

        return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(encoded)))

    def metadata_objects(self, limit: int | None = None, only: tuple[bytes, ...] | None = None) -> list[dict[str, Any]] | None:
        """The first ``limit`` records' metadata (each decoded as the report decodes a line's),
        or None where the notes have no metadata column or a value does not decode (then the
        shard itself is read). ``only``: see :func:`decode_metadata_text`."""
        column = self.columns.get("metadata")
        if column is None:
            return None
        out = []
        for raw in column.to_pylist(limit):
            meta = decode_metadata_text(raw, only)
            if meta is None:
                return None
            out.append(meta)
        return out

    def metadata_texts(self) -> list[bytes] | None:
        """Every record's metadata as stored (JSON text), for a reader that decodes only the
        rows it samples (:func:`decode_metadata_text`); None where the notes have no metadata."""
        column = self.columns.get("metadata")
        return None if column is None else column.to_pylist()

    def column_values(self, name: str) -> list[Any]:
        """A JSON-text column decoded to Python values."""
        texts = self.columns[name].to_pylist()
        try:
            return [orjson.loads(v) for v in texts]
        except orjson.JSONDecodeError:  # a value with a lone surrogate, escaped
            return [json_value(v) for v in texts]

    def to_pydict(self) -> dict[str, list[bytes]]:
        """Every column's values, by name (as ``pyarrow.Table.to_pydict`` gives them)."""
        return {name: column.to_pylist() for name, column in self.columns.items()}


def json_value(text: bytes) -> Any:
    """A noted JSON text decoded: by orjson, or where it refuses a lone surrogate (noted
    escaped, as :func:`_json` writes it), by the json module."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        import json

        return json.loads(text)


def decode_metadata_text(raw: bytes | str, only: tuple[bytes, ...] | None = None) -> dict[str, Any] | None:
    """One stored metadata value decoded as the report decodes a line's (None: not JSON).

    ``only``: the keys the caller reads, as JSON strings (``b'"language"'``). A value in which
    none of them appears and no escape could spell one is given as ``{}`` without decoding
    (what the caller would find in it is nothing either way): the report samples tens of
    thousands of metadata values, most of them without any key it reads."""
    if only is not None:
        data = raw.encode() if isinstance(raw, str) else raw
        if b"\\" not in data:  # an escape could spell a key
            for key in only:
                if key in data:
                    break
            else:
                return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(value) is dict:  # the usual case: what decode_metadata gives back unchanged
        return value
    global _decode_metadata
    if _decode_metadata is None:  # imported once (outputs imports this module; an import statement per call cost ~5 % of the report's reading)
        from tamis.io.outputs import decode_metadata

        _decode_metadata = decode_metadata
    return _decode_metadata({"metadata": value})["metadata"]  # type: ignore[no-any-return]


_decode_metadata: Any = None


def read_notes(shard: Path, *, rejects: bool | None = None) -> Notes | None:
    """The notes of ``shard`` if they exist and describe it (same size, same kind), else None."""
    path = notes_path(shard)
    try:
        size = shard.stat().st_size
        with open(path, "rb") as fh:
            if fh.read(len(MAGIC)).startswith(ARROW_MAGIC):
                notes = _read_arrow_notes(path)
            else:
                fh.seek(0)
                notes = _parse_notes(fh.read())
    except OSError:
        return None
    if notes is None:
        return None
    info = notes.info
    if info.get("shard_bytes") != size:
        return None
    if rejects is not None and bool(info.get("rejects")) != rejects:
        return None
    if info.get("rejects") and "reason" not in notes.columns:
        return None
    return notes


def _parse_notes(data: bytes) -> Notes | None:
    """Version 2 notes (see the module's docstring), None where anything does not add up."""
    end = len(data) - len(MAGIC) - _FOOTER.size
    if end < len(MAGIC) or not data.startswith(MAGIC) or not data.endswith(MAGIC):
        return None
    try:
        (header_bytes,) = _FOOTER.unpack_from(data, end)
        info = orjson.loads(data[end - header_bytes : end]) if header_bytes <= end - len(MAGIC) else None
        if not isinstance(info, dict) or info.get("version") != VERSION:
            return None
        if len(MAGIC) + info["body_bytes"] + header_bytes != end:
            return None
        body, rows, at = _inflate(memoryview(data)[len(MAGIC) : end - header_bytes]), int(info["rows"]), 0
        columns = {}
        for name, size in info["columns"]:
            offsets = array("q", body[at : at + 8 * (rows + 1)])
            if sys.byteorder != "little":  # pragma: no cover - big-endian machines
                offsets.byteswap()
            at += 8 * (rows + 1)
            if len(offsets) != rows + 1 or offsets[0] != 0 or offsets[-1] != size:
                return None
            columns[str(name)] = BinaryColumn(body[at : at + size], offsets)
            at += size
    except (KeyError, TypeError, ValueError, zlib.error, struct.error, _InflateError):
        return None
    return Notes(info, columns) if at == len(body) else None


try:  # ISA-L's inflate: the same deflate stream, ~2.4x zlib's speed (the card and the report read every shard's notes)
    from isal.isal_zlib import decompress as _inflate
    from isal.isal_zlib import error as _InflateError
except ImportError:  # pragma: no cover - isal is a dependency
    _inflate, _InflateError = zlib.decompress, zlib.error


def _read_arrow_notes(path: Path) -> Notes | None:
    """Version 1 notes (an Arrow IPC file: runs made before version 2), their columns copied
    into :class:`BinaryColumn` objects."""
    import pyarrow as pa

    try:
        with pa.memory_map(str(path)) as source:
            # Decompressed in this thread: a shard's few columns.
            table = pa.ipc.open_file(source, options=pa.ipc.IpcReadOptions(use_threads=False)).read_all()
        info = orjson.loads((table.schema.metadata or {})[META_KEY])
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None
    if not isinstance(info, dict) or info.get("version") != ARROW_VERSION or table.num_rows != info.get("rows"):
        return None
    columns = {name: BinaryColumn.from_values(table.column(name).to_pylist()) for name in table.column_names}
    return Notes(info, columns)
