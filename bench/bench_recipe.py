"""The default recipe as users run it against datatrove's FineWeb pipeline, same documents.

    .venv/bin/python bench/bench_recipe.py [--docs 1130] [--datatrove-python .bench-venv/bin/python]
    .venv/bin/python bench/bench_recipe.py --docs 0          # every page: the steady state (labelled)
    .venv/bin/python bench/bench_recipe.py --baseline ../base-checkout [--repeat 3] [--baseline-only]

Documents: this machine's man pages (every language folder under /usr/share/man, roff turned
into text by bench/corpus.py's stripper), a seeded sample of ``--docs`` of them with at least 30
words, written once as one JSONL file that both sides read. ``--docs 0`` takes every such page
(21,020 here, 87 MB of JSONL, 19 times the default sample): a labelled setting where the fixed costs
(start-up, model and segmenter loads) amortise, so the ratio reads the per-document costs and
says which step bounds it.

- tamis: ``tamis run --input docs.jsonl --output OUT --workers 1`` (the default recipe with its
  defaults: normalize, repetition, language, Gopher repetition and quality, C4, FineWeb,
  exact dedup, MinHash, PII; gzip output), a subprocess, wall time with start-up; its modules
  byte-compiled first, as pip compiles an installed package's (datatrove's in its venv).
- datatrove 0.10.1 (in the bench venv), as FineWeb ran it, one task and one worker per stage, a
  subprocess, wall time with start-up: JsonlReader → LanguageFilter (the same ``lid.176.ftz``
  file tamis uses, loaded into datatrove's fastText wrapper; the seven languages tamis keeps,
  threshold 0.65) → GopherRepetitionFilter → GopherQualityFilter → C4QualityFilter
  (``filter_no_terminal_punct=False``, as FineWeb) → FineWebQualityFilter → JsonlWriter (gzip);
  then MinHash: signatures, buckets, clusters, filter (5-grams, 14 bands x 8 rows) → JsonlWriter.

Method (as hyperfine runs commands, with ``--warmup 1``): each command -- tamis's default run,
tamis's seven-language run (labelled, below) and datatrove's pipeline -- first runs once as a
warm-up, labelled and discarded (the first run after other work pays a cold page cache for the
interpreter, the libraries and the model: session 15 saw tamis at 2.1-2.3 s cold against
~1.55 s warm). Then ``--runs`` rounds (default 7: the bench fits in ~5 minutes on an idle
machine), each running every command once in the same order, so the commands alternate and
share the machine's minutes alike; every run is a subprocess, wall time with start-up, one
worker, a fresh output folder, the same input. Each command is reported by the median of its
runs (wall and CPU each), with their spread (min-max) and every run listed; the ratio is of
the medians, and the ratio of each round's pair is given as its spread. Both sides are timed
the same way; neither's settings change between warm-up and timed runs.

Prints docs/s per core of each (wall time, one worker; and per CPU second), the ratio of wall
times and of CPU times (on a shared machine the CPU ratio is the steadier one), and per-step
times of each side's median run (tamis: its ``stats.json`` step times, wall and CPU; datatrove: its
executors' stats). Then, labelled as another setting, ``tamis run`` with the language step
narrowed to the seven languages the datatrove pipeline keeps (the default keeps every
language, so it segments Chinese, Japanese and Korean pages datatrove drops), and the floors
no design of the recipe removes, measured in-process: fastText's predict on every document
(both pipelines run it on whole texts) and each word segmenter's one-time load.

``--baseline DIR``: another checkout of tamis (say ``git worktree add DIR main``, its extensions
built in place from a wheel of it) run first, alternating with this one, ``--repeat`` pairs in
each setting, both as subprocesses on the same pages: CPU, wall and the word-statistics steps'
CPU of every run, and how many output or reject records (text, reason, signals) differ.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEVEN = ["en", "fr", "de", "es", "it", "pt", "nl"]


def man_documents(limit: int, seed: int) -> list[dict]:
    sys.path.insert(0, str(HERE))
    from corpus import man_pages

    docs = [{"id": doc_id, "text": text} for doc_id, text in man_pages() if len(text.split()) >= 30]
    random.Random(seed).shuffle(docs)
    return sorted(docs[:limit] if limit else docs, key=lambda d: d["id"])


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_tamis(docs_path: Path, out: Path, config: Path | None = None, tree: str | None = None) -> tuple[float, float, dict]:
    """One ``tamis run`` (one worker) as a subprocess; with ``tree``, the tamis of that checkout
    (on PYTHONPATH, its extensions built in place) instead of the installed one."""
    script = Path(sys.executable).with_name("tamis")
    command = [str(script) if script.exists() else "tamis", "run", *([str(config)] if config else []),
               "--input", str(docs_path), "--output", str(out), "--workers", "1"]
    env = None if tree is None else {**os.environ, "PYTHONPATH": tree}
    started, cpu = time.perf_counter(), child_cpu()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    wall, cpu = time.perf_counter() - started, child_cpu() - cpu
    if done.returncode not in (0, 1):
        sys.exit(f"tamis run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, cpu, json.loads((out / "stats.json").read_text())


def tamis_step_times(stats: dict) -> list[tuple[str, float, float | None]]:
    """(step, wall seconds, CPU seconds or None) from stats.json's run.steps."""
    rows = []
    for value in stats.get("run", {}).get("steps", []):
        if isinstance(value, dict) and "step" in value and isinstance(value.get("wall_s"), int | float):
            cpu = value.get("cpu_s")
            rows.append((value["step"], float(value["wall_s"]), float(cpu) if isinstance(cpu, int | float) else None))
    return rows


