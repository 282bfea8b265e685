"""The extractors that mix two paths, trafilatura on the pages the first is unsure of:
``tamis_learned_hybrid`` (the extract step's default: the learned block classifier, and its
fitted router), ``tamis`` and ``tamis_quick`` (tamis's lexbor fast path).

Each result is never empty when one of the two found text: trafilatura's lxml tree stops at 255
levels of nesting and returns nothing for deeper pages, which lexbor parses whole.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import copy

import numpy as np

from tamis.extract.fast import Extraction, extract_fast, is_deep, parse_tree
from tamis.extract.metadata import page_metadata


def _trafilatura(page, *, fast: bool = False, precision: bool = False) -> str:
    """trafilatura's text of ``page``: the page's HTML, or a tree the learned pass parsed
    (blocks.parse), which trafilatura takes as it is (see _html_elements)."""
    import trafilatura

    from tamis.text import stream_safe

    if isinstance(page, str):
        page = stream_safe(page)  # trafilatura's NFC sorts a run of marks by insertion (tamis.text.nfc)
    try:
        with _compiled_class_lookup(), _html_elements(page) as given:
            result = trafilatura.extract(given, fast=fast, favor_precision=precision, include_comments=False, include_tables=True, include_formatting=False)
    except RecursionError:
        return ""  # nested deeper than lxml's tree allows: the fast path's text stands
    return result or ""


# trafilatura parses with one lxml.html.HTMLParser (trafilatura.utils.HTML_PARSER), whose element
# class lookup is lxml.html's HtmlElementClassLookup: a Python method called each time lxml makes a
# Python object for an element, 7,600 times a page on the wceb2026 pages the router sends to
# trafilatura (its pruning walks every match's ancestors). lxml's compiled default lookup gives every
# element the same HtmlElement class (what differs is only that form, input, select, textarea and
# label elements are not their form-handling subclasses, which trafilatura never uses): routed pages
# cost 4-11 % less (bench/extract_breakdown.py), and each page's text is the same
# (bench/check_extract_identity.py; tests/test_extract.py compares the two on hand-made pages).
# The lookup is set for the call only and lxml.html's put back after it, so trafilatura parses as
# it always does for anything else in the process.
_C_LOOKUP = None


def _compiled_lookup():
    global _C_LOOKUP
    if _C_LOOKUP is None:
        from lxml import etree
        from lxml import html as lxml_html

        _C_LOOKUP = etree.ElementDefaultClassLookup(
            element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment, pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity
        )
    return _C_LOOKUP


@contextmanager
def _compiled_class_lookup() -> Iterator[None]:
    from lxml import html as lxml_html

    parser = getattr(sys.modules.get("trafilatura.utils"), "HTML_PARSER", None)
    if type(parser) is not lxml_html.HTMLParser:  # another trafilatura's parser: leave it as it is
        yield
        return
    parser.set_element_class_lookup(_compiled_lookup())
    try:
        yield
    finally:
        parser.set_element_class_lookup(lxml_html.HtmlElementClassLookup())  # what lxml.html.HTMLParser() sets


# A routed page's tree goes to trafilatura as a tree: trafilatura takes an lxml.html element as it
# is (it copies it and reads the copy), where a page given as HTML is parsed there again, and the
# learned pass's pruned tree was serialized here first. Measured on the three sets' 2,117 pages
# (in-process, CPU paired per page, load ~10): every page's text the same; the routed pages' CPU
# 0.964 of before on wceb2026 (172 routed), 0.965 on trafilatura-eval (39). The pages the learned
# pass keeps nothing of (70 of wceb2026's, routed whole) are handed over as its tree too, uncut:
# the same texts at 0.95 / 0.99 of their CPU (development / held-out half). Cutting their sure
# furniture as well (PRUNE_LOG_ODDS) was measured and not taken: on wceb2026's development half
# 3 log-odds under the threshold -0.0015 F1 at 0.73 of their CPU, 5 under -0.0009 at 0.80.
@contextmanager
def _html_elements(page) -> Iterator:
    """``page`` itself when it is HTML text; a tree of blocks.parse's as a copy whose elements are
    lxml.html's (trafilatura calls their text_content), made by blocks' parser with the compiled
    lookup above for as long as trafilatura works on it (its own copy is made by the same parser),
    the parser's default lookup (plain elements, what the learned pass walks) put back after it."""
    if isinstance(page, (str, bytes)):
        yield page
        return
    from tamis.extract import blocks as block_features

    parser = block_features._PARSER
    parser.set_element_class_lookup(_compiled_lookup())
    try:
        yield copy(page)
    finally:
        parser.set_element_class_lookup(None)


