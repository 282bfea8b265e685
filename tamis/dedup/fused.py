"""``normalize`` -> ``exact_dedup`` -> ``minhash`` run as one stage: the input read once to decide.

What ``tamis dedup`` runs by default, and what any pipeline gets whose steps contain, in this
order, an optional ``normalize``, ``exact_dedup`` on whole documents and ``minhash``
(:func:`fuse_dedup_steps`, called where the step list is cut into segments). Run one after
the other, the three steps cost three passes over the corpus, two of them over spills of
every document (written compressed, read back, parsed again). Fused:

1. ``collect`` (per task, one read of the input): each document's output text (``normalize``),
   then from that text its exact key (xxh3-128 of :func:`tamis.text.normalized_utf8`) and its
   MinHash sketch, in the same loop. A document whose key already appeared earlier in the same
   task is an exact duplicate whatever the other tasks hold, so it is not signed. Written:
   ``exact/`` (the exact stage's own files) and ``minhash/pre-<task>.*`` (sketches of every
   document that survived ``normalize``).
2. global passes: the exact stage's rounds on ``exact/``; then one round that keeps, per
   task, the sketches of the documents exact dedup kept (``minhash/sketch-<task>.*``: what the
   minhash stage's own collect would have written after exact dedup); then the minhash
   stage's rounds on ``minhash/``. Both stages therefore decide exactly as when run apart:
   same numbering, same keepers, same reasons.
3. ``apply`` (per task, the input read again): the three stages' decisions, mapped to
   positions in the task, applied by :class:`tamis.dedup.base.Decisions`, with ``normalize``
   as their :class:`~tamis.dedup.base.TextRewrite`: collect notes the positions whose text
   normalize changed (``changed-<task>.u32``), and only those are normalised again (counted
   as ``normalize`` modifications). Every other document is written as it was read, which
   lets the JSONL source copy its record's bytes (:meth:`tamis.io.sources.Source.write_decided_texts`).

No document is spilled between the stages. ``TAMIS_FUSE_DEDUP=0`` keeps the steps apart (the
reference the tests compare this stage with).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

import xxhash

from tamis.dedup import exact as exact_module
from tamis.dedup import plain
from tamis.dedup.base import Decisions, GlobalStage, PassTask, TextRewrite
from tamis.dedup.exact import ExactDedup
from tamis.dedup.index import task_stem
from tamis.dedup.minhash import MinHashDedup, SketchSpill
from tamis.document import Document
from tamis.io.atomic import write_scratch_bytes
from tamis.io.idstore import IdWriter
from tamis.steps.base import Step, TaskContext
from tamis.steps.normalize import Normalize
from tamis.text import normalized_utf8, normalized_utf8_of_nfc

PRE = "pre"  # minhash/pre-<task>.*: sketches of every document normalize kept, before exact dedup


def fusion_enabled() -> bool:
    return os.environ.get("TAMIS_FUSE_DEDUP") != "0"


def fuse_dedup_steps(steps: list[Step]) -> list[Step]:
    """``steps`` with each run of [normalize,] exact_dedup (documents), minhash replaced by one
    :class:`FusedDedup` (the same decisions, fewer passes over the corpus)."""
    if not fusion_enabled():
        return steps
    out: list[Step] = []
    i = 0
    while i < len(steps):
        step = steps[i]
        normalize = step if type(step) is Normalize else None
        at = i + (normalize is not None)
        if (
            at + 1 < len(steps)
            and type(steps[at]) is ExactDedup
            and steps[at].unit == "document"  # type: ignore[attr-defined]
            and type(steps[at + 1]) is MinHashDedup
        ):
            out.append(FusedDedup(normalize=normalize, exact=steps[at], minhash=steps[at + 1]))  # type: ignore[arg-type]
            i = at + 2
            continue
        out.append(step)
        i += 1
    return out


class FusedDedup(GlobalStage):
    """normalize, exact_dedup and minhash in one stage (not a step users name: the planner
    builds it from those steps)."""

    name: ClassVar[str] = "dedup"
    normalize: Normalize | None = None
    exact: ExactDedup | None = None
    minhash: MinHashDedup | None = None

    def __post_init__(self) -> None:
        if self.exact is None or self.minhash is None:
            msg = "FusedDedup needs its exact and minhash stages"
            raise TypeError(msg)

    @property
    def step_id(self) -> str:
        parts = [s.step_id for s in (self.normalize, self.exact, self.minhash) if s is not None]
        return "+".join(parts)

    def setup(self) -> None:
        for step in (self.normalize, self.exact, self.minhash):
            if step is not None:
                step.setup()

    # ------------------------------------------------------------------ pass 1

    def collect(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        first_pass = _FirstPass(self, ctx)
        try:
            add = first_pass.add
            for doc in docs:
                add(doc.id, doc.text, doc)
                yield doc
        except BaseException:
            first_pass.abandon()
            raise
        first_pass.close()

    def key_collector(self, ctx: TaskContext) -> _FirstPass | None:
        """The first pass fed a block of (id, text) at a time by a source that reads them
        without building documents (the JSONL scanner: ``JsonlSource.collect_keys``), or None
        where the minhash stage reads the metadata (``per_language``)."""
        assert self.minhash is not None
        if self.minhash.per_language:
            return None
        return _FirstPass(self, ctx)

    # ------------------------------------------------------------------ global passes

    def global_passes(self, scratch: Path, n_tasks: int) -> Iterator[list[PassTask]]:
        assert self.exact is not None and self.minhash is not None
        exact_dir, minhash_dir = _dirs(scratch)
        for round_tasks in self.exact.global_passes(exact_dir, n_tasks):
            yield [PassTask(f"exact-{p.name}", p.fn) for p in round_tasks]
        yield [PassTask(f"keep-{t:05d}", functools.partial(_keep_exact_survivors, str(scratch), t)) for t in range(n_tasks)]
        for round_tasks in self.minhash.global_passes(minhash_dir, n_tasks):
            yield [PassTask(f"minhash-{p.name}", p.fn) for p in round_tasks]

    # ------------------------------------------------------------------ apply

    def decisions(self, ctx: TaskContext) -> Decisions:
        """The three stages' decisions for this task, by position among all its documents."""
        assert ctx.scratch_dir is not None and self.exact is not None and self.minhash is not None
        exact_dir, minhash_dir = _dirs(ctx.scratch_dir)
        task = ctx.task_index
        empties = _u32_list(ctx.scratch_dir / f"empty-{task:05d}.u32")
        n_normalized = (exact_dir / f"keys-{task:05d}.bin").stat().st_size // 16
        # Position (in the task) of the k-th document that normalize kept, then exact dedup.
        if empties:
            skipped = set(empties)
            after_normalize = [p for p in range(n_normalized + len(empties)) if p not in skipped]
        else:
            after_normalize = list(range(n_normalized))
        exact = self.exact.decisions(TaskContext(task, stats=ctx.stats, scratch_dir=exact_dir))
        near = self.minhash.decisions(TaskContext(task, stats=ctx.stats, scratch_dir=minhash_dir))
        assert exact is not None
        removed = exact.rejects
        after_exact = [p for k, p in enumerate(after_normalize) if k not in removed] if removed else after_normalize
        decided = Decisions()
        if empties:
            reason = f"{self.normalize.step_id if self.normalize else 'normalize'}:empty_after_normalize"
            decided.rejects.update((p, (reason, None, None)) for p in empties)
        position = after_normalize
        decided.rejects.update((position[k], found) for k, found in exact.rejects.items())
        position = after_exact
        decided.rejects.update((position[k], found) for k, found in near.rejects.items())
        decided.annotations.update((position[k], extra) for k, extra in near.annotations.items())
        if self.normalize is not None:
            decided.rewrite = TextRewrite(self.normalize.step_id, self.normalize.normalize, _changed(ctx.scratch_dir, task))
        return decided

    def applies_by_position(self) -> bool:
        return True  # decisions() holds normalize as their rewrite: apply is theirs

    def apply(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        return self.decisions(ctx).apply(docs, ctx)


class _FirstPass:
    """One task's collect: each document's output text (``normalize``), its exact key and,
    for the first of each key in the task, its MinHash sketch; written by :meth:`close`.

    Fed one document at a time (:meth:`add`, the documents' path) or a block of ids and texts
    at a time (:meth:`add_texts`, by a source that reads them without building documents:
    ``wants_texts``). Nothing is opened before the first document, so a source that turns the
    block path down leaves nothing behind."""

    wants_texts: ClassVar[bool] = True

    def __init__(self, stage: FusedDedup, ctx: TaskContext) -> None:
        assert ctx.scratch_dir is not None and stage.exact is not None and stage.minhash is not None
        self.stage, self.ctx = stage, ctx
        self.normalize = stage.normalize.normalize if stage.normalize is not None else None
        self.nfc = stage.normalize is not None and stage.normalize.nfc  # its output is NFC: not checked again
        self.key_of = normalized_utf8_of_nfc if self.nfc else normalized_utf8
        self.seen: set[bytes] = set()
        self.hashes: list[bytes] = []
        self.ids = IdWriter()
        self.empties: list[int] = []
        self.changed: list[int] = []  # positions whose text normalize changes
        self.position = 0
        self.spill: SketchSpill | None = None

    def _open(self) -> SketchSpill:
        assert self.ctx.scratch_dir is not None and self.stage.minhash is not None
        _, minhash_dir = _dirs(self.ctx.scratch_dir)
        self.spill = SketchSpill(self.stage.minhash, str(minhash_dir / f"{PRE}-{self.ctx.task_index:05d}"), nfc_given=self.nfc)
        return self.spill

    def _admit(self, text: str, position: int) -> str | None:
        """What one document leaves in the task's lists: None where normalize empties it (no
        id, no key, no sketch), else its exact key is kept and the text to sign is returned
        ("" for an exact duplicate inside the task: dropped before minhash, never signed)."""
        normalize = self.normalize
        if normalize is not None:
            new_text = normalize(text)
            if new_text is not text and new_text != text:
                self.changed.append(position)
            text = new_text
            if not text or text.isspace():
                self.empties.append(position)
                return None
        key = xxhash.xxh3_128_digest(self.key_of(text))
        self.hashes.append(key)
        if key in self.seen:
            return ""
        self.seen.add(key)
        assert self.spill is not None
        return self.spill.prepare(text)

    def add(self, doc_id: str, text: str, doc: Document | None = None) -> None:
        """One document (``doc``: for the minhash stage's ``per_language``)."""
        spill = self.spill or self._open()
        prepared = self._admit(text, self.position)
        self.position += 1
        if prepared is not None:
            self.ids.add(doc_id)
            spill.add(prepared, doc)

    def add_texts(self, doc_ids: list[str], texts: list[str]) -> None:
        """Many documents, in input order: what :meth:`add` does for each, without a
        Document or metadata, and the ids and texts to sign handed over once per block."""
        spill = self.spill or self._open()
        admit = self._admit
        kept_ids: list[str] = []
        prepared: list[str] = []
        position = self.position
        for doc_id, text in zip(doc_ids, texts, strict=True):
            signed = admit(text, position)
            position += 1
            if signed is not None:
                kept_ids.append(doc_id)
                prepared.append(signed)
        self.position = position
        self.ids.extend(kept_ids)
        spill.add_many(prepared)

    def add_many(self, doc_ids: list[str], keys: list[bytes]) -> None:  # pragma: no cover - wants_texts
        msg = "the fused dedup collect needs texts, not keys (add_texts)"
        raise TypeError(msg)

    def abandon(self) -> None:
        if self.spill is not None:
            self.spill.close()

    def close(self) -> None:
        """Write the task's files (after the last document)."""
        ctx = self.ctx
        assert ctx.scratch_dir is not None
        exact_dir, _ = _dirs(ctx.scratch_dir)
        task = ctx.task_index
        spill = self.spill or self._open()  # a task with no document still leaves its files
        try:
            spill.finish()
        finally:
            spill.close()
        spill.commit()
        write_scratch_bytes(ctx.scratch_dir / f"empty-{task:05d}.u32", _u32_bytes(self.empties))
        write_scratch_bytes(ctx.scratch_dir / f"changed-{task:05d}.u32", _u32_bytes(self.changed))
        write_scratch_bytes(exact_dir / f"keys-{task:05d}.bin", b"".join(self.hashes))
        self.ids.save(exact_dir / f"ids-{task:05d}")


def _changed(scratch: Path, task: int) -> frozenset[int] | None:
    """The positions whose text normalize changed in collect; None where collect left no
    list (a run directory from before it did: every text is normalised again)."""
    path = scratch / f"changed-{task:05d}.u32"
    if not path.exists():
        return None
    return frozenset(_u32_list(path))


def _u32_bytes(values: list[int]) -> bytes:
    """``values`` as little-endian uint32 (positions in a task), without numpy."""
    out = array("I", values)
    if sys.byteorder != "little":
        out.byteswap()
    return out.tobytes()


def _u32_list(path: Path) -> list[int]:
    """A file of little-endian uint32, as ints."""
    out = array("I")
    out.frombytes(path.read_bytes())
    if sys.byteorder != "little":
        out.byteswap()
    return out.tolist()


def _dirs(scratch: Path) -> tuple[Path, Path]:
    exact_dir, minhash_dir = scratch / "exact", scratch / "minhash"
    exact_dir.mkdir(parents=True, exist_ok=True)
    minhash_dir.mkdir(parents=True, exist_ok=True)
    return exact_dir, minhash_dir


def _write_scratch(path: str, data: bytes) -> None:
    """A scratch file under its name once complete, as the minhash collect writes its own (not
    synced: the pass's marker, written after, is what a resumed run trusts, and these are
    rewritten whole whenever the pass runs again)."""
    with open(path + ".partial", "wb") as fh:
        fh.write(data)
    os.replace(path + ".partial", path)


def _link_or_copy(source: str, target: str) -> None:
    """``target`` as a second name of ``source`` (no bytes copied), or a copy where the
    filesystem has no hard links; replaced whole, as :func:`_write_scratch` does."""
    partial = target + ".partial"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(partial)
    try:
        os.link(source, partial)
    except OSError:
        import shutil  # here, not at import: a run imports no shutil (bz2, lzma) for this

        shutil.copyfile(source, partial)
    os.replace(partial, target)


def _keep_exact_survivors(scratch: str, task: int) -> None:
    """The minhash stage's files of one task, as its own collect would have written them after
    exact dedup: the sketches and ids of the documents exact dedup kept.

    The fingerprints are not copied: ``sketch.fps`` is a second name of ``pre.fps`` and
    ``sketch.fpo`` says where each kept document's fingerprints start in it
    (:func:`tamis.dedup.index.fingerprint_starts`); ids are cut from the id blob by byte spans.
    No Python loop per document."""
    root = Path(scratch)
    exact_dir, minhash_dir = root / "exact", root / "minhash"
    pre = minhash_dir / f"{PRE}-{task:05d}"
    if plain.plain(os.path.getsize(str(pre) + ".counts") // 4):  # a small task: no numpy import
        duplicates = exact_module._load_task_duplicates(exact_dir, task)
        plain.keep_exact_survivors(str(pre), task_stem(minhash_dir, task), exact_dir / f"ids-{task:05d}", list(duplicates), _write_scratch, _link_or_copy)
        return
    import numpy as np

    counts = np.fromfile(str(pre) + ".counts", dtype="<u4")
    n = len(counts)
    keep = np.ones(n, dtype=bool)
    duplicates = exact_module._load_task_duplicates(exact_dir, task)
    if duplicates:
        keep[np.fromiter(duplicates, dtype=np.int64, count=len(duplicates))] = False
    keys = np.fromfile(str(pre) + ".keys", dtype="<u8")
    bands = len(keys) // n if n else 0
    stem = task_stem(minhash_dir, task)
    _write_scratch(stem + ".keys", keys.reshape(n, bands)[keep].tobytes() if n else b"")
    _write_scratch(stem + ".counts", counts[keep].tobytes())
    starts = np.zeros(n, dtype="<i8")
    np.cumsum(counts[:-1], dtype=np.int64, out=starts[1:])
    _write_scratch(stem + ".fpo", starts[keep].tobytes())
    _link_or_copy(str(pre) + ".fps", stem + ".fps")
    # The kept ids: their bytes cut from the task's id blob, offsets renumbered.
    id_stem = exact_dir / f"ids-{task:05d}"
    blob = np.fromfile(id_stem.with_suffix(".ids"), dtype=np.uint8)
    offsets = np.fromfile(id_stem.with_suffix(".off"), dtype="<u8").astype(np.int64)
    if len(offsets) != n + 1:
        msg = f"{id_stem}: {len(offsets) - 1} ids for {n} sketches"
        raise ValueError(msg)
    lengths = np.diff(offsets)
    kept_offsets = np.zeros(int(keep.sum()) + 1, dtype="<u8")
    np.cumsum(lengths[keep], out=kept_offsets[1:])
    write_scratch_bytes(Path(stem + ".ids"), blob[np.repeat(keep, lengths)].tobytes())
    write_scratch_bytes(Path(stem + ".off"), kept_offsets.tobytes())
