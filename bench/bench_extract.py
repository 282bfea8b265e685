"""Extraction quality and speed: tamis's ``extract`` step against trafilatura and resiliparse.

    .venv/bin/python bench/bench_extract.py [--extractor trafilatura] [--corpus ../shared/corpus]

1. The article-extraction-benchmark metric (scrapinghub-aeb, its SOURCE.md) is checked first:
   scored on ``peer-output/*.json`` it must give the published P/R/F1 to 3 decimals.
2. Quality: every page of trafilatura-eval (990 annotated pages; snippet rule of its SOURCE.md:
   whitespace-normalised substring match, totals over the corpus) and scrapinghub-aeb (181
   pages; 4-token shingles, per-document normalised) goes through the real tamis path — the
   html reader, then the ``extract`` step with its killable child worker — and through
   trafilatura (the upstream evaluation's settings) and resiliparse, run here on the same pages.
   French pages are scored separately.
3. Speed: pages per second on one core, wall clock, for tamis (reading + extraction, the child
   process included) and for the two extractors called directly on the same pages.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tamis.io.html import read_html_files  # noqa: E402
from tamis.io.readers import BadRecord, InputTask, ReaderOptions  # noqa: E402
from tamis.steps.base import TaskContext  # noqa: E402
from tamis.steps.extract import Extract  # noqa: E402

# Published figures (trafilatura-eval/eval_baseline.json; scrapinghub-aeb/SOURCE.md table).
TEVAL_PUBLISHED = {"trafilatura fast (floor)": 0.9195, "trafilatura with fallback (floor)": 0.9253}
AEB_PUBLISHED = {
    "trafilatura 2.0.0": (0.958, 0.938, 0.978),
    "readability_js 0.6.0": (0.947, 0.914, 0.982),
    "go_trafilatura": (0.960, 0.940, 0.980),
    "justext 3.0.2": (0.804, 0.858, 0.756),
    "html-text (whole page)": (0.665, 0.500, 0.994),
    "AutoExtract (commercial)": (0.970, 0.984, 0.956),
}
AEB_PEER_FILES = {"trafilatura": "trafilatura 2.0.0", "readability_js": "readability_js 0.6.0", "AutoExtract": "AutoExtract (commercial)"}


# --------------------------------------------------------------------------- metrics


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def teval_counts(item: dict[str, Any], result: str | None) -> tuple[int, int, int]:
    """(tp, fp, fn) of one trafilatura-eval page: snippets found / wrongly found / missed."""
    if not isinstance(result, str):
        return 0, 0, len(item["with"])
    text = _norm(result)
    tp = sum(1 for snippet in item["with"] if _norm(snippet) in text)
    fp = sum(1 for snippet in item["without"] if _norm(snippet) in text)
    return tp, fp, len(item["with"]) - tp


def teval_score(items: dict[str, dict[str, Any]], outputs: dict[str, str | None]) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for key, item in items.items():
        t, f, n = teval_counts(item, outputs.get(key))
        tp, fp, fn = tp + t, fp + f, fn + n
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, (2 * tp / (2 * tp + fp + fn) if tp else 0.0)


_TOKEN_RE = re.compile(r"\w+")


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN_RE.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def aeb_doc(true: str, pred: str) -> tuple[float, float, float]:
    gold, guess = _shingles(true), _shingles(pred)
    tp = fp = fn = 0.0
    for key in gold.keys() | guess.keys():
        g, p = gold.get(key, 0), guess.get(key, 0)
        tp += min(g, p)
        fp += max(0, p - g)
        fn += max(0, g - p)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def aeb_score(truth: dict[str, str], outputs: dict[str, str | None]) -> tuple[float, float, float]:
    """(precision, recall, F1) as the benchmark's evaluate.py defines them."""
    triples = [aeb_doc(truth[key], outputs.get(key) or "") for key in truth]

    def precision(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))

    def recall(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))

    p = statistics.mean(precision(*t) for t in triples if t[0] + t[1] > 0)
    r = statistics.mean(recall(*t) for t in triples if t[0] + t[2] > 0)
    return p, r, 2 * p * r / (p + r)


# --------------------------------------------------------------------------- corpora


