"""The spaCy word splitter's regular expressions, compiled ahead.

Compiling spaCy's prefix, suffix, infix and URL patterns is most of what building a language's
word splitter costs (60-200 ms a language, ~0.5 s for the seven languages of a FineWeb run,
paid by every run: Python's ``re`` turns every character of spaCy's letter classes into its
bitmaps one by one). ``bench/derive_spacy_regex_code.py`` runs that compiler once per Python
version and stores what it hands to the regex engine (``_sre.compile``'s arguments: the
instruction words, flags and groups) in ``regex_code/spacy-<python>-sre<magic>.json.gz``;
:func:`compile_pattern` builds the pattern from them, the same pattern object ``re.compile``
would give (patterns compare equal, instruction word for instruction word:
``tests/test_spacy_regex_code.py`` checks every stored one). Each language's word regex
(:func:`tamis.steps.quality.words.word_regex`) is stored the same way, in ``words-<tag>.json.gz``
(``bench/derive_word_regex_code.py``). The engine validates the
instructions it is given; a pattern not stored, another Python, a missing or unreadable file
or an engine that refuses them falls back to ``re.compile``.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import re
import sys
from array import array
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from tamis.sha256 import sha256

try:
    import _sre
except ImportError:  # pragma: no cover (another Python implementation): always re.compile
    _sre = None

DATA_DIR = Path(__file__).with_name("regex_code")


def interpreter_tag() -> str:
    """This interpreter and its regex compiler's version, as the stores' names hold them: the
    stored instructions depend on that compiler."""
    magic = getattr(_sre, "MAGIC", 0)
    return f"{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}-sre{magic}"


def tag() -> str:
    """The spaCy rules' stored instructions' file for this interpreter."""
    return f"spacy-{interpreter_tag()}"


def key(text: str, flags: int) -> str:
    return sha256(f"{flags}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()


def encode_code(code: list[int]) -> str:
    words = array(_word_type(), code)
    if sys.byteorder == "big":
        words.byteswap()
    return base64.b64encode(words.tobytes()).decode("ascii")


def decode_code(text: str) -> list[int]:
    words = array(_word_type())
    words.frombytes(base64.b64decode(text))
    if sys.byteorder == "big":
        words.byteswap()
    return words.tolist()


def _word_type() -> str:
    size = getattr(_sre, "CODESIZE", 4)
    return next(t for t in ("I", "L", "H") if array(t).itemsize == size)


@cache
def _stored_file(prefix: str) -> dict[str, list[Any]]:
    with contextlib.suppress(OSError, ValueError):  # a missing or unreadable file: compiled by re
        return {} if _sre is None else orjson.loads(gzip.decompress((DATA_DIR / f"{prefix}{tag()}.json.gz").read_bytes()))
    return {}


@cache
def _stored() -> dict[str, list[Any]]:
    # The splitter's patterns, and the word regexes (words-<tag>: bench/derive_word_regex_code.py).
    return {**_stored_file(""), **_stored_file("words-")}


def compile_pattern(text: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(text, flags)``, from the stored instructions where this Python has them."""
    return _compiled(_stored().get(key(text, flags)), text, flags)


def compile_word_regex(text: str) -> re.Pattern[str]:
    """:func:`compile_pattern` for a word regex: only the word regexes' file is read (a splitter
    built from its stored tables, ``spacy_tables``, needs none of the splitter's patterns)."""
    return _compiled(_stored_file("words-").get(key(text, 0)), text, 0)


def _compiled(entry: list[Any] | None, text: str, flags: int) -> re.Pattern[str]:
    return re.compile(text, flags) if entry is None else from_instructions(text, flags, *entry)


def from_instructions(text: str, flags: int, final_flags: int, code: list[int] | str, groups: int,
                      groupindex: dict[str, int], indexgroup: list) -> re.Pattern[str]:
    """``re.compile(text, flags)`` built from what re's compiler handed ``_sre.compile`` for it
    (``code``: its words, or :func:`encode_code`'s base64 of them); ``re.compile`` itself where
    this engine refuses them."""
    try:
        words = decode_code(code) if isinstance(code, str) else code
        return _sre.compile(text, final_flags, words, groups, groupindex, tuple(indexgroup))
    except (RuntimeError, TypeError, ValueError):  # instructions this engine does not take
        return re.compile(text, flags)