def print_tamis(label: str, n_docs: int, wall: float, cpu: float, stats: dict) -> None:
    print(f"{label:29s}{wall:7.2f} s  {n_docs / wall:8.1f} docs/s per core  (CPU {cpu:.2f} s, {n_docs / cpu:.1f} docs per CPU s; "
          f"kept {stats['kept']}, rejected {stats['rejected_total']})")
    print(f"    {'step':28s} {'wall':>7s}   {'CPU':>7s}")
    for name, seconds, cpu_seconds in tamis_step_times(stats):
        print(f"    {name:28s} {seconds:7.2f} s {'' if cpu_seconds is None else f'{cpu_seconds:7.2f} s'}")


def floors(docs: list[dict]) -> dict[str, float]:
    """CPU seconds, in this process, of what every run of the default recipe on ``docs`` pays
    whatever the rest costs: the language model's load and predict on each whole text (what
    datatrove's LanguageFilter also runs), and the one-time load of each word segmenter the
    documents' languages need."""
    from tamis.steps.language import FastTextIdentifier
    from tamis.steps.language import bundled_model_path as identifier_path
    from tamis.steps.quality.languages import settings_for
    from tamis.steps.quality.segmenters import segmenter

    found: dict[str, float] = {}
    started = time.process_time()
    identifier = FastTextIdentifier()
    found["lid.176 load"] = time.process_time() - started
    started = time.process_time()
    languages = [identifier.predict(doc["text"]) for doc in docs]
    found["lid.176 predict, every whole text"] = time.process_time() - started
    import fasttext  # what datatrove (and tamis before its compiled reader) runs: fastText's own predict

    library = fasttext.load_model(str(identifier_path()))
    started = time.process_time()
    for doc in docs:
        library.predict(" ".join(doc["text"].split()), k=1)
    found["  (fastText's own predict, same texts)"] = time.process_time() - started
    for name in sorted({settings_for(code).segmenter for code, score in languages if score >= 0.65} - {None, "clusters"}):
        started = time.process_time()
        segmenter(name)("한국어 日本語 中文 ภาษาไทย")  # the first call finishes a lazy load (Kiwi)
        found[f"{name} segmenter load"] = time.process_time() - started
        if name == "kiwi":  # tamis loads it without its multi-word dictionary (bench/bench_segmenters.py)
            import kiwipiepy

            started = time.process_time()
            kiwipiepy.Kiwi().tokenize("한국어")
            found["  (Kiwi() with every dictionary, as FineWeb-2)"] = time.process_time() - started
    return found


