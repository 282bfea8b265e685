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
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tamis" / "steps" / "quality" / "regex_code"

# The recorder each child runs first: compile_pattern stand-in that records what re's compiler
# hands to _sre.compile, checks the rebuilt pattern equals re.compile's, and keeps
# {key: [flags, code, groups, groupindex, indexgroup]} in ``entries``. The word regexes'
# deriver (derive_word_regex_code.py) runs it too, with its own driver after it.
RECORDER = r"""
import json, re
import _sre
from re import _compiler
from tamis.steps.quality import regex_code

entries = {}
real = _sre.compile

def recording(text, flags=0):
    pattern, record = regex_code.compile_recording(_compiler.compile, text, flags)
    final_flags, code, groups, groupindex, indexgroup = record
    rebuilt = real(text, final_flags, regex_code.decode_code(regex_code.encode_code(code)), groups, groupindex, tuple(indexgroup))
    assert rebuilt == pattern == re.compile(text, flags), text[:80]
    entries[regex_code.key(text, flags)] = [final_flags, regex_code.encode_code(code), groups, groupindex, indexgroup]
    return pattern
"""

# Builds every language's splitter with the recorder as compile_pattern, prints
# {"tag": ..., "entries": ...}.
CHILD = (
    RECORDER
    + r"""
from tamis.steps.quality import spacy_tokenizer

spacy_tokenizer.compile_pattern = recording
for language in spacy_tokenizer._payload()["languages"]:
    spacy_tokenizer.SpacyTokenizer(language, tables=False)  # the live build: every pattern compiled
print(json.dumps({"tag": regex_code.tag(), "entries": entries}, sort_keys=True))
"""
)


def child_outputs(child: str, pythons: list[str]) -> Iterator[dict]:
    """What ``child`` prints (one JSON object) under each Python given (this one if none), run
    on this checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for python in pythons or [sys.executable]:
        done = subprocess.run([python, "-c", child], capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            sys.exit(f"{python}: {done.stderr[-2000:]}")
        yield json.loads(done.stdout)


def write_store(path: Path, entries: dict, separators: tuple[str, str] | None = None) -> None:
    """The entries as sorted JSON, gzip level 9 with mtime 0: the same rules give the same bytes."""
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(gzip.compress(json.dumps(entries, sort_keys=True, separators=separators).encode(), 9, mtime=0))


def derive_regex_store(child: str, prefix: str, pythons: list[str]) -> int:
    """Run a recording ``child`` under each Python and write ``OUT/<prefix><tag>.json.gz``."""
    for found in child_outputs(child, pythons):
        path = OUT / f"{prefix}{found['tag']}.json.gz"
        write_store(path, found["entries"])
        print(f"{path.relative_to(ROOT)}: {len(found['entries'])} patterns, {path.stat().st_size / 1e3:.0f} kB")
    return 0


def main() -> int:
    return derive_regex_store(CHILD, "", sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
