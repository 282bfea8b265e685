"""Repair of in-document repetition: a repeated line is kept once, at its first place.

Scraped pages often carry the same paragraph twice (a template that renders the body twice,
an infinite-scroll fragment appended again). Dropping such a page loses its text; keeping it
teaches a model to repeat itself. This step keeps the first occurrence of every line and
removes later verbatim repeats (compared in normalised form: case, Unicode form, whitespace,
apostrophes).

Rules:
- A line is one paragraph in scraped text (one paragraph per line is how the readers and the
  HTML extractor emit text), so line and paragraph repetition are the same repair here.
- Lines shorter than ``min_chars`` normalised characters are never removed: "Share", "***",
  "Oui" or a table cell repeat legitimately and are too short to tell boilerplate from
  content. The Gopher repetition filter still sees them. A Chinese or Japanese character
  counts as three (:func:`tamis.dedup.shingles.line_length`): a 10-character Chinese sentence
  is as long as a 30-character English one, not a short line.
- Blank lines that only separated a removed line from the text before it go with it, and the
  text keeps its original final line end (or lack of one).
- A document of two or more non-blank lines that are all the same is rejected
  (``repetition:all_lines_identical``), not silently "repaired" into one line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator

from tamis.dedup.shingles import line_length
from tamis.document import Document
from tamis.registry import register
from tamis.steps.base import Step, TaskContext, param
from tamis.text import is_nfc, iter_lines_with_ends, lines_with_ends, normalized_utf8, normalized_utf8_of_nfc

SAMPLE_LINE_CHARS = 240


def _key_chars(key: str | bytes) -> int:
    """:func:`line_length` of a comparison key (UTF-8 bytes from :func:`normalized_utf8`, or a str)."""
    if isinstance(key, str):
        return line_length(key)
    if key.isascii():
        return len(key)
    return line_length(key.decode("utf-8", "surrogatepass"))


try:
    from tamis._native._text import repair_lines as _repair_lines_native
except ImportError:  # pragma: no cover - not built, or a CPython (>= 3.13) whose case folding C cannot reach
    _repair_lines_native = None


@functools.cache
def _nfc_table_ready() -> bool:
    """Whether the compiled NFC table is handed over (the normalize step's, shared)."""
    from tamis.steps.normalize import _quick

    return _quick() is not None


def repair_repetition(
    text: str,
    min_chars: int,
    marks: list[tuple[str, bool]] | None = None,
    key_of: Callable[[str], str | bytes] | None = None,
) -> tuple[str, int, bool]:
    """Returns (repaired text, number of lines removed, every non-blank line identical).

    If ``marks`` is a list, it receives ``(line, removed)`` for every non-blank line. Lines are
    compared by ``key_of``; by default the compiled :func:`normalized_utf8` (the UTF-8 of
    :func:`normalize_for_hash`, which tests pass here as the plain-Python reference), its NFC
    check made once for the whole text: line ends compose with nothing and have no combining
    class, so a text in NFC has every line in NFC (the normalize step's output always is).
    A text in NFC without ``marks`` or ``key_of`` is repaired by the compiled
    ``tamis._native._text.repair_lines``: this function's loop with the keys made and compared
    in C, no object per line (the tests compare the two).
    """
    if not text:
        return text, 0, False
    if key_of is None and marks is None and _repair_lines_native is not None and _nfc_table_ready():
        # The compiled loop checks NFC in the pass that counts the lines (normalize_quick's
        # table: no code point NFC may change); only a text it cannot vouch for (None) is
        # checked the full way below.
        repaired = _repair_lines_native(text, min_chars, True)
        if repaired is not None:
            return repaired
    if key_of is None:
        nfc = is_nfc(text)
        if nfc and marks is None and _repair_lines_native is not None:
            return _repair_lines_native(text, min_chars)
        key_of = normalized_utf8_of_nfc if nfc else normalized_utf8
    seen: set[str | bytes] = set()
    kept: list[str] = []
    removed = 0
    non_blank = 0
    pending_blank: list[str] = []
    for line in lines_with_ends(text):
        content = line.rstrip("\r\n")  # one end at most: splitlines cut at the first
        key = key_of(content)
        if not key:
            pending_blank.append(line)
            continue
        non_blank += 1
        if key in seen:
            if _key_chars(key) >= min_chars:
                removed += 1
                if marks is not None:
                    marks.append((content, True))
                pending_blank = [] if kept else pending_blank
                continue
        else:
            seen.add(key)
        if marks is not None:
            marks.append((content, False))
        kept.extend(pending_blank)
        pending_blank = []
        kept.append(line)
    kept.extend(pending_blank)
    all_identical = non_blank >= 2 and len(seen) == 1
    if not removed:
        return text, 0, all_identical
    repaired = "".join(kept)
    if text[-1] not in "\r\n":
        repaired = repaired.rstrip("\r\n")
    return repaired, removed, all_identical


@register("repetition")
class RepetitionRepair(Step):
    """Keep each repeated line once; reject pages made of one line repeated."""

    min_chars: int = param(30, "lines shorter than this (normalised characters; a Chinese or Japanese one counts 3) are never removed")
    reject_identical: bool = param(True, "reject documents whose non-blank lines are all the same")

    def run(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        step_id = self.step_id
        kind = f"{step_id}:repaired"
        for doc in docs:
            # Lines are marked for the report's sample only while it takes one (the first few repairs).
            marks: list[tuple[str, bool]] | None = [] if ctx.wants_sample(kind) else None
            repaired, removed, all_identical = repair_repetition(doc.text, self.min_chars, marks)
            if all_identical and self.reject_identical:
                lines = sum(1 for c, _ in iter_lines_with_ends(doc.text) if c.strip())
                ctx.reject(doc, f"{step_id}:all_lines_identical", detail=f"{lines} lines, all the same")
                continue
            if removed:
                doc.text = repaired
                doc.metadata[f"{step_id}_removed"] = removed
                ctx.modified(step_id, unit="lines", count=removed)
                if marks is not None:
                    ctx.sample(kind, {"id": doc.id, "lines": [{"text": line[:SAMPLE_LINE_CHARS], "removed": gone} for line, gone in marks]})
            yield doc
