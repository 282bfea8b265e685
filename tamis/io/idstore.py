"""A compact per-task list of document ids: one blob of UTF-8 (``<stem>.ids``) plus an
array of uint64 offsets (``<stem>.off``, one more than there are ids).

Stages need ids only to name the keeper of a duplicate (``duplicate_of``); the JSONL
sidecar keeps its ids the same way. This module is the only one that knows the layout.
"""

from __future__ import annotations

import bisect
import itertools
import os
import sys
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path

from tamis.io.atomic import write_bytes_atomic

WHOLE_READ_BYTES = 64 << 20  # IdsByNumber.get_many reads a file's wanted span at once up to this
PLAIN_NUMBERS = 4096  # IdsByNumber.get_many: ids looked up without numpy up to this many


class IdWriter:
    def __init__(self) -> None:
        self._blob = bytearray()
        self._offsets: list[int] = [0]

    def add(self, doc_id: str) -> None:
        self._blob += doc_id.encode("utf-8", "surrogatepass")
        self._offsets.append(len(self._blob))

    def extend(self, doc_ids: list[str]) -> None:
        joined = "".join(doc_ids)
        blob = joined.encode("utf-8", "surrogatepass")
        if len(blob) == len(joined):  # ASCII only: each id's bytes are its characters (one encode, not one per id)
            ends = itertools.accumulate(map(len, doc_ids), initial=len(self._blob))
            self._offsets.extend(itertools.islice(ends, 1, None))
            self._blob += blob
            return
        encoded = [doc_id.encode("utf-8", "surrogatepass") for doc_id in doc_ids]
        ends = itertools.accumulate(map(len, encoded), initial=len(self._blob))
        self._offsets.extend(itertools.islice(ends, 1, None))  # the first is the current end, already there
        self._blob += b"".join(encoded)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def save(self, stem: Path) -> None:
        write_bytes_atomic(stem.with_suffix(".ids"), bytes(self._blob))
        write_bytes_atomic(stem.with_suffix(".off"), _u64_bytes(self._offsets))


def save_ids(stem: Path, ids: list[str]) -> None:
    """All of a task's ids at once (what :class:`IdWriter` writes), encoded in one go: a
    method call per document cost 5% of the minhash collect."""
    raw = [i.encode("utf-8", "surrogatepass") for i in ids]
    write_bytes_atomic(stem.with_suffix(".ids"), b"".join(raw))
    write_bytes_atomic(stem.with_suffix(".off"), _u64_bytes(itertools.accumulate(map(len, raw), initial=0)))


def _u64_bytes(values: Iterable[int]) -> bytes:
    """Little-endian uint64 (the ``.off`` files), without numpy: its import (~0.1 s) would be
    most of a small run's dedup."""
    out = array("Q", values)
    if sys.byteorder != "little":
        out.byteswap()
    return out.tobytes()


def read_offsets(path: Path) -> array:
    """An ``.off`` file: its uint64 offsets."""
    out = array("Q")
    out.frombytes(path.read_bytes())
    if sys.byteorder != "little":
        out.byteswap()
    return out


class IdReader:
    """The ids of one task, read whole on first use (a task's ids are a few megabytes at
    most; reading them once beats a seek per lookup when a task has many duplicates)."""

    def __init__(self, stem: Path) -> None:
        self._stem = stem
        self._blob: bytes | None = None
        self._offsets: list[int] = []

    def _load(self) -> bytes:
        if self._blob is None:
            self._blob = self._stem.with_suffix(".ids").read_bytes()
            self._offsets = read_offsets(self._stem.with_suffix(".off")).tolist()
        return self._blob

    def __len__(self) -> int:
        self._load()
        return len(self._offsets) - 1

    def get(self, index: int) -> str:
        blob = self._load()
        return blob[self._offsets[index] : self._offsets[index + 1]].decode("utf-8", "surrogatepass")

    def all(self) -> list[str]:
        """Every id, in order (one decode of the whole blob where it is ASCII)."""
        blob = self._load()
        offsets = self._offsets
        if blob.isascii():
            text = blob.decode("ascii")
            return [text[a:b] for a, b in itertools.pairwise(offsets)]
        return [blob[a:b].decode("utf-8", "surrogatepass") for a, b in itertools.pairwise(offsets)]

    def close(self) -> None:
        self._blob = None
        self._offsets = []


