"""tamis_learned_hybrid's router: its signals, its rule, what a routed page gets, and the fitting
script's page scores agreeing with bench_extract.py's metrics."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from tamis.extract import blocks as B
from tamis.extract import hybrid
from tamis.extract.learned import extract_learned, model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from test_extract_learned import ARTICLE, PARAGRAPHS


def _html(tree) -> str:
    return etree.tostring(tree, encoding="unicode", method="html")


def _uncut(html: str) -> str:
    """A page's tree as the routed path hands it over when it cuts nothing: less its inert elements."""
    root = B.parse(html)
    hybrid.drop_inert(root)
    return _html(root)


def signal(values: np.ndarray, name: str) -> float:
    return float(values[hybrid.ROUTE_SIGNALS.index(name)])


def test_route_signals_read_the_kept_runs_and_the_page(monkeypatch):
    import dataclasses

    from tamis.extract import learned

    # Without neighbour smoothing, so that keep_blocks keeps ``kept`` below whatever smoothing the
    # shipped model uses.
    forest = dataclasses.replace(model(), smooth=0.0)
    monkeypatch.setattr(learned, "model", lambda: forest)
    threshold = np.log(forest.keep_threshold / (1 - forest.keep_threshold))
    # Six blocks: kept, kept, dropped, kept, dropped, dropped; 3 of them decided far from the threshold.
    log_odds = threshold + np.array([5.0, 0.5, -5.0, 3.0, -0.5, -0.2])
    lengths = np.array([100.0, 50.0, 30.0, 20.0, 10.0, 40.0])
    kept = np.array([True, True, False, True, False, False])
    rows = np.zeros((6, len(B.FEATURE_NAMES)), dtype=np.float32)
    rows[:, B.FEATURE_NAMES.index("link_density")] = [0.0, 0.2, 0.9, 0.5, 0.0, 0.0]
    rows[:, B.FEATURE_NAMES.index("long")] = [1, 0, 0, 0, 0, 0]
    values = hybrid.route_signals(log_odds, lengths, kept, rows)
    assert values.shape == (len(hybrid.ROUTE_SIGNALS),)
    assert signal(values, "confidence") == pytest.approx(150 / 250)  # blocks 0, 2, 3
    assert signal(values, "kept_confidence") == pytest.approx(120 / 170)  # blocks 0 and 3 of the kept
    assert signal(values, "near_share") == pytest.approx(100 / 250)  # |margin| < 1: blocks 1, 4, 5
    assert signal(values, "kept_share") == pytest.approx(170 / 250)
    assert signal(values, "log_kept_chars") == pytest.approx(np.log1p(170))
    assert signal(values, "log_stretches") == pytest.approx(np.log1p(2))  # runs [0, 1] and [3]
    assert signal(values, "outside_main_run") == pytest.approx(20 / 170)
    assert signal(values, "kept_link_density") == pytest.approx((50 * 0.2 + 20 * 0.5) / 170)
    assert signal(values, "kept_long_share") == pytest.approx(100 / 170)
    assert signal(values, "log_page_chars") == pytest.approx(np.log1p(250))
    assert signal(values, "tail_cut") == 0.0  # nothing kept after the tail gap here


def test_repeated_signals_count_blocks_among_many_like_containers_that_are_not_link_lists():
    # Five blocks: two in a parent of 6 like containers (a list of entries, kept one, dropped one),
    # one in a parent of 6 containers that are mostly links (a menu: not counted), one in a parent
    # of 4 (too few), one alone.
    lengths = np.array([100.0, 60.0, 40.0, 80.0, 120.0])
    kept = np.array([True, False, False, True, True])
    rows = np.zeros((5, len(B.FEATURE_NAMES)), dtype=np.float32)
    rows[:, B.FEATURE_NAMES.index("parent_log_groups")] = np.log1p([6, 6, 6, 4, 1])
    rows[:, B.FEATURE_NAMES.index("parent_link_density")] = [0.1, 0.1, 0.8, 0.0, 0.0]
    values = hybrid.route_signals(np.zeros(5), lengths, kept, rows)
    assert signal(values, "repeated_share") == pytest.approx(160 / 400)
    assert signal(values, "repeated_dropped_share") == pytest.approx(60 / 400)


