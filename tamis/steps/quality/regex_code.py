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
import hashlib
import re
import sys
from array import array
from functools import cache
from pathlib import Path
from typing import Any

import orjson

try:
    import _sre
except ImportError:  # pragma: no cover (another Python implementation): always re.compile
    _sre = None

DATA_DIR = Path(__file__).with_name("regex_code")


def tag() -> str:
    """The stored instructions' file for this interpreter: they depend on its regex compiler."""
    magic = getattr(_sre, "MAGIC", 0)
    return f"spacy-{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}-sre{magic}"


def key(text: str, flags: int) -> str:
    return hashlib.sha256(f"{flags}\0{text}".encode("utf-8", "surrogatepass")).hexdigest()


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
def _stored() -> dict[str, list[Any]]:
    # The splitter's patterns, and the word regexes (words-<tag>: bench/derive_word_regex_code.py).
    found: dict[str, list[Any]] = {}
    if _sre is None:
        return found
    for path in (DATA_DIR / f"{tag()}.json.gz", DATA_DIR / f"words-{tag()}.json.gz"):
        with contextlib.suppress(OSError, ValueError):  # a missing or unreadable file: compiled by re
            found.update(orjson.loads(gzip.decompress(path.read_bytes())))
    return found


def compile_pattern(text: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(text, flags)``, from the stored instructions where this Python has them."""
    entry = _stored().get(key(text, flags))
    if entry is not None:
        final_flags, code, groups, groupindex, indexgroup = entry
        try:
            return _sre.compile(text, final_flags, decode_code(code), groups, groupindex, tuple(indexgroup))
        except (RuntimeError, TypeError, ValueError):  # instructions this engine does not take
            pass
    return re.compile(text, flags)
