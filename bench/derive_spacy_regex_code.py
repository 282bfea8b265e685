"""Write ``tamis/steps/quality/regex_code/<python>.json.gz``: the regex engine's instructions for
every pattern the spaCy word splitter compiles (:mod:`tamis.steps.quality.regex_code`), one file
per Python given (each runs its own ``re`` compiler on this checkout's rules).

    python bench/derive_spacy_regex_code.py python3.11 python3.12 python3.13

Rerun after ``spacy_rules.json.gz`` or the splitter's pattern text changes (a pattern whose text
changed is simply not found and compiled as before; ``tests/test_spacy_regex_code.py`` says how
many of this Python's are stored).
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

# Runs in each Python: builds every language's splitter with compile_pattern recording what
# re's compiler hands to _sre.compile, checks each rebuilt pattern equals re.compile's, prints
# {"tag": ..., "entries": {key: [flags, code, groups, groupindex, indexgroup]}}.
CHILD = r"""
import json, re, sys
import _sre
from re import _compiler
from tamis.steps.quality import regex_code, spacy_tokenizer

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

spacy_tokenizer.compile_pattern = recording
for language in spacy_tokenizer._payload()["languages"]:
    spacy_tokenizer.SpacyTokenizer(language)
print(json.dumps({"tag": regex_code.tag(), "entries": entries}, sort_keys=True))
"""


def main() -> int:
    OUT.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for python in sys.argv[1:] or [sys.executable]:
        done = subprocess.run([python, "-c", CHILD], capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            sys.exit(f"{python}: {done.stderr[-2000:]}")
        found = json.loads(done.stdout)
        path = OUT / f"{found['tag']}.json.gz"
        # mtime 0: the same rules give the same bytes
        path.write_bytes(gzip.compress(json.dumps(found["entries"], sort_keys=True).encode(), 9, mtime=0))
        print(f"{path.relative_to(ROOT)}: {len(found['entries'])} patterns, {path.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
