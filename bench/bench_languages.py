"""Every language: tamis against datatrove run with the same per-language configuration.

Three measurements on real text, Debian's translated man pages (``/usr/share/man/<lang>/``,
from the ``manpages-xx`` packages: ``apt-get install manpages-ja manpages-zh manpages-ru ...``),
each rendered to plain text with groff, and for Greek, Vietnamese, Persian, Korean, Arabic and
Hindi also the translated documentation of other Debian packages (``DOC_SOURCES``:
gnome-user-docs, libreoffice-help-xx, manpages-el, and debian-handbook, the Debian
Administrator's Handbook in 26 languages, fetched with ``apt-get download`` into ``--docs``),
kept when fastText's language ID agrees with the folder:

1. ``agreement``: for each language, every page goes through tamis's Gopher quality, Gopher
   repetition and FineWeb quality filters with their defaults, and through datatrove 0.10.1's
   filters of the same name built as FineWeb-2's ``fineweb-2-pipeline.py`` builds them from the
   language's ``configs/{subset}.yml`` (``--fineweb2``, a checkout of huggingface/fineweb-2),
   the subset (``fra_Latn``, ``cmn_Hani`` ...) as datatrove's language, which picks FineWeb-2's
   word tokenizer (spaCy, spaCy + jieba, spaCy + SudachiPy, Kiwi, PyThaiNLP). Printed: the share
   of pages on which both keep, or both reject, per filter and language (target >= 97 %).
0. ``langscore``: lid.176's probability on every rendered page of each folder, and what
   FineWeb's 0.65, FineWeb-2's (GlotLID) threshold and tamis's rule would keep.
2. ``dedup``: Chinese, Japanese and French pages with near copies (1 % of characters edited:
   substituted, deleted or inserted), run through ``tamis dedup`` with its defaults as a
   subprocess; recall (planted copies found) and precision (removed pages that are a planted
   copy, or whose shingle Jaccard with their keeper is >= the threshold) per language.
3. ``speed``: docs/s per core of word segmentation per language (tamis's segmenters and the
   alternatives measured to choose them), and of ``tamis run`` (default recipe, 1 worker, a
   subprocess, wall time with start-up) per language.

Run: ``.venv/bin/python bench/bench_languages.py`` (the peer side runs in the bench venv:
``--peer-python /work/bench-venv/bin/python``, default ``$BENCH_VENV/bin/python`` or
``.bench-venv/bin/python``; it needs ``pip install jieba sudachipy sudachidict-core kiwipiepy
pythainlp pyvi indic-nlp-library`` there, datatrove's tokenizers for these languages).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAN = Path("/usr/share/man")
# bench language -> man page folder
FOLDERS = {
    "ja": "ja", "zh": "zh_CN", "ko": "ko", "ru": "ru", "uk": "uk", "sr": "sr", "tr": "tr", "pl": "pl", "cs": "cs",
    "hu": "hu", "de": "de", "fr": "fr", "es": "es", "nl": "nl", "sv": "sv", "vi": "vi", "da": "da", "it": "it",
    "fi": "fi", "ro": "ro", "id": "id", "pt": "pt_BR",
}
# The language-score measurement adds languages whose FineWeb-2 threshold is below FineWeb's 0.65
# (Danish 0.3, Swedish 0.629) or near it (Indonesian 0.685), and a few more Latin-script folders.
LANGSCORE_EXTRA = "da,it,fi,ro,id,pt"
DEFAULT_LANGUAGES = "ja,zh,ko,ru,uk,sr,tr,pl,cs,hu,de,fr,es,sv,nl,el,vi,fa,ar,hi"
# Languages with too few (or no) Debian man pages also read the translated documentation of
# other Debian packages, fetched with ``apt-get download`` and unpacked with ``dpkg -x`` (nothing
# is installed) under ``--docs``: GNOME's user help (Mallard pages, gnome-user-docs),
# LibreOffice's offline help (HTML, libreoffice-help-xx) and the Debian Administrator's Handbook
# (Publican HTML, debian-handbook: one page per chapter and section; its Persian, Arabic and
# Chinese translations are near complete, Korean and Vietnamese partly). Pages still in English
# (untranslated) fall to the language-ID check like any other page. Hebrew help pages of
# gnome-user-docs, gedit and eog, and GIMP's Persian help (gimp-help-fa) are untranslated English,
# and no Thai text was found in these packages.
HANDBOOK = "usr/share/doc/debian-handbook/html"
DOC_SOURCES = {
    "el": [("manpages-el", "usr/share/man/el", "man"), ("gnome-user-docs", "usr/share/help/el", "mallard"),
           ("libreoffice-help-el", "usr/share/libreoffice/help/el/text", "html")],
    "vi": [("debian-handbook", f"{HANDBOOK}/vi-VN", "handbook"), ("gnome-user-docs", "usr/share/help/vi", "mallard"),
           ("libreoffice-help-vi", "usr/share/libreoffice/help/vi/text", "html")],
    "fa": [("gnome-user-docs", "usr/share/help/fa", "mallard"), ("debian-handbook", f"{HANDBOOK}/fa-IR", "handbook")],
    "ko": [("gnome-user-docs", "usr/share/help/ko", "mallard"), ("libreoffice-help-ko", "usr/share/libreoffice/help/ko/text", "html"),
           ("debian-handbook", f"{HANDBOOK}/ko-KR", "handbook")],
    "ar": [("debian-handbook", f"{HANDBOOK}/ar-MA", "handbook")],
    "hi": [("gnome-user-docs", "usr/share/help/hi", "mallard"), ("libreoffice-help-hi", "usr/share/libreoffice/help/hi/text", "html")],
}
FILTERS = ("gopher_quality", "gopher_repetition", "fineweb_quality")


# ---------------------------------------------------------------------------------------- corpus


def render(path: Path) -> str:
    """A man page as plain text: no line wrapping, no header and footer, no indentation."""
    raw = subprocess.run(
        f"zcat -f '{path}' | preconv 2>/dev/null | groff -man -Tutf8 -rLL=3000n -rHY=0 -P-cbou 2>/dev/null",
        shell=True, capture_output=True, timeout=60, check=False,
    ).stdout.decode("utf-8", "replace")
    lines = [line.strip() for line in raw.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    body = lines[1:-1]  # the NAME(1) header and the footer line
    text = "\n".join(body).strip()
    return re.sub(r"\n{3,}", "\n\n", text)


_MALLARD_BLOCKS = frozenset(("title", "subtitle", "p", "screen", "desc", "td", "th"))


def render_mallard(path: Path) -> str:
    """A Mallard help page as plain text: its titles, paragraphs and table cells, one a line
    (the <info> block with credits and licence left out)."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return ""
    lines: list[str] = []

    def walk(element) -> None:
        name = element.tag.rsplit("}", 1)[-1]
        if name == "info":
            return
        if name in _MALLARD_BLOCKS:
            text = " ".join("".join(element.itertext()).split())
            if text:
                lines.append(text)
            return
        for child in element:
            walk(child)

    walk(root)
    return "\n".join(lines)


