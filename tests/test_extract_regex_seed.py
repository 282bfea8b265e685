"""The extract path's patterns compiled ahead (tamis.extract.regex_seed): each stored pattern is
the one re.compile gives, seeding puts it where re.compile finds it, and the store covers what
loading the extractor compiles (bench/derive_extract_regex_code.py rewrites it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from re import _compiler

import pytest

from tamis.extract import regex_seed

ROOT = Path(__file__).resolve().parents[1]
STORED = regex_seed.stored_entries()
# (Every stored pattern is compared with re's in tests/test_run_regex_seed.py, with the run's store.)
needs_store = pytest.mark.skipif(not regex_seed.store_path().exists(), reason=f"no stored patterns for this Python ({regex_seed.tag()})")


def test_entries_round_trip_str_and_bytes_patterns() -> None:
    for text, flags in (("(?P<word>\\w+)\\s*=\\s*(\\d{1,3})", re.IGNORECASE), (b"<meta[^<>]{1,2048}charset", 0), ("caf\u00e9|na\u00efve", re.VERBOSE)):
        seen = []
        real = regex_seed._sre.compile

        def spy(p, final_flags, code, groups, groupindex, indexgroup, seen=seen, real=real):
            seen.append([final_flags, list(code), groups, dict(groupindex), list(indexgroup)])
            return real(p, final_flags, code, groups, groupindex, indexgroup)

        regex_seed._sre.compile = spy
        try:
            compiled = _compiler.compile(text, flags)
        finally:
            regex_seed._sre.compile = real
        entry = json.loads(json.dumps(regex_seed.encode_entry(text, flags, seen[-1])))
        key, rebuilt = regex_seed.build(entry)
        assert key == (type(text), text, flags)
        assert rebuilt == compiled
        assert rebuilt.pattern == text and rebuilt.groupindex == compiled.groupindex


_COVERAGE = r"""
import json, re
from re import _compiler
import tamis.cli, tamis.runner, tamis.steps.extract
from tamis.extract import regex_seed
added = regex_seed.seed_regex_cache()
seeded = {key: pattern for key, pattern in re._cache.items()}
misses = []
real = _compiler.compile
def counting(pattern, flags=0):
    misses.append(str(pattern)[:60])
    return real(pattern, flags)
_compiler.compile = counting
import tamis.steps.extract_html, tamis.steps.extract_worker
from tamis.steps.extract_html import warm_up
warm_up("tamis_learned_hybrid")
_compiler.compile = real
hits = [key for key in seeded if re.compile(key[1], key[2]) is seeded[key]]
print(json.dumps({"added": added, "misses": misses, "hits": len(hits)}))
"""


@needs_store
def test_seeded_patterns_are_what_the_extractor_imports_get() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _COVERAGE], capture_output=True, text=True, env=env, check=True)
    found = json.loads(done.stdout)
    assert found["added"] == len(STORED)
    # re.compile hands out the seeded objects themselves (what trafilatura's modules now hold) ...
    assert found["hits"] >= found["added"]
    # ... and loading the extractor compiles almost nothing more (a library upgrade that changes
    # its patterns shows here: rerun bench/derive_extract_regex_code.py).
    assert len(found["misses"]) <= 0.1 * len(STORED), found["misses"][:10]


def test_seeding_happens_once_and_leaves_room_in_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(regex_seed, "_seeded", False)
    full = {(str, f"x{i}", 0): None for i in range(re._MAXCACHE - 64)}
    monkeypatch.setattr(re, "_cache", full)
    assert regex_seed.seed_regex_cache() == 0  # no room: re's own entries are not pushed out
    assert regex_seed.seed_regex_cache() == 0
    assert len(full) == re._MAXCACHE - 64
