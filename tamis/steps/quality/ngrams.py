"""Word n-gram repetition measures of Gopher (Rae et al. 2021, Table A1), two ways.

What the filter calls is :func:`ngram_stats` (every n of one document in one call), compiled in
``tamis/_native/words.c`` with exact word ids and exact n-gram comparison; the numpy functions
below are its fallback where the extension is not built, and the ``*_reference`` functions the
plain definitions both are tested against.

- :func:`top_ngram_chars`: the characters covered by the most frequent n-gram, counted as
  (its length with one space between words) × (its count); among equally frequent n-grams,
  the one seen first (as the reference implementation's ``Counter.most_common`` picks).
- :func:`duplicate_ngram_chars`: a left-to-right scan; an n-gram already seen adds its
  characters (words joined without spaces) and the scan jumps past it, so overlapping
  repeats are not counted twice.

The numpy versions hash each n-gram to one 64-bit integer (a polynomial over per-document
word ids, built n-gram size by n-gram size with numpy) and count with a sort. Two different
n-grams may in theory share a hash (about one chance in 10^9 for a 100,000-word document).
Most documents repeat no 5-gram at all, which one pass proves, and then no longer n-gram
repeats either; for the others the sequential scan visits only the positions of n-grams that
occur more than once. The ``*_reference``
functions are the plain definitions, kept to test the fast ones against.
"""

from __future__ import annotations

from collections import Counter

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


def top_ngram_chars_reference(words: list[str], n: int) -> int:
    ngrams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not ngrams:
        return 0
    gram, count = Counter(ngrams).most_common(1)[0]
    return len(gram) * count


def duplicate_ngram_chars_reference(words: list[str], n: int) -> int:
    seen: set[tuple[str, ...]] = set()
    repeated = 0
    idx = 0
    while idx < len(words) - n + 1:
        gram = tuple(words[idx : idx + n])
        if gram in seen:
            repeated += sum(map(len, gram))
            idx += n
        else:
            seen.add(gram)
            idx += 1
    return repeated


def ngram_stats_numpy(words: list[str], top_ns: list[int], dup_ns: list[int]) -> tuple[list[int], list[int]]:
    """The numpy version of :func:`ngram_stats` (used where the extension is not built)."""
    index = NgramIndex(words)
    return [top_ngram_chars(index, n) for n in top_ns], [duplicate_ngram_chars(index, n) for n in dup_ns]


try:
    from tamis._native._words import ngram_stats as _ngram_stats_native
except ImportError:  # pragma: no cover - the extension is built on install; this keeps a broken build usable
    _ngram_stats_native = None


def ngram_stats(words: list[str], top_ns: list[int], dup_ns: list[int]) -> tuple[list[int], list[int]]:
    """(top n-gram characters for each n of ``top_ns``, duplicate n-gram characters for each n of
    ``dup_ns``): Gopher's n-gram measures of one document, in one call. Compiled
    (``tamis/_native/words.c``: exact word ids, exact n-gram comparison, one linear pass per n);
    tests compare it with the ``*_reference`` definitions above."""
    if _ngram_stats_native is None:
        return ngram_stats_numpy(words, top_ns, dup_ns)
    return _ngram_stats_native(words, top_ns, dup_ns)