def seven_config(root: Path) -> Path:
    """The default recipe with its language step narrowed to datatrove's seven languages."""
    from tamis.recipes import recipe

    steps = recipe("default")
    for step in steps:
        if step["step"] == "language":
            step["allow"] = SEVEN
    config = root / "seven.yaml"
    config.write_text(json.dumps({"steps": steps}))  # JSON is YAML
    return config


def startup_floor(root: Path) -> float:
    """CPU seconds of ``tamis run`` (default recipe, one worker) on a single English document,
    the least of three runs: interpreter, imports, model load, output and report, what every
    run pays."""
    one = root / "one.jsonl"
    one.write_text(json.dumps({"id": "one", "text": "The bridge over the river closes on Monday for two years of repairs. " * 5}) + "\n")
    cpus = []
    for index in range(3):  # the least of three: a floor
        _, cpu, _ = run_tamis(one, root / f"tamis-one-{index}")
        cpus.append(cpu)
    return min(cpus)


def output_records(out: Path) -> dict[str, tuple[str, dict]]:
    """id -> (output or rejects, the whole record: text, reason, signals) of one run."""
    import gzip

    records = {}
    for kind in ("output", "rejects"):
        for path in sorted((out / kind).glob("*.jsonl.gz")):
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                for line in fh:
                    record = json.loads(line)
                    records[record["id"]] = (kind, record)
    return records


def against_baseline(docs_path: Path, root: Path, seven: Path, baseline: str, repeat: int) -> None:
    """``repeat`` alternating pairs of runs, the baseline checkout's tamis then this one, in both
    settings: CPU and wall of each run and the CPU of the word-statistics steps, and whether any
    output or reject record (text, reason, signals) differs."""
    steps = ("repetition", "gopher_repetition", "gopher_quality", "c4_quality")
    print(f"\nagainst the baseline checkout {baseline} ({repeat} alternating pairs after one discarded warm-up run of each; "
          "CPU s of the run, wall s, steps' CPU s)")
    for side, tree in (("baseline", baseline), ("this", None)):
        wall, cpu, _ = run_tamis(docs_path, root / f"ab-warm-up-{side}", None, tree)
        shutil.rmtree(root / f"ab-warm-up-{side}", ignore_errors=True)
        print(f"    warm-up, discarded: {side:9s} CPU {cpu:6.2f}  wall {wall:6.2f}")
    for label, config in (("default", None), ("seven languages", seven)):
        for pair in range(repeat):
            runs = {}
            for side, tree in (("baseline", baseline), ("this", None)):
                out = root / f"ab-{side}-{label[:5]}-{pair}"
                wall, cpu, stats = run_tamis(docs_path, out, config, tree)
                step_cpu = {name: cpu_s for name, _, cpu_s in tamis_step_times(stats) if name in steps}
                print(f"    {label:16s} {side:9s} CPU {cpu:6.2f}  wall {wall:6.2f}  " + "  ".join(f"{k} {v:.2f}" for k, v in step_cpu.items() if v is not None))
                runs[side] = output_records(out)
            differ = sum(1 for key in runs["baseline"].keys() | runs["this"].keys() if runs["baseline"].get(key) != runs["this"].get(key))
            print(f"    {label:16s} records that differ (fate, text, reason, signals): {differ} of {len(runs['this'])}")


