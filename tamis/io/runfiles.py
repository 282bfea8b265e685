"""Read back what a run wrote: kept documents and rejects, in shard order.

Used by the tests, the benches and the report. A thin front to :mod:`tamis.io.outputs`,
which owns listing and reading shards for every registered output format.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tamis.io.outputs import iter_records, list_shards, read_shard


def shard_paths(root: Path, which: str = "output") -> list[Path]:
    """Finished shards of ``root/which`` (``output`` or ``rejects``), sorted by name."""
    return list_shards(root / which)


def iter_shard(path: Path) -> Iterator[dict[str, Any]]:
    return read_shard(path)


__all__ = ["iter_records", "iter_shard", "shard_paths"]
