"""Fit ``tamis_learned_hybrid``'s router: which pages go to trafilatura, under a CPU budget.

    .venv/bin/python bench/fit_extract_router.py [--corpus ../shared/corpus]
        [--extra-readability DIR] [--extra-wceb DIR --wceb-weight W --wceb-types T] [--extra-wcxb DIR --wcxb-weight W --wcxb-types T] [--speedup 3.3]
        [--model NPZ] [--keep K ...] [--tail T ...] [--no-held-out] [--oof-only] [--write] [--without FEATURE ...]
        [--post-rule NAME ... [--route-detached GAP/CHARS ...]]

(needs scikit-learn, at fitting time only, as bench/train_extract_model.py.)

1. The block model is trained as ``bench/train_extract_model.py`` trains the shipped one (same
   options; defaults: the shipped model's command), 5 times, each time without a fifth of the
   development pages of both sets, which it then predicts: OUT-OF-FOLD probabilities, what the
   router will meet on pages the model never saw. The page-level rules (keep threshold, smoothing,
   tail cut) are the model's (``--model``: a candidate's, else the shipped one's), or each of a
   grid given by ``--keep/--smooth/--isolated/--tail``: the router is then fitted for each, and the
   one with the best nested-CV smallest margin is reported (a candidate is then trained with it,
   ``train_extract_model.py --skip-cv --keep K --tail T --out NPZ``, and scored with ``--model``).
2. Every page is also run through trafilatura (with its fallbacks, as the hybrid calls it, and with
   ``fast=True``; ``--variant precision``: also with ``favor_precision=True``, its own cache), and
   each page's CPU time is measured in this process for the learned pass and
   for each trafilatura call; the fixed costs (the interpreter and ``tamis run``'s start-up, and
   what the first routed page pays once: trafilatura's import and its first call) are measured as
   subprocesses.
3. Each page's router signals (``tamis.extract.hybrid.route_signals``, from the out-of-fold
   probabilities), its F1 with the learned text and with trafilatura's, and the modelled CPU of a
   run over a set of the whole set's size (fixed costs once, per-page costs scaled) give, for any
   rule, each set's F1 and speed-up. Two rule families are compared by NESTED cross-validation
   (each fifth of the development pages routed by the rule chosen on the other four fifths; the
   third set's fifths by site, as the block model's folds):
   confidence under a limit, and confidence under a limit OR a second signal past its own (up to
   a fifth of the pages); the second must beat the first by 0.0005 to be taken. Within the chosen
   family the rule is the one, among those keeping both sets' modelled speed-up at ``--speedup``
   or more, with the best smaller margin over trafilatura (as train_extract_model.py chooses).
4. The held-out halves (never trained or fitted on) are scored last (unless ``--no-held-out``), with
   the model and the chosen rule: F1 against trafilatura's, the routed share and the modelled
   speed-up (beside the learned pass alone and the shipped rule). Then each whole set with every
   page scored by a model that never trained on it (development pages out of fold, routed by the
   nested CV's rules; held-out pages as just scored): the whole-set comparison with trafilatura
   that the training pages would otherwise flatter, with bench_extract's paired bootstrap of the
   margin (its spread, and the share of page draws at or over trafilatura).
   ``--write`` stores the rule (and the trafilatura setting routed pages get: ``--variant``) between the marker
   lines of ``tamis/extract/hybrid.py``.

``--extra-wceb DIR`` adds the third set (``bench/wceb_pages.py``) as a third store everywhere: its
development half in the out-of-fold training (folds by site, as train_extract_model.py; trained on
at ``--wceb-weight``, the shipped model's option, 0 = not trained on) and in the rule's choice (the
budget and the smallest margin then hold on all three sets), its held-out half scored last.
``--extra-wcxb DIR`` (with ``--extra-wceb``) adds WCXB (``bench/wcxb_pages.py``) as a fourth store the
same way: its development pages (dev split, sites in no other set nor in its test split) out of fold
by site (trained on at ``--wcxb-weight``, 0 = scored only), in the rule's choice and budget (per-page
costs measured as wceb2026's, ``costs-wcxb.pkl``; the modelled speed is for its test split's page
count, what bench_extract.py runs), its test split scored last as its held-out half.

``--post-rule NAME ...`` (after the out-of-fold predictions; no cost table needed): candidate rules over
the kept blocks (``POST_RULES``: figure captions, landmarks, h1, short stretches detached from the
main one, link lines at the kept text's edges; ``A+B`` applies both), each on top of the shipped
``learned.post_rules``, scored on the development halves out of fold and then on the held-out halves
(report only, unless ``--no-held-out``): each set's F1 and margin over trafilatura with the shipped
router (routed pages get trafilatura's text, computed for those pages only and cached as
``fast-texts.pkl``) and the learned pass alone; ``--route-detached GAP/CHARS ...`` adds router
variants that also send pages keeping a detached stretch (their routed share printed).

Caches in ``--workdir``: the pages' blocks, trafilatura's texts, the per-page costs (delete
``costs.pkl``, ``costs-wceb.pkl`` and ``costs-wcxb.pkl`` after a change of the learned pass's or trafilatura's speed)
and the out-of-fold probabilities, one file per training setting (``oof-<hash>.pkl``: the
training options and the feature list; ``--oof-only`` fills it and stops, so that candidates'
predictions can be computed while another fit runs). ``--without FEATURE ...`` trains without those
feature columns (``train_extract_model.py --without``; its own out-of-fold cache): the A/B of a
feature group through the router too.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_extract import _norm, _read, aeb_doc, bootstrap_margin, halves, load_aeb, load_teval  # noqa: E402
from train_extract_model import (  # noqa: E402
    GOLD,
    SITE_STORES,
    PageRows,
    add_site_positive_options,
    add_site_set,
    cv_folds,
    fit,
    load_extra,
    load_pages,
    load_site_sets,
    site_folds,
    site_positives_mode,
    trafilatura_texts,
    training_rows,
    without_features,
)
from wceb_pages import load_wceb  # noqa: E402
from wcxb_pages import load_wcxb, training_pages  # noqa: E402

from tamis.extract import blocks as block_features  # noqa: E402
from tamis.extract import hybrid, learned  # noqa: E402
from tamis.extract.learned import keep_blocks, load_forest  # noqa: E402
from tamis.io.htmldecode import decode_html  # noqa: E402
from tamis.steps.extract_html import written_text  # noqa: E402

HYBRID_PATH = ROOT / "tamis" / "extract" / "hybrid.py"
WARM_PAGE = "<html><body><p>warm up</p></body></html>"


# --------------------------------------------------------------------------- per-page scores


def page_score(store: str, data: dict, key: str, text: str) -> tuple[float, float, float, float]:
    """What one page adds to its set's metric. trafilatura-eval: (tp, fp, fn, 0) snippet counts
    (the set's F1 is over their sums); scrapinghub-aeb: the page's (precision, counts for P,
    recall, counts for R) as the benchmark's evaluate.py averages them."""
    if store == "teval":
        item = data["items"][key]
        normed = _norm(text)
        tp = sum(1 for s in item["with"] if _norm(s) in normed)
        fp = sum(1 for s in item["without"] if _norm(s) in normed)
        return float(tp), float(fp), float(len(item["with"]) - tp), 0.0
    tp, fp, fn = aeb_doc(data[GOLD[store]][key], text)
    if fp == fn == 0:
        return 1.0, 1.0, 1.0, 1.0
    precision = 0.0 if tp == fp == 0 else tp / (tp + fp)
    recall = 0.0 if tp == fn == 0 else tp / (tp + fn)
    return precision, float(tp + fp > 0), recall, float(tp + fn > 0)


def set_f1(store: str, scores: np.ndarray) -> float:
    """The set's F1 from its pages' page_score rows."""
    if store == "teval":
        tp, fp, fn = scores[:, 0].sum(), scores[:, 1].sum(), scores[:, 2].sum()
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    p = (scores[:, 0] * scores[:, 1]).sum() / max(scores[:, 1].sum(), 1)
    r = (scores[:, 2] * scores[:, 3]).sum() / max(scores[:, 3].sum(), 1)
    return 2 * p * r / (p + r) if p + r else 0.0


def page_f1(store: str, score: np.ndarray) -> np.ndarray:
    """Each page's own F1 (the router's target compares two of them)."""
    if store == "teval":
        tp, fp, fn = score[:, 0], score[:, 1], score[:, 2]
        return np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1e-9), 1.0)
    p, r = score[:, 0], score[:, 2]
    return np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)


