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
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

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


@dataclass(frozen=True)
class Program:
    """What ``tamis._native._spacy_split.Affix`` is built from (see :meth:`arguments`)."""

    code: list[int]
    classes: list[tuple[int, int, list[int]]]  # (negated, category bits, flat sorted [lo, hi, ...])
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


class _Compiler:
    def __init__(self, flags: int, letters: dict[int, tuple[tuple[int, int], ...]]) -> None:
        self.dotall = bool(flags & re.DOTALL)
        self.letters = letters  # private-use mark -> the letter class's ranges
        self.code: list[int] = []
        self.classes: list[tuple[int, int, list[int]]] = []
        self.class_index: dict[tuple, int] = {}
        self.slots = 0

    def emit(self, *words: int) -> int:
        at = len(self.code)
        self.code.extend(words)
        if len(self.code) > _MAX_CODE:
            raise Untranslatable("too large")
        return at

    def klass(self, negated: bool, categories: int, ranges: list[tuple[int, int]]) -> int:
        flat = [bound for pair in _merge(ranges) for bound in pair]
        key = (negated, categories, tuple(flat))
        if key not in self.class_index:
            self.class_index[key] = len(self.classes)
            self.classes.append((int(negated), categories, flat))
        return self.class_index[key]

    def class_of(self, items: list) -> int:
        negated, categories = False, 0
        ranges: list[tuple[int, int]] = []
        for position, (item, argument) in enumerate(items):
            if item is _sre.NEGATE and position == 0:
                negated = True
            elif item is _sre.LITERAL:
                if argument in self.letters:
                    ranges.extend(self.letters[argument])
                else:
                    ranges.append((argument, argument))
            elif item is _sre.RANGE:
                lo, hi = argument
                if any(lo <= mark <= hi for mark in self.letters):
                    raise Untranslatable("a range over a letter-class mark")
                ranges.append((lo, hi))
            elif item is _sre.CATEGORY and argument in _CATEGORIES:
                categories |= _CATEGORIES[argument]
            else:
                raise Untranslatable(f"class item {item}")
        return self.klass(negated, categories, ranges)

    def sequence(self, items, in_look: bool) -> None:
        for op, value in items:
            self.item(op, value, in_look)

    def item(self, op, value, in_look: bool) -> None:
        if op is _sre.LITERAL:
            if value in self.letters:  # a class of the letter class alone (re's parser made it a literal)
                self.emit(CLASS, self.klass(False, 0, list(self.letters[value])))
            else:
                self.emit(CHAR, value)
        elif op is _sre.NOT_LITERAL:
            if value in self.letters:
                self.emit(CLASS, self.klass(True, 0, list(self.letters[value])))
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


def _first_chars(items, letters: dict[int, tuple[tuple[int, int], ...]]) -> tuple[list[tuple[int, int]] | None, bool]:
    """(code point ranges the first character a match of ``items`` consumes can be, or None when
    not known; whether a match may consume nothing)."""
    ranges: list[tuple[int, int]] = []
    for op, value in items:
        if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
            continue
        if op is _sre.LITERAL:
            return ranges + list(letters.get(value, ((value, value),))), False
        if op is _sre.IN:
            found = _class_ranges(list(value), letters)
            if found is None:
                return None, False
            return ranges + found, False
        if op in (_sre.NOT_LITERAL, _sre.ANY):
            return None, False
        if op is _sre.SUBPATTERN:
            found, nullable = _first_chars(value[-1], letters)
        elif op is _sre.BRANCH:
            found, nullable = [], False
            for alternative in value[1]:
                more, empty = _first_chars(alternative, letters)
                if more is None:
                    return None, False
                found += more
                nullable = nullable or empty
        elif op in _REPEATS:
            found, nullable = _first_chars(value[2], letters)
            nullable = nullable or value[0] == 0
        else:
            return None, False
        if found is None:
            return None, False
        ranges += found
        if not nullable:
            return ranges, False
    return ranges, True


def _class_ranges(items: list, letters: dict[int, tuple[tuple[int, int], ...]]) -> list[tuple[int, int]] | None:
    ranges: list[tuple[int, int]] = []
    negated = False
    for position, (item, argument) in enumerate(items):
        if item is _sre.NEGATE and position == 0:
            negated = True
        elif item is _sre.LITERAL:
            ranges.extend(letters.get(argument, ((argument, argument),)))
        elif item is _sre.RANGE:
            ranges.append(argument)
        else:
            return None
    merged = _merge(ranges)
    return _complement(merged) if negated else merged


def _marks_in_classes(text: str, marks: set[str]) -> bool:
    """Whether every mark in ``text`` stands inside a character class (where the letter class's
    body goes: its letters are then members of that class, what the ranges stand for)."""
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if text[i + 1:i + 2] in marks:
                return False
            i += 2
            continue
        if char in marks:
            return False
        if char == "[":
            i += 1 + (text.startswith("^", i + 1))
            i += text.startswith("]", i)
            while i < len(text) and text[i] != "]":
                i += 2 if text[i] == "\\" else 1
        i += 1
    return True


def top_level_pieces(text: str) -> list[str]:
    """A pattern's text cut at its top-level ``|`` (escapes, classes and groups read past)."""
    pieces: list[str] = []
    depth = start = i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i += 1 + (text.startswith("^", i + 1))
            i += text.startswith("]", i)  # a "]" first in a class is a literal
            while i < len(text) and text[i] != "]":
                i += 2 if text[i] == "\\" else 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
        i += 1
    pieces.append(text[start:])
    return pieces


