"""Train tamis's block classifier (``tamis/extract/block_model.npz``) and say how well it does.

    .venv/bin/python bench/train_extract_model.py [--corpus ../shared/corpus] [--write]
        [--extra-readability DIR --extra-weight W ...] [--extra-wceb DIR --wceb-weight W ... --wceb-types all article ...]
        [--extra-wcxb DIR --wcxb-weight W ... --wcxb-types all article ...]
        [--trees N --depth D --rate R --leaf L --max-features F] [--keep P ... --tail G ...] [--errors N]
        [--without FEATURE ...]

(needs scikit-learn, at training time only: ``pip install scikit-learn``; tamis predicts from the
exported arrays and never imports it.)

1. Every page of trafilatura-eval and scrapinghub-aeb is decoded as the ``extract`` step decodes it
   and cut into blocks with their features (:mod:`tamis.extract.blocks`).
2. Both sets are split in two by the fixed hash of ``bench_extract.halves``; only the DEVELOPMENT
   halves are trained on. Labels:
   * trafilatura-eval: a block holding one of the page's ``with`` snippets (or held by one) is
     content, a block holding one of its ``without`` snippets is not; the blocks no snippet names
     get trafilatura's verdict (in its output or not) as a weak label, at a weight chosen below.
   * scrapinghub-aeb: the gold ``articleBody`` is the page's whole main text, so every block is
     labelled: content when most of its word 4-grams are in the gold text (a block too short for
     a 4-gram: when its words appear there and it stands inside the gold span), not content when
     none or few are, unlabelled in between.
   * ``--extra-wceb DIR`` (the web-content-extraction-benchmark's 2026 pages, ``bench/wceb_pages.py``):
     a third evaluation set. Its DEVELOPMENT half (by site) is trained on, each block labelled
     against the page's ``main_content`` as an AEB block is against its ``articleBody``, at a
     weight chosen below (``--wceb-types article``: its article pages only); its held-out half is
     never trained on. It then joins the CV criterion: the smallest margin over trafilatura across
     the three development halves (its folds by site, so a site's pages are never on both sides).
   * ``--extra-readability DIR`` (Mozilla Readability's test pages, ``bench/readability_pages.py``):
     extra TRAINING pages only, never scored; synthetic fixtures and every page whose site is in
     either evaluation set are left out; each block is labelled against Readability's expected
     article as an AEB block is against its ``articleBody``, at a weight chosen below. They are in
     the training rows of every cross-validation fold.
   * ``--extra-wcxb DIR`` (WCXB v1.0's pages, ``bench/wcxb_pages.py``; needs ``--extra-wceb``, whose
     pages it holds): a fourth set, handled as wceb2026 is. Its development pages are its DEV
     split's pages whose url and site are in none of the other sets and whose site is in no page
     of its test split: CV folds by site, trained on in the other folds (each block labelled
     against the page's ``main_content`` as a wceb2026 block is, at a weight chosen below,
     ``--wcxb-types article``: its article pages only; weight 0: scored, never trained on), and
     scored out of fold against ``main_content``: it joins the CV criterion (``--no-wcxb-criterion``:
     scored and printed, left out of the smallest margin, session 19's three-set criterion). Its
     TEST split (sites in no development page) is its held-out half: never trained on, scored last.
3. Hyper-parameters (teacher weight, AEB weight, Readability pages' weight, keep threshold, neighbour smoothing, the short-block
   rule, the tail cut after the article) are
   chosen by 5-fold cross-validation over the development pages of every set (folds by page; by site
   for wceb2026 and WCXB),
   scored with each set's own metric on the text the kept blocks make, after the ``extract``
   step's boilerplate-line filter. The criterion is the smaller of the two margins over
   trafilatura on the same pages, so neither set is traded for the other. The trees' capacity
   (``--trees``, ``--depth``, ``--rate``, ``--leaf``, ``--max-features``) is compared by running
   this once per setting. ``--errors N`` prints where the chosen setting's out-of-fold errors lie
   (kept blocks that are not content, dropped blocks that are; by place against the main run, the
   main container, tag and landmarks, in characters) and the N longest wrong blocks.
   ``--without FEATURE ...`` (``NAME*``: a prefix) zeroes those columns on every page, so a new
   feature group is compared with the same code, pages and folds as the model without it
   (``fit_extract_router.py --without`` takes the same list for the hybrid's nested CV).
4. The chosen model is trained on both development halves, exported as arrays, checked to give
   sklearn's own probabilities, and scored on the two held-out halves (the fair figures) and on
   each whole set (which includes the training pages; labelled so). ``--write`` saves it.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pickle
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_extract import _norm, _read, aeb_score, halves, load_aeb, load_teval, teval_score  # noqa: E402
from readability_pages import evaluation_sites, load_readability  # noqa: E402
from wceb_pages import load_wceb, wceb_halves  # noqa: E402
from wcxb_pages import load_wcxb, training_pages  # noqa: E402

from tamis.extract import blocks as B  # noqa: E402
from tamis.extract.learned import MODEL_PATH, Forest, keep_blocks, page_confidence, post_rules, save_forest  # noqa: E402
from tamis.io.htmldecode import decode_html  # noqa: E402
from tamis.steps.extract_html import written_text  # noqa: E402


def page_blocks(raw: bytes) -> B.PageBlocks | None:
    """The page's blocks as the ``extract`` step cuts them (the compiled walk where built)."""
    html, _ = decode_html(raw)
    root = B.parse(html)
    if root is None:
        return None
    return B.page_blocks(root)


