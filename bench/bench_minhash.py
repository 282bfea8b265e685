"""MinHash near-duplicate dedup: accuracy vs exact Jaccard, speed vs the peers, memory and scale.

Run in the bench environment (bench/setup_env.sh builds it: the peers + scipy)::

    .bench-venv/bin/python bench/bench_minhash.py                       # every section
    .bench-venv/bin/python bench/bench_minhash.py --sections accuracy,clough
    .bench-venv/bin/python bench/bench_minhash.py --sections speed --peer-docs 20000
    .bench-venv/bin/python bench/bench_minhash.py --sections memory --mem-docs 2000000
    .bench-venv/bin/python bench/bench_minhash.py --sections edges --edges 100000000

Sections
* ``accuracy``: the eval set (``--eval-base`` random base documents of bench/corpus.py plus all
  their planted copies). Ground truth: exact Jaccard of word 5-gram sets (NFC, casefold, ``\\w+``
  words; a document shorter than 5 words is one shingle) over all pairs, as a sparse matrix
  product. Precision/recall at threshold 0.8 at three levels: documents that have a duplicate;
  raw pairs (the LSH candidate edges tamis links, before and after verification); all pairs
  inside the final clusters (keeper + the documents removed in its favour).
* ``clough``: Clough & Stevenson's plagiarised short answers (../shared/corpus): the MinHash
  estimate (128 permutations) and the exact Jaccard of each answer with its task's source,
  averaged per label; the expected order is cut > light > heavy > non.
* ``speed``: tamis end to end (read, tokenise, shingle, sign, bucket, verify, cluster, filter,
  write ids and rejects: kept records without their text, ``keep_text: false``, and every
  removed document whole; codec named; the runs that also write the kept texts are printed
  too) vs datasketch MinHashLSH, rensa and datatrove's 4-stage MinHash pipeline, one worker
  each, on the same documents; plus the read+json+xxh3 floor. Rates are documents per CPU-second of the process (the machine is shared, so wall time
  is printed too but CPU time is the per-core figure).
* ``memory``: ``--mem-docs`` generated documents (10% near copies) through ``tamis dedup``-like
  minhash with 2 workers; peak RSS summed over the whole process tree, sampled from /proc.
* ``edges``: ``--edges`` random edges over ``--edge-nodes`` nodes, clustered by the one-task
  union-find (streamed from disk).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import itertools
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import DATA, build_corpus, eval_subset

from tamis.dedup.lsh import choose_banding, permutations, s_curve
from tamis.pipeline import RunConfig
from tamis.runner import run

WORD = re.compile(r"\w+")
THRESHOLD = 0.8
CLOUGH = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "clough-stevenson-plagiarism"


# ---------------------------------------------------------------------- helpers


def shingles(text: str, n: int = 5) -> list[str]:
    """The canonical shingles (ground truth and the Python-fed peers)."""
    words = WORD.findall(unicodedata.normalize("NFC", text).casefold())
    if not words:
        return []
    if len(words) < n:
        return [" ".join(words)]
    return [" ".join(words[k : k + n]) for k in range(len(words) - n + 1)]


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@contextlib.contextmanager
def measure(result: dict):
    wall, cpu = time.perf_counter(), cpu_seconds()
    yield
    result["wall"] = time.perf_counter() - wall
    result["cpu"] = cpu_seconds() - cpu


def write_jsonl(path: Path, docs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for d in docs:
            fh.write(orjson.dumps({"id": d["id"], "text": d["text"]}) + b"\n")
    return path


def read_docs(paths: list[Path], limit: int | None = None) -> list[dict]:
    docs = []
    for p in paths:
        with open(p, "rb") as fh:
            for line in fh:
                docs.append(orjson.loads(line))
                if limit is not None and len(docs) >= limit:
                    return docs
    return docs


def tamis_minhash(paths: list[Path], out: Path, *, workers: int = 1, compression: str = "zstd", keep_text: bool = True, **params) -> dict:
    steps = [{"step": "minhash", **params}]
    cfg = RunConfig(
        input=[str(p) for p in paths], output=str(out), steps=steps, workers=workers, compression=compression, report=False, keep_text=keep_text
    )
    outcome = run(cfg, overwrite=True)
    if outcome.failed:
        raise SystemExit(f"tamis run failed: {outcome.failed}")
    return outcome.stats


def iter_run(out: Path, kind: str):
    from tamis.io.runfiles import iter_records

    return iter_records(out, kind)


def prf(truth: set, predicted: set) -> tuple[float, float, float]:
    tp = len(truth & predicted)
    p = tp / len(predicted) if predicted else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


# ---------------------------------------------------------------------- accuracy


def true_pairs(docs: list[dict], threshold: float) -> tuple[set[tuple[int, int]], float]:
    from scipy import sparse

    t0 = time.perf_counter()
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, d in enumerate(docs):
        ids = {vocab.setdefault(s, len(vocab)) for s in shingles(d["text"])}
        rows.extend([i] * len(ids))
        cols.extend(ids)
    m = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(docs), len(vocab)))
    sizes = np.asarray(m.sum(axis=1)).ravel()
    inter = sparse.triu(m @ m.T, k=1).tocoo()
    jac = inter.data / (sizes[inter.row] + sizes[inter.col] - inter.data)
    keep = jac >= threshold - 1e-9
    pairs = {(int(a), int(b)) for a, b in zip(inter.row[keep], inter.col[keep], strict=True)}
    return pairs, time.perf_counter() - t0


def section_accuracy(args: argparse.Namespace) -> None:
    paths = build_corpus(args.copies, args.shards)
    docs = eval_subset(paths, args.eval_base)
    print(f"\n== accuracy: eval set {len(docs):,} documents ({args.eval_base} base docs + all their planted copies), threshold {THRESHOLD}")
    truth, seconds = true_pairs(docs, THRESHOLD)
    n_pairs = len(docs) * (len(docs) - 1) // 2
    print(f"ground truth: {len(truth):,} pairs with J >= {THRESHOLD} among {n_pairs:,} (exact, sparse product, {seconds:.1f} s)")
    src = write_jsonl(DATA / "minhash-eval" / "eval.jsonl", docs)
    out = DATA / "minhash-eval" / "run"
    index = {d["id"]: i for i, d in enumerate(docs)}
    bands, rows = choose_banding(THRESHOLD, 128)
    print(f"tamis: 128 permutations -> {bands} bands x {rows} rows; verify on exact Jaccard")
    for verify in (True, False):
        stats = tamis_minhash([src], out, verify=verify)
        clusters: dict[int, set[int]] = {}
        for r in iter_run(out, "rejects"):
            keeper = index[r["duplicate_of"]]
            clusters.setdefault(keeper, {keeper}).add(index[r["id"]])
        cluster_pairs = {(min(a, b), max(a, b)) for members in clusters.values() for a in members for b in members if a < b}
        truth_docs = {x for pair in truth for x in pair}
        predicted_docs = {x for members in clusters.values() for x in members}
        scratch = next((out / "dedup").glob("*/stage0-minhash"))
        cand = np.concatenate([np.fromfile(p, dtype="<u4").reshape(-1, 2) for p in scratch.glob("cand-*.u32")])
        candidates = {(int(min(a, b)), int(max(a, b))) for a, b in cand.tolist()}
        label = "tamis (verify)" if verify else "tamis (no verify)"
        print(f"{label}: removed {stats['rejected_total']:,}")
        for name, truth_set, pred in (
            ("documents with a duplicate", truth_docs, predicted_docs),
            ("raw LSH candidate pairs", truth, candidates),
            ("pairs inside final clusters", truth, cluster_pairs),
        ):
            p, r, f = prf(truth_set, pred)
            print(f"  {name:<30} P {p:.3f}  R {r:.3f}  F1 {f:.3f}   (predicted {len(pred):,}, true {len(truth_set):,})")
        if verify:
            edges = np.concatenate([np.fromfile(p, dtype="<u4").reshape(-1, 2) for p in scratch.glob("edges-*.u32")])
            verified = {(int(min(a, b)), int(max(a, b))) for a, b in edges.tolist()}
            p, r, f = prf(truth, verified)
            print(f"  {'verified candidate pairs':<30} P {p:.3f}  R {r:.3f}  F1 {f:.3f}   (predicted {len(verified):,})")
            # Where the missed true pairs went: outside any shared component (LSH or verification
            # missed them), or split by the keeper rule (one side removed in favour of a keeper
            # the other side is not similar enough to).
            labels = np.fromfile(scratch / "labels.u32", dtype="<u4")
            keeper_of = {m: k for k, members in clusters.items() for m in members}
            missed = [(a, b) for a, b in truth if keeper_of.get(a, a) != keeper_of.get(b, b)]
            split = sum(1 for a, b in missed if labels[a] == labels[b])
            print(f"  missed true pairs: {len(missed):,} = {len(missed) - split:,} never in one component + {split:,} split by the keeper rule")
            components: dict[int, list[int]] = {}
            for doc, label in enumerate(labels.tolist()):
                components.setdefault(label, []).append(doc)
            component_pairs = {(a, b) for members in components.values() for a in members for b in members if a < b}
            p, r, f = prf(truth, component_pairs)
            note = f"(predicted {len(component_pairs):,}; the peers' cluster definition)"
            print(f"  {'(pairs in verified components)':<30} P {p:.3f}  R {r:.3f}  F1 {f:.3f}   {note}")


# ---------------------------------------------------------------------- Clough & Stevenson


def decode_carefully(raw: bytes) -> str:
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x85", "\n").replace("\u0085", "\n")
    return unicodedata.normalize("NFC", text.lstrip("\ufeff"))


def section_clough(args: argparse.Namespace) -> None:
    from tamis._native import _minhash as native

    print("\n== clough-stevenson: similarity of each answer to its task's source (word 5-grams)")
    info = (CLOUGH / "file_information.csv").read_bytes().decode("utf-8").replace("\r", "").strip().splitlines()[1:]
    labels = {}
    for line in info:
        name, task, category = (x.strip() for x in line.split(","))
        labels[name.removesuffix(".txt")] = (task, category)
    texts = {p.stem: decode_carefully(p.read_bytes()) for p in sorted((CLOUGH / "texts").glob("*.txt"))}
    a, b = permutations(1, 128)
    by_label: dict[str, list[tuple[float, float]]] = {}
    for name, (task, category) in sorted(labels.items()):
        if category == "orig":
            continue
        pair = [unicodedata.normalize("NFC", texts[name]).casefold(), unicodedata.normalize("NFC", texts[f"orig_task{task}"]).casefold()]
        keys, counts, fps = native.sketch(pair, 5, 0, a, b, 128, 1)  # rows=1: one key per permutation
        k = np.frombuffer(keys, dtype="<u8").reshape(2, 128)
        estimate = float(np.mean(k[0] == k[1]))
        c = np.frombuffer(counts, dtype="<u4").astype("<i8")
        offsets = np.r_[0, np.cumsum(c)].astype("<i8")
        exact = np.frombuffer(native.jaccard_pairs(fps, offsets.tobytes(), np.asarray([0], "<i8").tobytes(), np.asarray([1], "<i8").tobytes()), "<f8")[0]
        by_label.setdefault(category, []).append((estimate, float(exact)))
    order = ["cut", "light", "heavy", "non"]
    means = {}
    for category in order:
        values = np.asarray(by_label[category])
        means[category] = values.mean(axis=0)
        estimate, exact = means[category]
        flagged = int((values[:, 1] >= THRESHOLD).sum())
        print(f"  {category:<6} n={len(values):>2}  MinHash estimate {estimate:.3f}   exact Jaccard {exact:.3f}   flagged at 0.8: {flagged}")
    ordered = all(means[x][0] > means[y][0] for x, y in itertools.pairwise(order))
    print(f"  mean estimate ranks cut > light > heavy > non: {'yes' if ordered else 'NO'}")


# ---------------------------------------------------------------------- speed


def floor_rate(paths: list[Path], limit: int) -> dict:
    import xxhash

    result: dict = {}
    with measure(result):
        n = 0
        for p in paths:
            with open(p, "rb") as fh:
                for line in fh:
                    xxhash.xxh3_64_intdigest(orjson.loads(line)["text"].encode("utf-8", "surrogatepass"))
                    n += 1
                    if n >= limit:
                        break
            if n >= limit:
                break
    result["docs"] = n
    return result


def union_find_clusters(n: int, pairs: list[tuple[int, int]]) -> int:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return sum(1 for i in range(n) if find(i) != i)


def run_datasketch(docs: list[dict]) -> dict:
    from datasketch import MinHash, MinHashLSH

    result: dict = {}
    with measure(result):
        lsh = MinHashLSH(threshold=THRESHOLD, num_perm=128)
        pairs = []
        for i, d in enumerate(docs):
            m = MinHash(num_perm=128)
            m.update_batch([s.encode("utf-8") for s in shingles(d["text"])])
            pairs.extend((j, i) for j in lsh.query(m))
            lsh.insert(i, m)
        result["removed"] = union_find_clusters(len(docs), pairs)
    return result


def run_rensa(docs: list[dict]) -> dict:
    from rensa import RMinHash, RMinHashLSH

    result: dict = {}
    with measure(result):
        lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=117, num_bands=9)
        pairs = []
        for i, d in enumerate(docs):
            m = RMinHash(num_perm=117, seed=42)
            m.update(shingles(d["text"]))
            pairs.extend((j, i) for j in lsh.query(m))
            lsh.insert(i, m)
        result["removed"] = union_find_clusters(len(docs), pairs)
    return result


def run_datatrove(src: Path, work: Path) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    shutil.rmtree(work, ignore_errors=True)
    cfg = MinhashConfig()
    result: dict = {}
    stages = [
        [JsonlReader(str(src.parent), glob_pattern=src.name), MinhashDedupSignature(output_folder=str(work / "sigs"), config=cfg)],
        [MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=cfg)],
        [MinhashDedupCluster(input_folder=str(work / "buckets"), output_folder=str(work / "clusters"), config=cfg)],
        [
            JsonlReader(str(src.parent), glob_pattern=src.name),
            MinhashDedupFilter(input_folder=str(work / "clusters")),
            JsonlWriter(str(work / "out")),
        ],
    ]
    tasks = [1, cfg.num_buckets, 1, 1]
    with measure(result):
        for k, (pipeline, n_tasks) in enumerate(zip(stages, tasks, strict=True)):
            LocalPipelineExecutor(pipeline=pipeline, tasks=n_tasks, workers=1, logging_dir=str(work / f"logs{k}")).run()
    kept = sum(1 for p in (work / "out").glob("*") for _ in (subprocess.run(["zcat", "-f", str(p)], capture_output=True, check=True).stdout.splitlines()))
    result["kept"] = kept
    return result


def section_speed(args: argparse.Namespace) -> None:
    paths = build_corpus(args.copies, args.shards)
    all_docs = read_docs(paths)
    mb = sum(len(d["text"].encode()) for d in all_docs) / 1e6
    print(f"\n== speed: corpus {len(all_docs):,} documents, {mb:,.0f} MB of text (mean {mb * 1e6 / len(all_docs) / 1e3:.1f} kB), one worker each")
    rows = []

    def report(name: str, docs: int, res: dict, note: str = "") -> None:
        rate = docs / res["cpu"] if res["cpu"] else float("nan")
        rows.append((name, docs, res, rate))
        print(f"  {name:<44} {docs:>8,} docs  wall {res['wall']:7.1f} s  cpu {res['cpu']:7.1f} s  {rate:>9,.0f} docs/s per core  {note}")

    floor = floor_rate(paths, len(all_docs))
    report("read + json + xxh3 floor", floor["docs"], floor)
    out = DATA / "minhash-speed" / "run"
    for keep_text, compression in ((True, "zstd"), (True, "none"), (False, "zstd")):
        res: dict = {}
        with measure(res):
            stats = tamis_minhash(paths, out, compression=compression, keep_text=keep_text)
        what = "kept docs" if keep_text else "ids + rejects"
        report(f"tamis minhash (all docs, {what}, {compression})", stats["read"], res, f"removed {stats['rejected_total']:,}")
    subset = all_docs[: args.peer_docs]
    sub_src = write_jsonl(DATA / "minhash-speed" / f"subset-{len(subset)}.jsonl", subset)
    res = {}
    with measure(res):
        stats = tamis_minhash([sub_src], out, compression="zstd")
    report("tamis minhash (peer subset, kept docs, zstd)", len(subset), res, f"removed {stats['rejected_total']:,}")
    res = {}
    with measure(res):
        stats = tamis_minhash([sub_src], out, compression="zstd", keep_text=False)
    report("tamis minhash (peer subset, ids + rejects, zstd)", len(subset), res, f"removed {stats['rejected_total']:,}")
    tamis_rate = rows[-1][3]
    peers = []
    if "rensa" not in args.skip:
        res = run_rensa(subset)
        report("rensa 117 perms 9x13 (Python shingler)", len(subset), res, f"removed {res['removed']:,}")
        peers.append(rows[-1])
    if "datasketch" not in args.skip:
        res = run_datasketch(subset)
        report("datasketch 128 perms 9x13", len(subset), res, f"removed {res['removed']:,}")
        peers.append(rows[-1])
    if "datatrove" not in args.skip:
        dt_docs = subset[: args.datatrove_docs]
        dt_src = write_jsonl(DATA / "minhash-speed" / "datatrove" / "in.jsonl", dt_docs)
        res = run_datatrove(dt_src, DATA / "minhash-speed" / "datatrove-work")
        report("datatrove 4 stages 14x8 (tasks=1)", len(dt_docs), res, f"kept {res['kept']:,}")
        peers.append(rows[-1])
    print(f"  ratios (tamis on the peer subset, {tamis_rate:,.0f} docs/s per core):")
    for name, _, _, rate in peers:
        print(f"    tamis / {name.split()[0]:<11} {tamis_rate / rate:6.1f}x")
    print(f"    tamis / read+hash floor {tamis_rate / rows[0][3]:6.3f}")


# ---------------------------------------------------------------------- memory


def generated_corpus(n_docs: int, shards: int, seed: int = 0) -> list[Path]:
    """``n_docs`` documents of 60-140 Zipf-distributed words (a 50k-word vocabulary), 10% of
    them near copies (2% of words substituted) of earlier ones."""
    folder = DATA / f"generated-{n_docs}"
    paths = [folder / f"part-{k:02d}.jsonl" for k in range(shards)]
    if all(p.exists() for p in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    vocab = np.asarray([f"w{k}" for k in range(50_000)])
    per_shard = -(-n_docs // shards)
    made = 0
    for path in paths:
        count = min(per_shard, n_docs - made)
        lengths = rng.integers(60, 141, size=count)
        words = vocab[np.minimum(rng.zipf(1.3, size=int(lengths.sum())) - 1, len(vocab) - 1)]
        bounds = np.r_[0, np.cumsum(lengths)]
        with open(str(path) + ".partial", "wb") as fh:
            texts: list[list[str]] = []
            for i in range(count):
                doc_words = words[bounds[i] : bounds[i + 1]].tolist()
                if texts and rng.random() < 0.1:
                    doc_words = list(texts[int(rng.integers(len(texts)))])
                    for j in np.flatnonzero(rng.random(len(doc_words)) < 0.02).tolist():
                        doc_words[j] = vocab[int(rng.integers(len(vocab)))]
                texts.append(doc_words)
                if len(texts) > 1000:
                    texts.pop(0)
                fh.write(orjson.dumps({"id": f"g{made + i}", "text": " ".join(doc_words)}) + b"\n")
        os.replace(str(path) + ".partial", path)
        made += count
    return paths


def tree_rss(root_pid: int) -> int:
    """Sum of VmRSS (bytes) over ``root_pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.split("/")[2]))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def section_memory(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    paths = generated_corpus(args.mem_docs, 8)
    mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"\n== memory: {args.mem_docs:,} generated documents ({mb:,.0f} MB JSONL, 8 files; generated/cached in {time.perf_counter() - t0:.0f} s), 2 workers")
    out = DATA / "minhash-memory" / "run"
    code = (
        "import sys; from tamis.pipeline import RunConfig; from tamis.runner import run\n"
        "if __name__ == '__main__':\n"
        f"    cfg = RunConfig(input={[str(p) for p in paths]!r}, output={str(out)!r}, steps=[{{'step': 'minhash'}}], workers=2, report=False)\n"
        "    cfg.compression = 'zstd'\n"
        "    o = run(cfg, overwrite=True)\n"
        "    print(o.stats['read'], o.stats['kept'], o.stats['rejected_total'], o.failed)\n"
    )
    peak, samples = 0, 0
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak, samples
        while not stop.is_set():
            peak = max(peak, tree_rss(proc.pid))
            samples += 1
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    wall = time.perf_counter()
    sampler.start()
    stdout, _ = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - wall
    read, kept, rejected, *_ = stdout.split()
    stats = orjson.loads((out / "stats.json").read_bytes())
    print(f"  read {int(read):,}  kept {int(kept):,}  removed {int(rejected):,}   wall {wall:.0f} s  timings {stats['run']['timings']}")
    print(f"  peak RSS summed over the process tree: {peak / 2**20:,.0f} MiB ({samples} samples every 50 ms)")


