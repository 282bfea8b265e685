"""The compiled JSONL scanner agrees with the plain path (orjson + the reader + normalized_utf8).

The scanner may always decline (None); whenever it answers, every figure must be exactly what
the plain path computes. Runs with the scanner and without it (TAMIS_JSONL_SCANNER=0) must
write the same files.
"""

from __future__ import annotations

import gzip
import json
import random
import unicodedata
from pathlib import Path

import orjson
import pytest
from runutil import load_stats, run_recipe

from tamis.document import Document
from tamis.io.jsonl_fast import TEXTLESS_RESERVED
from tamis.io.outputs import dumps
from tamis.io.readers import ReaderOptions, _parse_json_record, derived_id
from tamis.text import NFC_TABLE_LIMIT, _count_words_reference, _normalized_utf8_reference, nfc_unstable_bitmap

_jsonl = pytest.importorskip("tamis._native._jsonl")
_jsonl.set_nfc_unsafe(nfc_unstable_bitmap())

MAX = 1 << 20


def scan(line: bytes, fold: bool = True, max_bytes: int = MAX):
    return _jsonl.scan_record(line, b"text", b"id", max_bytes, fold, PATH_JSON, 7, TEXTLESS_RESERVED)


PATH = "in/part.jsonl"
PATH_JSON = orjson.dumps(PATH)


def check_against_reference(line: bytes, fold: bool) -> bool:
    """Asserts the scanner's answer matches the reference; returns whether it answered."""
    found = scan(line, fold)
    if found is None:
        return False
    record = orjson.loads(line)  # an answer implies orjson reads the line
    assert isinstance(record, dict)
    text = record["text"]
    doc_id, key, chars, n_bytes, words, start, end, textless = found
    raw_id = record.get("id")
    assert doc_id == (None if raw_id in (None, "") else str(raw_id))
    assert chars == len(text)
    assert n_bytes == len(text.encode("utf-8"))
    assert words == _count_words_reference(text) > 0
    assert orjson.loads(line[start:end]) == text
    assert key == (_normalized_utf8_reference(text) if fold else None)
    if textless is not None:  # byte for byte the writer's line for the reader's document
        doc = _parse_json_record(line, PATH, 7, ReaderOptions(), "text", "id")
        assert isinstance(doc, Document)
        assert textless == dumps({"id": doc.id, "text": None, "metadata": doc.metadata})
    return True


ALPHABET = (
    [chr(c) for c in range(0x20, 0x7F)] * 4
    + [" "] * 40
    + [chr(c) for c in range(0xA0, 0x250)]
    + [chr(c) for c in range(0x370, 0x530)]
    + [chr(c) for c in range(0x4E00, 0x4E40)]
    + list("\n\t\r\u00a0\u202f\u2019\u2018`´ßİŉﬁǅΐ\u0301\u0308\u3000\u2028\u1680\u2000\u1161\uac00\x00\x1f\x7f\u0085")
    + ["\U0001f389", "\U00010400", "\U0001d400", "\U00020000"]
)


def dump(record: dict, *, ascii_only: bool = False, indent: int | None = None, compact: bool = False) -> bytes:
    """JSON as other writers produce it (big integers, escapes, spaces); one line."""
    separators = (",", ":") if compact else None
    return json.dumps(record, ensure_ascii=ascii_only, indent=indent, separators=separators).replace("\n", " ").encode()


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 80)))


def random_record(rng: random.Random) -> dict:
    record: dict = {}
    fields = ["text", "id", "url", "meta", "n", rng.choice(["language", "source", "metadata", "other"])]
    rng.shuffle(fields)
    for name in fields:
        roll = rng.random()
        if name == "text":
            record["text"] = random_text(rng) if roll < 0.9 else rng.choice([None, 5, ["x"], ""])
        elif name == "id":
            if roll < 0.8:
                record["id"] = rng.choice([f"doc-{rng.randint(0, 999)}", rng.randint(-(10**20), 10**20), None, "", "é\u2019"])
        elif name == "meta":
            record["meta"] = rng.choice(
                [
                    {"a": [1, 2.5, -3e10, True, None, {"b": "x\"y\\z"}], "c": random_text(rng)},
                    {"a": [1, -2, 10**18, {"b": "x/y", "c": [False]}], "d": random_text(rng)},
                    [],
                    {},
                ]
            )
        elif name in ("language", "source", "metadata"):
            if roll < 0.3:
                record[name] = rng.choice(["fr", {"k": 1}, None, 3])
        elif roll < 0.5:
            record[name] = rng.choice([0, -1, 1.5e-7, 12345678901234567890, "s", False, "\x01\x08\x1f\u2028"])
    return record


