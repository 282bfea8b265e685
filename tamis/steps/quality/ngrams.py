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

The numpy versions (:mod:`tamis.steps.quality.ngrams_numpy`, imported only where they run, so
that no run pays numpy's import for a fallback it does not use) hash each n-gram to one 64-bit
integer (a polynomial over per-document word ids, built n-gram size by n-gram size with numpy)
and count with a sort. Two different n-grams may in theory share a hash (about one chance in
10^9 for a 100,000-word document). Most documents repeat no 5-gram at all, which one pass
proves, and then no longer n-gram repeats either; for the others the sequential scan visits only
the positions of n-grams that occur more than once. The ``*_reference`` functions are the plain
definitions, kept to test the fast ones against.
"""

from __future__ import annotations

from collections import Counter


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
        from tamis.steps.quality.ngrams_numpy import ngram_stats_numpy

        return ngram_stats_numpy(words, top_ns, dup_ns)
    return _ngram_stats_native(words, top_ns, dup_ns)