# The ``tamis`` extractor (the step's default until session 9) keeps the fast path's text only where the page's body
# is nearly all long, link-poor paragraphs: at this share the fast path's pages score above
# trafilatura's on them, so the mix beats trafilatura alone on both evaluation sets (chosen on the
# development half of trafilatura-eval: 0.9263 against trafilatura's 0.9238; held-out half 0.9337
# against 0.9276; scrapinghub-aeb 0.9638 against 0.9591) while 29 % / 44 % of the pages skip
# trafilatura. ``tamis_quick`` takes the fast path's own confidence (CONFIDENT_SHARE): about 70 %
# of pages skip trafilatura, for an F1 below trafilatura's (bench/bench_extract.py).
CAREFUL_LONG_SHARE = 0.98


def extract_hybrid(html: str, min_long_share: float = CAREFUL_LONG_SHARE) -> Extraction:
    """The fast path's text where it is confident and at least ``min_long_share`` of it stands in
    long lines; trafilatura's elsewhere (the fast path's again where trafilatura finds nothing)."""
    tree = parse_tree(html)
    if is_deep(tree):
        return extract_fast(tree)  # lxml cannot hold it: trafilatura would only lose time
    fast = extract_fast(tree)
    if fast.confident and fast.long_share >= min_long_share:
        return fast
    text = _trafilatura(html)
    if text.strip():
        return Extraction(text, True, fast.metadata, "trafilatura")
    return fast


def trafilatura_or_fast(html: str, *, fast: bool = False) -> Extraction:
    """trafilatura first; the fast path when trafilatura finds nothing (deep nesting, odd markup)."""
    tree = parse_tree(html)
    if not is_deep(tree):
        text = _trafilatura(html, fast=fast)
        if text.strip():
            return Extraction(text, True, page_metadata(tree), "trafilatura")
    result = extract_fast(tree)
    if "deep" not in result.method:
        result.method = f"{result.method} (trafilatura found nothing)"
    return result


