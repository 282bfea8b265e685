"""The compiled word splitter's stored per-language tables (tamis/steps/quality/spacy_tables.py,
bench/derive_spacy_tables.py) are what the live derivation computes from the rules, and a
splitter built from them cuts what the live build's splitter and the Python path cut."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tamis.steps.quality import spacy_tables
from tamis.steps.quality import spacy_tokenizer as spacy
from tamis.steps.quality.regex_code import interpreter_tag

TEXT = ("Visit https://example.com/a?b=1, e-mail <me@example.org>. It's 12km (3.5%) -- \"quoted\"... "
        "l'homme aujourd'hui, z.B. d.h. usw., N.º 5, U.S.A.'s co-op; ¿qué? ¡sí! 10:30am $5.00 --force "
        "don't can't gonna Mr. Dr. etc. a.m. i.e. e.g. 's-Hertogenbosch dll. yg. s.d. jl. kpd. O.K. ")


def needs_store() -> None:
    if spacy._Splitter is None or spacy._Affix is None:
        pytest.skip("the compiled splitter is not built")
    if not spacy_tables.current():
        pytest.skip("no store for these rules (rerun bench/derive_spacy_tables.py)")
    if interpreter_tag() not in spacy_tables._header()[0]["tags"]:  # type: ignore[index]
        pytest.skip(f"the store has no tables for {interpreter_tag()}: splitters built live")


def test_the_store_is_current_for_the_rules() -> None:
    # A rules change that forgets to re-derive: every language would be built live (and the
    # comparison below fails), so the store's stamp must be these rules'.
    assert spacy_tables.current(), "spacy_rules.json.gz changed: rerun bench/derive_spacy_tables.py"
    assert spacy_tables.languages_with_rules() == frozenset(spacy._payload()["languages"])


def test_every_stored_member_equals_the_live_derivation() -> None:
    needs_store()
    stored = spacy_tables.stored_store()
    live = spacy_tables.live_store()
    assert stored.keys() == live.keys(), "rerun bench/derive_spacy_tables.py"
    differ = sorted(name for name in live if live[name] != stored[name])
    assert not differ, f"{len(differ)} stored members differ from the live derivation (rerun bench/derive_spacy_tables.py): {differ[:5]}"
    assert sum(name.startswith("language:") for name in stored) == len(spacy._payload()["languages"])


@pytest.mark.parametrize("language", ["en", "fr", "de", "id", "it", "hu", "tr", "pl", "nl", "ms", "da", "xx"])
def test_a_splitter_from_the_tables_cuts_what_the_live_one_and_the_python_path_cut(language: str) -> None:
    needs_store()
    stored = spacy.SpacyTokenizer(language)
    assert "_arguments" in stored.__dict__, "not built from the stored tables"
    live = spacy.SpacyTokenizer(language, tables=False)
    python_path = spacy.SpacyTokenizer(language, compiled=False)
    fallback = str.split
    text = TEXT + " ".join(list(stored._specials)[:3000])  # every special case met (Indonesian: 16,000)
    words = spacy.tokenize(text, stored, fallback)
    assert words == spacy.tokenize(text, live, fallback) == spacy.tokenize_reference(text, python_path, fallback)
    assert "_completed" not in stored.__dict__  # the deferred re searches were never called
    # and each special case's own tokenization, which the special-case matcher reads, is the Python path's
    for key in list(stored._specials)[:3000]:
        assert stored._pieces_of(key) == python_path._pieces_of(key), key
    assert "_completed" not in stored.__dict__


@pytest.mark.parametrize("language", ["en", "fr", "id", "ru", "xx"])
def test_a_splitter_from_the_tables_tests_every_character_as_the_live_one(language: str) -> None:
    # The stored character sets come sorted (finish_astral merges their runs), the live build's
    # in a set's order (sorted whole): every code point, the astral letters of spaCy's classes
    # above all, must get the same flags either way.
    needs_store()
    stored = spacy.SpacyTokenizer(language)
    assert "_arguments" in stored.__dict__, "not built from the stored tables"
    live = spacy.SpacyTokenizer(language, tables=False)
    flags = stored._native.char_flags
    live_flags = live._native.char_flags
    codes = [*range(0x30000), *range(0xE0000, 0x110000, 7)]
    assert [flags(c) for c in codes] == [live_flags(c) for c in codes]
    assert any(flags(c) for c in range(0x10000, 0x30000)), "no astral character in the sets: the test tests nothing"
    plain = stored._plain_splitter()  # its flag tables are a copy
    assert [plain.char_flags(c) for c in codes] == [flags(c) for c in codes]


def test_a_splitter_from_the_tables_builds_the_python_path_on_demand() -> None:
    needs_store()
    stored = spacy.SpacyTokenizer("en")
    assert "_prefix" not in stored.__dict__  # not built ahead
    python_path = spacy.SpacyTokenizer("en", compiled=False)
    for chunk in ("(don't)", "U.S.A.", "end.", "--verbose", "e.g.", "3.5%", "“quoted”"):
        assert stored.chunk_tokens(chunk) == python_path.chunk_tokens(chunk)
    assert stored._prefix is not None  # built on first use
    # a search handed to the compiled splitter in place of re's calls the Python path's own
    deferred = spacy._Deferred(stored, spacy._DEFERRED[0])
    assert deferred("(x").span() == python_path._prefix("(x").span()


def test_a_store_for_other_rules_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    needs_store()
    monkeypatch.setattr(spacy_tables, "rules_stamp", lambda: "0" * 16)
    spacy_tables.current.cache_clear()
    try:
        assert spacy_tables.member("en") is None
        assert spacy_tables.languages_with_rules() is None
        tokenizer = spacy.SpacyTokenizer("en")
        assert "_arguments" not in tokenizer.__dict__ and tokenizer._native is not None  # built live
    finally:
        monkeypatch.undo()
        spacy_tables.current.cache_clear()


def test_a_language_is_read_only_when_met() -> None:
    # a fresh process: building German reads German's member and its programs, nothing else
    code = (
        "from tamis.steps.quality import spacy_tables, spacy_tokenizer\n"
        "read = []\n"
        "real = spacy_tables._read\n"
        "spacy_tables._read = lambda name, *a: read.append(name) or real(name, *a)\n"
        "spacy_tokenizer.SpacyTokenizer('de')\n"
        "assert read[0] == 'language:de' and all(name.startswith('program:') for name in read[1:]), read\n"
        "assert len(read) <= 5, read\n"
    )
    needs_store()
    subprocess.run([sys.executable, "-c", code], check=True)
