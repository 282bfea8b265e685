"""Word segmenters for scripts written without spaces between words (and Korean).

Chosen by measuring the field's libraries on this machine (``bench/bench_languages.py
--segmenters``, Debian man pages, docs/s per core):

- Chinese: ``rjieba`` (jieba-rs, the Rust port of jieba: jieba's dictionary and algorithm,
  the segmenter FineWeb-2 runs for Chinese through spaCy, about 50x faster than jieba in Python);
- Japanese: ``fugashi`` (MeCab) with ``unidic-lite`` (UniDic short units; 3x SudachiPy, which
  spaCy's Japanese and so FineWeb-2 runs; Janome, in pure Python, is slower still);
- Korean: ``kiwipiepy`` (Kiwi's morphemes, what FineWeb-2 counts as Korean words; its model
  ships in the ``kiwipiepy_model`` wheel);
- Thai: PyThaiNLP's ``newmm-safe`` (dictionary maximal matching, the one FineWeb-2 runs; its
  dictionary ships in the wheel).

Lao, Khmer, Myanmar and Tibetan have no segmenter among tamis's dependencies: their words are
grapheme clusters (a letter with the marks that follow it). Each library is imported on first
use, once per process, and nothing is downloaded at run time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

from tamis.errors import ConfigError

# Kiwi is very slow on long runs of digits and commas (datatrove strips them the same way).
_KIWI_NUMBERS = re.compile(r"[0-9,]{20,}")


def _require(module: str, package: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        msg = f"word segmentation needs the {package} package (pip install {package})"
        raise ConfigError(msg) from exc


@cache
def _jieba() -> Callable[[str], list[str]]:
    rjieba = _require("rjieba", "rjieba")
    return rjieba.cut


@cache
def _mecab() -> Callable[[str], list[str]]:
    fugashi = _require("fugashi", "fugashi")
    _require("unidic_lite", "unidic-lite")
    tagger = fugashi.Tagger()

    def cut(text: str) -> list[str]:
        return [word.surface for word in tagger(text)]

    return cut


@cache
def _kiwi() -> Callable[[str], list[str]]:
    kiwipiepy = _require("kiwipiepy", "kiwipiepy")
    kiwi = kiwipiepy.Kiwi()

    def cut(text: str) -> list[str]:
        text = _KIWI_NUMBERS.sub("", text)
        return [text[token.start : token.end] for token in kiwi.tokenize(text)]

    return cut


@cache
def _newmm() -> Callable[[str], list[str]]:
    _require("pythainlp", "pythainlp")
    from pythainlp.tokenize import word_tokenize

    def cut(text: str) -> list[str]:
        return word_tokenize(text, engine="newmm-safe", keep_whitespace=False)

    return cut


def grapheme_clusters(word: str) -> list[str]:
    """``word`` cut before every character that is not a combining mark (linear)."""
    clusters: list[str] = []
    start = 0
    for i in range(1, len(word)):
        if unicodedata.category(word[i])[0] != "M":
            clusters.append(word[start:i])
            start = i
    if word:
        clusters.append(word[start:])
    return clusters


_SEGMENTERS: dict[str, Callable[[], Callable[[str], list[str]]]] = {
    "jieba": _jieba,
    "mecab": _mecab,
    "kiwi": _kiwi,
    "newmm": _newmm,
}


def segmenter(name: str) -> Callable[[str], list[str]]:
    """The segmenting function ``name`` (``jieba``, ``mecab``, ``kiwi``, ``newmm``), loaded once."""
    return _SEGMENTERS[name]()


def segment(text: str, name: str) -> list[str]:
    """The words of ``text`` by segmenter ``name``: whitespace dropped, as the references do."""
    words = []
    for word in segmenter(name)(text):
        word = word.strip()
        if word:
            words.append(word)
    return words


def load_all() -> None:
    """Import every segmenter now (the bench measures segmentation without start-up)."""
    for load in _SEGMENTERS.values():
        load()
