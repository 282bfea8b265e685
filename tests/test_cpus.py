"""Each task process's CPU share: set by the executor, read by the steps that would start a
helper thread (the dedup first pass's sketch thread)."""

from __future__ import annotations

import os

import pytest

from tamis.cpus import PROCESS_CPUS_ENV, process_cpu_share, usable_cpus, worker_share
from tamis.dedup.minhash import sketch_in_thread
from tamis.executors.local import LocalExecutor


def _share_and_thread() -> tuple[str | None, bool]:
    return os.environ.get(PROCESS_CPUS_ENV), sketch_in_thread()


def test_share_defaults_to_every_usable_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROCESS_CPUS_ENV, raising=False)
    assert process_cpu_share() == usable_cpus()
    monkeypatch.setenv(PROCESS_CPUS_ENV, "not a number")
    assert process_cpu_share() == usable_cpus()


def test_worker_share_divides_the_usable_cpus() -> None:
    cpus = usable_cpus()
    assert worker_share(1) == cpus
    assert worker_share(cpus) == 1
    assert worker_share(cpus * 4) == 1
    assert worker_share(0) == cpus


def test_sketch_thread_follows_the_share_unless_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAMIS_SKETCH_THREAD", raising=False)
    monkeypatch.setenv(PROCESS_CPUS_ENV, "1")
    assert not sketch_in_thread()
    monkeypatch.setenv(PROCESS_CPUS_ENV, "2")
    assert sketch_in_thread()
    monkeypatch.setenv("TAMIS_SKETCH_THREAD", "1")
    monkeypatch.setenv(PROCESS_CPUS_ENV, "1")
    assert sketch_in_thread()


def test_pool_workers_get_their_share(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAMIS_SKETCH_THREAD", raising=False)
    executor = LocalExecutor(workers=2)
    try:
        results, failed = executor.map([(f"t{i}", _share_and_thread, ()) for i in range(2)], "share")
    finally:
        executor.close()
    assert not failed
    expected = worker_share(2)
    assert {results[f"t{i}"] for i in range(2)} == {(str(expected), expected >= 2)}
