"""Vietnamese words as pyvi joins syllables into them, without scikit-learn.

Vietnamese is written one syllable at a time, with a space after each (``học sinh`` is one
word, "pupil", of two syllables). FineWeb-2 counts Vietnamese words with datatrove's spaCy
tokenizer for ``vi``, which calls pyvi's CRF word segmenter; so a Gopher word count, average
word length or alphabetic-word share of a Vietnamese page is one of pyvi's words, not of its
syllables.

This module runs pyvi's model itself (pyvi 0.1.1, Viet-Trung Tran, MIT licence;
``bench/derive_vietnamese_model.py`` copies its CRF weights and syllable n-gram lists into
``vietnamese_model.json.gz``, 220 kB), so tamis needs neither pyvi nor the scikit-learn, SciPy
and sklearn-crfsuite it pulls in (~190 MB):

- **Syllables**: pyvi's regular expression (abbreviations ``[A-ZĐ]+.`` ``Tp.`` ``Mr.`` ...,
  ``==>`` ``->`` ``...`` ``>>``, URLs, e-mail addresses, numbers with separators, one symbol,
  a run of word characters), applied per whitespace-separated chunk: no alternative reaches
  across whitespace, so that is the same as applying it to the whole text. Its e-mail
  alternative scans ahead for an ``@`` at every position it is tried, n²/2 on a long chunk of
  dots or letters: chunks longer than ``_MAX_CHUNK`` characters use the same alternatives
  without that scan (no ``@``: the alternative cannot match; with one: where it matches is
  computed once per ``@``), so the cost is linear in the text.
- **Features**: pyvi's ``word2features`` (the syllable lower-cased, ``isupper``, ``istitle``,
  ``isdigit``; the same of the syllables before and after; whether the bigrams and trigrams
  around it are in pyvi's list), read as CRFsuite reads a feature dict (a string value is the
  attribute ``name:value`` with weight 1, a boolean the attribute ``name`` with weight 0 or 1).
- **Labels**: CRFsuite's Viterbi (``crf1dc_viterbi``) over the whole sequence, with state scores
  summed in the order CRFsuite sums them (the features' order in pyvi's dict), so the floating
  point sums, and ties (the first label wins), are CRFsuite's.
- **Words**: a syllable labelled ``I_W`` joins the word before it unless either is punctuation,
  starts with a digit, or it starts with a capital after one that does not (pyvi's rule).

:func:`pyvi_tokenize` is pyvi's ``ViTokenizer.tokenize`` (NFC first; words joined with ``_``);
:func:`vietnamese_words` is what datatrove's word tokenizer returns for Vietnamese: spaCy's
``VietnameseTokenizer`` (pyvi's segmentation on the text as it is, a joined word keeping the
whitespace between its syllables, ``học sinh``), each word stripped. Both are compared with
pyvi itself in tests/test_vietnamese.py (a committed golden sample everywhere, pyvi directly
where it is installed).
"""

from __future__ import annotations

import gzip
import json
import re
import string
from functools import cache
from pathlib import Path

from tamis.text import nfc

DATA = Path(__file__).with_name("vietnamese_model.json.gz")
_MAX_CHUNK = 64
_MEMO_LIMIT = 200_000

