"""The Ray executor: same output as the local executor, retries of dead workers, clear errors.

Tests marked ``ray`` run against a real single-node cluster on loopback (the ``ray_cluster``
fixture in conftest.py) and are skipped, with the reason, only where Ray is not installed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from conftest import assert_nothing_lost, snapshot_records, snapshot_run

from tamis.cli import main
from tamis.errors import ConfigError, TaskError
from tamis.pipeline import RunConfig
from tamis.recipes import recipe
from tamis.runner import run

# Runs tamis with Ray made unimportable, as on a machine without the extra.
WITHOUT_RAY = "import sys; sys.modules['ray'] = None; from tamis.cli import main; sys.exit(main(sys.argv[1:]))"


def test_missing_ray_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    from tamis.executors.ray import RayExecutor

    with pytest.raises(ConfigError, match=r"pip install 'tamis\[ray\]'"):
        RayExecutor(1)


def test_local_executor_needs_no_ray_and_ray_executor_says_how_to_get_it(tmp_path: Path, generated_corpus) -> None:
    generated_corpus(tmp_path / "in", 200, 2)
    common = [sys.executable, "-c", WITHOUT_RAY, "run", "-i", str(tmp_path / "in"), "-q", "--no-report", "-w", "2"]
    local = subprocess.run([*common, "-o", str(tmp_path / "local")], capture_output=True, text=True, timeout=120, check=False)
    assert local.returncode == 1, local.stderr  # 1: done, with the planted bad records listed
    assert "[OK]" in local.stdout
    ray = subprocess.run([*common, "-o", str(tmp_path / "ray"), "--executor", "ray"], capture_output=True, text=True, timeout=120, check=False)
    assert ray.returncode == 2
    assert "pip install 'tamis[ray]'" in ray.stderr
    assert "Traceback" not in ray.stderr


@pytest.mark.parametrize("output", ["https://example.org/run", "nosuchstore://bucket/run"])
def test_an_output_store_that_cannot_hold_a_run_is_refused_with_the_reason(tmp_path: Path, output: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Object stores hold run directories (tests/test_object_storage.py); a read-only scheme or
    one no backend serves is a usage error before any work, in one line."""
    (tmp_path / "in.jsonl").write_text('{"id": "a", "text": "hello"}\n')
    code = main(["run", "-i", str(tmp_path / "in.jsonl"), "-o", output, "-q", "--executor", "ray"])
    err = capsys.readouterr().err
    assert code == 2
    assert "read-only" in err or "no storage backend" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------------------- on a real cluster


@pytest.mark.ray
@pytest.mark.slow
def test_local_and_ray_runs_are_identical(ray_cluster, tmp_path: Path, generated_corpus) -> None:
    """The default recipe, dedup included, gives the same files on both executors."""
    ids = generated_corpus(tmp_path / "in", 1200, 6)
    outcomes = {}
    for executor in ("local", "ray"):
        config = RunConfig(
            input=[str(tmp_path / "in")],
            output=str(tmp_path / executor),
            executor=executor,
            workers=2,
            ray_address=ray_cluster.address if executor == "ray" else None,
            steps=recipe("default"),
            report=False,
        )
        outcomes[executor] = run(config)
        assert not outcomes[executor].failed
    local, ray = snapshot_run(tmp_path / "local"), snapshot_run(tmp_path / "ray")
    assert sorted(ray) == sorted(local)
    for name in local:
        assert ray[name] == local[name], f"{name} differs between the local and the Ray executor"
    assert outcomes["ray"].stats["run"]["executor"] == "ray"
    assert_nothing_lost(ray, ids)
    # The corpus really exercised dedup and the readers' rejects.
    reasons = {r["reason"] for r in snapshot_records(ray, "rejects")}
    assert "exact_dedup:duplicate" in reasons
    assert {"reader:invalid_json", "reader:missing_text"} <= reasons
    duplicates = [r for r in snapshot_records(ray, "rejects") if r["reason"] == "exact_dedup:duplicate"]
    assert all(r["duplicate_of"] for r in duplicates)
    # Nothing in a document says where or when it was processed.
    host = socket.gethostname()
    for record in snapshot_records(ray, "output") + snapshot_records(ray, "rejects"):
        blob = orjson.dumps(record["metadata"]).decode()
        assert host not in blob
        assert not {"host", "hostname", "worker", "worker_id", "pid", "timestamp", "time"} & set(record["metadata"])


@pytest.mark.ray
def test_task_errors_are_reported_once_not_retried(ray_cluster, tmp_path: Path) -> None:
    from tamis.executors.ray import RayExecutor

    attempts = tmp_path / "attempts"

    def fail(path: str) -> None:
        with open(path, "a") as fh:
            fh.write("x")
        raise TaskError("input error (--strict): bad record at line 3")

    executor = RayExecutor(2, address=ray_cluster.address)
    try:
        results, failed = executor.map([("bad", fail, (str(attempts),)), ("good", pow, (2, 10)), ("bug", divmod, (1, 0))], "test")
    finally:
        executor.close()
    assert results == {"good": 1024}
    assert failed["bad"] == "input error (--strict): bad record at line 3"
    # Any other exception comes with the worker's traceback, last line first in the summary.
    assert failed["bug"].splitlines()[-1] == "ZeroDivisionError: integer division or modulo by zero"
    assert "\x1b[" not in failed["bug"]
    assert attempts.read_text() == "x"  # an exception in the task is not retried


@pytest.mark.ray
def test_a_task_whose_worker_dies_is_retried(ray_cluster, tmp_path: Path) -> None:
    from tamis.executors.ray import RayExecutor

    def die_on_first_attempt(flag: str) -> str:
        if not os.path.exists(flag):
            Path(flag).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return "second attempt"

    def always_die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    executor = RayExecutor(2, address=ray_cluster.address, max_retries=1)
    try:
        results, failed = executor.map([("once", die_on_first_attempt, (str(tmp_path / "flag"),)), ("always", always_die, ())], "test")
    finally:
        executor.close()
    assert results == {"once": "second attempt"}
    assert (tmp_path / "flag").exists()
    assert set(failed) == {"always"}
    assert "worker died 2 times" in failed["always"]


@pytest.mark.ray
def test_unreachable_cluster_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'tamis[ray]'")
    from conftest import _free_ports

    (tmp_path / "in.jsonl").write_text('{"id": "a", "text": "hello"}\n')
    address = f"127.0.0.1:{_free_ports(1)[0]}"
    code = main(["run", "-i", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), "-q", "--executor", "ray", "--ray-address", address])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot connect to the Ray cluster at '{address}'" in err
    assert "Traceback" not in err


def test_a_ray_address_without_the_ray_executor_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in.jsonl").write_text('{"id": "a", "text": "hello"}\n')
    code = main(["run", "-i", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out"), "-q", "--ray-address", "10.0.0.1:6379"])
    assert code == 2
    assert "add --executor ray" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
