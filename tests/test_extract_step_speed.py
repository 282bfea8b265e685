"""The extract step's fast paths give exactly what their plain references give."""

from __future__ import annotations

import gzip
import os
import random
import re
import signal
import sys
import threading
import time
from pathlib import Path
from re import _parser

import numpy as np
import pytest

from tamis.extract import blocks, learned, metadata
from tamis.extract.learned import Forest
from tamis.io.readers import read_capped
from tamis.steps.extract_html import (
    _CASE_FOLD,
    BOILERPLATE_KEYWORDS,
    BOILERPLATE_LINE_RE,
    binary_share,
    binary_share_reference,
    drop_boilerplate_lines,
    drop_boilerplate_lines_reference,
)
from tamis.steps.extract_worker import (
    ExtractTimeout,
    IsolatedExtractor,
    PageClock,
    WorkerFailure,
    _fork_is_safe,
    _ForkedChild,
    _FrameReader,
    _write_frames,
)


def _literal_head(alternative) -> str:
    """The literal characters an alternative of the regex starts with."""
    head = []
    for op, value in alternative.data:
        if op is not _parser.LITERAL:
            break
        head.append(chr(value))
    return "".join(head).lower()


def test_every_alternative_of_the_furniture_regex_holds_a_keyword():
    ((op, group),) = _parser.parse(BOILERPLATE_LINE_RE.pattern, BOILERPLATE_LINE_RE.flags).data
    assert op is _parser.SUBPATTERN
    ((branch, (_, alternatives)),) = group[-1].data
    assert branch is _parser.BRANCH and len(alternatives) > 40
    for alternative in alternatives:
        head = _literal_head(alternative)
        assert any(keyword in head for keyword in BOILERPLATE_KEYWORDS), f"no keyword for the alternative starting {head!r}"


def test_case_folding_finds_every_character_the_regex_takes_for_a_keyword_letter():
    every_character = "".join(chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF)
    letters = sorted(set("".join(BOILERPLATE_KEYWORDS)))
    any_letter = "[" + "".join(re.escape(letter) for letter in letters) + "]"
    taken = re.findall(any_letter, every_character, re.IGNORECASE)
    assert len(taken) > len(letters)  # upper-case forms at least
    for same in taken:
        for letter in letters:
            if re.fullmatch(re.escape(letter), same, re.IGNORECASE):
                assert same.translate(_CASE_FOLD).lower() == letter, (letter, same)


_FRAGMENTS = [
    "Share this article", "SHARE ON", "share", "Sign up", "SIGNING UP", "log in", "Login", "LOG  IN", "© 2024",
    "Copyright", "All Rights Reserved", "cookie", "COOKIES", "ſubſcribe", "newſletter", "regİster", "regıster",
    "\u212aommentare", "Thanks for reading", "Thank you", "Mentions LÉGALES", "publicité", "PUBLICITÉ", "related posts",
    "Related stories", "terms of use", "Terms of Service", "read more", "Weiterlesen", "merci", "the", "quick", "fox",
    "İstanbul", "ı", "ſ", "word", "a", "\t", "  ", "é", "ß", "Ω",
]  # fmt: skip


def _random_text(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randrange(0, 12)):
        words = rng.randrange(0, 20)
        lines.append(" ".join(rng.choice(_FRAGMENTS) for _ in range(words)))
    return "\n".join(lines)


def test_drop_boilerplate_lines_matches_its_reference():
    rng = random.Random(715)
    for _ in range(3000):
        text = _random_text(rng)
        assert drop_boilerplate_lines(text) == drop_boilerplate_lines_reference(text), repr(text)
        assert drop_boilerplate_lines(text, 3) == drop_boilerplate_lines_reference(text, 3), repr(text)
    for text in ("", "\n", "\n\n", "cookie", "cookie\n", "\ncookie", "x\ncookie\ncookie\ny", "İ" * 50 + "\nlog in"):
        assert drop_boilerplate_lines(text) == drop_boilerplate_lines_reference(text), repr(text)


def test_drop_boilerplate_lines_is_linear_on_many_hits():
    # A megabyte of keywords on one line (word counting stops at max_words) and on many short lines.
    one_line = "cookie log in " * 80_000
    assert drop_boilerplate_lines(one_line) == (one_line, 0)
    many_lines = "\n".join(["log in"] * 100_000 + ["the article"])
    assert drop_boilerplate_lines(many_lines) == ("the article", 100_000)


