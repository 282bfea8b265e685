"""Run configuration: YAML or flags in, a validated, fingerprinted plan out.

A config names steps by their registry name (``{step: gopher_quality, max_words: 5000}``);
nothing in a config is ever imported or evaluated. Unknown keys, unknown steps and unknown
step parameters are refused with the list of what is valid, before any work starts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tamis import __version__
from tamis.dedup.base import GlobalStage
from tamis.errors import ConfigError
from tamis.io.outputs import output_format
from tamis.io.readers import ReaderOptions, input_format_names
from tamis.recipes import RECIPES, recipe
from tamis.registry import EXECUTORS, get_step_class
from tamis.sha256 import sha256
from tamis.steps.base import Step
from tamis.validation import check_fields

CODEC_LEVELS = {"gzip": (0, 9), "zstd": (-7, 22)}  # gzip 0-3: ISA-L's levels, 4-9: zlib's (io/outputs.py); zstd 0: its default


@dataclass
class RunConfig:
    """A run's settings: the config file's values, then the command line's."""
    input: list[str] = field(default_factory=list)
    output: str | None = None
    executor: str = "local"
    workers: int | None = field(default=None, metadata={"min": 1})
    ray_address: str | None = None
    format: str = "jsonl"  # choices: the output registry (validate)
    compression: str = "gzip"  # choices: what the output format takes (validate)
    compression_level: int | None = field(default=None, metadata={"min": None})  # range by codec: validate()
    shard_size_mb: int = field(default=256, metadata={"min": 1})
    input_format: str | None = None
    reader: dict[str, Any] = field(default_factory=dict)
    recipe: str = "default"
    steps: list[dict[str, Any]] | None = None
    strict: bool = False
    limit: int | None = field(default=None, metadata={"min": 0})
    report: bool = True
    keep_text: bool = True  # False: kept records carry id and metadata only (text null)

    def reader_options(self) -> ReaderOptions:
        known = {f.name for f in dataclasses.fields(ReaderOptions)}
        unknown = set(self.reader) - known
        if unknown:
            msg = f"unknown reader option(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(known))}"
            raise ConfigError(msg)
        return ReaderOptions(**check_fields("reader", ReaderOptions, self.reader))

    def step_configs(self) -> list[dict[str, Any]]:
        if self.steps is not None:
            return self.steps
        if self.recipe not in RECIPES:
            msg = f"unknown recipe {self.recipe!r}; choose from: {', '.join(RECIPES)}"
            raise ConfigError(msg)
        return recipe(self.recipe)

    def validate(self) -> None:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name, value in check_fields("config", RunConfig, values).items():
            setattr(self, name, value)
        if not self.input:
            raise ConfigError("no input: give --input PATH (or 'input:' in the config)")
        for path in [*self.input, self.output or ""]:
            try:
                path.encode("utf-8")
            except UnicodeEncodeError:  # fingerprints, markers and records hold paths as UTF-8 text
                shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                msg = f"the path {shown} is not valid UTF-8: rename it (files with such names inside an input folder are reported and skipped)"
                raise ConfigError(msg) from None
        if not self.output:
            raise ConfigError("no output: give --output DIR (or 'output:' in the config)")
        if self.executor not in EXECUTORS:
            msg = f"unknown executor {self.executor!r}; choose from: {', '.join(EXECUTORS)}"
            raise ConfigError(msg)
        if self.ray_address and self.executor != "ray":
            msg = f"a Ray address ({self.ray_address}) is given but the executor is {self.executor!r}: add --executor ray"
            raise ConfigError(msg)
        output_format(self.format, self.compression, self.compression_level)  # names the choices when unknown
        if self.compression_level is not None and self.compression in CODEC_LEVELS:
            low, high = CODEC_LEVELS[self.compression]
            if not low <= self.compression_level <= high:
                msg = f"config: compression_level = {self.compression_level!r} is not allowed: {self.compression} levels are {low} to {high}"
                raise ConfigError(msg)
        if self.input_format is not None and self.input_format not in input_format_names():
            msg = f"config: input_format = {self.input_format!r} is not allowed: choose from {', '.join(input_format_names())}"
            raise ConfigError(msg)
        self.reader_options()

    def fingerprint_source(self, steps: list[Step] | None = None) -> dict[str, Any]:
        """What decides the output: everything but where, how fast and on what it runs.

        ``steps`` are this config's built steps, when the caller already has them.
        """
        steps = build_steps(self.step_configs()) if steps is None else steps
        return {
            "input": list(self.input),
            "input_format": self.input_format,
            "reader": dataclasses.asdict(self.reader_options()),
            "steps": [{**step_params(s), **s.fingerprint_extra()} for s in steps],
            "tamis_version": __version__,  # a new version may decide differently: no mixed runs
            "format": self.format,
            "compression": self.compression,
            "compression_level": self.compression_level,
            "shard_size_mb": self.shard_size_mb,
            "limit": self.limit,
            "strict": self.strict,
            "keep_text": self.keep_text,
        }

    def fingerprint(self, steps: list[Step] | None = None) -> str:
        blob = orjson.dumps(self.fingerprint_source(steps), option=orjson.OPT_SORT_KEYS)
        return sha256(blob).hexdigest()[:16]

    def resolved(self, steps: list[Step] | None = None) -> dict[str, Any]:
        steps = build_steps(self.step_configs()) if steps is None else steps
        data = dataclasses.asdict(self)
        data["steps"] = [step_params(s) for s in steps]
        data.pop("recipe")
        data["reader"] = dataclasses.asdict(self.reader_options())
        return data


