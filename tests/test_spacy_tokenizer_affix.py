"""The compiled splitter's own matcher for spaCy's prefix, suffix, infix and url_match patterns
(``tamis.steps.quality.spacy_affix`` translates, ``tamis/_native/spacy_affix.c`` runs) finds
what Python's ``re`` finds: the same ``search`` span (from any position) and, for infixes, the
same ``finditer`` spans.

- every language's patterns, on strings built from the patterns' own literals, their classes'
  members and characters outside them;
- generated patterns of every construct the translator accepts (hypothesis), on short strings;
- what it refuses, and inputs on which a backtracking search would take exponential time.

The splitter's words on these programs are compared with the Python reference by
tests/test_spacy_tokenizer_fast.py (the compiled path uses them by default).
"""

from __future__ import annotations

import random
import re
import time
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tamis.steps.quality import spacy_tokenizer as spacy
from tamis.steps.quality.regex_code import compile_pattern
from tamis.steps.quality.spacy_affix import Untranslatable, top_level_pieces, translate
from tamis.steps.quality.spacy_tokenizer import SpacyTokenizer, SpacyTokenizerReference

_native = pytest.importorskip("tamis._native._spacy_split")
Affix = _native.Affix

PAYLOAD = spacy._payload()
LANGUAGES = sorted(PAYLOAD["languages"])
KINDS = ("prefix", "suffix", "infix")
# outside every class of the rules (a private-use letter, an astral one, controls) and common text
EXTRA = "aZ9 \n\t-.'’_é\ue123\U00010400\x85\u0660"


def affix_of(pattern: str, flags: int = 0) -> Affix:
    return Affix(*translate(pattern, flags).arguments())