class PageRows(NamedTuple):
    """A cached page as training and fitting read it: its blocks' texts and feature rows, and each
    block's tag and container (PageBlocks.tags / groups), which keep_blocks' sibling and heading
    fills read: without them a script would score a text the ``extract`` step does not write."""

    texts: list[str]
    rows: np.ndarray
    tags: np.ndarray | None = None
    groups: np.ndarray | None = None


def _rows(blocks: dict) -> dict:
    """{key: PageRows} of cached blocks (the cache holds blocks; their features are computed on each load)."""
    rows = {}
    for key, page in blocks.items():
        if page is None or not page.texts:
            rows[key] = PageRows([], np.zeros((0, len(B.FEATURE_NAMES)), dtype=np.float32))
        else:
            rows[key] = PageRows(page.texts, page.features(), page.tags(), page.groups())
    return rows


def trafilatura_text(html: str) -> str:
    """trafilatura's text of a decoded page, as the ``trafilatura`` extractor calls it (every set's
    teacher and bar); a page it cannot read counts as empty."""
    import trafilatura

    try:
        return trafilatura.extract(html, include_comments=False, include_tables=True) or ""
    except Exception:  # noqa: BLE001 - a page trafilatura cannot read counts as empty
        return ""


# The sets whose gold is a page's whole main text (labelled and scored by word 4-grams, AEB's
# metric) and, for the two with sites of many pages, whose CV folds are by site.
GOLD = {"aeb": "truth", "extra": "extra_truth", "wceb": "wceb_truth", "wcxb": "wcxb_truth"}
SITE_STORES = ("wceb", "wcxb")


def site_folds(keys: list[str], sites: dict[str, str]) -> dict[str, int]:
    """Each page's CV fold (0-4) by its site, so that a site's pages are never on both sides: the
    sites in sorted order, dealt to the folds in turn."""
    fold = {site: i % 5 for i, site in enumerate(sorted({sites[k] for k in keys}))}
    return {key: fold[sites[key]] for key in keys}


def cv_folds(development: dict[str, list[str]], data: dict) -> list[list[tuple[str, str]]]:
    """The five CV folds of the development pages: trafilatura-eval's and AEB's pages in turn, the
    site sets' (SITE_STORES, where loaded) by site."""
    plain = [(store, key) for store in ("teval", "aeb") for key in development.get(store, [])]
    folds = [plain[i::5] for i in range(5)]
    for store in SITE_STORES:
        for key, fold in site_folds(development.get(store, []), data.get(f"{store}_sites", {})).items():
            folds[fold].append((store, key))
    return folds


def load_site_sets(corpus: Path, wceb: Path | None, wcxb: Path | None, workdir: Path) -> dict[str, tuple]:
    """The site sets given (wceb2026, WCXB), each as (pages' rows, gold, types, sites, (development
    keys, held-out keys), trafilatura's texts)."""
    sets = {}
    if wceb is not None:
        sets["wceb"] = load_wceb_blocks(corpus, wceb, workdir / "wceb.pkl")
    if wcxb is not None:
        if wceb is None:
            raise SystemExit("--extra-wcxb needs --extra-wceb DIR (WCXB holds wceb2026's pages; --wceb-weight 0 scores it without training on it)")
        sets["wcxb"] = load_wcxb_blocks(corpus, wcxb, wceb, workdir / "wcxb.pkl")
    return sets


def add_site_set(data: dict, teacher: dict, store: str, loaded: tuple, train_types: str) -> tuple[set, set]:
    """Put a site set's pages, gold, page types (``train_types``: those trained on, all or one)
    and sites into ``data``, trafilatura's texts into ``teacher``; returns its (development,
    held-out) keys."""
    data[store], data[f"{store}_truth"], data[f"{store}_types"], data[f"{store}_sites"], split, teacher[store] = loaded
    set_train_types(data, {store: train_types})
    # What bench_extract.py runs of the set (the modelled speed's page count): WCXB's test split only.
    data.setdefault("bench_pages", {})[store] = len(split[1]) if store == "wcxb" else len(data[store])
    return split


def load_pages(corpus: Path, cache: Path) -> dict:
    """Every page's block texts and feature rows. The cache holds the blocks (cutting is the slow
    part), not the features: they are computed again on each load, so a feature change needs no
    new cache."""
    if cache.is_file():
        data = pickle.loads(cache.read_bytes())
    else:
        items, teval_files, _ = load_teval(corpus, cache.parent / "teval")
        truth, aeb_files = load_aeb(corpus)
        data = {"teval": {}, "aeb": {}, "items": items, "truth": truth}
        for name, files in (("teval", teval_files), ("aeb", aeb_files)):
            for key, path in files.items():
                data[name][key] = page_blocks(_read(path))
        cache.write_bytes(pickle.dumps(data))
    for name in ("teval", "aeb"):
        data[name] = _rows(data[name])
    return data


def load_extra(corpus: Path, folder: Path, cache: Path) -> tuple[dict, dict[str, str]]:
    """Readability's real pages, cut into blocks as the evaluation pages are: ({name: PageRows},
    {name: gold text}); pages without a block are left out."""
    if cache.is_file():
        blocks, gold = pickle.loads(cache.read_bytes())
    else:
        pages, skipped = load_readability(folder, evaluation_sites(corpus))
        print(f"readability pages: {len(pages)} kept, {len(skipped)} left out:")
        for name, why in skipped:
            print(f"    {name}: {why}")
        blocks = {page.name: page_blocks(page.raw) for page in pages}
        gold = {page.name: page.gold for page in pages}
        cache.write_bytes(pickle.dumps((blocks, gold)))
    extra = {}
    for name, page in blocks.items():
        if page is not None and page.texts:
            extra[name] = PageRows(page.texts, page.features(), page.tags(), page.groups())
    return extra, gold


