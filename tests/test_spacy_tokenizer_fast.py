"""The word splitter the quality filters use (``SpacyTokenizer``: windowed suffix search, searches
skipped by required characters, one affix round at a time with the rest memoised, patterns
compiled from unescaped text) cuts every chunk exactly as the plain algorithm
(``SpacyTokenizerReference``), for every language in ``spacy_rules.json.gz``; and so does its
compiled path (``tamis/_native/spacy_split.c``), chunk by chunk and over whole texts.

Texts: each language's own special cases wrapped in the punctuation its rules strip, generated
hostile chunks drawn from the characters its rules test (hypothesis), and, where this machine
has them, real translations of that language from the system's gettext catalogs
(``bench/check_spacy_tokenizer.py`` runs the full comparison over every catalog and man page).
"""

from __future__ import annotations

import gettext
import random
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tamis.steps.quality import spacy_tokenizer as spacy
from tamis.steps.quality.spacy_tokenizer import SpacyTokenizer, SpacyTokenizerReference

LANGUAGES = sorted(spacy._payload()["languages"])
LOCALE = Path("/usr/share/locale")
# languages without catalogs of their own read a neighbour's real text through their own rules
NEIGHBOUR = {"dsb": "cs", "hsb": "pl", "la": "it", "lb": "de", "lij": "it", "tn": "en", "xx": "fr", "nb": "no"}
WRAPPERS = ("{}", "({})", "{}.", "{},", '"{}"', "«{}»", "{}...", "[{}]:", "'{}'", "{}!?", "¿{}?", "-{}-", "{}'s", "{}%", "${}", "{}.)")


@cache
def pair(language: str) -> tuple[SpacyTokenizerReference, SpacyTokenizer]:
    return SpacyTokenizerReference(language), SpacyTokenizer(language, compiled=False)


@cache
def compiled(language: str) -> SpacyTokenizer:
    """A tokenizer of its own (the compiled path shares its memos) on the compiled path."""
    tokenizer = SpacyTokenizer(language, compiled=True)
    assert tokenizer._native is not None, "the _spacy_split extension is not built"
    return tokenizer


def assert_same(language: str, chunks: list[str]) -> None:
    reference, fast = pair(language)
    native = compiled(language)._native
    for chunk in chunks:
        expected = reference.chunk_tokens(chunk)
        assert fast.chunk_tokens(chunk) == expected, (language, chunk)
        assert native.chunk_tokens(chunk) == expected, ("compiled", language, chunk)


@cache
def catalog_chunks(language: str, limit: int = 1500) -> list[str]:
    """Up to ``limit`` distinct whitespace chunks of the language's translated messages, if any."""
    code = NEIGHBOUR.get(language, language)
    chunks: dict[str, None] = {}
    for folder in sorted(LOCALE.glob(f"{code}*/LC_MESSAGES")) if LOCALE.is_dir() else []:
        if re.split("[_@.]", folder.parent.name)[0] != code:
            continue
        for path in sorted(folder.glob("*.mo"))[:40]:
            try:
                with path.open("rb") as handle:
                    messages = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
            except (OSError, UnicodeDecodeError, KeyError, ValueError, IndexError):
                continue
            for text in messages.values():
                for chunk in str(text).split():
                    chunks.setdefault(chunk)
            if len(chunks) >= limit:
                return list(chunks)[:limit]
    return list(chunks)


@pytest.mark.parametrize("language", LANGUAGES)
def test_special_cases_in_punctuation(language: str) -> None:
    reference, _ = pair(language)
    keys = sorted(reference._specials)
    sample = random.Random(language).sample(keys, min(len(keys), 100))
    assert_same(language, [wrapper.format(key) for key in sample for wrapper in WRAPPERS if " " not in key])
    # two special cases in one chunk, joined by what the rules split on: runs the special-case
    # matcher has to find inside a chunk (looked up by run text in SpacyTokenizer)
    pairs = [a + joint + b for a, b in zip(sample, reversed(sample), strict=True) for joint in ("", "-", "/", ".", ",", "(") if " " not in a + b]
    assert_same(language, pairs[:400])


@pytest.mark.parametrize("language", LANGUAGES)
def test_special_cases_at_the_longest(language: str) -> None:
    # The compiled splitter skips the special-case lookup of a piece longer than every special
    # case: the longest ones, alone, stripped of an affix or one character too long, cut the same.
    reference, _ = pair(language)
    keys = sorted((key for key in reference._specials if " " not in key), key=len, reverse=True)[:30]
    assert_same(language, [wrapper.format(key) for key in keys for wrapper in ("{}", "{}x", "x{}", "({})", "{}.", '"{}', "{}!")])


