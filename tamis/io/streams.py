"""Splitting a binary stream into ``\\n``-terminated lines in linear time.

A single 50 MB line arrives in many blocks; gluing ``pending + block`` at every block would
copy it over and over (quadratic). Blocks are collected until a newline shows up instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

BLOCK = 1 << 20


class StreamBroken(Exception):
    """The stream failed mid-way; ``fragment`` is the incomplete line read before the failure."""

    def __init__(self, cause: BaseException, fragment: bytes) -> None:
        super().__init__(str(cause) or type(cause).__name__)
        self.fragment = fragment


class Overlong:
    """A line longer than the reader's cap, in place of the line: its first ``head`` bytes and
    its ``length`` (newline excluded). The rest was read past, never held."""

    __slots__ = ("head", "length")

    def __init__(self, head: bytes, length: int) -> None:
        self.head = head
        self.length = length


def iter_stream_lines(fh: Any, block_size: int = BLOCK, max_line: int | None = None, keep: int = 0) -> Iterator[bytes | Overlong]:
    """Lines without their ``\\n``. ``read1`` is used where the stream has it, so data
    decompressed before a truncation is handed over before the error. A line longer than
    ``max_line`` (which must exceed ``block_size``: only a line glued from several reads can) comes
    as an :class:`Overlong` holding its first ``keep`` bytes: memory stays bounded by the cap, not
    by the line (a 4 MB gzip file may hold one 1 GB line)."""
    read = getattr(fh, "read1", fh.read)
    parts: list[bytes] = []
    size = 0  # of the line in progress
    head: bytes | None = None  # set while reading past an overlong line
    while True:
        try:
            block = read(block_size)
        except Exception as exc:
            raise StreamBroken(exc, head if head is not None else b"".join(parts)) from exc
        if not block:
            break
        if b"\n" not in block:
            size += len(block)
            if head is None:
                parts.append(block)
                if max_line is not None and size > max_line:
                    head, parts = b"".join(parts)[:keep], []
            continue
        lines = block.split(b"\n")
        first = lines[0]
        if head is not None:
            yield Overlong(head, size + len(first))
            head = None
        else:
            if parts:
                parts.append(first)
                first = b"".join(parts)
                parts = []
            yield first if max_line is None or len(first) <= max_line else Overlong(first[:keep], len(first))
        tail = lines.pop()
        yield from itertools.islice(lines, 1, None)  # within one read: never over the cap
        size = len(tail)
        if tail:
            parts.append(tail)
    if head is not None:
        yield Overlong(head, size)
    elif parts:
        line = b"".join(parts)
        yield line if max_line is None or len(line) <= max_line else Overlong(line[:keep], len(line))


class ZstdFrames:
    """A ``.zst`` stream read frame after frame, that says when the last frame is cut short.

    ``zstandard``'s stream reader returns end-of-file at the cut of a truncated frame, so the
    records after it would be lost without a word; here a frame that has begun and not ended
    when the input runs out raises ``EOFError`` (a :class:`StreamBroken` to the line splitter,
    hence ``reader:truncated`` as for gzip). Input is fed in small blocks so one block's output
    stays bounded.
    """

    INPUT_BLOCK = 1 << 17

    def __init__(self, raw: Any) -> None:
        import zstandard

        self._raw = raw
        self._dctx = zstandard.ZstdDecompressor()
        self._frame: Any = None  # the decompressor of the frame in progress
        self._pending = b""  # input read past the end of the last frame
        self._fed = 0  # compressed bytes given to the frame in progress

    def read(self, size: int = -1) -> bytes:
        """Everything left when ``size`` < 0; otherwise the next decompressed block."""
        if size < 0:
            return b"".join(iter(self.read1, b""))
        return self.read1(size)

    def read1(self, size: int = -1) -> bytes:
        while True:
            block = self._pending or self._raw.read(self.INPUT_BLOCK)
            self._pending = b""
            if not block:
                if self._frame is not None and self._fed:
                    msg = "zstd stream ends inside a frame (the file is truncated)"
                    raise EOFError(msg)
                return b""
            if self._frame is None:
                self._frame = self._dctx.decompressobj()
                self._fed = 0
            self._fed += len(block)
            out = self._frame.decompress(block)
            if self._frame.eof:
                self._pending = self._frame.unused_data
                self._frame = None
            if out:
                return out

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> ZstdFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
