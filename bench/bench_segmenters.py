"""Each word segmenter's one-time load, and what a cheaper configuration changes on real text.

    .venv/bin/python bench/bench_segmenters.py [--repeat 3] [--verdicts]

Loads: each segmenter configuration is loaded in a fresh interpreter (import, construction and
the first call, which finishes Kiwi's lazy build), ``--repeat`` times, and the CPU seconds of the
load alone are printed (median, and every run: the machine is shared).

Real text of each language, none of it written by us: this machine's man pages
(/usr/share/man/{ko,ja,zh_CN,zh_TW}, roff stripped by bench/corpus.py) and its programs'
translated messages (/usr/share/locale/LANG/LC_MESSAGES/*.mo, the translations only), cut into
page-sized documents at line ends; and the article bodies of ../shared/corpus/scrapinghub-aeb's
pages written in that script (real web articles).

Words: for Chinese, rjieba's cut with its dictionary given as the texts hold its words (what
tamis runs: tamis/steps/quality/jieba_dictionary.py) against ``Jieba()``, the whole dictionary
built at rjieba's import, on the Chinese documents below and on every man page holding an
ideograph (any language): documents cut differently. For Thai, tamis's newmm (PyThaiNLP's dictionary as a sorted list instead of its trie)
against PyThaiNLP's ``word_tokenize(engine="newmm-safe")``. For Kiwi, tamis's configuration against ``Kiwi()`` with every built-in dictionary
(what datatrove's KiwiTokenizer, and so FineWeb-2, constructs), both through tamis's
``segment`` (the same pieces, long-run cuts and number stripping): documents and words that
differ, and the most frequent differences; the same for Kiwi also without its default
dictionary (measured, not taken). ``--verdicts`` then runs the default recipe
(``tamis run``, one worker) on the Korean documents under both configurations and compares every
kept and rejected id and its reason.
"""

from __future__ import annotations

import argparse
import difflib
import gettext
import glob
import json
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGUAGES = {"ko": ("ko",), "ja": ("ja",), "zh": ("zh_CN", "zh_TW"), "th": ("th",)}
PAGE_CHARS = 3000
SCRIPTS = {"ko": re.compile("[\uac00-\ud7a3]"), "ja": re.compile("[\u3040-\u30ff]"), "zh": re.compile("[\u4e00-\u9fff]"),
           "th": re.compile("[\u0e00-\u0e7f]")}

# What each configuration's load runs (a fresh interpreter each time). Kiwi's first tokenize
# finishes its lazy build, so the load is construction plus one call on every segmenter.
LOADS = {
    "kiwi: tamis (KIWI_OPTIONS)": "from tamis.steps.quality.segmenters import segmenter; segmenter('kiwi')('한국어')",
    "kiwi: Kiwi(load_multi_dict=False)": "import kiwipiepy; kiwipiepy.Kiwi(load_multi_dict=False).tokenize('한국어')",
    "kiwi: Kiwi() (every dictionary, FineWeb-2's)": "import kiwipiepy; kiwipiepy.Kiwi().tokenize('한국어')",
    "kiwi: no multi-word, no typo dictionary": (
        "import kiwipiepy; kiwipiepy.Kiwi(load_multi_dict=False, load_typo_dict=False).tokenize('한국어')"),
    "kiwi: no multi-word, no default dictionary": (
        "import kiwipiepy; kiwipiepy.Kiwi(load_multi_dict=False, load_default_dict=False).tokenize('한국어')"),
    "kiwi: no multi-word, one thread (num_workers=0)": (
        "import kiwipiepy; kiwipiepy.Kiwi(load_multi_dict=False, num_workers=0).tokenize('한국어')"),
    "jieba: tamis (dictionary words given as texts hold them)": (
        "from tamis.steps.quality.segmenters import segmenter; segmenter('jieba')('中文分词')"),
    "jieba: rjieba's import (Jieba(), the whole dictionary)": "import rjieba; rjieba.cut('中文分词')",
    "sudachi (core, mode A)": "from tamis.steps.quality.segmenters import segmenter; segmenter('sudachi')('日本語')",
    "newmm: tamis (sorted word list)": "from tamis.steps.quality.segmenters import segmenter; segmenter('newmm')('ภาษาไทย')",
    "newmm: pythainlp's default (dictionary trie)": (
        "from pythainlp.tokenize import word_tokenize; word_tokenize('ภาษาไทย', engine='newmm-safe', keep_whitespace=False)"),
}

_TIMED = """
import time
started = time.process_time()
{code}
print(time.process_time() - started)
"""


def load_seconds(code: str) -> float:
    done = subprocess.run([sys.executable, "-c", _TIMED.format(code=code)], capture_output=True, text=True, check=True)
    return float(done.stdout.split()[-1])


def pages(text: str, prefix: str) -> list[dict]:
    """``text`` cut at line ends into documents of about PAGE_CHARS characters."""
    docs, lines, size = [], [], 0
    for line in text.split("\n"):
        lines.append(line)
        size += len(line) + 1
        if size >= PAGE_CHARS:
            docs.append({"id": f"{prefix}#{len(docs)}", "text": "\n".join(lines)})
            lines, size = [], 0
    if sum(map(len, lines)) > 200:
        docs.append({"id": f"{prefix}#{len(docs)}", "text": "\n".join(lines)})
    return docs


