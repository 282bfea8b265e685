"""Write ``tamis/steps/quality/regex_code/words-<python>.json.gz``: the regex engine's instructions
for every language's word regex (``tamis.steps.quality.words.word_regex``, what C4's word
count and the languages without a spaCy splitter cut words with), one file per Python given.

    python bench/derive_word_regex_code.py python3.11 python3.12 python3.13

Each Python needs orjson importable. A regex's text depends on the language settings and this
Python's Unicode tables, and is the key: a regex whose text changed is simply not found and
compiled by ``re`` (``tests/test_spacy_regex_code.py`` checks every language's is stored).
Compiling one costs ``re`` ~8-13 ms (its letter classes: every character of them, one by one).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from derive_spacy_regex_code import RECORDER, derive_regex_store

# Runs in each Python after the recorder: every language's word regex compiled by re's own
# compiler, recorded and checked (the rebuilt pattern equals re.compile's).
CHILD = (
    RECORDER
    + r"""
from tamis.steps.quality import words
from tamis.steps.quality.languages import GENERIC, SUPPORTED_LANGUAGES, settings_for

words.compile_word_regex = lambda text: recording(text)
for settings in [*(settings_for(code) for code in SUPPORTED_LANGUAGES), GENERIC]:
    words._compile_word_regex(settings)
print(json.dumps({"tag": regex_code.tag(), "entries": entries}, sort_keys=True))
"""
)


def main() -> int:
    return derive_regex_store(CHILD, "words-", sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
