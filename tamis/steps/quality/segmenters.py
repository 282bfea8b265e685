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
  dictionary ships in the wheel), given that dictionary as a sorted word list
  (:class:`PrefixTable`) instead of the trie it would build (same words, a fifth of the load).

Lao, Khmer, Myanmar and Tibetan have no segmenter among tamis's dependencies: their words are
grapheme clusters (a letter with the marks that follow it). Each library is imported on first
use, once per process, and nothing is downloaded at run time.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable
from functools import cache

from tamis.dedup.shingles import UNSPACED_CHARS
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
    from tamis.steps.quality import jieba_dictionary

    # rjieba's own cut, its dictionary given only the words each text holds (the same cuts,
    # without building the 349,045-word dictionary at rjieba's import), else rjieba.cut.
    rjieba_cut = jieba_dictionary.load() or _require("rjieba", "rjieba").cut

    def cut(text: str) -> list[str]:
        words: list[str] = []
        for token in rjieba_cut(text):
            if (token.isalnum() and token.isascii()) or _HAN.search(token):
                words.append(token)
            else:
                words.extend(_JIEBA_NON_HAN.findall(token))
        return words

    return cut


# SudachiPy refuses an input of more than 49,149 UTF-8 bytes, and its lattice grows faster than
# linearly on a long run it has no word for (",,12" * 10,000 took 0.42 s, * 40,000 characters
# 7.6 s): every segmenter reads pieces of at most MAX_PIECE characters (at most 8 kB), cut after
# a line end, a space or a full stop where the piece's second half has one (a real sentence is
# never cut; a run without any boundary is cut blindly: it holds no word that long anyway).
MAX_PIECE = 2000
_PIECE_BOUNDARIES = ("\n", "。", " ", "、", "\u3000", "\xa0", ".")


