"""``extract``: HTML pages → their main text, one paragraph per line, in Unicode NFC.

Documents marked ``metadata["content_format"] == "html"`` (WARC responses, .html files) are
pages, and by default (``pages: sniffed``) so is a document whose text opens as an HTML page
(``<!doctype html>`` or ``<html>`` first: a JSONL of scraped pages, as datatrove's extractors
take any document's text); every other document passes through unchanged, so the step can head
the default recipe without changing a corpus of text.

Rejections: ``extract:too_large`` (more than ``max_chars`` characters of HTML),
``extract:binary`` (the body is not text: more than ``max_binary_share`` control or
replacement characters in its first 8192 characters), ``extract:timeout`` (the page took more than
``timeout_s`` CPU seconds of the child process doing the work, or ten times that in wall time;
the child is killed and replaced), ``extract:error``
(the extractor raised), ``extract:empty`` (no main text found).

Limits and their sources: trafilatura itself refuses pages over 20 MB (its ``MAX_FILE_SIZE``);
Common Crawl truncates payloads at 1 MiB, so ``max_chars`` = 10 M characters only refuses
pathological pages. Extraction takes 5-55 ms per page on average (``bench/bench_extract.py``:
the default runs at 3-5 times trafilatura's pages per core, trafilatura at 20-26 pages/s on one
core), so a 5 s limit is about 100 times the slowest mean and only stops runaway pages.

The extractor default (``tamis_learned_hybrid``: the learned block classifier of
:mod:`tamis.extract.learned`, trafilatura ``fast=True`` on the pages its router is unsure of, then
the short-furniture-line filter of :mod:`tamis.steps.extract_html`) runs at 3-5 times
trafilatura's pages per core for an F1 within 0.005 of trafilatura's on the article benchmark and
above it on trafilatura-eval (held-out halves; figures in the README). Where lxml cannot hold
the page (nested deeper than its 256 levels) the lexbor fast path writes the text, and a routed
page that trafilatura returns empty keeps the classifier's, so no page is lost;
``metadata["extract_path"]`` says which path produced the text. ``tamis`` (the previous default:
tamis's fast path on pages whose body is nearly all long, link-poor paragraphs, trafilatura with
its fallbacks on the others; about trafilatura's speed), ``trafilatura`` (every page through
trafilatura), ``tamis_quick`` (the fast path wherever it is confident), ``tamis_fast`` (no
trafilatura) and ``tamis_learned`` (the classifier alone, no trafilatura) are the other choices;
their figures and the share of pages sent to trafilatura are printed by the bench. The page's own
title, canonical URL and date go into ``metadata`` where the input did not already say them.
"""

from __future__ import annotations

import atexit
import re
from collections.abc import Iterable, Iterator
from typing import Any

from tamis.document import Document
from tamis.errors import ConfigError
from tamis.registry import register
from tamis.steps.base import Step, TaskContext, param

# The extractors' names, so that the default recipe's first step (which passes text through)
# does not import the extractors (lxml, resiliparse, numpy, the block model: ~0.1 s of every
# JSONL run). tamis.steps.extract_html.EXTRACTORS holds the functions; a test keeps the two equal.
EXTRACTOR_NAMES = ("trafilatura", "trafilatura_fast", "resiliparse", "tamis", "tamis_quick", "tamis_fast", "tamis_learned", "tamis_learned_hybrid")

_TIMEOUT_DETAIL = "no result within {:g} CPU seconds; the extraction worker was killed and replaced"


