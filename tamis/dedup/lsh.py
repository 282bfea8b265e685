"""MinHash-LSH arithmetic: banding from a threshold, permutations, bucketing a band into edges.

Banding. A pair with Jaccard s shares at least one of b bands of r rows with probability
``1 - (1 - s^r)^b`` (Leskovec, Rajaraman & Ullman, *Mining of Massive Datasets*, ch. 3.4).
Candidates are verified afterwards (exact Jaccard on shingles), so false positives cost only
time and false negatives are lost for good: :func:`choose_banding` picks the most rows per band
(fewest false candidates) whose curve still gives a pair exactly at the threshold at least a
``TARGET_RECALL`` chance. For t=0.8 and 128 permutations that is 21 bands x 6 rows (P=0.998 at
0.8), where datasketch's error-weighted optimum, 9 x 13 (midpoint 0.845), finds only 88% of the
true pairs (measured in /work/shared/peer-baselines.md).

Bucketing. Inside one band, documents with the same band key form a bucket. Rather than all
pairs of a bucket (quadratic), each member is linked to the bucket's first member (a star) and
to its predecessor (a chain), both in input order: the chain keeps every near pair reachable
even when the first member is itself not similar enough to pass verification.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)
TARGET_RECALL = 0.99


def candidate_probability(similarity: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    if isinstance(similarity, float | int):  # a number (choose_banding): no numpy import, the same pow()
        return 1.0 - (1.0 - float(similarity) ** rows) ** bands
    import numpy as np

    return 1.0 - (1.0 - np.power(similarity, rows)) ** bands


def choose_banding(threshold: float, num_perm: int, target_recall: float = TARGET_RECALL) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= num_perm: the largest ``rows`` whose candidate
    probability at ``threshold`` is still >= ``target_recall``."""
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= target_recall:
            best = (bands, rows)
    return best


# numpy's first 256 draws for seed 1 (the default seed; PCG64, ``integers(0, 2**32)``), uint32
# little-endian, base64: a draw of n values and then n more continues one stream, so these are
# the permutations of seed 1 at every width up to 128, the default ``num_perm`` (the default
# recipe's and ``tamis dedup``'s 21 x 6). Importing numpy.random and drawing cost ~9 ms of every
# start; tests/test_minhash.py compares each width with numpy's draw.
_SEED1_COUNT = 256
_SEED1_DRAWS = (
    "/+QiefO9BoNmqFLBu5ZR880Y7Aj2pOck0m+s0q6w2vKpcs0/oC/UT0hweN5FH19sJG3uRTNR5NPKOspBTEbBaCr60aQCLLKMYgLzFTIdDgc1MpfdLjzmwKSc"
    "f9aawsOJSJlK0TpMaVQK1eJzqHbWyUUZuR8kLZ5NLgzaHwxwGHQLghb6gY5QIl21IGKlaTJnVSVk54SkFTTs/ZOAkvcmQ/MWEwUx5hfARZfgD03eyEd2/Ix/"
    "x3k1fE2m7x3XlxH7ADXFv3QqL/beI5QXZNWLuQqhC0vc142KuUfI7IlX4kYZ8tK5c30gKQJQlFIpCE34LlnOayESHYTY/P9KaF6pHUSPsmxNBp2foR2idF+0"
    "1MbW0ONcysjtnLOM1cW6BdTqx2JkbT7CIgrVbfG3PqBRh+OlQd9SCZd1A3I6Xlsk9g8hPAl1OBUupHpnI8VMJUbaKgMAN4n7ypcn/e/ND7+VQl8hOlixeQLX"
    "XAXilHRSboJAanasKp3Jgnb4HvtylsbA8n/bDfI33iU85ImLgQ7T0bMCqxED5OuuPjZuwmYvf8mAmZPfXcMNMZ7gJo7XvGfNLbmlW9Wa+jBkyL964KHgFFnh"
    "UTitJ/DaN5rpqkATfdyODQvXMrxk4Iuzf09LE894jikPngIJKEYuMmDrI8XQAZBgltbw9k2lXBncQDr7S7iMw7tpOt3n1RzSjP8xJSlIERdUeK2JGDfDYEqx"
    "qDiro5uuNNjTEhjO278X+mIis/ZVZBjll8uIJnAQzgplRXJ7sHFSWEcZDOXKhQPM2iw3bDogV5Ntm+mWXJ4Q5GIFRQbahF59/t1nrDEt+3NLZEnr4YlW8yXT"
    "qtNeKeR2yXSx4oaxwhLbDA2pHjaiRG2D3D5edvKtsIe9xN0lc+PgUDA2qqMl33RtztSguoNQIkgOEER+mcVZK1PTwFvrdfElHSon10wlMaIJYCFq1cGiwBVR"
    "JjAQCMV2+7DCdoW++OK2LXw0eI85C3FlwfdPgH24fQHrKXWiftoyQ/UA7I22B9Nr7g8enHenHRvKVThdLcUWohoCcMQlfGNholNFBhDdrLly3jWBTcNjp3NT"
    "zChP4GRuKmgo4na3CN7RV/tQaJvToWpuihXTI27PkmykROnbf1dAdC/3Gukti4CJ4d89g0AyhPMNwukbA/+s0r4TYV5DPsDxkSX7EMJBS2eiT6eVvBLa7tTl"
    "nGL/Qah/0us5ZFzDdeAoLC4nqbJIlgTGRrrwIGrwNCGbKlFgtzmXESiBwWt2CNZ6Vmg8qonBdJKxwrd0L2RlOKgQJpbKfoN095H11q+p3LKtLPq57+9bkrMd"
    "cV061BpIvBnKcvDaZJIajyFeRqF0JSmSFxy9uz0LSaMHNA=="
)