# --------------------------------------------------------------------------- costs


def _cpu_of(cmd: list[str], cwd: Path) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def tamis_command() -> Path:
    """The ``tamis`` a user runs: the one beside this interpreter, else the checkout's own
    ``.venv`` (``make venv``; a scratch environment holding scikit-learn often has no tamis)."""
    for candidate in (Path(sys.executable).with_name("tamis"), ROOT / ".venv" / "bin" / "tamis"):
        if candidate.is_file():
            return candidate
    raise SystemExit(f"no tamis command beside {sys.executable} nor in {ROOT / '.venv' / 'bin'}: run `make venv` first")


def fixed_costs(workdir: Path, variant: str, rounds: int = 3) -> dict[str, float]:
    """CPU seconds (the least of ``rounds``): ``tamis run`` of the learned extractor on one small
    page, the trafilatura script's start-up (interpreter and import), and what the hybrid pays once
    when it first routes a page (trafilatura's import and its first call's one-time set-up)."""
    page_dir = workdir / "one-page"
    page_dir.mkdir(parents=True, exist_ok=True)
    (page_dir / "page.html").write_text("<html><body><p>" + "A paragraph of text. " * 20 + "</p></body></html>", encoding="utf-8")
    config = workdir / "learned.yaml"
    config.write_text("steps:\n  - step: extract\n    extractor: tamis_learned\n", encoding="utf-8")
    tamis = str(tamis_command())
    python = sys.executable
    base = "import numpy, lxml.etree, tamis.extract.learned"
    commands = {
        "tamis_start": [tamis, "run", str(config), "-i", str(page_dir), "-o", str(workdir / "one-out"), "-w", "1", "--no-report", "--quiet", "--overwrite"],
        "trafilatura_start": [python, "-c", "import trafilatura"],
        "base": [python, "-c", base],
        "routed_once": [python, "-c", f"{base}\nimport trafilatura\ntrafilatura.extract({WARM_PAGE!r}, **{VARIANTS[variant]!r})"],
    }
    best = {name: min(_cpu_of(cmd, workdir) for _ in range(rounds)) for name, cmd in commands.items()}
    return {"tamis_start": best["tamis_start"], "trafilatura_start": best["trafilatura_start"], "routed_once": max(0.0, best["routed_once"] - best["base"])}


def _page_sources(corpus: Path, cache: Path, site_set: str | None = None, folders: dict | None = None) -> list[tuple[str, dict[str, bytes]]]:
    """(store, {page key: raw bytes}) of the pages a cost cache covers: trafilatura-eval's and
    AEB's, or with ``site_set`` one site set's only (SITE_STORES; ``folders``: {"wceb": DIR,
    "wcxb": DIR}, WCXB's pages told apart from wceb2026's by its folder): wceb2026's pages, or
    WCXB's development pages and test split."""
    if site_set is None:
        _, teval_files, _ = load_teval(corpus, cache.parent / "teval")
        _, aeb_files = load_aeb(corpus)
        return [("teval", {k: _read(p) for k, p in teval_files.items()}), ("aeb", {k: _read(p) for k, p in aeb_files.items()})]
    from readability_pages import evaluation_sites

    folders = folders or {}
    if site_set == "wceb":
        return [("wceb", {page.key: page.raw for page in load_wceb(folders["wceb"], evaluation_sites(corpus))[0]})]
    pages = load_wcxb(folders["wcxb"], corpus, folders["wceb"])
    return [("wcxb", {page.key: page.raw for page in training_pages(pages)[0] + pages.test})]


def page_costs_and_texts(corpus: Path, cache: Path, site_set: str | None = None, folders: dict | None = None) -> dict:
    """Per page: CPU seconds of the learned pass and of trafilatura (fallbacks / fast), and
    trafilatura's fast text (its full text comes from train_extract_model's cache). ``site_set``: one
    site set's pages only (their own cache; _page_sources)."""
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    import trafilatura

    from tamis.extract.learned import extract_learned

    sources = _page_sources(corpus, cache, site_set, folders)
    extract_learned(WARM_PAGE)
    trafilatura.extract(WARM_PAGE)
    out: dict = {store: {} for store, _ in sources}
    clock = time.process_time
    for store, files in sources:
        for key, raw in files.items():
            html, _ = decode_html(raw)
            started = clock()
            extract_learned(html)
            learned = clock() - started
            times, texts = {}, {}
            for variant, fast in (("full", False), ("fast", True)):
                started = clock()
                try:
                    texts[variant] = trafilatura.extract(html, fast=fast, include_comments=False, include_tables=True, include_formatting=False) or ""
                except Exception:  # noqa: BLE001 - a page trafilatura cannot read counts as empty
                    texts[variant] = ""
                times[variant] = clock() - started
            out[store][key] = {"learned": learned, "full": times["full"], "fast": times["fast"], "fast_text": texts["fast"]}
    cache.write_bytes(pickle.dumps(out))
    return out


# trafilatura's settings a routed page may get (``--variant``): with its fallbacks, fast=True (no
# readability / jusText comparison), and fast=True with favor_precision=True (its precision focus:
# no baseline rescue and no recall escalation on short extractions, stricter pruning), 20 % less
# CPU than fast=True on the wceb2026 pages the shipped router sends it (two alternating rounds,
# load 7-17: 20.4 / 20.8 against 26.9 / 24.4 CPU-s over 181 pages).
VARIANTS = {"full": {"fast": False}, "fast": {"fast": True}, "precision": {"fast": True, "favor_precision": True}}


