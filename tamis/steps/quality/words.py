"""Word segmentation and the per-document statistics the quality filters share.

Words are cut the way the reference implementation (datatrove, which runs spaCy's rule-based
tokenizer for these languages) cuts them, with one compiled regular expression per language:

- punctuation at the edge of a word is a word of its own (``"end."`` is ``end`` and ``.``);
  runs of periods or hyphens (``...``, ``---``) are one word;
- punctuation inside a word keeps it whole (``example.com``, ``3.5``, ``1,000``, ``AT&T``,
  ``snake_case``) except where spaCy splits: a hyphen before a letter (``well-known`` is
  ``well``, ``-``, ``known``), a comma between letters, ``: < > = /`` before a letter, a
  period before a capital, an ellipsis;
- hyphens, slashes and ``@`` stay on the edge of a word (``--verbose``, ``/usr``, a line-end
  ``hyphen‐``), a period stays after a lone capital (``J.``) and after the language's common
  abbreviations (``Mr.``, ``Mme.``); URLs, e-mail addresses and initialisms stay whole;
- English clitics are split off: ``don't`` is ``do`` + ``n't``, ``John's`` is ``John`` + ``'s``;
- French and Italian elisions are split after the apostrophe: ``l’armée`` is ``l’`` + ``armée``
  and ``d’élite`` is ``d’`` + ``élite`` (2 words each, as spaCy and so FineWeb-2 count them;
  FineWeb-2's French stop-word list holds ``l'`` and ``d'`` for that reason). Stop words are
  matched with typographic apostrophes folded to ``'``. ``aujourd’hui`` stays one word.

Statistics (lines, words, word classes) are computed once per document text and language and
cached by text identity, so several filters running one after the other on the same document
share them while each step stays independent: a step that changes ``doc.text`` makes a new
string, which misses the cache.
"""

from __future__ import annotations

import bisect
import re
import string
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import Any

from tamis.steps.quality.indic_tokenizer import trivial_tokenize as indic_tokenize
from tamis.steps.quality.languages import LanguageSettings, settings_for
from tamis.steps.quality.regex_code import compile_word_regex
from tamis.steps.quality.segmenters import grapheme_clusters, segment
from tamis.steps.quality.spacy_rules import EDGES, INDICNLP_LANGUAGE, INFIXES, SPACY_LANGUAGE
from tamis.steps.quality.spacy_tokenizer import SpacyTokenizer, has_rules, tokenizer_for
from tamis.steps.quality.spacy_tokenizer import tokenize as spacy_tokenize
from tamis.steps.quality.vietnamese import vietnamese_words
from tamis.text import category_ranges, split_lines

_URL = r"(?:https?://|www\.)[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}»]"
# A local part has at most 64 characters (RFC 5321): bounding it bounds the scan for "@" that
# this alternative makes at every position, which unbounded costs n²/2 on a long run of [\w.+-].
_EMAIL = r"[\w.+-]{1,64}+@[\w-]++(?:\.[\w-]++)+"
# spaCy's suffix rule keeps the final period of "U.S." (after a capital) and splits that of "e.g."
# (after a lower-case letter: "e.g" + "."; English lists "e.g." among its special tokens).
_INITIALISM_END = "(?<=[{upper}]\\.)"
_INITIALISM = r"(?:[^\W\d_]\.){2,}+"
_PUNCT_RUN = r"\.{2,}|[-|]{2,}"  # "...", "---", and table rules like "|---|---|"
_SYMBOL = r"[^\w\s]|_"

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_LETTER = r"[^\W\d_]"
_NOT_DIGIT_RANGE = r"(?!(?<=\d-)\d)"
_FRENCH_PRONOUNS = r"(?:je|tu|il|elle|on|nous|vous|ils|elles|moi|toi|lui|leur|eux|le|la|les|en|y|ce|t)\b"
# When a hyphen between two word characters splits them, per language (spaCy's rules differ):
_HYPHEN_GLUE = {
    # English and the generic rules: before a letter (well - known, 32 - bit), and 1 - 2.
    "before_letter": rf"-(?!{_LETTER}){_NOT_DIGIT_RANGE}",
    # French: between two letters (well - known, Clermont - Ferrand) and 1 - 2; 32-bit stays,
    # and an inverted pronoun is split off with its hyphen (pouvez -vous, a -t -il). spaCy also
    # keeps the compounds of its French lexicon whole (grand-mère); tamis does not ship that
    # lexicon (see the README for what it changes).
    "french": rf"(?:(?<!{_LETTER})-|-(?!{_LETTER})){_NOT_DIGIT_RANGE}",
    # spaCy's default rule (Russian, Ukrainian, Czech, Turkish, Polish ...): between two letters.
    "between_letters": rf"(?:(?<!{_LETTER})-|-(?!{_LETTER})){_NOT_DIGIT_RANGE}",
    # Italian: between two lower-case letters; Proxy-Konfiguration stays.
    "between_lowercase": rf"(?:(?<![{_LOWER}])-|-(?![{_LOWER}])){_NOT_DIGIT_RANGE}",
    # German: only in digit ranges (1 - 2); compounds stay whole.
    "digits_only": rf"-{_NOT_DIGIT_RANGE}",
    # Spanish, Portuguese, Dutch: never.
    "never": "-",
    # Polish: every hyphen inside a word is a word of its own (spaCy's Polish hyphen infix: 8 - bit,
    # UTF - 8); a run of leading hyphens is split by _split_hyphen_runs.
    "always": "(?!)",
}