# --------------------------------------------------------------------------- the learned model's walk


def _random_forest(rng: np.random.Generator, trees: int, depth: int, width: int) -> Forest:
    """Trees with leaves at every depth (a leaf points to itself), thresholds float32 cannot hold."""
    nodes = 2 ** (depth + 1) - 1
    feature = np.zeros((trees, nodes), dtype=np.int32)
    threshold = np.zeros((trees, nodes))
    left = np.zeros((trees, nodes), dtype=np.int32)
    right = np.zeros((trees, nodes), dtype=np.int32)
    value = np.zeros((trees, nodes))
    for tree in range(trees):
        used = 1

        def grow(node: int, level: int, tree: int = tree) -> None:
            nonlocal used
            value[tree, node] = rng.normal()
            if level == depth or rng.random() < 0.2:
                left[tree, node] = right[tree, node] = node
                feature[tree, node] = rng.integers(width)  # never decides: both ways lead here
                return
            feature[tree, node] = rng.integers(width)
            threshold[tree, node] = rng.choice([rng.normal(), 0.1, 1 / 3, 1e300, -1e300, 0.0, np.float32(0.5)])
            left[tree, node], right[tree, node] = used, used + 1
            used += 2
            grow(int(left[tree, node]), level + 1)
            grow(int(right[tree, node]), level + 1)

        grow(0, 0)
    names = tuple(f"f{i}" for i in range(width))
    return Forest(feature, threshold, left, right, value, 0.25, depth, 0.3, names)


def _hard_rows(rng: np.random.Generator, forest: Forest, count: int) -> np.ndarray:
    """Rows on, just above and just below the thresholds, and NaN, infinities, zeros of both signs."""
    width = len(forest.feature_names)
    with np.errstate(over="ignore"):
        thresholds = forest.threshold.ravel().astype(np.float32)
    rows = rng.normal(size=(count, width)).astype(np.float32)
    picks = rng.choice(thresholds, size=(count, width))
    nudged = np.nextafter(picks, rng.choice(np.array([-np.inf, np.inf], dtype=np.float32), size=(count, width)))
    chosen = rng.integers(0, 4, size=(count, width))
    rows = np.where(chosen == 1, picks, np.where(chosen == 2, nudged, rows))
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1 / 3], dtype=np.float32)
    mask = rng.random((count, width)) < 0.1
    rows[mask] = rng.choice(specials, size=mask.sum())
    return np.ascontiguousarray(rows, dtype=np.float32)


@pytest.mark.skipif(learned._forest is None, reason="the compiled walk is not built")
@pytest.mark.parametrize("depth", [1, 3, 5, 7])
def test_complete_tree_walk_is_the_reference_walk_to_the_bit(depth):
    rng = np.random.default_rng(depth)
    forest = _random_forest(rng, trees=40, depth=depth, width=9)
    for count in (0, 1, 3, 4, 5, 33, 200):
        rows = _hard_rows(rng, forest, count)
        expected = forest.log_odds_reference(rows)
        assert np.array_equal(forest.log_odds(rows), expected)
        assert forest.log_odds(rows).tobytes() == expected.tobytes()  # same bits, signed zeros included


@pytest.mark.skipif(learned._forest is None, reason="the compiled walk is not built")
def test_shipped_model_walk_matches_the_reference_and_the_pointer_walk():
    forest = learned.model()
    rng = np.random.default_rng(15)
    rows = _hard_rows(rng, forest, 500)
    expected = forest.log_odds_reference(rows)
    assert forest.log_odds(rows).tobytes() == expected.tobytes()
    flat = forest._flat
    if learned._native is not None:
        pointer = learned._native.leaf_values(
            rows, rows.shape[1], flat["feature"], flat["threshold"], flat["left"], flat["right"], flat["value"], flat["offsets"], forest.depth
        )
        complete = forest._complete
        assert learned._forest.leaf_values(rows, rows.shape[1], *complete, forest.depth) == pointer


