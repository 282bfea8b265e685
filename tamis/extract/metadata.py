"""Title, canonical URL and publication date from a parsed page's head (lexbor selectors, C-side)."""

from __future__ import annotations

from resiliparse.parse.html import HTMLTree

# The conventions publishers use (Open Graph, schema.org microdata, Dublin Core, <time>), in the
# order of how reliably they hold the value.
_TITLE = ('meta[property="og:title"]', 'meta[name="twitter:title"]')
_URL = ('link[rel="canonical"]', 'meta[property="og:url"]')
_DATE = (
    'meta[property="article:published_time"]',
    'meta[itemprop="datePublished"]',
    'meta[name="date"]',
    'meta[name="dc.date"]',
    'meta[name="DC.date.issued"]',
    'meta[name="publication_date"]',
    '[itemprop="datePublished"][datetime]',
    '[itemprop="datePublished"][content]',
    "time[datetime]",
)
_MAX = 2000  # a value longer than this is not a title, URL or date


def _first(tree: HTMLTree, selectors: tuple[str, ...]) -> str | None:
    document = tree.document
    if document is None:
        return None
    for selector in selectors:
        node = document.query_selector(selector)
        if node is None:
            continue
        for attribute in ("content", "href", "datetime"):
            value = node.getattr(attribute)
            if value and value.strip():
                return " ".join(value.split())[:_MAX]
    return None


def page_metadata(tree: HTMLTree) -> dict[str, str]:
    """``title``, ``url`` and ``date`` where the page states them (missing keys: not stated)."""
    found: dict[str, str] = {}
    title = tree.title
    title = " ".join(title.split())[:_MAX] if title and title.strip() else _first(tree, _TITLE)
    if title:
        found["title"] = title
    url = _first(tree, _URL)
    if url and url.startswith(("http://", "https://")):
        found["url"] = url
    date = _first(tree, _DATE)
    if date:
        found["date"] = date
    return found
