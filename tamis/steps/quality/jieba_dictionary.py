"""rjieba's segmentation with jieba-rs's default dictionary, given only the words a text holds.

Importing ``rjieba`` builds ``Jieba()``: jieba-rs's 349,045-word default dictionary read into a
double-array trie, 0.15-0.19 CPU-s paid by every process that meets one Chinese page, though a
page's cut only ever reads the dictionary's words found in that page. jieba-rs reads its
dictionary in three places of ``cut`` (jieba-rs 0.11 ``cut_dag_hmm``): the words that begin at
each character of a run it cuts (the DAG), each such word's frequency against the dictionary's
total (the route), and whether a run of single characters is a word (before its HMM). Each asks
about a piece of the text only. So a ``Jieba.empty()`` given, before each text is cut, every
dictionary word that occurs in that text with its frequency (``add_word``), and a stand-in
word whose frequency brings the total to the dictionary's, cuts every text as ``Jieba()`` does.
The stand-in is a space: jieba-rs cuts with its dictionary only runs of CJK ideographs, ASCII
letters and digits and ``+#&._%-``, so no lookup ever meets it.

The words are jieba-rs's own: the dictionary rjieba embeds, one zstd frame in its extension
module, sorted (UTF-8 order), one ``word frequency tag`` line each. It is read from the installed
module at the first Chinese text (no copy ships with tamis), and used only if the frame's
fingerprint is one whose words and cuts the tests compared with ``Jieba()``
(``tests/test_jieba_dictionary.py``); any other rjieba builds ``Jieba()`` as before. Finding a
text's words walks each position's first character's run of lines (bisection, as
:class:`tamis.steps.quality.segmenters.PrefixTable`), a few microseconds a character: once
:data:`LAZY_CHARACTERS` characters have been cut that way (about one full build's worth), the
full dictionary is built and cuts go straight to it (the same words either way).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import threading
from bisect import bisect_left
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# xxh3_64 of the compressed dictionary frame -> (words, total frequency), of the rjieba builds
# whose dictionary tests/test_jieba_dictionary.py parsed and whose cuts it compared with Jieba().
KNOWN_DICTIONARIES: dict[int, tuple[int, int]] = {
    0xC9D8_D2B9_7659_FC56: (349_045, 60_101_964),  # rjieba 0.2.2 (jieba-rs 0.11.0)
}
# After this many characters cut with the words found one text at a time, build Jieba().
# callgrind (the recipe sample's 3 Chinese pages, 9,832 characters): Jieba() 441M instructions;
# this way ~99M to find and decompress the dictionary, then ~8,600 a character. At 40,000
# characters a run has paid about one build more than Jieba() alone: never much more than
# twice the build, and a run with a few Chinese pages pays a fraction of it.
LAZY_CHARACTERS = 40_000
# The stand-in word that carries the frequencies of the words not (yet) added.
STAND_IN = " "



def extension_module() -> ModuleType | None:
    """rjieba's compiled module, loaded without running ``rjieba/__init__.py`` (which builds
    ``Jieba()``); ``import rjieba`` later gets this very module (PyO3 hands it back)."""
    spec = importlib.util.find_spec("rjieba")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = importlib.machinery.PathFinder.find_spec("rjieba", list(spec.submodule_search_locations))
    if found is None or not isinstance(found.loader, importlib.machinery.ExtensionFileLoader):
        return None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def dictionary_frame(library: bytes) -> tuple[bytes, int] | None:
    """The default dictionary's text and its compressed frame's xxh3_64, found in rjieba's
    library: the first zstd frame that decompresses to ``word frequency tag`` lines."""
    import re

    import xxhash
    import zstandard

    line = re.compile(rb"\A[^\s]+ [0-9]+ [^\s]+\n")
    view = memoryview(library)
    start = library.find(_ZSTD_MAGIC)
    while start >= 0:
        try:
            head = zstandard.ZstdDecompressor().stream_reader(view[start:]).read(64)
        except zstandard.ZstdError:
            head = b""
        if line.match(head):
            decompressor = zstandard.ZstdDecompressor().decompressobj()
            text = decompressor.decompress(view[start:])
            end = len(library) - len(decompressor.unused_data)
            return text, xxhash.xxh3_64_intdigest(view[start:end])
        start = library.find(_ZSTD_MAGIC, start + 1)
    return None


class Dictionary:
    """jieba-rs's dictionary text, the lines of a character found by bisection in the sorted
    text itself (no index of its 349,045 lines is built, and no numpy: a default run does not
    import it): ``words_in(text)`` gives each dictionary word occurring in ``text`` with its
    frequency. ``total`` (every word's frequency summed, what jieba-rs divides by) is given:
    the known dictionaries' (the tests sum it from the parsed lines)."""

    def __init__(self, text: bytes, total: int) -> None:
        if not text.endswith(b"\n"):
            raise ValueError("a dictionary ends with a line end")
        self._text = text
        self.total = total
        self._lines: dict[str, list[str]] = {}

    def _first_line(self, key: bytes, low: int, after: bool) -> int:
        """Where the first line from ``low`` on begins whose first bytes are at least ``key``
        (``after``: more than ``key``); the text's end if none. The lines are sorted, so a
        line's first bytes never decrease from one line to the next."""
        text, high, size = self._text, len(self._text), len(key)
        while low < high:
            middle = (low + high) // 2
            start = text.rfind(b"\n", low, middle) + 1 or low  # the line holding ``middle``
            first = text[start : start + size]
            if first > key or (first == key and not after):
                high = start
            else:
                low = text.index(b"\n", start) + 1
        return low

    def _lines_of(self, char: str) -> list[str]:
        """The dictionary's lines that begin with ``char`` (one run of the sorted text)."""
        lines = self._lines.get(char)
        if lines is None:
            key = char.encode("utf-8", "surrogatepass")
            start = self._first_line(key, 0, after=False)
            end = self._first_line(key, start, after=True)
            lines = self._text[start : end - 1].decode().split("\n") if end > start else []
            self._lines[char] = lines
        return lines

    def words_in(self, text: str) -> dict[str, int]:
        """Every dictionary word that occurs in ``text``, with its frequency."""
        found: dict[str, int] = {}
        size = len(text)
        for start, char in enumerate(text):
            lines = self._lines.get(char)
            if lines is None:
                lines = self._lines_of(char)
            if not lines:
                continue
            # The run's first line is the character's own, if it is a word: "c 5 n" sorts before
            # every longer word (a word's characters all come after the space).
            if lines[0][1] == " ":
                found[char] = int(lines[0][2 : lines[0].index(" ", 2)])
            low, count = 0, len(lines)
            # A word holds no space: a piece that reaches one begins no line (the walk ends
            # there at the latest, as each line is a word, a space and more).
            for end in range(start + 2, size + 1):
                piece = text[start:end]
                if piece[-1] == " ":
                    break
                low = bisect_left(lines, piece, low)  # a longer piece sorts after the shorter one
                if low == count or not lines[low].startswith(piece):
                    break
                line = lines[low]
                if line[len(piece)] == " ":
                    found[piece] = int(line[len(piece) + 1 : line.index(" ", len(piece) + 1)])
        return found


class LazyJieba:
    """``cut(text)``: rjieba's ``cut`` with its default dictionary (see the module's text)."""

    def __init__(self, module: ModuleType, dictionary: Dictionary, limit: int = LAZY_CHARACTERS) -> None:
        self._module = module
        self._dictionary = dictionary
        self._jieba = module.Jieba.empty()
        self._added: set[str] = set()
        self._added_total = 0
        self._left = limit
        self._full = None
        # add_word borrows the Jieba mutably while a cut (which lets go of the GIL) borrows it:
        # threads sharing the segmenter take turns.
        self._lock = threading.Lock()

    def cut(self, text: str) -> list[str]:
        if self._full is not None:
            return self._full.cut(text)
        with self._lock:
            return self._cut(text)

    def _cut(self, text: str) -> list[str]:
        if self._full is not None:
            return self._full.cut(text)
        self._left -= len(text)
        if self._left < 0:
            self._full = self._module.Jieba()
            self._dictionary = None  # its lines are no longer read
            return self._full.cut(text)
        assert self._dictionary is not None
        jieba, added = self._jieba, self._added
        new = False
        for word, frequency in self._dictionary.words_in(text).items():
            if word not in added:
                added.add(word)
                jieba.add_word(word, frequency, None)
                self._added_total += frequency
                new = True
        if new:
            jieba.add_word(STAND_IN, self._dictionary.total - self._added_total, None)
        return jieba.cut(text)


def load() -> Callable[[str], list[str]] | None:
    """rjieba's default cut, built lazily where the installed rjieba's dictionary is a known
    one, else ``None`` (the caller imports rjieba)."""
    module = extension_module()
    if module is None or not hasattr(module.Jieba, "empty") or not hasattr(module.Jieba, "add_word"):
        return None
    origin = getattr(module, "__file__", None)
    if origin is None:
        return None
    try:
        found = dictionary_frame(Path(origin).read_bytes())
        if found is None or found[1] not in KNOWN_DICTIONARIES:
            return None
        dictionary = Dictionary(found[0], KNOWN_DICTIONARIES[found[1]][1])
    except (OSError, ValueError):
        return None
    return LazyJieba(module, dictionary).cut
