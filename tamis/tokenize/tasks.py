"""The two kinds of task of ``tamis tokenize``, the same whichever executor runs them.

1. ``encode`` (one per input task): read the documents, encode them in batches, and write a
   spill of the task's kept documents sorted by their shuffle key — a seeded hash of
   (task, position), so the order depends on the input and the seed only. Rejects and input
   errors are written as ``tamis run`` writes them. The marker carries the counts.
2. ``write`` (one per output shard, once every encode task is done): the global order is the
   key order, and shards are its consecutive ranges cut every ``shard_tokens`` tokens
   (:func:`shard_cuts`): a global shuffle decided while writing. In each spill a shard's
   documents are one contiguous, key-sorted range, so a shard is a merge of sequential reads,
   never random reads of a finished file. Neither the cuts nor the order depend on the number
   of workers.
"""

from __future__ import annotations

import glob
import itertools
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from tamis.document import Document
from tamis.errors import InputError, TaskError
from tamis.executors.plan import attempt_sentinel, mark_first_attempt
from tamis.io.atomic import write_bytes_atomic
from tamis.io.outputs import ShardWriter, rejects_format
from tamis.io.readers import BadRecord, InputTask, ReaderOptions, read_task
from tamis.stats import TaskStats
from tamis.steps.base import TaskContext
from tamis.tokenize.encoder import Encoder, single_threaded
from tamis.tokenize.formats import ShardFiles

BATCH_CHARS = 1 << 20  # texts are encoded a batch of about this many characters at a time
BATCH_DOCS = 4096
GATHER_TOKENS = 1 << 22  # tokens moved at a time when sorting a spill or merging a shard
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class TokenizePlan:
    """Everything a worker needs, picklable."""

    run_dir: str
    fingerprint: str
    tokenizer: str
    fmt: str
    dtype: str
    eos: str | None
    bos: str | None
    seed: int
    reader: ReaderOptions
    strict: bool
    name: str = "tokens"
    info: dict[str, Any] = field(default_factory=dict)  # what the memmap sidecar and .ds.metadata name
    attempt_sentinels: bool = False  # as RunPlan's: an encode task cleans only after an earlier attempt

    @property
    def root(self) -> Path:
        return Path(self.run_dir)

    @property
    def work_dir(self) -> Path:
        return self.root / "_work" / self.fingerprint

    def marker(self, name: str) -> Path:
        return self.root / "_markers" / f"{name}.json"

    def spill(self, task: int, what: str) -> Path:
        return self.work_dir / f"{task:05d}.{what}"

    def shard_name(self, shard: int, n_shards: int) -> str:
        return f"{self.name}-{shard:05d}-of-{n_shards:05d}"


def encode_marker_name(task: int) -> str:
    return f"encode-task{task:05d}"


def write_marker_name(shard: int, n_shards: int) -> str:
    return f"write-{shard:05d}-of-{n_shards:05d}"


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, vectorised (uint64 arithmetic wraps)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shuffle_keys(seed: int, task: int, positions: np.ndarray) -> np.ndarray:
    """The shuffle key of each document: a seeded hash of its task and position in it."""
    with np.errstate(over="ignore"):
        base = _mix(np.array([seed & (2**64 - 1)], dtype=np.uint64) + _GOLDEN)
        base = _mix(base ^ np.uint64(task))
        return _mix(base + (positions.astype(np.uint64) + np.uint64(1)) * _GOLDEN)


BUCKET_BITS = 16  # shard cuts are found by counting tokens per key bucket, then sorting one bucket


def _spill_range(plan: TokenizePlan, task: int, low: int, high: int | None) -> tuple[int, int]:
    """The documents of a task's (key-sorted) spill whose key is in ``[low, high)``."""
    keys = np.load(plan.spill(task, "keys.npy"), mmap_mode="r")
    a = int(np.searchsorted(keys, np.uint64(low), side="left"))
    b = len(keys) if high is None or high >= 1 << 64 else int(np.searchsorted(keys, np.uint64(high), side="left"))
    return a, b


