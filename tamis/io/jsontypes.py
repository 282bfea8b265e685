"""The types Arrow gives JSON metadata, found without Arrow, for the shard notes and the card.

The card (:mod:`tamis.io.card`) declares the features ``datasets`` will infer: Arrow's JSON
reader's type for each shard's ``metadata`` column, unified across shards with
``pyarrow.unify_schemas(..., promote_options="permissive")``. Importing pyarrow and its JSON
reader for that costs a default run more than everything else the notes do, and metadata is
almost always a few plain shapes (strings, int64s, doubles, nested objects). This module
infers those types in Python and declines, by raising :class:`Unsure`, wherever Arrow's
answer is not certain to be the one it would give (a string Arrow could read as a timestamp,
an integer near int64's range, a key given twice, a type conflict: Arrow either promotes or
refuses, and its message goes into the card). A string Arrow's reader reads as a timestamp
(seconds) is typed as it does: :func:`arrow_timestamp` follows Arrow's ISO 8601 parser, so the
extract step's page dates ("2022-01-19T23:25:49+02:00") need no Arrow either. The caller then asks Arrow, as before, so the
card is the same either way (``tests/test_jsontypes.py`` compares both over random metadata).

A type is ``"null"``, ``"bool"``, ``"int64"``, ``"double"``, ``"string"``, ``"timestamp[s]"``,
``["list", item]`` or ``["struct", [[name, type], ...]]``: plain JSON, stored as it is in the
notes.
"""

from __future__ import annotations

import json
import re
from typing import Any

Type = Any  # str | list: see the module's docstring
INT_DIGITS = 18  # integers of up to this many digits are int64 to Arrow (longer: declined)
_INT_LIMIT = 10**INT_DIGITS
# Arrow's JSON reader reads an ISO 8601 string ("2020-01-01", "2020-01-01T10:00") as a
# timestamp[s] (arrow_timestamp says which, for strings with a dash fifth).
TIMESTAMP = "timestamp[s]"
_DIGITS = frozenset(b"0123456789")
_SURROGATE = re.compile("[\ud800-\udfff]")
ARROW_DTYPES = {"double": "float64"}  # the card's names for Arrow's (as datasets spells them)


class Unsure(ValueError):
    """Arrow's answer is not known here for certain: ask Arrow."""


class _Object(list):  # an object's (key, value) pairs, in order (kept apart from arrays)
    pass


def _refuse_constant(name: str) -> Any:
    raise Unsure(f"{name} is not JSON Arrow reads")


def _string(text: str) -> None:
    if _SURROGATE.search(text):
        raise Unsure("a lone surrogate")


def value_type(value: Any) -> Type:
    """The type Arrow's JSON reader gives one decoded value (objects as :class:`_Object`)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "bool"
    if isinstance(value, int):
        if -_INT_LIMIT < value < _INT_LIMIT:
            return "int64"
        raise Unsure("an integer near int64's range")
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        _string(value)
        return TIMESTAMP if value[4:5] == "-" and arrow_timestamp(value) else "string"
    if isinstance(value, _Object):
        fields: list[list[Any]] = []
        seen: set[str] = set()
        for key, item in value:
            _string(key)
            if key in seen:
                raise Unsure("a key given twice")
            seen.add(key)
            fields.append([key, value_type(item)])
        return ["struct", fields]
    if isinstance(value, list):
        item_type: Type = "null"
        for item in value:
            item_type = merge(item_type, value_type(item), rows=True)
        return ["list", item_type]
    raise Unsure(f"a {type(value).__name__}")


def _number(data: bytes, start: int, width: int) -> int | None:
    """Arrow's ParseUnsigned of ``width`` ASCII digits at ``start``, or None."""
    part = data[start : start + width]
    if len(part) != width or not _DIGITS.issuperset(part):
        return None
    return int(part)


def _hh(data: bytes, at: int) -> bool:  # hh (ParseHH)
    hours = _number(data, at, 2)
    return hours is not None and hours < 24