# The ``tamis_learned_hybrid`` extractor: the learned block classifier's text, except on the pages
# its router picks, which get trafilatura's. The router is a rule over page-level signals of the
# learned pass (ROUTE_SIGNALS, computed by route_signals): the page's confidence under
# ROUTE_CONFIDENCE, or optionally a second signal past a limit (ROUTE_SECOND). It is fitted by
# bench/fit_extract_router.py on OUT-OF-FOLD predictions of the block model over the development
# halves of four sets (since session 11 the third, wceb2026, too: other sites' pages of every
# type, where trafilatura costs twice as much a page and the learned pass is least sure; since
# session 20 the fourth, WCXB's development pages, more sites nobody tuned to): among
# the rules whose routed pages keep each set within a CPU budget of trafilatura's / 3.3
# (measured per-page costs of the learned pass and of trafilatura, the start-ups and what the
# first routed page pays once: trafilatura's import), the one with the best smallest margin over
# trafilatura on every set. Session 11: 0.64 (nested CV, development halves: +0.0073 /
# +0.0059 / -0.0100 at 5.3x / 4.2x / 3.3x modelled, 3.7 / 1.3 / 17.1 % routed); session 9's 0.74,
# fitted on two sets under / 3.2, routed 29-33 % of the third set's pages, 2.2-2.9x. The second
# signal family, the two repeated-structure signals (session 11) included, read -0.0122 by the
# same nested CV: not taken. Measured there and dropped (session 9): a second signal
# (the nested cross-validation of "confidence or a second signal" scored 0.0005 below confidence
# alone on scrapinghub-aeb), and a logistic regression over all eleven signals (target:
# trafilatura's page F1 beats the learned one's, out-of-fold scores): within the budget it routed
# nothing with trafilatura's fallbacks, and with fast=True it scored below the confidence rule
# (+0.0095 / +0.0071 over trafilatura against +0.0111 / +0.0074). Routed pages get trafilatura with fast=True (ROUTE_FAST): without its readability and
# jusText fallbacks it costs 30 % less a page and its first call skips jusText's 0.3 CPU-s stoplist
# set-up, and on the same routed pages it scores higher on scrapinghub-aeb's development half
# (+0.0072 against +0.0024 over trafilatura alone at confidence 0.8) and a little lower on
# trafilatura-eval's (+0.0106 against +0.0138); within the budget it allows a share 3 times as large.
# Session 13 (nested CV on the development halves, this machine's per-page costs, load 5-17; margins
# over trafilatura teval / AEB / wceb2026): the shipped model, routed pages fast=True: +0.0066 /
# +0.0029 / -0.0116 at 5.1x / 4.9x / 3.5x modelled (the fit now picks 0.58: wceb2026's trafilatura
# costs 7.5 times the learned pass a page here, so 0.64 falls under the budget there; held-out 0.58
# against 0.64: +0.0056 / -0.0059 / -0.0133 against +0.0055 / -0.0059 / -0.0107, 3.17x against 2.93x
# modelled on wceb2026: fewer routed pages for less F1, not taken; measured, `tamis run` on wceb2026's 946
# pages alternating, load 10 / 8 / 6 / 5: 40.0 / 34.4 / 32.5 / 29.9 CPU-s for 0.64 / 0.58 / 0.64 / 0.58, F1
# whole 0.7714 -> 0.7679, held-out 0.7568 -> 0.7541, articles 0.9389 -> 0.9380). Routed pages with favor_precision
# too (ROUTE_PRECISION; 0.84-0.89 of fast=True's CPU, paired per page): +0.0045 / +0.0059 / -0.0295,
# not taken. The model trained on wceb2026's development half at weight 0.3: -0.0039 / -0.0014 /
# +0.0150 (it lowers both issue sets' margins), not taken.
# Session 20: a fourth set in the fit, WCXB's development pages (326 pages of sites in no other set
# nor in its test split; --extra-wcxb, out of fold by site, per-page costs measured as wceb2026's).
# Nested CV smallest margin over trafilatura (teval / AEB / wceb2026 / WCXB dev), the shipped trees
# under learned.py's page rules with the tail cut by characters and hole filling (s20-recall):
# keep 0.3 / smoothing 0 / tail 8 (the pair before) -0.0010 (+0.0074 / +0.0079 / +0.0049 /
# -0.0010); keep 0.2 / smoothing 0.2 / tail 8 +0.0031 (+0.0031 / +0.0033 / +0.0080 / +0.0046:
# block_model.npz's page rules since, chosen over keep 0.2/0.3 x smoothing 0/0.2 x tail 8/12/16,
# the rest -0.0010 to +0.0027), the rule chosen on all development pages 0.64 again, at 5.2x /
# 4.2x / 3.6x / 3.5x modelled. Before that merge (tail cut by blocks) the same grid gave the pair
# before -0.0119 and keep 0.2 / smoothing 0.2 / tail 16 with 0.66 +0.0022; models trained on WCXB's
# dev pages too (weight 0.3 / 1, articles / all) reached at best +0.0014 (weight 1, articles, keep
# 0.2, tail 12, limit 0.48), AEB the set that binds (held out, report only: AEB 0.9382). Held-out
# halves / WCXB test, in-process (report only): 0.9352 / 0.9530 / 0.7723 / 0.8407 (trafilatura
# 0.9312 / 0.9610 / 0.7675 / 0.8529).
# Session 21, the same four-set nested CV under session 21's page rules (s21-prec's bylines,
# detached stretches and widget areas; s21-recall's hole and span fills): the shipped trees at keep
# 0.2 / smoothing 0.2 / tail 8 +0.0078 (+0.0078 / +0.0097 / +0.0113 / +0.0079); on all development
# pages 0.62 and 0.64 tie on the smallest margin (+0.0084 each), so 0.64 stays. Models trained on
# WCXB's development pages too (weight 0.1 / 0.3 / 1, articles / all types, keep 0.2/0.3 x
# smoothing 0/0.2, tail 8) reached at best +0.0029 (weight 0.1, articles, keep 0.3, smoothing 0.2):
# they raise both site sets' margins and lower AEB's, which binds (all types -0.0065 to -0.0226);
# not taken. The Readability folder below is Mozilla Readability's test/test-pages (64 real pages
# kept): with it train_extract_model.py --skip-cv and the shipped options rebuilds block_model.npz
# bit for bit.
# Session 22 (s22-train), measured and not taken: trees trained on wceb2026's and WCXB's development
# ARTICLE pages too, each at weight 0.1, their content labels taken only on long blocks inside the
# main run (train_extract_model.py --site-positives-in-run: their main_content keeps headings,
# bylines and short lines that AEB's articleBody leaves out) and every not-content label. First
# measured with fit scripts that left keep_blocks' sibling and heading fills out (+0.0097 against
# +0.0086, with a second signal, kept_long_share); once the scripts modelled the fills as
# extract_learned runs them, the same four-set nested CV under session 22's page rules gives these
# trees +0.0097 (+0.0097 / +0.0152 / +0.0140 / +0.0124; confidence < 0.48 or tail_cut >= 0.45) and
# the shipped trees +0.0099 (+0.0099 / +0.0122 / +0.0126 / +0.0131; confidence alone), so they
# were not taken. The shipped trees' fixed rule on the same out-of-fold pages (--post-rule none):
# confidence < 0.64 +0.0105 (+0.0105 / +0.0110 / +0.0135 / +0.0121), < 0.60 (the refit's choice on
# all development pages) +0.0102, so 0.64 stays.
# Re-run after every change of block_model.npz (the constants between the markers are rewritten):
#   .venv/bin/python bench/fit_extract_router.py --corpus /work/shared/corpus \
#       --extra-readability /work/extra-corpus/mozilla-readability --extra-wceb /work/extra/wceb2026 \
#       --extra-wcxb /work/extra/wcxb --write
ROUTE_SIGNALS = (
    "confidence",  # share of the page's characters whose verdict is confident (learned.page_confidence)
    "kept_confidence",  # the same share within the kept characters
    "near_share",  # share of the page's characters within 1 log-odds of the threshold
    "log_kept_chars",
    "kept_share",  # kept characters / the page's block characters
    "log_stretches",  # runs of consecutive kept blocks
    "outside_main_run",  # share of the kept characters outside the largest run
    "tail_cut",  # characters the tail cut dropped / characters kept before it
    "kept_link_density",
    "kept_long_share",  # share of the kept characters in long, link-poor blocks
    "log_page_chars",
    # Pages whose content is a list of entries (products, listings, collections): the share of the
    # page's characters in blocks whose container stands among REPEATED_GROUPS or more like
    # containers under one parent that is not a link list (parent link density under
    # REPEATED_LINK_DENSITY), and the share of those the learned pass dropped.
    "repeated_share",
    "repeated_dropped_share",
)
REPEATED_GROUPS = 5
REPEATED_LINK_DENSITY = 0.5