def shard_cuts(plan: TokenizePlan, tasks: list[int], shard_tokens: int) -> list[int]:
    """The lowest key of each shard (the first is 0; shard ``s`` ends where ``s + 1`` begins).

    Shards are consecutive ranges of the global key order, cut so that a document belongs to
    shard ``floor(start / shard_tokens)``, ``start`` being the tokens before it in that order:
    shards of ``shard_tokens`` tokens, give or take one document. The global order is never
    built: tokens are counted per bucket of the key's top bits in every spill, and only the
    bucket holding a cut is gathered and sorted. Same input, same seed: same cuts."""
    n_buckets = 1 << BUCKET_BITS
    shift = np.uint64(64 - BUCKET_BITS)
    per_bucket = np.zeros(n_buckets, dtype=np.int64)
    for task in tasks:
        keys = np.load(plan.spill(task, "keys.npy"), mmap_mode="r")
        if len(keys):
            ends = np.load(plan.spill(task, "ends.npy"), mmap_mode="r")
            lengths = np.diff(np.asarray(ends), prepend=0)
            per_bucket += np.bincount((np.asarray(keys) >> shift).astype(np.int64), weights=lengths, minlength=n_buckets).astype(np.int64)
    before_bucket = np.concatenate([[0], np.cumsum(per_bucket)])  # tokens in the buckets before b
    total = int(before_bucket[-1])
    cuts = [0]
    for target in range(shard_tokens, total, shard_tokens):
        bucket = int(np.searchsorted(before_bucket, target, side="right")) - 1  # the bucket where the target falls
        low, high = bucket << (64 - BUCKET_BITS), (bucket + 1) << (64 - BUCKET_BITS)
        keys_in, lengths_in = [], []
        for task in tasks:
            a, b = _spill_range(plan, task, low, high)
            if b > a:
                keys = np.load(plan.spill(task, "keys.npy"), mmap_mode="r")
                ends = np.load(plan.spill(task, "ends.npy"), mmap_mode="r")
                keys_in.append(np.asarray(keys[a:b]))
                lengths_in.append(np.diff(np.asarray(ends[a:b]), prepend=int(ends[a - 1]) if a else 0))
        keys_b = np.concatenate(keys_in)
        order = np.argsort(keys_b, kind="stable")
        lengths_b = np.concatenate(lengths_in)[order]
        starts = int(before_bucket[bucket]) + np.cumsum(lengths_b) - lengths_b
        first = int(np.searchsorted(starts, target, side="left"))  # the first document starting at or after the target
        if first < len(starts):
            cut = int(keys_b[order][first])
        elif int(before_bucket[bucket + 1]) < total:
            cut = high  # the next document is in a later bucket
        else:
            continue  # the document at the target is the last one: no shard after it
        if cut > cuts[-1]:  # a document longer than a shard leaves no empty shard behind it
            cuts.append(cut)
    return cuts