def _stored_permutations(seed: int, perms: int) -> tuple[bytes, bytes] | None:
    """:func:`permutations` from the stored draws of seed 1, or None where they do not cover it."""
    from array import array

    draws = array("I")
    if seed != 1 or draws.itemsize != 4 or not 0 <= 2 * perms <= _SEED1_COUNT:
        return None
    import base64

    draws.frombytes(base64.b64decode("".join(_SEED1_DRAWS)))
    if sys.byteorder == "big":  # stored little-endian; handed back little-endian
        draws.byteswap()
    a, b = array("I", [x | 1 for x in draws[:perms]]), draws[perms : 2 * perms]
    if sys.byteorder == "big":
        a.byteswap()
        b.byteswap()
    return a.tobytes(), b.tobytes()


def permutations(seed: int, perms: int) -> tuple[bytes, bytes]:
    """The multipliers (odd) and offsets of the ``perms`` hash permutations, from ``seed``."""
    stored = _stored_permutations(seed, perms)
    if stored is not None:
        return stored
    return drawn_permutations(seed, perms)


def drawn_permutations(seed: int, perms: int) -> tuple[bytes, bytes]:
    """:func:`permutations` drawn by numpy (what the stored draws of seed 1 were taken from)."""
    import numpy as np
    rng = np.random.Generator(np.random.PCG64(seed))
    a = rng.integers(0, 1 << 32, size=perms, dtype=np.uint64).astype(np.uint32) | np.uint32(1)
    b = rng.integers(0, 1 << 32, size=perms, dtype=np.uint64).astype(np.uint32)
    return a.astype("<u4").tobytes(), b.astype("<u4").tobytes()


def bucket_edges(keys: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Edges (later doc, earlier doc) of one band. ``docs`` must be increasing (input order)."""
    import numpy as np
    if len(keys) < 2:
        return np.empty((0, 2), dtype=np.uint32)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    sorted_docs = docs[order]
    same = sorted_keys[1:] == sorted_keys[:-1]  # row k+1 is in the same bucket as row k
    if not same.any():
        return np.empty((0, 2), dtype=np.uint32)
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = ~same
    first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    later = np.flatnonzero(~starts)
    chain = np.stack([sorted_docs[later], sorted_docs[later - 1]], axis=1)
    far = later[first[later] != later - 1]  # the star edge differs from the chain edge
    star = np.stack([sorted_docs[far], sorted_docs[first[far]]], axis=1)
    return np.concatenate([chain, star]).astype(np.uint32)


def s_curve(bands: int, rows: int, points: tuple[float, ...] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)) -> list[tuple[float, float]]:
    return [(s, float(candidate_probability(s, bands, rows))) for s in points]


def native():
    """The compiled hot path, or the (slow) Python reference when the extension is missing."""
    try:
        from tamis._native import _minhash

        return _minhash
    except ImportError:  # pragma: no cover - only on a broken install
        from tamis.dedup import reference

        log.warning("tamis._native._minhash is not built (pip install -e . builds it); using the slow Python reference")
        return reference
