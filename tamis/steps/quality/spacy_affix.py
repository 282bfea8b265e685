"""spaCy's prefix, suffix and infix patterns translated for the compiled splitter's own matcher.

The compiled splitter (``tamis/_native/spacy_split.c``) used to call Python's ``re`` for every
prefix, suffix and infix search: a Python call, a match object and its ``span()`` per search,
and ``re`` trying every alternative of a pattern at every position. This module translates a
pattern into a small backtracking program that ``tamis/_native/spacy_affix.c`` runs on the text
directly, with the same semantics as ``re``:

- the pattern is cut at its top-level ``|`` (:func:`top_level_pieces`); each piece is one
  alternative, and a search tries, at each start position from the left, the alternatives in
  their order, the first that matches wins (what ``re`` does: leftmost, then first alternative);
- inside an alternative: literals, character classes (ranges, negation, the Unicode categories
  ``\\d \\w \\s`` as ``re`` reads them for str patterns), ``.``, ``^ $ \\A \\Z``, groups, nested
  alternations (tried in order, backtracking into the next on failure), greedy and lazy
  repeats (backtracking one step at a time), lookaheads and fixed-width lookbehinds;
- ``finditer``'s rule after an empty match (the next match may not be empty at the same place).

Anything else (IGNORECASE, MULTILINE, back-references, atomic groups, possessive repeats,
``\\b``, a repeat of something that can match empty, an unbounded repeat inside a lookaround)
raises :class:`Untranslatable`, and the caller keeps ``re`` for that whole pattern. Tests run
both on strings built from each pattern's own literals and class members.

Linear time: a repeat compiles to a choice point (SPLIT) that carries a memo slot; the matcher
enters each (choice point, position) pair at most once per search (a pair entered before has
failed: the first success ends the search), so a search is at most (choice points x text
length) steps, whatever the text. Lookarounds have no unbounded repeat, so each is bounded by
its own size. For each character, the alternatives whose first consumed character can be it
are listed ahead (in order), so a search tries only those at each position.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

try:
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover (Python < 3.11)
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

# Opcodes (the C matcher's ``enum op``; keep both in step).
CHAR, NOT_CHAR, CLASS, ANY, ANY_ALL, BOL, EOL, EOS, SPLIT, JMP, LOOK, MATCH, SUBMATCH = range(1, 14)

# Category bits (the C matcher's ``enum category``): re's Unicode categories for str patterns.
_CATEGORIES = {
    _sre.CATEGORY_DIGIT: 1, _sre.CATEGORY_NOT_DIGIT: 2,
    _sre.CATEGORY_SPACE: 4, _sre.CATEGORY_NOT_SPACE: 8,
    _sre.CATEGORY_WORD: 16, _sre.CATEGORY_NOT_WORD: 32,
    _sre.CATEGORY_LINEBREAK: 64, _sre.CATEGORY_NOT_LINEBREAK: 128,
}
_MAX_CODE = 200_000  # instructions per pattern: a larger translation is not worth it
_MAXUNICODE = 0x10FFFF
_REFUSED_FLAGS = re.IGNORECASE | re.MULTILINE | re.ASCII | re.LOCALE | re.VERBOSE
_REPEATS = (_sre.MAX_REPEAT, _sre.MIN_REPEAT)
# Private-use characters standing for spaCy's letter classes while a pattern is parsed (their
# ranges are put in when the class is built: parsing the classes' thousands of letters again
# in every pattern would cost more than all the rest).
# (The last private-use plane's last characters: not inside the ranges spaCy's patterns write,
# such as url_match's \u00a1-\uffff; a pattern holding one, or a range over one, is refused.)
_LETTER_MARKS = {"ALPHA": "\U0010fffb", "ALPHA_LOWER": "\U0010fffc", "ALPHA_UPPER": "\U0010fffd"}


class Untranslatable(Exception):
    """The pattern uses something the matcher does not reproduce exactly: keep ``re`` for it."""


class Program(NamedTuple):
    """What ``tamis._native._spacy_split.Affix`` is built from (see :meth:`arguments`)."""

    code: list[int]
    classes: list[tuple[int, int, tuple[int, ...]]]  # (negated, category bits, flat sorted [lo, hi, ...])
    alternatives: list[tuple[int, int, int, int]]  # (start pc, max width or -1, begins with ^, ends with $)
    slots: int
    segment_starts: list[int]  # dispatch: the code points where the candidate list changes
    segment_lists: list[int]
    lists: list[list[int]]  # candidate alternatives, in pattern order
    end_list: int  # candidates at the end of the text (alternatives that may consume nothing)

    def arguments(self) -> tuple:
        return (self.code, self.classes, self.alternatives, self.slots,
                self.segment_starts, self.segment_lists, self.lists, self.end_list)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    next_lo = 0
    for lo, hi in ranges:
        if lo > next_lo:
            out.append((next_lo, lo - 1))
        next_lo = hi + 1
    if next_lo <= _MAXUNICODE:
        out.append((next_lo, _MAXUNICODE))
    return out


@cache
def _letter_ranges(body: str) -> tuple[tuple[int, int], ...]:
    """The code point ranges of ``[body]`` (a spaCy letter class), read by re's own parser."""
    parsed = list(_sre_parse.parse(f"[{body}]"))
    if len(parsed) != 1:
        raise Untranslatable("letter class")
    op, value = parsed[0]
    if op is _sre.LITERAL:
        return ((value, value),)
    if op is not _sre.IN:
        raise Untranslatable("letter class")
    ranges: list[tuple[int, int]] = []
    for item, argument in value:
        if item is _sre.LITERAL:
            ranges.append((argument, argument))
        elif item is _sre.RANGE:
            ranges.append(argument)
        else:
            raise Untranslatable("letter class")
    return tuple(_merge(ranges))


