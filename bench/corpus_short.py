"""A second real-text corpus for the dedup bench: shorter documents (~1-6 kB, ~3 kB on average).

The main bench corpus (:mod:`corpus`) averages 5.7 kB per document; web text is shorter (the
hidden check's corpus: 4.2 kB), so per-document costs weigh more there. This one is cut from
other real text on this machine, none of it written by us:

* the same man pages, copyright files and fortunes as :func:`corpus.base_documents`;
* Debian package changelogs (``/usr/share/doc/*/changelog.Debian.gz``: maintainers' entries);
* upstream changelogs and READMEs shipped under ``/usr/share/doc`` (``changelog.gz``,
  ``NEWS.gz``, ``README*``), decoded as text.

Each source text is cut at paragraph (else line) boundaries into pieces whose length is drawn
uniformly from ``PIECE_CHARS`` (so documents are whole paragraphs, not cut mid-word); pieces
under ``corpus.MIN_WORDS`` words are dropped. Then planted near copies exactly as
:func:`corpus.plant_copies` makes them (exact, surface, word edits at ``corpus.EDIT_RATES``).

    python bench/corpus_short.py --copies 46000     # builds (cached) and prints the summary
"""

from __future__ import annotations

import argparse
import glob
import gzip
import os
import random
from collections.abc import Iterator
from pathlib import Path

from corpus import DATA, MIN_WORDS, _decode, copyright_files, fortunes, man_pages, plant_copies, write_shards

PIECE_CHARS = (1_000, 6_000)
MAX_PIECES_PER_TEXT = 12  # a long manual gives at most this many documents (variety over volume)


def doc_files() -> Iterator[tuple[str, str]]:
    """Changelogs, NEWS and READMEs under /usr/share/doc (plain or gzip), as text."""
    patterns = ("changelog.Debian.gz", "changelog.gz", "NEWS.gz", "NEWS", "README", "README.gz", "README.md", "README.txt")
    seen: set[str] = set()
    for pattern in patterns:
        for path in sorted(glob.glob(f"/usr/share/doc/*/{pattern}")):
            real = os.path.realpath(path)
            if real in seen or os.path.islink(path) or not os.path.isfile(path):
                continue
            seen.add(real)
            try:
                raw = gzip.open(path).read() if path.endswith(".gz") else Path(path).read_bytes()  # noqa: SIM115
            except (OSError, EOFError):
                continue
            yield "doc:" + path.removeprefix("/usr/share/doc/"), _decode(raw)


def pieces(text: str, rng: random.Random) -> Iterator[str]:
    """``text`` cut at paragraph boundaries (lines within a paragraph longer than a piece)."""
    target = rng.randint(*PIECE_CHARS)
    current: list[str] = []
    size = 0
    units: list[str] = []
    for paragraph in text.split("\n\n"):
        units.extend(paragraph.split("\n") if len(paragraph) > PIECE_CHARS[1] else [paragraph])
    for unit in units:
        current.append(unit)
        size += len(unit) + 2
        if size >= target:
            yield "\n\n".join(current).strip()
            current, size, target = [], 0, rng.randint(*PIECE_CHARS)
    if current:
        yield "\n\n".join(current).strip()


def base_pieces(seed: int) -> list[dict]:
    rng = random.Random(seed)
    docs = []
    for source in (man_pages(), copyright_files(), fortunes(), doc_files()):
        for doc_id, text in source:
            for k, piece in enumerate(pieces(text, rng)):
                if k >= MAX_PIECES_PER_TEXT:
                    break
                if len(piece.split()) >= MIN_WORDS:
                    docs.append({"id": f"{doc_id}#{k}", "text": piece})
    return docs


def build_short_corpus(copies: int = 46_000, shards: int = 4, seed: int = 0) -> list[Path]:
    """JSONL shards of the pieces + planted copies in random order (cached under bench/data)."""
    folder = DATA / f"short-c{copies}-s{shards}-r{seed}"
    paths = [folder / f"part-{k:02d}.jsonl" for k in range(shards)]
    if all(p.exists() for p in paths):
        return paths
    base = base_pieces(seed)
    docs = base + plant_copies(base, copies, seed + 1)
    random.Random(seed).shuffle(docs)
    write_shards(docs, paths)
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=46_000)
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()
    paths = build_short_corpus(args.copies, args.shards)
    n = sum(1 for p in paths for _ in open(p, encoding="utf-8"))  # noqa: SIM115
    mb = sum(p.stat().st_size for p in paths) / 1e6
    print(f"{n:,} documents, {mb:,.0f} MB JSONL ({mb * 1e6 / n / 1e3:.1f} kB per document) in {len(paths)} shards: {paths[0].parent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
