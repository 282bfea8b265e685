"""Exact-substring deduplication (Lee et al. 2022): remove long spans seen earlier in the corpus.

Definition. A *k-gram* is ``min_bytes`` consecutive bytes of one document's UTF-8 text. A byte
is removed when it lies in a k-gram that also occurs earlier in input order (an earlier
document, or earlier in the same document). So every span of ``min_bytes`` or more that
occurs more than once is kept at its first occurrence and removed from the later ones (the
reference tool removes every copy); then the cuts are tidied (:func:`plan_cuts`): they move to
character boundaries, never cut a word or a partly-unique line, and whole-line cuts leave one
line break between their neighbours. Outputs are deletion-only edits of the inputs.

Passes (files under ``OUT/dedup/<fingerprint>/substring_dedup/``):

1. ``collect`` (per task): each document's UTF-8 followed by one 0xFF byte (never in UTF-8,
   so no k-gram crosses a document) into ``text-<task>.bin``; document offsets; ids.
2. The tasks' texts are cut at document boundaries into *shards* of at most ``shard_mb``;
   every later pass holds at most one shard (plus candidates of at most a quarter of it).
3. ``anchors`` (per shard): winnowing (tamis/_native/substring.c) selects, for every window
   of ``w = min_bytes - anchor_bytes + 1`` consecutive ``anchor_bytes``-grams, the one with the
   smallest hash. A k-gram holds exactly one window, so every copy of it selects the same anchor
   at the same offset: two shards share a k-gram only if they share an anchor hash. About
   ``2 / (w + 1)`` of the positions are anchors (~3 % at the defaults); they are split by hash
   into partitions.
4. ``join`` (per partition): for every anchor hash found in several shards, each later shard
   asks for the text around the first ``max_providers`` occurrences in earlier shards.
5. ``scan`` (per shard): the requested windows of earlier shards (``anchor offset -
   (min_bytes - anchor_bytes)`` to ``anchor offset + min_bytes``, clipped to the document:
   every k-gram holding the anchor), merged and deduplicated by content, are put *before* the
   shard's own text, and one suffix array (libdivsufsort through ``pydivsufsort``; int32
   offsets under 2 GiB, int64 above) is built over both. A run of suffix-array rows sharing
   their first ``min_bytes`` bytes is one k-gram's occurrences: the smallest position is the
   first occurrence (windows from earlier shards come first), every other one was seen
   earlier. No global suffix array is ever merged: memory is bounded by the shard (about 9x
   ``shard_mb`` at peak: text, int32 suffix array, flags). When the candidates exceed a quarter
   of the shard they are processed in several suffix arrays, one after the other.
6. ``apply`` (per task): cut the documents; a document left with no text is rejected as
   ``substring_dedup:duplicate`` (``duplicate_of`` = the document holding the first copy of its
   first removed span), one left shorter than ``min_chars`` as ``substring_dedup:too_short``.

A span's only kept copy never vanishes with a rejected document: a document that holds the
first occurrence of a k-gram removed elsewhere is never rejected as too short (it is kept,
shortened), and a document rejected as a duplicate holds no first occurrence by definition.
Later steps of the recipe may still drop such a document: put this stage after the filters.

Approximation (documented, conservative): an anchor hash that occurs in more than
``max_providers`` places of earlier shards is looked up at its first ``max_providers`` only, so a
k-gram whose only earlier copies sit beyond them is kept (never a first copy removed).
"""

from __future__ import annotations

import functools
import glob
import math
import mmap
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import orjson
import xxhash

from tamis.dedup.base import GlobalStage, PassTask
from tamis.document import Document
from tamis.errors import ConfigError
from tamis.io.atomic import atomic_open, write_bytes_atomic
from tamis.io.idstore import IdLookup, IdWriter
from tamis.registry import register
from tamis.steps.base import TaskContext, param

SEPARATOR = b"\xff"
ANCHOR_ROW_BYTES = 96  # peak bytes per anchor in the join pass: inputs, sort order, sorted copies, run tables
JOIN_SHARD_FACTOR = 4  # a join pass holds at most this many shards' worth of anchors
SCAN_CHUNK_MIN = 4 << 20  # earlier shards' windows a scan's suffix array takes, at least (else a quarter shard)
MAX_SNAP_CHARS = 64  # a cut end moves at most this far to reach a word boundary
LINE_BREAKS = "\n\r"