@dataclass(frozen=True)
class _Fragment:
    """One top-level alternative compiled alone: its code (targets from 0, its own classes and
    memo slots, renumbered when the pattern's program is put together) and what the search
    needs to know of it."""

    flags: int  # the parser's flags after reading it (inline flags included)
    code: tuple[int, ...]
    classes: tuple[tuple[int, int, list[int]], ...]
    slots: int
    max_width: int
    begins: int
    ends: int
    first: tuple[tuple[int, int], ...] | None
    nullable: bool


# Instruction widths, by opcode (the C matcher's check_code reads the same).
_WIDTH = {CHAR: 2, NOT_CHAR: 2, CLASS: 2, ANY: 1, ANY_ALL: 1, BOL: 1, EOL: 1, EOS: 1, SPLIT: 4, JMP: 2, LOOK: 4, MATCH: 1, SUBMATCH: 1}


@cache
def _fragment(piece: str, flags: int, letters: tuple[tuple[str, str], ...]) -> _Fragment:
    """``piece`` (one alternative, spaCy's letter classes as private-use marks, ``letters``
    the (mark, body) pairs) compiled. Cached: the languages' patterns share most alternatives."""
    marks = {ord(mark): _letter_ranges(body) for mark, body in letters}
    try:
        parsed = _sre_parse.parse(piece, flags)
    except (re.error, RecursionError) as error:
        raise Untranslatable(str(error)) from error
    flags = parsed.state.flags
    if flags & _REFUSED_FLAGS:
        raise Untranslatable("flags")
    compiler = _Compiler(flags, marks)
    items = list(parsed)
    low, high = parsed.getwidth()
    compiler.sequence(items, in_look=False)
    compiler.emit(MATCH)
    first, nullable = _first_chars(items, marks)
    return _Fragment(
        flags, tuple(compiler.code), tuple(compiler.classes), compiler.slots, -1 if high >= _sre.MAXREPEAT else high,
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
    classes: list[tuple[int, int, list[int]]] = []
    class_index: dict[tuple, int] = {}
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
        for negated, categories, flat in fragment.classes:
            key = (negated, categories, tuple(flat))
            if key not in class_index:
                class_index[key] = len(classes)
                classes.append((negated, categories, flat))
            renumber.append(class_index[key])
        base = len(code)
        code.extend(_relocated(fragment.code, base, renumber, slots))
        slots += fragment.slots
        if len(code) > _MAX_CODE:
            raise Untranslatable("too large")
        alternatives.append((base, fragment.max_width, fragment.begins, fragment.ends))
        firsts.append((fragment.first, fragment.nullable))
    starts, segment_lists, lists, end_list = _dispatch(firsts)
    return Program(code, classes, alternatives, slots, starts, segment_lists, lists, end_list)


def _relocated(code: tuple[int, ...], base: int, classes: list[int], slot_base: int) -> list[int]:
    """A fragment's code placed at ``base``: its targets, classes and memo slots renumbered."""
    out = list(code)
    pc = 0
    while pc < len(out):
        op = out[pc]
        if op == CLASS:
            out[pc + 1] = classes[out[pc + 1]]
        elif op == SPLIT:
            out[pc + 1] += base
            out[pc + 2] += base
            if out[pc + 3] >= 0:
                out[pc + 3] += slot_base
        elif op == JMP:
            out[pc + 1] += base
        elif op == LOOK:
            out[pc + 3] += base
        pc += _WIDTH[op]
    return out


def _dispatch(firsts: list[tuple[tuple[tuple[int, int], ...] | None, bool]]) -> tuple[list[int], list[int], list[list[int]], int]:
    """Per code point segment, the alternatives (in order) whose match can start on it; an
    alternative whose first character is not known is a candidate everywhere."""
    bounds = {0}
    for ranges, _nullable in firsts:
        for lo, hi in ranges or ():
            bounds.add(lo)
            bounds.add(hi + 1)
    starts = sorted(bound for bound in bounds if bound <= _MAXUNICODE)
    members: list[list[int]] = [[] for _ in starts]
    for index, (ranges, nullable) in enumerate(firsts):
        if ranges is None or nullable:  # a match may start on any character
            for member in members:
                member.append(index)
            continue
        for lo, hi in ranges:
            first = bisect_right(starts, lo) - 1
            last = bisect_right(starts, hi) - 1
            for segment in range(first, last + 1):
                if not members[segment] or members[segment][-1] != index:
                    members[segment].append(index)
    lists: list[list[int]] = []
    list_ids: dict[tuple[int, ...], int] = {}
    segment_lists: list[int] = []
    kept_starts: list[int] = []
    for start, member in zip(starts, members, strict=True):
        key = tuple(member)
        if key not in list_ids:
            list_ids[key] = len(lists)
            lists.append(list(key))
        if segment_lists and segment_lists[-1] == list_ids[key]:
            continue  # the same list as the segment before: one segment
        kept_starts.append(start)
        segment_lists.append(list_ids[key])
    at_end = tuple(index for index, (ranges, nullable) in enumerate(firsts) if ranges is None or nullable)
    if at_end not in list_ids:
        list_ids[at_end] = len(lists)
        lists.append(list(at_end))
    return kept_starts, segment_lists, lists, list_ids[at_end]
