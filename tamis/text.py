"""Text primitives shared by every step: one definition of a line, one normalisation.

Line ends: ``\\r\\n``, ``\\n`` and a lone ``\\r`` all end a line (and nothing else: no form
feeds, no U+2028), so the repetition repair, the line filters and line-level dedup agree on
what a line is.

Normalisation *for comparison* (never for the text written out): Unicode NFC, typographic
apostrophes folded to ``'``, every run of Unicode whitespace (this includes the no-break
space U+00A0 and the narrow no-break space U+202F French uses before ``:;!?``) collapsed to
one space, trimmed, and case-folded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

LINE_END_RE = re.compile(r"\r\n|\n|\r")

# Characters that mean "apostrophe" in scraped text: right/left single quotes, modifier
# letter apostrophe, prime, fullwidth apostrophe, grave and acute accents used as quotes.
APOSTROPHES = ("\u2019", "\u2018", "\u02bc", "\u2032", "\uff07", "\u0060", "\u00b4")


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


def normalize_for_hash(text: str) -> str:
    """The comparison form of ``text`` (see the module docstring)."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        for apostrophe in APOSTROPHES:
            if apostrophe in text:
                text = text.replace(apostrophe, "'")
    return " ".join(text.casefold().split())