@pytest.mark.skipif(learned._forest is None or not hasattr(learned._forest, "log_odds"), reason="the compiled sum is not built")
@pytest.mark.parametrize("trees", [1, 7, 8, 9, 128, 129, 300, 517])
def test_compiled_sum_over_trees_is_numpys_to_the_bit(trees):
    # numpy's pairwise sum changes shape at 8 and 128 values; leaf values of mixed magnitude make
    # any other order of additions round differently.
    rng = np.random.default_rng(trees)
    forest = _random_forest(rng, trees=trees, depth=3, width=6)
    forest.value[:] = rng.normal(size=forest.value.shape) * 10.0 ** rng.integers(-8, 8, size=forest.value.shape)
    forest = Forest(forest.feature, forest.threshold, forest.left, forest.right, forest.value, -0.0, 3, 0.3, forest.feature_names)
    for count in (0, 1, 31, 32, 33, 100):
        rows = _hard_rows(rng, forest, count)
        assert forest.log_odds(rows).tobytes() == forest.log_odds_leaves(rows).tobytes()
        assert forest.log_odds(rows).tobytes() == forest.log_odds_reference(rows).tobytes()


def test_complete_tree_walk_refuses_inconsistent_arrays():
    if learned._forest is None:
        pytest.skip("the compiled walk is not built")
    forest = learned.model()
    feature, threshold, leaf = forest._complete
    rows = np.zeros((2, len(forest.feature_names)), dtype=np.float32)
    with pytest.raises(ValueError):
        learned._forest.leaf_values(rows, rows.shape[1], feature[:-1], threshold, leaf, forest.depth)
    with pytest.raises(ValueError):
        learned._forest.leaf_values(rows, rows.shape[1] - 100, feature, threshold, leaf, forest.depth)  # features out of range


# --------------------------------------------------------------------------- metadata


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>Head title</title></head><body><p>x</p></body></html>",
        "<html><head><meta charset='utf-8'><noscript><title>Nested</title></noscript><title>Second</title></head></html>",
        "<html><body><svg><title>In svg</title></svg><p>text</p></body><title>Late</title></html>",
        "<html><body><p>No title at all</p></body></html>",
        "<title>Bare</title><p>text",
        "<html><head><title></title><title>Two</title></head></html>",
        "<html><head><TITLE>Upper</TITLE></head></html>",
        "<html><body><svg:title>prefixed</svg:title><title>Plain</title></body></html>",
        "<div>" * 3000 + "<title>Deep</title>" + "</div>" * 3000,
    ],
)
def test_first_title_is_what_elementpath_finds(html):
    root = blocks.parse(html)
    expected = root.find(".//title")
    titles = metadata._FIRST_TITLE(root)
    assert (titles[0] if titles else None) is expected
    found = metadata.page_metadata_lxml(root)
    assert found.get("title") == (" ".join(expected.text.split()) if expected is not None and expected.text and expected.text.strip() else found.get("title"))


_METADATA_PAGES = [
    "<html><head><meta property='og:title' content='T'><link rel=canonical href='http://x/'></head><body>"
    "<span itemprop='datePublished' content='2020-01-01'>a</span><div itemprop='datepublished'>no</div>"
    "<p itemprop='datePublished&#x20;'>no</p><b itemprop='date&#80;ublished'>yes</b><time datetime='2021'>t</time>"
    "<div><div><meta name=date content='2019'></div></div></body></html><meta name='after'>",
    # blank values fall through to the next attribute, then to the next selector
    "<head><meta property='og:title' content='  '><meta name='twitter:title' content='Tw'>"
    "<link rel='canonical' href=''><meta property='og:url' content=' https://y/a  b '></head>",
    # the first element a selector names decides even when its values are blank
    "<meta property='article:published_time' content=' '><meta property='article:published_time' content='2001'>"
    "<time datetime='\u00a0'>x</time><time datetime='1999'>y</time>",
    "<head><title> Spaced\n title </title><meta name='DC.date.issued' content='2003-03-03'>"
    "<meta itemprop='datePublished' href='h' datetime='d'></head><body><time DATETIME='2004'>t</time></body>",
    "<html><head><meta property=og:title content='caf\u00e9 &amp; cr\u00e8me'><meta name=date content></head></html>",
    "<p>no head at all</p>",
    "<svg:meta name='date' content='ns'/><meta xml:lang='x' name='date' content='plain'>",
    "<div>" * 300 + "<time datetime='deep'>t</time>" + "</div>" * 300,
]


