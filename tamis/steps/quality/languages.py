"""Per-language settings of the quality filters: stop words, thresholds, tokenizer rules.

Every language the ``language`` step can report gets settings; where they come from:

1. English: the published values of the papers (Gopher, Rae et al. 2021, Table A1 and section
   A.1.1; C4, Raffel et al. 2020, section 2.2; FineWeb, Penedo et al. 2024, as set in
   datatrove's filter defaults).
2. French, German, Spanish, Italian, Portuguese and Dutch: the values FineWeb-2 (Penedo et al.
   2025) tuned for each language and published in the ``configs/{fra,deu,spa,ita,por,nld}_Latn.yml``
   files of the huggingface/fineweb-2 repository (stop words and thresholds).
3. 46 more languages (``LANGUAGES`` in :mod:`tamis.steps.quality.language_table`, 53 in all):
   FineWeb-2's files for them could not be read where tamis was built, so their values are
   derived by ``bench/derive_language_data.py`` (method and sources there, output in
   :mod:`tamis.steps.quality.language_data`): stop words are the 16 most frequent words of the
   language (wordfreq's lists; the Thai National Corpus list for Thai; stopwords-iso for the
   few wordfreq lacks), and the word-length bounds are Gopher's English 3..10 scaled by the
   language's mean word length over English's. Every other threshold is its script family's.
4. Any other language: the settings of its script family (below), no stop-word rule.

Script families (:mod:`tamis.steps.quality.language_table`) and what each rule does there:
- words (``split_words``): spaced scripts are cut by the rule-based tokenizer, combining marks
  kept inside words; Chinese, Japanese, Korean and Thai by a segmenter; Lao, Khmer, Myanmar and
  Tibetan into grapheme clusters.
- Gopher quality: word count, mean word length and alphabetic-word share count segmenter words
  (so a Chinese sentence is many words, not one); for unspaced scripts without a segmenter the
  word-length bounds are off. Symbol ratios count ``#`` and ellipses (``...``, ``…``) per word.
- Gopher repetition: n-grams are n segmenter words; line and paragraph rules are script-blind.
- FineWeb quality: terminal punctuation is every sentence mark of every script (``. ! ?``,
  ``。！？``, ``।``, ``؟``, ``۔`` ...); for unspaced scripts a "short line" is scaled to the
  same number of words as English's 30 characters (``short_line_length``), since a Chinese
  line of 30 characters holds about 17 words.
- C4 quality: words per line are whitespace-separated, as the reference counts them, so for
  unspaced scripts any non-blank line counts (``min_words_per_line`` 1); sentences end at
  ``. ! ?`` and ``。！？``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from tamis.steps.quality.language_data import DERIVED, ENGLISH_MEAN_WORD_LENGTH
from tamis.steps.quality.language_table import LANGUAGES, SEGMENTER_OF_FAMILY, UNSPACED, script_of

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
    # Script family (tamis.steps.quality.language_table) and the segmenter that cuts its words
    # (None: the rule-based tokenizer).
    script: str = "latin"
    segmenter: str | None = None
    name: str = ""
    # After which characters a word's final period stays on it (spaCy's default rule keeps it after
    # an upper-case letter: "upper"; Hungarian's also after a digit: "upper_digit"); "" splits it.
    period_kept_after: str = ""
    # Where the values come from: "papers", "fineweb-2", "derived", "script family".
    source: str = "script family"


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

# What each family changes from the English thresholds (see the module docstring).
_ENGLISH_SHORT_LINE = 30
FAMILY_THRESHOLDS: dict[str, dict[str, Any]] = {
    "han": {"short_line_length": 9, "min_words_per_line": 1},
    "kana": {"short_line_length": 9, "min_words_per_line": 1},
    "thai": {"short_line_length": 23, "min_words_per_line": 1},
    # One word is one grapheme cluster: no word-length bound applies; 10 clusters are a short line.
    "clusters": {"short_line_length": 10, "min_words_per_line": 1, "min_avg_word_length": 0, "max_avg_word_length": 0},
}


def _family_settings(code: str, script: str) -> LanguageSettings:
    return LanguageSettings(
        code=code, stop_words=frozenset(), thresholds=dict(FAMILY_THRESHOLDS.get(script, {})), script=script,
        segmenter=SEGMENTER_OF_FAMILY.get(script),
    )


# Where a hyphen splits a word, as spaCy's tokenizer for the language (which FineWeb-2 counts words
# with) splits it: languages whose spaCy punctuation rules drop the hyphen infix keep hyphenated
# words whole; the others follow spaCy's default rule (between two letters).
_HYPHENS_NEVER = frozenset({"hu", "sv", "da", "ro", "ca", "id", "ms", "no", "sr", "fi"})
# Languages whose spaCy rules keep "x/y" one word.
_SLASH_KEPT = frozenset({"hu"})


def _derived_settings(code: str) -> LanguageSettings:
    """A language of ``LANGUAGES`` without FineWeb-2 values: its derived data, its family's rules."""
    script = script_of(code)
    data = DERIVED.get(code, {})
    thresholds = dict(FAMILY_THRESHOLDS.get(script, {}))
    mean = data.get("mean_word_length")
    if mean and script != "clusters":
        scale = mean / ENGLISH_MEAN_WORD_LENGTH
        thresholds["min_avg_word_length"] = round(3 * scale, 1)
        thresholds["max_avg_word_length"] = round(10 * scale, 1)
        if script in UNSPACED:  # as many words as English's 30 characters (words + spaces)
            thresholds["short_line_length"] = round(_ENGLISH_SHORT_LINE * mean / (ENGLISH_MEAN_WORD_LENGTH + 1))
    return LanguageSettings(
        code=code, stop_words=frozenset(data.get("stop_words", ())), thresholds=thresholds, script=script,
        segmenter=SEGMENTER_OF_FAMILY.get(script), name=LANGUAGES[code], source="derived",
        hyphens="never" if code in _HYPHENS_NEVER else "always" if code == "pl" else "between_letters",
        period_kept_after="upper_digit" if code == "hu" else "",
        slash_splits=code not in _SLASH_KEPT,
    )


for _code, _name in LANGUAGES.items():
    if _code in SETTINGS:
        _source = "papers" if _code == "en" else "fineweb-2"
        SETTINGS[_code] = dataclasses.replace(SETTINGS[_code], name=_name, source=_source)
    else:
        SETTINGS[_code] = _derived_settings(_code)

SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(SETTINGS)

# A language without a code (no letters in the text): the generic tokenizer, English
# thresholds, no stop-word rule.
GENERIC = LanguageSettings(code="*", stop_words=frozenset())
_FAMILY_CACHE: dict[str, LanguageSettings] = {}


def settings_for(language: str | None) -> LanguageSettings:
    """The settings of ``language`` (an ISO 639-1 code where one exists): its own, else its script family's."""
    if language is None:
        return GENERIC
    found = SETTINGS.get(language)
    if found is None:
        found = _FAMILY_CACHE.get(language)
        if found is None:
            found = _FAMILY_CACHE[language] = _family_settings(language, script_of(language))
    return found


def languages_table() -> list[tuple[str, str, str, str, int]]:
    """(code, name, script, source of values, number of stop words) of every language with settings."""
    return [(s.code, s.name, s.script, s.source, len(s.stop_words)) for s in SETTINGS.values()]
