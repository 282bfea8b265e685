"""Plain-Python twins of the dedup stages' array passes, for small runs: no numpy import.

The exact and MinHash stages' global passes and their decisions are written with numpy, which
pays on large inputs. On a run whose dedup sees a few thousand documents (the default recipe on
a small or medium input: most documents are filtered before dedup), numpy's first import
(~0.1-0.15 CPU-s, with OpenBLAS's set-up) cost more than all the passes together. While the
documents a pass handles are at most ``PLAIN_DOCS``, the pass runs these functions instead: the
same decisions by the same rules, computed with lists, dicts and ``array``, the compiled
union-find and Jaccard of ``tamis._native._minhash`` called on ``array`` buffers, and the same
bytes written to the same files (so a resumed run may take either path for any pass).
``tests/test_dedup_plain.py`` runs the stages both ways (``TAMIS_DEDUP_PLAIN=1`` / ``=0``) on
random inputs with near-duplicate families, several tasks and partitions, and compares every
scratch file and output.

Each function names its numpy twin; the comments there say why the pass does what it does.
"""

from __future__ import annotations

import bisect
import glob
import os
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tamis.io.atomic import write_bytes_atomic, write_scratch_bytes

if TYPE_CHECKING:
    from tamis.dedup.index import Source

# Documents (or exact units) a pass may handle in plain Python. Measured: the plain passes on
# 4,096 documents with duplicate families cost about what numpy's import costs (see the
# module); above, numpy's vectorised passes win.
PLAIN_DOCS = 4096
LOW32 = 0xFFFFFFFF


def plain(n_docs: int) -> bool:
    """Whether a pass over ``n_docs`` documents runs here rather than with numpy.
    ``TAMIS_DEDUP_PLAIN=0``: never, ``=1``: always (the tests compare the two). The files are
    little-endian and ``array`` uses the machine's order: big-endian machines take numpy."""
    if sys.byteorder != "little":
        return False
    setting = os.environ.get("TAMIS_DEDUP_PLAIN")
    if setting in ("0", "1"):
        return setting == "1"
    return n_docs <= PLAIN_DOCS


def read_array(path: str | Path, typecode: str) -> array:
    """A whole file of little-endian numbers (``np.fromfile``)."""
    out = array(typecode)
    out.frombytes(Path(path).read_bytes())
    return out


def _native():
    from tamis.dedup.lsh import native

    return native()


# ---------------------------------------------------------------------- exact dedup


