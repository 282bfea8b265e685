"""A page as a list of text blocks with general features, for the learned block classifier.

A *block* is the text between two block-level boundaries of the DOM (the start or end of ``p``,
``div``, ``li``, ``h1``-``h6``, ``td`` ...), the unit boilerplate removers such as boilerpipe,
dragnet and web2text classify. Each block carries what the page's structure says about it: its
length and words, how much of it is link text, punctuation, the tag that holds it and the landmark
elements above it (``nav``, ``aside``, ``footer``, ``header``, ``form``, ``article``, ``main`` ...),
a fixed, generic vocabulary of class/id words (``nav``, ``menu``, ``comment``, ``share``,
``article``, ``content`` ...: the words every CMS uses, none taken from the evaluation pages), its
depth, its position, its neighbours, and whether it lies inside the element that holds most of the
page's long, link-poor text (Readability's idea, as a feature rather than a rule).

The DOM is lxml's (libxml2, C). resiliparse's lexbor tree parses as fast, but walking it from
Python costs 10-80 us a node (measured: 14-107 ms for a page of 1,300 nodes), while lxml's
``iterwalk`` visits a node in about 2 us. The walk is one pass over start/end events: linear in
the page, no recursion (so no depth limit of its own), and every text operation is a C-level
string method.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from lxml import etree

# Elements that start and end a block. Inline elements (a, span, b, em ...) stay inside one.
# <br> too: one line per line the reader sees.
BLOCK_TAGS = frozenset((
    "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr", "table", "thead", "tbody", "tfoot", "caption",
    "section", "article", "main", "header", "footer", "nav", "aside", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre",
    "form", "figure", "figcaption", "address", "body", "center", "details", "summary", "fieldset", "legend", "hr", "br",
    "menu", "dialog", "label", "option",
))  # fmt: skip
# Elements whose text is never page text (scripts, styles, embedded documents, controls; ruby
# annotations: the readings set over East Asian characters and their fallback parentheses,
# which read inline would interleave every word with its pronunciation; trafilatura drops them too).
SKIP_TAGS = (
    "script", "style", "template", "svg", "math", "iframe", "object", "embed", "noscript", "select", "textarea", "button", "head",
    "rt", "rp",
)  # fmt: skip

# The tag of the element holding the block, one-hot.
OWN_TAGS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "div", "blockquote", "pre", "dd", "dt", "figcaption", "caption", "span")
# Landmark and structure elements above the block, one bit each.
ANCESTOR_TAGS = (
    "nav", "aside", "footer", "header", "form", "article", "main", "li", "table", "ul", "ol", "figure", "section",
    "blockquote", "a", "label", "menu", "dialog",
)  # fmt: skip
# Generic class/id words (substring match on the lower-cased attribute). Two groups of bits: in
# the block's own element chain up to its block element, and anywhere above it.
HINT_WORDS = (
    "nav", "menu", "footer", "header", "sidebar", "side", "widget", "comment", "reply", "cookie", "consent", "share",
    "social", "related", "recommend", "breadcrumb", "ad", "promo", "sponsor", "banner", "popup", "modal", "newsletter",
    "subscribe", "login", "signup", "search", "tag", "categor", "meta", "byline", "author", "date", "time", "caption",
    "credit", "copyright", "legal", "hidden", "teaser", "card", "list", "more", "title", "article", "content", "post",
    "entry", "body", "text", "main", "story", "paragraph", "blog", "page", "column", "wrap", "container", "inner",
)  # fmt: skip
_HINT_RE = re.compile("|".join(sorted(HINT_WORDS, key=len, reverse=True)))
_HINT_INDEX = {word: i for i, word in enumerate(HINT_WORDS)}

# A "long" block: a paragraph rather than a label, button or byline (as in the fast path).
LONG_CHARS = 60
LONG_LINK_DENSITY = 0.3
# The main container: the deepest element holding at least this share of the page's long text.
MAIN_SHARE = 0.75
# libxml2 stops nesting elements at 256 levels (deeper content is flattened or dropped); a page
# this deep goes to the lexbor fast path, which parses any depth.
DEEP = 250

_SENTENCE_END_RE = re.compile(r"[.!?。！？…:»\"”)]\s*$")
_PUNCT_RE = re.compile(r"[.,;:!?。，、；：！？]")
_DIGIT_RE = re.compile(r"\d")
_WORD_RE = re.compile(r"\w+")

# lxml.etree's parser rather than lxml.html's: lxml.html looks up a Python element class for every
# element the walk touches (a fifth of the walk's time). The page goes in as UTF-8 bytes: libxml2
# reads a Python str through a slower path (5.8 against 2.0 ms a page on trafilatura-eval) and
# refuses a str that carries an XML encoding declaration.
# collect_ids=False: libxml2 keeps no table of the page's id attributes (nothing here looks an
# element up by id; the tree is the same), 3-5 % of the parse.
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True, default_doctype=False, encoding="utf-8", collect_ids=False)


@dataclass
class Block:
    text: str
    tag: str  # the innermost block element holding the text
    link_chars: int
    depth: int
    ancestors: int  # bit i: ANCESTOR_TAGS[i] above the text
    hints_own: int  # bit i: HINT_WORDS[i] in the class/id of the elements from the block element down
    hints_above: int  # bit i: HINT_WORDS[i] in the class/id of an element above the block element
    element: int  # pre-order id of the innermost element holding the text (see Elements)
    group: int  # id of the block element above the block's own (its siblings share it)


def parse(html: str | bytes):
    """lxml's tree of ``html`` (a str, or its UTF-8 bytes); None when libxml2 finds no document in it."""
    try:
        return etree.fromstring(html if isinstance(html, bytes) else html.encode("utf-8", "surrogatepass"), parser=_PARSER)
    except (etree.ParserError, ValueError, etree.XMLSyntaxError):
        return None


