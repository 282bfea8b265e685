"""Per-language settings of the quality filters: stop words, thresholds, tokenizer rules.

Every language the ``language`` step can report gets settings; where they come from:

1. English: the published values of the papers (Gopher, Rae et al. 2021, Table A1 and section
   A.1.1; C4, Raffel et al. 2020, section 2.2; FineWeb, Penedo et al. 2024, as set in
   datatrove's filter defaults).
2. Every other language whose FineWeb-2 subset has a configuration (166 of lid.176's 176
   labels, among them the 60 with the most web text): FineWeb-2's published values (Penedo et al.
   2025; ``configs/{iso639-3}_{Script}.yml`` of the huggingface/fineweb-2 repository,
   Apache-2.0), copied by ``bench/derive_language_data.py`` into
   :mod:`tamis.steps.quality.language_data`: stop words, duplicate-line fraction, top and
   duplicate n-gram thresholds, line-punctuation threshold, word-length bounds, alphabetic-word
   share, new-line ratio and language-score threshold; and the settings FineWeb-2's pipeline
   (``fineweb-2-pipeline.py``) gives every language: paragraph and line-character repetition
   rules off, FineWeb's short-line rule off, duplicated line characters up to 10 %
   (``FINEWEB2_PIPELINE``). The language-score threshold is GlotLID's, not lid.176's: see
   ``language_score_threshold``.
3. A language without a configuration: values derived by ``bench/derive_language_data.py
   --derive`` (``DERIVED``: wordfreq's most frequent words as stop words, word-length bounds
   scaled by mean word length) where there are some, else its script family's settings
   (below), with no stop-word rule.

Script families (:mod:`tamis.steps.quality.language_table`) and what each rule does there:
- words (``split_words``): spaced scripts are cut by the rule-based tokenizer, combining marks
  kept inside words; Vietnamese syllables are joined into words by pyvi's CRF, as FineWeb-2
  counts them (``học sinh`` is one word: :mod:`tamis.steps.quality.vietnamese`); Chinese,
  Japanese, Korean and Thai by a segmenter; Lao, Khmer, Myanmar and
  Tibetan into grapheme clusters. FineWeb-2 cuts those four with dictionary segmenters tamis
  does not ship, so there its word-length bounds and stop words (whole words, never a single
  cluster) do not apply: tamis turns both off.
- Gopher quality: word count, mean word length and alphabetic-word share count segmenter words
  (so a Chinese sentence is many words, not one). Symbol ratios count ``#`` and ellipses
  (``...``, ``…``) per word.
- Gopher repetition: n-grams are n segmenter words; line and paragraph rules are script-blind.
- FineWeb quality: terminal punctuation is every sentence mark of every script (``. ! ?``,
  ``。！？``, ``।``, ``؟``, ``۔`` ...); for unspaced scripts a "short line" is scaled to the
  same number of words as English's 30 characters (``short_line_length``), since a Chinese
  line of 30 characters holds about 17 words (FineWeb-2 turns the rule off; it applies to a
  language without a configuration).
- C4 quality: words per line are whitespace-separated, as the reference counts them, so for
  unspaced scripts any non-blank line counts (``min_words_per_line`` 1); sentences end at
  ``. ! ?`` and ``。！？``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tamis.steps.quality.language_data import DERIVED, ENGLISH_MEAN_WORD_LENGTH, FINEWEB2
from tamis.steps.quality.language_table import LANGUAGES, SEGMENTER_OF_FAMILY, UNSPACED, script_of
from tamis.steps.quality.spacy_rules import PERIOD_KEPT_AFTER, SPACY_LANGUAGE

# Gopher's stop words (Rae et al. 2021, A.1.1): a document must hold at least two of them.
GOPHER_STOP_WORDS_EN = ("the", "be", "to", "of", "and", "that", "have", "with")


@dataclass(frozen=True)
class LanguageSettings:
    """One language's quality settings: stop words, segmenter, thresholds."""
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
    # FineWeb-2's subset (ISO 639-3 code and script) whose configuration the values are, and its
    # language-score threshold (a GlotLID probability; see language_score_threshold).
    fineweb2_subset: str = ""
    fineweb2_language_score: float | None = None


