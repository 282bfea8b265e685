"""Kill a run with SIGKILL, resume it, get exactly the output of a run that was never killed.

Every test starts ``tamis run`` as a child in a process group of its own, kills it mid-run at a
point read from its completion markers, and resumes with ``--resume``. The final run
directory must equal an uninterrupted run's byte for byte (after decompression), with
``read == kept + rejected``, every id once, no finished task redone and no partial file left.

The recipe is the dedup core of the default one (normalize, repetition, exact_dedup, minhash):
three segments and two global stages, one of them multi-round, so kills land in per-task
work, between stages and in global passes. Output shards are capped at 1 MB so each task
commits several shards and a kill can fall between two of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import assert_nothing_lost, snapshot_run

from tamis.io.atomic import TMP_MARK

N_DOCS = 12_000
N_FILES = 12  # + one file of bad records: 13 tasks
RUN_TIMEOUT = 180
EXIT_DONE_WITH_INPUT_ERRORS = 1  # the corpus plants three bad records


def _command(config: Path, out: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "tamis.cli", "run", str(config), "-o", str(out), "-q", *flags]


def _start(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with open(log, "ab") as fh:
        return subprocess.Popen(command, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _finish(command: list[str], log: Path, env: dict[str, str] | None = None) -> None:
    with open(log, "ab") as fh:
        done = subprocess.run(command, stdout=fh, stderr=subprocess.STDOUT, env=env, timeout=RUN_TIMEOUT, check=False)
    assert done.returncode == EXIT_DONE_WITH_INPUT_ERRORS, log.read_text(errors="replace")[-3000:]


def _group_alive(pgid: int) -> bool:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def _kill_group_when(proc: subprocess.Popen[bytes], condition: Callable[[], bool], log: Path) -> None:
    """SIGKILL the run's whole process group (driver, pool, forkserver) as soon as ``condition``."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before the kill point:\n{log.read_text(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the kill point was never reached")
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    while _group_alive(proc.pid):
        time.sleep(0.01)


def _markers(out: Path, prefix: str = "") -> dict[str, tuple[int, int]]:
    """Completion markers present now: name -> (inode, mtime), to tell a redone task."""
    found = {}
    for path in (out / "_markers").glob(f"{prefix}*.json"):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        found[path.stem] = (stat.st_ino, stat.st_mtime_ns)
    return found


def _partial_files(out: Path) -> list[Path]:
    return [p for p in out.rglob(f"*{TMP_MARK}*") if p.is_file()]


@pytest.fixture(scope="module")
def crash_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], dict[str, bytes]]:
    """The corpus, its config, and the snapshot of one uninterrupted run."""
    from conftest import write_generated_corpus

    root = tmp_path_factory.mktemp("crash")
    ids = write_generated_corpus(root / "in", N_DOCS, N_FILES, seed=7)
    config = root / "config.yaml"
    steps = [{"step": "normalize"}, {"step": "repetition"}, {"step": "exact_dedup"}, {"step": "minhash"}]
    config.write_text(yaml.safe_dump({"input": [str(root / "in")], "shard_size_mb": 1, "report": False, "steps": steps}))
    _finish(_command(config, root / "reference", "-w", "2"), root / "reference.log")
    reference = snapshot_run(root / "reference")
    assert_nothing_lost(reference, ids)
    assert len([name for name in reference if name.startswith("output/")]) > 13  # several shards per task
    return config, ids, reference


def _assert_same_as_reference(out: Path, crash_case: tuple[Path, list[str], dict[str, bytes]]) -> None:
    _, ids, reference = crash_case
    result = snapshot_run(out)
    assert sorted(result) == sorted(reference)
    for name in reference:
        assert result[name] == reference[name], f"{name} differs from the uninterrupted run"
    assert_nothing_lost(result, ids)
    assert _partial_files(out) == []


