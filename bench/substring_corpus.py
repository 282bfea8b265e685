"""Real text in three scripts with planted repeated spans, and the checks of the result.

Used by tests/test_substring.py (small) and bench/bench_substring.py (the correctness part).

Text: the man pages installed on this machine (``bench/corpus.py``'s roff stripper), by
script: Latin (English, German, French, Spanish, Italian, Portuguese, Dutch, Polish ...),
Cyrillic (Russian, Ukrainian), CJK (Chinese, Japanese). Lines of at least 40 characters whose
letters are mostly of the script; a line is used only if none of its 100-byte windows occurred
in an earlier line or twice in itself (man pages repeat their licence lines: those are real repeats, not ours).

Planting: documents are 6-14 unique lines of one script. Spans are other unique lines (one, or
two joined), each planted into 2-4 documents: as a line of its own at a random place, or
inside a line (after it, separated by a space; joined without one in CJK). The first document
of a span in input order holds its first copy.
"""

from __future__ import annotations

import gzip
import os
import random
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import _decode, roff_to_text

MAN = Path("/usr/share/man")
SCRIPT_DIRS = {
    "latin": ["man1", "man5", "man8", "de", "fr", "es", "it", "pt", "pt_BR", "nl", "pl", "sv", "da", "fi", "cs", "ro", "tr", "vi"],
    "cyrillic": ["ru", "uk"],
    "cjk": ["zh_CN", "zh_TW", "ja"],
}
MIN_LINE_CHARS = 40
WINDOW = 100


def _script_of(char: str) -> str | None:
    code = ord(char)
    if 0x0400 <= code <= 0x04FF:
        return "cyrillic"
    if 0x3040 <= code <= 0x30FF or 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
        return "cjk"
    if char.isalpha() and code < 0x0250:
        return "latin"
    return None


def _mostly(line: str, script: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 10 and sum(_script_of(c) == script for c in letters) >= 0.8 * len(letters)


def _pages(script: str) -> Iterator[str]:
    for sub in SCRIPT_DIRS[script]:
        root = MAN / sub
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            try:
                raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            except (OSError, EOFError):
                continue
            text = _decode(raw)
            if not text.lstrip().startswith(".so "):
                yield roff_to_text(text)


def real_lines(script: str, limit_bytes: int, seed: int = 0) -> list[str]:
    """Unique lines (no 100-byte window seen before) of one script, about ``limit_bytes``."""
    seen: set[int] = set()
    exact: set[str] = set()
    lines: list[str] = []
    total = 0
    for page in _pages(script):
        for line in page.split("\n"):
            line = " ".join(line.split())
            line = unicodedata.normalize("NFC", line)
            if len(line) < MIN_LINE_CHARS or line in exact or not _mostly(line, script):
                continue
            data = line.encode("utf-8")
            count = max(1, len(data) - WINDOW + 1)
            windows = {hash(data[i : i + WINDOW]) for i in range(count)}
            # a line that repeats a window inside itself (a rule of dashes, an option list
            # written twice) holds a repeat of its own: its "first copy" would rightly lose
            # the second occurrence, so it cannot serve as unique text or as a planted span
            if len(windows) < count or windows & seen:
                continue
            seen |= windows
            exact.add(line)
            lines.append(line)
            total += len(data) + 1
            if total >= limit_bytes:
                random.Random(seed).shuffle(lines)
                return lines
    random.Random(seed).shuffle(lines)
    return lines


@dataclass
class Planted:
    records: list[dict[str, Any]] = field(default_factory=list)
    # span text -> [(record index, mode)], the first in input order first
    spans: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    unique_lines: dict[int, list[str]] = field(default_factory=dict)  # record index -> its lines that hold no span


def plant(lines_by_script: dict[str, list[str]], *, docs_per_script: int, spans_per_script: int, seed: int = 0, prefix: str = "") -> Planted:
    rng = random.Random(seed)
    out = Planted()
    for script, lines in lines_by_script.items():
        pool = list(lines)
        spans: list[str] = []
        joiner = "" if script == "cjk" else " "
        while len(spans) < spans_per_script and len(pool) > 2:
            span = pool.pop()
            if rng.random() < 0.3:
                span = span + "\n" + pool.pop()
            if len(span.encode()) >= WINDOW:
                spans.append(span)
        base_index = len(out.records)
        blocks: list[list[str]] = []  # per document: its lines, a planted span being one block
        for d in range(docs_per_script):
            body = [pool.pop() for _ in range(rng.randint(6, 14)) if pool]
            if not body:
                break
            out.records.append({"id": f"{prefix}{script}-{d}", "text": ""})
            out.unique_lines[len(out.records) - 1] = list(body)
            blocks.append(body)
        n_docs = len(blocks)
        if n_docs >= 4:
            for span in spans:
                targets = sorted(rng.sample(range(n_docs), rng.randint(2, 4)))
                out.spans[span] = []
                for target in targets:
                    body = blocks[target]
                    mode = "line" if "\n" in span or rng.random() < 0.6 else "inline"
                    at = rng.randrange(len(body))
                    if mode == "line":
                        body.insert(at, span)
                    else:
                        unique = out.unique_lines[base_index + target]
                        if body[at] in unique:
                            unique.remove(body[at])
                        body[at] = body[at] + joiner + span
                    out.spans[span].append((base_index + target, mode))
        for i, body in enumerate(blocks):
            out.records[base_index + i]["text"] = "\n".join(body)
    return out


def is_deletion_of(output: str, source: str) -> bool:
    """Whether ``output`` is ``source`` with some characters deleted (a subsequence)."""
    it = iter(source)
    return all(char in it for char in output)


@dataclass
class Check:
    later_copies: int = 0
    later_removed: int = 0
    later_bytes: int = 0
    later_bytes_removed: int = 0
    first_copies: int = 0
    first_kept: int = 0
    unique_lines: int = 0
    unique_damaged: int = 0
    not_deletions: int = 0
    bad_text: int = 0
    rejected: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "later_copies_removed": f"{self.later_removed}/{self.later_copies}",
            "later_bytes_removed_pct": round(100 * self.later_bytes_removed / max(1, self.later_bytes), 3),
            "first_copies_kept": f"{self.first_kept}/{self.first_copies}",
            "unique_lines_damaged": f"{self.unique_damaged}/{self.unique_lines}",
            "not_deletion_only": self.not_deletions,
            "invalid_text": self.bad_text,
            "rejected": self.rejected,
        }