def _glue(settings: LanguageSettings) -> str:
    """Punctuation that keeps the word characters around it one word, for one language.

    Punctuation between two word characters keeps them together ("X=(x1", "example.com",
    "AT&T") except where the reference splits: a hyphen (see ``_HYPHEN_GLUE``), a dash, a comma
    between letters, ``: < > = /`` before a letter (Dutch keeps ``/``), a period before a
    capital, an ellipsis; and an apostrophe where the language splits elisions.
    """
    slash = "" if settings.slash_splits else "/"
    # Punctuation the language's infix rules split between two letters (German: brackets, quotes).
    infixes = INFIXES.get(SPACY_LANGUAGE.get(settings.code, ""), "")
    infix_guard = rf"(?!(?<={_LETTER})[{re.escape(infixes)}](?={_LETTER}))" if infixes else ""
    parts = [
        r"(?<![^\W_])[-:<>=/]",  # after a symbol, these never split
        _HYPHEN_GLUE[settings.hyphens],
        rf"(?<!{_LETTER}),|,(?!{_LETTER})",
        rf"[:<>={'/' if settings.slash_splits else ''}](?!{_LETTER})",
        # Polish's infix rules also split a period between a letter or digit and a digit (1 . 21).
        rf"\.(?![{_UPPER}.{'0-9' if settings.hyphens == 'always' else ''}])",
        rf"{infix_guard}[^\w\s\-–—~,:<>=/.…'’]|_{'|' + slash if slash else ''}",
    ]
    if settings.apostrophes != "elision":
        parts.append("['’]")
    # Possessive: several alternatives accept the same character (a "-" after a symbol and before
    # a non-letter), so a backtracking "+" would try every way to split a run of them: 2^n steps
    # for "8X" + "-" * n. Giving back glue never helps: glue and words share no character.
    return "(?:" + "|".join(parts) + ")++"


# Symbols the reference never splits off the edge of a word stay on it: hyphens, slashes, "@"
# (command-line options -name and --verbose, /path, a line-end hyphen "hyphen‐"), and a period
# after a lone capital (initials: J. Smith).
# Per language, the symbols spaCy keeps at a word's start and end (spaCy_rules.EDGES: its prefix
# and suffix rules do not split them; by default "--root=" and "100%" stay whole).
_EDGE = "-‐/@^|\\~"


def _edges(settings: LanguageSettings) -> tuple[str, str]:
    """(lead, trail) patterns of the symbols kept on a word's edges in the language."""
    lead, trail = EDGES.get(SPACY_LANGUAGE.get(settings.code, ""), (_EDGE, _EDGE))
    lead, trail = re.escape(lead + "‐"), re.escape(trail + "‐")
    # a "%" after a digit is split (spaCy's unit suffixes: 100 %)
    return rf"(?<![^\s(\[{{\"'«“‘])(?:[{lead}]|\.(?!\.))++(?=\w)", rf"(?!(?<=\d)%)[{trail}]++(?!\S)"


def _initial(lead: str) -> str:
    return rf"(?:{lead})?(?<![{_UPPER}])[{_UPPER}]\.(?![\w.])"


def _class_ranges(first: int, stop: int, wanted) -> str:
    """A character class body holding the code points in [first, stop) that ``wanted`` accepts, as ranges."""
    ranges: list[str] = []
    start = previous = -2
    for code in range(first, stop):
        if not wanted(code):
            continue
        if code != previous + 1:
            if start >= 0:
                ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(previous))}")
            start = code
        previous = code
    ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(previous))}")
    return "".join(ranges)