def load_wceb_blocks(corpus: Path, folder: Path, cache: Path) -> tuple[dict, dict[str, str], dict[str, str], dict[str, str], tuple[set, set], dict[str, str]]:
    """The third set's pages cut into blocks: ({key: PageRows}, {key: gold}, {key: page type},
    {key: site}, (development keys, held-out keys), {key: trafilatura's text})."""
    if cache.is_file():
        blocks, gold, types, sites, split, teacher = pickle.loads(cache.read_bytes())
    else:
        pages, skipped = load_wceb(folder, evaluation_sites(corpus))
        print(f"wceb2026 pages: {len(pages)} kept, {len(skipped)} left out (site in another set, or no page)")
        blocks, teacher = {}, {}
        for page in pages:
            blocks[page.key] = page_blocks(page.raw)
            teacher[page.key] = trafilatura_text(page.html())
        gold = {page.key: page.gold for page in pages}
        types = {page.key: page.page_type for page in pages}
        sites = {page.key: page.site or page.key for page in pages}
        split = wceb_halves(pages)
        cache.write_bytes(pickle.dumps((blocks, gold, types, sites, split, teacher)))
    return _rows(blocks), gold, types, sites, split, teacher


def load_wcxb_blocks(corpus: Path, folder: Path, wceb: Path, cache: Path) -> tuple[dict, dict, dict, dict, tuple[set, set], dict[str, str]]:
    """WCXB's development pages (dev split, ``wcxb_pages.training_pages``) and test pages cut into
    blocks, as load_wceb_blocks returns wceb2026's: ({key: PageRows}, {key: main_content},
    {key: page type}, {key: site}, (development keys, test keys), {key: trafilatura's text})."""
    if cache.is_file():
        blocks, gold, types, sites, split, teacher = pickle.loads(cache.read_bytes())
    else:
        pages = load_wcxb(folder, corpus, wceb)
        train, left_out = training_pages(pages)
        print(f"WCXB: {len(train)} development pages (dev split), {len(pages.test)} test pages ({len(pages.left_out) + len(left_out)} left out)")
        blocks, gold, types, sites, teacher = {}, {}, {}, {}, {}
        for page in train + pages.test:
            blocks[page.key] = page_blocks(page.raw)
            teacher[page.key] = trafilatura_text(page.html())
            gold[page.key], types[page.key], sites[page.key] = page.gold, page.page_type, page.site or page.key
        split = ({page.key for page in train}, {page.key for page in pages.test})
        cache.write_bytes(pickle.dumps((blocks, gold, types, sites, split, teacher)))
    return _rows(blocks), gold, types, sites, split, teacher


def without_features(data: dict, names: list[str]) -> None:
    """Set the named feature columns to zero on every page of every store (a constant column is
    never split on, so the trees are those trained without them): the A/B of a feature group by
    the same cross-validation, on the same code and pages. ``NAME*`` names every feature starting
    with NAME."""
    columns = [i for i, feature in enumerate(B.FEATURE_NAMES) for name in names if feature == name or (name.endswith("*") and feature.startswith(name[:-1]))]
    if names and not columns:
        raise SystemExit(f"--without {names}: no such feature")
    for store in ("teval", "aeb", "extra", *SITE_STORES):
        for page in data.get(store, {}).values():
            page.rows[:, columns] = 0.0


def trafilatura_texts(corpus: Path, cache: Path) -> dict[str, dict[str, str]]:
    """trafilatura's output on every page of both sets, as the ``trafilatura`` extractor calls it
    (the weak labels' source on the development half, and the bar to pass on every half)."""
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    _, teval_files, _ = load_teval(corpus, cache.parent / "teval")
    _, aeb_files = load_aeb(corpus)
    out: dict[str, dict[str, str]] = {"teval": {}, "aeb": {}}
    for name, files in (("teval", teval_files), ("aeb", aeb_files)):
        for key, path in files.items():
            out[name][key] = trafilatura_text(decode_html(_read(path))[0])
    cache.write_bytes(pickle.dumps(out))
    return out


# --------------------------------------------------------------------------- labels


def snippet_labels(texts: list[str], item: dict) -> np.ndarray:
    """1 content, 0 not content, -1 unlabelled, for each block of a trafilatura-eval page."""
    labels = np.full(len(texts), -1, dtype=np.int8)
    normed = [_norm(t) for t in texts]
    for snippets, value in ((item["without"], 0), (item["with"], 1)):
        for snippet in snippets:
            s = _norm(snippet)
            if not s:
                continue
            for i, text in enumerate(normed):
                if s in text or (len(text) >= 20 and text in s):
                    labels[i] = value if labels[i] in (-1, value) else -2  # -2: both: ambiguous
    labels[labels == -2] = -1
    return labels


_TOKEN_RE = re.compile(r"\w+")


