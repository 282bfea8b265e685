"""Exact deduplication across the corpus: whole documents, or lines (CCNet-style).

Each unit (a document, or a non-blank line) is hashed with xxh3-128 over its normalised form
(:func:`tamis.text.normalize_for_hash`). The first occurrence in input order wins: input
order is (task index, position in the task), which does not depend on the number of workers.

Memory: the resolve pass holds about 32 bytes per unit of one partition. When the units of
the whole corpus would need more than ``memory_budget_mb``, they are first split by hash
prefix into partitions that each fit, and every partition is resolved on its own, in
parallel.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import xxhash

from tamis.dedup import plain
from tamis.dedup.base import Decisions, GlobalStage, PassTask
from tamis.dedup.cluster import unique_sorted
from tamis.document import Document
from tamis.errors import ConfigError
from tamis.io.atomic import write_bytes_atomic
from tamis.io.idstore import IdLookup, IdReader, IdWriter
from tamis.registry import register
from tamis.steps.base import TaskContext, param
from tamis.text import iter_lines_with_ends, normalized_utf8

if TYPE_CHECKING:
    import numpy as np

UNITS = ("document", "line")
BYTES_PER_UNIT = 32
# Memory of one entry of FirstSeen's table (dict slot, 16-byte key object, the keeper's id).
BYTES_PER_SEEN = 160

# The resolve round's partition count, in the scratch folder: the apply tasks find their dups files by it.
PARTITIONS_FILE = "partitions"


def _save_array(path: Path, array: np.ndarray) -> None:
    import numpy as np
    write_bytes_atomic(path, np.ascontiguousarray(array).tobytes())


def _load_array(path: Path, dtype: str, width: int = 1) -> np.ndarray:
    import numpy as np
    data = np.fromfile(path, dtype=dtype)
    return data.reshape(-1, width) if width > 1 else data


@register("exact_dedup")
class ExactDedup(GlobalStage):
    """Drop documents (or lines) whose normalised text appeared earlier in the corpus."""

    unit: str = param("document", "what is compared: 'document' or 'line' (CCNet-style line dedup)")
    min_line_chars: int = param(0, "line unit: lines shorter than this (normalised characters; a Chinese or Japanese one counts 3) are never removed")
    memory_budget_mb: int = param(1024, "memory for the resolve pass; above it units are partitioned by hash prefix")
    partitions: int = param(0, "number of hash partitions for the resolve pass (0: derived from memory_budget_mb)")

    def __post_init__(self) -> None:
        if self.memory_budget_mb < 1 or self.partitions < 0:
            msg = "exact_dedup: memory_budget_mb must be >= 1 and partitions >= 0"
            raise ConfigError(msg)
        if self.unit not in UNITS:
            msg = f"exact_dedup: unit must be one of {', '.join(UNITS)}, got {self.unit!r}"
            raise ConfigError(msg)

    # ------------------------------------------------------------------ pass 1: hash

    def collect(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        import numpy as np
        assert ctx.scratch_dir is not None
        collector = self.key_collector(ctx)
        if collector is not None:
            add = collector.add
            for doc in docs:
                add(doc.id, normalized_utf8(doc.text))
                yield doc
            collector.close()
            return
        from tamis.dedup.shingles import line_key, utf8_line_length  # line unit only (its tables cost an import)

        hashes = bytearray()
        ids = IdWriter()
        line_docs: list[int] = []
        digest = xxhash.xxh3_128_digest
        for position, doc in enumerate(docs):
            ids.add(doc.id)
            for content, _ in iter_lines_with_ends(doc.text):
                key = line_key(content)  # spaces between Chinese/Japanese characters ignored
                if key and (not self.min_line_chars or utf8_line_length(key) >= self.min_line_chars):
                    hashes += digest(key)
                    line_docs.append(position)
            yield doc
        task = ctx.task_index
        write_bytes_atomic(ctx.scratch_dir / f"keys-{task:05d}.bin", bytes(hashes))
        _save_array(ctx.scratch_dir / f"units-{task:05d}.u32", np.asarray(line_docs, dtype=np.uint32))
        ids.save(ctx.scratch_dir / f"ids-{task:05d}")

    def key_collector(self, ctx: TaskContext) -> _DocumentKeys | None:
        if self.unit != "document":
            return None
        assert ctx.scratch_dir is not None
        return _DocumentKeys(ctx.scratch_dir, ctx.task_index)

    # ------------------------------------------------------------------ global passes

    def global_passes(self, scratch: Path, n_tasks: int) -> Iterator[list[PassTask]]:
        total_units = sum((scratch / f"keys-{t:05d}.bin").stat().st_size // 16 for t in range(n_tasks))
        partitions = self.partitions or max(1, math.ceil(total_units * BYTES_PER_UNIT / (self.memory_budget_mb << 20)))
        (scratch / PARTITIONS_FILE).write_text(str(partitions))
        if partitions > 1:
            yield [
                PassTask(f"partition-{t:05d}", functools.partial(_partition_task, str(scratch), t, partitions))
                for t in range(n_tasks)
            ]
        yield [
            PassTask(f"resolve-{p:04d}", functools.partial(_resolve_partition, str(scratch), p, partitions, n_tasks))
            for p in range(partitions)
        ]

    # ------------------------------------------------------------------ pass 3: apply

    def decides_by_position(self) -> bool:
        return self.unit == "document"

    def streams_first_seen(self) -> bool:
        """Document dedup can be decided while reading when one process reads every task in
        order (:mod:`tamis.executors.stream`): the first occurrence is kept either way."""
        return self.unit == "document"

    def first_seen(self) -> FirstSeen:
        return FirstSeen(self.memory_budget_mb << 20)

    def decisions(self, ctx: TaskContext) -> Decisions | None:
        if self.unit != "document":
            return None
        assert ctx.scratch_dir is not None
        keepers = IdLookup(ctx.scratch_dir)
        try:
            reason = f"{self.step_id}:duplicate"
            found = _load_task_duplicates(ctx.scratch_dir, ctx.task_index)
            return Decisions(rejects={position: (reason, None, keepers.get(*keeper)) for position, keeper in found.items()})
        finally:
            keepers.close()

    def apply(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        if self.unit == "document":
            return super().apply(docs, ctx)
        return self._apply_line_unit(docs, ctx)

    def _apply_line_unit(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        assert ctx.scratch_dir is not None
        duplicates = _load_task_duplicates(ctx.scratch_dir, ctx.task_index)
        keepers = IdLookup(ctx.scratch_dir)
        try:
            yield from self._apply_lines(docs, ctx, duplicates, keepers)
        finally:
            keepers.close()

    def _apply_lines(
        self,
        docs: Iterable[Document],
        ctx: TaskContext,
        duplicates: dict[int, tuple[int, int]],
        keepers: IdLookup,
    ) -> Iterator[Document]:
        from tamis.dedup.shingles import line_key, utf8_line_length

        step_id = self.step_id
        unit_docs = _load_array(ctx.scratch_dir / f"units-{ctx.task_index:05d}.u32", "<u4")  # type: ignore[operator]
        unit = 0
        for doc in docs:
            kept: list[str] = []
            removed = 0
            first_keeper: tuple[int, int] | None = None
            for content, end in iter_lines_with_ends(doc.text):
                key = line_key(content)  # spaces between Chinese/Japanese characters ignored
                if key and (not self.min_line_chars or utf8_line_length(key) >= self.min_line_chars):
                    keeper = duplicates.get(unit)
                    unit += 1
                    if keeper is not None:
                        removed += 1
                        first_keeper = first_keeper or keeper
                        continue
                kept.append(content + end)
            if not removed:
                yield doc
                continue
            new_text = "".join(kept)
            if not new_text.strip():
                k_task, k_unit = first_keeper  # type: ignore[misc]
                k_units = unit_docs if k_task == ctx.task_index else _load_array(ctx.scratch_dir / f"units-{k_task:05d}.u32", "<u4")  # type: ignore[operator]
                keeper_id = keepers.get(k_task, int(k_units[k_unit]))
                ctx.reject(doc, f"{step_id}:all_lines_duplicate", detail=f"{removed} lines seen earlier", duplicate_of=keeper_id)
                continue
            if doc.text and doc.text[-1] not in "\r\n":
                new_text = new_text.rstrip("\r\n")
            doc.text = new_text
            doc.metadata[f"{step_id}_removed_lines"] = removed
            ctx.modified(step_id, unit="lines", count=removed)
            yield doc


class _DocumentKeys:
    """Pass 1 of document dedup for one task: the xxh3-128 of each key, and the ids."""

    def __init__(self, scratch: Path, task: int) -> None:
        self._scratch = scratch
        self._task = task
        self._hashes = bytearray()
        self._ids = IdWriter()
        self._digest = xxhash.xxh3_128_digest

    def add(self, doc_id: str, key: bytes) -> None:
        self._ids.add(doc_id)
        self._hashes += self._digest(key)

    def add_many(self, doc_ids: list[str], keys: list[bytes]) -> None:
        self._ids.extend(doc_ids)
        self._hashes += b"".join(map(self._digest, keys))

    def add_digests(self, doc_ids: list[str], digests: list[bytes]) -> None:
        """Documents whose keys the caller has hashed already (xxh3-128 digests, as ``add``)."""
        self._ids.extend(doc_ids)
        self._hashes += b"".join(digests)

    def add_joined_digests(self, doc_ids: list[str], joined: bytes) -> None:
        """As :meth:`add_digests`, the digests already joined (16 bytes a document)."""
        self._ids.extend(doc_ids)
        self._hashes += joined

    def close(self) -> None:
        write_bytes_atomic(self._scratch / f"keys-{self._task:05d}.bin", bytes(self._hashes))
        self._ids.save(self._scratch / f"ids-{self._task:05d}")


class TableFull(Exception):
    """FirstSeen's table reached the stage's memory budget in the middle of a task."""


class FirstSeen:
    """Exact document dedup decided while reading: the keeper's id of every key seen so far.

    For a run whose tasks one process reads one after another in input order, the first
    occurrence of a key (the keeper, whatever the number of tasks) is the first one met, so a
    document is decided when it is read: what the global passes would decide, without a
    second read. Each task still writes its keys and ids as the collect does, so a resumed
    run can fill the table from finished tasks (:meth:`load`) or hand over to the global
    passes, which then decide the rest exactly as if every task had been collected.
    """

    def __init__(self, budget_bytes: int) -> None:
        self.keepers: dict[bytes, str] = {}
        self.next_task = 0  # tasks are added in order; a gap means an earlier task failed
        self._budget = budget_bytes

    def full(self) -> bool:
        """Whether the table has reached the stage's memory budget (the passes then take over)."""
        return len(self.keepers) * BYTES_PER_SEEN >= self._budget

    def check(self) -> None:
        """Raise TableFull once the table is full (checked as a task goes, a block at a time)."""
        if self.full():
            raise TableFull

    def load(self, scratch: Path, task: int) -> None:
        """The keys of a task that finished earlier (its collect files), in its order."""
        digests = (scratch / f"keys-{task:05d}.bin").read_bytes()
        ids = IdReader(scratch / f"ids-{task:05d}").all()
        setdefault = self.keepers.setdefault
        for i, doc_id in enumerate(ids):
            setdefault(digests[16 * i : 16 * i + 16], doc_id)
        self.next_task = task + 1


