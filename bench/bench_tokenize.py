"""``tamis tokenize`` against the tokenizer's own batch encode and datatrove's DocumentTokenizer.

What a user types is what is timed: ``tamis tokenize`` as a subprocess, wall time, start-up
included, with its defaults (``--workers 1`` here, so figures are per core). Beside it, in the
same run and on the same texts:

* the same tokenizer's raw ``encode_batch`` (and ``encode_batch_fast``) on one thread, in a
  subprocess that times only the encode calls (texts already in memory): the floor;
* datatrove 0.10.1's ``DocumentTokenizer`` (its default: shuffled documents, EOS) run by its
  ``LocalPipelineExecutor`` with one task and one worker, from the same JSONL, as a subprocess.

Every process is held to one encode thread (``RAYON_NUM_THREADS=1``,
``TOKENIZERS_PARALLELISM=false``); the CPU time of each child is measured too, to show that
one worker used one core. Then the files are read back with datatrove's own
``DatatroveFileDataset`` and checked: every document once, each decoding to its text exactly.

Text: real documents from this machine (man pages in every installed language, Debian
copyright files, fortunes: ``bench/corpus.py``) and the articles of the Scrapinghub
article-extraction benchmark (``../shared/corpus/scrapinghub-aeb``). The tokenizer is trained
on them by ``tamis tokenizer train`` (byte-level BPE).

    python bench/bench_tokenize.py --mb 4 --vocab 32000 --runs 3
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = ROOT.parent / "shared" / "corpus"
BENCH_PYTHON = os.environ.get("BENCH_PYTHON", "/work/bench-venv/bin/python")
EOS = "<|endoftext|>"
ONE_THREAD = {"RAYON_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}

RAW_ENCODE = r"""
import json, sys, time
from tokenizers import Tokenizer
tok = Tokenizer.from_file(sys.argv[1])
texts = [json.loads(line)["text"] for line in open(sys.argv[2], encoding="utf-8")]
result = {}
for name in ("encode_batch", "encode_batch_fast"):
    encode = getattr(tok, name)
    started, cpu = time.perf_counter(), time.process_time()
    n = 0
    for i in range(0, len(texts), 1000):
        n += sum(len(e.ids) for e in encode(texts[i : i + 1000], add_special_tokens=False))
    result[name] = {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, "tokens": n}
print(json.dumps(result))
"""

DATATROVE_TOKENIZE = r"""
import sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.tokens import DocumentTokenizer
folder, tokenizer, out, logs = sys.argv[1:5]
LocalPipelineExecutor(
    pipeline=[
        JsonlReader(folder, glob_pattern="*.jsonl", text_key="text", id_key="id"),
        DocumentTokenizer(out, tokenizer_name_or_path=tokenizer, eos_token="<|endoftext|>", save_filename="dt"),
    ],
    tasks=1,
    workers=1,
    logging_dir=logs,
).run()
"""

DATATROVE_READ_BACK = r"""
import glob, json, sys
import numpy as np
from datatrove.utils.dataset import DatatroveFileDataset
from tokenizers import Tokenizer
tok_dir, tokenizer, texts_path, eos, datatrove_dir = sys.argv[1:6]
tok = Tokenizer.from_file(tokenizer)
eos_id = tok.token_to_id(eos)
texts = sorted(json.loads(line)["text"] for line in open(texts_path, encoding="utf-8"))
decoded, files, tokens_read = [], 0, 0
for path in sorted(glob.glob(tok_dir + "/*.ds")):
    token_size = int(open(path + ".metadata").read().splitlines()[0].rsplit("|", 1)[1])
    seq_len = 63
    ds = DatatroveFileDataset(path, seq_len=seq_len, token_size=token_size, return_positions=True)
    # datatrove's reader yields windows of seq_len + 1 tokens; their concatenation is the file
    # (but a tail shorter than one window), and its positions restart at each document end
    flat = np.concatenate([ds[i]["input_ids"].numpy() for i in range(len(ds))]) if len(ds) else np.zeros(0, np.int64)
    whole = np.fromfile(path, dtype="<u2" if token_size == 2 else "<u4").astype(np.int64)
    assert (flat == whole[: len(flat)]).all(), path
    ends = np.fromfile(path + ".index", dtype="<u8").astype(np.int64)
    starts = np.concatenate([np.zeros(1, np.int64), ends[:-1]])
    for a, b in zip(starts.tolist(), ends.tolist()):
        ids = whole[a:b].tolist()
        assert ids[-1] == eos_id and eos_id not in ids[:-1]
        decoded.append(tok.decode(ids[:-1], skip_special_tokens=False))
    files += 1
    tokens_read += len(flat)