def render_help_html(path: Path) -> str:
    """A LibreOffice help page as plain text: the text of its display area, a line per block."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    return _html_text(raw, raw.find('id="DisplayArea"'), raw.find("<footer"))


def render_handbook_html(path: Path) -> str:
    """A page of the Debian Administrator's Handbook (Publican's DocBook HTML) as plain text: its
    chapter, a line per block (the navigation around it left out)."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    found = [at for at in (raw.find(f'class="{kind}"') for kind in ("chapter", "preface", "appendix", "section")) if at >= 0]
    start = min(found) if found else -1
    return _html_text(raw, start, raw.find('<ul class="docnav"'), extra_blocks=("dt", "dd"))  # its tables of contents


def _html_text(raw: str, start: int, end: int, extra_blocks: tuple[str, ...] = ()) -> str:
    """The text of ``raw`` from the element holding ``start`` to ``end``, a line per block."""
    from html.parser import HTMLParser

    if start < 0:
        return ""
    blocks = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "div", "br", "tr", "pre", *extra_blocks}

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("script", "style")
            if tag in blocks:
                self.parts.append("\n")

        def handle_endtag(self, tag):
            self.skip -= tag in ("script", "style") and self.skip > 0
            if tag in blocks:
                self.parts.append("\n")

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(raw[raw.rfind("<", 0, start) : end if end > start else len(raw)])
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def debian_package(name: str, docs: Path) -> Path:
    """``name`` unpacked under ``docs`` (apt-get download + dpkg -x, once)."""
    target = docs / name
    if not (target / ".complete").exists():
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", name], cwd=docs, check=True, capture_output=True)
        deb = max(docs.glob(f"{name}_*.deb"), key=lambda p: p.stat().st_mtime)
        subprocess.run(["dpkg", "-x", str(deb), str(target)], check=True)
        (target / ".complete").touch()
    return target