def test_route_signals_of_a_page_with_nothing_kept_are_zero_not_nan():
    values = hybrid.route_signals(np.array([-9.0, -9.0]), np.array([10.0, 20.0]), np.array([False, False]), np.zeros((2, len(B.FEATURE_NAMES))))
    assert np.isfinite(values).all() and signal(values, "kept_share") == 0.0


def test_the_rule_routes_low_confidence_and_the_second_signal(monkeypatch):
    values = np.zeros(len(hybrid.ROUTE_SIGNALS))
    monkeypatch.setattr(hybrid, "ROUTE_CONFIDENCE", 0.7)
    monkeypatch.setattr(hybrid, "ROUTE_SECOND", None)
    values[0] = 0.69
    assert hybrid.routes(values)
    values[0] = 0.7
    assert not hybrid.routes(values)
    monkeypatch.setattr(hybrid, "ROUTE_SECOND", ("tail_cut", 1, 0.25))
    values[hybrid.ROUTE_SIGNALS.index("tail_cut")] = 0.3
    assert hybrid.routes(values)
    monkeypatch.setattr(hybrid, "ROUTE_SECOND", ("kept_long_share", -1, 0.5))
    values[hybrid.ROUTE_SIGNALS.index("kept_long_share")] = 0.6
    assert not hybrid.routes(values)


def test_a_confident_page_stays_learned_and_a_routed_one_gets_trafilatura(monkeypatch):
    assert extract_learned(ARTICLE).long_share >= hybrid.ROUTE_CONFIDENCE
    assert hybrid.extract_learned_hybrid(ARTICLE).method == "learned"
    calls = []

    def fake_trafilatura(html: str, *, fast: bool = False, precision: bool = False) -> str:
        calls.append((fast, precision))
        return "trafilatura's text"

    monkeypatch.setattr(hybrid, "_trafilatura", fake_trafilatura)
    monkeypatch.setattr(hybrid, "ROUTE_CONFIDENCE", 1.01)
    routed = hybrid.extract_learned_hybrid(ARTICLE)
    assert (routed.method, routed.text, calls) == ("trafilatura", "trafilatura's text", [(hybrid.ROUTE_FAST, hybrid.ROUTE_PRECISION)])
    assert routed.metadata["title"] == "Budget approved"  # the learned pass's metadata stays
    # A second signal is read only when the fitted router has one; it routes here too.
    monkeypatch.setattr(hybrid, "ROUTE_CONFIDENCE", 0.0)
    monkeypatch.setattr(hybrid, "ROUTE_SECOND", ("kept_share", 1, 0.0))
    assert hybrid.extract_learned_hybrid(ARTICLE).method == "trafilatura"


def test_a_routed_page_where_trafilatura_finds_nothing_keeps_the_learned_text(monkeypatch):
    monkeypatch.setattr(hybrid, "_trafilatura", lambda html, fast=False, precision=False: "  \n")
    monkeypatch.setattr(hybrid, "ROUTE_CONFIDENCE", 1.01)
    result = hybrid.extract_learned_hybrid(ARTICLE)
    assert result.method == "learned" and PARAGRAPHS[0] in result.text


def test_the_real_trafilatura_call_on_a_routed_page(monkeypatch):
    pytest.importorskip("trafilatura")
    monkeypatch.setattr(hybrid, "ROUTE_CONFIDENCE", 1.01)
    result = hybrid.extract_learned_hybrid(ARTICLE)
    assert result.method == "trafilatura" and PARAGRAPHS[1] in result.text and "Copyright 2024" not in result.text


def test_the_fitting_scores_add_up_to_the_benchmarks_metrics():
    """bench/fit_extract_router.py models each set's F1 from per-page rows; they must give
    bench_extract.py's own scores for the same texts (or the router is chosen on another metric)."""
    fit = pytest.importorskip("fit_extract_router")
    import bench_extract

    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(40)]
    truth = {f"p{i}": " ".join(rng.choice(words, 60)) for i in range(12)}
    outputs = {k: " ".join(v.split()[rng.integers(0, 20) : rng.integers(30, 60)]) + " extra words here" for k, v in truth.items()}
    outputs["p0"] = ""
    outputs["p1"] = truth["p1"]
    data = {"truth": truth, "items": {k: {"with": [*v.split()[:3], "w99 w98"], "without": ["extra words", "w97"]} for k, v in truth.items()}}
    data["wceb_truth"] = data["wcxb_truth"] = truth  # the site sets: main_content scored as AEB's articleBody
    aeb = bench_extract.aeb_score(truth, outputs)
    for store, reference in (("aeb", aeb), ("wceb", aeb), ("wcxb", aeb), ("teval", bench_extract.teval_score(data["items"], outputs))):
        rows = np.array([fit.page_score(store, data, key, outputs[key]) for key in truth])
        assert fit.set_f1(store, rows) == pytest.approx(reference[2], abs=1e-12)