def load_teval(corpus: Path, workdir: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Path], set[str]]:
    """Annotations by URL, the page file of each URL, and the URLs of the French pages."""
    base = corpus / "trafilatura-eval"
    target = workdir / "trafilatura-eval"
    if not (target / "eval").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(base / "html.tar.xz") as tar:
            tar.extractall(target, filter="data")
    items = json.loads((base / "evaldata.json").read_text(encoding="utf-8"))
    files: dict[str, Path] = {}
    for url, item in items.items():
        for sub in ("cache", "eval"):  # the upstream order
            path = target / sub / item["file"]
            if path.is_file():
                files[url] = path
                break
    french_files = set(re.findall(r"^- `((?:cache|eval)/[^`]+)`", (base / "SOURCE.md").read_text(encoding="utf-8"), re.MULTILINE))
    french = {url for url, path in files.items() if f"{path.parent.name}/{path.name}" in french_files}
    return {u: items[u] for u in files}, files, french


def load_aeb(corpus: Path) -> tuple[dict[str, str], dict[str, Path]]:
    base = corpus / "scrapinghub-aeb"
    truth = {k: v.get("articleBody") or "" for k, v in json.loads((base / "ground-truth.json").read_text(encoding="utf-8")).items()}
    files = {path.name.split(".")[0]: path for path in sorted((base / "html").glob("*.html.gz"))}
    return truth, {k: files[k] for k in truth}