# ROUTER CONSTANTS (written by bench/fit_extract_router.py --write)
ROUTE_FAST = True
ROUTE_PRECISION = False
ROUTE_CONFIDENCE = 0.64
ROUTE_SECOND: tuple[str, int, float] | None = None
# END ROUTER CONSTANTS


# A page with at least this many characters of block text is not routed, whatever its confidence:
# trafilatura's cost grows with the page (wceb2026's routed pages: 179 ms a page against 115 ms over
# all its pages; its 20 costliest routed pages hold 38 % of the routed CPU for 8 % of what routing
# gains in F1), and a page that long gives the learned pass much text to stand on. Measured with
# the shipped model (never trained on wceb2026, so out of sample on both its halves) and router,
# per page (learned text against trafilatura fast=True's, trafilatura's CPU paired), session 16,
# load ~8: the development half's F1 (chosen there) 10,000 chars -0.0058, 20,000 -0.0037, 30,000
# -0.0012, 35,000 -0.0001, 40,000 to 100,000 +0.0003 (routed CPU 0.930 of before); the
# smallest limit of that plateau is taken. Held-out half (reported only): +0.0011 at 40,000,
# routed CPU 0.831, routed share 19.9 -> 18.6 %. trafilatura-eval: 2 routed pages of 990 are so
# long, both with the same snippets found either way; scrapinghub-aeb: none. Pages the learned
# pass keeps nothing of are routed as before. bench/fit_extract_router.py fits the confidence
# limit with this cap (hybrid.router_sends; since session 23, nested CV included).
ROUTE_MAX_CHARS = 40_000

# A page whose learned pass keeps fewer characters than this is routed whatever its confidence
# (under ROUTE_MAX_CHARS of block text, as every routed page): a text of a dozen words is almost
# always a pass that fastened on the wrong part of the page (a log-in prompt on a paywalled
# article, a teaser), not the page's text; trafilatura's is the second opinion, as for a page the
# pass keeps nothing of. Session 23, out of fold on the four development sets (the shipped model
# and router, two out-of-fold draws: the session's caches before and after the ruby change),
# margins over trafilatura teval / AEB / wceb2026 / WCXB:
#   floor 0:   +0.0112 / +0.0110 / +0.0135 / +0.0121   |  +0.0104 / +0.0120 / +0.0137 / +0.0094
#   floor 100: +0.0131 / +0.0110 / +0.0135 / +0.0121   |  +0.0122 / +0.0120 / +0.0145 / +0.0102
#   floor 300: +0.0132 / +0.0110 / +0.0111 / +0.0151   |  +0.0120 / +0.0120 / +0.0121 / +0.0131
#   floor 500: +0.0135 / +0.0110 / +0.0129 / +0.0161   |  +0.0120 / +0.0120 / +0.0139 / +0.0142
# Of 50, 100, 150, 200, 300 and 500, 100 is the largest floor that lowers no set in either draw
# (150: WCXB -0.0001, 200 and 300: wceb2026 -0.0020 to -0.0024) and keeps every set's modelled
# speed-up at the fit's 3.3x budget (500: wceb2026 3.00-3.14x); it routes 0.4-0.6 % more of
# teval's pages, 0-0.3 % more of the others'. Held-out halves (report only; the bench, as the step
# runs): teval 0.9386 -> 0.9387, AEB 0.9578 both, wceb2026 0.7776 -> 0.7782, WCXB test 0.8473 ->
# 0.8494 (articles 0.9494 -> 0.9531), with this session's NFC text. Measured and not taken (the
# same two draws): also routing a page whose pass keeps under 2 % of its block text (WCXB +0.0030,
# wceb2026 -0.0005, but wceb2026's modelled speed-up 3.24x in one draw); routing a page whose
# hidden elements hold 1-4x the kept text (wceb2026 +0.002 to +0.005, WCXB -0.0003 to -0.011,
# wceb2026's modelled speed-up under 2.9x); picking the tail cut's main stretch by probability-weighted characters (WCXB -0.0011).
ROUTE_MIN_KEPT_CHARS = 100


