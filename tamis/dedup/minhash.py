"""Near-duplicate removal with MinHash-LSH, verified on exact Jaccard, clustered at any scale.

Passes (each a step the executor runs over shards; files under ``OUT/dedup/<fingerprint>/``):

1. ``collect`` (per task): text -> NFC -> casefold -> ``\\w+`` words, each character of a script
   written without spaces a unit of its own (:mod:`tamis.dedup.shingles`) -> ``ngram``-shingles
   (or character n-grams with ``char_ngrams``) -> 64-bit shingle ids -> MinHash (``num_perm`` permutations) -> one
   64-bit key per band. Written per task: band keys, shingle fingerprints (the high 32 bits of
   each shingle id, for verification), document ids. All of it in C (tamis/_native/minhash.c);
   per core it is bounded by walking the code points and one multiply-add-min per shingle and
   permutation (AVX2 when the CPU has it).
2. ``bucket`` (one task per group of bands): sort each band's keys; link bucket members
   (see :mod:`tamis.dedup.lsh`).
3. ``verify`` (one task per partition of edges): exact Jaccard of the two documents'
   fingerprint sets; edges under ``threshold`` are dropped. Fingerprints are 32 bits, so two
   different shingles collide with probability 2^-32: Jaccard is exact up to ~1e-4 for
   documents of thousands of shingles.
4. ``cluster``: connected components of the verified edges (:mod:`tamis.dedup.cluster`), on one
   task, or sharded in large-star/small-star rounds when ``cluster_shards`` > 1 or the labels
   (4 bytes per document) would not fit ``memory_budget_mb``.
5. ``resolve`` (one task per partition of components): the keeper rule below; writes, for each
   input task, which of its documents are duplicates and which head a cluster.
6. ``apply`` (per task): reject ``minhash:duplicate`` (``duplicate_of`` = keeper id, ``detail``
   = the verified Jaccard), annotate keepers with ``cluster_id`` (own id) and ``cluster_size``.

Keeper rule (deterministic: the same kept set whatever the workers, tasks or executor). A
component's keeper is the member whose cluster would be the most coherent: a keeper's
cluster is a star (the keeper and the members near it), and each member is scored by the true
minus the false pairs its star would hold, over the verified edges (``k + 2t - k(k-1)/2`` for
``k`` verified neighbours of which ``t`` pairs are neighbours too: :func:`star_scores`). Ties
go to the earliest in input order (task index, then position); documents of an ``against``
index come before all others (they are kept already). A member is removed only if its own
verified Jaccard with the keeper is >= ``threshold``. Members that are not (chains: A~B, B~C,
A and C apart) are resolved again among themselves the same way, and so on. After
``MAX_PIVOT_ROUNDS`` the remaining members are kept (never removed on weaker evidence). With
``verify=false`` no Jaccard is computed: every candidate edge counts, and every component
member is removed in favour of the earliest (what the peers do).

Why scored keepers rather than the earliest document: in a chain the earliest member is often
the weakest centre, and its star leaves the others to sub-clusters that split true pairs; on
the accuracy bench the earliest-keeper rule gave cluster pairs P 0.967 / R 0.944, the scored
one P 0.962 / R 0.969 (and documents with a duplicate F1 0.984 -> 0.988).

Defaults: threshold 0.8 and word 5-grams follow the MinHash near-duplicate setups of
Lee et al., *Deduplicating Training Data Makes Language Models Better* (ACL 2022, §4.1) and
Penedo et al., *The FineWeb Datasets* (2024, §3.4); 128 permutations as datasketch/datatrove;
the banding is chosen for recall because candidates are verified (:mod:`tamis.dedup.lsh`).
"""

from __future__ import annotations

import bisect
import functools
import glob
import itertools
import math
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import xxhash

from tamis.cpus import process_cpu_share
from tamis.dedup import cluster as clustering
from tamis.dedup import plain
from tamis.dedup.base import Decisions, GlobalStage, PassTask
from tamis.dedup.index import FingerprintReader, Source, check_meta, index_stem, save_index, task_stem
from tamis.dedup.lsh import bucket_edges, choose_banding, native, permutations
from tamis.dedup.shingles import UNSPACED_CHARS, UNSPACED_DOCUMENT_SHARE
from tamis.document import Document
from tamis.errors import ConfigError
from tamis.io.atomic import write_scratch_bytes
from tamis.io.idstore import IdsByNumber, save_ids
from tamis.registry import register
from tamis.steps.base import TaskContext, param
from tamis.text import nfc

if TYPE_CHECKING:
    import numpy as np

BATCH_DOCS = 256
THREAD_BATCH_DOCS = 2048  # the batch signed in the helper thread (SketchSpill) ...
THREAD_BATCH_CHARS = 8 << 20  # ... or fewer documents holding this many characters: memory stays bounded
SKETCH_AHEAD = 2  # batches a first pass may have in its helper thread, not yet written
MAX_PIVOT_ROUNDS = 64
# Candidate pairs (rows of the cand files) a partition of the verify and resolve passes takes on
# (``partitions: 0``): more partitions run in parallel, each with its own resolve wedge budget.
PARTITION_EDGES = 1 << 22
VERIFY_CHUNK = 1 << 18  # pairs whose similarity is computed in one batch
PRELOAD_MB = 256  # fingerprint sets a verify/resolve task reads once and keeps
WEDGE_BUDGET = 2_000_000  # pairs of edges a resolve round may check for triangles (~100 MB)
# Candidate edges (rows of the cand files, repeats included) that one verify task takes on: the
# partitions of the verify round are grouped into tasks of about this many, each task loading
# the candidates once and reading each candidate's fingerprints once for all its partitions
# (every partition read all the candidate files and its own documents' fingerprints, mostly one
# pread each: 8 tasks on ~100k documents cost ~0.5 s more CPU than one). Each partition is still
# verified on its own, so the edges kept are the same however partitions are grouped.
VERIFY_TASK_EDGES = 1 << 22
VERIFY_BATCH = 1 << 14  # candidate edges verified in one call
DUPLICATE, HEAD = 0, 1
MAX_DOCS = 1 << 32  # documents are numbered with uint32 in edges and labels


