"""The learned block extractor: segmentation, features, the packed-tree model, robustness."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tamis.extract import blocks as B
from tamis.extract.hybrid import extract_learned_hybrid
from tamis.extract.learned import (
    BYLINE_FEATURES,
    BYLINE_MAX_SHARE,
    CAPTION_MAX_CHARS,
    DETACHED_GAP,
    DETACHED_MAX_CHARS,
    FOOTER_AREA_FEATURES,
    FOOTER_AREA_MAX_SHARE,
    HEADING_CHARS,
    HOLE_BLOCKS,
    HOLE_PROBABILITY,
    LINK_GROUP_MIN_DENSITY,
    MODEL_PATH,
    REPEAT_MIN_CHARS,
    SIBLING_FILL,
    SPAN_PROBABILITY,
    TAIL_GAP_CHARS,
    WIDGET_AREA_FEATURES,
    WIDGET_AREA_MAX_SHARE,
    WIDGET_BOX_FEATURES,
    WIDGET_BOX_MAX_SHARE,
    WIDGET_FEATURES,
    Forest,
    drop_bylines,
    drop_captions,
    drop_detached,
    drop_footer_areas,
    drop_link_groups,
    drop_marked,
    drop_repeated,
    drop_widget_areas,
    drop_widget_boxes,
    drop_widgets,
    extract_learned,
    keep_blocks,
    load_forest,
    model,
    page_confidence,
    post_rules,
    save_forest,
)
from tamis.steps.extract_html import EXTRACTORS, extract_main_text

PARAGRAPHS = [
    "The committee met on Tuesday to discuss the new budget, which had been delayed for several months by the dispute.",
    "Members agreed that the funds for the library would be doubled, while the road repairs would wait until spring.",
    "The chair said the decision reflected what residents had asked for during the public hearings held in the autumn.",
    "A final vote is expected next week, after the finance office has checked the figures and published its report.",
]
ARTICLE = f"""<!doctype html><html><head><title>Budget approved</title>
<link rel="canonical" href="https://example.org/news/budget">
<meta property="article:published_time" content="2024-03-05T10:00:00Z"></head>
<body>
<header class="site-header"><nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav></header>
<div id="cookie-banner" class="cookie-consent">We use cookies. <a href="/privacy">Accept</a></div>
<main><article class="post-content"><h1>Budget approved</h1>
<h2>What changes</h2>
{"".join(f"<p>{p}</p>" for p in PARAGRAPHS)}
<ul><li>Library funds doubled from next year on, as the committee proposed.</li><li>Road repairs moved to the spring.</li></ul>
<table><tr><td>Library</td><td>2.4 million</td></tr></table>
</article></main>
<aside class="sidebar related"><h3>Related</h3><ul><li><a href="/a">Another story</a></li><li><a href="/b">More news</a></li></ul></aside>
<footer class="site-footer"><p>Copyright 2024 Example News. <a href="/terms">Terms</a> <a href="/about">About us</a></p></footer>
<script>var tracking = "not text";</script><style>p {{ color: red }}</style>
</body></html>"""


def blocks_of(html: str) -> tuple[list[B.Block], int, B.Elements]:
    return B.segment(B.parse(html))


# --------------------------------------------------------------------------- segmentation


def test_blocks_follow_the_block_elements_and_skip_scripts_and_hidden_text():
    html = """<html><body><div>Intro <b>bold</b> text<p>First <a href="#">link</a> para.</p>tail text</div>
    <ul><li>one</li><li>two</li></ul><table><tr><td>cell A</td><td>cell B</td></tr></table>
    <p hidden>secret</p><div style="display: none">also secret</div><span aria-hidden="true">icon</span>
    <script>nope()</script><p>after<br>break</p></body></html>"""
    blocks, _, _ = blocks_of(html)
    texts = [b.text for b in blocks]
    assert texts == ["Intro bold text", "First link para.", "tail text", "one", "two", "cell A", "cell B", "after", "break"]  # <br> ends a line
    first = blocks[1]
    assert first.tag == "p" and first.link_chars == len("link")
    assert blocks[3].tag == "li" and blocks[3].ancestors & (1 << B.ANCESTOR_TAGS.index("ul"))
    assert all("secret" not in t and "icon" not in t and "nope" not in t for t in texts)


def test_ruby_readings_are_not_page_text():
    """Furigana (<rt>) and their fallback parentheses (<rp>) annotate the characters they sit over:
    read inline they would interleave every word with its pronunciation. The base text stays."""
    html = (
        "<html><body><p><ruby>子<rp>(</rp><rt>こ</rt><rp>)</rp></ruby>どもへの<ruby>虐待<rt>ぎゃくたい</rt></ruby>をなくす。</p>"
        "<p>Tail <ruby>漢<rt>kan</rt>字<rt>ji</rt></ruby> end.</p></body></html>"
    )
    blocks, _, _ = blocks_of(html)
    assert [b.text for b in blocks] == ["子どもへの虐待をなくす。", "Tail 漢字 end."]
    assert B.page_blocks(B.parse(html)).texts == [b.text for b in blocks]  # the compiled walk too


def test_class_and_id_hints_are_generic_words_own_and_above():
    blocks, _, _ = blocks_of('<html><body><div id="sidebar"><p class="comment-body">Nice post!</p></div></body></html>')
    (block,) = blocks
    assert block.hints_own & (1 << B.HINT_WORDS.index("comment"))
    assert block.hints_above & (1 << B.HINT_WORDS.index("sidebar"))
    assert not block.hints_above & (1 << B.HINT_WORDS.index("comment"))


def test_features_have_one_named_finite_column_each_and_are_deterministic():
    blocks, depth, elements = blocks_of(ARTICLE)
    rows = B.features(blocks, depth, elements)
    assert rows.shape == (len(blocks), len(B.FEATURE_NAMES)) and rows.dtype == np.float32
    assert np.isfinite(rows).all()
    again = B.features(*blocks_of(ARTICLE))
    assert np.array_equal(rows, again)
    column = B.FEATURE_NAMES.index("in=nav")
    nav_rows = [i for i, b in enumerate(blocks) if b.text == "Home"]
    assert nav_rows and rows[nav_rows[0], column] == 1.0
    in_main = B.FEATURE_NAMES.index("in_main")
    assert all(rows[i, in_main] == 1.0 for i, b in enumerate(blocks) if b.text in PARAGRAPHS)
    assert B.features([], 0, B.Elements()).shape == (0, len(B.FEATURE_NAMES))


def test_word_punctuation_and_digit_counts_match_a_plain_python_count():
    texts = ["Hello, world! 42 times.", "naïve café — déjà vu?", "東京 2024年", "x", "emoji 😀 ok."]
    words, punct, digits = B._text_counts(texts)
    for text, w, p, d in zip(texts, words, punct, digits, strict=True):
        is_word = [c.isalnum() or c == "_" or ord(c) > 0xFFFF for c in text]
        starts = sum(1 for i, word in enumerate(is_word) if word and not (i and is_word[i - 1]))
        assert (w, p, d) == (starts, sum(c in B._PUNCTUATION for c in text), sum(c.isdigit() for c in text))


# --------------------------------------------------------------------------- model


def test_packed_forest_walks_each_tree_to_its_leaf():
    # Tree 0: x0 <= 1 ? (x1 <= 5 ? -1 : 2) : 3 ; tree 1 is a single leaf worth 0.5.
    forest = Forest(
        feature=np.array([[0, 1, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=np.int32),
        threshold=np.array([[1.0, 5.0, np.inf, np.inf, np.inf], [np.inf] * 5]),
        left=np.array([[1, 3, 2, 3, 4], [0, 1, 2, 3, 4]], dtype=np.int32),
        right=np.array([[2, 4, 2, 3, 4], [0, 1, 2, 3, 4]], dtype=np.int32),
        value=np.array([[0, 0, 3.0, -1.0, 2.0], [0.5, 0, 0, 0, 0]]),
        base=0.25, depth=2, keep_threshold=0.5, feature_names=("a", "b"),
    )  # fmt: skip
    rows = np.array([[0.0, 0.0], [0.0, 9.0], [7.0, 0.0]], dtype=np.float32)
    assert forest.log_odds(rows).tolist() == [0.25 - 1 + 0.5, 0.25 + 2 + 0.5, 0.25 + 3 + 0.5]
    assert forest.log_odds(np.zeros((0, 2), dtype=np.float32)).shape == (0,)


def test_shipped_model_loads_and_matches_the_features(tmp_path):
    forest = model()
    assert forest.feature_names == tuple(B.FEATURE_NAMES)
    assert 0.0 < forest.keep_threshold < 1.0 and forest.feature.max() < len(B.FEATURE_NAMES)
    assert MODEL_PATH.stat().st_size < 2_000_000
    data = dict(np.load(MODEL_PATH))
    data["feature_names"] = data["feature_names"][:-1]
    stale = tmp_path / "stale.npz"
    np.savez(stale, **data)
    with pytest.raises(ValueError, match="retrain"):
        load_forest(stale)


def keep_blocks_without_holes(*args, **kwargs):
    """keep_blocks with hole and span filling off (HOLE_BLOCKS, SPAN_PROBABILITY), for the tests of its other rules."""
    return keep_blocks(*args, hole_blocks=0, span_probability=0, **kwargs)


def test_keep_blocks_threshold_smoothing_and_isolated_short_blocks():
    probability = np.array([0.9, 0.45, 0.9, 0.1, 0.6, 0.1, 0.2])
    lengths = np.array([300.0, 40.0, 300.0, 20.0, 15.0, 30.0, 500.0])
    plain = keep_blocks_without_holes(probability, lengths, 0.5)
    assert plain.tolist() == [True, False, True, False, True, False, False]  # the threshold alone
    # Smoothing: the 0.45 block between two 0.9 blocks rises to 0.5*0.45 + 0.5*0.9 = 0.675; the 0.6
    # block between two 0.1 blocks falls to 0.35; the first block's missing neighbour is itself.
    smoothed = keep_blocks_without_holes(probability, lengths, 0.5, smooth=0.5)
    assert smoothed.tolist() == [True, True, True, False, False, False, False]
    # A kept block shorter than isolated_chars with both neighbours dropped goes; a long one stays.
    assert keep_blocks_without_holes(probability, lengths, 0.5, isolated_chars=16).tolist() == [True, False, True, False, False, False, False]
    assert keep_blocks_without_holes(probability, lengths, 0.5, isolated_chars=15).tolist() == plain.tolist()
    assert keep_blocks_without_holes(np.array([0.9]), np.array([5.0]), 0.5, smooth=0.3, isolated_chars=10).tolist() == [False]
    assert keep_blocks_without_holes(np.zeros(0), np.zeros(0), 0.5, smooth=0.3, isolated_chars=10).shape == (0,)


def drop_repeated_reference(texts: list[str], kept: np.ndarray, min_chars: int = REPEAT_MIN_CHARS) -> list[bool]:
    """The rule as stated: a kept block goes when an earlier kept block has the same normalized text
    of at least min_chars characters (quadratic, for the test only)."""
    keys = [" ".join(t.split()).casefold() for t in texts]
    return [
        bool(kept[i]) and not (len(keys[i]) >= min_chars and any(kept[j] and keys[j] == keys[i] for j in range(i)))
        for i in range(len(texts))
    ]  # fmt: skip


def test_drop_repeated_keeps_the_first_kept_copy_of_a_long_text():
    caption = "A shopper looks at extension cords at the hardware store on Tuesday, in the town centre."
    short = "See it now: the shop"
    texts = [caption, "First paragraph " * 8, caption.upper(), f"  {caption}\n", short, short, "Last paragraph " * 8, caption]
    kept = np.array([False, True, True, True, True, True, True, True])
    out = drop_repeated(texts, kept)
    # the first KEPT copy stays (the dropped block 0 does not count); case and spacing do not matter;
    # short repeats (a list's link labels) stay
    assert out.tolist() == [False, True, True, False, True, True, True, False]
    assert out.tolist() == drop_repeated_reference(texts, kept)
    assert kept.tolist() == [False, True, True, True, True, True, True, True]  # not changed in place
    assert drop_repeated(texts, kept, min_chars=10).tolist() == drop_repeated_reference(texts, kept, 10)
    assert drop_repeated(texts, kept, min_chars=10)[5] == False  # noqa: E712 - the short repeat goes at 10
    nothing = np.zeros(len(texts), dtype=bool)
    assert drop_repeated(texts, nothing).tolist() == [False] * len(texts)
    assert drop_repeated([], np.zeros(0, dtype=bool)).shape == (0,)


def test_drop_repeated_matches_the_reference_on_random_pages():
    rng = np.random.default_rng(7)
    words = ["alpha", "Beta", "gamma ", "delta\t", "EPSILON", "zeta", "x" * 30]
    for _ in range(300):
        n = int(rng.integers(0, 12))
        texts = [" ".join(rng.choice(words, size=int(rng.integers(1, 12)))) for _ in range(n)]
        texts += [texts[int(i)] for i in rng.integers(0, max(n, 1), size=int(rng.integers(0, 4)))] if n else []
        kept = rng.random(len(texts)) < 0.7
        for min_chars in (1, 20, REPEAT_MIN_CHARS):
            assert drop_repeated(texts, kept, min_chars).tolist() == drop_repeated_reference(texts, kept, min_chars)


def test_extract_learned_writes_a_repeated_caption_once():
    caption = "The new library wing seen from the park on Monday morning, before the opening ceremony."
    slides = "".join(f"<figure><img src='/{i}.jpg'><figcaption>{caption}</figcaption></figure>" for i in range(4))
    html = ARTICLE.replace("<h2>What changes</h2>", f"<h2>What changes</h2>{slides}")
    text = extract_learned(html).text
    assert text.count(caption) <= 1
    assert all(p in text for p in PARAGRAPHS)


def test_drop_marked_drops_kept_captions_and_nav_and_footer_blocks_unless_nothing_else_is_kept():
    caption = B.FEATURE_NAMES.index("tag=figcaption")
    in_figure = B.FEATURE_NAMES.index("in=figure")
    rows = np.zeros((7, len(B.FEATURE_NAMES)), dtype=np.float32)
    rows[1, caption] = rows[1, in_figure] = 1.0
    rows[3, caption] = rows[3, in_figure] = 1.0
    rows[4, in_figure] = 1.0  # inside a figure but not its caption: stays
    rows[5, B.FEATURE_NAMES.index("in=nav")] = 1.0
    rows[6, B.FEATURE_NAMES.index("in=footer")] = 1.0
    kept = np.array([True, True, True, False, True, True, True])
    out = drop_marked(rows, kept)
    assert out.tolist() == [True, False, True, False, True, False, False]
    assert kept.tolist() == [True, True, True, False, True, True, True]  # not changed in place
    # a page whose kept text is only marked blocks (a photo page) keeps them
    only = np.array([False, True, False, True, False, True, False])
    assert drop_marked(rows, only).tolist() == only.tolist()
    assert drop_marked(rows, np.zeros(7, dtype=bool)).tolist() == [False] * 7
    assert drop_marked(np.zeros((0, len(B.FEATURE_NAMES)), dtype=np.float32), np.zeros(0, dtype=bool)).shape == (0,)
    # post_rules: the repeated texts first, then the marked blocks
    # (block 4 stands three dropped blocks from block 0: as long as a paragraph, drop_detached leaves it)
    texts = ["Paragraph " * 10, "Caption of the photo " * 4, "Paragraph " * 10, "x", "y" * DETACHED_MAX_CHARS, "Home", "Contact"]
    assert post_rules(texts, rows, kept).tolist() == [True, False, False, False, True, False, False]


def test_drop_captions_drops_short_kept_blocks_named_caption_or_credit_unless_nothing_else_is_kept():
    own_caption = B.FEATURE_NAMES.index("own~caption")
    own_credit = B.FEATURE_NAMES.index("own~credit")
    rows = np.zeros((6, len(B.FEATURE_NAMES)), dtype=np.float32)
    rows[1, own_caption] = 1.0
    rows[2, own_credit] = 1.0
    rows[3, own_caption] = 1.0  # named, but long: prose a template wraps, stays
    rows[4, B.FEATURE_NAMES.index("above~caption")] = 1.0  # only an ancestor's word: stays
    rows[5, own_caption] = 1.0  # named and short, but not kept
    lengths = np.array([300.0, 80.0, 20.0, CAPTION_MAX_CHARS, 40.0, 30.0])
    kept = np.array([True, True, True, True, True, False])
    out = drop_captions(rows, lengths, kept)
    assert out.tolist() == [True, False, False, True, True, False]
    assert kept.tolist() == [True, True, True, True, True, False]  # not changed in place
    only = np.array([False, True, True, False, False, False])
    assert drop_captions(rows, lengths, only).tolist() == only.tolist()  # a page of captions keeps them
    assert drop_captions(np.zeros((0, len(B.FEATURE_NAMES)), dtype=np.float32), np.zeros(0), np.zeros(0, dtype=bool)).shape == (0,)
    # post_rules applies it after the repeated and marked blocks
    texts = ["P" * 300, "c" * 80, "r" * 20, "L" * CAPTION_MAX_CHARS, "a" * 40, "s" * 30]
    assert post_rules(texts, rows, kept).tolist() == out.tolist()


def test_drop_widgets_drops_kept_blocks_whose_own_class_names_a_widget_unless_nothing_else_is_kept():
    rows = np.zeros((6, len(B.FEATURE_NAMES)), dtype=np.float32)
    rows[1, B.FEATURE_NAMES.index("own~newsletter")] = 1.0
    rows[2, B.FEATURE_NAMES.index("own~related")] = 1.0
    rows[3, B.FEATURE_NAMES.index("above~comment")] = 1.0  # only an ancestor's word (a body class): stays
    rows[4, B.FEATURE_NAMES.index("own~content")] = 1.0  # a word that names the article: stays
    rows[5, B.FEATURE_NAMES.index("own~comment")] = 1.0  # named, but not kept
    kept = np.array([True, True, True, True, True, False])
    out = drop_widgets(rows, kept)
    assert out.tolist() == [True, False, False, True, True, False]
    assert kept.tolist() == [True, True, True, True, True, False]  # not changed in place
    only = np.array([False, True, True, False, False, False])
    assert drop_widgets(rows, only).tolist() == only.tolist()  # a page of widget text keeps it
    assert drop_widgets(np.zeros((0, len(B.FEATURE_NAMES)), dtype=np.float32), np.zeros(0, dtype=bool)).shape == (0,)
    # every word is one of the blocks' hint words, read from the block's own chain
    assert all(name in B.FEATURE_NAMES and name.startswith("own~") for name in WIDGET_FEATURES)
    # post_rules applies it after the caption rule; then drop_widget_areas takes block 3 (inside a
    # comment area, a third of the kept text)
    texts = ["P" * 300, "n" * 200, "r" * 80, "c" * 300, "a" * 300, "s" * 30]
    assert post_rules(texts, rows, kept).tolist() == [True, False, False, False, True, False]


def test_drop_bylines_drops_kept_author_and_meta_blocks_unless_they_hold_much_of_the_kept_text():
    rows = np.zeros((7, len(B.FEATURE_NAMES)), dtype=np.float32)
    rows[1, B.FEATURE_NAMES.index("own~byline")] = 1.0  # "By Jane Doe, March 5"
    rows[2, B.FEATURE_NAMES.index("own~meta")] = 1.0  # the post's meta line
    rows[5, B.FEATURE_NAMES.index("above~author")] = 1.0  # an author box's bio paragraph: its container is named
    rows[6, B.FEATURE_NAMES.index("above~meta")] = 1.0  # only an ancestor's "meta": stays
    lengths = np.array([400.0, 30.0, 40.0, 400.0, 400.0, 200.0, 50.0])
    kept = np.array([True, True, True, True, True, True, True])
    out = drop_bylines(rows, lengths, kept)
    assert out.tolist() == [True, False, False, True, True, False, True]
    assert kept.tolist() == [True] * 7  # not changed in place
    # an ancestor so named around most of the kept text (a page of one author's posts) keeps it all
    wrapped = rows.copy()
    wrapped[[0, 3, 4], B.FEATURE_NAMES.index("above~author")] = 1.0
    assert drop_bylines(wrapped, lengths, kept).tolist() == kept.tolist()
    assert (lengths * (kept & ~out)).sum() < BYLINE_MAX_SHARE * lengths.sum()  # the first page's named share
    assert drop_bylines(np.zeros((0, len(B.FEATURE_NAMES)), dtype=np.float32), np.zeros(0), np.zeros(0, dtype=bool)).shape == (0,)
    assert all(name in B.FEATURE_NAMES for name in BYLINE_FEATURES)
    # post_rules applies it after the widget rule
    texts = ["P" * 400, "b" * 30, "m" * 40, "Q" * 400, "R" * 400, "a" * 200, "x" * 50]
    assert post_rules(texts, rows, kept).tolist() == out.tolist()


def test_drop_widget_areas_drops_kept_blocks_inside_a_named_widget_unless_it_wraps_most_of_the_kept_text():
    rows = np.zeros((6, len(B.FEATURE_NAMES)), dtype=np.float32)
    rows[2, B.FEATURE_NAMES.index("above~comment")] = 1.0  # a comment list's paragraphs: no class of their own
    rows[3, B.FEATURE_NAMES.index("above~comment")] = 1.0
    rows[4, B.FEATURE_NAMES.index("above~related")] = 1.0  # a related-stories box's teaser line
    rows[5, B.FEATURE_NAMES.index("above~content")] = 1.0  # an ancestor naming the article: stays
    lengths = np.array([600.0, 600.0, 150.0, 120.0, 60.0, 300.0])
    kept = np.ones(6, dtype=bool)
    out = drop_widget_areas(rows, lengths, kept)
    assert out.tolist() == [True, True, False, False, False, True]
    assert kept.all()  # not changed in place
    # a body or wrapper class naming the whole page ("has-comments") reads on every block: kept whole
    wrapped = rows.copy()
    wrapped[:, B.FEATURE_NAMES.index("above~comment")] = 1.0
    assert drop_widget_areas(wrapped, lengths, kept).tolist() == kept.tolist()
    assert (lengths * (kept & ~out)).sum() < WIDGET_AREA_MAX_SHARE * lengths.sum()
    assert all(name in B.FEATURE_NAMES and name.startswith("above~") for name in WIDGET_AREA_FEATURES)
    assert drop_widget_areas(np.zeros((0, len(B.FEATURE_NAMES)), dtype=np.float32), np.zeros(0), np.zeros(0, dtype=bool)).shape == (0,)


def test_extract_learned_leaves_out_a_comment_thread_after_the_article():
    replies = [
        "Thanks for writing this up, the part about the library funds was exactly what I had been wondering about.",
        "I went to two of the hearings and the chair is right: people asked for the library far more than the roads.",
    ]
    thread = "<div class='comments'>" + "".join(f"<p>{r}</p>" for r in replies) + "</div>"  # the replies carry no class of their own
    html = ARTICLE.replace("</article>", f"{thread}</article>")
    text = extract_learned(html).text
    assert not any(r in text for r in replies)
    assert all(p in text for p in PARAGRAPHS)


def test_drop_detached_drops_short_stretches_apart_from_the_article():
    assert DETACHED_GAP == 2
    # blocks: a label, two dropped, the article (3 kept, one dropped inside), two dropped, a rating line
    lengths = np.array([20.0, 50.0, 50.0, 300.0, 10.0, 300.0, 300.0, 50.0, 50.0, 40.0])
    kept = np.array([True, False, False, True, False, True, True, False, False, True])
    out = drop_detached(lengths, kept)
    assert out.tolist() == [False, False, False, True, False, True, True, False, False, False]
    assert kept[0] and kept[9]  # not changed in place
    # one dropped block between is not a gap; a long stretch apart stays (a lead, a later section)
    near = np.array([True, False, True, True, False, True, True, False, False, True])
    assert drop_detached(lengths, near).tolist() == [True, False, True, True, False, True, True, False, False, False]
    far = lengths.copy()
    far[9] = DETACHED_MAX_CHARS
    assert drop_detached(far, kept)[9]
    # one stretch, or nothing kept: unchanged
    assert drop_detached(lengths, np.zeros(10, dtype=bool)).tolist() == [False] * 10
    assert drop_detached(np.zeros(0), np.zeros(0, dtype=bool)).shape == (0,)


def test_drop_link_groups_drops_kept_blocks_of_a_group_made_of_links():
    assert LINK_GROUP_MIN_DENSITY == 0.7
    column = B.FEATURE_NAMES.index("group_link_density")
    rows = np.zeros((7, len(B.FEATURE_NAMES)), dtype=np.float32)
    rows[[0, 1, 2], column] = 0.05  # the article's paragraphs, a link or two among them
    rows[[3, 4], column] = 0.9  # a "See also" list: every item a link
    rows[5, column] = 0.6  # a list with some links, more text outside them: stays
    rows[6, column] = 1.0  # a list of links, but not kept
    kept = np.array([True, True, True, True, True, True, False])
    out = drop_link_groups(rows, kept)
    assert out.tolist() == [True, True, True, False, False, True, False]
    assert kept.tolist() == [True] * 6 + [False]  # not changed in place
    # the density is read in float64: a float32 0.7 (just under 0.7) stays, as it was measured
    rows[5, column] = 0.7
    assert drop_link_groups(rows, kept)[5]
    rows[5, column] = 0.6
    # off (0), a page of nothing but link lists, nothing kept: unchanged
    assert drop_link_groups(rows, kept, 0.0).tolist() == kept.tolist()
    only = np.array([False, False, False, True, True, False, False])
    assert drop_link_groups(rows, only).tolist() == only.tolist()
    assert drop_link_groups(rows, np.zeros(7, dtype=bool)).tolist() == [False] * 7
    assert drop_link_groups(np.zeros((0, len(B.FEATURE_NAMES)), dtype=np.float32), np.zeros(0, dtype=bool)).shape == (0,)
    # post_rules applies it after drop_detached
    texts = ["P" * 400, "Q" * 400, "R" * 400, "s" * 50, "t" * 50, "u" * 200, "v" * 30]
    assert post_rules(texts, rows, kept).tolist() == out.tolist()


def test_drop_widget_boxes_and_footer_areas_drop_named_blocks_unless_they_wrap_most_of_the_kept_text(monkeypatch):
    from tamis.extract import learned

    assert WIDGET_BOX_FEATURES == ("above~widget",) and WIDGET_BOX_MAX_SHARE == 0.5
    assert FOOTER_AREA_FEATURES == ("own~footer", "above~footer") and FOOTER_AREA_MAX_SHARE == 0.5
    rows = np.zeros((7, len(B.FEATURE_NAMES)), dtype=np.float32)
    rows[2, B.FEATURE_NAMES.index("above~widget")] = 1.0  # an appeal in a theme's widget box
    rows[3, B.FEATURE_NAMES.index("above~widget")] = 1.0
    rows[4, B.FEATURE_NAMES.index("own~footer")] = 1.0  # "Was this article helpful?" in a post-footer div
    rows[5, B.FEATURE_NAMES.index("above~footer")] = 1.0  # a disclaimer inside an entry-footer
    rows[6, B.FEATURE_NAMES.index("own~widget")] = 1.0  # only the block's own chain says widget: stays
    lengths = np.array([600.0, 600.0, 150.0, 100.0, 40.0, 120.0, 300.0])
    kept = np.ones(7, dtype=bool)
    boxes = drop_widget_boxes(rows, lengths, kept)
    assert boxes.tolist() == [True, True, False, False, True, True, True]
    footers = drop_footer_areas(rows, lengths, kept)
    assert footers.tolist() == [True, True, True, True, False, False, True]
    assert kept.all()  # not changed in place
    # a page builder that wraps every paragraph in a "widget" (a wrapper named around most of the kept text): kept whole
    wrapped = rows.copy()
    wrapped[:, B.FEATURE_NAMES.index("above~widget")] = 1.0
    wrapped[:, B.FEATURE_NAMES.index("above~footer")] = 1.0
    assert drop_widget_boxes(wrapped, lengths, kept).tolist() == kept.tolist()
    assert drop_footer_areas(wrapped, lengths, kept).tolist() == kept.tolist()
    assert all(name in B.FEATURE_NAMES for name in WIDGET_BOX_FEATURES + FOOTER_AREA_FEATURES)
    assert drop_widget_boxes(np.zeros((0, len(B.FEATURE_NAMES)), dtype=np.float32), np.zeros(0), np.zeros(0, dtype=bool)).shape == (0,)
    # post_rules applies both after drop_link_groups
    texts = ["P" * 600, "Q" * 600, "a" * 150, "b" * 100, "c" * 40, "d" * 120, "e" * 300]
    assert post_rules(texts, rows, kept).tolist() == [True, True, False, False, False, False, True]
    # off (empty words): unchanged
    monkeypatch.setattr(learned, "WIDGET_BOX_FEATURES", ())
    monkeypatch.setattr(learned, "FOOTER_AREA_FEATURES", ())
    assert drop_widget_boxes(rows, lengths, kept).tolist() == kept.tolist()
    assert drop_footer_areas(rows, lengths, kept).tolist() == kept.tolist()
    assert post_rules(texts, rows, kept).all()


def test_extract_learned_leaves_out_a_list_of_links_inside_the_article(monkeypatch):
    from tamis.extract import learned

    titles = ["How the library budget grew", "Roads to wait for spring repairs", "What the hearings asked for"]
    related = "<p>See also:</p><ul class='links'>" + "".join(f"<li><a href='/s/{i}'>{t}</a></li>" for i, t in enumerate(titles)) + "</ul>"
    html = ARTICLE.replace(f"<p>{PARAGRAPHS[-1]}</p>", f"<p>{PARAGRAPHS[-1]}</p>{related}")
    text = extract_learned(html).text
    assert not any(t in text for t in titles)
    assert all(p in text for p in PARAGRAPHS)
    # with the rule off, the model keeps the list where it stands in the article
    monkeypatch.setattr(learned, "drop_link_groups", lambda rows, kept: kept)
    assert any(t in extract_learned(html).text for t in titles)


@pytest.mark.parametrize(
    ("line", "box"),
    [
        # a theme's widget box after the article: the paragraph has no class of its own (drop_widget_boxes)
        ("please consider a small monthly gift", "<div class='widget support-box'><p>Our reporting is free for everyone. If you value it, {}.</p></div>"),
        # a post's footer named by its class, not the footer element (drop_footer_areas)
        ("Was this article helpful?", "<div class='entry-footer'><p>{} Tell us what you think, and what we should write about next.</p></div>"),
    ],
    ids=["widget-box", "footer-class"],
)
def test_extract_learned_leaves_out_a_widget_box_and_a_classed_footer(monkeypatch, line: str, box: str):
    from tamis.extract import learned

    html = ARTICLE.replace(f"<p>{PARAGRAPHS[-1]}</p>", f"<p>{PARAGRAPHS[-1]}</p>{box.format(line)}")
    text = extract_learned(html).text
    assert line not in text
    assert all(p in text for p in PARAGRAPHS)
    # with both rules off (no words), the model keeps the box where it stands in the article
    monkeypatch.setattr(learned, "WIDGET_BOX_FEATURES", ())
    monkeypatch.setattr(learned, "FOOTER_AREA_FEATURES", ())
    assert line in extract_learned(html).text


def test_extract_learned_leaves_out_an_author_box_after_the_article():
    bio = "Jane Doe is a reporter who has covered the city council and its budgets for the paper since 2015."
    box = f"<div class='author-box'><img src='/jane.jpg' alt=''><p>{bio}</p></div>"  # the bio's container names it
    html = ARTICLE.replace("</article>", f"{box}</article>")
    text = extract_learned(html).text
    assert bio not in text
    assert all(p in text for p in PARAGRAPHS)


def test_extract_learned_leaves_out_a_sign_up_box_in_the_article_column():
    appeal = "Get the best of our reporting in your inbox every morning, free of charge, and never miss a story again."
    box = f"<div class='newsletter-signup'>{appeal}</div>"  # the block's own element names it
    html = ARTICLE.replace(f"<p>{PARAGRAPHS[2]}</p>", f"<p>{PARAGRAPHS[2]}</p>{box}")
    text = extract_learned(html).text
    assert appeal not in text
    assert all(p in text for p in PARAGRAPHS)


@pytest.mark.parametrize(("caption", "markup"), [
    # a photo credit set in a div whose class names it (drop_captions)
    ("Photo: the new library wing seen from the park.",
     "<div class='photo'><img src='/wing.jpg' alt=''><div class='image-credit'>{}</div></div>"),
    # a figure's caption (drop_marked)
    ("The new library wing seen from the park on Monday morning, before the opening ceremony.",
     "<figure><img src='/wing.jpg' alt=''><figcaption>{}</figcaption></figure>"),
], ids=["credit-in-a-div", "figcaption"])
def test_extract_learned_leaves_out_captions(caption: str, markup: str):
    html = ARTICLE.replace("<h2>What changes</h2>", f"<h2>What changes</h2>{markup.format(caption)}")
    text = extract_learned(html).text
    assert caption not in text
    assert all(p in text for p in PARAGRAPHS)


def test_extract_learned_leaves_out_an_article_footer():
    footer = "<footer><p>Filed under: budget, library, roads. Share this story with your friends.</p></footer>"
    html = ARTICLE.replace(PARAGRAPHS[-1], PARAGRAPHS[-1] + "</p>" + footer + "<p>")
    text = extract_learned(html).text
    assert "Filed under" not in text
    assert all(p in text for p in PARAGRAPHS)


def test_keep_blocks_tail_gap_drops_the_stretches_after_the_article():
    kept_probability = 0.9
    dropped = 0.1
    # title | gap 1 | article (3 blocks) | gap 2 | teaser | gap 3 | teaser, comment
    probability = np.array([kept_probability, dropped, kept_probability, kept_probability, kept_probability, dropped, dropped,
                            kept_probability, dropped, dropped, dropped, kept_probability, kept_probability])  # fmt: skip
    lengths = np.array([40.0, 10, 400, 300, 500, 20, 20, 150, 10, 10, 10, 200, 100])
    plain = keep_blocks_without_holes(probability, lengths, 0.5)
    assert keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=0).tolist() == plain.tolist()
    # gap >= 2 splits after the article: both later stretches go; the title before it stays
    cut = keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=2, tail_chars=0)
    assert np.flatnonzero(cut).tolist() == [0, 2, 3, 4]
    # gap >= 3 splits only before the last stretch: the teaser after two dropped blocks stays
    assert np.flatnonzero(keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=3, tail_chars=0)).tolist() == [0, 2, 3, 4, 7]
    # gap >= 1 splits the title off; it comes before the article, so it stays
    assert np.flatnonzero(keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=1, tail_chars=0)).tolist() == [0, 2, 3, 4]
    # the largest stretch is chosen by kept characters, not by block count
    chosen = keep_blocks_without_holes(np.array([0.9, 0.9, 0.1, 0.1, 0.9]), np.array([10.0, 10, 5, 5, 900]), 0.5, tail_gap=2, tail_chars=0)
    assert np.flatnonzero(chosen).tolist() == [0, 1, 4]
    assert keep_blocks_without_holes(np.full(3, 0.1), np.ones(3), 0.5, tail_gap=2, tail_chars=0).tolist() == [False] * 3


def test_keep_blocks_tail_cut_needs_a_run_of_dropped_characters():
    """A run of tail_gap dropped blocks cuts only when it also holds tail_chars characters: short
    labels between two sections of an article do not end it, a long run of furniture does."""
    high, low = 0.9, 0.1
    # article (2 blocks) | 3 short dropped labels (30 chars) | section | 3 dropped blocks (900 chars) | comments
    probability = np.array([high, high, low, low, low, high, low, low, low, high])
    lengths = np.array([500.0, 400, 10, 10, 10, 300, 300, 300, 300, 200])
    assert np.flatnonzero(keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=3, tail_chars=0)).tolist() == [0, 1]
    assert np.flatnonzero(keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=3, tail_chars=31)).tolist() == [0, 1, 5]
    assert np.flatnonzero(keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=3, tail_chars=30)).tolist() == [0, 1]  # 30 >= 30: it cuts
    assert np.flatnonzero(keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=3, tail_chars=901)).tolist() == [0, 1, 5, 9]
    # both conditions: 3 dropped blocks are not a gap of 4, however long
    assert np.flatnonzero(keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=4, tail_chars=1)).tolist() == [0, 1, 5, 9]
    # the default is the shipped TAIL_GAP_CHARS
    shipped = keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=3, tail_chars=TAIL_GAP_CHARS)
    assert keep_blocks_without_holes(probability, lengths, 0.5, tail_gap=3).tolist() == shipped.tolist()


def test_keep_blocks_fills_short_holes_between_kept_blocks():
    """A run of at most hole_blocks dropped blocks between two kept ones is kept when every block
    of it reaches hole_probability; runs before the first or after the last kept block are not holes
    (span filling off: SPAN_PROBABILITY would keep the 0.2 blocks between kept ones)."""
    # lead | heading (0.2) | paragraph | two labels (0.2, 0.01) | paragraph | footer (0.2)
    probability = np.array([0.2, 0.9, 0.2, 0.9, 0.2, 0.01, 0.9, 0.2])
    lengths = np.array([30.0, 400, 20, 500, 10, 10, 300, 40])
    off = keep_blocks(probability, lengths, 0.5, hole_blocks=0, span_probability=0)
    assert np.flatnonzero(off).tolist() == [1, 3, 6]
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5, hole_blocks=1, hole_probability=0.1, span_probability=0)).tolist() == [1, 2, 3, 6]
    # a run of two holds a block under the floor: it stays dropped, whatever its length
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5, hole_blocks=2, hole_probability=0.1, span_probability=0)).tolist() == [1, 2, 3, 6]
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5, hole_blocks=2, hole_probability=0.01, span_probability=0)).tolist() == [1, 2, 3, 4, 5, 6]
    # holes are filled after the tail cut: a cut-off stretch does not make the run before it a hole
    cut = keep_blocks(probability, lengths, 0.5, tail_gap=2, tail_chars=0, hole_blocks=2, hole_probability=0.01, span_probability=0)
    assert np.flatnonzero(cut).tolist() == [1, 2, 3]
    assert keep_blocks(np.full(3, 0.2), np.ones(3), 0.5, hole_blocks=3, hole_probability=0.0, span_probability=0).tolist() == [False] * 3
    # the defaults are the shipped HOLE_BLOCKS and HOLE_PROBABILITY
    shipped = keep_blocks(probability, lengths, 0.5, hole_blocks=HOLE_BLOCKS, hole_probability=HOLE_PROBABILITY)
    assert keep_blocks(probability, lengths, 0.5).tolist() == shipped.tolist()


def test_keep_blocks_hole_floor_is_shipped_at_one_percent():
    """With the shipped floor (HOLE_PROBABILITY 0.01), a sub-heading the model puts at 0.015
    between two kept paragraphs is kept (it was not at session 20's 0.02); a line at 0.005 is not."""
    # paragraph | sub-heading (0.015) | paragraph | label (0.005) | paragraph
    probability = np.array([0.9, 0.015, 0.9, 0.005, 0.9])
    lengths = np.array([400.0, 30, 500, 10, 300])
    assert HOLE_PROBABILITY == 0.01
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5)).tolist() == [0, 1, 2, 4]
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5, hole_probability=0.02)).tolist() == [0, 2, 4]


