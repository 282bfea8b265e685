"""A real-text corpus from this machine, with planted near copies at known edit rates.

Real text, none of it written by us (what /work/shared/peer-baselines.md measured the peers on):

* man pages of every language installed under /usr/share/man (roff turned into text by a small
  regex stripper: groff manages ~12 pages/s here, the stripper thousands);
* Debian package copyright files (/usr/share/doc/*/copyright: licence boilerplate, naturally
  near-duplicated);
* fortunes (package ``fortunes``; ``apt-get install fortunes`` if /usr/share/games/fortunes is
  empty), one document per fortune.

Documents under 30 words are dropped. Planted copies of random base documents: exact copies,
"surface" copies (upper-cased, or trailing spaces) and word edits at a rate drawn from
``EDIT_RATES``: each word is deleted, substituted, swapped with the next, or followed by an
inserted word, each with probability rate/4 ... together ``rate`` per word.

Usage from other benches::

    from corpus import build_corpus
    paths = build_corpus(copies=75_000, shards=4)   # cached under bench/data/corpus-*/

``python bench/corpus.py --copies 75000`` builds and prints the summary.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import random
import re
from collections.abc import Iterator
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
EDIT_RATES = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1)
MIN_WORDS = 30

_ROFF_COMMENT = re.compile(r'^\.\s*\\".*$|^\'\\".*$', re.M)
_ROFF_ESCAPES = re.compile(r"\\f(\[[^\]]*\]|\(..|.)|\\\*(\(..|\[[^\]]*\]|.)|\\s[+-]?\d+|\\[&|^%:]")
_ROFF_SPECIAL = re.compile(r"\\\((..)")
_SPECIALS = {"em": "—", "en": "–", "bu": "•", "aq": "'", "dq": '"', "lq": "“", "rq": "”", "co": "©", "oq": "‘", "cq": "’", "hy": "-", "mi": "-"}
_MACRO = re.compile(r"^[.'](\w+)\s*(.*)$")
_SKIP_MACROS = {
    "TH", "so", "de", "ds", "nr", "ie", "if", "el", "ig", "ft", "ps", "ss",
    "in", "ti", "ta", "ne", "sp", "br", "PD", "TP", "LP", "PP", "P", "IP",
    "RS", "RE", "nf", "fi", "ad", "na", "hy", "nh", "ll", "ce", "bp",
}  # fmt: skip


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def roff_to_text(source: str) -> str:
    """A fast, approximate roff stripper: macro lines keep their arguments, escapes go."""
    source = _ROFF_COMMENT.sub("", source)
    lines = []
    for line in source.splitlines():
        match = _MACRO.match(line)
        if match:
            name, rest = match.groups()
            if name in _SKIP_MACROS:
                if name in {"TP", "PP", "LP", "P", "sp", "br"}:
                    lines.append("")
                continue
            line = rest.replace('"', "")
        elif line.startswith((".", "'")):
            continue
        line = _ROFF_SPECIAL.sub(lambda m: _SPECIALS.get(m.group(1), ""), line)
        line = _ROFF_ESCAPES.sub("", line)
        line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\ ", " ").replace("\\", "")
        lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def man_pages() -> Iterator[tuple[str, str]]:
    for path in sorted(glob.glob("/usr/share/man/**/*.*", recursive=True)):
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        try:
            raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()  # noqa: SIM115
        except (OSError, EOFError):
            continue
        text = _decode(raw)
        if text.lstrip().startswith(".so "):
            continue
        yield "man:" + path.removeprefix("/usr/share/man/"), roff_to_text(text)


def copyright_files() -> Iterator[tuple[str, str]]:
    for path in sorted(glob.glob("/usr/share/doc/*/copyright")):
        try:
            yield "copyright:" + path.split("/")[-2], _decode(Path(path).read_bytes())
        except OSError:
            continue


def fortunes() -> Iterator[tuple[str, str]]:
    for path in sorted(glob.glob("/usr/share/games/fortunes/*")):
        if path.endswith((".dat", ".u8")) or os.path.isdir(path) or os.path.islink(path):
            continue
        name = os.path.basename(path)
        for k, text in enumerate(_decode(Path(path).read_bytes()).split("\n%\n")):
            yield f"fortune:{name}:{k}", text.strip()


def base_documents() -> list[dict]:
    docs = []
    for source in (man_pages(), copyright_files(), fortunes()):
        for doc_id, text in source:
            if len(text.split()) >= MIN_WORDS:
                docs.append({"id": doc_id, "text": text})
    return docs


def edit_words(text: str, rate: float, rng: random.Random, vocabulary: list[str]) -> str:
    """Each word: with probability ``rate``, one of delete / substitute / swap / insert-after."""
    words = text.split()
    out: list[str] = []
    k = 0
    while k < len(words):
        word = words[k]
        if rng.random() < rate:
            action = rng.randrange(4)
            if action == 0:
                k += 1
                continue
            if action == 1:
                out.append(rng.choice(vocabulary))
            elif action == 2 and k + 1 < len(words):
                out.extend([words[k + 1], word])
                k += 2
                continue
            else:
                out.extend([word, rng.choice(vocabulary)])
                k += 1
                continue
        else:
            out.append(word)
        k += 1
    return " ".join(out)


def plant_copies(base: list[dict], copies: int, seed: int) -> list[dict]:
    """``copies`` planted copies of random base documents; each records its source and edit."""
    rng = random.Random(seed)
    vocabulary = [w for d in rng.sample(base, min(len(base), 2000)) for w in d["text"].split()[:50]]
    planted = []
    for k in range(copies):
        src = rng.choice(base)
        roll = rng.random()
        if roll < 0.08:
            kind, text = "exact", src["text"]
        elif roll < 0.15:
            kind = "surface"
            text = src["text"].upper() if rng.random() < 0.5 else src["text"] + "   \n"
        else:
            rate = rng.choice(EDIT_RATES)
            kind, text = f"edit{rate}", edit_words(src["text"], rate, rng, vocabulary)
        planted.append({"id": f"copy{k}:{src['id']}", "text": text, "metadata": {"source": src["id"], "planted": kind}})
    return planted


def build_corpus(copies: int = 75_000, shards: int = 4, seed: int = 0, max_base: int | None = None) -> list[Path]:
    """JSONL shards of base documents + planted copies in random order (cached)."""
    folder = DATA / f"corpus-c{copies}-s{shards}-r{seed}-b{max_base or 'all'}"
    paths = [folder / f"part-{k:02d}.jsonl" for k in range(shards)]
    if all(p.exists() for p in paths):
        return paths
    rng = random.Random(seed)
    base = base_documents()
    if max_base is not None and len(base) > max_base:
        base = rng.sample(base, max_base)
    docs = base + plant_copies(base, copies, seed + 1)
    rng.shuffle(docs)
    write_shards(docs, paths)
    return paths


def write_shards(docs: list[dict], paths: list[Path]) -> None:
    """``docs`` as JSONL, split evenly over ``paths`` in order, each file written whole or not at all."""
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    size = -(-len(docs) // len(paths))
    for k, path in enumerate(paths):
        tmp = path.with_suffix(".partial")
        with open(tmp, "w", encoding="utf-8") as fh:
            for doc in docs[k * size : (k + 1) * size]:
                fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
        os.replace(tmp, path)


def eval_subset(paths: list[Path], base_docs: int, seed: int = 0) -> list[dict]:
    """``base_docs`` random base documents plus every planted copy of them (input order kept)."""
    docs = [json.loads(line) for p in paths for line in open(p, encoding="utf-8")]  # noqa: SIM115
    originals = [d["id"] for d in docs if not d["id"].startswith("copy")]
    chosen = set(random.Random(seed).sample(originals, min(base_docs, len(originals))))
    return [d for d in docs if d["id"] in chosen or d.get("metadata", {}).get("source") in chosen]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=75_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--max-base", type=int, default=None)
    args = parser.parse_args()
    paths = build_corpus(args.copies, args.shards, max_base=args.max_base)
    n = sum(1 for p in paths for _ in open(p, encoding="utf-8"))  # noqa: SIM115
    mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"{n:,} documents, {mb:,.0f} MB JSONL in {len(paths)} shards: {paths[0].parent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