def variant_costs(corpus: Path, cache: Path, variant: str, site_set: str | None = None, folders: dict | None = None) -> dict:
    """Per page: CPU seconds and text of trafilatura with a VARIANTS setting that
    page_costs_and_texts does not measure (its own cache, so the full/fast cache stays valid),
    beside fast=True timed again on the same page in the same minutes (``fast_paired``: the
    pair's ratio is the variant's saving whatever the load was)."""
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    import trafilatura

    sources = _page_sources(corpus, cache, site_set, folders)
    trafilatura.extract(WARM_PAGE, **VARIANTS[variant])
    out: dict = {store: {} for store, _ in sources}
    clock = time.process_time
    for store, files in sources:
        for key, raw in files.items():
            html, _ = decode_html(raw)
            times, texts = {}, {}
            for name in (variant, "fast"):
                started = clock()
                try:
                    texts[name] = trafilatura.extract(html, include_comments=False, include_tables=True, include_formatting=False, **VARIANTS[name]) or ""
                except Exception:  # noqa: BLE001 - a page trafilatura cannot read counts as empty
                    texts[name] = ""
                times[name] = clock() - started
            out[store][key] = {variant: times[variant], f"{variant}_text": texts[variant], "fast_paired": times["fast"]}
    cache.write_bytes(pickle.dumps(out))
    return out


# --------------------------------------------------------------------------- out-of-fold model


def out_of_fold(data: dict, teacher: dict, pages: list[tuple[str, str]], args, workdir: Path) -> dict:
    """Each development page's block probabilities from a model trained without its fold. Cached
    per training setting (the options below and the feature list), so that several candidate
    models' out-of-fold predictions can sit side by side."""
    setting = (
        args.trees, args.depth, args.rate, args.teacher, args.gold, args.extra_weight, args.extra_negatives_only,
        args.wceb_weight, args.wceb_types, tuple(block_features.FEATURE_NAMES), tuple(pages), *(("without", *args.without) if args.without else ()),
        *(("wcxb", args.wcxb_weight, args.wcxb_types) if any(store == "wcxb" for store, _ in pages) else ()),
        *(("site positives", data["site_positives"]) if data["site_positives"] != "all" else ()),  # "all": earlier caches' keys
    )  # fmt: skip
    cache = workdir / f"oof-{hashlib.sha1(repr(setting).encode()).hexdigest()[:12]}.pkl"
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    params = {"trees": args.trees, "depth": args.depth, "rate": args.rate}
    # As train_extract_model.py folds: the two sets' pages in turn, the site sets' by site.
    development: dict[str, list[str]] = {}
    for store, key in pages:
        development.setdefault(store, []).append(key)
    folds = cv_folds(development, data)
    probabilities = {}
    for number, fold in enumerate(folds):
        held = set(fold)
        train = [page for page in pages if page not in held]
        x, y, w = training_rows(data, train, teacher, args.teacher, args.gold, args.extra_weight, args.wceb_weight, args.wcxb_weight)
        clf = fit(params, x, y, w)
        for store, key in fold:
            rows = data[store][key].rows
            probabilities[(store, key)] = clf.predict_proba(rows)[:, 1] if len(rows) else np.zeros(0)
        print(f"  fold {number + 1}/5 trained ({len(x):,} blocks)", flush=True)
    cache.write_bytes(pickle.dumps(probabilities))
    return probabilities


def use_forest(forest: learned.Forest) -> None:
    """Make ``forest`` the one tamis.extract.learned.model() returns (and so route_signals reads):
    a candidate model, or the model with other page-level post-processing."""
    learned.model = lambda: forest


# --------------------------------------------------------------------------- candidate post-rules
#
# Rules over the KEPT blocks after keep_blocks and the shipped learned.post_rules (``--post-rule NAME ...``): each
# takes the page's block texts, feature rows and kept mask and returns the kept mask. Compared out
# of fold (the same OOF probabilities, the shipped router) on the development halves of every set;
# the held-out halves are only reported. General and structural: what the blocks' tags, landmarks,
# links and places against the kept text say, never a site, phrase or class.


def _column(rows: np.ndarray, name: str) -> np.ndarray:
    return rows[:, block_features.FEATURE_NAMES.index(name)].astype(np.float64)


def rule_detached(gap: int, max_chars: float, side: str = "both"):
    """Kept stretches (cut where ``gap`` or more dropped blocks lie between kept ones) other than the
    one holding the most kept characters, when shorter than ``max_chars``: dropped on ``side``
    (both, after or before the main stretch)."""

    def rule(texts: list[str], rows: np.ndarray, kept: np.ndarray) -> np.ndarray:
        if not kept.any():
            return kept
        lengths = np.array([len(t) for t in texts], dtype=np.float64)
        where, stretch = learned.kept_stretches(kept, gap)
        chars = np.bincount(stretch, weights=lengths[where])
        main = int(np.argmax(chars))
        away = stretch > main if side == "after" else stretch < main if side == "before" else stretch != main
        drop = away & (chars[stretch] < max_chars)
        out = kept.copy()
        out[where[drop]] = False
        return out

    return rule


def rule_tags(names: tuple[str, ...], unless_main_share: float = 1.01):
    """Kept blocks with any of the feature flags ``names`` (``tag=figcaption``, ``in=figure``) dropped,
    unless that many of the kept characters carry them (the page's content is the figure):
    learned.drop_named_minority, the shipped rules' own mechanism."""

    def rule(texts: list[str], rows: np.ndarray, kept: np.ndarray) -> np.ndarray:
        lengths = np.array([len(t) for t in texts], dtype=np.float64)
        return learned.drop_named_minority(rows, lengths, kept, names, unless_main_share)

    return rule


def rule_h1(before_long_only: bool):
    """Kept ``h1`` blocks dropped (all, or only those before the first long kept block: the title)."""

    def rule(texts: list[str], rows: np.ndarray, kept: np.ndarray) -> np.ndarray:
        if not kept.any() or not len(rows):
            return kept
        h1 = _column(rows, "tag=h1") > 0
        if before_long_only:
            long_kept = np.flatnonzero(kept & (_column(rows, "long") > 0))
            limit = long_kept[0] if len(long_kept) else len(kept)
            h1 &= np.arange(len(kept)) < limit
        return kept & ~h1

    return rule


def rule_edge_links(density: float, max_chars: int):
    """At each end of the kept text, kept blocks shorter than ``max_chars`` whose link density is at
    least ``density`` dropped, one after another until a block that is not (related-link lines,
    share bars, tag lists at the edges of the article)."""

    def rule(texts: list[str], rows: np.ndarray, kept: np.ndarray) -> np.ndarray:
        if not kept.any() or not len(rows):
            return kept
        links = _column(rows, "link_density")
        out = kept.copy()
        where = np.flatnonzero(kept)
        for order in (where, where[::-1]):
            for index in order.tolist():
                if len(texts[index]) < max_chars and links[index] >= density:
                    out[index] = False
                else:
                    break
        if not out.any():
            return kept
        return out

    return rule