# ---------------------------------------------------------------------- pass functions


def _partition_task(scratch: str, task: int, partitions: int) -> None:
    import numpy as np
    root = Path(scratch)
    keys = _load_array(root / f"keys-{task:05d}.bin", "<u8", 2)
    part = keys[:, 0] % np.uint64(partitions)
    ordinals = np.arange(len(keys), dtype=np.uint64)
    for p in range(partitions):
        mask = part == p
        _save_array(root / f"part-{p:04d}-{task:05d}.keys", keys[mask])
        _save_array(root / f"part-{p:04d}-{task:05d}.ords", ordinals[mask])


def _resolve_partition(scratch: str, partition: int, partitions: int, n_tasks: int) -> None:
    """First occurrence of every key in (task, ordinal) order; writes each task's duplicates."""
    root = Path(scratch)
    if partitions == 1 and plain.plain(sum((root / f"keys-{t:05d}.bin").stat().st_size // 16 for t in range(n_tasks))):
        plain.resolve_exact(root, partition, n_tasks)  # a small run: no numpy import
        return
    import numpy as np

    key_parts, task_parts, ord_parts = [], [], []
    for t in range(n_tasks):
        if partitions == 1:
            keys = _load_array(root / f"keys-{t:05d}.bin", "<u8", 2)
            ords = np.arange(len(keys), dtype=np.uint64)
        else:
            keys = _load_array(root / f"part-{partition:04d}-{t:05d}.keys", "<u8", 2)
            ords = _load_array(root / f"part-{partition:04d}-{t:05d}.ords", "<u8")
        key_parts.append(keys)
        ord_parts.append(ords)
        task_parts.append(np.full(len(keys), t, dtype=np.uint32))
    if not key_parts or sum(len(k) for k in key_parts) == 0:
        return
    keys = np.concatenate(key_parts)
    tasks = np.concatenate(task_parts)
    ords = np.concatenate(ord_parts)
    # Stable sort by key: inside a run of equal keys, input order is preserved, so the first
    # element of each run is the keeper.
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    sorted_keys = keys[order]
    new_run = np.ones(len(order), dtype=bool)
    new_run[1:] = np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(order)), 0))
    dup = ~new_run
    dup_idx = order[dup]
    keeper_idx = order[run_start[dup]]
    dup_tasks = tasks[dup_idx]
    # unique_sorted, not np.unique: the same sorted values, without numpy 2's np.unique importing
    # numpy.ma (its masked-array check: ~0.03 s of every run that finds a duplicate)
    for t in unique_sorted(dup_tasks):
        sel = dup_tasks == t
        rows = np.stack([ords[dup_idx[sel]], tasks[keeper_idx[sel]].astype(np.uint64), ords[keeper_idx[sel]]], axis=1)
        _save_array(root / f"dups-{partition:04d}-{int(t):05d}.bin", rows.astype(np.uint64))


def _load_task_duplicates(scratch: Path, task: int) -> dict[int, tuple[int, int]]:
    duplicates: dict[int, tuple[int, int]] = {}
    for path in plain.partition_files(scratch, "dups", task, ".bin", PARTITIONS_FILE):
        rows = plain.read_array(path, "Q") if sys.byteorder == "little" else _load_array(Path(path), "<u8").tolist()
        for k in range(0, len(rows), 3):
            duplicates[rows[k]] = (rows[k + 1], rows[k + 2])
    return duplicates