DATATROVE_DRIVER = r'''
import json, sys, time
from pathlib import Path
work, model_path, languages = Path(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.pipeline.filters import LanguageFilter, GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter, FineWebQualityFilter
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
from datatrove.utils.hashing import HashConfig
import datatrove.utils.lid as lid

lid.cached_asset_path_or_download = lambda *args, **kwargs: model_path  # the same lid.176.ftz file as tamis, no download


def predict(self, doc):
    # datatrove's FastTextLID.predict, line for line, but for score.item(): the fasttext module
    # here (fasttext-predict, what tamis installs) returns floats where fasttext returns numpy.
    langs, scores = self.model.predict(doc.text.replace("\n", " "), k=self.k)
    lang_pairs = {lang.split("__")[2]: float(score) for lang, score in zip(langs, scores)}
    best_lang_pair = max(lang_pairs.items(), key=lambda x: x[1])
    return best_lang_pair, {lang: lang_pairs.get(lang, 0.0) for lang in self.languages} if self.languages else lang_pairs


lid.FastTextLID.predict = predict
language_filter = LanguageFilter(languages=languages, language_threshold=0.65)
config = MinhashConfig(hash_config=HashConfig(precision=64), num_buckets=14, hashes_per_bucket=8)
stages = {
    "filters": [JsonlReader(str(work / "in"), glob_pattern="docs.jsonl"), language_filter, GopherRepetitionFilter(), GopherQualityFilter(),
                C4QualityFilter(filter_no_terminal_punct=False), FineWebQualityFilter(), JsonlWriter(str(work / "filtered"))],
    "minhash_signatures": [JsonlReader(str(work / "filtered")), MinhashDedupSignature(output_folder=str(work / "sigs"), config=config)],
    "minhash_buckets": [MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=config)],
    "minhash_cluster": [MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "remove_ids"), config=config)],
    "minhash_filter": [JsonlReader(str(work / "filtered")), MinhashDedupFilter(input_folder=str(work / "remove_ids")), JsonlWriter(str(work / "out"))],
}
report = {}
for name, pipeline in stages.items():
    started = time.perf_counter()
    tasks = config.num_buckets if name == "minhash_buckets" else 1  # datatrove requires one task per bucket there; still one worker
    LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=str(work / "logs" / name), skip_completed=False).run()
    report[name] = {"seconds": time.perf_counter() - started, "steps": []}
    stats_file = work / "logs" / name / "stats.json"
    if stats_file.exists():
        for step in json.loads(stats_file.read_text()):
            total = (step.get("time_stats") or {}).get("total")
            report[name]["steps"].append([step.get("name"), total, {k: v for k, v in (step.get("stats") or {}).items() if isinstance(v, (int, float))}])
print("REPORT " + json.dumps(report))
'''


