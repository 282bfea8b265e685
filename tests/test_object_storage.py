"""Object storage: inputs from s3://, run directories on s3://, against a real S3 API.

A moto server (``moto[server]``) is started by these tests on 127.0.0.1 and reached the way a
user reaches any S3-compatible store: ``AWS_ENDPOINT_URL`` (a plain-HTTP loopback IP, so
path-style addressing) and the ``AWS_*`` credentials, through s3fs. ``tamis run`` runs as a
child process, as a user types it.

What must hold: a run from s3:// to s3:// writes the same object names under ``output/`` and
``rejects/``, the same records and the same ``stats.json`` counts as the same run on local
disk; a run killed with SIGKILL and resumed gives exactly the uninterrupted result; SIGINT or
SIGTERM halfway leaves no incomplete object under a final name; a finished run leaves no
temporary object and no unfinished multipart upload.
"""

from __future__ import annotations

import gzip
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

from conftest import assert_nothing_lost, snapshot_run, write_generated_corpus

from tamis.io import storage

RUN_TIMEOUT = 240
EXIT_DONE = 0
SECRET = "sentinel-secret-7f3a9c"  # passed as a storage option: must appear nowhere


@pytest.fixture(scope="module")
def s3_server() -> Iterator[dict[str, str]]:
    """A moto S3 server on loopback, and the environment that points clients at it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    storage.reset()  # drop filesystems built before the variables were set
    try:
        yield env
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        storage.reset()


@pytest.fixture(scope="module")
def s3(s3_server: dict[str, str]) -> Any:
    import boto3

    return boto3.client("s3")


_bucket_count = 0


@pytest.fixture
def bucket(s3: Any) -> str:
    global _bucket_count
    _bucket_count += 1
    name = f"tamis-test-{os.getpid()}-{_bucket_count}"
    s3.create_bucket(Bucket=name)
    return name


def upload_tree(s3: Any, local: Path, bucket: str, prefix: str) -> None:
    for path in sorted(local.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(local).as_posix()}")


def objects(s3: Any, bucket: str, prefix: str = "") -> dict[str, int]:
    found: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = item["Size"]
    return found


def download_run(s3: Any, bucket: str, prefix: str, local: Path) -> Path:
    for key in objects(s3, bucket, prefix + "/"):
        target = local / key[len(prefix) + 1 :]
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(target))
    return local


def unfinished_uploads(s3: Any, bucket: str) -> list[str]:
    return [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


# ---------------------------------------------------------------------------- the storage layer


def test_a_prefix_is_listed_like_a_folder_in_key_order(s3: Any, bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "in"
    for name in ["b/2.jsonl", "b/10.jsonl", "a.jsonl", "a-b.jsonl", "a/z.jsonl", "é.jsonl", ".hidden.jsonl", "c/.dot/x.jsonl"]:
        (local / name).parent.mkdir(parents=True, exist_ok=True)
        (local / name).write_bytes(b'{"text": "x"}\n')
    upload_tree(s3, local, bucket, "in")
    s3.put_object(Bucket=bucket, Key="in/b/", Body=b"")  # a console-made "folder"
    s3.put_object(Bucket=bucket, Key="in/empty-dir/", Body=b"")
    from tamis.io.readers import expand_inputs

    local_order = [Path(p).relative_to(local).as_posix() for p in expand_inputs([str(local)])]
    remote = expand_inputs([f"s3://{bucket}/in/"])
    assert [u[len(f"s3://{bucket}/in/") :] for u in remote] == local_order
    assert expand_inputs([f"s3://{bucket}/in"]) == remote  # with or without the slash
    assert expand_inputs([f"s3://{bucket}/in/b/*.jsonl"]) == [f"s3://{bucket}/in/b/10.jsonl", f"s3://{bucket}/in/b/2.jsonl"]
    assert expand_inputs([f"s3://{bucket}/in/a.jsonl"]) == [f"s3://{bucket}/in/a.jsonl"]
    from tamis.errors import ConfigError

    with pytest.raises(ConfigError, match="not found"):
        expand_inputs([f"s3://{bucket}/nothing/"])
    with pytest.raises(ConfigError, match="matches no object"):
        expand_inputs([f"s3://{bucket}/in/*.parquet"])


def test_an_interrupted_upload_publishes_nothing(s3: Any, bucket: str, tmp_path: Path) -> None:
    """fsspec commits a buffered file on close() even inside an exception; tamis's upload must not."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1 << 20) * 40)  # 40 MiB: a multipart upload of three parts
    url = f"s3://{bucket}/run/output/part-00000-0000.jsonl.gz"
    blocks = []

    def interrupt_after_two_parts(block: bytes) -> None:
        blocks.append(len(block))
        if len(blocks) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        storage.upload_file(str(big), url, on_block=interrupt_after_two_parts)
    assert objects(s3, bucket) == {}
    assert unfinished_uploads(s3, bucket) == []  # the multipart upload was aborted, not left billed

    # The hazard being guarded against: the same interruption through fsspec's own `with`.
    fs = storage.filesystem(url)
    with pytest.raises(KeyboardInterrupt), fs.open(f"{bucket}/naive/part.bin", "wb", block_size=5 << 20) as fh:
        fh.write(b"x" * 1000)
        raise KeyboardInterrupt
    assert objects(s3, bucket, "naive/") == {"naive/part.bin": 1000}  # a truncated object, published

    storage.upload_file(str(big), url)
    assert objects(s3, bucket) == {"run/output/part-00000-0000.jsonl.gz": 40 << 20, "naive/part.bin": 1000}


