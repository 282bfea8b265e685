"""The compiled word splitter's per-language tables, derived ahead and packaged.

Building a language's splitter live (:class:`tamis.steps.quality.spacy_tokenizer.SpacyTokenizer`
on the rules of ``spacy_rules.json.gz``) reads every language's rules, compiles the prefix,
suffix, infix and URL patterns with ``re``, reads the characters each pattern can start, end or
need, and translates the patterns for the compiled matcher: 5-70 ms a language (~0.23 s for
the 14 languages of the bench recipe's pages), most of it for ``re`` patterns the compiled
splitter never calls (it runs its own matcher's programs). All of that is a pure function of
the rules, so ``bench/derive_spacy_tables.py`` computes it once and stores, per language, what
the compiled splitter is built from, in the form it takes: the special cases as the rules list
them, the character sets as strings, token_match as the instructions ``re``'s compiler hands the
engine, and a reference to each matcher program (a member of its own, parsed once per distinct
program: url_match's is the same in every language). A language's member of ``spacy_tables.bin``
is read and decompressed only when that language is met (~1 ms).

The store: a 4-byte header length, the header (JSON: the interpreter tags the tables were
derived under, the rules file they were derived from, each member's place and length), two
preset dictionaries (the most common programs; the most common character sets: the members
repeat them, spaCy's letter classes above all, and compress to a quarter against them), then one
raw-deflate-compressed JSON member per language and per program. A store for another Python, other
rules, a missing or unreadable file or language: the splitter is built live, as before.
``tests/test_spacy_tables.py`` compares every stored member with :func:`live_store`.
"""

from __future__ import annotations

import json
import re
import struct
import sys
import zlib
from array import array
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from tamis.sha256 import sha256
from tamis.steps.quality.regex_code import compile_recording, from_instructions, interpreter_tag
from tamis.steps.quality.spacy_affix import Program

PATH = Path(__file__).with_name("spacy_tables.bin")
RULES = Path(__file__).with_name("spacy_rules.json.gz")
FORMAT = 2
# Members are raw deflate streams (no zlib header or Adler-32): zlib's Adler-32 of each preset
# dictionary (32 kB, every member read) and of each member's text was ~22M of the ~180M
# instructions 17 languages' set-up took. Each member's length is in the header instead.
_WBITS = -15
# The four patterns the compiled matcher runs (the order of Splitter's last four arguments).
AFFIXES = ("prefix", "suffix", "infix", "url_match")
# The character sets of a language's member (its "chars"), the splitter's character tests.
CHAR_SETS = ("prefix_first", "wide_chars", "suffix_any", "suffix_digit", "infix_chars", "token_chars", "url_chars")
_WINDOW = 32768  # zlib's: a preset dictionary's bytes beyond it are never referred to


def rules_stamp() -> str:
    """The rules file's gzip trailer (CRC-32 and length of its JSON), hex: changes with the rules,
    read without decompressing them."""
    with RULES.open("rb") as handle:
        handle.seek(-8, 2)
        return handle.read(8).hex()


@cache
def _header() -> tuple[dict[str, Any], int] | None:
    """(the store's header, where its members start), or None when it is missing or unreadable."""
    try:
        with PATH.open("rb") as handle:
            (size,) = struct.unpack("<I", handle.read(4))
            header = orjson.loads(handle.read(size))
    except (OSError, ValueError, struct.error):
        return None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return None
    return header, 4 + size


@cache
def current() -> bool:
    """Whether the store was derived from these rules (so its list of languages is theirs)."""
    found = _header()
    try:
        return found is not None and found[0].get("rules") == rules_stamp()
    except OSError:
        return False


def languages_with_rules() -> frozenset[str] | None:
    """The languages the rules cover, from the store's header (None: ask the rules)."""
    return frozenset(_header()[0]["rules_languages"]) if current() else None  # type: ignore[index]


def _kind(name: str) -> str:
    return name.split(":", 1)[0]