_hint_cache: dict[str, int] = {}


def _hint_bits(value: str) -> int:
    """HINT_WORDS bits of a class or id value (cached: a page repeats its class names)."""
    bits = _hint_cache.get(value)
    if bits is None:
        bits = 0
        for word in _HINT_RE.findall(value.lower()):
            bits |= 1 << _HINT_INDEX[word]
        if len(_hint_cache) < 100_000:
            _hint_cache[value] = bits
    return bits


# Elements the page hides (their text is not shown to a reader), found by libxml2's XPath in C.
_HIDDEN_XPATH = etree.XPath("//*[@hidden or @aria-hidden='true' or contains(@style, 'none') or contains(@style, 'hidden')]")
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_ANCESTOR_BIT = {tag: 1 << i for i, tag in enumerate(ANCESTOR_TAGS)}


def remove_keeping_tail(element) -> None:
    """Remove ``element`` and its subtree; the text after it (its tail) stays where it was."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def is_hidden(element) -> bool:
    """Whether the page hides ``element``: ``hidden``, ``aria-hidden="true"``, or a style of
    ``display: none`` / ``visibility: hidden`` (the literal tests first, as _HIDDEN_XPATH's)."""
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    style = element.get("style")
    return style is not None and ("none" in style or "hidden" in style) and _HIDDEN_STYLE_RE.search(style) is not None


def _drop_hidden(body) -> None:
    for element in _HIDDEN_XPATH(body):
        if element is not body and is_hidden(element):
            remove_keeping_tail(element)  # the text after a hidden element is shown: keep it


@dataclass
class Elements:
    """The page's elements by pre-order id: depth and the last id inside each (its subtree is the
    id range [id, last]), for the main-container feature."""

    depth: list[int] = field(default_factory=lambda: [0])
    last: list[int] = field(default_factory=lambda: [0])


def segment(root) -> tuple[list[Block], int, Elements]:
    """The page's blocks in document order, the deepest nesting seen, and its elements."""
    body = root.find("body")
    if body is None:
        body = root
    etree.strip_elements(body, *SKIP_TAGS, with_tail=False)
    _drop_hidden(body)
    blocks: list[Block] = []
    parts: list[str] = []
    has_text = False  # whether parts holds more than whitespace
    link_chars = 0
    # One entry per open element: (id, ancestor-tag bits, class/id bits above the innermost block
    # element, class/id bits from it down).
    stack: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)]
    block_stack: list[tuple[int, str]] = [(0, "body")]
    elements = Elements()
    depths, lasts = elements.depth, elements.last
    in_link = 0
    ancestor_bit = _ANCESTOR_BIT
    block_tags = BLOCK_TAGS

    def flush() -> None:
        nonlocal link_chars, has_text
        text = " ".join("".join(parts).split())
        parts.clear()
        has_text = False
        links = link_chars
        link_chars = 0
        top = stack[-1]
        group = block_stack[-2][0] if len(block_stack) > 1 else 0
        blocks.append(Block(text, block_stack[-1][1], min(links, len(text)), len(stack) - 1, top[1], top[3], top[2], top[0], group))

    for event, element in etree.iterwalk(body, events=("start", "end")):
        tag = element.tag
        if event == "start":
            is_block = tag in block_tags
            if is_block and parts:
                if has_text:
                    flush()
                else:
                    parts.clear()
            top = stack[-1]
            bits = 0
            value = element.get("class")
            if value:
                bits = _hint_bits(value)
            value = element.get("id")
            if value:
                bits |= _hint_bits(value)
            number = len(depths)
            depths.append(len(stack))
            lasts.append(number)
            if is_block:
                stack.append((number, top[1] | ancestor_bit.get(tag, 0), top[2] | top[3], bits))
                block_stack.append((number, tag))
            else:
                stack.append((number, top[1] | ancestor_bit.get(tag, 0), top[2], top[3] | bits))
            if tag == "a":
                in_link += 1
            text = element.text
            if text:
                parts.append(text)
                if not has_text and not text.isspace():
                    has_text = True
                if in_link:
                    link_chars += len(text.strip())
        else:
            if tag in block_tags:
                if has_text:
                    flush()
                elif parts:
                    parts.clear()
                block_stack.pop()
            elif tag == "a":
                in_link -= 1
            number = stack.pop()[0]
            lasts[number] = len(depths) - 1
            tail = element.tail
            if tail:
                parts.append(tail)
                if not has_text and not tail.isspace():
                    has_text = True
                if in_link:
                    link_chars += len(tail.strip())
    if has_text:
        flush()
    lasts[0] = len(depths) - 1
    return blocks, max(depths), elements


# --------------------------------------------------------------------------- features