@pytest.mark.skipif(blocks._native is None or not hasattr(blocks._native, "metadata_first"), reason="the compiled walk is not built")
@pytest.mark.parametrize("html", _METADATA_PAGES)
def test_compiled_metadata_is_the_python_metadata(html):
    root = blocks.parse(html)
    assert blocks._native.metadata_first(root, metadata._ALL_SELECTORS) is not None
    assert metadata.page_metadata_lxml(root) == metadata.page_metadata_lxml_python(root) == metadata.page_metadata_lxml_reference(root)


# --------------------------------------------------------------------------- the extraction child


# The stand-in extractors (slow_on_marker, echo) are test_extract's: the child imports them by name.


_PAGES = [
    "<html><head><title>One</title><meta property='article:published_time' content='2024-05-01'></head><body>"
    "<nav><a href='/'>Home</a> <a href='/a'>About</a></nav><article><h1>A headline</h1>"
    + "<p>The first paragraph of the article says something long enough to count as text, with words.</p>" * 6
    + "</article><footer>© 2024 Example</footer></body></html>",
    "<html><body>" + "<div>" * 3000 + "<p>deep text that is long enough to be kept by any extractor here</p>" + "</div>" * 3000 + "</body></html>",
    "<html><body><p>Ça coûte très cher, l’été. " * 30 + "</p><ul><li>one</li><li>two</li></ul></body></html>",
    "not html at all, just a line of text",
]


@pytest.mark.parametrize("extractor", ["tamis_learned", "tamis_fast", "tamis"])
def test_forked_and_started_children_answer_the_same(extractor):
    answers = {}
    for start in ("fork", "exec"):
        worker = IsolatedExtractor(extractor, timeout_s=60, start=start)
        try:
            answers[start] = worker.extract_many(_PAGES)
            assert isinstance(worker.proc, _ForkedChild) == (start == "fork")
        finally:
            worker.close()
    assert answers["fork"] == answers["exec"]
    assert all(not isinstance(answer, Exception) for answer in answers["fork"])


@pytest.mark.parametrize("start", ["fork", "exec"])
def test_timeouts_kill_the_child_and_the_batch_goes_on(start):
    worker = IsolatedExtractor("m", timeout_s=1.0, target="test_extract:slow_on_marker", start=start)
    try:
        started = time.monotonic()
        results = worker.extract_many(["a", "SLOW", "bcd", "SLOW again", "ef"])
        # Two 1 CPU-s time-outs (each at most 10 s of wall) and three child starts (each a
        # fresh interpreter with "exec"): a hang would never end, a busy machine takes ~10 s.
        assert time.monotonic() - started < 45
        assert results[0] == "m:1" and results[2] == "m:3" and results[4] == "m:2"
        assert isinstance(results[1], ExtractTimeout) and isinstance(results[3], ExtractTimeout)
        assert worker.restarts == 2
    finally:
        worker.close()


@pytest.mark.parametrize("start", ["fork", "exec"])
def test_large_pages_pass_both_ways_without_blocking(start):
    worker = IsolatedExtractor("m", timeout_s=20.0, target="test_extract:echo", start=start)
    pages = [f"<p>{i}</p>" + "x" * 300_000 for i in range(8)]
    try:
        assert worker.extract_many(pages) == pages
    finally:
        worker.close()


def test_a_forked_child_that_dies_is_replaced_and_a_bad_target_is_a_clear_failure():
    worker = IsolatedExtractor("m", timeout_s=5.0, target="test_extract:echo", start="fork")
    try:
        assert worker.extract("one") == "one"
        os.kill(worker.proc.pid, signal.SIGKILL)
        worker.proc.wait()
        assert worker.extract("two") == "two"
        assert worker.restarts == 1
    finally:
        worker.close()
    broken = IsolatedExtractor("m", timeout_s=5.0, target="test_extract_step_speed:no_such_function", start="fork")
    with pytest.raises(WorkerFailure, match="did not start: AttributeError"):
        broken.extract("page")


