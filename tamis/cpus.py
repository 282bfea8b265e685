"""How many CPUs this process may use: the one number a step consults before it starts a
helper thread of its own (the dedup first pass's sketch thread).

An executor that runs several task processes side by side tells each of them its share
through ``TAMIS_PROCESS_CPUS`` (the local pool: the usable CPUs divided among its workers;
Ray: the one CPU each task reserves). Steps read the share, never the executor, so N workers
on N cores do not each start a thread that only competes with the other workers."""

from __future__ import annotations

import os

PROCESS_CPUS_ENV = "TAMIS_PROCESS_CPUS"


def usable_cpus() -> int:
    """The CPUs this process is allowed to run on (its affinity mask, where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def process_cpu_share() -> int:
    """The CPUs this process should keep busy: the share its executor set, else every usable CPU."""
    value = os.environ.get(PROCESS_CPUS_ENV)
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            pass  # a malformed value is ignored, as an unset one would be
    return usable_cpus()


def worker_share(workers: int) -> int:
    """Each of ``workers`` processes' share of the usable CPUs (at least one)."""
    return max(1, usable_cpus() // max(1, workers))