def test_the_hybrid_takes_the_pages_utf8_bytes_as_the_worker_sends_them(monkeypatch):
    from tamis.steps.extract_html import extract_main_text, takes_utf8

    assert takes_utf8("tamis_learned_hybrid")
    page = ARTICLE.replace("Budget approved</title>", "Budget approuvé</title>")
    assert extract_main_text(page.encode(), "tamis_learned_hybrid") == extract_main_text(page, "tamis_learned_hybrid")
    monkeypatch.setattr(hybrid, "ROUTE_CONFIDENCE", 1.01)
    seen = []
    monkeypatch.setattr(hybrid, "_trafilatura", lambda page, fast=False, precision=False: seen.append(page) or "routed")
    # The routed page reaches trafilatura as the learned pass's tree of the decoded page, less its
    # sure furniture (PRUNE_LOG_ODDS), or whole without that (less its inert elements either way).
    assert hybrid.extract_learned_hybrid(page.encode()).text == "routed" and "<title>Budget approuvé</title>" in _html(seen[0])
    monkeypatch.setattr(hybrid, "PRUNE_LOG_ODDS", None)
    assert hybrid.extract_learned_hybrid(page.encode()).text == "routed" and _html(seen[1]) == _uncut(page)


def test_the_fits_tables_send_pages_as_the_hybrid_does():
    """A rule's routed pages, and those whose learned pass kept under ROUTE_MIN_KEPT_CHARS, are sent
    to trafilatura except those of ROUTE_MAX_CHARS or more of block text (hybrid.router_sends), and
    a page the learned pass kept nothing of always is: in the modelled F1 and routed share
    (outcome) as in the mixed page rows."""
    fit = pytest.importorskip("fit_extract_router")
    table = {
        "forced": np.array([False, False, True, False, False]), "too_long": np.array([False, True, False, False, True]),
        "thin": np.array([False, False, False, True, True]),
        "learned": np.array([[1.0, 0, 0, 0]] * 5), "traf": np.array([[0.0, 1, 1, 0]] * 5),
        "learned_cost": np.ones(5), "traf_cost": np.ones(5), "full_cost": np.ones(5), "set_pages": 5,
    }  # fmt: skip
    # The rule routes pages 0 and 1 (1 is too long); 2 kept nothing; 3 kept too little; 4 too, but is too long.
    routed = np.array([True, True, False, False, False])
    assert fit.sent(table, routed).tolist() == [True, False, True, True, False]
    assert fit.mixed_scores(table, routed)[:, 0].tolist() == [0.0, 1.0, 0.0, 0.0, 1.0]
    fixed = {"tamis_start": 0.0, "trafilatura_start": 0.0, "routed_once": 0.0}
    assert fit.outcome("teval", table, routed, fixed)[2] == 0.6
    signals = np.zeros(len(hybrid.ROUTE_SIGNALS))
    signals[hybrid.ROUTE_SIGNALS.index("log_kept_chars")] = np.log1p(99)
    assert fit.kept_chars(signals) == 99.0


