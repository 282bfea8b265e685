"""Plain-Python twin of the compiled hot path (tamis/_native/minhash.c).

Slow (a few hundred documents per second) and kept for two reasons: the tests check that the C
extension gives bit-identical results, and it documents the definitions in readable form. It
is also the fallback when the extension could not be built.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

MASK64 = (1 << 64) - 1
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
GOLDEN = 0x9E3779B97F4A7C15
BAND_MULT = 0xFF51AFD7ED558CCD
WORD = re.compile(r"\w+")


def mix64(z: int) -> int:
    """splitmix64's finaliser."""
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & MASK64
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def rotl64(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & MASK64


def fold(ch: str) -> int:
    """The code point, with ASCII A-Z folded to a-z (the C side does this so that ASCII text can
    skip the Python casefold; on casefolded text it changes nothing)."""
    c = ord(ch)
    return c + 32 if 65 <= c <= 90 else c


def word_hash(word: str) -> int:
    h = FNV_OFFSET
    for ch in word:
        h = ((h ^ fold(ch)) * FNV_PRIME) & MASK64
    return mix64(h)


def text_units(text: str, char_mode: bool) -> list[int]:
    """Hashes of the words of ``text`` (already NFC + casefolded), or of the code points of the
    words joined by single spaces in char mode."""
    words = WORD.findall(text)
    if not char_mode:
        return [word_hash(w) for w in words]
    joined = " ".join(words)
    return [mix64(FNV_OFFSET ^ fold(ch)) for ch in joined]


MAX_NGRAM = 64
POSITION = [mix64((GOLDEN * (k + 1)) & MASK64) | 1 for k in range(MAX_NGRAM)]


def combine(units: Sequence[int]) -> int:
    """Shingle id: each unit times an odd constant of its position, xor-ed, then mixed."""
    h = GOLDEN ^ len(units)
    for k, u in enumerate(units):
        h ^= (u * POSITION[k]) & MASK64
    return mix64(h)


def shingle_ids(text: str, ngram: int, char_mode: bool = False) -> list[int]:
    """64-bit ids of the shingles of ``text`` in order (a text shorter than ``ngram`` units is
    one shingle; a text without words has none)."""
    units = text_units(text, char_mode)
    if not units:
        return []
    if len(units) < ngram:
        return [combine(units)]
    return [combine(units[s : s + ngram]) for s in range(len(units) - ngram + 1)]


def fingerprints(text: str, ngram: int, char_mode: bool = False) -> list[int]:
    """The document's shingle set: high 32 bits of each shingle id, sorted, without repeats."""
    return sorted({s >> 32 for s in shingle_ids(text, ngram, char_mode)})


def band_key(mins: Sequence[int]) -> int:
    h = GOLDEN
    for v in mins:
        h = (rotl64(h ^ v, 29) * BAND_MULT) & MASK64
    return mix64(h)


def sketch(texts: Sequence[str], ngram: int, char_mode: int, a: bytes, b: bytes, bands: int, rows: int) -> tuple[bytes, bytes, bytes]:
    """Same contract as the C ``sketch`` (char_mode 0: words, 1: characters, 2: words with each
    character of an unspaced script a unit; plus 4: texts are casefolded first; plus 8, with
    mode 2: the per-document rule, :func:`tamis.dedup.shingles.spread_mostly_unspaced` on the
    text as given, before folding)."""
    perms = bands * rows
    a_vals = np.frombuffer(a, dtype="<u4")[:perms].tolist()
    b_vals = np.frombuffer(b, dtype="<u4")[:perms].tolist()
    keys: list[int] = []
    counts: list[int] = []
    fps: list[int] = []
    if char_mode & 8:  # a document written mostly in an unspaced script: every word character a unit
        from tamis.dedup.shingles import spread_mostly_unspaced

        texts = [spread_mostly_unspaced(t) for t in texts]
        char_mode &= ~8
    if char_mode & 4:  # texts in NFC, folded here
        texts = [t.casefold() for t in texts]
        char_mode &= 3
    if char_mode == 2:  # words, each character of an unspaced script a word of its own
        from tamis.dedup.shingles import shingle_text

        texts = [shingle_text(t) for t in texts]
        char_mode = 0
    for text in texts:
        doc_fps = fingerprints(text, ngram, bool(char_mode))
        counts.append(len(doc_fps))
        fps.extend(doc_fps)
        if not doc_fps:
            keys.extend([0] * bands)
            continue
        mins = [min(((ai * x + bi) & 0xFFFFFFFF) for x in doc_fps) for ai, bi in zip(a_vals, b_vals, strict=True)]
        keys.extend(band_key(mins[j * rows : (j + 1) * rows]) for j in range(bands))
    return (
        np.asarray(keys, dtype="<u8").tobytes(),
        np.asarray(counts, dtype="<u4").tobytes(),
        np.asarray(fps, dtype="<u4").tobytes(),
    )


def set_unspaced(bitmap: bytes, share: float = 0.1) -> None:
    """The C side's table of unspaced code points; the reference reads tamis.dedup.shingles itself."""


def jaccard_pairs(fps: bytes, offsets: bytes, left: bytes, right: bytes, threshold: float = 0.0, known_sets: bool = False) -> bytes:
    """Exact Jaccard per pair. (The C version may stop early below ``threshold`` and return an
    upper bound under it instead; both agree on which pairs reach it.)"""
    values = np.frombuffer(fps, dtype="<u4")
    off = np.frombuffer(offsets, dtype="<i8")
    sets = [set(values[off[k] : off[k + 1]].tolist()) for k in range(len(off) - 1)]
    out = []
    for i, j in zip(np.frombuffer(left, dtype="<i8").tolist(), np.frombuffer(right, dtype="<i8").tolist(), strict=True):
        union = len(sets[i] | sets[j])
        out.append(len(sets[i] & sets[j]) / union if union else 0.0)
    return np.asarray(out, dtype="<f8").tobytes()


def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = int(parent[x])
    return x


def union_edges(parent: np.ndarray, edges: bytes) -> None:
    pairs = np.frombuffer(edges, dtype="<u4").reshape(-1, 2).tolist()

    def find(x: int) -> int:
        return _find(parent, x)

    for u, v in pairs:
        ru, rv = find(u), find(v)
        if ru < rv:
            parent[rv] = ru
        elif rv < ru:
            parent[ru] = rv


def flatten(parent: np.ndarray) -> None:
    for i in range(len(parent)):
        parent[i] = parent[parent[i]]
