"""Connected components of the verified similarity graph, on one task or sharded over many.

Labels are the smallest member of each component (input order), so they do not depend on edge
order, task count or sharding.

* **One task** (:func:`components`): union-find in C over edges streamed from disk in chunks,
  linking the larger root under the smaller, with path halving. Memory: 4 bytes per document
  plus one chunk of edges; measured speed in bench/bench_minhash.py (100 M edges).
* **Sharded** (:func:`star_round`): the alternating large-star / small-star rounds of Kiveris
  et al., *Connected Components in MapReduce and Beyond* (SoCC 2014), O(log^2 n) rounds. Every
  round is one :class:`~tamis.dedup.base.PassTask` per partition of nodes (``node % P``); edges
  are stored in both directions, keyed by the partition of their first node. A partition
  reports whether its input was already a forest of stars rooted at each component's minimum
  (every node has no smaller neighbour, or exactly one neighbour which is smaller); when all
  partitions say so, the rounds stop. Memory per task: the edges of one partition.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tamis.dedup.lsh import native
from tamis.io.atomic import write_scratch_bytes

if TYPE_CHECKING:
    import numpy as np

EDGE_CHUNK = 1 << 22  # edges per read: 32 MiB of uint32 pairs


def iter_edge_chunks(paths: list[Path], chunk: int = EDGE_CHUNK) -> Iterator[np.ndarray]:
    """(m, 2) uint32 edge arrays read from files of uint32 pairs, at most ``chunk`` at a time."""
    import numpy as np
    for path in paths:
        total = os.path.getsize(path) // 8
        for start in range(0, total, chunk):
            count = min(chunk, total - start)
            yield np.fromfile(path, dtype="<u4", count=count * 2, offset=start * 8).reshape(-1, 2)


def components(n_nodes: int, edge_files: list[Path]) -> np.ndarray:
    """Label of every node: the smallest node of its component."""
    import numpy as np
    uf = native()
    parent = np.arange(n_nodes, dtype=np.uint32)
    for edges in iter_edge_chunks(edge_files):
        uf.union_edges(parent, np.ascontiguousarray(edges).tobytes())
    uf.flatten(parent)
    return parent


# ---------------------------------------------------------------------- sharded rounds


def _round_inputs(root: Path, round_index: int, partition: int) -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(root / f"star{round_index:03d}-to{partition:04d}-from*.u32")))


def _directed(edges: np.ndarray) -> np.ndarray:
    import numpy as np
    return np.concatenate([edges, edges[:, ::-1]])


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. (numpy 2's ``np.unique`` hashes when asked for nothing else,
    which is ~15x slower than sorting on 64-bit keys.)"""
    import numpy as np
    values = np.sort(values, kind="stable")
    if len(values) < 2:
        return values
    return values[np.r_[True, values[1:] != values[:-1]]]


def _unique_rows(edges: np.ndarray) -> np.ndarray:
    import numpy as np
    if len(edges) == 0:
        return edges.reshape(0, 2).astype(np.uint32)
    packed = (edges[:, 0].astype(np.uint64) << np.uint64(32)) | edges[:, 1].astype(np.uint64)
    packed = unique_sorted(packed)
    return np.stack([(packed >> np.uint64(32)).astype(np.uint32), (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32)], axis=1)


def load_partition(root: Path, round_index: int, partition: int, partitions: int, seed_files: list[Path]) -> np.ndarray:
    """Directed edges (key, neighbour) of ``partition``: round 0 reads the undirected seed
    edges, later rounds the previous round's output."""
    import numpy as np
    if round_index == 0:
        parts = []
        for chunk in iter_edge_chunks(seed_files):
            directed = _directed(chunk)
            parts.append(directed[directed[:, 0] % partitions == partition])
    else:
        parts = [np.fromfile(p, dtype="<u4").reshape(-1, 2) for p in _round_inputs(root, round_index, partition)]
    edges = np.concatenate(parts) if parts else np.empty((0, 2), dtype=np.uint32)
    edges = edges[edges[:, 0] != edges[:, 1]]
    return _unique_rows(edges)