@pytest.mark.parametrize("language", LANGUAGES)
def test_real_text(language: str) -> None:
    chunks = catalog_chunks(language)
    if not chunks:
        pytest.skip(f"no gettext catalogs for {language} on this machine")
    assert_same(language, [chunk for chunk in chunks if len(chunk) <= spacy.MAX_CHUNK])


@cache
def alphabet(language: str) -> str:
    """The characters the language's rules test, with letters, digits and common punctuation."""
    reference, _ = pair(language)
    chars = set("aZéß9.0-'’/:@#%$&*+=_,;!?()[]{}<>\"«»…–—")
    for found in (reference._prefix_first, reference._suffix_last):
        if found is not None:
            chars.update(*found)
    if reference._infix_chars is not None:
        chars.update(reference._infix_chars)
    return "".join(sorted(chars))


def chunks_of(language: str) -> st.SearchStrategy[str]:
    letters = st.text(alphabet=alphabet(language), min_size=1, max_size=24)
    specials = st.sampled_from(sorted(key for key in pair(language)[0]._specials if " " not in key) or ["a"])
    return st.lists(st.one_of(letters, specials), min_size=1, max_size=4).map("".join)


@pytest.mark.parametrize("language", LANGUAGES)
def test_generated_chunks(language: str) -> None:
    @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(chunks_of(language))
    def check(chunk: str) -> None:
        if chunk.split() == [chunk]:
            assert_same(language, [chunk])

    check()


def test_searches_find_the_same_matches() -> None:
    # the windowed suffix search and the required-character skips, each against its plain search
    tokenizer, reference = pair("en")[1], pair("en")[0]
    for text in ["word.", "a..", "x" * 90 + "...", "9km", "(a)", "e.g.", "10%", "'s", "www.example.com", "a" * 70 + "''"]:
        plain, fast = reference._suffix(text), tokenizer._suffix(text)
        assert (plain and plain.span()) == (fast and fast.span()), text
        assert bool(reference._url_match(text)) == bool(tokenizer._url_match(text)), text


def test_unescaped_patterns_parse_the_same() -> None:
    from re import _parser as parser

    payload = spacy._payload()
    for language in ("en", "fr", "ru", "id", "el"):
        data = payload["languages"][language]
        for kind in ("prefix", "suffix", "infix", "url_match"):
            if data[kind] is None:
                continue
            index, flags = data[kind]
            plain = spacy._with_letters(payload["patterns"][index], payload["letter_classes"])
            unescaped = spacy._with_letters(payload["patterns"][index], payload["letter_classes"], unescape=True)
            assert unescaped != plain and len(unescaped) < len(plain)
            assert str(parser.parse(unescaped, flags)) == str(parser.parse(plain, flags))
            # the analyses read the unescaped text's tree (parsed once for the three)
            stored = payload["patterns"][index]
            as_stored = parser.parse(spacy._for_analysis(stored), flags)
            assert str(spacy._parsed_for_analysis(stored, flags)) == str(as_stored)
            assert spacy._min_width(stored, flags) == as_stored.getwidth()[0]


def test_required_chars() -> None:
    assert spacy.required_chars(r"^(?:\S+@)?(?:\w+\.)+[a-z]{2,}$", 0) == frozenset(".")
    assert spacy.required_chars(r"(?i)^a-b$|^c'd$", 0) == frozenset("-'")
    assert spacy.required_chars(r"^a?b*$", 0) is None
    assert spacy.required_chars(r"(?!x)y|z", 0) == frozenset("yz")
    # a letter class not put back in is unknown, in a class or out of one (not the letters of its name)
    assert spacy.required_chars("[\x00ALPHA\x00]+", 0) is None
    assert spacy.required_chars("\x00ALPHA\x00+", 0) is None
    assert spacy.required_chars("\x00ALPHA\x00+\\.", 0) == frozenset(".")


def test_top_level_pieces() -> None:
    assert spacy.top_level_pieces(r"a$|(b|c)$|[|]$|\|$|[]|]$") == ["a$", "(b|c)$", "[|]$", r"\|$", "[]|]$"]


# whitespace str.split() cuts at (ASCII, Unicode spaces, separators), and long runs for the fallback
SPACES = ("\t", "\n", "\r\n", "\x0b", "\x1c", "\x85", "\xa0", "\u2028", "\u3000", "  ")


