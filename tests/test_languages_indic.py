"""Hindi, Bengali, Tamil, Urdu ... words are Indic NLP's trivial tokenizer's (what FineWeb-2 counts with).

The reference below is indic-nlp-library's ``trivial_tokenize`` (MIT), copied as it is, with
datatrove's stripping of the tokens; tamis's version glues numbers on the token list instead
of with the original's backtracking regular expression, and must give the same words.
"""

from __future__ import annotations

import random
import re
import string
import time

from tamis.steps.quality.indic_tokenizer import trivial_tokenize
from tamis.steps.quality.words import split_words

_INDIC = re.compile(r"([" + string.punctuation + r"\u0964\u0965\uAAF1\uAAF0\uABEB\uABEC\uABED\uABEE\uABEF\u1C7E\u1C7F" + r"])")
_URDU = re.compile(r"([" + string.punctuation + r"\u0609\u060A\u060C\u061E\u066A\u066B\u066C\u066D\u06D4" + r"])")
_NUM_SEQ = re.compile(r"([0-9]+ [,.:/] )+[0-9]+")


def reference(text: str, lang: str) -> list[str]:
    if lang == "ur":
        tokens = re.sub(r"[ ]+", " ", _URDU.sub(r" \1 ", text.replace("\t", " "))).strip(" ").split(" ")
    else:
        s = re.sub(r"[ ]+", " ", _INDIC.sub(r" \1 ", text.replace("\t", " "))).strip(" ")
        new_s, prev = "", 0
        for m in _NUM_SEQ.finditer(s):
            start, end = m.start(), m.end()
            if start > prev:
                new_s = new_s + s[prev:start]
                new_s = new_s + s[start:end].replace(" ", "")
                prev = end
        tokens = (new_s + s[prev:]).split(" ")
    return [t.strip() for t in tokens if t.strip()]


def test_same_words_as_indic_nlp_on_random_text() -> None:
    rng = random.Random(16)
    alphabet = "12 ,.:/a\n\tक।\\-े"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        for lang in ("hi", "ur"):
            assert trivial_tokenize(text, lang) == reference(text, lang), (text, lang)


def test_hindi_words() -> None:
    text = "पिछले साल, हमने 3 . 14 और 1,000 रुपये दिए। क्या C:\\temp\\x ठीक है?"
    assert split_words(text, "hi") == reference(text, "hi")
    assert "पिछले" in split_words(text, "hi")  # combining marks stay in their word
    assert "।" in split_words(text, "hi")


def test_long_digit_runs_are_linear() -> None:
    text = "1 , " * 50_000 + "9" * 200_000 + " x"
    started = time.process_time()
    words = trivial_tokenize(text, "hi")
    assert time.process_time() - started < 5
    assert "".join(words) == text.replace(" ", "")
