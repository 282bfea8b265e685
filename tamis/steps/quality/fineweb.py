"""FineWeb's own quality rules (Penedo et al. 2024, "The FineWeb Datasets", section 3.5).

Computed over the non-blank lines (split on ``\\n``), a document is removed when:
- fewer than 12 % of its lines end with terminal punctuation (``line_punct_ratio``);
- more than 67 % of its lines are 30 characters or shorter (``short_line_ratio``);
- more than 1 % of its characters (line ends excluded) are in lines that repeat an earlier
  line (``char_dup_ratio``);
- it has more than 0.3 line breaks per word: a list rather than prose (``list_ratio``).

Thresholds are datatrove's ``FineWebQualityFilter`` defaults, the values FineWeb ran with.
Terminal punctuation is any sentence-ending mark of any script (``.``, ``!``, ``?``, ``。``,
``।``, ``؟`` ...), found from the Unicode character names (:func:`tamis.text.terminal_punctuation`).
"""

from __future__ import annotations

import functools
from typing import Any

from tamis.document import Document
from tamis.registry import register
from tamis.steps.base import Rejection, param
from tamis.steps.quality.base import QualityFilter
from tamis.text import terminal_punctuation

try:
    from tamis._native._words import fineweb_counts as _fineweb_counts
except ImportError:  # pragma: no cover - the extension is built on install; this keeps a broken build usable
    _fineweb_counts = None


@functools.cache
def _stops() -> str:
    """The terminal punctuation marks as one str (each is one character), as fineweb_counts reads them."""
    return "".join(terminal_punctuation())


@register("fineweb_quality")
class FineWebQuality(QualityFilter):
    """FineWeb's rules: line punctuation, short lines, duplicated line characters, list-like pages."""

    THRESHOLDS = ("line_punct_thr", "short_line_thr", "short_line_length", "char_duplicates_ratio", "new_line_ratio")

    line_punct_thr: float = param(0.12, "a smaller share of lines ending with terminal punctuation is rejected (FineWeb: 0.12)")
    line_punct_exclude_zero: bool = param(False, "do not reject documents where no line ends with punctuation")
    short_line_thr: float = param(0.67, "a larger share of short lines is rejected (FineWeb: 0.67)")
    short_line_length: int = param(30, "a line of at most this many characters is short (FineWeb: 30)")
    char_duplicates_ratio: float = param(0.01, "a larger share of characters in repeated lines is rejected (FineWeb: 0.01)")
    new_line_ratio: float = param(0.3, "more line breaks per word is rejected (FineWeb: 0.3)")

    def setup(self) -> None:
        terminal_punctuation()

    def score(self, doc: Document) -> dict[str, Any]:
        """:meth:`score_reference`, its line counts compiled (``tamis._native._words.fineweb_counts``:
        one pass over the text, no str per line)."""
        stats = self.stats(doc)
        t = self.thresholds(stats.language)
        short = t["short_line_length"]
        if _fineweb_counts is None or not isinstance(short, int):
            return self.score_reference(doc)
        n_lines, punct_lines, short_lines, dup_chars = _fineweb_counts(doc.text, _stops(), short)
        if not n_lines:
            return {"lines": 0}
        return self._signals(doc, stats.words, n_lines, punct_lines, short_lines, dup_chars)

    def score_reference(self, doc: Document) -> dict[str, Any]:
        """The plain definition over the list of non-blank lines."""
        stats = self.stats(doc)
        lines = stats.nonblank_lines
        if not lines:
            return {"lines": 0}
        t = self.thresholds(stats.language)
        stops = terminal_punctuation()
        short = t["short_line_length"]
        dup_chars = sum(map(len, lines)) - sum(map(len, set(lines)))
        return self._signals(doc, stats.words, len(lines), sum(1 for line in lines if line.endswith(stops)),
                             sum(1 for line in lines if len(line) <= short), dup_chars)

    @staticmethod
    def _signals(doc: Document, words: list[str], n_lines: int, punct_lines: int, short_lines: int, dup_chars: int) -> dict[str, Any]:
        body_chars = len(doc.text) - doc.text.count("\n")
        return {
            "lines": n_lines,
            "line_punct_ratio": punct_lines / n_lines,
            "short_line_ratio": short_lines / n_lines,
            "char_dup_ratio": dup_chars / body_chars if body_chars else 0.0,
            "list_ratio": doc.text.count("\n") / len(words) if words else float(n_lines),
        }

    def decide(self, signals: dict[str, Any], doc: Document) -> Rejection | None:
        if not signals["lines"]:
            return Rejection("empty")
        t = self.thresholds(self.doc_language(doc))
        ratio = signals["line_punct_ratio"]
        if ratio < t["line_punct_thr"] and not (ratio == 0 and self.line_punct_exclude_zero):
            return Rejection("line_punct_ratio", ratio, t["line_punct_thr"])
        if signals["short_line_ratio"] > t["short_line_thr"]:
            return Rejection("short_line_ratio", signals["short_line_ratio"], t["short_line_thr"])
        if signals["char_dup_ratio"] > t["char_duplicates_ratio"]:
            return Rejection("char_dup_ratio", signals["char_dup_ratio"], t["char_duplicates_ratio"])
        if signals["list_ratio"] > t["new_line_ratio"]:
            return Rejection("list_ratio", signals["list_ratio"], t["new_line_ratio"])
        return None
