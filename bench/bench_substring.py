"""Exact-substring dedup: MB/s per core end to end and peak memory against the shard size,
beside libdivsufsort building the suffix arrays of the same text in the same run.

    .venv/bin/python bench/bench_substring.py [--size-mb 1024] [--shard-mb 64 256] [--workers 1]

Corpus (built once, cached under ``bench/data/``): ``--size-mb`` MB of document text (UTF-8)
in JSONL, about a third each Latin, Cyrillic and CJK. The base text is drawn token by token
from the vocabulary of the man pages installed here (bench/substring_corpus.py: English,
German, French ..., Russian, Ukrainian, Chinese, Japanese), with their token frequencies, so
it is unique at the 100-byte level yet has the byte statistics of the scripts; into it, real
man-page lines (>= 100 bytes) are planted as repeated spans, each into 2-5 documents anywhere
in the corpus (so most repeats cross shards), as lines of their own or inside lines; and 2 % of
the documents are exact copies of earlier ones.

Measured, one after another, on the same warm file:

* ``libdivsufsort``: ``pydivsufsort.divsufsort`` over the text cut into pieces of the shard size
  (what a per-shard suffix array costs; no I/O, no JSON);
* ``tamis``: ``tamis run recipe.yaml`` with the single step ``substring_dedup`` (its defaults but
  ``shard_mb``), as a subprocess, the user's command with the default output (gzip JSONL):
  wall time, CPU time of all its processes (user + system: "per core" is MB per CPU-second),
  and the peak resident memory of its largest process (``ru_maxrss`` of the children);
* the planted spans checked in the output (bench/substring_corpus.py: later copies removed,
  first copies kept, unique lines of a sample of documents intact, deletion-only, valid UTF-8).
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import substring_corpus as sc

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"
SCRIPTS = ("latin", "cyrillic", "cjk")
DOC_BYTES = (1_000, 8_000)
PLANTED_SHARE = 0.04  # of the documents receive a planted span copy
EXACT_COPIES = 0.02


def _vocabulary(script: str, lines: list[str], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    counts: dict[str, int] = {}
    if script == "cjk":
        text = "".join(lines)
        for _ in range(400_000):  # 1-4 character pieces of the real text
            i = int(rng.integers(0, len(text) - 4))
            piece = text[i : i + int(rng.integers(1, 5))]
            counts[piece] = counts.get(piece, 0) + 1
    else:
        for line in lines:
            for token in line.split(" "):
                if 0 < len(token) <= 24:  # long tokens (option lists) would repeat 100-byte spans
                    counts[token + " "] = counts.get(token + " ", 0) + 1
    tokens = np.array(list(counts), dtype=object)
    weights = np.array(list(counts.values()), dtype=np.float64)
    return tokens, np.cumsum(weights / weights.sum())


def build_corpus(size_mb: int, seed: int = 0) -> tuple[Path, Path]:
    path = DATA / f"substring-{size_mb}mb.jsonl"
    plan_path = path.with_suffix(".plan.json")
    if path.exists() and plan_path.exists():
        return path, plan_path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    prng = random.Random(seed)
    real = {s: sc.real_lines(s, 3_000_000, seed=seed) for s in SCRIPTS}
    spans_pool = {s: [line for line in real[s] if len(line.encode()) >= 100] for s in SCRIPTS}
    vocab = {s: _vocabulary(s, real[s][len(real[s]) // 3 :], rng) for s in SCRIPTS}
    target = size_mb * 1_000_000
    written = 0
    spans: dict[str, list[int]] = {}  # script -> indices into span_texts
    span_texts: list[str] = []
    plantings: list[tuple[str, int]] = []  # (document id, span index), in input order
    copies: dict[str, str] = {}  # exact copy id -> original id
    pending: list[tuple[str, str, list[int]]] = []
    tmp = path.with_suffix(".tmp")
    n = 0
    with open(tmp, "wb") as fh:
        while written < target:
            script = SCRIPTS[n % 3]
            tokens, cdf = vocab[script]
            size = int(rng.integers(*DOC_BYTES))
            count = max(20, size // (3 if script == "cjk" else 8))
            idx = np.minimum(np.searchsorted(cdf, rng.random(count)), len(tokens) - 1)
            words = tokens[idx].tolist()
            for pos in range(int(rng.integers(8, 25)), count, int(rng.integers(12, 30))):
                words[pos] = words[pos].rstrip() + "\n"
            text = "".join(words).strip()
            doc_id = f"d{n}"
            held: list[int] = []
            if prng.random() < PLANTED_SHARE and spans_pool[script]:
                # a span: new (its first copy) or one planted before
                if prng.random() < 0.4 or not spans.get(script):
                    span_texts.append(spans_pool[script].pop())
                    spans.setdefault(script, []).append(len(span_texts) - 1)
                    which = len(span_texts) - 1
                else:
                    which = prng.choice(spans[script])
                lines = text.split("\n")
                at = prng.randrange(len(lines))
                if prng.random() < 0.6:
                    lines.insert(at, span_texts[which])
                else:
                    lines[at] = lines[at] + ("" if script == "cjk" else " ") + span_texts[which]
                text = "\n".join(lines)
                held.append(which)
            if pending and prng.random() < EXACT_COPIES:
                original, text, held = pending.pop()
                doc_id = f"d{n}-copy"
                copies[doc_id] = original
            elif prng.random() < EXACT_COPIES:
                pending.append((doc_id, text, held))
            plantings.extend((doc_id, which) for which in held)
            fh.write(orjson.dumps({"id": doc_id, "text": text}) + b"\n")
            written += len(text.encode())
            n += 1
    tmp.rename(path)
    plan = {"spans": span_texts, "plantings": plantings, "copies": copies, "docs": n, "text_bytes": written}
    plan_path.write_bytes(orjson.dumps(plan))
    return path, plan_path


def read_texts(path: Path) -> list[bytes]:
    texts = []
    with open(path, "rb") as fh:
        for line in fh:
            texts.append(orjson.loads(line)["text"].encode("utf-8", "surrogatepass"))
    return texts


def divsufsort_seconds(texts: list[bytes], shard_bytes: int) -> tuple[float, int]:
    """Suffix arrays of the text in shard-size pieces (documents + a separator byte each)."""
    from pydivsufsort import divsufsort

    total, pieces, piece, size = 0.0, 0, [], 0
    for text in [*texts, None]:
        if text is not None:
            piece.append(text)
            size += len(text) + 1
        if piece and (text is None or size >= shard_bytes):
            blob = b"\xff".join(piece) + b"\xff"
            started = time.process_time()
            wall = time.perf_counter()
            divsufsort(blob)
            total += max(time.process_time() - started, 0.0) or time.perf_counter() - wall
            pieces += 1
            piece, size = [], 0
            del blob
    return total, pieces


def tamis_run(path: Path | list[Path], out: Path, shard_mb: int, workers: int, steps: list[dict] | None = None) -> dict:
    if out.exists():
        shutil.rmtree(out)
    recipe = out.parent / f"{out.name}.yaml"
    config = {
        "input": [str(p) for p in path] if isinstance(path, list) else [str(path)],
        "output": str(out),
        "workers": workers,
        "report": False,
        "steps": steps if steps is not None else [{"step": "substring_dedup", "shard_mb": shard_mb}],
    }
    recipe.write_bytes(orjson.dumps(config))  # JSON is YAML
    tamis = Path(sys.executable).with_name("tamis")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # a fresh process per run: RUSAGE_CHILDREN's ru_maxrss is the largest waited-for descendant
    probe = (
        "import resource, subprocess, sys; "
        "rc = subprocess.call(sys.argv[1:]); "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(u.ru_maxrss, u.ru_utime + u.ru_stime, rc)"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(tamis), "run", str(recipe)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    del before
    maxrss_kb, cpu, rc = result.stdout.strip().splitlines()[-1].split()
    if int(rc) not in (0, 1):
        raise SystemExit(f"tamis run failed ({rc}):\n{result.stderr[-3000:]}")
    return {"wall": wall, "cpu": float(cpu), "maxrss_mb": int(maxrss_kb) / 1024, "stats": orjson.loads((out / "stats.json").read_bytes())}


def check_output(path: Path, plan_path: Path, out: Path, sample: int = 3000) -> dict:
    from tamis.io.outputs import iter_records

    plan = orjson.loads(plan_path.read_bytes())
    spans = plan["spans"]
    holds: dict[str, list[int]] = {}
    for doc_id, which in plan["plantings"]:
        holds.setdefault(doc_id, []).append(which)
    rng = random.Random(1)
    planted = sc.Planted()
    with open(path, "rb") as fh:
        for line in fh:
            record = orjson.loads(line)
            held = holds.get(record["id"], [])
            if not held and rng.random() >= sample / plan["docs"]:
                continue
            index = len(planted.records)
            planted.records.append(record)
            texts = [spans[w] for w in held]
            is_copy = record["id"] in plan["copies"]
            planted.unique_lines[index] = [] if is_copy else [ln for ln in record["text"].split("\n") if not any(t in ln or ln in t for t in texts)]
            for which in held:
                planted.spans.setdefault(spans[which], []).append((index, "?"))
    planted.spans = {s: places for s, places in planted.spans.items() if len(places) > 1}
    kept = {r["id"]: r for r in iter_records(out, "output")}
    rejected = {r["id"]: r for r in iter_records(out, "rejects")}
    return sc.check(planted, kept, rejected).summary()


def recipe_cost(workers: int) -> None:
    """Where the stage belongs: the default recipe with and without it (CPU seconds), on the
    real-text corpus of bench/corpus.py (man pages, Debian copyright files, fortunes, with
    planted near copies: text the quality filters mostly keep, with real boilerplate)."""
    from corpus import build_corpus as real_corpus

    from tamis.recipes import recipe

    path = real_corpus(copies=5_000, shards=2)
    print(f"corpus: {', '.join(map(str, path))} ({sum(p.stat().st_size for p in path) / 1e6:,.0f} MB)")
    default = recipe("default")
    at = next(i for i, step in enumerate(default) if step["step"] == "pii")
    variants = {"default recipe": default, "default + substring_dedup (after minhash, before pii)": [*default[:at], {"step": "substring_dedup"}, *default[at:]]}
    base = None
    for label, steps in variants.items():
        run = tamis_run(path, DATA / "substring-recipe", 256, workers, steps)
        base = base or run["cpu"]
        stats = run["stats"]
        print(
            f"{label:<56} CPU {run['cpu']:7.1f} s ({run['cpu'] / base:.2f}x)  kept {stats['kept']:,}  "
            f"bytes out {stats['bytes_out']:,}  substring removed {stats['removed_units'].get('substring_dedup.spans', 0):,} spans"
        )
    shutil.rmtree(DATA / "substring-recipe", ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="MB of document text (UTF-8)")
    parser.add_argument("--shard-mb", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-check", action="store_true", help="skip checking the planted spans in the output")
    parser.add_argument("--recipe-cost", action="store_true", help="only: the default recipe with and without the stage")
    args = parser.parse_args()
    if args.recipe_cost:
        recipe_cost(args.workers)
        return 0
    path, plan_path = build_corpus(args.size_mb)
    plan = orjson.loads(plan_path.read_bytes())
    text_mb = plan["text_bytes"] / 1e6
    print(f"corpus: {path} ({path.stat().st_size / 1e6:,.0f} MB JSONL, {text_mb:,.0f} MB of text, {plan['docs']:,} docs)")
    texts = read_texts(path)
    for shard_mb in args.shard_mb:
        seconds, pieces = divsufsort_seconds(texts, shard_mb << 20)
        print(f"libdivsufsort, {pieces} suffix arrays of <= {shard_mb} MiB: {seconds:7.1f} CPU-s  {text_mb / seconds:6.1f} MB/s per core")
        out = DATA / f"substring-run-{shard_mb}"
        run = tamis_run(path, out, shard_mb, args.workers)
        stats = run["stats"]
        print(
            f"tamis run (substring_dedup shard_mb={shard_mb}, {args.workers} worker): wall {run['wall']:7.1f} s, CPU {run['cpu']:7.1f} s  "
            f"{text_mb / run['cpu']:6.1f} MB/s per core ({text_mb / run['wall']:.1f} MB/s wall)  "
            f"ratio to the bare suffix-array build {seconds / run['cpu']:.2f}  "
            f"peak RSS {run['maxrss_mb']:,.0f} MB = {run['maxrss_mb'] / shard_mb:.1f}x the shard"
        )
        print(
            f"   kept {stats['kept']:,}, rejected {stats['rejected']}, modified {stats['modified']}, "
            f"removed {stats['removed_units']}, bytes {stats['bytes_in']:,} -> {stats['bytes_out']:,}"
        )
        if not args.no_check:
            print("   planted spans:", orjson.dumps(check_output(path, plan_path, out)).decode())
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