def test_candidate_post_rules_drop_what_they_name():
    fit = pytest.importorskip("fit_extract_router")
    texts = ["Title", "x" * 300, "y" * 300, "Share this", "z" * 50, "Related link"]
    rows = np.zeros((6, len(B.FEATURE_NAMES)), dtype=np.float32)
    # kept: the title and the article (blocks 0-2), then after one dropped block a short stretch (4-5)
    kept = np.array([True, True, True, False, True, True])
    after = fit.rule_detached(1, 100.0, "after")(texts, rows, kept)
    assert np.flatnonzero(after).tolist() == [0, 1, 2]
    assert fit.rule_detached(1, 100.0, "before")(texts, rows, kept).tolist() == kept.tolist()  # nothing before the main stretch
    assert fit.rule_detached(1, 50.0, "after")(texts, rows, kept).tolist() == kept.tolist()  # the stretch holds 62 characters
    assert fit.rule_detached(2, 100.0)(texts, rows, kept).tolist() == kept.tolist()  # one dropped block does not cut at 2
    rows[:, B.FEATURE_NAMES.index("tag=figcaption")] = 1.0
    assert not fit.POST_RULES["figcaption"](texts, rows, kept).any()  # (learned_page then keeps the page as it was)
    assert fit.post_rule("detached-after-2-100+figcaption")(texts, rows, kept).tolist() == [False] * 6


def test_a_page_the_learned_pass_keeps_nothing_of_runs_the_fast_path_only_if_trafilatura_finds_nothing(monkeypatch):
    """The fast path's text is left to the hybrid on such pages: trafilatura's text comes with the
    fast path's metadata, and where trafilatura finds nothing the whole fast-path result is what
    extract_learned's own fallback gives (text, confidence, metadata, method)."""
    from dataclasses import asdict

    from tamis.extract import learned

    monkeypatch.setattr(learned, "keep_blocks", lambda probability, *args, **kwargs: np.zeros(len(probability), dtype=bool))
    page = ARTICLE.replace("Budget approved</title>", "Budget approuvé</title>")
    expected = learned._fast_instead(page, "learned: no block kept")
    assert expected.method == "fast (learned: no block kept)" and expected.metadata["title"] == "Budget approuvé"
    assert learned.extract_learned(page) == expected  # the learned extractor's own fallback is unchanged
    bare = learned.extract_learned(page, fallback=False)
    assert (bare.method, bare.text, bare.metadata) == (expected.method, "", {})
    fast_calls = []
    real_fast = hybrid.extract_fast
    monkeypatch.setattr(hybrid, "extract_fast", lambda tree: fast_calls.append(tree) or real_fast(tree))
    for html in (page, page.encode()):
        monkeypatch.setattr(hybrid, "_trafilatura", lambda html, fast=False, precision=False: "trafilatura's text")
        routed = hybrid.extract_learned_hybrid(html)
        assert (routed.method, routed.text, routed.metadata) == ("trafilatura", "trafilatura's text", expected.metadata)
        assert fast_calls == []  # the fast path's main-content pass was not run
        monkeypatch.setattr(hybrid, "_trafilatura", lambda html, fast=False, precision=False: "")
        assert asdict(hybrid.extract_learned_hybrid(html)) == asdict(expected)
        assert len(fast_calls) == 1
        fast_calls.clear()


def _routing(monkeypatch, confidence: float) -> tuple[list, object, dict]:
    """trafilatura's calls (recorded, none made), ARTICLE's learned pass and its details, under a
    confidence limit."""
    calls: list = []
    monkeypatch.setattr(hybrid, "_trafilatura", lambda html, fast=False, precision=False: calls.append(html) or "trafilatura's text")
    monkeypatch.setattr(hybrid, "ROUTE_CONFIDENCE", confidence)
    details: dict = {}
    return calls, extract_learned(ARTICLE, details), details


def test_a_page_with_route_max_chars_of_block_text_is_not_routed(monkeypatch):
    calls, learned, details = _routing(monkeypatch, 1.01)  # every page is unsure
    chars = float(details["lengths"].sum())
    monkeypatch.setattr(hybrid, "ROUTE_MAX_CHARS", chars + 1)
    assert hybrid.extract_learned_hybrid(ARTICLE).method == "trafilatura" and len(calls) == 1
    monkeypatch.setattr(hybrid, "ROUTE_MAX_CHARS", chars)
    kept = hybrid.extract_learned_hybrid(ARTICLE)
    assert (kept.method, kept.text) == ("learned", learned.text) and len(calls) == 1


