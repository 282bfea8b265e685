"""The compiled block walk (tamis/_native/blocks.c) against the plain-Python reference
(tamis.extract.blocks.segment + features_reference): the same texts and the same feature bytes
on real pages, on random markup and on hostile pages; the metadata candidates against the XPath;
the compiled tree walk against numpy's."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import numpy as np
import pytest

from tamis.extract import blocks as B
from tamis.extract import learned as L
from tamis.extract import metadata as M

pytestmark = pytest.mark.skipif(B._native is None, reason="tamis._native._blocks is not built")

ROOT = Path(__file__).resolve().parents[1]
# ../shared beside the project (a git worktree one level further down finds it one level up)
AEB = next((p for p in (ROOT.parent / "shared", ROOT.parents[1] / "shared") if p.is_dir()), ROOT.parent / "shared") / "corpus/scrapinghub-aeb/html"


def _both(html: str) -> tuple[B.PageBlocks, B.PageBlocks, bool]:
    """(reference, compiled, whether the compiled walk decided itself) for one page. The
    reference's features are checked here against the plain definition, features_reference."""
    segmented = B.segment(B.parse(html))
    reference = B.PageBlocks.from_blocks(*segmented)
    assert reference.features().tobytes() == B.features_reference(*segmented).tobytes()
    root = B.parse(html)
    body = root.find("body")
    decided = B._native.segment(root if body is None else body) is not None
    return reference, B.page_blocks(B.parse(html)), decided


def assert_same(html: str, *, must_decide: bool = True) -> B.PageBlocks:
    if B.parse(html) is None:  # nothing for either walk
        return None
    reference, compiled, decided = _both(html)
    if must_decide:
        assert decided, "the compiled walk handed this page to the reference"
    assert compiled.texts == reference.texts
    assert compiled.max_depth == reference.max_depth
    assert np.array_equal(compiled.columns, reference.columns)
    assert np.array_equal(compiled.element_depth, reference.element_depth)
    assert np.array_equal(compiled.element_last, reference.element_last)
    assert compiled.features().tobytes() == reference.features().tobytes()
    return compiled


def test_class_table_is_the_references():
    assert B._native.class_table() == B._class_table().tobytes()


@pytest.mark.skipif(not AEB.is_dir(), reason="../shared/corpus not present")
def test_real_pages_give_the_same_blocks_and_feature_bytes():
    paths = sorted(AEB.glob("*.html.gz"))[:30]
    assert paths
    for path in paths:
        html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        compiled = assert_same(html)
        assert compiled is not None and len(compiled.texts) > 5, path.name


def assert_same_candidates(html: str) -> list:
    root = B.parse(html)
    if root is None:
        return []
    compiled, reference = B._native.metadata_candidates(root), M._candidates_reference(root)
    assert compiled is not None
    assert len(compiled) == len(reference) and all(a is b for a, b in zip(compiled, reference, strict=True))
    return compiled


@pytest.mark.skipif(not AEB.is_dir(), reason="../shared/corpus not present")
def test_real_pages_give_the_same_metadata_candidates():
    found = 0
    for path in sorted(AEB.glob("*.html.gz"))[:30]:
        found += len(assert_same_candidates(gzip.decompress(path.read_bytes()).decode("utf-8", "replace")))
    assert found > 100


def test_metadata_candidates_on_odd_pages():
    page = (
        "<html><head><meta property='og:title' content='T'><link rel=canonical href='http://x/'></head><body>"
        "<span itemprop='datePublished' content='2020-01-01'>a</span><div itemprop='datepublished'>no</div>"
        "<p itemprop='datePublished&#x20;'>no</p><b itemprop='date&#80;ublished'>yes</b><time datetime='2021'>t</time>"
        "<div><div><meta name=date content='2019'></div></div></body></html><meta name='after'>"
    )
    tags = [element.tag for element in assert_same_candidates(page)]
    assert tags == ["meta", "link", "span", "b", "time", "meta", "meta"]
    for html in HOSTILE.values():
        assert_same_candidates(html)
    assert M.page_metadata_lxml(B.parse(page)) == {"title": "T", "url": "http://x/", "date": "2019"}  # meta name=date ranks above itemprop


def test_features_are_todays_on_a_fixed_page():
    """Pins the refactored feature code (columns -> rows) to values computed by hand."""
    html = (
        "<html><body><nav class='menu'><a href='/'>Home</a> <a href='/x'>News</a></nav>"
        "<article><h1>Title here</h1><p>First paragraph, with words: and more words, sixty-plus characters long.</p>"
        "<p>2nd one? Yes!</p></article></body></html>"
    )
    page = assert_same(html)
    assert page.texts == ["Home News", "Title here", "First paragraph, with words: and more words, sixty-plus characters long.", "2nd one? Yes!"]
    rows = page.features()
    names = B.FEATURE_NAMES
    assert rows[0, names.index("link_density")] == pytest.approx(8 / 9)
    assert rows[0, names.index("own~menu")] == 1.0 and rows[1, names.index("own~menu")] == 0.0
    assert rows[1, names.index("tag=h1")] == 1.0 and rows[2, names.index("tag=p")] == 1.0
    assert rows[2, names.index("in=article")] == 1.0 and rows[0, names.index("in=nav")] == 1.0
    assert rows[2, names.index("long")] == 1.0 and rows[3, names.index("long")] == 0.0
    assert rows[3, names.index("digit_share")] == pytest.approx(1 / 13)
    assert rows[3, names.index("punct_per_word")] == pytest.approx(2 / 3)
    assert rows[2, names.index("in_main")] == 1.0 and rows[0, names.index("in_main")] == 0.0