def _bounded_pieces(text: str, limit: int) -> list[str]:
    pieces, start = [], 0
    while len(text) - start > limit:
        end = start + limit
        cut = max(text.rfind(mark, start + limit // 2, end) for mark in _PIECE_BOUNDARIES)
        end = cut + 1 if cut >= 0 else end
        pieces.append(text[start:end])
        start = end
    pieces.append(text[start:])
    return pieces


@cache
def _sudachi() -> Callable[[str], list[str]]:
    _require("sudachipy", "sudachipy")
    _require("sudachidict_core", "sudachidict-core")
    from sudachipy import Dictionary, SplitMode

    dictionary = Dictionary(dict="core")
    # SudachiPy 0.7 renamed create() to tokenizer().
    make = getattr(dictionary, "tokenizer", None) or dictionary.create
    tokenizer = make(mode=SplitMode.A)

    def cut(text: str) -> list[str]:  # segment() gives it pieces of at most MAX_PIECE characters
        return [m.surface() for m in tokenizer.tokenize(text)]

    return cut


# Kiwi's built-in multi-word dictionary (12 MB of WikiData names: "바티칸 시티", "보스니아
# 헤르체고비나 공화국" read as one token) is more than half of its load: 4.0 -> 1.7 CPU-s for
# construction and the first call, paid by every process that meets one Korean page. Without it,
# on this machine's real Korean text (bench/bench_segmenters.py: man pages, translated messages,
# the 2 Korean AEB articles), 48 of 483,737 words differ, all such names cut at their spaces, and
# no verdict of the default recipe changes. FineWeb-2 (datatrove's KiwiTokenizer) loads it, with the "sbg" model
# that kiwipiepy_model no longer ships, so its Korean cuts are not reproducible either way.
# Measured and not taken (bench/bench_segmenters.py, loads in round-robin rounds, CPU-s of
# construction + first call): without the typo dictionary (typo.dict: ~20 misspellings and chat
# endings, 슴다 for 습니다) 2.19 against 2.21 (10 rounds: no gain; measured one configuration
# after another, the machine's drifting load had read as 0.9 s) while 2 of 483,772 words differ
# (함다 -> 함 | 다); num_workers=0 (one thread) 2.14 against 2.05; without the default dictionary
# ~0.5 s less but 3,579 words of 314 of the 393 documents differ (자료형 -> 자료 | 형). The model
# type: kiwipiepy_model 0.24 ships only the CoNg model ("none" picks it). Most of the rest is
# Kiwi's lazy build at the first call (~1 s: the model's weights requantised, the kernel zeroing
# the pages it allocates), which no option skips.
KIWI_OPTIONS: dict[str, object] = {"load_multi_dict": False}


@cache
def _kiwi() -> Callable[[str], list[str]]:
    kiwipiepy = _require("kiwipiepy", "kiwipiepy")
    kiwi = kiwipiepy.Kiwi(**KIWI_OPTIONS)

    def tokens(piece: str) -> list[str]:
        piece = _KIWI_NUMBERS.sub("", piece)
        return [piece[token.start : token.end] for token in kiwi.tokenize(piece)] if piece.strip() else []

    def cut(text: str) -> list[str]:  # line by line: Kiwi's cost grows with the length of what it reads
        return [word for line in text.split("\n") for word in tokens(line)]

    return cut


class PrefixTable:
    """PyThaiNLP's dictionary ``Trie`` as newmm reads it, built without a node per character.

    newmm asks its dictionary one thing, ``prefixes(text, start)``: the words that begin at
    ``start``, shortest first. ``Trie(thai_words())`` builds ~62,000 words' nodes one character
    at a time in Python (~0.6 CPU-s, most of newmm's load); this is the same words sorted (~0.06 s).
    The words that begin with a piece of text are one run of the sorted list, starting where the
    piece would be inserted, so each longer piece is one bisection from the last, and the walk
    stops where the trie's would: where no word begins with the piece. Same words, same order:
    the tests compare it with ``Trie.prefixes``."""

    __slots__ = ("_words",)

    def __init__(self, words: Iterable[str]) -> None:
        # Trie.add strips each word; its root (the empty word) is never returned.
        self._words = sorted({word.strip() for word in words} - {""})

    def __len__(self) -> int:  # newmm reads an empty dictionary as "use the default one"
        return len(self._words)

    def prefixes(self, text: str, start: int = 0) -> list[str]:
        found: list[str] = []
        words, count, low = self._words, len(self._words), 0
        for end in range(start + 1, len(text) + 1):
            piece = text[start:end]
            low = bisect_left(words, piece, low)  # a longer piece sorts after the shorter one
            if low == count or not words[low].startswith(piece):
                break
            if len(words[low]) == len(piece):
                found.append(piece)
        return found


@cache
def _newmm() -> Callable[[str], list[str]]:
    _require("pythainlp", "pythainlp")
    from pythainlp.corpus.common import thai_words
    from pythainlp.tokenize import word_tokenize

    dictionary = PrefixTable(thai_words())  # the words word_tokenize's default trie holds

    def cut(text: str) -> list[str]:
        return word_tokenize(text, custom_dict=dictionary, engine="newmm-safe", keep_whitespace=False)

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


# The segmenters' time grows faster than the length of some runs without spaces (SudachiPy on
# "-12-12...", Kiwi on "-----" or on Hangul without spaces: 4x the run, 8-20x the time). A run
# longer than any word that holds no character of an unspaced script (Korean: any run that
# long; Korean puts spaces between phrases) is cut by the rule-based tokenizer instead.
MAX_RUN = 64


@cache
def _long_runs(name: str) -> re.Pattern[str]:
    """Compiled at the first segmented text, not at the import every run pays (the unspaced
    scripts' ranges cost re ~3 ms to expand)."""
    if name == "kiwi":
        return re.compile(rf"\S{{{MAX_RUN + 1},}}")
    return re.compile(rf"[^\s{UNSPACED_CHARS}]{{{MAX_RUN + 1},}}")


def _cut(cut: Callable[[str], list[str]], text: str) -> list[str]:
    return [word for piece in _bounded_pieces(text, MAX_PIECE) for word in map(str.strip, cut(piece)) if word]


def segment(text: str, name: str, fallback: Callable[[str], list[str]]) -> list[str]:
    """The words of ``text`` by segmenter ``name``: whitespace dropped, as the references do.
    ``fallback`` (the rule-based tokenizer) cuts the long runs a segmenter must not be given."""
    cut = segmenter(name)
    words: list[str] = []
    start = 0
    for run in _long_runs("kiwi" if name == "kiwi" else "other").finditer(text):
        words += _cut(cut, text[start : run.start()])
        words += fallback(run.group())
        start = run.end()
    words += _cut(cut, text[start:])
    return words


def load_all() -> None:
    """Import every segmenter now (the bench measures segmentation without start-up)."""
    for load in _SEGMENTERS.values():
        load()