# ---------------------------------------------------------------------- edges


def section_edges(args: argparse.Namespace) -> None:
    from tamis.dedup.cluster import components

    folder = DATA / "minhash-edges"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"edges-{args.edges}-{args.edge_nodes}.u32"
    rng = np.random.default_rng(0)
    if not path.exists():
        with open(str(path) + ".partial", "wb") as fh:
            left = args.edges
            while left:
                n = min(left, 1 << 23)
                rng.integers(0, args.edge_nodes, size=(n, 2), dtype=np.uint32).astype("<u4").tofile(fh)
                left -= n
        os.replace(str(path) + ".partial", path)
    print(f"\n== clustering: {args.edges:,} random edges over {args.edge_nodes:,} nodes ({path.stat().st_size / 2**20:,.0f} MiB on disk), one task")
    res: dict = {}
    with measure(res):
        labels = components(args.edge_nodes, [path])
    n_components = int(np.count_nonzero(labels == np.arange(args.edge_nodes, dtype=np.uint32)))
    rate = args.edges / res["cpu"] / 1e6
    labels_mib = labels.nbytes / 2**20
    print(f"  wall {res['wall']:.1f} s  cpu {res['cpu']:.1f} s  -> {rate:.1f} M edges/s per core; {n_components:,} components; labels {labels_mib:,.0f} MiB")
    del labels
    section_sharded(args, folder)