# ------------------------------------------------------------------ patterns seeded in re's cache
# Stored as [kind, text, flags asked, then _sre.compile's flags, code, groups, groupindex,
# indexgroup]; a bytes pattern's text in base64 (kind "b"), a str's as it is ("s"), or, for a
# str holding a lone surrogate (which JSON as orjson writes and reads cannot hold), its UTF-8
# with surrogates passed, in base64 (kind "u"). Used by
# tamis.extract.regex_seed (the extractor's imports) and by seed_run_patterns (a run's own).


def compile_recording(compile_fn: Any, pattern: str | bytes, flags: int = 0) -> tuple[re.Pattern, list | None]:
    """``compile_fn(pattern, flags)`` (re's own compiler, ``re._compiler.compile``, passed in since
    the derive scripts replace it with their recorder) with what it hands to ``_sre.compile`` kept:
    (the pattern, [final flags, code, groups, groupindex, indexgroup] of its last call, or None).
    For the bench/derive_*regex_code.py scripts, which store what a run or a build compiles."""
    seen: list[list] = []
    real = _sre.compile

    def spy(p: Any, final_flags: int, code: list[int], groups: int, groupindex: dict, indexgroup: Any) -> Any:
        seen.append([final_flags, list(code), groups, dict(groupindex), list(indexgroup)])
        return real(p, final_flags, code, groups, groupindex, indexgroup)

    _sre.compile = spy
    try:
        compiled = compile_fn(pattern, flags)
    finally:
        _sre.compile = real
    return compiled, seen[-1] if seen else None


def encode_entry(pattern: str | bytes, flags: int, compiled: list) -> list:
    """One stored pattern for :func:`seed_cache` (``compiled``: what ``re``'s compiler handed
    to ``_sre.compile`` for it)."""
    final_flags, code, groups, groupindex, indexgroup = compiled
    if isinstance(pattern, bytes):
        kind, text = "b", base64.b64encode(pattern).decode("ascii")
    elif _has_surrogate(pattern):
        kind, text = "u", base64.b64encode(pattern.encode("utf-8", "surrogatepass")).decode("ascii")
    else:
        kind, text = "s", pattern
    return [kind, text, flags, final_flags, encode_code(code), groups, groupindex, indexgroup]


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def build_entry(entry: list) -> tuple[tuple[type, str | bytes, int], re.Pattern]:
    """(``re``'s cache key, the pattern) of a stored entry; raises where the engine refuses it."""
    kind, text, flags, final_flags, code, groups, groupindex, indexgroup = entry
    pattern: str | bytes = text
    if kind == "b":
        pattern = base64.b64decode(text)
    elif kind == "u":
        pattern = base64.b64decode(text).decode("utf-8", "surrogatepass")
    compiled = _sre.compile(pattern, final_flags, decode_code(code), groups, groupindex, tuple(indexgroup))
    return (type(pattern), pattern, flags), compiled


def stored_entries(path: Path) -> list[list]:
    with contextlib.suppress(OSError, ValueError):  # a missing or unreadable file: nothing stored
        return orjson.loads(gzip.decompress(path.read_bytes()))
    return []


def seed_cache(entries: list[list]) -> int:
    """Put the stored patterns in ``re``'s own cache under the key ``re.compile`` looks up
    (pattern type, text, flags), so its calls find them there; returns how many were added.
    Each built pattern equals what ``re.compile`` gives (instructions word for word: the tests
    check every stored one). Nothing where ``re`` keeps no such cache (another Python)."""
    cache = getattr(re, "_cache", None)
    limit = getattr(re, "_MAXCACHE", 0)
    if _sre is None or not isinstance(cache, dict):
        return 0
    added = 0
    for entry in entries:
        if len(cache) >= limit - 64:  # leave room: re drops its oldest entry once the cache is full
            break
        try:
            key, pattern = build_entry(entry)
        except (RuntimeError, TypeError, ValueError):  # instructions this engine does not take
            continue
        if key not in cache:
            cache[key] = pattern
            added += 1
    return added


def run_store_path() -> Path:
    """The patterns a ``tamis run`` compiles from its start to its end (its modules' imports,
    the default recipe's steps and their set-up, PyYAML's): ``bench/derive_run_regex_code.py``."""
    return DATA_DIR / f"run-{interpreter_tag()}.json.gz"


_run_seeded = False


def seed_run_patterns() -> int:
    """Seed ``re``'s cache with a run's own patterns (once per process): ~110 compiles by re's
    Python compiler, ~0.02-0.03 CPU-s of every run's start, become ~2 ms of building."""
    global _run_seeded
    if _run_seeded:
        return 0
    _run_seeded = True
    return seed_cache(stored_entries(run_store_path()))