def gold_labels(texts: list[str], gold: str) -> np.ndarray:
    """1 content, 0 not content, -1 unlabelled, for each block of a page whose whole main text is
    known (scrapinghub-aeb's ``articleBody``), by the benchmark's own unit, word 4-grams."""
    gold_tokens = _TOKEN_RE.findall(gold)
    gold_grams = {tuple(gold_tokens[i : i + 4]) for i in range(len(gold_tokens) - 3)}
    gold_joined = f" {' '.join(gold_tokens)} "
    labels = np.full(len(texts), -1, dtype=np.int8)
    short_found = []
    for i, text in enumerate(texts):
        tokens = _TOKEN_RE.findall(text)
        if not tokens:
            continue  # no words: no effect on the metric, nothing to learn
        if len(tokens) >= 4:
            grams = [tuple(tokens[j : j + 4]) for j in range(len(tokens) - 3)]
            share = sum(gram in gold_grams for gram in grams) / len(grams)
            labels[i] = 1 if share >= 0.5 else (0 if share <= 0.1 else -1)
        elif f" {' '.join(tokens)} " in gold_joined:
            short_found.append(i)
        else:
            labels[i] = 0
    long_content = np.flatnonzero(labels == 1)
    if len(long_content):
        first, last = long_content[0], long_content[-1]
        for i in short_found:  # a short line found in the gold text counts only inside its span
            labels[i] = 1 if first <= i <= last else -1
    return labels


def teacher_guess(texts: list[str], reference: str) -> np.ndarray:
    normed = _norm(reference)
    return np.array([1.0 if _norm(t) in normed else 0.0 for t in texts])


def page_rows(
    data: dict, store: str, key: str, teacher: dict, teacher_weight: float, gold_weight: float, extra_weight: float = 0.0, wceb_weight: float = 0.0,
    wcxb_weight: float = 0.0,
):  # fmt: skip
    """(rows, labels, weights) of one training page, the unlabelled blocks left out."""
    texts, rows = data[store][key].texts, data[store][key].rows
    if not texts:
        return None
    if store in SITE_STORES:
        labels = gold_labels(texts, data[GOLD[store]][key]).astype(np.float64)
        weights = np.where(labels >= 0, wceb_weight if store == "wceb" else wcxb_weight, 0.0)
        weights[(labels == 1) & ~site_positive_kept(rows, data.get("site_positives", "all"))] = 0.0
    elif store in ("aeb", "extra"):
        labels = gold_labels(texts, data[GOLD[store]][key]).astype(np.float64)
        weights = np.where(labels >= 0, gold_weight if store == "aeb" else extra_weight, 0.0)
        if store == "extra" and data.get("extra_negatives_only"):
            weights[labels == 1] = 0.0  # Readability keeps captions, bylines, ...: only what it drops is taken
    else:
        labels = snippet_labels(texts, data["items"][key]).astype(np.float64)
        weights = np.where(labels >= 0, 1.0, 0.0)
        if teacher_weight > 0:
            unlabelled = labels < 0
            labels = np.where(unlabelled, teacher_guess(texts, teacher["teval"].get(key, "")), labels)
            weights = np.where(unlabelled, teacher_weight, weights)
    chosen = weights > 0
    return rows[chosen], labels[chosen], weights[chosen]


# Which of a site set's (wceb2026's, WCXB's) content-labelled blocks are trained on. Their gold
# (``main_content``) keeps titles, bylines, dates, captions and subheadings that AEB's
# ``articleBody`` leaves out (by characters of gold-content blocks, development pages: h2-h6 are
# content 0.64 of the time on WCXB dev articles against 0.10 on AEB dev, blocks with a meta word in
# their or their ancestors' class 0.64 against 0.29, blocks under 80 characters 0.40 against 0.14),
# so their positives teach the trees to keep what AEB counts as noise. "none": only the blocks
# labelled not content are taken (as Readability's pages, --extra-negatives-only); "long-in-run":
# content labels only on long blocks (blocks.LONG_CHARS, low link density) inside the page's main
# run, where both conventions agree; "all": every label.
SITE_POSITIVES = ("all", "none", "long-in-run")
_LONG = B.FEATURE_NAMES.index("long")
_RUN_BEFORE = B.FEATURE_NAMES.index("run_before")
_RUN_AFTER = B.FEATURE_NAMES.index("run_after")


def site_positive_kept(rows: np.ndarray, mode: str) -> np.ndarray:
    """Per block of a site set's page: may its content label be trained on (``SITE_POSITIVES``)."""
    if mode == "all":
        return np.ones(len(rows), dtype=bool)
    if mode == "none":
        return np.zeros(len(rows), dtype=bool)
    if mode == "long-in-run":
        return (rows[:, _LONG] > 0) & (rows[:, _RUN_BEFORE] == 0) & (rows[:, _RUN_AFTER] == 0)
    raise ValueError(f"unknown site positives mode {mode!r} (one of {', '.join(SITE_POSITIVES)})")


def site_positives_mode(args) -> str:
    """``--site-negatives-only`` / ``--site-positives-in-run`` as a ``SITE_POSITIVES`` mode."""
    if args.site_negatives_only and args.site_positives_in_run:
        raise SystemExit("--site-negatives-only and --site-positives-in-run exclude each other")
    return "none" if args.site_negatives_only else ("long-in-run" if args.site_positives_in_run else "all")


def add_site_positive_options(parser: argparse.ArgumentParser) -> None:
    """The two options that choose ``SITE_POSITIVES``' mode (both scripts take them)."""
    parser.add_argument(
        "--site-negatives-only", action="store_true",
        help="of the site sets (wceb2026, WCXB) learn only the blocks their gold leaves out (as --extra-negatives-only for Readability's)",
    )  # fmt: skip
    parser.add_argument(
        "--site-positives-in-run", action="store_true",
        help="of the site sets learn content labels only on long blocks inside the page's main run (and every not-content label)",
    )  # fmt: skip