def normalize_for_shingles(text: str) -> str:
    """NFC then casefold: the normalisation both the stage and the accuracy bench's truth use.
    Pure ASCII text is already NFC and the C tokeniser folds its letters itself (casefold of
    ASCII is lower-casing), so it is passed as is: a tenth of the stage's CPU time on English."""
    if text.isascii():
        return text
    return nfc(text).casefold()


@functools.cache
def unspaced_bitmap() -> bytes:
    """One bit per code point, set for the characters :mod:`tamis.dedup.shingles` makes units of
    their own (its ``UNSPACED_CHARS``, a regex class body of single characters and ranges).
    Bit ``c % 8`` of byte ``c // 8`` (numpy's ``packbits(..., bitorder="little")``)."""
    bits = bytearray(0x110000 // 8)
    chars, k = UNSPACED_CHARS, 0
    while k < len(chars):
        if k + 2 < len(chars) and chars[k + 1] == "-":
            _set_bits(bits, ord(chars[k]), ord(chars[k + 2]) + 1)
            k += 3
        else:
            _set_bits(bits, ord(chars[k]), ord(chars[k]) + 1)
            k += 1
    return bytes(bits)


def _set_bits(bits: bytearray, lo: int, hi: int) -> None:
    """Set bits [lo, hi): whole bytes at once, the ends bit by bit."""
    while lo < hi and lo % 8:
        bits[lo // 8] |= 1 << (lo % 8)
        lo += 1
    whole = (hi - lo) // 8
    if whole > 0:
        bits[lo // 8 : lo // 8 + whole] = b"\xff" * whole
        lo += whole * 8
    while lo < hi:
        bits[lo // 8] |= 1 << (lo % 8)
        lo += 1


# choose_banding evaluates the candidate probability of every split; the banding is read once
# per batch of 256 documents in the first pass.
_choose_banding = functools.lru_cache(maxsize=64)(choose_banding)


def sketch_units(char_ngrams: bool, *, nfc_given: bool = False) -> tuple[Callable[..., tuple[bytes, bytes, bytes]], int, Callable[[str], str]]:
    """The compiled (or reference) ``sketch``, its unit mode and what a text needs before it.

    Mode 1: characters; 2: words with each character of an unspaced script a unit, plus 8: a
    document written mostly in such a script has every word character a unit (the sketch
    counts and decides per document, :func:`tamis.dedup.shingles.spread_mostly_unspaced` is
    the definition); plus 4 when the sketch folds case itself (then texts need only NFC, or
    nothing when ``nfc_given``): the same units as :func:`normalize_for_shingles` then the
    sketch, without the copies."""
    module = native()
    mode = 1 if char_ngrams else 2 | 8
    if not char_ngrams:
        module.set_unspaced(unspaced_bitmap(), UNSPACED_DOCUMENT_SHARE)
    if _folds_in_c(module):
        return module.sketch, mode | 4, (_as_is if nfc_given else nfc)
    return module.sketch, mode, (_casefold if nfc_given else normalize_for_shingles)


def _folds_in_c(module: object) -> bool:
    try:
        a = (1).to_bytes(4, "little")  # one permutation: a = b = 1
        module.sketch(["\u00c9"], 1, 4, a, a, 1, 1)  # type: ignore[attr-defined]
    except NotImplementedError:  # CPython >= 3.13 hides its case-folding table
        return False
    return True


def _as_is(text: str) -> str:
    return text


def _casefold(text: str) -> str:
    return text if text.isascii() else text.casefold()


def sketch_in_thread() -> bool:
    """Whether the first pass signs its batches in a helper thread: where the process's CPU
    share is two or more (on one, the helper only adds switches; with N workers on N cores
    each worker's share is one, see :mod:`tamis.cpus`). ``TAMIS_SKETCH_THREAD=0``: in the
    calling thread (the reference the tests compare it with); ``=1``: in a helper always."""
    setting = os.environ.get("TAMIS_SKETCH_THREAD")
    if setting in ("0", "1"):
        return setting == "1"
    return process_cpu_share() >= 2


class SketchSpill:
    """Pass 1's sketches of one task, signed in batches and written to
    ``stem``.keys/.counts/.fps (``.partial`` until :meth:`commit`): the one writer the minhash
    stage and the fused dedup stage share.

    A batch is signed in a helper thread (the compiled ``sketch`` releases the GIL) while the
    calling thread reads, normalises and hashes the next ones, at most ``SKETCH_AHEAD``
    batches ahead; results are written in submission order, so the files are the same bytes
    as when signed in the calling thread. One worker then keeps a second core busy for the
    sketch's share of the first pass, as its gzip writer does for deflate."""

    SUFFIXES = (".keys", ".counts", ".fps")

    def __init__(self, stage: MinHashDedup, stem: str, *, nfc_given: bool = False) -> None:
        self.stage = stage
        self.stem = stem
        bands, rows = stage.banding
        self.a, self.b = permutations(stage.seed, bands * rows)
        self.sketch, self.prepare = stage._sketcher(nfc_given=nfc_given)
        self.batch: list[str] = []
        self.languages: list[str] = []
        self.outputs = {suffix: open(stem + suffix + ".partial", "wb") for suffix in self.SUFFIXES}  # noqa: SIM115 - closed by close()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tamis-sketch") if sketch_in_thread() else None
        # The helper takes the GIL back to start and to end a batch, waiting up to the switch
        # interval (5 ms) each time while the calling thread runs: larger batches, fewer waits.
        # Documents are signed one by one, so the files do not depend on where batches end.
        self.batch_docs = THREAD_BATCH_DOCS if self._pool is not None else BATCH_DOCS
        self.batch_chars = 0  # characters in self.batch (a threaded batch ends at THREAD_BATCH_CHARS too)
        self._pending: deque[Future[tuple[bytes, bytes, bytes]]] = deque()

    def add(self, prepared: str, doc: Document) -> None:
        """One document's text, already prepared (``""``: a document not signed)."""
        self.batch.append(prepared)
        self.batch_chars += len(prepared)
        if self.stage.per_language:
            self.languages.append(str(doc.metadata.get("language") or ""))
        if self._batch_full():
            self.flush()

    def add_many(self, prepared: list[str]) -> None:
        """Many documents' texts, already prepared, for a stage without ``per_language``."""
        assert not self.stage.per_language
        at = 0
        while at < len(prepared):
            chunk = prepared[at : at + self.batch_docs - len(self.batch)]
            if self._pool is not None:  # cut where the batch reaches its characters
                ends = list(itertools.accumulate(map(len, chunk), initial=self.batch_chars))[1:]
                chunk = chunk[: bisect.bisect_left(ends, THREAD_BATCH_CHARS) + 1]
                self.batch_chars = ends[len(chunk) - 1]
            self.batch.extend(chunk)
            at += len(chunk)
            if self._batch_full():
                self.flush()

    def _batch_full(self) -> bool:
        """The batch has its documents, or (signed in the helper) its characters."""
        return len(self.batch) >= self.batch_docs or (self._pool is not None and self.batch_chars >= THREAD_BATCH_CHARS)

    def flush(self) -> None:
        """Sign the batch gathered so far (handed over whole: never touched again here)."""
        if not self.batch:
            return
        batch, languages = self.batch, self.languages
        self.batch, self.languages, self.batch_chars = [], [], 0
        if self._pool is None:
            self._write(self.stage._sketch(self.sketch, batch, languages, self.a, self.b))
            return
        self._pending.append(self._pool.submit(self.stage._sketch, self.sketch, batch, languages, self.a, self.b))
        while len(self._pending) > SKETCH_AHEAD:
            self._write(self._pending.popleft().result())

    def finish(self) -> None:
        """Sign what is left and write every batch still in flight (after the last document)."""
        self.flush()
        while self._pending:
            self._write(self._pending.popleft().result())

    def _write(self, signed: tuple[bytes, bytes, bytes]) -> None:
        keys, counts, fps = signed
        self.outputs[".keys"].write(keys)
        self.outputs[".counts"].write(counts)
        self.outputs[".fps"].write(fps)

    def close(self) -> None:
        """Stop the helper (batches not yet written are dropped: :meth:`finish` writes them)
        and close the files."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pending.clear()
        for fh in self.outputs.values():
            fh.close()

    def commit(self) -> None:
        for suffix in self.SUFFIXES:
            os.replace(self.stem + suffix + ".partial", self.stem + suffix)


@register("minhash")
class MinHashDedup(GlobalStage):
    """Remove near-duplicate documents (MinHash-LSH, verified on exact Jaccard of shingles)."""

    threshold: float = param(0.8, "Jaccard similarity of shingle sets at or above which a document is a near duplicate")
    num_perm: int = param(128, "number of MinHash permutations (upper bound on bands x rows)")
    bands: int = param(0, "LSH bands; 0 = derived from threshold and num_perm (see tamis.dedup.lsh)")
    rows: int = param(0, "rows per band; 0 = derived from threshold and num_perm")
    ngram: int = param(5, "shingle length: words (or characters with char_ngrams)")
    char_ngrams: bool = param(False, "shingle characters instead of words (for languages written without spaces)")
    seed: int = param(1, "seed of the hash permutations")
    per_language: bool = param(False, "only documents of the same metadata['language'] can be duplicates (FineWeb-2 dedups each language on its own)")
    verify: bool = param(True, "check candidates by exact Jaccard of their shingles (drops false positives, resolves chains)")
    against: str | None = param(None, "saved index folder: also remove documents that duplicate an indexed document")
    save_index: str | None = param(None, "folder to save this run's index (kept documents) for later `against` runs")
    cluster_shards: int = param(0, "clustering: 0 = one task unless labels exceed memory_budget_mb; N > 1 = N-way sharded star rounds")
    partitions: int = param(0, "partitions of the candidate pairs and components: tasks of the verify/resolve passes (0 = one per 4M pairs, at most 16)")
    memory_budget_mb: int = param(1024, "memory one clustering task may use")

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            msg = f"minhash: threshold must be in (0, 1], got {self.threshold}"
            raise ConfigError(msg)
        if self.num_perm < 1 or not 1 <= self.ngram <= 64:
            msg = "minhash: num_perm must be >= 1 and ngram between 1 and 64"
            raise ConfigError(msg)
        if (self.bands > 0) != (self.rows > 0):
            msg = "minhash: give both bands and rows, or neither"
            raise ConfigError(msg)
        if self.bands and self.bands * self.rows > self.num_perm:
            msg = f"minhash: bands x rows ({self.bands} x {self.rows}) exceeds num_perm ({self.num_perm})"
            raise ConfigError(msg)
        if self.against is not None:
            self.against = os.path.abspath(self.against)
            check_meta(self.against, self.index_meta())
        if self.save_index is not None:
            self.save_index = os.path.abspath(self.save_index)
            if self.save_index == self.against:
                # The run reads the index until its last pass (ids of the documents it matched).
                msg = f"minhash: save_index must differ from against ({self.against}); save to a new folder and switch to it after the run"
                raise ConfigError(msg)

    # ------------------------------------------------------------------ parameters

    @property
    def banding(self) -> tuple[int, int]:
        return (self.bands, self.rows) if self.bands else _choose_banding(self.threshold, self.num_perm)

    def index_meta(self) -> dict:
        bands, rows = self.banding
        return {"num_perm": self.num_perm, "bands": bands, "rows": rows, "ngram": self.ngram, "char_ngrams": self.char_ngrams, "seed": self.seed,
                "units": "unspaced-documents", "per_language": self.per_language}

    # ------------------------------------------------------------------ pass 1: sketch

    def collect(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        assert ctx.scratch_dir is not None
        stem = task_stem(ctx.scratch_dir, ctx.task_index)
        ids: list[str] = []
        spill = SketchSpill(self, stem)
        try:
            for doc in docs:
                ids.append(doc.id)
                spill.add(spill.prepare(doc.text), doc)
                yield doc
            spill.finish()
        finally:
            spill.close()
        spill.commit()
        save_ids(Path(stem), ids)

    def _sketcher(self, *, nfc_given: bool = False) -> tuple[Callable[..., tuple[bytes, bytes, bytes]], Callable[[str], str]]:
        """``sketch`` for this stage's settings and what each text needs before it (see
        :func:`sketch_units`)."""
        sketch, mode, prepare = sketch_units(self.char_ngrams, nfc_given=nfc_given)
        return (lambda batch, ngram, _char, a, b, bands, rows: sketch(batch, ngram, mode, a, b, bands, rows)), prepare

    def _sketch(self, sketch, batch: list[str], languages: list[str], a: bytes, b: bytes) -> tuple[bytes, bytes, bytes]:
        bands, rows = self.banding
        keys, counts, fps = sketch(batch, self.ngram, int(self.char_ngrams), a, b, bands, rows)
        if self.per_language:
            import numpy as np

            # Band keys of different languages never meet in a bucket: each is mixed with its language.
            salts = np.array([xxhash.xxh64_intdigest(language.encode()) for language in languages], dtype=np.uint64)
            keys = (np.frombuffer(keys, dtype=np.uint64).reshape(len(batch), bands) ^ salts[:, None]).tobytes()
        return keys, counts, fps

    # ------------------------------------------------------------------ global passes

    def global_passes(self, scratch: Path, n_tasks: int) -> Iterator[list[PassTask]]:
        bands, _ = self.banding
        root = str(scratch)
        sources = self._sources(scratch, n_tasks)
        n_docs = sources[-1].start + sources[-1].size if sources else 0
        if n_docs >= MAX_DOCS:
            msg = f"minhash: {n_docs:,} documents (with the index); one run handles at most {MAX_DOCS - 1:,} (32-bit document numbers): split the input"
            raise ConfigError(msg)
        layout = {"sources": [[s.stem, s.start, s.size] for s in sources], "documents": n_docs, "bands": bands}
        write_scratch_bytes(scratch / "layout.json", orjson.dumps(layout))
        groups = min(bands, max(1, min(16, n_tasks)))  # any grouping of the bands finds the same candidates
        yield [PassTask(f"bucket-{g:04d}", functools.partial(_bucket_task, root, g, groups)) for g in range(groups)]
        # The partitions (which components a resolve round holds, under one wedge budget) are a
        # function of the documents only (their candidate pairs), never of the input tasks: the kept
        # set is the same however the input is cut into tasks (byte ranges, batches of small files).
        parts = self.partitions or _partitions_for(_candidate_rows(scratch))
        write_scratch_bytes(scratch / plain.DECISION_PARTITIONS, str(parts).encode())  # the apply tasks find their files by name
        yield [
            PassTask(f"verify-{first:04d}-{last - 1:04d}", functools.partial(_verify_task, root, first, last, parts, self.threshold, self.verify))
            for first, last in _verify_groups(scratch, parts)
        ]

        edge_files = [str(scratch / f"edges-{p:04d}.u32") for p in range(parts)]
        shards = self.cluster_shards
        if shards <= 1 and n_docs * 4 > self.memory_budget_mb << 20:
            shards = max(2, math.ceil(n_docs * 8 / (self.memory_budget_mb << 20)))
        if shards <= 1:
            yield [PassTask("cluster", functools.partial(_cluster_task, root, n_docs, edge_files))]
            membership = ("labels", 0, 1)
        else:
            round_index = 0
            max_rounds = 4 * (max(1, n_docs).bit_length() + 2) ** 2
            while True:
                yield [
                    PassTask(f"star{round_index:03d}-{p:04d}", functools.partial(clustering.star_round, root, round_index, p, shards, edge_files))
                    for p in range(shards)
                ]
                # Flags describe each round's input; a large-star round (even) whose input is a
                # star forest changed nothing: that input is the answer.
                if round_index % 2 == 0 and clustering.round_converged(root, round_index, shards):
                    break
                round_index += 1
                if round_index > max_rounds:
                    msg = f"minhash: sharded clustering did not converge in {max_rounds} rounds"
                    raise RuntimeError(msg)
            membership = ("stars", round_index, shards)
        yield [
            PassTask(
                f"resolve-{p:04d}",
                functools.partial(_resolve_task, root, p, parts, membership, edge_files, self.threshold, self.verify),
            )
            for p in range(parts)
        ]
        if self.save_index:
            yield [PassTask("save-index", functools.partial(_save_index_task, root, parts, self.save_index, self.index_meta()))]

    def _sources(self, scratch: Path, n_tasks: int) -> list[Source]:
        sources: list[Source] = []
        start = 0
        if self.against:
            size = check_meta(self.against, self.index_meta())
            sources.append(Source(index_stem(self.against), 0, size))
            start = size
        for t in range(n_tasks):
            stem = task_stem(scratch, t)
            size = os.path.getsize(stem + ".counts") // 4
            sources.append(Source(stem, start, size))
            start += size
        return sources

    # ------------------------------------------------------------------ apply

    def decides_by_position(self) -> bool:
        return True  # decisions come from the clusters; kept documents only gain metadata

    def decisions(self, ctx: TaskContext) -> Decisions:
        assert ctx.scratch_dir is not None
        sources = _load_sources(ctx.scratch_dir)
        names = IdsByNumber([(s.stem, s.start) for s in sources])
        reason = f"{self.step_id}:duplicate"
        decided = Decisions()
        try:
            # Each keeper's id read once, all of a file's at once (a cluster names its keeper many times).
            if _plain_run(ctx.scratch_dir):  # a small run: no numpy import
                listed = plain.decision_rows(ctx.scratch_dir, ctx.task_index)
                unique_keepers = sorted({row[2] for row in listed})
                at = {keeper: k for k, keeper in enumerate(unique_keepers)}
                which = [at[row[2]] for row in listed]
            else:
                import numpy as np

                rows = _decision_rows(ctx.scratch_dir, ctx.task_index)
                found, inverse = np.unique(rows[:, 2], return_inverse=True)
                listed, unique_keepers, which = rows.tolist(), found.tolist(), inverse.tolist()
            keeper_ids = names.get_many(unique_keepers)
        finally:
            names.close()
        indexed = sources[0].size if self.against else 0
        for (position, kind, keeper, value), k in zip(listed, which, strict=True):
            if kind == HEAD:  # the head of a cluster is its own keeper: cluster_id is its id
                decided.annotations[position] = {"cluster_id": keeper_ids[k], "cluster_size": value}
            else:
                where = "indexed document" if keeper < indexed else "document"
                decided.rejects[position] = (reason, f"jaccard={value / 1e6:.4f} with {where}", keeper_ids[k])
        return decided


# ---------------------------------------------------------------------- pass functions


def _load_sources(scratch: Path) -> list[Source]:
    layout = orjson.loads((scratch / "layout.json").read_bytes())
    return [Source(stem, start, size) for stem, start, size in layout["sources"]]


def _plain_run(scratch: Path) -> bool:
    """Whether the run's passes and decisions take :mod:`tamis.dedup.plain` (few documents)."""
    return plain.plain(orjson.loads((scratch / "layout.json").read_bytes())["documents"])


def _bucket_task(scratch: str, group: int, groups: int) -> None:
    """Edges of the bands ``group``, ``group + groups``, ... over all documents."""
    root = Path(scratch)
    layout = orjson.loads((root / "layout.json").read_bytes())
    bands = layout["bands"]
    sources = [Source(stem, start, size) for stem, start, size in layout["sources"]]
    if plain.plain(layout["documents"]):  # a small run: no numpy import
        plain.bucket(root, group, groups, bands, sources)
        return
    import numpy as np

    out = root / f"cand-{group:04d}.u32"
    with open(str(out) + ".partial", "wb") as fh:
        for band in range(group, bands, groups):
            keys_parts, doc_parts = [], []
            for source in sources:
                counts = np.fromfile(source.path(".counts"), dtype="<u4")
                keys = _read_band(source.path(".keys"), bands, band, len(counts))
                has_words = counts > 0
                keys_parts.append(keys[has_words])
                doc_parts.append((np.flatnonzero(has_words) + source.start).astype(np.uint32))
            if keys_parts:
                fh.write(bucket_edges(np.concatenate(keys_parts), np.concatenate(doc_parts)).astype("<u4").tobytes())
    os.replace(str(out) + ".partial", out)


def _read_band(path: Path, bands: int, band: int, n: int, chunk_rows: int = 1 << 16) -> np.ndarray:
    """One column of an n x bands uint64 file, read in chunks (bounded memory)."""
    import numpy as np
    out = np.empty(n, dtype=np.uint64)
    for start in range(0, n, chunk_rows):
        rows = min(chunk_rows, n - start)
        block = np.fromfile(path, dtype="<u8", count=rows * bands, offset=start * bands * 8).reshape(rows, bands)
        out[start : start + rows] = block[:, band]
    return out


def _candidate_rows(scratch: Path) -> int:
    """The candidate pairs the bucket round wrote, repeats included (the same for any grouping of bands)."""
    return sum(os.path.getsize(p) // 8 for p in glob.glob(str(scratch / "cand-*.u32")))


def _partitions_for(rows: int) -> int:
    return max(1, min(16, math.ceil(rows / PARTITION_EDGES)))


def _verify_groups(scratch: Path, partitions: int) -> list[tuple[int, int]]:
    """The verify round's tasks: consecutive partitions [first, last) holding about
    VERIFY_TASK_EDGES candidate rows each (read after the bucket round wrote them)."""
    rows = _candidate_rows(scratch)
    tasks = max(1, min(partitions, math.ceil(rows / VERIFY_TASK_EDGES)))
    cuts = [round(k * partitions / tasks) for k in range(tasks + 1)]
    return list(itertools.pairwise(cuts))


def _verify_task(scratch: str, first: int, last: int, partitions: int, threshold: float, verify: bool) -> None:
    """:func:`_verify_partition` for each partition in [first, last), the candidates loaded once
    and, where they fit PRELOAD_MB, the fingerprints of all their documents read once."""
    root = Path(scratch)
    if _plain_run(root):  # a small run: no numpy import
        plain.verify(root, first, last, partitions, threshold, verify, _load_sources(root), VERIFY_BATCH)
        return
    import numpy as np

    files = sorted(Path(p) for p in glob.glob(str(root / "cand-*.u32")))
    parts = [chunk[(chunk[:, 1] % partitions >= first) & (chunk[:, 1] % partitions < last)] for chunk in clustering.iter_edge_chunks(files)]
    edges = np.concatenate(parts) if parts else np.empty((0, 2), dtype=np.uint32)
    packed = (edges[:, 0].astype(np.uint64) << np.uint64(32)) | edges[:, 1].astype(np.uint64)
    # Each distinct candidate once, in key order (later, earlier): a partition's edges are the same
    # and in the same order however partitions are grouped into tasks.
    packed = np.unique(packed)
    edges = np.stack([(packed >> np.uint64(32)).astype(np.uint32), (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32)], axis=1)
    of_partition = edges[:, 1] % partitions
    shared: _PairScorer | None = None
    reader = FingerprintReader(_load_sources(root))
    try:
        if verify and last - first > 1 and len(edges):
            shared = _PairScorer(reader)
            shared.preload(edges.ravel())
            if not shared.loaded:
                shared.close()
                shared = None
        for partition in range(first, last):
            _verify_partition(root, partition, edges[of_partition == partition], verify, threshold, reader, shared)
    finally:
        if shared is not None:
            shared.close()
        reader.close()


def _verify_partition(
    root: Path, partition: int, edges: np.ndarray, verify: bool, threshold: float, reader: FingerprintReader, shared: _PairScorer | None
) -> None:
    """The candidate edges whose earlier document falls in ``partition``, kept if their exact
    Jaccard is >= threshold (all of them without ``verify``).

    Every candidate is verified, also one whose documents verified edges already join: the
    keeper rule scores each member by the verified pairs of its component, so a pair left
    unverified would change its choice. (They were once skipped, and which ones depended on the
    partitions, and so on the input's tasks: on the dedup bench 47,989 documents removed as one
    partition, 48,442 as four, 48,588 with every pair verified; the passes took 1.40 s and take
    1.42 s.)"""
    import numpy as np
    out = root / f"edges-{partition:04d}.u32"
    if not verify or len(edges) == 0:
        write_scratch_bytes(out, np.ascontiguousarray(edges, dtype="<u4").tobytes())
        write_scratch_bytes(out.with_suffix(".f64"), b"")
        return
    scorer = shared or _PairScorer(reader)
    if shared is None:
        scorer.preload(clustering.unique_sorted(edges.ravel()))
    kept, kept_sims = [], []
    try:
        for start in range(0, len(edges), VERIFY_BATCH):
            chunk = edges[start : start + VERIFY_BATCH]
            sims = scorer.score(chunk[:, 0], chunk[:, 1], threshold)
            ok = sims >= threshold
            kept.append(chunk[ok])
            kept_sims.append(sims[ok])
    finally:
        if shared is None:
            scorer.close()
    kept_edges = np.concatenate(kept) if kept else np.empty((0, 2), dtype=np.uint32)
    write_scratch_bytes(out, np.ascontiguousarray(kept_edges, dtype="<u4").tobytes())
    # The similarities go along, so that resolving reuses them instead of computing them again.
    write_scratch_bytes(out.with_suffix(".f64"), (np.concatenate(kept_sims) if kept_sims else np.empty(0)).astype("<f8").tobytes())


def _known_similarities(edge_files: list[str], docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Verified edges between documents of ``docs`` (sorted): packed keys (later << 32 | earlier),
    sorted, and their Jaccard."""
    import numpy as np
    keys, sims = [], []
    for name in edge_files:
        path = Path(name)
        sim_path = path.with_suffix(".f64")
        if not sim_path.exists() or sim_path.stat().st_size == 0:
            continue
        edges = np.fromfile(path, dtype="<u4").reshape(-1, 2)
        values = np.fromfile(sim_path, dtype="<f8")
        inside = _in_sorted(edges[:, 0], docs) & _in_sorted(edges[:, 1], docs)
        keys.append((edges[inside, 0].astype(np.uint64) << np.uint64(32)) | edges[inside, 1].astype(np.uint64))
        sims.append(values[inside])
    if not keys:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.float64)
    packed, values = np.concatenate(keys), np.concatenate(sims)
    order = np.argsort(packed)
    return packed[order], values[order]


def _in_sorted(values: np.ndarray, sorted_unique: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_unique)`` for a sorted array of distinct values, by binary
    search (isin sorted both sides again on every call: a third of the resolve round)."""
    import numpy as np
    if not len(sorted_unique):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_unique, values), len(sorted_unique) - 1)
    return sorted_unique[at] == values


def _similarities(scorer: _PairScorer, known: tuple[np.ndarray, np.ndarray], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaccard of (left, right) pairs (left later than right): from ``known`` where verified, else computed."""
    import numpy as np
    known_keys, known_sims = known
    sims = np.full(len(left), np.nan)
    if len(known_keys):
        packed = (left.astype(np.uint64) << np.uint64(32)) | right.astype(np.uint64)
        at = np.minimum(np.searchsorted(known_keys, packed), len(known_keys) - 1)
        hit = known_keys[at] == packed
        sims[hit] = known_sims[at[hit]]
    todo = np.flatnonzero(np.isnan(sims))
    for start in range(0, len(todo), VERIFY_CHUNK):
        rows = todo[start : start + VERIFY_CHUNK]
        sims[rows] = scorer.score(left[rows], right[rows])
    return sims


_spare_buffer: list[bytearray] = []  # one preload buffer kept between the verify tasks of a process


def _take_buffer(size: int) -> bytearray:
    """A buffer of at least ``size`` bytes: the one the previous verify task of this process
    handed back if large enough (the tasks of a round run one after the other in a worker;
    touching a fresh 80 MB buffer's pages cost more than reading the fingerprints into it),
    else a new one. At most PRELOAD_MB is kept; the next round's tasks drop it."""
    while _spare_buffer:
        buffer = _spare_buffer.pop()
        if len(buffer) >= size:
            return buffer
    # A quarter more, for the next task's slightly larger set (pages never written are never faulted in).
    return bytearray(max(size, min(size + size // 4, PRELOAD_MB << 20)))


def _give_back_buffer(buffer: bytearray) -> None:
    _spare_buffer.clear()
    if len(buffer) <= PRELOAD_MB << 20:
        _spare_buffer.append(buffer)


class _PairScorer:
    """Jaccard of document pairs from their stored fingerprint sets.

    ``preload`` reads the sets of the given documents once (one ``pread`` each) when they fit
    ``PRELOAD_MB``; pairs among them are then scored without reading again. Other pairs read
    what they need per call."""

    def __init__(self, reader: FingerprintReader) -> None:
        import numpy as np
        self._reader = reader
        self._docs = np.empty(0, dtype=np.int64)
        self._fps: bytes | bytearray = b""
        self._offsets = np.zeros(1, dtype="<i8")
        self._sets = False  # whether every preloaded document's fingerprints are a set (checked once)
        self._buffer: bytearray | None = None  # what _fps is read into, handed back by close()

    def close(self) -> None:
        """Hand the preload buffer back for the next task of this process."""
        self._fps = b""
        if self._buffer is not None:
            _give_back_buffer(self._buffer)
            self._buffer = None

    def preload(self, docs: np.ndarray) -> None:
        import numpy as np
        docs = clustering.unique_sorted(docs)
        size = int(self._reader.sizes(docs).sum()) * 4
        if size <= PRELOAD_MB << 20:
            self._buffer = _take_buffer(size)
            self._fps, offsets = self._reader.gather(docs, self._buffer)
            self._offsets = offsets.astype("<i8")
            self._docs = docs.astype(np.int64)
            self._sets = _are_sets(np.frombuffer(self._fps, dtype="<u4"), self._offsets)

    @property
    def loaded(self) -> bool:
        """Whether :meth:`preload` kept the sets (they fit PRELOAD_MB)."""
        return len(self._docs) > 0

    def score(self, left: np.ndarray, right: np.ndarray, threshold: float = 0.0) -> np.ndarray:
        """Jaccard per pair. Below ``threshold`` the value may be an upper bound instead
        (J <= smaller / larger set size: such pairs are not even read)."""
        import numpy as np
        sims = np.zeros(len(left))
        if len(left) == 0:
            return sims
        a, b = self._reader.sizes(left), self._reader.sizes(right)
        small, large = np.minimum(a, b), np.maximum(a, b)
        sims[:] = np.where(large > 0, small / np.maximum(large, 1), 0.0)
        todo = np.flatnonzero(sims >= threshold) if threshold > 0 else np.arange(len(left))
        if len(todo) == 0:
            return sims
        left, right = left[todo].astype(np.int64), right[todo].astype(np.int64)
        li, ri = np.searchsorted(self._docs, left), np.searchsorted(self._docs, right)
        loaded = len(self._docs) > 0 and bool(np.all(self._docs[np.minimum(li, len(self._docs) - 1)] == left)) and bool(
            np.all(self._docs[np.minimum(ri, len(self._docs) - 1)] == right)
        )
        sets = False
        if loaded:
            fps, offsets, sets = self._fps, self._offsets, self._sets
        else:
            docs, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
            fps, offsets = self._reader.gather(docs)
            offsets = offsets.astype("<i8")
            li, ri = inverse[: len(left)], inverse[len(left) :]
        computed = native().jaccard_pairs(fps, offsets.tobytes(), li.astype("<i8").tobytes(), ri.astype("<i8").tobytes(), threshold, sets)
        sims[todo] = np.frombuffer(computed, dtype="<f8")
        return sims


def _are_sets(fps: np.ndarray, offsets: np.ndarray) -> bool:
    """Whether each document's fingerprints (``fps[offsets[k]:offsets[k+1]]``) are strictly
    increasing, as the collect stores them: then ``jaccard_pairs`` need not check the whole
    buffer again on every batch it scores."""
    import numpy as np
    if len(fps) < 2:
        return True
    rising = fps[1:] > fps[:-1]
    inner = offsets[1:-1].astype(np.int64) - 1  # the pairs that straddle two documents
    rising[inner[(inner >= 0) & (inner < len(rising))]] = True
    return bool(rising.all())


def _cluster_task(scratch: str, n_docs: int, edge_files: list[str]) -> None:
    _spare_buffer.clear()  # the verify round is over: its preload buffer is not needed again
    if plain.plain(n_docs):  # a small run: no numpy import
        write_scratch_bytes(Path(scratch) / "labels.u32", plain.components(n_docs, edge_files))
        return
    labels = clustering.components(n_docs, [Path(p) for p in edge_files])
    write_scratch_bytes(Path(scratch) / "labels.u32", labels.astype("<u4").tobytes())


def _members(scratch: str, partition: int, partitions: int, membership: tuple, edge_files: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(member, root) of every non-singleton component whose root falls in ``partition``."""
    import numpy as np
    kind, round_index, shards = membership
    if kind == "labels":
        labels = np.fromfile(Path(scratch) / "labels.u32", dtype="<u4")
        members = np.flatnonzero(labels != np.arange(len(labels), dtype=np.uint32)).astype(np.uint32)
        roots = labels[members]
        sel = roots % partitions == partition
        return members[sel], roots[sel]
    return clustering.star_members(scratch, round_index, shards, partition, partitions, edge_files)


def _resolve_task(scratch: str, partition: int, partitions: int, membership: tuple, edge_files: list[str], threshold: float, verify: bool) -> None:
    """Apply the keeper rule to the components of ``partition`` and write per-task decisions."""
    _spare_buffer.clear()  # (sharded clustering has no _cluster_task to drop it)
    root = Path(scratch)
    if membership[0] == "labels" and _plain_run(root):  # a small run: no numpy import
        sources = _load_sources(root)
        rows = plain.resolve(root, partition, partitions, edge_files, threshold, verify, sources, MAX_PIVOT_ROUNDS, WEDGE_BUDGET)
        plain.write_decisions(root, partition, sources, rows)
        return
    import numpy as np

    members, roots = _members(scratch, partition, partitions, membership, edge_files)
    sources = _load_sources(root)
    # Every component: its root plus its members, as (group, doc) with the group = the root.
    unique_roots = clustering.unique_sorted(roots)
    group = np.concatenate([roots, unique_roots]).astype(np.int64)
    doc = np.concatenate([members, unique_roots]).astype(np.int64)
    dup_doc, dup_keeper, dup_sim = [], [], []
    head_doc, head_size = [], []
    known = _known_similarities(edge_files, clustering.unique_sorted(doc)) if verify else None
    reader = FingerprintReader(sources)
    scorer = _PairScorer(reader)  # most similarities are known from verification: no preload
    try:
        n_indexed = sources[0].size if sources and Path(sources[0].stem).name == "index" else 0
        for _ in range(MAX_PIVOT_ROUNDS):
            if len(doc) == 0:
                break
            score = star_scores(doc, group, known[0]) if verify else np.zeros(len(doc), dtype=np.int64)
            # The pivot of each group: an indexed document if it has one (those are kept
            # already), else the best star centre, ties to the earliest in input order.
            order = np.lexsort((doc, -score, doc >= n_indexed, group))
            group, doc = group[order], doc[order]
            first = np.r_[True, group[1:] != group[:-1]]
            group_index = np.cumsum(first) - 1
            pivot_of = doc[first][group_index]
            rest = ~first
            if verify:
                members, pivots = doc[rest], pivot_of[rest]
                sims = _similarities(scorer, known, np.maximum(members, pivots), np.minimum(members, pivots))
            else:
                sims = np.ones(int(rest.sum()))
            removed = sims >= threshold
            dup_doc.append(doc[rest][removed])
            dup_keeper.append(pivot_of[rest][removed])
            dup_sim.append(sims[removed])
            # A pivot heads a cluster of itself plus the members it removed.
            sizes = np.bincount(group_index[rest][removed], minlength=int(first.sum())) + 1
            head_doc.append(doc[first][sizes > 1])
            head_size.append(sizes[sizes > 1])
            # Members that did not match their pivot form a new sub-cluster among themselves;
            # its group key is unchanged, its next pivot is the earliest of them.
            left_over = np.flatnonzero(rest)[~removed]
            doc, group = doc[left_over], group[left_over]
            if len(doc) == 0:
                break
            singles = np.r_[True, group[1:] != group[:-1]] & np.r_[group[:-1] != group[1:], True]
            doc, group = doc[~singles], group[~singles]
    finally:
        reader.close()
    _write_decisions(root, partition, sources, dup_doc, dup_keeper, dup_sim, head_doc, head_size)


def star_scores(doc: np.ndarray, group: np.ndarray, known_keys: np.ndarray, wedge_budget: int = WEDGE_BUDGET) -> np.ndarray:
    """How good each document is as the keeper of its group, judged on the verified edges.

    A keeper's cluster is a star: the keeper and the members near it. Its pairs are the true
    ones (members near each other, or near the keeper) and the false ones (members of the
    star that are not near each other). The score is true minus false pairs:
    ``k + 2t - k(k-1)/2`` for a document with ``k`` verified neighbours in its group, ``t`` of
    whose pairs are verified neighbours too (triangles through it). Triangles are counted
    with the usual orientation (each edge from the lower-ranked end), all in numpy; a round
    whose wedges exceed ``wedge_budget`` is scored by degree alone (memory stays bounded).
    """
    import numpy as np
    n = len(doc)
    scores = np.zeros(n, dtype=np.int64)
    if len(known_keys) == 0 or n == 0:
        return scores
    by_doc = np.argsort(doc, kind="stable")
    sorted_docs = doc[by_doc]
    later = (known_keys >> np.uint64(32)).astype(np.int64)
    earlier = (known_keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
    at_l = np.minimum(np.searchsorted(sorted_docs, later), n - 1)
    at_e = np.minimum(np.searchsorted(sorted_docs, earlier), n - 1)
    inside = (sorted_docs[at_l] == later) & (sorted_docs[at_e] == earlier)
    u, v = by_doc[at_l[inside]], by_doc[at_e[inside]]
    same = group[u] == group[v]
    u, v = u[same], v[same]
    degree = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    # Orient every edge from its lower-ranked end (degree, then position): each triangle is
    # then found once, as two out-edges of its lowest vertex closed by the third edge.
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), degree))] = np.arange(n)
    low = np.where(rank[u] < rank[v], u, v)
    high = np.where(rank[u] < rank[v], v, u)
    order = np.argsort(low, kind="stable")
    low, high = low[order], high[order]
    out = np.bincount(low, minlength=n)
    per_edge = out[low] - 1 - (np.arange(len(low)) - (np.cumsum(out) - out)[low])  # later out-edges of the same vertex
    wedges = int(per_edge.sum())
    triangles = np.zeros(n, dtype=np.int64)
    if 0 < wedges <= wedge_budget:
        first = np.repeat(np.arange(len(low)), per_edge)
        second = first + 1 + (np.arange(wedges) - np.repeat(np.cumsum(per_edge) - per_edge, per_edge))
        p, q = high[first], high[second]
        closing = np.minimum(p, q) * n + np.maximum(p, q)
        edge_keys = np.sort(np.minimum(u, v) * n + np.maximum(u, v))
        at = np.minimum(np.searchsorted(edge_keys, closing), len(edge_keys) - 1)
        closed = edge_keys[at] == closing
        for ends in (low[first][closed], p[closed], q[closed]):
            triangles += np.bincount(ends, minlength=n)
    elif wedges > wedge_budget:
        return degree
    return degree + 2 * triangles - degree * (degree - 1) // 2


def _cat(parts: list[np.ndarray], dtype: str) -> np.ndarray:
    import numpy as np
    return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype=dtype)


def _write_decisions(
    root: Path,
    partition: int,
    sources: list[Source],
    dup_doc: list[np.ndarray],
    dup_keeper: list[np.ndarray],
    dup_sim: list[np.ndarray],
    head_doc: list[np.ndarray],
    head_size: list[np.ndarray],
) -> None:
    """Rows (position in task, kind, keeper global index, value) per input task; value is the
    Jaccard x 1e6 for a duplicate and the cluster size for a head."""
    import numpy as np
    dups = _cat(dup_doc, "i8")
    heads = _cat(head_doc, "i8")
    similarity = np.round(_cat(dup_sim, "f8") * 1e6).astype("i8")
    rows = np.concatenate(
        [
            np.stack([dups, np.full(len(dups), DUPLICATE), _cat(dup_keeper, "i8"), similarity], axis=1),
            np.stack([heads, np.full(len(heads), HEAD), heads, _cat(head_size, "i8")], axis=1),
        ]
    ).astype("<i8")
    starts = np.asarray([s.start for s in sources], dtype=np.int64)
    which = np.searchsorted(starts, rows[:, 0], side="right") - 1
    first_task = 1 if len(sources) and Path(sources[0].stem).name == "index" else 0
    for k in range(first_task, len(sources)):
        sel = rows[which == k]
        if len(sel) == 0:
            continue
        sel = sel.copy()
        sel[:, 0] -= sources[k].start
        write_scratch_bytes(root / f"decisions-{partition:04d}-{k - first_task:05d}.i64", sel.tobytes())


def _decision_rows(scratch: Path, task: int) -> np.ndarray:
    """:func:`_load_decisions` as an n x 4 int64 array (position, kind, keeper, value), sorted
    by position; a position written twice keeps its last row, as the dict does."""
    import numpy as np
    parts = [np.fromfile(path, dtype="<i8").reshape(-1, 4) for path in plain.decision_files(scratch, task)]
    rows = np.concatenate(parts) if parts else np.empty((0, 4), dtype=np.int64)
    if not len(rows):
        return rows.astype(np.int64)
    # The last row of each position: unique over the reversed rows keeps first occurrences.
    _, last = np.unique(rows[::-1, 0], return_index=True)
    return rows[len(rows) - 1 - last].astype(np.int64)


def _load_decisions(scratch: Path, task: int) -> dict[int, tuple[int, int, int]]:
    import numpy as np
    decisions: dict[int, tuple[int, int, int]] = {}
    for path in plain.decision_files(scratch, task):
        for position, kind, keeper, value in np.fromfile(path, dtype="<i8").reshape(-1, 4).tolist():
            decisions[position] = (kind, keeper, value)
    return decisions


def _save_index_task(scratch: str, partitions: int, folder: str, meta: dict) -> None:
    import numpy as np
    root = Path(scratch)
    layout = orjson.loads((root / "layout.json").read_bytes())
    sources = _load_sources(root)
    keep = np.ones(layout["documents"], dtype=bool)
    for source in sources:
        counts = np.fromfile(source.path(".counts"), dtype="<u4")
        keep[source.start : source.start + source.size] &= counts > 0
    first_task = 1 if sources and Path(sources[0].stem).name == "index" else 0
    for path in glob.glob(str(root / "decisions-*.i64")):
        task = int(Path(path).stem.rsplit("-", 1)[1])
        rows = np.fromfile(path, dtype="<i8").reshape(-1, 4)
        dups = rows[rows[:, 1] == DUPLICATE, 0] + sources[task + first_task].start
        keep[dups] = False
    save_index(folder, meta, sources, keep, layout["bands"])


__all__ = ["MinHashDedup", "normalize_for_shingles"]
