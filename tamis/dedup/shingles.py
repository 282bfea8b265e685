"""Units by script: shingle units (words where a script puts spaces between words, characters
where it does not) and the length of a line key (what "a short line" is in each script).

MinHash shingles are ``ngram`` consecutive units. In text written with spaces a unit is a word
(``\\w+``); Chinese, Japanese, Thai, Lao, Khmer, Myanmar and Tibetan put no spaces between
words, so a whole sentence would be one "word" and a 5-word shingle would span five sentences:
near copies of such pages share almost no shingle. There every character is a unit, so the
shingles are character 5-grams.

The unit is chosen per document from its text, not from its detected language, so two copies of
a page get the same units whatever language ID said of either:
- a document written mostly in such a script (at least ``UNSPACED_DOCUMENT_SHARE`` of its word
  characters are) is shingled by characters throughout, its Latin words included: a Chinese
  man page is half option names, and with word units there a one-character typo every hundred
  characters breaks a third of the shingles of its Latin half (a near copy fell under the
  threshold); with character units it breaks about 5 % everywhere;
- any other document keeps word units, and only the characters of an unspaced script in it
  (a Chinese name in an English page) are units of their own.
Inside a language every document makes the same choice, so signatures stay comparable; copies
straddling the share would need an edit of a tenth of their text to differ. Korean puts spaces
between phrases and keeps word shingles.

The compiled tokenizer cuts words at non-word characters, so giving each such character a
space of its own makes it a unit there (the C code is unchanged; a document without these
scripts is not copied).
"""

from __future__ import annotations

import re
from functools import cache

from tamis.text import normalized_utf8

