"""Atomic files: write beside the target under a temporary name, fsync, rename.

A reader of the run directory therefore sees a shard or a marker whole or not at all;
``--resume`` deletes the leftovers (``*.tmp-*``) of tasks that were killed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

TMP_MARK = ".tmp-"
# Temporary names must differ between any two processes that may write the same file at once:
# on a cluster that is a task and its retry on another node (after a network partition, say),
# where the two pids can well be equal (one pid namespace per container). So: pid + a token
# drawn once per process, re-drawn in forked children. os.urandom(4).hex() is what
# secrets.token_hex(4) returns, without importing secrets (hmac, hashlib) at every start.
_PROCESS_TOKEN = os.urandom(4).hex()


def _new_token() -> None:
    global _PROCESS_TOKEN
    _PROCESS_TOKEN = os.urandom(4).hex()


os.register_at_fork(after_in_child=_new_token)


def temp_name(path: Path) -> Path:
    return path.with_name(f"{path.name}{TMP_MARK}{os.getpid()}-{_PROCESS_TOKEN}")


def commit(tmp: Path, final: Path) -> None:
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "wb", *, sync: bool = True) -> Iterator[IO]:
    """``path`` written whole or not at all (a temporary name, renamed); fsynced before the
    rename unless ``sync`` is False (a file whose loss in a crash of the machine only costs
    time: the shard notes, which a reader checks against their shard and otherwise ignores)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        with open(tmp, mode) as fh:
            yield fh
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_scratch_bytes(path: Path, data: bytes) -> None:
    """A scratch file of a stage's global passes (``OUT/dedup/...``): whole or absent, as with
    :func:`write_bytes_atomic` (the same per-process temporary name, renamed), but not fsynced.

    Only a resumed run reads scratch files, and only those of passes whose marker says they
    finished; on a local run that marker is written this way too (:mod:`tamis.executors.staging`:
    a lost marker reruns its pass), a task's marker is synced. A killed process
    leaves the page cache intact, so its finished files are whole. A crash of the machine may
    lose unsynced scratch data under a marker that survived, as it always could for the largest scratch
    files (the sketches and candidate edges, written unsynced since they were introduced):
    resume such a run with ``--overwrite``. The fsyncs cost ~3 ms each here, and a one-worker
    ``tamis dedup`` on 8 tasks wrote ~120 small scratch files: ~0.4 s of a 16 s run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_partial_files(root: Path) -> int:
    """Delete temporary files left by killed writers under ``root``; returns how many."""
    removed = 0
    if root.exists():
        for tmp in root.rglob(f"*{TMP_MARK}*"):
            if tmp.is_file():
                tmp.unlink()
                removed += 1
    return removed


def replace_directory(root: Path, is_ours: Callable[[str], bool]) -> None:
    """``--overwrite``: empty ``root``, refusing when it holds a file tamis did not write.

    ``is_ours`` judges an entry's name; a writer killed while writing leaves
    ``<name>.tmp-...``, which is judged by ``<name>``.
    """
    from tamis.errors import ConfigError

    unknown = sorted(p.name for p in root.iterdir() if not is_ours(p.name.split(TMP_MARK)[0]))
    if unknown:
        msg = f"--overwrite: {root} holds files tamis did not write ({', '.join(unknown[:5])}); refusing to delete them"
        raise ConfigError(msg)
    for entry in root.iterdir():
        if entry.is_dir():
            import shutil  # here: a run that replaces nothing imports no shutil (bz2, lzma)

            shutil.rmtree(entry)
        else:
            entry.unlink()


def make_directory(root: Path, what: str) -> None:
    """Create ``root`` (and its parents); a failure is a StorageError naming ``what`` it is."""
    from tamis.errors import StorageError

    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the {what} {root}: {exc.strerror or exc}"
        raise StorageError(msg) from exc
