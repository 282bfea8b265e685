"""The compiled n-gram statistics (tamis/_native/words.c) against the plain definitions."""

from __future__ import annotations

import random

import pytest

from tamis.steps.quality.ngrams import duplicate_ngram_chars_reference, ngram_stats, ngram_stats_numpy, top_ngram_chars_reference

TOP, DUP = [2, 3, 4], [5, 6, 7, 8, 9, 10]


def _words(rng: random.Random) -> list[str]:
    vocabulary = ["".join(rng.choice("abé日-’") for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 9))]
    words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 80))]
    if rng.random() < 0.4:  # a block repeated: overlapping and jumping repeats
        words = words[:7] * rng.randint(1, 6) + words
    return words


@pytest.mark.parametrize("seed", range(40))
def test_compiled_ngram_stats_match_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        words = _words(rng)
        expected = [top_ngram_chars_reference(words, n) for n in TOP], [duplicate_ngram_chars_reference(words, n) for n in DUP]
        assert ngram_stats(words, TOP, DUP) == expected, words
        assert ngram_stats_numpy(words, TOP, DUP) == expected, words


def test_ties_go_to_the_first_seen_and_short_documents_count_nothing() -> None:
    words = ["aa", "b", "c", "dddd", "aa", "b", "c", "dddd"]
    assert ngram_stats(words, [2], []) == ([len("aa b") * 2], [])
    assert ngram_stats(["a", "b"], [3, 2], [5]) == ([0, len("a b")], [0])
    assert ngram_stats([], TOP, DUP) == ([0, 0, 0], [0] * 6)


def test_equal_strings_that_are_different_objects_are_one_word() -> None:
    words = ["".join(["ab", "c"]) for _ in range(6)]  # six distinct str objects, one word
    assert ngram_stats(words, [2], [5]) == ([len("abc abc") * 5], [0 + len("abc") * 5])


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(TypeError):
        ngram_stats(["a", 3], [2], [])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="n must be"):
        ngram_stats(["a"], [0], [])