def _read(name: str, any_interpreter: bool = False) -> bytes | None:
    """One member's bytes, decompressed; None if the store (for this interpreter, unless
    ``any_interpreter``) or the member is not there."""
    if not current():
        return None
    header, start = _header()  # type: ignore[misc]
    place = header["members"].get(name)
    if place is None or not (any_interpreter or interpreter_tag() in header["tags"]):
        return None
    try:
        data = _view()  # slices of a view: no copy of the 32 kB dictionary per member
        first, size = header["dictionaries"][_kind(name)]
        decompressor = zlib.decompressobj(_WBITS, zdict=data[start + first:start + first + size])
        found = decompressor.decompress(data[start + place[0]:start + place[0] + place[1]])
        return found if decompressor.eof and len(found) == place[2] else None
    except (OSError, KeyError, zlib.error):
        return None


@cache
def _view() -> memoryview:
    """The whole store (~0.4 MB, read once: a process meets a dozen languages and their programs)."""
    return memoryview(PATH.read_bytes())


# Integer lists are stored as 32-bit words, not JSON: parsing a number from JSON costs ~60 ns (a
# program holds ~5,000, French token_match's code 54,000), reading one from bytes a fraction.
def _words(data: bytes, kind: str = "i") -> list[int]:
    words = array(kind)
    words.frombytes(data)
    if sys.byteorder == "big":
        words.byteswap()
    return words.tolist()


def _word_bytes(values: list[int], kind: str = "i") -> bytes:
    words = array(kind, values)
    if sys.byteorder == "big":
        words.byteswap()
    return words.tobytes()


def member(language: str) -> dict[str, Any] | None:
    """The stored tables of one language for this interpreter, or None (built live)."""
    found = _read(f"language:{language}")
    return None if found is None else _language_member(found)


def _language_member(data: bytes) -> dict[str, Any] | None:
    """A language member: its JSON, a newline, then token_match's code as words (JSON escapes
    every newline inside its strings: the first one ends it)."""
    text, _newline, code = data.partition(b"\n")
    try:
        found = orjson.loads(text)
    except ValueError:
        return None
    if found.get("token_match") is not None:
        found["token_match"][3] = _words(code, "I")
    return found


def _encode_language(value: dict[str, Any]) -> bytes:
    token_match = value.get("token_match")
    code = b"" if token_match is None else _word_bytes(token_match[3], "I")
    if token_match is not None:
        value = {**value, "token_match": [*token_match[:3], [], *token_match[4:]]}
    return _text(value) + b"\n" + code


def _program(words: list[int]) -> Program:
    """A program from its words (:func:`_program_words`: each list after its length)."""
    at = 0

    def take(size: int) -> list[int]:
        nonlocal at
        at += size
        return words[at - size:at]

    code = take(take(1)[0])
    classes = []
    for _ in range(take(1)[0]):
        negated, bits, size = take(3)
        classes.append((negated, bits, tuple(take(size))))
    alternatives = [tuple(take(4)) for _ in range(take(1)[0])]
    slots = take(1)[0]
    starts = take(take(1)[0])
    segment_lists = take(take(1)[0])
    lists = [take(take(1)[0]) for _ in range(take(1)[0])]
    (end_list,) = take(1)
    return Program(code, classes, alternatives, slots, starts, segment_lists, lists, end_list)  # type: ignore[arg-type]


def _program_words(program: list[Any]) -> list[int]:
    code, classes, alternatives, slots, starts, segment_lists, lists, end_list = program
    words = [len(code), *code, len(classes)]
    for negated, bits, flat in classes:
        words += [negated, bits, len(flat), *flat]
    words.append(len(alternatives))
    for alternative in alternatives:
        words += alternative
    words += [slots, len(starts), *starts, len(segment_lists), *segment_lists, len(lists)]
    for found in lists:
        words += [len(found), *found]
    return [*words, end_list]


_AFFIX_OBJECTS: dict[str, Any] = {}


