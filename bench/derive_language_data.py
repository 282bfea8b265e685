"""Write tamis/steps/quality/language_data.json from FineWeb-2's per-language configurations (run by hand).

Sources (read offline; nothing here runs when tamis runs):

- FineWeb-2's per-language configuration files, ``configs/{iso639-3}_{Script}.yml`` of the
  huggingface/fineweb-2 repository (Apache-2.0; Penedo et al. 2025, "FineWeb2: One Pipeline to
  Scale Them All"): language-score threshold, duplicate-line fraction, top and duplicate n-gram
  thresholds, line-punctuation threshold, word-length bounds, alphabetic-word share
  (``max_non_alpha_words_ratio``, which datatrove compares as a minimum share of alphabetic
  words), new-line ratio and stop words. These are published facts and are copied as they are.
- FineWeb-2's ``fineweb2-language-distribution.csv`` (same repository): the size of each
  language's web text, which ranks the languages.
- datatrove's ``assets/tokenizer_assignment.csv`` (Apache-2.0): which ISO 639-3 code and script
  an ISO 639-1 code stands for by default (``default_code_1``, ``default_script``), to map the
  labels of fastText's lid.176 model (what tamis's ``language`` step reports) to FineWeb-2's
  subset names. A few labels need a decision (``LID176_TO_FINEWEB2`` below, each with its reason).

Every lid.176 language whose FineWeb-2 subset has a configuration gets those values. A language
without one keeps the older derivation (``--derive``, needs ``pip install wordfreq``): its 16
most frequent words from wordfreq's lists as stop words and Gopher's 3..10 word-length bounds
scaled by its mean word length; languages with neither take their script family's settings
(:mod:`tamis.steps.quality.language_table`).

Usage: .venv/bin/python bench/derive_language_data.py --fineweb2 /work/fineweb2 \\
           --datatrove-assets /work/bench-venv/lib/python3.11/site-packages/datatrove/assets
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# lid.176 labels whose default ISO 639-3 code or script in datatrove's table is not the subset
# FineWeb-2 holds their text under.
LID176_TO_FINEWEB2 = {
    "als": "gsw_Latn",  # lid.176's "als" is Alemannic (Wikipedia's code), not Tosk Albanian (als)
    "no": "nob_Latn",  # Norwegian: Bokmål holds 98 % of the Norwegian web text (nno is separate in lid.176: nn)
    "tl": "fil_Latn",  # Tagalog: FineWeb-2 files its text under Filipino
    "bh": "bho_Deva",  # Bihari: Bhojpuri, its largest member on the web
    "ku": "kmr_Latn",  # lid.176 labels Central Kurdish "ckb" apart: "ku" is Kurmanji, written in Latin
}

# Which config keys become which tamis threshold (same meaning; datatrove's
# max_non_alpha_words_ratio is compared as the smallest allowed share of alphabetic words).
CONFIG_TO_THRESHOLD = {
    "dup_line_frac": "dup_line_frac",
    "top_n_grams": "top_n_grams",
    "dup_n_grams": "dup_n_grams",
    "min_avg_word_length": "min_avg_word_length",
    "max_avg_word_length": "max_avg_word_length",
    "max_non_alpha_words_ratio": "min_alpha_words_ratio",
    "line_punct_thr": "line_punct_thr",
    "new_line_ratio": "new_line_ratio",
}


def lid176_labels() -> list[str]:
    from tamis.steps.language import FastTextIdentifier

    model = FastTextIdentifier()._model
    labels, _ = model.predict("a", k=-1)
    return sorted(label.removeprefix("__label__") for label in labels)


def subset_of(labels: list[str], assignments: Path) -> dict[str, str]:
    rows = list(csv.DictReader(assignments.open(encoding="utf-8")))
    found: dict[str, str] = {}
    for label in labels:
        if label in LID176_TO_FINEWEB2:
            found[label] = LID176_TO_FINEWEB2[label]
            continue
        for row in rows:
            by_code_1 = row["code_1"] == label and row["default_code_1"] == "TRUE"
            by_code_3 = len(label) == 3 and row["code_3"] == label
            if (by_code_1 or by_code_3) and row["default_script"] == "TRUE":
                found[label] = f"{row['code_3']}_{row['script']}"
                break
    return found


def web_sizes(distribution: Path) -> dict[str, tuple[int, str]]:
    sizes = {}
    for row in csv.DictReader(distribution.open(encoding="utf-8")):
        if row["split"] == "train" and not row["subset"].endswith("_removed"):
            sizes[row["subset"]] = (int(row["utf8_bytes"]), row["name"])
    return sizes


def fineweb2_data(fineweb2: Path, assignments: Path) -> dict[str, dict]:
    sizes = web_sizes(fineweb2 / "fineweb2-language-distribution.csv")
    data = {}
    for label, subset in subset_of(lid176_labels(), assignments).items():
        path = fineweb2 / "configs" / f"{subset}.yml"
        if not path.is_file():
            continue
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        web_bytes, name = sizes.get(subset, (0, ""))
        data[label] = {
            "subset": subset,
            "name": name,
            "web_bytes": web_bytes,
            "language_score": config["language_score"],
            "stop_words": list(config["stopwords"]),
            "thresholds": {ours: config[theirs] for theirs, ours in CONFIG_TO_THRESHOLD.items()},
        }
    return dict(sorted(data.items(), key=lambda item: (-item[1]["web_bytes"], item[0])))


# ------------------------------------------------------------------ fallback: derived values

STOP_WORDS = 16
VOCABULARY = 20_000
WORDFREQ_CODE = {"hr": "sh", "sr": "sh", "bs": "sh", "no": "nb", "tl": "fil"}


def derived_data(codes: list[str]) -> tuple[dict[str, dict], float]:
    """Stop words and mean word length from wordfreq's lists, for languages without a FineWeb-2 config."""
    import wordfreq

    def one(code: str) -> tuple[list[str], float] | None:
        source = WORDFREQ_CODE.get(code, code)
        if source not in wordfreq.available_languages("best"):
            return None
        ranked = sorted(wordfreq.get_frequency_dict(source, "best").items(), key=lambda item: -item[1])[:VOCABULARY]
        letter_words = [(w, f) for w, f in ranked if w.replace("'", "").isalpha()]
        weighted = sum(len(w) * f for w, f in letter_words)
        return [w for w, _ in letter_words[:STOP_WORDS]], weighted / sum(f for _, f in letter_words)

    english = one("en")
    assert english is not None
    data = {}
    for code in codes:
        found = one(code)
        if found is not None:
            data[code] = {"stop_words": found[0], "mean_word_length": round(found[1], 2), "source": "wordfreq"}
    return data, round(english[1], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fineweb2", type=Path, default=Path("/work/fineweb2"), help="a checkout of the fineweb-2 repository")
    parser.add_argument("--datatrove-assets", type=Path, required=True, help="datatrove's assets folder")
    parser.add_argument("--derive", action="store_true", help="derive values for lid.176 languages without a config (needs wordfreq)")
    args = parser.parse_args()
    data = fineweb2_data(args.fineweb2, args.datatrove_assets / "tokenizer_assignment.csv")
    derived: dict[str, dict] = {}
    english_mean = 4.36  # wordfreq's English lists, frequency-weighted (see derived_data)
    if args.derive:
        missing = [code for code in lid176_labels() if code not in data and code != "en"]
        derived, english_mean = derived_data(missing)
    # JSON, read by tamis/steps/quality/language_data.py with orjson (a Python literal this size
    # cost ~20 ms of every run's start-up to build from its .pyc).
    out = ROOT / "tamis" / "steps" / "quality" / "language_data.json"
    derived = orjson.loads(orjson.dumps(derived, option=orjson.OPT_SORT_KEYS))  # keys sorted, at every level
    out.write_bytes(orjson.dumps({"english_mean_word_length": english_mean, "fineweb2": data, "derived": derived}) + b"\n")
    print(f"wrote {out}: {len(data)} languages with FineWeb-2 values, {len(derived)} derived")


if __name__ == "__main__":
    main()
