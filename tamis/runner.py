"""One entry point for a whole run, used by the CLI, the tests and the benches."""

from __future__ import annotations

import glob
import os
from collections import Counter
from pathlib import Path
from typing import Any

from tamis.errors import ConfigError, StorageError
from tamis.executors.base import Executor, RunOutcome, execute
from tamis.executors.plan import RunPlan
from tamis.gcpause import gc_paused, set_up_done
from tamis.io import storage, yamltext
from tamis.io.atomic import make_directory, remove_partial_files, replace_directory, write_bytes_atomic
from tamis.io.readers import InputTask, plan_tasks
from tamis.pipeline import RunConfig, build_steps, split_segments
from tamis.sha256 import sha256
from tamis.steps.base import Step

RUN_ENTRIES = {"output", "rejects", "_markers", "_progress", "dedup", "errors", "errors.jsonl", "stats.json"}
RUN_ENTRIES |= {"config.resolved.yaml", "report.html", "README.md", "_notes"}  # _notes: tamis.io.shardnotes
READ_ONLY_SCHEMES = ("http", "https")


def check_output_location(output: str) -> None:
    """A run directory is a path, or a URL of a store fsspec can write (s3://, gs:// ...)."""
    if storage.protocol_of(output) in READ_ONLY_SCHEMES:
        msg = f"output {storage.describe(output)!r}: {storage.protocol_of(output)}:// is read-only; write the run to a folder or an object store (s3://, gs://)"
        raise StorageError(msg)


def _input_roots(inputs: list[str]) -> list[str]:
    """What the run reads, as real paths: each argument, or what a glob matches now."""
    roots: list[str] = []
    for item in inputs:
        if storage.is_remote(item):
            continue  # an object store cannot hold a local run directory
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
    if not config.output or storage.is_remote(config.output):
        return  # a store's run directory is below its own prefix: compared in remote_run
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
    digest = sha256()
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
            if storage.is_remote(path):  # size and ETag (or modification time) from the listing
                listing.append(storage.identity(path))
                continue
            try:
                st = os.stat(path)
                listing.append((path, st.st_size, st.st_mtime_ns))
            except OSError:  # a dangling link: reported when read, listed as absent here
                listing.append((path, None, None))
    return listing


def prepare_run_dir(
    config: RunConfig, steps: list[Step], *, resume: bool, overwrite: bool, tasks: list[InputTask] | None = None,
    fingerprint: str | None = None,
) -> Path:
    """Check and create (or continue, or replace) the run directory, and write its resolved
    config. ``fingerprint``: ``config.fingerprint(steps)`` where the caller has it (it builds
    every step's parameters: computed once per run, not at each use)."""
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
    fingerprint = fingerprint or config.fingerprint(steps)
    inputs = input_fingerprint(tasks) if tasks is not None else None
    if root.exists() and any(root.iterdir()):
        if resume:
            if not resolved_path.exists():
                msg = f"--resume: {root} is not a tamis run directory (no config.resolved.yaml)"
                raise ConfigError(msg)
            previous = yamltext.load(resolved_path.read_text(encoding="utf-8")) or {}
            check_resumable(previous, str(root), fingerprint, inputs)
            remove_partial_files(root)
            (root / "stats.json").unlink(missing_ok=True)
            return root
        if not overwrite:
            msg = f"output {root} is not empty: use --resume to continue that run or --overwrite to replace it"
            raise ConfigError(msg)
        replace_directory(root, lambda name: name in RUN_ENTRIES)
    make_directory(root, "run directory")
    write_bytes_atomic(resolved_path, _resolved_yaml(config, steps, inputs, fingerprint))
    return root


def check_resumable(previous: dict[str, Any], shown: str, fingerprint: str, inputs: str | None) -> None:
    """``--resume`` continues only the very same run: same config, same input files."""
    if previous.get("fingerprint") != fingerprint:
        msg = (
            f"--resume: the config changed since {shown} was started (fingerprint "
            f"{previous.get('fingerprint')} -> {fingerprint}); use --overwrite to start again"
        )
        raise ConfigError(msg)
    if inputs is not None and previous.get("input_fingerprint") not in (None, inputs):
        msg = (
            f"--resume: the input changed since {shown} was started (files added, removed or modified: "
            f"input fingerprint {previous.get('input_fingerprint')} -> {inputs}); finished tasks would not "
            "match their files. Use --overwrite to start again"
        )
        raise ConfigError(msg)


def _resolved_yaml(config: RunConfig, steps: list[Step], inputs: str | None, fingerprint: str) -> bytes:
    resolved: dict[str, Any] = {"fingerprint": fingerprint}
    if inputs is not None:
        resolved["input_fingerprint"] = inputs
    resolved.update(config.resolved(steps))
    return dump_yaml(resolved).encode()


def dump_yaml(data: Any) -> str:
    """``yaml.safe_dump`` (keys in order, Unicode as is): the plain data of a resolved config is
    written by :mod:`tamis.io.yamltext` (the same text, without importing PyYAML), anything else
    through libyaml's emitter where PyYAML has it, about 8x less time than PyYAML's Python one.
    libyaml's is the same text but for a character beyond the Basic Multilingual Plane (an emoji,
    say), which it writes as a ``"\\U0001F44D"`` escape where Python's writes it as is: both
    read back as the same value. The report reads the text back through
    :func:`tamis.io.yamltext.load`, which knows it."""
    text = yamltext.dump(data, remember=True)
    if text is not None:
        return text
    import yaml

    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False, allow_unicode=True)


