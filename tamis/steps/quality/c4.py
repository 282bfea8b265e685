"""C4's rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", section 2.2).

Line rules (a line that breaks one does not count, and is removed in ``remove_lines`` mode):
- a word longer than 1,000 characters;
- no terminal punctuation (``. ? ! " '``) or an ellipsis at the end (off by default, see below);
- fewer than 3 words;
- the word "javascript";
- a policy phrase ("terms of use", "privacy policy", "cookie policy", "uses cookies",
  "use of cookies", "use cookies").

Document rules: "lorem ipsum" or a curly bracket in a counted line, and fewer than 5
sentences in the counted lines. Wikipedia citation marks (``[1]``, ``[edit]``,
``[citation needed]``) are ignored.

Two ways to use it:
- default, as FineWeb used it (Penedo et al. 2024): a verdict on the whole document, the text
  unchanged, and no terminal-punctuation rule (FineWeb found it removed too much);
- ``remove_lines: true`` and ``terminal_punct: true``: C4 as published, which also removes the
  lines that break a line rule (counted under ``modified``, unit ``lines``).

Sentences are counted as spaCy's sentencizer counts them (which the reference runs): a new
sentence starts at the first word after a ``.``, ``!`` or ``?`` that is a word of its own
(not the period of ``Mr.``, ``U.S.`` or ``3.5``).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator
from typing import Any

from tamis.document import Document
from tamis.registry import register
from tamis.steps.base import Rejection, TaskContext, param
from tamis.steps.quality.base import QualityFilter
from tamis.steps.quality.words import char_class, tokenize, word_class, word_regex

_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
_END_PUNCTUATION = (".", "?", "!", '"', "'")
_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_SENTENCE_ENDS = frozenset(".!?。！？")


def _may_hold_policy(lower: str) -> bool:
    """False where no phrase of _POLICY can be in ``lower``: each holds "cookie", "terms of use"
    or "privacy policy" (three searches for the six, on the lines where none is found)."""
    return "cookie" in lower or "terms of use" in lower or "privacy policy" in lower


def _fold(words: list[str], after_end: bool) -> tuple[int, bool]:
    """The spaCy sentencizer rule over ``words`` entered in state ``after_end`` (just after a
    sentence end or not): the sentences it starts, and the state it leaves."""
    started = 0
    for word in words:
        if word in _SENTENCE_ENDS:
            after_end = True
        elif after_end and not word_class(word)[0]:
            started += 1
            after_end = False
    return started, after_end


def count_sentences(words: list[str]) -> int:
    """Sentences in one line's words (spaCy sentencizer rule)."""
    return 1 + _fold(words, False)[0] if words else 0


def _chunk_summary(words: list[str]) -> tuple[bool, int, bool, int, bool]:
    """What one chunk's words do to :func:`count_sentences`'s fold, from either state:
    (has words, sentences added and state after, entered not after an end; the same entered
    after an end). The fold over a line is the fold over its chunks, so composing these
    summaries counts what the fold over the whole line's words counts."""
    return (bool(words), *_fold(words, False), *_fold(words, True))


# Per word regex (language), each chunk's summary: lines repeat their chunks ("the", "file.",
# "-v,"), and a lookup is far cheaper than cutting the chunk again. Web text has an open
# vocabulary: past _SUMMARY_LIMIT summaries in all languages together, all are dropped.
_SUMMARIES: dict[tuple[str, int], dict[str, tuple[bool, int, bool, int, bool]]] = {}
_SUMMARY_LIMIT = 200_000
_summarised = [0]


def _summaries_of(regex: re.Pattern[str]) -> dict[str, tuple[bool, int, bool, int, bool]]:
    key = regex.pattern, regex.flags  # a Pattern's own hash reads its whole program at every call; its text's is kept
    summaries = _SUMMARIES.get(key)
    if summaries is None:
        summaries = _SUMMARIES[key] = {}
    return summaries


# A word of letters ending in a lower-case one, then a period ("error.", "bitów."): never a
# sentence end itself nor made of symbols, so every such chunk has this summary.
_WORD_THEN_PERIOD = _chunk_summary(["word", "."])