class IdLookup:
    """Lazily opened readers for many tasks' id files under one scratch folder."""

    def __init__(self, scratch: Path, pattern: str = "ids-{task:05d}") -> None:
        self._scratch = scratch
        self._pattern = pattern
        self._readers: dict[int, IdReader] = {}

    def get(self, task: int, index: int) -> str:
        reader = self._readers.get(task)
        if reader is None:
            reader = self._readers[task] = IdReader(self._scratch / self._pattern.format(task=task))
        return reader.get(index)

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()


class IdsByNumber:
    """Ids by a global document number over several id files laid end to end: ``sources``
    are (stem, first number) in order. Offsets are read once per file and each id is fetched
    with ``pread`` (a run names few keepers, from anywhere in the corpus)."""

    def __init__(self, sources: list[tuple[str, int]]) -> None:
        self._stems = [stem for stem, _ in sources]
        self._starts = [start for _, start in sources]
        self._offsets: dict[int, array] = {}
        self._fds: dict[int, int] = {}

    def _source(self, k: int) -> array:
        """Source ``k``'s offsets, its id file opened on first use."""
        offsets = self._offsets.get(k)
        if offsets is None:
            stem = Path(self._stems[k])
            offsets = self._offsets[k] = read_offsets(stem.with_suffix(".off"))
            self._fds[k] = os.open(stem.with_suffix(".ids"), os.O_RDONLY)
        return offsets

    def get(self, number: int) -> str:
        k = bisect.bisect_right(self._starts, number) - 1
        offsets = self._source(k)
        local = number - self._starts[k]
        start, end = offsets[local], offsets[local + 1]
        return os.pread(self._fds[k], end - start, start).decode("utf-8", "surrogatepass")

    def get_many(self, numbers: Sequence[int]) -> list[str]:
        """``[self.get(n) for n in numbers]``, one read per file: the span of a file's id blob
        that holds the wanted ids (at most WHOLE_READ_BYTES, else one ``pread`` per id). Up to
        PLAIN_NUMBERS numbers in plain Python (numpy's import would cost more), numpy above."""
        if len(numbers) <= PLAIN_NUMBERS:
            return self._get_many_plain(numbers)
        import numpy as np

        wanted = np.asarray(numbers, dtype=np.int64)
        out: list[str] = [""] * len(wanted)
        if not len(wanted):
            return out
        which = np.searchsorted(np.asarray(self._starts, dtype=np.int64), wanted, side="right") - 1
        for k in np.unique(which).tolist():
            sel = np.flatnonzero(which == k)
            local = wanted[sel] - self._starts[k]
            offsets = np.frombuffer(self._source(k), dtype=np.uint64)
            starts, ends = offsets[local].astype(np.int64), offsets[local + 1].astype(np.int64)
            lo, hi = int(starts.min()), int(ends.max())
            if hi - lo > WHOLE_READ_BYTES:
                for i, number in zip(sel.tolist(), wanted[sel].tolist(), strict=True):
                    out[i] = self.get(number)
                continue
            blob = os.pread(self._fds[k], hi - lo, lo)
            for i, a, b in zip(sel.tolist(), (starts - lo).tolist(), (ends - lo).tolist(), strict=True):
                out[i] = blob[a:b].decode("utf-8", "surrogatepass")
        return out

    def _get_many_plain(self, numbers: Sequence[int]) -> list[str]:
        """:meth:`get_many` with lists (the same reads)."""
        out: list[str] = [""] * len(numbers)
        by_source: dict[int, list[int]] = {}
        for i, number in enumerate(numbers):
            by_source.setdefault(bisect.bisect_right(self._starts, number) - 1, []).append(i)
        for k in sorted(by_source):
            offsets = self._source(k)
            first = self._starts[k]
            spans = [(i, offsets[numbers[i] - first], offsets[numbers[i] - first + 1]) for i in by_source[k]]
            lo, hi = min(a for _, a, _ in spans), max(b for _, _, b in spans)
            if hi - lo > WHOLE_READ_BYTES:
                for i, _, _ in spans:
                    out[i] = self.get(numbers[i])
                continue
            blob = os.pread(self._fds[k], hi - lo, lo)
            for i, a, b in spans:
                out[i] = blob[a - lo : b - lo].decode("utf-8", "surrogatepass")
        return out

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
