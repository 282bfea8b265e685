"""The compiled spaCy-algorithm word splitter against its Python path, as users run the recipe.

    .venv/bin/python bench/bench_spacy_split.py [--docs 1130] [--rounds 3]

The documents are bench_recipe.py's: man pages of seven languages, one JSONL file. Each round
runs ``tamis run`` three times as a subprocess, one worker, wall time with start-up:

- with the splitter's Python path (``TAMIS_SPACY_COMPILED=0``);
- with the compiled control flow calling Python's ``re`` for the prefix, suffix and infix
  searches (``TAMIS_SPACY_COMPILED=re``: session 8's compiled path);
- with the compiled path as users run it (the default: those patterns run by the splitter's
  own matcher, tamis/_native/spacy_affix.c).

The order rotates from one round to the next. Two settings are run:

- the default recipe narrowed to datatrove's seven languages (bench_recipe's labelled setting,
  where word splitting was the largest single item);
- the default recipe.

Prints each run's wall and CPU seconds and the per-step CPU of the steps that split words
(gopher_repetition, gopher_quality, c4_quality, fineweb_quality). Then the splitting alone, each
path in a fresh subprocess (rounds alternating): every page's words cut by the spaCy-algorithm
splitter of its man-page language (the folder's; English for the untranslated pages), the
splitters built on first use as the recipe builds them, CPU seconds of the build and the cut
measured in the child, and a digest of every word to check the paths agree. It then checks that the two
paths reach the same verdicts: the decompressed output and reject records (ids, reasons and
every signal the filters write) must be identical, as sorted lines, across the three paths.
The exit status is 1 if they differ.
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORD_STEPS = ("gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality")


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


PATHS = {"python": "0", "re": "re", "compiled": "1"}  # label -> TAMIS_SPACY_COMPILED


def run(docs: Path, out: Path, config: Path | None, path: str) -> tuple[float, float, dict]:
    script = Path(sys.executable).with_name("tamis")
    command = [str(script) if script.exists() else "tamis", "run", *([str(config)] if config else []),
               "--input", str(docs), "--output", str(out), "--workers", "1"]
    env = {**os.environ, "TAMIS_SPACY_COMPILED": PATHS[path]}
    started, cpu = time.perf_counter(), child_cpu()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    wall, cpu = time.perf_counter() - started, child_cpu() - cpu
    if done.returncode not in (0, 1):
        sys.exit(f"tamis run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, cpu, json.loads((out / "stats.json").read_text())


def records(out: Path) -> list[bytes]:
    """Every output and reject record of a run, decompressed, as sorted lines."""
    lines: list[bytes] = []
    for folder in ("output", "rejects"):
        for path in sorted((out / folder).glob("*")):
            raw = path.read_bytes()
            lines.extend((gzip.decompress(raw) if path.suffix == ".gz" else raw).splitlines())
    return sorted(lines)


SPLIT_ALONE = """
import hashlib, json, sys, time
from tamis.steps.quality import spacy_tokenizer as spacy
docs = []
for line in open(sys.argv[1], encoding="utf-8"):
    doc = json.loads(line)
    folder = doc["id"].removeprefix("man:").split("/")[0]
    language = "en" if folder.startswith("man") else folder.split("_")[0]
    if spacy.has_rules(language):
        docs.append((language, doc["text"]))
started = time.process_time()
tokenizers = {language: spacy.tokenizer_for(language) for language, _text in docs}
built = time.process_time()
digest = hashlib.blake2b()
words = 0
for language, text in docs:
    cut = spacy.tokenize(text, tokenizers[language], lambda chunk: [chunk])
    words += len(cut)
    digest.update("\\x00".join(cut).encode("utf-8", "surrogatepass"))
print(json.dumps({"build": built - started, "cut": time.process_time() - built, "languages": len(tokenizers),
                  "words": words, "digest": digest.hexdigest()}))