def training_rows(
    data: dict, pages: list[tuple[str, str]], teacher: dict, teacher_weight: float, gold_weight: float, extra_weight: float = 0.0, wceb_weight: float = 0.0,
    wcxb_weight: float = 0.0,
):  # fmt: skip
    xs, ys, ws = [], [], []
    if extra_weight > 0:
        pages = pages + [("extra", key) for key in sorted(data["extra"])]
    site_weights = {"wceb": wceb_weight, "wcxb": wcxb_weight}
    for store, key in pages:
        if store in site_weights and (site_weights[store] <= 0 or data[f"{store}_types"][key] not in data[f"{store}_train_types"]):
            continue  # a site set's page at weight 0, or of a page type not trained on: scored only
        got = page_rows(data, store, key, teacher, teacher_weight, gold_weight, extra_weight, wceb_weight, wcxb_weight)
        if got is not None:
            xs.append(got[0])
            ys.append(got[1])
            ws.append(got[2])
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ws)


# --------------------------------------------------------------------------- model


def export(clf, post: dict) -> Forest:
    """sklearn's HistGradientBoostingClassifier as packed arrays (leaves point to themselves)."""
    trees = [predictors[0].nodes for predictors in clf._predictors]
    nodes = max(len(tree) for tree in trees)
    count = len(trees)
    feature = np.zeros((count, nodes), dtype=np.int32)
    threshold = np.full((count, nodes), np.inf)
    left = np.tile(np.arange(nodes, dtype=np.int32), (count, 1))
    right = left.copy()
    value = np.zeros((count, nodes))
    depth = 0
    for t, tree in enumerate(trees):
        n = len(tree)
        inner = tree["is_leaf"] == 0
        own = np.arange(n)
        feature[t, :n] = np.where(inner, tree["feature_idx"], 0)
        threshold[t, :n] = np.where(inner, tree["num_threshold"], np.inf)
        left[t, :n] = np.where(inner, tree["left"], own)
        right[t, :n] = np.where(inner, tree["right"], own)
        value[t, :n] = np.where(inner, 0.0, tree["value"])
        depth = max(depth, int(tree["depth"].max()))
    base = float(np.ravel(clf._baseline_prediction)[0])
    return Forest(
        feature, threshold, left, right, value, base, depth, post["keep"], tuple(B.FEATURE_NAMES),
        smooth=post["smooth"], isolated_chars=post["isolated"], tail_gap=post["tail"],
    )  # fmt: skip


def set_train_types(data: dict, types: dict[str, str]) -> None:
    """The page types each loaded site set trains on ("all" or one type); a set not loaded (no
    --extra-wceb / --extra-wcxb) is skipped, so the script runs on the two issue sets alone."""
    for store, chosen in types.items():
        if f"{store}_types" in data:
            data[f"{store}_train_types"] = set(data[f"{store}_types"].values()) if chosen == "all" else {chosen}


def fit(params: dict, x, y, w):
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        max_iter=params["trees"], max_depth=params["depth"], learning_rate=params["rate"], min_samples_leaf=params.get("leaf", 10),
        max_features=params.get("max_features", 1.0), early_stopping=False, random_state=params.get("seed", 0),
    )  # fmt: skip
    clf.fit(x, y, sample_weight=w)
    return clf


# --------------------------------------------------------------------------- scoring


def page_kept(page: PageRows, probability: np.ndarray, post: dict) -> np.ndarray:
    """The blocks extract_learned keeps: keep_blocks with the page's tags and containers (its
    fills), then the shipped page-level rules (``learned.post_rules``)."""
    lengths = np.array([len(t) for t in page.texts], dtype=np.float64)
    kept = keep_blocks(probability, lengths, post["keep"], post["smooth"], post["isolated"], post["tail"], tags=page.tags, groups=page.groups)
    return post_rules(page.texts, page.rows, kept) if kept.any() else kept


def page_text(page: PageRows, probability: np.ndarray, post: dict) -> str:
    """What the ``extract`` step writes for the page: the kept blocks (page_kept), one a line,
    as extract_main_text finishes every extractor's text (extracted_text), then the step's
    boilerplate-line filter."""
    if not page.texts:
        return ""
    kept = page_kept(page, probability, post)
    return written_text("\n".join(t for t, k in zip(page.texts, kept, strict=True) if k))


def score_set(data: dict, store: str, keys: list[str], outputs: dict[str, str]) -> tuple[float, float, float]:
    if store in GOLD:
        return aeb_score({k: data[GOLD[store]][k] for k in keys}, outputs)
    return teval_score({k: data["items"][k] for k in keys}, outputs)


def routing_table(data: dict, keys: dict[str, list[str]], probabilities: dict, post: dict, teacher: dict, bar: dict) -> None:
    """``tamis_learned_hybrid``'s choice, on out-of-fold predictions: pages whose confidence is
    below a limit take trafilatura's text. Printed per limit: each set's F1, its margin over
    trafilatura alone and the share of pages sent (what the hybrid's speed pays for)."""
    for limit in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        cells = []
        for store, store_keys in keys.items():
            outputs, sent = {}, 0
            for key in store_keys:
                page = data[store][key]
                probability = probabilities[(store, key)]
                lengths = np.array([len(t) for t in page.texts], dtype=np.float64)
                log_odds = np.log(np.clip(probability, 1e-12, 1 - 1e-12) / np.clip(1 - probability, 1e-12, 1))
                if page_confidence(log_odds, lengths, post["keep"]) < limit:
                    outputs[key] = teacher[store][key]
                    sent += 1
                else:
                    outputs[key] = page_text(page, probability, post)
            f1 = score_set(data, store, store_keys, outputs)[2]
            cells.append(f"{store} F1 {f1:.4f} ({f1 - bar[store]:+.4f}), {sent / len(store_keys):5.1%} to trafilatura")
        print(f"  hybrid, confidence below {limit:.2f} to trafilatura (cv): " + "; ".join(cells))


