"""The compiled text primitives agree with their plain-Python references."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tamis import text
from tamis.text import _count_words_reference, _normalized_utf8_reference, _utf8_length_reference, count_words, normalized_utf8, utf8_length

SAMPLES = [
    "",
    "   ",
    "Hello  World",
    "L’armée\u00a0française : c’est\u202fvrai !",
    "Straße ΣΊΣΥΦΟΣ ǅemal ﬁn",  # full case folding: ß → ss, final sigma, ligatures
    "e\u0301cole  \t\r\n  \u2028 tab\u3000ideographic\u0085next",
    "lone \ud800 surrogate",
    "`back` and \u00b4acute\u00b4 and \uff07fullwidth\uff07",
    "\x1c\x1d\x1e\x1f separators",
    "emoji 🎉 and CJK 中文字",
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_native_matches_reference_on_hand_picked_text(sample: str):
    assert normalized_utf8(sample) == _normalized_utf8_reference(sample)
    assert count_words(sample) == _count_words_reference(sample)
    assert utf8_length(sample) == _utf8_length_reference(sample)


def test_native_matches_reference_on_random_unicode():
    rng = random.Random(3)
    # Latin, Greek, Cyrillic, Cherokee (folds to upper case), Latin Extended Additional (ẞ),
    # ligatures (fold to several letters), and the spaces and apostrophes tamis folds.
    ranges = [(0x20, 0x250), (0x370, 0x530), (0x13A0, 0x13F6), (0x1E00, 0x1F00), (0xFB00, 0xFB07)]
    alphabet = [chr(c) for lo, hi in ranges for c in range(lo, hi)]
    alphabet += [" ", "\t", "\n", "\u00a0", "\u2019", "\u202f", "\u0301", "ß", "İ", "ŉ", "\u3000", "\U0001d400", "\U00010400"]
    # ignorable characters (dropped), CJK, and the separators str.split() sees as spaces
    alphabet += ["\u200b", "\u200d", "\u2060", "\ufeff", "\u061c", "\u180e", "\u202a", "\u2066", "中", "文", "\x1c", "\x85", "\u2028", "\uff07", "\uff21"]
    for _ in range(5000):
        sample = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert normalized_utf8(sample) == _normalized_utf8_reference(sample), repr(sample)
        assert count_words(sample) == _count_words_reference(sample), repr(sample)
        assert utf8_length(sample) == _utf8_length_reference(sample), repr(sample)


def test_one_byte_strings_take_the_table_path_and_still_match():
    # Only code points below 256: CPython stores these strings one byte per character, the
    # case the compiled code handles with precomputed tables (ß → ss, µ → μ, ´ → ').
    rng = random.Random(5)
    alphabet = [chr(c) for c in range(256)]
    for _ in range(3000):
        sample = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        assert normalized_utf8(sample) == _normalized_utf8_reference(sample), repr(sample)
        assert count_words(sample) == _count_words_reference(sample), repr(sample)


def test_ascii_text_with_runs_of_spaces_matches():
    # the one-byte loop writes without branching: runs of every kind of ASCII space, at the
    # ends too, and letters folded (or not) around them
    rng = random.Random(6)
    alphabet = ["a", "B", "z", "`", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "ß", "\xa0", "\x85", "µ", "é"]
    for _ in range(4000):
        sample = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert normalized_utf8(sample) == _normalized_utf8_reference(sample), repr(sample)
        assert text._fold_spaces_utf8(sample.casefold()) == _normalized_utf8_reference(sample), repr(sample)  # folded in Python


def test_the_compiled_module_is_in_use():
    assert text.normalized_utf8 is not text._normalized_utf8_reference


def test_two_byte_strings_of_any_length_match():
    """The branch-free two-byte loop folds into a buffer kept between calls (grown, and dropped
    after a text too long to keep): short, long and very long texts, in any order."""
    rng = random.Random(8)
    words = ["Ωmega", "straße", "ǅemal", "L’armée", "中文字", "\u200bzero", "x", "\u00a0", "İ", "ﬁn", "e\u0301"]
    seps = [" ", "  ", "\n", "\u3000", "\t", "", "\u2028"]
    samples = ["".join(rng.choice(words) + rng.choice(seps) for _ in range(n)) for n in (3, 40_000, 3, 400_000, 10)]
    for sample in samples:
        assert normalized_utf8(sample) == _normalized_utf8_reference(sample)


def test_count_words_reads_every_one_byte_character_in_its_wide_steps():
    # The one-byte count reads sixteen characters a step: every code point below 256, at every
    # place in a step and across steps, beside letters and beside spaces.
    for code in range(256):
        for place in range(0, 34):
            for filler in ("x", " "):
                sample = filler * place + chr(code) + filler * (40 - place)
                assert count_words(sample) == _count_words_reference(sample), (code, place, filler)


_PLAIN_BLOCK_PIECES = ["word", "Word", "WORDS", "x", "Z", "a-b", "(c)", "@~", "{}", "`", " ", "  ", " \t", "\t", "\n", "\x0b", "\x1c", "\x7f",
                       "é", "É", "ß", "\xa0", "\x85", "’", "Ω", "中", "\u200b", "\u2028"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PLAIN_BLOCK_PIECES), max_size=40), st.sampled_from(["", "’", "\u0100"]), st.integers(0, 20))
def test_sixteen_character_plain_blocks_fold_as_the_reference(pieces, widen, pad):
    # One- and two-byte strings take printable ASCII with single spaces sixteen characters a
    # step (no space pending, no space last, none first before anything was written): blocks
    # of every makeup, at every offset (pad), beside spaces, controls, DEL and non-ASCII, with
    # and without case folding, and in the repair's line keys.
    sample = "y" * pad + "".join(pieces) + widen
    assert normalized_utf8(sample) == _normalized_utf8_reference(sample), repr(sample)
    assert text._fold_spaces_utf8(sample.casefold()) == _normalized_utf8_reference(sample), repr(sample)
    if sample.isascii() and "`" not in sample:  # case kept: only the spaces change
        assert text._fold_spaces_utf8(sample) == " ".join(sample.split()).encode(), repr(sample)