"""


def split_alone(docs: Path, path: str) -> dict:
    env = {**os.environ, "TAMIS_SPACY_COMPILED": PATHS[path]}
    done = subprocess.run([sys.executable, "-c", SPLIT_ALONE, str(docs)], capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout)


def word_step_cpu(stats: dict) -> dict[str, float]:
    steps = stats.get("run", {}).get("steps", [])
    return {step["step"]: float(step.get("cpu_s") or 0.0) for step in steps if isinstance(step, dict) and step.get("step") in WORD_STEPS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1130)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--alone-only", action="store_true", help="only the word splitting alone (no tamis run)")
    args = parser.parse_args()

    sys.path.insert(0, str(HERE))
    from bench_recipe import man_documents, seven_config

    import tamis

    compileall.compile_dir(str(Path(tamis.__file__).parent), quiet=1)  # as pip compiles an installed package
    docs = man_documents(args.docs, args.seed)
    differ = 0
    with tempfile.TemporaryDirectory(prefix="tamis-spacy-split-") as tmp:
        root = Path(tmp)
        docs_path = root / "docs.jsonl"
        docs_path.write_text("".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in docs), encoding="utf-8")
        seven = seven_config(root)
        print(f"{len(docs)} man pages, one JSONL file; tamis run, one worker, wall time with start-up")
        for label, config in () if args.alone_only else (("seven languages (labelled setting)", seven), ("default recipe", None)):
            print(f"\n{label}")
            print(f"    {'path':9s} {'wall':>7s} {'CPU':>7s}   " + "  ".join(f"{name:>17s}" for name in WORD_STEPS) + "   (step CPU s)")
            totals = {path: [0.0, 0.0] for path in PATHS}
            step_totals = {path: dict.fromkeys(WORD_STEPS, 0.0) for path in PATHS}
            outputs: dict[str, list[bytes]] = {}
            labels = list(PATHS)
            for round_ in range(args.rounds):
                for path in labels[round_ % 3:] + labels[:round_ % 3]:
                    out = root / f"out-{label[:5]}-{round_}-{path}"
                    wall, cpu, stats = run(docs_path, out, config, path)
                    totals[path][0] += wall
                    totals[path][1] += cpu
                    steps_cpu = word_step_cpu(stats)
                    for name in WORD_STEPS:
                        step_totals[path][name] += steps_cpu.get(name, 0.0)
                    print(f"    {path:9s} {wall:7.2f} {cpu:7.2f}   "
                          + "  ".join(f"{steps_cpu.get(name, 0.0):17.2f}" for name in WORD_STEPS))
                    found = records(out)
                    if path not in outputs:
                        outputs[path] = found
                    elif outputs[path] != found:
                        print("    (this path's records changed between rounds)")
                    shutil.rmtree(out)
            same = outputs["python"] == outputs["re"] == outputs["compiled"]
            differ += not same
            for path in PATHS:
                wall, cpu = (value / args.rounds for value in totals[path])
                print(f"    mean {path:9s} {wall:6.2f} s wall {cpu:6.2f} s CPU   "
                      + "  ".join(f"{step_totals[path][name] / args.rounds:17.2f}" for name in WORD_STEPS))
            (python_wall, python_cpu), (re_wall, re_cpu), (compiled_wall, compiled_cpu) = (totals[path] for path in PATHS)
            print(f"    compiled vs re: {re_wall / compiled_wall:.2f}x wall, {re_cpu / compiled_cpu:.2f}x CPU; "
                  f"compiled vs python: {python_wall / compiled_wall:.2f}x wall, {python_cpu / compiled_cpu:.2f}x CPU")
            print(f"    verdicts: {len(outputs['compiled'])} output + reject records, "
                  f"{'identical' if same else 'DIFFERENT'} across the three paths")
        print("\nword splitting alone (each path a fresh subprocess; CPU s in the child: the splitters' builds, "
              "then every page cut by its language's)")
        alone: dict[str, list[tuple[float, float]]] = {path: [] for path in PATHS}
        digests: dict[str, set[str]] = {path: set() for path in PATHS}
        labels = list(PATHS)
        for round_ in range(args.rounds):
            for path in labels[round_ % 3:] + labels[:round_ % 3]:
                found = split_alone(docs_path, path)
                alone[path].append((found["build"], found["cut"]))
                digests[path].add(found["digest"])
                print(f"    {path:9s} build {found['build']:5.2f} s ({found['languages']} languages)  cut {found['cut']:5.2f} s"
                      f"   {found['words']:,} words")
        best = {path: (min(build for build, _cut in alone[path]), min(cut for _build, cut in alone[path])) for path in PATHS}
        for path in PATHS:
            print(f"    min {path:9s} build {best[path][0]:5.2f} s  cut {best[path][1]:5.2f} s")
        print(f"    cut, compiled vs re: {best['re'][1] / best['compiled'][1]:.2f}x; compiled vs python: "
              f"{best['python'][1] / best['compiled'][1]:.2f}x (fastest runs)")
        same_words = len(set().union(*digests.values())) == 1
        differ += not same_words
        print(f"    words: {'identical' if same_words else 'DIFFERENT'} across the three paths")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