# A routed page goes to trafilatura less the subtrees the learned pass is sure hold no content:
# an element all of whose blocks lie at least PRUNE_LOG_ODDS below the keep threshold's log-odds
# (menus, footers, related-link lists, comment threads) is cut from the learned pass's own lxml
# tree, and trafilatura reads the rest (as a tree: _html_elements). trafilatura's cost grows with the page: its
# discard XPaths and their ancestor checks (prune_unwanted_nodes) walk exactly such subtrees to
# drop them. An element that holds what the walk never saw (a hidden element, noscript, template)
# is never cut: on the routed pages that is often the content a script reveals, and trafilatura
# finds it there. Measured on wceb2026's development half (468 pages, 84 routed; the shipped model
# never trained on wceb2026, so its log-odds are out of sample; trafilatura fast=True's CPU paired
# per page, in-process, load ~12; F1 of the whole half, the hybrid's 0.7922): the tree serialized
# without a cut gives each page's text unchanged (84 of 84) at 1.03 of the routed CPU; cut at 5
# below the threshold -0.0011 F1 at 0.92, at 3 -0.0009 at 0.81 (taken); at 3 with the elements
# holding unseen text cut too -0.0057 at 0.71; the walk's left-out elements (scripts, hidden ones)
# also dropped, no cut: -0.0170 at 0.68 (the hidden text a script reveals is these pages' content).
PRUNE_LOG_ODDS: float | None = 3.0


def elements_by_id(body) -> tuple[list, list[int]]:
    """The elements of ``body``'s subtree by the block walk's pre-order ids (blocks.page_blocks; 0
    stands for the whole page, 1 is ``body``; skipped tags and hidden elements are left out with
    their subtrees, as blocks.segment drops them), and the ids of the elements that hold a hidden
    one (or a noscript or template) as a child: text the walk never saw, which trafilatura reads."""
    from lxml import etree

    from tamis.extract import blocks as block_features

    skip = block_features.SKIP_TAGS
    unseen = ("noscript", "template")
    found = [body, body]  # id 0 is the walk's page-wide entry, id 1 the body itself
    ids = {body: 1}
    holders: list[int] = []
    walker = etree.iterwalk(body, events=("start",))
    next(walker)
    for _, element in walker:
        tag = element.tag
        if not isinstance(tag, str):  # a comment, entity or processing instruction: no id
            continue
        if tag in unseen or block_features.is_hidden(element):
            walker.skip_subtree()
            holders.append(ids.get(element.getparent(), 1))
            continue
        if tag in skip:
            walker.skip_subtree()
            continue
        ids[element] = len(found)
        found.append(element)
    return found, holders


def furniture_ids(page, log_odds: np.ndarray, below: float, holders: list[int] = ()) -> list[int]:
    """The pre-order ids of the outermost elements (the body's descendants) whose subtree holds at
    least one block, every block's log-odds under ``below``, and none of ``holders`` (elements
    holding text the walk did not see): reduceat over the id ranges."""
    from tamis.extract import blocks as block_features

    count = len(page.element_depth)
    if count < 2 or not len(log_odds):
        return []
    best = np.full(count + 1, -np.inf)  # the highest log-odds of the blocks an element holds directly
    np.maximum.at(best, page.columns[:, block_features.COLUMNS.index("element")], log_odds)
    if len(holders):
        best[np.asarray(holders, dtype=np.int64)] = np.inf
    last = page.element_last
    bounds = np.empty(2 * count, dtype=np.int64)
    bounds[0::2] = np.arange(count)
    bounds[1::2] = last + 1  # the slot after the subtree (the -inf sentinel past the last id)
    subtree_best = np.maximum.reduceat(best, bounds)[0::2]
    ids: list[int] = []
    reach = 1  # the last id inside the latest element taken (ids 0 and 1, the page and its body, stay)
    for element in np.flatnonzero((subtree_best < below) & (subtree_best > -np.inf)).tolist():
        if element > reach:
            ids.append(element)
            reach = int(last[element])
    return ids