@pytest.mark.parametrize("fold", [True, False])
def test_scanner_matches_the_reference_on_random_records(fold: bool):
    rng = random.Random(11)
    answered = copied = 0
    for _ in range(4000):
        record = random_record(rng)
        roll = rng.random()
        line = dump(record, ascii_only=roll < 0.2, indent=2 if roll > 0.8 else None, compact=0.4 < roll < 0.8)
        answered += check_against_reference(line, fold)
        found = scan(line, fold)
        copied += found is not None and found[7] is not None
    assert answered > 1500  # the common case is taken
    assert copied > 150


def test_block_digests_are_the_reference_hash_of_each_key():
    """scan_block's digest mode hashes each folded key in C (vendored xxHash): each digest is
    xxhash.xxh3_128_digest of the key the key mode gives (the reference: normalized_utf8),
    zeros for a declined line; every other answer is the same."""
    import xxhash

    rng = random.Random(13)
    lines = [dump(random_record(rng), ascii_only=rng.random() < 0.2) for _ in range(3000)]
    lines += [dump({"id": "long", "text": random_text(rng) * 400}), b"", b"  ", b"{broken"]
    data = b"\n".join(lines) + b"\n"
    args = (data, 0, len(data), 0, b"text", b"id", MAX, True, PATH_JSON, TEXTLESS_RESERVED, True)
    newlines, numbers, ids, keys, textless = _jsonl.scan_block(*args)
    found = _jsonl.scan_block(*args, True)
    assert (found[0], found[1], found[2], found[4]) == (newlines, numbers, ids, textless)
    assert len(found[3]) == 16 * len(keys) and sum(key is None for key in keys) > 300
    assert [found[3][16 * i : 16 * i + 16] for i in range(len(keys))] == [bytes(16) if key is None else xxhash.xxh3_128_digest(key) for key in keys]
    assert _jsonl.scan_block(*args[:7], False, *args[8:], True)[3] == [None] * len(keys)  # no fold: no keys, no digests


def test_scanner_never_answers_for_a_line_orjson_refuses():
    rng = random.Random(12)
    for _ in range(4000):
        line = bytearray(dump(random_record(rng)))
        for _ in range(rng.randint(1, 3)):  # damage it: flip, drop or insert a byte
            at = rng.randrange(len(line))
            kind = rng.random()
            if kind < 0.4:
                line[at] = rng.randrange(256)
            elif kind < 0.7:
                del line[at]
            else:
                line.insert(at, rng.choice(b'"\\{}[],:\x00\xff\xc3 0e-'))
        line_b = bytes(line)
        try:
            orjson.loads(line_b)
        except orjson.JSONDecodeError:
            assert scan(line_b) is None, line_b
            continue
        check_against_reference(line_b, True)


@pytest.mark.parametrize(
    "line",
    [
        b'{"text": "a", "text": "b"}',  # a repeated key: orjson keeps the last
        b'{"te\\u0078t": "a"}',  # an escaped key
        b'{"text": "\\ud800 lone"}',
        b'{"text": "\\udc00 lone"}',
        b'{"text": "x", "n": 1e400}',  # orjson refuses infinities
        b'{"text": "x", "n": NaN}',
        b'{"text": "x"} trailing',
        b'{"text": "x",}',
        b'{"text": "tab\there"}',  # a raw control character
        b'{"text": "\xff invalid utf-8"}',
        b'{"text": "\xed\xa0\x80 encoded surrogate"}',
        b'{"text": "\xc0\xaf overlong"}',
        b'{"text": 5}',
        b'{"text": null}',
        b'{"text": "   "}',
        b'{"text": ""}',
        b'{"id": 1.5, "text": "x"}',
        b'{"id": true, "text": "x"}',
        b'{"id": "a\\"b", "text": "x"}',
        b'{"id": -0, "text": "x"}',
        b'{"other": "x"}',
        b'["text", "x"]',
        b'{"text": "e\xcc\x81"}',  # e + combining acute: NFC composes it
        b'{"text": "\xe1\x84\x80\xe1\x85\xa1"}',  # Hangul L + V jamo: NFC composes them
        b'{"a": ' + b"[" * 200 + b"1" + b"]" * 200 + b', "text": "x"}',  # deeper than the scanner follows
    ],
)
def test_scanner_declines_what_it_cannot_be_sure_of(line: bytes):
    assert scan(line) is None


