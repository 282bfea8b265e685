"""Write ``tamis/steps/quality/regex_code/analysis-<python>.json.gz``: the spaCy word splitter's
pattern analyses (:mod:`tamis.steps.quality.spacy_analysis`) for every language's rules, one file
per Python given (each runs its own ``re`` parser on this checkout's rules).

    python bench/derive_spacy_analysis.py python3.11 python3.12 python3.13

Each Python needs orjson importable. Rerun after ``spacy_rules.json.gz``, the analyses or the affix
translator change (a pattern whose text or letter classes changed is simply not found and
analysed as before; ``tests/test_spacy_analysis.py`` recomputes every stored entry, so a changed
analysis shows there).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from derive_spacy_regex_code import OUT, ROOT, child_outputs, write_store

# Runs in each Python: every language's analyses computed live (spacy_analysis.live_entries).
CHILD = r"""
import json
from tamis.steps.quality import spacy_analysis

print(json.dumps({"tag": spacy_analysis.path().name, "entries": spacy_analysis.live_entries()}, sort_keys=True))
"""


def as_texts(entries: dict) -> dict[str, str]:
    """Each analysis as its own JSON text: a run parses only the entries its languages ask for."""
    return {entry: json.dumps(value, sort_keys=True, separators=(",", ":")) for entry, value in entries.items()}


def main() -> int:
    for found in child_outputs(CHILD, sys.argv[1:]):
        path = OUT / found["tag"]
        write_store(path, as_texts(found["entries"]), separators=(",", ":"))
        counts: dict[str, int] = {}
        for entry in found["entries"]:
            counts[entry.split(":")[0]] = counts.get(entry.split(":")[0], 0) + 1
        print(f"{path.relative_to(ROOT)}: {counts}, {path.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