def test_keep_blocks_span_fill_keeps_doubted_blocks_inside_the_article():
    """With the shipped SPAN_PROBABILITY (0.1), a dropped block between the first and last kept
    blocks whose own probability reaches 0.1 is kept however long the dropped run around it (here
    five blocks, past HOLE_BLOCKS, one under the hole floor); blocks before the first or after the
    last kept block, and blocks under 0.1, stay dropped."""
    # lead (0.15) | paragraph | sub-heading (0.12), list items (0.15, 0.005, 0.11), ad (0.05) | paragraph | footer (0.15)
    probability = np.array([0.15, 0.9, 0.12, 0.15, 0.005, 0.11, 0.05, 0.9, 0.15])
    lengths = np.array([40.0, 500, 30, 50, 20, 60, 30, 400, 60])
    assert SPAN_PROBABILITY == 0.1
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5)).tolist() == [1, 2, 3, 5, 7]
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5, span_probability=0)).tolist() == [1, 7]
    # filled after the tail cut: a stretch the cut drops does not widen the span
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5, tail_gap=5, tail_chars=0)).tolist() == [1]


def test_keep_blocks_fills_siblings_and_headings_inside_the_article():
    """Given each block's tag and container (PageBlocks.columns), a dropped block between the first
    and last kept blocks whose container holds a kept block is kept (SIBLING_FILL), and so is a
    dropped h2-h4 there of at most HEADING_CHARS characters that a kept block directly follows,
    whatever their probabilities (here under every floor, so no hole or span fill reaches them).
    Blocks outside the kept span, in a container without kept blocks, or headings followed by a
    dropped block, stay dropped; without the columns, or with the constants off, nothing is added."""
    t = {tag: B.OWN_TAGS.index(tag) for tag in ("p", "h2", "h3", "div")}
    # 0 before the article (its container) | 1 p | 2 h3 sub-heading (own container) | 3 p | 4 p sibling |
    # 5 h2 before a dropped block | 6 div box | 7 p | 8 h2 of 300 characters | 9 p | 10 p after the article
    probability = np.array([0.001, 0.9, 0.001, 0.9, 0.001, 0.001, 0.001, 0.9, 0.001, 0.9, 0.001])
    lengths = np.array([30.0, 400, 40, 300, 50, 30, 60, 300, 300, 300, 40])
    tags = np.array([t["div"], t["p"], t["h3"], t["p"], t["p"], t["h2"], t["div"], t["p"], t["h2"], t["p"], t["p"]])
    groups = np.array([3, 3, 5, 3, 3, 6, 6, 3, 7, 3, 3])
    assert SIBLING_FILL is True and HEADING_CHARS == 200
    without = keep_blocks(probability, lengths, 0.5)
    assert np.flatnonzero(without).tolist() == [1, 3, 7, 9]
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5, tags=tags, groups=groups)).tolist() == [1, 2, 3, 4, 7, 9]
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5, tags=tags, groups=groups, sibling_fill=False)).tolist() == [1, 2, 3, 7, 9]
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5, tags=tags, groups=groups, heading_chars=0)).tolist() == [1, 3, 4, 7, 9]
    assert np.flatnonzero(keep_blocks(probability, lengths, 0.5, tags=tags, groups=groups, heading_chars=300)).tolist() == [1, 2, 3, 4, 7, 8, 9]
    off = keep_blocks(probability, lengths, 0.5, tags=tags, groups=groups, sibling_fill=False, heading_chars=0)
    assert off.tolist() == without.tolist()
    # a page where nothing is kept stays empty
    assert not keep_blocks(np.full(3, 0.001), np.ones(3), 0.5, tags=tags[:3], groups=groups[:3]).any()


