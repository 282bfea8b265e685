"""Shared fixtures."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# ---------------------------------------------------------------------------- Ray cluster

# Set for the whole test session, before anything imports Ray (it reads some of them at
# import): every Ray process a test starts or connects to, in this process or a child,
# advertises and listens on loopback only (Ray's switch for that is the OS X / Windows one),
# sends no usage statistics, and authenticates with a token of its own that lives in the
# environment only (nothing is read from or written to ~/.ray).
os.environ.update(
    {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),
    }
)


def _free_ports(count: int) -> list[int]:
    """Ports the kernel says are free on loopback right now (held open together, so distinct)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _session_processes(session_id: int) -> list[int]:
    """Every live process of one session (``ray start`` below runs in a session of its own)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp session ...
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == session_id and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def _stop_session(session_id: int, grace: float = 3.0) -> None:
    """SIGTERM, then SIGKILL, the processes of that session, and only those."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _session_processes(session_id):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while _session_processes(session_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _session_processes(session_id):
            return


class RayCluster:
    """A running single-node Ray cluster on loopback; ``address`` is what ``--ray-address`` takes."""

    def __init__(self, address: str, temp_dir: str, session_id: int, env: dict[str, str]) -> None:
        self.address = address
        self.temp_dir = temp_dir
        self.session_id = session_id
        self.env = env

    def worker_pids(self, task_prefix: str = "") -> dict[int, str]:
        """Worker processes of this cluster, by pid, with the task they run (``IDLE`` if none).

        Ray titles a busy worker ``ray::<task name>``; the Ray executor names each task after
        its completion marker (``seg0-task00003``, ``stage0-resolve-0000`` ...).
        """
        found = {}
        for pid in _session_processes(self.session_id):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace").strip()
            except OSError:
                continue
            if title.startswith("ray::"):
                task = title.removeprefix("ray::").strip()
                if task.startswith(task_prefix) and task not in ("DashboardAgent", "RuntimeEnvAgent"):
                    found[pid] = task
        return found


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """A real Ray cluster for the session: ``ray start --head`` on loopback with 2 CPUs.

    Usage statistics off, no dashboard, a private temp dir and explicit free ports, a small
    object store. ``ray start`` runs in a new session, so teardown stops exactly the
    processes it started (never ``ray stop``, which stops every Ray process on the machine).
    """
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed: pip install 'tamis[ray]'")
    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
    if ray_cli is None:
        pytest.skip("the `ray` command is not on PATH beside this Python")
    # Short and private: Ray puts unix sockets under it, whose paths must stay under 108 bytes.
    temp_dir = tempfile.mkdtemp(prefix="tamis-ray-")
    env = dict(os.environ)
    gcs, node_manager, object_manager, dashboard, agent_http, agent_grpc, runtime_env, metrics, *worker_ports = _free_ports(24)
    command = [
        ray_cli, "start", "--head",
        "--node-ip-address", "127.0.0.1",
        "--port", str(gcs),
        "--num-cpus", "2",
        "--object-store-memory", str(100 * 1000 * 1000),
        "--include-dashboard", "false",
        "--dashboard-port", str(dashboard),
        "--disable-usage-stats",
        "--temp-dir", temp_dir,
        "--node-manager-port", str(node_manager),
        "--object-manager-port", str(object_manager),
        "--dashboard-agent-listen-port", str(agent_http),
        "--dashboard-agent-grpc-port", str(agent_grpc),
        "--runtime-env-agent-port", str(runtime_env),
        "--metrics-export-port", str(metrics),
        "--worker-port-list", ",".join(map(str, worker_ports)),
    ]  # fmt: skip
    starter = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    session_id = starter.pid  # the session leader's pid is the session id
    try:
        output, _ = starter.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        _stop_session(session_id)
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    if starter.returncode != 0:
        _stop_session(session_id)
        shutil.rmtree(temp_dir, ignore_errors=True)
        pytest.fail(f"`ray start --head` failed ({starter.returncode}):\n{output[-3000:]}")
    try:
        yield RayCluster(f"127.0.0.1:{gcs}", temp_dir, session_id, env)
    finally:
        _stop_session(session_id)
        shutil.rmtree(temp_dir, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` runs 2 processes), every test that uses the Ray cluster
    runs in one worker, so the session starts one cluster, not one per worker."""
    for item in items:
        if "ray_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("ray"))


# ---------------------------------------------------------------------------- generated corpus


def _vocabulary() -> dict[str, list[str]]:
    """Per language, the words of the demo generator's phrase banks (real words, real stop words)."""
    from tamis.demo import BANKS

    vocab = {}
    for lang, bank in BANKS.items():
        words = {w.strip("(),.").lower() for phrases in bank.values() for phrase in phrases for w in phrase.split()}
        vocab[lang] = sorted(w for w in words if w)
    return vocab


def _document(rng: random.Random, words: list[str]) -> str:
    """Sentences of words drawn at random: varied enough that no quality filter sees repetition."""
    paragraphs = []
    for _ in range(rng.randint(3, 7)):
        sentences = []
        for _ in range(rng.randint(3, 6)):
            sentence = " ".join(rng.choice(words) for _ in range(rng.randint(8, 16)))
            sentences.append(sentence[0].upper() + sentence[1:] + ".")
        paragraphs.append(" ".join(sentences))
    return "\n".join(paragraphs)


def _near_duplicate(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    for _ in range(max(1, len(words) // 60)):
        words[rng.randrange(len(words))] = rng.choice(words)
    return " ".join(words)


def write_generated_corpus(directory: Path, n_docs: int, files: int, seed: int = 0) -> list[str]:
    """A multilingual corpus with exact duplicates (some re-cased or re-spaced), near duplicates
    (a word in 60 replaced) and pages whose paragraphs repeat, cut into ``files`` JSONL files
    (every other one gzipped), plus one small file of bad records. Duplicates refer to earlier
    documents of any file, so dedup must look across tasks. Returns the generated ids."""
    import gzip

    import orjson

    rng = random.Random(seed)
    vocab = _vocabulary()
    languages = sorted(vocab)
    originals: list[str] = []
    records = []
    for i in range(n_docs):
        roll = rng.random()
        if originals and roll < 0.10:
            text = rng.choice(originals)
            text = text.upper() if roll < 0.02 else text.replace(" ", "  ", 3) if roll < 0.04 else text
        elif originals and roll < 0.18:
            text = _near_duplicate(rng, rng.choice(originals))
        elif roll < 0.22:
            text = _document(rng, vocab[rng.choice(languages)])
            lines = text.split("\n")
            text = "\n".join(lines + lines[1:])
        else:
            text = _document(rng, vocab[rng.choice(languages)])
            originals.append(text)
        records.append({"id": f"gen-{i:06d}", "text": text})
    directory.mkdir(parents=True, exist_ok=True)
    per_file = -(-len(records) // files)
    for k in range(files):
        blob = b"".join(orjson.dumps(r) + b"\n" for r in records[k * per_file : (k + 1) * per_file])
        if k % 2:
            with gzip.open(directory / f"part-{k:03d}.jsonl.gz", "wb", compresslevel=1) as fh:
                fh.write(blob)
        else:
            (directory / f"part-{k:03d}.jsonl").write_bytes(blob)
    bad = [b'{"id": "bad-json", "text": "unterminated', b'{"id": "no-text"}', b'{"id": "empty", "text": ""}']
    (directory / "zz-bad.jsonl").write_bytes(b"\n".join(bad) + b"\n")
    return [r["id"] for r in records]


@pytest.fixture
def generated_corpus() -> object:
    """``generated_corpus(directory, n_docs, files, seed=0)`` writes a corpus; see above."""
    return write_generated_corpus


# ---------------------------------------------------------------------------- run directories


def snapshot_run(root: Path) -> dict[str, bytes]:
    """What a run produced, comparable byte for byte: every output and reject shard
    (decompressed), ``errors.jsonl``, and ``stats.json`` without its ``run`` key."""
    import gzip

    import orjson
    import zstandard

    files: dict[str, bytes] = {}
    for sub in ("output", "rejects"):
        for path in sorted((root / sub).glob("*")):
            data = path.read_bytes()
            if path.name.endswith(".gz"):
                data = gzip.decompress(data)
            elif path.name.endswith(".zst"):
                data = zstandard.ZstdDecompressor().stream_reader(data).read()
            files[f"{sub}/{path.name}"] = data
    if (root / "errors.jsonl").exists():
        files["errors.jsonl"] = (root / "errors.jsonl").read_bytes()
    stats = orjson.loads((root / "stats.json").read_bytes())
    stats.pop("run")
    files["stats.json"] = orjson.dumps(stats, option=orjson.OPT_SORT_KEYS)
    return files


def snapshot_records(snapshot: dict[str, bytes], sub: str) -> list[dict]:
    import orjson

    return [orjson.loads(line) for name, data in sorted(snapshot.items()) if name.startswith(f"{sub}/") for line in data.splitlines()]


def assert_nothing_lost(snapshot: dict[str, bytes], generated_ids: list[str]) -> None:
    """read = kept + rejected, every generated id is somewhere, and no id is written twice."""
    import orjson

    stats = orjson.loads(snapshot["stats.json"])
    kept = [r["id"] for r in snapshot_records(snapshot, "output")]
    rejected = [r["id"] for r in snapshot_records(snapshot, "rejects")]
    assert stats["read"] == stats["kept"] + stats["rejected_total"]
    assert (len(kept), len(rejected)) == (stats["kept"], stats["rejected_total"])
    every = kept + rejected
    assert len(every) == len(set(every)), "an id was written twice"
    assert set(generated_ids) <= set(every)
