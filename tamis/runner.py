"""One entry point for a whole run, used by the CLI, the tests and the benches."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import yaml

from tamis.errors import ConfigError, StorageError
from tamis.executors.base import Executor, RunOutcome, execute
from tamis.executors.plan import RunPlan
from tamis.io.atomic import TMP_MARK, remove_partial_files, write_bytes_atomic
from tamis.io.readers import InputTask, plan_tasks
from tamis.pipeline import RunConfig, build_steps, split_segments
from tamis.steps.base import Step

RUN_ENTRIES = {"output", "rejects", "_markers", "_progress", "dedup", "errors", "errors.jsonl", "stats.json"}
RUN_ENTRIES |= {"config.resolved.yaml", "report.html", "README.md"}
OBJECT_STORE_SCHEMES = ("s3://", "gs://", "gcs://", "az://", "abfs://", "abfss://", "hf://", "http://", "https://")


def check_output_location(output: str) -> None:
    if output.startswith(OBJECT_STORE_SCHEMES):
        msg = (
            f"output {output!r} is an object store. tamis commits shards and completion markers by "
            "atomic rename, which object stores do not have; write the run to a POSIX or shared "
            "filesystem (local disk, NFS, Lustre, a FUSE mount with rename) and copy it afterwards"
        )
        raise StorageError(msg)


def _input_roots(inputs: list[str]) -> list[str]:
    """What the run reads, as real paths: each argument, or what a glob matches now."""
    roots: list[str] = []
    for item in inputs:
        if any(ch in item for ch in "*?["):
            roots.extend(glob.glob(item, recursive=True))
            if "**" in item:  # a recursive glob reaches whatever lands under its fixed part later
                fixed = item.split("**", 1)[0]
                roots.append(os.path.dirname(fixed) or ".")
        else:
            roots.append(item)
    return [os.path.realpath(r) for r in roots]


def check_no_overlap(config: RunConfig) -> None:
    """Refuse a run directory that is, holds or lies inside an input: ``--overwrite`` would
    delete the input, and a later run would read its own shards and markers as input."""
    if not config.output or config.output.startswith(OBJECT_STORE_SCHEMES):
        return
    out = Path(os.path.realpath(config.output))
    for root in _input_roots(config.input):
        inp = Path(root)
        if out == inp or out.is_relative_to(inp) or inp.is_relative_to(out):
            where = "is" if out == inp else "is inside" if out.is_relative_to(inp) else "contains"
            msg = f"the output {config.output} {where} the input {root}: choose an output folder outside every input"
            raise ConfigError(msg)


def input_fingerprint(tasks: list[InputTask]) -> str:
    """The resolved input: every file read, in order, with its size and modification time.

    ``--resume`` refuses a run whose input changed: a file added that sorts first would shift
    every task's index, so finished tasks would be skipped for the wrong files.
    """
    digest = hashlib.sha256()
    for path, size, mtime in input_listing(tasks):
        digest.update(f"{path!a}\0{size}\0{mtime}\n".encode())
    return digest.hexdigest()[:16]


def input_listing(tasks: list[InputTask]) -> list[tuple[str, int | None, int | None]]:
    listing = []
    seen: set[str] = set()
    for task in tasks:
        for path in task.files:
            if path in seen:  # a file split into byte ranges is listed once
                continue
            seen.add(path)
            try:
                st = os.stat(path)
                listing.append((path, st.st_size, st.st_mtime_ns))
            except OSError:  # a dangling link: reported when read, listed as absent here
                listing.append((path, None, None))
    return listing


def prepare_run_dir(
    config: RunConfig, steps: list[Step], *, resume: bool, overwrite: bool, tasks: list[InputTask] | None = None
) -> Path:
    assert config.output is not None
    check_output_location(config.output)
    if resume and overwrite:
        raise ConfigError("--resume and --overwrite contradict each other: --resume continues a run, --overwrite replaces it")
    check_no_overlap(config)
    root = Path(config.output)
    if root.exists() and not root.is_dir():
        msg = f"output {root} exists and is not a directory"
        raise ConfigError(msg)
    resolved_path = root / "config.resolved.yaml"
    fingerprint = config.fingerprint(steps)
    inputs = input_fingerprint(tasks) if tasks is not None else None
    if root.exists() and any(root.iterdir()):
        if resume:
            if not resolved_path.exists():
                msg = f"--resume: {root} is not a tamis run directory (no config.resolved.yaml)"
                raise ConfigError(msg)
            previous = yaml.safe_load(resolved_path.read_text(encoding="utf-8")) or {}
            if previous.get("fingerprint") != fingerprint:
                msg = (
                    f"--resume: the config changed since {root} was started (fingerprint "
                    f"{previous.get('fingerprint')} -> {fingerprint}); use --overwrite to start again"
                )
                raise ConfigError(msg)
            if inputs is not None and previous.get("input_fingerprint") not in (None, inputs):
                msg = (
                    f"--resume: the input changed since {root} was started (files added, removed or modified: "
                    f"input fingerprint {previous.get('input_fingerprint')} -> {inputs}); finished tasks would not "
                    "match their files. Use --overwrite to start again"
                )
                raise ConfigError(msg)
            remove_partial_files(root)
            (root / "stats.json").unlink(missing_ok=True)
            return root
        if not overwrite:
            msg = f"output {root} is not empty: use --resume to continue that run or --overwrite to replace it"
            raise ConfigError(msg)
        # A run killed while writing a top-level file leaves ``<entry>.tmp-...``: still ours.
        unknown = sorted(p.name for p in root.iterdir() if p.name.split(TMP_MARK)[0] not in RUN_ENTRIES)
        if unknown:
            msg = f"--overwrite: {root} holds files tamis did not write ({', '.join(unknown[:5])}); refusing to delete them"
            raise ConfigError(msg)
        for entry in root.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the run directory {root}: {exc.strerror or exc}"
        raise StorageError(msg) from exc
    resolved: dict[str, Any] = {"fingerprint": fingerprint}
    if inputs is not None:
        resolved["input_fingerprint"] = inputs
    resolved.update(config.resolved(steps))
    write_bytes_atomic(resolved_path, yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True).encode())
    return root


def make_executor(config: RunConfig, *, progress: bool = False) -> Executor:
    if config.executor == "ray":
        from tamis.executors.ray import RayExecutor

        return RayExecutor(config.workers, address=config.ray_address, progress=progress)
    from tamis.executors.local import LocalExecutor

    return LocalExecutor(config.workers, progress=progress)


def build_plan(config: RunConfig, root: Path, steps: list[Step], *, progress: bool = False) -> RunPlan:
    return RunPlan(
        run_dir=str(root),
        fingerprint=config.fingerprint(steps),
        segments=split_segments(steps),
        reader=config.reader_options(),
        fmt=config.format,
        compression=config.compression,
        compression_level=config.compression_level,
        shard_bytes=config.shard_size_mb << 20,
        strict=config.strict,
        keep_text=config.keep_text,
        progress=progress,
    )


def run(
    config: RunConfig,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    executor: Executor | None = None,
) -> RunOutcome:
    """Validate, prepare ``OUT/``, run every task and stage, write ``stats.json``."""
    config.validate()
    tasks = plan_tasks(config.input, config.reader_options(), config.input_format)
    steps = build_steps(config.step_configs())  # once: some steps read files when built
    root = prepare_run_dir(config, steps, resume=resume, overwrite=overwrite, tasks=tasks)
    plan = build_plan(config, root, steps, progress=progress)
    own_executor = executor is None
    executor = executor or make_executor(config)  # the bars are the driver's (documents, not tasks)
    try:
        outcome = execute(plan, tasks, executor, limit=config.limit, step_ids=[s.step_id for s in steps])
    except BaseException:  # an interrupt (Ctrl-C, SIGTERM) or a bug: stop the workers now
        if own_executor:
            getattr(executor, "abort", executor.close)()
        raise
    if own_executor:
        executor.close()
    if not outcome.failed:
        from tamis.io.card import add_card

        add_card(root, outcome.stats)  # README.md: load_dataset(OUT) works; counts repeated ids
    if config.report and not outcome.failed:
        write_report_if_available(root)
    return outcome


def write_report_if_available(root: Path) -> None:
    try:
        from tamis.report import write_report  # type: ignore[attr-defined]
    except ImportError:
        return
    write_report(root)
