"""Cost of the report next to the run it describes, on a large generated run.

    .venv/bin/python bench/bench_report.py [--docs 1000000] [--recipe foundation] [--workers 2]

Builds (once, cached under bench/data/) ``--docs`` small documents (one to six sentences, ~400
characters) cut from tamis's demo generator's text, with planted exact copies (5 %, in
clusters of 2 to 6) and pages whose lines repeat (3 %), so that every section of the report has
work to do. Then runs tamis on them with the report switched off (``--no-report``), times
``write_report`` on the finished run directory and prints both times and their ratio (the
target is a report under 10 % of the run), with the report's own breakdown: reading
``stats.json``, reading the shards (sampled kept documents, every reject's reason and
``duplicate_of``, sample rejects, the largest clusters' documents), rendering.

Times are wall-clock on this machine; the ratio is what holds elsewhere.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"


def sentence_pool(n_docs: int = 4000) -> list[str]:
    from tamis.demo import generate

    pool: list[str] = []
    for record in generate(n_docs, seed=11):
        for line in record["text"].splitlines():
            pool.extend(s.strip() + "." for s in line.split(". ") if len(s.strip()) > 25)
    return sorted(set(pool))


def build_corpus(n_docs: int) -> Path:
    path = DATA / f"report-{n_docs}.jsonl"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(5)
    pool = sentence_pool()
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        buffer: list[bytes] = []
        i = 0
        while i < n_docs:
            sentences = rnd.sample(pool, rnd.randint(1, 6))
            lines = [" ".join(sentences[k : k + 2]) for k in range(0, len(sentences), 2)]
            roll = rnd.random()
            if roll < 0.03 and len(lines) > 1:
                lines = lines + lines[: rnd.randint(1, len(lines))]  # the body rendered twice
            text = "\n".join(lines)
            copies = rnd.randint(2, 6) if roll > 0.99 else 1  # ~1 % of pages, 2-6 copies each: ~5 % of docs
            for _ in range(min(copies, n_docs - i)):
                buffer.append(orjson.dumps({"id": f"r{i}", "text": text}) + b"\n")
                i += 1
            if len(buffer) >= 50_000:
                fh.write(b"".join(buffer))
                buffer = []
        fh.write(b"".join(buffer))
    tmp.rename(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--recipe", default="foundation", help="tamis recipe for the run (foundation = the fastest run, the strictest ratio)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DATA / "report-run")
    args = parser.parse_args()

    from tamis.pipeline import RunConfig
    from tamis.recipes import recipe
    from tamis.report import load_run, write_report
    from tamis.report.page import render
    from tamis.runner import run

    t0 = time.perf_counter()
    corpus = build_corpus(args.docs)
    print(f"corpus: {corpus} ({corpus.stat().st_size / 1e6:,.0f} MB, {args.docs:,} documents; built/cached in {time.perf_counter() - t0:.1f} s)")

    if args.out.exists():
        shutil.rmtree(args.out)
    config = RunConfig(input=[str(corpus)], output=str(args.out), steps=recipe(args.recipe), workers=args.workers, report=False)
    t0 = time.perf_counter()
    outcome = run(config)
    run_s = time.perf_counter() - t0
    if outcome.failed:
        print(f"run failed: {outcome.failed}", file=sys.stderr)
        return 1
    stats = orjson.loads((args.out / "stats.json").read_bytes())
    print(f"run ({args.recipe}, {args.workers} workers): {run_s:.1f} s — read {stats['read']:,}, kept {stats['kept']:,}, rejected {stats['rejected_total']:,}")

    t0 = time.perf_counter()
    path = write_report(args.out)
    report_s = time.perf_counter() - t0
    print(f"report: {report_s:.2f} s ({path}, {path.stat().st_size / 1e3:,.0f} KB)")

    # breakdown (a second pass, so the page cache is warm for both: the first figure is the one that counts)
    t0 = time.perf_counter()
    view = load_run(args.out, read_shards=False)
    t1 = time.perf_counter()
    view = load_run(args.out)
    t2 = time.perf_counter()
    render(view)
    t3 = time.perf_counter()
    f = view.findings
    assert f is not None
    print(
        f"  breakdown: stats+config {t1 - t0:.2f} s · shards {t2 - t1 - (t1 - t0):.2f} s "
        f"(kept sampled {f.kept_sampled:,} of {f.kept_total:,}, rejects scanned {sum(f.rejected_seen.values()):,}) · render {t3 - t2:.2f} s"
    )
    ratio = report_s / run_s
    print(f"ratio report/run: {ratio:.3f} ({ratio:.1%}; target < 10 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
