"""Vietnamese words are pyvi's (what FineWeb-2 counts), without pyvi.

The golden sample (tests/vietnamese_golden.json.gz) holds pyvi 0.1.1's ``ViTokenizer.tokenize``
and datatrove's ``word_tokenize`` for ``vie_Latn`` (spaCy's Vietnamese tokenizer + pyvi) of real
Vietnamese text and of generated text, taken from pyvi and datatrove themselves by
``bench/derive_vietnamese_model.py --golden``. Where pyvi is installed, more generated text is
compared with it directly.
"""

from __future__ import annotations

import gzip
import json
import random
import time
from pathlib import Path

import pytest

from tamis.steps.quality import vietnamese
from tamis.steps.quality.vietnamese import pyvi_tokenize, vietnamese_words
from tamis.steps.quality.words import split_words

GOLDEN = json.loads(gzip.decompress(Path(__file__).with_name("vietnamese_golden.json.gz").read_bytes()))["cases"]


@pytest.mark.parametrize("case", GOLDEN, ids=lambda case: repr(case["text"][:24]))
def test_same_as_pyvi_and_datatrove(case: dict) -> None:
    assert pyvi_tokenize(case["text"]) == case["pyvi"]
    assert vietnamese_words(case["text"]) == case["datatrove"]


def test_the_golden_sample_joins_words() -> None:
    """The sample is not trivial: pyvi joins syllables in it, and real pages are in it."""
    joined = sum(word.count(" ") for case in GOLDEN for word in case["datatrove"])
    assert joined > 500
    assert sum(len(case["text"]) >= 1000 for case in GOLDEN) >= 10


def test_split_words_joins_vietnamese_syllables() -> None:
    words = split_words("Tôi là học sinh, tôi đi học ở Hà Nội.", "vi")
    assert "học sinh" in words and "Hà Nội" in words
    assert words[-1] == "." and "," in words
    assert split_words("", "vi") == [] and split_words(" \n\t ", "vi") == []


def test_long_chunks_cut_as_the_regular_expression_does() -> None:
    """The linear path for long chunks gives pyvi's regular expression's syllables."""
    rng = random.Random(7)
    alphabet = "aA1.@-_éĐ:/,+ThS>="
    for _ in range(3000):
        chunk = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120)))
        assert vietnamese._long_chunk_syllables(chunk) == vietnamese._SYLLABLE.findall(chunk), chunk


@pytest.mark.parametrize("unit", ["a.", "-", "a.b@", "A", "1.", "ab:", "a" * 50 + "@" + "b.c" * 20])
def test_hostile_chunks_take_linear_time(unit: str) -> None:
    # pyvi's own expression spends n²/2 steps on the first ones (its e-mail alternative scans ahead).
    text = unit * (60_000 // len(unit))
    started = time.process_time()
    words = vietnamese_words(text)
    assert time.process_time() - started < 5
    assert "".join(w.replace(" ", "") for w in words) == text


def test_same_as_pyvi_on_generated_text() -> None:
    pytest.importorskip("pyvi")
    pytest.importorskip("sklearn_crfsuite")
    from pyvi.ViTokenizer import ViTokenizer

    syllables = sorted({s for case in GOLDEN[:12] for s in case["text"].split()})
    rng = random.Random(2026)
    pieces = ["Tp.", "ĐH.", "x@y.vn", "1.000", "->", "...", "\n", "  ", "A", "'", "Ω"]
    for _ in range(500):
        parts = [rng.choice(syllables) if rng.random() < 0.7 else rng.choice(pieces) for _ in range(rng.randint(1, 80))]
        text = " ".join(p.title() if rng.random() < 0.1 else p for p in parts)
        assert pyvi_tokenize(text) == ViTokenizer.tokenize(text), text
