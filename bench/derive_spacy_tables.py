"""Write ``tamis/steps/quality/spacy_tables.bin``: each language's compiled word splitter tables
(:mod:`tamis.steps.quality.spacy_tables`), derived from this checkout's rules under each Python
given (this one if none); the store is tagged with every Python whose tables equal the first's
(another Python builds its splitters live, as does any Python after a rules change).

    .venv/bin/python bench/derive_spacy_tables.py [python3.12 ...]

Each Python needs orjson importable. Rerun after ``spacy_rules.json.gz``, the pattern analyses,
the affix translator or the splitter's arguments change: ``tests/test_spacy_tables.py`` compares
every stored member with the live derivation and fails until then.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from derive_spacy_regex_code import ROOT, child_outputs

# Runs in each Python: every language's tables computed live.
CHILD = r"""
import json
from tamis.steps.quality import spacy_tables, spacy_tokenizer
from tamis.steps.quality.regex_code import interpreter_tag

print(json.dumps({"tag": interpreter_tag(), "rules_languages": sorted(spacy_tokenizer._payload()["languages"]),
                  "members": spacy_tables.live_store()}, sort_keys=True))
"""


def main() -> int:
    from tamis.steps.quality import spacy_tables

    outputs = list(child_outputs(CHILD, sys.argv[1:]))
    first = outputs[0]
    tags = [found["tag"] for found in outputs if found["members"] == first["members"]]
    for found in outputs:
        if found["tag"] not in tags:
            print(f"{found['tag']}: its tables differ from {first['tag']}'s: it builds its splitters live")
    spacy_tables.PATH.write_bytes(spacy_tables.encode_store(first["members"], tags, first["rules_languages"]))
    languages = {name.split(":", 1)[1] for name in first["members"] if name.startswith("language:")}
    left_out = sorted(set(first["rules_languages"]) - languages)
    print(f"{spacy_tables.PATH.relative_to(ROOT)}: {len(languages)} languages, {len(first['members']) - len(languages)} programs"
          f"{f' ({left_out} built live: a pattern without a matcher program)' if left_out else ''}, tags {tags}, "
          f"{spacy_tables.PATH.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
