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

from pathlib import Path

from tamis.steps.quality import regex_code

try:
    import _sre
except ImportError:  # pragma: no cover (another Python implementation): nothing is seeded
    _sre = None

DATA_DIR = Path(__file__).with_name("regex_code")
_seeded = False


def tag() -> str:
    """The store's name for this interpreter (the instructions depend on its regex compiler)."""
    return f"extract-{regex_code.interpreter_tag()}"


def store_path() -> Path:
    return DATA_DIR / f"{tag()}.json.gz"


# The entries' format, building and seeding are regex_code's (shared with a run's own patterns).
encode_entry = regex_code.encode_entry
build = regex_code.build_entry


def stored_entries() -> list[list]:
    return regex_code.stored_entries(store_path())


def seed_regex_cache() -> int:
    """Put the stored patterns in ``re``'s cache (once per process); returns how many were added."""
    global _seeded
    if _seeded or _sre is None:
        return 0
    _seeded = True
    return regex_code.seed_cache(stored_entries())