_TAG_INDEX = {tag: i for i, tag in enumerate(OWN_TAGS)}
N_OWN = len(OWN_TAGS) + 1  # + "other"
FEATURE_NAMES: list[str] = (
    ["log_chars", "log_words", "link_density", "punct_per_word", "sentence_end", "digit_share", "mean_word_len", "upper_start",
     "depth_rel"]
    + [f"tag={t}" for t in OWN_TAGS] + ["tag=other"]
    + [f"in={t}" for t in ANCESTOR_TAGS]
    + [f"own~{w}" for w in HINT_WORDS]
    + [f"above~{w}" for w in HINT_WORDS]
    + ["position", "char_position", "in_main", "main_depth_gap", "long", "group_log_chars", "group_long_share",
       "group_link_density", "window_long", "window_link_density", "share_of_page", "log_page_chars",
       "after_first_long", "before_last_long", "dist_long_rel"]
    + [f"prev_{n}" for n in ("log_chars", "link_density", "sentence_end", "long")]
    + [f"next_{n}" for n in ("log_chars", "link_density", "sentence_end", "long")]
    # feature version 2: where the block stands against the page's main run of text, and the
    # container around its own (repeated containers = a list of teasers, cards, links)
    # (measured and dropped by cross-validation: the run's share of the page, the characters between
    # a block and the run, the long text after a block, a group's mean block length, the parent's
    # characters and long-text share: values that tell one page from another let the trees learn
    # the training pages, and cost the development halves' CV ~0.01 F1 on scrapinghub-aeb)
    # (session 12, measured and dropped: a block's look-alikes, the page's blocks of the same tag,
    # depth, landmark bits and class/id words: how many block elements hold them (capped at 20),
    # their link density, long-text share and share inside the main run. Out-of-fold F1 on the
    # development halves, keep 0.3, tail 8, trafilatura-eval / scrapinghub-aeb / wceb2026: without
    # 0.9309 / 0.9638 / 0.7582; all four 0.9254 / 0.9621 / 0.7588; the count alone 0.9263 / 0.9602
    # / 0.7613; count and link density 0.9224 / 0.9653 / 0.7609: every variant lowers
    # trafilatura-eval's CV by 0.005-0.009, bench/train_extract_model.py --without)
    # (session 15, measured and dropped, for the captions, appeals and related-link lines kept
    # inside AEB's articles: the block against the main run's own containers, as a version 3
    # written in numpy, the reference and features.c (commit d8b1d83): the share of the run's long
    # text held by the block's group and by its group's parent (a caption's figure or an appeal's
    # box holds none), its place in the run, its length over the run's median long block, the
    # headings between it and the run. 5-fold out-of-fold F1 of the development halves, shipped
    # training (gold 1, Readability negatives 0.3, 300 trees of depth 5, tail 8, drop_repeated),
    # keep 0.25 / 0.3, teval / AEB / wceb2026: without 0.9302 / 0.9628 / 0.7640, 0.9309 / 0.9646 /
    # 0.7617; all five 0.9263 / 0.9590 / 0.7576, 0.9288 / 0.9598 / 0.7547; the two shares alone
    # 0.9307 / 0.9661 / 0.7588, 0.9301 / 0.9654 / 0.7552: AEB +0.0015 at best for wceb2026 -0.003;
    # the group's share alone 0.9270 / 0.9653 / 0.7618, 0.9290 / 0.9648 / 0.7577)
    # (session 17, measured and not yet taken, computed beside the cached blocks from the same
    # element ids: whether the block's container (its group's element) holds an img, picture or
    # video, and how many blocks away the nearest one stands (capped at 10); the same for a form
    # control (input, or an element that held a button, select or textarea: appeals, sign-ups).
    # Out-of-fold margins over trafilatura with the shipped router, development halves, shipped
    # training, teval / AEB / wceb2026: without +0.0094 / +0.0072 / -0.0037; the two img features
    # +0.0069 / +0.0067 / -0.0054; the two control features +0.0072 / +0.0098 / -0.0009 (the best
    # smallest margin, but teval pays 0.0022), the container flag alone +0.0103 / +0.0051 / -0.0011
    # (AEB pays 0.0021: no variant raises all three); held-out halves (report only, a model trained on
    # every development page, trafilatura 0.9312 / 0.9610 / 0.7675): shipped 0.9380 / 0.9577 /
    # 0.7591, with the control features 0.9363 / 0.9576 / 0.7649. By sklearn's documentation the
    # seed acts only on binning samples above 200k rows and on max_features < 1, neither of which
    # applies (~18k training blocks a fold, every feature), so these do not move by seed; they move
    # by page: 78 AEB development pages)
    + ["run_before", "run_after", "run_distance", "group_log_blocks", "parent_log_groups", "parent_link_density"]
)  # fmt: skip
# Bumped with every change to FEATURE_NAMES or to a feature's definition (a model stores the names
# it was trained on; learned.load_forest refuses one trained on other features).
FEATURE_VERSION = 2


_CLASS_TABLE: np.ndarray | None = None
_WORD, _PUNCT, _DIGIT = 1, 2, 4
_PUNCTUATION = set(".,;:!?。，、；：！？")
_SENTENCE_ENDS = set('.!?。！？…:»"”)')


def _class_table() -> np.ndarray:
    """Character classes of the Basic Multilingual Plane (word, punctuation, digit), built once."""
    global _CLASS_TABLE
    if _CLASS_TABLE is None:
        table = np.zeros(0x10000, dtype=np.uint8)
        for code in range(0x10000):
            char = chr(code)
            if char.isalnum() or char == "_":
                table[code] = _WORD | (_DIGIT if char.isdigit() else 0)
            elif char in _PUNCTUATION:
                table[code] = _PUNCT
        _CLASS_TABLE = table
    return _CLASS_TABLE


