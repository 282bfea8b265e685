"""Gopher's n-gram measures with numpy: the fallback of :func:`tamis.steps.quality.ngrams.ngram_stats`
where the compiled extension is not built (see that module for the definitions and the method).

Its own module so that numpy is imported only where this path runs: a plain ``tamis run`` on
JSONL text otherwise imports numpy for nothing (~0.1 s of every start).
"""

from __future__ import annotations

import numpy as np

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


class NgramIndex:
    """Word ids and cumulative word lengths of one document, for n-gram measures."""

    __slots__ = ("_keys", "_unique", "cumlen", "ids", "n_words")

    def __init__(self, words: list[str]) -> None:
        vocab = {word: i for i, word in enumerate(dict.fromkeys(words))}
        self.ids = np.fromiter(map(vocab.__getitem__, words), dtype=np.uint64, count=len(words))
        self.n_words = len(words)
        self.cumlen = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=len(words)), out=self.cumlen[1:])
        self._keys: dict[int, np.ndarray] = {1: self.ids}
        self._unique: dict[int, bool] = {}

    def keys(self, n: int) -> np.ndarray:
        """One hash per n-gram (position i covers words i .. i+n-1)."""
        keys = self._keys.get(n)
        if keys is None:
            previous = self.keys(n - 1)
            with np.errstate(over="ignore"):
                keys = previous[:-1] * _MULTIPLIER + self.ids[n - 1 :]
            self._keys[n] = keys
        return keys

    def window_chars(self, start: np.ndarray | int, n: int) -> np.ndarray | int:
        return self.cumlen[np.asarray(start) + n] - self.cumlen[start]

    def all_unique(self, n: int) -> bool:
        """Whether no n-gram occurs twice (then no longer n-gram does either)."""
        for m in sorted(self._unique):
            if m <= n and self._unique[m]:
                return True
        keys = self.keys(n)
        unique = len(np.unique(keys)) == len(keys)
        self._unique[n] = unique
        return unique


def top_ngram_chars(index: NgramIndex, n: int) -> int:
    if index.n_words < n:
        return 0
    keys = index.keys(n)
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    top = int(counts.max())
    start = int(first[counts == top].min())
    return (int(index.window_chars(start, n)) + n - 1) * top


def duplicate_ngram_chars(index: NgramIndex, n: int) -> int:
    if index.n_words < n or index.all_unique(n):
        return 0
    _, inverse, counts = np.unique(index.keys(n), return_inverse=True, return_counts=True)
    # Only positions whose n-gram occurs more than once can be "already seen"; the scan steps
    # over the others one by one without effect, so visit only these, in order, and honour
    # the jumps (a position inside a jumped-over repeat is never visited).
    positions = np.flatnonzero(counts[inverse] > 1)
    cumlen = index.cumlen
    chars = (cumlen[positions + n] - cumlen[positions]).tolist()
    seen: set[int] = set()
    repeated = 0
    next_free = 0
    for position, key, length in zip(positions.tolist(), inverse[positions].tolist(), chars, strict=True):
        if position < next_free:
            continue
        if key in seen:
            repeated += length
            next_free = position + n
        else:
            seen.add(key)
    return repeated


def ngram_stats_numpy(words: list[str], top_ns: list[int], dup_ns: list[int]) -> tuple[list[int], list[int]]:
    """The numpy version of :func:`ngram_stats` (used where the extension is not built)."""
    index = NgramIndex(words)
    return [top_ngram_chars(index, n) for n in top_ns], [duplicate_ngram_chars(index, n) for n in dup_ns]
