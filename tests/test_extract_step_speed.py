"""The extract step's fast paths give exactly what their plain references give."""

from __future__ import annotations

import random
import re
import sys
from re import _parser

import numpy as np
import pytest

from tamis.extract import learned
from tamis.extract.learned import Forest
from tamis.steps.extract_html import (
    _CASE_FOLD,
    BOILERPLATE_KEYWORDS,
    BOILERPLATE_LINE_RE,
    drop_boilerplate_lines,
    drop_boilerplate_lines_reference,
)


def _literal_head(alternative) -> str:
    """The literal characters an alternative of the regex starts with."""
    head = []
    for op, value in alternative.data:
        if op is not _parser.LITERAL:
            break
        head.append(chr(value))
    return "".join(head).lower()


def test_every_alternative_of_the_furniture_regex_holds_a_keyword():
    ((op, group),) = _parser.parse(BOILERPLATE_LINE_RE.pattern, BOILERPLATE_LINE_RE.flags).data
    assert op is _parser.SUBPATTERN
    ((branch, (_, alternatives)),) = group[-1].data
    assert branch is _parser.BRANCH and len(alternatives) > 40
    for alternative in alternatives:
        head = _literal_head(alternative)
        assert any(keyword in head for keyword in BOILERPLATE_KEYWORDS), f"no keyword for the alternative starting {head!r}"


def test_case_folding_finds_every_character_the_regex_takes_for_a_keyword_letter():
    every_character = "".join(chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF)
    letters = sorted(set("".join(BOILERPLATE_KEYWORDS)))
    any_letter = "[" + "".join(re.escape(letter) for letter in letters) + "]"
    taken = re.findall(any_letter, every_character, re.IGNORECASE)
    assert len(taken) > len(letters)  # upper-case forms at least
    for same in taken:
        for letter in letters:
            if re.fullmatch(re.escape(letter), same, re.IGNORECASE):
                assert same.translate(_CASE_FOLD).lower() == letter, (letter, same)


_FRAGMENTS = [
    "Share this article", "SHARE ON", "share", "Sign up", "SIGNING UP", "log in", "Login", "LOG  IN", "© 2024",
    "Copyright", "All Rights Reserved", "cookie", "COOKIES", "ſubſcribe", "newſletter", "regİster", "regıster",
    "\u212aommentare", "Thanks for reading", "Thank you", "Mentions LÉGALES", "publicité", "PUBLICITÉ", "related posts",
    "Related stories", "terms of use", "Terms of Service", "read more", "Weiterlesen", "merci", "the", "quick", "fox",
    "İstanbul", "ı", "ſ", "word", "a", "\t", "  ", "é", "ß", "Ω",
]  # fmt: skip


def _random_text(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randrange(0, 12)):
        words = rng.randrange(0, 20)
        lines.append(" ".join(rng.choice(_FRAGMENTS) for _ in range(words)))
    return "\n".join(lines)


def test_drop_boilerplate_lines_matches_its_reference():
    rng = random.Random(715)
    for _ in range(3000):
        text = _random_text(rng)
        assert drop_boilerplate_lines(text) == drop_boilerplate_lines_reference(text), repr(text)
        assert drop_boilerplate_lines(text, 3) == drop_boilerplate_lines_reference(text, 3), repr(text)
    for text in ("", "\n", "\n\n", "cookie", "cookie\n", "\ncookie", "x\ncookie\ncookie\ny", "İ" * 50 + "\nlog in"):
        assert drop_boilerplate_lines(text) == drop_boilerplate_lines_reference(text), repr(text)


def test_drop_boilerplate_lines_is_linear_on_many_hits():
    # A megabyte of keywords on one line (word counting stops at max_words) and on many short lines.
    one_line = "cookie log in " * 80_000
    assert drop_boilerplate_lines(one_line) == (one_line, 0)
    many_lines = "\n".join(["log in"] * 100_000 + ["the article"])
    assert drop_boilerplate_lines(many_lines) == ("the article", 100_000)


# --------------------------------------------------------------------------- the learned model's walk


