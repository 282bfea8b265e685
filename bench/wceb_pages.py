"""The web-content-extraction-benchmark's 1000 pages of 2026 (``wceb2026``): a third extraction set.

The set lives outside the project (its path is an argument; never copied in): ``html/NNNN.html.gz``
(the page as saved) and ``ground-truth/NNNN.json`` (or, in the benchmark's repository as checked
out, ``release/html/`` and ``benchmark/ground-truth/``) (``url``, ``ground_truth.main_content``: the
page's whole main text, AI-generated and human-verified; ``_internal.page_type.primary``: article,
forum, service, product, documentation, collection, listing, blog). Apache-2.0.

It is scored like scrapinghub-aeb (word 4-gram shingles of the output against ``main_content``:
``bench_extract.aeb_score``), split into development / held-out halves by ``bench_extract.halves``
on the page key, and used by ``bench/bench_extract.py --wceb DIR`` (evaluation) and
``bench/train_extract_model.py --extra-wceb DIR`` (its development half as training pages).

A page whose site (registered domain of its url, or that domain's first label: the same brand under
another suffix) is also in trafilatura-eval or scrapinghub-aeb is left out, so that no site is
both trained on in one set and scored in another.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from readability_pages import brand, registered_domain

from tamis.io.htmldecode import decode_html


@dataclass
class WcebPage:
    key: str  # the file id, "0001"
    raw: bytes  # the page's bytes as saved (what the extract step reads)
    gold: str  # ground_truth.main_content
    url: str
    page_type: str  # _internal.page_type.primary ("article", "forum", ...)
    site: str  # registered domain of url

    def html(self) -> str:
        """The page decoded as the ``extract`` step decodes it."""
        return decode_html(self.raw)[0]


def load_wceb(
    folder: Path, excluded: set[str] = frozenset(), excluded_urls: set[str] = frozenset(), prefix: str = ""
) -> tuple[list[WcebPage], list[tuple[str, str]]]:
    """(kept pages in key order, [(key, why left out)]). ``excluded``: registered domains whose pages
    are left out (``readability_pages.evaluation_sites``: the other two sets' sites); ``excluded_urls``:
    addresses whose pages are left out; ``prefix``: put before every key (WCXB's dev/ and test/ folders
    reuse file ids, ``bench/wcxb_pages.py``)."""
    truth_dir, html_dir = folder / "ground-truth", folder / "html"
    if not truth_dir.is_dir() and (folder / "benchmark" / "ground-truth").is_dir():
        # the benchmark's repository as checked out: its ground truth and its release's pages
        truth_dir, html_dir = folder / "benchmark" / "ground-truth", folder / "release" / "html"
    if not truth_dir.is_dir() or not html_dir.is_dir():
        raise FileNotFoundError(
            f"{folder}: no ground-truth/ and html/ folders, nor benchmark/ground-truth/ and release/html/ (not a wceb2026 copy)"
        )
    excluded_brands = {brand(domain) for domain in excluded}
    kept: list[WcebPage] = []
    skipped: list[tuple[str, str]] = []
    for truth_path in sorted(truth_dir.glob("*.json")):
        key = prefix + truth_path.stem
        record = json.loads(truth_path.read_text(encoding="utf-8"))
        gold = (record.get("ground_truth") or {}).get("main_content") or ""
        html_path = html_dir / f"{truth_path.stem}.html.gz"
        if not html_path.is_file():
            skipped.append((key, "no html file"))
            continue
        if not gold.strip():
            skipped.append((key, "empty main_content"))
            continue
        url = record.get("url") or ""
        site = registered_domain(url) if url else ""
        if url and url.strip().rstrip("/") in excluded_urls:
            skipped.append((key, "its url is in another evaluation set"))
            continue
        if site and (site in excluded or brand(site) in excluded_brands):
            skipped.append((key, f"site {site} is in another evaluation set"))
            continue
        page_type = (((record.get("_internal") or {}).get("page_type") or {}).get("primary") or "unknown").lower()
        kept.append(WcebPage(key, gzip.decompress(html_path.read_bytes()), gold, url, page_type, site))
    return kept, skipped


def wceb_halves(pages: list[WcebPage]) -> tuple[set[str], set[str]]:
    """(development keys, held-out keys): ``bench_extract.halves``'s fixed hash, taken of the page's
    site rather than its key, so that a site's pages (753 sites for 946 pages) all fall in one half
    and the held-out figure is one of sites never trained on."""
    from bench_extract import halves

    development_sites, _ = halves(sorted({page.site or page.key for page in pages}))
    development = {page.key for page in pages if (page.site or page.key) in development_sites}
    return development, {page.key for page in pages} - development
