"""gzip output compressed in a thread beside the worker: the same stream, errors still raised."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from tamis.io.outputs import JsonlOutput, ShardWriter, ThreadedGzip


def test_threaded_gzip_is_one_gzip_stream_of_the_bytes_in_order(tmp_path: Path) -> None:
    data = [os.urandom(5000) * 100, b"line\n" * 200_000, b"", b"x", os.urandom(3 << 20)]
    path = tmp_path / "a.gz"
    with open(path, "wb") as raw:
        fh = ThreadedGzip(raw, 2)
        for chunk in data:
            assert fh.write(chunk) == len(chunk)
        fh.close()
        fh.close()  # a second close does nothing
    assert gzip.decompress(path.read_bytes()) == b"".join(data)
    again = tmp_path / "b.gz"
    with open(again, "wb") as raw:
        fh = ThreadedGzip(raw, 2)
        for chunk in data:
            fh.write(chunk)
        fh.close()
    assert again.read_bytes() == path.read_bytes()  # the same bytes, whatever the timing


def test_threaded_gzip_raises_the_threads_error() -> None:
    class Full:
        def write(self, data: bytes) -> int:
            raise OSError(28, "No space left on device")

    fh = ThreadedGzip(Full(), 2)
    with pytest.raises(OSError, match="No space"):
        for _ in range(50):
            fh.write(b"x" * (1 << 20))
        fh.close()


def test_gzip_shards_equal_with_and_without_the_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [{"id": str(i), "text": f"text {i} " * (i % 50), "metadata": {"n": i}} for i in range(5_000)]
    contents = []
    for flag in ("1", "0"):
        monkeypatch.setenv("TAMIS_GZIP_THREAD", flag)
        writer = ShardWriter(tmp_path / f"t{flag}" / "output", "part-00000", JsonlOutput("gzip"), max_bytes=100_000)
        for record in records:
            writer.write(record)
        shards = writer.close()
        contents.append([gzip.decompress(p.read_bytes()) for p in shards])
    assert contents[0] == contents[1] and len(contents[0]) > 3
