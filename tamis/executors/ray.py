"""The Ray executor: the local executor's task calls, run as Ray tasks on one machine or a cluster.

It runs exactly the calls the driver (:func:`tamis.executors.base.execute`) hands it, the
same task split as the local executor, so the output is the same file for file. Documents
never travel through Ray's object store: every task reads its input from and writes its
shards, spill and completion marker to the run directory, which must therefore be on a
filesystem every node sees (see the README, "Running on a Ray cluster"). Ray only moves the
small call arguments (the plan, shared once per ``map`` with ``ray.put``) and the small
per-task counters back.

Crash safety: a task whose worker process dies (killed, out of memory, node lost) is
resubmitted by Ray up to ``max_retries`` times; every task first deletes what an earlier
attempt left (:func:`tamis.executors.tasks._clean_task_outputs`), so a retry redoes the
task from scratch. Exceptions raised by the task code itself are not retried: they are
deterministic (bad input, a bug) and are reported per task like the local executor does.

Ray is an optional extra (``pip install 'tamis[ray]'``) and is imported only when this
executor is built.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import sys
from collections import Counter
from typing import Any

from tamis.cpus import PROCESS_CPUS_ENV
from tamis.errors import ConfigError, TaskError
from tamis.executors.base import Call

INSTALL_HINT = "pip install 'tamis[ray]'"
# Retries of a task whose worker died. A task that kills its worker every time (say, out of
# memory on one huge document) fails after this many attempts instead of looping forever.
MAX_RETRIES = 3
# The local instance only ships call arguments and counters through the object store, so it
# does not need Ray's default of 30 % of RAM in /dev/shm.
LOCAL_OBJECT_STORE_BYTES = 256 << 20
_IMMUTABLE_SCALARS = (str, bytes, int, float, bool, type(None))
_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # Ray colours the task name in error texts


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        msg = f"--executor ray needs Ray, which is not installed here: {INSTALL_HINT}"
        raise ConfigError(msg) from exc
    return ray


def _ray_imported() -> bool:
    return "ray" in sys.modules


def _run_call(fn: Any, *args: Any) -> Any:
    """The body of every Ray task: one call, exactly as the local executor would make it.
    Each task reserves one CPU (``num_cpus=1`` below), so that is its share."""
    os.environ[PROCESS_CPUS_ENV] = "1"
    return fn(*args)


def _worker_environment() -> dict[str, Any]:
    import tamis

    return {"tamis": tamis.__version__, "python": list(sys.version_info[:2])}


class RayExecutor:
    """Runs task calls as Ray tasks; starts a private local Ray instance unless given an address."""

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: str | None = None,
        progress: bool = False,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        if address is None and not _ray_imported():
            # A private local instance: no usage report, and every Ray process listens on
            # loopback only (Ray reads these at import, so they are set before it).
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            # Its processes share a token of their own, held in the environment they inherit,
            # so Ray neither writes one under ~/.ray nor warns about making it (a token or an
            # auth mode the user set is left as it is).
            if not os.environ.get("RAY_AUTH_TOKEN") and os.environ.get("RAY_AUTH_MODE", "token") == "token":
                os.environ["RAY_AUTH_MODE"] = "token"
                os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
        ray = import_ray()
        self._ray = ray
        self.progress = progress
        self.max_retries = max_retries
        self._owns_connection = False
        if not ray.is_initialized():
            self._connect(ray, workers, address)
            self._owns_connection = True
        cluster_cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        # With an explicit worker count, at most that many tasks run at once, even on a bigger
        # cluster; without one, the whole cluster is used.
        self._max_in_flight = workers
        self.workers = min(workers, cluster_cpus) if workers else cluster_cpus
        self._remote = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(_run_call)
        if address:
            self._check_workers(address)

    @staticmethod
    def _connect(ray: Any, workers: int | None, address: str | None) -> None:
        quiet = {"logging_level": logging.WARNING, "log_to_driver": True}
        if address:
            unreachable = _unreachable(address)
            if unreachable:
                msg = (
                    f"cannot connect to the Ray cluster at {address!r}: {unreachable}. Start one with "
                    "`ray start --head` (see the README), or leave out --ray-address to run Ray on this machine"
                )
                raise ConfigError(msg)
            try:
                ray.init(address=address, **quiet)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                msg = (
                    f"cannot connect to the Ray cluster at {address!r}: {exc}. Start one with "
                    "`ray start --head` (see the README), or leave out --ray-address to run Ray on this machine"
                )
                raise ConfigError(msg) from exc
            return
        from tamis.executors.local import default_workers

        # A private instance for this run: no dashboard, no usage report, only `workers` CPUs,
        # and on loopback: nothing but this machine needs to reach it.
        ray.init(
            num_cpus=workers or default_workers(),
            include_dashboard=False,
            object_store_memory=LOCAL_OBJECT_STORE_BYTES,
            _node_ip_address="127.0.0.1",
            **quiet,
        )

    def _check_workers(self, address: str) -> None:
        """Fail early, with a clear message, if the cluster's workers cannot run this tamis."""
        ray = self._ray
        probe = ray.remote(num_cpus=0, max_retries=0)(_worker_environment)
        here = _worker_environment()
        try:
            there = ray.get(probe.remote(), timeout=120)
        except ray.exceptions.RayError as exc:
            self.close()
            msg = (
                f"the Ray cluster at {address!r} cannot run tamis tasks ({_last_line(str(exc))}); "
                f"install the same tamis on every node (tamis {here['tamis']}, Python {here['python'][0]}.{here['python'][1]})"
            )
            raise ConfigError(msg) from exc
        if there != here:
            self.close()
            msg = f"the Ray cluster at {address!r} runs {there}, this driver {here}: install the same tamis and Python on every node"
            raise ConfigError(msg)

    def _share_arguments(self, calls: list[Call]) -> dict[int, Any]:
        """Put each argument object used by several calls (the plan) in the object store once."""
        uses = Counter(id(arg) for _, _, args in calls for arg in args if not isinstance(arg, _IMMUTABLE_SCALARS))
        shared: dict[int, Any] = {}
        for _, _, args in calls:
            for arg in args:
                if uses.get(id(arg), 0) > 1 and id(arg) not in shared:
                    shared[id(arg)] = self._ray.put(arg)
        return shared

    def map(self, calls: list[Call], label: str) -> tuple[dict[str, Any], dict[str, str]]:
        results: dict[str, Any] = {}
        failed: dict[str, str] = {}
        if not calls:
            return results, failed
        ray = self._ray
        shared = self._share_arguments(calls)
        queue = list(reversed(calls))
        pending: dict[Any, str] = {}
        limit = self._max_in_flight or len(calls)

        def submit() -> None:
            name, fn, args = queue.pop()
            # The task name is what `ray list tasks`, the logs and the worker's process title show.
            ref = self._remote.options(name=name).remote(fn, *[shared.get(id(a), a) for a in args])
            pending[ref] = name

        bar = _progress(len(calls), label, self.progress)
        try:
            while queue and len(pending) < limit:
                submit()
            while pending:
                ray.wait(list(pending), num_returns=1, fetch_local=False)
                # Then everything that is finished by now, in one call: one wait per task would
                # cost O(tasks²) on large runs.
                done, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0, fetch_local=False)
                for ref in done:
                    name = pending.pop(ref)
                    try:
                        results[name] = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        failed[name] = _describe_task_error(exc)
                    except ray.exceptions.RayError as exc:
                        # The worker (or its node) died on every attempt.
                        failed[name] = f"its Ray worker died {self.max_retries + 1} times (killed, out of memory or node lost): {_last_line(str(exc))}"
                    bar.update(1)
                    if queue:
                        submit()
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        finally:
            bar.close()
        return results, failed

    def close(self) -> None:
        if self._owns_connection and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns_connection = False


def _unreachable(address: str) -> str | None:
    """Why nothing answers at ``HOST:PORT`` (None if something does). Checked before
    ``ray.init``, which would otherwise keep retrying for minutes."""
    if address in ("auto", "local") or "://" in address:
        return None  # Ray finds the cluster itself, or it is a Ray Client address
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return "expected HOST:PORT, the address `ray start --head` prints"
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
    return None


def _progress(total: int, label: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=f"{label} (ray)", unit="task", disable=not enabled or total <= 1, leave=False, file=sys.stderr)


def _describe_task_error(exc: Any) -> str:
    """A TaskError's own message; anything else with the remote traceback Ray carries in ``str``."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, TaskError):
        return str(cause)
    return _ANSI_COLOUR.sub("", str(exc)).strip() or repr(cause)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"