def assert_agrees(rx: re.Pattern[str], affix: Affix, text: str, finditer: bool) -> None:
    for pos in (0, 1, len(text) // 2, len(text)):
        found = rx.search(text, pos)
        assert affix.search(text, pos) == (found.span() if found else None), (rx.pattern[:80], text, pos)
    if finditer:
        assert affix.spans(text) == [found.span() for found in rx.finditer(text)], (rx.pattern[:80], text)


@cache
def rule_pattern(index: int, flags: int) -> tuple[re.Pattern[str], Affix, tuple[str, ...], str]:
    """(the pattern as the splitter's re compiles it, its program, literal runs of its
    alternatives, characters from its literals and classes)."""
    stored = PAYLOAD["patterns"][index]
    letters = PAYLOAD["letter_classes"]
    rx = compile_pattern(spacy._with_letters(stored, letters, unescape=True), flags)
    program = spacy.affix_program(stored, flags)
    assert program is not None, "a rule pattern the translator refuses (it would run with re)"
    text = re.sub("\x00[A-Z_]+\x00", "", spacy.literal_escapes(stored))
    runs = {run.replace("\\", "") for piece in top_level_pieces(text) for run in re.findall(r"(?:\\.|[^\\\[\]()|^$?*+{}])+", piece)}
    chars = set(EXTRA)
    for low, high in ((lo, hi) for _negated, _categories, flat in program.classes for lo, hi in zip(flat[::2], flat[1::2], strict=True)):
        chars.update(map(chr, {low, high, (low + high) // 2}))
        chars.update(chr(code) for code in (low - 1, high + 1) if 0 <= code <= 0x10FFFF and not 0xD800 <= code < 0xE000)
    chars.update(char for run in runs for char in run)
    return rx, Affix(*program.arguments()), tuple(sorted(run for run in runs if run)), "".join(sorted(chars))


def generated(runs: tuple[str, ...], chars: str, seed: str, count: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = [rng.choice(runs) if runs and rng.random() < 0.45 else rng.choice(chars) for _ in range(rng.randint(0, 6))]
        texts.append("".join(parts))
    return texts


@pytest.mark.parametrize("language", LANGUAGES)
def test_rule_patterns_agree_with_re(language: str) -> None:
    data = PAYLOAD["languages"][language]
    for kind in KINDS:
        if data[kind] is None:
            continue
        rx, affix, runs, chars = rule_pattern(*data[kind])
        for text in generated(runs, chars, f"{language}-{kind}", 250):
            assert_agrees(rx, affix, text, finditer=kind == "infix")
    # the compiled splitter of this language runs every one of them (and url_match: all anchored)
    tokenizer = SpacyTokenizer(language, compiled=False)
    for kind in (*KINDS, "url_match"):
        assert (tokenizer._affix(kind) is None) == (data[kind] is None), (language, kind)


def test_url_match_agrees_with_re_match() -> None:
    (index, flags), = {tuple(PAYLOAD["languages"][language]["url_match"]) for language in LANGUAGES}
    rx, affix, _runs, _chars = rule_pattern(index, flags)
    parts = ["http", "://", "www", ".", "example", "com", "1", "10", "127", "192.168", ".1", ":", "8080", "/", "?", "#",
             "@", "user", "é", "-", "_", "co", "x.y", "..", "%", "(", "\uffff", "\U00010400", "A", "ÿ", "\n"]
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 9)))
        found = rx.match(text)
        assert affix.search(text) == (found.span() if found else None), text


# Generated patterns: every construct the translator takes, nested.
ATOMS = ["a", "b", "-", r"\.", "é", "[ab]", "[^a]", "[a-c9]", r"\d", r"\w", r"\s", r"\D", r"\W", r"[\S_]", ".",
         "[^\\w.]", "\U00010400"]
# re's Unicode categories: a non-ASCII decimal digit, a digit that is not decimal, separators
TEXT = "aab-.é9 \n\U00010400\u0660²_\x85\u2028"


def patterns() -> st.SearchStrategy[str]:
    atom = st.sampled_from(ATOMS)

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, inner).map("".join),
            st.tuples(inner, inner).map(lambda pair: f"(?:{pair[0]}|{pair[1]})"),
            st.tuples(inner, st.sampled_from(["*", "+", "?", "{1,3}", "{2}", "*?", "+?", "??", "{0,2}?"])).map(lambda pair: f"(?:{pair[0]}){pair[1]}"),
            st.tuples(st.sampled_from(["(?=", "(?!"]), inner).map(lambda pair: f"{pair[0]}{pair[1]})"),
            st.tuples(st.sampled_from(["(?<=", "(?<!"]), atom, atom).map(lambda parts: f"{parts[0]}{parts[1]}{parts[2]})"),
            st.tuples(st.sampled_from(["^", ""]), inner, st.sampled_from(["$", "", r"\Z"])).map("".join),
            inner.map(lambda pattern: f"({pattern})"),
        )

    piece = st.recursive(atom, extend, max_leaves=6)
    return st.lists(piece, min_size=1, max_size=4).map("|".join)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(patterns(), st.integers(0, 2**32 - 1))
def test_generated_patterns_agree_with_re(pattern: str, seed: int) -> None:
    try:
        rx = re.compile(pattern)
    except re.error:
        return
    try:
        affix = affix_of(pattern)
    except Untranslatable as refused:
        # only a repeat of something that can match empty (re's own rule for it is not copied)
        # or an unbounded repeat in a lookaround (the memo does not reach into lookarounds)
        assert "empty" in str(refused) or "lookaround" in str(refused), (pattern, refused)
        return
    rng = random.Random(seed)
    for _ in range(25):
        text = "".join(rng.choice(TEXT) for _ in range(rng.randint(0, 8)))
        assert_agrees(rx, affix, text, finditer=True)


def test_finditer_after_empty_matches() -> None:
    # an empty match may be followed by a non-empty one at the same place, never another empty one
    for pattern in ["(?=a)|a", "a??", "x*?|a", "(?<=a)", "(?<=a)(?=b)|b", "$|a"]:
        rx = re.compile(pattern)
        for text in ["", "a", "ab", "aab", "bab", "ba\n"]:
            assert affix_of(pattern).spans(text) == [found.span() for found in rx.finditer(text)], (pattern, text)


