"""Where the ``extract`` step's CPU goes: per page, by phase, and at start-up.

    .venv/bin/python bench/extract_breakdown.py [--corpus ../shared/corpus] [--repeat 3] [--wceb DIR]

1. Per page, in one process, over every page of both evaluation sets (``bench/bench_extract.py``'s
   folders; with ``--wceb DIR`` also the third set's, ``bench/wceb_pages.py``): the default
   extractor's phases timed one after another on the same page (CPU ms a page, the fastest of
   ``--repeat`` passes): lxml parse, page metadata, the block walk, the
   features, the forest, the page-level rules and confidence, the text, freeing the tree; then the
   whole answer the extraction child gives (``extract_main_text``: the learned pass, and
   trafilatura on the pages the router sends it), that part on routed pages alone, the answer's
   JSON round trip and the parent's furniture-line filter. The phases are the learned pass's own
   functions called as it calls them, so their sum is the learned pass.
2. Start-up, each in a fresh interpreter (CPU seconds, the median of ``--repeat``): the interpreter,
   each import the step's process makes for the default extractor (numpy, lxml, resiliparse,
   tamis's extract modules, trafilatura), the model load and the warm-up page, and a one-page
   ``tamis run`` of the extract step as a user runs it beside a one-document JSONL run of the same
   recipe (which imports no extractor): their difference is what the extract path adds.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_extract import load_aeb, load_teval, write_pages  # noqa: E402


def per_page(folder: Path, repeat: int) -> tuple[int, int, dict[str, float]]:
    import orjson

    from tamis.extract import blocks
    from tamis.extract.learned import keep_blocks, kept_text, model, page_confidence, post_rules, probability_of
    from tamis.extract.metadata import page_metadata_lxml
    from tamis.steps.extract_html import drop_boilerplate_lines, extract_main_text, warm_up

    warm_up("tamis_learned_hybrid")
    forest = model()
    pages = [path.read_bytes() for path in sorted(folder.glob("*.html"))]
    pages = [page.decode("utf-8", "replace").encode("utf-8") for page in pages]  # what the child receives
    best: dict[str, float] = {}
    routed = 0
    clock = time.process_time
    for _ in range(repeat):
        spent: dict[str, float] = defaultdict(float)
        routed = 0
        for data in pages:
            t0 = clock()
            root = blocks.parse(data)
            t1 = clock()
            spent["lxml parse"] += t1 - t0
            if root is None:
                continue
            page_metadata_lxml(root)
            t2 = clock()
            spent["page metadata"] += t2 - t1
            page = blocks.page_blocks(root)
            t3 = clock()
            spent["block walk"] += t3 - t2
            if page.max_depth >= blocks.DEEP:
                continue
            rows = page.features()
            t4 = clock()
            spent["features"] += t4 - t3
            log_odds = forest.log_odds(rows)
            t5 = clock()
            spent["forest"] += t5 - t4
            lengths = page.lengths()
            kept = keep_blocks(
                probability_of(log_odds), lengths, forest.keep_threshold, forest.smooth, forest.isolated_chars, forest.tail_gap,
                tags=page.tags(), groups=page.groups(),
            )  # fmt: skip
            kept = post_rules(page.texts, rows, kept) if kept.any() else kept
            page_confidence(log_odds, lengths, forest.keep_threshold)
            t6 = clock()
            spent["keep rules + confidence"] += t6 - t5
            if kept.any():
                kept_text(page, kept)
            t7 = clock()
            spent["kept text"] += t7 - t6
            del root, page
            t8 = clock()
            spent["free the tree"] += t8 - t7
            answer = extract_main_text(data, "tamis_learned_hybrid")
            t9 = clock()
            spent["WHOLE: the child's answer"] += t9 - t8
            if answer["path"] == "trafilatura":
                routed += 1
                spent["  of it: trafilatura on routed pages"] += t9 - t8
            orjson.loads(orjson.dumps(answer))
            t10 = clock()
            spent["answer JSON round trip"] += t10 - t9
            drop_boilerplate_lines(answer["text"])
            spent["furniture-line filter (parent)"] += clock() - t10
        for name, seconds in spent.items():
            best[name] = min(best.get(name, seconds), seconds)
    return len(pages), routed, best


_PEERS = "import numpy, lxml.etree, lxml.html, trafilatura, resiliparse.parse.html, resiliparse.extract.html2text"
_MARK = "t = time.process_time()"  # the figure counts from here
_STARTUP = {
    "numpy": "import numpy",
    "lxml.etree": "import lxml.etree",
    "resiliparse (lexbor fast path)": "import resiliparse.parse.html, resiliparse.extract.html2text",
    "trafilatura (after numpy, lxml)": f"import numpy, lxml.etree, lxml.html\n{_MARK}\nimport trafilatura",
    "tamis extract modules (after the above)": f"{_PEERS}\n{_MARK}\nimport tamis.steps.extract_html, tamis.steps.extract_worker",
    "model load": f"import tamis.steps.extract_html\nfrom tamis.extract.learned import model\n{_MARK}\nmodel()",
    "warm-up page (imports done)": f"import trafilatura\nfrom tamis.steps.extract_html import warm_up\n{_MARK}\nwarm_up('tamis_learned_hybrid')",
}


def _cpu_of(code: str) -> float:
    """CPU seconds of ``code`` in a fresh interpreter: from ``t`` (set by the code, else its start) to its end."""
    script = f"import time\nt = time.process_time()\n{code}\nimport sys\nsys.stdout.write(repr(time.process_time() - t))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return float(done.stdout)


def _run_cpu(args: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, capture_output=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def startup(page: Path, workdir: Path, repeat: int) -> None:
    print("\nstart-up, CPU seconds (median of fresh interpreters):")
    interpreter = statistics.median(_run_cpu([sys.executable, "-c", "pass"]) for _ in range(repeat))
    print(f"  {'the interpreter (python -c pass)':<42} {interpreter:.3f}")
    for label, code in _STARTUP.items():
        print(f"  {label:<42} {statistics.median(_cpu_of(code) for _ in range(repeat)):.3f}")
    html_dir, jsonl_dir = workdir / "one-page", workdir / "one-jsonl"
    html_dir.mkdir(parents=True, exist_ok=True)
    jsonl_dir.mkdir(parents=True, exist_ok=True)
    (html_dir / "page.html").write_bytes(page.read_bytes())
    (jsonl_dir / "doc.jsonl").write_text('{"id": "a", "text": "one short document"}\n', encoding="utf-8")
    config = workdir / "extract.yaml"
    config.write_text("steps:\n  - step: extract\n", encoding="utf-8")
    tamis = str(Path(sys.executable).with_name("tamis"))
    runs: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeat):  # alternating, so both see the same neighbours
        for label, folder in (("one HTML page", html_dir), ("one JSONL document", jsonl_dir)):
            out = workdir / f"out-{folder.name}"
            runs[label].append(_run_cpu([tamis, "run", str(config), "-i", str(folder), "-o", str(out), "-w", "1", "--no-report", "--quiet", "--overwrite"]))
    html, jsonl = (statistics.median(runs[label]) for label in ("one HTML page", "one JSONL document"))
    print(f"  tamis run, extract step, one HTML page     {html:.3f}")
    print(f"  tamis run, extract step, one JSONL doc     {jsonl:.3f}   (no extractor imported)")
    print(f"  what the extract path adds                 {html - jsonl:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tamis-extract-breakdown")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wceb", type=Path, default=None, metavar="DIR", help="also the web-content-extraction-benchmark's pages (bench/wceb_pages.py)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    _, teval_files, _ = load_teval(args.corpus, args.workdir)
    _, aeb_files = load_aeb(args.corpus)
    sets: list[tuple[str, dict[str, Path] | dict[str, bytes]]] = [("trafilatura-eval", teval_files), ("scrapinghub-aeb", aeb_files)]
    if args.wceb is not None:
        from readability_pages import evaluation_sites
        from wceb_pages import load_wceb

        sets.append(("wceb2026", {page.key: page.raw for page in load_wceb(args.wceb, evaluation_sites(args.corpus))[0]}))
    folders = {}
    for name, files in sets:
        folders[name] = args.workdir / f"pages-{name}"
        write_pages(files, folders[name])
    results = {name: per_page(folder, args.repeat) for name, folder in folders.items()}
    names = list(results)
    print("\nper page, CPU ms (in one process, fastest of --repeat passes):")
    print(f"  {'':<42}" + "".join(f"{name:>18}" for name in names))
    print(f"  {'pages (routed to trafilatura)':<42}" + "".join(f"{f'{n} ({r})':>18}" for n, r, _ in results.values()))
    labels = list(results[names[0]][2])
    routed_label = "  of it: trafilatura on routed pages"
    if routed_label in labels:  # beside the whole answer it is part of
        labels.remove(routed_label)
        labels.insert(labels.index("WHOLE: the child's answer") + 1, routed_label)
    for label in labels:
        row = "".join(f"{1000 * results[name][2].get(label, 0.0) / results[name][0]:>18.3f}" for name in names)
        print(f"  {label:<42}{row}")
    startup(next(iter(sorted(folders["scrapinghub-aeb"].glob("*.html")))), args.workdir, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
