"""The compiled word statistics (tamis/_native/words.c: n-grams, word-class totals) against the plain definitions."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tamis._native._words import word_totals as _word_totals_native

from tamis.steps.quality.gopher import word_counts, word_counts_reference, word_totals, word_totals_reference
from tamis.steps.quality.ngrams import duplicate_ngram_chars_reference, ngram_stats, top_ngram_chars_reference
from tamis.steps.quality.ngrams_numpy import ngram_stats_numpy
from tamis.steps.quality.words import split_words

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
    # the str hash read where the object keeps one (hashed before) and computed where not, the
    # characters compared for equal hashes: one word whatever mix, in every kind of str
    for text in ("abc", "é" * 3, "日本", "\U0001f600x"):
        words = ["".join([text, ""]) + "" for _ in range(8)]
        words = [w if i % 3 else w[:0] + text[:1] + text[1:] for i, w in enumerate(words)]
        for word in words[::2]:
            hash(word)
        assert ngram_stats(words, [2], [5]) == ([(len(text) * 2 + 1) * 7], [len(text) * 5])


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(TypeError):
        ngram_stats(["a", 3], [2], [])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="n must be"):
        ngram_stats(["a"], [0], [])


# Words from every kind of character the classes tell apart: letters (Latin, CJK, a combining
# accent, a letter-like number), digits, ASCII and Unicode punctuation, symbols, controls, a
# surrogate and an unassigned code point.
_CHARS = "aZé日ⅫÑ\u0301٣1.-#…’«\u00a0\x00\u200b\ud800\U0001F600\U000E0001\uffff_~$"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=_CHARS, max_size=6), max_size=40))
def test_compiled_word_totals_match_the_reference(words: list[str]) -> None:
    assert word_totals(words) == word_totals_reference(words)


_STOP_LISTS = [frozenset(), frozenset({"the", "of", "and", "to"}), frozenset({"l'", "d'", "le", "de", "la"}),
               frozenset({"日", "é", "ab", "\U0001F600x", "'"}), frozenset(f"w{k}" for k in range(70)),
               frozenset({"it’s", "of"}), frozenset({"", "a"}), frozenset({"the", "them", "ŧhe", "\u0174he"})]
# over 64 words, one holding U+2019, an empty one: the reference counts them; first characters equal modulo 64


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["the", "of", "and", "l'", "l’", "d’", "le", "’", "'", "日", "é", "ab", "\U0001F600x", "x",
                                 "w3", "w69", "it’s", "it's", "a’b", "the’", "Of", "de", "", "a", "them", "ŧhe", "\u0174he", "\u0134he"]), max_size=30),
       st.sampled_from(_STOP_LISTS), st.booleans())
def test_compiled_word_counts_match_the_reference(words: list[str], stop_words: frozenset[str], apostrophe: bool) -> None:
    # The stop words found in the totals' pass: equal words of one-, two- and four-byte strings,
    # U+2019 read as an apostrophe only where the text holds one, lists the compiled count
    # cannot take.
    assert word_counts(words, stop_words, apostrophe) == word_counts_reference(words, stop_words, apostrophe)


def test_word_totals_refuses_stop_words_it_cannot_compare() -> None:
    with pytest.raises(ValueError, match="stop words"):
        _word_totals_native(["a"], lambda char: 2, ("it’s",), True)
    with pytest.raises(ValueError, match="64 stop words"):
        _word_totals_native(["a"], lambda char: 2, tuple(f"w{k}" for k in range(65)), True)
    assert _word_totals_native(["a", "b", "a"], lambda char: 2, ("a", "c"), False) == (3, 3, 3, 1)


def test_compiled_word_totals_match_the_reference_on_real_words() -> None:
    english_and_french = Path(__file__).with_name("quality_docs.py").read_text(encoding="utf-8")
    others = {
        "zh": "市政府星期二宣布，将在明年春天开始修复老城区的石桥。这座桥建于一百多年前！",
        "ru": "Мост через реку закроют на ремонт в понедельник — на два года (по данным мэрии).",
        "ar": "أعلنت البلدية يوم الثلاثاء أنها ستبدأ ترميم الجسر القديم في الربيع المقبل.",
        "hi": "पिछले साल की बात है: नगर निगम ने पुल की मरम्मत की घोषणा की।",
    }
    for language, text in [("en", english_and_french), ("fr", english_and_french), *others.items()]:
        words = split_words(text, language)
        assert words and word_totals(words) == word_totals_reference(words)


def test_word_totals_asks_a_new_char_class_afresh() -> None:
    words = ["ab", "..", "日"]
    assert word_totals(words) == (2, 3, 2)
    assert _word_totals_native(words, lambda char: 3) == (0, 0, 3)  # every character a symbol and a letter
    assert word_totals(words) == (2, 3, 2)
    with pytest.raises(TypeError):
        word_totals(["a", 3])  # type: ignore[list-item]


def test_duplicate_scans_skip_only_ngrams_that_occur_once() -> None:
    # The scans pass over positions whose n-gram occurs once, counted at the smallest duplicate n
    # whatever the order the sizes come in; repeats at the edges and overlapping repeats still count.
    rng = random.Random(11)
    for _ in range(60):
        words = [rng.choice("abcdef") for _ in range(rng.randrange(0, 40))]
        for dup in ([7, 5, 10], [1, 3], [2], [6, 6], [12]):
            top = [3, dup[0]]
            expected = [top_ngram_chars_reference(words, n) for n in top], [duplicate_ngram_chars_reference(words, n) for n in dup]
            assert ngram_stats(words, top, dup) == expected, (words, dup)


def test_counts_pass_over_ngrams_holding_a_unique_one_at_any_sizes() -> None:
    # The counts go n by n, passing over n-grams that hold an (n-1)-gram seen once: whatever sizes
    # are asked (one-grams, gaps, top sizes past the duplicate ones, repeats, all words unique or
    # all equal), the answers are the references'.
    rng = random.Random(29)
    for _ in range(300):
        alphabet = rng.choice(["ab", "abc", "abcdefgh", "abcdefghijklmnopqrstuvwxyz"])
        words = [rng.choice(alphabet) * rng.randint(1, 2) for _ in range(rng.randrange(0, 60))]
        if rng.random() < 0.3:
            words = words[: rng.randint(1, 9)] * rng.randint(2, 5) + words
        top = rng.sample(range(1, 13), rng.randint(0, 4))
        dup = rng.sample(range(1, 13), rng.randint(0, 4))
        expected = [top_ngram_chars_reference(words, n) for n in top], [duplicate_ngram_chars_reference(words, n) for n in dup]
        assert ngram_stats(words, top, dup) == expected, (words, top, dup)



def test_documents_larger_than_the_kept_tables_and_a_call_from_inside_a_hash_match_the_reference() -> None:
    # ngram_stats keeps its word and n-gram tables from call to call for documents up to 16,384
    # words (words.c: POOL_SLOTS), each call leaving them free: documents on either side of that
    # size, one after the other, and a call made while the tables are in use (from a str
    # subclass's __hash__) must each give the reference's answers.
    rng = random.Random(5)

    def check(words: list[str]) -> None:
        expected = [top_ngram_chars_reference(words, n) for n in TOP], [duplicate_ngram_chars_reference(words, n) for n in DUP]
        assert ngram_stats(words, TOP, DUP) == expected

    for size in (16_384, 16_385, 40_000, 3, 16_000, 0, 500):
        words = [rng.choice("abcdefghij") * rng.randint(1, 3) for _ in range(size)]
        check(words + words[: size // 3])

    # The inner document holds "x" where the outer one first had it (index 6), and has a table of
    # the same size (39 and 42 words): a table shared while in use would give it the outer
    # document's id for "x".
    inner_words = ["q", "r", "s", "t", "u", "v", "x", "x", "u", "x", "q", "r", "s", "t"] * 3
    inner: list[tuple[list[int], list[int]]] = []

    class Calling(str):
        def __hash__(self) -> int:
            if not inner:
                inner.append(ngram_stats(inner_words, TOP, [2, *DUP]))
            return str.__hash__(self)

        def __eq__(self, other: object) -> bool:
            return str.__eq__(self, other)

    words = ["the", "cat", "the", "cat", "sat", "on", "x", Calling("y"), "the", "cat", "sat", "on", "y"] * 3
    found = ngram_stats(words, TOP, DUP)  # first: the references hash the words too
    assert inner
    assert found == ([top_ngram_chars_reference(words, n) for n in TOP], [duplicate_ngram_chars_reference(words, n) for n in DUP])
    assert inner == [([top_ngram_chars_reference(inner_words, n) for n in TOP],
                      [duplicate_ngram_chars_reference(inner_words, n) for n in [2, *DUP]])]
    check(inner_words)

_LINE_PIECES = ["-", "•", "...", "…", "..", ".", "#", " ", "\t", "\u3000", "\x1c", "\x85", "\u2028", "a", "é", "\U0001f600", "\n", "\r", "\r\n"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_LINE_PIECES), max_size=30))
def test_compiled_line_marks_match_the_reference(pieces: list[str]) -> None:
    # Lines, bullet lines and ellipsis lines as split_lines, lstrip and rstrip define them: every
    # line end (a final one, \r\n, a lone \r), whitespace that is no line end (\x1c, U+0085,
    # U+2028), and one-, two- and four-byte strings.
    from tamis._native._words import line_marks

    from tamis.steps.quality.gopher import line_marks_reference

    text = "".join(pieces)
    assert line_marks(text) == line_marks_reference(text)


_PARAGRAPH_PIECES = ["a", "b", "é", "\U0001f600", " ", "\t", "\xa0", "\u3000", "\n", "\n\n", "\n\n\n", "ab cd", "abcdefgh", "abcdefghijklmnopq"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PARAGRAPH_PIECES), max_size=30))
def test_compiled_repeat_counts_match_the_reference(pieces: list[str]) -> None:
    # Paragraphs (runs of two or more "\n" of the stripped text) and non-empty lines, their
    # repeats and the repeats' characters, on one-, two- and four-byte strings.
    from tamis._native._words import repeat_counts

    from tamis.steps.quality.gopher import repeat_counts_reference

    text = "".join(pieces)
    assert repeat_counts(text) == repeat_counts_reference(text)


def test_compiled_line_marks_count_symbols_of_long_texts() -> None:
    # The one-byte '#' count reads sixteen characters a step and sums its counters every 4,080:
    # long texts, '#' and runs of periods at every place, one-, two- and four-byte strings.
    from tamis._native._words import line_marks

    from tamis.steps.quality.gopher import line_marks_reference

    rng = random.Random(11)
    for extra in ("", "é", "…", "\U0001f600"):
        for _ in range(4):
            text = "".join(rng.choice(["#", ".", "..", "....", "a", " ", "\n", "- ", "ab#"]) for _ in range(rng.randint(2000, 9000))) + extra
            assert line_marks(text) == line_marks_reference(text)