def rule_link_lines(density: float, max_chars: int):
    """Every kept block shorter than ``max_chars`` with a link density of at least ``density``."""

    def rule(texts: list[str], rows: np.ndarray, kept: np.ndarray) -> np.ndarray:
        if not kept.any() or not len(rows):
            return kept
        lengths = np.array([len(t) for t in texts])
        out = kept & ~((lengths < max_chars) & (_column(rows, "link_density") >= density))
        return out if out.any() else kept

    return rule


POST_RULES = {
    "none": lambda texts, rows, kept: kept,
    "figcaption": rule_tags(("tag=figcaption",)),
    "figure": rule_tags(("tag=figcaption", "in=figure")),
    "figure-unless-main": rule_tags(("tag=figcaption", "in=figure"), 0.5),
    "in-aside": rule_tags(("in=aside",)),
    "in-form": rule_tags(("in=form",)),
    "in-nav-footer": rule_tags(("in=nav", "in=footer")),
    "in-nav": rule_tags(("in=nav",)),
    "in-footer": rule_tags(("in=footer",)),
    "in-header": rule_tags(("in=header",)),
    "h1": rule_h1(False),
    "h1-title": rule_h1(True),
    **{f"detached-{gap}-{chars}": rule_detached(gap, chars) for gap in (2, 3, 4, 6) for chars in (100, 200, 400, 800, float("inf"))},
    **{f"detached-{side}-{gap}-{chars}": rule_detached(gap, chars, side) for side in ("after", "before") for gap in (2, 3, 4) for chars in (50, 100, 200, 400)},
    **{f"edge-links-{d}-{c}": rule_edge_links(d, c) for d in (0.5, 0.8) for c in (80, 150)},
    **{f"link-lines-{d}-{c}": rule_link_lines(d, c) for d in (0.5, 0.8) for c in (80, 150)},
}
POST_RULE = POST_RULES["none"]
# What the candidates stand on: the shipped rules (learned.post_rules), or (``--post-base repeated``)
# drop_repeated alone, as before session 15's caption rule: the same comparison of that rule.
POST_BASES = {"shipped": learned.post_rules, "repeated": lambda texts, rows, kept: learned.drop_repeated(texts, kept)}
POST_BASE = POST_BASES["shipped"]


def post_rule(name: str):
    """A POST_RULES rule by name, or several joined by ``+`` applied in turn."""
    rules = [POST_RULES[part] for part in name.split("+")]

    def rule(texts: list[str], rows: np.ndarray, kept: np.ndarray) -> np.ndarray:
        for one in rules:
            kept = one(texts, rows, kept)
        return kept

    return rule


def learned_page(page: PageRows, probability: np.ndarray) -> tuple[str, np.ndarray | None]:
    """The learned text (as the step writes it) and the router's signals (None: nothing kept, the
    hybrid routes the page whatever the router says)."""
    texts, rows = page.texts, page.rows
    if not texts:
        return "", None
    lengths = np.array([len(t) for t in texts], dtype=np.float64)
    kept = POST_BASE(texts, rows, shipped_keep(page, probability, lengths))
    if kept.any():
        ruled = POST_RULE(texts, rows, kept)
        kept = ruled if ruled.any() else kept  # a rule never empties a page
    text = written_text("\n".join(t for t, k in zip(texts, kept, strict=True) if k)) if kept.any() else ""
    if not kept.any():
        return text, None
    log_odds = np.log(np.clip(probability, 1e-12, 1 - 1e-12) / np.clip(1 - probability, 1e-12, 1))
    return text, hybrid.route_signals(log_odds, lengths, kept, rows, page.tags, page.groups)


