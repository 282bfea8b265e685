"""A run's own patterns compiled ahead (tamis.steps.quality.regex_code.seed_run_patterns): each
stored pattern is the one re.compile gives, and the store covers what a run compiles
(bench/derive_run_regex_code.py rewrites it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from re import _compiler

import orjson
import pytest

from tamis.extract import regex_seed
from tamis.steps.quality import regex_code

RUN_STORE = regex_code.run_store_path()
STORED = regex_code.stored_entries(RUN_STORE)
needs_store = pytest.mark.skipif(not RUN_STORE.exists(), reason=f"no stored run patterns for this Python ({RUN_STORE.name})")
# Every store of seeded patterns: a run's own and the extractor's (tamis.extract.regex_seed).
STORES = {"run": RUN_STORE, "extract": regex_seed.store_path()}


@pytest.mark.parametrize("store", sorted(STORES))
def test_every_stored_pattern_equals_what_re_compiles(store: str) -> None:
    path = STORES[store]
    if not path.exists():
        pytest.skip(f"no stored {store} patterns for this Python ({path.name})")
    entries = regex_code.stored_entries(path)
    # A store that exists must load: orjson refuses lone surrogates, and a pattern holding some
    # once emptied a whole store (such a pattern's text is now stored in base64, kind "u").
    assert entries, f"{path.name} does not load"
    for entry in entries:
        (kind, text, flags), pattern = regex_code.build_entry(entry)
        assert kind is type(text)
        # Pattern equality compares the text, the flags and the engine's instructions word for word.
        assert pattern == _compiler.compile(text, flags), str(text)[:80]
        assert pattern.groupindex == re.compile(text, flags).groupindex


_COUNT_A_RUN = r"""
import sys
from re import _compiler
import tamis.cli

real, compiled = _compiler.compile, []

def counting(pattern, flags=0):
    frame = sys._getframe(1)
    while frame is not None and not frame.f_code.co_filename.endswith(("fnmatch.py", "glob.py")):
        frame = frame.f_back
    if frame is None:  # the run's output paths are not stored
        compiled.append(str(pattern)[:60])
    return real(pattern, flags)

_compiler.compile = counting
code = tamis.cli.main(["run", "--input", sys.argv[1], "--output", sys.argv[2], "--workers", "1", "-q"])
_compiler.compile = real
print(code, len(compiled), compiled, file=sys.stderr)
"""


@needs_store
def test_a_run_finds_nearly_all_its_patterns_in_the_store(tmp_path: Path) -> None:
    docs = tmp_path / "docs.jsonl"
    pages = ["The bridge over the river closes on Monday for two years of repairs, the city said.",
             "Le pont sur la rivière fermera lundi pour deux ans de travaux, a indiqué la mairie."]
    docs.write_bytes(b"".join(orjson.dumps({"id": f"d{i}", "text": " ".join([page] * 6)}) + b"\n" for i, page in enumerate(pages)))
    done = subprocess.run([sys.executable, "-c", _COUNT_A_RUN, str(docs), str(tmp_path / "out")], capture_output=True, text=True, check=True)
    code, count = done.stderr.splitlines()[-1].split()[:2]
    assert code in ("0", "1")
    assert int(count) <= len(STORED) // 10, done.stderr.splitlines()[-1][:2000]


def test_seeding_twice_adds_nothing_and_a_missing_store_seeds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert regex_code.seed_cache(regex_code.stored_entries(tmp_path / "absent.json.gz")) == 0
    monkeypatch.setattr(regex_code, "_run_seeded", True)
    assert regex_code.seed_run_patterns() == 0