@pytest.mark.parametrize(
    ("line", "copied"),
    [
        (b'{"id":"a","text":"x","url":"u","n":[1,-2,{"b":null}]}', True),
        (b'{"text":"x","id":12}', True),
        (b'{"text":"x"}', True),
        (b'{"text":"x","c":"\\u001f\\n\\"\\\\"}', True),  # escapes as orjson writes them
        # Spaces between tokens and escapes orjson does not write: the members written again
        # as orjson writes them (put_canonical in jsonl.c).
        (b'{"text":"x", "url" : "u" ,"t":[1, {"a": "b"}]}', True),
        (b'{"text":"x","url":"\\u00e9\\uD83D\\ude00\\u0022\\u001F"}', True),
        (b'{"text":"x","url":"a\\/b"}', True),
        (b'{"text":"x","m":{"\\u0061":1,"a":2}}', False),  # an escaped key may repeat another
        (b'{"text":"x","n":1.0}', False),  # floats are written back in orjson's own form
        (b'{"text":"x","n":123456789012345678901}', False),
        (b'{"text":"x","m":{"a":1,"a":2}}', False),  # a repeated key: orjson keeps the last
        (b'{"text":"x","u":1,"u":2}', False),
        # A nested metadata object merged and a source key replaced in place, as the reader does.
        (b'{"text":"x","metadata":{"a":1}}', True),
        (b'{"text":"x","metadata":{"source":"s","a":{"b":[1]}},"c":2}', True),
        (b'{"text":"x","source":"s","m":1}', True),
        (b'{"text":"x", "metadata": {"x": "\\u00e9"}, "source": 3}', True),
        (b'{"text":"x","metadata":{"a":1},"a":2}', False),  # a top-level key takes a nested one's place
        (b'{"text":"x","metadata":"s"}', False),  # not an object: kept under its name
        (b'{"text":"x","metadata":null}', False),
        (b'{"text":"x","metadata":{"language":"fr"}}', False),
        (b'{"text":"x","language":"fr"}', False),
    ],
)
def test_textless_lines_are_copied_only_when_they_match_the_writer(line: bytes, copied: bool):
    found = scan(line, False)
    assert found is not None
    assert (found[7] is not None) == copied
    check_against_reference(line, False)


def test_scanner_declines_texts_over_the_size_limit():
    line = orjson.dumps({"text": "word " * 100})
    assert scan(line, max_bytes=len(line)) is not None
    assert scan(line, max_bytes=499) is None


def test_scanner_reads_ids_as_the_reader_does():
    assert scan(b'{"id": 42, "text": "x"}')[0] == "42"
    assert scan(b'{"id": -7, "text": "x"}')[0] == "-7"
    assert scan(b'{"id": null, "text": "x"}')[0] is None
    assert scan(b'{"id": "", "text": "x"}')[0] is None
    assert scan(b'{"text": "x"}')[0] is None
    assert derived_id("f.jsonl", 3) == "f.jsonl:3"


