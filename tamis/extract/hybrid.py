"""The ``tamis`` extractor: the fast path where it is sure, trafilatura where it is not.

Either way the result is never empty when one of the two found text: trafilatura's lxml tree stops
at 255 levels of nesting and returns nothing for deeper pages, which lexbor parses whole.
"""

from __future__ import annotations

from resiliparse.parse.html import HTMLTree

from tamis.extract.fast import Extraction, extract_fast, is_deep
from tamis.extract.metadata import page_metadata


def _trafilatura(html: str, *, fast: bool = False) -> str:
    import trafilatura

    try:
        result = trafilatura.extract(html, fast=fast, include_comments=False, include_tables=True, include_formatting=False)
    except RecursionError:
        return ""  # nested deeper than lxml's tree allows: the fast path's text stands
    return result or ""


def extract_hybrid(html: str) -> Extraction:
    tree = HTMLTree.parse(html)
    if is_deep(tree):
        return extract_fast(tree)  # lxml cannot hold it: trafilatura would only lose time
    fast = extract_fast(tree)
    if fast.confident:
        return fast
    text = _trafilatura(html)
    if text.strip():
        return Extraction(text, True, fast.metadata, "trafilatura")
    return fast


def trafilatura_or_fast(html: str, *, fast: bool = False) -> Extraction:
    """trafilatura first; the fast path when trafilatura finds nothing (deep nesting, odd markup)."""
    tree = HTMLTree.parse(html)
    if not is_deep(tree):
        text = _trafilatura(html, fast=fast)
        if text.strip():
            return Extraction(text, True, page_metadata(tree), "trafilatura")
    result = extract_fast(tree)
    if "deep" not in result.method:
        result.method = f"{result.method} (trafilatura found nothing)"
    return result
