"""Read throughput from an object store: tamis's reader vs a plain boto3 download, same objects, same run.

    python bench/bench_s3.py [--objects 4] [--mb 64] [--rounds 3]

Starts a moto S3 server on 127.0.0.1 (``moto[server]``) unless ``AWS_ENDPOINT_URL`` and
``--bucket`` name a store to use, writes generated JSONL objects (plain and gzip), then reads
every object, one task at a time, in rounds that alternate the methods:

- ``boto3 get_object``: one GET, the body streamed in 8 MiB reads (what a single reader can get);
- ``boto3 download_fileobj``: the transfer manager (8 MiB ranged GETs on 10 threads) into memory;
- ``fsspec defaults``: ``s3fs.open(url).read(65536)`` in a loop (the small-buffer pattern);
- ``tamis open_input``: the bytes as tamis's readers get them (64 MiB ranged GETs, retried);
- ``tamis read_task``: a whole task as the pipeline reads it: bytes, decompression, framing,
  JSON, documents.

and, the user's path, the whole command ``tamis run --recipe foundation -w 1`` with its input
and its run directory on the store vs on local disk (wall time of the process, start-up included).
Prints MB/s per task (median of the rounds) and ratios to the boto3 stream.
"""

from __future__ import annotations

import argparse
import gzip
import io
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

WORDS = [
    "the",
    "river",
    "of",
    "hills",
    "and",
    "a",
    "quiet",
    "town",
    "where",
    "people",
    "read",
    "books",
    "about",
    "history",
    "science",
    "music",
    "water",
    "light",
    "stone",
    "road",
]


def make_jsonl(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    lines, total, i = [], 0, 0
    while total < size:
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 600)))
        line = orjson.dumps({"id": f"doc-{seed}-{i}", "text": text, "meta": {"n": i}}) + b"\n"
        lines.append(line)
        total += len(line)
        i += 1
    return b"".join(lines)


def start_moto() -> Any:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    return server


def read_boto3_stream(client: Any, bucket: str, key: str) -> int:
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    n = 0
    while chunk := body.read(8 << 20):
        n += len(chunk)
    return n


class _Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.n = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.n += len(b)
        return len(b)


def read_boto3_transfer(client: Any, bucket: str, key: str) -> int:
    sink = _Sink()
    client.download_fileobj(bucket, key, sink)
    return sink.n


def read_fsspec_default(url: str) -> int:
    import fsspec

    fs = fsspec.filesystem("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], skip_instance_cache=True)
    n = 0
    with fs.open(url, "rb") as fh:
        while chunk := fh.read(65536):
            n += len(chunk)
    return n


def read_tamis_bytes(url: str) -> int:
    from tamis.io import storage

    n = 0
    with storage.open_input(url) as fh:
        while chunk := fh.read(1 << 20):
            n += len(chunk)
    return n


def read_tamis_task(url: str) -> int:
    from tamis.io.readers import ReaderOptions, plan_tasks, read_task

    options = ReaderOptions(chunk_bytes=1 << 40)  # one task per object
    docs = 0
    for task in plan_tasks([url], options):
        for _ in read_task(task, options):
            docs += 1
    return docs


def timed(fn: Any, *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def run_cli(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tamis.cli", "run", *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"tamis run failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=4, help="objects of each kind (plain, gzip)")
    parser.add_argument("--mb", type=int, default=64, help="uncompressed size of each object")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bucket", help="an existing bucket on the store AWS_ENDPOINT_URL names (default: a moto server)")
    parser.add_argument("--no-cli", action="store_true", help="skip the whole-command comparison")
    args = parser.parse_args()

    server = None if args.bucket else start_moto()
    import boto3

    client = boto3.client("s3")
    bucket = args.bucket or "tamis-bench"
    if server is not None:
        client.create_bucket(Bucket=bucket)
    keys: list[tuple[str, int]] = []
    local = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    (local / "in").mkdir()
    for i in range(args.objects):
        data = make_jsonl(args.mb << 20, seed=i)
        for name, blob in ((f"bench/in/plain-{i:02d}.jsonl", data), (f"bench/in/gzip-{i:02d}.jsonl.gz", gzip.compress(data, 1))):
            client.put_object(Bucket=bucket, Key=name, Body=blob)
            (local / "in" / Path(name).name).write_bytes(blob)
            keys.append((name, len(blob)))
    stored = sum(s for _, s in keys) / 1e6
    print(f"{len(keys)} objects, {stored:,.0f} MB stored ({args.mb} MB uncompressed each); endpoint {os.environ.get('AWS_ENDPOINT_URL')}")

    methods = {
        "boto3 get_object (stream)": lambda key: read_boto3_stream(client, bucket, key),
        "boto3 download_fileobj (10 threads)": lambda key: read_boto3_transfer(client, bucket, key),
        "fsspec defaults, 64 KiB reads": lambda key: read_fsspec_default(f"s3://{bucket}/{key}"),
        "tamis open_input (bytes)": lambda key: read_tamis_bytes(f"s3://{bucket}/{key}"),
        "tamis read_task (documents)": lambda key: read_tamis_task(f"s3://{bucket}/{key}"),
    }
    rates: dict[tuple[str, str], list[float]] = {}
    for round_index in range(args.rounds):
        order = list(methods.items())
        if round_index % 2:
            order.reverse()
        for kind in ("plain", "gzip"):
            for label, fn in order:
                total_bytes, seconds = 0, 0.0
                for key, size in keys:
                    if f"/{kind}-" in key:
                        seconds += timed(fn, key)
                        total_bytes += size
                rates.setdefault((kind, label), []).append(total_bytes / 1e6 / seconds)
    print(f"\nread throughput per task, MB/s of stored bytes (median of {args.rounds} rounds; one task reads one object)")
    for kind in ("plain", "gzip"):
        base = statistics.median(rates[(kind, "boto3 get_object (stream)")])
        print(f"  {kind} JSONL objects:")
        for label in methods:
            rate = statistics.median(rates[(kind, label)])
            print(f"    {label:<40} {rate:8.1f} MB/s   {rate / base:5.2f}x boto3 stream")

    if not args.no_cli:
        out_local, url_in = local / "out", f"s3://{bucket}/bench/in/"
        local_times, remote_times = [], []
        for round_index in range(2):
            remote_out = f"s3://{bucket}/bench/runs/r{round_index}"
            common = ["--recipe", "foundation", "-w", "1", "-q", "--no-report"]
            local_times.append(run_cli(["--input", str(local / "in"), "--output", str(out_local), "--overwrite", *common]))
            remote_times.append(run_cli(["--input", url_in, "--output", remote_out, *common]))
        lt, rt = min(local_times), min(remote_times)
        print("\nthe whole command, tamis run --recipe foundation -w 1 (best of 2, wall time with start-up):")
        print(f"  input and run directory on local disk   {lt:7.1f} s")
        print(f"  input and run directory on the store    {rt:7.1f} s   ({rt / lt:.2f}x local)")
    if server is not None:
        server.stop()


if __name__ == "__main__":
    main()
