"""The spaCy word splitter's stored pattern analyses are what the analyses compute
(tamis/steps/quality/spacy_analysis.py, bench/derive_spacy_analysis.py)."""

from __future__ import annotations

import pytest

from tamis.steps.quality import spacy_analysis
from tamis.steps.quality import spacy_tokenizer as spacy


def test_every_stored_analysis_equals_the_live_one_and_every_one_a_build_needs_is_stored() -> None:
    stored = spacy_analysis.stored()
    if not stored:
        pytest.skip(f"no stored analyses for {spacy_analysis.path().name}: analysed at build (rerun bench/derive_spacy_analysis.py)")
    live = spacy_analysis.live_entries()
    assert live.keys() == stored.keys(), "rerun bench/derive_spacy_analysis.py"
    differ = [entry for entry in live if live[entry] != stored[entry]]
    assert not differ, f"{len(differ)} stored analyses differ from the live ones: {differ[:3]}"
    assert {entry.split(":")[0] for entry in stored} == set(spacy_analysis.KINDS)


def test_a_splitter_built_from_the_stored_analyses_equals_one_built_live(monkeypatch: pytest.MonkeyPatch) -> None:
    if not spacy_analysis.stored():
        pytest.skip("no stored analyses for this Python")
    text = ("Visit https://example.com/a?b=1, e-mail <me@example.org>. It's 12km (3.5%) -- \"quoted\"... "
            "l'homme aujourd'hui, z.B. d.h. usw., N.º 5, U.S.A.'s co-op; ¿qué? ¡sí! 10:30am $5.00 --force")
    words = {}
    for mode in ("stored", "live"):
        for function in (spacy.required_chars, spacy.end_window, spacy.affix_program, spacy._shared_affix):
            function.cache_clear()
        if mode == "live":
            monkeypatch.setattr(spacy_analysis, "_stored_texts", dict)
        built = {language: spacy.SpacyTokenizer(language, tables=False) for language in ("en", "fr", "de", "es", "id")}
        words[mode] = {language: spacy.tokenize(text, tokenizer, str.split) for language, tokenizer in built.items()}
        assert all(tokenizer._native is not None for tokenizer in built.values()) or spacy._Splitter is None
    for function in (spacy.required_chars, spacy.end_window, spacy.affix_program, spacy._shared_affix):
        function.cache_clear()
    assert words["stored"] == words["live"]


def test_a_program_survives_its_json_form() -> None:
    stored, flags = spacy._payload()["patterns"][spacy._payload()["languages"]["en"]["suffix"][0]], spacy._payload()["languages"]["en"]["suffix"][1]
    program = spacy.affix_program_live(stored, flags)
    assert program is not None
    assert spacy_analysis.program_from_json(spacy_analysis.program_to_json(program)) == program