def section_sharded(args: argparse.Namespace, folder: Path) -> None:
    """The sharded path (large-star/small-star rounds, run here one partition after another)
    on dedup-like edges: many small components (random edges inside groups of 16 random
    documents) and a few long chains (1,000 documents each)."""
    from tamis.dedup import cluster

    n_edges, shards = args.sharded_edges, 4
    nodes = n_edges
    rng = np.random.default_rng(1)
    perm = rng.permutation(nodes)
    group = rng.integers(0, nodes // 16, size=n_edges)
    u = perm[group * 16 + rng.integers(0, 16, size=n_edges)]
    v = perm[group * 16 + rng.integers(0, 16, size=n_edges)]
    chain = rng.permutation(nodes)[: min(nodes, 100_000)]
    chain_u, chain_v = chain[1:], chain[:-1]
    keep = np.arange(len(chain_u)) % 1000 != 999  # cut into chains of 1,000
    u, v = np.r_[u, chain_u[keep]], np.r_[v, chain_v[keep]]
    path = folder / f"sharded-{n_edges}.u32"
    np.stack([u, v], axis=1).astype("<u4").tofile(path)
    work = folder / "sharded-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    res: dict = {}
    with measure(res):
        reference = cluster.components(nodes, [path])
    single = res["cpu"]
    with measure(res):
        round_index = 0
        while True:
            for p in range(shards):
                cluster.star_round(str(work), round_index, p, shards, [str(path)])
            if round_index % 2 == 0 and cluster.round_converged(str(work), round_index, shards):
                break
            round_index += 1
        labels = np.arange(nodes, dtype=np.uint32)
        for p in range(shards):
            members, roots = cluster.star_members(str(work), round_index, shards, p, shards, [str(path)])
            labels[members] = roots
    same = bool(np.array_equal(labels, reference))
    print(
        f"  sharded ({shards} partitions, large-star/small-star): {len(u):,} edges over {nodes:,} nodes in {round_index + 1} rounds, "
        f"cpu {res['cpu']:.1f} s (one task union-find: {single:.1f} s); same components as union-find: {same}"
    )
    shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description="MinHash dedup bench (see the module docstring)")
    parser.add_argument("--sections", default="scurve,accuracy,clough,speed,memory,edges")
    parser.add_argument("--copies", type=int, default=75_000, help="planted copies in the corpus (bench/corpus.py)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--eval-base", type=int, default=1300)
    parser.add_argument("--peer-docs", type=int, default=20_000, help="documents the Python peers run on (a prefix of the corpus)")
    parser.add_argument("--datatrove-docs", type=int, default=2_000)
    parser.add_argument("--skip", default="", help="peers to skip: rensa,datasketch,datatrove")
    parser.add_argument("--mem-docs", type=int, default=2_000_000)
    parser.add_argument("--edges", type=int, default=100_000_000)
    parser.add_argument("--edge-nodes", type=int, default=20_000_000)
    parser.add_argument("--sharded-edges", type=int, default=5_000_000, help="edges for the sharded clustering check")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    print(f"bench_minhash  python {sys.version.split()[0]}  cores {os.cpu_count()}  load {os.getloadavg()[0]:.1f}")
    if "scurve" in sections:
        bands, rows = choose_banding(THRESHOLD, 128)
        print(f"\n== S-curve at threshold {THRESHOLD}, 128 permutations: P(candidate | Jaccard s)")
        for b, r, note in ((bands, rows, "tamis default"), (9, 13, "datasketch/rensa/text-dedup"), (14, 8, "datatrove default")):
            print(f"  {b:>2} x {r:<2} ({note:<28}) " + "  ".join(f"{s:.2f}:{p:.3f}" for s, p in s_curve(b, r)))
    if "accuracy" in sections:
        section_accuracy(args)
    if "clough" in sections:
        section_clough(args)
    if "speed" in sections:
        section_speed(args)
    if "memory" in sections:
        section_memory(args)
    if "edges" in sections:
        section_edges(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
