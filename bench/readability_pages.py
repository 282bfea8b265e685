"""Mozilla Readability's test pages as extra TRAINING pages for the block classifier (never evaluation).

Each folder holds ``source.html`` (a real page as saved) and ``expected.html`` (Readability's curated
article). Used by ``bench/train_extract_model.py --extra-readability DIR``:

* synthetic unit-test folders are skipped: their source is a hand-written fragment of a few kB
  (``001``-style numbers, ``base-url*``, ``rtl-*``, ...) or their expected article is a few lines, so
  they say nothing about how a real page surrounds its article;
* a page whose site also appears in either evaluation set is dropped, so held-out figures stay
  honest. The site is the registered domain of the page's canonical / ``og:url`` address, and
  where the page names none, the folder's name without its number (``nytimes-3`` -> ``nytimes``);
  both are compared with the evaluation pages' registered domains and with those domains' first
  label (``nytimes`` of ``nytimes.com``), so the same brand under another suffix is dropped too;
* the gold text is ``expected.html``'s text with a line break around every block element: what
  the benchmarks' scorer then cuts into ``\\w+`` tokens (``gold_labels`` labels blocks by word
  4-grams of it, as for scrapinghub-aeb's ``articleBody``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# Second-level labels under which a country's sites register (bbc.co.uk, uol.com.br, abc.net.au).
_SECOND_LEVEL = {"co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "gv"}
_MIN_SOURCE_BYTES = 8_000  # the synthetic fixtures are fragments of 0.2-4 kB; real saved pages are larger
_MIN_GOLD_CHARS = 300
_BLOCK_TAGS = {
    "p", "div", "section", "article", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5",
    "h6", "blockquote", "pre", "table", "tr", "td", "th", "figure", "figcaption", "br", "hr",
}  # fmt: skip
_URL_RE = re.compile(r"""<(?:link[^>]+rel=["']canonical["'][^>]*|meta[^>]+(?:property|name)=["']og:url["'][^>]*)>""", re.IGNORECASE)
_HREF_RE = re.compile(r"""(?:href|content)=["'](https?://[^"'\s]+)""", re.IGNORECASE)


def registered_domain(url: str) -> str:
    """``www.bbc.co.uk`` -> ``bbc.co.uk``, ``money.cnn.com`` -> ``cnn.com`` (a small public-suffix rule)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    labels = [label for label in host.split(".") if label]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def brand(domain: str) -> str:
    return domain.split(".", maxsplit=1)[0]


def stated_url(html: str) -> str | None:
    """The page's own address: its canonical link or ``og:url`` (attributes in either order)."""
    for tag in _URL_RE.finditer(html[:300_000]):
        found = _HREF_RE.search(tag.group(0))
        if found:
            return found.group(1)
    return None


def evaluation_sites(corpus: Path) -> set[str]:
    """Registered domains of every page of trafilatura-eval and scrapinghub-aeb."""
    urls = list(json.loads((corpus / "trafilatura-eval" / "evaldata.json").read_text(encoding="utf-8")))
    truth = json.loads((corpus / "scrapinghub-aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    urls += [value.get("url") or "" for value in truth.values()]
    return {registered_domain(url) for url in urls if url}


def gold_text(expected_html: str) -> str:
    """The expected article's text, one block per line."""
    from lxml import html as lxml_html

    root = lxml_html.fromstring(expected_html or "<div></div>")
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
            element.text = "\n" + (element.text or "")
    return re.sub(r"\n\s*\n+", "\n", root.text_content()).strip()


@dataclass
class ReadabilityPage:
    name: str
    raw: bytes
    gold: str
    site: str


def load_readability(folder: Path, excluded: set[str]) -> tuple[list[ReadabilityPage], list[tuple[str, str]]]:
    """(kept pages, [(folder, why skipped)]) of a Readability test-pages folder."""
    kept: list[ReadabilityPage] = []
    skipped: list[tuple[str, str]] = []
    excluded_brands = {brand(domain) for domain in excluded}
    for page in sorted(path for path in folder.iterdir() if (path / "source.html").is_file()):
        raw = (page / "source.html").read_bytes()
        expected = page / "expected.html"
        if len(raw) < _MIN_SOURCE_BYTES or not expected.is_file():
            skipped.append((page.name, f"synthetic fixture ({len(raw)} bytes)"))
            continue
        gold = gold_text(expected.read_text(encoding="utf-8", errors="replace"))
        if len(gold) < _MIN_GOLD_CHARS:
            skipped.append((page.name, f"expected article of {len(gold)} chars"))
            continue
        url = stated_url(raw.decode("utf-8", errors="replace"))
        stem = re.sub(r"-\d+$", "", page.name).lower()
        site = registered_domain(url) if url else stem
        if site in excluded or brand(site) in excluded_brands or stem in excluded_brands:
            skipped.append((page.name, f"site {site} is in an evaluation set"))
            continue
        kept.append(ReadabilityPage(page.name, raw, gold, site))
    return kept, skipped
