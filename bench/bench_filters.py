"""Agreement and speed of tamis's quality filters against datatrove's, on the same documents.

Run in the bench venv (datatrove and tamis are both installed there):

    .bench-venv/bin/python bench/bench_filters.py [--limit-man 400] [--no-trafilatura]

Documents (real text only):
- scrapinghub-aeb gold article bodies (181 articles, mostly English);
- the Clough-Stevenson short answers (100 English texts, mixed encodings);
- the trafilatura-eval pages turned into text by trafilatura (the extractor FineWeb used),
  cached under /tmp/tamis-bench-cache;
- this machine's man pages rendered with ``man -P cat`` (English and the installed
  French, German, Spanish, Italian, Portuguese and Dutch sets) and the licence texts under /usr/share/common-licenses.

Each document's language comes from tamis's ``language`` step (fastText lid.176). Both
implementations get the same thresholds: for English the published ones; for a language with
settings, tamis's per-language values are passed to datatrove explicitly (thresholds and
stop words), and datatrove tokenizes with spaCy for that language as it does by default.

Prints, per filter and language group: decision agreement, the disagreement classes as
(tamis reason, datatrove reason) pairs, and docs/s on one core for each implementation with
the ratio. Every filter runs alone over all documents (no statistics shared between filters),
after a warm-up pass, so the timing is per filter.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus")
CACHE = Path(os.environ.get("TAMIS_BENCH_CACHE", "/tmp/tamis-bench-cache"))
MAN_ROOT = Path("/usr/share/man")
LICENSES = Path("/usr/share/common-licenses")


def decode(data: bytes) -> str:
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def render_man_page(path: Path) -> str | None:
    """A man page as ``man`` shows it (80 columns, no formatting), or None if it is too short."""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
    try:
        result = subprocess.run(["man", "-l", "-P", "cat", str(path)], capture_output=True, env=env, check=False, stdin=subprocess.DEVNULL, timeout=20)
    except subprocess.TimeoutExpired:
        return None
    text = decode(result.stdout)
    return text if len(text.split()) >= 20 else None


def scrapinghub_docs() -> list[tuple[str, str]]:
    truth = json.loads((CORPUS / "scrapinghub-aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    return [(f"aeb/{key}", value["articleBody"]) for key, value in sorted(truth.items()) if value.get("articleBody")]


def clough_docs() -> list[tuple[str, str]]:
    folder = CORPUS / "clough-stevenson-plagiarism" / "texts"
    docs = []
    for path in sorted(folder.glob("*.txt")):
        text = decode(path.read_bytes()).replace("\r\n", "\n").replace("\r", "\n").replace("\x85", "\n")
        docs.append((f"clough/{path.name}", text))
    return docs


def trafilatura_docs() -> list[tuple[str, str]]:
    """Main text of the trafilatura-eval pages (extracted once, then cached)."""
    cached = CACHE / "trafilatura_eval_text.json"
    if cached.is_file():
        return [tuple(pair) for pair in json.loads(cached.read_text(encoding="utf-8"))]
    import trafilatura

    docs = []
    with tarfile.open(CORPUS / "trafilatura-eval" / "html.tar.xz") as archive:
        for member in archive:
            if not member.isfile():
                continue
            handle = archive.extractfile(member)
            if handle is None:
                continue
            html = decode(handle.read())
            text = trafilatura.extract(html, include_comments=False, include_tables=True)
            if text and text.strip():
                docs.append((f"trafilatura/{member.name}", text))
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    return docs


def man_docs(limit_per_language: int) -> list[tuple[str, str]]:
    """Man pages rendered as plain text: English sections 1-8 and each translated set."""
    cached = CACHE / f"man_{limit_per_language}.json"
    if cached.is_file():
        return [tuple(pair) for pair in json.loads(cached.read_text(encoding="utf-8"))]
    sets = {"en": sorted(p for section in range(1, 9) for p in (MAN_ROOT / f"man{section}").glob("*.gz"))}
    for folder in sorted(MAN_ROOT.iterdir()):
        # Only the translated sets the filters have settings for (the others would be left out).
        if folder.is_dir() and folder.name.split("_")[0] in ("fr", "de", "es", "it", "pt", "nl"):
            sets[folder.name] = sorted(folder.glob("man*/*.gz"))
    docs = []
    for name, pages in sets.items():
        step = max(1, len(pages) // limit_per_language)
        for path in pages[::step][:limit_per_language]:
            text = render_man_page(path)
            if text is not None:
                docs.append((f"man/{name}/{path.name}", text))
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    return docs


def license_docs() -> list[tuple[str, str]]:
    return [(f"license/{p.name}", decode(p.read_bytes())) for p in sorted(LICENSES.iterdir()) if p.is_file()]


def gather(limit_man: int, with_trafilatura: bool) -> list[tuple[str, str]]:
    docs = scrapinghub_docs() + clough_docs() + license_docs() + man_docs(limit_man)
    if with_trafilatura:
        docs += trafilatura_docs()
    return [(doc_id, text) for doc_id, text in docs if text.strip()]


def identify(docs: list[tuple[str, str]]) -> dict[str, str]:
    from tamis.steps.language import FastTextIdentifier

    identifier = FastTextIdentifier()
    return {doc_id: identifier.predict(text)[0] or "none" for doc_id, text in docs}


# --- the two implementations, configured alike -------------------------------------------

def tamis_filters(language: str) -> dict[str, object]:
    from tamis.steps.quality.c4 import C4Quality
    from tamis.steps.quality.fineweb import FineWebQuality
    from tamis.steps.quality.gopher import GopherQuality, GopherRepetition

    filters = {
        "gopher_quality": GopherQuality(language=language),
        "gopher_repetition": GopherRepetition(language=language),
        "c4_quality": C4Quality(language=language),
        "fineweb_quality": FineWebQuality(language=language),
    }
    for step in filters.values():
        step.setup()
    return filters


def datatrove_filters(language: str, tamis: dict[str, object]) -> dict[str, object]:
    """datatrove's filters with the thresholds tamis applies to ``language``."""
    from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter

    from tamis.steps.quality.fineweb import terminal_punctuation
    from tamis.steps.quality.languages import settings_for

    gq = tamis["gopher_quality"].thresholds(language)
    gr = tamis["gopher_repetition"].thresholds(language)
    c4 = tamis["c4_quality"].thresholds(language)
    fw = tamis["fineweb_quality"].thresholds(language)
    stop_words = sorted(settings_for(language).stop_words)
    return {
        "gopher_quality": GopherQualityFilter(
            min_doc_words=gq["min_doc_words"], max_doc_words=gq["max_doc_words"],
            min_avg_word_length=gq["min_avg_word_length"], max_avg_word_length=gq["max_avg_word_length"],
            max_symbol_word_ratio=gq["max_symbol_word_ratio"], max_bullet_lines_ratio=gq["max_bullet_lines_ratio"],
            max_ellipsis_lines_ratio=gq["max_ellipsis_lines_ratio"], max_non_alpha_words_ratio=gq["min_alpha_words_ratio"],
            min_stop_words=gq["min_stop_words"] if stop_words else None, stop_words=stop_words or None, language=language,
        ),
        "gopher_repetition": GopherRepetitionFilter(
            dup_line_frac=gr["dup_line_frac"], dup_para_frac=gr["dup_para_frac"], dup_line_char_frac=gr["dup_line_char_frac"],
            dup_para_char_frac=gr["dup_para_char_frac"], top_n_grams=tuple(map(tuple, gr["top_n_grams"])),
            dup_n_grams=tuple(map(tuple, gr["dup_n_grams"])), language=language,
        ),
        "c4_quality": C4QualityFilter(
            filter_no_terminal_punct=False, min_num_sentences=c4["min_num_sentences"],
            min_words_per_line=c4["min_words_per_line"], max_word_length=c4["max_word_length"], language=language,
        ),
        "fineweb_quality": FineWebQualityFilter(
            line_punct_thr=fw["line_punct_thr"], short_line_thr=fw["short_line_thr"], short_line_length=fw["short_line_length"],
            char_duplicates_ratio=fw["char_duplicates_ratio"], new_line_ratio=fw["new_line_ratio"],
            stop_chars=terminal_punctuation(), language=language,
        ),
    }