def pruned_tree(root, page, log_odds: np.ndarray, threshold: float, margin: float = PRUNE_LOG_ODDS):
    """``root`` without its sure furniture (furniture_ids at ``margin`` under ``threshold``); None
    where the tree's elements do not match the walk's ids (then trafilatura reads the page as it
    came). Mutates ``root``."""
    from tamis.extract import blocks as block_features

    body = root.find("body")
    if body is None:
        body = root
    elements, holders = elements_by_id(body)
    if len(elements) != len(page.element_depth):
        return None
    for element in furniture_ids(page, log_odds, threshold - margin, holders):
        block_features.remove_keeping_tail(elements[element])
    return root


# A routed page's tree goes to trafilatura without the elements it deletes whole before reading
# anything (tree_cleaning's list) and that no other stage of it reads: svg drawings, style sheets
# and scripts, except the JSON ones (its baseline and its forum test read schema.org JSON-LD).
# trafilatura's raw-tree XPath prunes, its copies of the tree and its page-size measure
# (html2txt) otherwise walk them on every routed page. Measured (session 19, in-process, each
# routed page's trafilatura call timed with and without the cut back to back, order alternating,
# load 3-10): wceb2026's 173 routed pages 0.896 and 0.947 of their CPU in two runs, 0.876 / 0.892
# on its development / held-out halves in a third; trafilatura-eval's 39 0.941, scrapinghub-aeb's 3
# 0.868; every routed page's text the same (215 of 215; and `tamis run`'s records of wceb2026's 946
# pages). The child's whole answer a page (extract_main_text), alternating, load ~8: wceb2026 0.976
# of its CPU, trafilatura-eval 1.006 (4 % routed); 946 + 990 answers the same. Measured and not
# taken: also the other tags trafilatura deletes whole (link, meta, form fields, buttons, iframe,
# embed, object, noscript...): 0.890, but 15 of wceb2026's 173 texts differ (2 of
# trafilatura-eval's 39); without buttons and noscript 0.904, 4 differ; attribute-less spans
# unwrapped: 0.982, 1 differs; every attribute trafilatura's code never names dropped: 0.966, none
# differ here, but a page of another site may carry one it reads. A deeper furniture cut beside
# it (PRUNE_LOG_ODDS 2 / 1 / 0, wceb2026's development half, chosen there): F1 0.7934 -> 0.7921 /
# 0.7893 / 0.7851 for 0.877 / 0.890 / 0.813 of 3's CPU (0.876 with the cut alone at 3): the cut
# at 3 leaves little that trafilatura's cost grows with.
INERT_TAGS = ("svg", "style", "script")


def drop_inert(root) -> None:
    """Remove INERT_TAGS' elements (a script whose type names JSON stays) from ``root``, keeping
    their tails. Mutates ``root``."""
    from tamis.extract import blocks as block_features

    for element in [e for e in root.iter(*INERT_TAGS) if e.tag != "script" or "json" not in (e.get("type") or "").lower()]:
        block_features.remove_keeping_tail(element)


def route_signals(
    log_odds: np.ndarray, lengths: np.ndarray, kept: np.ndarray, rows: np.ndarray, tags: np.ndarray | None = None, groups: np.ndarray | None = None
) -> np.ndarray:
    """ROUTE_SIGNALS of one page from the learned pass's arrays (its blocks' log-odds, lengths,
    the kept mask after every page-level rule and the feature rows) and its blocks' tags and
    containers (keep_blocks' fills: the tail cut is measured on what keep_blocks keeps)."""
    from tamis.extract import blocks as block_features
    from tamis.extract.learned import CONFIDENT_LOG_ODDS, keep_blocks, model, page_confidence, probability_of

    forest = model()
    threshold = np.log(forest.keep_threshold / (1.0 - forest.keep_threshold))
    total = float(lengths.sum()) or 1.0
    kept_lengths = lengths * kept
    kept_chars = float(kept_lengths.sum())
    margin = np.abs(log_odds - threshold)
    signals = dict.fromkeys(ROUTE_SIGNALS, 0.0)
    signals["confidence"] = page_confidence(log_odds, lengths, forest.keep_threshold)
    signals["near_share"] = float((lengths * (margin < 1.0)).sum() / total)
    signals["log_kept_chars"] = float(np.log1p(kept_chars))
    signals["kept_share"] = kept_chars / total
    signals["log_page_chars"] = float(np.log1p(lengths.sum()))
    names = block_features.FEATURE_NAMES
    if len(rows):
        groups = rows[:, names.index("parent_log_groups")].astype(np.float64)
        parent_links = rows[:, names.index("parent_link_density")].astype(np.float64)
        repeated = (groups >= np.log1p(REPEATED_GROUPS) - 1e-6) & (parent_links < REPEATED_LINK_DENSITY)
        signals["repeated_share"] = float((lengths * repeated).sum() / total)
        signals["repeated_dropped_share"] = float((lengths * (repeated & ~kept)).sum() / total)
    if kept_chars > 0:
        signals["kept_confidence"] = float((kept_lengths * (margin >= CONFIDENT_LOG_ODDS)).sum() / kept_chars)
        # Runs of consecutive kept blocks: a new run starts at a kept block whose predecessor is dropped.
        starts = kept & ~np.concatenate([[False], kept[:-1]])
        run = np.cumsum(starts) * kept
        run_chars = np.bincount(run, weights=kept_lengths)[1:]
        signals["log_stretches"] = float(np.log1p(len(run_chars)))
        signals["outside_main_run"] = float(1.0 - run_chars.max() / kept_chars)
        # keep_blocks with and without its tail cut, both with the page's fills and before
        # post_rules: ``kept`` carries post_rules' drops too, which are not the cut's.
        probability = probability_of(log_odds)
        settings = (forest.keep_threshold, forest.smooth, forest.isolated_chars)
        trimmed = keep_blocks(probability, lengths, *settings, forest.tail_gap, tags=tags, groups=groups)
        untrimmed = keep_blocks(probability, lengths, *settings, 0, tags=tags, groups=groups)
        before = float((lengths * untrimmed).sum())
        signals["tail_cut"] = max(0.0, before - float((lengths * trimmed).sum())) / before if before > 0 else 0.0
        if len(rows):
            link = rows[:, names.index("link_density")].astype(np.float64)
            long = rows[:, names.index("long")].astype(np.float64)
            signals["kept_link_density"] = float((kept_lengths * link).sum() / kept_chars)
            signals["kept_long_share"] = float((kept_lengths * long).sum() / kept_chars)
    return np.array([signals[name] for name in ROUTE_SIGNALS])