def test_extract_learned_hands_keep_blocks_the_pages_tags_and_containers(monkeypatch):
    """extract_learned passes each block's tag and container (PageBlocks.columns) to keep_blocks,
    so the sibling and heading fills run on real pages."""
    from tamis.extract import learned

    seen = {}
    original = learned.keep_blocks

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(learned, "keep_blocks", spy)
    details: dict = {}
    extract_learned(ARTICLE, details)
    columns = details["page"].columns
    assert seen["tags"].tolist() == columns[:, B.COLUMNS.index("tag")].tolist()
    assert seen["groups"].tolist() == columns[:, B.COLUMNS.index("group")].tolist()


def test_main_run_is_the_maximum_sum_stretch():
    rng = np.random.default_rng(7)
    for _ in range(300):
        scores = rng.integers(-50, 50, size=int(rng.integers(1, 12))).astype(np.float64)
        start, end = B.main_run(scores)
        sums = {(i, j): scores[i:j].sum() for i in range(len(scores)) for j in range(i + 1, len(scores) + 1)}
        best = max(sums.values())
        if best <= 0:
            assert (start, end) == (0, 0)
        else:
            assert scores[start:end].sum() == best
            # the first end reaching the best sum, then the latest start
            assert end == min(j for (i, j), value in sums.items() if value == best)
            assert start == max(i for (i, j), value in sums.items() if value == best and j == end)


