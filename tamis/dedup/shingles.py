"""Shingle units by script: words where a script puts spaces between words, characters where it does not.

MinHash shingles are ``ngram`` consecutive units. In text written with spaces a unit is a word
(``\\w+``); Chinese, Japanese, Thai, Lao, Khmer, Myanmar and Tibetan put no spaces between
words, so a whole sentence would be one "word" and a 5-word shingle would span five sentences:
near copies of such pages share almost no shingle. There every character is a unit, so the
shingles are character 5-grams (a Latin word inside a Chinese page stays one unit).

The unit is chosen per character by its script, not per document by its detected language: two
copies of a page always get the same units whatever language ID said of either, so signatures
stay comparable inside a language and across languages (the hash of a shingle does not depend
on the document). Korean puts spaces between phrases and keeps word shingles.

The compiled tokenizer cuts words at non-word characters, so giving each such character a
space of its own makes it a unit there (the C code is unchanged; a document without these
scripts is not copied).
"""

from __future__ import annotations

import re

# Hiragana, Katakana, CJK ideographs (with extensions and compatibility forms), Thai, Lao,
# Tibetan, Myanmar, Khmer, Katakana phonetic extensions, half-width Katakana.
UNSPACED_CHARS = (
    "\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
_UNSPACED = re.compile(f"[{UNSPACED_CHARS}]")


def has_unspaced(text: str) -> bool:
    return not text.isascii() and _UNSPACED.search(text) is not None


def shingle_text(text: str) -> str:
    """``text`` with a space around every character of an unspaced script (see the module docstring)."""
    if not has_unspaced(text):
        return text
    return _UNSPACED.sub(r" \g<0> ", text)


def shingle_units_reference(text: str) -> list[str]:
    """The units, by definition: runs of word characters, each unspaced-script character alone."""
    units: list[str] = []
    current: list[str] = []
    for char in text:
        if _UNSPACED.match(char):
            if current:
                units.append("".join(current))
                current = []
            if char.isalnum():
                units.append(char)
        elif char.isalnum() or char == "_":
            current.append(char)
        elif current:
            units.append("".join(current))
            current = []
    if current:
        units.append("".join(current))
    return units