@pytest.mark.slow
def test_local_run_killed_three_times_resumes_to_the_same_output(crash_case, tmp_path: Path) -> None:
    config = crash_case[0]
    out, log = tmp_path / "out", tmp_path / "run.log"
    flags = ("-w", "2")
    # exact_dedup and minhash run as one stage (tamis/dedup/fused.py): segment 0 ends with it.
    # (marker prefix, markers, whether to wait for a shard being written: the kill then lands
    # mid-write and leaves a partial file for the resume to clean, rather than by luck of timing).
    kill_points = [
        ("seg0-", 3, True),  # reading: some input tasks done, others half written
        ("stage0-minhash-", 1, False),  # inside minhash's global rounds (after exact dedup's)
        ("seg1-", 2, True),  # writing the output, after both dedup stages
    ]
    done_before: dict[str, tuple[int, int]] = {}
    partial_after_kill = []
    for attempt, (prefix, count, mid_write) in enumerate(kill_points):
        resume = ("--resume",) if attempt else ()

        def kill_point(prefix: str = prefix, count: int = count, mid_write: bool = mid_write, at_start: int = len(done_before)) -> bool:
            # There, and only once this attempt has finished something of its own.
            there = len(_markers(out, prefix)) >= count and len(_markers(out)) > at_start
            return there and (not mid_write or bool(_partial_files(out)))

        _kill_group_when(_start(_command(config, out, *flags, *resume), log), kill_point, log)
        assert not (out / "stats.json").exists()
        partial_after_kill.append(len(_partial_files(out)))
        # A task finished before a kill is never redone: its marker is the very same file.
        now = _markers(out)
        assert {name: now.get(name) for name in done_before} == done_before
        assert len(now) > len(done_before)
        done_before = now
    # Kills landed while tasks were writing: half-written shards were there to clean up.
    assert any(partial_after_kill), partial_after_kill
    _finish(_command(config, out, *flags, "--resume"), log)
    now = _markers(out)
    assert {name: now.get(name) for name in done_before} == done_before
    _assert_same_as_reference(out, crash_case)



@pytest.mark.slow
def test_a_pass_marker_emptied_by_a_crash_reruns_its_pass(crash_case, tmp_path: Path) -> None:
    """Pass markers are renamed into place but not fsynced (tamis/executors/staging.py): after a
    machine crash one may be there but empty. It must read as not done, the pass rerun."""
    config = crash_case[0]
    out, log = tmp_path / "out", tmp_path / "run.log"
    _kill_group_when(_start(_command(config, out, "-w", "2"), log), lambda: len(_markers(out, "stage0-minhash-")) >= 1, log)
    emptied = sorted((out / "_markers").glob("stage0-*.json"))
    assert emptied
    for marker in emptied:
        marker.write_bytes(b"")
    _finish(_command(config, out, "-w", "2", "--resume"), log)
    assert all(marker.stat().st_size > 0 for marker in emptied)  # each pass ran again
    _assert_same_as_reference(out, crash_case)

@pytest.mark.ray
@pytest.mark.slow
def test_ray_driver_killed_resumes_to_the_same_output(ray_cluster, crash_case, tmp_path: Path) -> None:
    config = crash_case[0]
    out, log = tmp_path / "out", tmp_path / "run.log"
    flags = ("-w", "2", "--executor", "ray", "--ray-address", ray_cluster.address)
    # Killing the driver leaves its running tasks to Ray, which stops them once it sees the
    # job gone; the resumed run redoes those tasks from scratch.
    first = _start(_command(config, out, *flags), log, ray_cluster.env)
    _kill_group_when(first, lambda: len(_markers(out, "seg1-")) >= 2, log)
    assert not (out / "stats.json").exists()
    done_before = _markers(out)
    _finish(_command(config, out, *flags, "--resume"), log, ray_cluster.env)
    now = _markers(out)
    assert {name: now.get(name) for name in done_before} == done_before
    _assert_same_as_reference(out, crash_case)