def _ranges_body(ranges: Iterable[tuple[int, int]]) -> str:
    """A character class body of (first, last) runs, written as :func:`_class_ranges` writes them."""
    return "".join(f"{re.escape(chr(start))}-{re.escape(chr(last))}" for start, last in ranges)


@cache
def combining_marks() -> str:
    """A character class body holding every combining mark (categories Mn, Mc, Me), as ranges
    (from the stored Unicode tables: ``_class_ranges(0x300, 0x1F000, <category M>)``)."""
    return _ranges_body(category_ranges("combining_marks"))


# Non-ASCII punctuation and symbols that spaCy's rules split off a word's edge (its LIST_PUNCT,
# LIST_QUOTES, LIST_ELLIPSES and currency lists; symbols of category So are split too, as its
# LIST_ICONS does). spaCy keeps every other one inside the word it touches (⟨https://...⟩,
# ±5, a×b), and so does tamis: they are word characters here (``glued_symbols``).
_SPACY_SPLIT_NON_ASCII = "¡£¥§«´·»¿،؛؟٪۔।฿–—‘’‚“”„…₠₡₢₣₤₥₦₧₨₩₪₫€₭₮₯₰₱₲₳₴₵₶₷₸₹₺₻₼₽₾₿〈〉⟦⟧、。〈〉《》「」『』【】〔〕﷼！（），：；？～"


@cache
def glued_symbols() -> str:
    """A character class body: the non-ASCII punctuation and symbols spaCy leaves inside words, as ranges."""
    # The stored runs of non-ASCII P/S-but-So characters, each cut where spaCy splits a character
    # off (the same body as _class_ranges(0x80, 0x30000, <P/S, not So, not split>)).
    split = sorted({ord(char) for char in _SPACY_SPLIT_NON_ASCII})
    ranges: list[tuple[int, int]] = []
    for start, last in category_ranges("punctuation_symbols"):
        for code in split[bisect.bisect_left(split, start) : bisect.bisect_right(split, last)]:
            if code > start:
                ranges.append((start, code - 1))
            start = code + 1
        if start <= last:
            ranges.append((start, last))
    return _ranges_body(ranges)


@cache
def upper_case_letters() -> str:
    """A character class body holding the upper-case letters (category Lu) below U+2000, as ranges."""
    return _class_ranges(0x41, 0x2000, lambda code: unicodedata.category(chr(code)) == "Lu")


def _word(glue: str, lead: str, trail: str, period_after: str) -> str:
    # Underscores glue inside a word (snake_case) but are split off its edges (___).
    # Every quantifier is possessive (the match never gives back what it took), so a failing
    # attempt costs at most one scan of the characters it looked at, never a search over splits.
    # Combining marks (Devanagari vowel signs, Arabic harakat, Hebrew points, Thai vowels) are not
    # \w in Python but belong to the word they follow: पिछले is one word, not पिछल + े (marks and
    # word characters share no character, so each run has one reading).
    letters = rf"(?:[^\W_]|[{glued_symbols()}])++(?:[{combining_marks()}]++(?:[^\W_]|[{glued_symbols()}])*+)*+"
    # A final period stays on the word after the characters of ``period_after`` (one lookbehind, no second scan).
    return rf"(?:{lead})?{letters}(?:{glue}{letters})*+(?:(?<=[{period_after}])\.(?!\S))?(?:{trail})?"


# A host word starts where its run of word characters starts ((?<!\w)): tried inside a long
# run ("_" * n, whose "_" are words of their own), the scan to the run's end would cost n²/2.
_ENGLISH_CLITICS = (
    r"(?i:and/or)\b",
    r"(?<!\w)\w+(?=[nN]['’][tT]\b)",  # "do" of "don't"
    r"[nN]['’][tT]\b",
    r"(?<!\w)\w++(?=['’](?:[sSdDmM]|[rR][eE]|[vV][eE]|[lL][lL])\b)",  # "John" of "John's"
    r"['’](?:[sSdDmM]|[rR][eE]|[vV][eE]|[lL][lL])\b",
)
_ELISIONS = (
    r"(?i:aujourd|prud|presqu|quelqu)['’]\w+",  # words that keep their apostrophe
    r"(?<![^\W\d_])[^\W\d_]++['’](?=\w)",  # l’ d’ qu’ jusqu’ dell’ ... (from the start of its letters, as above)
)