_ClassSpec = tuple[int, int, tuple[int, ...]]  # (negated, category bits, flat sorted [lo, hi, ...])
_Letters = tuple[tuple[str, str], ...]  # (private-use mark, letter class body) pairs


def _marks(letters: _Letters) -> dict[int, tuple[tuple[int, int], ...]]:
    return {ord(mark): _letter_ranges(body) for mark, body in letters}


def _spec(negated: bool, categories: int, ranges: list[tuple[int, int]]) -> _ClassSpec:
    return int(negated), categories, tuple(bound for pair in _merge(ranges) for bound in pair)


@cache
def _class_spec(items: tuple, letters: _Letters) -> _ClassSpec:
    """A character class (re's parsed items) as the matcher's class. Cached: the languages'
    patterns repeat their classes (spaCy's letter classes above all)."""
    marks = _marks(letters)
    negated, categories = False, 0
    ranges: list[tuple[int, int]] = []
    for position, (item, argument) in enumerate(items):
        if item is _sre.NEGATE and position == 0:
            negated = True
        elif item is _sre.LITERAL:
            ranges.extend(marks.get(argument, ((argument, argument),)))
        elif item is _sre.RANGE:
            lo, hi = argument
            if any(lo <= mark <= hi for mark in marks):
                raise Untranslatable("a range over a letter-class mark")
            ranges.append((lo, hi))
        elif item is _sre.CATEGORY and argument in _CATEGORIES:
            categories |= _CATEGORIES[argument]
        else:
            raise Untranslatable(f"class item {item}")
    return _spec(negated, categories, ranges)


@cache
def _letter_spec(mark: int, negated: bool, letters: _Letters) -> _ClassSpec:
    return _spec(negated, 0, list(_marks(letters)[mark]))


