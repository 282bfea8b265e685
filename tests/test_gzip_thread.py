"""gzip output deflated in threads beside the worker: one gzip stream of the bytes in order,
the same file every run, errors still raised in the worker."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from tamis.errors import ConfigError
from tamis.io.outputs import JsonlOutput, ShardWriter, gzip_threads, gzip_writer

DATA = [os.urandom(5000) * 100, b"line\n" * 200_000, b"", b"x", os.urandom(3 << 20), b"tail " * 70_000]


def _write(path: Path, chunks: list[bytes]) -> bytes:
    with open(path, "wb") as raw:
        fh = gzip_writer(raw, 2)
        for chunk in chunks:
            assert fh.write(chunk) == len(chunk)
        fh.close()
        fh.close()  # a second close does nothing
    return path.read_bytes()


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_threaded_gzip_is_one_gzip_stream_of_the_bytes_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: str) -> None:
    monkeypatch.setenv("TAMIS_GZIP_THREADS", threads)
    first = _write(tmp_path / "a.gz", DATA)
    assert gzip.decompress(first) == b"".join(DATA)
    assert first[:2] == b"\x1f\x8b" and first[4:8] == b"\0\0\0\0"  # gzip, no timestamp
    assert _write(tmp_path / "b.gz", DATA) == first  # the same bytes, whatever the timing


def test_threaded_gzip_raises_the_threads_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Full:  # takes the header (written by the worker), then fails in the thread
        writes = 0

        def write(self, data: bytes) -> int:
            self.writes += 1
            if self.writes > 1:
                raise OSError(28, "No space left on device")
            return len(data)

        def flush(self) -> None:
            pass

    monkeypatch.setenv("TAMIS_GZIP_THREADS", "2")
    fh = gzip_writer(Full(), 2)
    with pytest.raises(OSError, match="No space"):
        for _ in range(50):
            fh.write(b"x" * (1 << 20))
        fh.close()


def test_thread_count_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAMIS_GZIP_THREADS", raising=False)
    assert gzip_threads() == 1
    monkeypatch.setenv("TAMIS_GZIP_THREADS", "0")
    assert gzip_threads() == 0
    monkeypatch.setenv("TAMIS_GZIP_THREADS", "many")
    with pytest.raises(ConfigError, match="TAMIS_GZIP_THREADS"):
        gzip_threads()


def test_gzip_shards_equal_with_and_without_the_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [{"id": str(i), "text": f"text {i} " * (i % 50), "metadata": {"n": i}} for i in range(5_000)]
    contents = []
    for threads in ("2", "1", "0"):
        monkeypatch.setenv("TAMIS_GZIP_THREADS", threads)
        writer = ShardWriter(tmp_path / f"t{threads}" / "output", "part-00000", JsonlOutput("gzip"), max_bytes=100_000)
        for record in records:
            writer.write(record)
        shards = writer.close()
        contents.append([gzip.decompress(p.read_bytes()) for p in shards])
    assert contents[0] == contents[1] == contents[2] and len(contents[0]) > 3
