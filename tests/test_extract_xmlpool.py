"""tamis/_native/xmlpool.c: libxml2's allocations from a size-class pool in the extraction child.

It changes only where libxml2's memory comes from, so every check here is "the same with and
without it": extracted pages (text, metadata, path) and serialized trees, with trees made before
the pool and freed after it, made with it and freed after it is switched off, and made or freed
by another thread (the pool serves only the thread that installed it). Each check runs in a fresh
interpreter, so this test process's libxml2 keeps glibc's malloc.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tamis.steps.extract_worker import IsolatedExtractor

try:
    from tamis._native import _xmlpool
except ImportError:  # pragma: no cover - a source checkout without the build
    _xmlpool = None

pytestmark = pytest.mark.skipif(_xmlpool is None, reason="tamis._native._xmlpool is not built")

ROOT = Path(__file__).resolve().parents[1]
AEB = next((p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if p.is_dir()), ROOT.parent / "shared") / "corpus/scrapinghub-aeb/html"

# Pages that exercise libxml2's allocations: many small nodes and attributes, texts above the
# pool's largest class (glibc serves them), entities, a deep nest, broken markup, non-ASCII.
_PAGES = [
    "<html><head><title>T</title><meta property='og:url' content='https://example.org/a'></head><body>"
    + "".join(f"<div class='c{i % 7} wrap' id='n{i}'><a href='/x{i}'>link {i}</a> <span>text {i} &amp; more</span></div>" for i in range(400))
    + "<article>"
    + "<p>"
    + "A long paragraph of the article, with words and sentences. " * 80
    + "</p>" * 3
    + "</article></body></html>",
    "<html><body>" + "<div>" * 300 + "<p>deep text that is long enough to be kept by the extractor here</p>" + "</div>" * 300 + "</body></html>",
    "<html><body><p>Ça coûte très cher, l’été — 日本語のテキスト。" * 40 + "<table><tr><td>a<td>b<tr><td>c</table><p>unclosed <b>bold <i>both</body>",
    "<!doctype html><html><head><style>p{display:none}</style><script>var x = '<p>';</script></head><body>"
    + "<ul>"
    + "<li><a href='#'>item</a></li>" * 500
    + "</ul><p hidden>gone</p><p>"
    + "x" * 5000
    + "</p></body></html>",
]

_SCRIPT = r"""
import gzip, sys, threading
from pathlib import Path
from lxml import etree
from tamis._native import _xmlpool
from tamis.extract import blocks
from tamis.steps.extract_html import extract_main_text, warm_up

pages = [p.encode("utf-8") for p in PAGES]
aeb = Path(AEB)
if aeb.is_dir():
    pages += [gzip.decompress(p.read_bytes()) for p in sorted(aeb.glob("*.html.gz"))[:25]]
warm_up("tamis_learned_hybrid")


def answers():
    out = []
    for page in pages:
        for method in ("tamis_learned_hybrid", "tamis_learned", "trafilatura_fast"):
            out.append(extract_main_text(page if method.startswith("tamis_learned") else page.decode("utf-8", "replace"), method))
        root = blocks.parse(page)
        out.append(None if root is None else etree.tostring(root))
    return out


before = answers()
kept_from_glibc = [blocks.parse(page) for page in pages]  # freed while the pool serves
assert _xmlpool.install(etree.__file__)
assert _xmlpool.stats()["installed"]
del kept_from_glibc
pooled = answers()
assert pooled == before
stats = _xmlpool.stats()
assert stats["served"] > 10_000 and stats["passed"] > 0, stats  # long texts go to glibc
assert stats["bytes_free"] <= stats["bytes_touched"] and stats["resets"] > 0

# Another thread: glibc serves it; a pool block it frees is left unused, never raced onto a list.
made_here = [blocks.parse(page) for page in pages[:3]]
made_there = []
def other():
    global made_here
    made_there.extend(blocks.parse(page) for page in pages[:3])
    made_here = None  # freed on this thread
    assert [extract_main_text(page, "tamis_learned_hybrid") for page in pages[:3]] == before[: 3 * 4 : 4]
thread = threading.Thread(target=other)
thread.start()
thread.join()
assert _xmlpool.stats()["stranded"] > 0
passed = _xmlpool.stats()["passed"]
del made_there  # glibc's blocks, freed here through the pool's free
assert answers() == before

kept_from_pool = [blocks.parse(page) for page in pages]  # freed once the pool is off
assert _xmlpool.uninstall()
served = _xmlpool.stats()["served"]
del kept_from_pool
assert answers() == before
assert _xmlpool.stats()["served"] == served  # off: nothing new from the pool
assert _xmlpool.install(etree.__file__) and answers() == before
print("ok", len(pages))
"""


def test_pages_and_trees_are_the_same_with_the_pool():
    script = f"PAGES = {_PAGES!r}\nAEB = {str(AEB)!r}\n" + textwrap.dedent(_SCRIPT)
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok")


def test_install_refuses_a_module_that_is_not_loaded():
    script = "from tamis._native import _xmlpool; print(_xmlpool.install('/nonexistent/etree.so'), _xmlpool.stats()['installed'])"
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["False", "False"]


def pool_stats(html: str, method: str) -> dict:
    """A stand-in extractor for the worker: the child's pool counters after parsing the page."""
    from tamis.extract import blocks

    root = blocks.parse(html)
    del root
    return {"text": html[:10], "metadata": _xmlpool.stats(), "path": method}


@pytest.mark.parametrize("start", ["fork", "exec"])
def test_the_extraction_child_uses_the_pool(start):
    worker = IsolatedExtractor("m", timeout_s=60, target="test_extract_xmlpool:pool_stats", start=start)
    try:
        first, second = worker.extract_many(_PAGES[:2])
    finally:
        worker.close()
    assert first["metadata"]["installed"] and second["metadata"]["served"] > first["metadata"]["served"] > 0
    # a page's tree comes back whole: its classes start over for the next page
    assert second["metadata"]["resets"] > first["metadata"]["resets"] > 0