# pyvi's syllable alternatives, in its order (ViTokenizer.sylabelize).
_ABBREVIATIONS = (r"[A-ZĐ]+\.", r"Tp\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"Dr\.", r"ThS\.")
_SPECIALS = (r"==>", r"->", r"\.\.\.", r">>")
_WEB = r"\w+://[^\s]+"
_EMAIL = r"[a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+"
_NUMBER = r"\d+(?:[\.,_]\d+)+"
_NON_WORD = r"[^\w\s]"
_WORD = r"\w+"
_SYLLABLE = re.compile("|".join((*_ABBREVIATIONS, *_SPECIALS, _WEB, _EMAIL, _NUMBER, _NON_WORD, _WORD)))
# The same split at the e-mail alternative, for chunks too long for its scan ahead.
_BEFORE_EMAIL = re.compile("|".join((*_ABBREVIATIONS, *_SPECIALS, _WEB)))
_AFTER_EMAIL = re.compile("|".join((_NUMBER, _NON_WORD, _WORD)))
_WITHOUT_EMAIL = re.compile("|".join((*_ABBREVIATIONS, *_SPECIALS, _WEB, _NUMBER, _NON_WORD, _WORD)))
_LOCAL_CHAR = frozenset(string.ascii_letters + string.digits + "_.+-")
_DOMAIN = re.compile(r"(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+")
_NOT_SPACE = re.compile(r"\S+")

_B, _I = 0, 1


class _Model:
    """pyvi's CRF: weights per attribute and label, transitions, syllable n-grams."""

    def __init__(self, path: Path = DATA) -> None:
        data = json.loads(gzip.decompress(path.read_bytes()))
        self.state: dict[str, tuple[float, float]] = {name: (w[0], w[1]) for name, w in data["state"].items()}
        (self.bb, self.bi), (self.ib, self.ii) = data["transitions"]
        self.bigrams = frozenset(data["bigrams"])
        self.trigrams = frozenset(data["trigrams"])
        # The syllables that start an n-gram: most pairs are ruled out without building their key.
        self.bigram_starts = frozenset(gram.split(" ")[0] for gram in self.bigrams)
        self.trigram_starts = frozenset(gram.split(" ")[0] for gram in self.trigrams)
        state = self.state
        zero = (0.0, 0.0)
        self.bias = state.get("bias", zero)
        self.left_bigram = state.get("-1:word.bi_gram()", zero)
        self.left_trigram = state.get("-2:word.tri_gram()", zero)
        self.right_bigram = state.get("+1:word.bi_gram()", zero)
        self.right_trigram = state.get("+2:word.tri_gram()", zero)
        # Per distinct syllable: (its own partial sums, its weights seen from the next syllable,
        # its weights seen from the previous one).
        self._syllables: dict[str, tuple[tuple[float, float], tuple, tuple]] = {}

    def syllable(self, syllable: str) -> tuple[tuple[float, float], tuple, tuple]:
        found = self._syllables.get(syllable)
        if found is not None:
            return found
        state = self.state
        lower = syllable.lower()
        upper, title = syllable.isupper(), syllable.istitle()
        # The first five attributes of pyvi's dict, summed in order from 0 as CRFsuite sums them.
        own = [self.bias, state.get("word.lower():" + lower)]
        own += [state.get("word.isupper()") if upper else None, state.get("word.istitle()") if title else None]
        own.append(state.get("word.isdigit()") if syllable.isdigit() else None)
        b = i = 0.0
        for weights in own:
            if weights is not None:
                b += weights[_B]
                i += weights[_I]
        as_previous = [state.get("-1:word.lower():" + lower)]
        as_previous += [state.get("-1:word.istitle()") if title else None, state.get("-1:word.isupper()") if upper else None]
        as_next = [state.get("+1:word.lower():" + lower)]
        as_next += [state.get("+1:word.istitle()") if title else None, state.get("+1:word.isupper()") if upper else None]
        found = ((b, i), tuple(w for w in as_previous if w is not None), tuple(w for w in as_next if w is not None))
        if len(self._syllables) > _MEMO_LIMIT:  # web text has an open vocabulary
            self._syllables.clear()
        self._syllables[syllable] = found
        return found

    def labels(self, syllables: list[str]) -> list[int]:
        """CRFsuite's Viterbi labels (0 = B_W, 1 = I_W) of one sequence of syllables."""
        n = len(syllables)
        if n == 0:
            return []
        info = [self.syllable(s) for s in syllables]
        bigrams, trigrams = self.bigrams, self.trigrams
        # bigram[k]: syllables k, k+1 are a listed bigram; trigram[k]: k, k+1, k+2 a trigram.
        # pyvi lower-cases the joined n-gram; that is joining the lower-cased syllables, since no
        # casing rule (Greek final sigma included) looks across the space between them.
        lower = [s.lower() for s in syllables]
        starts = self.bigram_starts
        bigram = [lower[k] in starts and f"{lower[k]} {lower[k + 1]}" in bigrams for k in range(n - 1)]
        starts = self.trigram_starts
        trigram = [lower[k] in starts and f"{lower[k]} {lower[k + 1]} {lower[k + 2]}" in trigrams for k in range(n - 2)]
        left_bigram, left_trigram = self.left_bigram, self.left_trigram
        right_bigram, right_trigram = self.right_bigram, self.right_trigram
        bb, bi, ib, ii = self.bb, self.bi, self.ib, self.ii
        back: list[tuple[int, int]] = []
        score_b = score_i = 0.0
        for k in range(n):
            (b, i), _, _ = info[k]
            if k > 0:
                for wb, wi in info[k - 1][1]:
                    b += wb
                    i += wi
                if bigram[k - 1]:
                    b += left_bigram[_B]
                    i += left_bigram[_I]
                if k > 1 and trigram[k - 2]:
                    b += left_trigram[_B]
                    i += left_trigram[_I]
            if k < n - 1:
                for wb, wi in info[k + 1][2]:
                    b += wb
                    i += wi
                if bigram[k]:
                    b += right_bigram[_B]
                    i += right_bigram[_I]
                if k < n - 2 and trigram[k]:
                    b += right_trigram[_B]
                    i += right_trigram[_I]
            if k == 0:
                score_b, score_i = b, i
                continue
            # crf1dc_viterbi: for each label, the best previous label (the first on a tie).
            from_b, from_i = score_b + bb, score_i + ib
            best_b, back_b = (from_b, _B) if from_i <= from_b else (from_i, _I)
            from_b, from_i = score_b + bi, score_i + ii
            best_i, back_i = (from_b, _B) if from_i <= from_b else (from_i, _I)
            back.append((back_b, back_i))
            score_b, score_i = best_b + b, best_i + i
        label = _B if score_i <= score_b else _I
        labels = [label] * n
        for k in range(n - 1, 0, -1):
            label = back[k - 1][label]
            labels[k - 1] = label
        return labels


@cache
def model() -> _Model:
    """pyvi's model, loaded on the first Vietnamese page (once per process)."""
    return _Model()


_CHUNKS: dict[str, list[str]] = {}


def _long_chunk_syllables(chunk: str) -> list[str]:
    """Syllables of a long chunk, in time linear in its length (see the module docstring)."""
    if "@" not in chunk:  # the e-mail alternative cannot match anywhere: leave it out
        return _WITHOUT_EMAIL.findall(chunk)
    n = len(chunk)
    # email_end[p]: where pyvi's e-mail alternative tried at p ends (0: it does not match).
    email_end = [0] * (n + 1)
    run_end = n
    for p in range(n - 1, -1, -1):
        char = chunk[p]
        if char not in _LOCAL_CHAR:
            run_end = p
            continue
        if run_end < n and chunk[run_end] == "@":
            if email_end[run_end] == 0:  # the domain after this "@", matched once
                domain = _DOMAIN.match(chunk, run_end + 1)
                email_end[run_end] = domain.end() if domain else -1
            email_end[p] = email_end[run_end]
    syllables = []
    p = 0
    while p < n:
        match = _BEFORE_EMAIL.match(chunk, p)
        if match is None and email_end[p] > 0 and chunk[p] != "@":
            syllables.append(chunk[p : email_end[p]])
            p = email_end[p]
            continue
        if match is None:
            match = _AFTER_EMAIL.match(chunk, p)
        syllables.append(match.group())
        p = match.end()
    return syllables


def chunk_syllables(chunk: str) -> list[str]:
    """pyvi's syllables of one chunk without whitespace (memoised, the long ones aside)."""
    if len(chunk) > _MAX_CHUNK:
        return _long_chunk_syllables(chunk)
    found = _CHUNKS.get(chunk)
    if found is None:
        found = _SYLLABLE.findall(chunk)
        if len(_CHUNKS) > _MEMO_LIMIT:
            _CHUNKS.clear()
        _CHUNKS[chunk] = found
    return found


def _joins(previous: str, syllable: str) -> bool:
    """pyvi's rule for a syllable labelled I_W: does it join the word before it?"""
    return (
        syllable not in string.punctuation
        and previous not in string.punctuation
        and not syllable[0].isdigit()
        and not previous[0].isdigit()
        and not (syllable[0].istitle() and not previous[0].istitle())
    )


def pyvi_tokenize(text: str) -> str:
    """pyvi's ``ViTokenizer.tokenize``: the NFC text's syllables, a word's joined by ``_``, words by spaces."""
    normal = nfc(text)
    syllables: list[str] = []
    position = 0
    for match in _NOT_SPACE.finditer(normal):
        # pyvi's "\n" is a syllable of its own (one of its special tokens); other whitespace is skipped.
        syllables.extend("\n" * normal.count("\n", position, match.start()))
        syllables.extend(chunk_syllables(match.group()))
        position = match.end()
    syllables.extend("\n" * normal.count("\n", position))
    if not syllables:
        return text
    labels = model().labels(syllables)
    out = [syllables[0]]
    for k in range(1, len(syllables)):
        joined = labels[k] == _I and _joins(syllables[k - 1], syllables[k])
        out.append(("_" if joined else " ") + syllables[k])
    return "".join(out)


def vietnamese_words(text: str) -> list[str]:
    """Vietnamese words as datatrove counts them: spaCy's ``VietnameseTokenizer`` (pyvi's labels
    on the text as it is, a word's syllables joined by the whitespace between them), stripped."""
    syllables: list[str] = []
    gaps: list[str] = []  # the whitespace before each syllable ("" inside a chunk)
    position = 0
    for match in _NOT_SPACE.finditer(text):
        parts = chunk_syllables(match.group())
        gaps.append(text[position : match.start()])
        if len(parts) > 1:
            gaps += [""] * (len(parts) - 1)
        syllables += parts
        position = match.end()
    if not syllables:
        return []
    labels = model().labels(syllables)
    words: list[str] = []
    word = syllables[0]
    for k in range(1, len(syllables)):
        if labels[k] == _I and _joins(syllables[k - 1], syllables[k]):
            word += gaps[k] + syllables[k]
        else:
            words.append(word)
            word = syllables[k]
    words.append(word)
    # datatrove strips each word and drops empty ones: a word starts and ends with a syllable,
    # which holds no whitespace, so there is nothing to strip.
    return words