def test_fork_only_where_no_other_python_thread_runs():
    baseline = _fork_is_safe()  # True on Linux unless an earlier test left a thread behind
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, name="someone-else")
    other.start()
    try:
        assert not _fork_is_safe()
        worker = IsolatedExtractor("m", timeout_s=5.0, target="test_extract:echo")
        try:
            assert worker.extract("page") == "page"
            assert not isinstance(worker.proc, _ForkedChild)  # started afresh instead
        finally:
            worker.close()
    finally:
        stop.set()
        other.join()
    stop.clear()
    ours = threading.Thread(target=stop.wait, name="tamis-progress-bar")  # tamis's own idle thread
    ours.start()
    try:
        assert _fork_is_safe() == baseline
    finally:
        stop.set()
        ours.join()


def test_frame_reader_takes_queued_small_and_split_large_frames():
    read_fd, write_fd = os.pipe()
    frames = [b"", b"a", b"small answer" * 10, os.urandom(3 << 20), b"after the large one", b"z" * 70_000]
    writer = threading.Thread(target=_write_frames, args=(write_fd, frames))
    writer.start()
    reader = _FrameReader(read_fd)
    try:
        assert [reader.read(PageClock(None, 10)) for _ in frames] == frames
        with pytest.raises(ExtractTimeout):
            reader.read(PageClock(None, 0.05))  # nothing more comes: the deadline holds
        writer.join()
        os.close(write_fd)
        with pytest.raises(WorkerFailure):
            reader.read(PageClock(None, 10))  # the writer is gone
    finally:
        os.close(read_fd)


def test_binary_share_counts_what_its_regex_counts():
    rng = random.Random(16)
    alphabet = [chr(c) for c in range(0x21)] + ["\x7f", "\x85", "\ufffd", "\ufeff", "é", "😀", "\ud800", "a", " "]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
        assert binary_share(text) == binary_share_reference(text), repr(text)
    assert binary_share("\ufffd" * 9000 + "x") == binary_share_reference("\ufffd" * 9000 + "x") == 1.0


def test_read_capped_reads_whole_files_and_stops_past_the_limit(tmp_path):
    for size in (0, 1, 1000, 256 << 10, (256 << 10) + 1, 700_000):
        data = os.urandom(size)
        path = tmp_path / f"f{size}"
        path.write_bytes(data)
        with open(path, "rb") as fh:
            assert read_capped(fh, 1 << 20) == data
        with open(path, "rb") as fh:
            assert read_capped(fh, 600) == data[:600]
        with gzip.open(tmp_path / f"f{size}.gz", "wb") as fh:
            fh.write(data)
        with gzip.open(tmp_path / f"f{size}.gz", "rb") as fh:
            assert read_capped(fh, 300_001) == data[:300_001]


def test_pages_read_as_utf8_reach_the_child_as_the_bytes_read(tmp_path, monkeypatch):
    from tamis.io import htmldecode
    from tamis.io.html import read_html_files
    from tamis.io.readers import InputTask, ReaderOptions

    monkeypatch.setattr(htmldecode, "_utf8_held", {})  # nothing left by other tests' readers
    monkeypatch.setattr(htmldecode, "_utf8_held_bytes", 0)
    pages = {
        "utf8.html": "<p>café – naïve</p>".encode(),  # strict UTF-8, not ASCII: kept
        "ascii.html": b"<p>plain</p>",  # its UTF-8 is a copy of the str's own bytes: not kept
        "bom.html": codecs_bom() + "<p>café</p>".encode(),  # the BOM is not the text's
        "stray.html": "<p>café</p>".encode() + b"\xff",  # one replaced byte: not the text's UTF-8
        "latin.html": '<meta charset="iso-8859-1"><p>caf\xe9</p>'.encode("latin-1"),
    }
    for name, raw in pages.items():
        (tmp_path / name).write_bytes(raw)
    task = InputTask(0, "html", tuple(str(tmp_path / name) for name in pages))
    docs = {os.path.basename(doc.metadata["source"]["path"]): doc for doc in read_html_files(task, ReaderOptions())}
    for name, raw in pages.items():
        text = docs[name].text
        held = htmldecode._utf8_held.get(id(text))
        assert (held is not None and held[0] is text and held[1] == raw) == (name == "utf8.html"), name
        assert htmldecode.utf8_of(text) == text.encode("utf-8")
        assert htmldecode.utf8_of(text) == text.encode("utf-8")  # handed out once, then encoded
    assert not htmldecode._utf8_held
    # A text the reader did not produce (an equal str, or one a step rewrote) is encoded.
    text, _ = htmldecode.decode_html_keeping_utf8(pages["utf8.html"])
    copy = "".join(list(text))
    assert copy is not text and htmldecode.utf8_of(copy) == text.encode("utf-8")
    assert htmldecode.utf8_of(text) == pages["utf8.html"]