_REGEXES: dict[str, re.Pattern[str]] = {}


def word_regex(settings: LanguageSettings) -> re.Pattern[str]:
    """The tokenizer of one language (compiled once per process)."""
    regex = _REGEXES.get(settings.code)
    if regex is None:
        regex = _REGEXES[settings.code] = _compile_word_regex(settings)
    return regex


def _compile_word_regex(settings: LanguageSettings) -> re.Pattern[str]:
    lead, trail = _edges(settings)
    # spaCy's default suffix rule splits a final period only after a lower-case letter, a digit or
    # punctuation it knows: it stays after a symbol spaCy keeps in words ("⟨...org⟩." is one word),
    # and where the language's rules say so after a capital or a digit ("FILE.", Hungarian and
    # German "3.").
    period_after = glued_symbols()
    if "upper" in settings.period_kept_after:
        period_after += upper_case_letters()
    if "digit" in settings.period_kept_after:
        period_after += "0-9"
    # Polish's suffix rules split the period of an initial (S .): it lists no single letters as special cases.
    initial = [] if settings.hyphens == "always" else [_initial(lead)]
    words = [*{"english": _ENGLISH_CLITICS, "elision": _ELISIONS}.get(settings.apostrophes, ()), *initial,
             _word(_glue(settings), lead, trail, period_after)]
    if settings.hyphens == "french":
        words.insert(0, rf"(?<=\w)-{_FRENCH_PRONOUNS}")
    parts = [_URL]
    if settings.abbreviations:
        names = "|".join(sorted((re.escape(a) for a in settings.abbreviations), key=len, reverse=True))
        parts.append(rf"(?<!\w)(?:{names})\.(?!\w)")
    parts += [_INITIALISM + _INITIALISM_END.format(upper=upper_case_letters()), *words, _PUNCT_RUN, _SYMBOL]
    # From the instructions stored ahead where this Python has them (bench/derive_word_regex_code.py):
    # re's compiler costs ~8-13 ms a language, the same pattern object either way.
    return compile_word_regex("|".join(parts))


_SIMPLE_TRAILING = frozenset(",;:!?)")


def tokenize(text: str, regex: re.Pattern[str]) -> list[str]:
    """``regex.findall(text)``, faster: plain words skip the regular expression.

    No rule reaches across whitespace, so each whitespace-separated chunk is cut alone; a chunk
    of letters and digits only is one word, and one followed by a comma, semicolon, colon,
    ``!``, ``?`` or ``)`` is two (most chunks are one of those). The equivalence with
    ``findall`` on the whole text is tested.
    """
    words: list[str] = []
    append = words.append
    findall = regex.findall
    for chunk in text.split():
        if chunk.isalnum():
            append(chunk)
        elif chunk[-1] in _SIMPLE_TRAILING and chunk[:-1].isalnum():
            append(chunk[:-1])
            append(chunk[-1])
        else:
            words.extend(findall(chunk))
    return words


def _split_hyphen_runs(words: list[str]) -> list[str]:
    """Polish: spaCy's hyphen infix splits a hyphen that follows another character, so a run of
    leading hyphens falls apart (--help is -, -, help; -n stays) and so does a run of periods
    other than "..."."""
    out: list[str] = []
    for word in words:
        if word.startswith("--"):
            core = word.lstrip("-")
            out.extend("-" * (len(word) - len(core)))
            if core:
                out.append(core)
        elif len(word) > 1 and word != "..." and not word.strip("."):  # "..." is one of spaCy's special cases
            out.extend(word)
        else:
            out.append(word)
    return out


def words_for(text: str, settings: LanguageSettings) -> list[str]:
    """The words of ``text`` by the rules of one language: its segmenter where it has one
    (Chinese, Japanese, Korean, Thai: :mod:`tamis.steps.quality.segmenters`), Indic NLP's
    tokenizer where FineWeb-2 uses it (Hindi, Bengali, Tamil, Urdu ...:
    :mod:`tamis.steps.quality.indic_tokenizer`), spaCy's tokenizer where FineWeb-2 uses spaCy's
    rules (:mod:`tamis.steps.quality.spacy_tokenizer`), pyvi's CRF for Vietnamese (syllables
    joined into words: :mod:`tamis.steps.quality.vietnamese`), else
    the rule-based regular expression; grapheme clusters for the unspaced scripts without a segmenter."""
    if settings.code == "vi":  # FineWeb-2's only pyvi language among lid.176's labels
        return vietnamese_words(text)
    if settings.segmenter is None:
        indic = INDICNLP_LANGUAGE.get(settings.code)
        if indic is not None:
            return indic_tokenize(text, indic)
        spacy = _spacy_tokenizer(settings.code)
        if spacy is not None:
            return spacy_tokenize(text, spacy, lambda chunk: _long_chunk_words(chunk, settings))
        words = tokenize(text, word_regex(settings))
        return _split_hyphen_runs(words) if settings.hyphens == "always" else words
    if settings.segmenter == "clusters":
        words: list[str] = []
        for word in tokenize(text, word_regex(settings)):
            words.extend(grapheme_clusters(word) if not word.isascii() else (word,))
        return words
    regex = word_regex(settings)
    return segment(text, settings.segmenter, lambda piece: tokenize(piece, regex))