def shipped_keep(page: PageRows, probability: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """keep_blocks as extract_learned calls it: the model's page-level settings, the page's tags and
    containers (its sibling and heading fills)."""
    forest = learned.model()
    return keep_blocks(probability, lengths, forest.keep_threshold, forest.smooth, forest.isolated_chars, forest.tail_gap, tags=page.tags, groups=page.groups)


def tidy(text: str) -> str:
    """A trafilatura text as the ``extract`` step writes it."""
    return written_text(text)


# --------------------------------------------------------------------------- the table of pages


_TRAF_SCORES: dict[tuple[str, str, str], tuple[float, float, float, float]] = {}


def _traf_score(store: str, data: dict, key: str, variant: str, text: str) -> tuple[float, float, float, float]:
    """A trafilatura text's page_score, computed once a run (the same for every post-processing tried)."""
    if (store, key, variant) not in _TRAF_SCORES:
        _TRAF_SCORES[(store, key, variant)] = page_score(store, data, key, tidy(text))
    return _TRAF_SCORES[(store, key, variant)]


def page_table(data: dict, store: str, keys: list[str], probabilities, teacher: dict, costs: dict, variant: str) -> dict:
    """Per page of one set: signals, scores of the learned text and of trafilatura's, costs."""
    signals, forced, too_long, thin, learned_scores, traf_scores, learned_cost, traf_cost, full_cost = [], [], [], [], [], [], [], [], []
    for key in keys:
        text, page_signals = learned_page(data[store][key], probabilities(store, key))
        forced.append(page_signals is None)
        too_long.append(sum(len(t) for t in data[store][key].texts) >= hybrid.ROUTE_MAX_CHARS)
        thin.append(page_signals is not None and kept_chars(page_signals) < hybrid.ROUTE_MIN_KEPT_CHARS)
        signals.append(np.zeros(len(hybrid.ROUTE_SIGNALS)) if page_signals is None else page_signals)
        traf_text = teacher[store][key] if variant == "full" else costs[store][key][f"{variant}_text"]
        learned_scores.append(page_score(store, data, key, text))
        traf_scores.append(_traf_score(store, data, key, variant, traf_text))
        learned_cost.append(costs[store][key]["learned"])
        traf_cost.append(costs[store][key][variant])
        full_cost.append(costs[store][key]["full"])
    return {
        "signals": np.array(signals), "forced": np.array(forced), "too_long": np.array(too_long, dtype=bool), "thin": np.array(thin, dtype=bool),
        "learned": np.array(learned_scores), "traf": np.array(traf_scores),
        "learned_cost": np.array(learned_cost), "traf_cost": np.array(traf_cost), "full_cost": np.array(full_cost),
        "full_scores": np.array([_traf_score(store, data, key, "full", teacher[store][key]) for key in keys]),
        "set_pages": data.get("bench_pages", {}).get(store, len(data[store])),
    }  # fmt: skip


def sent(table: dict, routed: np.ndarray) -> np.ndarray:
    """The pages the hybrid sends to trafilatura when a rule routes ``routed`` (hybrid.router_sends):
    those and the pages whose learned pass kept under ROUTE_MIN_KEPT_CHARS, never a page of
    ROUTE_MAX_CHARS or more of block text; always one where the learned pass kept nothing."""
    return ((routed | table["thin"]) & ~table["too_long"]) | table["forced"]


def kept_chars(page_signals: np.ndarray) -> float:
    """The characters the learned pass kept, from route_signals' log_kept_chars (log1p of a whole number)."""
    return float(round(np.expm1(page_signals[hybrid.ROUTE_SIGNALS.index("log_kept_chars")])))


def mixed_scores(table: dict, routed: np.ndarray) -> np.ndarray:
    """Each page's page_score row in the hybrid's text: trafilatura's where it is sent, the learned pass's elsewhere."""
    return np.where(sent(table, routed)[:, None], table["traf"], table["learned"])


def outcome(store: str, table: dict, routed: np.ndarray, fixed: dict) -> tuple[float, float, float]:
    """(F1 of the mix, modelled speed-up over trafilatura per core on a set of the whole set's size, routed share)."""
    routed = sent(table, routed)
    mixed = np.where(routed[:, None], table["traf"], table["learned"])
    # Per-page costs scaled to the whole set's page count (what bench_extract.py runs), fixed costs once.
    scale = table["set_pages"] / len(routed)
    per_page = table["learned_cost"].sum() + table["traf_cost"][routed].sum()
    tamis_cpu = fixed["tamis_start"] + scale * per_page + (fixed["routed_once"] if routed.any() else 0.0)
    traf_cpu = fixed["trafilatura_start"] + scale * table["full_cost"].sum()
    return set_f1(store, mixed), traf_cpu / tamis_cpu, float(routed.mean())


Rule = tuple[float, int, int, float]  # (confidence limit, second signal's index or -1, direction, its limit)


def routed_by(rule: Rule, signals: np.ndarray) -> np.ndarray:
    """Pages a rule sends to trafilatura: confidence under its limit, or the second signal past its own."""
    confidence, second, direction, limit = rule
    routed = signals[:, 0] < confidence
    if second >= 0:
        routed |= direction * signals[:, second] >= direction * limit
    return routed


def candidate_rules(tables: dict, with_second: bool) -> list[Rule]:
    """Confidence limits alone, or with a second signal at a limit that routes up to a fifth of the pages."""
    rules: list[Rule] = [(float(c), -1, 1, 0.0) for c in np.round(np.arange(0.0, 0.97, 0.02), 2)]
    if not with_second:
        return rules
    signals = np.vstack([t["signals"][~t["forced"]] for t in tables.values()])
    seconds = []
    for index in range(1, signals.shape[1]):
        for direction in (1, -1):
            shares = np.linspace(0.8, 0.99, 12) if direction > 0 else np.linspace(0.01, 0.2, 12)
            seconds += [(index, direction, float(v)) for v in np.unique(np.quantile(signals[:, index], shares))]
    return rules + [(c, *second) for c in np.round(np.arange(0.0, 0.97, 0.04), 2) for second in seconds]


def subset(table: dict, mask: np.ndarray) -> dict:
    return {k: (v[mask] if isinstance(v, np.ndarray) else v) for k, v in table.items()}


def best_rule(tables: dict, rules: list[Rule], fixed: dict, speedup: float, bars: dict):
    """The rule with the best smaller margin over trafilatura among those within budget on both sets."""
    best = None
    for rule in rules:
        margins, result = [], {}
        within = True
        for store, table in tables.items():
            f1, ratio, share = outcome(store, table, routed_by(rule, table["signals"]), fixed)
            within &= ratio >= speedup
            margins.append(f1 - bars[store])
            result[store] = (f1, ratio, share)
        if within and (best is None or min(margins) > best[0]):
            best = (min(margins), rule, result)
    return best


def nested_cv(tables: dict, folds: dict, with_second: bool, fixed: dict, speedup: float) -> dict:
    """Each development page routed by the rule chosen on the other four fifths of the pages
    (``folds``: each page's fold number, per set)."""
    routed = {store: np.zeros(len(t["forced"]), dtype=bool) for store, t in tables.items()}
    for fold in range(5):
        masks = {store: folds[store] != fold for store in tables}
        train = {store: subset(t, masks[store]) for store, t in tables.items()}
        train_bars = {store: set_f1(store, t["full_scores"]) for store, t in train.items()}
        found = best_rule(train, candidate_rules(train, with_second), fixed, speedup, train_bars)
        rule = found[1] if found else (0.0, -1, 1, 0.0)
        for store, t in tables.items():
            routed[store][~masks[store]] = routed_by(rule, t["signals"][~masks[store]])
    return routed


def site_articles(tables: dict, routed: dict, articles: dict) -> str:
    """The mix's F1 on the site sets' ARTICLE pages (``articles``: each set's mask of them), each
    set's and both together (one metric: main_content's, pooled over pages), against trafilatura's
    with its fallbacks: the unseen-site article pages the hidden check most likely holds, and the
    tie-break between variants within 0.0005 of each other on the smallest margin."""
    parts, pooled, pooled_traf = [], [], []
    for store in (s for s in SITE_STORES if s in tables and s in articles):
        table, mask = tables[store], articles[store]
        mixed = mixed_scores(table, routed[store])[mask]
        pooled.append(mixed)
        pooled_traf.append(table["full_scores"][mask])
        parts.append(f"{store} {set_f1(store, mixed):.4f} (trafilatura {set_f1(store, table['full_scores'][mask]):.4f}, {mask.sum()} pages)")
    if not parts:
        return "no site set loaded"
    both, both_traf = set_f1("wcxb", np.vstack(pooled)), set_f1("wcxb", np.vstack(pooled_traf))
    return "; ".join(parts) + f"; together {both:.4f} (trafilatura {both_traf:.4f})"


def rule_text(rule: Rule) -> str:
    confidence, second, direction, limit = rule
    text = f"confidence < {confidence:.2f}"
    if second >= 0:
        text += f" or {hybrid.ROUTE_SIGNALS[second]} {'>=' if direction > 0 else '<='} {limit:.4f}"
    return text


def describe(result: dict, bars: dict) -> str:
    return "; ".join(f"{store} F1 {f1:.4f} ({f1 - bars[store]:+.4f}) {ratio:.2f}x, {share:.1%} routed" for store, (f1, ratio, share) in result.items())


def write_constants(rule: Rule, variant: str) -> None:
    source = HYBRID_PATH.read_text(encoding="utf-8")
    begin, end = "# ROUTER CONSTANTS (written by bench/fit_extract_router.py --write)\n", "# END ROUTER CONSTANTS\n"
    head, rest = source.split(begin)
    _, tail = rest.split(end)
    confidence, second, direction, limit = rule
    # float(): a numpy scalar's repr under numpy 2 is "np.float64(0.44)"; the signal's name in double quotes, as ruff format writes it
    body = f"ROUTE_FAST = {variant != 'full'}\nROUTE_PRECISION = {variant == 'precision'}\nROUTE_CONFIDENCE = {float(confidence)!r}\n"
    if second >= 0:
        body += f'ROUTE_SECOND: tuple[str, int, float] | None = ("{hybrid.ROUTE_SIGNALS[second]}", {direction}, {round(float(limit), 6)!r})\n'
    else:
        body += "ROUTE_SECOND: tuple[str, int, float] | None = None\n"
    HYBRID_PATH.write_text(head + begin + body + end + tail, encoding="utf-8")


def compare_post_rules(names: list[str], data: dict, stores: list[str], development: dict, held_out: dict, oof: dict, teacher: dict, args) -> None:
    """Each candidate post-rule's F1 and margin over trafilatura, development halves out of fold
    (what a rule is chosen on) then held-out halves with the shipped model (reported only): the
    learned pass alone, and with the shipped router (routed pages, and those where nothing is
    kept: trafilatura fast=True, as the hybrid calls it). trafilatura's fast text is computed only
    for the pages routed (cached in the workdir), so no per-page cost table is needed; a router
    variant's speed is then its routed share (bench_extract.py measures it)."""
    global POST_RULE
    forest = learned.model()
    fast_texts = FastTexts(args)

    def held_probability(store: str, key: str) -> np.ndarray:
        rows = data[store][key].rows
        return forest.probability(rows) if len(rows) else np.zeros(0)

    traf: dict[tuple[str, str], float] = {}

    def traf_score(store: str, key: str) -> float:
        """The page's score with trafilatura fast=True's text (what a routed page gets)."""
        if (store, key) not in traf:
            traf[(store, key)] = page_score(store, data, key, tidy(fast_texts.get(store, key)))
        return traf[(store, key)]

    halves_of = {"development (oof)": (development, lambda s, k: oof[(s, k)]), "held-out": (held_out, held_probability)}
    for half, (keys, probabilities) in halves_of.items():
        if (half == "held-out" and args.no_held_out) or (half != "held-out" and args.held_out_only):
            continue
        bars, routed = {}, {}
        for store in stores:
            bars[store] = set_f1(store, np.array([page_score(store, data, key, tidy(teacher[store][key])) for key in keys[store]]))
            routed[store] = np.array([route_page(data[store][key], probabilities(store, key)) for key in keys[store]])
        print(f"post-rules, {half} halves (trafilatura {' / '.join(f'{bars[s]:.4f}' for s in stores)}; margins over it; the shipped "
              f"router, on each candidate's kept blocks: routed without one {' / '.join(f'{routed[s].mean():.1%}' for s in stores)}):", flush=True)

        for name in names:
            POST_RULE = post_rule(name)
            cells, margins = [], []
            for store in stores:
                own, mixed = [], []
                for key in keys[store]:
                    text, page_signals = learned_page(data[store][key], probabilities(store, key))
                    own.append(page_score(store, data, key, text))
                    mixed.append(traf_score(store, key) if page_routed(data[store][key], page_signals) else own[-1])
                alone, f1 = set_f1(store, np.array(own)), set_f1(store, np.array(mixed))
                margins.append(f1 - bars[store])
                cells.append(f"{store} {f1:.4f} {f1 - bars[store]:+.4f} (alone {alone - bars[store]:+.4f})")
            fast_texts.save()
            print(f"  {name:<22} {' | '.join(cells)} | smallest {min(margins):+.4f}", flush=True)
        POST_RULE = POST_RULES["none"]
        # A router signal: pages where a kept stretch lies detached from the main one (cut at
        # ``gap`` dropped blocks, shorter than ``chars``) go to trafilatura too.
        for gap, chars in args.route_detached:
            cells, margins = [], []
            for store in stores:
                extra = np.array([has_detached(data[store][key], probabilities(store, key), gap, chars) for key in keys[store]])
                sent = routed[store] | extra
                scores = []
                for i, key in enumerate(keys[store]):
                    if sent[i]:
                        scores.append(traf_score(store, key))
                    else:
                        scores.append(page_score(store, data, key, learned_page(data[store][key], probabilities(store, key))[0]))
                f1 = set_f1(store, np.array(scores))
                margins.append(f1 - bars[store])
                cells.append(f"{store} {f1:.4f} {f1 - bars[store]:+.4f} {sent.mean():.1%} routed")
            fast_texts.save()
            print(f"  {'route detached ' + str(gap) + '/' + str(chars):<22} {' | '.join(cells)} | smallest {min(margins):+.4f}", flush=True)


def page_routed(page: PageRows, page_signals: np.ndarray | None) -> bool:
    """Whether the shipped hybrid sends the page to trafilatura, given learned_page's signals:
    nothing kept (None), or hybrid.router_sends, the rule the hybrid itself routes by."""
    if page_signals is None:
        return True
    return hybrid.router_sends(float(page_signals[0]), float(sum(len(t) for t in page.texts)), kept_chars(page_signals), lambda: page_signals)


def route_page(page: PageRows, probability: np.ndarray) -> bool:
    """Whether the shipped hybrid sends the page to trafilatura under the shipped page rules."""
    return page_routed(page, learned_page(page, probability)[1])


class FastTexts:
    """trafilatura fast=True's text of a page, computed when first asked for and cached in the workdir."""

    def __init__(self, args) -> None:
        self.path = args.workdir / "fast-texts.pkl"
        self.texts: dict = pickle.loads(self.path.read_bytes()) if self.path.is_file() else {}
        self.args = args
        self.raw: dict | None = None
        self.dirty = False

    def get(self, store: str, key: str) -> str:
        if (store, key) not in self.texts:
            import trafilatura

            if self.raw is None:
                self.raw = {}
                folders = site_folders(self.args)
                for site_store in (None, *folders):
                    self.raw.update(_page_sources(self.args.corpus, self.path, site_store, folders))
            html, _ = decode_html(self.raw[store][key])
            try:
                text = trafilatura.extract(html, include_comments=False, include_tables=True, include_formatting=False, **VARIANTS[self.args.variant]) or ""
            except Exception:  # noqa: BLE001 - a page trafilatura cannot read counts as empty
                text = ""
            self.texts[(store, key)] = text
            self.dirty = True
        return self.texts[(store, key)]

    def save(self) -> None:
        if self.dirty:
            self.path.write_bytes(pickle.dumps(self.texts))
            self.dirty = False


def has_detached(page: PageRows, probability: np.ndarray, gap: int, chars: float) -> bool:
    """Whether the learned pass keeps a stretch shorter than ``chars`` away from its main stretch."""
    if not page.texts:
        return False
    lengths = np.array([len(t) for t in page.texts], dtype=np.float64)
    kept = POST_BASE(page.texts, page.rows, shipped_keep(page, probability, lengths))
    if not kept.any():
        return False
    where, stretch = learned.kept_stretches(kept, gap)
    totals = np.bincount(stretch, weights=lengths[where])
    return bool(((np.arange(len(totals)) != np.argmax(totals)) & (totals < chars)).any())


def site_folders(args) -> dict[str, Path]:
    """The site sets' folders given ({"wceb": DIR, "wcxb": DIR}; WCXB only with wceb2026)."""
    folders = {"wceb": args.extra_wceb} if args.extra_wceb is not None else {}
    if folders and getattr(args, "extra_wcxb", None) is not None:
        folders["wcxb"] = args.extra_wcxb
    return folders


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tamis-fit-router")
    parser.add_argument("--extra-readability", type=Path, default=None, metavar="DIR")
    # The shipped model's training options (bench/train_extract_model.py's command in note 8).
    parser.add_argument("--teacher", type=float, default=0.0)
    parser.add_argument("--gold", type=float, default=1.0)
    parser.add_argument("--extra-weight", type=float, default=0.3)
    parser.add_argument("--extra-negatives-only", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--extra-wceb", type=Path, default=None, metavar="DIR", help="the third set (bench/wceb_pages.py)")
    parser.add_argument("--wceb-weight", type=float, default=0.0, help="the shipped model's weight of the third set's labels")
    parser.add_argument("--wceb-types", default="all", help="the shipped model's page types of the third set trained on (all, article)")
    parser.add_argument(
        "--extra-wcxb", type=Path, default=None, metavar="DIR",
        help="WCXB v1.0 (bench/wcxb_pages.py; needs --extra-wceb): a fourth set, its development pages scored out of fold by site, its test split held out",
    )  # fmt: skip
    parser.add_argument("--wcxb-weight", type=float, default=0.0, help="the model's weight of WCXB's development pages' labels (0: scored, not trained on)")
    parser.add_argument("--wcxb-types", default="all", help="the model's page types of WCXB's development pages trained on (all, article)")
    add_site_positive_options(parser)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument(
        "--speedup",
        type=float,
        default=3.3,
        help="the modelled per-core speed-up over trafilatura each development set must keep (3 and a margin: trafilatura's own speed swings between runs)",
    )
    parser.add_argument("--model", type=Path, default=None, metavar="NPZ", help="a candidate model (train_extract_model.py --out) instead of the shipped one")
    parser.add_argument("--keep", type=float, nargs="+", default=None, help="keep thresholds to try (default: the model's)")
    parser.add_argument("--smooth", type=float, nargs="+", default=None, help="smoothing weights to try (default: the model's)")
    parser.add_argument("--isolated", type=int, nargs="+", default=None, help="isolated-block lengths to try (default: the model's)")
    parser.add_argument("--tail", type=int, nargs="+", default=None, help="tail gaps to try (default: the model's)")
    parser.add_argument("--no-held-out", action="store_true", help="do not score the held-out halves (candidates not to be shipped)")
    parser.add_argument(
        "--variant",
        choices=tuple(VARIANTS),
        default="fast",
        help="trafilatura on routed pages: with its fallbacks, fast=True, or fast=True with favor_precision=True",
    )
    parser.add_argument("--write", action="store_true", help="store the router in tamis/extract/hybrid.py")
    parser.add_argument(
        "--second-signal", action=argparse.BooleanOptionalAction, default=True, help="also the rule family with a second signal (the slow part of the fit)"
    )
    parser.add_argument("--without", nargs="+", default=[], metavar="FEATURE", help="train without these features (train_extract_model.py --without)")
    parser.add_argument("--oof-only", action="store_true", help="compute (cache) the out-of-fold predictions and stop (no costs, no rule)")
    parser.add_argument(
        "--post-rule", nargs="+", default=[], metavar="NAME",
        help="compare these candidate rules over the kept blocks (POST_RULES; A+B: both in turn) with the shipped router, and stop",
    )  # fmt: skip
    parser.add_argument("--post-base", choices=tuple(POST_BASES), default="shipped", help="with --post-rule: the rules the candidates stand on")
    parser.add_argument("--held-out-only", action="store_true", help="with --post-rule: only the held-out halves' report")
    parser.add_argument(
        "--route-detached", nargs="+", default=[], metavar="GAP/CHARS", type=lambda v: (int(v.split("/")[0]), float(v.split("/")[1])),
        help="with --post-rule: also route the pages that keep a stretch shorter than CHARS, GAP or more dropped blocks from the main one",
    )  # fmt: skip
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    data = load_pages(args.corpus, args.workdir / "blocks.pkl")
    teacher = trafilatura_texts(args.corpus, args.workdir / "trafilatura.pkl")
    data["extra"], data["extra_truth"] = ({}, {})
    if args.extra_readability is not None:
        data["extra"], data["extra_truth"] = load_extra(args.corpus, args.extra_readability, args.workdir / "readability.pkl")
        data["extra_negatives_only"] = args.extra_negatives_only
    else:
        args.extra_weight = 0.0
    data["site_positives"] = site_positives_mode(args)
    stores = ["teval", "aeb"]
    splits = {store: halves(list(data[store])) for store in stores}
    train_types = {"wceb": args.wceb_types, "wcxb": args.wcxb_types}
    for store, loaded in load_site_sets(args.corpus, args.extra_wceb, args.extra_wcxb, args.workdir).items():
        splits[store] = add_site_set(data, teacher, store, loaded, train_types[store])
        stores.append(store)
    without_features(data, args.without)
    development = {store: sorted(splits[store][0]) for store in splits}
    held_out = {store: sorted(splits[store][1]) for store in splits}
    pages = [(store, key) for store in stores for key in development[store]]
    oof = out_of_fold(data, teacher, pages, args, args.workdir)
    if args.oof_only:
        return 0
    if args.post_rule:
        global POST_BASE
        POST_BASE = POST_BASES[args.post_base]
        compare_post_rules(args.post_rule, data, stores, development, held_out, oof, teacher, args)
        return 0
    folders = site_folders(args)
    costs = page_costs_and_texts(args.corpus, args.workdir / "costs.pkl")
    for site_store in folders:
        costs.update(page_costs_and_texts(args.corpus, args.workdir / f"costs-{site_store}.pkl", site_store, folders))
    if args.variant not in ("full", "fast"):
        for site_store in (None, *folders):
            name = f"-{site_store}" if site_store else ""
            for store, pages_costs in variant_costs(args.corpus, args.workdir / f"costs-{args.variant}{name}.pkl", args.variant, site_store, folders).items():
                for key, got in pages_costs.items():
                    costs[store][key].update(got)
        paired = [(c[args.variant], c["fast_paired"]) for store in stores for c in costs[store].values()]
        print(f"  {args.variant} against fast=True, timed in turn on each page: {sum(a for a, _ in paired) / sum(b for _, b in paired):.3f} of its CPU")
    fixed = fixed_costs(args.workdir, args.variant)
    print("fixed CPU seconds: " + ", ".join(f"{k} {v:.3f}" for k, v in fixed.items()))
    for store in stores:
        page = costs[store].values()
        print(
            f"  {store}: CPU ms a page: learned {1e3 * np.mean([c['learned'] for c in page]):.1f}, "
            f"trafilatura {1e3 * np.mean([c['full'] for c in page]):.1f}, trafilatura fast {1e3 * np.mean([c['fast'] for c in page]):.1f}"
        )
    # The router's own cross-validation folds: pages in turn, the site sets' by site (as the
    # block model's), so that a rule is never chosen on pages of the site it then routes.
    folds = {store: np.arange(len(development[store])) % 5 for store in stores}
    for store in SITE_STORES:
        if store in stores:
            fold_of = site_folds(development[store], data[f"{store}_sites"])
            folds[store] = np.array([fold_of[key] for key in development[store]])

    articles = {store: np.array([data[f"{store}_types"][key] == "article" for key in development[store]]) for store in SITE_STORES if store in stores}
    shipped = load_forest(args.model) if args.model is not None else learned.model()
    posts = [
        {"keep": keep, "smooth": smooth, "isolated": isolated, "tail": tail}
        for keep in args.keep or [shipped.keep_threshold] for smooth in args.smooth or [shipped.smooth]
        for isolated in args.isolated or [shipped.isolated_chars] for tail in args.tail or [shipped.tail_gap]
    ]  # fmt: skip
    best = None
    for post in posts:
        use_forest(dataclasses.replace(shipped, keep_threshold=post["keep"], smooth=post["smooth"], isolated_chars=post["isolated"], tail_gap=post["tail"]))
        print(f"post-processing {post}:", flush=True)
        tables = {store: page_table(data, store, development[store], lambda s, k: oof[(s, k)], teacher, costs, args.variant) for store in stores}
        bars = {store: set_f1(store, tables[store]["full_scores"]) for store in tables}
        print("  trafilatura on the development halves: " + ", ".join(f"{store} {bars[store]:.4f}" for store in stores))
        alone = {store: outcome(store, t, np.zeros(len(t["forced"]), dtype=bool), fixed) for store, t in tables.items()}
        print(f"  learned alone (cv; nothing kept: routed): {describe(alone, bars)}")
        confidence = {store: tables[store]["signals"][:, 0] for store in tables}
        for limit in sorted({0.6, 0.7, 0.8, hybrid.ROUTE_CONFIDENCE}):  # the shipped limit among them
            result = {store: outcome(store, tables[store], confidence[store] < limit, fixed) for store in tables}
            print(f"  confidence below {limit:.2f}: {describe(result, bars)}")
        # The rule families, compared by nested cross-validation (each fold's pages routed by the
        # rule chosen on the other folds), then the better family's rule chosen on all development pages.
        chosen_family = None
        for with_second in (False, True) if args.second_signal else (False,):
            routed = nested_cv(tables, folds, with_second, fixed, args.speedup)
            result = {store: outcome(store, tables[store], routed[store], fixed) for store in tables}
            margin = min(result[store][0] - bars[store] for store in tables)
            family = "confidence and a second signal" if with_second else "confidence alone"
            print(f"  router {family} (nested cv): {describe(result, bars)} (smallest margin {margin:+.4f})", flush=True)
            print(f"    site sets' article pages: {site_articles(tables, routed, articles)}")
            if chosen_family is None or margin > chosen_family[0] + 0.0005:  # the second signal must earn its place
                chosen_family = (margin, with_second, result, routed)
        found = best_rule(tables, candidate_rules(tables, chosen_family[1]), fixed, args.speedup, bars)
        if found is None:
            print("  no rule keeps the budget")
            continue
        _, rule, result = found
        print(f"  chosen on all development pages: {rule_text(rule)}: {describe(result, bars)}")
        if best is None or chosen_family[0] > best[0]:
            best = (chosen_family[0], post, rule, chosen_family[2], bars, tables, chosen_family[3])
    if best is None:
        print("no post-processing and rule keep the budget")
        return 1
    margin, post, rule, result, bars, dev_tables, dev_routed = best
    print(f"best by nested cv: {post}, {rule_text(rule)}: {describe(result, bars)} (smallest margin {margin:+.4f})")
    print(f"  its site sets' article pages (nested cv): {site_articles(dev_tables, dev_routed, articles)}")
    if args.model is not None and post != posts[0]:
        print("  (the held-out report below uses that post-processing; retrain the model with it before shipping)")

    if not args.no_held_out:
        # The held-out halves: the model (shipped or --model) with the chosen post-processing and rule.
        forest = dataclasses.replace(shipped, keep_threshold=post["keep"], smooth=post["smooth"], isolated_chars=post["isolated"], tail_gap=post["tail"])
        use_forest(forest)

        def model_probability(store: str, key: str) -> np.ndarray:
            rows = data[store][key].rows
            return forest.probability(rows) if len(rows) else np.zeros(0)

        held_tables = {store: page_table(data, store, held_out[store], model_probability, teacher, costs, args.variant) for store in stores}
        held_bars = {store: set_f1(store, held_tables[store]["full_scores"]) for store in held_tables}
        learned_alone = {store: outcome(store, t, np.zeros(len(t["forced"]), dtype=bool), fixed) for store, t in held_tables.items()}
        shipped_rule = (hybrid.ROUTE_CONFIDENCE, -1, 1, 0.0) if hybrid.ROUTE_SECOND is None else None
        chosen = {store: outcome(store, t, routed_by(rule, t["signals"]), fixed) for store, t in held_tables.items()}
        print(f"held-out halves (trafilatura {' / '.join(f'{held_bars[store]:.4f}' for store in stores)}; routed pages: trafilatura {args.variant}):")
        print(f"  learned alone:          {describe(learned_alone, held_bars)}")
        if shipped_rule is not None:
            old = {store: outcome(store, t, routed_by(shipped_rule, t["signals"]), fixed) for store, t in held_tables.items()}
            print(f"  shipped {rule_text(shipped_rule)}: {describe(old, held_bars)}")
        print(f"  {rule_text(rule)}: {describe(chosen, held_bars)}")
        # Every page of each set scored by a model that never trained on it: the development pages
        # out of fold (routed by the nested CV's rules), the held-out ones by the model and a rule.
        for held_rule in [shipped_rule, rule] if shipped_rule not in (None, rule) else [rule]:
            cells = []
            for store in stores:
                held_mix = mixed_scores(held_tables[store], routed_by(held_rule, held_tables[store]["signals"]))
                mix = np.vstack([mixed_scores(dev_tables[store], dev_routed[store]), held_mix])
                traf = np.vstack([dev_tables[store]["full_scores"], held_tables[store]["full_scores"]])
                sd, _, _, at_or_over = bootstrap_margin(list(mix), list(traf), lambda rows, store=store: set_f1(store, np.array(rows)))
                margin = set_f1(store, mix) - set_f1(store, traf)
                cells.append(f"{store} F1 {set_f1(store, mix):.4f} ({margin:+.4f} +- {sd:.4f}, {at_or_over:.0%} of draws >= 0; {len(mix)} pages)")
            print(f"every page out of sample (development out of fold; held-out {rule_text(held_rule)}): {'; '.join(cells)}")
    if args.write:
        write_constants(rule, args.variant)
        print(f"wrote the router into {HYBRID_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
