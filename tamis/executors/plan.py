"""What a run is, for every worker: the segments, the reader and output settings, and where
each file of the run directory goes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tamis.io.readers import ReaderOptions
from tamis.pipeline import Segment


@dataclass
class RunPlan:
    """Everything a worker needs, picklable (steps are dataclasses)."""

    run_dir: str
    fingerprint: str
    segments: list[Segment]
    reader: ReaderOptions
    fmt: str
    compression: str
    compression_level: int | None
    shard_bytes: int
    strict: bool
    keep_text: bool = True
    progress: bool = False  # tasks report documents and bytes for the driver's bar (executors/progress.py)
    # A run directory on an object store: its URL (``root`` is then this machine's staging
    # copy, tamis.io.remote_run) and the --storage-option values, which never leave memory.
    remote: str | None = None
    storage_options: dict[str, Any] = field(default_factory=dict, repr=False)
    session: str | None = None  # the driver's token in its staging folder
    # Each task marks its first attempt (attempt_sentinel) and lists its folders to clean only
    # when an earlier attempt may have left files: set for a new run (tamis.runner.run); a resumed
    # run cleans at every task, as before.
    attempt_sentinels: bool = False

    def replays_input(self, segment: int) -> bool:
        """Segment ``segment`` re-reads the input instead of a spill: when a stage is the
        first step, the documents it saw are exactly what the reader yields, and reading the
        input again is cheaper than writing and reading a spill."""
        return segment == 1 and not self.segments[0].steps

    def replays_without_text(self) -> bool:
        """Nothing reads the text of a document the last segment keeps: it replays the input
        after a stage that decides by position, has no steps of its own, and the output has
        no text. Texts are then decoded only for rejected and annotated documents."""
        if len(self.segments) != 2 or self.keep_text or not self.replays_input(1) or self.segments[1].steps:
            return False
        stage = self.segments[0].stage
        return stage is not None and stage.decides_by_position()

    @property
    def root(self) -> Path:
        if self.remote is not None:  # each machine stages a store's run in a folder of its own
            from tamis.io.remote_run import staging_dir

            return staging_dir(self.remote)
        return Path(self.run_dir)

    @property
    def dedup_dir(self) -> Path:
        return self.root / "dedup" / self.fingerprint

    def stage_dir(self, segment: int) -> Path:
        stage = self.segments[segment].stage
        assert stage is not None
        return self.dedup_dir / f"stage{segment}-{stage.step_id}"

    def spill_dir(self, segment: int) -> Path:
        return self.dedup_dir / f"spill{segment}"

    @property
    def sidecar_dir(self) -> Path:
        """What a first pass leaves for a second pass that writes no text (source-defined)."""
        return self.dedup_dir / "textless"

    def marker(self, name: str) -> Path:
        return self.root / "_markers" / f"{name}.json"


def attempt_sentinel(root: Path, marker_name: str) -> Path:
    """The file a task creates when it starts and removes once its marker is written: found at
    a task's start, it says an earlier attempt (a crashed run, a Ray retry) may have left files."""
    return root / "_markers" / f".attempt-{marker_name}"


def mark_first_attempt(root: Path, marker_name: str) -> bool:
    """Create the task's attempt sentinel; whether it was not there (no earlier attempt)."""
    path = attempt_sentinel(root, marker_name)
    try:
        path.parent.mkdir(exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except OSError:  # there already (an earlier attempt), or it cannot be made: the caller cleans
        return False
    return True


def segment_marker_name(segment: int, task: int) -> str:
    return f"seg{segment}-task{task:05d}"