def test_nfc_table_leaves_only_code_points_that_nfc_keeps_with_any_neighbour():
    bits = nfc_unstable_bitmap()
    stable = [c for c in range(NFC_TABLE_LIMIT) if not (bits[c >> 3] >> (c & 7)) & 1 and not 0xD800 <= c < 0xE000]
    # Starters that compose with a following mark or jamo, and a few common letters.
    neighbours = ["e", "a", "\u1100", "\uac00", "\u0b47", "\u0dd9", "\u3099", "\u0627", "\u05d0"]
    for c in stable:
        ch = chr(c)
        assert unicodedata.is_normalized("NFC", ch), hex(c)
        for left in neighbours:
            pair = left + ch
            if all(not (bits[ord(x) >> 3] >> (ord(x) & 7)) & 1 for x in pair):
                assert unicodedata.is_normalized("NFC", pair), (hex(ord(left)), hex(c))


def _mixed_corpus(folder: Path) -> list[Path]:
    """Plain JSONL split into byte ranges (CRLF and blank lines, no final newline), a
    truncated gzip, an empty file: every framing case the scanner must frame as the reader."""
    rng = random.Random(13)
    lines = []
    texts = [random_text(rng) or "filler" for _ in range(60)]
    for i in range(600):
        record = random_record(rng)
        if rng.random() < 0.4:
            record["text"] = rng.choice(texts)  # duplicates, some only after normalisation
            if rng.random() < 0.5:
                record["text"] = record["text"].upper().replace(" ", "  \u00a0")
        record["id"] = f"r{i}" if rng.random() < 0.9 else None
        lines.append(dump(record, compact=rng.random() < 0.7))
    lines[17] = b'{"id": "broken", "text": "no end'
    lines[99] = b'{"id": "bad-utf8", "text": "\xff"}'
    lines[250] = b""
    lines[251] = b"  \r"
    lines[300] += b"\r"
    plain = folder / "a.jsonl"
    plain.write_bytes(b"\n".join(lines[:400]))  # no final newline
    packed = gzip.compress(b"\n".join(lines[400:]) + b"\n")
    (folder / "b.jsonl.gz").write_bytes(packed[: len(packed) * 2 // 3])  # cut inside the stream
    (folder / "c.jsonl").write_bytes(b"\n \n")
    return [plain, folder / "b.jsonl.gz", folder / "c.jsonl"]


def _small_files(folder: Path) -> list[Path]:
    """The mixed corpus's lines cut into small files, plain and gzipped (one of them cut, one
    empty), each kind read several to a task: a batch's files one after the other."""
    source = folder / "source"
    source.mkdir(parents=True)
    lines = b"".join(path.read_bytes() if path.suffix != ".gz" else b"" for path in _mixed_corpus(source)).split(b"\n")
    files = []
    for k in range(12):
        part = b"\n".join(lines[k * 34 : (k + 1) * 34]) + (b"\n" if k % 3 else b"")  # every third without a final newline
        if k == 5:
            part = b""
        if k >= 8:
            packed = gzip.compress(part)
            files.append(folder / f"part{k:02d}.jsonl.gz")
            files[-1].write_bytes(packed[: len(packed) * 2 // 3] if k == 9 else packed)
        else:
            files.append(folder / f"part{k:02d}.jsonl")
            files[-1].write_bytes(part)
    return files


@pytest.mark.parametrize("layout", ["ranges", "small files"])
@pytest.mark.parametrize(("keep_text", "max_doc_bytes"), [(True, 1 << 20), (False, 1 << 20), (False, 120)])
def test_runs_with_and_without_the_scanner_write_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_text: bool, max_doc_bytes: int, layout: str):
    from tamis.io.readers import ReaderOptions, plan_tasks

    inputs = _mixed_corpus(tmp_path) if layout == "ranges" else _small_files(tmp_path / "small")
    outputs = {}
    reader = {"chunk_bytes": 20_000, "max_doc_bytes": max_doc_bytes}  # 120: many records too large
    if layout == "small files":
        reader = {"max_doc_bytes": max_doc_bytes, "batch_bytes": 64_000}  # the plain files in one task, the gzipped in another
        tasks = plan_tasks([str(p) for p in inputs], ReaderOptions(**reader))
        assert len(tasks) == 2 and all(len(task.files) > 1 for task in tasks)
    for scanner in ("1", "0"):
        monkeypatch.setenv("TAMIS_JSONL_SCANNER", scanner)
        out = tmp_path / f"out{scanner}"
        run_recipe(inputs, out, [{"step": "exact_dedup"}], workers=1, keep_text=keep_text, compression="none", reader=reader)
        stats = load_stats(out)
        stats.pop("run")
        files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "output").glob("*")) + sorted((out / "rejects").glob("*"))}
        outputs[scanner] = (stats, files, (out / "errors.jsonl").read_bytes())
        sidecars = list(out.glob("dedup/*/textless/*.lines"))
        assert bool(sidecars) == (scanner == "1" and not keep_text)  # the second pass read them, not the input
    assert outputs["1"] == outputs["0"]
    stats = outputs["1"][0]
    assert stats["read"] == stats["kept"] + stats["rejected_total"]
    assert stats["rejected"]["exact_dedup:duplicate"] > 20
    assert stats["rejected"]["reader:truncated"] == 1
    assert stats["kept"] > (200 if layout == "ranges" else 120)
    assert ("reader:too_large" in stats["rejected"]) == (max_doc_bytes == 120)
    if layout == "small files":  # each file of a batch framed on its own: its own errors, named by it
        errors = [orjson.loads(line) for line in outputs["1"][2].splitlines()]
        assert [Path(e["path"]).name for e in errors if e["reason"] == "reader:empty_file"] == ["part05.jsonl"]
        assert [Path(e["path"]).name for e in errors if e["reason"] == "reader:truncated"] == ["part09.jsonl.gz"]


