"""tamis's words follow spaCy's tokenizer (what FineWeb-2 counts with) on spaCy's own rule data.

The expected cuts below are spaCy 3.8's (``[t.text for t in spacy.blank(lang)(chunk)]``, taken
from spaCy itself, not from tamis): technical tokens where a hand-written rule per token class
went wrong before (e-mail addresses in angle brackets, options, versions, URLs, elisions).
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tamis.steps.quality.spacy_tokenizer import MAX_CHUNK
from tamis.steps.quality.words import split_words

SPACY_CUTS = {
    "pl": {
        "⟨manpages-pl-list@lists.sourceforge.net⟩.": ["⟨manpages", "-", "pl", "-", "list@lists.sourceforge.net⟩", "."],
        "[OPCJA]...": ["[", "OPCJA", "]", ".", ".", "."],
        "--systems=system[,...]": ["-", "-", "systems", "=", "system", "[", ",", ".", ".", ".", "]"],
        "-h|--help": ["-h|", "-", "-", "help"],
        "bug-diffutils@gnu.org": ["bug-diffutils@gnu.org"],
        "10K": ["10", "K"],
        "(G.Wilford@ee.surrey.ac.uk).": ["(", "G.Wilford@ee.surrey.ac.uk", ")", "."],
    },
    "hu": {
        "FELELŐSSÉG.": ["FELELŐSSÉG."],
        "<https://gnu.org/licenses/gpl.html>.": ["<", "https://gnu.org/licenses/gpl.html>."],
        "⟨https://www.gnu.org/licenses/gpl-3.0.html⟩.": ["⟨https://www.gnu.org/licenses/gpl-3.0.html⟩."],
        "22.": ["22."],
        "$HOME": ["$HOME"],
    },
    "de": {
        "1.18.5).": ["1.18.5", ")", "."],
        "⟨https://www.gnu.org/licenses/gpl-3.0.html⟩": ["⟨https://www.gnu.org", "/", "licenses", "/", "gpl-3.0.html⟩"],
        "DATEI(en)": ["DATEI", "(", "en", ")"],
        "z.B.": ["z.B."],
        "B.": ["B."],
    },
    "fr": {
        "l'état": ["l'", "état"],
        "(c'est-à-dire": ["(", "c'", "est", "-", "à", "-", "dire"],
        "jusqu'à": ["jusqu'", "à"],
        "sous-répertoire": ["sous-répertoire"],
        "grand-mère": ["grand-mère"],
        "a-t-il": ["a", "-t", "-il"],
    },
    "en": {
        "don't": ["do", "n't"],
        "U.S.": ["U.S."],
        "e.g.": ["e.g."],
        "John's": ["John", "'s"],
        "well-known": ["well", "-", "known"],
        "example.com.": ["example.com", "."],
        ":)": [":)"],
        "dont": ["do", "nt"],
    },
    "ru": {"UTF-8": ["UTF-8"], "2.6.0)": ["2.6.0", ")"], "т.е.": ["т.е."], "S.": ["S."]},
}


@pytest.mark.parametrize(("language", "chunk", "expected"),
                         [(lang, chunk, cut) for lang, cuts in SPACY_CUTS.items() for chunk, cut in cuts.items()])
def test_words_are_spacys(language: str, chunk: str, expected: list[str]) -> None:
    assert split_words(chunk, language) == expected
    # the same chunk inside a text: whitespace only separates chunks
    assert split_words(f"Ein {chunk}\n\tzwei", language) == ["Ein", *expected, "zwei"]


def test_long_chunks_take_the_linear_path() -> None:
    # spaCy's affix loop is quadratic in a chunk's length; past MAX_CHUNK the linear regex cuts it
    hostile = "(" * 200_000 + "a" + ")" * 200_000
    started = time.process_time()
    words = split_words(hostile + " ok", "pl")
    assert time.process_time() - started < 5
    assert "".join(words) == hostile + "ok"
    url = "https://example.com/" + "a" * MAX_CHUNK + "/x.html"
    assert split_words(f"see {url} now", "de") == ["see", url, "now"]


def test_rules_load_on_first_use() -> None:
    # importing the word splitter reads no rule data; the first word of a language reads that
    # language's stored tables (spacy_tables), and the rules themselves only where none are stored
    # for this Python (or the compiled splitter is missing)
    code = (
        "from tamis.steps.quality import spacy_tables, spacy_tokenizer, words\n"
        "assert spacy_tokenizer._payload.cache_info().currsize == 0\n"
        "assert spacy_tables._header.cache_info().currsize == 0\n"
        "words.split_words('ein Test.', 'de')\n"
        "stored = spacy_tables.member('de') is not None and spacy_tokenizer._Splitter is not None\n"
        "assert spacy_tokenizer._payload.cache_info().currsize == (0 if stored else 1)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
