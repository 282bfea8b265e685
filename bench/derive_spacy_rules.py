"""Write tamis/steps/quality/spacy_rules.py: the parts of spaCy's tokenizer rules tamis's words follow (run by hand).

FineWeb-2 counts words with datatrove's word tokenizer for each language, spaCy's rule-based
tokenizer for most of them (``spacy.blank(code)``, the spaCy language datatrove's
``assets/tokenizer_assignment.csv`` assigns to the FineWeb-2 subset). tamis cuts words with its
own compiled rules (:mod:`tamis.steps.quality.words`), which follow spaCy's; this script reads,
per language, the data those rules need from spaCy itself (MIT licence):

- ``SPECIAL_TOKENS``: spaCy's tokenizer exceptions ("special cases") that are one token holding
  punctuation: abbreviations with their period (``z.``, ``см.``, ``Inc.``, ``нпр.``), single
  letters with a period (``a.`` ... ``z.``, spaCy's base exceptions, which Polish and Turkish do
  not use) and emoticons (``8)``, ``):``). spaCy keeps each whole wherever it occurs between
  spaces or next to punctuation it splits off.
- ``INFIXES``: the ASCII punctuation spaCy's infix rules split between two letters (German
  splits brackets and quotes there: ``DATEI(en`` is three words).
- ``EDGES``: the ASCII symbols spaCy keeps on a word's start and end (its prefix and suffix
  rules do not split them: ``--root=``, ``100%``; Hungarian also ``$HOME``, ``^X``).
- ``TOKEN_MATCH``: spaCy's token_match pattern (French keeps the hyphenated compounds of its
  lexicon's prefixes whole, ``sous-répertoire``, ``Jean-Pierre``; Hungarian, Turkish).
- ``PERIOD_KEPT_AFTER``: after what a word's final period stays on it (spaCy's suffix rules:
  German, Hungarian, Serbian and Turkish keep it after a digit, ``22.`` an ordinal; Hungarian
  also after two capitals).

Usage (in an environment with spaCy and datatrove, e.g. the bench venv):
    /work/bench-venv/bin/python bench/derive_spacy_rules.py
"""

from __future__ import annotations

import csv
import importlib
import pprint
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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


def token_match_of(spacy_code: str) -> str | None:
    """The pattern of the language's token_match (French, Hungarian, Turkish: words kept whole, e.g.
    French hyphenated compounds of its lexicon's prefixes), if it has one."""
    import spacy
    from spacy.lang.char_classes import ALPHA, ALPHA_LOWER, ALPHA_UPPER

    match = getattr(spacy.blank(spacy_code).tokenizer, "token_match", None)
    pattern = getattr(getattr(match, "__self__", None), "pattern", None)
    if not isinstance(pattern, str):
        return None
    # spaCy spells its letter classes out (a few kB each, repeated per alternative); inside a
    # character class of these patterns (case-insensitive) \w stands for them (it also admits
    # digits and "_", which do not occur in the words these patterns are for).
    for letters in sorted((ALPHA, ALPHA_LOWER, ALPHA_UPPER), key=len, reverse=True):
        pattern = pattern.replace(letters, "\\w")
    return pattern


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


def rules_of(spacy_code: str) -> tuple[list[str], str]:
    import spacy

    try:
        nlp = spacy.blank(spacy_code)
    except (ImportError, ValueError, KeyError, OSError, importlib.metadata.PackageNotFoundError):
        return [], ""
    if not hasattr(nlp.tokenizer, "rules"):  # Chinese, Japanese, Korean, Thai ...: a segmenter, not spaCy's rules
        return [], ""
    specials = sorted(
        key for key, pieces in nlp.tokenizer.rules.items()
        if len(pieces) == 1 and not key.isalnum() and not any(c.isspace() for c in key) and len(key) > 1
    )
    words = [t.text for t in nlp("ab 22. ab AB. ab")]
    after = ("upper" if "AB." in words else "") + ("_digit" if "22." in words else "")
    return specials, after.lstrip("_")


def main() -> None:
    codes = spacy_code_of_languages()
    specials: dict[str, list[str]] = {}
    period: dict[str, str] = {}
    token_match: dict[str, str] = {}
    infixes: dict[str, str] = {}
    edges: dict[str, tuple[str, str]] = {}
    for spacy_code in sorted(set(codes.values())):
        found, after = rules_of(spacy_code)
        if found:
            specials[spacy_code] = found
            infixes[spacy_code] = infixes_of(spacy_code)
            edges[spacy_code] = edges_of(spacy_code)
            pattern = token_match_of(spacy_code)
            if pattern:
                token_match[spacy_code] = pattern
        if after:
            period[spacy_code] = after
    codes = {code: spacy_code for code, spacy_code in sorted(codes.items()) if spacy_code in specials or spacy_code in period}
    out = ROOT / "tamis" / "steps" / "quality" / "spacy_rules.py"
    out.write_text(
        "# ruff: noqa: E501 (wide characters)\n"
        '"""Generated by bench/derive_spacy_rules.py from spaCy\'s tokenizer rules (MIT); do not edit."""\n\n'
        "# tamis language -> the spaCy language FineWeb-2 (datatrove) tokenizes it with\n"
        f"SPACY_LANGUAGE: dict[str, str] = {pprint.pformat(codes, width=156, compact=True)}\n\n"
        f"SPECIAL_TOKENS: dict[str, list[str]] = {pprint.pformat(specials, width=156, compact=True)}\n\n"
        f"PERIOD_KEPT_AFTER: dict[str, str] = {pprint.pformat(period, width=156, compact=True)}\n\n"
        "# ASCII punctuation the language's infix rules split between two letters\n"
        f"INFIXES: dict[str, str] = {pprint.pformat(infixes, width=156, compact=True)}\n\n"
        "# ASCII symbols spaCy keeps on a word's (start, end): its prefix and suffix rules do not split them off\n"
        f"EDGES: dict[str, tuple[str, str]] = {pprint.pformat(edges, width=156, compact=True)}\n\n"
        "# spaCy's token_match: a chunk (its edge punctuation aside) this pattern matches is one word\n"
        f"TOKEN_MATCH: dict[str, str] = {pprint.pformat(token_match, width=156, compact=True)}\n",
        encoding="utf-8",
    )
    print(f"wrote {out}: {len(codes)} languages, special tokens of {len(specials)} spaCy languages, final-period rules of {len(period)}")


if __name__ == "__main__":
    main()