# Hiragana, Katakana, CJK ideographs (with extensions and compatibility forms), Thai, Lao,
# Tibetan, Myanmar, Khmer, Katakana phonetic extensions, half-width Katakana.
UNSPACED_CHARS = (
    "\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)


# The patterns over these scripts' wide ranges are compiled at first use (~3 ms each: re turns
# every code point of a range into its bitmaps), not when the module is imported by every run.
@cache
def _unspaced() -> re.Pattern[str]:
    return re.compile(f"[{UNSPACED_CHARS}]")


# Chinese and Japanese characters (ideographs, kana): one holds about as much text as three
# characters of a spaced script (a 9-character Chinese line holds as many words as a 30-character
# English one: FineWeb's short line, as languages.py scales it).
HAN_KANA_WEIGHT = 3


@cache
def _han_kana() -> re.Pattern[str]:
    return re.compile("[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f]")


def line_length(key: str) -> int:
    """The length of a line key measured in characters of a spaced script: each Chinese or
    Japanese character counts ``HAN_KANA_WEIGHT`` times, so "lines shorter than N characters are
    never removed" (``repetition``'s ``min_chars``, ``exact_dedup``'s ``min_line_chars``) spares
    short lines, not whole Chinese sentences. Thai, Lao, Khmer, Myanmar and Tibetan words are
    about as long as Latin ones in characters, and count one per character."""
    if key.isascii():
        return len(key)
    return len(key) + (HAN_KANA_WEIGHT - 1) * len(_han_kana().findall(key))


def utf8_line_length(key: bytes) -> int:
    """:func:`line_length` of a UTF-8 encoded key."""
    return len(key) if key.isascii() else line_length(key.decode("utf-8"))


# What a space between two Chinese or Japanese characters separates nothing: ideographs, kana and
# their full-width punctuation (、。「」，！？ ...). U+3000 is whitespace, folded to " " before.
_CJK_LINE_CHARS = "\u3001-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff65\uff66-\uff9f\U00020000-\U0003134f"


@cache
def _space_in_cjk() -> re.Pattern[str]:
    return re.compile(f"(?<=[{_CJK_LINE_CHARS}]) (?=[{_CJK_LINE_CHARS}])")


def line_key(line: str) -> bytes:
    """The comparison key of a line for exact line dedup: :func:`tamis.text.normalized_utf8`
    (NFC, case folded, whitespace runs as one space), without the spaces between two Chinese or
    Japanese characters: they write no spaces between words, so "你好 世界" with a stray space is
    the line "你好世界". Spaces next to a Latin word or between Korean or Thai words stay (they
    separate words there)."""
    key = normalized_utf8(line)
    if b" " not in key or key.isascii():
        return key
    text = key.decode("utf-8", "surrogatepass")
    spaced = _space_in_cjk().sub("", text)
    return key if len(spaced) == len(text) else spaced.encode("utf-8", "surrogatepass")


def has_unspaced(text: str) -> bool:
    return not text.isascii() and _unspaced().search(text) is not None


# Share of a document's word characters in an unspaced script from which all of it is shingled by characters.
UNSPACED_DOCUMENT_SHARE = 0.1
_WORD_CHAR = re.compile(r"\w")
# Spacing by split-and-join: split with a captured group alternates (possibly empty) runs of
# other characters with single matched characters, so joining with " " puts one space on each
# side of every match -- the text ``sub(r" \g<0> ")`` gives, without a template expanded in
# Python per match (that made the minhash collect of a Chinese page ~5x slower).
_WORD_CHAR_SPLIT = re.compile(r"(\w)")


@cache
def _unspaced_split() -> re.Pattern[str]:
    return re.compile(f"([{UNSPACED_CHARS}])")


def mostly_unspaced(text: str) -> bool:
    """Whether ``text`` is shingled by characters throughout (see the module docstring)."""
    unspaced, word = count_unspaced_and_word_chars(text)
    return unspaced > 0 and unspaced >= UNSPACED_DOCUMENT_SHARE * word


def count_unspaced_and_word_chars_reference(text: str) -> tuple[int, int]:
    """Characters of an unspaced script and word characters (``\\w``), by definition."""
    return len(_unspaced().findall(text)), len(_WORD_CHAR.findall(text))


_CODE_POINT_TABLES: list = []  # [unspaced, word]: one bool per code point, built at first use


def count_unspaced_and_word_chars(text: str) -> tuple[int, int]:
    """:func:`count_unspaced_and_word_chars_reference` by table lookups over the code points
    (numpy): two regex scans of a long Chinese page cost more than its whole MinHash sketch."""
    import numpy as np

    if not _CODE_POINT_TABLES:
        from tamis.dedup.minhash import unspaced_bitmap

        unspaced = np.unpackbits(np.frombuffer(unspaced_bitmap(), dtype=np.uint8), bitorder="little").astype(bool)
        # \w of re on str is str.isalnum() or "_" (CPython's SRE_UNI_IS_WORD)
        word = np.fromiter((chr(c).isalnum() for c in range(0x110000)), dtype=bool, count=0x110000)
        word[ord("_")] = True
        _CODE_POINT_TABLES.extend([unspaced[:0x110000], word])
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    unspaced_table, word_table = _CODE_POINT_TABLES
    return int(np.count_nonzero(unspaced_table[points])), int(np.count_nonzero(word_table[points]))


def spread_mostly_unspaced(text: str) -> str:
    """``text`` with a space around every word character when it is written mostly in an unspaced
    script, else ``text``: what the compiled sketch (which makes each unspaced-script character a
    unit itself) needs to shingle such a document by characters throughout."""
    if has_unspaced(text) and mostly_unspaced(text):
        return " ".join(_WORD_CHAR_SPLIT.split(text))
    return text


def shingle_text(text: str) -> str:
    """``text`` with a space around every character of an unspaced script (what the compiled
    sketch's unit mode 2 does itself; :func:`spread_mostly_unspaced` comes before it)."""
    if not has_unspaced(text):
        return text
    return " ".join(_unspaced_split().split(text))


def shingle_units_reference(text: str) -> list[str]:
    """The units, by definition: runs of word characters, each unspaced-script character alone;
    every word character alone in a document written mostly in an unspaced script."""
    units: list[str] = []
    current: list[str] = []
    every_char = has_unspaced(text) and mostly_unspaced(text)
    for char in text:
        if _unspaced().match(char) or (every_char and (char.isalnum() or char == "_")):
            if current:
                units.append("".join(current))
                current = []
            if char.isalnum() or char == "_":
                units.append(char)
        elif char.isalnum() or char == "_":
            current.append(char)
        elif current:
            units.append("".join(current))
            current = []
    if current:
        units.append("".join(current))
    return units
