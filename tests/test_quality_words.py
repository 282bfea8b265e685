"""Word segmentation, shared statistics, n-gram measures and per-language thresholds."""

from __future__ import annotations

import random

import pytest

from tamis.steps.quality.gopher import GopherQuality, GopherRepetition
from tamis.steps.quality.languages import SETTINGS, SUPPORTED_LANGUAGES, settings_for
from tamis.steps.quality.ngrams import duplicate_ngram_chars_reference, top_ngram_chars_reference
from tamis.steps.quality.ngrams_numpy import NgramIndex, duplicate_ngram_chars, top_ngram_chars
from tamis.steps.quality.words import split_words, text_stats


def test_french_elisions_are_two_words():
    assert split_words("l’armée d’élite", "fr") == ["l’", "armée", "d’", "élite"]
    assert split_words("qu'il lorsqu’elle", "fr") == ["qu'", "il", "lorsqu’", "elle"]


def test_french_words_that_keep_their_apostrophe():
    assert split_words("aujourd’hui", "fr") == ["aujourd’hui"]


def test_english_clitics_are_split_like_the_reference():
    assert split_words("Don't stop John's car", "en") == ["Do", "n't", "stop", "John", "'s", "car"]


def test_punctuation_urls_numbers_and_initialisms():
    words = split_words("See https://example.org/a?b=1, the U.S. paid $3.50 (well-known)... Mr. Brown", "en")
    assert words == ["See", "https://example.org/a?b=1", ",", "the", "U.S.", "paid", "$", "3.50", "(", "well", "-",
                     "known", ")", "...", "Mr.", "Brown"]


def test_abbreviation_periods_follow_the_language():
    assert split_words("Mme. Dupont", "fr") == ["Mme.", "Dupont"]
    assert split_words("Mme. Dupont", "en") == ["Mme", ".", "Dupont"]


def test_hyphens_follow_the_language():
    text = "Proxy-Konfiguration well-known peut-être 32-bit 1-2"
    assert split_words(text, "en") == ["Proxy", "-", "Konfiguration", "well", "-", "known", "peut", "-", "être", "32", "-",
                                       "bit", "1", "-", "2"]
    # peut-être is one of spaCy's French special tokens (its lexicon's compounds)
    assert split_words(text, "fr") == ["Proxy", "-", "Konfiguration", "well", "-", "known", "peut-être", "32-bit",
                                       "1", "-", "2"]
    assert split_words("Pouvez-vous venir ? A-t-il dit", "fr") == ["Pouvez", "-vous", "venir", "?", "A", "-t", "-il", "dit"]
    assert split_words(text, "it")[:2] == ["Proxy-Konfiguration", "well"]
    assert split_words(text, "de") == ["Proxy-Konfiguration", "well-known", "peut-être", "32-bit", "1", "-", "2"]
    assert split_words(text, "nl") == ["Proxy-Konfiguration", "well-known", "peut-être", "32-bit", "1-2"]
    assert split_words("x/y", "nl") == ["x/y"]
    assert split_words("x/y", "pt") == ["x", "/", "y"]


def test_unknown_language_uses_the_generic_rules():
    assert settings_for("ug").stop_words == frozenset()  # Uyghur: no FineWeb-2 configuration
    assert split_words("l'armée", "ug") == ["l'armée"]


def test_every_supported_language_has_stop_words():
    assert set(SUPPORTED_LANGUAGES) >= {"en", "fr", "de", "es", "it", "pt", "nl"}
    for code in SUPPORTED_LANGUAGES:
        assert len(SETTINGS[code].stop_words) >= 8 or SETTINGS[code].script == "clusters"


def test_text_stats_are_shared_by_identity_and_language():
    text = "Un texte court. Une deuxième phrase."
    first = text_stats(text, "fr")
    assert text_stats(text, "fr") is first
    assert text_stats(text, "en") is not first
    copy = "".join(["Un texte court.", " Une deuxième phrase."])
    assert copy == text and copy is not text
    assert text_stats(copy, "fr") is not first


def _random_words(rng: random.Random, n: int, vocab: int) -> list[str]:
    pool = ["a", "bb", "ccc", "dddd", "e", "ff", "le", "chat", "et", "the"][:vocab] + [f"w{i}" for i in range(vocab)]
    return [rng.choice(pool[:vocab]) for _ in range(n)]


@pytest.mark.parametrize("seed", range(25))
def test_fast_ngram_measures_match_the_reference(seed):
    rng = random.Random(seed)
    words = _random_words(rng, rng.randint(0, 300), rng.randint(1, 10))
    if seed % 5 == 0:  # a block repeated: overlapping and jumping repeats
        words = words[:40] * 3 + words[40:]
    index = NgramIndex(words)
    for n in (2, 3, 4):
        assert top_ngram_chars(index, n) == top_ngram_chars_reference(words, n)
    for n in range(5, 11):
        assert duplicate_ngram_chars(index, n) == duplicate_ngram_chars_reference(words, n)


def test_top_ngram_ties_go_to_the_first_seen():
    words = ["aa", "b", "c", "dddd", "aa", "b", "c", "dddd"]
    # "aa b", "b c", "c dddd" all occur twice; the first one seen counts.
    assert top_ngram_chars(NgramIndex(words), 2) == len("aa b") * 2


def test_per_language_thresholds_replace_defaults_only():
    step = GopherRepetition()
    assert step.thresholds("en")["dup_line_frac"] == 0.30
    assert step.thresholds("fr")["dup_line_frac"] == SETTINGS["fr"].thresholds["dup_line_frac"]
    assert step.thresholds("ug")["dup_line_frac"] == 0.30  # no FineWeb-2 configuration: the defaults
    explicit = GopherRepetition(dup_line_frac=0.5)
    assert explicit.thresholds("fr")["dup_line_frac"] == 0.5
    off = GopherQuality(per_language=False)
    assert off.thresholds("es")["min_avg_word_length"] == 3


def test_bad_ngram_config_is_a_clear_error():
    with pytest.raises(ValueError, match="top_n_grams"):
        GopherRepetition(top_n_grams=[2, 0.2])


def test_chunked_tokenizer_equals_the_whole_text_regex():
    from tamis.steps.quality.languages import settings_for
    from tamis.steps.quality.words import tokenize, word_regex

    rng = random.Random(7)
    pieces = ["word", "l’armée", "don't", "U.S.", "Mr.", "A.", "3.5", "1,000", "well-known", "--verbose", "/usr/bin",
              "x=(y1,", "and/or", "...", "end.", "(yes)", "«non»", "a@b.org", "https://x.org/a.", "snake_case", "___",
              "hyphen‐", "#tag", "$5",
              "Proxy-Konfig", "[--dry-run]", "x/y", "1-2",
              "peut-être", "dis-moi", "a-t-il", "10%", "C++", "…", "—", "Élise,", "ok!", "why?", "(1)", "word)", "é"]
    for language in ("en", "fr", "de", "sw"):
        regex = word_regex(settings_for(language))
        for _ in range(200):
            text = "".join(rng.choice(pieces) + rng.choice([" ", "\n", "  ", "\t", "", ","]) for _ in range(12))
            assert tokenize(text, regex) == regex.findall(text), text


def test_the_gopher_rules_do_not_import_numpy():
    """numpy is the n-gram measures' fallback only (ngrams_numpy): a run with the compiled
    extension must not pay its import (~0.1 s of every ``tamis run`` start)."""
    import subprocess
    import sys

    code = "import sys, tamis.steps.quality.gopher, tamis.steps.quality.c4, tamis.steps.quality.fineweb; print('numpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
