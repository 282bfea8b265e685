"""tamis.io.yamltext writes what PyYAML's safe_dump writes, byte for byte, or hands the data back
to PyYAML; what it writes reads back as the data (yaml.safe_load), and load answers as PyYAML."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
import yaml

from tamis.io import yamltext
from tamis.io.card import card_yaml
from tamis.pipeline import RunConfig, build_steps

DUMPERS = [yaml.SafeDumper] + ([yaml.CSafeDumper] if hasattr(yaml, "CSafeDumper") else [])

# Strings around every rule's edge: plain, quoted, and those left to PyYAML.
STRINGS = [
    "text", "id", "utf-8", "/tmp/in/docs.jsonl", "rejects/part-*.jsonl.gz", "<EMAIL>", "a.b", "x-y", "_x", "a+b", "a=b",
    "23af128ca96abe93", "0fc034e051be00a3", "0b3f0c1d2e4a5b69", "0b0110", "0x0fa3", "0B101", "0X1f", "3d", "1e5", "0b101", "0x1f", "0o17", "0b", "0x",
    "0b1_0", "+0x1f", "-0b1", "0xg1", "0999", "0123", "1_000", "12:30",
    "2001-12-14", "1.5", "1.", ".5", "-5", "+3", "0", "42", "-0.0", "*", "&a", "!tag", "#x", "%x", "@x", "`x", "|x", ">x",
    "[x", "{x", ",x", "?x", ":x", "-x", "-", "--- x", "...", "~", "<<", "=", "", " ", "a b", "a: b", "a #b", "a\nb", "a'b", 'a"b',
    "yes", "No", "TRUE", "off", "null", "Null", "y", "n", "é", "日本", "a\tb", "\x85", "\u2028", "👍", "x" * 130, "a" * 90,
]
FRIENDLY = [*STRINGS[:12], "*", "yes", "-5", "42", "1.5"]  # drawn more often: whole documents the emitter writes
NUMBERS: list[Any] = [0, 1, -1, 2**40, 2**70, 0.65, 30.0, -0.0, 1e-05, 1e16, 123456.789, math.inf, -math.inf, 0.1 + 0.2, True, False, None]


def _data(rng: random.Random, depth: int, pool: list[Any]) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        if pool and rng.random() < 0.03:
            return rng.choice(pool)  # an object reached twice: PyYAML writes an anchor
        if rng.random() < 0.4:
            return rng.choice(NUMBERS[:10] + NUMBERS[-3:]) if rng.random() < 0.9 else rng.choice(NUMBERS)
        return rng.choice(FRIENDLY) if rng.random() < 0.93 else rng.choice(STRINGS)
    if roll < 0.75:
        value: Any = {rng.choice(FRIENDLY) if rng.random() < 0.95 else rng.choice(STRINGS): _data(rng, depth + 1, pool) for _ in range(rng.randrange(0, 5))}
    else:
        value = [_data(rng, depth + 1, pool) for _ in range(rng.randrange(0, 5))]
    pool.append(value)
    return value


def _pyyaml(data: Any, dumper: Any) -> str:
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True)


def _check(data: Any) -> bool:
    text = yamltext.emit(data)
    if text is None:
        return False
    for dumper in DUMPERS:
        assert text == _pyyaml(data, dumper)
    assert yaml.safe_load(text) == data
    return True


def test_random_data_is_written_as_pyyaml_writes_it_or_left_to_pyyaml() -> None:
    rng = random.Random(7)
    emitted = 0
    for _ in range(3000):
        data = _data(rng, 0, [])
        if isinstance(data, dict | list):
            emitted += _check(data)
    assert emitted > 250  # the emitter writes a share itself (the rest went to PyYAML)


def test_each_string_and_number_as_key_value_and_item() -> None:
    written = set()
    for value in STRINGS + NUMBERS:
        for data in ({"key": value}, [value], {"a": [value, {"b": value}]}, {str(value): 1} if isinstance(value, str) else {"k": [[value]]}):
            if _check(data):
                written.add(repr(value))
    # plain, single-quoted, hex digests, integers and floats are written without PyYAML
    assert {"'/tmp/in/docs.jsonl'", "'*'", "'23af128ca96abe93'", "'yes'", "'-5'", "0.65", "30.0", "-0.0", "True", "None", str(2**70)} <= written
    assert {"'0b3f0c1d2e4a5b69'", "'0b101'", "'0x1f'", "'0B101'"} <= written  # radix look-alikes, plain or quoted
    # anything uncertain is left to PyYAML
    assert not written & {"''", "' '", "'a b'", "'é'", "'~'", "'0999'", "'<<'", "1e-05", "inf"}


def test_hex_digests_are_written_without_pyyaml_as_pyyaml_writes_them() -> None:
    # a run's fingerprints are 16 hex digits; those opening with "0b" (1 in 256) went to PyYAML
    rng = random.Random(11)
    digests = [f"{rng.getrandbits(64):016x}" for _ in range(2000)]
    digests += ["0b" + f"{rng.getrandbits(56):014x}" for _ in range(300)]
    digests += ["0b" + "".join(rng.choice("01") for _ in range(14)) for _ in range(20)]  # reads as an integer: quoted
    digests += ["0x" + f"{rng.getrandbits(56):014x}" for _ in range(20)]  # likewise
    for digest in digests:
        assert _check({"fingerprint": digest, "input_fingerprint": digest, "items": [digest]}), digest
    assert yamltext.emit({"f": "0b0110"}) == "f: '0b0110'\n"
    assert yamltext.emit({"f": "0b3f0c1d2e4a5b69"}) == "f: 0b3f0c1d2e4a5b69\n"


def test_the_resolved_default_config_and_a_card_are_written_without_pyyaml() -> None:
    config = RunConfig(input=["/data/crawl/*.jsonl.gz", "part-00001.jsonl"], output="/runs/out")
    steps = build_steps(config.step_configs())
    resolved = {"fingerprint": config.fingerprint(steps), "input_fingerprint": "0fc034e051be00a3", **config.resolved(steps)}
    assert _check(resolved)
    card = {"configs": [{"config_name": "kept", "default": True, "data_files": [{"split": "train", "path": "output/part-*.jsonl.gz"}]}],
            "dataset_info": [{"config_name": "kept", "features": [{"name": "id", "dtype": "string"}, {"name": "metadata", "struct": []}],
                              "splits": [{"name": "train", "num_examples": 3}]}]}
    assert _check(card)
    assert card_yaml(card) == _pyyaml(card, DUMPERS[-1])
    odd = {"features": [{"name": "größe 👍", "dtype": "string"}]}  # left to PyYAML's Python emitter, as before
    assert card_yaml(odd) == _pyyaml(odd, yaml.SafeDumper)


def test_load_answers_as_pyyaml() -> None:
    data = {"input": ["a.jsonl"], "workers": 1, "steps": [{"step": "language", "allow": ["*"], "min_score": 0.65}]}
    text = yamltext.dump(data, remember=True)
    assert text is not None
    assert yamltext.load(text) == yaml.safe_load(text) == data
    assert yamltext.load(text) is not yamltext.load(text)  # a copy each time
    other = "a: [1, 2]\nb: !!str 3\n"  # not emitted here: PyYAML reads it
    assert yamltext.load(other) == {"a": [1, 2], "b": "3"}
    assert yamltext.load_or_none("a: [1\n") is None
    with pytest.raises(yaml.YAMLError):
        yamltext.load("a: [1\n")
    assert yamltext.emit("scalar") is None and yamltext.emit({}) is None and yamltext.emit(None) is None
