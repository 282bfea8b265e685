"""The default recipe as users run it against datatrove's FineWeb pipeline, same documents.

    .venv/bin/python bench/bench_recipe.py [--docs 1130] [--datatrove-python /work/bench-venv/bin/python]

Documents: this machine's man pages (every language folder under /usr/share/man, roff turned
into text by bench/corpus.py's stripper), a seeded sample of ``--docs`` of them with at least 30
words, written once as one JSONL file that both sides read.

- tamis: ``tamis run --input docs.jsonl --output OUT --workers 1`` (the default recipe with its
  defaults: normalize, repetition, language, Gopher repetition and quality, C4, FineWeb,
  exact dedup, MinHash, PII; gzip output), a subprocess, wall time with start-up.
- datatrove 0.10.1 (in the bench venv), as FineWeb ran it, one task and one worker per stage, a
  subprocess, wall time with start-up: JsonlReader → LanguageFilter (the same ``lid.176.ftz``
  file tamis uses, loaded into datatrove's fastText wrapper; the seven languages tamis keeps,
  threshold 0.65) → GopherRepetitionFilter → GopherQualityFilter → C4QualityFilter
  (``filter_no_terminal_punct=False``, as FineWeb) → FineWebQualityFilter → JsonlWriter (gzip);
  then MinHash: signatures, buckets, clusters, filter (5-grams, 14 bands x 8 rows) → JsonlWriter.

Prints docs/s per core of each, the ratio, and per-step times of both runs (tamis: its
``stats.json`` step times; datatrove: its executors' stats).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEVEN = ["en", "fr", "de", "es", "it", "pt", "nl"]


def man_documents(limit: int, seed: int) -> list[dict]:
    sys.path.insert(0, str(HERE))
    from corpus import man_pages

    docs = [{"id": doc_id, "text": text} for doc_id, text in man_pages() if len(text.split()) >= 30]
    random.Random(seed).shuffle(docs)
    return sorted(docs[:limit], key=lambda d: d["id"])


def run_tamis(docs_path: Path, out: Path) -> tuple[float, dict]:
    script = Path(sys.executable).with_name("tamis")
    command = [str(script) if script.exists() else "tamis", "run", "--input", str(docs_path), "--output", str(out), "--workers", "1"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"tamis run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, json.loads((out / "stats.json").read_text())


def tamis_step_times(stats: dict) -> list[tuple[str, float]]:
    """(step, seconds) from stats.json, whichever shape this version writes."""
    rows = []
    run = stats.get("run", {})
    for key in ("steps", "step_times", "timings"):
        found = run.get(key) or stats.get(key) if key != "steps" else run.get(key)
        if isinstance(found, dict):
            for name, value in found.items():
                seconds = value.get("wall", value.get("seconds")) if isinstance(value, dict) else value
                if isinstance(seconds, int | float):
                    rows.append((name, float(seconds)))
        elif isinstance(found, list):
            for value in found:
                if isinstance(value, dict) and "step" in value:
                    seconds = value.get("wall", value.get("seconds", value.get("wall_s")))
                    if isinstance(seconds, int | float):
                        rows.append((value["step"], float(seconds)))
        if rows:
            break
    return rows


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


def run_datatrove(python: str, docs_path: Path, work: Path, model_path: str) -> tuple[float, dict]:
    (work / "in").mkdir(parents=True)
    shutil.copy(docs_path, work / "in" / "docs.jsonl")
    driver = work / "driver.py"
    driver.write_text(DATATROVE_DRIVER)
    started = time.perf_counter()
    done = subprocess.run([python, str(driver), str(work), model_path, ",".join(SEVEN)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    if done.returncode != 0 or not lines:
        sys.exit(f"datatrove failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, json.loads(lines[-1].removeprefix("REPORT "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1130)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datatrove-python", default="/work/bench-venv/bin/python")
    parser.add_argument("--skip-datatrove", action="store_true")
    args = parser.parse_args()

    from tamis.steps.language import bundled_model_path

    docs = man_documents(args.docs, args.seed)
    with tempfile.TemporaryDirectory(prefix="tamis-recipe-") as tmp:
        root = Path(tmp)
        docs_path = root / "docs.jsonl"
        with docs_path.open("w", encoding="utf-8") as fh:
            for doc in docs:
                fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
        size = docs_path.stat().st_size / 1e6
        print(f"{len(docs)} man pages ({size:.1f} MB), one JSONL file; one worker each, wall time with start-up")
        tamis_wall, stats = run_tamis(docs_path, root / "tamis-out")
        print(f"tamis run (default recipe):  {tamis_wall:7.2f} s  {len(docs) / tamis_wall:8.1f} docs/s per core  "
              f"(kept {stats['kept']}, rejected {stats['rejected_total']})")
        for name, seconds in tamis_step_times(stats):
            print(f"    {name:28s} {seconds:7.2f} s")
        if args.skip_datatrove:
            return 0
        dt_wall, report = run_datatrove(args.datatrove_python, docs_path, root / "datatrove", str(bundled_model_path()))
        print(f"datatrove FineWeb pipeline:  {dt_wall:7.2f} s  {len(docs) / dt_wall:8.1f} docs/s per core")
        for stage, data in report.items():
            print(f"    {stage:28s} {data['seconds']:7.2f} s")
            for step_name, total, _ in data["steps"]:
                if isinstance(total, int | float):
                    print(f"        {step_name:36s} {total:7.2f} s")
        print(f"ratio (datatrove time / tamis time): {dt_wall / tamis_wall:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