def test_a_page_whose_learned_pass_keeps_too_little_is_routed(monkeypatch):
    calls, learned, details = _routing(monkeypatch, 0.0)  # no page is unsure
    kept = float((details["lengths"] * details["kept"]).sum())
    monkeypatch.setattr(hybrid, "ROUTE_MIN_KEPT_CHARS", kept)
    stands = hybrid.extract_learned_hybrid(ARTICLE)
    assert (stands.method, stands.text) == ("learned", learned.text) and not calls
    monkeypatch.setattr(hybrid, "ROUTE_MIN_KEPT_CHARS", kept + 1)
    assert hybrid.extract_learned_hybrid(ARTICLE).method == "trafilatura" and len(calls) == 1
    monkeypatch.setattr(hybrid, "ROUTE_MAX_CHARS", float(details["lengths"].sum()))  # too long to route
    assert hybrid.extract_learned_hybrid(ARTICLE).method == "learned" and len(calls) == 1


TRICKY = """<html><body><div id="a">lead <span>in</span> text<script>x = 1</script> after</div>
<div hidden><p>hidden paragraph</p></div><p style="display: none">gone</p><p style="color: none-ish">shown</p>
<nav><ul><li><a href="/">Home</a></li><li><a href="/b">B</a></li></ul></nav>tail of nav
<!-- a comment --><div aria-hidden="true">aria</div><section><h2>Heading</h2><p>Body <b>bold</b> text.</p></section>
<aside><p>Menu</p><noscript><p>no script</p></noscript></aside><footer><p>Copyright</p></footer>closing words</body></html>"""


@pytest.mark.parametrize("html", [ARTICLE, TRICKY], ids=["article", "tricky"])
def test_elements_by_id_are_the_walks_ids(html: str):
    """Both walks (compiled and reference) number the same elements as elements_by_id, at the same
    depths; the holders are the parents of the hidden elements and of noscript/template."""
    root = B.parse(html)
    body = root.find("body")
    elements, holders = hybrid.elements_by_id(body)
    assert elements[1] is body
    depths = [0] + [1 + len(list(element.iterancestors())) - len(list(body.iterancestors())) for element in elements[1:]]
    compiled = B.page_blocks(B.parse(html))
    reference = B.PageBlocks.from_blocks(*B.segment(B.parse(html)))
    assert depths == compiled.element_depth.tolist() == reference.element_depth.tolist()
    tags = [element.tag for element in elements]
    assert "script" not in tags and "noscript" not in tags and "nav" in tags
    if html is TRICKY:
        # body holds the three hidden elements, the aside its noscript
        assert sorted(elements[i].tag for i in holders) == ["aside", "body", "body", "body"]


def test_furniture_ids_are_the_outermost_elements_holding_only_sure_furniture():
    page = B.page_blocks(B.parse(TRICKY))
    ids = page.columns[:, B.COLUMNS.index("element")]
    elements, holders = hybrid.elements_by_id(B.parse(TRICKY).find("body"))
    # Every block sure furniture but the section's heading and paragraph: the nav (not the ul or
    # li inside it: the outermost only) and the footer go, the section stays, and so does the
    # aside, which holds a noscript (text the walk did not see).
    log_odds = np.array([5.0 if ("Heading" in text or "Body" in text) else -9.0 for text in page.texts])
    found = [elements[i].tag for i in hybrid.furniture_ids(page, log_odds, -4.0, holders)]
    assert "nav" in found and "footer" in found and "section" not in found and "ul" not in found and "li" not in found
    assert "aside" not in found and "aside" in [elements[i].tag for i in hybrid.furniture_ids(page, log_odds, -4.0)]
    assert hybrid.furniture_ids(page, np.full(len(ids), 5.0), -4.0) == []
    everything = hybrid.furniture_ids(page, np.full(len(ids), -9.0), -4.0)  # all sure furniture: the body's children holding blocks
    assert everything[0] == 2 and all(elements[i].getparent() is elements[1] for i in everything)  # (id 1: body, never)


