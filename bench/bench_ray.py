"""Local vs Ray executor on one machine: what running tamis's tasks as Ray tasks costs.

    .venv/bin/python bench/bench_ray.py [--size-mb 512] [--files 16] [--workers 2] [--recipe foundation] [--repeat 2]

Builds (once, cached under bench/data/) a JSONL corpus of about ``--size-mb`` MB, uncompressed,
from tamis's own demo generator (seven languages, exact and near copies, repeated paragraphs,
junk) in ``--files`` files, reads it once so both executors start from a warm page cache, then
runs ``tamis run`` on it with ``--executor local`` and ``--executor ray`` (a private local Ray
instance started by tamis, limited to ``--workers`` CPUs), alternating the order ``--repeat``
times, each in a fresh process, same recipe, same worker count.

The recipe is ``foundation`` by default (normalize, repetition, exact_dedup: per-task work, a
global stage and its apply pass): cheap steps make the executor's own overhead show the most.
``--recipe default`` runs the full default recipe instead (much slower per document).

Prints, per executor, the best wall time of the whole command (imports, Ray start-up and
shutdown included: what a user waits for) and the best time of the run itself (from
``stats.json``: tasks and stages only), the ratios Ray / local for both, and checks that the
two executors wrote identical files (decompressed). Target: Ray ≤ 1.3 × local wall time.
Absolute times on a shared machine are noise; the ratio, measured side by side, holds.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
RESULTS = ROOT / "results" / "ray"
TARGET_RATIO = 1.3


def build_corpus(size_mb: int, files: int) -> Path:
    from tamis.demo import generate

    directory = DATA / f"ray-{size_mb}mb-{files}f"
    if directory.exists():
        return directory
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    per_file = (size_mb << 20) // files
    seed = 0
    for k in range(files):
        written = 0
        with open(tmp / f"part-{k:03d}.jsonl", "wb") as fh:
            while written < per_file:
                batch = generate(1_000, seed=seed)
                blob = b"".join(orjson.dumps({**r, "id": f"s{seed}-{i}"}) + b"\n" for i, r in enumerate(batch))
                fh.write(blob)
                written += len(blob)
                seed += 1
    tmp.rename(directory)
    return directory


def warm(directory: Path) -> int:
    total = 0
    for path in sorted(directory.glob("*.jsonl")):
        with open(path, "rb") as fh:
            while block := fh.read(1 << 24):
                total += len(block)
    return total


def run_once(executor: str, corpus: Path, workers: int, recipe: str) -> tuple[float, float, dict]:
    out = RESULTS / executor
    command = [
        sys.executable, "-m", "tamis.cli", "run", "-i", str(corpus), "-o", str(out), "--overwrite", "-q", "--no-report",
        "--workers", str(workers), "--recipe", recipe, "--executor", executor,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"tamis run --executor {executor} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    stats = orjson.loads((out / "stats.json").read_bytes())
    return wall, stats["run"]["seconds"], stats


def digest_run(root: Path) -> dict[str, str]:
    """sha256 of every output and reject shard, decompressed, plus stats.json without ``run``."""
    digests = {}
    for sub in ("output", "rejects"):
        for path in sorted((root / sub).glob("*")):
            opener = gzip.open if path.name.endswith(".gz") else open
            h = hashlib.sha256()
            with opener(path, "rb") as fh:
                while block := fh.read(1 << 24):
                    h.update(block)
            digests[f"{sub}/{path.name}"] = h.hexdigest()
    stats = orjson.loads((root / "stats.json").read_bytes())
    stats.pop("run")
    digests["stats.json"] = hashlib.sha256(orjson.dumps(stats, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return digests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=512)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--recipe", default="foundation", choices=["foundation", "default"])
    parser.add_argument("--repeat", type=int, default=2, help="rounds; each runs both executors, in alternating order")
    args = parser.parse_args()
    try:
        import ray  # noqa: F401
    except ImportError:
        sys.exit("this bench needs Ray: pip install -e '.[ray]'")

    t0 = time.perf_counter()
    corpus = build_corpus(args.size_mb, args.files)
    size = warm(corpus)
    print(f"corpus: {corpus} — {size / 1e6:,.0f} MB in {args.files} JSONL files ({time.perf_counter() - t0:.0f} s to build/read)")
    print(f"recipe: {args.recipe}   workers: {args.workers}   rounds: {args.repeat}   machine: {len(os.sched_getaffinity(0))} cores")
    walls: dict[str, list[float]] = {"local": [], "ray": []}
    runs: dict[str, list[float]] = {"local": [], "ray": []}
    stats: dict[str, dict] = {}
    for round_index in range(args.repeat):
        order = ["local", "ray"] if round_index % 2 == 0 else ["ray", "local"]
        for executor in order:
            wall, run_s, stats[executor] = run_once(executor, corpus, args.workers, args.recipe)
            walls[executor].append(wall)
            runs[executor].append(run_s)
            print(f"  round {round_index + 1} {executor:5s}  wall {wall:7.1f} s   run {run_s:7.1f} s")
    s = stats["local"]
    print(f"documents: read {s['read']:,} = kept {s['kept']:,} + rejected {s['rejected_total']:,};  {s['bytes_in'] / 1e6:,.0f} MB of text")
    print()
    print(f"{'executor':10s} {'wall (best)':>12s} {'run (best)':>12s} {'MB/s (wall)':>12s}")
    for executor in ("local", "ray"):
        wall, run_s = min(walls[executor]), min(runs[executor])
        print(f"{executor:10s} {wall:10.1f} s {run_s:10.1f} s {size / 1e6 / wall:12.1f}")
    wall_ratio = min(walls["ray"]) / min(walls["local"])
    run_ratio = min(runs["ray"]) / min(runs["local"])
    verdict = "meets" if wall_ratio <= TARGET_RATIO else "MISSES"
    print(f"\nRay / local wall time: {wall_ratio:.3f}x   ({verdict} the {TARGET_RATIO}x target)")
    print(f"Ray / local run time (tasks and stages only): {run_ratio:.3f}x")
    same = digest_run(RESULTS / "local") == digest_run(RESULTS / "ray")
    print(f"identical outputs, rejects and stats (decompressed): {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