def block_labels(data: dict, store: str, key: str) -> np.ndarray:
    texts = data[store][key].texts
    return gold_labels(texts, data[GOLD[store]][key]) if store in GOLD else snippet_labels(texts, data["items"][key])


def _error_place(row: np.ndarray, at: dict[str, int]) -> dict[str, str]:
    """Where a block stands, in the words of its features: against the main run (and how far),
    the main container, its own tag, its landmark ancestors."""
    distance = round(float(row[at["run_distance"]]) * B.RUN_DISTANCE_CAP)
    side = "before" if row[at["run_before"]] else "after" if row[at["run_after"]] else "in"
    band = "" if side == "in" else ":1-2" if distance <= 2 else ":3-8" if distance <= 8 else ":9-20" if distance <= 20 else ":21+"
    tag = next((t for t in (*B.OWN_TAGS, "other") if row[at[f"tag={t}"]]), "other")
    landmarks = "+".join(t for t in ("nav", "aside", "footer", "header", "form", "article", "main", "figure", "section") if row[at[f"in={t}"]])
    return {
        "main run": side + band, "main container": "inside" if row[at["in_main"]] else "outside", "tag": tag,
        "landmarks": landmarks or "-", "long": "long" if row[at["long"]] else "short",
    }  # fmt: skip


def error_analysis(data: dict, keys: dict[str, list[str]], probabilities: dict, post: dict, examples: int) -> None:
    """Out-of-fold errors of the chosen setting, in characters: the kept blocks that are not content
    (precision) and the dropped blocks that are (recall), by where they stand on the page; then the
    longest wrong blocks themselves. What a new feature or rule has to separate."""
    from collections import Counter

    at = {name: i for i, name in enumerate(B.FEATURE_NAMES)}
    for store, store_keys in keys.items():
        kinds = {"kept, not content": Counter(), "dropped content": Counter()}
        totals: Counter = Counter()
        longest = []
        for key in store_keys:
            page = data[store][key]
            texts, rows = page.texts, page.rows
            if not texts:
                continue
            labels = block_labels(data, store, key)
            lengths = np.array([len(t) for t in texts], dtype=np.float64)
            kept = page_kept(page, probabilities[(store, key)], post)
            for i in np.flatnonzero((kept & (labels == 0)) | (~kept & (labels == 1))):
                kind = "kept, not content" if kept[i] else "dropped content"
                totals[kind] += lengths[i]
                for facet, value in _error_place(rows[i], at).items():
                    kinds[kind][(facet, value)] += lengths[i]
                longest.append((lengths[i], kind, key, _error_place(rows[i], at)["main run"], texts[i][:90]))
        print(f"out-of-fold errors, {store} development half (characters):")
        for kind, counts in kinds.items():
            print(f"  {kind}: {totals[kind]:,.0f}")
            for facet in ("main run", "main container", "tag", "landmarks", "long"):
                cells = sorted(((c, v) for (f, v), c in counts.items() if f == facet), reverse=True)[:8]
                print(f"    {facet:<15} " + ", ".join(f"{v} {c / totals[kind]:.0%}" for c, v in cells))
        for length, kind, key, side, text in sorted(longest, reverse=True)[:examples]:
            print(f"    {length:6.0f}  {kind:<17} {side:<10} {key[:24]:<24} {text!r}")


NAMES = {"teval": "trafilatura-eval", "aeb": "scrapinghub-aeb", "wceb": "wceb2026", "wcxb": "WCXB"}
HELD_OUT = {"teval": "held-out half", "aeb": "held-out half", "wceb": "held-out half", "wcxb": "test split (sites never trained on)"}