def tamis_verdicts(step, docs, language):
    """(reasons, seconds): the rule each document broke (None = kept), via the step's run()."""
    from tamis.document import Document
    from tamis.steps.base import TaskContext

    documents = [Document(id=doc_id, text=text, metadata={"language": language}) for doc_id, text in docs]
    ctx = TaskContext(0)
    start = time.perf_counter()
    kept = {doc.id for doc in step.run(iter(documents), ctx)}
    seconds = time.perf_counter() - start
    rejected = {record["id"]: record["reason"].split(":", 1)[1] for record in ctx.rejected_records}
    return [None if doc_id in kept else rejected[doc_id] for doc_id, _ in docs], seconds


def datatrove_verdicts(dt_filter, docs):
    from datatrove.data import Document as DtDocument

    documents = [DtDocument(text=text, id=doc_id) for doc_id, text in docs]
    reasons = []
    start = time.perf_counter()
    for doc in documents:
        result = dt_filter.filter(doc)
        if result is True:
            reasons.append(None)
        else:
            reasons.append(result[1] if isinstance(result, tuple) else "rejected")
    return reasons, time.perf_counter() - start


def run_group(language: str, docs: list[tuple[str, str]], repeats: int) -> dict[str, dict]:
    tamis = tamis_filters(language)
    datatrove = datatrove_filters(language, tamis)
    results = {}
    for name, step in tamis.items():
        dt_filter = datatrove[name]
        warm = docs[: min(len(docs), 20)]
        datatrove_verdicts(dt_filter, copy.deepcopy(warm))
        tamis_verdicts(step, warm, language)
        t_best = d_best = float("inf")
        for _ in range(repeats):
            t_reasons, t_seconds = tamis_verdicts(step, docs, language)
            d_reasons, d_seconds = datatrove_verdicts(dt_filter, docs)
            t_best, d_best = min(t_best, t_seconds), min(d_best, d_seconds)
        classes = Counter((t, d) for t, d in zip(t_reasons, d_reasons, strict=True) if (t is None) != (d is None))
        examples = {}
        for (doc_id, _), t, d in zip(docs, t_reasons, d_reasons, strict=True):
            if (t is None) != (d is None):
                examples.setdefault((t, d), doc_id)
        agree = sum((t is None) == (d is None) for t, d in zip(t_reasons, d_reasons, strict=True))
        results[name] = {
            "docs": len(docs),
            "agree": agree,
            "tamis_rejected": sum(t is not None for t in t_reasons),
            "datatrove_rejected": sum(d is not None for d in d_reasons),
            "tamis_docs_per_s": len(docs) / t_best,
            "datatrove_docs_per_s": len(docs) / d_best,
            "classes": classes,
            "examples": examples,
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-man", type=int, default=300, help="man pages per language set")
    parser.add_argument("--no-trafilatura", action="store_true", help="skip the trafilatura-eval pages")
    parser.add_argument("--repeats", type=int, default=2, help="timing repeats (best is kept)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    docs = gather(args.limit_man, not args.no_trafilatura)
    languages = identify(docs)
    from tamis.steps.quality.languages import SUPPORTED_LANGUAGES

    groups: dict[str, list[tuple[str, str]]] = {}
    for doc_id, text in docs:
        language = languages[doc_id]
        if language in SUPPORTED_LANGUAGES:
            groups.setdefault(language, []).append((doc_id, text))
    print(f"{len(docs)} documents; by language: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))))
    print(f"{'filter':<18} {'lang':<4} {'docs':>5} {'agree':>7} {'rej tamis':>9} {'rej dt':>7} {'tamis d/s':>10} {'dt d/s':>9} {'ratio':>6}")
    all_results = {}
    for language in sorted(groups, key=lambda k: -len(groups[k])):
        results = run_group(language, groups[language], args.repeats)
        all_results[language] = results
        for name, r in results.items():
            ratio = r["tamis_docs_per_s"] / r["datatrove_docs_per_s"]
            print(f"{name:<18} {language:<4} {r['docs']:>5} {100 * r['agree'] / r['docs']:>6.1f}% {r['tamis_rejected']:>9} "
                  f"{r['datatrove_rejected']:>7} {r['tamis_docs_per_s']:>10.0f} {r['datatrove_docs_per_s']:>9.0f} {ratio:>5.1f}x")
        sys.stdout.flush()
    print("\ndisagreements: (tamis reason, datatrove reason) count, first example")
    for language, results in all_results.items():
        for name, r in results.items():
            for (t, d), count in r["classes"].most_common():
                print(f"  {language} {name}: tamis={t} datatrove={d}: {count}  e.g. {r['examples'][(t, d)]}")
    total = {name: [0, 0, 0.0, 0.0] for name in next(iter(all_results.values()))}
    for results in all_results.values():
        for name, r in results.items():
            total[name][0] += r["docs"]
            total[name][1] += r["agree"]
            total[name][2] += r["docs"] / r["tamis_docs_per_s"]
            total[name][3] += r["docs"] / r["datatrove_docs_per_s"]
    print("\nall languages:")
    for name, (n, agree, t_s, d_s) in total.items():
        print(f"  {name:<18} agreement {100 * agree / n:.2f}% of {n}; tamis {n / t_s:.0f} docs/s, datatrove {n / d_s:.0f} docs/s, ratio {d_s / t_s:.1f}x")
    if args.json:
        serialisable = {
            lang: {name: {k: v for k, v in r.items() if k not in ("classes", "examples")} for name, r in res.items()}
            for lang, res in all_results.items()
        }
        args.json.write_text(json.dumps(serialisable, indent=1))


if __name__ == "__main__":
    main()
