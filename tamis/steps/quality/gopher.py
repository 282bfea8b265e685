"""Gopher's quality and repetition rules (Rae et al. 2021, "Scaling Language Models", A.1.1).

Quality (section A.1.1), a document is removed when:
- it has fewer than 50 or more than 100,000 words (words made only of punctuation do not count);
- its mean word length is outside 3..10 characters;
- its symbol-to-word ratio is above 0.1, for the hash symbol or for the ellipsis;
- more than 90 % of its lines start with a bullet point or more than 30 % end with an ellipsis;
- fewer than 80 % of its words hold an alphabetic character;
- it holds fewer than two of the stop words "the, be, to, of, and, that, have, with"
  (matched case-sensitively, as the reference implementation, datatrove, does).

Repetition (Table A1), a document is removed when:
- duplicate line fraction > 0.30, duplicate paragraph fraction > 0.30;
- duplicate line character fraction > 0.20, duplicate paragraph character fraction > 0.20;
- top 2-, 3-, 4-gram character fraction > 0.20, 0.18, 0.16;
- duplicate 5- to 10-gram character fraction > 0.15, 0.14, 0.13, 0.12, 0.11, 0.10.

Lines are split on runs of ``\\n`` (a final line end does not open an empty line: a 9-line
page with 4 repeated lines has a duplicate line fraction of 4/9 with or without it), paragraphs
on two or more ``\\n``; character fractions are over the length of the whole text. Rules are checked in the reference's order and the
first broken one is the reason (``gopher_repetition:dup_line_frac``). Other languages: see
:mod:`tamis.steps.quality.languages`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from tamis.document import Document
from tamis.registry import register
from tamis.steps.base import Rejection, param
from tamis.steps.quality.base import QualityFilter
from tamis.steps.quality.ngrams import ngram_stats
from tamis.steps.quality.words import char_class, word_class
from tamis.text import LINE_END_RE, split_lines

_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_LINE_BREAK = re.compile(r"\n+")


def word_totals_reference(words: list[str]) -> tuple[int, int, int]:
    """(words not made only of punctuation and symbols, their characters, words holding a
    letter): the plain definition of what the quality rules count."""
    n_words = word_chars = alpha_words = 0
    for word, count in Counter(words).items():
        symbol, alpha = word_class(word)
        if not symbol:
            n_words += count
            word_chars += len(word) * count
        if alpha:
            alpha_words += count
    return n_words, word_chars, alpha_words


def stop_words_reference(words: list[str], stop_words: frozenset[str], apostrophe: bool) -> int:
    """The distinct stop words among ``words``; with ``apostrophe`` (the text holds a U+2019),
    l’ and d’ count as l' and d' too: the plain definition of what the stop word rule counts."""
    found = stop_words.intersection(words)
    if apostrophe:
        found = found | stop_words.intersection(w.replace("’", "'") for w in words if "’" in w)
    return len(found)


def word_counts_reference(words: list[str], stop_words: frozenset[str], apostrophe: bool) -> tuple[int, int, int, int]:
    """:func:`word_totals_reference` and :func:`stop_words_reference` of one document."""
    return (*word_totals_reference(words), stop_words_reference(words, stop_words, apostrophe))


# The stop word lists as the compiled count takes them (a tuple of at most 64 non-empty words
# shorter than 64 characters, none with a U+2019), one per list; a list it cannot take (None) is counted by the reference.
_STOP_TUPLES: dict[frozenset[str], tuple[str, ...] | None] = {}


def _stop_tuple(stop_words: frozenset[str]) -> tuple[str, ...] | None:
    found = _STOP_TUPLES.get(stop_words, False)
    if found is False:
        fits = len(stop_words) <= 64 and all(type(w) is str and 0 < len(w) < 64 and "’" not in w for w in stop_words)
        found = _STOP_TUPLES[stop_words] = tuple(stop_words) if fits else None
    return found


try:
    from tamis._native._words import word_totals as _word_totals_native
except ImportError:  # pragma: no cover - the extension is built on install; this keeps a broken build usable
    word_totals = word_totals_reference
    word_counts = word_counts_reference
else:

    def word_totals(words: list[str]) -> tuple[int, int, int]:
        """:func:`word_totals_reference`, compiled (one pass over the words' characters)."""
        return _word_totals_native(words, char_class)

    def word_counts(words: list[str], stop_words: frozenset[str], apostrophe: bool) -> tuple[int, int, int, int]:
        """:func:`word_counts_reference`, compiled: the stop words are found in the same pass
        over the words as the totals, compared by their characters (no str hash, no set)."""
        stops = _stop_tuple(stop_words)
        if stops is None:
            return word_counts_reference(words, stop_words, apostrophe)
        return _word_totals_native(words, char_class, stops, apostrophe)


def line_marks_reference(text: str) -> tuple[int, int, int, int, int]:
    """(lines, lines starting with a bullet, lines ending with an ellipsis, hash symbols,
    ellipses) of ``text``, lines as :func:`tamis.text.split_lines` cuts them: the plain
    definition of what the line and symbol rules count."""
    lines = split_lines(text)
    bullets = sum(1 for line in lines if line.lstrip().startswith(("•", "-")))
    ellipsis_lines = sum(1 for line in lines if line.rstrip().endswith(("...", "…")))
    return len(lines), bullets, ellipsis_lines, text.count("#"), text.count("...") + text.count("…")


try:
    from tamis._native._words import line_marks
except ImportError:  # pragma: no cover - the extension is built on install; this keeps a broken build usable
    line_marks = line_marks_reference


def paragraphs_of(text: str) -> list[str]:
    """``_PARAGRAPH_BREAK.split(text)`` (pieces between runs of two or more ``\n``), with str's
    own split where it gives the same pieces: no run at all, or only runs of exactly two."""
    if "\n\n" not in text:
        return [text]
    if "\n\n\n" not in text:
        return text.split("\n\n")
    return _PARAGRAPH_BREAK.split(text)


def lines_of(text: str) -> list[str]:
    """The non-empty pieces between runs of ``\n`` (``[""]`` if none): str's split on each
    ``\n`` leaves an empty piece exactly where a run or the text's edge does, and they go."""
    return [line for line in text.split("\n") if line] or [""]


def _duplicates(items: list[str]) -> tuple[int, int]:
    """(number of repeated items, their characters): every occurrence after the first counts."""
    unique = set(items)
    return len(items) - len(unique), sum(map(len, items)) - sum(map(len, unique))


def repeat_counts_reference(text: str) -> tuple[int, int, int, int, int, int]:
    """(paragraphs, repeated paragraphs, their characters, lines, repeated lines, their
    characters) of ``text`` (line ends already ``\n``): what the line and paragraph rules read."""
    paragraphs = paragraphs_of(text.strip())
    lines = lines_of(text)
    return (len(paragraphs), *_duplicates(paragraphs), len(lines), *_duplicates(lines))


try:
    from tamis._native._words import repeat_counts
except ImportError:  # pragma: no cover - the extension is built on install; this keeps a broken build usable
    repeat_counts = repeat_counts_reference


@register("gopher_quality")
class GopherQuality(QualityFilter):
    """Gopher's quality rules: word count and length, symbols, bullets, alphabetic words, stop words."""

    THRESHOLDS = ("min_doc_words", "max_doc_words", "min_avg_word_length", "max_avg_word_length", "max_symbol_word_ratio",
                  "max_bullet_lines_ratio", "max_ellipsis_lines_ratio", "min_alpha_words_ratio", "min_stop_words")

    min_doc_words: int = param(50, "fewer words is rejected (Gopher: 50)")
    max_doc_words: int = param(100_000, "more words is rejected (Gopher: 100,000)")
    min_avg_word_length: float = param(3, "lower mean word length is rejected (Gopher: 3)")
    max_avg_word_length: float = param(10, "higher mean word length is rejected (Gopher: 10)")
    max_symbol_word_ratio: float = param(0.1, "more '#' or ellipses per word is rejected (Gopher: 0.1)")
    max_bullet_lines_ratio: float = param(0.9, "a larger share of lines starting with a bullet is rejected (Gopher: 0.9)")
    max_ellipsis_lines_ratio: float = param(0.3, "a larger share of lines ending with an ellipsis is rejected (Gopher: 0.3)")
    min_alpha_words_ratio: float = param(0.8, "a smaller share of words holding a letter is rejected (Gopher: 0.8)")
    min_stop_words: int = param(2, "fewer distinct stop words of the language is rejected (Gopher: 2); 0 turns it off")

    def score(self, doc: Document) -> dict[str, Any]:
        stats = self.stats(doc)
        text = doc.text
        words = stats.words
        n_tokens = len(words)
        stop_words = stats.settings.stop_words
        n_words, word_chars, alpha_words, n_stop_words = word_counts(words, stop_words, "’" in text)
        # Counted in one compiled call over the text (no list of lines: most documents stop here,
        # before a step that reads stats.splitlines), the symbol counts with them.
        n_lines, bullets, ellipsis_lines, hashes, ellipses = line_marks(text)
        n_lines = max(n_lines, 1)
        denominator = max(n_tokens, 1)
        return {
            "words": n_words,
            "avg_word_length": word_chars / n_words if n_words else 0.0,
            "hash_ratio": hashes / denominator,
            "ellipsis_ratio": ellipses / denominator,
            "bullet_lines_ratio": bullets / n_lines,
            "ellipsis_lines_ratio": ellipsis_lines / n_lines,
            "alpha_words_ratio": alpha_words / denominator,
            "stop_words": n_stop_words,
        }

    def decide(self, signals: dict[str, Any], doc: Document) -> Rejection | None:
        language = self.doc_language(doc)
        t = self.thresholds(language)
        words = signals["words"]
        if t["min_doc_words"] and words < t["min_doc_words"]:
            return Rejection("short_doc", words, t["min_doc_words"])
        if t["max_doc_words"] and words > t["max_doc_words"]:
            return Rejection("long_doc", words, t["max_doc_words"])
        avg = signals["avg_word_length"]
        if t["min_avg_word_length"] and avg < t["min_avg_word_length"]:
            return Rejection("short_words", avg, t["min_avg_word_length"])
        if t["max_avg_word_length"] and avg > t["max_avg_word_length"]:
            return Rejection("long_words", avg, t["max_avg_word_length"])
        if t["max_symbol_word_ratio"]:
            if signals["hash_ratio"] > t["max_symbol_word_ratio"]:
                return Rejection("hash_ratio", signals["hash_ratio"], t["max_symbol_word_ratio"])
            if signals["ellipsis_ratio"] > t["max_symbol_word_ratio"]:
                return Rejection("ellipsis_ratio", signals["ellipsis_ratio"], t["max_symbol_word_ratio"])
        if t["max_bullet_lines_ratio"] and signals["bullet_lines_ratio"] > t["max_bullet_lines_ratio"]:
            return Rejection("bullet_lines", signals["bullet_lines_ratio"], t["max_bullet_lines_ratio"])
        if t["max_ellipsis_lines_ratio"] and signals["ellipsis_lines_ratio"] > t["max_ellipsis_lines_ratio"]:
            return Rejection("ellipsis_lines", signals["ellipsis_lines_ratio"], t["max_ellipsis_lines_ratio"])
        if t["min_alpha_words_ratio"] and signals["alpha_words_ratio"] < t["min_alpha_words_ratio"]:
            return Rejection("alpha_words", signals["alpha_words_ratio"], t["min_alpha_words_ratio"])
        has_list = bool(self.stats(doc).settings.stop_words)
        if has_list and t["min_stop_words"] and signals["stop_words"] < t["min_stop_words"]:
            return Rejection("stop_words", signals["stop_words"], t["min_stop_words"])
        return None


@register("gopher_repetition")
class GopherRepetition(QualityFilter):
    """Gopher's repetition rules: duplicate lines and paragraphs, top and duplicate n-grams."""

    THRESHOLDS = ("dup_line_frac", "dup_para_frac", "dup_line_char_frac", "dup_para_char_frac", "top_n_grams", "dup_n_grams")

    dup_para_frac: float = param(0.30, "share of paragraphs that repeat an earlier one (Gopher: 0.30)")
    dup_para_char_frac: float = param(0.20, "share of characters in repeated paragraphs (Gopher: 0.20)")
    dup_line_frac: float = param(0.30, "share of lines that repeat an earlier one (Gopher: 0.30)")
    dup_line_char_frac: float = param(0.20, "share of characters in repeated lines (Gopher: 0.20)")
    top_n_grams: list = param([[2, 0.20], [3, 0.18], [4, 0.16]], "[n, max share of characters in the most frequent n-gram]")
    dup_n_grams: list = param([[5, 0.15], [6, 0.14], [7, 0.13], [8, 0.12], [9, 0.11], [10, 0.10]],
                              "[n, max share of characters in repeated n-grams]")

    def __post_init__(self) -> None:
        super().__post_init__()
        # Per language: the n of each n-gram rule and its signal's name, read from the
        # thresholds once instead of at every document (score and decide).
        self._plans: dict[str | None, tuple[list[int], list[int], list[str], list[str]]] = {}
        for name in ("top_n_grams", "dup_n_grams"):
            pairs = getattr(self, name)
            if not isinstance(pairs, list | tuple) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in pairs):
                msg = f"{name} must be a list of [n, fraction] pairs, got {pairs!r}"
                raise ValueError(msg)

    def score(self, doc: Document) -> dict[str, Any]:
        text = doc.text
        if not text:
            return {"chars": 0}
        if "\r" in text:  # tamis's one definition of a line end: \r\n and \r count as \n
            text = LINE_END_RE.sub("\n", text)
        length = len(text)
        # A leading or trailing line end does not open an empty line (the reference counts one).
        # Counted in one compiled pass each, without a str per paragraph or line.
        n_paragraphs, para_dups, para_chars, n_lines, line_dups, line_chars = repeat_counts(text)
        signals: dict[str, Any] = {
            "chars": length,
            "dup_para_frac": para_dups / n_paragraphs,
            "dup_para_char_frac": para_chars / length,
            "dup_line_frac": line_dups / n_lines,
            "dup_line_char_frac": line_chars / length,
        }
        top_ns, dup_ns, top_keys, dup_keys = self._plan(self.doc_language(doc))
        top, dup = ngram_stats(self.stats(doc).words, top_ns, dup_ns)
        for key, chars in zip(top_keys, top, strict=True):
            signals[key] = chars / length
        for key, chars in zip(dup_keys, dup, strict=True):
            signals[key] = chars / length
        return signals

    def _plan(self, language: str | None) -> tuple[list[int], list[int], list[str], list[str]]:
        plan = self._plans.get(language)
        if plan is None:
            t = self.thresholds(language)
            top_ns, dup_ns = [int(n) for n, _ in t["top_n_grams"]], [int(n) for n, _ in t["dup_n_grams"]]
            plan = self._plans[language] = (top_ns, dup_ns, [f"top_{n}_gram" for n in top_ns], [f"dup_{n}_gram" for n in dup_ns])
        return plan

    def decide(self, signals: dict[str, Any], doc: Document) -> Rejection | None:
        if not signals["chars"]:
            return Rejection("empty")
        language = self.doc_language(doc)
        t = self.thresholds(language)
        for rule in ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"):
            if t[rule] and signals[rule] > t[rule]:
                return Rejection(rule, signals[rule], t[rule])
        _, _, top_keys, dup_keys = self._plan(language)
        for keys, pairs in ((top_keys, t["top_n_grams"]), (dup_keys, t["dup_n_grams"])):
            for key, (_, limit) in zip(keys, pairs, strict=True):
                if signals[key] > limit:
                    return Rejection(key, signals[key], limit)
        return None
