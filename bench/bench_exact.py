"""Exact document dedup throughput against the read+parse+hash floor, on one generated file.

    .venv/bin/python bench/bench_exact.py [--size-mb 1024] [--workers 1 2]

Builds (once, cached under bench/data/) a JSONL corpus of about ``--size-mb`` MB from
tamis's own demo generator (seven languages, 8 % exact copies, some changed only in case or
spacing), then measures, one after another on the same file:

* floor: read each line (8 MB reads, as tamis reads), ``orjson.loads``, xxh3-64 of the UTF-8
  text — what any Python dedup must at least do;
* tamis: ``tamis run`` with the single step ``exact_dedup`` (read → normalise → hash →
  decide → write kept ids and whole rejects), kept documents written with text dropped
  (``keep_text: false``: id and metadata) and no compression, so the figure is the dedup
  itself. Its first pass frames, validates, normalises and hashes records in compiled code
  and leaves each kept record's output line for the second pass, which then reads the
  input only for the rejected documents (``tamis/io/jsonl_fast.py``);
* tamis writing the kept documents compressed, once per codec at its default level (gzip: ISA-L level 2, zstd level 3),
  as its own figure. With one worker and texts written, the run is one pass
  (``tamis/executors/stream.py``: each record hashed, decided and written as it is read, the
  deflate thread running beside the read), which writes what the two passes write.

Prints MB/s for each and the ratio to the floor; each figure is the best of ``--repeat``
runs (absolute times on shared machines are noise; ratios measured side by side hold).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import orjson
import xxhash

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"


def build_corpus(size_mb: int) -> Path:
    from tamis.demo import generate

    path = DATA / f"exact-{size_mb}mb.jsonl"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    written, seed = 0, 0
    with open(tmp, "wb") as fh:
        while written < size_mb << 20:
            batch = generate(20_000, seed=seed)
            for i, record in enumerate(batch):
                record["id"] = f"s{seed}-{i}"
            blob = b"".join(orjson.dumps(r) + b"\n" for r in batch)
            fh.write(blob)
            written += len(blob)
            seed += 1
    tmp.rename(path)
    return path


READ_BUFFER = 8 << 20  # the floor reads as tamis's JSONL reader does (tamis.io.jsonl_fast.BLOCK): 8 MB at a time


def floor(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    seen: set[int] = set()
    n = 0
    # Python's default 8 KB buffer made the floor ~13 % slower in CPU (measured in session
    # 10): a floor handicapped by its reads would flatter every ratio.
    with open(path, "rb", buffering=READ_BUFFER) as fh:
        for line in fh:
            record = orjson.loads(line)
            seen.add(xxhash.xxh3_64_intdigest(record["text"].encode()))
            n += 1
    return time.perf_counter() - started, n


def tamis_run(path: Path, workers: int, out: Path, *, keep_text: bool, compression: str) -> tuple[float, dict]:
    from tamis.pipeline import RunConfig
    from tamis.runner import run

    if out.exists():
        shutil.rmtree(out)
    config = RunConfig(
        input=[str(path)],
        output=str(out),
        workers=workers,
        steps=[{"step": "exact_dedup"}],
        compression=compression,
        keep_text=keep_text,
        report=False,
        reader={"chunk_bytes": 64 << 20},
    )
    started = time.perf_counter()
    outcome = run(config)
    return time.perf_counter() - started, outcome.stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-codecs", action="store_true")
    parser.add_argument("--codecs", nargs="+", default=["gzip", "zstd"], choices=["gzip", "zstd"], help="the compressed-output figures to measure")
    parser.add_argument("--skip-ids", action="store_true", help="skip the ids-only figures (keep_text false, no compression)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement; the best is reported")
    args = parser.parse_args()
    path = build_corpus(args.size_mb)
    mb = path.stat().st_size / 1e6
    print(f"corpus: {path} ({mb:,.0f} MB JSONL)")
    with open(path, "rb") as fh:  # warm the page cache so every contender reads from memory
        while fh.read(64 << 20):
            pass
    seconds, n = min(floor(path) for _ in range(args.repeat))
    floor_mbs = mb / seconds
    print(f"{'read+json+xxh3 floor':<44} {seconds:7.1f} s  {floor_mbs:7.1f} MB/s  ratio 1.00  ({n:,} docs)")
    out = DATA / "run"
    base: float | None = None
    for workers in [] if args.skip_ids else args.workers:
        seconds, stats = min((tamis_run(path, workers, out, keep_text=False, compression="none") for _ in range(args.repeat)), key=lambda r: r[0])
        mbs = mb / seconds
        base = base or seconds
        print(
            f"{f'tamis exact_dedup, {workers} worker(s), ids only':<44} {seconds:7.1f} s  {mbs:7.1f} MB/s  "
            f"ratio {mbs / floor_mbs:.2f} of floor, {mbs / floor_mbs / workers:.2f} per worker  "
            f"(kept {stats['kept']:,}, rejected {stats['rejected_total']:,}; speed-up {base / seconds:.2f}x)"
        )
    if not args.skip_codecs:
        for codec in args.codecs:
            seconds, stats = min((tamis_run(path, 1, out, keep_text=True, compression=codec) for _ in range(args.repeat)), key=lambda r: r[0])
            label = {"gzip": "gzip (ISA-L level 2)", "zstd": "zstd level 3"}[codec]
            name = f"tamis exact_dedup + kept docs as {label}, 1 worker"
            print(f"{name:<44} {seconds:7.1f} s  {mb / seconds:7.1f} MB/s  ratio {mb / seconds / floor_mbs:.2f} of floor")
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
