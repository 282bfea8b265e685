"""Hostile text through the default recipe: real pages with one planted adversarial chunk each,
against the same pages without, as a user runs it (``tamis run``, defaults, one worker, a
subprocess, wall time with start-up).

    .venv/bin/python bench/bench_hostile.py [--docs 2000] [--repeats 2]

Pages: the scrapinghub-aeb article bodies and the Clough-Stevenson texts of ../shared/corpus,
then this machine's man pages (turned into text by bench/corpus.py's roff stripper) up to
``--docs``. Into each page, at a line boundary chosen at random, goes one chunk of one of the
shapes that hung the old tokenizer or could hang a careless rule (a code then an ASCII rule,
``ab:ab:…``, ``a=a=…``, ``n't`` repeated, ``0.0.…``, ``-a-a…``, underscores, a 200 kB word,
thousands of one-character lines, combining-mark storms, zero-width and bidi controls, ...),
a hundred to a few thousand characters long (the huge word: 20 to 100 kB).

Prints both wall times and their ratio, and checks what must hold: every input id once in
output + rejects, ``read = kept + rejected``, and no document rejected by the watchdog
(``<step>:timeout``). Exits 1 if one of these fails.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import man_pages

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus")

# (name, chunk maker): each makes one chunk from a random generator.
SHAPES = {
    "code_then_rule": lambda r: "8X" + "-" * r.randint(30, 600),
    "colon_pairs": lambda r: "ab:" * r.randint(30, 600),
    "equals_pairs": lambda r: "a=" * r.randint(30, 600),
    "clitics": lambda r: "n't" * r.randint(30, 600) + "-" * 30,
    "dotted_digits": lambda r: "0." * r.randint(30, 600) + "-",
    "dash_letter": lambda r: "-a" * r.randint(30, 600) + "-",
    "underscores": lambda r: "_" * r.randint(100, 3000),
    "hyphen_email": lambda r: "a-" * r.randint(30, 600) + "@",
    "apostrophe_elisions": lambda r: "l’" * r.randint(30, 600),
    "slashes": lambda r: "/a" * r.randint(30, 600) + "/",
    "brackets": lambda r: "([{" * r.randint(30, 600) + "x",
    "huge_word": lambda r: "x" * r.randint(20_000, 100_000),
    "one_char_lines": lambda r: "a\n" * r.randint(200, 2000),
    "trailing_spaces": lambda r: "a" + " " * r.randint(500, 5000) + "b",
    "combining_storm": lambda r: "e" + "\u0301" * r.randint(500, 5000),
    "combining_reorder_storm": lambda r: "e" + "\u0301\u0316" * r.randint(250, 20_000),  # NFC's insertion sort (session 23)
    "tibetan_vowel_storm": lambda r: "\u0f40" + "\u0f73" * r.randint(250, 20_000),
    "zero_width_bidi": lambda r: "a\u200b\u202eb\u2066" * r.randint(30, 600),
    "ip_like": lambda r: "1." * r.randint(30, 600) + "1",
    "email_like": lambda r: "a." * r.randint(30, 600) + "@b",
    "url_like": lambda r: "www." * r.randint(30, 600),
    "mojibake_lines": lambda r: "Ã©\n" * r.randint(100, 3000),  # normalize's repair (ftfy) on every line
}


def real_pages(limit: int) -> list[dict]:
    docs: list[dict] = []
    truth = json.loads((CORPUS / "scrapinghub-aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    for key, value in sorted(truth.items()):
        body = value.get("articleBody") or ""
        if body.strip():
            docs.append({"id": f"aeb:{key}", "text": body})
    for path in sorted((CORPUS / "clough-stevenson-plagiarism" / "texts").glob("*.txt")):
        docs.append({"id": f"clough:{path.name}", "text": path.read_bytes().decode("utf-8", "replace")})
    for doc_id, text in man_pages():
        if len(docs) >= limit:
            break
        if len(text.split()) >= 30:
            docs.append({"id": doc_id, "text": text})
    return docs[:limit]


def plant(docs: list[dict], seed: int) -> tuple[list[dict], dict[str, int]]:
    rng = random.Random(seed)
    names = sorted(SHAPES)
    planted, counts = [], dict.fromkeys(names, 0)
    for i, doc in enumerate(docs):
        name = names[i % len(names)]
        counts[name] += 1
        lines = doc["text"].split("\n")
        at = rng.randrange(len(lines) + 1)
        chunk = SHAPES[name](rng)
        if rng.random() < 0.5 and at < len(lines):  # inside a line, or as a line of its own
            lines[at] = lines[at] + " " + chunk
        else:
            lines.insert(at, chunk)
        planted.append({"id": doc["id"], "text": "\n".join(lines)})
    return planted, counts


def write_jsonl(path: Path, docs: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")


def tamis_command() -> list[str]:
    script = Path(sys.executable).with_name("tamis")
    return [str(script)] if script.exists() else [shutil.which("tamis") or "tamis"]


def run_tamis(input_path: Path, out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    if out.exists():
        shutil.rmtree(out)
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([*tamis_command(), "run", "--input", str(input_path), "--output", str(out), "--workers", "1"],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        sys.exit(f"tamis run failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    return seconds, cpu


def check(out: Path, ids: list[str]) -> list[str]:
    problems = []
    stats = json.loads((out / "stats.json").read_text())
    if stats["read"] != stats["kept"] + stats["rejected_total"]:
        problems.append(f"read {stats['read']} != kept {stats['kept']} + rejected {stats['rejected_total']}")
    seen = []
    for folder in ("output", "rejects"):
        for shard in sorted((out / folder).glob("part-*")):
            opener = gzip.open if shard.suffix == ".gz" else open
            with opener(shard, "rt", encoding="utf-8") as fh:
                seen.extend(json.loads(line)["id"] for line in fh)
    if sorted(seen) != sorted(ids):
        problems.append(f"ids: {len(seen)} written, {len(set(seen))} distinct, {len(ids)} read")
    timeouts = {reason: n for reason, n in stats["rejected"].items() if reason.endswith(":timeout")}
    if timeouts:
        problems.append(f"watchdog rejects: {timeouts}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000, help="real pages (corpus texts first, then man pages)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each input (best wall time kept)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    docs = real_pages(args.docs)
    planted, counts = plant(docs, args.seed)
    with tempfile.TemporaryDirectory(prefix="tamis-hostile-") as tmp:
        root = Path(tmp)
        clean_path, hostile_path = root / "clean.jsonl", root / "hostile.jsonl"
        write_jsonl(clean_path, docs)
        write_jsonl(hostile_path, planted)
        ids = [d["id"] for d in docs]
        mb = clean_path.stat().st_size / 1e6, hostile_path.stat().st_size / 1e6
        print(f"{len(docs)} real pages ({mb[0]:.1f} MB); planted: one chunk each ({mb[1]:.1f} MB), of {len(counts)} shapes:")
        print("  " + ", ".join(f"{name} {n}" for name, n in counts.items()))
        times: dict[str, list[tuple[float, float]]] = {"clean": [], "hostile": []}
        for _ in range(args.repeats):  # alternate, so load on the machine hits both alike
            times["clean"].append(run_tamis(clean_path, root / "out-clean"))
            times["hostile"].append(run_tamis(hostile_path, root / "out-hostile"))
        problems = check(root / "out-clean", ids) + check(root / "out-hostile", ids)
        hostile_stats = json.loads((root / "out-hostile" / "stats.json").read_text())
        (clean, clean_cpu), (hostile, hostile_cpu) = min(times["clean"]), min(times["hostile"])
        print("`tamis run` (default recipe, --workers 1), wall time with start-up (and CPU time), best of", args.repeats)
        print(f"  pages without chunks: {clean:7.2f} s  ({len(docs) / clean:,.0f} docs/s; CPU {clean_cpu:.2f} s)")
        print(f"  pages with chunks:    {hostile:7.2f} s  ({len(docs) / hostile:,.0f} docs/s; CPU {hostile_cpu:.2f} s)")
        print(f"  ratio hostile / clean: {hostile / clean:.2f} wall, {hostile_cpu / clean_cpu:.2f} CPU, for {mb[1] / mb[0]:.2f}x the bytes")
        print(f"  hostile run: read {hostile_stats['read']}, kept {hostile_stats['kept']}, rejected {hostile_stats['rejected_total']}, "
              f"watchdog rejects {sum(n for r, n in hostile_stats['rejected'].items() if r.endswith(':timeout'))}")
        for problem in problems:
            print("PROBLEM:", problem)
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