@dataclass
class TokenCounts:
    """Token statistics of the written documents (merged by addition)."""

    documents: int = 0
    tokens: int = 0
    by_language: dict[str, Counter[str]] = field(default_factory=dict)
    by_source: dict[str, Counter[str]] = field(default_factory=dict)
    lengths: Counter[int] = field(default_factory=Counter)  # power-of-two buckets of tokens per document

    def add(self, language: Any, source: str, tokens: int) -> None:
        self.documents += 1
        self.tokens += tokens
        key = language if isinstance(language, str) and language else "unknown"
        for table, name in ((self.by_language, key), (self.by_source, source)):
            counter = table.get(name)
            if counter is None:
                counter = table[name] = Counter()
            counter["documents"] += 1
            counter["tokens"] += tokens
        self.lengths[1 << (tokens.bit_length() - 1) if tokens else 0] += 1

    def merge(self, other: TokenCounts) -> None:
        self.documents += other.documents
        self.tokens += other.tokens
        for mine, theirs in ((self.by_language, other.by_language), (self.by_source, other.by_source)):
            for name, counter in theirs.items():
                mine.setdefault(name, Counter()).update(counter)
        self.lengths.update(other.lengths)

    def to_dict(self) -> dict[str, Any]:
        def table(t: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
            return {k: {"documents": t[k]["documents"], "tokens": t[k]["tokens"]} for k in sorted(t)}

        return {
            "documents": self.documents,
            "tokens": self.tokens,
            "by_language": table(self.by_language),
            "by_source": table(self.by_source),
            "tokens_per_document": {str(b): self.lengths[b] for b in sorted(self.lengths)},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenCounts:
        return cls(
            documents=data["documents"],
            tokens=data["tokens"],
            by_language={k: Counter(v) for k, v in data["by_language"].items()},
            by_source={k: Counter(v) for k, v in data["by_source"].items()},
            lengths=Counter({int(b): n for b, n in data["tokens_per_document"].items()}),
        )


def source_of(doc: Document, task: InputTask) -> str:
    """Where a document comes from: the input file it was read from (the readers record it as
    ``metadata.source.path``; a text-file batch task holds many files)."""
    source = doc.metadata.get("source")
    if isinstance(source, dict):
        path = source.get("path")
        if isinstance(path, str) and path:
            return path
    return task.files[0]


_ENCODERS: dict[tuple[str, str | None, str | None], Encoder] = {}


def _encoder(plan: TokenizePlan) -> Encoder:
    """One loaded tokenizer per process."""
    key = (plan.tokenizer, plan.bos, plan.eos)
    encoder = _ENCODERS.get(key)
    if encoder is None:
        encoder = _ENCODERS[key] = Encoder(plan.tokenizer, bos=plan.bos, eos=plan.eos)
    return encoder


def share_encoder(plan: TokenizePlan, encoder: Encoder) -> None:
    """Tasks run in this process (one worker) use the tokenizer the driver already loaded."""
    _ENCODERS[(plan.tokenizer, plan.bos, plan.eos)] = encoder


def _clean_task_outputs(plan: TokenizePlan, task: int) -> None:
    """Delete what an earlier attempt of encode task ``task`` left. In a new run only a task that
    finds its attempt sentinel looks (each glob lists a folder of every task's files: quadratic
    in the tasks); a resumed run looks for every task it redoes."""
    if plan.attempt_sentinels and mark_first_attempt(plan.root, encode_marker_name(task)):
        return  # a first attempt: nothing of it to delete
    patterns = [str(plan.root / "rejects" / f"part-{task:05d}-*"), str(plan.root / "errors" / f"task{task:05d}.jsonl*"), str(plan.spill(task, "*"))]
    for pattern in patterns:
        for path in glob.glob(pattern):
            os.unlink(path)


class _Spill:
    """A task's encoded documents, in input order until :meth:`finish` sorts them by key."""

    def __init__(self, plan: TokenizePlan, task: int) -> None:
        self.plan = plan
        self.task = task
        self.dtype = np.dtype(plan.dtype)
        plan.work_dir.mkdir(parents=True, exist_ok=True)
        self.raw_path = plan.spill(task, "raw")
        self._raw = open(self.raw_path, "wb")  # noqa: SIM115 - closed in finish/abort
        self.lengths: list[np.ndarray] = []
        self.positions: list[np.ndarray] = []

    def add(self, tokens: np.ndarray, lengths: np.ndarray, positions: np.ndarray) -> None:
        self._raw.write(tokens.astype(self.dtype, copy=False).tobytes())
        self.lengths.append(lengths)
        self.positions.append(positions)

    def finish(self) -> tuple[int, int]:
        """Sort by shuffle key into ``tokens``/``keys.npy``/``ends.npy``; returns (documents, tokens)."""
        self._raw.close()
        lengths = np.concatenate(self.lengths) if self.lengths else np.zeros(0, np.int64)
        positions = np.concatenate(self.positions) if self.positions else np.zeros(0, np.int64)
        keys = shuffle_keys(self.plan.seed, self.task, positions)
        order = np.argsort(keys, kind="stable")
        raw = np.memmap(self.raw_path, dtype=self.dtype, mode="r") if lengths.sum() else np.zeros(0, self.dtype)
        starts = np.cumsum(lengths) - lengths
        tokens_path = self.plan.spill(self.task, "tokens")
        with open(tokens_path, "wb") as out:
            for chunk in _chunks(lengths[order]):
                docs = order[chunk]
                out.write(raw[_ranges(starts[docs], lengths[docs])].tobytes())
        del raw
        np.save(self.plan.spill(self.task, "keys.npy"), keys[order])
        np.save(self.plan.spill(self.task, "ends.npy"), np.cumsum(lengths[order]))  # a shard reads only its range
        os.unlink(self.raw_path)
        return len(lengths), int(lengths.sum())

    def abort(self) -> None:
        self._raw.close()


def _chunks(lengths: np.ndarray) -> list[slice]:
    """Consecutive runs of documents holding about GATHER_TOKENS tokens each (one at least)."""
    ends = np.cumsum(lengths)
    cuts = [0]
    while cuts[-1] < len(lengths):
        done = int(ends[cuts[-1] - 1]) if cuts[-1] else 0
        nxt = int(np.searchsorted(ends, done + GATHER_TOKENS, side="right"))
        cuts.append(max(nxt, cuts[-1] + 1))
    return [slice(a, b) for a, b in itertools.pairwise(cuts)]


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices ``starts[i] .. starts[i] + lengths[i]`` for every i, concatenated (vectorised)."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(total, dtype=np.int64)


def encode_task(plan: TokenizePlan, task: InputTask) -> dict[str, Any]:
    """Encode one input task into its sorted spill; write its rejects, errors and marker."""
    started = time.perf_counter()
    single_threaded()
    _clean_task_outputs(plan, task.index)
    encoder = _encoder(plan)
    rejects = ShardWriter(plan.root / "rejects", f"part-{task.index:05d}", rejects_format("gzip"), rejects=True)
    stats = TaskStats()
    counts = TokenCounts()
    ctx = TaskContext(task.index, stats=stats, reject_sink=rejects.write)
    errors: list[dict[str, Any]] = []
    spill = _Spill(plan, task.index)
    batch: list[tuple[int, Document]] = []
    batch_chars = 0

    def flush() -> None:
        nonlocal batch, batch_chars
        good = batch
        try:
            flat, lengths = encoder.encode([doc.text for _, doc in batch])
        except Exception:  # noqa: BLE001 - the tokenizer refused some text: find which, one at a time
            good, parts = [], []
            for item in batch:
                try:
                    parts.append(encoder.encode([item[1].text]))
                    good.append(item)
                except Exception as exc:  # noqa: BLE001 - the library raises plain Exception
                    ctx.reject(item[1], "tokenize:encode_error", detail=str(exc)[:500])
            flat = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.uint32)
            lengths = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        kept = (lengths > 0).tolist()
        written = []
        for item, ok in zip(good, kept, strict=True):
            if ok:
                stats.observe_kept(item[1].text, item[1].metadata.get("language"))
                written.append(item)
            else:
                ctx.reject(item[1], "tokenize:no_tokens", detail="the tokenizer gives no token for this text")
        flat, lengths = encoder.with_specials(flat, lengths[lengths > 0])
        for (_, doc), n in zip(written, lengths.tolist(), strict=True):
            counts.add(doc.metadata.get("language"), source_of(doc, task), n)
        spill.add(flat, lengths, np.fromiter((p for p, _ in written), dtype=np.int64, count=len(written)))
        batch, batch_chars = [], 0

    try:
        position = 0
        for item in read_task(task, plan.reader):
            if isinstance(item, BadRecord):
                err = item.error
                errors.append({"path": err.path, "line": err.line, "reason": err.reason, "message": err.message, "id": item.doc.id if item.doc else None})
                if plan.strict:
                    raise TaskError(f"input error (--strict): {err}")
                if item.doc is not None:
                    stats.observe_read(item.doc.text)
                    ctx.reject(item.doc, err.reason, detail=err.message)
                    position += 1
                continue
            stats.observe_read(item.text)
            if not item.text or item.text.isspace():
                ctx.reject(item, "tokenize:empty_text", detail="the text is empty")
            else:
                batch.append((position, item))
                batch_chars += len(item.text)
                if batch_chars >= BATCH_CHARS or len(batch) >= BATCH_DOCS:
                    flush()
            position += 1
        if batch:
            flush()
        n_docs, n_tokens = spill.finish()
        rejects.close()
    except InputError as exc:
        spill.abort()
        rejects.abort()
        raise TaskError(str(exc)) from exc
    except BaseException:
        spill.abort()
        rejects.abort()
        raise
    if errors:
        blob = b"".join(orjson.dumps(e) + b"\n" for e in errors)
        write_bytes_atomic(plan.root / "errors" / f"task{task.index:05d}.jsonl", blob)
    assert n_docs == counts.documents and n_tokens == counts.tokens
    result = {"stats": stats.to_dict(), "errors": len(errors), "tokens": counts.to_dict(), "seconds": time.perf_counter() - started}
    write_bytes_atomic(plan.marker(encode_marker_name(task.index)), orjson.dumps(result))
    attempt_sentinel(plan.root, encode_marker_name(task.index)).unlink(missing_ok=True)
    return result


def write_shard_task(plan: TokenizePlan, shard: int, cuts: list[int], tasks: list[int]) -> dict[str, Any]:
    """Write output shard ``shard`` (keys ``cuts[shard]`` to the next cut) from every task's spill; then its marker."""
    started = time.perf_counter()
    n_shards = len(cuts)
    low, high = cuts[shard], (cuts[shard + 1] if shard + 1 < n_shards else None)
    pieces = []  # (task, tokens before the range, keys, lengths) of the shard's range in each spill
    for task in tasks:
        a, b = _spill_range(plan, task, low, high)
        if b > a:
            keys = np.load(plan.spill(task, "keys.npy"), mmap_mode="r")
            ends = np.load(plan.spill(task, "ends.npy"), mmap_mode="r")
            before = int(ends[a - 1]) if a else 0
            pieces.append((task, before, np.asarray(keys[a:b]), np.diff(np.asarray(ends[a:b]), prepend=before)))
    all_keys = np.concatenate([p[2] for p in pieces]) if pieces else np.zeros(0, np.uint64)
    all_lengths = np.concatenate([p[3] for p in pieces]).astype(np.int64) if pieces else np.zeros(0, np.int64)
    owner = np.concatenate([np.full(len(p[2]), i, dtype=np.int32) for i, p in enumerate(pieces)]) if pieces else np.zeros(0, np.int32)
    order = np.argsort(all_keys, kind="stable")  # ties: task order, then position (stable)
    lengths = all_lengths[order]
    owners = owner[order]
    files = ShardFiles(plan.root, plan.shard_name(shard, n_shards), plan.fmt, np.dtype(plan.dtype), plan.info)
    try:
        sources = [np.memmap(plan.spill(p[0], "tokens"), dtype=np.dtype(plan.dtype), mode="r") for p in pieces]
        cursors = [p[1] for p in pieces]  # the next token to take from each spill
        for chunk in _chunks(lengths):
            chunk_lengths = lengths[chunk]
            chunk_owners = owners[chunk]
            out = np.empty(int(chunk_lengths.sum()), dtype=np.dtype(plan.dtype))
            out_starts = np.cumsum(chunk_lengths) - chunk_lengths
            grouped = np.argsort(chunk_owners, kind="stable")  # by spill, each in chunk order
            for mine in np.split(grouped, np.flatnonzero(np.diff(chunk_owners[grouped])) + 1):
                i = int(chunk_owners[mine[0]])
                n = int(chunk_lengths[mine].sum())
                # This spill's documents come in its own (key) order: one contiguous read.
                src = sources[i][cursors[i] : cursors[i] + n]
                cursors[i] += n
                out[_ranges(out_starts[mine], chunk_lengths[mine])] = src
            files.write(out)
        del sources
        written = files.close(lengths)
    except BaseException:
        files.abort()
        raise
    result = {
        "shard": shard,
        "name": plan.shard_name(shard, n_shards),
        "files": [p.name for p in written],
        "documents": len(lengths),
        "tokens": int(lengths.sum()),
        "seconds": time.perf_counter() - started,
    }
    write_bytes_atomic(plan.marker(write_marker_name(shard, n_shards)), orjson.dumps(result))
    return result