# A document's text opens as an HTML page: <!doctype html> or <html> first, after white space, a
# byte order mark, an XML declaration and comments. Tried on the first 1,024 characters only (a
# bounded slice: every quantifier is bounded by it), so a JSONL corpus of plain text costs a
# microsecond a document and is never taken for pages.
# The comments are one atomic group: once read, never re-split (a run of "-->" cannot make the
# match try every way of grouping them).
_OPENS_AS_HTML = re.compile(r"\ufeff?\s*(?:<\?xml[^>]*\?>\s*)?(?>(?:<!--.*?-->\s*)*)<(?:!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)


def opens_as_html(text: str) -> bool:
    return _OPENS_AS_HTML.match(text[:1024]) is not None


@register("extract")
class Extract(Step):
    """Turn HTML pages (from WARC or .html inputs) into their main text; other documents pass."""

    extractor: str = param("tamis_learned_hybrid", f"main-text extractor: {', '.join(EXTRACTOR_NAMES)}")
    timeout_s: float = param(
        5.0, "per-page limit in CPU seconds of the extraction child, wall time at most 10x that (a slower page is rejected as extract:timeout)"
    )
    max_chars: int = param(10_000_000, "pages with more HTML characters are rejected as extract:too_large")
    max_binary_share: float = param(0.1, "pages whose first 8192 characters hold a larger share of control/replacement characters are extract:binary")
    min_chars: int = param(1, "extracted text shorter than this is rejected as extract:empty")
    drop_boilerplate: bool = param(True, "drop short furniture lines (copyright, share, newsletter, cookie ...) the extractor left in")
    isolate: bool = param(True, "extract in a child process that is killed on timeout (False: in-process, no time limit)")
    batch_pages: int = param(32, "pages sent to the extraction worker at a time (it never waits for its next page)")
    pages: str = param(
        "sniffed",
        "which documents are pages: marked (WARC responses, .html files), sniffed (those, and any whose text opens with <!doctype html> or <html>), all",
        choices=("marked", "sniffed", "all"),
    )

    @property
    def times_itself(self) -> bool:  # type: ignore[override]  # the child process has its own per-page limit (timeout_s)
        return self.isolate

    def __post_init__(self) -> None:
        if self.extractor not in EXTRACTOR_NAMES:
            msg = f"extract: unknown extractor {self.extractor!r}; choose from: {', '.join(EXTRACTOR_NAMES)}"
            raise ConfigError(msg)
        if self.timeout_s <= 0:
            raise ConfigError("extract: timeout_s must be positive")
        if self.batch_pages < 1:
            raise ConfigError("extract: batch_pages must be at least 1")
        self._worker = None

    def _extract_many(self, pages: list[str]) -> list[str | dict[str, Any] | Exception]:
        """Each page's text or the exception for that page (see IsolatedExtractor.extract_many)."""
        if not self.isolate:
            from tamis.steps.extract_html import extract_main_text

            results: list[str | dict[str, Any] | Exception] = []
            for html in pages:
                try:
                    results.append(extract_main_text(html, self.extractor))
                except Exception as exc:  # noqa: BLE001 - one bad page is a reject, not a failed task
                    results.append(RuntimeError(f"{type(exc).__name__}: {exc}"))
            return results
        if self._worker is None:
            from tamis.steps.extract_worker import IsolatedExtractor

            self._worker = IsolatedExtractor(self.extractor, self.timeout_s)
            atexit.register(self._worker.close)
        return self._worker.extract_many(pages)

    def _extract(self, html: str) -> str:
        result = self._extract_many([html])[0]
        if isinstance(result, Exception):
            raise result
        return result["text"] if isinstance(result, dict) else result

    def __getstate__(self) -> dict[str, object]:
        # A running child process does not travel to other workers; each starts its own.
        state = dict(self.__dict__)
        state["_worker"] = None
        return state

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def run(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        window: list[Document] = []
        for doc in docs:
            window.append(doc)
            if len(window) >= self.batch_pages:
                yield from self._run_window(window, ctx)
                window = []
        yield from self._run_window(window, ctx)

    def _is_page(self, doc: Document) -> bool:
        """Whether ``doc`` is an HTML page to extract (``pages``)."""
        if doc.metadata.get("content_format") == "html" or self.pages == "all":
            return True
        return self.pages == "sniffed" and doc.metadata.get("content_format") is None and opens_as_html(doc.text)

    def _precheck(self, doc: Document) -> tuple[str, str] | None:
        """(rule, detail) if the page is refused before extraction."""
        from tamis.steps.extract_html import binary_share

        html = doc.text
        if len(html) > self.max_chars:
            return "too_large", f"{len(html):,} characters of HTML (limit {self.max_chars:,})"
        share = binary_share(html)
        if share > self.max_binary_share:
            return "binary", f"{share:.0%} control or undecodable characters (limit {self.max_binary_share:.0%})"
        return None

    def _run_window(self, window: list[Document], ctx: TaskContext) -> Iterator[Document]:
        """Extract the window's pages in one batch, then emit every document in input order."""
        step_id = self.step_id
        refused: dict[int, tuple[str, str]] = {}
        to_extract: list[int] = []
        for position, doc in enumerate(window):
            if not self._is_page(doc):
                continue
            problem = self._precheck(doc)
            if problem is None:
                to_extract.append(position)
            else:
                refused[position] = problem
        results = dict(zip(to_extract, self._extract_many([window[i].text for i in to_extract]), strict=True)) if to_extract else {}
        if results:  # read below only for an extracted page (a text run skips subprocess's import, ~10 ms)
            from tamis.steps.extract_worker import ExtractTimeout
        for position, doc in enumerate(window):
            if position in refused:
                rule, detail = refused[position]
                ctx.reject(doc, f"{step_id}:{rule}", detail=detail)
                continue
            if position not in results:
                yield doc  # not HTML: untouched
                continue
            text = results[position]
            if isinstance(text, ExtractTimeout):
                ctx.reject(doc, f"{step_id}:timeout", detail=_TIMEOUT_DETAIL.format(self.timeout_s))
                continue
            if isinstance(text, Exception):
                ctx.reject(doc, f"{step_id}:error", detail=(str(text) or type(text).__name__)[:500])
                continue
            found: dict[str, Any] = {}
            if isinstance(text, dict):
                found = text
                text = found["text"]
            dropped = 0
            if self.drop_boilerplate:
                from tamis.steps.extract_html import drop_boilerplate_lines

                text, dropped = drop_boilerplate_lines(text)
            if len(text.strip()) < self.min_chars:
                ctx.reject(doc, f"{step_id}:empty", detail=f"no main text found by {self.extractor}")
                continue
            doc.text = text
            doc.metadata["content_format"] = "text"
            doc.metadata["extractor"] = self.extractor
            if found.get("path") and found["path"] != self.extractor:
                doc.metadata["extract_path"] = found["path"]  # e.g. the fast path where trafilatura found nothing
            for key, value in (found.get("metadata") or {}).items():
                # What the crawl recorded (WARC target URI and date) stays; the page's own
                # statement is added where the crawl said nothing, and a stated publication
                # date is kept beside the crawl date.
                if key == "date" and "date" in doc.metadata and doc.metadata["date"] != value:
                    doc.metadata["published"] = value
                else:
                    doc.metadata.setdefault(key, value)
            ctx.modified(step_id, unit="boilerplate_lines", count=dropped)
            yield doc