HOSTILE = {
    "hidden in every position": (
        "<body><div>a <span hidden>x</span> b<p style='display: none'>gone</p> tail1"
        "<a href='#'> link <em aria-hidden='true'>no</em> text </a><i style='color:none'>shown</i>"
        "<b style='DISPLAY:NONE'>xpath is case-sensitive</b><b style='di\u017fplay:none'>long s</b>"
        "<script>var x</script>after script<style>p{}</style><div hidden><p>deep</p></div>t2</div></body>"
    ),
    "non-ASCII class and id": "<body><div class='COO\u212aIE bar'>k</div><div id='\u0130tem nav\u00e9'>i</div><p class='\u00fcberMENU'>u</p></body>",
    "whitespace of every kind": "<body><p>\u00a0a\u2003b\u3000\u2028c\x1c\x1dd\u0085</p><p>\u200b</p><a href=x>\u00a0 <i>l</i> \u2002</a></body>",
    "text after the body": "<html><body><p>in</p></body></html>after<div hidden>h</div>more<script>s</script>end",
    "no body": "<svg><p>x</p></svg>",
    "frameset": "<html><frameset><frame src=a></frameset></html>",
    "broken markup": "<p>unclosed <b>bold <i>both</p> <td>cell<tr><li>item</ul></div></span>text &amp; &nbsp; &bogus; <<>>",
    "lone surrogates": "<p>bad \ud800 half \udfff</p><div class='\ud83d'>x</div>",
    "astral and CJK": "<p>\U0001f600 emoji \U00020000\u4e2d\u6587\u3002</p><p>\uff01\u2026</p>",
    "attributes without values": "<body><div class id hidden>x</div><div class=''>y</div><p aria-hidden>z</p></body>",
    "not HTML": '\x00\x01\x02 binary {"json": [1, 2]} \xff\xfe',
    "entities in attributes": "<div class='nav&amp;menu &#x41;d'>x</div><div style='display:&#110;one'>y</div>",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_pages(name):
    assert_same(HOSTILE[name], must_decide=False)


def test_deep_nesting_and_a_huge_element():
    assert_same("<div>" * 5000 + "deep text" + "</div>" * 5000, must_decide=False)
    assert_same("<span><a href=x>" * 3000 + "x" + "</a></span>" * 3000, must_decide=False)
    huge = "<body><p>" + "word, " * 1_000_000 + "</p><p class='" + "nav " * 50_000 + "'>x</p></body>"
    page = assert_same(huge)
    assert page.columns[0, B.COLUMNS.index("length")] == len("word, " * 1_000_000) - 1


TAGS = ["div", "p", "span", "a", "li", "ul", "h2", "td", "tr", "table", "br", "script", "style", "nav", "article", "em", "section", "img", "noscript"]
ATTRS = [
    "", " class='nav menu'", " id='main-content'", " hidden", " aria-hidden='true'", " aria-hidden='false'", " style='display:none'",
    " style='visibility: hidden'", " style='color: none'", " class='Sidebar_Widget'", " class='\u212aey \u00e9t\u00e9'", " href='#'",
]  # fmt: skip
TEXTS = ["", " ", "word", " two words ", "\u00a0", "\n\t", "end.", "Caps", "1,234!", "\u4e2d\u6587", "a&amp;b", "\u2003x\u2003", "?"]


def _random_page(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 80)):
        roll = rng.random()
        if roll < 0.45:
            out.append(f"<{rng.choice(TAGS)}{rng.choice(ATTRS)}>")
        elif roll < 0.7:
            out.append(f"</{rng.choice(TAGS)}>")
        else:
            out.append(rng.choice(TEXTS))
    if rng.random() < 0.5:
        out.insert(0, "<html><body>")
    if rng.random() < 0.2:
        out.append("</body></html>" + rng.choice(TEXTS) + f"<{rng.choice(TAGS)}{rng.choice(ATTRS)}>" + rng.choice(TEXTS))
    return "".join(out)


def test_random_markup():
    rng = random.Random(15)
    decided = 0
    for _ in range(400):
        html = _random_page(rng)
        if B.parse(html) is None:
            continue
        reference, compiled, took = _both(html)
        decided += took
        assert compiled.texts == reference.texts, html
        assert np.array_equal(compiled.columns, reference.columns), html
        assert np.array_equal(compiled.element_last, reference.element_last), html
        assert compiled.features().tobytes() == reference.features().tobytes(), html
    assert decided > 300


def test_reference_runs_without_the_build(monkeypatch):
    html = HOSTILE["hidden in every position"]
    compiled = B.page_blocks(B.parse(html))
    monkeypatch.setattr(B, "_native", None)
    reference = B.page_blocks(B.parse(html))
    assert reference.texts == compiled.texts and np.array_equal(reference.columns, compiled.columns)


def test_compiled_tree_walk_gives_numpys_log_odds():
    forest = L.model()
    rng = np.random.default_rng(15)
    rows = rng.normal(size=(500, len(B.FEATURE_NAMES))).astype(np.float32)
    # values on the thresholds themselves: the comparison's side must be numpy's
    rows[:50] = forest.threshold.ravel()[rng.integers(0, forest.threshold.size, size=(50, rows.shape[1]))].astype(np.float32)
    assert forest.log_odds(rows).tobytes() == forest.log_odds_reference(rows).tobytes()
    assert forest.log_odds(rows[:0]).shape == (0,)


def test_segment_rejects_what_is_not_an_lxml_element():
    with pytest.raises(TypeError):
        B._native.segment("<p>x</p>")