def check(planted: Planted, kept: dict[str, dict[str, Any]], rejected: dict[str, dict[str, Any]]) -> Check:
    result = Check()
    for record in rejected.values():
        result.rejected[record["reason"]] = result.rejected.get(record["reason"], 0) + 1
    for index, record in enumerate(planted.records):
        out = kept.get(record["id"])
        if out is None:
            continue
        text = out["text"]
        if "\ufffd" in text and "\ufffd" not in record["text"]:
            result.bad_text += 1
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            result.bad_text += 1
        if not is_deletion_of(text, record["text"]):
            result.not_deletions += 1
        out_lines = set(text.split("\n"))
        for line in planted.unique_lines.get(index, []):
            result.unique_lines += 1
            if line not in out_lines:
                result.unique_damaged += 1
    later_bytes: dict[int, int] = {}  # record index -> bytes of the later copies it holds
    for span, places in planted.spans.items():
        first, *later = places
        result.first_copies += 1
        out = kept.get(planted.records[first[0]]["id"])
        if out is not None and span in out["text"]:
            result.first_kept += 1
        for target, _ in later:
            result.later_copies += 1
            later_bytes[target] = later_bytes.get(target, 0) + len(span.encode())
            out = kept.get(planted.records[target]["id"])
            if out is None or span not in out["text"]:
                result.later_removed += 1
    # bytes: what left each document (the base text is unique, so only repeats can go), up to
    # the bytes of the later copies it held
    for target, size in later_bytes.items():
        result.later_bytes += size
        record = planted.records[target]
        out = kept.get(record["id"])
        gone = len(record["text"].encode()) - (len(out["text"].encode()) if out is not None else 0)
        result.later_bytes_removed += min(size, gone)
    return result


def available(script: str) -> bool:
    return any((MAN / sub).is_dir() and any((MAN / sub).iterdir()) for sub in SCRIPT_DIRS[script])


if __name__ == "__main__":  # pragma: no cover - a quick look at what the corpus holds
    for name in SCRIPT_DIRS:
        sample = real_lines(name, 50_000)
        print(name, len(sample), sample[:2], os.linesep)