def _group_min(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For sorted ``keys``: group starts, per-row index of its group, and the group minimum of values."""
    import numpy as np
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(keys)]))
    return starts, group, np.minimum.reduceat(values, starts)


def is_star_forest(edges: np.ndarray) -> bool:
    """True when every key has no smaller neighbour, or a single neighbour that is smaller."""
    import numpy as np
    if len(edges) == 0:
        return True
    keys, nbrs = edges[:, 0], edges[:, 1]
    starts, group, _ = _group_min(keys, nbrs)
    degree = np.diff(np.r_[starts, len(keys)])
    smaller = np.bincount(group, weights=(nbrs < keys), minlength=len(starts))
    return bool(np.all((smaller == 0) | ((smaller == 1) & (degree == 1))))


def large_star(edges: np.ndarray) -> np.ndarray:
    """Each node links its larger neighbours to the smallest of itself and its neighbours."""
    import numpy as np
    if len(edges) == 0:
        return edges
    keys, nbrs = edges[:, 0], edges[:, 1]
    _, group, group_min = _group_min(keys, nbrs)
    m = np.minimum(group_min[group], keys)
    sel = nbrs > keys
    return np.stack([nbrs[sel], m[sel]], axis=1)


def small_star(edges: np.ndarray) -> np.ndarray:
    """Each node links itself and its smaller neighbours to the smallest of them."""
    import numpy as np
    if len(edges) == 0:
        return edges
    low = edges[edges[:, 1] < edges[:, 0]]
    if len(low) == 0:
        return low
    keys, nbrs = low[:, 0], low[:, 1]
    starts, group, group_min = _group_min(keys, nbrs)
    m = group_min[group]
    neighbour_edges = np.stack([nbrs, m], axis=1)
    own = np.stack([keys[starts], group_min], axis=1)
    out = np.concatenate([neighbour_edges, own])
    return out[out[:, 0] != out[:, 1]]


def star_round(scratch: str, round_index: int, partition: int, partitions: int, seed_files: list[str]) -> None:
    """One large-star (even rounds) or small-star (odd rounds) pass over one partition.
    Writes the next round's inputs and ``star{round}-flag-{partition}`` (1 = input was a star
    forest)."""
    import numpy as np
    root = Path(scratch)
    edges = load_partition(root, round_index, partition, partitions, [Path(p) for p in seed_files])
    out = large_star(edges) if round_index % 2 == 0 else small_star(edges)
    directed = _directed(out) if len(out) else np.empty((0, 2), dtype=np.uint32)
    target = directed[:, 0] % partitions
    for q in range(partitions):
        write_scratch_bytes(
            root / f"star{round_index + 1:03d}-to{q:04d}-from{partition:04d}.u32",
            np.ascontiguousarray(directed[target == q], dtype="<u4").tobytes(),
        )
    write_scratch_bytes(root / f"star{round_index:03d}-flag-{partition:04d}", b"1" if is_star_forest(edges) else b"0")


def round_converged(scratch: str, round_index: int, partitions: int) -> bool:
    root = Path(scratch)
    return all((root / f"star{round_index:03d}-flag-{p:04d}").read_bytes() == b"1" for p in range(partitions))


def star_members(
    scratch: str, round_index: int, partitions: int, root_partition: int, root_partitions: int, seed_files: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(member, root) pairs of the converged star forest (the input of ``round_index``) whose
    root falls in ``root_partition``."""
    import numpy as np
    members, roots = [], []
    for p in range(partitions):
        edges = load_partition(Path(scratch), round_index, p, partitions, [Path(f) for f in seed_files])
        leaf = edges[edges[:, 1] < edges[:, 0]]
        leaf = leaf[leaf[:, 1] % root_partitions == root_partition]
        members.append(leaf[:, 0])
        roots.append(leaf[:, 1])
    if not members:
        return np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.uint32)
    return np.concatenate(members), np.concatenate(roots)