def page_paths(language: str, docs: Path, docs_first: bool = False):
    """(renderer, path) of every page of the language: its man pages, then its other sources
    (``docs_first``: the other sources first)."""
    if not docs_first:
        yield from man_page_paths(language)
    for package, folder, kind in DOC_SOURCES.get(language, ()):
        root = debian_package(package, docs) / folder
        pattern = {"man": "man*/*", "mallard": "**/*.page", "html": "**/*.html", "handbook": "*.html"}[kind]
        for path in sorted(root.glob(pattern)):
            yield {"man": render, "mallard": render_mallard, "html": render_help_html, "handbook": render_handbook_html}[kind], path
    if docs_first:
        yield from man_page_paths(language)


def man_page_paths(language: str):
    if language in FOLDERS and (MAN / FOLDERS[language]).is_dir():
        for path in sorted((MAN / FOLDERS[language]).glob("man*/*")):
            yield render, path


def build_corpus(
    languages: list[str], pages: int, work: Path, docs: Path = Path("/tmp/tamis-bench-languages-docs"), docs_first: bool = False
) -> dict[str, list[dict]]:
    sys.path.insert(0, str(ROOT))
    from tamis.steps.language import FastTextIdentifier

    identifier = FastTextIdentifier()
    docs_root = docs
    docs_root.mkdir(parents=True, exist_ok=True)
    corpus: dict[str, list[dict]] = {}
    for language in languages:
        cached = work / "corpus" / f"{language}.jsonl"
        if cached.exists():
            docs = [json.loads(line) for line in cached.read_text(encoding="utf-8").splitlines()]
            if len(docs) >= pages or (work / "corpus" / f"{language}.complete").exists():
                corpus[language] = docs[:pages]
                continue
        docs = []
        # Every rendered page's fastText label and score, the folder's language or not (the
        # language-score measurement reads them).
        scores = []
        for renderer, path in page_paths(language, docs_root, docs_first):
            if len(docs) >= pages:
                break
            if path.is_symlink() or not path.is_file():
                continue
            text = renderer(path)
            if len(text) < 300:
                continue
            found, score = identifier.predict(text)
            scores.append({"folder": language, "page": path.name, "label": found, "score": score, "chars": len(text)})
            if found != language:
                continue
            docs.append({"id": f"{language}/{path.parent.name}/{path.name}", "text": text, "metadata": {"language": language}})
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
        (work / "corpus" / f"{language}.scores.jsonl").write_text("".join(json.dumps(r) + "\n" for r in scores), encoding="utf-8")
        if len(docs) < pages:  # the folder has no more pages
            (work / "corpus" / f"{language}.complete").touch()
        corpus[language] = docs
    return corpus


# ------------------------------------------------------------------------------------ langscore


def langscore(languages: list[str], pages: int, work: Path) -> None:
    """What each language-score rule keeps of the pages whose language lid.176 gets right."""
    sys.path.insert(0, str(ROOT))
    from tamis.steps.quality.languages import LID176_MIN_SCORE, language_score_threshold, settings_for

    build_corpus(languages, pages, work)
    print("\n== lid.176 language score on real pages (man pages whose label is the folder's language) ==")
    print("kept share at FineWeb's 0.65 | at FineWeb-2's GlotLID threshold as is | at tamis's rule (min of both)")
    print(f"{'lang':<5}{'pages':>6}{'labelled':>9}{'median':>8}{'p10':>6}  {'0.65':>6}  {'FW-2 thr':>9}  {'tamis':>12}")
    for language in languages:
        rows = [json.loads(line) for line in (work / "corpus" / f"{language}.scores.jsonl").read_text().splitlines()]
        right = sorted(r["score"] for r in rows if r["label"] == language)
        if not right:
            continue
        fineweb2 = settings_for(language).fineweb2_language_score
        ours = language_score_threshold(language)

        def share(threshold: float, right: list[float] = right) -> float:
            return sum(score >= threshold for score in right) / len(right)

        fw2 = f"{share(fineweb2):5.1%} ({fineweb2})" if fineweb2 is not None else "-"
        print(f"{language:<5}{len(rows):>6}{len(right):>9}{right[len(right) // 2]:>8.3f}{right[len(right) // 10]:>6.2f}  "
              f"{share(LID176_MIN_SCORE):6.1%}  {fw2:>9}  {share(ours):6.1%} ({ours})")