def plain_word_then_period(chunk: str, abbreviations: Container[str]) -> bool:
    """Whether the word regex cuts ``chunk`` into its letters and its final period: letters only
    (str.isalpha: no digit, mark, apostrophe, hyphen or symbol for another alternative to take),
    the last one lower case (a period stays after a capital or a digit in some languages, after
    none of them), and not one of the language's abbreviations (``Mr.``, ``etc.`` stay whole).
    Tests compare this with the regex on every language and on every such chunk of the bench's
    pages."""
    if len(chunk) < 2 or chunk[-1] != ".":
        return False
    body = chunk[:-1]
    return body.isalpha() and body[-1].islower() and body not in abbreviations


def _summarise(chunk: str, regex: re.Pattern[str], summaries: dict, abbreviations: Container[str] | None = None) -> tuple[bool, int, bool, int, bool]:
    """Reads one chunk's summary into ``summaries`` (the memo of ``regex``). Past the limit every
    memo is emptied in place (the compiled line loop holds the dict it was given). With the
    language's ``abbreviations``, a chunk that :func:`plain_word_then_period` recognises is not
    cut by the regex (~16 µs a chunk: the most common kind of chunk holding a sentence end)."""
    if _summarised[0] >= _SUMMARY_LIMIT:
        for memo in _SUMMARIES.values():
            memo.clear()
        _summarised[0] = 0
    _summarised[0] += 1
    if abbreviations is not None and plain_word_then_period(chunk, abbreviations):
        summary = summaries[chunk] = _WORD_THEN_PERIOD
    else:
        summary = summaries[chunk] = _chunk_summary(tokenize(chunk, regex))
    return summary


def line_sentences(line: str, regex: re.Pattern[str]) -> int:
    """``count_sentences(tokenize(line, regex))``, without cutting the line where it holds no
    sentence end: then no word is one, so the line is one sentence if it has a word at all,
    which a chunk of letters and digits is (tokenize keeps it whole). Elsewhere each chunk's
    words (tokenize cuts every chunk alone) are read once per process, as their effect on the
    count (:func:`_chunk_summary`)."""
    if _SENTENCE_ENDS.isdisjoint(line):
        for chunk in line.split():
            if chunk.isalnum():
                return 1
    summaries = _summaries_of(regex)
    sentences = 0
    has_words = after_end = False
    for chunk in line.split():
        summary = summaries.get(chunk)
        if summary is None:
            summary = _summarise(chunk, regex, summaries)
        chunk_has_words, added_before, after_before, added_after, after_after = summary
        if after_end:
            sentences += added_after
            after_end = after_after
        else:
            sentences += added_before
            after_end = after_before
        has_words = has_words or chunk_has_words
    return sentences + 1 if has_words else 0


try:
    from tamis._native._words import c4_lines as _c4_lines
except ImportError:  # pragma: no cover - the extension is built on install; this keeps a broken build usable
    _c4_lines = None

_LINE_RULES = ("long_word", "no_terminal_punct", "few_words", "javascript", "policy")
_DOCUMENT_RULES = (None, "lorem_ipsum", "curly_bracket")


