"""Splitting a binary stream into ``\\n``-terminated lines in linear time.

A single 50 MB line arrives in many blocks; gluing ``pending + block`` at every block would
copy it over and over (quadratic). Blocks are collected until a newline shows up instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

BLOCK = 1 << 20


class StreamBroken(Exception):
    """The stream failed mid-way; ``fragment`` is the incomplete line read before the failure."""

    def __init__(self, cause: BaseException, fragment: bytes) -> None:
        super().__init__(str(cause) or type(cause).__name__)
        self.fragment = fragment


def iter_stream_lines(fh: Any, block_size: int = BLOCK) -> Iterator[bytes]:
    """Lines without their ``\\n``. ``read1`` is used where the stream has it, so data
    decompressed before a truncation is handed over before the error."""
    read = getattr(fh, "read1", fh.read)
    parts: list[bytes] = []
    while True:
        try:
            block = read(block_size)
        except Exception as exc:
            raise StreamBroken(exc, b"".join(parts)) from exc
        if not block:
            break
        if b"\n" not in block:
            parts.append(block)
            continue
        lines = block.split(b"\n")
        if parts:
            parts.append(lines[0])
            lines[0] = b"".join(parts)
            parts = []
        tail = lines.pop()
        yield from lines
        if tail:
            parts.append(tail)
    if parts:
        yield b"".join(parts)