def long_chunk_words(chunk: str) -> list[str]:
    return ["<long>", chunk[:3], str(len(chunk))]


@pytest.mark.parametrize("language", ["en", "fr", "de", "it", "pt"])
def test_compiled_tokenize_matches_the_python_loop(language: str) -> None:
    """Whole texts (hostile chunks, every kind of whitespace, chunks over MAX_CHUNK that go to
    the fallback): the compiled ``tokenize`` gives the Python loop's words."""
    python_path = SpacyTokenizer(language, compiled=False)
    chunk = st.one_of(chunks_of(language), st.text(alphabet=alphabet(language), min_size=spacy.MAX_CHUNK - 2, max_size=spacy.MAX_CHUNK + 3))
    texts = st.lists(st.tuples(st.sampled_from(SPACES), chunk), max_size=12).map(lambda parts: "".join(a + b for a, b in parts))

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(texts, st.sampled_from(SPACES))
    def check(text: str, end: str) -> None:
        text += end
        expected = spacy.tokenize_reference(text, python_path, long_chunk_words)
        assert spacy.tokenize(text, compiled(language), long_chunk_words) == expected

    check()
    real = " ".join(catalog_chunks(language, 400))
    assert spacy.tokenize(real, compiled(language), long_chunk_words) == spacy.tokenize_reference(real, python_path, long_chunk_words)


def test_compiled_tokenize_on_spacys_own_cuts() -> None:
    """The golden samples (spaCy 3.8's own cuts, tests/test_languages_spacy.py) through both paths."""
    import importlib.util

    from tamis.steps.quality.spacy_rules import SPACY_LANGUAGE

    spec = importlib.util.spec_from_file_location("spacy_cuts", Path(__file__).with_name("test_languages_spacy.py"))
    assert spec is not None and spec.loader is not None
    golden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden)
    for language, cuts in golden.SPACY_CUTS.items():
        code = SPACY_LANGUAGE[language]
        python_path = SpacyTokenizer(code, compiled=False)
        for chunk, expected in cuts.items():
            assert spacy.tokenize(chunk, compiled(code), long_chunk_words) == expected, (language, chunk)
            assert spacy.tokenize_reference(chunk, python_path, long_chunk_words) == expected, (language, chunk)


