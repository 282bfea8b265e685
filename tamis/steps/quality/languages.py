"""Per-language settings of the quality filters: stop words, thresholds, tokenizer rules.

English uses the published values of the papers (Gopher, Rae et al. 2021, Table A1 and
section A.1.1; C4, Raffel et al. 2020, section 2.2; FineWeb, Penedo et al. 2024, as set in
datatrove's filter defaults).

French, German, Spanish, Italian, Portuguese and Dutch use the values FineWeb-2 (Penedo et
al. 2025) tuned for each language and published in the ``configs/{fra,deu,spa,ita,por,nld}_Latn.yml``
files of the huggingface/fineweb-2 repository: its stop-word lists (the most frequent
function words of the language, which is what Gopher's eight English words are) and its
thresholds. Only the thresholds FineWeb-2 changed are listed; every other threshold keeps
the English value.

Any other language: the generic tokenizer, the English thresholds, and no stop-word rule
(there is no list to count against). The ``language`` step's default allow-list holds only
the languages below, so such documents are only filtered when a user allows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Gopher's stop words (Rae et al. 2021, A.1.1): a document must hold at least two of them.
GOPHER_STOP_WORDS_EN = ("the", "be", "to", "of", "and", "that", "have", "with")


@dataclass(frozen=True)
class LanguageSettings:
    code: str
    stop_words: frozenset[str]
    # Threshold overrides, by filter parameter name (same meaning as the parameter).
    thresholds: dict[str, Any] = field(default_factory=dict)
    # How words are cut around apostrophes: "english" splits clitics (do|n't, John|'s),
    # "elision" splits an elided article or pronoun from its host word (l'|armée, d'|élite),
    # "plain" keeps apostrophes inside words.
    apostrophes: str = "plain"
    # Abbreviations that end with a period which does not end a sentence.
    abbreviations: tuple[str, ...] = ()
    # Where a hyphen inside a word splits it (as spaCy's rules for the language do): one of
    # "before_letter", "french", "between_lowercase", "digits_only", "never".
    hyphens: str = "before_letter"
    # Whether "/" before a letter splits a word (x / y), as it does everywhere but in Dutch.
    slash_splits: bool = True


SETTINGS: dict[str, LanguageSettings] = {
    "en": LanguageSettings(
        code="en",
        stop_words=frozenset(GOPHER_STOP_WORDS_EN),
        apostrophes="english",
        abbreviations=("Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Jr", "Sr", "Inc", "Ltd", "Co", "Corp", "vs", "etc",
                       "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
                       "Gen", "Gov", "Sen", "Rep", "Rev", "Mt", "No"),
    ),
    "fr": LanguageSettings(
        code="fr",
        stop_words=frozenset(["de", "la", "le", "et", "à", "en", "l'", "des", "du", "les", "est", "d'", "un", "une",
                              "il", "dans", "par", "au"]),
        thresholds={
            "dup_line_frac": 0.264,
            "top_n_grams": [[2, 0.161], [3, 0.149], [4, 0.134]],
            "dup_n_grams": [[5, 0.15], [6, 0.141], [7, 0.131], [8, 0.121], [9, 0.111], [10, 0.1]],
            "min_avg_word_length": 2,
            "max_avg_word_length": 11,
            "min_alpha_words_ratio": 0.812,
            "line_punct_thr": 0.1,
            "new_line_ratio": 0.185,
        },
        apostrophes="elision",
        hyphens="french",
        abbreviations=("M", "MM", "Mme", "Mlle", "Dr", "St", "Ste", "etc", "cf", "av", "janv", "févr", "avr",
                       "juill", "sept", "oct", "nov", "déc", "p", "pp", "vol", "No"),
    ),
    "de": LanguageSettings(
        code="de",
        stop_words=frozenset(["der", "und", "die", "in", "von", "im", "den", "des", "mit", "das", "er", "dem", "als",
                              "wurde", "für"]),
        thresholds={
            "dup_line_frac": 0.263,
            "top_n_grams": [[2, 0.169], [3, 0.153], [4, 0.137]],
            "dup_n_grams": [[5, 0.141], [6, 0.134], [7, 0.126], [8, 0.117], [9, 0.108], [10, 0.098]],
            "min_avg_word_length": 0,
            "max_avg_word_length": 15,
            "min_alpha_words_ratio": 0.774,
            "line_punct_thr": 0.0,
            "new_line_ratio": 0.152,
        },
        hyphens="digits_only",
        abbreviations=("Dr", "Prof", "Hr", "Fr", "Nr", "Str", "bzw", "ca", "usw", "vgl", "Jh", "Abs", "Abb", "Jan",
                       "Feb", "Aug", "Sept", "Okt", "Nov", "Dez", "St"),
    ),
    "es": LanguageSettings(
        code="es",
        stop_words=frozenset(["de", "la", "en", "el", "y", "a", "que", "del", "los", "se", "por", "un", "con", "una",
                              "las", "su"]),
        thresholds={
            "dup_line_frac": 0.265,
            "top_n_grams": [[2, 0.077], [3, 0.097], [4, 0.112]],
            "dup_n_grams": [[5, 0.152], [6, 0.137], [7, 0.123], [8, 0.114], [9, 0.107], [10, 0.099]],
            "min_avg_word_length": 4,
            "max_avg_word_length": 14,
            "min_alpha_words_ratio": 0.825,
            "line_punct_thr": 0.3,
            "new_line_ratio": 0.171,
        },
        hyphens="never",
        abbreviations=("Sr", "Sra", "Srta", "Dr", "Dra", "Av", "Avda", "Prof", "Ud", "Uds", "aprox", "etc", "pág"),
    ),
    "it": LanguageSettings(
        code="it",
        stop_words=frozenset(["di", "e", "il", "la", "in", "a", "del", "che", "è", "della", "un", "per", "nel", "l'",
                              "con", "da", "i", "una"]),
        thresholds={
            "dup_line_frac": 0.246,
            "top_n_grams": [[2, 0.198], [3, 0.156], [4, 0.133]],
            "dup_n_grams": [[5, 0.144], [6, 0.136], [7, 0.127], [8, 0.118], [9, 0.109], [10, 0.1]],
            "min_avg_word_length": 3,
            "max_avg_word_length": 21,
            "min_alpha_words_ratio": 0.807,
            "line_punct_thr": 0.025,
            "new_line_ratio": 0.2,
        },
        apostrophes="elision",
        hyphens="between_lowercase",
        abbreviations=("Sig", "Dott", "Prof", "Avv", "Ing", "art", "pag", "ecc", "etc", "sett"),
    ),
    "pt": LanguageSettings(
        code="pt",
        stop_words=frozenset(["de", "a", "e", "o", "em", "do", "da", "que", "um", "no", "uma", "com", "para", "na", "é",
                              "foi"]),
        thresholds={
            "dup_line_frac": 0.325,
            "top_n_grams": [[2, 0.093], [3, 0.117], [4, 0.139]],
            "dup_n_grams": [[5, 0.19], [6, 0.172], [7, 0.154], [8, 0.142], [9, 0.131], [10, 0.12]],
            "min_avg_word_length": 3,
            "max_avg_word_length": 13,
            "min_alpha_words_ratio": 0.814,
            "line_punct_thr": 0.154,
            "new_line_ratio": 0.23,
        },
        hyphens="never",
        abbreviations=("Sr", "Sra", "Dr", "Dra", "Av", "Prof", "art", "pág", "etc", "tel"),
    ),
    "nl": LanguageSettings(
        code="nl",
        stop_words=frozenset(["de", "van", "in", "het", "een", "en", "is", "op", "voor", "met", "door", "zijn", "werd",
                              "hij", "uit"]),
        thresholds={
            "dup_line_frac": 0.333,
            "top_n_grams": [[2, 0.093], [3, 0.117], [4, 0.14]],
            "dup_n_grams": [[5, 0.177], [6, 0.16], [7, 0.145], [8, 0.133], [9, 0.123], [10, 0.112]],
            "min_avg_word_length": 3,
            "max_avg_word_length": 16,
            "min_alpha_words_ratio": 0.828,
            "line_punct_thr": 0.238,
            "new_line_ratio": 0.194,
        },
        hyphens="never",
        slash_splits=False,
        abbreviations=("dhr", "mevr", "mw", "dr", "prof", "bijv", "bv", "enz", "nr", "ca", "jan", "feb", "aug",
                       "sept", "okt", "nov", "dec"),
    ),
}

SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(SETTINGS)

# Languages without settings: the generic tokenizer, English thresholds, no stop-word rule.
GENERIC = LanguageSettings(code="*", stop_words=frozenset())


def settings_for(language: str | None) -> LanguageSettings:
    """The settings of ``language`` (an ISO 639-1 code), or the generic ones."""
    if language is None:
        return GENERIC
    return SETTINGS.get(language, GENERIC)