def test_held_utf8_is_bounded_oldest_first(monkeypatch):
    from tamis.io import htmldecode

    monkeypatch.setattr(htmldecode, "_utf8_held", {})
    monkeypatch.setattr(htmldecode, "_utf8_held_bytes", 0)
    monkeypatch.setattr(htmldecode, "_UTF8_HELD_LIMIT", 4000)
    texts = [htmldecode.decode_html_keeping_utf8(("é" * 400 + str(i)).encode())[0] for i in range(10)]
    assert htmldecode._utf8_held_bytes <= 4000 and len(htmldecode._utf8_held) == 4000 // 801
    assert htmldecode._utf8_held_bytes == sum(len(body) for _, body in htmldecode._utf8_held.values())
    for text in texts:  # the evicted are encoded, the held handed out: the same bytes either way
        assert htmldecode.utf8_of(text) == text.encode("utf-8")
    assert not htmldecode._utf8_held and htmldecode._utf8_held_bytes == 0


def codecs_bom() -> bytes:
    import codecs

    return codecs.BOM_UTF8


@pytest.mark.skipif(blocks._native is None, reason="tamis._native._blocks is not built")
def test_remembered_hint_bits_are_the_matched_ones():
    """The walk's class/id cache (blocks.c) against the reference's matching: values seen again,
    values that differ only in case or by one letter, more values than the cache has slots (they
    replace each other), values longer than it keeps, attributes in any order and repeated."""
    rng = random.Random(15)
    words = [*blocks.HINT_WORDS, "x", "-", " ", "NAV", "Menu", "é", "1"]

    def value() -> str:
        return "".join(rng.choice(words) for _ in range(rng.choice((1, 2, 3, 8, 40))))

    pool = [value() for _ in range(300)]
    for page in range(12):
        parts = ["<html><body>"]
        for n in range(500):
            cls = rng.choice(pool) if rng.random() < 0.6 else value()
            attrs = [f'class="{cls}"', f'id="{rng.choice(pool)}"', 'style="overflow: hidden"', 'aria-hidden="false"', 'title="t"']
            rng.shuffle(attrs)
            parts.append(f"<div {' '.join(attrs[: rng.randint(0, 5)])}><p>text {n} of page {page}.</p></div>")
        parts.append("</body></html>")
        html = "".join(parts)
        root = blocks.parse(html)
        reference = blocks.PageBlocks.from_blocks(*blocks.segment(blocks.parse(html)))
        compiled = blocks.page_blocks(root)
        assert blocks._native.segment(root.find("body")) is not None
        assert compiled.texts == reference.texts
        assert np.array_equal(compiled.columns, reference.columns)


def _page_of_blocks(rng: random.Random) -> str:
    """Markup with what the features look at: long and short paragraphs, link-heavy lists, tables,
    nesting, a page of few blocks (the 5-block window and the main run at the edges)."""
    words = ["word", "text,", "More", "links", "2024", "end.", "\u4e2d\u6587", "caf\u00e9", "Yes!"]

    def text() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.choice([1, 3, 12, 40])))

    parts = ["<html><body>"]
    for _ in range(rng.randint(1, 40)):
        roll = rng.random()
        if roll < 0.35:
            parts.append(f"<p>{text()}</p>")
        elif roll < 0.5:
            parts.append("<ul class='menu'>" + "".join(f"<li><a href='#'>{text()}</a></li>" for _ in range(rng.randint(1, 6))) + "</ul>")
        elif roll < 0.6:
            parts.append("<table><tr>" + "".join(f"<td>{text()}</td>" for _ in range(rng.randint(1, 4))) + "</tr></table>")
        elif roll < 0.8:
            depth = rng.randint(1, 6)
            parts.append("<div class='content'>" * depth + f"<h2>{text()}</h2><p>{text()} <a href=x>{text()}</a></p>" + "</div>" * depth)
        else:
            parts.append(f"<span>{text()}</span><br>{text()}")
    return "".join(parts) + "</body></html>"


