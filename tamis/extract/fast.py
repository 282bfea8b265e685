"""The fast path: lexbor parse, furniture removal by HTML semantics, resiliparse's main-content
pass, then a line-level judgement (link density, headings, position relative to the body text).

Every step is linear in the page: lexbor parses and runs the selectors in C, resiliparse writes the
blocks in C++, and the Python part only looks at the blocks it wrote (tens to hundreds per page),
with regular expressions that cannot backtrack over more than one tag.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from tamis.extract.metadata import page_metadata

# Elements whose HTML meaning is "not the article": navigation, side content, footers, forms and
# widgets, embedded documents. Class/id words were measured too (cookie, comment, share, related,
# sidebar ...): on the development half they removed article text as often as furniture (wrappers
# named "has-sidebar", "comment-content"), so the structure of the HTML decides, not names; the
# exception is captions and photo credits (+0.003 / +0.009 F1 on the development halves).
# Also measured and dropped: restricting the page to the element that holds most long <p> text
# (Readability's idea) lost headings, leads and lists (-0.06 F1) and cost 4 ms a page.
FURNITURE_SELECTOR = ", ".join(
    [
        "nav", "aside", "footer", "form", "dialog", "menu", "button", "select", "textarea",
        "iframe", "noscript", "template", "svg", "object", "embed",
        '[role="navigation"]', '[role="contentinfo"]', '[role="complementary"]', '[role="search"]',
        '[role="dialog"]', '[role="alertdialog"]', '[role="menu"]', '[role="menubar"]',
        "[hidden]", '[aria-hidden="true"]',
        # Photo captions and credits, by the class names every CMS gives them.
        '[class*="caption" i]', '[class*="credit" i]',
    ]
)  # fmt: skip
_PROTECTED_TAGS = {"html", "body", "article", "main"}

LINK_DENSITY_MAX = 0.5  # a line more than half of whose characters are link text is navigation
GOOD_CHARS = 60  # a "long" line: a real paragraph rather than a label, button or byline (60-100 measured; 60 best on the development half)
GOOD_LINK_DENSITY = 0.3
# Confidence: the page has a clear body of text when at least this many long lines hold at least
# this many characters and this share of the extracted text (chosen on the development half of
# trafilatura-eval, checked on its held-out half and on scrapinghub-aeb; bench/bench_extract.py).
CONFIDENT_CHARS = 1000
CONFIDENT_LINES = 1
CONFIDENT_SHARE = 0.9

# resiliparse's main-content pass takes time quadratic in the nesting depth (2 s at 5,000 levels,
# minutes at 50,000) and lxml, under trafilatura, gives up at 255 levels. A page with an element
# this deep (lexbor answers this selector in C; under 1 ms on ordinary pages) gets the plain
# visible-text pass instead, which is linear.
MAX_DEPTH = 200
_DEEP_SELECTOR = " > ".join(["*"] * MAX_DEPTH)

_BLOCK_RE = re.compile(r"^<(h[1-6]|p|li|pre|ul|ol|blockquote)>(.*)</\1>$", re.DOTALL)
_LINK_RE = re.compile(r"<a\b[^>]{0,2000}>([^<]*)</a>")
_TAG_RE = re.compile(r"<[^<>]{0,2000}>")


@dataclass
class Line:
    text: str
    tag: str
    link_chars: int

    @property
    def long(self) -> bool:
        return len(self.text) >= GOOD_CHARS and self.link_chars <= GOOD_LINK_DENSITY * len(self.text)


@dataclass
class Extraction:
    """The main text (one paragraph per line), whether the fast path trusts it, and page metadata."""

    text: str
    confident: bool
    metadata: dict[str, str] = field(default_factory=dict)
    method: str = "fast"
    long_share: float = 0.0  # share of the text in long, link-poor lines (the hybrids' second test)


def _remove_furniture(body, body_chars: int) -> None:
    # An element holding most of the page's text is the page (some sites wrap everything in a
    # <form> or a <div role="complementary">): keep it.
    limit = max(500, body_chars * 0.4)
    for node in body.query_selector_all(FURNITURE_SELECTOR).values():
        if node.tag in _PROTECTED_TAGS:
            continue
        if len(node.text) > limit:
            continue
        node.remove()


def _lines(formatted: str) -> list[Line]:
    """The blocks resiliparse wrote (``<p>…</p>``, ``<h2>…</h2>``, bare text), one Line per line."""
    lines: list[Line] = []
    for block in formatted.split("\n\n"):
        block = block.strip()
        if not block:
            continue
        match = _BLOCK_RE.match(block)
        tag, inner = (match.group(1), match.group(2)) if match else ("div", block)
        link_chars = sum(len(html_lib.unescape(text).strip()) for text in _LINK_RE.findall(inner))
        text = html_lib.unescape(_TAG_RE.sub("", inner.replace("<br>", "\n")))
        for part in text.split("\n"):
            part = " ".join(part.split())
            if part:
                lines.append(Line(part, tag, min(len(part), link_chars)))
                link_chars = max(0, link_chars - len(part))
    return lines


def select_lines(lines: list[Line]) -> list[Line]:
    """Drop link lists and the page title, then the short lines outside the span of long ones."""
    lines = [line for line in lines if line.tag != "h1" and line.link_chars <= LINK_DENSITY_MAX * len(line.text)]
    long_positions = [i for i, line in enumerate(lines) if line.long]
    if not long_positions:
        return lines
    first = long_positions[0]
    if first > 0 and lines[first - 1].tag in ("h2", "h3", "h4", "h5", "h6"):
        first -= 1  # the heading of the first section belongs to it
    return lines[first : long_positions[-1] + 1]


def long_share(lines: list[Line]) -> float:
    """Share of the lines' characters that stand in long lines."""
    total = sum(len(line.text) for line in lines) or 1
    return sum(len(line.text) for line in lines if line.long) / total


