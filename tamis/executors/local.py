"""The local executor: one machine, a pool of worker processes (all cores by default).

With one worker, tasks run in this process (no pickling, easy to profile). With more, a
``ProcessPoolExecutor`` on the ``forkserver`` start method runs them; a worker that dies
(killed, out of memory) fails only its task, and the pool is rebuilt for the next round.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from tamis.errors import TaskError
from tamis.executors.base import Call


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _progress(total: int, label: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="task", disable=not enabled or total <= 1, leave=False, file=sys.stderr)


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int | None = None, *, progress: bool = False) -> None:
        self.workers = workers or default_workers()
        self.progress = progress
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            # The server imports the task code once; every worker forked from it starts with
            # it loaded instead of importing numpy and tamis again (about 0.3 s each).
            context.set_forkserver_preload(["tamis.executors.tasks"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
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
            pool = self._get_pool()
            futures: dict[Future[Any], str] = {pool.submit(fn, *args): name for name, fn, args in calls}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    name = futures[future]
                    try:
                        results[name] = future.result()
                    except BrokenProcessPool:
                        failed[name] = "the worker process died (killed or out of memory)"
                        self._drop_pool()
                    except Exception as exc:  # noqa: BLE001 - reported per task, others go on
                        failed[name] = _describe(exc)
                    bar.update(1)
        finally:
            bar.close()
        return results, failed

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TaskError):
        return str(exc)
    return "".join(traceback.format_exception(exc)).strip()
