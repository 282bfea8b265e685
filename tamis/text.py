"""Text primitives shared by every step: one definition of a line, one normalisation.

Line ends: ``\\r\\n``, ``\\n`` and a lone ``\\r`` all end a line (and nothing else: no form
feeds, no U+2028), so the repetition repair, the line filters and line-level dedup agree on
what a line is.

Normalisation *for comparison* (never for the text written out): Unicode NFC, case folding,
typographic apostrophes folded to ``'``, zero-width and bidirectional control characters
removed (:data:`IGNORABLE`), every run of Unicode whitespace (this includes the no-break
space U+00A0 and the narrow no-break space U+202F French uses before ``:;!?``) collapsed to
one space, and trimmed.
"""

from __future__ import annotations

import base64
import functools
import re
import sys
import unicodedata
import zlib
from collections.abc import Iterator

LINE_END_RE = re.compile(r"\r\n|\n|\r")

# Characters that mean "apostrophe" in scraped text: right/left single quotes, modifier
# letter apostrophe, prime, fullwidth apostrophe, grave and acute accents used as quotes.
APOSTROPHES = ("\u2019", "\u2018", "\u02bc", "\u2032", "\uff07", "\u0060", "\u00b4")


# Invisible characters that carry no text, dropped from the comparison form: zero-width
# space, non-joiner, joiner, word joiner and invisible operators, BOM / zero-width no-break
# space, Mongolian vowel separator, and the bidirectional controls. is_ignorable() in
# tamis/_native/unicode_core.h is the same set.
IGNORABLE = frozenset(
    [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065), *range(0x2066, 0x206A), 0xFEFF, 0x061C, 0x180E]
)
_DROP_IGNORABLE = dict.fromkeys(IGNORABLE)


def split_lines(text: str) -> list[str]:
    """Lines without their ends. ``"a\\r\\nb\\rc\\n"`` gives ``["a", "b", "c"]``.

    A final line end does not open an empty last line.
    """
    if not text:
        return []
    lines = LINE_END_RE.split(text)
    if lines and lines[-1] == "" and LINE_END_RE.search(text[-2:]):
        lines.pop()
    return lines


def iter_lines_with_ends(text: str) -> Iterator[tuple[str, str]]:
    """``(content, line_end)`` pairs; joining them gives back ``text`` exactly."""
    pos = 0
    for match in LINE_END_RE.finditer(text):
        yield text[pos : match.start()], match.group()
        pos = match.end()
    if pos < len(text):
        yield text[pos:], ""


# What str.splitlines breaks at beyond \n, \r and \r\n (LINE_END_RE's only line ends). Looked
# for with str's own search, not a regex: a character class holding U+2028 makes re build a
# 64K-entry map at its first use (~20M instructions, in the first repair the report samples).
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def lines_with_ends(text: str) -> list[str]:
    """Each line with its end, as :func:`iter_lines_with_ends` cuts them (joined):
    ``str.splitlines(keepends=True)`` where the text holds none of the other characters it
    breaks at (a scan each; U+2028 and U+2029 none in a one-byte string), about 5x faster than
    the regex cut."""
    if not any(ch in text for ch in _OTHER_BREAKS):
        return text.splitlines(True)
    return lines_with_ends_reference(text)


def lines_with_ends_reference(text: str) -> list[str]:
    return [content + end for content, end in iter_lines_with_ends(text)]


# UAX #15's Stream-Safe Text Format: no real text holds more than 30 combining marks in a row,
# and CPython's unicodedata.normalize puts a run of marks in canonical order by insertion, so NFC
# is quadratic in a run's length: 80,000 marks of two alternating classes take 3.4 s, 40,000
# Tibetan vowel signs (two marks each) 3.3 s, a megabyte hours. (is_normalized is linear: its
# quick check answers "no" at the first mark out of order, and normalizes only text whose marks
# are all in order.) Before NFC rewrites a text, a run of more than STREAM_SAFE_RUN code points
# that NFC may change (nfc_unstable_bitmap: every mark, every character that decomposes into
# marks) gets U+034F COMBINING GRAPHEME JOINER, the invisible starter the format inserts, after
# every STREAM_SAFE_STEP of them (a code point decomposes into at most 3 marks), so no run NFC
# sorts holds more than 30 marks. Text that is NFC, or has no such run, is untouched.
STREAM_SAFE_RUN = 30
STREAM_SAFE_STEP = 10
GRAPHEME_JOINER = "\u034f"
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