def _hhmm(data: bytes, at: int, colon: bool) -> bool:  # hh:mm (ParseHH_MM) or hhmm (ParseHHMM)
    if colon and data[at + 2 : at + 3] != b":":
        return False
    hours, minutes = _number(data, at, 2), _number(data, at + 2 + colon, 2)
    return hours is not None and minutes is not None and hours < 24 and minutes < 60


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def arrow_timestamp(text: str) -> bool:
    """True where Arrow's JSON reader reads the string ``text`` as a ``timestamp[s]``: Arrow's
    ``ParseTimestampISO8601`` for the unit of seconds, step by step on the UTF-8 bytes
    (``YYYY-MM-DD``, or that, ``T`` or a space, ``hh``, ``hh:mm`` or ``hh:mm:ss``, then an
    optional zone ``Z``, ``[+-]hh``, ``[+-]hhmm`` or ``[+-]hh:mm``, each part in range; a
    fraction of a second does not fit the unit). ``tests/test_jsontypes.py`` compares it with
    Arrow on generated and altered dates."""
    data = text.encode("utf-8", "surrogatepass")
    length = len(data)
    if length < 10 or data[4:5] != b"-" or data[7:8] != b"-":
        return False
    year, month, day = _number(data, 0, 4), _number(data, 5, 2), _number(data, 8, 2)
    if year is None or month is None or day is None or not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        return False
    if length == 10:
        return True
    if data[10:11] not in (b" ", b"T"):
        return False
    # The zone, found by position from the end, as Arrow does.
    if data[length - 1 : length] == b"Z":
        length -= 1
    elif data[length - 3 : length - 2] in (b"+", b"-"):
        length -= 3
        if not _hh(data, length + 1):
            return False
    elif data[length - 5 : length - 4] in (b"+", b"-"):
        length -= 5
        if not _hhmm(data, length + 1, colon=False):
            return False
    elif data[length - 6 : length - 5] in (b"+", b"-") and data[length - 3 : length - 2] == b":":
        length -= 6
        if not _hhmm(data, length + 1, colon=True):
            return False
    if length == 13:
        return _hh(data, 11)
    if length == 16:
        return _hhmm(data, 11, colon=True)
    if length == 19:
        seconds = _number(data, 17, 2)
        return _hhmm(data, 11, colon=True) and data[16:17] == b":" and seconds is not None and seconds < 60
    return False  # a fraction (lengths 21-29) needs a finer unit; any other length is refused


def merge(a: Type, b: Type, rows: bool = False) -> Type:
    """The type of a column holding values of types ``a`` and ``b``: what Arrow's JSON reader
    infers over rows (``rows``), and what ``unify_schemas`` (permissive) gives two fields (the
    two agree on every case taken here but one: null gives way, int64 widens to double, objects
    take the union of their fields in order of first appearance, lists merge their items; a
    timestamp beside a string is a string over rows, as the reader converts a column to
    timestamps only when all its strings are, while unify_schemas refuses it). Anything else
    raises :class:`Unsure` (Arrow refuses it, with its own message)."""
    if a == b:
        return a
    if a == "null":
        return b
    if b == "null":
        return a
    if isinstance(a, str) and isinstance(b, str):
        if {a, b} == {"int64", "double"}:
            return "double"
        if rows and {a, b} == {"string", TIMESTAMP}:
            return "string"
    if isinstance(a, list) and isinstance(b, list) and a[0] == b[0]:
        if a[0] == "list":
            return ["list", merge(a[1], b[1], rows)]
        return ["struct", merge_fields(a[1], b[1], rows)]
    raise Unsure(f"{describe(a)} and {describe(b)} in one column")


def merge_fields(a: list[list[Any]], b: list[list[Any]], rows: bool = False) -> list[list[Any]]:
    """Two field lists merged by name: ``a``'s order, then ``b``'s new names."""
    out = [list(field) for field in a]
    where = {name: i for i, (name, _) in enumerate(out)}
    for name, kind in b:
        if name in where:
            out[where[name]][1] = merge(out[where[name]][1], kind, rows)
        else:
            where[name] = len(out)
            out.append([name, kind])
    return out


def infer(texts: list[bytes]) -> Type:
    """The type Arrow's JSON reader infers for a column holding the JSON ``texts`` (one value
    each), or :class:`Unsure`."""
    found: Type = "null"
    for text in texts:
        try:
            value = json.loads(text, object_pairs_hook=_Object, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:  # not JSON (or too deep): Arrow says what
            raise Unsure(str(exc)) from exc
        found = merge(found, value_type(value), rows=True)
    return found


def describe(kind: Type) -> str:
    return kind if isinstance(kind, str) else kind[0]


def feature(name: str, kind: Type) -> dict[str, Any]:
    """The card's feature for a field (what ``card._feature`` gives the Arrow type)."""
    return {"name": name, **_dtype(kind)}


def _dtype(kind: Type) -> dict[str, Any]:
    if isinstance(kind, str):
        return {"dtype": ARROW_DTYPES.get(kind, kind)}
    if kind[0] == "struct":
        return {"struct": [feature(name, inner) for name, inner in kind[1]]}
    inner = _dtype(kind[1])
    return {"list": inner.get("dtype", inner)}


def to_arrow(kind: Type) -> Any:
    """The Arrow type (for unifying with shards whose schema only Arrow describes)."""
    import pyarrow as pa

    if isinstance(kind, str):
        return {"null": pa.null(), "bool": pa.bool_(), "int64": pa.int64(), "double": pa.float64(), "string": pa.string(), TIMESTAMP: pa.timestamp("s")}[kind]
    if kind[0] == "list":
        return pa.list_(to_arrow(kind[1]))
    return pa.struct([pa.field(name, to_arrow(inner)) for name, inner in kind[1]])


def arrow_schema(fields: list[list[Any]]) -> Any:
    import pyarrow as pa

    return pa.schema([pa.field(name, to_arrow(kind)) for name, kind in fields])