def _random_forest(rng: np.random.Generator, trees: int, depth: int, width: int) -> Forest:
    """Trees with leaves at every depth (a leaf points to itself), thresholds float32 cannot hold."""
    nodes = 2 ** (depth + 1) - 1
    feature = np.zeros((trees, nodes), dtype=np.int32)
    threshold = np.zeros((trees, nodes))
    left = np.zeros((trees, nodes), dtype=np.int32)
    right = np.zeros((trees, nodes), dtype=np.int32)
    value = np.zeros((trees, nodes))
    for tree in range(trees):
        used = 1

        def grow(node: int, level: int, tree: int = tree) -> None:
            nonlocal used
            value[tree, node] = rng.normal()
            if level == depth or rng.random() < 0.2:
                left[tree, node] = right[tree, node] = node
                feature[tree, node] = rng.integers(width)  # never decides: both ways lead here
                return
            feature[tree, node] = rng.integers(width)
            threshold[tree, node] = rng.choice([rng.normal(), 0.1, 1 / 3, 1e300, -1e300, 0.0, np.float32(0.5)])
            left[tree, node], right[tree, node] = used, used + 1
            used += 2
            grow(int(left[tree, node]), level + 1)
            grow(int(right[tree, node]), level + 1)

        grow(0, 0)
    names = tuple(f"f{i}" for i in range(width))
    return Forest(feature, threshold, left, right, value, 0.25, depth, 0.3, names)


def _hard_rows(rng: np.random.Generator, forest: Forest, count: int) -> np.ndarray:
    """Rows on, just above and just below the thresholds, and NaN, infinities, zeros of both signs."""
    width = len(forest.feature_names)
    with np.errstate(over="ignore"):
        thresholds = forest.threshold.ravel().astype(np.float32)
    rows = rng.normal(size=(count, width)).astype(np.float32)
    picks = rng.choice(thresholds, size=(count, width))
    nudged = np.nextafter(picks, rng.choice(np.array([-np.inf, np.inf], dtype=np.float32), size=(count, width)))
    chosen = rng.integers(0, 4, size=(count, width))
    rows = np.where(chosen == 1, picks, np.where(chosen == 2, nudged, rows))
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1 / 3], dtype=np.float32)
    mask = rng.random((count, width)) < 0.1
    rows[mask] = rng.choice(specials, size=mask.sum())
    return np.ascontiguousarray(rows, dtype=np.float32)


@pytest.mark.skipif(learned._forest is None, reason="the compiled walk is not built")
@pytest.mark.parametrize("depth", [1, 3, 5, 7])
def test_complete_tree_walk_is_the_reference_walk_to_the_bit(depth):
    rng = np.random.default_rng(depth)
    forest = _random_forest(rng, trees=40, depth=depth, width=9)
    for count in (0, 1, 3, 4, 5, 33, 200):
        rows = _hard_rows(rng, forest, count)
        expected = forest.log_odds_reference(rows)
        assert np.array_equal(forest.log_odds(rows), expected)
        assert forest.log_odds(rows).tobytes() == expected.tobytes()  # same bits, signed zeros included


@pytest.mark.skipif(learned._forest is None, reason="the compiled walk is not built")
def test_shipped_model_walk_matches_the_reference_and_the_pointer_walk():
    forest = learned.model()
    rng = np.random.default_rng(15)
    rows = _hard_rows(rng, forest, 500)
    expected = forest.log_odds_reference(rows)
    assert forest.log_odds(rows).tobytes() == expected.tobytes()
    flat = forest._flat
    if learned._native is not None:
        pointer = learned._native.leaf_values(
            rows, rows.shape[1], flat["feature"], flat["threshold"], flat["left"], flat["right"], flat["value"], flat["offsets"], forest.depth
        )
        complete = forest._complete
        assert learned._forest.leaf_values(rows, rows.shape[1], *complete, forest.depth) == pointer


def test_complete_tree_walk_refuses_inconsistent_arrays():
    if learned._forest is None:
        pytest.skip("the compiled walk is not built")
    forest = learned.model()
    feature, threshold, leaf = forest._complete
    rows = np.zeros((2, len(forest.feature_names)), dtype=np.float32)
    with pytest.raises(ValueError):
        learned._forest.leaf_values(rows, rows.shape[1], feature[:-1], threshold, leaf, forest.depth)
    with pytest.raises(ValueError):
        learned._forest.leaf_values(rows, rows.shape[1] - 100, feature, threshold, leaf, forest.depth)  # features out of range
