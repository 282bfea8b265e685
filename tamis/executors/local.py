"""The local executor: one machine, a pool of worker processes (all cores by default).

With one worker, tasks run in this process (no pickling, easy to profile). With more, a
``ProcessPoolExecutor`` on the ``forkserver`` start method runs them; a worker that dies
(killed, out of memory) fails only its task, and the pool is rebuilt for the next round.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tamis.cpus import PROCESS_CPUS_ENV, usable_cpus, worker_share
from tamis.errors import TaskError
from tamis.executors.base import Call

if TYPE_CHECKING:  # imported where a pool starts: a one-worker run needs neither (~5 ms of its start)
    from concurrent.futures import Future, ProcessPoolExecutor


def default_workers() -> int:
    return usable_cpus()


class _NoProgress:
    """What a hidden bar would do: nothing (tqdm costs its import and a monitor thread)."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, label: str, enabled: bool) -> Any:
    if not enabled or total <= 1:
        return _NoProgress()
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: it would keep the extract step from forking its child
    return tqdm(total=total, desc=label, unit="task", disable=not enabled or total <= 1, leave=False, file=sys.stderr)


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int | None = None, *, progress: bool = False) -> None:
        self.workers = workers or default_workers()
        self.progress = progress
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("forkserver")
            # The server imports the task code once; every worker forked from it starts with
            # it loaded instead of importing numpy and tamis again (about 0.3 s each).
            context.set_forkserver_preload(["tamis.executors.tasks"])
            init_args = (os.getpid(), worker_share(self.workers))
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=_worker_init, initargs=init_args)
        return self._pool

    def map(self, calls: list[Call], label: str) -> tuple[dict[str, Any], dict[str, str]]:
        results: dict[str, Any] = {}
        failed: dict[str, str] = {}
        if not calls:
            return results, failed
        bar = _progress(len(calls), label, self.progress)
        try:
            if self.workers == 1 or (len(calls) == 1 and self._pool is None):
                for name, fn, args in calls:
                    try:
                        results[name] = fn(*args)
                    except Exception as exc:  # noqa: BLE001 - reported per task, others go on
                        failed[name] = _describe(exc)
                    bar.update(1)
                return results, failed
            try:
                with _interrupts_deferred():  # workers start here: none must be left half-started
                    pool = self._get_pool()
                    futures: dict[Future[Any], str] = {pool.submit(fn, *args): name for name, fn, args in calls}
                self._wait_all(futures, set(futures), results, failed, bar)
            except BaseException:  # Ctrl-C, SIGTERM (raised as an interrupt by the CLI), a bug here
                self._kill_pool()
                raise
        finally:
            bar.close()
        return results, failed

    def _wait_all(self, futures: dict[Future[Any], str], pending: set[Future[Any]], results: dict[str, Any], failed: dict[str, str], bar: Any) -> None:
        # as_completed waits on every future once; wait(pending, FIRST_COMPLETED) in a loop
        # locked and scanned all pending futures at each completion: quadratic in the tasks
        # (a fifth of the driver's time at 4,000 tasks).
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        for future in as_completed(pending):
            name = futures[future]
            try:
                results[name] = future.result()
            except BrokenProcessPool:
                failed[name] = "the worker process died (killed or out of memory)"
                self._drop_pool()
            except Exception as exc:  # noqa: BLE001 - reported per task, others go on
                failed[name] = _describe(exc)
            bar.update(1)

    def _kill_pool(self) -> None:
        """Stop now: the workers are killed (not left to finish and keep writing), then the pool
        is dropped; the tasks they ran have no marker, so ``--resume`` redoes them."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            with contextlib.suppress(Exception):
                process.kill()
        # Wait for them: a worker still starting up when the driver exits would otherwise
        # fail to attach to the pool's queues (already removed) and print a traceback.
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=5)
        with contextlib.suppress(Exception):
            pool.shutdown(wait=False, cancel_futures=True)
        # Let the pool's manager thread finish closing its pipes now (its workers are dead, so
        # it does at once): left running, it races CPython's exit hook for process pools, which
        # writes to a wake-up pipe the thread may be closing at that moment (EBADF at exit).
        manager = getattr(pool, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(timeout=5)

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Stop at once after an interrupt: kill the workers instead of waiting for them."""
        self._kill_pool()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends, then act as usual.

    ``submit`` starts worker processes and waits for the forkserver to report each one's
    pid; interrupted in that wait, the pool never learns of a worker that is already
    starting, so nothing could kill it, and it would fail noisily once the driver is gone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda signum, _frame: received.append(signum)) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            signal.raise_signal(received[0])


def _worker_init(driver_pid: int, cpu_share: int) -> None:
    """In each pool worker: leave Ctrl-C to the driver, die with it, and know its CPU share
    (steps that would start a helper thread ask :func:`tamis.cpus.process_cpu_share`).

    The terminal sends SIGINT to the whole process group; the driver alone decides what
    happens (it kills the workers), so no worker prints a KeyboardInterrupt traceback.
    A worker's parent is the forkserver, which does not exit while a worker holds its
    "alive" pipe, and an idle worker waits on a queue the driver can no longer write: if the
    driver dies without a word (SIGKILL, out of memory) nothing would ever end them. So each
    worker watches the driver itself and exits when it is gone.
    """
    os.environ[PROCESS_CPUS_ENV] = str(cpu_share)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(driver_pid,), name="tamis-driver-watch", daemon=True).start()


def _exit_with(driver_pid: int) -> None:
    try:
        handle = os.pidfd_open(driver_pid)  # readable when the process ends (Linux 5.3+)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd here: look every half second
        while _alive(driver_pid):
            time.sleep(0.5)
        os._exit(1)
    select.select([handle], [], [])
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TaskError):
        return str(exc)
    return "".join(traceback.format_exception(exc)).strip()
