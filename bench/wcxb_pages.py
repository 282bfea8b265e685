"""WCXB v1.0 (Murrough Foley's Web Content Extraction Benchmark, 2,008 pages of 2025): a fourth set.

The set lives outside the project (its path is an argument; never copied in): ``dev/`` (1,497 pages)
and ``test/`` (511 pages), each with ``html/NNNN.html.gz`` and ``ground-truth/NNNN.json`` in
wceb2026's layout (``url``, ``ground_truth.main_content``, ``_internal.page_type.primary``: article,
service, product, collection, forum, listing, documentation), so :func:`wceb_pages.load_wceb` reads
each folder. Its ``metadata.json`` says CC-BY-4.0, its README Apache-2.0.

WCXB is a superset of wceb2026 (931 of its dev pages are wceb2026 pages, 1 of its test pages), and
its two folders reuse file ids, so:

* a page whose url, or whose site (registered domain, or that domain's first label: the same brand
  under another suffix), is in trafilatura-eval, scrapinghub-aeb or wceb2026 is left out of both
  folders (wceb2026's sites are all of its pages', the ones it leaves out itself included);
* keys are ``dev-NNNN`` / ``test-NNNN``;
* the split is WCXB's own: ``test`` is only ever scored (``bench/bench_extract.py --wcxb DIR``),
  ``dev`` is what ``bench/train_extract_model.py --extra-wcxb DIR`` may train on. WCXB's split is
  not by site (about 200 of the 511 test pages share a site with a dev page), so
  :func:`training_pages` also leaves out every dev page whose site or brand is a test page's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from readability_pages import brand, evaluation_sites, registered_domain
from wceb_pages import WcebPage, load_wceb


@dataclass
class WcxbPages:
    dev: list[WcebPage]
    test: list[WcebPage]
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (key, why)


def _urls(folder: Path) -> set[str]:
    """Every page address of a wceb2026-layout folder (trailing slash dropped)."""
    urls = set()
    for truth_path in sorted((folder / "ground-truth").glob("*.json")):
        url = json.loads(truth_path.read_text(encoding="utf-8")).get("url") or ""
        if url:
            urls.add(url.strip().rstrip("/"))
    return urls


def load_wcxb(folder: Path, corpus: Path, wceb: Path | None) -> WcxbPages:
    """WCXB's dev and test pages, those of the other three sets' urls and sites left out.
    ``wceb``: wceb2026's folder (required: without it its pages could not be told apart)."""
    for split in ("dev", "test"):
        if not (folder / split / "ground-truth").is_dir():
            raise FileNotFoundError(f"{folder}: no {split}/ground-truth/ folder (not a WCXB copy)")
    if wceb is None or not (wceb / "ground-truth").is_dir():
        raise FileNotFoundError("WCXB holds wceb2026's pages: give wceb2026's folder too, so that they are left out")
    wceb_urls = _urls(wceb)
    excluded = evaluation_sites(corpus) | {registered_domain(url) for url in wceb_urls}
    dev, dev_left = load_wceb(folder / "dev", excluded, wceb_urls, prefix="dev-")
    test, test_left = load_wceb(folder / "test", excluded, wceb_urls, prefix="test-")
    return WcxbPages(dev, test, dev_left + test_left)


def training_pages(pages: WcxbPages) -> tuple[list[WcebPage], list[tuple[str, str]]]:
    """(dev pages to train on, [(key, why left out)]): the dev pages whose site shares no site or
    brand with a test page, so that the test figure is one of sites never trained on."""
    test_sites = {page.site for page in pages.test if page.site}
    test_brands = {brand(site) for site in test_sites}
    kept, left_out = [], []
    for page in pages.dev:
        if page.site and (page.site in test_sites or brand(page.site) in test_brands):
            left_out.append((page.key, f"site {page.site} is also in WCXB's test split"))
        else:
            kept.append(page)
    return kept, left_out