def affix(digest: str | None, affix_type: Any) -> Any:
    """The compiled matcher of a stored program, one object per distinct program (its scratch
    space is used only within one call, under the GIL), or None; LookupError if it cannot be read."""
    if digest is None:
        return None
    found = _AFFIX_OBJECTS.get(digest)
    if found is None:
        stored = _read(f"program:{digest}")
        if stored is None:
            raise LookupError(digest)
        found = _AFFIX_OBJECTS[digest] = affix_type(*_program(_words(stored)).arguments())
    return found


def pattern(entry: list) -> re.Pattern[str]:
    """A stored pattern ([text, flags asked, then what re's compiler hands ``_sre.compile``: final
    flags, code as a list of ints, groups, groupindex, indexgroup]) built from its instructions:
    what ``re.compile(text, flags)`` gives (``re.compile`` itself if the engine refuses them).
    The code is a JSON list, not regex_code's base64: French token_match's 54,000 words parse
    from it in a third of the time."""
    return from_instructions(*entry)


# ------------------------------------------------------------------ derivation (bench/derive_spacy_tables.py)


def _pattern_entry(text: str, flags: int) -> list:
    from re import _compiler  # type: ignore[attr-defined]

    _pattern, compiled = compile_recording(_compiler.compile, text, flags)
    final_flags, code, groups, groupindex, indexgroup = compiled  # type: ignore[misc]
    return [text, flags, final_flags, code, groups, groupindex, indexgroup]


def _chars(found: frozenset[str] | None) -> str | None:
    return None if found is None else "".join(sorted(found))


