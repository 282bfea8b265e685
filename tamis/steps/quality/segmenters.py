"""Word segmenters for scripts written without spaces between words (and Korean).

Chosen by measuring the field's libraries on this machine (``bench/bench_languages.py
--segmenters``, Debian man pages, docs/s per core):

- Chinese: ``rjieba`` (jieba-rs, the Rust port of jieba: jieba's dictionary and algorithm,
  the segmenter FineWeb-2 runs for Chinese through spaCy, about 15x faster than jieba in Python).
  jieba-rs keeps runs like ``ignore-garbage`` or ``www.gnu.org`` whole where jieba cuts them
  (letter-digit runs, symbol runs, every other character alone); tamis cuts them as jieba does;
- Japanese: ``sudachipy`` with ``sudachidict-core``, split mode A (what spaCy's Japanese and so
  FineWeb-2 runs: the same words on the bench's pages). MeCab through ``fugashi`` with
  ``unidic-lite`` was 1.4-3x faster but cuts loanwords apart (アセン|ブラ for アセンブラ) and
  moved the alpha-word ratio of 1 page in 20 across Gopher's threshold; Janome, in pure
  Python, is slower than both;
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


# jieba (in Python) cuts what is not Chinese into ASCII letter-digit runs (a decimal and a percent
# sign kept), runs of the symbols it reads inside words (+ # & . _ % -) and single characters;
# jieba-rs keeps such a token whole.
_JIEBA_NON_HAN = re.compile(r"[a-zA-Z0-9]+(?:\.\d+)?%?|[+#&._%\-]+|\S")
_HAN = re.compile(r"[\u4e00-\u9fd5]")


@cache
def _jieba() -> Callable[[str], list[str]]:
    rjieba = _require("rjieba", "rjieba")

    def cut(text: str) -> list[str]:
        words: list[str] = []
        for token in rjieba.cut(text):
            if (token.isalnum() and token.isascii()) or _HAN.search(token):
                words.append(token)
            else:
                words.extend(_JIEBA_NON_HAN.findall(token))
        return words

    return cut


# SudachiPy refuses an input of more than 49,149 UTF-8 bytes: longer texts go in pieces.
_SUDACHI_CHUNK_BYTES = 40_000


def _byte_chunks(text: str, limit: int) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` UTF-8 bytes (4 bytes per character at most)."""
    chunks, start, step = [], 0, limit // 4
    while start < len(text):
        end = start + step
        while end < len(text) and len(text[start : end + step].encode("utf-8")) <= limit:
            end += step
        chunks.append(text[start:end])
        start = end
    return chunks


@cache
def _sudachi() -> Callable[[str], list[str]]:
    _require("sudachipy", "sudachipy")
    _require("sudachidict_core", "sudachidict-core")
    from sudachipy import Dictionary, SplitMode

    dictionary = Dictionary(dict="core")
    # SudachiPy 0.7 renamed create() to tokenizer().
    make = getattr(dictionary, "tokenizer", None) or dictionary.create
    tokenizer = make(mode=SplitMode.A)

    def cut(text: str) -> list[str]:
        if len(text) * 4 <= _SUDACHI_CHUNK_BYTES:
            return [m.surface() for m in tokenizer.tokenize(text)]
        return [m.surface() for chunk in _byte_chunks(text, _SUDACHI_CHUNK_BYTES) for m in tokenizer.tokenize(chunk)]

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
    "sudachi": _sudachi,
    "kiwi": _kiwi,
    "newmm": _newmm,
}


def segmenter(name: str) -> Callable[[str], list[str]]:
    """The segmenting function ``name`` (``jieba``, ``sudachi``, ``kiwi``, ``newmm``), loaded once."""
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