def _native():  # type: ignore[no-untyped-def]
    from tamis._native import _substring

    return _substring


@register("substring_dedup")
class SubstringDedup(GlobalStage):
    """Remove every span of >= min_bytes seen earlier in the corpus (keeps the first copy)."""

    min_bytes: int = param(100, "shortest repeated span removed, in bytes of UTF-8 (Lee et al.: 100)", minimum=8)
    min_chars: int = param(200, "a document cut shorter than this (characters) is rejected as too_short", minimum=0)
    shard_mb: float = param(256.0, "text per suffix array (MiB of UTF-8); peak memory of a pass is about 9x this", minimum=0.0001)
    anchor_bytes: int = param(32, "length of the winnowing anchors that find repeats (< min_bytes)", minimum=4)
    max_providers: int = param(16, "earlier occurrences of one anchor looked up across shards", minimum=1)
    memory_budget_mb: int = param(1024, "memory of one join pass (at most 4x shard_mb); above it anchors are partitioned by hash", minimum=1)

    def __post_init__(self) -> None:
        if self.min_bytes < 8:
            raise ConfigError("substring_dedup: min_bytes must be >= 8")
        if not 4 <= self.anchor_bytes < self.min_bytes:
            raise ConfigError("substring_dedup: anchor_bytes must be >= 4 and < min_bytes")
        if self.min_chars < 0 or self.shard_mb <= 0 or self.max_providers < 1 or self.memory_budget_mb < 1:
            raise ConfigError("substring_dedup: min_chars >= 0, shard_mb > 0, max_providers >= 1, memory_budget_mb >= 1")

    @property
    def window(self) -> int:
        return self.min_bytes - self.anchor_bytes + 1

    # ------------------------------------------------------------------ pass 1: collect

    def collect(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        assert ctx.scratch_dir is not None
        task = ctx.task_index
        ids = IdWriter()
        starts: list[int] = []
        offset = 0
        with atomic_open(ctx.scratch_dir / f"text-{task:05d}.bin", "wb") as fh:
            for doc in docs:
                data = doc.text.encode("utf-8", "surrogatepass")
                starts.append(offset)
                fh.write(data)
                fh.write(SEPARATOR)
                offset += len(data) + 1
                ids.add(doc.id)
                yield doc
        starts.append(offset)
        write_bytes_atomic(ctx.scratch_dir / f"docs-{task:05d}.u64", np.asarray(starts, dtype=np.uint64).tobytes())
        ids.save(ctx.scratch_dir / f"ids-{task:05d}")

    # ------------------------------------------------------------------ global passes

    def global_passes(self, scratch: Path, n_tasks: int) -> Iterator[list[PassTask]]:
        shards = plan_shards(scratch, n_tasks, max(1, int(self.shard_mb * (1 << 20))))
        write_bytes_atomic(scratch / "shards.json", orjson.dumps(shards))
        if not shards:
            return
        total = sum(s[4] - s[3] for s in shards)
        anchors = total * 2 / (self.window + 1)
        # the join's memory follows the shard size too, so a pass never needs more than the scan
        budget = min(self.memory_budget_mb << 20, JOIN_SHARD_FACTOR * int(self.shard_mb * (1 << 20)))
        partitions = max(1, math.ceil(anchors * ANCHOR_ROW_BYTES / max(budget, 1 << 20)))
        root = str(scratch)
        yield [
            PassTask(f"anchors-{s:05d}", functools.partial(_anchor_task, root, s, self.anchor_bytes, self.window, partitions))
            for s in range(len(shards))
        ]
        yield [PassTask(f"join-{p:04d}", functools.partial(_join_task, root, p, len(shards), self.max_providers)) for p in range(partitions)]
        yield [
            PassTask(f"scan-{s:05d}", functools.partial(_scan_task, root, s, self.min_bytes, self.anchor_bytes))
            for s in range(len(shards))
        ]

    # ------------------------------------------------------------------ pass 3: apply

    def apply(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        assert ctx.scratch_dir is not None
        decisions = _load_task_decisions(ctx.scratch_dir, ctx.task_index)
        names = IdLookup(ctx.scratch_dir)
        step_id = self.step_id
        try:
            for position, doc in enumerate(docs):
                ranges = decisions.ranges.get(position)
                if not ranges:
                    yield doc
                    continue
                raw = doc.text.encode("utf-8", "surrogatepass")
                cuts = plan_cuts(doc.text, raw, ranges, fragment_bytes=self.min_bytes)
                if not cuts:
                    yield doc
                    continue
                new_text = apply_cuts(doc.text, cuts)
                removed_bytes = len(raw) - len(new_text.encode("utf-8", "surrogatepass"))
                if not new_text.strip():
                    source = decisions.sources.get(position)
                    keeper = names.get(*source) if source is not None else None
                    ctx.reject(doc, f"{step_id}:duplicate", detail=f"all {len(raw)} bytes seen earlier", duplicate_of=keeper)
                    continue
                if len(new_text) < self.min_chars and position not in decisions.protected:
                    ctx.reject(
                        doc,
                        f"{step_id}:too_short",
                        detail=f"{len(new_text)} chars left < {self.min_chars} after removing {removed_bytes} bytes seen earlier",
                    )
                    continue
                doc.text = new_text
                doc.metadata["substring_removed_bytes"] = removed_bytes
                ctx.modified(step_id, unit="spans", count=len(cuts))
                yield doc
        finally:
            names.close()


# ---------------------------------------------------------------------- shards


def plan_shards(scratch: Path, n_tasks: int, shard_bytes: int) -> list[list[int]]:
    """Consecutive runs of documents of one task, each at most ``shard_bytes`` (a longer document
    is a shard of its own): ``[task, doc_lo, doc_hi, byte_lo, byte_hi]``, in input order."""
    shards: list[list[int]] = []
    for task in range(n_tasks):
        starts = np.fromfile(scratch / f"docs-{task:05d}.u64", dtype=np.uint64).astype(np.int64)
        n_docs = len(starts) - 1
        lo = 0
        while lo < n_docs:
            limit = int(starts[lo]) + shard_bytes
            hi = int(np.searchsorted(starts, limit, side="right")) - 1  # docs [lo, hi) end at or before limit
            hi = min(max(hi, lo + 1), n_docs)
            shards.append([task, lo, hi, int(starts[lo]), int(starts[hi])])
            lo = hi
    return shards


class _Shard:
    """One shard's documents: starts and ends (exclusive, separator not included) in the shard."""

    def __init__(self, scratch: Path, row: list[int]) -> None:
        self.task, self.doc_lo, self.doc_hi, self.byte_lo, self.byte_hi = row
        starts = np.fromfile(scratch / f"docs-{self.task:05d}.u64", dtype=np.uint64).astype(np.int64)
        bounds = starts[self.doc_lo : self.doc_hi + 1] - self.byte_lo
        self.starts = np.ascontiguousarray(bounds[:-1])
        self.ends = np.ascontiguousarray(bounds[1:] - 1)
        self.path = scratch / f"text-{self.task:05d}.bin"

    def read(self) -> bytes:
        with open(self.path, "rb") as fh:
            fh.seek(self.byte_lo)
            return fh.read(self.byte_hi - self.byte_lo)

    def doc_of(self, offsets: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, offsets, side="right") - 1


def _load_shards(scratch: Path) -> list[list[int]]:
    return orjson.loads((scratch / "shards.json").read_bytes())


# ---------------------------------------------------------------------- pass functions


def _anchor_task(scratch: str, shard: int, q: int, w: int, partitions: int) -> None:
    root = Path(scratch)
    text = _Shard(root, _load_shards(root)[shard]).read()
    hashes_b, positions_b = _native().winnow(text, q, w)
    hashes = np.frombuffer(hashes_b, dtype=np.uint64)
    positions = np.frombuffer(positions_b, dtype=np.uint64)
    part = hashes % np.uint64(partitions)
    for p in range(partitions):
        mask = part == p
        rows = np.stack([hashes[mask], positions[mask]], axis=1)
        write_bytes_atomic(root / f"anc-{p:04d}-{shard:05d}.bin", np.ascontiguousarray(rows).tobytes())


def _join_task(scratch: str, partition: int, n_shards: int, max_providers: int) -> None:
    """Anchor hashes seen more than once. For each shard writes ``own-<partition>-<shard>.bin``
    (its anchor offsets whose hash it holds twice or an earlier shard holds: where its repeats
    can be) and ``req-<partition>-<shard>.bin`` (provider shard, provider offset: the first
    ``max_providers`` occurrences in earlier shards of the hashes it holds)."""
    root = Path(scratch)
    hashes, shards, offsets = [], [], []
    for s in range(n_shards):
        rows = np.fromfile(root / f"anc-{partition:04d}-{s:05d}.bin", dtype=np.uint64).reshape(-1, 2)
        hashes.append(rows[:, 0])
        offsets.append(rows[:, 1])
        shards.append(np.full(len(rows), s, dtype=np.uint64))
    h = np.concatenate(hashes)
    if len(h) == 0:
        return
    order = np.argsort(h, kind="stable")  # stable: inside one hash, (shard, offset) order stays
    h, sh, off = h[order], np.concatenate(shards)[order], np.concatenate(offsets)[order]
    del order, hashes, shards, offsets
    n = len(h)
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = h[1:] != h[:-1]
    starts_idx = np.flatnonzero(new_run)
    ends_idx = np.append(starts_idx[1:], n)
    run_start = np.repeat(starts_idx, ends_idx - starts_idx)
    run_end = np.repeat(ends_idx, ends_idx - starts_idx)
    # (hash, shard) groups: contiguous, as rows are in (hash, shard, offset) order
    first_of_shard = new_run.copy()
    first_of_shard[1:] |= sh[1:] != sh[:-1]
    g_starts = np.flatnonzero(first_of_shard)
    g_sizes = np.diff(np.append(g_starts, n))
    group_size = np.repeat(g_sizes, g_sizes)
    later_shard = sh != sh[run_start]
    own = (group_size > 1) | later_shard
    by_shard = np.argsort(sh[own], kind="stable")
    own_shard, own_off = sh[own][by_shard], off[own][by_shard]
    bounds = np.searchsorted(own_shard, np.arange(n_shards + 1, dtype=np.uint64))
    for s in range(n_shards):
        if bounds[s + 1] > bounds[s]:
            write_bytes_atomic(root / f"own-{partition:04d}-{s:05d}.bin", np.ascontiguousarray(own_off[bounds[s] : bounds[s + 1]]).tobytes())
    # one requester per (hash, later shard): its first row
    reps = np.flatnonzero(first_of_shard & later_shard)
    req_shard, prov_shard, prov_off = [], [], []
    for m in range(max_providers):
        provider = run_start[reps] + m
        valid = provider < run_end[reps]
        if not valid.any():
            break
        r = reps[valid]
        pv = provider[valid]
        ok = sh[pv] < sh[r]
        req_shard.append(sh[r][ok])
        prov_shard.append(sh[pv][ok])
        prov_off.append(off[pv][ok])
    if not req_shard:
        return
    requester = np.concatenate(req_shard)
    rows = np.stack([np.concatenate(prov_shard), np.concatenate(prov_off)], axis=1)
    by_requester = np.argsort(requester, kind="stable")
    requester, rows = requester[by_requester], rows[by_requester]
    bounds = np.searchsorted(requester, np.arange(n_shards + 1, dtype=np.uint64))
    for s in range(n_shards):
        if bounds[s + 1] > bounds[s]:
            write_bytes_atomic(root / f"req-{partition:04d}-{s:05d}.bin", np.ascontiguousarray(rows[bounds[s] : bounds[s + 1]]).tobytes())


def _merged_windows(info: _Shard, anchors: np.ndarray, k: int, q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every k-gram holding one of the anchors lies in ``[anchor - (k - q), anchor + k)``,
    clipped to its document; overlapping windows merged. Returns (lo, hi, doc), sorted."""
    offs = np.unique(anchors)
    doc = info.doc_of(offs)
    lo = np.maximum(offs - (k - q), info.starts[doc])
    hi = np.minimum(offs + k, info.ends[doc])
    keep = hi - lo >= k
    lo, hi, doc = lo[keep], hi[keep], doc[keep]
    if len(lo) == 0:
        return lo, hi, doc
    # documents are separated by one byte, so merged windows never span two of them
    order, first, m_hi = _union(lo, hi)
    return lo[order][first], m_hi, doc[order][first]


def _read_rows(root: Path, pattern: str, width: int) -> np.ndarray:
    parts = [np.fromfile(path, dtype=np.uint64).reshape(-1, width) for path in sorted(glob.glob(str(root / pattern)))]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros((0, width), dtype=np.int64)


def _window_bytes(info: _Shard, lo: np.ndarray, hi: np.ndarray) -> list[bytes]:
    with open(info.path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        base = info.byte_lo
        return [mm[base + a : base + b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True)]


def _provider_windows(root: Path, shard: int, rows: list[list[int]], k: int, q: int) -> list[tuple[int, int, int, bytes]]:
    """The text of earlier shards around the anchors this shard shares with them, merged and
    deduplicated by content, in input order: ``(shard, doc, offset, bytes)``."""
    req = _read_rows(root, f"req-*-{shard:05d}.bin", 2)
    windows: list[tuple[int, int, int, bytes]] = []
    seen: set[int] = set()
    for provider in np.unique(req[:, 0]).tolist():
        info = _Shard(root, rows[provider])
        lo, hi, doc = _merged_windows(info, req[req[:, 0] == provider, 1], k, q)
        for a, d, data in zip(lo.tolist(), doc.tolist(), _window_bytes(info, lo, hi), strict=True):
            digest = xxhash.xxh3_64_intdigest(data)
            if digest not in seen:  # the same boilerplate from many places: once is enough
                seen.add(digest)
                windows.append((provider, d, a, data))
    return windows


def _scan_task(scratch: str, shard: int, k: int, q: int) -> None:
    """Find this shard's k-grams seen earlier. The suffix array is built over the candidate
    regions only: the shard's windows around anchors seen more than once (a k-gram that occurs
    twice holds such an anchor in every copy), after the windows of earlier shards."""
    from pydivsufsort import divsufsort

    native = _native()
    root = Path(scratch)
    rows = _load_shards(root)
    info = _Shard(root, rows[shard])
    own_lo, own_hi, own_doc = _merged_windows(info, _read_rows(root, f"own-*-{shard:05d}.bin", 1)[:, 0], k, q)
    own = b"".join(data + SEPARATOR for data in _window_bytes(info, own_lo, own_hi))
    own_start = np.cumsum(np.append(0, own_hi - own_lo + 1)).astype(np.int64)  # in `own`
    windows = _provider_windows(root, shard, rows, k, q)
    budget = max((info.byte_hi - info.byte_lo) // 4, SCAN_CHUNK_MIN)
    chunks: list[list[tuple[int, int, int, bytes]]] = [[]]
    size = 0
    for window in windows:
        if size and size + len(window[3]) + 1 > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(window)
        size += len(window[3]) + 1

    def own_place(u: int) -> tuple[int, int]:
        """(doc, offset in the shard) of a position of `own`."""
        i = int(np.searchsorted(own_start, u, side="right")) - 1
        return int(own_doc[i]), int(own_lo[i]) + u - int(own_start[i])

    flags_own = np.zeros(len(own), dtype=np.uint8)
    protected: set[tuple[int, int]] = set()
    # The k-grams (xxh3-128 of their bytes) whose first provided copy an earlier chunk held: a
    # chunk sees only its own windows, so a later copy in a later chunk is the first it sees.
    first_seen_before: set[int] = set()
    # per document: (first removed offset, source shard, source doc, source offset)
    first_dup: dict[int, tuple[int, int, int, int]] = {}
    for chunk in chunks if own else []:
        prefix = b"".join(w[3] + SEPARATOR for w in chunk)
        boundary = len(prefix)
        corpus = prefix + own if prefix else own
        del prefix
        sa = divsufsort(corpus)
        flags = np.zeros(len(corpus), dtype=np.uint8)
        native.mark_groups(corpus, sa, k, flags, boundary)
        w_start = np.cumsum([0] + [len(w[3]) + 1 for w in chunk], dtype=np.int64)
        if chunk and len(chunks) == 1:
            # earlier-shard positions that are the first copy of something here (flag 4: a
            # k-gram only earlier shards repeat is theirs to judge, and its first copy may not
            # be among the windows)
            hit = np.frombuffer(native.flagged_ranges(flags, 4, 4, w_start[:-1], w_start[1:] - 1), dtype=np.int64)
            protected.update((chunk[i][0], chunk[i][1]) for i in hit.tolist())
        elif chunk:  # the same, less the k-grams an earlier chunk's windows held first
            firsts_here = np.flatnonzero(flags[:boundary] & 4)
            kept_firsts = []
            found_here: set[int] = set()
            for position in firsts_here.tolist():
                key = xxhash.xxh3_128_intdigest(corpus[position : position + k])
                if key not in first_seen_before:
                    found_here.add(key)
                    kept_firsts.append(position)
            first_seen_before |= found_here
            hit = np.unique(np.searchsorted(w_start, np.asarray(kept_firsts, dtype=np.int64), side="right") - 1)
            protected.update((chunk[i][0], chunk[i][1]) for i in hit.tolist())
        firsts = np.frombuffer(native.first_flagged(flags, 1, own_start[:-1] + boundary, own_start[1:] - 1 + boundary), dtype=np.int64)
        group_first: dict[int, int] = {}
        hit = np.flatnonzero(firsts >= 0)
        # windows are in shard order: a document's first window with a hit holds its first removed byte
        _, first_window = np.unique(own_doc[hit], return_index=True)
        for i in hit[first_window].tolist():
            doc, pos = own_place(int(firsts[i]) - boundary)
            known = first_dup.get(doc)
            if known is not None and known[0] < pos:
                continue
            lo, hi = native.group_bounds(corpus, sa, int(firsts[i]), k)
            src = group_first.get(lo)
            if src is None:
                src = group_first[lo] = int(sa[lo:hi].min())
            if src < boundary:
                j = int(np.searchsorted(w_start, src, side="right")) - 1
                found = (pos, chunk[j][0], chunk[j][1], chunk[j][2] + src - int(w_start[j]))
            else:
                found = (pos, shard, *own_place(src - boundary))
            # the same position may be seen in several chunks: the earliest source wins
            if known is None or found < known:
                first_dup[doc] = found
        del sa, corpus
        flags_own |= flags[boundary:]
        del flags
    local = np.frombuffer(native.flagged_ranges(flags_own, 3, 2, own_start[:-1], own_start[1:] - 1), dtype=np.int64)
    protected.update((shard, int(own_doc[i])) for i in local.tolist())
    pairs = np.frombuffer(native.cover(flags_own, k, 0, len(own)), dtype=np.int64).reshape(-1, 2)
    # back to shard offsets (a range never leaves its window), then merge across windows
    which = np.searchsorted(own_start, pairs[:, 0], side="right") - 1
    shift = own_lo[which] - own_start[which]
    cover = _merge_ranges(pairs[:, 0] + shift, pairs[:, 1] + shift)
    write_bytes_atomic(root / f"cover-{shard:05d}.i64", cover.tobytes())
    sources = np.asarray([(d, s, sd) for d, (_, s, sd, _) in sorted(first_dup.items())], dtype=np.int64).reshape(-1, 3)
    write_bytes_atomic(root / f"source-{shard:05d}.i64", sources.tobytes())
    guard = np.asarray(sorted(protected), dtype=np.int64).reshape(-1, 2)
    write_bytes_atomic(root / f"protect-{shard:05d}.i64", guard.tobytes())


def _merge_ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    if len(lo) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    order, first, m_hi = _union(lo, hi)
    return np.ascontiguousarray(np.stack([lo[order][first], m_hi], axis=1))


def _union(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlapping ranges ``[lo, hi)`` merged: (the stable order by ``lo``, which of the sorted
    ranges start a merged one, each merged range's end)."""
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    reach = np.maximum.accumulate(hi)
    first = np.ones(len(lo), dtype=bool)
    first[1:] = lo[1:] > reach[:-1]
    m_hi = np.zeros(int(first.sum()), dtype=np.int64)
    np.maximum.at(m_hi, np.cumsum(first) - 1, hi)
    return order, first, m_hi


class _TaskDecisions:
    def __init__(self) -> None:
        self.ranges: dict[int, list[tuple[int, int]]] = {}  # doc position -> byte ranges in its UTF-8
        self.sources: dict[int, tuple[int, int]] = {}  # doc position -> (task, position) of the first copy
        self.protected: set[int] = set()


def _load_task_decisions(scratch: Path, task: int) -> _TaskDecisions:
    rows = _load_shards(scratch)
    out = _TaskDecisions()
    mine = [s for s, row in enumerate(rows) if row[0] == task]
    mine_set = set(mine)
    for s in mine:
        info = _Shard(scratch, rows[s])
        cover = np.fromfile(scratch / f"cover-{s:05d}.i64", dtype=np.int64).reshape(-1, 2)
        if len(cover):
            docs = info.doc_of(cover[:, 0])
            for (a, b), d in zip(cover.tolist(), docs.tolist(), strict=True):
                start = int(info.starts[d])
                out.ranges.setdefault(info.doc_lo + d, []).append((a - start, b - start))
        for d, src_shard, src_doc in np.fromfile(scratch / f"source-{s:05d}.i64", dtype=np.int64).reshape(-1, 3).tolist():
            src_row = rows[src_shard]
            out.sources[info.doc_lo + d] = (src_row[0], src_row[1] + src_doc)
    # protection marks come from every shard's scan (a later shard marks earlier first copies)
    for path in glob.glob(str(scratch / "protect-*.i64")):
        for s, d in np.fromfile(path, dtype=np.int64).reshape(-1, 2).tolist():
            if s in mine_set:
                out.protected.add(rows[s][1] + d)
    return out


# ---------------------------------------------------------------------- cutting


def _no_space_script(char: str) -> bool:
    """Scripts written without spaces between words: any character boundary is a word boundary."""
    code = ord(char)
    return (code >= 0x2E80 and not 0xAC00 <= code <= 0xD7AF) or 0x0E00 <= code <= 0x0EFF or 0x1000 <= code <= 0x109F or 0x1780 <= code <= 0x17FF


def _is_gap(char: str) -> bool:
    return char.isspace() or _no_space_script(char) or unicodedata.category(char).startswith("Z")


def _clean(text: str, x: int) -> bool:
    return x in (0, len(text)) or _is_gap(text[x - 1]) or _is_gap(text[x])


def _snap_forward(text: str, a: int, limit: int) -> int:
    for x in range(a, min(limit, a + MAX_SNAP_CHARS) + 1):
        if _clean(text, x):
            return x
    return a


def _snap_backward(text: str, e: int, limit: int) -> int:
    for x in range(e, max(limit, e - MAX_SNAP_CHARS) - 1, -1):
        if _clean(text, x):
            return x
    return e


def _utf8_len(text: str, a: int, b: int) -> int:
    return len(text[a:b].encode("utf-8", "surrogatepass"))


def _at_line_start(text: str, x: int) -> bool:
    return x == 0 or text[x - 1] in LINE_BREAKS


def _break_after(text: str, x: int) -> int:
    """Length of the line break starting at x (0 if none)."""
    if text.startswith("\r\n", x):
        return 2
    return 1 if x < len(text) and text[x] in LINE_BREAKS else 0


def _break_before(text: str, x: int) -> int:
    if x >= 2 and text[x - 2 : x] == "\r\n":
        return 2
    return 1 if x >= 1 and text[x - 1] in LINE_BREAKS else 0


def _char_ranges(text: str, raw: bytes, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Byte ranges of ``raw`` (the UTF-8 of ``text``) -> the character ranges inside them."""
    if len(raw) == len(text):
        return ranges
    arr = np.frombuffer(raw, dtype=np.uint8)
    char_starts = np.flatnonzero((arr & 0xC0) != 0x80)
    char_ends = np.append(char_starts[1:], len(raw))
    out = []
    for a, b in ranges:
        ca = int(np.searchsorted(char_starts, a, side="left"))  # first character starting at or after a
        cb = int(np.searchsorted(char_ends, b, side="right"))  # characters ending at or before b
        if ca < cb:
            out.append((ca, cb))
    return out


def plan_cuts(text: str, raw: bytes, byte_ranges: list[tuple[int, int]], *, fragment_bytes: int) -> list[tuple[int, int]]:
    """Character ranges of ``text`` to delete, from the byte ranges seen earlier.

    * Character boundaries: a range shrinks to the characters wholly inside it (no U+FFFD).
    * A range that crosses line breaks keeps the partial lines at its ends when they are
      shorter than ``fragment_bytes`` (``min_bytes``) of UTF-8: such a fragment is a repeat too
      short to count on its own (the match only ran on into the neighbouring line), and its
      line also holds unique text. A longer fragment is a repeat in its own right: it is cut,
      at a word boundary.
    * A range inside one line shrinks to word boundaries (whitespace, or any character
      boundary in scripts written without spaces), at most ``MAX_SNAP_CHARS`` away; it never
      grows into unique text.
    * Whole lines go with their line break, so one line break stays between the neighbours; a
      cut that would join two lines keeps the last line break it held; two spaces left side by
      side become one.
    """
    n = len(text)
    cuts: list[tuple[int, int]] = []
    for a, e in _char_ranges(text, raw, byte_ranges):
        inner = text[a:e]
        if "\n" in inner or "\r" in inner:
            if not _at_line_start(text, a):
                first_break = min(i for i in (inner.find("\n"), inner.find("\r")) if i >= 0) + a
                if _utf8_len(text, a, first_break) < fragment_bytes:
                    a = first_break
                else:
                    a = _snap_forward(text, a, first_break)
            if not (e == n or _at_line_start(text, e) or _break_after(text, e)):
                last_line = max(inner.rfind("\n"), inner.rfind("\r")) + 1 + (e - len(inner))
                if _utf8_len(text, last_line, e) < fragment_bytes:
                    e = last_line
                else:
                    e = _snap_backward(text, e, last_line)
        else:
            a = _snap_forward(text, a, e)
            e = _snap_backward(text, e, a)
        if a >= e:
            continue
        # whole lines go with their break
        if _at_line_start(text, a) and e < n and _break_after(text, e) and not _at_line_start(text, e):
            e += _break_after(text, e)
        if e == n and a > 0 and _at_line_start(text, a) and text[-1] not in LINE_BREAKS:
            a -= _break_before(text, a)
        removed = text[a:e]
        if a > 0 and e < n and ("\n" in removed or "\r" in removed) and not _at_line_start(text, a) and not _break_after(text, e):
            # the cut would join two lines: keep the last line break it held
            last = max(removed.rfind("\n"), removed.rfind("\r")) + a
            start = last - 1 if text[last] == "\n" and last > a and text[last - 1] == "\r" else last
            if start > a:
                cuts.append((a, start))
            if last + 1 < e:
                cuts.append((last + 1, e))
            continue
        if a > 0 and e < n and "\n" not in removed and "\r" not in removed:
            left, right = text[a - 1], text[e]
            if left in " \t" and right in " \t":
                e += 1
            elif not _is_gap(left) and not _is_gap(right) and (removed[0].isspace() or removed[-1].isspace()):
                if removed[-1].isspace():
                    e -= 1
                else:
                    a += 1
        if a < e:
            cuts.append((a, e))
    cuts.sort()
    return [c for c in cuts if c[0] < c[1]]


def apply_cuts(text: str, cuts: list[tuple[int, int]]) -> str:
    pieces = []
    at = 0
    for a, e in cuts:
        if a > at:
            pieces.append(text[at:a])
        at = max(at, e)
    pieces.append(text[at:])
    return "".join(pieces)