def _text_counts(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Words, punctuation marks and digits of each text, counted over all of them at once in numpy."""
    joined = "\n".join(texts)
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    classes = _class_table()[np.minimum(codes, 0xFFFF)]
    classes[codes > 0xFFFF] = _WORD  # astral planes: CJK extensions, emoji ... (counted as word characters)
    is_word = (classes & _WORD) > 0
    starts = is_word.copy()
    starts[1:] &= ~is_word[:-1]
    offsets = np.zeros(len(texts), dtype=np.int64)
    offsets[1:] = np.cumsum([len(text) + 1 for text in texts[:-1]])
    words = np.add.reduceat(starts.astype(np.int64), offsets)
    punct = np.add.reduceat((classes & _PUNCT > 0).astype(np.int64), offsets)
    digits = np.add.reduceat((classes & _DIGIT > 0).astype(np.int64), offsets)
    return words, punct, digits


# The per-block values features() starts from, one int64 column each (the compiled walk's rows).
COLUMNS = ("tag", "link_chars", "depth", "ancestors", "hints_own", "hints_above", "element", "group", "length", "words",
           "punct", "digits", "upper_start", "sentence_end")  # fmt: skip
(_C_TAG, _C_LINK_CHARS, _C_DEPTH, _C_ANCESTORS, _C_HINTS_OWN, _C_HINTS_ABOVE, _C_ELEMENT, _C_GROUP, _C_LENGTH, _C_WORDS,
 _C_PUNCT, _C_DIGITS, _C_UPPER_START, _C_SENTENCE_END) = range(len(COLUMNS))  # fmt: skip


@dataclass
class PageBlocks:
    """A page's blocks as columns: what :func:`features` needs, from either walk."""

    texts: list[str]
    columns: np.ndarray  # int64, (blocks, len(COLUMNS))
    max_depth: int
    element_depth: np.ndarray  # int64, per pre-order element id
    element_last: np.ndarray  # int64, the last id inside each element

    @classmethod
    def from_blocks(cls, blocks: list[Block], max_depth: int, elements: Elements) -> PageBlocks:
        """The reference: the columns of :func:`segment`'s blocks, text counts in numpy."""
        texts = [b.text for b in blocks]
        columns = np.zeros((len(blocks), len(COLUMNS)), dtype=np.int64)
        if blocks:
            words, punct, digits = _text_counts(texts)
            columns[:, _C_TAG] = [_TAG_INDEX.get(b.tag, N_OWN - 1) for b in blocks]
            for column, name in ((_C_LINK_CHARS, "link_chars"), (_C_DEPTH, "depth"), (_C_ANCESTORS, "ancestors"), (_C_HINTS_OWN, "hints_own"),
                                 (_C_HINTS_ABOVE, "hints_above"), (_C_ELEMENT, "element"), (_C_GROUP, "group")):  # fmt: skip
                columns[:, column] = [getattr(b, name) for b in blocks]
            columns[:, _C_LENGTH] = [len(t) for t in texts]
            columns[:, _C_WORDS] = words
            columns[:, _C_PUNCT] = punct
            columns[:, _C_DIGITS] = digits
            columns[:, _C_UPPER_START] = [t[0].isupper() for t in texts]
            columns[:, _C_SENTENCE_END] = [t[-1] in _SENTENCE_ENDS for t in texts]
        return cls(texts, columns, max_depth, np.array(elements.depth, dtype=np.int64), np.array(elements.last, dtype=np.int64))

    def features(self) -> np.ndarray:
        return _features_compiled(self)

    def lengths(self) -> np.ndarray:
        """Each block's text length in characters (float64)."""
        return self.columns[:, _C_LENGTH].astype(np.float64)

    def tags(self) -> np.ndarray:
        """Each block's own tag, as an OWN_TAGS index (N_OWN - 1: another tag)."""
        return self.columns[:, _C_TAG]

    def groups(self) -> np.ndarray:
        """Each block's container: the id of the element its siblings share (blocks of one list,
        one box or one column of paragraphs have the same)."""
        return self.columns[:, _C_GROUP]


def page_blocks(root) -> PageBlocks:
    """The page's blocks: the compiled walk where it is built and can decide, else the reference
    (:func:`segment`); both give the same texts and columns (tests/test_extract_blocks_native.py)."""
    if _native is not None:
        body = root.find("body")
        if body is None:
            body = root
        found = _native.segment(body)
        if found is not None:
            texts, columns, depth, last, max_depth = found
            return PageBlocks(
                texts, np.frombuffer(columns, dtype=np.int64).reshape(len(texts), len(COLUMNS)), max_depth,
                np.frombuffer(depth, dtype=np.int64), np.frombuffer(last, dtype=np.int64),
            )  # fmt: skip
    return PageBlocks.from_blocks(*segment(root))


def features(blocks: list[Block], max_depth: int, elements: Elements) -> np.ndarray:
    """One row of FEATURE_NAMES per block (float32), from :func:`segment`'s blocks."""
    return _features(PageBlocks.from_blocks(blocks, max_depth, elements))


# Where each group of FEATURE_NAMES starts: the rows are written column by column into one
# float32 array (a float64 value stored into float32 rounds as the reference's final astype did).
N_LOCAL = 9
_OWN_AT = N_LOCAL
_ANC_AT = _OWN_AT + N_OWN
_HOWN_AT = _ANC_AT + len(ANCESTOR_TAGS)
_HABOVE_AT = _HOWN_AT + len(HINT_WORDS)
_PAGE_AT = _HABOVE_AT + len(HINT_WORDS)
_PREV_AT = _PAGE_AT + 15
_NEXT_AT = _PREV_AT + 4
_STRUCTURE_AT = _NEXT_AT + 4
_SHIFT_ANC = np.arange(len(ANCESTOR_TAGS), dtype=np.int64)
_SHIFT_HINT = np.arange(len(HINT_WORDS), dtype=np.int64)


def _features(page: PageBlocks) -> np.ndarray:
    """FEATURE_NAMES for each block, written into one float32 array (no stacking of float64 columns)."""
    columns = page.columns
    n = len(columns)
    out = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    if n == 0:
        return out
    max_depth = page.max_depth
    lengths = columns[:, _C_LENGTH].astype(np.float64)
    links = columns[:, _C_LINK_CHARS].astype(np.float64)
    words = np.maximum(columns[:, _C_WORDS], 1)
    depth = columns[:, _C_DEPTH]
    log_chars = np.log1p(lengths)
    link_density = links / lengths
    sentence_end = columns[:, _C_SENTENCE_END]
    out[:, 0] = log_chars
    out[:, 1] = np.log1p(words)
    out[:, 2] = link_density
    out[:, 3] = columns[:, _C_PUNCT] / words
    out[:, 4] = sentence_end
    out[:, 5] = columns[:, _C_DIGITS] / lengths
    out[:, 6] = np.minimum(lengths / words, 20.0)
    out[:, 7] = columns[:, _C_UPPER_START]
    out[:, 8] = depth / max(max_depth, 1)
    index = np.arange(n)
    out[index, _OWN_AT + columns[:, _C_TAG]] = 1.0
    out[:, _ANC_AT:_HOWN_AT] = (columns[:, _C_ANCESTORS, None] >> _SHIFT_ANC) & 1
    out[:, _HOWN_AT:_HABOVE_AT] = (columns[:, _C_HINTS_OWN, None] >> _SHIFT_HINT) & 1
    out[:, _HABOVE_AT:_PAGE_AT] = (columns[:, _C_HINTS_ABOVE, None] >> _SHIFT_HINT) & 1

    long = (lengths >= LONG_CHARS) & (links <= LONG_LINK_DENSITY * lengths)
    total = lengths.sum()
    long_chars = lengths * long
    block_element = columns[:, _C_ELEMENT]
    order = np.argsort(block_element, kind="stable")
    sorted_ids = block_element[order]
    cumulative_long = np.concatenate([[0.0], np.cumsum(long_chars[order])])
    last_id = page.element_last
    first_id = np.arange(len(last_id))
    held = cumulative_long[np.searchsorted(sorted_ids, last_id, "right")] - cumulative_long[np.searchsorted(sorted_ids, first_id, "left")]
    element_depth = page.element_depth
    long_total = long_chars.sum()
    holding = np.flatnonzero(held >= MAIN_SHARE * long_total) if long_total else np.zeros(0, dtype=np.int64)
    p = _PAGE_AT
    if len(holding):
        main = holding[np.argmax(element_depth[holding])]
        main_depth = element_depth[main]
        inside = (block_element >= main) & (block_element <= last_id[main])
        out[:, p + 2] = inside
        out[:, p + 3] = np.where(inside, (depth - main_depth) / max(max_depth, 1), -1.0)
    else:
        out[:, p + 3] = -1.0
    group_ids, group = np.unique(columns[:, _C_GROUP], return_inverse=True)
    g_chars = np.bincount(group, weights=lengths)[group]
    out[:, p + 5] = np.log1p(g_chars)
    out[:, p + 6] = np.bincount(group, weights=long_chars)[group] / g_chars
    out[:, p + 7] = np.bincount(group, weights=links)[group] / g_chars
    ones = np.ones(5)
    window_chars = np.convolve(lengths, ones)[2 : n + 2]
    out[:, p + 8] = np.convolve(long_chars, ones)[2 : n + 2] / window_chars
    out[:, p + 9] = np.convolve(links, ones)[2 : n + 2] / window_chars
    positions = np.flatnonzero(long)
    if len(positions):
        first, last = positions[0], positions[-1]
        after = np.searchsorted(positions, index).clip(0, len(positions) - 1)
        before = (after - 1).clip(0)
        nearest = np.minimum(np.abs(positions[after] - index), np.abs(index - positions[before]))
    else:
        first, last, nearest = n, -1, np.full(n, n)
    out[:, p] = index / max(n - 1, 1)
    out[:, p + 1] = (np.cumsum(lengths) - lengths) / total
    out[:, p + 4] = long
    out[:, p + 10] = lengths / total
    out[:, p + 11] = np.log1p(total)
    out[first:, p + 12] = 1.0
    out[: last + 1, p + 13] = 1.0
    out[:, p + 14] = np.minimum(nearest, 20) / 20
    # neighbours: log_chars, link_density, sentence_end, long of the block before / after
    out[1:, _PREV_AT] = out[:-1, 0]
    out[1:, _PREV_AT + 1] = out[:-1, 2]
    out[1:, _PREV_AT + 2] = out[:-1, 4]
    out[1:, _PREV_AT + 3] = out[:-1, p + 4]
    out[:-1, _NEXT_AT] = out[1:, 0]
    out[:-1, _NEXT_AT + 1] = out[1:, 2]
    out[:-1, _NEXT_AT + 2] = out[1:, 4]
    out[:-1, _NEXT_AT + 3] = out[1:, p + 4]
    _structure_features(out, lengths, links, long, group_ids, page.element_depth, group)
    return out


# The main run: the stretch of consecutive blocks with the largest sum of RUN_SCORE (Kadane's
# maximum subarray): a long, link-poor block adds its characters less RUN_LINK_PENALTY times its
# link characters, any other block subtracts its characters. Everything counted is a whole number,
# so the sums are exact in float64 whatever the order of the additions.
RUN_LINK_PENALTY = 2
RUN_DISTANCE_CAP = 50


def run_scores(lengths: np.ndarray, links: np.ndarray, long: np.ndarray) -> np.ndarray:
    return np.where(long, lengths - RUN_LINK_PENALTY * links, -lengths)


def main_run(scores: np.ndarray) -> tuple[int, int]:
    """[start, end) of the maximum-sum stretch: the first end with the largest sum, the latest
    start reaching it; (0, 0) when no block scores above zero."""
    prefix = np.concatenate([[0.0], np.cumsum(scores)])
    lowest = np.minimum.accumulate(prefix[:-1])  # lowest[j-1] = min(prefix[:j])
    gain = prefix[1:] - lowest
    end = int(np.argmax(gain)) + 1
    if gain[end - 1] <= 0:
        return 0, 0
    before = prefix[:end]
    start = int(len(before) - 1 - np.argmin(before[::-1]))
    return start, end


def _structure_features(out, lengths, links, long, group_ids, element_depth, group) -> None:
    """Feature version 2 (the _STRUCTURE_AT columns); see features_reference for the plain definition."""
    at = _STRUCTURE_AT
    index = np.arange(len(lengths))
    start, end = main_run(run_scores(lengths, links, long))
    if end > start:
        before = index < start
        after = index >= end
        out[:, at] = before
        out[:, at + 1] = after
        distance = np.where(before, start - index, np.where(after, index - end + 1, 0))
        out[:, at + 2] = np.minimum(distance, RUN_DISTANCE_CAP) / RUN_DISTANCE_CAP
    out[:, at + 3] = np.log1p(np.bincount(group)[group])
    # the parent of each group's element: the latest element before it one level up (pre-order)
    count = len(element_depth)
    keys = element_depth * count + np.arange(count)
    order = np.argsort(element_depth.astype(np.int16), kind="stable")  # by depth, then id (a radix sort)
    wanted = (element_depth[group_ids] - 1) * count + group_ids
    parents = np.where(group_ids > 0, order[np.searchsorted(keys[order], wanted) - 1], 0)
    _, parent_of_group = np.unique(parents, return_inverse=True)
    parent = parent_of_group[group]
    out[:, at + 4] = np.log1p(np.bincount(parent_of_group)[parent])
    out[:, at + 5] = np.bincount(parent, weights=links)[parent] / np.bincount(parent, weights=lengths)[parent]


try:  # the features in one compiled pass (pip install builds it); without it, numpy's
    from tamis._native import _features as _native_features
except ImportError:  # pragma: no cover - a source checkout without the build
    _native_features = None

# What tamis/_native/features.c computes, column by column: it is used only while FEATURE_VERSION,
# FEATURE_NAMES and COLUMNS are these (a change to any runs :func:`_features` until the C follows;
# tests/test_extract_step_speed.py compares the two on real pages and says when the C is off).
_COMPILED_FOR = (
    ("log_chars", "log_words", "link_density", "punct_per_word", "sentence_end", "digit_share", "mean_word_len", "upper_start", "depth_rel"),
    ("position", "char_position", "in_main", "main_depth_gap", "long", "group_log_chars", "group_long_share", "group_link_density",
     "window_long", "window_link_density", "share_of_page", "log_page_chars", "after_first_long", "before_last_long", "dist_long_rel",
     "prev_log_chars", "prev_link_density", "prev_sentence_end", "prev_long", "next_log_chars", "next_link_density",
     "next_sentence_end", "next_long", "run_before", "run_after", "run_distance", "group_log_blocks", "parent_log_groups",
     "parent_link_density"),
    ("tag", "link_chars", "depth", "ancestors", "hints_own", "hints_above", "element", "group", "length", "words", "punct", "digits",
     "upper_start", "sentence_end"),
)  # fmt: skip
_COMPILED_VERSION = 2  # the FEATURE_VERSION features.c computes
COMPILED_FEATURES = (
    _native_features is not None
    and FEATURE_VERSION == _COMPILED_VERSION
    and (tuple(FEATURE_NAMES[:N_LOCAL]), tuple(FEATURE_NAMES[_PAGE_AT:]), COLUMNS) == _COMPILED_FOR
    and len(FEATURE_NAMES) == _STRUCTURE_AT + 6
)
_LAYOUT = (_OWN_AT, N_OWN, _ANC_AT, len(ANCESTOR_TAGS), _HOWN_AT, _HABOVE_AT, len(HINT_WORDS), _PAGE_AT, _STRUCTURE_AT)
# The columns whose values are log1p of what the C pass writes to its `logs` rows, in that order.
_LOG_COLUMNS = [0, 1, _PAGE_AT + 5, _STRUCTURE_AT + 3, _STRUCTURE_AT + 4]
_NEIGHBOUR_SOURCES = [0, 2, 4, _PAGE_AT + 4]  # log_chars, link_density, sentence_end, long


def _features_compiled(page: PageBlocks) -> np.ndarray:
    """:func:`_features`'s array, to the bit, from one C pass (0.05 against 0.6-0.9 ms a page):
    the C code writes every column but the log1p ones, whose inputs numpy's log1p turns into the
    same values as in :func:`_features`, and the neighbour columns, copied here as there."""
    columns = page.columns
    n = len(columns)
    if not COMPILED_FEATURES or n == 0:
        return _features(page)
    out = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    logs = np.empty((len(_LOG_COLUMNS), n), dtype=np.float64)
    done = _native_features.page_features(
        np.ascontiguousarray(columns, dtype=np.int64), np.ascontiguousarray(page.element_depth, dtype=np.int64),
        np.ascontiguousarray(page.element_last, dtype=np.int64), int(page.max_depth), _LAYOUT, out, logs,
    )  # fmt: skip
    if not done:
        return _features(page)  # ids or depths the C pass does not reproduce: the numpy pass decides
    with np.errstate(all="ignore"):
        out[:, _LOG_COLUMNS] = np.log1p(logs).T
        out[:, _PAGE_AT + 11] = np.log1p(columns[:, _C_LENGTH].astype(np.float64).sum())
    out[1:, _PREV_AT : _PREV_AT + 4] = out[:-1, _NEIGHBOUR_SOURCES]
    out[:-1, _NEXT_AT : _NEXT_AT + 4] = out[1:, _NEIGHBOUR_SOURCES]
    return out


# --------------------------------------------------------------------------- reference


def _bits_reference(values: list[int], count: int) -> np.ndarray:
    array = np.array(values, dtype=np.uint64)
    return ((array[:, None] >> np.arange(count, dtype=np.uint64)) & np.uint64(1)).astype(np.float32)


def features_reference(blocks: list[Block], max_depth: int, elements: Elements) -> np.ndarray:
    """The plain definition of every feature, as first written (numpy columns stacked, per-block
    Python loops): what :func:`features` and the compiled walk are tested against."""
    n = len(blocks)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    texts = [b.text for b in blocks]
    lengths = np.array([len(t) for t in texts], dtype=np.float64)
    links = np.array([b.link_chars for b in blocks], dtype=np.float64)
    words, punct, digits = _text_counts(texts)
    words = np.maximum(words, 1)
    sentence_end = np.array([1.0 if t[-1] in _SENTENCE_ENDS else 0.0 for t in texts])
    local = np.column_stack(
        [np.log1p(lengths), np.log1p(words), links / lengths, punct / words, sentence_end, digits / lengths,
         np.minimum(lengths / words, 20.0), np.array([1.0 if t[0].isupper() else 0.0 for t in texts]),
         np.array([b.depth for b in blocks]) / max(max_depth, 1)]
    )  # fmt: skip
    long = (lengths >= LONG_CHARS) & (links <= LONG_LINK_DENSITY * lengths)
    total = lengths.sum()
    long_chars = lengths * long

    # Main container: the deepest element whose subtree holds MAIN_SHARE of the long text. An
    # element's subtree is the id range [id, last]; blocks are summed over it with prefix sums.
    block_element = np.array([b.element for b in blocks], dtype=np.int64)
    order = np.argsort(block_element, kind="stable")
    sorted_ids = block_element[order]
    cumulative_long = np.concatenate([[0.0], np.cumsum(long_chars[order])])
    first_id = np.arange(len(elements.depth))
    last_id = np.array(elements.last, dtype=np.int64)
    held = cumulative_long[np.searchsorted(sorted_ids, last_id, "right")] - cumulative_long[np.searchsorted(sorted_ids, first_id, "left")]
    element_depth = np.array(elements.depth, dtype=np.int64)
    holding = np.flatnonzero(held >= MAIN_SHARE * long_chars.sum()) if long_chars.sum() else np.zeros(0, dtype=np.int64)
    if len(holding):
        main = holding[np.argmax(element_depth[holding])]
        main_depth = element_depth[main]
        inside = (block_element >= main) & (block_element <= last_id[main])
    else:  # no long text anywhere: no main container
        main_depth, inside = 0, np.zeros(n, dtype=bool)
    in_main = inside.astype(np.float64)
    block_depth = np.array([b.depth for b in blocks], dtype=np.float64)
    gap = np.where(inside, (block_depth - main_depth) / max(max_depth, 1), -1.0)

    # Blocks sharing a block element (a list's items, a table's cells, an article's paragraphs).
    group_chars: dict[int, float] = {}
    group_long: dict[int, float] = {}
    group_links: dict[int, float] = {}
    for block, chars, lc, linkc in zip(blocks, lengths, long_chars, links, strict=True):
        key = block.group
        group_chars[key] = group_chars.get(key, 0.0) + chars
        group_long[key] = group_long.get(key, 0.0) + lc
        group_links[key] = group_links.get(key, 0.0) + linkc
    group_keys = [b.group for b in blocks]
    g_chars = np.array([group_chars[k] for k in group_keys])
    g_long = np.array([group_long[k] for k in group_keys]) / g_chars
    g_links = np.array([group_links[k] for k in group_keys]) / g_chars

    # Windows of five blocks around each block: how much long text and link text is near it.
    def window(values: np.ndarray) -> np.ndarray:
        return np.convolve(values, np.ones(5))[2 : n + 2]  # ("same" mode pads to 5 for shorter pages)

    window_chars = window(lengths)
    window_long = window(long_chars) / window_chars
    window_links = window(links) / window_chars

    positions = np.where(long)[0]
    index = np.arange(n)
    if len(positions):
        first, last = positions[0], positions[-1]
        after = np.searchsorted(positions, index).clip(0, len(positions) - 1)
        before = (after - 1).clip(0)
        nearest = np.minimum(np.abs(positions[after] - index), np.abs(index - positions[before]))
    else:
        first, last, nearest = n, -1, np.full(n, n)
    cumulative = (np.cumsum(lengths) - lengths) / total

    own_tag = np.zeros((n, N_OWN))
    own_tag[index, [_TAG_INDEX.get(b.tag, N_OWN - 1) for b in blocks]] = 1.0
    ancestors = _bits_reference([b.ancestors for b in blocks], len(ANCESTOR_TAGS))
    hints_own = _bits_reference([b.hints_own for b in blocks], len(HINT_WORDS))
    hints_above = _bits_reference([b.hints_above for b in blocks], len(HINT_WORDS))
    page = np.column_stack(
        [index / max(n - 1, 1), cumulative, in_main, gap, long.astype(float), np.log1p(g_chars), g_long, g_links,
         window_long, window_links, lengths / total, np.full(n, np.log1p(total)),
         (index >= first).astype(float), (index <= last).astype(float), np.minimum(nearest, 20) / 20]
    )  # fmt: skip
    neighbour = local[:, [0, 2, 4]]
    neighbour = np.column_stack([neighbour, long.astype(float)])
    pad = np.array([[0.0, 0.0, 0.0, 0.0]])
    previous = np.vstack([pad, neighbour[:-1]])
    following = np.vstack([neighbour[1:], pad])
    structure = _structure_reference(blocks, lengths, links, long, elements)
    return np.hstack([local, own_tag, ancestors, hints_own, hints_above, page, previous, following, structure]).astype(np.float32)


def _structure_reference(blocks: list[Block], lengths: np.ndarray, links: np.ndarray, long: np.ndarray, elements: Elements) -> np.ndarray:
    """Feature version 2, block by block: the main run (Kadane's maximum subarray, written as a
    loop), the block's group and the container one level above its group's element."""
    n = len(blocks)
    out = np.zeros((n, 6))
    size = [int(x) for x in lengths]
    link = [int(x) for x in links]
    scores = [size[i] - RUN_LINK_PENALTY * link[i] if long[i] else -size[i] for i in range(n)]
    best, best_start, best_end = 0, 0, 0  # the best stretch so far
    prefix = 0
    lowest, lowest_at = 0, 0  # the lowest prefix sum so far and the latest place it occurs
    for i in range(n):
        prefix += scores[i]
        if prefix - lowest > best:  # the best stretch ending at block i starts where the prefix was lowest
            best, best_start, best_end = prefix - lowest, lowest_at, i + 1
        if prefix <= lowest:
            lowest, lowest_at = prefix, i + 1
    if best > 0:
        for i in range(n):
            if i < best_start:
                out[i, 0] = 1.0
                out[i, 2] = min(best_start - i, RUN_DISTANCE_CAP) / RUN_DISTANCE_CAP
            elif i >= best_end:
                out[i, 1] = 1.0
                out[i, 2] = min(i - best_end + 1, RUN_DISTANCE_CAP) / RUN_DISTANCE_CAP
    # each element's parent: the element on top of the stack of open elements (pre-order depths)
    parent_of: list[int] = []
    stack: list[int] = []
    for number, depth in enumerate(elements.depth):
        while stack and elements.depth[stack[-1]] >= depth:
            stack.pop()
        parent_of.append(stack[-1] if stack else 0)
        stack.append(number)
    by_group: dict[int, list[int]] = {}
    for i, block in enumerate(blocks):
        by_group.setdefault(block.group, []).append(i)
    by_parent: dict[int, list[int]] = {}
    for group_id in by_group:
        by_parent.setdefault(parent_of[group_id] if group_id > 0 else 0, []).append(group_id)
    for group_ids in by_parent.values():
        members = [i for group_id in group_ids for i in by_group[group_id]]
        density = sum(link[j] for j in members) / float(sum(size[j] for j in members))
        for group_id in group_ids:
            for i in by_group[group_id]:
                out[i, 3] = np.log1p(len(by_group[group_id]))
                out[i, 4] = np.log1p(len(group_ids))
                out[i, 5] = density
    return out


def _style_hides(style: str) -> bool:
    return _HIDDEN_STYLE_RE.search(style) is not None


try:  # the compiled walk (pip install builds it); without it, the reference runs
    from tamis._native import _blocks as _native

    _native.configure(
        sorted(BLOCK_TAGS), SKIP_TAGS, OWN_TAGS, ANCESTOR_TAGS, HINT_WORDS, "".join(sorted(_PUNCTUATION)), "".join(sorted(_SENTENCE_ENDS)),
        _hint_bits, _style_hides, etree._Element, etree.__pyx_capi__["elementFactory"],
    )  # fmt: skip
except ImportError:  # pragma: no cover - a source checkout without the build
    _native = None