def test_long_ascii_runs_fold_as_the_reference():
    # Long stretches of plain ASCII take the 16-bytes-at-a-time path: words, single and double
    # spaces, capitals, backquotes, punctuation, with now and then a character that ends it.
    rng = random.Random(14)
    pieces = ["Word", "the", "QUICK", "`quoted`", "a-b", "x.y,", "Zz", "  ", " ", " ", " ", "é", "\u2019", "\\n", "\t"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) if rng.random() < 0.3 else rng.choice(pieces[:7]) + " " for _ in range(rng.randint(1, 40)))
        line = json.dumps({"id": "x", "text": text}).encode()
        check_against_reference(line, True)
        check_against_reference(line, False)


@pytest.fixture(params=[0, 1, 2], ids=["scalar", "sse2", "avx2"])
def simd_level(request: pytest.FixtureRequest):
    """Each vector loop of the text scan in turn (a level this CPU lacks is skipped), then the best again."""
    level = _jsonl.set_simd(request.param)
    try:
        if level != request.param:
            pytest.skip(f"this CPU has no level {request.param}")
        yield level
    finally:
        _jsonl.set_simd(-1)


def test_every_vector_loop_folds_random_records_as_the_reference(simd_level: int):
    rng = random.Random(16)
    for _ in range(1500):
        record = random_record(rng)
        check_against_reference(dump(record, ascii_only=rng.random() < 0.2), True)
    pieces = ["Word", "the", "QUICK", "`quoted`", "a-b", "  ", " ", "é", "\u2019", "\\n", "x" * 40]
    for _ in range(1500):
        text = "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(1, 30)))
        check_against_reference(json.dumps({"id": "x", "text": text}).encode(), True)


@pytest.mark.usefixtures("simd_level")
def test_a_stop_byte_or_double_space_at_every_offset_folds_as_the_reference():
    # The vector loops take a chunk up to its first stop byte (or second space of two):
    # each stop at each offset of the first chunks (16 and 32 bytes), after a space or a letter.
    stops = ["é", '\\"', "\\n", "\u2019", "  ", "\\t", "\\u00e9", "`", "\U0001f389", "Ω"]
    for stop in stops:
        for offset in range(70):
            for filler in ("Ab cd", "xY Z ", " Q  r"):
                head = (filler * 8)[:offset]
                text = head + stop + "Tail of The line, " + head
                line = b'{"id":"x","text":"' + text.encode() + b'"}'
                assert check_against_reference(line, True)
                assert check_against_reference(line, False)