def post_grid(keeps, smooths, isolateds, tails) -> list[dict]:
    return [
        {"keep": keep, "smooth": smooth, "isolated": isolated, "tail": tail}
        for keep in keeps for smooth in smooths for isolated in isolateds for tail in tails
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tamis-train-extract")
    parser.add_argument("--write", action="store_true", help=f"save the chosen model as {MODEL_PATH.relative_to(ROOT)}")
    parser.add_argument(
        "--out", type=Path, default=None, metavar="NPZ", help="save the chosen model here instead (a candidate for fit_extract_router.py --model)"
    )
    parser.add_argument("--no-held-out", action="store_true", help="do not score the held-out halves (a candidate not yet chosen to ship)")
    parser.add_argument("--teacher", type=float, nargs="+", default=[0.0, 0.1, 0.3, 1.0], help="teacher weights to try")
    parser.add_argument("--gold", type=float, nargs="+", default=[0.0, 1.0], help="weights of the AEB gold labels to try (0: trafilatura-eval alone)")
    parser.add_argument(
        "--extra-readability", type=Path, default=None, metavar="DIR",
        help="Mozilla Readability's test-pages folder: extra training pages (never scored), sites of the evaluation sets left out",
    )  # fmt: skip
    parser.add_argument("--extra-weight", type=float, nargs="+", default=[0.0, 0.5, 1.0], help="weights of the Readability pages' labels to try")
    parser.add_argument(
        "--extra-negatives-only", action="store_true", help="learn only the blocks Readability leaves out of its article (not its content verdicts)"
    )
    parser.add_argument(
        "--extra-wceb", type=Path, default=None, metavar="DIR",
        help="the web-content-extraction-benchmark's 2026 pages: a third set, its development half (by site) trained on and in the CV criterion",
    )  # fmt: skip
    parser.add_argument("--wceb-weight", type=float, nargs="+", default=[0.0, 0.5, 1.0], help="weights of the third set's labels to try")
    parser.add_argument(
        "--wceb-types", nargs="+", default=["all"], help="page types of the third set to train on, each tried: all, article (its article pages only)"
    )
    parser.add_argument(
        "--extra-wcxb", type=Path, default=None, metavar="DIR",
        help="WCXB v1.0 (needs --extra-wceb): dev pages of sites in no other set nor in its test split as extra training pages; its test split scored",
    )  # fmt: skip
    parser.add_argument("--wcxb-weight", type=float, nargs="+", default=[0.0, 0.3, 1.0], help="weights of WCXB's training pages' labels to try")
    parser.add_argument(
        "--wcxb-types", nargs="+", default=["all"], help="page types of WCXB's training pages, each tried: all, article (its article pages only)"
    )
    add_site_positive_options(parser)
    parser.add_argument(
        "--wcxb-criterion", action=argparse.BooleanOptionalAction, default=True,
        help="WCXB's development pages in the CV criterion (--no-wcxb-criterion: scored and printed, left out of the smallest margin)",
    )  # fmt: skip
    parser.add_argument("--keep", type=float, nargs="+", default=[0.3, 0.4, 0.5], help="keep thresholds to try")
    parser.add_argument("--smooth", type=float, nargs="+", default=[0.0, 0.2, 0.35], help="neighbour smoothing weights to try")
    parser.add_argument("--isolated", type=int, nargs="+", default=[0, 80], help="isolated-block lengths to try")
    parser.add_argument("--tail", type=int, nargs="+", default=[0, 8, 12, 16], help="tail gaps to try")
    parser.add_argument("--trees", type=int, default=150)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--rate", type=float, default=0.1, help="the boosting's learning rate")
    parser.add_argument("--leaf", type=int, default=10, help="the trees' min_samples_leaf")
    parser.add_argument("--max-features", type=float, default=1.0, help="share of the features each split may look at")
    parser.add_argument("--seed", type=int, default=0, help="the trees' random state (matters with --max-features below 1: compare two seeds)")
    parser.add_argument(
        "--skip-cv", action="store_true", help="no cross-validation: train on the first setting and post-processing given (one already chosen by CV)"
    )
    parser.add_argument("--without", nargs="+", default=[], metavar="FEATURE", help="zero these feature columns (NAME* a prefix): the A/B of a feature group")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="print the out-of-fold error analysis and the N longest wrong blocks")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    started = time.perf_counter()
    data = load_pages(args.corpus, args.workdir / "blocks.pkl")
    teacher = trafilatura_texts(args.corpus, args.workdir / "trafilatura.pkl")
    data["extra"], data["extra_truth"] = ({}, {})
    extra_weights = [0.0]
    if args.extra_readability is not None:
        data["extra"], data["extra_truth"] = load_extra(args.corpus, args.extra_readability, args.workdir / "readability.pkl")
        extra_weights = args.extra_weight
        data["extra_negatives_only"] = args.extra_negatives_only
        rows = sum(len(page.rows) for page in data["extra"].values())
        print(f"readability training pages: {len(data['extra'])} ({rows:,} blocks)")
    data["site_positives"] = site_positives_mode(args)
    stores = ["teval", "aeb"]
    splits = {store: halves(list(data[store])) for store in stores}
    site_sets = load_site_sets(args.corpus, args.extra_wceb, args.extra_wcxb, args.workdir)
    choices = {"wceb": (args.wceb_weight, args.wceb_types), "wcxb": (args.wcxb_weight, args.wcxb_types)}
    weights = {store: [0.0] for store in SITE_STORES}
    type_choices = {store: ["all"] for store in SITE_STORES}
    for store, loaded in site_sets.items():
        splits[store] = add_site_set(data, teacher, store, loaded, "all")
        stores.append(store)
        weights[store], type_choices[store] = choices[store]
        rows = sum(len(page.rows) for page in data[store].values())
        print(f"{NAMES[store]} pages: {len(data[store])} ({rows:,} blocks; development {len(splits[store][0])}, held-out {len(splits[store][1])})")
    wceb_weights, wceb_type_choices = weights["wceb"], type_choices["wceb"]
    wcxb_weights, wcxb_type_choices = weights["wcxb"], type_choices["wcxb"]
    without_features(data, args.without)
    print(f"pages, features and trafilatura's output: {time.perf_counter() - started:.0f} s", flush=True)
    development = {store: sorted(splits[store][0]) for store in splits}
    held_out = {store: sorted(splits[store][1]) for store in splits}
    folds = cv_folds(development, data)
    pages = [(store, key) for store in stores for key in development[store]]  # the training rows' order
    # The criterion: the smallest margin over trafilatura across these sets' development pages.
    criterion = [store for store in stores if store != "wcxb" or args.wcxb_criterion]
    bar = {store: score_set(data, store, development[store], teacher[store])[2] for store in stores}
    print("trafilatura on the development halves: " + ", ".join(f"{store} F1 {bar[store]:.4f}" for store in stores))
    posts = post_grid(args.keep, args.smooth, args.isolated, args.tail)

    def cells(f1: dict) -> str:
        return " ".join(f"{store} {f1[store]:.4f}" for store in stores)

    best = None
    params = {"trees": args.trees, "depth": args.depth, "rate": args.rate, "leaf": args.leaf, "max_features": args.max_features, "seed": args.seed}
    settings = list(itertools.product(args.teacher, args.gold, extra_weights, wceb_weights, wceb_type_choices, wcxb_weights, wcxb_type_choices))
    # weight 0: the types do not matter
    settings = [s for s in settings if (s[3] > 0 or s[4] == wceb_type_choices[0]) and (s[5] > 0 or s[6] == wcxb_type_choices[0])]
    if args.skip_cv:
        settings, posts = settings[:1], posts[:1]
        best = (float("nan"), settings[0], "given setting (no cv)", posts[0], None, dict.fromkeys(stores, float("nan")))
    for teacher_weight, gold_weight, extra_weight, wceb_weight, wceb_types, wcxb_weight, wcxb_types in [] if args.skip_cv else settings:
        set_train_types(data, {"wceb": wceb_types, "wcxb": wcxb_types})
        label = f"teacher {teacher_weight} gold {gold_weight} extra {extra_weight}" + (f" wceb {wceb_weight} ({wceb_types})" if "wceb" in stores else "")
        label += f" wcxb {wcxb_weight} ({wcxb_types})" if "wcxb" in stores else ""
        probabilities: dict[tuple[str, str], np.ndarray] = {}
        for fold in folds:
            held = set(fold)
            train = [page for page in pages if page not in held and (gold_weight > 0 or page[0] != "aeb")]
            x, y, w = training_rows(data, train, teacher, teacher_weight, gold_weight, extra_weight, wceb_weight, wcxb_weight)
            clf = fit(params, x, y, w)
            for store, key in fold:
                rows = data[store][key].rows
                probabilities[(store, key)] = clf.predict_proba(rows)[:, 1] if len(rows) else np.zeros(0)
        setting_best = None
        for post in posts:
            f1 = {}
            for store in stores:
                outputs = {k: page_text(data[store][k], probabilities[(store, k)], post) for k in development[store]}
                f1[store] = score_set(data, store, development[store], outputs)[2]
            margin = min(f1[store] - bar[store] for store in criterion)
            print(f"  cv {label} {post}: {cells(f1)} (margin {margin:+.4f})", flush=True)
            if setting_best is None or margin > setting_best[0]:
                setting_best = (margin, post, f1)
            if best is None or margin > best[0]:
                best = (margin, (teacher_weight, gold_weight, extra_weight, wceb_weight, wceb_types, wcxb_weight, wcxb_types), label, post, probabilities, f1)
        margin_here, post_here, f1_here = setting_best
        print(f"best for {label}: {post_here} {cells(f1_here)} (margin {margin_here:+.4f})", flush=True)
    margin, chosen, label, post, out_of_fold, best_f1 = best
    teacher_weight, gold_weight, extra_weight, wceb_weight, wceb_types, wcxb_weight, wcxb_types = chosen
    set_train_types(data, {"wceb": wceb_types, "wcxb": wcxb_types})
    print(f"chosen by 5-fold cross-validation on the development halves: {label} {post} (margin {margin:+.4f}; cv {cells(best_f1)})")
    if out_of_fold is not None:
        routing_table(data, development, out_of_fold, post, teacher, bar)
    if args.errors and out_of_fold is not None:
        error_analysis(data, development, out_of_fold, post, args.errors)

    train = [page for page in pages if gold_weight > 0 or page[0] != "aeb"]
    x, y, w = training_rows(data, train, teacher, teacher_weight, gold_weight, extra_weight, wceb_weight, wcxb_weight)
    clf = fit(params, x, y, w)
    forest = export(clf, post)
    sample = np.vstack([data["teval"][k].rows for k in held_out["teval"][:50] if len(data["teval"][k].rows)])
    difference = np.abs(forest.probability(sample) - clf.predict_proba(sample)[:, 1]).max()
    print(f"exported arrays vs sklearn: largest probability difference {difference:.2e} over {len(sample)} blocks")
    assert difference < 1e-6

    report = [] if args.no_held_out else [(store, f"{NAMES[store]} {HELD_OUT[store]}", held_out[store]) for store in stores]
    for store in SITE_STORES if not args.no_held_out else ():
        if store in stores:
            report += [
                (store, f"{NAMES[store]} {HELD_OUT[store]}, articles", [k for k in held_out[store] if data[f"{store}_types"][k] == "article"]),
                (store, f"{NAMES[store]} {HELD_OUT[store]}, other page types", [k for k in held_out[store] if data[f"{store}_types"][k] != "article"]),
            ]
    report += [(store, f"{NAMES[store]} whole set (includes training pages)", sorted(data[store])) for store in stores]
    print(f"{'':<58} {'P':>6} {'R':>6} {'F1':>6}   trafilatura P/R/F1")
    for store, title, keys in report:
        outputs = {k: page_text(data[store][k], forest.probability(data[store][k].rows), post) for k in keys}
        p, r, f1 = score_set(data, store, keys, outputs)
        tp, tr, tf = score_set(data, store, keys, teacher[store])
        print(f"  {title:<56} {p:.4f} {r:.4f} {f1:.4f}   {tp:.4f} {tr:.4f} {tf:.4f}")
    if args.write or args.out is not None:
        path = args.out or MODEL_PATH
        save_forest(forest, path)
        print(f"wrote {path} ({path.stat().st_size} bytes, {forest.feature.shape[0]} trees of depth <= {forest.depth})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