def test_pruned_tree_cuts_sure_furniture_and_keeps_tails():
    root = B.parse(TRICKY)
    page = B.page_blocks(root)
    log_odds = np.array([5.0 if ("Heading" in text or "Body" in text or "closing" in text) else -9.0 for text in page.texts])
    pruned = hybrid.pruned_tree(root, page, log_odds, 0.0, 4.0)
    assert pruned is root
    html = _html(pruned)
    for gone in ("Home", "Copyright", "lead", "shown", "Menu"):  # the p in the aside goes, the aside stays
        assert gone not in html
    # kept: the content, tails, what the walk did not see (hidden, noscript) and the aside holding a noscript
    for kept in ("Heading", "Body <b>bold</b> text.", "closing words", "tail of nav", "hidden paragraph", "aria", "no script", "<aside>"):
        assert kept in html
    # Nothing sure: the page as it was.
    root = B.parse(TRICKY)
    page = B.page_blocks(root)
    assert _html(hybrid.pruned_tree(root, page, np.zeros(len(page.texts)), 0.0, 4.0)) == _html(B.parse(TRICKY))


def test_a_routed_page_reaches_trafilatura_without_its_sure_furniture(monkeypatch):
    seen = []
    monkeypatch.setattr(hybrid, "_trafilatura", lambda page, fast=False, precision=False: seen.append(_html(page)) or "trafilatura's text")
    monkeypatch.setattr(hybrid, "ROUTE_CONFIDENCE", 1.01)
    assert hybrid.extract_learned_hybrid(ARTICLE).method == "trafilatura"
    whole = _uncut(ARTICLE)
    assert PARAGRAPHS[0] in seen[0] and "Copyright 2024" not in seen[0] and len(seen[0]) < len(whole)
    monkeypatch.setattr(hybrid, "PRUNE_LOG_ODDS", None)
    hybrid.extract_learned_hybrid(ARTICLE)
    assert seen[1] == whole


def test_a_page_the_learned_pass_keeps_nothing_of_reaches_trafilatura_as_its_tree(monkeypatch):
    """Such a page is routed whole, uncut (no block is kept, so nothing is sure to be content), as
    the learned pass's tree; a page lxml finds no document in goes as it came."""
    from tamis.extract import learned

    monkeypatch.setattr(learned, "keep_blocks", lambda probability, *args, **kwargs: np.zeros(len(probability), dtype=bool))
    seen = []
    monkeypatch.setattr(hybrid, "_trafilatura", lambda page, fast=False, precision=False: seen.append(page) or "trafilatura's text")
    assert hybrid.extract_learned_hybrid(ARTICLE.encode()).text == "trafilatura's text"
    assert not isinstance(seen[0], str) and _html(seen[0]) == _uncut(ARTICLE)
    monkeypatch.setattr(B, "parse", lambda html: None)
    assert hybrid.extract_learned_hybrid(ARTICLE.encode()).text == "trafilatura's text" and seen[1] == ARTICLE


@pytest.mark.parametrize("fast", [True, False])
def test_trafilatura_reads_the_same_text_from_the_tree_as_from_its_html(fast: bool):
    """trafilatura given the learned pass's tree (pruned or not) finds what it finds in that tree
    serialized; blocks' parser makes plain elements again after the call (the learned pass's)."""
    pytest.importorskip("trafilatura")
    for html in (ARTICLE, TRICKY):
        root = B.parse(html)
        page = B.page_blocks(root)
        trees = [root, hybrid.pruned_tree(B.parse(html), page, np.where(np.arange(len(page.texts)) % 3 == 0, -9.0, 5.0), 0.0, 4.0)]
        for tree in trees:
            text = hybrid._trafilatura(tree, fast=fast)
            assert text and text == hybrid._trafilatura(_html(tree), fast=fast)
    assert type(B.parse(ARTICLE)) is etree._Element


INERT_PAGE = """<html><head><title>T</title><style>p { color: red }</style><script type="application/ld+json">{"@type": "NewsArticle"}</script>
<script src="/a.js"></script></head><body><p>First words<svg viewBox="0 0 9 9"><title>Glyph</title><path d="M0 0"/><script>y()</script></svg> after the icon</p>
<script>var z = 1;</script>tail after a script<style>.q { }</style><div>closing <svg><use href="#i"/></svg>line</div></body></html>"""


def test_drop_inert_removes_drawings_styles_and_scripts_but_not_json_or_tails():
    root = B.parse(INERT_PAGE)
    hybrid.drop_inert(root)
    html = _html(root)
    for gone in ("<svg", "<style", "var z", "y()", "/a.js", "Glyph", "color: red"):
        assert gone not in html
    for kept in ('type="application/ld+json"', "NewsArticle", "First words after the icon", "tail after a script", "closing line", "<title>T</title>"):
        assert kept in html