@register("c4_quality")
class C4Quality(QualityFilter):
    """C4's rules: sentences, curly brackets, lorem ipsum, javascript and policy lines (document verdict by default)."""

    THRESHOLDS = ("min_num_sentences", "min_words_per_line", "max_word_length")

    remove_lines: bool = param(False, "remove the lines that break a line rule, as C4 did (default: judge the document only, as FineWeb)")
    terminal_punct: bool = param(False, "lines must end with terminal punctuation (C4: true; FineWeb: false)")
    min_num_sentences: int = param(5, "fewer sentences in the counted lines is rejected (C4: 5); 0 turns it off")
    min_words_per_line: int = param(3, "lines with fewer words do not count (C4: 3)")
    max_word_length: int = param(1000, "lines with a longer word do not count (C4: 1000)")
    remove_citations: bool = param(True, "ignore Wikipedia citation marks [1], [edit], [citation needed]")
    lorem_ipsum: bool = param(True, "reject documents containing 'lorem ipsum'")
    javascript: bool = param(True, "lines mentioning 'javascript' do not count")
    curly_bracket: bool = param(True, "reject documents containing a curly bracket")
    policy: bool = param(True, "lines with a cookie or terms-of-use phrase do not count")

    def measure(self, doc: Document) -> tuple[dict[str, Any], list[str] | None]:
        """(signals, kept lines; None unless ``remove_lines``): :meth:`measure_reference`'s
        loop, compiled (``tamis._native._words.c4_lines``: one pass a line, no str per line or
        word; chunks holding a sentence end are summarised by :func:`_chunk_summary`, memoised)."""
        stats = self.stats(doc)
        t = self.thresholds(stats.language)
        if _c4_lines is None or not isinstance(t["max_word_length"], int) or not isinstance(t["min_words_per_line"], int):
            signals, kept = self.measure_reference(doc)
            return signals, kept if self.remove_lines else None
        regex = word_regex(stats.settings)
        summaries = _summaries_of(regex)
        switches = (self.remove_citations, self.terminal_punct, self.lorem_ipsum, self.javascript, self.curly_bracket, self.policy,
                    t["min_num_sentences"] > 0, self.remove_lines)
        options = sum(1 << bit for bit, on in enumerate(switches) if on)
        abbreviations = stats.settings.abbreviations
        lines, n_kept, sentences, removed, rule, kept = _c4_lines(
            doc.text, options, t["max_word_length"], t["min_words_per_line"], summaries,
            lambda chunk: _summarise(chunk, regex, summaries, abbreviations), char_class)
        signals: dict[str, Any] = {
            "lines": lines,
            "lines_kept": n_kept,
            "sentences": sentences,
            "lines_removed": {name: count for name, count in zip(_LINE_RULES, removed, strict=True) if count},
        }
        if rule:
            signals["document_rule"] = _DOCUMENT_RULES[rule]
        return signals, kept

    def measure_reference(self, doc: Document) -> tuple[dict[str, Any], list[str]]:
        """(signals, kept lines): the plain definition of the rules, line by line."""
        stats = self.stats(doc)
        t = self.thresholds(stats.language)
        regex = word_regex(stats.settings)
        removed = {"long_word": 0, "no_terminal_punct": 0, "few_words": 0, "javascript": 0, "policy": 0}
        kept: list[str] = []
        sentences = 0
        doc_rule: str | None = None
        for raw in stats.splitlines:
            line = raw.strip()
            words = line.split()
            # No word is longer than its line: most lines skip the scan.
            if 0 < t["max_word_length"] < len(line) and any(len(w) > t["max_word_length"] for w in words):
                removed["long_word"] += 1
                continue
            if self.remove_citations and "[" in line:
                line = _CITATION.sub("", line)
            if self.terminal_punct and (not line.endswith(_END_PUNCTUATION) or line.endswith("...")):
                removed["no_terminal_punct"] += 1
                continue
            if len(words) < t["min_words_per_line"]:
                removed["few_words"] += 1
                continue
            lower = line.lower()
            if self.lorem_ipsum and "lorem ipsum" in lower:
                doc_rule = "lorem_ipsum"
                break
            if self.javascript and "javascript" in lower:
                removed["javascript"] += 1
                continue
            if self.curly_bracket and "{" in line:
                doc_rule = "curly_bracket"
                break
            if self.policy and _may_hold_policy(lower) and any(p in lower for p in _POLICY):
                removed["policy"] += 1
                continue
            if t["min_num_sentences"] > 0:
                sentences += count_sentences(tokenize(line, regex))
            kept.append(line)
        signals: dict[str, Any] = {
            "lines": len(stats.splitlines),
            "lines_kept": len(kept),
            "sentences": sentences,
            "lines_removed": {k: v for k, v in removed.items() if v},
        }
        if doc_rule:
            signals["document_rule"] = doc_rule
        return signals, kept

    def score(self, doc: Document) -> dict[str, Any]:
        return self.measure(doc)[0]

    def decide(self, signals: dict[str, Any], doc: Document) -> Rejection | None:
        if signals.get("document_rule"):
            return Rejection(signals["document_rule"])
        minimum = self.thresholds(self.doc_language(doc))["min_num_sentences"]
        if minimum > 0 and signals["sentences"] < minimum:
            return Rejection("too_few_sentences", signals["sentences"], minimum)
        return None

    def run(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        step_id = self.step_id
        for doc in docs:
            signals, kept = self.measure(doc)
            if self.record_signals:
                doc.metadata.setdefault("signals", {})[step_id] = signals
            rejection = self.decide(signals, doc)
            if rejection is not None:
                ctx.reject(doc, f"{step_id}:{rejection.rule}", detail=rejection.detail())
                continue
            if self.remove_lines:
                removed = signals["lines"] - signals["lines_kept"]
                new_text = "\n".join(kept or ())
                if new_text != doc.text:
                    doc.text = new_text
                    ctx.modified(step_id, unit="lines", count=removed)
            yield doc