def aeb_peer_outputs(corpus: Path) -> dict[str, dict[str, str]]:
    peers = {}
    for path in sorted((corpus / "scrapinghub-aeb" / "peer-output").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data = data.get("output", data)
        peers[path.stem] = {k: (v or {}).get("articleBody") or "" for k, v in data.items()}
    return peers


# --------------------------------------------------------------------------- runners


def _child_cpu(pid: int) -> float:
    """CPU seconds (user + system) a child process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_tamis(files: dict[str, Path], extractor: str) -> tuple[dict[str, str | None], tuple[float, float], dict[str, int]]:
    """Read the pages with the html reader and run the extract step (isolated child): wall and CPU seconds."""
    keys = list(files)
    by_path = {str(files[k]): k for k in keys}
    step = Extract(extractor=extractor)
    ctx = TaskContext(0)
    outputs: dict[str, str | None] = dict.fromkeys(keys)
    step._extract("<html><body><p>start the worker before the clock</p></body></html>")
    assert step._worker is not None and step._worker.proc is not None
    pid = step._worker.proc.pid
    started, cpu_started, child_started = time.perf_counter(), time.process_time(), _child_cpu(pid)
    docs = [item for item in read_html_files(InputTask(0, "html", tuple(by_path)), ReaderOptions()) if not isinstance(item, BadRecord)]
    for doc in step.run(docs, ctx):
        outputs[by_path[doc.id]] = doc.text
    seconds = time.perf_counter() - started
    if step._worker.restarts:
        print("  (the extraction worker was restarted: its CPU time before that is not counted)")
    cpu = time.process_time() - cpu_started + (_child_cpu(step._worker.proc.pid) - child_started if step._worker.proc else 0.0)
    step.close()
    reasons = Counter(r["reason"] for r in ctx.rejected_records)
    return outputs, (seconds, cpu), dict(reasons)


def run_trafilatura(files: dict[str, Path]) -> tuple[dict[str, str | None], tuple[float, float]]:
    import trafilatura

    pages = {k: _read(p) for k, p in files.items()}
    outputs: dict[str, str | None] = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    for key, raw in pages.items():
        try:
            outputs[key] = trafilatura.extract(raw, fast=False, include_comments=False, include_tables=True, include_formatting=False)
        except Exception:  # noqa: BLE001 - a crash counts as a miss, as upstream scores it
            outputs[key] = None
    return outputs, (time.perf_counter() - started, time.process_time() - cpu_started)


def run_resiliparse(files: dict[str, Path]) -> tuple[dict[str, str | None], tuple[float, float]]:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    pages = {k: _read(p) for k, p in files.items()}
    outputs: dict[str, str | None] = {}
    started, cpu_started = time.perf_counter(), time.process_time()
    for key, raw in pages.items():
        outputs[key] = extract_plain_text(bytes_to_str(raw, detect_encoding(raw)), main_content=True)
    return outputs, (time.perf_counter() - started, time.process_time() - cpu_started)


def _read(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


# --------------------------------------------------------------------------- report


def _row(name: str, scores: tuple[float, float, float], extra: str = "") -> str:
    p, r, f = scores
    return f"  {name:<38} P {p:.4f}  R {r:.4f}  F1 {f:.4f}  {extra}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--extractor", default="trafilatura", help="tamis extractor to score (default: the step's default)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tamis-bench-extract")
    args = parser.parse_args()
    import trafilatura

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; trafilatura {trafilatura.__version__}")

    # 1. The AEB metric reproduces the published peer rows.
    truth, aeb_files = load_aeb(args.corpus)
    print("\n[1] scrapinghub-aeb metric check: peer-output/*.json re-scored here vs published (F1/P/R)")
    ok = True
    for stem, outputs in aeb_peer_outputs(args.corpus).items():
        p, r, f = aeb_score(truth, outputs)
        published = AEB_PUBLISHED[AEB_PEER_FILES[stem]]
        same = (round(f, 3), round(p, 3), round(r, 3)) == published
        ok &= same
        verdict = "same" if same else "DIFFERENT"
        print(f"  {stem:<16} here {f:.3f}/{p:.3f}/{r:.3f}  published {published[0]:.3f}/{published[1]:.3f}/{published[2]:.3f}  {verdict}")
    if not ok:
        print("  the metric does not reproduce the published figures: stopping")
        return 1

    # 2 + 3. Quality and speed on the same runs.
    items, teval_files, french = load_teval(args.corpus, args.workdir)
    results: dict[str, dict[str, Any]] = {}
    for corpus_name, files in (("trafilatura-eval", teval_files), ("scrapinghub-aeb", aeb_files)):
        tamis_out, tamis_s, reasons = run_tamis(files, args.extractor)
        traf_out, traf_s = run_trafilatura(files)
        resi_out, resi_s = run_resiliparse(files)
        results[corpus_name] = {
            "pages": len(files),
            "runs": {
                f"tamis extract ({args.extractor})": (tamis_out, tamis_s),
                "trafilatura (fallback), run here": (traf_out, traf_s),
                "resiliparse, run here": (resi_out, resi_s),
            },
            "rejects": reasons,
        }

    teval = results["trafilatura-eval"]
    print(f"\n[2a] trafilatura-eval: {teval['pages']} pages, snippet rule (upstream eval_common.py)")
    for name, value in TEVAL_PUBLISHED.items():
        print(f"  {name:<38} F1 {value:.4f}  (published)")
    for name, (outputs, _) in teval["runs"].items():
        print(_row(name, teval_score(items, outputs)))
    print(f"  tamis rejects: {teval['rejects'] or 'none'}")
    french_items = {u: items[u] for u in french}
    print(f"\n[2b] trafilatura-eval, French pages only ({len(french_items)} pages)")
    for name, (outputs, _) in teval["runs"].items():
        print(_row(name, teval_score(french_items, outputs)))

    aeb = results["scrapinghub-aeb"]
    print(f"\n[2c] scrapinghub-aeb: {aeb['pages']} pages, 4-shingle metric (evaluate.py)")
    for name, (f, p, r) in AEB_PUBLISHED.items():
        print(f"  {name:<38} P {p:.3f}   R {r:.3f}   F1 {f:.3f}   (published)")
    for name, (outputs, _) in aeb["runs"].items():
        print(_row(name, aeb_score(truth, outputs)))
    print(f"  tamis rejects: {aeb['rejects'] or 'none'}")
    print("  French pages: none in this set (its languages are en, pt, it, de, ru, ko, ja, id)")

    print("\n[3] speed on one core (pages/s; tamis = html reader + extract step, its child worker's CPU included)")
    print("    per CPU second is the per-core figure; wall clock is shown too (it suffers when the machine is shared)")
    for corpus_name, result in results.items():
        runs = result["runs"]
        tamis_wall, tamis_cpu = runs[f"tamis extract ({args.extractor})"][1]
        print(f"  {corpus_name}:")
        for name, (_, (wall, cpu)) in runs.items():
            per_cpu, per_wall = result["pages"] / cpu, result["pages"] / wall
            print(f"    {name:<38} {per_cpu:7.1f} pages/CPU-s (tamis / this {cpu / tamis_cpu:.2f})   {per_wall:7.1f} pages/s wall ({wall / tamis_wall:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