def real_documents(language: str, corpus: Path) -> list[dict]:
    sys.path.insert(0, str(HERE))
    from corpus import man_pages

    folders = LANGUAGES[language]
    docs = [{"id": doc_id, "text": text} for doc_id, text in man_pages()
            if doc_id.removeprefix("man:").split("/")[0] in folders]
    for folder in folders:
        for path in sorted(glob.glob(f"/usr/share/locale/{folder}/LC_MESSAGES/*.mo")):
            with open(path, "rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog  # msgid -> translation
            translated = [value for key, value in catalog.items() if key and isinstance(value, str)]
            docs += pages("\n".join(translated), f"mo:{folder}/{Path(path).stem}")
    # Web articles: the article bodies of the AEB evaluation pages written mostly in this script.
    truth = json.loads((corpus / "scrapinghub-aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    script = SCRIPTS[language]
    for page_id, page in sorted(truth.items()):
        body = page.get("articleBody") or ""
        if len(script.findall(body)) > len(body) / 3:
            docs.append({"id": f"aeb:{page_id}", "text": body})
    return docs


def compare_thai_words(docs: list[dict]) -> None:
    """tamis's newmm (its dictionary as a sorted word list) against PyThaiNLP's own default."""
    from pythainlp.tokenize import word_tokenize

    from tamis.steps.quality.segmenters import segmenter

    cut = segmenter("newmm")
    ours = [cut(doc["text"]) for doc in docs]
    theirs = [word_tokenize(doc["text"], engine="newmm-safe", keep_whitespace=False) for doc in docs]
    changed = sum(a != b for a, b in zip(ours, theirs, strict=True))
    print(f"Thai words, PyThaiNLP's newmm-safe vs tamis's: {len(docs)} documents, {sum(map(len, theirs)):,} words; "
          f"{changed} documents differ")


def compare_jieba_words(docs: list[dict], label: str) -> None:
    """rjieba's cut with its dictionary given as texts hold its words (what tamis runs) against
    ``Jieba()`` (rjieba's import): every document through one lazy instance, none switched to
    the full build, so each cut is the lazy one."""
    from tamis.steps.quality import jieba_dictionary

    module = jieba_dictionary.extension_module()
    assert module is not None, "rjieba is not installed"
    found = jieba_dictionary.dictionary_frame(Path(module.__file__).read_bytes())
    assert found is not None and found[1] in jieba_dictionary.KNOWN_DICTIONARIES, "rjieba's dictionary is not a known one"
    _, total = jieba_dictionary.KNOWN_DICTIONARIES[found[1]]
    lazy = jieba_dictionary.LazyJieba(module, jieba_dictionary.Dictionary(found[0], total), limit=sys.maxsize)
    full = module.Jieba()
    changed = characters = cut_words = 0
    for doc in docs:
        ours, theirs = lazy.cut(doc["text"]), full.cut(doc["text"])
        changed += ours != theirs
        characters += len(doc["text"])
        cut_words += len(theirs)
    print(f"Chinese cuts, {label}: {len(docs)} documents, {characters:,} characters, {cut_words:,} tokens (Jieba()); "
          f"{changed} documents cut differently by tamis's lazily given dictionary")


def kiwi_words(docs: list[dict], options: dict) -> list[list[str]]:
    """What the quality steps count as the words of each Korean page, Kiwi built with ``options``."""
    from tamis.steps.quality import segmenters
    from tamis.steps.quality.languages import settings_for
    from tamis.steps.quality.words import words_for

    korean = settings_for("ko")
    kept_options = segmenters.KIWI_OPTIONS
    segmenters.KIWI_OPTIONS = options
    segmenters._kiwi.cache_clear()
    try:
        return [words_for(doc["text"], korean) for doc in docs]
    finally:
        segmenters.KIWI_OPTIONS = kept_options
        segmenters._kiwi.cache_clear()


def compare_kiwi_words(docs: list[dict], label: str, options: dict, shown: int = 12) -> None:
    """tamis's Kiwi against Kiwi built with ``options``: documents and words that differ."""
    from tamis.steps.quality import segmenters

    ours, theirs = kiwi_words(docs, segmenters.KIWI_OPTIONS), kiwi_words(docs, options)
    differences: Counter[tuple[str, str]] = Counter()
    changed_docs = changed_words = 0
    for a, b in zip(ours, theirs, strict=True):
        if a == b:
            continue
        changed_docs += 1
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, b, a, autojunk=False).get_opcodes():
            if op != "equal":
                changed_words += max(i2 - i1, j2 - j1)
                differences[(" | ".join(b[i1:i2]), " | ".join(a[j1:j2]))] += 1
    total = sum(map(len, theirs))
    print(f"Korean words, {label} vs tamis's Kiwi: {len(docs)} documents, {total:,} words ({label}); "
          f"{changed_docs} documents and {changed_words} words differ ({changed_words / max(total, 1):.4%})")
    for (before, after), count in differences.most_common(shown):
        print(f"    {count:3d}x  {label}: [{before}]  tamis: [{after}]")


_RUN_WITH_OPTIONS = """
import json, sys
from tamis.steps.quality import segmenters
segmenters.KIWI_OPTIONS = json.loads(sys.argv[3])
from tamis.cli import main
try:
    main(["run", "--input", sys.argv[1], "--output", sys.argv[2], "--workers", "1", "-q"])
except SystemExit as exit:
    assert exit.code in (0, 1, None), exit.code
"""


def verdicts(out: Path) -> dict[str, str]:
    """id -> "kept" or the reject reason, from a run's output and rejects."""
    import gzip

    found: dict[str, str] = {}
    for folder, kept in (("output", True), ("rejects", False)):
        for path in sorted((out / folder).rglob("*.jsonl*")):
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as handle:
                for line in handle:
                    record = json.loads(line)
                    found[str(record["id"])] = "kept" if kept else str(record["reason"])
    return found


def compare_kiwi_verdicts(docs: list[dict], tamis_options: dict, label: str = "Kiwi()", options: dict | None = None) -> None:
    """The default recipe's verdicts on ``docs`` with Kiwi built with ``options`` (``label``) and with tamis's."""
    with tempfile.TemporaryDirectory(prefix="tamis-segmenters-") as tmp:
        root = Path(tmp)
        docs_path = root / "ko.jsonl"
        docs_path.write_text("".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in docs), encoding="utf-8")
        found = {}
        for side, side_options in (("other", options or {}), ("tamis", tamis_options)):
            subprocess.run([sys.executable, "-c", _RUN_WITH_OPTIONS, str(docs_path), str(root / side), json.dumps(side_options)],
                           check=True, capture_output=True)
            found[side] = verdicts(root / side)
    before, after = found["other"], found["tamis"]
    assert before.keys() == after.keys() == {doc["id"] for doc in docs}, "a run lost or repeated a document"
    changed = sorted(key for key in before if before[key] != after[key])
    reasons = Counter(before.values())
    print(f"Korean verdicts, default recipe, {label} vs tamis's Kiwi: {len(before)} documents "
          f"({reasons['kept']} kept; rejects {dict(Counter(v for v in before.values() if v != 'kept').most_common(4))}); "
          f"{len(changed)} verdicts differ")
    for key in changed[:10]:
        print(f"    {key}: {label} {before[key]}, tamis {after[key]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--verdicts", action="store_true", help="also run the default recipe on the Korean documents twice")
    parser.add_argument("--skip-loads", action="store_true")
    parser.add_argument("--only-jieba", action="store_true", help="only the jieba loads and the Chinese cuts (lazy dictionary vs Jieba())")
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus", help="../shared/corpus")
    args = parser.parse_args()

    if not args.skip_loads:
        print(f"segmenter loads, CPU seconds in a fresh interpreter (import + construction + first call), {args.repeat} rounds")
        # Round-robin, every configuration once a round: on a shared machine the load drifts over
        # minutes, and configurations measured one after the other read that drift as a difference
        # (Kiwi's typo dictionary read as 0.9 s that way; 0.02 s in rounds).
        loads = {label: code for label, code in LOADS.items() if label.startswith("jieba") or not args.only_jieba}
        runs: dict[str, list[float]] = {label: [] for label in loads}
        for _ in range(args.repeat):
            for label, code in loads.items():
                runs[label].append(load_seconds(code))
        for label, times in runs.items():
            print(f"    {label:52s} {statistics.median(times):5.2f} s   ({', '.join(f'{r:.2f}' for r in times)})")

    from tamis.steps.quality import segmenters

    compare_jieba_words(real_documents("zh", args.corpus), "zh man pages, messages, AEB articles")
    sys.path.insert(0, str(HERE))
    from corpus import man_pages

    han = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
    compare_jieba_words([{"id": doc_id, "text": text} for doc_id, text in man_pages() if han.search(text)],
                        "every man page holding an ideograph (any language)")
    if args.only_jieba:
        return 0
    compare_thai_words(real_documents("th", args.corpus))
    korean = real_documents("ko", args.corpus)
    compare_kiwi_words(korean, "Kiwi()", {})
    # measured and not taken: without the typo dictionary (no faster in rounds)
    no_typo = {**segmenters.KIWI_OPTIONS, "load_typo_dict": False}
    compare_kiwi_words(korean, "no typo dictionary", no_typo, shown=5)
    # measured and not taken: without the default dictionary (Wikipedia and Namu proper nouns) too
    compare_kiwi_words(korean, "no default dictionary", {"load_multi_dict": False, "load_default_dict": False}, shown=3)
    if args.verdicts:
        compare_kiwi_verdicts(korean, segmenters.KIWI_OPTIONS)
        compare_kiwi_verdicts(korean, segmenters.KIWI_OPTIONS, "no typo dictionary", no_typo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
