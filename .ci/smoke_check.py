"""Check the smoke run (see smoke_noextras.sh): every reader yielded kept documents, every step of
the default recipe ran, nothing was lost. Stdlib only. Usage: python smoke_check.py OUT EXIT_CODE"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

from tamis.recipes import recipe

READERS = {
    ".jsonl.gz": "JSONL.gz",
    ".jsonl": "JSONL",
    ".jsonl.zst": "JSONL.zst",
    ".parquet": "Parquet",
    ".txt": "text folder",
    ".html": "HTML",
    ".warc.gz": "WARC",
    ".warc.wet.gz": "WET",
}


def records(directory: Path) -> list[dict]:
    out = []
    for shard in sorted(directory.glob("*.jsonl.gz")):
        with gzip.open(shard, "rt", encoding="utf-8") as fh:
            out.extend(json.loads(line) for line in fh)
    return out


def reader_of(path: str) -> str:
    best = max((s for s in READERS if path.endswith(s)), key=len, default=None)
    return READERS[best] if best else "?"


def main() -> int:
    out, code = Path(sys.argv[1]), int(sys.argv[2])
    problems = []
    if code != 0:
        problems.append(f"tamis run exited {code} (expected 0)")
    stats_path = out / "stats.json"
    if not stats_path.exists():
        print("smoke: FAILED: no stats.json;", *problems)
        return 1
    stats = json.loads(stats_path.read_text())
    kept, rejected = records(out / "output"), records(out / "rejects")
    if not stats["read"] == stats["kept"] + stats["rejected_total"] == len(kept) + len(rejected):
        problems.append(f"accounting: read {stats['read']}, kept {stats['kept']}+{len(kept)}, rejected {stats['rejected_total']}+{len(rejected)}")
    expected_steps = [s.get("id", s["step"]) for s in recipe("default")]
    if stats.get("steps") != expected_steps:
        problems.append(f"steps {stats.get('steps')} != the default recipe {expected_steps}")
    by_reader: dict[str, int] = {name: 0 for name in READERS.values()}
    for r in kept:
        by_reader[reader_of(r["metadata"]["source"]["path"])] += 1
    problems += [f"no kept document from the {name} reader" for name, n in by_reader.items() if n == 0]
    broken = sorted({r["reason"] for r in rejected if r["reason"].startswith(("extract:", "reader:"))})
    if broken:
        problems.append(f"reader or extraction rejects on clean input: {broken}")
    if (out / "errors.jsonl").exists() and (out / "errors.jsonl").read_text().strip():
        problems.append("input errors on clean input: " + (out / "errors.jsonl").read_text()[:500])
    signals = {step for r in kept for step in r["metadata"].get("signals", {})}
    for step in ("gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality"):
        if step not in signals:
            problems.append(f"no kept document carries signals of {step}")
    if not (out / "report.html").exists():
        problems.append("no report.html")
    if problems:
        print("smoke: FAILED:\n  " + "\n  ".join(problems))
        return 1
    print("smoke: OK: " + ", ".join(f"{name} {n}" for name, n in by_reader.items()) + f"; read {stats['read']}, kept {stats['kept']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
