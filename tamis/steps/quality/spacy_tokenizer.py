"""spaCy's rule-based tokenizer, in plain Python, on spaCy's own rule data.

FineWeb-2 counts words (Gopher's word counts, average length, alphabetic share, stop words)
with datatrove's word tokenizer, which for most languages is ``spacy.blank(code)``. This module
runs the same algorithm (spaCy 3.8 ``Tokenizer``: ``_split_affixes``, ``_attach_tokens`` and the
special-case matcher of ``_apply_special_cases``) on the same data, which
``bench/derive_spacy_rules.py`` reads from spaCy into ``spacy_rules.json.gz``: per language its
prefix, suffix and infix patterns, token_match and url_match, and its special cases. So a word
is what spaCy makes of it, for every language spaCy has rules for, without a rule per token
class (e-mail addresses in angle brackets, options, paths, numbers ...).

Text is cut at whitespace first (as spaCy does); each chunk is tokenized alone and memoised
(web text repeats its chunks: most are a dictionary hit). spaCy's affix loop searches the
suffix pattern once per character it strips, quadratic in a chunk's length: chunks longer than
``MAX_CHUNK`` characters (a long URL, a base64 blob) go to the caller's linear fallback instead.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from tamis.gcpause import gc_paused, set_up_done
from tamis.sha256 import sha256
from tamis.steps.quality import spacy_tables
from tamis.steps.quality.regex_code import compile_pattern
from tamis.steps.quality.spacy_affix import top_level_pieces
from tamis.steps.quality.spacy_analysis import NOT_STORED as _NOT_STORED
from tamis.steps.quality.spacy_analysis import program_from_json as _program_from_json
from tamis.steps.quality.spacy_analysis import stored_analysis

try:  # the regular-expression parser, to read which characters a rule can start or end on
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover (Python < 3.11)
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

try:
    from tamis._native._spacy_split import Affix as _Affix
    from tamis._native._spacy_split import Splitter as _Splitter
except ImportError:  # pragma: no cover - the extension is built on install; this keeps a broken build usable
    _Affix = _Splitter = None

DATA = Path(__file__).with_name("spacy_rules.json.gz")
# Longer chunks are cut by the linear fallback (the affix loop is quadratic in the chunk's length).
MAX_CHUNK = 200
_MEMO_LIMIT = 200_000


class _Unknown(Exception):
    """The analysis cannot bound the characters (a negated class, a category, an optional part)."""


_ZERO_WIDTH = (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT)
_MAX_CLASS = 1 << 18


def _class_chars(items: list) -> set[str]:
    chars: set[str] = set()
    for op, value in items:
        if op is _sre.LITERAL:
            chars.add(chr(value))
        elif op is _sre.RANGE and value[1] - value[0] < _MAX_CLASS:
            chars.update(map(chr, range(value[0], value[1] + 1)))
        else:
            raise _Unknown
    return chars


def _edge(sequence: list, last: bool) -> set[str] | None:
    """The characters the first (``last``: the final) character a match of ``sequence`` consumes
    can be; None when the sequence consumes nothing (lookarounds only)."""
    for op, value in reversed(sequence) if last else sequence:
        if op in _ZERO_WIDTH:
            continue
        if op is _sre.LITERAL:
            return {chr(value)}
        if op is _sre.IN:
            return _class_chars(value)
        if op is _sre.SUBPATTERN:
            found = _edge(list(value[-1]), last)
        elif op is _sre.BRANCH:
            found = set()
            for alternative in value[1]:
                edge = _edge(list(alternative), last)
                if edge is None:
                    raise _Unknown
                found |= edge
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", _sre.MAX_REPEAT)) and value[0] >= 1:
            found = _edge(list(value[2]), last)
        else:
            raise _Unknown
        if found is None:
            raise _Unknown
        return found
    return None


def _after_digit(alternative: list) -> bool:
    """Whether an alternative starts with a lookbehind that reads only ASCII digits ((?<=[0-9]):
    spaCy's units and currency suffixes), so it cannot match in a chunk without a digit."""
    for op, value in alternative:
        if op is _sre.ASSERT and value[0] == -1:
            inner = list(value[1])
            if len(inner) == 1 and inner[0][0] is _sre.IN:
                try:
                    return _class_chars(inner[0][1]) <= set("0123456789")
                except _Unknown:
                    return False
            return False
        if op not in _ZERO_WIDTH:
            return False
    return False


def _alternatives(pattern: re.Pattern[str]) -> list[list]:
    parsed = list(_sre_parse.parse(pattern.pattern, pattern.flags))
    if len(parsed) == 1 and parsed[0][0] is _sre.BRANCH:
        return [list(alternative) for alternative in parsed[0][1][1]]
    return [parsed]


def edge_chars(pattern: re.Pattern[str], last: bool) -> tuple[frozenset[str], frozenset[str]] | None:
    """(the characters a match of ``pattern`` can start (``last``: end) its consumed text with,
    those of its alternatives that need a digit before them) or None when that cannot be bounded
    (then the pattern is always tried). A chunk whose first (last) character is in neither, or
    only in the second while the chunk is all letters, cannot match: the search is skipped, which
    gives the same tokens and spares the scan most words would cost (a suffix pattern is tried
    at every position of the word)."""
    if pattern.flags & re.IGNORECASE:
        return None
    anywhere: set[str] = set()
    after_digit: set[str] = set()
    try:
        for alternative in _alternatives(pattern):
            edge = _edge(alternative, last)
            if edge is None:
                return None
            (after_digit if last and _after_digit(alternative) else anywhere).update(edge)
    except (_Unknown, RecursionError):
        return None
    return frozenset(anywhere), frozenset(after_digit - anywhere)


def infix_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Characters of which a chunk must hold one for ``pattern`` (spaCy's infixes) to match in it:
    the first character each alternative consumes, or for a zero-width alternative (Italian's
    split after an elided article) the last character its lookbehind reads. None if unbounded."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        parsed = list(_sre_parse.parse(pattern.pattern, pattern.flags))
        alternatives = parsed[0][1][1] if len(parsed) == 1 and parsed[0][0] is _sre.BRANCH else [parsed]
        chars: set[str] = set()
        for alternative in alternatives:
            edge = _edge(list(alternative), last=False)
            if edge is None:  # zero width: the character before the split point
                behind = [value for op, value in alternative if op is _sre.ASSERT and value[0] == -1]
                if not behind:
                    return None
                edge = _edge(list(behind[0][1]), last=True)
                if edge is None:
                    return None
            chars |= edge
    except (_Unknown, RecursionError, IndexError, TypeError):
        return None
    return frozenset(chars)


def _char_sets(stored: list[int] | None, table: list[str]) -> tuple[frozenset[str], frozenset[str]] | None:
    return None if stored is None else (frozenset(table[stored[0]]), frozenset(table[stored[1]]))


def _with_letters(text: str, letters: dict[str, str], letters_as_word: bool = False, unescape: bool = False) -> str:
    """A stored pattern with spaCy's letter classes put back in (stored once, not in every pattern);
    with ``unescape``, its ``\\uXXXX`` escapes of non-ASCII characters written as the characters
    (:func:`literal_escapes`: the same pattern, parsed several times faster)."""
    if unescape:
        text = literal_escapes(text)

    def letter_class(found: re.Match[str]) -> str:
        if letters_as_word:
            return "\\w"
        body = letters[found.group(1)]
        return literal_escapes(body) if unescape else body

    return re.sub("\x00(ALPHA|ALPHA_LOWER|ALPHA_UPPER)\x00", letter_class, text)


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|.)", re.DOTALL)


def _as_character(found: re.Match[str]) -> str:
    code = found.group(1) or found.group(2)
    if code is None:  # another escape (\\, \], \d ...): kept
        return found.group(0)
    value = int(code, 16)
    # Non-ASCII characters are never special in a pattern; surrogates and spaces stay escaped.
    if 128 <= value <= 0x10FFFF and not 0xD800 <= value < 0xE000 and not chr(value).isspace():
        return chr(value)
    return found.group(0)


@cache
def literal_escapes(text: str) -> str:
    """``text`` (a pattern) with each ``\\uXXXX`` / ``\\UXXXXXXXX`` escape of a non-ASCII, non-space
    character replaced by the character: the parser reads the same literal (spaCy writes its letter
    classes as thousands of such escapes, the larger part of what compiling them costs)."""
    return _ESCAPE.sub(_as_character, text)


# A letter class left out of a pattern for the analyses below stands as this one character
# (one character wide in or out of a class; analyses read it as "unknown").
_MARK = "\ue000"


def _for_analysis(stored: str) -> str:
    return re.sub("\x00(ALPHA|ALPHA_LOWER|ALPHA_UPPER)\x00", _MARK, stored)


@cache
def _parsed_for_analysis(stored: str, flags: int) -> Any:
    """``stored`` (letter classes as :data:`_MARK`) parsed by re's own parser, once for the three
    analyses below (narrowest width, required characters, end window). Parsed from its
    :func:`literal_escapes` text: the same tree (an escape and the character it names parse to
    the same literal), several times faster. Read only: nothing below changes the tree."""
    return _sre_parse.parse(_for_analysis(literal_escapes(stored)), flags)


@cache
def _payload() -> dict[str, Any]:
    return orjson.loads(gzip.decompress(DATA.read_bytes()))


def has_rules(spacy_language: str) -> bool:
    listed = spacy_tables.languages_with_rules()  # the stored tables' list: the rules stay unread
    return spacy_language in (listed if listed is not None else _payload()["languages"])


class SpacyTokenizerReference:
    """One spaCy language's tokenizer; ``chunk_tokens`` cuts one whitespace-free chunk.

    The plain algorithm: each rule's pattern searched as spaCy searches it. :class:`SpacyTokenizer`
    (what the quality filters use) gives the same tokens with cheaper searches; tests compare the two."""

    _UNESCAPE = False  # the patterns compiled from their text as stored

    def __init__(self, spacy_language: str) -> None:
        payload = _payload()
        data = payload["languages"][spacy_language]
        patterns = payload["patterns"]
        letters = payload["letter_classes"]

        def compiled(entry: list | None, letters_as_word: bool = False) -> re.Pattern[str] | None:
            if entry is None:
                return None
            index, flags = entry
            return compile_pattern(_with_letters(patterns[index], letters, letters_as_word, self._UNESCAPE), flags)

        prefix, suffix, infix = compiled(data["prefix"]), compiled(data["suffix"]), compiled(data["infix"])
        # French's token_match repeats spaCy's letter class (3,000 characters) in ~300 case-insensitive
        # alternatives: compiled as is it costs 7 s. Inside its character classes \w stands for
        # it (it also admits digits and "_"; measured on the bench pages, no chunk cut differently).
        token_match, url_match = compiled(data["token_match"], letters_as_word=True), compiled(data["url_match"])
        self._prefix = prefix.search if prefix else None
        self._suffix = suffix.search if suffix else None
        self._infix = infix.finditer if infix else None
        # Characters a prefix must start with, a suffix end with, an infix hold (None: unbounded),
        # read from the patterns by bench/derive_spacy_rules.py (edge_chars, infix_chars).
        self._prefix_first = _char_sets(data["prefix_first"], patterns)
        self._suffix_last = _char_sets(data["suffix_last"], patterns)
        self._infix_chars = None if data["infix_chars"] is None else frozenset(patterns[data["infix_chars"]])
        self._token_match = token_match.match if token_match else None
        self._url_match = url_match.match if url_match else None
        specials: dict[str, list[str]] = {key: [key] for key in data["specials"]}
        specials.update(data["split_specials"])
        self._specials = specials
        self._memo: dict[str, list[str]] = {}
        self._faster_searches(data, patterns, letters)
        self._build_merge(data["faster_heuristics"])

    def _build_merge(self, faster_heuristics: bool) -> None:
        # spaCy's special-case matcher: a special whose own tokenization (without special cases)
        # is several tokens is merged back wherever those tokens follow one another in a chunk.
        self._merge: dict[tuple[str, ...], str] = {}
        for key in self._specials:
            if not faster_heuristics or self._find_prefix(key) or self._has_infix(key) or self._find_suffix(key) or " " in key:
                pieces = tuple(self._tokenize(key, with_specials=False))
                if len(pieces) > 1:
                    self._merge[pieces] = key
        self._merge_longest = max(map(len, self._merge), default=0)
        self._merge_firsts = frozenset(pieces[0] for pieces in self._merge)

    def _faster_searches(self, data: dict[str, Any], patterns: list[str], letters: dict[str, str]) -> None:
        """Hook: :class:`SpacyTokenizer` replaces the searches by equivalent cheaper ones."""

    def _find_prefix(self, text: str) -> int:
        if self._prefix is None or (self._prefix_first is not None and text[:1] not in self._prefix_first[0]):
            return 0
        found = self._prefix(text)
        return found.end() - found.start() if found else 0

    def _find_suffix(self, text: str) -> int:
        if self._suffix is None:
            return 0
        if self._suffix_last is not None:
            anywhere, after_digit = self._suffix_last
            last = text[-1:]
            if last not in anywhere and (last not in after_digit or text.isalpha()):
                return 0
        found = self._suffix(text)
        return found.end() - found.start() if found else 0

    def _has_infix(self, text: str) -> bool:
        if self._infix is None or (self._infix_chars is not None and self._infix_chars.isdisjoint(text)):
            return False
        return next(self._infix(text), None) is not None

    def chunk_tokens(self, chunk: str) -> list[str]:
        """The tokens of one whitespace-free chunk (memoised), as spaCy cuts it."""
        tokens = self._memo.get(chunk)
        if tokens is None:
            if len(self._memo) > _MEMO_LIMIT:  # web text has an open vocabulary
                self._memo.clear()
            tokens = self._tokenize(chunk, with_specials=True)
            if len(tokens) > 1 and self._merge and self._merge_firsts.intersection(tokens):
                tokens = self._merge_specials(tokens)
            self._memo[chunk] = tokens
        return tokens

    def _tokenize(self, chunk: str, with_specials: bool) -> list[str]:
        specials = self._specials if with_specials else {}
        found = specials.get(chunk)
        if found is not None:
            return list(found)
        prefixes: list[str] = []
        suffixes: list[str] = []
        text = self._split_affixes(chunk, prefixes, suffixes, specials)
        tokens = prefixes
        if text:
            found = specials.get(text)
            if found is not None:
                tokens.extend(found)
            elif (self._token_match and self._token_match(text)) or (self._url_match and self._url_match(text)):
                tokens.append(text)
            else:
                tokens.extend(self._split_infixes(text))
        tokens.extend(reversed(suffixes))
        return tokens

    def _split_affixes(self, text: str, prefixes: list[str], suffixes: list[str], specials: dict[str, list[str]]) -> str:
        """spaCy's ``_split_affixes``: strip prefixes and suffixes until none is left, a special
        case or token_match is reached."""
        token_match = self._token_match
        last_size = 0
        while text and len(text) != last_size:
            if token_match and token_match(text):
                break
            if text in specials:
                break
            last_size = len(text)
            pre_len = self._find_prefix(text)
            if pre_len:
                prefix, minus_pre = text[:pre_len], text[pre_len:]
                if minus_pre and minus_pre in specials:
                    prefixes.append(prefix)
                    text = minus_pre
                    break
            suf_len = self._find_suffix(text[pre_len:])
            if suf_len:
                suffix, minus_suf = text[-suf_len:], text[:-suf_len]
                if minus_suf and minus_suf in specials:
                    suffixes.append(suffix)
                    text = minus_suf
                    break
            if pre_len and suf_len and pre_len + suf_len <= len(text):
                prefixes.append(prefix)
                suffixes.append(suffix)
                text = text[pre_len:-suf_len]
            elif pre_len:
                prefixes.append(prefix)
                text = minus_pre
            elif suf_len:
                suffixes.append(suffix)
                text = minus_suf
        return text

    def _split_infixes(self, text: str) -> list[str]:
        """spaCy's infix step of ``_attach_tokens`` (an infix at the very start is not split)."""
        if self._infix is None or (self._infix_chars is not None and self._infix_chars.isdisjoint(text)):
            return [text]
        tokens: list[str] = []
        start = 0
        for match in self._infix(text):
            infix_start, infix_end = match.start(), match.end()
            if infix_start == 0:
                continue
            if infix_start != start:
                tokens.append(text[start:infix_start])
            if infix_start != infix_end:
                tokens.append(text[infix_start:infix_end])
            start = infix_end
        if start < len(text):
            tokens.append(text[start:])
        return tokens

    def _merge_spans(self, tokens: list[str]) -> dict[tuple[int, int], str]:
        """{(start, end): special case} for every run tokens[start:end] that is a special case's own tokenization."""
        n = len(tokens)
        spans: dict[tuple[int, int], str] = {}
        for i in range(n):
            if tokens[i] not in self._merge_firsts:
                continue
            for j in range(i + 2, min(n, i + self._merge_longest) + 1):
                key = self._merge.get(tuple(tokens[i:j]))
                if key is not None:
                    spans[i, j] = key
        return spans

    def _merge_specials(self, tokens: list[str]) -> list[str]:
        """spaCy's special-case matcher inside one chunk: every run of tokens that is a special
        case's own tokenization, longest first then leftmost, becomes that special case's tokens
        (a run is taken unless its first or last token belongs to a run taken or seen before)."""
        found = self._merge_spans(tokens)
        if not found:
            return tokens
        spans = sorted(found, key=lambda span: (span[0] - span[1], span[0]))
        seen: set[int] = set()
        taken: list[tuple[int, int]] = []
        for start, end in spans:
            if start not in seen and end - 1 not in seen:
                taken.append((start, end))
            seen.update(range(start, end))
        out: list[str] = []
        position = 0
        for start, end in sorted(taken):
            out.extend(tokens[position:start])
            out.extend(self._specials[found[start, end]])
            position = end
        out.extend(tokens[position:])
        return out


def _uncased(char: str) -> bool:
    return not char.isalpha() and char.lower() == char == char.upper() == char.casefold()


def _required(items: list, ignore_case: bool) -> frozenset[str] | None:
    """Characters of which every match of the sequence ``items`` reads at least one (the fewest
    found), or None when no such set is known."""
    best: frozenset[str] | None = None
    for op, value in items:
        found = _required_item(op, value, ignore_case)
        if found is not None and (best is None or len(found) < len(best)):
            best = found
    return best


def _required_item(op: Any, value: Any, ignore_case: bool) -> frozenset[str] | None:
    if op is _sre.LITERAL:
        char = chr(value)
        return frozenset(char) if char != _MARK and (not ignore_case or _uncased(char)) else None
    if op is _sre.IN:
        try:
            chars = _class_chars(value)
        except _Unknown:
            return None
        if not chars or _MARK in chars:  # a letter class not put back in: its characters are not these
            return None
        return frozenset(chars) if not ignore_case or all(map(_uncased, chars)) else None
    if op is _sre.SUBPATTERN:
        _group, add_flags, del_flags, inner = value
        inner_case = (ignore_case or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return _required(list(inner), inner_case)
    if op is _sre.BRANCH:
        union: set[str] = set()
        for alternative in value[1]:
            found = _required(list(alternative), ignore_case)
            if found is None:
                return None
            union |= found
        return frozenset(union)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", _sre.MAX_REPEAT)) and value[0] >= 1:
        return _required(list(value[2]), ignore_case)
    if op is _sre.ASSERT:  # a lookaround reads characters of the same string
        return _required(list(value[1]), ignore_case)
    return None


@cache
def required_chars(stored: str, flags: int) -> frozenset[str] | None:
    """Characters of which a string must hold one for the pattern ``stored`` (as stored: spaCy's
    letter classes not put back in, they count as unknown) to match anywhere in it: a literal or
    class every match consumes or looks around at; under IGNORECASE only characters without case.
    None when the pattern names none."""
    found = stored_analysis("required", stored, flags)
    if found is not _NOT_STORED:
        return None if found is None else frozenset(found)
    return required_chars_live(stored, flags)


def required_chars_live(stored: str, flags: int) -> frozenset[str] | None:
    """:func:`required_chars` computed from the pattern (what the stored analyses are checked against)."""
    try:
        parsed = _parsed_for_analysis(stored, flags)
        return _required(list(parsed), bool(parsed.state.flags & re.IGNORECASE))
    except (_Unknown, RecursionError, re.error):
        return None


def _min_width(stored: str, flags: int) -> int:
    """The narrowest match of the pattern ``stored`` (a letter class counts one character); 0 if unknown."""
    found = stored_analysis("min_width", stored, flags)
    return _min_width_live(stored, flags) if found is _NOT_STORED else found


def _min_width_live(stored: str, flags: int) -> int:
    try:
        return _parsed_for_analysis(stored, flags).getwidth()[0]
    except (re.error, RecursionError):
        return 0


def _when_holding(chars: frozenset[str] | None, function: Callable[[str], Any]) -> Callable[[str], Any]:
    """``function``, skipped (None) for a text holding none of ``chars``."""
    if not chars:
        return function
    if len(chars) == 1:
        (char,) = chars
        return lambda text: function(text) if char in text else None
    return lambda text: None if chars.isdisjoint(text) else function(text)


_WIDEST_WINDOW = 64


@cache
def end_window(stored: str, flags: int) -> tuple[int, tuple[str, ...]] | None:
    """For a suffix pattern ``stored`` whose every top-level alternative ends in ``$``: (the widest
    match of its alternatives of bounded width, the text of the others); None otherwise."""
    found = stored_analysis("end_window", stored, flags)
    if found is not _NOT_STORED:
        return None if found is None else (found[0], tuple(found[1]))
    return end_window_live(stored, flags)


def end_window_live(stored: str, flags: int) -> tuple[int, tuple[str, ...]] | None:
    """:func:`end_window` computed from the pattern."""
    if flags & re.MULTILINE or stored.startswith("(?"):
        return None
    try:
        parsed = _parsed_for_analysis(stored, flags)
    except (re.error, RecursionError):
        return None
    if len(parsed) != 1 or parsed[0][0] is not _sre.BRANCH:
        return None
    alternatives = parsed[0][1][1]
    pieces = top_level_pieces(stored)
    if len(pieces) != len(alternatives):
        return None
    widest = 0
    unbounded: list[str] = []
    for piece, alternative in zip(pieces, alternatives, strict=True):
        if not len(alternative) or alternative[-1] != (_sre.AT, _sre.AT_END):
            return None
        width = alternative.getwidth()[1]
        if width > _WIDEST_WINDOW:
            unbounded.append(piece)
        else:
            widest = max(widest, width)
    return widest, tuple(unbounded)


WindowParts = tuple[Callable[..., "re.Match[str] | None"], int, "Callable[[str], re.Match[str] | None] | None", "frozenset[str] | None"]


def end_window_parts(pattern: re.Pattern[str], stored: str, letters: dict[str, str]) -> WindowParts | None:
    """What :func:`end_window_search` searches with: (``pattern.search``, the margin before the
    end where a bounded piece can start, the unbounded pieces' search or None, the characters
    that search needs or None); None when that cannot be bounded. The compiled splitter
    (``tamis._native._spacy_split``) runs the same search from these."""
    window = end_window(stored, pattern.flags)
    if window is None:
        return None
    widest, unbounded = window
    if not unbounded:
        return pattern.search, widest + 1, None, None
    wide_text = "|".join(unbounded)
    wide = compile_pattern(_with_letters(wide_text, letters, unescape=True), pattern.flags).search
    return pattern.search, widest + 1, wide, required_chars(wide_text, pattern.flags)


def end_window_search(pattern: re.Pattern[str], stored: str, letters: dict[str, str]) -> Callable[[str], re.Match[str] | None] | None:
    """``pattern.search`` for a suffix pattern (``stored``: its text as stored, before the letter
    classes go in), searching only where a match can start; None when that cannot be bounded.

    spaCy joins suffixes as ``piece1$|piece2$|...``: every match ends at the end of the text, so
    the leftmost match starts at the smallest position from which some piece matches to the end.
    A piece at most ``w`` characters wide can only start in the text's last ``w``; ``search`` from
    there (lookbehinds still read what comes before) finds the leftmost such match. The few
    unbounded pieces (``\\.\\.+$``) are searched alone over the whole text, and the earlier of
    the two matches is the one a full search returns. A text holding a newline (which ``$`` may
    match before) takes the full search."""
    parts = end_window_parts(pattern, stored, letters)
    return None if parts is None else _window_search(parts)


def _window_search(parts: WindowParts) -> Callable[[str], re.Match[str] | None]:
    full, margin, wide_search, wide_chars = parts
    if wide_search is None:
        def search(text: str) -> re.Match[str] | None:
            if "\n" in text:
                return full(text)
            return full(text, len(text) - margin) if len(text) > margin else full(text)
        return search
    wide = _when_holding(wide_chars, wide_search)

    def search_both(text: str) -> re.Match[str] | None:
        if "\n" in text or len(text) <= margin:
            return full(text)
        found = full(text, len(text) - margin)
        other = wide(text)
        return other if other is not None and (found is None or other.start() < found.start()) else found
    return search_both


class SpacyTokenizer(SpacyTokenizerReference):
    """:class:`SpacyTokenizerReference` with cheaper searches that find the same matches: the
    suffix pattern searched only where a suffix can start (:func:`end_window_search`), and
    ``token_match`` / ``url_match`` skipped for a text that holds none of the characters every
    match of theirs reads (:func:`required_chars`: a URL holds a ``.``). Its patterns are compiled
    from text whose escaped letters are written out (:func:`literal_escapes`), which parses faster."""

    _UNESCAPE = True

    def __init__(self, spacy_language: str, compiled: bool | None = None, affixes: bool | None = None,
                 tables: bool = True) -> None:
        self._language = spacy_language
        setting = os.environ.get("TAMIS_SPACY_COMPILED", "1")
        if compiled is None:
            compiled = setting != "0"
        if affixes is None:
            affixes = setting != "re"
        # The compiled splitter with its own matcher, from the tables derived ahead
        # (:mod:`tamis.steps.quality.spacy_tables`: ~1 ms instead of the live build below); the
        # Python path's state is built only if something asks for it (:meth:`__getattr__`).
        if compiled and affixes and tables and _Splitter is not None and _Affix is not None:
            stored = spacy_tables.member(spacy_language)
            if stored is not None:
                self._from_tables(stored)
                return
        super().__init__(spacy_language)
        # The same algorithm compiled (tamis/_native/spacy_split.c), on these very memos;
        # ``compiled=False`` keeps to the Python path (what tests compare it with), and so does
        # TAMIS_SPACY_COMPILED=0 by default (for side-by-side benchmarks). The compiled path runs
        # the prefix, suffix and infix patterns with its own matcher (spacy_affix: each pattern
        # translated, re kept for one it cannot translate); ``affixes=False`` (by default
        # TAMIS_SPACY_COMPILED=re) has it call these re searches instead.
        self._native = self._compiled(affixes) if compiled and _Splitter is not None else None

    def _from_tables(self, stored: dict[str, Any]) -> None:
        """The compiled splitter built from a language's stored tables (what :meth:`_compiled`
        hands it, computed ahead by ``spacy_tables.live_tables``). The ``re`` searches it is
        handed stand only for "this language has such a rule": its matcher runs the programs
        instead, so each is a :class:`_Deferred` that builds the Python path if ever called."""
        specials: dict[str, list[str]] = {key: [key] for key in stored["specials"]}
        specials.update(stored["split_specials"])
        self._specials = specials
        self._memo: dict[str, list[str]] = {}
        self._cuts: dict[str, list[str]] = {}
        self._pieces: dict[str, tuple[str, ...] | None] = {}
        self._longest_special = longest = stored["longest_special"]
        self._faster_heuristics = stored["faster_heuristics"]
        self._affixes = affixes = [spacy_tables.affix(stored["programs"][name], _Affix) for name in spacy_tables.AFFIXES]
        prefix, suffix, infix, url = (None if found is None else _Deferred(self, getter)
                                      for found, getter in zip(affixes, _DEFERRED, strict=True))
        token_match = None if stored["token_match"] is None else spacy_tables.pattern(stored["token_match"]).match
        chars = stored["chars"]
        self._arguments = [
            prefix, chars["prefix_first"], suffix, stored["margin"], _Deferred(self, _wide_search) if stored["wide"] else None,
            chars["wide_chars"], chars["suffix_any"], chars["suffix_digit"], infix,
            _Deferred(self, _infix_match) if stored["infix_match"] else None, chars["infix_chars"],
            token_match, chars["token_chars"], url, chars["url_chars"]]
        self._native = _Splitter(specials, *self._arguments,
                                 self._merge_specials if longest else None, longest, _MEMO_LIMIT, MAX_CHUNK, *affixes)
        self._plain = None

    def _plain_splitter(self) -> Any:
        """The same compiled splitter with no special case: a special case's own tokenization,
        for the special-case matcher (:meth:`_pieces_of`) without the Python path's searches
        (built the first time a run of tokens spells a special case)."""
        if self._plain is None:
            self._plain = self._native.without_specials()  # its flag tables copied, not read again
        return self._plain

    def __getattr__(self, name: str) -> Any:
        """Only a splitter built from the stored tables lacks attributes: those of the Python path
        (its searches, its character tests), built live on first use (a test comparing the two
        paths on one object, a :class:`_Deferred` search called)."""
        own = self.__dict__
        if name.startswith("__") or "_arguments" not in own or "_completed" in own:
            raise AttributeError(name)
        own["_completed"] = True
        live = SpacyTokenizer(own["_language"], compiled=False, tables=False)
        for key, value in live.__dict__.items():
            own.setdefault(key, value)  # the memos, special cases and pieces stay this object's
        return object.__getattribute__(self, name)

    def _faster_searches(self, data: dict[str, Any], patterns: list[str], letters: dict[str, str]) -> None:
        # The searches' parts are kept for the compiled splitter, which runs the same tests.
        self._suffix_parts: WindowParts | None = None
        if self._suffix is not None:
            self._suffix_parts = end_window_parts(self._suffix.__self__, patterns[data["suffix"][0]], letters)
            if self._suffix_parts is not None:
                self._suffix = _window_search(self._suffix_parts)
        # Whether every infix match consumes a character (no empty match): then the compiled
        # splitter tries the infix pattern only where an infix character stands.
        self._infix_consumes = data["infix"] is not None and _min_width(patterns[data["infix"][0]], data["infix"][1]) >= 1
        self._match_parts: dict[str, tuple[Callable[[str], Any], frozenset[str] | None]] = {}
        for name, entry in (("_token_match", data["token_match"]), ("_url_match", data["url_match"])):
            match = getattr(self, name)
            if match is not None:
                self._match_parts[name] = match, required_chars(patterns[entry[0]], entry[1])
                setattr(self, name, _when_holding(self._match_parts[name][1], match))
        self._affix_sources = {name: None if data[name] is None else (patterns[data[name][0]], data[name][1])
                               for name in ("prefix", "suffix", "infix", "url_match")}
        wide = _WIDE_OPEN
        self._no_prefix = wide if self._prefix is None else None if self._prefix_first is None else self._prefix_first[0]
        self._no_suffix = (wide, wide) if self._suffix is None else self._suffix_last
        self._no_infix = wide if self._infix is None else self._infix_chars

        self._cuts: dict[str, list[str]] = {}

    def _build_merge(self, faster_heuristics: bool) -> None:
        # Not built ahead (Indonesian has 16,000 special cases, each cut once to build it): a run
        # of tokens is a special case's own tokenization only if the run's text is that special
        # case, so each run of two tokens or more is looked up by its text, and a special case's
        # pieces are cut the first time a run spells it.
        self._faster_heuristics = faster_heuristics
        self._longest_special = max((len(key) for key in self._specials if " " not in key), default=0)
        self._pieces: dict[str, tuple[str, ...] | None] = {}

    def _compiled(self, affixes: bool = True) -> Any:
        """The compiled splitter over this tokenizer's rules, searches and memos (and with
        ``affixes``, the prefix / suffix / infix patterns as programs for its own matcher)."""

        def chars(found: frozenset[str] | None) -> str | None:
            return None if found is None else "".join(found)  # read into a flag table: order is free

        full = margin = wide = wide_chars = None
        if self._suffix is not None:
            full, margin, wide, wide_chars = self._suffix_parts or (self._suffix, -1, None, None)
        token_match, token_chars = self._match_parts.get("_token_match", (None, None))
        url_match, url_chars = self._match_parts.get("_url_match", (None, None))
        anywhere, after_digit = self._suffix_last or (None, None)
        return _Splitter(
            self._specials,
            self._prefix, chars(self._prefix_first[0]) if self._prefix_first is not None else None,
            full, margin if margin is not None else -1, wide, chars(wide_chars), chars(anywhere), chars(after_digit),
            self._infix, self._infix.__self__.match if self._infix_consumes and self._infix is not None else None,
            chars(self._infix_chars), token_match, chars(token_chars), url_match, chars(url_chars),
            self._merge_specials if self._longest_special else None, self._longest_special, _MEMO_LIMIT, MAX_CHUNK,
            *(self._affix(name) if affixes else None for name in ("prefix", "suffix", "infix", "url_match")))

    def _affix(self, name: str) -> Any:
        """The compiled matcher's program for this language's ``name`` pattern, or None (no
        such rule, or a pattern kept with re). url_match is called as ``pattern.match``: its
        program stands for it only where every alternative starts with ``^`` (then a search
        can only match at 0). token_match stays with re (compiled with ``\\w`` for the letters)."""
        source = self._affix_sources[name]
        if source is None or _Affix is None:
            return None
        program = affix_program(*source)
        if program is None or (name == "url_match" and not all(begins for _pc, _width, begins, _ends in program.alternatives)):
            return None
        return _shared_affix(*source)

    def _pieces_of(self, key: str) -> tuple[str, ...] | None:
        """The special case's own tokenization if the matcher uses it (several pieces), else None."""
        if key not in self._pieces:
            pieces: tuple[str, ...] | None = None
            if "_arguments" in self.__dict__:  # built from the stored tables
                # The compiled splitter with no special case cuts what _tokenize(key, False) cuts;
                # the tests below only spare that cut where it gives one piece (none strips or
                # splits anything).
                pieces = tuple(self._plain_splitter().chunk_tokens(key))
            elif not self._faster_heuristics or self._find_prefix(key) or self._has_infix(key) or self._find_suffix(key) or " " in key:
                pieces = tuple(self._tokenize(key, with_specials=False))
            self._pieces[key] = pieces if pieces is not None and len(pieces) > 1 else None
        return self._pieces[key]

    def _merge_spans(self, tokens: list[str]) -> dict[tuple[int, int], str]:
        spans: dict[tuple[int, int], str] = {}
        specials, longest = self._specials, self._longest_special
        for i in range(len(tokens) - 1):
            key = tokens[i]
            for j in range(i + 1, len(tokens)):
                key += tokens[j]
                if len(key) > longest:
                    break
                if key in specials:
                    pieces = self._pieces_of(key)
                    if pieces is not None and len(pieces) == j + 1 - i and tuple(tokens[i:j + 1]) == pieces:
                        spans[i, j + 1] = key
        return spans

    def chunk_tokens(self, chunk: str) -> list[str]:
        tokens = self._memo.get(chunk)
        if tokens is None:
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            tokens = self._tokenize(chunk, with_specials=True)
            if len(tokens) > 1 and self._longest_special:
                tokens = self._merge_specials(tokens)
            self._memo[chunk] = tokens
        return tokens

    def _tokenize(self, chunk: str, with_specials: bool) -> list[str]:
        if with_specials:
            return list(self._cut(chunk, self._specials, self._cuts))
        return self._cut(chunk, {}, {})

    def _cut(self, text: str, specials: dict[str, list[str]], memo: dict[str, list[str]]) -> list[str]:
        """The reference's ``_tokenize(text)``, one round of the affix loop at a time: after a
        round strips a prefix and/or a suffix, the loop goes on exactly as a new loop on what is
        left would (its state is only the text), so that rest is cut by this same function,
        memoised (``word.`` reuses ``word``)."""
        found = memo.get(text)
        if found is None:
            if len(memo) > _MEMO_LIMIT:
                memo.clear()
            found = memo[text] = self._cut_once(text, specials, memo)
        return found

    def _cut_once(self, text: str, specials: dict[str, list[str]], memo: dict[str, list[str]]) -> list[str]:
        special = specials.get(text)
        if special is not None:
            return list(special)
        if not text:
            return []
        # A text that no prefix can start, no suffix end and no infix cut (the same character
        # tests as _find_prefix, _find_suffix and _split_infixes) is one token: the loop strips
        # nothing, and token_match, url_match and the infix step all leave it whole.
        starts, ends, inner = self._no_prefix, self._no_suffix, self._no_infix
        if (starts is not None and ends is not None and inner is not None
                and (starts is _WIDE_OPEN or text[0] not in starts)
                and (ends[0] is _WIDE_OPEN or (text[-1] not in ends[0] and (text[-1] not in ends[1] or text.isalpha())))
                and (inner is _WIDE_OPEN or inner.isdisjoint(text))):
            return [text]
        if self._token_match and self._token_match(text):
            return [text]
        pre_len = self._find_prefix(text)
        if pre_len:
            minus_pre = text[pre_len:]
            if minus_pre and minus_pre in specials:
                return [text[:pre_len], *specials[minus_pre]]
        suf_len = self._find_suffix(text[pre_len:])
        if suf_len:
            minus_suf = text[:-suf_len]
            if minus_suf and minus_suf in specials:
                return [*specials[minus_suf], text[-suf_len:]]
        if pre_len and suf_len and pre_len + suf_len <= len(text):
            rest = text[pre_len:-suf_len]
            return [text[:pre_len], *(self._cut(rest, specials, memo) if rest else ()), text[-suf_len:]]
        if pre_len:
            rest = text[pre_len:]
            return [text[:pre_len], *(self._cut(rest, specials, memo) if rest else ())]
        if suf_len:
            rest = text[:-suf_len]
            return [*(self._cut(rest, specials, memo) if rest else ()), text[-suf_len:]]
        # nothing stripped: the loop ends on the whole text (token_match already said no)
        if self._url_match and self._url_match(text):
            return [text]
        return self._split_infixes(text)


class _Deferred:
    """A Python-path search handed to a compiled splitter built from the stored tables, which
    calls its own matcher's program instead (the search marks that the rule exists): built, with
    the whole Python path, only if it is ever called."""

    __slots__ = ("_get", "_tokenizer")

    def __init__(self, tokenizer: SpacyTokenizer, get: Callable[[SpacyTokenizer], Callable[..., Any]]) -> None:
        self._tokenizer = tokenizer
        self._get = get

    def __call__(self, *args: Any) -> Any:
        return self._get(self._tokenizer)(*args)


def _suffix_full(tokenizer: SpacyTokenizer) -> Callable[..., Any]:
    return tokenizer._suffix_parts[0] if tokenizer._suffix_parts is not None else tokenizer._suffix


def _wide_search(tokenizer: SpacyTokenizer) -> Callable[..., Any]:
    return tokenizer._suffix_parts[2]


def _infix_match(tokenizer: SpacyTokenizer) -> Callable[..., Any]:
    return tokenizer._infix.__self__.match


# The searches _compiled hands the splitter for prefix, suffix, infix and url_match, in that order.
_DEFERRED: tuple[Callable[[SpacyTokenizer], Callable[..., Any]], ...] = (
    lambda tokenizer: tokenizer._prefix, _suffix_full, lambda tokenizer: tokenizer._infix,
    lambda tokenizer: tokenizer._match_parts["_url_match"][0])


# Stands for "no rule of this kind": every character passes the tests above (its own object:
# an empty frozenset from the rule data is the same object as any other empty frozenset).
_WIDE_OPEN: Any = object()


@cache
def affix_program(stored: str, flags: int) -> Any:
    """The pattern ``stored`` (as the rule data holds it) translated for the compiled splitter's
    matcher (:mod:`tamis.steps.quality.spacy_affix`), or None where it cannot be exactly."""
    found = stored_analysis("program", program_key(stored), flags)
    if found is not _NOT_STORED:
        return None if found is None else _program_from_json(found)
    return affix_program_live(stored, flags)


def program_key(stored: str) -> str:
    """What a stored program is filed under: the pattern and the letter classes it is translated with."""
    return f"{stored}\0{_letters_digest()}"


@cache
def _letters_digest() -> str:
    return sha256(orjson.dumps(_payload()["letter_classes"], option=orjson.OPT_SORT_KEYS)).hexdigest()


def affix_program_live(stored: str, flags: int) -> Any:
    """:func:`affix_program` translated from the pattern."""
    from tamis.steps.quality.spacy_affix import Untranslatable, translate

    try:
        return translate(literal_escapes(stored), flags, _payload()["letter_classes"])
    except Untranslatable:
        return None


@cache
def _shared_affix(stored: str, flags: int) -> Any:
    """One matcher per distinct pattern (url_match is the same in every language): its scratch
    space (backtracking stack, memo) is only used within one call, under the GIL."""
    return _Affix(*affix_program(stored, flags).arguments())


@cache
def tokenizer_for(spacy_language: str) -> SpacyTokenizer:
    # Its tables (tens of thousands of objects) live as long as the process: built with no
    # collection walking them as they grow, then out of later ones (tamis.gcpause; the command line).
    with gc_paused():
        tokenizer = SpacyTokenizer(spacy_language)
    set_up_done()
    return tokenizer


def tokenize(text: str, tokenizer: SpacyTokenizer, fallback: Callable[[str], list[str]]) -> list[str]:
    """The words of ``text``: each whitespace-separated chunk cut by ``tokenizer``, or by
    ``fallback`` when it is longer than ``MAX_CHUNK`` characters (compiled:
    :func:`tokenize_reference` is the same in Python; tests compare the two)."""
    native = tokenizer._native
    if native is not None:
        return native.tokenize(text, fallback)
    return tokenize_reference(text, tokenizer, fallback)


def tokenize_reference(text: str, tokenizer: SpacyTokenizer, fallback: Callable[[str], list[str]]) -> list[str]:
    """:func:`tokenize` in Python: ``SpacyTokenizer.chunk_tokens`` on each chunk."""
    words: list[str] = []
    extend = words.extend
    chunk_tokens = tokenizer.chunk_tokens
    known = tokenizer._memo.get  # most chunks were cut before: read the memo without a call per chunk
    for chunk in text.split():
        if len(chunk) <= MAX_CHUNK:
            tokens = known(chunk)
            extend(chunk_tokens(chunk) if tokens is None else tokens)
        else:
            extend(fallback(chunk))
    return words
