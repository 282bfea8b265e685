"""Title, canonical URL and publication date from a parsed page's head (lexbor selectors, C-side)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from lxml import etree
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
    return _stated(tree.title, lambda selectors: _first(tree, selectors))


def _stated(title: str | None, first: Callable[[tuple[str, ...]], str | None]) -> dict[str, str]:
    """The metadata from the ``<title>`` text and ``first``, which finds the first value the
    page gives for a list of selectors (one function per parser)."""
    found: dict[str, str] = {}
    title = " ".join(title.split())[:_MAX] if title and title.strip() else first(_TITLE)
    if title:
        found["title"] = title
    url = first(_URL)
    if url and url.startswith(("http://", "https://")):
        found["url"] = url
    date = first(_DATE)
    if date:
        found["date"] = date
    return found


@cache
def _parse_selector(selector: str) -> tuple[str, tuple[tuple[str, str | None], ...]]:
    """``tag[attr="value"][attr2]`` -> (tag or "*", ((attr, value), (attr2, None)))."""
    tag, _, rest = selector.partition("[")
    tests = []
    for condition in ("[" + rest).split("[")[1:]:
        name, _, value = condition.rstrip("]").partition("=")
        tests.append((name, value.strip('"') if value else None))
    return tag or "*", tuple(tests)


_CANDIDATES = None  # one XPath over the page for every element a selector above can name
_FIRST_TITLE = etree.XPath("descendant::title[1]")


def _candidates(root) -> list:
    from tamis.extract.blocks import _native  # the compiled walk: the same elements, 40x faster than the XPath

    if _native is not None:
        found = _native.metadata_candidates(root)
        if found is not None:
            return found
    return _candidates_reference(root)


def _candidates_reference(root) -> list:
    global _CANDIDATES
    if _CANDIDATES is None:
        _CANDIDATES = etree.XPath("//*[self::meta or self::link or self::time or @itemprop='datePublished']")
    return _CANDIDATES(root)


def _first_lxml(candidates: list, selectors: tuple[str, ...]) -> str | None:
    for selector in selectors:
        tag, tests = _parse_selector(selector)
        for node in candidates:
            if tag not in ("*", node.tag):
                continue
            if all((node.get(name) is not None) if value is None else node.get(name) == value for name, value in tests):
                for attribute in ("content", "href", "datetime"):
                    value = node.get(attribute)
                    if value and value.strip():
                        return " ".join(value.split())[:_MAX]
                break  # the first element a selector names decides, as in lexbor's query_selector
    return None


_GROUPS = (_TITLE, _URL, _DATE)
_ALL_SELECTORS = tuple(_parse_selector(selector) for group in _GROUPS for selector in group)


def _first_of_triples(triples: list, selectors: tuple[str, ...]) -> str | None:
    """:func:`_first_lxml` from the compiled walk's answer: each selector's first element as its
    (content, href, datetime), None where no element matches."""
    start = 0
    for group in _GROUPS:
        if group is selectors:
            break
        start += len(group)
    for triple in triples[start : start + len(selectors)]:
        if triple is None:
            continue
        for value in triple:
            if value and value.strip():
                return " ".join(value.split())[:_MAX]
    return None


def page_metadata_lxml(root) -> dict[str, str]:
    """:func:`page_metadata` for a page parsed by lxml (the learned extractor's parser): the
    selectors answered by one compiled walk where it can, else by the candidates' elements."""
    from tamis.extract.blocks import _native

    triples = _native.metadata_first(root, _ALL_SELECTORS) if _native is not None and hasattr(_native, "metadata_first") else None
    if triples is None:
        return page_metadata_lxml_python(root)
    titles = _FIRST_TITLE(root)
    title_node = titles[0] if titles else None
    return _stated(title_node.text if title_node is not None else None, lambda selectors: _first_of_triples(triples, selectors))


def page_metadata_lxml_python(root) -> dict[str, str]:
    """:func:`page_metadata_lxml` by the candidates' lxml elements (the compiled walk's reference)."""
    candidates = _candidates(root)
    # The first <title> below the root in document order, as root.find(".//title") finds it:
    # libxml2's XPath stops at the first match (4 us), ElementPath's ".//" costs 0.1 ms a page.
    titles = _FIRST_TITLE(root)
    title_node = titles[0] if titles else None
    return _stated(title_node.text if title_node is not None else None, lambda selectors: _first_lxml(candidates, selectors))


def page_metadata_lxml_reference(root) -> dict[str, str]:
    """:func:`page_metadata_lxml` by XPath and lxml elements alone (no compiled walk)."""
    candidates = _candidates_reference(root)
    titles = _FIRST_TITLE(root)
    title_node = titles[0] if titles else None
    return _stated(title_node.text if title_node is not None else None, lambda selectors: _first_lxml(candidates, selectors))
