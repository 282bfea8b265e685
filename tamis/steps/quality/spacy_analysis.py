"""The spaCy word splitter's pattern analyses, computed ahead and packaged.

Building a language's splitter reads each of its patterns with ``re``'s parser: the affix
matcher's program (``spacy_tokenizer.affix_program``: most of a build), the suffix pattern's end
window, the characters a token or URL match needs and the infix pattern's narrowest match. Those
are a pure function of the pattern's text, its flags and the Python that parses it, so
``bench/derive_spacy_analysis.py`` runs them once per Python version over every language's rules
and stores the results in ``regex_code/analysis-<python>-sre<magic>.json.gz``, keyed by a hash of
the text and flags, each result as its own JSON text (parsed when a build asks for it). A build reads them instead of parsing (20 languages: ~60 % less CPU).
``tests/test_spacy_analysis.py`` recomputes every stored entry and compares. A pattern not stored
(rules changed, another Python), a missing or unreadable file: the analysis runs as before.
"""

from __future__ import annotations

import gzip
from functools import cache
from typing import Any

import orjson

from tamis.steps.quality.regex_code import DATA_DIR, key, tag
from tamis.steps.quality.spacy_affix import Program

# The analyses stored, by the name their entries are filed under.
KINDS = ("program", "end_window", "required", "min_width")
NOT_STORED: Any = object()


def path() -> Any:
    return DATA_DIR / f"analysis-{tag()}.json.gz"


@cache
def _stored_texts() -> dict[str, str]:
    """The stored analyses, each still as its JSON text: a build parses only the entries its
    languages ask for (parsing every stored program, ~120 of them, 1 MB of nested lists, cost
    ~0.02 CPU-s of every run that splits words; the texts alone parse in ~1 ms)."""
    try:
        return orjson.loads(gzip.decompress(path().read_bytes()))
    except (OSError, ValueError):
        return {}


def stored() -> dict[str, Any]:
    """Every stored analysis, parsed (what the tests compare with the live ones)."""
    return {entry: orjson.loads(text) for entry, text in _stored_texts().items()}


def entry_key(kind: str, text: str, flags: int) -> str:
    return f"{kind}:{key(text, flags)}"


def stored_analysis(kind: str, text: str, flags: int) -> Any:
    """The stored result of analysis ``kind`` on the pattern (as JSON holds it), or NOT_STORED."""
    found = _stored_texts().get(entry_key(kind, text, flags))
    if not isinstance(found, str):
        return NOT_STORED
    try:
        return orjson.loads(found)
    except ValueError:  # an unreadable entry: analysed as if not stored
        return NOT_STORED


def program_to_json(program: Program | None) -> Any:
    return None if program is None else list(program)


def program_from_json(found: list[Any]) -> Program:
    """A :class:`Program` with the very types ``translate`` builds (tuples where it has tuples)."""
    code, classes, alternatives, slots, starts, segment_lists, lists, end_list = found
    return Program(code, [(negated, bits, tuple(flat)) for negated, bits, flat in classes],
                   [tuple(alternative) for alternative in alternatives], slots, starts, segment_lists,
                   lists, end_list)


def live_entries() -> dict[str, Any]:
    """Every language's analyses computed from its patterns, as the store files them: what
    ``bench/derive_spacy_analysis.py`` writes and the tests compare the stored file with. Each
    language's splitter is built with the store set aside and each analysis recorded, plus the
    affix program of each of its four patterns (a build asks for them only where the compiled
    extension is present)."""
    from tamis.steps.quality import spacy_tokenizer as st

    entries: dict[str, Any] = {}

    def recording(kind: str, live: Any, as_json: Any, key_of: Any = lambda text: text) -> Any:
        def analyse(text: str, flags: int) -> Any:
            found = live(text, flags)
            entries[entry_key(kind, key_of(text), flags)] = orjson.loads(orjson.dumps(as_json(found)))  # as the file holds it
            return found
        return analyse

    saved = {name: getattr(st, name) for name in ("required_chars_live", "end_window_live", "_min_width_live", "affix_program_live")}
    st.required_chars_live = recording("required", saved["required_chars_live"], lambda f: None if f is None else "".join(sorted(f)))
    st.end_window_live = recording("end_window", saved["end_window_live"], lambda f: None if f is None else [f[0], list(f[1])])
    st._min_width_live = recording("min_width", saved["_min_width_live"], lambda f: f)
    st.affix_program_live = recording("program", saved["affix_program_live"], program_to_json, st.program_key)
    cached = (st.required_chars, st.end_window, st.affix_program)
    global _stored_texts
    kept_store = _stored_texts
    _stored_texts = _empty_store
    try:
        for function in cached:
            function.cache_clear()
        payload = st._payload()
        for language, data in payload["languages"].items():
            st.SpacyTokenizer(language, compiled=False)
            for name in ("prefix", "suffix", "infix", "url_match"):
                if data[name] is not None:
                    st.affix_program(payload["patterns"][data[name][0]], data[name][1])
    finally:
        _stored_texts = kept_store
        for name, function in saved.items():
            setattr(st, name, function)
        for function in cached:
            function.cache_clear()
    return entries


def _empty_store() -> dict[str, str]:
    return {}