@pytest.mark.ray
@pytest.mark.slow
def test_ray_retries_a_task_whose_worker_is_killed(ray_cluster, crash_case, tmp_path: Path) -> None:
    config = crash_case[0]
    out, log = tmp_path / "out", tmp_path / "run.log"
    flags = ("-w", "2", "--executor", "ray", "--ray-address", ray_cluster.address)
    proc = _start(_command(config, out, *flags), log, ray_cluster.env)
    killed_mid_task = None
    tried: set[str] = set()
    deadline = time.monotonic() + RUN_TIMEOUT
    while killed_mid_task is None:
        assert proc.poll() is None, f"the run ended before a worker could be killed mid-task:\n{log.read_text(errors='replace')[-2000:]}"
        assert time.monotonic() < deadline
        for pid, task in ray_cluster.worker_pids("seg").items():
            marker = out / "_markers" / f"{task}.json"
            if task in tried or marker.exists():
                continue
            tried.add(task)
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.005)
            # The marker is a task's last write: absent once its worker is dead, the task died mid-way.
            if not marker.exists():
                killed_mid_task = task
            break
        time.sleep(0.01)
    assert proc.wait(timeout=RUN_TIMEOUT) == EXIT_DONE_WITH_INPUT_ERRORS, log.read_text(errors="replace")[-3000:]
    assert (out / "_markers" / f"{killed_mid_task}.json").exists()  # Ray ran it again, to the end
    _assert_same_as_reference(out, crash_case)


# ---------------------------------------------------------------------------- what the driver checks


class _NodeWithItsOwnDisk:
    """An executor whose tasks run fine but write to another disk than the driver's, like
    cluster nodes that do not share the run directory."""

    name = "elsewhere"
    workers = 1

    def __init__(self, other_disk: Path) -> None:
        self.other_disk = other_disk

    def map(self, calls, label):
        import dataclasses

        results = {}
        for name, fn, args in calls:
            plan, *rest = args
            results[name] = fn(dataclasses.replace(plan, run_dir=str(self.other_disk)), *rest)
        return results, {}

    def close(self) -> None:
        pass


def test_a_task_done_where_the_driver_cannot_see_it_is_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import write_generated_corpus

    import tamis.executors.base
    from tamis.pipeline import RunConfig
    from tamis.recipes import recipe
    from tamis.runner import run

    monkeypatch.setattr(tamis.executors.base, "MARKER_VISIBILITY_WAIT_S", 0.0)
    write_generated_corpus(tmp_path / "in", 50, 2)
    config = RunConfig(input=[str(tmp_path / "in")], output=str(tmp_path / "out"), steps=recipe("foundation"), report=False)
    outcome = run(config, executor=_NodeWithItsOwnDisk(tmp_path / "node-disk"))
    assert sorted(outcome.failed) == ["seg0-task00000", "seg0-task00001", "seg0-task00002"]
    assert all("filesystem that the driver and every worker share" in text for text in outcome.failed.values())
    assert not (tmp_path / "out" / "stats.json").exists()  # no stats that silently miss documents


def test_overwrite_takes_back_a_directory_left_by_a_run_killed_at_its_start(tmp_path: Path) -> None:
    from conftest import write_generated_corpus

    from tamis.cli import main

    write_generated_corpus(tmp_path / "in", 20, 1)
    out = tmp_path / "out"
    out.mkdir()
    (out / f"config.resolved.yaml{TMP_MARK}4242").write_text("fingerprint: half-writ")
    assert main(["run", "-i", str(tmp_path / "in"), "-o", str(out), "-q", "--no-report", "--recipe", "foundation", "--overwrite"]) == 1
    assert (out / "stats.json").exists()
    assert _partial_files(out) == []
    (out / "notes.txt").write_text("mine")  # a file tamis did not write is still never deleted
    assert main(["run", "-i", str(tmp_path / "in"), "-o", str(out), "-q", "--no-report", "--recipe", "foundation", "--overwrite"]) == 2
    assert (out / "notes.txt").read_text() == "mine"


def test_two_processes_with_the_same_pid_never_share_a_temporary_name() -> None:
    """Cluster nodes in containers often give a task and its retry the same pid."""
    script = "import os; os.getpid = lambda: 7; from pathlib import Path; from tamis.io.atomic import temp_name; print(temp_name(Path('/run/m.json')))"
    names = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip() for _ in range(2)}
    assert len(names) == 2
    assert all(name.startswith(f"/run/m.json{TMP_MARK}7-") for name in names)