def _text(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def live_tables(language: str, programs_seen: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """What the compiled splitter of ``language`` is built from, computed from the rules (the live
    build's own values: ``SpacyTokenizer._compiled``'s arguments), as the store holds it (each
    program filed in ``programs_seen`` by its digest); None where a pattern has no matcher program
    (the compiled splitter would call ``re`` for it: that language is built live)."""
    from tamis.steps.quality.spacy_analysis import program_to_json
    from tamis.steps.quality.spacy_tokenizer import SpacyTokenizer, _payload, affix_program

    live = SpacyTokenizer(language, compiled=False, tables=False)
    programs: dict[str, str | None] = {}
    for name in AFFIXES:
        source = live._affix_sources[name]
        if source is None:
            programs[name] = None
            continue
        program = affix_program(*source)
        if program is None or (name == "url_match" and not all(begins for _pc, _width, begins, _ends in program.alternatives)):
            return None
        as_json = orjson.loads(orjson.dumps(program_to_json(program)))  # as the store holds it
        programs[name] = digest = sha256(_text(as_json)).hexdigest()[:24]
        if programs_seen is not None:
            programs_seen[digest] = as_json
    margin, wide, wide_chars = -1, None, None
    if live._suffix_parts is not None:
        _full, margin, wide, wide_chars = live._suffix_parts
    anywhere, after_digit = live._suffix_last or (None, None)
    token = live._match_parts.get("_token_match")
    url = live._match_parts.get("_url_match")
    chars = {
        "prefix_first": live._prefix_first[0] if live._prefix_first is not None else None,
        "wide_chars": wide_chars, "suffix_any": anywhere, "suffix_digit": after_digit, "infix_chars": live._infix_chars,
        "token_chars": None if token is None else token[1], "url_chars": None if url is None else url[1],
    }
    return {
        # ("chars" sorts first: the preset dictionary's window reaches it in every member)
        "chars": {name: _chars(found) for name, found in chars.items()},
        # the special cases as the rules hold them: those that are one token of themselves, then
        # the others with their tokens (a third of the size of the dict the splitter looks up)
        "specials": [key for key, tokens in live._specials.items() if tokens == [key]],
        "split_specials": {key: tokens for key, tokens in live._specials.items() if tokens != [key]},
        "longest_special": live._longest_special,
        "faster_heuristics": live._faster_heuristics,
        "margin": margin,
        "wide": wide is not None,
        "infix_match": live._infix_consumes and live._infix is not None,
        # compiled by re here: its text, the flags asked and what re's compiler hands the engine
        # (regex_code's entry: this interpreter's instructions, which the store's tags name)
        "token_match": None if token is None else _pattern_entry(token[0].__self__.pattern, _payload()["languages"][language]["token_match"][1]),
        "programs": programs,
    }


def _dictionaries(members: dict[str, Any]) -> dict[str, bytes]:
    """zlib's preset dictionary for each kind of member: for programs, the three the most
    languages use; for languages, their most common character sets, as the members' JSON
    writes them (the last 32 kB of each: zlib's window)."""
    uses: dict[str, int] = {}
    sets: dict[str, int] = {}
    for name, value in members.items():
        if _kind(name) == "language":
            for digest in value["programs"].values():
                if digest is not None:
                    uses[digest] = uses.get(digest, 0) + 1
            for found in value["chars"].values():
                if found is not None and len(found) > 100:
                    sets[found] = sets.get(found, 0) + 1
    programs = sorted(uses, key=lambda digest: (-uses[digest], digest))[:3]
    common_sets = sorted(sets, key=lambda found: (-sets[found], found))[:2]
    return {"program": b"".join(_encode(f"program:{digest}", members[f"program:{digest}"]) for digest in programs)[-_WINDOW:],
            "language": b"".join(map(_text, reversed(common_sets)))[-_WINDOW:]}


def _encode(name: str, value: Any) -> bytes:
    return _encode_language(value) if _kind(name) == "language" else _word_bytes(_program_words(value))


def encode_store(members: dict[str, Any], tags: list[str], rules_languages: list[str]) -> bytes:
    """The store's bytes (``members``: "language:<code>" and "program:<digest>" entries): the
    same tables give the same bytes (sorted JSON, zlib level 9, sorted members)."""
    dictionaries = _dictionaries(members)
    blobs: list[bytes] = []
    places: dict[str, list[int]] = {}
    offset = 0
    for kind in sorted(dictionaries):
        places[kind] = [offset, len(dictionaries[kind])]
        blobs.append(dictionaries[kind])
        offset += len(dictionaries[kind])
    dictionary_places, places = places, {}
    for name in sorted(members):
        compressor = zlib.compressobj(9, zlib.DEFLATED, _WBITS, zdict=dictionaries[_kind(name)])
        encoded = _encode(name, members[name])
        blob = compressor.compress(encoded) + compressor.flush()
        blobs.append(blob)
        places[name] = [offset, len(blob), len(encoded)]
        offset += len(blob)
    header = json.dumps({"format": FORMAT, "rules": rules_stamp(), "tags": sorted(tags), "dictionaries": dictionary_places,
                         "rules_languages": sorted(rules_languages), "members": places},
                        sort_keys=True, separators=(",", ":")).encode()
    return struct.pack("<I", len(header)) + header + b"".join(blobs)


def live_store() -> dict[str, Any]:
    """Every member :func:`encode_store` files, computed from the rules (languages with a pattern
    the matcher cannot run are left out: built live)."""
    from tamis.steps.quality.spacy_tokenizer import _payload

    members: dict[str, Any] = {}
    programs: dict[str, Any] = {}
    for language in sorted(_payload()["languages"]):
        found = live_tables(language, programs)
        if found is not None:
            members[f"language:{language}"] = found
    members.update((f"program:{digest}", program) for digest, program in programs.items())
    return members


def stored_store() -> dict[str, Any]:
    """Every stored member, decoded as :func:`live_store` files it, whichever interpreter it was
    derived under (what the tests compare with :func:`live_store`); empty when there is no
    current store."""
    from tamis.steps.quality.spacy_analysis import program_to_json

    found = _header()
    if found is None or not current():
        return {}
    members: dict[str, Any] = {}
    for name in found[0]["members"]:
        data = _read(name, any_interpreter=True)
        if data is None:
            members[name] = None
        elif _kind(name) == "language":
            members[name] = _language_member(data)
        else:
            members[name] = orjson.loads(orjson.dumps(program_to_json(_program(_words(data)))))
    return members