ok = sorted(decoded) == texts


def documents(folder):
    docs = []
    for path in sorted(glob.glob(folder + "/**/*.ds", recursive=True)):
        token_size = int(open(path + ".metadata").read().splitlines()[0].rsplit("|", 1)[1])
        whole = np.fromfile(path, dtype="<u2" if token_size == 2 else "<u4")
        ends = np.fromfile(path + ".index", dtype="<u8").astype(np.int64)
        docs.extend(whole[a:b].tobytes() for a, b in zip([0, *ends[:-1].tolist()], ends.tolist()))
    return sorted(docs)


same = documents(tok_dir) == documents(datatrove_dir)  # the same token sequences, datatrove's and ours
result = {"files": files, "documents": len(decoded), "texts": len(texts), "exact": ok, "tokens_read_by_dataset": tokens_read}
print(json.dumps({**result, "same_documents_as_datatrove": same}))
"""


def _articles() -> list[str]:
    path = SHARED / "scrapinghub-aeb" / "ground-truth.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [v["articleBody"] for v in data.values() if isinstance(v.get("articleBody"), str) and v["articleBody"].strip()]


def build_input(folder: Path, megabytes: float, seed: int = 0) -> Path:
    """One JSONL file of real documents, about ``megabytes`` MB of text (cached)."""
    path = folder / "input" / f"docs-{megabytes:g}mb.jsonl"
    if path.exists():
        return path
    sys.path.insert(0, str(HERE))
    from corpus import base_documents

    texts = [d["text"] for d in base_documents()] + _articles()
    random.Random(seed).shuffle(texts)
    budget, chosen = int(megabytes * 1e6), []
    for text in texts:
        if budget <= 0:
            break
        chosen.append(text)
        budget -= len(text.encode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for i, text in enumerate(chosen):
            fh.write(json.dumps({"id": f"d{i}", "text": text}, ensure_ascii=False) + "\n")
    return path


def timed(cmd: list[str], *, one_thread: bool = True) -> tuple[float, float, str]:
    """(wall seconds, child CPU seconds, stdout) of one subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, env={**os.environ, **(ONE_THREAD if one_thread else {})}, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=4.0, help="MB of text (default 4)")
    parser.add_argument("--vocab", type=int, default=32_000, help="vocabulary of the trained tokenizer")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (median quoted)")
    parser.add_argument("--format", default="datatrove", choices=["megatron", "datatrove", "memmap"])
    args = parser.parse_args()
    work = HERE / "data" / "tokenize"
    data = build_input(work, args.mb)
    tamis = str(Path(sys.executable).with_name("tamis"))
    tokenizer = work / f"tokenizer-{args.vocab}-{data.stem}.json"
    if not tokenizer.exists():
        train = [tamis, "tokenizer", "train", "--input", str(data), "--vocab-size", str(args.vocab), "--output", str(tokenizer)]
        wall, _, out = timed(train, one_thread=False)
        print(f"trained in {wall:.1f} s: {out.strip()}")
    with open(data, encoding="utf-8") as fh:
        n_docs = sum(1 for _ in fh)
    mb = data.stat().st_size / 1e6
    print(f"input: {n_docs:,} documents, {mb:.1f} MB JSONL ({data}); tokenizer {tokenizer.name}")

    tmp = Path(tempfile.mkdtemp(prefix="bench-tokenize-"))
    dt_in = tmp / "dt-in"
    dt_in.mkdir()
    os.symlink(data, dt_in / "docs.jsonl")
    rows: dict[str, list[tuple[float, float]]] = {"raw encode_batch": [], "raw encode_batch_fast": [], "tamis tokenize": [], "datatrove DocumentTokenizer": []}
    tokens = 0
    try:
        for run in range(args.runs):
            _, _, out = timed([BENCH_PYTHON, "-c", RAW_ENCODE, str(tokenizer), str(data)])
            raw = json.loads(out)
            tokens = raw["encode_batch"]["tokens"]
            rows["raw encode_batch"].append((raw["encode_batch"]["seconds"], raw["encode_batch"]["cpu"]))
            rows["raw encode_batch_fast"].append((raw["encode_batch_fast"]["seconds"], raw["encode_batch_fast"]["cpu"]))
            out_dir = tmp / "tamis"
            cmd = [tamis, "tokenize", "--input", str(data), "--output", str(out_dir), "--tokenizer", str(tokenizer), "--eos", EOS]
            rows["tamis tokenize"].append(timed([*cmd, "--format", args.format, "--workers", "1", "--overwrite", "-q"])[:2])
            dt_out = tmp / f"dt-out-{run}"
            datatrove = [BENCH_PYTHON, "-c", DATATROVE_TOKENIZE, str(dt_in), str(tokenizer), str(dt_out), str(tmp / f"dt-logs-{run}")]
            rows["datatrove DocumentTokenizer"].append(timed(datatrove)[:2])
        # What one thread means: the same encode with the tokenizer's own thread pool left alone.
        wall, cpu, out = timed([BENCH_PYTHON, "-c", RAW_ENCODE, str(tokenizer), str(data)], one_thread=False)
        pooled = json.loads(out)["encode_batch"]
        print(f"raw encode_batch with the tokenizer's default thread pool: {pooled['cpu'] / pooled['seconds']:.2f} cores busy (the rows below: one)")
        stats = json.loads((tmp / "tamis" / "stats.json").read_text())
        assert stats["tokens"]["tokens"] == tokens + stats["written"], "tamis wrote another token count than the raw encode (+ one EOS per document)"
        print(f"\n{tokens:,} tokens (+ {stats['written']:,} EOS), {args.runs} runs each, median; one worker, one encode thread")
        print(f"{'':<30} {'wall s':>8} {'cpu s':>8} {'cores':>6} {'tokens/s/core':>14} {'vs raw (wall)':>14} {'vs raw (cpu)':>13}")
        raw_rate = tokens / statistics.median(w for w, _ in rows["raw encode_batch"])
        raw_cpu_rate = tokens / statistics.median(c for _, c in rows["raw encode_batch"])
        for name, values in rows.items():
            wall = statistics.median(w for w, _ in values)
            cpu = statistics.median(c for _, c in values)
            rate = tokens / wall
            print(f"{name:<30} {wall:>8.2f} {cpu:>8.2f} {cpu / wall:>6.2f} {rate:>14,.0f} {rate / raw_rate:>13.2f}x {tokens / cpu / raw_cpu_rate:>12.2f}x")
        t_wall = statistics.median(w for w, _ in rows["tamis tokenize"])
        d_wall = statistics.median(w for w, _ in rows["datatrove DocumentTokenizer"])
        t_cpu = statistics.median(c for _, c in rows["tamis tokenize"])
        d_cpu = statistics.median(c for _, c in rows["datatrove DocumentTokenizer"])
        print(f"tamis tokenize is {d_wall / t_wall:.2f}x datatrove's speed (wall, start-up included, both one core); {d_cpu / t_cpu:.2f}x in CPU time")
        if args.format == "datatrove":
            _, _, out = timed([BENCH_PYTHON, "-c", DATATROVE_READ_BACK, str(tmp / "tamis"), str(tokenizer), str(data), EOS, str(tmp / "dt-out-0")])
            check = json.loads(out)
            print(f"read back with datatrove's DatatroveFileDataset: {check}")
            if not check["exact"] or check["documents"] != n_docs or not check["same_documents_as_datatrove"]:
                return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