@pytest.mark.skipif(blocks._native_features is None, reason="tamis._native._features is not built")
def test_compiled_features_are_on_for_todays_features():
    assert blocks.COMPILED_FEATURES, (
        "FEATURE_VERSION, FEATURE_NAMES or COLUMNS changed: the features run in numpy (same values, slower) "
        "until tamis/_native/features.c and blocks._COMPILED_FOR / _COMPILED_VERSION follow"
    )


@pytest.mark.skipif(not blocks.COMPILED_FEATURES, reason="tamis._native._features is not built")
def test_compiled_features_are_the_numpy_features_to_the_bit():
    rng = random.Random(15)
    pages = [_page_of_blocks(rng) for _ in range(300)]
    root = Path(__file__).resolve().parents[1]
    aeb = next((p for p in (root.parent / "shared", root.parents[1] / "shared") if p.is_dir()), root.parent / "shared") / "corpus/scrapinghub-aeb/html"
    if aeb.is_dir():
        pages += [gzip.decompress(path.read_bytes()) for path in sorted(aeb.glob("*.html.gz"))[:20]]
    checked = 0
    for html in pages:
        root = blocks.parse(html)
        if root is None:
            continue
        page = blocks.page_blocks(root)
        assert blocks._features_compiled(page).tobytes() == blocks._features(page).tobytes(), html[:300]
        checked += len(page.texts) > 0
    assert checked > 250


@pytest.mark.skipif(not blocks.COMPILED_FEATURES, reason="tamis._native._features is not built")
def test_compiled_features_hand_odd_trees_to_numpy(monkeypatch):
    page = blocks.page_blocks(blocks.parse("<body><div><p>one paragraph of text</p><p>two</p></div><ul><li>three</li></ul></body>"))
    expected = blocks._features(page)
    # An element whose depth skips a level has no parent one level up: the C pass says so and
    # numpy's pass (the reference's own reading of such a tree) decides.
    odd = blocks.PageBlocks(page.texts, page.columns, page.max_depth, page.element_depth * 2, page.element_last)
    assert blocks._features_compiled(odd).tobytes() == blocks._features(odd).tobytes()
    assert blocks._features_compiled(page).tobytes() == expected.tobytes()
    monkeypatch.setattr(blocks, "COMPILED_FEATURES", False)  # a feature list the C pass was not written for
    assert blocks._features_compiled(page).tobytes() == expected.tobytes()


@pytest.mark.skipif(not _fork_is_safe(), reason="the child is not forked here")
def test_the_first_fork_freezes_the_parents_objects_once(monkeypatch):
    """What the step's process holds before its first fork goes to the collector's permanent
    generation (so neither its collections nor the one at exit walk the extractor's modules), once."""
    from tamis.steps import extract_worker

    frozen = []
    monkeypatch.setattr(extract_worker, "_frozen", False)
    monkeypatch.setattr(extract_worker.gc, "freeze", lambda: frozen.append(os.getpid()))
    worker = IsolatedExtractor("tamis_learned", 30.0, start="fork")
    try:
        assert "one paragraph" in worker.extract("<html><body><p>one paragraph of text</p></body></html>")["text"]
        worker.close()  # the next page starts a second child
        assert "two" in worker.extract("<html><body><p>two paragraphs</p></body></html>")["text"]
    finally:
        worker.close()
    assert frozen == [os.getpid()]  # this process, once (each child freezes in its own memory)


def test_blank_html_files_are_empty_rejects_and_others_pages(tmp_path):
    """The reader's emptiness test (no copy of the page) says what ``not text.strip()`` says."""
    from tamis.io.html import read_html_files
    from tamis.io.readers import BadRecord, InputTask, ReaderOptions

    pages = {"blank.html": b" \n\t\r\n", "nbsp.html": "\u00a0\u3000 \u2028".encode(), "zero.html": b"", "dot.html": b" . ", "zwsp.html": "\u200b".encode()}
    for name, raw in pages.items():
        (tmp_path / name).write_bytes(raw)
    task = InputTask(0, "html", tuple(str(tmp_path / name) for name in pages))
    empty = {}
    for item in read_html_files(task, ReaderOptions()):
        if isinstance(item, BadRecord):
            empty[os.path.basename(item.error.path)] = item.error.reason
    assert empty == {"blank.html": "reader:empty", "nbsp.html": "reader:empty", "zero.html": "reader:empty"}