def test_compiled_splitter_errors_and_worst_case() -> None:
    native = compiled("en")._native

    def failing(chunk: str) -> list[str]:
        raise ValueError(chunk[:5])

    with pytest.raises(ValueError, match="xxxxx"):
        native.tokenize("ok " + "x" * (spacy.MAX_CHUNK + 1), failing)
    with pytest.raises(TypeError):
        native.tokenize(b"bytes", long_chunk_words)
    with pytest.raises(TypeError):
        native.chunk_tokens(3)
    # a fallback may return any iterable
    assert native.tokenize("a " + "y" * 300, lambda chunk: iter((chunk[:2],))) == ["a", "yy"]
    # every chunk at the quadratic affix loop's bound, all punctuation: bounded work per chunk
    text = " ".join(["." * spacy.MAX_CHUNK, "(" * spacy.MAX_CHUNK, ")" * spacy.MAX_CHUNK, "-." * (spacy.MAX_CHUNK // 2)] * 50)
    assert native.tokenize(text, long_chunk_words) == spacy.tokenize_reference(text, SpacyTokenizer("en", compiled=False), long_chunk_words)


def test_compiled_chunk_memo_reads_chunks_in_place() -> None:
    """The compiled splitter finds a known chunk's tokens from its characters in the text (its
    chunk memo is a table keyed by characters): the same chunk in texts of every str width
    (its own str is as narrow as its characters allow), and enough distinct chunks for the table
    to grow several times, give the Python loop's words."""
    fresh = SpacyTokenizer("en")  # its own splitter: an empty memo
    python_path = SpacyTokenizer("en", compiled=False)
    words = ["don't", "end.", "(see", "U.S.", "e.g.", "x", "naïve,", "3.5%", "--verbose", "“quoted”"]
    for widener in ("", "é", "ő", "😀"):  # text kinds: ASCII/latin-1, latin-1, UCS-2, UCS-4
        for _ in range(2):
            text = " ".join(words) + f" {widener}" + " ".join(reversed(words))
            assert spacy.tokenize(text, fresh, long_chunk_words) == spacy.tokenize_reference(text, python_path, long_chunk_words)
    draw = random.Random(3)
    many = " ".join(f"w{draw.randrange(60_000)}{draw.choice(['', '.', ',', ')', '!'])}" for _ in range(40_000))
    assert spacy.tokenize(many, fresh, long_chunk_words) == spacy.tokenize_reference(many, python_path, long_chunk_words)


def test_compiled_chunk_memo_compares_keys_of_every_length() -> None:
    """A known chunk is recognised by comparing its characters a word at a time (first and last
    8 or 4 bytes, a byte loop under 4, memcmp over 16): chunks of every length from 1 to 40
    characters, in texts of every str width, each also with one character changed at every
    position, split twice (the second time from the memo), give the Python loop's words."""
    fresh = SpacyTokenizer("en")
    python_path = SpacyTokenizer("en", compiled=False)
    for widener in ("", "é", "ő", "😀"):
        chunks = []
        for length in range(1, 41):
            base = "".join("abcdefghij"[i % 10] for i in range(length))
            chunks.append(base)
            chunks.extend(base[:i] + "z" + base[i + 1:] for i in range(length))
        text = f"{widener} " + " ".join(chunks)
        for _ in range(2):
            assert spacy.tokenize(text, fresh, long_chunk_words) == spacy.tokenize_reference(text, python_path, long_chunk_words)


def test_compiled_chunk_memo_is_cleared_at_its_limit() -> None:
    """A splitter whose chunk memo holds at most a few dozen chunks clears it when full (as the
    Python path clears its dict) and still gives the Python loop's words, special cases included."""
    tokenizer = SpacyTokenizer("en")
    assert "_arguments" in tokenizer.__dict__, "built from the stored tables"
    small = spacy._Splitter(tokenizer._specials, *tokenizer._arguments, tokenizer._merge_specials,
                            tokenizer._longest_special, 40, spacy.MAX_CHUNK, *tokenizer._affixes)
    python_path = SpacyTokenizer("en", compiled=False)
    draw = random.Random(5)
    pieces = ["don't", "U.S.", "e.g.", "(see", "end.", "3.5%", ":-)", "o'clock", "x"]
    text = " ".join(f"{draw.choice(pieces)}{draw.randrange(30)}" if draw.random() < 0.5 else draw.choice(pieces) for _ in range(3_000))
    for _ in range(2):
        assert small.tokenize(text, long_chunk_words) == spacy.tokenize_reference(text, python_path, long_chunk_words)
        assert len(small.memo()) <= 41 and len(small.cut_memo()) <= 41


@pytest.mark.parametrize("language", ["en", "fr", "de", "ru"])
def test_a_splitter_copied_without_specials_cuts_what_one_built_without_them_cuts(language: str) -> None:
    """``without_specials`` (the special-case matcher's plain splitter) copies the splitter's
    tables instead of reading the character sets again: it cuts every chunk as a splitter built
    from the same arguments with no special case does."""
    tokenizer = SpacyTokenizer(language)
    assert "_arguments" in tokenizer.__dict__, "built from the stored tables"
    copied = tokenizer._native.without_specials()
    built = spacy._Splitter({}, *tokenizer._arguments, None, 0, spacy._MEMO_LIMIT, spacy.MAX_CHUNK, *tokenizer._affixes)
    chunks = [*catalog_chunks(language, 400), *(wrapper.format(word) for wrapper in WRAPPERS for word in ("don't", "U.S.", "x😀", "3.5"))]
    for chunk in chunks:
        assert copied.chunk_tokens(chunk) == built.chunk_tokens(chunk), (language, chunk)
    text = " ".join(chunks)
    assert copied.tokenize(text, long_chunk_words) == built.tokenize(text, long_chunk_words)


def test_compiled_chunk_memo_reads_a_bounded_number_of_slots() -> None:
    """Chunks made to share one memo slot (the table's hash is not keyed: an input can be built
    so) fill at most 32 slots from there; the others are not kept, and cut again each time
    instead of lengthening every lookup (linear whatever the input), with the same words."""

    def mum(a: int, b: int) -> int:
        product = a * b
        return (product % 2**64) ^ (product >> 64)

    def home(chunk: str, bits: int = 8) -> int:
        """The splitter's slot: its memo hash (spacy_split.c's hash_bytes over the narrowest str's
        bytes, 16 a block, the last zero-padded), then Fibonacci hashing."""
        widest = max(map(ord, chunk))
        data = chunk.encode("latin-1" if widest < 256 else "utf-16-le" if widest < 65536 else "utf-32-le")
        value = 0xA0761D6478BD642F
        for at in range(0, len(data), 16):
            block = data[at:at + 16].ljust(16, b"\0")
            low, high = int.from_bytes(block[:8], "little"), int.from_bytes(block[8:], "little")
            value = mum(low ^ value ^ 0xE7037ED1A0B428DB, high ^ 0x8EBC6AF09C88C6E3)
        value = mum(value ^ 0x589965CC75374CC3, len(data) ^ 0xA0761D6478BD642F)
        return (value * 0x9E3779B97F4A7C15 % 2**64) >> (64 - bits)

    draw = random.Random(11)
    colliding: list[str] = []
    while len(colliding) < 60:  # one in 256 of them lands on slot 0 of the first table (256 slots)
        chunk = f"w{draw.randrange(10**9)}"
        if home(chunk) == 0 and chunk not in colliding:
            colliding.append(chunk)
    fresh = SpacyTokenizer("en")
    python_path = SpacyTokenizer("en", compiled=False)
    text = " ".join(colliding * 3)
    assert spacy.tokenize(text, fresh, long_chunk_words) == spacy.tokenize_reference(text, python_path, long_chunk_words)
    assert len(fresh._native.memo()) == 32
    # The hash is the narrowest str's: in a UCS-2 or UCS-4 text (a wide chunk elsewhere) the same
    # chunks collide the same (hashed from wider characters they would spread over the table).
    for wide in ("\u20ac\u20ac", "\U0001f600"):
        assert home(wide) >= 64  # the wide chunk's own slot is away from the colliding run
        fresh = SpacyTokenizer("en")
        text = " ".join([wide, *colliding * 3])
        assert spacy.tokenize(text, fresh, long_chunk_words) == spacy.tokenize_reference(text, python_path, long_chunk_words)
        assert sum(chunk in fresh._native.memo() for chunk in colliding) == 32


def test_compiled_memo_lists_are_left_to_refcounting() -> None:
    """The compiled path's memoised token lists (lists of str: no reference cycle can go through
    them) are out of the cyclic collector's view, so a long run's memos are not walked by every
    collection; the words are still the Python loop's."""
    import gc

    fresh = SpacyTokenizer("en")
    python_path = SpacyTokenizer("en", compiled=False)
    text = "plain words, (quoted) don't U.S. end. --verbose x=1 e.g. naïve 3.5% " * 3
    assert spacy.tokenize(text, fresh, long_chunk_words) == spacy.tokenize_reference(text, python_path, long_chunk_words)
    chunks = fresh._native.memo()  # the compiled memos (tables keyed by characters)
    for memo in (chunks, fresh._native.cut_memo()):
        assert memo, "the splitter memoised nothing"
        for chunk, tokens in memo.items():
            assert not gc.is_tracked(tokens), (chunk, tokens)
    assert any(len(tokens) > 1 for tokens in chunks.values())  # cut chunks, not only whole ones
    # the memos' lists, read again, give the same words (the lists are the same objects, unchanged)
    assert spacy.tokenize(text, fresh, long_chunk_words) == spacy.tokenize_reference(text, python_path, long_chunk_words)


@pytest.mark.parametrize("language", ["en", "fr", "de", "ru"])
def test_chunks_met_whole_and_as_an_affix_rounds_rest_cut_as_the_python_loop_cuts_them(language: str) -> None:
    """A new chunk is kept in the chunk memo only, and a round's rest that is plainly one token
    goes into its list without the cut memo: a piece met first as a whole chunk and then as
    another chunk's rest (and the other way round), plain or not, still gives the Python
    loop's words, in either order and when read again."""
    pieces = ["word", "foo)", "(foo", "bar.", "U.S.", "e.g.", "don't", "x=1", "3.5%", "a-b", "naïve", "l'eau", "…"]
    wrappers = ["{}", "({})", "{},", "({}),", '"{}"', "[{}].", "{}:", "¿{}?"]
    chunks = [wrap.format(piece) for piece in pieces for wrap in wrappers]
    for order in (chunks, chunks[::-1], random.Random(7).sample(chunks, len(chunks))):
        fresh = SpacyTokenizer(language)
        python_path = SpacyTokenizer(language, compiled=False)
        text = " ".join(order)
        expected = spacy.tokenize_reference(text, python_path, long_chunk_words)
        assert spacy.tokenize(text, fresh, long_chunk_words) == expected
        assert spacy.tokenize(text, fresh, long_chunk_words) == expected  # every chunk known
        for chunk in order:  # one chunk at a time, from the memos as they now are
            assert spacy.tokenize(chunk, fresh, long_chunk_words) == spacy.tokenize_reference(chunk, python_path, long_chunk_words)
