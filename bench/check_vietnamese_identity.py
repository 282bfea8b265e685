"""tamis's Vietnamese words against pyvi and datatrove themselves, page by page (run by hand).

Runs where pyvi and datatrove are installed (the bench venv), with this checkout's tamis first on
the path: for every page of each bench corpus file given (bench/bench_languages.py writes them;
Vietnamese pages, and pages of other scripts as a language-ID mistake would hand them over), and
for ``--generated`` texts mixing their syllables with every alternative of pyvi's syllable
expression, compares ``tamis.steps.quality.vietnamese.pyvi_tokenize`` with pyvi's
``ViTokenizer.tokenize`` and ``vietnamese_words`` with datatrove's ``word_tokenize`` for
``vie_Latn``, and prints mismatches and CPU seconds of each side. Exits 1 on a mismatch.

Usage: /work/bench-venv/bin/python bench/check_vietnamese_identity.py /tmp/tamis-bench-languages-120/corpus/{vi,fr,zh}.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="+", help="bench_languages.py corpus files (JSONL, a page a line)")
    parser.add_argument("--generated", type=int, default=3000)
    args = parser.parse_args()
    from datatrove.utils.word_tokenizers import load_word_tokenizer
    from derive_vietnamese_model import generated_texts
    from pyvi.ViTokenizer import ViTokenizer

    from tamis.steps.quality.vietnamese import pyvi_tokenize, vietnamese_words

    datatrove_words = load_word_tokenizer("vie_Latn")
    sets = {path: [json.loads(line)["text"] for line in Path(path).read_text(encoding="utf-8").splitlines()] for path in args.corpus}
    syllables = sorted({s for texts in sets.values() for text in texts[:40] for s in text.split()})
    sets["generated"] = generated_texts(syllables, args.generated, seed=2026)
    failed = False
    for name, texts in sets.items():
        seconds = [0.0, 0.0, 0.0, 0.0]
        mismatches = [0, 0]
        for text in texts:
            results = []
            for k, function in enumerate((pyvi_tokenize, ViTokenizer.tokenize, vietnamese_words, datatrove_words.word_tokenize)):
                started = time.process_time()
                results.append(function(text))
                seconds[k] += time.process_time() - started
            mismatches[0] += results[0] != results[1]
            mismatches[1] += results[2] != results[3]
        failed |= any(mismatches)
        print(f"{name}: {len(texts)} texts; pyvi form {mismatches[0]} mismatches (CPU s tamis {seconds[0]:.2f}, pyvi {seconds[1]:.2f}); "
              f"words {mismatches[1]} mismatches (CPU s tamis {seconds[2]:.2f}, datatrove {seconds[3]:.2f})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