def prepare_remote_run(
    config: RunConfig, steps: list[Step], *, resume: bool, overwrite: bool, tasks: list[InputTask], fingerprint: str | None = None
) -> Path:
    """The run directory on an object store: checked like a folder; returns its staging copy."""
    assert config.output is not None
    check_output_location(config.output)
    if resume and overwrite:
        raise ConfigError("--resume and --overwrite contradict each other: --resume continues a run, --overwrite replaces it")
    fingerprint, inputs = fingerprint or config.fingerprint(steps), input_fingerprint(tasks)
    from tamis.io import remote_run

    return remote_run.prepare(
        config.output,
        _resolved_yaml(config, steps, inputs, fingerprint),
        lambda previous: check_resumable(previous, storage.describe(config.output or ""), fingerprint, inputs),
        resume=resume,
        overwrite=overwrite,
        known_entries=RUN_ENTRIES,
    )


def make_executor(config: RunConfig, *, progress: bool = False) -> Executor:
    if config.executor == "ray":
        from tamis.executors.ray import RayExecutor

        return RayExecutor(config.workers, address=config.ray_address, progress=progress)
    from tamis.executors.local import LocalExecutor

    return LocalExecutor(config.workers, progress=progress)


def build_plan(config: RunConfig, root: Path, steps: list[Step], *, progress: bool = False, fingerprint: str | None = None) -> RunPlan:
    return RunPlan(
        run_dir=str(root),
        fingerprint=fingerprint or config.fingerprint(steps),
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
    storage_options: dict[str, Any] | None = None,
) -> RunOutcome:
    """Validate, prepare ``OUT/``, run every task and stage, write ``stats.json``.

    ``storage_options`` (``--storage-option``) configure the object stores of the inputs and
    of the output; they are held in memory only (never in the config, a marker or a log)."""
    config.validate()
    assert config.output is not None
    storage.configure(storage_options)
    skipped: Counter[str] = Counter()
    tasks = plan_tasks(config.input, config.reader_options(), config.input_format, skipped)
    steps = build_steps(config.step_configs())  # once: some steps read files when built
    set_up_done()  # the modules and steps: out of later collections (the command line only)
    remote = config.output if storage.is_remote(config.output) else None
    fingerprint = config.fingerprint(steps)  # once: it asks every step for its parameters
    if remote is not None:
        from tamis.io import remote_run  # an object store's run only (concurrent.futures, tempfile: ~0.03 s)

        root = prepare_remote_run(config, steps, resume=resume, overwrite=overwrite, tasks=tasks, fingerprint=fingerprint)
    else:
        root = prepare_run_dir(config, steps, resume=resume, overwrite=overwrite, tasks=tasks, fingerprint=fingerprint)
    plan = build_plan(config, root, steps, progress=progress, fingerprint=fingerprint)
    plan.remote = remote
    # A new run's tasks mark their attempts and clean only after an earlier one (a Ray retry); a
    # resumed run, whose earlier attempts left no sentinel if an older version made them, and a
    # run staged from a store clean at every task.
    plan.attempt_sentinels = not resume and remote is None
    plan.storage_options = storage.current_options()
    if remote is not None:
        plan.session = os.urandom(8).hex()  # secrets.token_hex(8), without importing secrets at every start
        remote_run.mark_driver(root, plan.session)
    try:
        own_executor = executor is None
        executor = executor or make_executor(config)  # the bars are the driver's (documents, not tasks)
        try:
            # README.md (load_dataset(OUT) works; counts repeated ids) before stats.json, which then
            # holds what the card found: one write of stats.json, not two.
            def before_stats(stats: dict[str, Any]) -> None:
                if skipped:  # files in the input folders that no reader takes: said, not silently left
                    stats["skipped_files"] = dict(sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])))
                _card(root, stats)

            outcome = execute(plan, tasks, executor, limit=config.limit, step_ids=[s.step_id for s in steps], before_stats=before_stats)
        except BaseException:  # an interrupt (Ctrl-C, SIGTERM) or a bug: stop the workers now
            if own_executor:
                getattr(executor, "abort", executor.close)()
            raise
        if own_executor:
            executor.close()
        if remote is not None and not outcome.failed:
            for name in ("errors.jsonl", "README.md", "stats.json"):  # stats.json last: the run's "finished" mark
                remote_run.publish(remote, root, name)
        if config.report and not outcome.failed:
            if remote is not None:
                remote_run.stage_outputs(remote, root)
            write_report_if_available(root)
            if remote is not None:
                remote_run.publish(remote, root, "report.html")
        if remote is not None and not outcome.failed:
            remote_run.finish(remote, root)
    finally:
        if remote is not None:
            remote_run.discard_staging(root)
    return outcome


def _card(root: Path, stats: dict[str, Any]) -> None:
    from tamis.io.card import write_card

    stats["duplicate_ids"] = write_card(root, stats)


def write_report_if_available(root: Path) -> None:
    # Importing the report's modules (html's entity table, a few thousand objects) started
    # cyclic collections over everything the run left behind (a language model's tables,
    # loaded after set-up and never frozen): ~20 ms of CPU for nothing to free. The report
    # itself already runs with collection paused.
    with gc_paused():
        try:
            from tamis.report import write_report  # type: ignore[attr-defined]
        except ImportError:
            return
        write_report(root)
