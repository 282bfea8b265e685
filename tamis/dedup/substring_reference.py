"""Plain-Python twins of ``tamis/_native/substring.c`` (the tests compare the two).

Slow and obvious on purpose: each function states what its compiled twin computes.
"""

from __future__ import annotations

from collections.abc import Sequence

from tamis.dedup.reference import MASK64, mix64  # splitmix64's finaliser, as minhash's twin has it

SEPARATOR = 0xFF
HASH_BASE = 0x100000001B3
INVALID = MASK64


def qgram_hash(text: bytes, pos: int, q: int) -> int:
    """The anchor hash of ``text[pos:pos + q]``; INVALID when it holds a separator."""
    gram = text[pos : pos + q]
    if SEPARATOR in gram:
        return INVALID
    h = 0
    for byte in gram:
        h = (h * HASH_BASE + byte) & MASK64
    value = mix64(h)
    return INVALID - 1 if value == INVALID else value


def winnow(text: bytes, q: int, w: int) -> tuple[list[int], list[int]]:
    """For each window of ``w`` q-grams, the rightmost smallest hash; each position once."""
    nq = len(text) - q + 1
    hashes = [qgram_hash(text, i, q) for i in range(max(nq, 0))]
    out_h: list[int] = []
    out_p: list[int] = []
    last = -1
    for end in range(w - 1, nq):
        window = hashes[end - w + 1 : end + 1]
        best = min(window)
        pos = end - w + 1 + max(i for i, h in enumerate(window) if h == best)
        if best != INVALID and pos != last:
            out_h.append(best)
            out_p.append(pos)
            last = pos
    return out_h, out_p


def mark_groups(text: bytes, k: int, boundary: int = -1) -> bytearray:
    """flags[p] = 2 at the first occurrence of each k-gram that occurs more than once (and holds
    no separator), 1 at its later occurrences, 0 elsewhere; with a boundary, | 4 at a first
    occurrence before it of a k-gram that also occurs at or after it."""
    flags = bytearray(len(text))
    seen: dict[bytes, int] = {}
    for p in range(len(text) - k + 1):
        gram = text[p : p + k]
        if SEPARATOR in gram:
            continue
        first = seen.setdefault(gram, p)
        if first != p:
            flags[p] |= 1
            flags[first] |= 2
            if 0 <= first < boundary <= p:
                flags[first] |= 4
    return flags


def cover(flags: Sequence[int], k: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """Merged ranges [p, p + k) of the positions p in [lo, hi) with flags & 1."""
    out: list[tuple[int, int]] = []
    for p in range(lo, hi):
        if not flags[p] & 1:
            continue
        if out and p <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], p + k))
        else:
            out.append((p, p + k))
    return out


def group_bounds(text: bytes, sa: Sequence[int], pos: int, k: int) -> tuple[int, int]:
    """The suffix-array rows whose first k bytes equal ``text[pos:pos + k]``."""
    key = text[pos : pos + k]
    rows = [i for i, p in enumerate(sa) if text[p : p + k] == key]
    return (rows[0], rows[-1] + 1) if rows else (0, 0)


def flagged_ranges(flags: Sequence[int], mask: int, want: int, starts: Sequence[int], ends: Sequence[int]) -> list[int]:
    return [i for i, (s, e) in enumerate(zip(starts, ends, strict=True)) if any((flags[p] & mask) == want for p in range(s, e))]


def first_flagged(flags: Sequence[int], bit: int, starts: Sequence[int], ends: Sequence[int]) -> list[int]:
    out = []
    for s, e in zip(starts, ends, strict=True):
        out.append(next((p for p in range(s, e) if flags[p] & bit), -1))
    return out