@functools.cache
def _unstable_run_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Runs of more than STREAM_SAFE_RUN code points that NFC may change: (for text without
    code points above the BMP that NFC may change, for any text). The first's class re compiles to
    one bitmap (6 ns a character); with the astral ranges it is a list of ranges tried in turn
    (~70 ns)."""
    bits = nfc_unstable_bitmap()
    ranges: list[tuple[int, int]] = []
    for index, byte in enumerate(bits):
        for bit in range(8) if byte else ():
            if byte >> bit & 1:
                c = index * 8 + bit
                if ranges and ranges[-1][1] == c - 1:
                    ranges[-1] = (ranges[-1][0], c)
                else:
                    ranges.append((c, c))

    def run_of(spans: list[tuple[int, int]]) -> re.Pattern[str]:
        members = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in spans)
        return re.compile(f"[{members}]{{{STREAM_SAFE_RUN + 1},}}")

    bmp = [(a, min(b, 0xFFFF)) for a, b in ranges if a <= 0xFFFF]
    return run_of(bmp), run_of(ranges)


def _joined(match: re.Match[str]) -> str:
    run = match.group()
    return GRAPHEME_JOINER.join(run[i : i + STREAM_SAFE_STEP] for i in range(0, len(run), STREAM_SAFE_STEP))


def stream_safe(text: str) -> str:
    """``text`` with a grapheme joiner after every STREAM_SAFE_STEP code points of each run of more
    than STREAM_SAFE_RUN that NFC may change (itself when there is none): what NFC can sort in
    linear time. Linear: a regex scan with a character class."""
    if text.isascii() or len(text) <= STREAM_SAFE_RUN:
        return text
    bmp, every = _unstable_run_res()
    pattern = every if _astral_unstable(text) else bmp
    return pattern.sub(_joined, text) if pattern.search(text) else text


def _astral_unstable(text: str) -> bool:
    """Whether ``text`` holds a code point above the BMP that NFC may change (a Brahmi sign, a
    musical symbol's mark): only then does stream_safe need the slower class. Emoji are not."""
    bits = nfc_unstable_bitmap()
    for match in _ASTRAL_RE.finditer(text):
        c = ord(match.group())
        if c < NFC_TABLE_LIMIT and bits[c >> 3] >> (c & 7) & 1:
            return True
    return False


def stream_safe_tree(root) -> None:
    """:func:`stream_safe` on every text and tail of an lxml tree, in place (for a page handed to
    a library that normalizes it itself: trafilatura's NFC has the same insertion sort)."""
    for element in root.iter():
        for name in ("text", "tail"):
            value = getattr(element, name)
            if value and not value.isascii():
                safe = stream_safe(value)
                if safe is not value:
                    setattr(element, name, safe)


def is_nfc(text: str) -> bool:
    """Whether ``nfc(text)`` is ``text`` (ASCII and the quick check cost next to nothing)."""
    return text.isascii() or unicodedata.is_normalized("NFC", text)


def nfc(text: str) -> str:
    """``text`` in Unicode NFC (the same letters, canonically encoded): itself when it already is
    (is_nfc), else NFC of its stream-safe form (see STREAM_SAFE_RUN: linear in any input)."""
    return text if is_nfc(text) else unicodedata.normalize("NFC", stream_safe(text))


# Mojibake: UTF-8 read as windows-1252 or Latin-1 somewhere upstream ("Ã©" for "é", "â€™" for "’",
# "Â " for a no-break space, "ä¸­æ–‡" for "中文"), a site's own double encoding or a decoder's
# guess. Its mark is a character that starts a UTF-8 sequence read as Latin-1 (Â-ô) followed by one
# that continues it (U+0080-U+00BF, or the windows-1252 signs at 0x80-0x9F). Only the lines that
# show the mark go to ftfy (Robyn Speer's repair, what datatrove's FTFYFormatter and NeMo Curator's
# UnicodeReformatter run), each run of such lines through its encoding fix alone (``fix_encoding``:
# no quote, width or line-break changes): it repairs what decodes back to UTF-8 it trusts and leaves
# the rest ("SÃO PAULO" stays). A run at a time, not a line at a time as ftfy's fix_text goes: the
# same repairs on mixed and uniform text, at a thirtieth of the cost on a page that is all short
# marked lines (90,000 characters: 0.36 -> 0.011 CPU-s).
_MOJIBAKE_MARK = re.compile(
    "[\xc2-\xf4][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
    "\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_LINE = re.compile("[^\n]*\n?")


def has_mojibake_mark_reference(text: str) -> bool:
    """Whether ``text`` shows the mark of UTF-8 read as windows-1252 / Latin-1 (see _MOJIBAKE_MARK):
    the plain-Python definition of the compiled scan (``_text.mojibake_mark``)."""
    return not text.isascii() and _MOJIBAKE_MARK.search(text) is not None


try:  # one compiled scan, ~7 times the regular expression's speed on accented text (2.6 G characters/s)
    from tamis._native._text import mojibake_mark as has_mojibake_mark
except ImportError:  # pragma: no cover - the extension is built on install
    has_mojibake_mark = has_mojibake_mark_reference


def fix_mojibake(text: str) -> str:
    """``text`` with its mojibake repaired (ftfy's ``fix_encoding`` on each run of lines that show
    the mark, the other lines as they are); itself where no line shows it."""
    if not has_mojibake_mark(text):
        return text
    from ftfy import fix_encoding

    out: list[str] = []
    run: list[str] = []
    for match in _LINE.finditer(text):
        line = match.group()
        if line and has_mojibake_mark(line):
            run.append(line)
            continue
        if run:
            out.append(fix_encoding("".join(run)))
            run = []
        out.append(line)
    if run:
        out.append(fix_encoding("".join(run)))
    return "".join(out)


def normalize_for_hash(text: str) -> str:
    """The comparison form of ``text`` (see the module docstring). Plain-Python reference of
    :func:`normalized_utf8`."""
    text = nfc(text)
    text = text.casefold()  # before the apostrophes: folding can produce one (ŉ → ʼn)
    for apostrophe in APOSTROPHES:
        if apostrophe in text:
            text = text.replace(apostrophe, "'")
    if not text.isascii():
        text = text.translate(_DROP_IGNORABLE)
    return " ".join(text.split())


NFC_TABLE_LIMIT = 0x20000  # the Basic and Supplementary Multilingual Planes


@functools.cache
def nfc_unstable_bitmap() -> bytes:
    """:func:`compute_nfc_unstable_bitmap`, read from :mod:`tamis.unicode_tables` where it holds this
    Python's Unicode version (computing it is ~50 ms of every run's start), else computed."""
    from tamis.unicode_tables import NFC_UNSTABLE

    stored = NFC_UNSTABLE.get(unicodedata.unidata_version)
    if stored is not None:
        return zlib.decompress(base64.b85decode(stored))
    return compute_nfc_unstable_bitmap()


def compute_nfc_unstable_bitmap() -> bytes:
    """Bit ``c`` set when code point ``c`` may change, or change a neighbour, under NFC.

    A text made only of code points whose bit is clear is already NFC (the quick check of
    UAX #15: every character NFC_QC=Yes with combining class 0). Set: combining marks,
    characters NFC replaces (NFC_QC=No), the second halves of canonical pairs NFC composes
    (NFC_QC=Maybe) and the Hangul vowel and trailing jamo. The compiled JSONL scanner leaves
    texts with any of them to :func:`normalized_utf8`. About 50-70 ms.
    """
    bits = bytearray(NFC_TABLE_LIMIT // 8)

    def mark(c: int) -> None:
        if c < NFC_TABLE_LIMIT:
            bits[c >> 3] |= 1 << (c & 7)

    for c in range(NFC_TABLE_LIMIT):
        ch = chr(c)
        if c >= 0x300 and (unicodedata.combining(ch) or unicodedata.normalize("NFC", ch) != ch):
            mark(c)
        decomposition = unicodedata.decomposition(ch)
        if decomposition and decomposition[0] != "<":
            parts = decomposition.split()
            if len(parts) == 2:
                mark(int(parts[1], 16))
    for c in [*range(0x1161, 0x1176), *range(0x11A8, 0x11C3)]:  # Hangul V and T jamo compose algorithmically
        mark(c)
    return bytes(bits)


def _normalized_utf8_reference(text: str) -> bytes:
    return normalize_for_hash(text).encode("utf-8", "surrogatepass")


def _count_words_reference(text: str) -> int:
    return len(text.split())


def _utf8_length_reference(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


try:
    from tamis._native._text import count_words as _count_words_native
    from tamis._native._text import fold_spaces_utf8 as _fold_spaces_utf8
    from tamis._native._text import utf8_length as _utf8_length_native
except ImportError:  # pragma: no cover - the extension is built on install; this keeps a broken build usable
    normalized_utf8 = normalized_utf8_of_nfc = _normalized_utf8_reference
    count_words = _count_words_reference
    utf8_length = _utf8_length_reference
else:

    try:
        _fold_spaces_utf8("", True)
        _FOLD_IN_C = True
    except NotImplementedError:  # pragma: no cover - CPython >= 3.13 hides the folding table
        _FOLD_IN_C = False

    def normalized_utf8(text: str) -> bytes:
        """``normalize_for_hash(text)`` as UTF-8 bytes, what every hash-based step hashes.

        NFC runs in CPython's C code; case folding, collapsing whitespace, folding apostrophes
        and encoding happen in one compiled pass (no folded copy, no list of words).
        """
        text = nfc(text)
        if _FOLD_IN_C:
            return _fold_spaces_utf8(text, True)
        return _fold_spaces_utf8(text.casefold())

    def normalized_utf8_of_nfc(text: str) -> bytes:
        """:func:`normalized_utf8` of a text already in NFC (the normalize step's output):
        the same bytes without checking NFC again."""
        if _FOLD_IN_C:
            return _fold_spaces_utf8(text, True)
        return _fold_spaces_utf8(text.casefold())

    count_words = _count_words_native
    utf8_length = _utf8_length_native


# Sentence-ending marks by their Unicode names (FineWeb's line_punct_ratio, tamis.steps.quality.fineweb).
_TERMINAL_NAMES = ("FULL STOP", "QUESTION MARK", "EXCLAMATION MARK", "DANDA", "EXCLAMATION QUESTION", "QUESTION EXCLAMATION")


@functools.cache
def terminal_punctuation() -> tuple[str, ...]:
    """:func:`compute_terminal_punctuation`, read from :mod:`tamis.unicode_tables` where it holds
    this Python's Unicode version (computing it is ~40 ms of every run's start), else computed."""
    from tamis.unicode_tables import TERMINAL_PUNCTUATION

    stored = TERMINAL_PUNCTUATION.get(unicodedata.unidata_version)
    return tuple(stored) if stored is not None else compute_terminal_punctuation()


def compute_terminal_punctuation() -> tuple[str, ...]:
    """Every punctuation character whose name says it ends a sentence (no inverted marks)."""
    found = []
    for code in range(min(sys.maxunicode, 0x1FFFF) + 1):
        char = chr(code)
        if unicodedata.category(char)[0] != "P":
            continue
        name = unicodedata.name(char, "")
        if any(part in name for part in _TERMINAL_NAMES) and "INVERTED" not in name:
            found.append(char)
    return tuple(found)


# Character classes by Unicode category that the word rules (tamis.steps.quality.words) build:
# each is a loop over up to 196,000 code points (~50 ms and ~35 ms of the first word cut of a run).
_CATEGORY_CLASSES = {
    "punctuation_symbols": (0x80, 0x30000, lambda category: category[0] in "PS" and category != "So"),
    "combining_marks": (0x300, 0x1F000, lambda category: category[0] == "M"),
}


@functools.cache
def category_ranges(name: str) -> tuple[tuple[int, int], ...]:
    """:func:`compute_category_ranges`, read from :mod:`tamis.unicode_tables` where it holds this
    Python's Unicode version, else computed."""
    from tamis.unicode_tables import CATEGORY_RANGES

    stored = CATEGORY_RANGES.get(unicodedata.unidata_version, {}).get(name)
    if stored is None:
        return compute_category_ranges(name)
    return tuple((ord(stored[i]), ord(stored[i + 1])) for i in range(0, len(stored), 2))


def compute_category_ranges(name: str) -> tuple[tuple[int, int], ...]:
    """The (first, last) code point runs of one of ``_CATEGORY_CLASSES``: ``punctuation_symbols``,
    the non-ASCII punctuation and symbols but the other symbols (So); ``combining_marks``, the
    marks (Mn, Mc, Me) from U+0300."""
    first, stop, wanted = _CATEGORY_CLASSES[name]
    ranges: list[tuple[int, int]] = []
    for code in range(first, stop):
        if wanted(unicodedata.category(chr(code))):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return tuple(ranges)

