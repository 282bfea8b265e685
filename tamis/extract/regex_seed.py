"""The regular expressions trafilatura and its helpers compile when imported, compiled ahead.

Importing trafilatura (courlan, htmldate, justext, trafilatura's own modules) compiles ~240
patterns with Python's ``re``, whose parser and compiler are written in Python: ~0.05-0.08 CPU-s
of every ``tamis run`` of the ``extract`` step, a fifth of trafilatura's import (paid by the
first page the router sends it, that is by nearly every run). ``bench/derive_extract_regex_code.py``
runs that import once per Python and stores what ``re``'s compiler hands to the regex engine
(``_sre.compile``'s arguments, as :mod:`tamis.steps.quality.regex_code` stores spaCy's) in
``regex_code/extract-<python>-sre<magic>.json.gz`` beside this module. :func:`seed_regex_cache`
builds those patterns and puts them in ``re``'s own cache under the key ``re.compile`` looks up
(pattern type, text, flags) before trafilatura is imported, so its ``re.compile`` calls find them
there. Each built pattern equals what ``re.compile`` gives (the engine's instructions word for
word: ``tests/test_extract_regex_seed.py`` checks every stored one), so nothing any library does
with them changes. A pattern not stored (another version of a library) is compiled by ``re`` as
before; another Python, a missing file, or a ``re`` without that cache seeds nothing.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import re
import sys
from pathlib import Path

import orjson

from tamis.steps.quality import regex_code

try:
    import _sre
except ImportError:  # pragma: no cover (another Python implementation): nothing is seeded
    _sre = None

DATA_DIR = Path(__file__).with_name("regex_code")
_seeded = False


def tag() -> str:
    """The store's name for this interpreter (the instructions depend on its regex compiler)."""
    magic = getattr(_sre, "MAGIC", 0)
    return f"extract-{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}-sre{magic}"


def store_path() -> Path:
    return DATA_DIR / f"{tag()}.json.gz"


def encode_entry(pattern: str | bytes, flags: int, compiled: list) -> list:
    """One stored pattern: [kind, text, flags asked, then ``_sre.compile``'s flags, code, groups,
    groupindex, indexgroup]; a bytes pattern's text in base64 (kind "b"), a str's as it is ("s")."""
    final_flags, code, groups, groupindex, indexgroup = compiled
    text = base64.b64encode(pattern).decode("ascii") if isinstance(pattern, bytes) else pattern
    return ["b" if isinstance(pattern, bytes) else "s", text, flags, final_flags, regex_code.encode_code(code), groups, groupindex, indexgroup]


def build(entry: list) -> tuple[tuple[type, str | bytes, int], re.Pattern]:
    """(``re``'s cache key, the pattern) of a stored entry; raises where the engine refuses it."""
    kind, text, flags, final_flags, code, groups, groupindex, indexgroup = entry
    pattern: str | bytes = base64.b64decode(text) if kind == "b" else text
    compiled = _sre.compile(pattern, final_flags, regex_code.decode_code(code), groups, groupindex, tuple(indexgroup))
    return (type(pattern), pattern, flags), compiled


def stored_entries() -> list[list]:
    with contextlib.suppress(OSError, ValueError):  # a missing or unreadable file: nothing stored
        return orjson.loads(gzip.decompress(store_path().read_bytes()))
    return []


def seed_regex_cache() -> int:
    """Put the stored patterns in ``re``'s cache (once per process); returns how many were added."""
    global _seeded
    cache = getattr(re, "_cache", None)
    limit = getattr(re, "_MAXCACHE", 0)
    if _seeded or _sre is None or not isinstance(cache, dict):
        return 0
    _seeded = True
    added = 0
    for entry in stored_entries():
        if len(cache) >= limit - 64:  # leave room: re drops its oldest entry once the cache is full
            break
        try:
            key, pattern = build(entry)
        except (RuntimeError, TypeError, ValueError):  # instructions this engine does not take
            continue
        if key not in cache:
            cache[key] = pattern
            added += 1
    return added
