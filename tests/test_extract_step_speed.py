"""The extract step's fast paths give exactly what their plain references give."""

from __future__ import annotations

import random
import re
import sys
from re import _parser

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
