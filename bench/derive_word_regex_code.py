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

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tamis" / "steps" / "quality" / "regex_code"

# Runs in each Python: every language's word regex compiled by re's own compiler, what it hands
# to _sre.compile recorded and checked (the rebuilt pattern equals re.compile's).
CHILD = r"""
import json, re
import _sre
from re import _compiler
from tamis.steps.quality import regex_code, words
from tamis.steps.quality.languages import GENERIC, SUPPORTED_LANGUAGES, settings_for

entries = {}
real = _sre.compile

def recording(text, flags=0):
    seen = []
    def spy(pattern, final_flags, code, groups, groupindex, indexgroup):
        seen.append([final_flags, list(code), groups, dict(groupindex), list(indexgroup)])
        return real(pattern, final_flags, code, groups, groupindex, indexgroup)
    _sre.compile = spy
    try:
        pattern = _compiler.compile(text, flags)
    finally:
        _sre.compile = real
    final_flags, code, groups, groupindex, indexgroup = seen[-1]
    rebuilt = real(text, final_flags, regex_code.decode_code(regex_code.encode_code(code)), groups, groupindex, tuple(indexgroup))
    assert rebuilt == pattern == re.compile(text, flags), text[:80]
    entries[regex_code.key(text, flags)] = [final_flags, regex_code.encode_code(code), groups, groupindex, indexgroup]
    return pattern

words.compile_pattern = recording
for settings in [*(settings_for(code) for code in SUPPORTED_LANGUAGES), GENERIC]:
    words._compile_word_regex(settings)
print(json.dumps({"tag": regex_code.tag(), "entries": entries}, sort_keys=True))
"""


def main() -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for python in sys.argv[1:] or [sys.executable]:
        done = subprocess.run([python, "-c", CHILD], capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            sys.exit(f"{python}: {done.stderr[-2000:]}")
        found = json.loads(done.stdout)
        path = OUT / f"words-{found['tag']}.json.gz"
        # mtime 0: the same settings give the same bytes
        path.write_bytes(gzip.compress(json.dumps(found["entries"], sort_keys=True).encode(), 9, mtime=0))
        print(f"{path.relative_to(ROOT)}: {len(found['entries'])} patterns, {path.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
