"""``tamis tokenize``: configuration, run directory and the driver of the two task rounds.

It uses the same machinery as ``tamis run``: the readers' deterministic task list, the
executors (``executor.map``), one completion marker per task written last, ``--resume``
redoing only unmarked tasks, and ``read = written + rejected`` checked at the end.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from tamis import __version__
from tamis.errors import ConfigError, StorageError
from tamis.executors.base import Call, Executor, markers_not_visible, run_info
from tamis.io.atomic import make_directory, remove_partial_files, replace_directory, write_bytes_atomic
from tamis.io.readers import InputTask, ReaderOptions, plan_tasks
from tamis.stats import TaskStats
from tamis.tokenize.encoder import Encoder, file_sha256, single_threaded
from tamis.tokenize.formats import FORMATS, token_dtype
from tamis.tokenize.tasks import (
    TokenCounts,
    TokenizePlan,
    encode_marker_name,
    encode_task,
    shard_cuts,
    share_encoder,
    write_marker_name,
    write_shard_task,
)

DEFAULT_SHARD_TOKENS = 1 << 29  # Dolma's 512 Mi tokens per file
OWN_ENTRIES = {"rejects", "errors", "errors.jsonl", "_markers", "_work", "stats.json", "config.resolved.yaml", "report.html"}
SHARD_FILE = re.compile(r"^.+-\d{5}-of-\d{5}\.(?:bin|idx|ds|ds\.index|ds\.metadata|npy|json)$")  # what --overwrite may delete


@dataclass
class TokenizeConfig:
    input: list[str] = field(default_factory=list)
    output: str | None = None
    tokenizer: str | None = None
    format: str = "megatron"
    eos: str | None = None
    bos: str | None = None
    shuffle_seed: int = 0
    shard_tokens: int = DEFAULT_SHARD_TOKENS
    name: str = "tokens"
    executor: str = "local"
    workers: int | None = None
    ray_address: str | None = None
    input_format: str | None = None
    reader: dict[str, Any] = field(default_factory=dict)
    strict: bool = False
    report: bool = True

    def reader_options(self) -> ReaderOptions:
        known = {f.name for f in dataclasses.fields(ReaderOptions)}
        unknown = set(self.reader) - known
        if unknown:
            msg = f"unknown reader option(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(known))}"
            raise ConfigError(msg)
        return ReaderOptions(**self.reader)

    def validate(self) -> Encoder:
        """Check everything before any work; returns the loaded tokenizer."""
        if not self.input:
            raise ConfigError("no input: give --input PATH")
        if not self.output:
            raise ConfigError("no output: give --output TOKDIR")
        if not self.tokenizer:
            raise ConfigError("no tokenizer: give --tokenizer tokenizer.json (a Hugging Face tokenizers file; nothing is downloaded)")
        if self.format not in FORMATS:
            msg = f"unknown format {self.format!r}; choose from: {', '.join(FORMATS)}"
            raise ConfigError(msg)
        if self.executor not in ("local", "ray"):
            msg = f"unknown executor {self.executor!r}; choose from: local, ray"
            raise ConfigError(msg)
        if self.ray_address and self.executor != "ray":
            msg = f"a Ray address ({self.ray_address}) is given but the executor is {self.executor!r}: add --executor ray"
            raise ConfigError(msg)
        if self.workers is not None and self.workers < 1:
            raise ConfigError("--workers must be at least 1")
        if self.shard_tokens < 1:
            raise ConfigError("--shard-tokens must be at least 1")
        if not 0 <= self.shuffle_seed < 2**64:
            raise ConfigError("--shuffle-seed must be between 0 and 2**64 - 1")
        if not self.name or "/" in self.name or self.name.startswith(".") or self.name in OWN_ENTRIES:
            msg = f"--name {self.name!r} must be a plain file name prefix"
            raise ConfigError(msg)
        self.reader_options()
        encoder = Encoder(self.tokenizer, bos=self.bos, eos=self.eos)
        _ = encoder.tokenizer, encoder.bos_id, encoder.eos_id  # ConfigError now, not in a worker
        return encoder

    def fingerprint_source(self) -> dict[str, Any]:
        assert self.tokenizer is not None
        return {
            "command": "tokenize",
            "input": list(self.input),
            "input_format": self.input_format,
            "reader": dataclasses.asdict(self.reader_options()),
            "tokenizer_sha256": file_sha256(self.tokenizer),
            "format": self.format,
            "eos": self.eos,
            "bos": self.bos,
            "shuffle_seed": self.shuffle_seed,
            "shard_tokens": self.shard_tokens,
            "name": self.name,
            "strict": self.strict,
            "tamis_version": __version__,
        }

    def fingerprint(self) -> str:
        blob = orjson.dumps(self.fingerprint_source(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass
class TokenizeOutcome:
    stats: dict[str, Any]
    failed: dict[str, str] = field(default_factory=dict)
    input_errors: int = 0


def resolve_inputs(inputs: list[str]) -> list[str]:
    """A tamis run directory as input means its kept documents (``OUT/output``), not its rejects."""
    resolved = []
    for item in inputs:
        path = Path(item)
        if path.is_dir() and (path / "config.resolved.yaml").is_file() and (path / "output").is_dir():
            resolved.append(str(path / "output"))
        else:
            resolved.append(item)
    return resolved


def prepare_output(config: TokenizeConfig, fingerprint: str, *, resume: bool, overwrite: bool) -> Path:
    assert config.output is not None
    if "://" in config.output:
        msg = f"output {config.output!r}: tamis tokenize writes to a POSIX filesystem (files are committed by rename); copy TOKDIR afterwards"
        raise StorageError(msg)
    root = Path(config.output)
    if root.exists() and not root.is_dir():
        msg = f"output {root} exists and is not a directory"
        raise ConfigError(msg)
    resolved_path = root / "config.resolved.yaml"
    if root.exists() and any(root.iterdir()):
        if resume:
            previous = yaml.safe_load(resolved_path.read_text(encoding="utf-8")) if resolved_path.is_file() else None
            if not isinstance(previous, dict) or previous.get("command") != "tokenize":
                msg = f"--resume: {root} is not a tamis tokenize directory (no config.resolved.yaml of a tokenize run)"
                raise ConfigError(msg)
            if previous.get("fingerprint") != fingerprint:
                msg = (
                    f"--resume: the settings or the tokenizer changed since {root} was started "
                    f"(fingerprint {previous.get('fingerprint')} -> {fingerprint}); use --overwrite to start again"
                )
                raise ConfigError(msg)
            remove_partial_files(root)
            (root / "stats.json").unlink(missing_ok=True)
            return root
        if not overwrite:
            msg = f"output {root} is not empty: use --resume to continue that run or --overwrite to replace it"
            raise ConfigError(msg)
        replace_directory(root, lambda name: name in OWN_ENTRIES or SHARD_FILE.match(name) is not None)
    make_directory(root, "output directory")
    resolved = {"command": "tokenize", "fingerprint": fingerprint, **dataclasses.asdict(config)}
    resolved["reader"] = dataclasses.asdict(config.reader_options())
    write_bytes_atomic(resolved_path, yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True).encode())
    return root


def make_executor(config: TokenizeConfig, *, progress: bool) -> Executor:
    if config.executor == "ray":
        from tamis.executors.ray import RayExecutor

        return RayExecutor(config.workers, address=config.ray_address, progress=progress)
    from tamis.executors.local import LocalExecutor

    return LocalExecutor(config.workers, progress=progress)


def _load_marker(path: Path) -> dict[str, Any] | None:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None


def _run_calls(executor: Executor, plan: TokenizePlan, calls: list[Call], label: str) -> dict[str, str]:
    """``executor.map``; a call that succeeded without a marker the driver can see failed
    (a worker whose TOKDIR is not the driver's)."""
    results, failed = executor.map(calls, label)
    for name in markers_not_visible(plan.marker, plan.root / "_markers", list(results)):
        failed[name] = f"it finished, but its marker {plan.marker(name)} is not visible to the driver: TOKDIR must be on a filesystem every worker shares"
    return failed


def tokenize(
    config: TokenizeConfig, *, resume: bool = False, overwrite: bool = False, progress: bool = False, executor: Executor | None = None
) -> TokenizeOutcome:
    """Validate, prepare TOKDIR, encode every input task, write every shard, write ``stats.json``."""
    started = time.time()
    encoder = config.validate()
    single_threaded()  # tasks run in this process with one worker
    reader = config.reader_options()
    tasks = plan_tasks(resolve_inputs(config.input), reader, config.input_format)
    fingerprint = config.fingerprint()
    root = prepare_output(config, fingerprint, resume=resume, overwrite=overwrite)
    dtype = token_dtype(config.format, encoder.vocab_size)
    assert config.tokenizer is not None
    plan = TokenizePlan(
        run_dir=str(root),
        fingerprint=fingerprint,
        tokenizer=str(Path(config.tokenizer).resolve()),
        fmt=config.format,
        dtype=dtype.name,
        eos=config.eos,
        bos=config.bos,
        seed=config.shuffle_seed,
        reader=reader,
        strict=config.strict,
        name=config.name,
        attempt_sentinels=not resume,  # a resumed run cleans every encode task, as before
        info={
            "tokenizer": config.tokenizer,
            "tokenizer_sha256": file_sha256(config.tokenizer),
            "vocab_size": encoder.vocab_size,
            "bos": config.bos,
            "bos_id": encoder.bos_id,
            "eos": config.eos,
            "eos_id": encoder.eos_id,
        },
    )
    share_encoder(plan, encoder)
    own_executor = executor is None
    executor = executor or make_executor(config, progress=progress)
    timings: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        calls: list[Call] = [(encode_marker_name(t.index), encode_task, (plan, t)) for t in tasks if not plan.marker(encode_marker_name(t.index)).exists()]
        failed = _run_calls(executor, plan, calls, "encode")
        timings["encode"] = round(time.perf_counter() - t0, 3)
        shards: list[dict[str, Any]] = []
        if not failed:
            t0 = time.perf_counter()
            markers = [_load_marker(plan.marker(encode_marker_name(t.index))) for t in tasks]
            total = sum(m["tokens"]["tokens"] for m in markers if m)
            task_ids = [t.index for t in tasks]
            cuts = _shard_cuts(plan, task_ids, config.shard_tokens) if total else []
            n_shards = len(cuts)
            calls = [
                (write_marker_name(s, n_shards), write_shard_task, (plan, s, cuts, task_ids))
                for s in range(n_shards)
                if not plan.marker(write_marker_name(s, n_shards)).exists()
            ]
            failed = _run_calls(executor, plan, calls, "write")
            shards = [m for s in range(n_shards) if (m := _load_marker(plan.marker(write_marker_name(s, n_shards)))) is not None]
            timings["write"] = round(time.perf_counter() - t0, 3)
    finally:
        if own_executor:
            executor.close()
    summary, input_errors = _summary(plan, tasks, shards, executor, config, started, timings, failed)
    if not failed:
        shutil.rmtree(root / "_work", ignore_errors=True)  # every shard is written: no unshuffled leftovers
        write_bytes_atomic(root / "stats.json", orjson.dumps(summary, option=orjson.OPT_INDENT_2))
        if config.report:
            from tamis.tokenize.report import write_tokens_report

            write_tokens_report(root)
    return TokenizeOutcome(summary, failed, input_errors)


def _shard_cuts(plan: TokenizePlan, task_ids: list[int], shard_tokens: int) -> list[int]:
    """Where the shards start in the key order: computed once, kept as a marker for --resume
    (the spills it is computed from are gone once every shard is written)."""
    path = plan.marker("shard-cuts")
    saved = _load_marker(path)
    if saved is not None:
        return [int(c) for c in saved["cuts"]]
    cuts = shard_cuts(plan, task_ids, shard_tokens)
    write_bytes_atomic(path, orjson.dumps({"cuts": [str(c) for c in cuts]}))  # strings: keys exceed JSON's safe integers
    return cuts


def _summary(
    plan: TokenizePlan,
    tasks: list[InputTask],
    shards: list[dict[str, Any]],
    executor: Executor,
    config: TokenizeConfig,
    started: float,
    timings: dict[str, float],
    failed: dict[str, str],
) -> tuple[dict[str, Any], int]:
    stats = TaskStats()
    counts = TokenCounts()
    input_errors = 0
    parts = []
    for task in tasks:
        marker = _load_marker(plan.marker(encode_marker_name(task.index)))
        if marker is None:
            continue
        stats.merge(TaskStats.from_dict(marker["stats"]))
        counts.merge(TokenCounts.from_dict(marker["tokens"]))
        input_errors += marker["errors"]
        path = plan.root / "errors" / f"task{task.index:05d}.jsonl"
        if path.exists():
            parts.append(path.read_bytes())
    if parts or (plan.root / "errors.jsonl").exists():
        write_bytes_atomic(plan.root / "errors.jsonl", b"".join(parts))
    summary = stats.to_dict()
    summary["written"] = summary["kept"]
    summary["tokens"] = {
        **counts.to_dict(),
        "format": plan.fmt,
        "dtype": plan.dtype,
        "shards": [{"name": m["name"], "files": m["files"], "documents": m["documents"], "tokens": m["tokens"]} for m in shards],
        "shard_tokens": config.shard_tokens,
        "shuffle_seed": plan.seed,
        **plan.info,
    }
    summary["command"] = "tokenize"
    summary["steps"] = ["tokenize"]
    summary["tamis_version"] = __version__
    summary["config_fingerprint"] = plan.fingerprint
    summary["input_errors"] = input_errors
    summary["run"] = run_info(executor, len(tasks), started, timings, failed)
    return summary, input_errors
