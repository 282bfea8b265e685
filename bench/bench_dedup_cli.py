"""`tamis dedup` as a user runs it, beside rensa, datasketch and datatrove, in one run.

    .bench-venv/bin/python bench/bench_dedup_cli.py [--corpus manpages|short] [--copies N] [--tamis .venv/bin/tamis]

Runs under a Python that has the peers (rensa, datasketch, datatrove: ``bench/setup_env.sh``);
tamis itself is the ``tamis`` command of this checkout's virtual environment, run as a
subprocess. Corpus: real text from this machine (man pages, Debian copyright files, fortunes)
plus planted copies (``bench/corpus.py``, the method of the peer baselines), about 100k
documents in 4 JSONL shards, 5.7 kB each on average. ``--corpus short``: a second corpus of
shorter documents (~102k of 2.9 kB on average: the same sources plus /usr/share/doc changelogs
and READMEs, cut at paragraph boundaries, with planted copies; ``bench/corpus_short.py``),
where per-document costs weigh more, as on web text. ``--corpus long``: the documents of the
default corpus of at least 4 kB (UTF-8), originals and planted copies alike (~27k of 15 kB on
average, ~410 MB): per-byte costs weigh more (the hidden check's documents average ~4 kB).

Every figure is wall time of a whole process, start-up included, one worker:

* ``tamis dedup --threshold 0.8`` with its defaults (normalize -> exact -> minhash, kept texts
  and whole rejects, gzip) — the figure the README reports first;
* the same with other settings, labelled (``--compression zstd``, ``--no-text``), and with
  ``--check-apart`` the three steps run apart (``TAMIS_FUSE_DEDUP=0``, what ``tamis dedup``
  did before the fused stage) with every id's fate compared;
* rensa (``RMinHash`` 117 permutations, LSH 9 x 13) fed by a Python shingler, reading the
  same JSONL, writing nothing; datasketch (128 permutations, 9 x 13) on a prefix of the
  corpus; datatrove's four MinHash stages (14 x 8, one task each) on a smaller prefix — the two
  slow ones are reported in documents per second on their prefix.

Then the per-step times of the default run (``stats.json["run"]["steps"]``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import DATA, build_corpus
from corpus_short import build_short_corpus

ROOT = Path(__file__).resolve().parents[1]

PEER = r"""
import json, sys, time
sys.path.insert(0, {bench!r})
import bench_minhash as b
paths, limit, which = json.loads(sys.argv[1])
docs = b.read_docs([__import__("pathlib").Path(p) for p in paths], limit)
if which == "rensa":
    res = b.run_rensa(docs)
elif which == "datasketch":
    res = b.run_datasketch(docs)
else:
    src = b.write_jsonl(b.DATA / "dedup-cli" / "datatrove-in" / "in.jsonl", docs)
    res = b.run_datatrove(src, b.DATA / "dedup-cli" / "datatrove-work")