def test_first_seen_decides_as_the_python_loop():
    rng = random.Random(15)
    pool = [rng.randbytes(16) for _ in range(300)]
    keepers_c: dict[bytes, str] = {pool[0]: "before"}
    keepers_py = dict(keepers_c)
    for block in range(5):
        keys = [rng.choice(pool) for _ in range(rng.randint(0, 400))]
        ids = [f"d{block}-{i}" for i in range(len(keys))]
        expected: dict[int, str] = {}
        for i, key in enumerate(keys):
            keeper = keepers_py.get(key)
            if keeper is None:
                keepers_py[key] = ids[i]
            else:
                expected[i] = keeper
        found = _jsonl.first_seen(b"".join(keys), ids, keepers_c)
        assert found == expected and list(found) == list(expected)
        assert keepers_c == keepers_py and list(keepers_c) == list(keepers_py)
    with pytest.raises(ValueError):
        _jsonl.first_seen(b"x" * 15, ["a"], {})


@pytest.mark.parametrize("with_text", [True, False])
def test_joined_output_lines_are_the_list_of_lines(with_text: bool):
    """scan_block's joined mode writes each record's output line end to end in one buffer
    (an uncopied line empty) with every other answer the same: joined_lines of it is the
    list the default mode gives, byte for byte, None where that has None."""
    import numpy as np

    from tamis.io.jsonl_fast import joined_lines

    rng = random.Random(17)
    lines = [dump(random_record(rng), ascii_only=rng.random() < 0.2, compact=rng.random() < 0.5) for _ in range(3000)]
    lines += [dump({"id": "long", "text": random_text(rng) * 400, "source": {"x": 1}}), b"", b"  ", b"{broken"]
    data = b"\n".join(lines) + b"\n"
    for fold, digest in ((True, True), (True, False), (False, False)):
        args = (data, 0, len(data), 4, b"text", b"id", MAX, fold, PATH_JSON, TEXTLESS_RESERVED, with_text, digest)
        newlines, numbers, ids, keys, textless = _jsonl.scan_block(*args)
        found = _jsonl.scan_block(*args, True)
        assert (found[0], found[1], found[2], found[3]) == (newlines, numbers, ids, keys)
        out, ends = found[4]
        ends = np.frombuffer(ends, dtype=np.int64)
        assert len(ends) == len(textless) and (len(ends) == 0 or ends[-1] == len(out))
        assert joined_lines(out, ends) == textless
        assert sum(line is None for line in textless) > 300 and sum(line is not None for line in textless) > 300
    no_path = _jsonl.scan_block(data, 0, len(data), 0, b"text", b"id", MAX, True, None, TEXTLESS_RESERVED, with_text, True, True)
    assert no_path[4] == [None] * len(no_path[2])  # nothing copied without a path: the list, as before


def test_take_lines_is_the_reference():
    """take_lines (the kept runs of a joined block copied in C, the rejected lines' spans) gives
    what the plain take_lines_reference gives, for any set of rejected positions (none, all,
    the first, the last, neighbours), and refuses what the reference refuses."""
    import numpy as np

    from tamis.io.jsonl_fast import take_lines_reference

    rng = random.Random(19)
    for _ in range(300):
        lines = [random_text(rng).encode() + b"\n" for _ in range(rng.randint(0, 40))]
        joined = b"".join(lines)
        ends = np.cumsum([len(line) for line in lines]).astype(np.int64)
        n = len(lines)
        rejected = sorted(rng.sample(range(n), rng.choice([0, 1, n // 2, n]) if n else 0))
        got = _jsonl.take_lines(joined, ends, rejected)
        assert got == take_lines_reference(joined, ends, rejected)
        kept, kept_ends, _spans = got
        assert kept == b"".join(line for i, line in enumerate(lines) if i not in rejected)
        assert np.frombuffer(kept_ends, dtype=np.int64).tolist() == np.cumsum([len(lines[i]) for i in range(n) if i not in rejected]).tolist()
    ends = np.array([2, 4], dtype=np.int64)
    no_line = np.array([], dtype=np.int64)  # bytes but no line ending in them
    for bad_ends, rejected in ((ends, [1, 1]), (ends, [2]), (ends, [1, 0]), (np.array([3, 4], dtype=np.int64) - 1, []), (no_line, [])):
        for take in (_jsonl.take_lines, take_lines_reference):
            with pytest.raises(ValueError):
                take(b"abcd", bad_ends, rejected)
