"""The segmenters' cheaper loads keep the libraries' words (bench/bench_segmenters.py measures the loads)."""

from __future__ import annotations

import random

import pytest

from tamis.steps.quality.segmenters import PrefixTable, segmenter

pythainlp = pytest.importorskip("pythainlp")


def test_prefix_table_lists_the_words_the_trie_lists_at_every_position() -> None:
    from pythainlp.corpus.common import thai_words
    from pythainlp.util import Trie

    rng = random.Random(7)
    words = sorted(thai_words())
    sample = [*rng.sample(words, 4000), " ก", "กข ", "ข", "", "  ", "ab", "abc", "a"]  # stripped, empty, nested
    trie, table = Trie(sample), PrefixTable(sample)
    assert table and not PrefixTable([])  # newmm reads an empty dictionary as "use the default one"
    alphabet = [*sorted({ch for word in sample for ch in word}), " ", "x", "1"]
    texts = ["".join(rng.choice(sample) for _ in range(6)) for _ in range(200)]  # words back to back
    texts += ["".join(rng.choice(alphabet) for _ in range(40)) for _ in range(200)]  # anything
    texts += ["", "abcab", "ab" * 20]
    for text in texts:
        for start in range(len(text) + 1):
            assert table.prefixes(text, start) == trie.prefixes(text, start), (text, start)


def test_newmm_cuts_as_pythainlps_default_dictionary_does() -> None:
    from pythainlp.tokenize import word_tokenize

    texts = ["ภาษาไทยเขียนติดกันไม่มีช่องว่าง", "ชินโซ อาเบะ เกิด 21 กันยายน", "ผมชอบกินข้าวผัดกะเพราไก่ไข่ดาว 1,234.5 บาท",
             "การประมวลผลภาษาธรรมชาติเป็นสาขาหนึ่งของปัญญาประดิษฐ์", "abcภาษาxyz"]
    cut = segmenter("newmm")
    for text in texts:
        assert cut(text) == word_tokenize(text, engine="newmm-safe", keep_whitespace=False)