CONFIG_KEYS = {f.name for f in dataclasses.fields(RunConfig)}


def step_params(step: Step) -> dict[str, Any]:
    return {"step": step.name, **step.params()}


def build_steps(configs: list[dict[str, Any]]) -> list[Step]:
    steps: list[Step] = []
    seen_ids: set[str] = set()
    for position, config in enumerate(configs, 1):
        if not isinstance(config, dict) or "step" not in config:
            msg = f"steps[{position}] must be a mapping with a 'step' key, got {config!r}"
            raise ConfigError(msg)
        params = dict(config)
        name = params.pop("step")
        cls = get_step_class(name)
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = set(params) - valid
        if unknown:
            msg = f"step {name!r} has no parameter(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(valid))}"
            raise ConfigError(msg)
        params = check_fields(f"step {name!r}", cls, params)
        try:
            step = cls(**params)
        except (TypeError, ValueError) as exc:
            msg = f"step {name!r}: {exc}"
            raise ConfigError(msg) from exc
        if step.step_id in seen_ids:
            msg = f"two steps have the id {step.step_id!r}; give one of them another 'id:'"
            raise ConfigError(msg)
        seen_ids.add(step.step_id)
        steps.append(step)
    return steps


def load_config_file(path: str) -> dict[str, Any]:
    import yaml  # only a run with a config file reads YAML (~4 % of a one-document run's start)

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        msg = f"cannot read config {path}: {exc}"
        raise ConfigError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"config {path} is not valid YAML: {exc}"
        raise ConfigError(msg) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        msg = f"config {path} must be a mapping at the top level"
        raise ConfigError(msg)
    unknown = set(data) - CONFIG_KEYS
    if unknown:
        msg = f"config {path}: unknown key(s) {', '.join(sorted(unknown))}; valid keys: {', '.join(sorted(CONFIG_KEYS))}"
        raise ConfigError(msg)
    if isinstance(data.get("input"), str):
        data["input"] = [data["input"]]
    base = Path(path).parent
    # Relative paths in a config are relative to the config file, as users expect.
    if "input" in data:
        data["input"] = [p if Path(p).is_absolute() or "://" in p else str(base / p) for p in data["input"]]
    if data.get("output") and not Path(data["output"]).is_absolute() and "://" not in data["output"]:
        data["output"] = str(base / data["output"])
    return data


def make_config(file_values: dict[str, Any], overrides: dict[str, Any]) -> RunConfig:
    """File values, then flags (flags win)."""
    values = {**file_values, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        config = RunConfig(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from exc
    config.validate()
    return config


@dataclass
class Segment:
    """Steps run per task between two global stages; ``stage`` ends the segment (or None)."""

    steps: list[Step]
    stage: GlobalStage | None


def split_segments(steps: list[Step]) -> list[Segment]:
    if any(step.name == "minhash" for step in steps):  # the fusion needs one (its import costs ~0.1 s)
        from tamis.dedup.fused import fuse_dedup_steps  # normalize -> exact -> minhash as one stage: the input read once

        steps = fuse_dedup_steps(steps)
    segments: list[Segment] = []
    current: list[Step] = []
    for step in steps:
        if isinstance(step, GlobalStage):
            segments.append(Segment(current, step))
            current = []
        else:
            current.append(step)
    segments.append(Segment(current, None))
    return segments
