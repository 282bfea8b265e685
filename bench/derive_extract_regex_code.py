"""Write ``tamis/extract/regex_code/extract-<python>.json.gz``: the regex engine's instructions for
every pattern ``re`` compiles while the ``extract`` step loads its extractor (tamis's extract
modules, trafilatura and the libraries it imports, the warm-up page), one file per Python given
(:mod:`tamis.extract.regex_seed`).

    python bench/derive_extract_regex_code.py python3.11 python3.12

Rerun after trafilatura, courlan, htmldate or justext change version, or tamis's extract
modules change a pattern (a pattern whose text changed is simply not found and compiled as
before; ``tests/test_extract_regex_seed.py`` says how much of the import the store covers).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from derive_spacy_regex_code import ROOT, child_outputs, write_store

OUT = ROOT / "tamis" / "extract" / "regex_code"

# Run in a fresh interpreter: what a `tamis run` process has compiled before the extract step
# loads its extractor is left out (it is compiled before the seed could help), then every
# pattern ``re`` compiles from there (on a miss of its cache, re._compile calls
# re._compiler.compile) is recorded with what its compiler hands to _sre.compile, and checked to
# rebuild to an equal pattern.
CHILD = r"""
import json, re, sys
from re import _compiler

import tamis.cli, tamis.runner, tamis.steps.extract  # compiled before the extract path: not stored
from tamis.extract import regex_seed
from tamis.steps.quality import regex_code

regex_seed._seeded = True  # record what the import compiles, not what the store holds
real_compile = _compiler.compile
entries = []

def recording(pattern, flags=0):
    compiled, record = regex_code.compile_recording(real_compile, pattern, flags)
    if record is not None and not flags & re.DEBUG:
        entry = regex_seed.encode_entry(pattern, flags, record)
        key, rebuilt = regex_seed.build(entry)
        assert rebuilt == compiled and key == (type(pattern), pattern, flags), str(pattern)[:80]
        entries.append(entry)
    return compiled

_compiler.compile = recording
import tamis.steps.extract_html, tamis.steps.extract_worker
from tamis.steps.extract_html import warm_up
warm_up("tamis_learned_hybrid")
_compiler.compile = real_compile
print(json.dumps({"tag": regex_seed.tag(), "entries": entries}))
"""


def main() -> int:
    for found in child_outputs(CHILD, sys.argv[1:]):
        path = OUT / f"{found['tag']}.json.gz"
        write_store(path, found["entries"])
        print(f"{path.relative_to(ROOT)}: {len(found['entries'])} patterns, {path.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