def _signals_of(details: dict) -> np.ndarray:
    page = details["page"]
    return route_signals(details["log_odds"], details["lengths"], details["kept"], details["rows"], page.tags(), page.groups())


def routes(signals: np.ndarray) -> bool:
    """Whether the router sends the page to trafilatura: its confidence under ROUTE_CONFIDENCE, or
    ROUTE_SECOND's signal at or past its limit (direction 1: at or above, -1: at or below)."""
    if signals[0] < ROUTE_CONFIDENCE:
        return True
    if ROUTE_SECOND is None:
        return False
    name, direction, limit = ROUTE_SECOND
    return bool(direction * signals[ROUTE_SIGNALS.index(name)] >= direction * limit)


def router_sends(confidence: float, block_chars: float, kept_chars: float, signals: Callable[[], np.ndarray]) -> bool:
    """Whether the router sends a page whose learned pass kept blocks to trafilatura: the page holds
    under ROUTE_MAX_CHARS of block text, and the pass kept under ROUTE_MIN_KEPT_CHARS, or its
    confidence (ROUTE_SIGNALS[0]) is under ROUTE_CONFIDENCE, or ROUTE_SECOND's signal is past its
    limit (``routes``). ``signals`` gives every ROUTE_SIGNALS value; it is called only when the
    fitted router reads a second one. The one rule the hybrid and bench/fit_extract_router.py
    route by."""
    if block_chars >= ROUTE_MAX_CHARS:
        return False
    if kept_chars < ROUTE_MIN_KEPT_CHARS or confidence < ROUTE_CONFIDENCE:
        return True
    return ROUTE_SECOND is not None and routes(signals())


def learned_stands(learned: Extraction, details: dict) -> bool:
    """Whether the hybrid keeps the learned pass's text as it is (extract_learned with
    ``fallback=False`` and its ``details``): the pass kept blocks, and the router does not send the
    page (its long_share is its confidence)."""
    if learned.method != "learned":
        return False
    lengths = details["lengths"]
    kept_chars = float((lengths * details["kept"]).sum())
    return not router_sends(learned.long_share, float(lengths.sum()), kept_chars, lambda: _signals_of(details))


def _stream_safe_if_hostile(root, details: dict) -> None:
    """Make a routed tree stream-safe (tamis.text.stream_safe_tree) where the learned pass's block
    texts hold a run of marks NFC could only sort in quadratic time: trafilatura normalizes its
    text with unicodedata. One scan of the block texts; the tree is walked only on such a page."""
    from tamis.text import stream_safe, stream_safe_tree

    page = details.get("page")
    if page is not None:
        joined = "\n".join(page.texts)
        if stream_safe(joined) is not joined:
            stream_safe_tree(root)


