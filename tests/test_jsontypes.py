"""tamis.io.jsontypes gives the types Arrow gives (its JSON reader's inference, unify_schemas'
permissive promotion, the card's feature names), or declines: never another answer."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tamis.io import jsontypes

pa = pytest.importorskip("pyarrow")
pj = pytest.importorskip("pyarrow.json")

KEYS = ["a", "b", "line", "", "é", "ключ", "k😀", "2020-01-01", "a\nb", "\ud800x"]
STRINGS = ["", "x", "2020-01-01", "2020-01-01T10:00:00", "2020-01-01T10:00:00.000Z", "2020-01-01 10:00+02:00"]
STRINGS += ["0001-01-01", "1999", "12:00", "héllo", "😀", "\ud800", "a\"b\\c", "2020-13-45x", " 2020-01-01"]
INTS = [0, 1, -1, 7, 10**17, 10**18 - 1, -(10**18) + 1, 10**18, 2**63 - 1, -(2**63), 2**64, 10**30]
FLOATS = [0.5, -1.25, 1e300, 1e-7, 3.0]


def _value(rng: random.Random, depth: int, mood: int) -> Any:
    """A random JSON value; ``mood`` biases one group towards consistent types (so that some
    groups have a type) or towards anything."""
    roll = rng.random()
    if depth > 2 or roll < 0.45:
        kinds = ["null", "int", "float", "str"] if mood else ["null", "bool", "int", "float", "str"]
        kind = rng.choice(kinds)
        if kind == "null":
            return None
        if kind == "bool":
            return rng.random() < 0.5
        if kind == "int":
            return rng.choice(INTS) if rng.random() < 0.3 else rng.randint(-1000, 1000)
        if kind == "float":
            return rng.choice(FLOATS)
        return rng.choice(STRINGS) if rng.random() < 0.5 else "s" + str(rng.randint(0, 99))
    if roll < 0.8:
        return {rng.choice(KEYS[:4] if mood else KEYS): _value(rng, depth + 1, mood) for _ in range(rng.randint(0, 4))}
    return [_value(rng, depth + 1, mood) for _ in range(rng.randint(0, 3))]


def _text(rng: random.Random, value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=rng.random() < 0.5)
    if rng.random() < 0.05 and isinstance(value, dict) and value:  # a key given twice
        key = json.dumps(next(iter(value)))
        text = "{" + key + ":1," + text[1:]
    return text.encode("utf-8", "surrogatepass")


def _arrow_type(texts: list[bytes]) -> Any:
    blob = b"\n".join(b'{"m":' + t + b"}" for t in texts)
    try:
        table = pj.read_json(pa.BufferReader(blob), read_options=pj.ReadOptions(use_threads=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return table.schema.field("m").type


def test_inferred_types_are_arrows_or_declined() -> None:
    rng = random.Random(5)
    known = unsure = 0
    found = []
    for group in range(1500):
        mood = group % 3
        rows = [_value(rng, 0, mood) for _ in range(rng.randint(1, 5))]
        if mood and rng.random() < 0.7:  # tamis's own shape: an object per record
            rows = [{"line": rng.randint(0, 9), "v": row} for row in rows]
        texts = [_text(rng, row) for row in rows]
        expected = _arrow_type(texts)
        try:
            got = jsontypes.infer(texts)
        except jsontypes.Unsure:
            unsure += 1
            continue
        assert expected is not None, (texts, got)  # Arrow refuses: never a type here
        assert jsontypes.to_arrow(got) == expected, texts
        known += 1
        found.append(got)
    assert known > 250 and unsure > 100  # both sides exercised
    _unify_like_arrow(found, rng)


def _unify_like_arrow(found: list[Any], rng: random.Random) -> None:
    """merge_fields of schemas is unify_schemas (permissive), the card's features too."""
    from tamis.io.card import _feature

    merged = 0
    for _ in range(1500):
        schemas = [[["id", "string"], ["metadata", rng.choice(found)]] for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            schemas[-1].append(["extra", rng.choice(found)])
        try:
            expected = pa.unify_schemas([jsontypes.arrow_schema(s) for s in schemas], promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            expected = None
        try:
            fields = schemas[0]
            for schema in schemas[1:]:
                fields = jsontypes.merge_fields(fields, schema)
        except jsontypes.Unsure:
            continue
        assert expected is not None, schemas
        assert jsontypes.arrow_schema(fields) == expected
        assert [jsontypes.feature(n, k) for n, k in fields] == [_feature(f.name, f.type) for f in expected]
        merged += 1
    assert merged > 300


@pytest.mark.parametrize(
    ("texts", "kind"),
    [
        ([b'{"a":1}', b'{"b":"x","a":null}'], ["struct", [["a", "int64"], ["b", "string"]]]),
        ([b"1", b"2.5"], "double"),
        ([b"[]"], ["list", "null"]),
        ([b"{}"], ["struct", []]),
        ([b'{"a":[]}', b'{"a":[{"x":1}]}'], ["struct", [["a", ["list", ["struct", [["x", "int64"]]]]]]]),
        ([b'"2020-01-01"'], "timestamp[s]"),
        ([b'{"date":"2022-01-19T23:25:49+02:00"}', b'{"date":null}'], ["struct", [["date", "timestamp[s]"]]]),
        ([b'{"date":"2022-01-19T23:25:49+02:00"}', b'{"date":"2024-09-25T06:05:22.000Z"}'], ["struct", [["date", "string"]]]),
        ([b'["2020-01-01", "x"]'], ["list", "string"]),
    ],
)
def test_known_types(texts: list[bytes], kind: Any) -> None:
    assert jsontypes.infer(texts) == kind
    assert jsontypes.to_arrow(kind) == _arrow_type(texts)


@pytest.mark.parametrize(
    "texts",
    [[b"12345678901234567890"], [b'{"a":1,"a":2}'], [b"1", b'"a"'], [b"true", b"1"], [b'"\\ud800"'], [b"NaN"], [b"{"]],
)
def test_declined(texts: list[bytes]) -> None:
    with pytest.raises(jsontypes.Unsure):
        jsontypes.infer(texts)


def _date_strings(rng: random.Random) -> list[str]:
    """ISO 8601 dates and times as pages state them, in range and out, with every zone form,
    fractions, and single characters changed, dropped or added."""
    out = []
    for _ in range(4000):
        year = rng.choice([0, 1, 1900, 1999, 2000, 2019, 2024, 9999])
        month, day = rng.randint(0, 13), rng.choice([0, 1, 9, 28, 29, 30, 31, 32])
        text = f"{year:04d}-{month:02d}-{day:02d}"
        if rng.random() < 0.8:
            text += rng.choice("T T tx")
            hours = rng.choice([0, 9, 23, 24])
            text += f"{hours:02d}" + rng.choice(["", f":{rng.choice([0, 59, 60]):02d}", f":{rng.choice([0, 59]):02d}:{rng.choice([0, 59, 60]):02d}"])
            if rng.random() < 0.3:
                text += "." + "0" * rng.randint(0, 10)
            text += rng.choice(["", "", "Z", "z", "+02", "-05", "+24", "+0200", "-0530", "+2360", "+02:00", "-23:59", "+23:60", " +0000", "UTC"])
        if rng.random() < 0.3:  # one character changed, dropped or added
            at = rng.randrange(len(text) + 1)
            change = rng.choice(["-", ":", "T", " ", "Z", "+", "0", "9", "é", "٣"])
            text = text[:at] + rng.choice(["", change]) + text[at + rng.choice([0, 1]) :]
        out.append(text)
    return out


def test_timestamps_are_the_strings_arrow_reads_as_timestamps() -> None:
    rng = random.Random(11)
    texts = _date_strings(rng)
    found = {True: 0, False: 0}
    for text in texts:
        expected = _arrow_type([json.dumps(text, ensure_ascii=rng.random() < 0.5).encode()])
        assert jsontypes.arrow_timestamp(text) == (expected == pa.timestamp("s")), text
        assert expected in (pa.timestamp("s"), pa.string()), text
        assert jsontypes.infer([json.dumps(text).encode()]) == ("timestamp[s]" if expected == pa.timestamp("s") else "string")
        found[expected == pa.timestamp("s")] += 1
    assert min(found.values()) > 500  # both answers exercised