def resolve_exact(root: Path, partition: int, n_tasks: int) -> None:
    """``exact._resolve_partition`` for a run of one partition: the first occurrence of each key
    in (task, ordinal) order keeps it; every later one is written as (ordinal, keeper task,
    keeper ordinal) to its task's ``dups-`` file, in the order numpy's stable sort by key leaves
    them (by the key's two little-endian words, then input order)."""
    first: dict[bytes, tuple[int, int]] = {}
    duplicates: list[tuple[int, int, int, int, int, int]] = []  # key words, task, ordinal, keeper task, keeper ordinal
    get = first.get
    for task in range(n_tasks):
        data = (root / f"keys-{task:05d}.bin").read_bytes()
        for ordinal in range(len(data) // 16):
            key = data[16 * ordinal : 16 * ordinal + 16]
            keeper = get(key)
            if keeper is None:
                first[key] = (task, ordinal)
                continue
            words = array("Q", key)
            duplicates.append((words[0], words[1], task, ordinal, keeper[0], keeper[1]))
    duplicates.sort()
    rows: dict[int, array] = {}
    for _, _, task, ordinal, keeper_task, keeper_ordinal in duplicates:
        rows.setdefault(task, array("Q")).extend((ordinal, keeper_task, keeper_ordinal))
    for task in sorted(rows):
        write_bytes_atomic(root / f"dups-{partition:04d}-{task:05d}.bin", rows[task].tobytes())


# ---------------------------------------------------------------------- fused: exact survivors


def keep_exact_survivors(
    pre: str, stem: str, id_stem: Path, duplicates: Sequence[int], write: Callable[[str, bytes], None], link: Callable[[str, str], None]
) -> None:
    """``fused._keep_exact_survivors``: the sketches, fingerprint starts and ids of the documents
    exact dedup kept (``duplicates``: the positions it removed); ``write``/``link`` are that
    function's file writers."""
    counts = read_array(pre + ".counts", "I")
    n = len(counts)
    keep = [True] * n
    for position in duplicates:
        keep[position] = False
    keys = Path(pre + ".keys").read_bytes()
    row = len(keys) // n if n else 0
    write(stem + ".keys", b"".join(keys[k * row : (k + 1) * row] for k in range(n) if keep[k]) if n else b"")
    write(stem + ".counts", array("I", (c for c, kept in zip(counts, keep, strict=True) if kept)).tobytes())
    starts, at = array("q"), 0
    for c, kept in zip(counts, keep, strict=True):
        if kept:
            starts.append(at)
        at += c
    write(stem + ".fpo", starts.tobytes())
    link(pre + ".fps", stem + ".fps")
    blob = id_stem.with_suffix(".ids").read_bytes()
    offsets = read_array(id_stem.with_suffix(".off"), "Q")
    if len(offsets) != n + 1:
        msg = f"{id_stem}: {len(offsets) - 1} ids for {n} sketches"
        raise ValueError(msg)
    kept_ids = [blob[offsets[k] : offsets[k + 1]] for k in range(n) if keep[k]]
    ends, end = array("Q", [0]), 0
    for raw in kept_ids:
        end += len(raw)
        ends.append(end)
    write_scratch_bytes(Path(stem + ".ids"), b"".join(kept_ids))
    write_scratch_bytes(Path(stem + ".off"), ends.tobytes())


# ---------------------------------------------------------------------- minhash: bucket


def bucket_edges(keys: Sequence[int], docs: Sequence[int]) -> bytes:
    """``lsh.bucket_edges`` as uint32 bytes: the chain edges (each member to its predecessor in
    the bucket), then the star edges (to the bucket's first) that differ from them."""
    m = len(keys)
    if m < 2:
        return b""
    order = sorted(range(m), key=keys.__getitem__)  # stable: input order inside a bucket
    chain: list[int] = []
    star: list[int] = []
    first, previous_key, previous_doc, first_doc = 0, keys[order[0]], docs[order[0]], docs[order[0]]
    for k in range(1, m):
        key, doc = keys[order[k]], docs[order[k]]
        if key != previous_key:
            first, first_doc = k, doc
        else:
            chain += (doc, previous_doc)
            if first != k - 1:
                star += (doc, first_doc)
        previous_key, previous_doc = key, doc
    return array("I", chain + star).tobytes()


def bucket(root: Path, group: int, groups: int, bands: int, sources: list[Source]) -> None:
    """``minhash._bucket_task``: the candidate edges of bands ``group``, ``group + groups``, ...
    over the documents that have shingles."""
    loaded = [(s.start, read_array(s.path(".counts"), "I"), read_array(s.path(".keys"), "Q")) for s in sources]
    out = root / f"cand-{group:04d}.u32"
    with open(str(out) + ".partial", "wb") as fh:
        for band in range(group, bands, groups):
            if not loaded:
                continue
            keys: list[int] = []
            docs: list[int] = []
            for start, counts, band_keys in loaded:
                for i, count in enumerate(counts):
                    if count > 0:
                        keys.append(band_keys[i * bands + band])
                        docs.append(start + i)
            fh.write(bucket_edges(keys, docs))
    os.replace(str(out) + ".partial", out)


# ---------------------------------------------------------------------- minhash: Jaccard


class Fingerprints:
    """Every document's fingerprint set, read whole (a small run's are a few megabytes), laid
    end to end in global document order for ``jaccard_pairs`` (``FingerprintReader`` with
    ``_PairScorer``, without the preload bookkeeping: the similarities are the same)."""

    def __init__(self, sources: list[Source]) -> None:
        parts: list[bytes] = []
        self.sizes = array("q")
        offsets, at = array("q", [0]), 0
        for source in sources:
            counts = read_array(source.path(".counts"), "I")
            fps = Path(source.path(".fps")).read_bytes()
            fpo = source.path(".fpo")
            if fpo.exists():
                starts = read_array(fpo, "q")
                if len(starts) != len(counts):
                    msg = f"{fpo}: {len(starts)} positions for {len(counts)} documents"
                    raise ValueError(msg)
            else:
                starts, start = array("q"), 0
                for count in counts:
                    starts.append(start)
                    start += count
            for first, count in zip(starts, counts, strict=True):
                part = fps[first * 4 : (first + count) * 4]
                if len(part) != count * 4:
                    msg = f"{source.path('.fps')}: {count} fingerprints at {first} past its end (file cut short?)"
                    raise OSError(msg)
                parts.append(part)
                at += count
                offsets.append(at)
                self.sizes.append(count)
        self.fps = b"".join(parts)
        self.offsets = offsets.tobytes()

    def jaccard(self, left: list[int], right: list[int], threshold: float) -> list[float]:
        if not left:
            return []
        computed = _native().jaccard_pairs(self.fps, self.offsets, array("q", left).tobytes(), array("q", right).tobytes(), threshold, False)
        return list(array("d", computed))

    def score(self, left: list[int], right: list[int], threshold: float = 0.0) -> list[float]:
        """``_PairScorer.score``: Jaccard per pair; below ``threshold`` possibly the upper bound
        smaller / larger set size instead (such pairs are not read)."""
        sizes = self.sizes
        sims: list[float] = []
        todo: list[int] = []
        for k, (a, b) in enumerate(zip(left, right, strict=True)):
            small, large = (sizes[a], sizes[b]) if sizes[a] <= sizes[b] else (sizes[b], sizes[a])
            sim = small / max(large, 1) if large > 0 else 0.0
            sims.append(sim)
            if threshold <= 0 or sim >= threshold:
                todo.append(k)
        computed = self.jaccard([left[k] for k in todo], [right[k] for k in todo], threshold)
        for k, sim in zip(todo, computed, strict=True):
            sims[k] = sim
        return sims


# ---------------------------------------------------------------------- minhash: verify


def verify(root: Path, first: int, last: int, partitions: int, threshold: float, check: bool, sources: list[Source], batch: int) -> None:
    """``minhash._verify_task``: the candidates of partitions [first, last) (by the earlier
    document), each distinct once, in key order (later, earlier), and verified per partition."""
    distinct: set[int] = set()
    for path in sorted(Path(p) for p in glob.glob(str(root / "cand-*.u32"))):
        pairs = read_array(path, "I")
        for k in range(0, len(pairs), 2):
            if first <= pairs[k + 1] % partitions < last:
                distinct.add((pairs[k] << 32) | pairs[k + 1])
    packed = sorted(distinct)
    fingerprints = Fingerprints(sources) if check and packed else None
    for partition in range(first, last):
        edges = [(key >> 32, key & LOW32) for key in packed if (key & LOW32) % partitions == partition]
        _verify_partition(root, partition, edges, check, threshold, fingerprints, batch)


def _verify_partition(
    root: Path, partition: int, edges: list[tuple[int, int]], check: bool, threshold: float, fingerprints: Fingerprints | None, batch: int
) -> None:
    """``minhash._verify_partition``: every edge kept if its Jaccard is >= threshold."""
    out = root / f"edges-{partition:04d}.u32"
    if not check or not edges:
        write_scratch_bytes(out, array("I", [end for edge in edges for end in edge]).tobytes())
        write_scratch_bytes(out.with_suffix(".f64"), b"")
        return
    assert fingerprints is not None
    kept: list[int] = []
    kept_sims = array("d")
    for start in range(0, len(edges), batch):
        chunk = edges[start : start + batch]
        sims = fingerprints.score([u for u, _ in chunk], [v for _, v in chunk], threshold)
        for edge, sim in zip(chunk, sims, strict=True):
            if sim >= threshold:
                kept += edge
                kept_sims.append(sim)
    write_scratch_bytes(out, array("I", kept).tobytes())
    write_scratch_bytes(out.with_suffix(".f64"), kept_sims.tobytes())


# ---------------------------------------------------------------------- minhash: cluster


def components(n_docs: int, edge_files: list[str]) -> bytes:
    """``cluster.components`` as uint32 bytes: every document's label, the smallest document
    of its component."""
    uf = _native()
    parent = array("I", range(n_docs))
    for name in edge_files:
        edges = Path(name).read_bytes()
        if edges:
            uf.union_edges(parent, edges)
    uf.flatten(parent)
    return parent.tobytes()


# ---------------------------------------------------------------------- minhash: resolve


def known_similarities(edge_files: list[str], docs: set[int]) -> dict[int, float]:
    """``minhash._known_similarities``: the verified edges between ``docs``, by packed key
    (later << 32 | earlier), with their Jaccard (iterated in key order where it matters)."""
    known: dict[int, float] = {}
    for name in edge_files:
        path = Path(name)
        sim_path = path.with_suffix(".f64")
        if not sim_path.exists() or sim_path.stat().st_size == 0:
            continue
        edges = read_array(path, "I")
        sims = read_array(sim_path, "d")
        for k, sim in enumerate(sims):
            later, earlier = edges[2 * k], edges[2 * k + 1]
            if later in docs and earlier in docs:
                known[(later << 32) | earlier] = sim
    return known


def star_scores(doc: list[int], group: list[int], known_keys: list[int], wedge_budget: int) -> list[int]:
    """``minhash.star_scores``: ``k + 2t - k(k-1)/2`` per document (``k`` verified neighbours in
    its group, ``t`` triangles through it), degree alone when the round's wedges (pairs of
    out-edges, each edge oriented from its lower-ranked end) exceed ``wedge_budget``.
    ``known_keys``: sorted packed keys; ``doc``: distinct."""
    n = len(doc)
    if not known_keys or n == 0:
        return [0] * n
    where = {d: i for i, d in enumerate(doc)}
    edges: list[tuple[int, int]] = []
    for key in known_keys:
        u, v = where.get(key >> 32), where.get(key & LOW32)
        if u is not None and v is not None and group[u] == group[v]:
            edges.append((u, v))
    degree = [0] * n
    for u, v in edges:
        degree[u] += 1
        degree[v] += 1
    rank = [0] * n
    for r, i in enumerate(sorted(range(n), key=lambda i: (degree[i], i))):
        rank[i] = r
    out_edges: dict[int, list[int]] = {}  # low end -> high ends, in edge order (numpy's stable sort by low)
    for u, v in edges:
        low, high = (u, v) if rank[u] < rank[v] else (v, u)
        out_edges.setdefault(low, []).append(high)
    wedges = sum(len(highs) * (len(highs) - 1) // 2 for highs in out_edges.values())
    if wedges > wedge_budget:
        return degree
    triangles = [0] * n
    if wedges:
        pairs = {(min(u, v), max(u, v)) for u, v in edges}
        for low, highs in out_edges.items():
            for a in range(len(highs)):
                p = highs[a]
                for q in highs[a + 1 :]:
                    if (min(p, q), max(p, q)) in pairs:
                        triangles[low] += 1
                        triangles[p] += 1
                        triangles[q] += 1
    return [d + 2 * t - d * (d - 1) // 2 for d, t in zip(degree, triangles, strict=True)]


def resolve(
    root: Path, partition: int, partitions: int, edge_files: list[str], threshold: float, check: bool, sources: list[Source], max_rounds: int, wedge_budget: int
) -> list[tuple[int, int, int, int]]:
    """``minhash._resolve_task`` on the single clustering task's labels: the keeper rule over
    the components whose root falls in ``partition``. Returns the decision rows (document,
    kind, keeper, value): the duplicates of every round, then the heads of every round."""
    labels = read_array(root / "labels.u32", "I")
    members: list[int] = []
    roots: list[int] = []
    for i, label in enumerate(labels):
        if label != i and label % partitions == partition:
            members.append(i)
            roots.append(label)
    unique_roots = sorted(set(roots))
    group = roots + unique_roots
    doc = members + unique_roots
    known = known_similarities(edge_files, set(doc)) if check else {}
    known_keys = sorted(known)
    fingerprints: Fingerprints | None = None
    n_indexed = sources[0].size if sources and Path(sources[0].stem).name == "index" else 0
    duplicates: list[tuple[int, int, int, int]] = []
    heads: list[tuple[int, int, int, int]] = []
    for _ in range(max_rounds):
        if not doc:
            break
        score = star_scores(doc, group, known_keys, wedge_budget) if check else [0] * len(doc)
        order = sorted(range(len(doc)), key=lambda i: (group[i], doc[i] >= n_indexed, -score[i], doc[i]))
        group, doc = [group[i] for i in order], [doc[i] for i in order]
        pivots: list[int] = []  # per position: its group's pivot (the group's first)
        rest: list[int] = []
        for i in range(len(doc)):
            if i == 0 or group[i] != group[i - 1]:
                pivots.append(doc[i])
            else:
                pivots.append(pivots[-1])
                rest.append(i)
        if check:
            sims: list[float] = []
            todo: list[int] = []
            for i in rest:
                key = (max(doc[i], pivots[i]) << 32) | min(doc[i], pivots[i])
                sim = known.get(key)
                if sim is None:
                    todo.append(len(sims))
                    sim = 0.0
                sims.append(sim)
            if todo:
                fingerprints = fingerprints or Fingerprints(sources)
                left = [max(doc[rest[k]], pivots[rest[k]]) for k in todo]
                right = [min(doc[rest[k]], pivots[rest[k]]) for k in todo]
                for k, sim in zip(todo, fingerprints.score(left, right), strict=True):
                    sims[k] = sim
        else:
            sims = [1.0] * len(rest)
        removed_from: Counter[int] = Counter()
        left_over: list[int] = []
        for i, sim in zip(rest, sims, strict=True):
            if sim >= threshold:
                duplicates.append((doc[i], 0, pivots[i], round(sim * 1e6)))
                removed_from[pivots[i]] += 1
            else:
                left_over.append(i)
        for i in range(len(doc)):
            if (i == 0 or group[i] != group[i - 1]) and removed_from[doc[i]]:
                heads.append((doc[i], 1, doc[i], removed_from[doc[i]] + 1))
        doc, group = [doc[i] for i in left_over], [group[i] for i in left_over]
        if not doc:
            break
        sizes = Counter(group)
        doc, group = [d for d, g in zip(doc, group, strict=True) if sizes[g] > 1], [g for g in group if sizes[g] > 1]
    return duplicates + heads


def write_decisions(root: Path, partition: int, sources: list[Source], rows: list[tuple[int, int, int, int]]) -> None:
    """``minhash._write_decisions``: each input task's rows, positions made local."""
    starts = [s.start for s in sources]
    first_task = 1 if sources and Path(sources[0].stem).name == "index" else 0
    by_source: dict[int, array] = {}
    for document, kind, keeper, value in rows:
        k = bisect.bisect_right(starts, document) - 1
        by_source.setdefault(k, array("q")).extend((document - starts[k], kind, keeper, value))
    for k in range(first_task, len(sources)):
        if k in by_source:
            write_scratch_bytes(root / f"decisions-{partition:04d}-{k - first_task:05d}.i64", by_source[k].tobytes())


# The file of the minhash scratch folder that holds the resolve round's partition count.
DECISION_PARTITIONS = "decision-partitions"


def partition_files(scratch: Path, prefix: str, task: int, suffix: str, count_file: str) -> list[str]:
    """A task's files of every partition (``{prefix}-{partition:04d}-{task:05d}{suffix}``), in
    partition order, found by name from the partition count the passes wrote in ``count_file``.
    A glob of the scratch folder lists every task's files: once per task, that was quadratic in
    the tasks (4,000 one-record files took 122 s, 12 times 1,000's). A folder without the count
    (written by an earlier version) is globbed as before."""
    try:
        count = int((scratch / count_file).read_text())
    except (OSError, ValueError):
        return sorted(glob.glob(str(scratch / f"{prefix}-*-{task:05d}{suffix}")))
    names = (str(scratch / f"{prefix}-{partition:04d}-{task:05d}{suffix}") for partition in range(count))
    return [name for name in names if os.path.exists(name)]


def decision_files(scratch: Path, task: int) -> list[str]:
    """The minhash stage's decisions for one task, one file per resolve partition that has any."""
    return partition_files(scratch, "decisions", task, ".i64", DECISION_PARTITIONS)


def decision_rows(scratch: Path, task: int) -> list[tuple[int, int, int, int]]:
    """``minhash._decision_rows``: a task's rows sorted by position, the last row of a
    position written twice kept."""
    rows: dict[int, tuple[int, int, int, int]] = {}
    for path in decision_files(scratch, task):
        values = read_array(path, "q")
        for k in range(0, len(values), 4):
            rows[values[k]] = (values[k], values[k + 1], values[k + 2], values[k + 3])
    return [rows[position] for position in sorted(rows)]