TEASERS = (
    "<html><body><div class='top'><a href='/'>Home</a> <a href='/a'>World</a> <a href='/b'>Sport</a></div>"
    "<div><h1>A headline for the story</h1>"
    + "".join(f"<p>Paragraph {i} of the story, which runs on for a good many words so that it is long enough.</p>" for i in range(6))
    + "</div><div class='more'>"
    + "".join(f"<div><h3><a href='/s{i}'>Another story number {i}</a></h3><p>Its short summary line {i}.</p></div>" for i in range(5))
    + "</div></body></html>"
)


def test_structure_features_place_blocks_against_the_main_run_and_see_repeated_containers():
    blocks, depth, elements = blocks_of(TEASERS)
    rows = B.features(blocks, depth, elements)
    names = B.FEATURE_NAMES
    texts = [b.text for b in blocks]
    first_paragraph = texts.index(next(t for t in texts if t.startswith("Paragraph 0")))
    last_paragraph = texts.index(next(t for t in texts if t.startswith("Paragraph 5")))
    teaser = texts.index("Another story number 2")
    column = {name: rows[:, names.index(name)] for name in names[-6:]}
    assert column["run_before"][0] == 1.0 and column["run_after"][0] == 0.0  # the menu
    assert column["run_before"][first_paragraph] == 0.0 and column["run_after"][last_paragraph] == 0.0
    assert column["run_after"][teaser] == 1.0 and column["run_distance"][teaser] > column["run_distance"][last_paragraph + 1]
    # each teaser's blocks sit in one of five like containers under one parent
    assert column["parent_log_groups"][teaser] == pytest.approx(np.log1p(5))
    assert column["group_log_blocks"][teaser] == pytest.approx(np.log1p(2))
    assert column["group_log_blocks"][first_paragraph] == pytest.approx(np.log1p(7))
    assert column["parent_link_density"][teaser] > 0.3 > column["parent_link_density"][first_paragraph]
    assert np.array_equal(rows, B.features_reference(blocks, depth, elements))


