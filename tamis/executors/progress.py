"""Progress a user can read: documents and bytes, named by what runs, even for one input file.

Tasks run in other processes (or on other machines, with Ray), so a task's progress travels
the way its results do, through the run directory: while it runs, a task rewrites a tiny
``OUT/_progress/<task>.json`` (documents and bytes so far) every half second, and the driver
sums those files into one bar per phase ("reading", "exact_dedup: applying", "minhash:
verifying"). Dedup passes, which have no documents, count finished passes (their markers). Nothing is written when
the bar is off (``--quiet``, or stderr not a terminal); the folder is removed at the end.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

INTERVAL_S = 0.5
FOLDER = "_progress"

# What a dedup pass does, from the first word of its name (see each stage's global_passes).
PASS_VERBS = {
    "partition": "partitioning",
    "resolve": "resolving",
    "bucket": "bucketing",
    "verify": "verifying pairs",
    "cluster": "clustering",
    "star": "clustering",
    "save": "saving the index",
}


def pass_label(stage_id: str, pass_names: list[str]) -> str:
    verbs = []
    for name in pass_names:
        word = name.split("-", 1)[0].rstrip("0123456789")
        verb = PASS_VERBS.get(word, word)
        if verb not in verbs:
            verbs.append(verb)
    return f"{stage_id}: {', '.join(verbs) or 'passes'}"


def segment_label(segment: int, previous_stage: str | None, step_ids: list[str], stage_id: str | None) -> str:
    parts = ["reading"] if segment == 0 else [f"{previous_stage}: applying"]
    if stage_id is not None:
        parts.append(f"{stage_id}: collecting")
    elif segment > 0 and step_ids:
        parts.append(", ".join(step_ids))
    return ", ".join(parts)


@contextlib.contextmanager
def reporting(root: Path, name: str, counts: Any, enabled: bool) -> Iterator[None]:
    """While the block runs, keep ``root/_progress/<name>.json`` up to date with ``counts()``
    (a ``(documents, bytes)`` pair, read from another thread: plain integers, no lock)."""
    if not enabled:
        yield
        return
    path = root / FOLDER / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()

    def write() -> None:
        # RuntimeError: a counter grew while it was summed here; the next write catches up.
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            docs, n_bytes = counts()
            tmp = path.with_name(f"{path.name}.{os.getpid()}")
            tmp.write_bytes(orjson.dumps({"docs": docs, "bytes": n_bytes}))
            os.replace(tmp, path)

    def loop() -> None:
        while not stop.wait(INTERVAL_S):
            write()

    thread = threading.Thread(target=loop, name="tamis-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        write()


class Bar:
    """One phase's bar in the driver: documents (with bytes beside them), or passes."""

    def __init__(self, root: Path, label: str, names: list[str], *, documents: bool, enabled: bool) -> None:
        self.enabled = enabled and bool(names)
        self._root, self._names, self._documents = root, names, documents
        self._stop = threading.Event()
        self._bar: Any = None
        self._thread: threading.Thread | None = None
        if not self.enabled:
            return
        from tqdm import tqdm

        tqdm.monitor_interval = 0  # our own thread refreshes the bar; tqdm's monitor thread would also keep the extract step from forking its child
        if documents:
            self._bar = tqdm(desc=label, unit=" docs", unit_scale=True, leave=False, file=sys.stderr, dynamic_ncols=True)
        else:
            self._bar = tqdm(desc=label, total=len(names), unit=" passes", leave=False, file=sys.stderr, dynamic_ncols=True)
        self._thread = threading.Thread(target=self._loop, name="tamis-progress-bar", daemon=True)
        self._thread.start()

    def _totals(self) -> tuple[int, int]:
        docs = n_bytes = 0
        for name in self._names:
            try:
                found = orjson.loads((self._root / FOLDER / f"{name}.json").read_bytes())
            except (OSError, orjson.JSONDecodeError):
                continue
            docs += found.get("docs", 0)
            n_bytes += found.get("bytes", 0)
        return docs, n_bytes

    def _refresh(self) -> None:
        if self._documents:
            docs, n_bytes = self._totals()
            self._bar.n = docs
            self._bar.set_postfix_str(f"{n_bytes / 1e6:,.1f} MB", refresh=False)
        else:  # a pass is done when its completion marker is there
            self._bar.n = sum((self._root / "_markers" / f"{name}.json").exists() for name in self._names)
        self._bar.refresh()

    def _loop(self) -> None:
        while not self._stop.wait(INTERVAL_S):
            self._refresh()

    def close(self) -> None:
        if not self.enabled:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._refresh()
        self._bar.close()


def remove_folder(root: Path) -> None:
    """Remove the progress files (``_progress/<name>.json``, no sub-folders), errors ignored,
    as ``shutil.rmtree(..., ignore_errors=True)`` does; shutil itself (bz2, lzma, a namedtuple)
    only where something else is in there."""
    folder = root / FOLDER
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no progress folder (one task, or already gone)
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
            return
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
    with contextlib.suppress(OSError):
        os.rmdir(folder)