# The languages whose rules are written here (what spaCy's tokenizer does with apostrophes,
# hyphens and abbreviations); FineWeb-2's values complete them (_settings_of).
_HAND_WRITTEN: dict[str, LanguageSettings] = {
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
        stop_words=frozenset(),  # FineWeb-2's, below
        apostrophes="elision",
        hyphens="french",
        abbreviations=("M", "MM", "Mme", "Mlle", "Dr", "St", "Ste", "etc", "cf", "av", "janv", "févr", "avr",
                       "juill", "sept", "oct", "nov", "déc", "p", "pp", "vol", "No"),
    ),
    "de": LanguageSettings(
        code="de",
        stop_words=frozenset(),  # FineWeb-2's, below
        hyphens="digits_only",
        abbreviations=("Dr", "Prof", "Hr", "Fr", "Nr", "Str", "bzw", "ca", "usw", "vgl", "Jh", "Abs", "Abb", "Jan",
                       "Feb", "Aug", "Sept", "Okt", "Nov", "Dez", "St"),
    ),
    "es": LanguageSettings(
        code="es",
        stop_words=frozenset(),  # FineWeb-2's, below
        hyphens="never",
        abbreviations=("Sr", "Sra", "Srta", "Dr", "Dra", "Av", "Avda", "Prof", "Ud", "Uds", "aprox", "etc", "pág"),
    ),
    "it": LanguageSettings(
        code="it",
        stop_words=frozenset(),  # FineWeb-2's, below
        apostrophes="elision",
        hyphens="between_lowercase",
        abbreviations=("Sig", "Dott", "Prof", "Avv", "Ing", "art", "pag", "ecc", "etc", "sett"),
    ),
    "pt": LanguageSettings(
        code="pt",
        stop_words=frozenset(),  # FineWeb-2's, below
        hyphens="never",
        abbreviations=("Sr", "Sra", "Dr", "Dra", "Av", "Prof", "art", "pág", "etc", "tel"),
    ),
    "nl": LanguageSettings(
        code="nl",
        stop_words=frozenset(),  # FineWeb-2's, below
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


# FineWeb-2's pipeline (fineweb-2-pipeline.py) runs every language with these, whatever its
# configuration: the paragraph and line-character repetition rules off ("trafilatura pretty much
# removes paragraphs"), FineWeb's short-line rule off (short_line_thr=999: a share never exceeds
# 1), duplicated line characters allowed up to 10 % (FineWeb English: 1 %), two stop words.
FINEWEB2_PIPELINE: dict[str, Any] = {
    "dup_para_frac": 0,
    "dup_line_char_frac": 0,
    "dup_para_char_frac": 0,
    "short_line_thr": 1.0,
    "char_duplicates_ratio": 0.1,
    "min_stop_words": 2,
}


def _tokenizer_rules(code: str) -> dict[str, Any]:
    """How spaCy's tokenizer for ``code`` (what FineWeb-2 counts words with) treats hyphens, slashes and final periods."""
    return {
        "hyphens": "never" if code in _HYPHENS_NEVER else "always" if code == "pl" else "between_letters",
        "period_kept_after": PERIOD_KEPT_AFTER.get(SPACY_LANGUAGE.get(code, ""), ""),
        "slash_splits": code not in _SLASH_KEPT,
    }


def _fineweb2_settings(code: str, data: dict[str, Any]) -> LanguageSettings:
    """A language with a FineWeb-2 configuration: its values, FineWeb-2's pipeline settings, its family's rules."""
    script = script_of(code)
    thresholds = {**FAMILY_THRESHOLDS.get(script, {}), **data["thresholds"], **FINEWEB2_PIPELINE}
    stop_words = frozenset(data["stop_words"])
    if script == "clusters":
        # FineWeb-2's words there come from dictionary segmenters (khmer-nltk, LaoNLP, botok,
        # pyidaungsu); tamis's are grapheme clusters, which neither its word-length bounds nor
        # its stop words (whole words) describe.
        thresholds.update(min_avg_word_length=0, max_avg_word_length=0)
        stop_words = frozenset()
    hand_written = _HAND_WRITTEN.get(code)
    common = {
        "stop_words": stop_words, "thresholds": thresholds, "name": LANGUAGES.get(code) or data["name"], "source": "fineweb-2",
        "fineweb2_subset": data["subset"], "fineweb2_language_score": data["language_score"],
    }
    if hand_written is not None:
        return dataclasses.replace(hand_written, **common, period_kept_after=_tokenizer_rules(code)["period_kept_after"])
    return LanguageSettings(code=code, script=script, segmenter=SEGMENTER_OF_FAMILY.get(script), **common, **_tokenizer_rules(code))


def _derived_settings(code: str) -> LanguageSettings:
    """A language without FineWeb-2 values but with derived data: that data, its family's rules."""
    script = script_of(code)
    data = DERIVED[code]
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
        segmenter=SEGMENTER_OF_FAMILY.get(script), name=LANGUAGES.get(code, code), source="derived", **_tokenizer_rules(code),
    )