def test_alternative_order_and_end_of_text() -> None:
    rx = re.compile(r"a|ab|\.\.+$|b$|km$")
    affix = affix_of(r"a|ab|\.\.+$|b$|km$")
    for text in ["ab", "b", "x..", "x...\n", "5km", "5km\n", "km\n\n", "a.b"]:
        assert_agrees(rx, affix, text, finditer=True)


@pytest.mark.parametrize("pattern", [
    "(?i)a", "(?m)^a", "(a)\\1", r"\ba", "(?>a)", "a*+", "(?:a?)*", "(?=a*)b", "(?a)\\w",
    "(?:(?i)a)",
])
def test_refused_constructs(pattern: str) -> None:
    with pytest.raises(Untranslatable):
        translate(pattern, 0)


def test_letter_classes_only_inside_brackets() -> None:
    letters = {"ALPHA": "a-zé", "ALPHA_LOWER": "a-z", "ALPHA_UPPER": "A-Z"}
    affix = Affix(*translate("(?<=[\x00ALPHA\x00])-(?=[\x00ALPHA_UPPER\x000-9])|[^\x00ALPHA_LOWER\x00]$", 0, letters).arguments())
    rx = re.compile("(?<=[a-zé])-(?=[A-Z0-9])|[^a-z]$")
    for text in ["é-B", "a-b", "x-9", "ab", "aB", "-", "é-\n"]:
        assert_agrees(rx, affix, text, finditer=True)
    for refused in ("\x00ALPHA\x00+", "[\U0010fffb]\x00ALPHA\x00", "[\x00ALPHA\x00]\x00NOPE\x00"):
        with pytest.raises(Untranslatable):
            translate(refused, 0, letters)


def test_linear_time_where_backtracking_is_exponential() -> None:
    pattern = r"(?:a|aa)+c|(?:\w+-)*\w+\.$"
    rx, affix = re.compile(pattern), affix_of(pattern)
    for n in range(12):
        text = "a" * n + "b"
        assert_agrees(rx, affix, text, finditer=True)
    started = time.process_time()
    assert affix.search("a" * 20_000 + "b") is None
    assert affix.spans("a-" * 5_000 + "a") == []
    assert time.process_time() - started < 2.0  # re takes longer than the age of the universe


def test_bad_programs_are_refused() -> None:
    program = translate("ab|c", 0)
    code, classes, alternatives, slots, starts, lists_of, lists, end = program.arguments()
    for broken in (
        ([99], classes, alternatives, slots, starts, lists_of, lists, end),
        (code[:-1], classes, alternatives, slots, starts, lists_of, lists, end),
        (code, classes, [(len(code) + 5, 1, 0, 0)], slots, starts, lists_of, lists, end),
        (code, classes, alternatives, slots, [5, 1], lists_of, lists, end),
        (code, classes, alternatives, slots, starts, lists_of, [[1, 0]] * len(lists), end),
    ):
        with pytest.raises(ValueError):
            Affix(*broken)
    with pytest.raises(TypeError):
        Affix(*program.arguments()).search(b"ab")


def test_compiled_path_with_re_searches_matches_the_reference() -> None:
    """The splitter's re searches stay for a pattern the translator refuses: that path too."""
    for language in ("en", "fr", "pt"):
        reference = SpacyTokenizerReference(language)
        with_re = SpacyTokenizer(language, compiled=True, affixes=False)
        _rx, _affix, runs, chars = rule_pattern(*PAYLOAD["languages"][language]["suffix"])
        for chunk in generated(runs, chars.replace(" ", "").replace("\n", "").replace("\t", ""), language, 300):
            if chunk.split() == [chunk]:
                assert with_re._native.chunk_tokens(chunk) == reference.chunk_tokens(chunk), (language, chunk)