def test_part_size_keeps_any_object_under_the_part_limit() -> None:
    for size in (0, 1, 5 << 20, 200 << 30, 5 << 40):
        part = storage.part_size(size)
        assert part >= 16 << 20
        assert -(-size // part) <= 9_000  # S3 allows 10,000 parts


def test_markers_are_created_once(s3: Any, bucket: str) -> None:
    url = f"s3://{bucket}/run/_markers/seg0-task00000.json"
    assert storage.create_exclusive(url, b'{"a": 1}') is True
    assert storage.create_exclusive(url, b'{"a": 2}') is False  # If-None-Match: * refused it
    assert storage.read_bytes(url) == b'{"a": 1}'


def test_listings_are_fresh_when_another_process_writes(s3: Any, bucket: str) -> None:
    url = f"s3://{bucket}/run/"
    s3.put_object(Bucket=bucket, Key="run/a", Body=b"1")
    assert [u for u, _ in storage.list_files(url)] == [f"s3://{bucket}/run/a"]
    s3.put_object(Bucket=bucket, Key="run/b", Body=b"2")  # not through this client: its cache is stale
    assert [u for u, _ in storage.list_files(url, fresh=True)] == [f"s3://{bucket}/run/a", f"s3://{bucket}/run/b"]


def test_reads_resume_at_their_offset_after_throttling(s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(3 << 20)
    s3.put_object(Bucket=bucket, Key="obj", Body=data)
    reader = storage.RetryingReader(f"s3://{bucket}/obj", block_size=1 << 20)
    monkeypatch.setattr(storage, "backoff", lambda attempt: 0.0)
    failures = iter([OSError("SlowDown: Please reduce your request rate."), OSError("503 Service Unavailable")])
    real_open = reader._open

    def flaky_open() -> None:
        real_open()
        inner = reader._fh
        real_read = inner.read

        def read(n: int = -1) -> bytes:
            failure = next(failures, None)
            if failure is not None:
                raise failure
            return real_read(n)

        inner.read = read

    reader._drop()
    reader._open = flaky_open  # type: ignore[method-assign]
    got = reader.read(1000)
    got += reader.read()  # after two failures, each re-opened at its offset
    assert got == data
    with pytest.raises(FileNotFoundError):
        storage.open_input(f"s3://{bucket}/missing")


def test_json_documents_on_a_store_are_told_from_json_lines_by_a_small_read(s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .json(.gz) object is told apart (JSON array or JSON Lines) from its first 16 kB, one
    ranged GET, never a 64 MiB read block: C4's 1,024 .json.gz objects would be 64 GB at planning."""
    from tamis.io.readers import ReaderOptions, plan_tasks, read_task

    records = [{"id": f"r{i}", "text": f"Record {i} " + "word " * 3000} for i in range(40)]
    s3.put_object(Bucket=bucket, Key="in/array.json.gz", Body=gzip.compress(orjson.dumps(records, option=orjson.OPT_INDENT_2)))
    s3.put_object(Bucket=bucket, Key="in/lines.json", Body=b"".join(orjson.dumps(r | {"id": "l" + r["id"]}) + b"\n" for r in records))
    asked: list[int] = []
    real_head = storage.read_head

    def read_head(url: str, n: int) -> bytes:
        asked.append(n)
        return real_head(url, n)

    def no_block_reads(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("planning opened a read-block reader")

    with monkeypatch.context() as patch:
        patch.setattr(storage, "read_head", read_head)
        patch.setattr(storage, "RetryingReader", no_block_reads)
        tasks = plan_tasks([f"s3://{bucket}/in/"], ReaderOptions(batch_bytes=0))
    assert [t.format for t in tasks] == ["json", "jsonl"]
    assert asked == [16 << 10, 16 << 10]
    assert len(real_head(f"s3://{bucket}/in/lines.json", 16 << 10)) == 16 << 10  # a ranged read: 16 kB of a larger object
    read = [d.id for t in tasks for d in read_task(t, ReaderOptions())]
    assert read == [r["id"] for r in records] + ["l" + r["id"] for r in records]


def test_storage_options_parse_and_configure_s3() -> None:
    options = storage.parse_storage_options(["anon=false", "client_kwargs.region_name=eu-west-3", "default_block_size=33554432", "profile=prod"])
    assert options == {"anon": False, "client_kwargs": {"region_name": "eu-west-3"}, "default_block_size": 33554432, "profile": "prod"}
    from tamis.errors import ConfigError

    with pytest.raises(ConfigError, match="KEY=VALUE"):
        storage.parse_storage_options(["novalue"])
    merged = storage.s3_options({"endpoint_url": "http://10.0.0.5:9000"})
    assert merged["config_kwargs"]["s3"] == {"addressing_style": "path"}
    assert merged["config_kwargs"]["retries"]["mode"] == "adaptive"


# ---------------------------------------------------------------------------- whole runs


def _write_inputs(directory: Path) -> list[str]:
    """Generated JSONL (gzip) with duplicates and near duplicates and three bad records, one
    plain JSONL file large enough to be read in byte ranges, and a folder of text pages."""
    ids = write_generated_corpus(directory, 1_500, 6, seed=11)
    plain = directory / "z-plain.jsonl"
    records = [{"id": f"plain-{i}", "text": f"Plain record number {i} about the river and the hills, written for the range reader. " * 3} for i in range(2_000)]
    records += [{"id": f"plain-dup-{i}", "text": records[i]["text"]} for i in range(0, 2_000, 97)]
    plain.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    pages = directory / "pages"
    pages.mkdir()
    for i in range(16):
        (pages / f"page-{i:03d}.txt").write_text(f"A page of plain text, number {i}, with enough words to be a document.\n" * (1 + i % 3))
    return [*ids, *(r["id"] for r in records), *(f"pages/page-{i:03d}" for i in range(16))]


def _config(inputs: list[str]) -> dict[str, Any]:
    steps = [{"step": "normalize"}, {"step": "repetition"}, {"step": "exact_dedup"}, {"step": "minhash"}]
    return {
        "input": inputs,
        "shard_size_mb": 1,
        "report": False,
        "steps": steps,
        "reader": {"chunk_bytes": 128 << 10, "text_batch_files": 8},
    }


def _command(config: Path, out: str, *flags: str) -> list[str]:
    return [sys.executable, "-m", "tamis.cli", "run", str(config), "-o", out, "-q", "-w", "2", *flags]


def _run(command: list[str], log: Path, expect: int = 1) -> None:
    with open(log, "ab") as fh:
        done = subprocess.run(command, stdout=fh, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT, check=False)
    assert done.returncode == expect, log.read_text(errors="replace")[-3000:]


def _normalised(snapshot: dict[str, bytes], local_inputs: str, remote_inputs: str) -> dict[str, bytes]:
    """A run's snapshot with the input location written one way (records name their source)."""
    out = {}
    for name, data in snapshot.items():
        data = data.replace(remote_inputs.encode(), b"INPUT").replace(local_inputs.encode(), b"INPUT")
        if name == "stats.json":
            stats = orjson.loads(data)
            stats.pop("config_fingerprint")  # covers the input list, which names the store
            data = orjson.dumps(stats, option=orjson.OPT_SORT_KEYS)
        out[name] = data
    return out


@pytest.fixture(scope="module")
def run_case(s3: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Inputs on local disk and in a bucket, and the reference: the run on local disk."""
    root = tmp_path_factory.mktemp("s3case")
    ids = _write_inputs(root / "in")
    bucket = f"tamis-case-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    upload_tree(s3, root / "in", bucket, "data/in")
    s3.put_object(Bucket=bucket, Key="data/in/pages/", Body=b"")
    local_config = root / "local.yaml"
    local_config.write_text(orjson.dumps(_config([str(root / "in")])).decode())
    remote_config = root / "remote.yaml"
    remote_config.write_text(orjson.dumps(_config([f"s3://{bucket}/data/in/"])).decode())
    _run(_command(local_config, str(root / "local")), root / "local.log")
    reference = snapshot_run(root / "local")
    assert_nothing_lost(reference, ids)
    return {
        "root": root,
        "ids": ids,
        "bucket": bucket,
        "config": remote_config,
        "reference": _normalised(reference, str(root / "in"), f"s3://{bucket}/data/in"),
    }


def _assert_same_as_local(s3: Any, case: dict[str, Any], prefix: str, tmp_path: Path) -> None:
    bucket = case["bucket"]
    keys = objects(s3, bucket, prefix + "/")
    assert not [k for k in keys if ".tmp-" in k or k.endswith(".partial")], "a temporary object was left"
    assert unfinished_uploads(s3, bucket) == []
    local = download_run(s3, bucket, prefix, tmp_path / "downloaded")
    result = _normalised(snapshot_run(local), str(case["root"] / "in"), f"s3://{bucket}/data/in")
    reference = case["reference"]
    assert sorted(result) == sorted(reference)  # the same object names under output/ and rejects/
    for name in reference:
        assert result[name] == reference[name], f"{name} differs from the local run"
    assert_nothing_lost(result, case["ids"])
    # Every object of the run is listed by a marker (with its size), or is one of the run's own files.
    listed: dict[str, int] = {}
    for key in keys:
        if key.startswith(f"{prefix}/_markers/"):
            marker = orjson.loads((local / key[len(prefix) + 1 :]).read_bytes())
            listed.update({rel: info["size"] for rel, info in marker.get("files", {}).items()})
    own = {"config.resolved.yaml", "stats.json", "errors.jsonl", "report.html", "README.md"}
    for key, size in keys.items():
        rel = key[len(prefix) + 1 :]
        if not rel.startswith("_markers/") and rel not in own:
            assert listed.get(rel) == size, f"{rel} is not listed by a marker"


@pytest.mark.slow
def test_s3_to_s3_run_equals_the_local_run(s3: Any, run_case: dict[str, Any], tmp_path: Path) -> None:
    url = f"s3://{run_case['bucket']}/runs/whole"
    log = tmp_path / "run.log"
    _run(_command(run_case["config"], url, "--storage-option", f"secret={SECRET}", "--storage-option", "key=testing"), log)
    _assert_same_as_local(s3, run_case, "runs/whole", tmp_path)
    assert SECRET not in log.read_text(errors="replace")
    for key in objects(s3, run_case["bucket"], "runs/whole/"):
        body = s3.get_object(Bucket=run_case["bucket"], Key=key)["Body"].read()
        if key.endswith(".gz"):
            body = gzip.decompress(body)
        assert SECRET.encode() not in body, f"the storage option's secret was written into {key}"
    # The report of a finished run on the store, written there.
    report = subprocess.run([sys.executable, "-m", "tamis.cli", "report", url], capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert report.returncode == 0, report.stderr[-2000:]
    assert b"</html>" in s3.get_object(Bucket=run_case["bucket"], Key="runs/whole/report.html")["Body"].read()
    # A non-empty run directory needs --resume or --overwrite, as on disk; --overwrite takes it back.
    _run(_command(run_case["config"], url), log, expect=2)
    _run(_command(run_case["config"], url, "--overwrite"), log)
    _assert_same_as_local(s3, run_case, "runs/whole", tmp_path / "again")


def _marker_count(s3: Any, bucket: str, prefix: str, start: str = "") -> int:
    return len([k for k in objects(s3, bucket, f"{prefix}/_markers/{start}")])


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as fh:
        return subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def _signal_when(proc: subprocess.Popen[bytes], sig: int, ready: Any, log: Path) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before the signal:\n{log.read_text(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the signal point was never reached")
        time.sleep(0.05)
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"the run did not stop after signal {sig}")
    time.sleep(0.5)  # the group's other processes
    if sig != signal.SIGKILL:
        assert proc.returncode != 0


def _assert_every_object_whole(s3: Any, bucket: str, prefix: str) -> None:
    """Each object under a final name reads to its end: gzip complete, every line JSON."""
    keys = objects(s3, bucket, prefix + "/")
    assert not [k for k in keys if ".tmp-" in k or k.endswith(".partial")]
    for key in keys:
        rel = key[len(prefix) + 1 :]
        if not rel.startswith(("output/", "rejects/")):
            continue
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        lines = gzip.decompress(body).splitlines()  # raises on a truncated member
        assert lines, f"{key} is empty"
        for line in lines:
            orjson.loads(line)


@pytest.mark.slow
def test_sigkill_halfway_then_resume_gives_the_uninterrupted_result(s3: Any, run_case: dict[str, Any], tmp_path: Path) -> None:
    bucket, prefix = run_case["bucket"], "runs/killed"
    url, log = f"s3://{bucket}/{prefix}", tmp_path / "run.log"
    proc = _start(_command(run_case["config"], url), log)
    _signal_when(proc, signal.SIGKILL, lambda: _marker_count(s3, bucket, prefix, "seg0-") >= 3, log)
    assert "runs/killed/stats.json" not in objects(s3, bucket, prefix + "/")
    before = {k: v for k, v in objects(s3, bucket, f"{prefix}/_markers/").items()}
    _run(_command(run_case["config"], url, "--resume"), log)
    after = objects(s3, bucket, f"{prefix}/_markers/")
    assert {k: after.get(k) for k in before} == before  # finished tasks were not redone
    _assert_same_as_local(s3, run_case, prefix, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_or_sigint_halfway_leaves_no_incomplete_object(s3: Any, run_case: dict[str, Any], tmp_path: Path, sig: int) -> None:
    bucket, prefix = run_case["bucket"], f"runs/signal-{sig}"
    url, log = f"s3://{bucket}/{prefix}", tmp_path / "run.log"
    proc = _start(_command(run_case["config"], url), log)
    _signal_when(proc, sig, lambda: len([k for k in objects(s3, bucket, f"{prefix}/output/")]) >= 2, log)
    _assert_every_object_whole(s3, bucket, prefix)
    _run(_command(run_case["config"], url, "--resume"), log)
    _assert_same_as_local(s3, run_case, prefix, tmp_path)


def _become_node(staging: str) -> None:
    """Initializer of a simulated cluster node: a staging folder no other process shares."""
    os.environ["TAMIS_STAGING_DIR"] = staging


class NodesWithoutSharedDisk:
    """An executor whose calls run on two processes ("nodes") that share nothing with each other
    or the driver but the store: each has its own staging folder. Calls alternate between
    them, so a task's input comes from work the other node did."""

    name = "nodes-without-shared-disk"
    workers = 2

    def __init__(self, base: Path) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        self.nodes = [ProcessPoolExecutor(1, mp_context=context, initializer=_become_node, initargs=(str(base / f"node{i}"),)) for i in range(2)]
        self.turn = 0

    def map(self, calls: list[Any], label: str) -> tuple[dict[str, Any], dict[str, str]]:
        futures = {}
        for name, fn, args in calls:
            futures[name] = self.nodes[self.turn % 2].submit(fn, *args)
            self.turn += 1
        results, failed = {}, {}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except Exception as exc:  # noqa: BLE001 - reported as the task's failure
                failed[name] = f"{type(exc).__name__}: {exc}"
        return results, failed

    def close(self) -> None:
        for node in self.nodes:
            node.shutdown()


@pytest.mark.slow
def test_nodes_without_a_shared_filesystem_see_the_run_through_the_store(
    s3: Any, run_case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tamis.pipeline import load_config_file, make_config
    from tamis.runner import run

    prefix = "runs/nodes"
    monkeypatch.setenv("TAMIS_STAGING_DIR", str(tmp_path / "driver"))
    config = make_config(load_config_file(str(run_case["config"])), {"output": f"s3://{run_case['bucket']}/{prefix}"})
    executor = NodesWithoutSharedDisk(tmp_path)
    try:
        outcome = run(config, executor=executor)
    finally:
        executor.close()
    assert not outcome.failed, outcome.failed
    _assert_same_as_local(s3, run_case, prefix, tmp_path)
    for node in ("node0", "node1"):  # both nodes worked, each in its own folder
        staged = [p for p in (tmp_path / node).rglob("*") if p.is_file()]
        assert any("/_markers/" in str(p) for p in staged), node
    assert not list((tmp_path / "driver").rglob("*.json"))  # the driver's staging copy is gone
