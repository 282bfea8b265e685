"""Read back what a run wrote: kept documents and rejects, in shard order.

Used by the tests, the benches and the report; understands every output format and codec
the writers produce (Parquet ``metadata`` is a JSON string column and is decoded back).
"""

from __future__ import annotations

import glob
import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from tamis.io.streams import iter_stream_lines


def shard_paths(root: Path, which: str = "output") -> list[Path]:
    """Finished shards of ``root/which`` (``output`` or ``rejects``), sorted by name."""
    paths = [Path(p) for p in glob.glob(str(root / which / "part-*"))]
    return sorted(p for p in paths if ".tmp-" not in p.name)


def iter_shard(path: Path) -> Iterator[dict[str, Any]]:
    name = path.name
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
            for record in batch.to_pylist():
                if isinstance(record.get("metadata"), str):
                    record["metadata"] = orjson.loads(record["metadata"])
                yield record
        return
    if name.endswith(".gz"):
        opener: Any = gzip.open(path, "rb")  # noqa: SIM115 - closed by the with below
    elif name.endswith(".zst"):
        import zstandard

        opener = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)  # noqa: SIM115
    else:
        opener = open(path, "rb")  # noqa: SIM115
    with opener as fh:
        for line in iter_stream_lines(fh):
            if line.strip():
                yield orjson.loads(line)


def iter_records(root: Path, which: str = "output") -> Iterator[dict[str, Any]]:
    for path in shard_paths(root, which):
        yield from iter_shard(path)
