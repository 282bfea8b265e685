"""Write spaCy's tokenizer rules per language for tamis's words (run by hand).

FineWeb-2 counts words with datatrove's word tokenizer for each language, spaCy's rule-based
tokenizer for most of them (``spacy.blank(code)``, the spaCy language datatrove's
``assets/tokenizer_assignment.csv`` assigns to the FineWeb-2 subset). tamis runs spaCy's
tokenizer algorithm on spaCy's own rule data (MIT licence) in plain Python
(:mod:`tamis.steps.quality.spacy_tokenizer`); this script writes that data:

- ``tamis/steps/quality/spacy_rules.json.gz`` (loaded on first use of a language): per spaCy
  language its prefix, suffix and infix patterns, token_match and url_match patterns (with their
  flags), its special cases (tokenizer exceptions: string -> the tokens it becomes) and its
  ``faster_heuristics`` setting. Patterns are stored once and referred to by index (many
  languages share them), spaCy's three long letter classes by a placeholder.
- ``tamis/steps/quality/spacy_rules.py`` (small, imported): which spaCy language each tamis
  language uses, after what a final period stays on a word (German ``22.``), and, for the
  bounded fallback on very long chunks (:mod:`tamis.steps.quality.words`), the ASCII punctuation
  the language's infixes split between letters and the symbols its affixes keep on a word's edges.

Usage (in an environment with spaCy and datatrove, e.g. the bench venv):
    /work/bench-venv/bin/python bench/derive_spacy_rules.py
"""

from __future__ import annotations

import csv
import gzip
import importlib
import json
import pprint
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spacy.attrs import ORTH  # noqa: E402  (the bench venv has spaCy)


def spacy_code_of_languages() -> dict[str, str]:
    """tamis language code -> the spaCy language datatrove tokenizes its FineWeb-2 subset with."""
    from datatrove.utils._import_utils import ASSETS_PATH

    from tamis.steps.quality.language_data import FINEWEB2

    table = (Path(ASSETS_PATH) / "tokenizer_assignment.csv").read_text(encoding="utf-8").splitlines()
    rows = {f"{r['code_3']}_{r['script']}": r for r in csv.DictReader(table)}
    codes = {"en": "en"}
    for code, data in FINEWEB2.items():
        row = rows.get(data["subset"])
        if row and row["type"] in ("SpaCyTokenizer", "WhitespaceTokenizer"):
            codes[code] = row["tok_code"] or "xx"
    return codes


def indicnlp_code_of_languages() -> dict[str, str]:
    """tamis language code -> the language datatrove passes to Indic NLP's trivial tokenizer
    (FineWeb-2's tokenizer for Hindi, Bengali, Tamil, Urdu ...)."""
    from datatrove.utils._import_utils import ASSETS_PATH

    from tamis.steps.quality.language_data import FINEWEB2

    table = (Path(ASSETS_PATH) / "tokenizer_assignment.csv").read_text(encoding="utf-8").splitlines()
    rows = {f"{r['code_3']}_{r['script']}": r for r in csv.DictReader(table)}
    return {code: rows[data["subset"]]["tok_code"] or code for code, data in sorted(FINEWEB2.items())
            if rows.get(data["subset"], {}).get("type") == "IndicNLPTokenizer"}


def infixes_of(spacy_code: str) -> str:
    """The ASCII punctuation that the language's infix rules split between two letters (German: brackets, quotes)."""
    import spacy

    nlp = spacy.blank(spacy_code)
    return "".join(c for c in "!\"#$%&'()*+,./:;<=>?@[\\]^_`{|}~" if [t.text for t in nlp(f"ab{c}cd")] == ["ab", c, "cd"])


# ASCII symbols a word may keep on its edges (the period, apostrophe and underscore have rules of their own).
EDGE_CANDIDATES = "-/@\\^|~$%+=&*#<>!?"


def edges_of(spacy_code: str) -> tuple[str, str]:
    """(symbols spaCy keeps at a word's start, at its end): those its prefix and suffix rules do not split off."""
    import spacy

    nlp = spacy.blank(spacy_code)
    lead = "".join(c for c in EDGE_CANDIDATES if [t.text for t in nlp(f"{c}ab")] == [f"{c}ab"])
    trail = "".join(c for c in EDGE_CANDIDATES if [t.text for t in nlp(f"ab{c}")] == [f"ab{c}"])
    return lead, trail


def period_kept_after_of(spacy_code: str) -> str:
    """After what spaCy's suffix rules keep a word's final period: "upper" (AB.), "digit" (22.), both or neither."""
    import spacy

    try:
        nlp = spacy.blank(spacy_code)
    except (ImportError, ValueError, KeyError, OSError, importlib.metadata.PackageNotFoundError):
        return ""
    if not hasattr(nlp.tokenizer, "rules"):  # Chinese, Japanese, Korean, Thai ...: a segmenter, not spaCy's rules
        return ""
    words = [t.text for t in nlp("ab 22. ab AB. ab")]
    after = ("upper" if "AB." in words else "") + ("_digit" if "22." in words else "")
    return after.lstrip("_")


LETTER_CLASSES = ("ALPHA", "ALPHA_LOWER", "ALPHA_UPPER")


