"""Train tamis's block classifier (``tamis/extract/block_model.npz``) and say how well it does.

    .venv/bin/python bench/train_extract_model.py [--corpus ../shared/corpus] [--write]

(needs scikit-learn, at training time only: ``pip install scikit-learn``; tamis predicts from the
exported arrays and never imports it.)

1. Every page of trafilatura-eval and scrapinghub-aeb is decoded as the ``extract`` step decodes it
   and cut into blocks with their features (:mod:`tamis.extract.blocks`).
2. Labels, on trafilatura-eval's DEVELOPMENT half only (the fixed hash split of bench_extract.py):
   a block holding one of the page's ``with`` snippets (or held by one) is content, a block holding
   one of its ``without`` snippets is not. With ``--teacher-weight`` > 0 the other blocks of those
   pages get trafilatura's verdict (in its output or not) at that weight.
3. Hyper-parameters (trees, depth, learning rate, keep threshold, teacher weight) are chosen by
   5-fold cross-validation over the development pages (folds by page), scored with the
   trafilatura-eval metric on the text the kept blocks make.
4. The chosen model is trained on the whole development half, exported as arrays, checked to give
   sklearn's own probabilities, and scored on the held-out half and on scrapinghub-aeb, which it
   never saw. ``--write`` saves it.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_extract import _norm, _read, aeb_score, halves, load_aeb, load_teval, teval_score  # noqa: E402

from tamis.extract import blocks as B  # noqa: E402
from tamis.extract.learned import MODEL_PATH, Forest, save_forest  # noqa: E402
from tamis.io.htmldecode import decode_html  # noqa: E402


def page_blocks(raw: bytes) -> tuple[list[B.Block], np.ndarray]:
    html, _ = decode_html(raw)
    root = B.parse(html)
    if root is None:
        return [], np.zeros((0, len(B.FEATURE_NAMES)), dtype=np.float32)
    blocks, depth, elements = B.segment(root)
    return blocks, B.features(blocks, depth, elements)


def load_pages(corpus: Path, cache: Path) -> dict:
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    items, teval_files, _ = load_teval(corpus, cache.parent / "teval")
    truth, aeb_files = load_aeb(corpus)
    data: dict = {"teval": {}, "aeb": {}, "items": items, "truth": truth}
    for name, files in (("teval", teval_files), ("aeb", aeb_files)):
        for key, path in files.items():
            blocks, rows = page_blocks(_read(path))
            data[name][key] = ([b.text for b in blocks], rows)
    cache.write_bytes(pickle.dumps(data))
    return data


def teacher_texts(corpus: Path, keys: list[str], cache: Path) -> dict[str, str]:
    """trafilatura's output on the development pages (the teacher labels' source)."""
    if cache.is_file():
        return pickle.loads(cache.read_bytes())
    import trafilatura

    _, files, _ = load_teval(corpus, cache.parent / "teval")
    out = {}
    for key in keys:
        html, _ = decode_html(_read(files[key]))
        out[key] = _norm(trafilatura.extract(html, include_comments=False, include_tables=True) or "")
    cache.write_bytes(pickle.dumps(out))
    return out


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


def training_rows(data: dict, keys: list[str], teacher: dict[str, str] | None, teacher_weight: float):
    xs, ys, ws = [], [], []
    for key in keys:
        texts, rows = data["teval"][key]
        if not texts:
            continue
        labels = snippet_labels(texts, data["items"][key]).astype(np.float64)
        weights = np.where(labels >= 0, 1.0, 0.0)
        if teacher is not None and teacher_weight > 0:
            reference = teacher.get(key, "")
            guess = np.array([1.0 if _norm(t) in reference else 0.0 for t in texts])
            unlabelled = labels < 0
            labels = np.where(unlabelled, guess, labels)
            weights = np.where(unlabelled, teacher_weight, weights)
        chosen = weights > 0
        xs.append(rows[chosen])
        ys.append(labels[chosen])
        ws.append(weights[chosen])
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ws)


def export(clf, keep_threshold: float) -> Forest:
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
    return Forest(feature, threshold, left, right, value, base, depth, keep_threshold, tuple(B.FEATURE_NAMES))


def page_texts(data: dict, set_name: str, keys, probabilities: dict[str, np.ndarray], keep: float) -> dict[str, str]:
    out = {}
    for key in keys:
        texts, _ = data[set_name][key]
        p = probabilities.get(key)
        out[key] = "\n".join(t for t, q in zip(texts, p, strict=True) if q >= keep) if p is not None and len(texts) else ""
    return out


def routing_table(data: dict, keys: list[str], probabilities: dict[str, np.ndarray], keep: float, teacher: dict[str, str]) -> None:
    """The hybrid's choice, on out-of-fold predictions: pages whose confidence (the share of their
    characters in blocks at least CONFIDENT_MARGIN from the keep threshold) is below a limit go to
    trafilatura (its output on the development pages, as the teacher labels use it)."""
    from tamis.extract.learned import CONFIDENT_MARGIN

    confidence = {}
    for key in keys:
        texts, _ = data["teval"][key]
        p = probabilities.get(key)
        if p is None or not len(texts):
            confidence[key] = 0.0
            continue
        lengths = np.array([len(t) for t in texts], dtype=np.float64)
        confidence[key] = float((lengths * (np.abs(p - keep) >= CONFIDENT_MARGIN)).sum() / lengths.sum())
    learned = page_texts(data, "teval", keys, probabilities, keep)
    items = {k: data["items"][k] for k in keys}
    print(f"  trafilatura alone on these pages: F1 {teval_score(items, teacher)[2]:.4f}")
    for limit in (0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
        mixed = {k: (teacher[k] if confidence[k] < limit else learned[k]) for k in keys}
        share = sum(confidence[k] < limit for k in keys) / len(keys)
        print(f"  hybrid, confidence below {limit:.2f} to trafilatura: {share:6.1%} of pages, F1 {teval_score(items, mixed)[2]:.4f}")


def fit(params: dict, x, y, w):
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        max_iter=params["trees"], max_depth=params["depth"], learning_rate=params["rate"], min_samples_leaf=10,
        early_stopping=False, random_state=0,
    )  # fmt: skip
    clf.fit(x, y, sample_weight=w)
    return clf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tamis-train-extract")
    parser.add_argument("--write", action="store_true", help=f"save the chosen model as {MODEL_PATH.relative_to(ROOT)}")
    parser.add_argument("--quick", action="store_true", help="a small hyper-parameter grid")
    parser.add_argument("--teacher", type=float, nargs="+", help="teacher weights to try (default: the grid's)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    data = load_pages(args.corpus, args.workdir / "pages.pkl")
    print(f"pages and features: {time.perf_counter() - started:.0f} s", flush=True)
    development, held_out = halves(list(data["teval"]))
    development_keys = sorted(development)
    teacher = teacher_texts(args.corpus, development_keys, args.workdir / "teacher.pkl")

    folds = [development_keys[i::5] for i in range(5)]
    grid = {
        "trees": [150] if args.quick else [100, 250],
        "depth": [3] if args.quick else [3, 5],
        "rate": [0.1],
        "teacher": args.teacher or ([0.0, 0.3] if args.quick else [0.0, 0.1, 0.3, 1.0]),
    }
    keeps = [0.3, 0.4, 0.5, 0.6, 0.7]
    best = None
    for trees, depth, rate, teacher_weight in itertools.product(grid["trees"], grid["depth"], grid["rate"], grid["teacher"]):
        params = {"trees": trees, "depth": depth, "rate": rate, "teacher": teacher_weight}
        probabilities: dict[str, np.ndarray] = {}
        for fold in folds:
            train_keys = [k for k in development_keys if k not in set(fold)]
            x, y, w = training_rows(data, train_keys, teacher, teacher_weight)
            clf = fit(params, x, y, w)
            for key in fold:
                rows = data["teval"][key][1]
                probabilities[key] = clf.predict_proba(rows)[:, 1] if len(rows) else np.zeros(0)
        for keep in keeps:
            texts = page_texts(data, "teval", development_keys, probabilities, keep)
            p, r, f = teval_score({k: data["items"][k] for k in development_keys}, texts)
            print(f"  cv {params} keep {keep}: P {p:.4f} R {r:.4f} F1 {f:.4f}", flush=True)
            if best is None or f > best[0]:
                best = (f, params, keep, probabilities)
    f, params, keep, out_of_fold = best
    print(f"chosen by 5-fold cross-validation on the development half: {params} keep {keep} (cv F1 {f:.4f})")

    routing_table(data, development_keys, out_of_fold, keep, teacher)

    x, y, w = training_rows(data, development_keys, teacher, params["teacher"])
    clf = fit(params, x, y, w)
    forest = export(clf, keep)
    sample = np.vstack([data["teval"][k][1] for k in sorted(held_out)[:50] if len(data["teval"][k][1])])
    difference = np.abs(forest.probability(sample) - clf.predict_proba(sample)[:, 1]).max()
    print(f"exported arrays vs sklearn: largest probability difference {difference:.2e} over {len(sample)} blocks")
    assert difference < 1e-6

    for set_name, keys, score in (
        ("trafilatura-eval held-out half", sorted(held_out), lambda ks, out: teval_score({k: data["items"][k] for k in ks}, out)),
        ("trafilatura-eval development half (trained on)", development_keys, lambda ks, out: teval_score({k: data["items"][k] for k in ks}, out)),
        ("scrapinghub-aeb (never trained on)", sorted(data["aeb"]), lambda ks, out: aeb_score({k: data["truth"][k] for k in ks}, out)),
    ):
        store = "aeb" if "aeb" in set_name else "teval"
        probabilities = {k: forest.probability(data[store][k][1]) for k in keys}
        p, r, f1 = score(keys, page_texts(data, store, keys, probabilities, keep))
        print(f"  {set_name:<48} P {p:.4f} R {r:.4f} F1 {f1:.4f}")
    if args.write:
        save_forest(forest, MODEL_PATH)
        print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size} bytes, {forest.feature.shape[0]} trees of depth <= {forest.depth})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
