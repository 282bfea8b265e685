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


def _xpath_for(selector: str) -> str:
    """The XPath of one of the simple selectors above (``tag[attr="value"]``, ``[attr][attr2]``, ``tag[attr]``)."""
    tag, _, rest = selector.partition("[")
    tests = []
    for condition in ("[" + rest).split("[")[1:]:
        condition = condition.rstrip("]")
        name, _, value = condition.partition("=")
        tests.append(f"@{name}={value.replace(chr(34), chr(39))}" if value else f"@{name}")
    return "//" + (tag or "*") + "".join(f"[{test}]" for test in tests)


_XPATHS: dict[str, object] = {}


def _first_lxml(root, selectors: tuple[str, ...]) -> str | None:
    from lxml import etree

    for selector in selectors:
        xpath = _XPATHS.get(selector)
        if xpath is None:
            xpath = _XPATHS[selector] = etree.XPath(_xpath_for(selector) + "[1]")
        for node in xpath(root):
            for attribute in ("content", "href", "datetime"):
                value = node.get(attribute)
                if value and value.strip():
                    return " ".join(value.split())[:_MAX]
    return None


def page_metadata_lxml(root) -> dict[str, str]:
    """:func:`page_metadata` for a page parsed by lxml (the learned extractor's parser)."""
    found: dict[str, str] = {}
    title_node = root.find(".//title")
    title = title_node.text if title_node is not None else None
    title = " ".join(title.split())[:_MAX] if title and title.strip() else _first_lxml(root, _TITLE)
    if title:
        found["title"] = title
    url = _first_lxml(root, _URL)
    if url and url.startswith(("http://", "https://")):
        found["url"] = url
    date = _first_lxml(root, _DATE)
    if date:
        found["date"] = date
    return found
