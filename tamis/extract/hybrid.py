"""The ``tamis`` and ``tamis_quick`` extractors: the fast path where it is sure, trafilatura where it is not.

Either way the result is never empty when one of the two found text: trafilatura's lxml tree stops
at 255 levels of nesting and returns nothing for deeper pages, which lexbor parses whole.
"""

from __future__ import annotations

from tamis.extract.fast import Extraction, extract_fast, is_deep, parse_tree
from tamis.extract.metadata import page_metadata


def _trafilatura(html: str, *, fast: bool = False) -> str:
    import trafilatura

    try:
        result = trafilatura.extract(html, fast=fast, include_comments=False, include_tables=True, include_formatting=False)
    except RecursionError:
        return ""  # nested deeper than lxml's tree allows: the fast path's text stands
    return result or ""


# The ``tamis`` extractor (the step's default) keeps the fast path's text only where the page's body
# is nearly all long, link-poor paragraphs: at this share the fast path's pages score above
# trafilatura's on them, so the mix beats trafilatura alone on both evaluation sets (chosen on the
# development half of trafilatura-eval: 0.9263 against trafilatura's 0.9238; held-out half 0.9337
# against 0.9276; scrapinghub-aeb 0.9638 against 0.9591) while 29 % / 44 % of the pages skip
# trafilatura. ``tamis_quick`` takes the fast path's own confidence (CONFIDENT_SHARE): about 70 %
# of pages skip trafilatura, for an F1 below trafilatura's (bench/bench_extract.py).
CAREFUL_LONG_SHARE = 0.98


def extract_hybrid(html: str, min_long_share: float = CAREFUL_LONG_SHARE) -> Extraction:
    """The fast path's text where it is confident and at least ``min_long_share`` of it stands in
    long lines; trafilatura's elsewhere (the fast path's again where trafilatura finds nothing)."""
    tree = parse_tree(html)
    if is_deep(tree):
        return extract_fast(tree)  # lxml cannot hold it: trafilatura would only lose time
    fast = extract_fast(tree)
    if fast.confident and fast.long_share >= min_long_share:
        return fast
    text = _trafilatura(html)
    if text.strip():
        return Extraction(text, True, fast.metadata, "trafilatura")
    return fast


def trafilatura_or_fast(html: str, *, fast: bool = False) -> Extraction:
    """trafilatura first; the fast path when trafilatura finds nothing (deep nesting, odd markup)."""
    tree = parse_tree(html)
    if not is_deep(tree):
        text = _trafilatura(html, fast=fast)
        if text.strip():
            return Extraction(text, True, page_metadata(tree), "trafilatura")
    result = extract_fast(tree)
    if "deep" not in result.method:
        result.method = f"{result.method} (trafilatura found nothing)"
    return result


# The ``tamis_learned_hybrid`` extractor: the learned block classifier's text where it is sure of
# most of the page's characters (the share in blocks whose log-odds are at least
# learned.CONFIDENT_LOG_ODDS from the keep threshold's), trafilatura's elsewhere. Chosen on
# out-of-fold predictions over the development halves of both sets (bench/train_extract_model.py
# prints the table): with session 8's model, below 0.8, 13 % / 5 % of the pages go to trafilatura
# and the mix scores +0.0146 / +0.0048 over trafilatura alone on trafilatura-eval / scrapinghub-aeb
# (0.6: 2.5 % / 0 %, +0.0087 / +0.0055; 0.7: 6 % / 3 %, +0.0120 / +0.0026; 0.9: 26 % / 19 %,
# +0.0124 / +0.0083); the learned extractor alone: +0.0072 / +0.0055.
LEARNED_CONFIDENCE = 0.8


def extract_learned_hybrid(html: str, min_confidence: float = LEARNED_CONFIDENCE) -> Extraction:
    """The learned classifier where it is confident, trafilatura (with its fallbacks) where it is not."""
    from tamis.extract.learned import extract_learned

    learned = extract_learned(html)
    if learned.method == "learned" and learned.long_share >= min_confidence:
        return learned
    if "deeper" in learned.method:
        return learned  # trafilatura's lxml cannot hold the page either
    text = _trafilatura(html)
    if text.strip():
        return Extraction(text, True, learned.metadata, "trafilatura")
    return learned