@cache
def _spacy_tokenizer(code: str) -> SpacyTokenizer | None:
    spacy_language = SPACY_LANGUAGE.get(code)
    return tokenizer_for(spacy_language) if spacy_language and has_rules(spacy_language) else None


def _long_chunk_words(chunk: str, settings: LanguageSettings) -> list[str]:
    """Words of a chunk too long for spaCy's quadratic affix loop: the linear regular expression
    that approximates spaCy's rules (the same on ordinary words; a long URL stays whole in both)."""
    words = word_regex(settings).findall(chunk)
    return _split_hyphen_runs(words) if settings.hyphens == "always" else words


def split_words(text: str, language: str | None = "en") -> list[str]:
    """The words of ``text`` for ``language`` (see the module docstring)."""
    return words_for(text, settings_for(language))


def _is_symbol_char(char: str) -> bool:
    return char in string.punctuation or unicodedata.category(char)[0] in "PC"


def char_class(char: str) -> int:
    """Bit 0: ``char`` is punctuation or a symbol (as :func:`word_class` reads it); bit 1: a
    letter. What the compiled word totals (``tamis._native._words.word_totals``) ask."""
    return (1 if _is_symbol_char(char) else 0) | (2 if char.isalpha() else 0)


_WORD_CLASSES: dict[str, tuple[bool, bool]] = {}
_WORD_CLASS_CACHE_LIMIT = 200_000


def word_class(word: str) -> tuple[bool, bool]:
    """(made only of punctuation/symbols, holds a letter) for one word (memoised)."""
    found = _WORD_CLASSES.get(word)
    if found is None:
        if len(_WORD_CLASSES) > _WORD_CLASS_CACHE_LIMIT:  # web text has an open vocabulary
            _WORD_CLASSES.clear()
        found = _WORD_CLASSES[word] = (all(_is_symbol_char(c) for c in word), any(c.isalpha() for c in word))
    return found


class TextStats:
    """Lazily computed views of one text, shared by the filters that run on it."""

    __slots__ = ("_cache", "language", "settings", "text")

    def __init__(self, text: str, language: str | None) -> None:
        self.text = text
        self.language = language
        self.settings = settings_for(language)
        self._cache: dict[str, Any] = {}

    def _get(self, key: str, compute: Any) -> Any:
        value = self._cache.get(key)
        if value is None:
            value = self._cache[key] = compute()
        return value

    @property
    def words(self) -> list[str]:
        return self._get("words", lambda: words_for(self.text, self.settings))

    @property
    def splitlines(self) -> list[str]:
        """Lines by tamis's one definition of a line end (``\\n``, ``\\r\\n``, ``\\r``), what
        Gopher's line rules and C4 read. The references use ``str.splitlines`` (Gopher, C4) and
        ``split("\\n")`` (FineWeb); on ``\\n`` text all three agree, and on ``\\r\\n`` text this
        one does not leave a ``\\r`` at the end of every line for the punctuation rules to trip on."""
        return self._get("splitlines", lambda: split_lines(self.text))

    @property
    def nonblank_lines(self) -> list[str]:
        """The same lines, blank ones dropped (what FineWeb's rules read)."""
        return self._get("nonblank_lines", lambda: [line for line in self.splitlines if line.strip()])


_STATS: list[TextStats] = []
_STATS_SLOTS = 4


def text_stats(text: str, language: str | None) -> TextStats:
    """The shared statistics of ``text`` (cached by text identity and language)."""
    for stats in _STATS:
        if stats.text is text and stats.language == language:
            return stats
    stats = TextStats(text, language)
    _STATS.insert(0, stats)
    del _STATS[_STATS_SLOTS:]
    return stats