# A routed page takes trafilatura's text whenever trafilatura finds some, however short beside what
# the learned pass kept. Session 24 measured the alternative out of fold (session 23's two draws,
# margins teval / AEB / wceb2026 / WCXB from ROUTE_MIN_KEPT_CHARS' shipped +0.0131 / +0.0110 /
# +0.0135 / +0.0121 and +0.0122 / +0.0120 / +0.0145 / +0.0102): keeping the learned text where
# trafilatura's (fast=True) is under a tenth of its length lowers no set (wceb2026 +0.0011 to
# +0.0018, WCXB +0.0023 to +0.0028; 4-5 of 1,357 pages), and at a fifth teval pays 0.0006 (its pages
# where the learned pass kept a comment thread or related teasers under an article trafilatura had
# whole). The tenth passed the session's criterion but was not taken: the held-out halves' report
# (fit_extract_router.py --post-rule none) shows that failure on AEB, -0.0043 from one page (a short
# post the learned pass kept with its long comment thread, trafilatura's text 7 % of it), against
# wceb2026 +0.0013 and WCXB test +0.0033. Also measured: those pages through trafilatura again with
# its fallbacks (fast=False), which finds the article there and lowers no set at a fifth (wceb2026
# +0.0012 to +0.0020, WCXB +0.0048 to +0.0069), but the second call costs wceb2026's modelled
# speed-up 3.33x -> 3.15x, under the fit's 3.3x budget. Session 25 built it (at a share of 0.15,
# the middle of the range where no set falls: wceb2026 +0.0021 / +0.0012, WCXB +0.0041 / +0.0052 in
# the two draws; fit_extract_router modelling both calls) and measured the step as users run it
# (bench_extract.py against the session's start, same run; then `tamis run` alone, alternating,
# two or three rounds): held-out F1 wceb2026 0.7782 -> 0.7822 (articles 0.9435 -> 0.9461), WCXB test
# 0.8514 -> 0.8543, teval 0.9387 -> 0.9390, AEB unchanged, but the step's CPU rose by 11 % on
# wceb2026 (9 of 1,000 pages read twice), 12 % on teval (4 of 990) and 25-30 % on WCXB test (5 of
# 435): 3.80x -> 3.19x on wceb2026 in the bench's run. The model left out what trafilatura pays
# once a process for its jusText rescue (every language's stoplist read, 0.13 CPU-s, which the
# fit's warm-up page had already paid) and per call (the stoplists lower-cased again, 0.07 s).
# Not taken: it halves the binding set's margin over the 3x bar for +0.003 F1. trafilatura with
# favor_recall=True instead (fast=True, a fifth of the cost) finds the article on 2 of those 13
# pages only (and only from the pruned tree). And routing the pages where comment-named
# containers hold 20-70 % of the kept text (trafilatura drops comment threads): teval +0.0004, AEB
# unchanged (no such page in its development half), wceb2026 -0.0023 to -0.0044 (its gold keeps
# forum and comment threads), WCXB -0.0007 to -0.0012.
def extract_learned_hybrid(html: str | bytes) -> Extraction:
    """The learned classifier's text; trafilatura's on the pages the router sends it and on those
    where the learned pass kept nothing; never empty when either found text. ``html`` may be the
    page's UTF-8 bytes (the learned pass parses them as they are; a routed page is decoded)."""
    from tamis.extract.learned import extract_learned

    details: dict = {}
    # fallback=False: a page whose learned pass keeps nothing (or finds no document) goes to
    # trafilatura, so the lexbor fast path's text (its main-content pass, ~60 % of the fast path's
    # CPU on those pages: 7 % of wceb2026's pages, mostly large listings) is computed below only
    # where trafilatura finds nothing; every page's text, metadata and path stay what they were.
    learned = extract_learned(html, details, fallback=False)
    if "deeper" in learned.method:
        return learned  # trafilatura's lxml cannot hold the page either
    if learned_stands(learned, details):
        return learned
    # trafilatura reads the learned pass's own tree where it has one (see _html_elements), less its
    # sure furniture (PRUNE_LOG_ODDS) where the pass kept blocks; else the page as it came.
    given = details.get("root")
    if given is not None and learned.method == "learned" and PRUNE_LOG_ODDS is not None:
        from tamis.extract.learned import model

        keep = model().keep_threshold
        given = pruned_tree(given, details["page"], details["log_odds"], float(np.log(keep / (1.0 - keep))), PRUNE_LOG_ODDS)
    if given is None:
        given = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    else:
        drop_inert(given)
        _stream_safe_if_hostile(given, details)
    text = _trafilatura(given, fast=ROUTE_FAST, precision=ROUTE_PRECISION)
    if learned.method == "learned":
        return Extraction(text, True, learned.metadata, "trafilatura") if text.strip() else learned
    # The fast path's part, left to here: its metadata beside trafilatura's text, or its whole
    # result where trafilatura found nothing (as learned._fast_instead would have given it).
    tree = parse_tree(html.decode("utf-8", "surrogatepass") if isinstance(html, bytes) else html)
    if text.strip():
        return Extraction(text, True, page_metadata(tree), "trafilatura")
    fast = extract_fast(tree)
    fast.method = learned.method
    return fast
