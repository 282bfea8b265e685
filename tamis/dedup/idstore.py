"""A compact per-task list of document ids: one blob of UTF-8 plus an offsets array.

Stages need ids only to name the keeper of a duplicate (``duplicate_of``).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from tamis.io.atomic import write_bytes_atomic


class IdWriter:
    def __init__(self) -> None:
        self._blob = bytearray()
        self._offsets: list[int] = [0]

    def add(self, doc_id: str) -> None:
        self._blob += doc_id.encode("utf-8", "surrogatepass")
        self._offsets.append(len(self._blob))

    def extend(self, doc_ids: list[str]) -> None:
        encoded = [doc_id.encode("utf-8", "surrogatepass") for doc_id in doc_ids]
        ends = itertools.accumulate(map(len, encoded), initial=len(self._blob))
        self._offsets.extend(itertools.islice(ends, 1, None))  # the first is the current end, already there
        self._blob += b"".join(encoded)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def save(self, stem: Path) -> None:
        write_bytes_atomic(stem.with_suffix(".ids"), bytes(self._blob))
        offsets = np.asarray(self._offsets, dtype=np.uint64)
        write_bytes_atomic(stem.with_suffix(".off"), offsets.tobytes())


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
            self._offsets = np.fromfile(self._stem.with_suffix(".off"), dtype=np.uint64).tolist()
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
