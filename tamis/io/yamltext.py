"""YAML for the files tamis writes (``config.resolved.yaml``, the card's header), without PyYAML
where the data is plain.

Every run writes its resolved config, and the card's header, as YAML, and the report reads the
config back. PyYAML's import alone (its resolver's patterns, its Python classes) was ~4 % of a
one-document run's instructions, before any dump. :func:`emit` writes the block style that
``yaml.safe_dump(data, sort_keys=False, allow_unicode=True)`` writes, byte for byte, for the data
those files hold: mappings with identifier-like keys, lists, ``None``, booleans, integers,
floats whose ``repr`` has a decimal point and no exponent, and ASCII strings in one of two
shapes whose style is certain (below). Anything else (another type, a string that PyYAML might
quote, fold, escape or read back as another type, an object reached twice, which PyYAML would
write with an anchor) returns None, and the caller dumps with PyYAML as before: the text is the
same either way (``tests/test_yamltext.py`` compares the two on the real files and on random
data, and reads every emitted text back with ``yaml.safe_load``).

:func:`load` reads such a text back: a text this process emitted (the report reads the config the
run just wrote) is answered from a copy of the data it was emitted from, which is what
``yaml.safe_load`` gives for it (the same test); any other text goes to PyYAML.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import orjson

# A string PyYAML writes plain: it starts with a letter, "_", "/" or "<" (none of them an indicator
# at the start, and no implicit type's pattern starts with a letter but the words below), and
# holds no space, quote, "#", ":" or flow indicator ("," "[" "]" "{" "}" "?"), so nothing in it
# makes plain style impossible, and a line never folds (PyYAML folds only at spaces).
_PLAIN = re.compile(r"[A-Za-z_/<][A-Za-z0-9_./<>*+=@%~-]*")
# Also plain: a digit, then digits and letters, with a letter somewhere (a hex digest, "3d"): no
# implicit type reads it (a float has a ".", a date a "-", a sexagesimal number a ":"), but for
# an integer in base 2 or 16, which _RADIX_INT tells exactly.
_ALNUM = re.compile(r"[0-9][0-9A-Za-z]*[A-Za-z][0-9A-Za-z]*")
# PyYAML's int resolver's two alternatives that take a letter (lower-case "0b" and "0x" only; YAML
# 1.1 has no "0o"): such a string reads back as an integer, so PyYAML single-quotes it. A hex
# digest opening with "0b" (1 in 256) is plain unless every digit after it is 0 or 1.
_RADIX_INT = re.compile(r"[-+]?0b[0-1_]+|[-+]?0x[0-9a-fA-F_]+")
# The words YAML 1.1 reads as booleans or null (PyYAML's resolver), and the merge key: quoted.
_WORDS = frozenset({
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
})
# A string PyYAML certainly writes single-quoted: printable ASCII without spaces or quotes that
# either starts with an indicator (plain style impossible) or reads as another type (a word
# above, a decimal integer or a float): single quotes are then the style PyYAML chooses.
_QUOTABLE = re.compile(r"[!-&(-~]+")
_INDICATOR_START = frozenset("#,[]{}&*!|>\"%@`")
_NUMBER = re.compile(r"[-+]?(?:0|[1-9][0-9]*)|[-+]?[0-9]+\.[0-9]*")
_FLOAT_REPR = re.compile(r"-?[0-9]+\.[0-9]+")
_MAX_KEY = 100  # PyYAML writes a key of 128 characters or more as "? key"


class _Unsure(Exception):
    """The data holds something :func:`emit` does not write: PyYAML dumps it."""


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    kind = type(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        text = repr(value)
        if _FLOAT_REPR.fullmatch(text):
            return text
        raise _Unsure
    if kind is str:
        if _PLAIN.fullmatch(value) and value not in _WORDS and value != "<<":
            return value
        radix_int = _RADIX_INT.fullmatch(value)
        if not radix_int and _ALNUM.fullmatch(value):
            return value
        if _QUOTABLE.fullmatch(value) and (value[0] in _INDICATOR_START or value in _WORDS or radix_int or _NUMBER.fullmatch(value)):
            return f"'{value}'"
    raise _Unsure


def _key(key: Any) -> str:
    if type(key) is not str or len(key) > _MAX_KEY or not _PLAIN.fullmatch(key) or key in _WORDS or key == "<<":
        raise _Unsure
    return key


def _container(value: Any, seen: set[int]) -> bool:
    """True for a non-empty list or dict (written in block style). A list or dict reached twice
    (empty ones too) is written by PyYAML with an anchor and an alias."""
    kind = type(value)
    if kind is dict or kind is list:
        if id(value) in seen:
            raise _Unsure
        seen.add(id(value))
        return bool(value)
    return False


def _inline(value: Any) -> str:
    """A scalar, or an empty collection (flow style: ``[]``, ``{}``)."""
    kind = type(value)
    if kind is list:
        return "[]"
    if kind is dict:
        return "{}"
    return _scalar(value)


def _mapping(data: dict[Any, Any], indent: int, first: str, lines: list[str], seen: set[int]) -> None:
    lead = first
    for key, value in data.items():
        head = f"{lead}{_key(key)}:"
        lead = " " * indent
        if not _container(value, seen):
            lines.append(f"{head} {_inline(value)}")
        elif type(value) is dict:
            lines.append(head)
            _mapping(value, indent + 2, " " * (indent + 2), lines, seen)
        else:  # a list in a mapping is not indented (PyYAML's "indentless" sequence)
            lines.append(head)
            _sequence(value, indent, " " * indent, lines, seen)


def _sequence(data: list[Any], indent: int, first: str, lines: list[str], seen: set[int]) -> None:
    lead = first
    for value in data:
        head = f"{lead}- "
        lead = " " * indent
        if not _container(value, seen):
            lines.append(head + _inline(value))
        elif type(value) is dict:
            _mapping(value, indent + 2, head, lines, seen)
        else:
            _sequence(value, indent + 2, head, lines, seen)


def emit(data: Any) -> str | None:
    """``yaml.safe_dump(data, sort_keys=False, allow_unicode=True)``'s text for a mapping or a
    list of the plain data described above; None for anything else."""
    lines: list[str] = []
    seen: set[int] = set()
    try:
        if not _container(data, seen):
            return None  # a scalar or empty document: PyYAML adds an end marker
        if type(data) is dict:
            _mapping(data, 0, "", lines, seen)
        else:
            _sequence(data, 0, "", lines, seen)
    except _Unsure:
        return None
    except RecursionError:
        return None
    lines.append("")
    return "\n".join(lines)


_EMITTED: dict[str, bytes] = {}  # text -> the data it was emitted from (JSON: a copy, taken then)


def dump(data: Any, remember: bool = False) -> str | None:
    """:func:`emit`; with ``remember``, :func:`load` later answers this text from a copy of ``data``."""
    text = emit(data)
    if text is not None and remember:
        with contextlib.suppress(TypeError):  # an integer beyond 64 bits: read back by PyYAML
            _EMITTED[text] = orjson.dumps(data)
    return text


def load(text: str) -> Any:
    """``yaml.safe_load(text)`` (libyaml's parser where PyYAML has it): raises ``yaml.YAMLError``
    on a text that is not YAML."""
    copy = _EMITTED.get(text)
    if copy is not None:
        return orjson.loads(copy)
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_or_none(text: str) -> Any:
    """:func:`load`, or None where the text is not valid YAML."""
    copy = _EMITTED.get(text)
    if copy is not None:
        return orjson.loads(copy)
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
