"""``tamis run`` start-up as a user pays it: the default recipe on one English document.

    .venv/bin/python bench/bench_startup.py [--base OLD_CHECKOUT] [--rounds 7]

Each round runs ``tamis run --input one.jsonl --output OUT --workers 1 -q`` (the default recipe,
its defaults: gzip, report, card) as a subprocess, for this checkout and, alternately, for
``--base`` (another checkout, e.g. ``git worktree add /tmp/base main`` with this checkout's
``tamis/_native/*.so`` copied in; run with this venv's python and ``PYTHONPATH=BASE``), so the two
share the machine's load, after one discarded warm-up run of each. It prints each side's CPU seconds (user + sys of the process: the
figure to compare on a shared machine; min and median) and wall seconds (median).

Then, for each side, where the CPU goes (``--phase-runs`` more runs in-process, ``time.process_time``, the least of each phase):
inclusive times of the run's phases (a phase holds the imports it triggers) and of the first
import of numpy, pyarrow, yaml, hashlib and shutil wherever it happens (none, on a default run). Every module is byte-compiled first, as
pip compiles an installed package.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = "The bridge over the river closes on Monday for two years of repairs, the city said. "

# Run in a fresh interpreter of the checkout under test: times the phases of one `tamis run`.
PHASES_DRIVER = r'''
import importlib.abc, importlib.util, json, sys, time
clock = time.process_time
found = {}
WATCH = ("numpy", "pyarrow", "yaml", "hashlib", "shutil")  # none of them on a default run's path
# wrapped once imported (importing them here would move their imports out of the phases)
LATER = {"tamis.steps.fasttext_model": ("load", "  lid.176 load"), "tamis.io.shardnotes": ("ShardNotes.save", "  shard notes"),
         "tamis.io.card": ("write_card", "dataset card (README.md)")}

class ImportTimer(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in WATCH and name not in LATER:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module
        def exec_module(module, run=run):
            t = clock()
            try:
                run(module)
            finally:
                if name in WATCH:
                    found[f"import {name} (first, wherever)"] = clock() - t
            if name in LATER:
                attribute, label = LATER[name]
                owner, _, leaf = attribute.rpartition(".")
                holder = getattr(module, owner) if owner else module
                setattr(holder, leaf, timed(label, getattr(holder, leaf)))
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, ImportTimer())
start = clock()

def timed(label, fn):
    def wrapper(*args, **kwargs):
        t = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            found[label] = found.get(label, 0.0) + clock() - t
    return wrapper

t = clock(); import tamis.cli; found["import tamis.cli"] = clock() - t
t = clock(); import tamis.runner, tamis.pipeline; found["import tamis.runner (pipeline, executors)"] = clock() - t
tamis.cli.build_parser = timed("argument parser", tamis.cli.build_parser)
tamis.runner.build_steps = timed("build the steps (imports their modules)", tamis.runner.build_steps)
tamis.runner.execute = timed("execute: tasks, passes, stats.json (and card, where it runs there)", tamis.runner.execute)
tamis.runner.write_report_if_available = timed("report.html", tamis.runner.write_report_if_available)
def whole_run():  # at exit: the command line's process ends in main (cli._end_process), after its atexit handlers
    found["whole run in-process (after the interpreter's start)"] = clock() - start
    print(json.dumps(found))
import atexit; atexit.register(whole_run)
sys.argv = ["tamis", sys.argv[3], "--input", sys.argv[1], "--output", sys.argv[2], "--workers", "1", "-q"]
tamis.cli.main()  # the command line's own path (argv None), as the subprocess runs take it
'''


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def environment(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # "python -c" is not the tamis script, which installs the dataclass store itself
    # (tamis.dataclass_store.wanted): ask for it, so that both runs start as the command does
    env.setdefault("TAMIS_DATACLASS_STORE", "1")
    return env


def one_run(root: Path, doc: Path, out: Path, what: str = "run") -> tuple[float, float]:
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-c", "import sys; from tamis.cli import main; sys.exit(main())", what,
               "--input", str(doc), "--output", str(out), "--workers", "1", "-q"]
    started, cpu = time.perf_counter(), child_cpu()
    subprocess.run(command, env=environment(root), check=True, stdout=subprocess.DEVNULL, cwd=root)
    return child_cpu() - cpu, time.perf_counter() - started


def phases(root: Path, doc: Path, out: Path, what: str = "run") -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    done = subprocess.run([sys.executable, "-c", PHASES_DRIVER, str(doc), str(out), what], env=environment(root), check=True,
                          capture_output=True, text=True, cwd=root)
    return json.loads(done.stdout.strip().splitlines()[-1])


def interpreter_cpu() -> float:
    cpu = child_cpu()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return child_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="another checkout to compare with, run alternately (default: none)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--phase-runs", type=int, default=3, help="in-process runs for the breakdown (min of each phase)")
    parser.add_argument("--input", type=Path, help="a JSONL file to run on instead of the one English document "
                        "(e.g. 20 of bench_recipe's man pages: the fixed costs of several languages)")
    parser.add_argument("--command", choices=("run", "dedup"), default="run", help="tamis run (the default recipe) or tamis dedup (its defaults)")
    args = parser.parse_args()
    sides = {"this checkout": ROOT} | ({f"base {args.base}": args.base.resolve()} if args.base else {})
    for root in sides.values():
        compileall.compile_dir(str(root / "tamis"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="tamis-startup-") as tmp:
        doc = Path(tmp) / "one.jsonl"
        doc.write_text(json.dumps({"id": "one", "text": TEXT * 6}) + "\n")
        if args.input:
            doc = args.input.resolve()
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        for root in sides.values():  # one discarded warm-up run of each side (page cache, as bench_recipe)
            one_run(root, doc, Path(tmp) / "out", args.command)
        for _ in range(args.rounds):
            for name, root in sides.items():
                figures[name].append(one_run(root, doc, Path(tmp) / "out", args.command))
        load = os.getloadavg()[0]
        what = f"{args.input.name} ({sum(1 for _ in args.input.open())} documents)" if args.input else "one document"
        print(f"tamis {args.command}, its defaults, {what}, --workers 1 -q, subprocess; "
              f"a discarded warm-up run each, then {args.rounds} rounds alternating; load {load:.1f}")
        for name, runs in figures.items():
            cpus, walls = [c for c, _ in runs], [w for _, w in runs]
            print(f"  {name:60s} CPU min {min(cpus):.3f} s  median {statistics.median(cpus):.3f} s   wall median {statistics.median(walls):.3f} s")
        print(f"  (the interpreter alone, python -c pass: {min(interpreter_cpu() for _ in range(5)):.3f} CPU-s)")
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
        for _ in range(args.phase_runs):
            for name, root in sides.items():
                runs[name].append(phases(root, doc, Path(tmp) / "out", args.command))
        breakdowns = {name: {label: min(r.get(label, float("nan")) for r in found) for label in found[0]} for name, found in runs.items()}
        labels = list(dict.fromkeys(label for found in breakdowns.values() for label in found))
        print(f"\nwhere the CPU goes, in-process, inclusive (a phase holds the imports it triggers), min of {args.phase_runs} runs each:")
        print(f"  {'':66s}" + "".join(f"{name[:22]:>24s}" for name in sides))
        for label in labels:
            print(f"  {label:66s}" + "".join(f"{breakdowns[name].get(label, float('nan')):22.3f} s" for name in sides))


if __name__ == "__main__":
    main()