def test_page_confidence_is_the_share_of_characters_decided_far_from_the_threshold_in_log_odds():
    keep = 0.3
    at = np.log(keep / (1 - keep))
    log_odds = np.array([at + 2.5, at - 2.5, at + 0.5, at - 1.9])
    lengths = np.array([100.0, 50.0, 30.0, 20.0])
    assert page_confidence(log_odds, lengths, keep) == 150 / 200  # the same margin on either side
    assert page_confidence(np.zeros(0), np.zeros(0), keep) == 0.0


def test_post_processing_travels_with_the_model(tmp_path):
    shipped = model()
    assert 0.0 <= shipped.smooth < 1.0 and shipped.isolated_chars >= 0
    copy = tmp_path / "model.npz"
    save_forest(shipped, copy)
    again = load_forest(copy)
    assert (again.keep_threshold, again.smooth, again.isolated_chars, again.tail_gap) == (
        shipped.keep_threshold, shipped.smooth, shipped.isolated_chars, shipped.tail_gap,
    )  # fmt: skip
    rows = B.features(*blocks_of(ARTICLE))
    assert np.array_equal(again.probability(rows), shipped.probability(rows))
    # A model saved before these fields existed still loads, with no post-processing.
    data = {k: v for k, v in np.load(MODEL_PATH).items() if k not in ("smooth", "isolated_chars", "tail_gap")}
    old = tmp_path / "old.npz"
    np.savez(old, **data)
    assert (load_forest(old).smooth, load_forest(old).isolated_chars, load_forest(old).tail_gap) == (0.0, 0, 0)


