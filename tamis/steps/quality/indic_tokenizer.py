"""Indic NLP's trivial tokenizer, as FineWeb-2 counts words of Hindi, Bengali, Tamil, Urdu ...

datatrove's ``IndicNLPTokenizer`` (FineWeb-2's word tokenizer for 61 subsets written in Brahmi-
derived scripts and for Urdu, Sindhi, Kashmiri, Pashto ...) calls ``indic-nlp-library``'s
``trivial_tokenize`` and strips the tokens. That tokenizer (MIT) puts spaces around every ASCII
punctuation character and the script's sentence marks (the danda ``।``, ``॥`` ...; Arabic-script
marks for Urdu), collapses runs of spaces, glues number sequences back together (``3 . 14`` is
``3.14`` again, except at the very start of the text, which its loop skips) and splits on the
space character only: a newline inside a run of letters stays inside one token, as in the
original. Combining marks stay inside words (``पिछले`` is one word).

This is the same algorithm without its one quadratic step (the number-sequence regular
expression backtracks over long digit runs): numbers are glued back on the token list.
"""

from __future__ import annotations

import re
import string

_INDIC_MARKS = "\u0964\u0965\uaaf1\uaaf0\uabeb\uabec\uabed\uabee\uabef\u1c7e\u1c7f"
_URDU_MARKS = "\u0609\u060a\u060c\u061e\u066a\u066b\u066c\u066d\u06d4"
# Built exactly as the original builds them: string.punctuation pasted into a character class, where
# its "\\]" is an escaped "]" (so the backslash itself is not split off) and ",-." a range.
_INDIC_SPLIT = re.compile("([" + string.punctuation + _INDIC_MARKS + "])")
_URDU_SPLIT = re.compile("([" + string.punctuation + _URDU_MARKS + "])")
_SPACES = re.compile(" +")
_NUMBER_GLUE = frozenset(",.:/")
_DIGITS = frozenset("0123456789")


def _glue_numbers(tokens: list[str]) -> list[str]:
    """Indic NLP's ``([0-9]+ [,.:/] )+[0-9]+`` with its spaces removed, on tokens.

    A match joins a token ending in a digit, a separator and a token starting with one; it goes
    on while the token after a separator is all digits. The next match may start inside the
    token a match ended in (``2 . 1a12 , 1`` is ``2.1a12,1``). The original's loop leaves a
    match that starts at the text's first character as it was."""
    n = len(tokens)

    def joins(i: int) -> bool:
        return i + 2 < n and tokens[i][-1:] in _DIGITS and tokens[i + 1] in _NUMBER_GLUE and tokens[i + 2][:1] in _DIGITS

    out: list[str] = []
    i = 0
    while i < n:
        if not joins(i):
            out.append(tokens[i])
            i += 1
        elif i == 0 and _DIGITS.issuperset(tokens[0]):  # a match at the text's first character: left split
            j = 2
            while _DIGITS.issuperset(tokens[j]) and joins(j):
                j += 2
            out.extend(tokens[:j])
            i = j  # the match ended after the leading digits of tokens[j]: its rest may start another
        else:
            parts = [tokens[i]]
            j = i
            while joins(j):
                parts += (tokens[j + 1], tokens[j + 2])
                j += 2
            out.append("".join(parts))
            i = j + 1
    return out


def trivial_tokenize(text: str, language: str = "hi") -> list[str]:
    """The words of ``text`` as datatrove's ``IndicNLPTokenizer(language).word_tokenize`` gives them."""
    urdu = language == "ur"
    spaced = (_URDU_SPLIT if urdu else _INDIC_SPLIT).sub(r" \1 ", text.replace("\t", " "))
    tokens = _SPACES.sub(" ", spaced).strip(" ").split(" ")
    if not urdu:
        tokens = _glue_numbers(tokens)
    return [word for word in (token.strip() for token in tokens) if word]