def tokenizer_data(spacy_code: str, patterns: dict[str, int]) -> dict | None:
    """What spaCy's Tokenizer of the language runs on (None for a segmenter-based language)."""
    import spacy
    from spacy.lang import char_classes

    try:
        tokenizer = spacy.blank(spacy_code).tokenizer
    except (ImportError, ValueError, KeyError, OSError, importlib.metadata.PackageNotFoundError):
        return None
    if not hasattr(tokenizer, "rules"):
        return None

    def pattern_of(function) -> list | None:
        compiled = getattr(function, "__self__", None)
        if compiled is None:
            if function is not None:
                raise SystemExit(f"{spacy_code}: a tokenizer callable that is not a compiled pattern: {function!r}")
            return None
        text = compiled.pattern
        # longest first: ALPHA_LOWER and ALPHA_UPPER are not substrings of ALPHA, but be safe
        for name in sorted(LETTER_CLASSES, key=lambda n: -len(getattr(char_classes, n))):
            text = text.replace(getattr(char_classes, name), "\x00" + name + "\x00")
        index = patterns.setdefault(text, len(patterns))
        return [index, compiled.flags & ~re.UNICODE]

    from tamis.steps.quality.spacy_tokenizer import edge_chars, infix_chars

    def chars(found) -> int | None:  # stored once in the patterns table (languages share them)
        return None if found is None else patterns.setdefault("".join(sorted(found)), len(patterns))

    def edges(function, last: bool) -> list | None:
        found = edge_chars(function.__self__, last) if function is not None else None
        return None if found is None else [chars(found[0]), chars(found[1])]

    rules = {key: [piece[ORTH] for piece in pieces] for key, pieces in tokenizer.rules.items()}
    return {
        # what each pattern's matches must start with, end with, hold (spacy_tokenizer.edge_chars)
        "prefix_first": edges(tokenizer.prefix_search, last=False),
        "suffix_last": edges(tokenizer.suffix_search, last=True),
        "infix_chars": chars(infix_chars(tokenizer.infix_finditer.__self__)) if tokenizer.infix_finditer else None,
        "prefix": pattern_of(tokenizer.prefix_search),
        "suffix": pattern_of(tokenizer.suffix_search),
        "infix": pattern_of(tokenizer.infix_finditer),
        "token_match": pattern_of(tokenizer.token_match),
        "url_match": pattern_of(tokenizer.url_match),
        "faster_heuristics": bool(tokenizer.faster_heuristics),
        # a one-token rule is stored as its string alone
        "specials": sorted(key for key, tokens in rules.items() if tokens == [key]),
        "split_specials": {key: tokens for key, tokens in sorted(rules.items()) if tokens != [key]},
    }


def main() -> None:
    from spacy.lang import char_classes

    codes = spacy_code_of_languages()
    period: dict[str, str] = {}
    infixes: dict[str, str] = {}
    edges: dict[str, tuple[str, str]] = {}
    patterns: dict[str, int] = {}
    languages: dict[str, dict] = {}
    for spacy_code in sorted(set(codes.values())):
        data = tokenizer_data(spacy_code, patterns)
        after = period_kept_after_of(spacy_code)
        if data is not None:
            languages[spacy_code] = data
            infixes[spacy_code] = infixes_of(spacy_code)
            edges[spacy_code] = edges_of(spacy_code)
        if after:
            period[spacy_code] = after
    codes = {code: spacy_code for code, spacy_code in sorted(codes.items()) if spacy_code in languages or spacy_code in period}
    import spacy

    data_file = ROOT / "tamis" / "steps" / "quality" / "spacy_rules.json.gz"
    payload = {
        "spacy_version": spacy.__version__,
        "letter_classes": {name: getattr(char_classes, name) for name in LETTER_CLASSES},
        "patterns": sorted(patterns, key=patterns.__getitem__),
        "languages": languages,
    }
    # mtime 0: the same rules give the same bytes
    data_file.write_bytes(gzip.compress(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode(), 9, mtime=0))
    out = ROOT / "tamis" / "steps" / "quality" / "spacy_rules.py"
    out.write_text(
        '"""Generated by bench/derive_spacy_rules.py from spaCy\'s tokenizer rules (MIT); do not edit.\n\n'
        "The tokenizer rules themselves are in spacy_rules.json.gz (:mod:`tamis.steps.quality.spacy_tokenizer`).\n"
        '"""\n\n'
        f"SPACY_VERSION = {spacy.__version__!r}\n\n"
        "# tamis language -> the spaCy language FineWeb-2 (datatrove) tokenizes it with\n"
        f"SPACY_LANGUAGE: dict[str, str] = {pprint.pformat(codes, width=120, compact=True)}\n\n"
        f"PERIOD_KEPT_AFTER: dict[str, str] = {pprint.pformat(period, width=120, compact=True)}\n\n"
        "# ASCII punctuation the language's infix rules split between two letters (the long-chunk fallback)\n"
        f"INFIXES: dict[str, str] = {pprint.pformat(infixes, width=120, compact=True)}\n\n"
        "# ASCII symbols spaCy keeps on a word's (start, end): its prefix and suffix rules do not split them off\n"
        f"EDGES: dict[str, tuple[str, str]] = {pprint.pformat(edges, width=120, compact=True)}\n\n"
        "# tamis language -> the language FineWeb-2 (datatrove) gives Indic NLP's trivial tokenizer\n"
        f"INDICNLP_LANGUAGE: dict[str, str] = {pprint.pformat(indicnlp_code_of_languages(), width=120, compact=True)}\n",
        encoding="utf-8",
    )
    print(f"wrote {out} and {data_file} ({data_file.stat().st_size:,} bytes): {len(codes)} languages, "
          f"tokenizer rules of {len(languages)} spaCy languages, {len(patterns)} distinct patterns")


if __name__ == "__main__":
    main()