def test_gold_text_labels_blocks_by_word_four_grams():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from train_extract_model import gold_labels

    gold = "The council approved the budget on Tuesday after a long debate.\nResidents welcomed the news of the library."
    texts = [
        "Home",  # short, not in the gold text
        "News",  # short, not in it either
        "The council approved the budget on Tuesday after a long debate.",  # content
        "Residents",  # short, in the gold text and inside its span
        "Residents welcomed the news of the library.",  # content
        "Subscribe to our newsletter for more stories like this one",  # furniture
        "the library",  # short, in the gold text but after its span: unlabelled
        "The council approved the budget. Share this story with your friends on social media now",  # partly: unlabelled
        "---",  # no words
    ]
    assert gold_labels(texts, gold).tolist() == [0, 0, 1, 1, 1, 0, -1, -1, -1]


def test_readability_training_pages_skip_fixtures_and_evaluation_sites(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from readability_pages import gold_text, load_readability, registered_domain

    assert registered_domain("http://money.cnn.com/2016/x.html") == "cnn.com"
    assert registered_domain("https://www.bbc.co.uk/news") == "bbc.co.uk"
    assert registered_domain("https://www1.folha.uol.com.br/esporte/") == "uol.com.br"
    assert gold_text("<div><h1>Title</h1><p>One <b>bold</b> line.</p><p>Two</p></div>").split("\n") == ["Title", "One bold line.", "Two"]
    article = "<p>" + "A long paragraph of the article itself, written out in full. " * 10 + "</p>"
    padding = "<!-- " + "x" * 9000 + " -->"

    def page(name: str, head: str, size_padding: str = padding) -> None:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "source.html").write_text(f"<html><head>{head}</head><body>{size_padding}{article}</body></html>")
        (folder / "expected.html").write_text(f"<div>{article}</div>")

    page("kept-1", '<meta content="https://blog.example.net/post" property="og:url">')
    page("tiny", "", size_padding="")  # a hand-written fixture: skipped
    page("news-1", '<link rel="canonical" href="https://www.news.co.uk/a">')  # same registered domain as an eval page
    page("brand", '<link rel="canonical" href="https://brand.de/a">')  # same brand as brand.com
    page("nytimes-3", "")  # no address: the folder's name says the site
    kept, skipped = load_readability(tmp_path, {"news.co.uk", "brand.com", "nytimes.com"})
    assert [(p.name, p.site) for p in kept] == [("kept-1", "example.net")]
    assert "article itself" in kept[0].gold and kept[0].raw.startswith(b"<html>")
    assert sorted(name for name, _ in skipped) == ["brand", "news-1", "nytimes-3", "tiny"]