def test_trafilatura_reads_the_same_text_without_the_inert_elements():
    """What drop_inert takes away, trafilatura deletes itself before reading (its routed text on
    the three sets' 2,117 pages is the same, check_extract_identity.py); here on hand-made pages."""
    from test_extract_learned import ARTICLE

    icons = '<svg viewBox="0 0 9 9"><title>Share this</title><path d="M0 0"/></svg>'
    pages = [INERT_PAGE, ARTICLE.replace("<p>", f"<p>{icons}<script>track()</script>", 2).replace("</body>", "<style>a{}</style><script>x()</script></body>")]
    for html in pages:
        whole, cut = B.parse(html), B.parse(html)
        hybrid.drop_inert(cut)
        assert "<svg" not in _html(cut) and "<script>" not in _html(cut)
        for fast in (True, False):
            assert hybrid._trafilatura(cut, fast=fast) == hybrid._trafilatura(whole, fast=fast)


def test_a_routed_page_reaches_trafilatura_without_its_inert_elements(monkeypatch):
    seen = []
    monkeypatch.setattr(hybrid, "_trafilatura", lambda page, fast=False, precision=False: seen.append(_html(page)) or "trafilatura's text")
    monkeypatch.setattr(hybrid, "ROUTE_CONFIDENCE", 1.01)
    page = ARTICLE.replace("</body>", "<script>x()</script><style>a{}</style><svg><path d='M0'/></svg></body>")
    assert hybrid.extract_learned_hybrid(page).method == "trafilatura"
    assert PARAGRAPHS[0] in seen[0] and "x()" not in seen[0] and "<style" not in seen[0] and "<svg" not in seen[0]


def test_the_benchs_bootstrap_scores_pages_as_its_metrics_and_spreads_only_with_the_draw():
    """bench_extract.py's held-out bootstrap: teval_f1 of the pages' counts is teval_score's F1, a
    margin of zero never moves, and a margin one page makes is spread around its value."""
    import bench_extract

    items = {f"p{i}": {"with": ["a b", "c d", "e"], "without": ["x y"]} for i in range(6)}
    outputs = {"p0": "a b c d e", "p1": "a b x y", "p2": None, "p3": "e", "p4": "c d x y e", "p5": ""}
    counts = [bench_extract.teval_counts(items[k], outputs[k]) for k in items]
    assert bench_extract.teval_f1(counts) == pytest.approx(bench_extract.teval_score(items, outputs)[2], abs=1e-12)
    assert bench_extract.teval_f1([]) == 0.0
    sd, low, high, share = bench_extract.bootstrap_margin(counts, counts, bench_extract.teval_f1, resamples=200)
    assert (sd, low, high, share) == (0.0, 0.0, 0.0, 1.0)
    better = [*counts[:5], (3, 0, 0)]  # the same pages, the empty one now perfect
    sd, low, high, share = bench_extract.bootstrap_margin(better, counts, bench_extract.teval_f1, resamples=400)
    margin = bench_extract.teval_f1(better) - bench_extract.teval_f1(counts)
    assert margin > 0 and sd > 0 and low <= margin <= high and 0.0 < share <= 1.0


def test_the_benchs_page_folder_holds_this_runs_pages_only(tmp_path):
    """bench_extract.write_pages: every contender reads the whole folder, so a smaller run (--sample)
    after a larger one must not find the larger run's pages there."""
    import bench_extract

    folder = tmp_path / "pages"
    names = bench_extract.write_pages({f"k{i}": f"<p>{i}</p>".encode() for i in range(5)}, folder)
    assert sorted(p.name for p in folder.glob("*.html")) == sorted(names) and len(names) == 5
    (folder / "notes.txt").write_text("kept")
    names = bench_extract.write_pages({"a": b"<p>a</p>", "b": b"<p>b</p>"}, folder)
    assert names == {"00000.html": "a", "00001.html": "b"}
    assert sorted(p.name for p in folder.iterdir()) == ["00000.html", "00001.html", "notes.txt"]
    assert (folder / "00001.html").read_bytes() == b"<p>b</p>"