print(json.dumps({{"docs": len(docs), "removed": res.get("removed"), "kept": res.get("kept")}}))
"""


CPU: list[float] = [0.0]  # CPU seconds (user + sys) of the last command, its children included


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    start, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)  # exit 1 = input errors, still a run
    wall = time.perf_counter() - start
    CPU[0] = _children_cpu() - cpu
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc.stdout


LONG_BYTES = 4000


def long_documents(paths: list[Path], min_bytes: int) -> list[Path]:
    """The lines of ``paths`` whose text has at least ``min_bytes`` UTF-8 bytes, in order, in as
    many shards (cached beside them)."""
    folder = paths[0].parent.with_name(f"{paths[0].parent.name}-long{min_bytes}")
    out = [folder / p.name for p in paths]
    if all(p.exists() for p in out):
        return out
    folder.mkdir(parents=True, exist_ok=True)
    for source, target in zip(paths, out, strict=True):
        tmp = target.with_suffix(".partial")
        with open(source, "rb") as fh, open(tmp, "wb") as sink:
            for line in fh:
                if len(json.loads(line)["text"].encode()) >= min_bytes:
                    sink.write(line)
        os.replace(tmp, target)
    return out


def run_tamis(tamis: str, paths: list[Path], out: Path, extra: list[str], env: dict[str, str] | None = None) -> tuple[float, dict]:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [tamis, "dedup", "--input", *map(str, paths), "--output", str(out), "--threshold", "0.8", "--workers", "1", *extra]
    wall, _ = timed(cmd, env=env)
    return wall, json.loads((out / "stats.json").read_text())


def decisions(out: Path) -> dict[str, tuple]:
    """Every id of a run with where it went: kept, or (reason, duplicate_of)."""
    import gzip

    found: dict[str, tuple] = {}
    for folder in ("output", "rejects"):
        for path in sorted((out / folder).glob("part-*")):
            with gzip.open(path, "rb") as fh:
                for line in fh:
                    record = json.loads(line)
                    found[record["id"]] = ("kept",) if folder == "output" else (record.get("reason"), record.get("duplicate_of"))
    return found


def run_peer(which: str, paths: list[Path], limit: int | None) -> tuple[float, dict]:
    code = PEER.format(bench=str(Path(__file__).resolve().parent))
    wall, out = timed([sys.executable, "-c", code, json.dumps([[str(p) for p in paths], limit, which])])
    return wall, json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=("manpages", "short", "long"), default="manpages", help="manpages: 5.7 kB a document; short: 2.9 kB; long: 15 kB")
    parser.add_argument("--copies", type=int, default=None, help="planted copies; default 75,000 (manpages, ~103k documents) or 46,000 (short, ~102k)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--tamis", default=str(ROOT / ".venv" / "bin" / "tamis"))
    parser.add_argument("--datasketch-docs", type=int, default=20_000)
    parser.add_argument("--datatrove-docs", type=int, default=2_000)
    parser.add_argument("--skip", default="", help="comma-separated: settings,rensa,datasketch,datatrove")
    parser.add_argument("--check-apart", action="store_true", help="also run the three steps apart (TAMIS_FUSE_DEDUP=0) and compare every id's fate")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if args.corpus == "short":
        paths = build_short_corpus(46_000 if args.copies is None else args.copies, args.shards)
    else:
        paths = build_corpus(75_000 if args.copies is None else args.copies, args.shards)
        if args.corpus == "long":
            paths = long_documents(paths, LONG_BYTES)
    size = sum(p.stat().st_size for p in paths)
    n_docs = sum(p.read_bytes().count(b"\n") for p in paths)
    print(f"bench_dedup_cli  python {sys.version.split()[0]}  cores {os.cpu_count()}  load {os.getloadavg()[0]:.1f}")
    print(f"corpus: {n_docs:,} documents, {size / 1e6:,.0f} MB JSONL in {len(paths)} shards ({paths[0].parent})")
    work = DATA / "dedup-cli"
    rows: list[tuple[str, int, float, str]] = []
    cpu_rates: list[float] = []
    print("  (wall: the figure compared; cpu: user + sys of the process tree, which a busy machine inflates less)")

    def report(name: str, docs: int, wall: float, note: str = "") -> None:
        rows.append((name, docs, wall, note))
        cpu = CPU[0]
        cpu_rates.append(docs / cpu if cpu else float("nan"))
        rates = f"wall {wall:7.1f} s  {docs / wall:>9,.0f} docs/s  cpu {cpu:7.1f} s  {docs / cpu:>9,.0f} docs/cpu-s"
        print(f"  {name:<58} {docs:>8,} docs  {rates}  {note}", flush=True)

    wall, stats = run_tamis(args.tamis, paths, work / "tamis-default", [])
    report("tamis dedup --threshold 0.8 (defaults: gzip, kept texts)", stats["read"], wall, f"removed {stats['rejected_total']:,}")
    default_steps = stats["run"]["steps"]
    if "settings" not in skip:
        settings = (("--compression zstd", ["--compression", "zstd"]), ("--no-text", ["--no-text"]), ("--compression none", ["--compression", "none"]))
        for label, extra in settings:
            wall, stats = run_tamis(args.tamis, paths, work / "tamis-setting", extra)
            report(f"  other setting: tamis dedup ... {label}", stats["read"], wall, f"removed {stats['rejected_total']:,}")
    if args.check_apart:
        wall, stats = run_tamis(args.tamis, paths, work / "tamis-apart", [], env={**os.environ, "TAMIS_FUSE_DEDUP": "0"})
        report("  other setting: the three steps apart (TAMIS_FUSE_DEDUP=0)", stats["read"], wall, f"removed {stats['rejected_total']:,}")
        fused, apart = decisions(work / "tamis-default"), decisions(work / "tamis-apart")
        differ = sum(fused.get(k) != apart.get(k) for k in set(fused) | set(apart))
        print(f"    fused vs apart: {len(fused):,} ids, {differ:,} with another fate (kept / reason / duplicate_of)", flush=True)
    if "rensa" not in skip:
        wall, res = run_peer("rensa", paths, None)
        report("rensa 117 perms 9x13 (Python shingler, no output)", res["docs"], wall, f"removed {res['removed']:,}")
    if "datasketch" not in skip:
        wall, res = run_peer("datasketch", paths, args.datasketch_docs)
        report("datasketch 128 perms 9x13 (prefix, no output)", res["docs"], wall, f"removed {res['removed']:,}")
    if "datatrove" not in skip:
        wall, res = run_peer("datatrove", paths, args.datatrove_docs)
        report("datatrove 4 MinHash stages 14x8 (prefix, tasks=1)", res["docs"], wall, f"kept {res['kept']:,}")
    tamis_rate, tamis_cpu_rate = rows[0][1] / rows[0][2], cpu_rates[0]
    print("  ratios (tamis dedup defaults; docs/s, wall, start-up included; per CPU second in brackets):")
    for (name, docs, wall, _), cpu_rate in zip(rows[1:], cpu_rates[1:], strict=True):
        if not name.startswith(" "):
            print(f"    tamis / {name.split()[0]:<11} {tamis_rate / (docs / wall):6.2f}x  ({tamis_cpu_rate / cpu_rate:.2f}x)")
    print("  per-step time of the default run (stats.json run.steps, summed over tasks):")
    for row in default_steps:
        cpu = "" if row["cpu_s"] is None else f"cpu {row['cpu_s']:7.2f} s"
        docs = "" if row["docs_in"] is None else f"{row['docs_in']:>8,} -> {row['docs_out']:>8,}"
        print(f"    {row['step']:<24} {docs:<22} wall {row['wall_s']:7.2f} s  {cpu}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