def test_wceb_pages_load_decode_and_leave_out_evaluation_sites(tmp_path):
    import gzip
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from wceb_pages import load_wceb, wceb_halves

    (tmp_path / "html").mkdir()
    (tmp_path / "ground-truth").mkdir()

    def page(key: str, url: str, page_type: str, gold: str, html: bytes | None) -> None:
        record = {"url": url, "file_id": key, "_internal": {"page_type": {"primary": page_type}}, "ground_truth": {"main_content": gold}}
        (tmp_path / "ground-truth" / f"{key}.json").write_text(json.dumps(record), encoding="utf-8")
        if html is not None:
            (tmp_path / "html" / f"{key}.html.gz").write_bytes(gzip.compress(html))

    latin = '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\xe9 cr\xe8me</p></body></html>'.encode("latin-1")
    page("0001", "https://www.shop.example.co.uk/item/1", "Product", "Caf\u00e9 cr\u00e8me", latin)
    page("0002", "https://blog.example.org/post", "article", "A post.", b"<html><body><p>A post.</p></body></html>")
    page("0003", "https://news.brand.com/a", "article", "Taken.", b"<p>Taken.</p>")  # same brand as brand.de
    page("0004", "https://www.evalsite.com/x", "article", "Eval.", b"<p>Eval.</p>")  # a site of another set
    page("0005", "https://example.net/y", "forum", "", b"<p>x</p>")  # no gold text
    page("0006", "https://example.net/z", "forum", "Lost.", None)  # no page
    page("0007", "https://blog.example.org/other", "article", "Another post.", b"<p>Another post.</p>")
    pages, skipped = load_wceb(tmp_path, {"brand.de", "evalsite.com"})
    assert [(p.key, p.site, p.page_type) for p in pages] == [
        ("0001", "example.co.uk", "product"), ("0002", "example.org", "article"), ("0007", "example.org", "article")
    ]  # fmt: skip
    assert sorted(key for key, _ in skipped) == ["0003", "0004", "0005", "0006"]
    assert pages[0].raw == latin and "Caf\u00e9 cr\u00e8me" in pages[0].html()  # decoded as the extract step decodes it
    development, held_out = wceb_halves(pages)
    assert development | held_out == {"0001", "0002", "0007"} and not development & held_out
    assert ("0002" in development) == ("0007" in development)  # one site's pages fall in one half
    # the benchmark's repository as checked out: ground truth under benchmark/, pages under release/
    (tmp_path / "repository" / "benchmark").mkdir(parents=True)
    (tmp_path / "repository" / "release").mkdir()
    (tmp_path / "ground-truth").rename(tmp_path / "repository" / "benchmark" / "ground-truth")
    (tmp_path / "html").rename(tmp_path / "repository" / "release" / "html")
    again, _ = load_wceb(tmp_path / "repository", {"brand.de", "evalsite.com"})
    assert [(p.key, p.raw) for p in again] == [(p.key, p.raw) for p in pages]
    with pytest.raises(FileNotFoundError, match="not a wceb2026 copy"):
        load_wceb(tmp_path)


def test_wcxb_pages_leave_out_the_other_sets_and_train_on_no_test_site(tmp_path):
    import gzip
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from wcxb_pages import load_wcxb, training_pages

    def page(folder: Path, key: str, url: str, page_type: str = "article") -> None:
        (folder / "html").mkdir(parents=True, exist_ok=True)
        (folder / "ground-truth").mkdir(parents=True, exist_ok=True)
        record = {"url": url, "_internal": {"page_type": {"primary": page_type}}, "ground_truth": {"main_content": f"Text of {key}."}}
        (folder / "ground-truth" / f"{key}.json").write_text(json.dumps(record), encoding="utf-8")
        (folder / "html" / f"{key}.html.gz").write_bytes(gzip.compress(f"<p>Text of {key}.</p>".encode()))

    corpus = tmp_path / "corpus"
    (corpus / "trafilatura-eval").mkdir(parents=True)
    (corpus / "scrapinghub-aeb").mkdir(parents=True)
    (corpus / "trafilatura-eval" / "evaldata.json").write_text(json.dumps({"https://teval.com/a": {}}), encoding="utf-8")
    (corpus / "scrapinghub-aeb" / "ground-truth.json").write_text(json.dumps({"x": {"url": "https://aeb.org/b"}}), encoding="utf-8")
    wceb, wcxb = tmp_path / "wceb", tmp_path / "wcxb"
    page(wceb, "0001", "https://shared.net/post/")  # in wceb2026: its url and its site go
    page(wcxb / "dev", "0001", "https://shared.net/post")  # the same page (trailing slash aside)
    page(wcxb / "dev", "0002", "https://blog.shared.net/other")  # another page of a wceb2026 site
    page(wcxb / "dev", "0003", "https://www.teval.com/c")  # a trafilatura-eval site
    page(wcxb / "dev", "0004", "https://news.aeb.co.uk/d")  # scrapinghub-aeb's brand under another suffix
    page(wcxb / "dev", "0005", "https://kept.io/e", "forum")
    page(wcxb / "dev", "0006", "https://tested.com/f")  # a site WCXB's test split also has: not trained on
    page(wcxb / "test", "0001", "https://tested.com/g", "product")  # the same file id as a dev page
    page(wcxb / "test", "0007", "https://shared.net/h")
    pages = load_wcxb(wcxb, corpus, wceb)
    assert [(p.key, p.site, p.page_type) for p in pages.dev] == [("dev-0005", "kept.io", "forum"), ("dev-0006", "tested.com", "article")]
    assert [(p.key, p.page_type) for p in pages.test] == [("test-0001", "product")]
    assert sorted(key for key, _ in pages.left_out) == ["dev-0001", "dev-0002", "dev-0003", "dev-0004", "test-0007"]
    assert pages.test[0].gold == "Text of 0001." and pages.test[0].raw == b"<p>Text of 0001.</p>"
    train, left_out = training_pages(pages)
    assert [p.key for p in train] == ["dev-0005"] and [key for key, _ in left_out] == ["dev-0006"]
    from train_extract_model import load_wcxb_blocks

    for _ in range(2):  # cut and cached, then read back from the cache
        rows, gold, types, sites, split, teacher = load_wcxb_blocks(corpus, wcxb, wceb, tmp_path / "wcxb.pkl")
        assert split == ({"dev-0005"}, {"test-0001"})  # development pages (scored, trained on), test pages held out
        assert sorted(rows) == sorted(teacher) == ["dev-0005", "test-0001"]
        assert sites == {"dev-0005": "kept.io", "test-0001": "tested.com"} and types == {"dev-0005": "forum", "test-0001": "product"}
        assert gold["dev-0005"] == "Text of 0005." and rows["dev-0005"][0] == ["Text of 0005."]
    with pytest.raises(FileNotFoundError):
        load_wcxb(wcxb, corpus, None)  # wceb2026's pages could not be told apart


# --------------------------------------------------------------------------- extraction


def test_learned_extractor_keeps_the_article_and_drops_the_furniture():
    result = extract_learned(ARTICLE)
    assert result.method == "learned"
    lines = result.text.split("\n")
    for paragraph in PARAGRAPHS:
        assert paragraph in lines  # one paragraph per line
    for furniture in ("Home", "We use cookies.", "Another story", "Copyright 2024", "not text", "color: red"):
        assert furniture not in result.text
    assert result.metadata == {"title": "Budget approved", "url": "https://example.org/news/budget", "date": "2024-03-05T10:00:00Z"}
    assert extract_learned(ARTICLE).text == result.text  # deterministic


def test_learned_extractors_are_registered_and_answer_like_the_others():
    assert {"tamis_learned", "tamis_learned_hybrid"} <= set(EXTRACTORS)
    answer = extract_main_text(ARTICLE, "tamis_learned")
    assert PARAGRAPHS[0] in answer["text"] and answer["path"] == "learned"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "just some text, no markup at all, but a sentence that a reader would want to keep in the corpus.",
        "\x00\x01\x02\ufffd\ufffd binary junk \x7f" * 50,
        "<html><body><p>lone surrogate \ud800 in the text of a paragraph that is long enough to keep.</p></body></html>",
        '<?xml version="1.0" encoding="ISO-8859-1"?><html><body><p>An XHTML page with a prolog and some words in it.</p></body></html>',
        "<html><body>" + "<td>" * 3000 + "unclosed cells" + "</body></html>",
    ],
)
def test_hostile_inputs_give_text_or_nothing_never_an_exception(html):
    for extract in (extract_learned, extract_learned_hybrid):
        result = extract(html)
        assert isinstance(result.text, str)
    if "sentence" in html or "XHTML" in html:
        assert "sentence" in extract_learned(html).text or "XHTML" in extract_learned(html).text