class _Compiler:
    def __init__(self, flags: int, letters: _Letters) -> None:
        self.dotall = bool(flags & re.DOTALL)
        self.letter_key = letters
        self.letters = _marks(letters)  # private-use mark -> the letter class's ranges
        self.code: list[int] = []
        self.classes: list[_ClassSpec] = []
        self.class_index: dict[_ClassSpec, int] = {}
        self.slots = 0

    def emit(self, *words: int) -> int:
        at = len(self.code)
        self.code.extend(words)
        if len(self.code) > _MAX_CODE:
            raise Untranslatable("too large")
        return at

    def klass(self, spec: _ClassSpec) -> int:
        if spec not in self.class_index:
            self.class_index[spec] = len(self.classes)
            self.classes.append(spec)
        return self.class_index[spec]

    def class_of(self, items: list) -> int:
        return self.klass(_class_spec(tuple(items), self.letter_key))

    def sequence(self, items, in_look: bool) -> None:
        for op, value in items:
            self.item(op, value, in_look)

    def item(self, op, value, in_look: bool) -> None:
        if op is _sre.LITERAL:
            if value in self.letters:  # a class of the letter class alone (re's parser made it a literal)
                self.emit(CLASS, self.klass(_letter_spec(value, False, self.letter_key)))
            else:
                self.emit(CHAR, value)
        elif op is _sre.NOT_LITERAL:
            if value in self.letters:
                self.emit(CLASS, self.klass(_letter_spec(value, True, self.letter_key)))
            else:
                self.emit(NOT_CHAR, value)
        elif op is _sre.IN:
            self.emit(CLASS, self.class_of(list(value)))
        elif op is _sre.ANY:
            self.emit(ANY_ALL if self.dotall else ANY)
        elif op is _sre.AT:
            at = {_sre.AT_BEGINNING: BOL, _sre.AT_BEGINNING_STRING: BOL, _sre.AT_END: EOL, _sre.AT_END_STRING: EOS}.get(value)
            if at is None:
                raise Untranslatable(f"assertion {value}")
            self.emit(at)
        elif op is _sre.SUBPATTERN:
            _group, add_flags, del_flags, inner = value
            if add_flags or del_flags:
                raise Untranslatable("scoped flags")
            self.sequence(inner, in_look)
        elif op is _sre.BRANCH:
            self.branch(value[1], in_look)
        elif op in _REPEATS:
            self.repeat(value, greedy=op is _sre.MAX_REPEAT, in_look=in_look)
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            direction, inner = value
            low, high = inner.getwidth()
            if direction < 0 and low != high:
                raise Untranslatable("variable-width lookbehind")
            at = self.emit(LOOK, int(op is _sre.ASSERT_NOT), high if direction < 0 else 0, 0)
            self.sequence(inner, in_look=True)
            self.emit(SUBMATCH)
            self.code[at + 3] = len(self.code)
        else:
            raise Untranslatable(f"operator {op}")

    def split(self, in_look: bool) -> int:
        """A choice point (first, second, memo slot), targets filled in by the caller."""
        slot = -1
        if not in_look:
            slot = self.slots
            self.slots += 1
        return self.emit(SPLIT, 0, 0, slot)

    def branch(self, alternatives, in_look: bool) -> None:
        ends: list[int] = []
        for index, alternative in enumerate(alternatives):
            if index == len(alternatives) - 1:
                self.sequence(alternative, in_look)
                break
            at = self.split(in_look)
            self.code[at + 1] = len(self.code)
            self.sequence(alternative, in_look)
            ends.append(self.emit(JMP, 0))
            self.code[at + 2] = len(self.code)
        for at in ends:
            self.code[at + 1] = len(self.code)

    def repeat(self, value, greedy: bool, in_look: bool) -> None:
        low, high, body = value
        if body.getwidth()[0] == 0:  # re stops an empty iteration its own way: not reproduced
            raise Untranslatable("repeat of something that can match empty")
        for _ in range(low):
            self.sequence(body, in_look)
        if high == _sre.MAXREPEAT:
            if in_look:
                raise Untranslatable("unbounded repeat in a lookaround")
            loop = self.split(in_look)
            self.sequence(body, in_look)
            self.emit(JMP, loop)
            self.aim(loop, self_next=loop + 4, out=len(self.code), greedy=greedy)
            return
        optional: list[int] = []
        for _ in range(high - low):
            at = self.split(in_look)
            optional.append(at)
            self.sequence(body, in_look)
        for at in optional:
            self.aim(at, self_next=at + 4, out=len(self.code), greedy=greedy)

    def aim(self, at: int, self_next: int, out: int, greedy: bool) -> None:
        self.code[at + 1], self.code[at + 2] = (self_next, out) if greedy else (out, self_next)


def _first_chars(items, letters: _Letters, marks: dict[int, tuple[tuple[int, int], ...]]) -> tuple[list[tuple[int, int]] | None, bool]:
    """(code point ranges the first character a match of ``items`` consumes can be, or None when
    not known; whether a match may consume nothing)."""
    ranges: list[tuple[int, int]] = []
    for op, value in items:
        if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
            continue
        if op is _sre.LITERAL:
            return ranges + list(marks.get(value, ((value, value),))), False
        if op is _sre.IN:
            found = _spec_ranges(_class_spec(tuple(value), letters))
            if found is None:
                return None, False
            return ranges + list(found), False
        if op in (_sre.NOT_LITERAL, _sre.ANY):
            return None, False
        if op is _sre.SUBPATTERN:
            found, nullable = _first_chars(value[-1], letters, marks)
        elif op is _sre.BRANCH:
            found, nullable = [], False
            for alternative in value[1]:
                more, empty = _first_chars(alternative, letters, marks)
                if more is None:
                    return None, False
                found += more
                nullable = nullable or empty
        elif op in _REPEATS:
            found, nullable = _first_chars(value[2], letters, marks)
            nullable = nullable or value[0] == 0
        else:
            return None, False
        if found is None:
            return None, False
        ranges += found
        if not nullable:
            return ranges, False
    return ranges, True