# ------------------------------------------------------------------------------------- agreement


def tamis_side(corpus: dict[str, list[dict]]) -> tuple[dict, dict]:
    """(decisions per language, filter and page by tamis's filters with their defaults; the
    FineWeb-2 subset of each language)."""
    sys.path.insert(0, str(ROOT))
    from tamis.document import Document
    from tamis.registry import get_step_class
    from tamis.steps.quality.languages import settings_for

    filters = {name: get_step_class(name)() for name in FILTERS}
    for step in filters.values():
        step.setup()
    decisions: dict = {}
    subsets: dict = {}
    for language, docs in corpus.items():
        subsets[language] = settings_for(language).fineweb2_subset
        per_filter: dict = {name: {} for name in filters}
        for record in docs:
            for name, step in filters.items():
                doc = Document(record["id"], record["text"], dict(record["metadata"]))
                rejection = step.decide(step.score(doc), doc)
                per_filter[name][record["id"]] = rejection.rule if rejection else None
        decisions[language] = per_filter
    return decisions, subsets


def datatrove_side(corpus_dir: Path, subsets: dict, fineweb2: Path) -> dict:
    """Runs in the peer venv: datatrove's filters built as fineweb-2-pipeline.py builds them, from
    FineWeb-2's configs/{subset}.yml of the language, with the subset as datatrove's language
    (which picks FineWeb-2's word tokenizer for it)."""
    import yaml
    from datatrove.data import Document
    from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
    from datatrove.utils import word_tokenizers

    # datatrove asks Kiwi for its "sbg" model, which current kiwipiepy_model wheels no longer ship:
    # both sides use Kiwi's default model.
    word_tokenizers.KiwiTokenizer.__init__.__defaults__ = (None,)

    decisions: dict = {}
    for language, subset in subsets.items():
        config = yaml.safe_load((fineweb2 / "configs" / f"{subset}.yml").read_text(encoding="utf-8"))
        filters = {
            "gopher_repetition": GopherRepetitionFilter(
                language=subset, dup_para_frac=0, dup_line_char_frac=0, dup_para_char_frac=0, dup_line_frac=config["dup_line_frac"],
                top_n_grams=config["top_n_grams"], dup_n_grams=config["dup_n_grams"],
            ),
            "fineweb_quality": FineWebQualityFilter(
                language=subset, short_line_thr=999, char_duplicates_ratio=0.1, line_punct_thr=config["line_punct_thr"],
                new_line_ratio=config["new_line_ratio"],
            ),
            "gopher_quality": GopherQualityFilter(
                language=subset, max_avg_word_length=config["max_avg_word_length"], min_avg_word_length=config["min_avg_word_length"],
                stop_words=config["stopwords"], max_non_alpha_words_ratio=config["max_non_alpha_words_ratio"], min_stop_words=2,
            ),
        }
        per_filter: dict = {name: {} for name in filters}
        for line in (corpus_dir / f"{language}.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            for name, step in filters.items():
                result = step.filter(Document(text=record["text"], id=record["id"]))
                kept = result is True or (isinstance(result, tuple) and result[0])
                per_filter[name][record["id"]] = None if kept else (result[1] if isinstance(result, tuple) else "rejected")
        decisions[language] = per_filter
    return decisions


def agreement(corpus: dict[str, list[dict]], work: Path, peer_python: str, fineweb2: Path) -> bool:
    ours, subsets = tamis_side(corpus)
    (work / "subsets.json").write_text(json.dumps(subsets), encoding="utf-8")
    subprocess.run([peer_python, __file__, "--side", "datatrove", "--work", str(work), "--fineweb2", str(fineweb2)], check=True)
    theirs = json.loads((work / "datatrove.json").read_text(encoding="utf-8"))
    print("\n== agreement: tamis's filters with their defaults vs datatrove 0.10.1 run as FineWeb-2 ran it (configs/{subset}.yml) ==")
    print("subsets: " + ", ".join(f"{k} {v}" for k, v in subsets.items()))
    print(f"{'lang':<5}{'pages':>6}  " + "  ".join(f"{name:>26}" for name in FILTERS))
    all_ok = True
    examples = []
    for language, docs in corpus.items():
        cells = []
        for name in FILTERS:
            a, b = ours[language][name], theirs[language][name]
            same = sum((a[d["id"]] is None) == (b[d["id"]] is None) for d in docs)
            kept_ours = sum(a[d["id"]] is None for d in docs)
            kept_theirs = sum(b[d["id"]] is None for d in docs)
            share = same / len(docs) if docs else 1.0
            all_ok &= share >= 0.97
            cells.append(f"{100 * share:6.1f} % (kept {kept_ours:>3}/{kept_theirs:>3})")
            examples += [(language, name, d["id"], a[d["id"]], b[d["id"]]) for d in docs if (a[d["id"]] is None) != (b[d["id"]] is None)]
        print(f"{language:<5}{len(docs):>6}  " + "  ".join(f"{c:>26}" for c in cells))
    print("(kept tamis/datatrove)")
    for language, name, doc_id, a, b in examples[: int(os.environ.get("BENCH_SHOW_DIFFERENCES", "20"))]:
        print(f"  differs: {language} {name} {doc_id}: tamis {a or 'kept'}, datatrove {b or 'kept'}")
    print("agreement >= 97 % for every filter and language:", "yes" if all_ok else "NO")
    return all_ok


# ----------------------------------------------------------------------------------------- dedup


def edit(text: str, share: float, rng: random.Random, span: tuple[int, int] = (1, 1)) -> str:
    """``text`` with ``share`` of its characters edited, in spans of ``span`` characters (a
    typo is a span of 1, a reworded phrase a span of 10 to 40): each span substituted, deleted or
    replaced by an insertion, with characters drawn from the text itself so the edits stay in
    its script."""
    chars = list(text)
    pool = [c for c in text if not c.isspace()] or ["x"]
    budget = max(1, round(len(chars) * share))
    while budget > 0 and chars:
        length = min(rng.randint(*span), budget)
        budget -= length
        i = rng.randrange(len(chars))
        kind = rng.randrange(3)
        if kind == 0:
            chars[i : i + length] = [rng.choice(pool) for _ in range(len(chars[i : i + length]))]
        elif kind == 1 and len(chars) > length:
            del chars[i : i + length]
        else:
            chars[i:i] = [rng.choice(pool) for _ in range(length)]
    return "".join(chars)


EDIT_MODELS = {"typos": (1, 1), "phrases": (10, 40)}


def dedup(corpus: dict[str, list[dict]], work: Path, languages: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    from tamis.dedup.minhash import normalize_for_shingles
    from tamis.dedup.shingles import shingle_units_reference

    def shingles(text: str) -> set[tuple[str, ...]]:
        units = shingle_units_reference(normalize_for_shingles(text))
        return {tuple(units[i : i + 5]) for i in range(max(len(units) - 4, 1))}

    print("\n== tamis dedup (defaults) on pages with near copies (1 % of characters edited) ==")
    print("edits: 'typos' = single characters at random places; 'phrases' = spans of 10-40 characters")
    print("J = mean Jaccard of a copy's shingles with its original's (tamis's units, 5-grams)")
    print(f"{'lang':<5}{'edits':<9}{'pages':>6}{'copies':>8}{'found':>7}{'removed':>9}{'recall':>8}{'precision':>10}{'J':>7}")
    rng = random.Random(16)
    runs = [(language, model, ()) for model in EDIT_MODELS for language in languages]
    # French typos: word 5-grams keep J ~0.55 of an original with one typo every ~100 characters;
    # what a lower threshold finds there, and what it costs in precision (not the default).
    runs += [("fr", "typos", ("--threshold", threshold)) for threshold in ("0.6", "0.5") if "fr" in languages]
    for language, model, extra in runs:
        docs = [d for d in corpus[language] if len(d["text"]) >= 500]
        records = [{"id": d["id"], "text": d["text"]} for d in docs]
        planted: dict[str, str] = {}
        edit_rng = random.Random(f"{language}-{model}")  # the same copies for every setting
        for d in docs[::2]:
            copy_id = d["id"] + "#copy"
            records.append({"id": copy_id, "text": edit(d["text"], 0.01, edit_rng, EDIT_MODELS[model])})
            planted[copy_id] = d["id"]
        rng.shuffle(records)
        folder = work / "dedup" / f"{language}-{model}{'-'.join(('', *extra))}"
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / "in.jsonl"
        source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        out = folder / "out"
        subprocess.run([str(ROOT / ".venv/bin/tamis"), "dedup", "-i", str(source), "-o", str(out), "--overwrite", "--quiet", "--no-report", *extra],
                       check=True, capture_output=True)
        removed = {}
        for part in sorted((out / "rejects").glob("*.jsonl.gz")):
            with gzip.open(part, "rt", encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    removed[row["id"]] = row.get("duplicate_of")
        texts = {r["id"]: r["text"] for r in records}
        threshold = float(extra[1]) if extra else 0.8
        found = sum(1 for copy_id, original in planted.items() if removed.get(copy_id) == original or removed.get(original) == copy_id)
        correct = 0
        for doc_id, keeper in removed.items():
            if planted.get(doc_id) == keeper or planted.get(keeper or "") == doc_id:
                correct += 1
            elif keeper in texts:
                a, b = shingles(texts[doc_id]), shingles(texts[keeper])
                correct += len(a & b) / len(a | b) >= threshold
        similarity = [len(a & b) / len(a | b) for a, b in ((shingles(texts[c]), shingles(texts[o])) for c, o in planted.items())]
        recall = found / len(planted) if planted else 1.0
        precision = correct / len(removed) if removed else 1.0
        mean_j = sum(similarity) / len(similarity)
        label = f"{language:<5}{model:<9}{len(docs):>6}{len(planted):>8}{found:>7}{len(removed):>9}{recall:>8.3f}{precision:>10.3f}{mean_j:>7.2f}"
        print(label + (f"   other setting: {' '.join(extra)}" if extra else ""))


# ----------------------------------------------------------------------------------------- mixed


def _rows(folder: Path) -> list[dict]:
    rows = []
    for part in sorted(folder.glob("*.jsonl*")):
        opener = gzip.open if part.suffix == ".gz" else open
        with opener(part, "rt", encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def mixed(corpus: dict[str, list[dict]], work: Path, per_language: int = 30) -> bool:
    """Every language at once, as a user would run them: ``per_language`` pages of each bench
    language in one shuffled file, with a near copy (phrases reworded, 1 % of characters) of
    every fourth page, through ``tamis run`` (default recipe) and ``tamis dedup`` (defaults) as
    subprocesses. Checked: both exit 0; read = kept + rejected and each id once across output
    and rejects; the language step labels each page with its folder's language; per language,
    kept and rejected pages and their reasons, and the planted copies ``tamis dedup`` removes."""
    rng = random.Random(16)
    records, planted = [], {}
    for docs in corpus.values():
        for index, d in enumerate(docs[:per_language]):
            records.append({"id": d["id"], "text": d["text"]})
            if index % 4 == 0 and len(d["text"]) >= 500:
                copy_id = d["id"] + "#copy"
                records.append({"id": copy_id, "text": edit(d["text"], 0.01, rng, EDIT_MODELS["phrases"])})
                planted[copy_id] = d["id"]
    rng.shuffle(records)
    folder = work / "mixed"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    ids = [r["id"] for r in records]
    ok = True
    print(f"\n== every language at once: {len(records)} pages of {len(corpus)} languages ({len(planted)} near copies) ==")
    for command in ("run", "dedup"):
        out = folder / command
        started = time.perf_counter()
        result = subprocess.run([str(ROOT / ".venv/bin/tamis"), command, "-i", str(source), "-o", str(out), "--overwrite", "--quiet", "--no-report"],
                                capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if result.returncode != 0:
            print(f"tamis {command}: exit {result.returncode}\n{result.stderr[-2000:]}")
            ok = False
            continue
        stats = json.loads((out / "stats.json").read_text())
        kept, rejected = _rows(out / "output"), _rows(out / "rejects")
        seen = [r["id"] for r in kept + rejected]
        accounted = stats["read"] == len(ids) == stats["kept"] + stats["rejected_total"] == len(seen) and sorted(seen) == sorted(ids)
        ok &= accounted
        print(f"tamis {command}: {wall:.1f} s, read {stats['read']} = kept {stats['kept']} + rejected {stats['rejected_total']}; "
              f"each id once in output + rejects: {'yes' if accounted else 'NO'}")
        reasons: dict[str, dict[str, int]] = {}
        kept_by: dict[str, int] = {}
        for row in kept:
            kept_by[row["id"].split("/")[0]] = kept_by.get(row["id"].split("/")[0], 0) + 1
        for row in rejected:
            rule = row.get("reason") or "?"
            per = reasons.setdefault(row["id"].split("/")[0], {})
            per[rule] = per.get(rule, 0) + 1
        if command == "run":
            wrong = [(r["id"], (r.get("metadata") or {}).get("language")) for r in kept if (r.get("metadata") or {}).get("language") != r["id"].split("/")[0]]
            ok &= not wrong
            print(f"  kept pages whose language is not their folder's: {len(wrong)} {wrong[:5]}")
        removed = {r["id"]: r.get("duplicate_of") for r in rejected}
        for language in corpus:
            copies = [c for c in planted if c.startswith(language + "/")]
            found = sum(removed.get(c) == planted[c] or removed.get(planted[c]) == c for c in copies)
            top = ", ".join(f"{rule} {n}" for rule, n in sorted(reasons.get(language, {}).items(), key=lambda kv: -kv[1])[:3])
            extra = f"  copies removed {found}/{len(copies)}" if command == "dedup" else ""
            print(f"  {language:<4} kept {kept_by.get(language, 0):>3}  rejected {sum(reasons.get(language, {}).values()):>3}  {top}{extra}")
    print("every language at once: runs clean and accounted:", "yes" if ok else "NO")
    return ok


# ----------------------------------------------------------------------------------------- speed


def _rate(function, docs: list[str], repeat: int = 1) -> float:
    function(docs[0])
    started = time.process_time()
    for _ in range(repeat):
        for text in docs:
            function(text)
    return repeat * len(docs) / (time.process_time() - started)


def speed(corpus: dict[str, list[dict]], work: Path, languages: list[str], peer_python: str | None = None) -> None:
    sys.path.insert(0, str(ROOT))
    from tamis.steps.quality.words import split_words

    print("\n== word segmentation, docs/s per core (CPU time, in-process, after loading) ==")
    alternatives: dict[str, dict] = {}
    try:
        import jieba

        jieba.setLogLevel(60)
        alternatives.setdefault("zh", {})["jieba (Python)"] = jieba.lcut
    except ImportError:
        pass
    try:
        from sudachipy import Dictionary, SplitMode

        sudachi = Dictionary(dict="core").tokenizer()

        def sudachi_words(text: str) -> list[str]:  # SudachiPy refuses inputs over 49,149 bytes
            return [m.surface() for i in range(0, len(text), 10000) for m in sudachi.tokenize(text[i : i + 10000], SplitMode.A)]

        alternatives.setdefault("ja", {})["sudachipy A"] = sudachi_words
    except ImportError:
        pass
    try:
        from janome.tokenizer import Tokenizer as Janome

        janome = Janome()
        alternatives.setdefault("ja", {})["janome"] = lambda t: list(janome.tokenize(t, wakati=True))
    except ImportError:
        pass
    try:  # Korean: Kiwi's other models, and MeCab-ko (pip install python-mecab-ko), the fast alternative
        from kiwipiepy import Kiwi

        for model in ("none", "largest"):
            kiwi = Kiwi(model_type=model)
            alternatives.setdefault("ko", {})[f"kiwi model {model}"] = lambda t, kiwi=kiwi: [x.form for x in kiwi.tokenize(t)]
    except ImportError:
        pass
    try:
        import mecab

        alternatives.setdefault("ko", {})["python-mecab-ko"] = mecab.MeCab().morphs
    except ImportError:
        pass
    if "vi" in languages:  # what joining syllables into words costs: the syllables alone, as tamis cut them before
        from tamis.steps.quality.languages import settings_for
        from tamis.steps.quality.words import tokenize, word_regex

        syllable_regex = word_regex(settings_for("vi"))
        alternatives.setdefault("vi", {})["syllables only"] = lambda t: tokenize(t, syllable_regex)
    peer_rates = {}
    if "vi" in languages and peer_python and Path(peer_python).exists():  # pyvi and datatrove run in the peer venv
        result = subprocess.run([peer_python, __file__, "--side", "vi-speed", "--work", str(work)], check=True, capture_output=True, text=True)
        peer_rates = json.loads(result.stdout.strip().splitlines()[-1])
    for language in languages:
        docs = [d["text"] for d in corpus[language]]
        if not docs:
            continue
        mchars = sum(map(len, docs)) / 1e6
        rate = _rate(lambda t, language=language: split_words(t, language), docs)
        print(f"{language:<4} tamis split_words    {rate:9.1f} docs/s  {rate * mchars / len(docs):6.2f} Mchar/s  ({len(docs)} pages)")
        for name, function in alternatives.get(language, {}).items():
            other = _rate(function, docs)
            print(f"{language:<4} {name:<20} {other:9.1f} docs/s  {other * mchars / len(docs):6.2f} Mchar/s")
        for name, other in (peer_rates if language == "vi" else {}).items():
            print(f"{language:<4} {name:<20} {other:9.1f} docs/s  {other * mchars / len(docs):6.2f} Mchar/s  (peer venv)")
    print("\n== tamis run, default recipe, 1 worker, subprocess wall time (start-up included), docs/s per core ==")
    for language in languages:
        source = work / "corpus" / f"{language}.jsonl"
        out = work / "speed" / language
        started = time.perf_counter()
        subprocess.run([str(ROOT / ".venv/bin/tamis"), "run", "-i", str(source), "-o", str(out), "-w", "1", "--overwrite", "--quiet", "--no-report"],
                       check=True, capture_output=True)
        wall = time.perf_counter() - started
        stats = json.loads((out / "stats.json").read_text())
        print(f"{language:<4} {stats['read']:>5} pages  {wall:6.2f} s  {stats['read'] / wall:7.1f} docs/s  kept {stats['kept']:>4}")


def vi_speed_side(work: Path) -> dict[str, float]:
    """Runs in the peer venv: docs/s per core of pyvi and of datatrove's Vietnamese word tokenizer."""
    from datatrove.utils.word_tokenizers import load_word_tokenizer
    from pyvi.ViTokenizer import ViTokenizer

    docs = [json.loads(line)["text"] for line in (work / "corpus" / "vi.jsonl").read_text(encoding="utf-8").splitlines()]
    words = load_word_tokenizer("vie_Latn")
    return {"pyvi tokenize": _rate(ViTokenizer.tokenize, docs), "datatrove (spaCy+pyvi)": _rate(words.word_tokenize, docs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default=DEFAULT_LANGUAGES)
    parser.add_argument("--pages", type=int, default=120, help="pages per language (at most)")
    parser.add_argument("--work", default="/tmp/tamis-bench-languages-120")
    parser.add_argument("--part", default="all", choices=("all", "corpus", "langscore", "agreement", "dedup", "mixed", "speed"))
    venv = os.environ.get("BENCH_VENV", str(ROOT / ".bench-venv"))
    parser.add_argument("--peer-python", default=f"{venv}/bin/python")
    parser.add_argument("--fineweb2", default="/work/fineweb2", help="a checkout of the huggingface/fineweb-2 repository (its configs/)")
    parser.add_argument("--docs", default="/tmp/tamis-bench-languages-docs",
                        help="where the Debian packages of DOC_SOURCES are downloaded and unpacked")
    parser.add_argument("--docs-first", action="store_true",
                        help="read DOC_SOURCES before the man pages (e.g. Vietnamese prose: --docs-first --languages vi --work ...)")
    parser.add_argument("--side", default="tamis", choices=("tamis", "datatrove", "vi-speed"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = Path(args.work)
    if args.side == "datatrove":
        subsets = json.loads((work / "subsets.json").read_text(encoding="utf-8"))
        result = datatrove_side(work / "corpus", subsets, Path(args.fineweb2))
        (work / "datatrove.json").write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        return
    if args.side == "vi-speed":
        print(json.dumps(vi_speed_side(work)))
        return
    languages = args.languages.split(",")
    corpus = build_corpus(languages, args.pages, work, Path(args.docs), args.docs_first)
    print("pages per language:", ", ".join(f"{k} {len(v)}" for k, v in corpus.items()))
    ok = True
    if args.part in ("all", "langscore"):
        langscore(languages + [lang for lang in LANGSCORE_EXTRA.split(",") if lang not in languages], args.pages, work)
    if args.part in ("all", "agreement"):
        ok = agreement(corpus, work, args.peer_python, Path(args.fineweb2))
    if args.part in ("all", "dedup"):
        dedup(corpus, work, [lang for lang in ("zh", "ja", "fr") if lang in corpus])
    if args.part in ("all", "mixed"):
        ok &= mixed(corpus, work)
    if args.part in ("all", "speed"):
        speed(corpus, work, [lang for lang in ("zh", "ja", "ko", "ru", "fr", "hi", "vi") if lang in corpus], args.peer_python)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