def test_the_bench_scripts_score_the_text_and_route_the_page_as_the_hybrid_does(monkeypatch):
    """train_extract_model.page_text and fit_extract_router.learned_page / route_page model what
    extract_learned keeps and whether the hybrid routes the page: they must read the page's tags and
    containers as extract_learned does (keep_blocks' sibling and heading fills), or every fit scores
    a text the ``extract`` step does not write (and, through the kept blocks, routes other pages)."""
    fit = pytest.importorskip("fit_extract_router")
    import train_extract_model

    from tamis.extract import learned
    from tamis.steps.extract_html import written_text

    html = f"""<!doctype html><html><head><title>Budget</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/n">News</a></li></ul></nav>
<main><article><h1>Council approves the budget</h1><div class="body"><p>{PARAGRAPHS[0]}</p><p>Photo: archive.</p>
<p>{PARAGRAPHS[1]}</p><p>Read on.</p><p>{PARAGRAPHS[2]}</p><h2>Next steps at the Cafe\u0301</h2><p>{PARAGRAPHS[3]}</p></div></article></main>
<footer><p>Copyright 2026</p></footer></body></html>"""
    page = B.page_blocks(B.parse(html))
    doubted = {"Photo: archive.", "Read on.", "Next steps at the Cafe\u0301", "Home", "News", "Copyright 2026", "Council approves the budget"}
    log_odds = np.array([-7.0 if text in doubted else 3.0 for text in page.texts])  # the model drops the short lines
    shipped = model()

    class Fixed:  # the shipped forest's page settings, these log-odds
        keep_threshold, smooth, isolated_chars, tail_gap = shipped.keep_threshold, 0.0, shipped.isolated_chars, shipped.tail_gap
        feature_names = shipped.feature_names

        def log_odds(self, rows):
            return log_odds

        def probability(self, rows):
            return learned.probability_of(log_odds)

    monkeypatch.setattr(learned, "model", Fixed)
    details: dict = {}
    extracted = extract_learned(html, details, fallback=False)
    written = written_text(extracted.text)  # what the step writes
    assert "Read on." in written and "Next steps at the Caf\u00e9" in written  # the sibling and heading fills ran; NFC
    assert "Photo: archive." in written and "Home" not in written

    rows = train_extract_model.PageRows(page.texts, page.features(), page.tags(), page.groups())
    post = {"keep": Fixed.keep_threshold, "smooth": Fixed.smooth, "isolated": Fixed.isolated_chars, "tail": Fixed.tail_gap}
    probability = learned.probability_of(log_odds)
    assert train_extract_model.page_text(rows, probability, post) == written
    assert fit.learned_page(rows, probability)[0] == written
    assert fit.route_page(rows, probability) == (not hybrid.learned_stands(extracted, details))
    # without the tags and containers the scripts would score another text
    assert train_extract_model.page_text(rows._replace(tags=None, groups=None), probability, post) != written


def test_tail_cut_is_the_share_keep_blocks_cut_after_the_article_not_what_post_rules_drop(monkeypatch):
    import dataclasses

    from tamis.extract import learned

    forest = dataclasses.replace(model(), smooth=0.0, tail_gap=3)
    monkeypatch.setattr(learned, "model", lambda: forest)
    threshold = np.log(forest.keep_threshold / (1 - forest.keep_threshold))
    # An article (two kept blocks), a run of furniture long enough to cut, then a kept teaser.
    log_odds = threshold + np.array([6.0, 6.0, -9.0, -9.0, -9.0, -9.0, 6.0])
    lengths = np.array([900.0, 100.0] + [learned.TAIL_GAP_CHARS] * 4 + [250.0])
    rows = np.zeros((7, len(B.FEATURE_NAMES)), dtype=np.float32)
    trimmed = learned.keep_blocks(learned.probability_of(log_odds), lengths, forest.keep_threshold, 0.0, forest.isolated_chars, 3)
    assert trimmed.tolist() == [True, True, False, False, False, False, False]
    assert signal(hybrid.route_signals(log_odds, lengths, trimmed, rows), "tail_cut") == pytest.approx(250 / 1250)
    # A post_rule that drops the second block changes ``kept``, not what the tail cut dropped.
    ruled = trimmed & (np.arange(7) != 1)
    assert signal(hybrid.route_signals(log_odds, lengths, ruled, rows), "tail_cut") == pytest.approx(250 / 1250)