_HAND_WRITTEN["en"] = dataclasses.replace(_HAND_WRITTEN["en"], name=LANGUAGES["en"], source="papers")


def _settings_of(code: str) -> LanguageSettings:
    """The settings of a language of SUPPORTED_LANGUAGES: FineWeb-2's values (over the hand-written
    ones, where both exist), else the hand-written ones, else the derived ones (a derived code
    never replaces a language already given)."""
    data = FINEWEB2.get(code)
    if data is not None:
        return _fineweb2_settings(code, data)
    found = _HAND_WRITTEN.get(code)
    return found if found is not None else _derived_settings(code)


class _Settings(Mapping[str, LanguageSettings]):
    """Every language's own settings by code (``SETTINGS``), each built the first time it is asked
    for: a run meets a dozen of the ~190 languages, and building them all (their stop-word sets
    above all) was most of this module's import, paid by every run's start."""

    def __init__(self, codes: tuple[str, ...]) -> None:
        self._codes = codes
        self._known = frozenset(codes)
        self._built: dict[str, LanguageSettings] = {}

    def __getitem__(self, code: str) -> LanguageSettings:
        found = self._built.get(code)
        if found is None:
            if code not in self._known:
                raise KeyError(code)
            found = self._built[code] = _settings_of(code)
        return found

    def __contains__(self, code: object) -> bool:
        return code in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)


# The hand-written languages first, then FineWeb-2's (largest web text first), then the derived ones.
SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(dict.fromkeys([*_HAND_WRITTEN, *FINEWEB2, *DERIVED]))
SETTINGS: Mapping[str, LanguageSettings] = _Settings(SUPPORTED_LANGUAGES)
_BUILT = SETTINGS._built  # type: ignore[attr-defined]

# A language without a code (no letters in the text): the generic tokenizer, English
# thresholds, no stop-word rule.
GENERIC = LanguageSettings(code="*", stop_words=frozenset())
_FAMILY_CACHE: dict[str, LanguageSettings] = {}


def settings_for(language: str | None) -> LanguageSettings:
    """The settings of ``language`` (an ISO 639-1 code where one exists): its own, else its script family's."""
    if language is None:
        return GENERIC
    found = _BUILT.get(language)  # once built, one dict lookup (called for every document)
    if found is None:
        found = SETTINGS.get(language)
    if found is None:
        found = _FAMILY_CACHE.get(language)
        if found is None:
            found = _FAMILY_CACHE[language] = _family_settings(language, script_of(language))
    return found


def languages_table() -> list[tuple[str, str, str, str, int, float]]:
    """(code, name, script, source of values, number of stop words, language-score threshold) of every
    language with settings of its own."""
    return [(s.code, s.name, s.script, s.source, len(s.stop_words), language_score_threshold(s.code)) for s in SETTINGS.values()]


# FineWeb's threshold for lid.176 (Penedo et al. 2024), the default of the language step.
LID176_MIN_SCORE = 0.65


def language_score_threshold(language: str | None) -> float:
    """The lid.176 probability below which a document in ``language`` is rejected.

    FineWeb-2's per-language thresholds are GlotLID probabilities, set on GlotLID's score
    distribution of each language; lid.176 (what tamis identifies languages with) spreads its
    probabilities otherwise, so its scores cannot be compared with those thresholds as they are.
    The rule, measured on real pages (``bench/bench_languages.py --part langscore``): FineWeb's
    0.65, lowered to FineWeb-2's value where FineWeb-2 found the language hard to tell from its
    neighbours (Danish, Croatian, Bosnian, Serbian in Latin script, Swahili, Galician ... below
    0.65): lid.176 splits its probability between the same neighbours, and FineWeb's 0.65 would
    drop most of their pages. FineWeb-2's values above 0.65 are not taken: they would raise the
    bar for languages lid.176 scores lower than GlotLID does.
    """
    fineweb2 = settings_for(language).fineweb2_language_score
    return LID176_MIN_SCORE if fineweb2 is None else min(LID176_MIN_SCORE, fineweb2)