def test_deep_nesting_goes_to_the_lexbor_path_and_keeps_the_text():
    html = "<html><body>" + "<div>" * 5000 + "<p>Deep inside the page there is a paragraph of real text worth keeping.</p>" + "</div>" * 5000 + "</body></html>"
    started = time.perf_counter()
    result = extract_learned(html)
    assert time.perf_counter() - started < 5
    assert "Deep inside the page" in result.text and "deeper" in result.method
    assert "Deep inside the page" in extract_learned_hybrid(html).text


def test_a_twenty_megabyte_element_is_linear():
    paragraph = "word " * 4_000_000  # 20 MB of text in one element
    html = f"<html><body><p>{paragraph}</p><p>short</p></body></html>"
    started = time.perf_counter()
    result = extract_learned(html)
    assert time.perf_counter() - started < 20
    assert len(result.text) >= len(paragraph.strip())


def test_the_cells_of_a_table_row_share_a_line():
    """The learned extractor writes one line per kept block, but a table row reads across: its
    kept cells (td/th holding their text) are joined by CELL_SEPARATOR, and rows stay apart."""
    from tamis.extract import blocks as block_features
    from tamis.extract.learned import CELL_SEPARATOR, kept_text

    html = (
        "<html><body><p>A paragraph before the table.</p><table>"
        "<tr><th>Year</th><th>Rainfall</th></tr><tr><td>2023</td><td>812 mm</td></tr>"
        "<tr><td><p>In a paragraph</p></td><td>kept apart</td></tr></table><p>After.</p></body></html>"
    )
    page = block_features.page_blocks(block_features.parse(html))
    kept = np.ones(len(page.texts), dtype=bool)
    lines = kept_text(page, kept).split("\n")
    assert lines[:3] == ["A paragraph before the table.", f"Year{CELL_SEPARATOR}Rainfall", f"2023{CELL_SEPARATOR}812 mm"]
    assert "In a paragraph" in lines and lines[-1] == "After."  # a cell holding a block element is not joined
    dropped = kept.copy()
    dropped[page.texts.index("2023")] = False
    assert "812 mm" in kept_text(page, dropped).split("\n")  # a row's kept cells only


def test_training_without_a_feature_group_zeroes_exactly_those_columns():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from train_extract_model import PageRows, without_features

    names = B.FEATURE_NAMES
    rows = np.ones((3, len(names)), dtype=np.float32)
    data = {"teval": {"a": PageRows(["x", "y", "z"], rows)}, "aeb": {}}
    without_features(data, ["link_density", "run_*"])
    zeroed = {names[i] for i in np.flatnonzero(rows[0] == 0)}
    assert zeroed == {"link_density", "run_before", "run_after", "run_distance"}
    assert (rows[:, [names.index("log_chars"), names.index("parent_link_density")]] == 1).all()
    with pytest.raises(SystemExit):
        without_features(data, ["no_such_feature"])


def test_wcxb_development_pages_are_trained_on_at_their_weight_and_types_when_in_the_training_folds():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from train_extract_model import PageRows, training_rows

    width = len(B.FEATURE_NAMES)
    gold = "The council approved the budget on Tuesday after a long debate."
    texts = [gold, "Subscribe to our newsletter for more stories like this one"]
    data = {
        "teval": {}, "aeb": {"a1": PageRows(texts, np.full((2, width), 1.0, dtype=np.float32))}, "truth": {"a1": gold}, "extra": {},
        "wcxb": {"w1": PageRows(texts, np.full((2, width), 2.0, dtype=np.float32)), "w2": PageRows(texts, np.full((2, width), 3.0, dtype=np.float32))},
        "wcxb_truth": {"w1": gold, "w2": gold}, "wcxb_types": {"w1": "article", "w2": "forum"}, "wcxb_train_types": {"article", "forum"},
    }  # fmt: skip
    pages = [("aeb", "a1"), ("wcxb", "w1"), ("wcxb", "w2")]
    x, y, w = training_rows(data, pages, {}, 0.0, 1.0)
    assert x[:, 0].tolist() == [1.0, 1.0]  # weight 0: scored, never trained on
    x, y, w = training_rows(data, pages, {}, 0.0, 1.0, wcxb_weight=0.3)
    assert x[:, 0].tolist() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0] and y.tolist() == [1, 0] * 3
    assert w.tolist() == pytest.approx([1.0, 1.0, 0.3, 0.3, 0.3, 0.3])  # labelled against main_content, at their weight
    x, _, _ = training_rows(data, pages[:2], {}, 0.0, 1.0, wcxb_weight=0.3)
    assert x[:, 0].tolist() == [1.0, 1.0, 2.0, 2.0]  # a page in the held fold is not trained on
    data["wcxb_train_types"] = {"article"}
    x, _, _ = training_rows(data, pages, {}, 0.0, 1.0, wcxb_weight=0.3)
    assert x[:, 0].tolist() == [1.0, 1.0, 2.0, 2.0]  # --wcxb-types article: the forum page is not trained on


def test_site_sets_content_labels_are_trained_on_only_as_the_site_positives_mode_says():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from train_extract_model import PageRows, training_rows

    width = len(B.FEATURE_NAMES)
    column = {name: i for i, name in enumerate(B.FEATURE_NAMES)}
    gold = "The council approved the budget on Tuesday after a long debate. The vote was close and the mayor spoke last."
    texts = [
        "The council approved the budget on Tuesday after a long debate.",
        "Subscribe to our newsletter for more stories",
        "The vote was close and the mayor spoke last.",
    ]
    rows = np.zeros((3, width), dtype=np.float32)
    rows[:, 0] = [1.0, 2.0, 3.0]
    rows[0, column["long"]] = 1.0  # a long block inside the main run: both conventions call it content
    rows[2, column["long"]] = 1.0
    rows[2, column["run_after"]] = 1.0  # a content block after the main run: main_content's convention only
    data = {
        "teval": {}, "aeb": {}, "extra": {}, "wcxb": {"w1": PageRows(texts, rows)}, "wcxb_truth": {"w1": gold},
        "wcxb_types": {"w1": "article"}, "wcxb_train_types": {"article"},
    }  # fmt: skip
    pages = [("wcxb", "w1")]
    x, y, _ = training_rows(data, pages, {}, 0.0, 1.0, wcxb_weight=0.3)
    assert x[:, 0].tolist() == [1.0, 2.0, 3.0] and y.tolist() == [1, 0, 1]  # the default: every label
    data["site_positives"] = "none"  # --site-negatives-only
    x, y, _ = training_rows(data, pages, {}, 0.0, 1.0, wcxb_weight=0.3)
    assert x[:, 0].tolist() == [2.0] and y.tolist() == [0]
    data["site_positives"] = "long-in-run"  # --site-positives-in-run
    x, y, _ = training_rows(data, pages, {}, 0.0, 1.0, wcxb_weight=0.3)
    assert x[:, 0].tolist() == [1.0, 2.0] and y.tolist() == [1, 0]


def test_cv_folds_deal_the_issue_sets_pages_in_turn_and_the_site_sets_by_site():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from train_extract_model import cv_folds, score_set

    development = {
        "teval": [f"t{i}" for i in range(7)], "aeb": ["a0", "a1"],
        "wceb": ["e0", "e1", "e2"], "wcxb": [f"x{i}" for i in range(12)],
    }  # fmt: skip
    sites = {"wceb_sites": {"e0": "one.org", "e1": "two.org", "e2": "one.org"}, "wcxb_sites": {f"x{i}": f"site{i % 6}.com" for i in range(12)}}
    folds = cv_folds(development, sites)
    fold_of = {page: number for number, fold in enumerate(folds) for page in fold}
    assert sorted(fold_of) == sorted((store, key) for store, keys in development.items() for key in keys)  # every page once
    assert [fold_of[("teval", f"t{i}")] for i in range(7)] == [0, 1, 2, 3, 4, 0, 1] and fold_of[("aeb", "a0")] == 2
    assert fold_of[("wceb", "e0")] == fold_of[("wceb", "e2")] != fold_of[("wceb", "e1")]
    for i in range(6):  # a WCXB site's pages in one fold: never trained on while scored
        assert fold_of[("wcxb", f"x{i}")] == fold_of[("wcxb", f"x{i + 6}")]
    assert len({fold_of[("wcxb", f"x{i}")] for i in range(6)}) == 5  # six sites over the five folds
    gold = "The council approved the budget on Tuesday after a long debate."
    data = {"wcxb_truth": {"x0": gold, "x1": gold}}
    assert score_set(data, "wcxb", ["x0", "x1"], {"x0": gold, "x1": ""}) == pytest.approx((1.0, 0.5, 2 / 3))  # AEB's metric on main_content
