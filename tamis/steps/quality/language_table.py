"""Which script each language of the language model is written in, and its segmenter.

Every language that fastText's lid.176 model (the ``language`` step) reports is listed with the
script family it is written in; a language without settings of its own falls back to its
family's settings (:mod:`tamis.steps.quality.languages`). ``LANGUAGES`` are the languages with
settings of their own: 53 of the 60 languages with the most web
text (Common Crawl's language statistics, the ranking FineWeb-2 reports its largest subsets by),
those with a word-frequency list to take stop words from.

Families (what each means for the quality rules):
- ``latin``, ``cyrillic``, ``greek``, ``armenian``, ``georgian``, ``hebrew``, ``arabic``,
  ``indic`` (Brahmic scripts: Devanagari, Bengali, Tamil, ...), ``ethiopic``, ``thaana``:
  written with spaces between words; words are cut by the rule-based tokenizer, with combining
  marks (vowel signs, harakat, nikud) kept inside the word;
- ``han`` (Chinese), ``kana`` (Japanese), ``thai``: written without spaces; words come from a
  dictionary segmenter (rjieba, SudachiPy, PyThaiNLP's newmm);
- ``hangul``: written with spaces between phrases (eojeol) that hold several morphemes; words
  are Kiwi's morphemes, as FineWeb-2 counts them;
- ``clusters`` (Lao, Khmer, Myanmar, Tibetan): written without spaces and with no segmenter in
  tamis's dependencies: a word is one grapheme cluster (a letter and its marks), and the
  word-length bounds are off.
"""

from __future__ import annotations

# Scripts of the languages lid.176 knows (ISO 639-1 where one exists, else 639-3), by family.
_FAMILIES: dict[str, str] = {
    "arabic": "ar arz azb ckb fa lrc mzn pnb ps sd ug ur",
    "cyrillic": "av ba be bg bxr ce cv kk krc kv ky lez mhr mk mn mrj myv os ru rue sah sr tg tt tyv uk xal",
    "greek": "el",
    "armenian": "hy",
    "georgian": "ka xmf",
    "hebrew": "he yi",
    "indic": "as bh bn bpy dty gom gu hi kn mai ml mr ne new or pa sa si ta te",
    "ethiopic": "am",
    "thaana": "dv",
    "han": "zh wuu yue",
    "kana": "ja",
    "hangul": "ko",
    "thai": "th",
    "clusters": "bo km lo my",
}
SCRIPT_OF: dict[str, str] = {code: family for family, codes in _FAMILIES.items() for code in codes.split()}

# Families written without spaces between words (character shingles, segmenters, line lengths).
UNSPACED = frozenset({"han", "kana", "thai", "clusters"})

# The segmenter of each family that has one (see tamis.steps.quality.segmenters).
SEGMENTER_OF_FAMILY = {"han": "jieba", "kana": "sudachi", "hangul": "kiwi", "thai": "newmm", "clusters": "clusters"}


def script_of(code: str | None) -> str:
    """The script family of a language code (``latin`` for a code not listed)."""
    return SCRIPT_OF.get(code or "", "latin")


# The languages with settings of their own: (code, English name), by web text (largest first).
LANGUAGES: dict[str, str] = {
    "en": "English", "ru": "Russian", "de": "German", "zh": "Chinese", "ja": "Japanese", "es": "Spanish",
    "fr": "French", "it": "Italian", "pt": "Portuguese", "pl": "Polish", "nl": "Dutch", "vi": "Vietnamese",
    "tr": "Turkish", "id": "Indonesian", "cs": "Czech", "fa": "Persian", "sv": "Swedish", "ko": "Korean",
    "uk": "Ukrainian", "hu": "Hungarian", "ro": "Romanian", "el": "Greek", "da": "Danish", "ar": "Arabic",
    "fi": "Finnish", "th": "Thai", "sk": "Slovak", "no": "Norwegian", "bg": "Bulgarian", "he": "Hebrew",
    "hi": "Hindi", "hr": "Croatian", "lt": "Lithuanian", "sr": "Serbian", "sl": "Slovenian", "ca": "Catalan",
    "et": "Estonian", "lv": "Latvian", "bn": "Bengali", "ms": "Malay", "ta": "Tamil",
    "is": "Icelandic", "ur": "Urdu", "mr": "Marathi", "mk": "Macedonian",
    "hy": "Armenian", "gl": "Galician",
    "eu": "Basque", "gu": "Gujarati", "bs": "Bosnian", "af": "Afrikaans",
    "sw": "Swahili", "tl": "Tagalog",
}