def is_confident(lines: list[Line]) -> bool:
    long_chars = sum(len(line.text) for line in lines if line.long)
    long_count = sum(1 for line in lines if line.long)
    return long_count >= CONFIDENT_LINES and long_chars >= CONFIDENT_CHARS and long_share(lines) >= CONFIDENT_SHARE


def is_deep(tree: HTMLTree) -> bool:
    """Whether the page nests elements more than MAX_DEPTH levels deep."""
    body = tree.body
    return body is not None and body.query_selector(_DEEP_SELECTOR) is not None


def visible_text(tree: HTMLTree) -> str:
    return extract_plain_text(tree, main_content=False, preserve_formatting=True, list_bullets=False, alt_texts=False)


def parse_tree(html: str) -> HTMLTree:
    """lexbor's tree of ``html``; a lone surrogate (which lexbor's UTF-8 encoder refuses) becomes U+FFFD."""
    try:
        return HTMLTree.parse(html)
    except UnicodeEncodeError:
        return HTMLTree.parse(html.encode("utf-8", "replace").decode("utf-8"))


def extract_fast(html: str | HTMLTree) -> Extraction:
    """Main text of ``html`` without trafilatura (see the module docstring)."""
    tree = parse_tree(html) if isinstance(html, str) else html
    metadata = page_metadata(tree)
    body = tree.body
    if body is None:
        return Extraction("", False, metadata)
    if is_deep(tree):
        return Extraction(visible_text(tree), False, metadata, "fast (deep page: all visible text)")
    _remove_furniture(body, len(body.text))
    formatted = extract_plain_text(tree, main_content=True, preserve_formatting="minimal_html", links=True, list_bullets=False, alt_texts=False)
    lines = _lines(formatted)
    chosen = select_lines(lines)
    if not chosen:
        # Nothing looked like a main block: the page's visible text is better than nothing
        # (a list page, a page of short lines); the hybrid asks trafilatura first.
        return Extraction(visible_text(tree), False, metadata)
    return Extraction("\n".join(line.text for line in chosen), is_confident(chosen), metadata, long_share=long_share(chosen))
