"""The spaCy word splitter's stored regex instructions give the patterns re.compile gives
(tamis/steps/quality/regex_code.py, bench/derive_spacy_regex_code.py)."""

from __future__ import annotations

import re

import pytest

from tamis.steps.quality import regex_code, spacy_tokenizer


def test_every_pattern_the_splitter_compiles_is_stored_and_equals_re_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    if not regex_code._stored():
        pytest.skip(f"no stored instructions for {regex_code.tag()}: patterns compiled by re (rerun bench/derive_spacy_regex_code.py)")
    compiled: list[tuple[str, int]] = []

    def checking(text: str, flags: int = 0) -> re.Pattern[str]:
        pattern = regex_code.compile_pattern(text, flags)
        # Pattern equality is the engine's: same text, flags and instruction words.
        assert pattern == re.compile(text, flags)
        compiled.append((text, flags))
        return pattern

    monkeypatch.setattr(spacy_tokenizer, "compile_pattern", checking)
    for language in spacy_tokenizer._payload()["languages"]:
        spacy_tokenizer.SpacyTokenizer(language, tables=False)  # the live build: every pattern compiled
    missing = [text[:60] for text, flags in compiled if regex_code.key(text, flags) not in regex_code._stored()]
    assert compiled and not missing, f"{len(missing)} patterns not stored (rerun bench/derive_spacy_regex_code.py): {missing[:3]}"


def test_a_pattern_not_stored_or_refused_by_the_engine_is_compiled_by_re(monkeypatch: pytest.MonkeyPatch) -> None:
    text = r"(?<=[0-9])(?:km|kg)$|\.\.+$"
    assert regex_code.compile_pattern(text) == re.compile(text)
    bogus = {regex_code.key(text, 0): [re.UNICODE, regex_code.encode_code([1, 2, 3]), 0, {}, [None]]}  # not valid instructions
    monkeypatch.setattr(regex_code, "_stored", lambda: bogus)
    pattern = regex_code.compile_pattern(text)
    assert pattern == re.compile(text)
    assert pattern.search("12km").group() == "km"


def test_instruction_words_round_trip() -> None:
    words = [0, 1, 2**31, 2**32 - 1, 17]
    assert regex_code.decode_code(regex_code.encode_code(words)) == words


def test_every_language_word_regex_is_stored_and_equals_re_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    from tamis.steps.quality import words
    from tamis.steps.quality.languages import GENERIC, SUPPORTED_LANGUAGES, settings_for

    if not regex_code._stored():
        pytest.skip(f"no stored instructions for {regex_code.tag()}")
    texts: dict[str, re.Pattern[str]] = {}

    def checking(text: str, flags: int = 0) -> re.Pattern[str]:
        texts[text] = regex_code.compile_word_regex(text)
        return texts[text]

    monkeypatch.setattr(words, "compile_word_regex", checking)
    for settings in [*(settings_for(code) for code in SUPPORTED_LANGUAGES), GENERIC]:
        words._compile_word_regex(settings)
    missing = [text[:60] for text in texts if regex_code.key(text, 0) not in regex_code._stored_file("words-")]
    assert not missing, f"{len(missing)} word regexes not stored (rerun bench/derive_word_regex_code.py): {missing[:2]}"
    differ = [text[:60] for text, pattern in texts.items() if pattern != re.compile(text)]
    assert not differ