@cache
def _spec_ranges(spec: _ClassSpec) -> tuple[tuple[int, int], ...] | None:
    """The code point ranges of a class, None when it holds a category (not enumerated)."""
    negated, categories, flat = spec
    if categories:
        return None
    ranges = list(zip(flat[::2], flat[1::2], strict=True))
    return tuple(_complement(ranges) if negated else ranges)


# A pattern's text as tokens: an escape, a character class, a group bracket or "|", or a run of
# anything else (re's reading of a class: "^" first negates, "]" first is a member).
_TOKENS = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|[()|]|[^\\\[()|]+|.", re.DOTALL)


def _marks_in_classes(text: str, marks: set[str]) -> bool:
    """Whether every mark in ``text`` stands inside a character class (where the letter class's
    body goes: its letters are then members of that class, what the ranges stand for)."""
    return not any(token[0] != "[" and not marks.isdisjoint(token) for token in _TOKENS.findall(text))


def top_level_pieces(text: str) -> list[str]:
    """A pattern's text cut at its top-level ``|`` (escapes, classes and groups read past)."""
    pieces: list[str] = []
    depth = start = 0
    for found in _TOKENS.finditer(text):
        token = found.group()
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif token == "|" and depth == 0:
            pieces.append(text[start:found.start()])
            start = found.end()
    pieces.append(text[start:])
    return pieces


class _Fragment(NamedTuple):
    """One top-level alternative compiled alone: its code (targets from 0, its own classes and
    memo slots, renumbered when the pattern's program is put together) and what the search
    needs to know of it."""

    flags: int  # the parser's flags after reading it (inline flags included)
    code: tuple[int, ...]
    moves: tuple[tuple[int, int], ...]  # (position in code, what it holds: _TARGET, _CLASS or _SLOT)
    classes: tuple[_ClassSpec, ...]
    slots: int
    max_width: int
    begins: int
    ends: int
    first: tuple[tuple[int, int], ...] | None
    nullable: bool


# Instruction widths, by opcode (the C matcher's check_code reads the same).
_WIDTH = {CHAR: 2, NOT_CHAR: 2, CLASS: 2, ANY: 1, ANY_ALL: 1, BOL: 1, EOL: 1, EOS: 1, SPLIT: 4, JMP: 2, LOOK: 4, MATCH: 1, SUBMATCH: 1}


_TARGET, _CLASS, _SLOT = range(3)


def _moves(code: list[int]) -> tuple[tuple[int, int], ...]:
    """Where a fragment's code holds a target, a class number or a memo slot (renumbered when
    it is placed in a pattern's program)."""
    moves: list[tuple[int, int]] = []
    pc = 0
    while pc < len(code):
        op = code[pc]
        if op == CLASS:
            moves.append((pc + 1, _CLASS))
        elif op == SPLIT:
            moves += [(pc + 1, _TARGET), (pc + 2, _TARGET)] + ([(pc + 3, _SLOT)] if code[pc + 3] >= 0 else [])
        elif op == JMP:
            moves.append((pc + 1, _TARGET))
        elif op == LOOK:
            moves.append((pc + 3, _TARGET))
        pc += _WIDTH[op]
    return tuple(moves)


@cache
def _fragment(piece: str, flags: int, letters: _Letters) -> _Fragment:
    """``piece`` (one alternative, spaCy's letter classes as private-use marks, ``letters``
    the (mark, body) pairs) compiled. Cached: the languages' patterns share most alternatives."""
    marks = _marks(letters)
    try:
        parsed = _sre_parse.parse(piece, flags)
    except (re.error, RecursionError) as error:
        raise Untranslatable(str(error)) from error
    flags = parsed.state.flags
    if flags & _REFUSED_FLAGS:
        raise Untranslatable("flags")
    compiler = _Compiler(flags, letters)
    items = list(parsed)
    low, high = parsed.getwidth()
    compiler.sequence(items, in_look=False)
    compiler.emit(MATCH)
    first, nullable = _first_chars(items, letters, marks)
    return _Fragment(
        flags, tuple(compiler.code), _moves(compiler.code), tuple(compiler.classes), compiler.slots, -1 if high >= _sre.MAXREPEAT else high,
        int(items[:1] in ([(_sre.AT, _sre.AT_BEGINNING)], [(_sre.AT, _sre.AT_BEGINNING_STRING)])),
        int(items[-1:] == [(_sre.AT, _sre.AT_END)]),
        None if first is None else tuple(_merge(first)), nullable or low == 0)


def translate(text: str, flags: int, letters: dict[str, str] | None = None) -> Program:
    """The program for the pattern ``text`` (with ``flags``), or :class:`Untranslatable`.

    ``letters`` maps spaCy's letter-class names to their bodies; ``text`` may hold them as
    ``\\x00NAME\\x00`` inside a character class (as the rule data stores them). Escapes of
    non-ASCII characters are best written out first (``literal_escapes``): parsing is faster."""
    used: list[tuple[str, str]] = []
    if letters:
        if any(mark in text for mark in _LETTER_MARKS.values()):
            raise Untranslatable("pattern holds the private-use marks")
        for name, mark in _LETTER_MARKS.items():
            if f"\x00{name}\x00" in text:
                used.append((mark, letters[name]))
                text = text.replace(f"\x00{name}\x00", mark)
        if not _marks_in_classes(text, {mark for mark, _body in used}):
            raise Untranslatable("a letter class outside brackets")
    if "\x00" in text:
        raise Untranslatable("unknown letter class")
    code: list[int] = []
    classes: list[_ClassSpec] = []
    class_index: dict[_ClassSpec, int] = {}
    slots = 0
    alternatives: list[tuple[int, int, int, int]] = []
    firsts: list[tuple[tuple[tuple[int, int], ...] | None, bool]] = []
    letter_key = tuple(used)
    for number, piece in enumerate(top_level_pieces(text)):
        fragment = _fragment(piece, flags, letter_key)
        if number == 0:  # global inline flags can only open the pattern: its first piece
            flags = fragment.flags
        elif fragment.flags != flags:
            raise Untranslatable("inline flags")
        renumber = []
        for spec in fragment.classes:
            if spec not in class_index:
                class_index[spec] = len(classes)
                classes.append(spec)
            renumber.append(class_index[spec])
        base = len(code)
        code.extend(_relocated(fragment, base, renumber, slots))
        slots += fragment.slots
        if len(code) > _MAX_CODE:
            raise Untranslatable("too large")
        alternatives.append((base, fragment.max_width, fragment.begins, fragment.ends))
        firsts.append((fragment.first, fragment.nullable))
    starts, segment_lists, lists, end_list = _dispatch(firsts)
    return Program(code, classes, alternatives, slots, starts, segment_lists, lists, end_list)


def _relocated(fragment: _Fragment, base: int, classes: list[int], slot_base: int) -> list[int]:
    """A fragment's code placed at ``base``: its targets, classes and memo slots renumbered."""
    out = list(fragment.code)
    for at, kind in fragment.moves:
        out[at] = out[at] + base if kind == _TARGET else classes[out[at]] if kind == _CLASS else out[at] + slot_base
    return out


def _dispatch(firsts: list[tuple[tuple[tuple[int, int], ...] | None, bool]]) -> tuple[list[int], list[int], list[list[int]], int]:
    """Per code point segment, the alternatives (in order) whose match can start on it; an
    alternative whose first character is not known, or that may consume nothing, is a candidate
    everywhere. One sweep over the ranges' bounds, the set of alternatives as a bit mask."""
    everywhere = 0
    toggles: dict[int, int] = {0: 0}
    for index, (ranges, nullable) in enumerate(firsts):
        bit = 1 << index
        if ranges is None or nullable:
            everywhere |= bit
            continue
        for lo, hi in ranges:  # merged: disjoint and not adjacent, so no bound is toggled twice
            toggles[lo] = toggles.get(lo, 0) ^ bit
            if hi < _MAXUNICODE:
                toggles[hi + 1] = toggles.get(hi + 1, 0) ^ bit
    lists: list[list[int]] = []
    list_ids: dict[int, int] = {}

    def list_of(mask: int) -> int:
        if mask not in list_ids:
            list_ids[mask] = len(lists)
            lists.append([index for index in range(mask.bit_length()) if mask >> index & 1])
        return list_ids[mask]

    starts: list[int] = []
    segment_lists: list[int] = []
    active = 0
    for bound in sorted(toggles):
        active ^= toggles[bound]
        list_id = list_of(active | everywhere)
        if not segment_lists or segment_lists[-1] != list_id:
            starts.append(bound)
            segment_lists.append(list_id)
    return starts, segment_lists, lists, list_of(everywhere)