def run_datatrove(python: str, docs_path: Path, work: Path, model_path: str) -> tuple[float, float, dict]:
    (work / "in").mkdir(parents=True)
    shutil.copy(docs_path, work / "in" / "docs.jsonl")
    driver = work / "driver.py"
    driver.write_text(DATATROVE_DRIVER)
    started, cpu = time.perf_counter(), child_cpu()
    done = subprocess.run([python, str(driver), str(work), model_path, ",".join(SEVEN)], capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - started, child_cpu() - cpu
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    if done.returncode != 0 or not lines:
        sys.exit(f"datatrove failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, cpu, json.loads(lines[-1].removeprefix("REPORT "))


Result = tuple[float, float, dict]  # one run: wall s, CPU s, its stats (tamis) or report (datatrove)


def timed_rounds(commands: dict[str, Callable[[Path], Result]], runs: int, scratch: Path) -> dict[str, list[Result]]:
    """Each command once as a warm-up (printed, labelled, discarded), then ``runs`` rounds that
    run every command once, in the same order: the commands alternate, as in hyperfine's
    ``--warmup 1`` with the runs interleaved. Each run writes a fresh folder, removed after."""
    for index, (name, run) in enumerate(commands.items()):
        folder = scratch / f"warm-up-{index}"
        wall, cpu, _ = run(folder)
        shutil.rmtree(folder, ignore_errors=True)
        print(f"  warm-up, discarded: {name:34s} {wall:6.2f} s wall, {cpu:6.2f} CPU-s", flush=True)
    results: dict[str, list[Result]] = {name: [] for name in commands}
    for round_index in range(max(1, runs)):
        for index, (name, run) in enumerate(commands.items()):
            folder = scratch / f"run-{index}-{round_index}"
            results[name].append(run(folder))
            shutil.rmtree(folder, ignore_errors=True)
    return results


def medians(results: list[Result]) -> Result:
    """The median wall and the median CPU of the runs (each its own median), and the stats of
    the median run by wall (the lower middle one for an even count): its per-step times."""
    middle = sorted(results, key=lambda result: result[0])[(len(results) - 1) // 2]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results), middle[2]


def spread(results: list[Result]) -> str:
    """Every run (wall/CPU s, in order) and each figure's min-max."""
    walls, cpus = [r[0] for r in results], [r[1] for r in results]
    listed = ", ".join(f"{wall:.2f}/{cpu:.2f}" for wall, cpu, _ in results)
    return (f"    {len(results)} runs, wall/CPU s in order: {listed}\n"
            f"    wall median {statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}); "
            f"CPU median {statistics.median(cpus):.2f} s (min {min(cpus):.2f}, max {max(cpus):.2f})")


def ratio_line(theirs: list[Result], ours: list[Result]) -> str:
    """The ratio of the medians (datatrove / tamis), wall and CPU, and the spread of the ratio
    of each round's pair (the two runs nearest in time)."""
    wall = statistics.median(r[0] for r in theirs) / statistics.median(r[0] for r in ours)
    cpu = statistics.median(r[1] for r in theirs) / statistics.median(r[1] for r in ours)
    pair_wall = [t[0] / o[0] for t, o in zip(theirs, ours, strict=True)]
    pair_cpu = [t[1] / o[1] for t, o in zip(theirs, ours, strict=True)]
    return (f"ratio (datatrove time / tamis time, medians): {wall:.1f}x wall, {cpu:.1f}x CPU; "
            f"round by round {min(pair_wall):.1f}-{max(pair_wall):.1f}x wall, {min(pair_cpu):.1f}-{max(pair_cpu):.1f}x CPU")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1130, help="pages in the sample; 0: every page (the steady-state setting)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datatrove-python", default=os.environ.get("BENCH_VENV", ".bench-venv") + "/bin/python")  # bench/setup_env.sh
    parser.add_argument("--skip-datatrove", action="store_true")
    parser.add_argument("--baseline", help="another checkout of tamis (extensions built in place): its runs alternate with this one's")
    parser.add_argument("--repeat", type=int, default=3, help="alternating pairs against --baseline")
    parser.add_argument("--baseline-only", action="store_true", help="only the runs against --baseline")
    parser.add_argument("--runs", type=int, default=7, help="timed rounds after the warm-up; each command's median is reported "
                        "(7: the bench fits in ~5 minutes on an idle machine)")
    args = parser.parse_args()

    import tamis
    from tamis.steps.language import bundled_model_path

    # An installed tamis has its bytecode compiled (pip compiles a wheel's modules, as it did
    # datatrove's in its venv); an editable checkout under PYTHONDONTWRITEBYTECODE=1 would compile
    # every module at every start (~0.3 s a run), which no user pays.
    compileall.compile_dir(str(Path(tamis.__file__).parent), quiet=1)

    docs = man_documents(args.docs, args.seed)
    with tempfile.TemporaryDirectory(prefix="tamis-recipe-") as tmp:
        root = Path(tmp)
        docs_path = root / "docs.jsonl"
        with docs_path.open("w", encoding="utf-8") as fh:
            for doc in docs:
                fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
        size = docs_path.stat().st_size / 1e6
        setting = "" if args.docs == 1130 else f" [labelled setting: --docs {args.docs}{' (every page)' if not args.docs else ''}, not the default 1,130]"
        print(f"{len(docs)} man pages ({size:.1f} MB), one JSONL file; one worker each, wall time with start-up{setting}")
        if args.baseline:
            compileall.compile_dir(str(Path(args.baseline) / "tamis"), quiet=1)
            against_baseline(docs_path, root, seven_config(root), args.baseline, args.repeat)
            if args.baseline_only:
                return 0
        config = seven_config(root)
        default, seven, datatrove = "tamis run (default recipe)", "tamis run, seven languages", "datatrove FineWeb pipeline"
        commands: dict[str, Callable[[Path], Result]] = {
            default: lambda out: run_tamis(docs_path, out),
            seven: lambda out: run_tamis(docs_path, out, config),
        }
        if not args.skip_datatrove:
            model = str(bundled_model_path())
            commands[datatrove] = lambda out: run_datatrove(args.datatrove_python, docs_path, out, model)
        print(f"method: each command once as a warm-up (discarded), then {args.runs} rounds of "
              f"{' / '.join(commands)}, one after the other; medians reported (load {os.getloadavg()[0]:.1f})", flush=True)
        results = timed_rounds(commands, args.runs, root / "runs")
        print(f"(load after the rounds {os.getloadavg()[0]:.1f})\n")
        tamis_wall, tamis_cpu, stats = medians(results[default])
        print_tamis("tamis run (default recipe):", len(docs), tamis_wall, tamis_cpu, stats)
        print(spread(results[default]))
        if not args.skip_datatrove:
            dt_wall, dt_cpu, report = medians(results[datatrove])
            print(f"datatrove FineWeb pipeline:  {dt_wall:7.2f} s  {len(docs) / dt_wall:8.1f} docs/s per core  "
                  f"(CPU {dt_cpu:.2f} s, {len(docs) / dt_cpu:.1f} docs per CPU s)")
            print(spread(results[datatrove]))
            for stage, data in report.items():
                print(f"    {stage:28s} {data['seconds']:7.2f} s")
                for step_name, total, _ in data["steps"]:
                    if isinstance(total, int | float):
                        print(f"        {step_name:36s} {total:7.2f} s")
            print(ratio_line(results[datatrove], results[default]))

        print("\nanother setting (labelled): the default recipe, language step narrowed to datatrove's seven languages")
        seven_wall, seven_cpu, seven_stats = medians(results[seven])
        print_tamis("tamis run, seven languages:", len(docs), seven_wall, seven_cpu, seven_stats)
        print(spread(results[seven]))
        if not args.skip_datatrove:
            print(ratio_line(results[datatrove], results[seven]))

        print("\nfloors, CPU seconds in-process (paid whatever the rest of the recipe costs):")
        found = floors(docs)
        found["tamis run start-up (one document, subprocess)"] = startup_floor(root)
        for name, seconds in found.items():
            print(f"    {name:40s} {seconds:6.2f} s")
        if not args.skip_datatrove:
            lid = found["lid.176 load"] + found["lid.176 predict, every whole text"]
            print(f"language ID alone is {lid / dt_cpu:.1%} of datatrove's CPU: with whole-text language ID no tamis run "
                  f"can be more than {dt_cpu / lid:.1f}x faster in CPU (before start-up and segmenter loads)")
            fixed = found["tamis run start-up (one document, subprocess)"] + lid - found["lid.176 load"]  # start-up holds the load
            fixed += sum(seconds for name, seconds in found.items() if name.endswith("segmenter load"))
            print(f"start-up + language ID + the segmenters' loads: {fixed:.2f} s CPU; with them the default recipe on these pages "
                  f"cannot be more than {dt_cpu / fixed:.1f}x faster than datatrove in CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
