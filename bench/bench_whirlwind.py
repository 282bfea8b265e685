"""A real Common Crawl capture through the WARC and WET readers, and the WARC parsers compared.

    .venv/bin/python bench/bench_whirlwind.py [--corpus ../shared/corpus] [--copies 2000]

1. ``cc-whirlwind`` (one page of CC-MAIN-2024-22 as WARC, WET and WAT): what the tamis readers
   make of each file, the ``extract`` step's text next to Common Crawl's own WET text (4-token
   shingle overlap), and ``tamis run`` with the default recipe on the WARC file.
2. Parser choice: the WARC file repeated ``--copies`` times (one gzip member per record, as in
   the crawl) is read by tamis's framing, fastwarc (``pip install fastwarc``; a comparison only)
   and warcio; records/s on one core, then the
   same file damaged (a gzip member cut short in the middle, and at the end; one wrong
   Content-Length) to show what each parser still returns.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tamis.io.readers import BadRecord, ReaderOptions, plan_tasks, read_task  # noqa: E402
from tamis.io.warc import FramingError, iter_records  # noqa: E402
from tamis.pipeline import RunConfig  # noqa: E402
from tamis.recipes import recipe  # noqa: E402
from tamis.runner import run  # noqa: E402
from tamis.steps.base import TaskContext  # noqa: E402
from tamis.steps.extract import Extract  # noqa: E402

_TOKEN_RE = re.compile(r"\w+")


def read(path: Path) -> list:
    opts = ReaderOptions()
    return [item for task in plan_tasks([str(path)], opts) for item in read_task(task, opts)]


def shingles(text: str) -> Counter:
    tokens = _TOKEN_RE.findall(text)
    return Counter(tuple(tokens[i : i + 4]) for i in range(max(1, len(tokens) - 3)))


def overlap(a: str, b: str) -> tuple[float, float]:
    """Share of a's shingles found in b, and of b's found in a."""
    sa, sb = shingles(a), shingles(b)
    common = sum((sa & sb).values())
    return common / max(1, sum(sa.values())), common / max(1, sum(sb.values()))


def count_tamis(path: Path) -> tuple[int, int]:
    good = bad = 0
    for item in iter_records(str(path)):
        if isinstance(item, FramingError):
            bad += 1
        else:
            good += 1
    return good, bad


def count_fastwarc(path: Path) -> tuple[int, str]:
    try:
        from fastwarc.warc import ArchiveIterator
    except ImportError:
        return 0, "fastwarc is not installed (pip install fastwarc) - not compared"

    good = 0
    try:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh, parse_http=False):
                record.reader.read()
                good += 1
    except Exception as exc:  # noqa: BLE001 - what the parser does with damage is the measurement
        return good, f"stopped: {type(exc).__name__}: {exc}"
    return good, "no error reported"


def count_warcio(path: Path) -> tuple[int, str]:
    from warcio.archiveiterator import ArchiveIterator

    good = 0
    try:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                record.content_stream().read()
                good += 1
    except Exception as exc:  # noqa: BLE001
        return good, f"stopped: {type(exc).__name__}: {str(exc)[:80]!a}"
    return good, "no error reported"


def members(path: Path) -> list[bytes]:
    """The gzip members of a file, compressed, one per record."""
    data = path.read_bytes()
    out = []
    while data:
        decomp = zlib.decompressobj(31)
        decomp.decompress(data)
        used = len(data) - len(decomp.unused_data)
        out.append(data[:used])
        data = decomp.unused_data
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--copies", type=int, default=2000)
    args = parser.parse_args()
    base = args.corpus / "cc-whirlwind"
    warc, wet, wat = base / "whirlwind.warc.gz", base / "whirlwind.warc.wet.gz", base / "whirlwind.warc.wat.gz"

    print("[1] cc-whirlwind through the readers")
    for path in (warc, wet):
        records = [r.number for r in iter_records(str(path)) if not isinstance(r, FramingError)]
        items = read(path)
        docs = [i for i in items if not isinstance(i, BadRecord)]
        print(f"  {path.name}: {len(records)} records, {len(docs)} document(s), {len(items) - len(docs)} bad record(s)")
        for doc in docs:
            meta = {k: v for k, v in doc.metadata.items() if k != "source"}
            print(f"    id {doc.id}  {len(doc.text):,} chars  {meta}")
    wat_records = [r for r in iter_records(str(wat)) if not isinstance(r, FramingError)]
    print(f"  {wat.name}: {len(wat_records)} records framed cleanly (WAT is not a document format)")
    html_doc = next(i for i in read(warc) if not isinstance(i, BadRecord))
    wet_doc = next(i for i in read(wet) if not isinstance(i, BadRecord))
    step = Extract()
    ctx = TaskContext(0)
    extracted = list(step.run([html_doc], ctx))
    step.close()
    if extracted:
        ours = extracted[0].text
        ours_in_wet, wet_in_ours = overlap(ours, wet_doc.text)
        wet_text = wet_doc.text
        print(f"  extract step: {len(ours.splitlines())} lines, {len(ours):,} chars", end="; ")
        print(f"CC's WET text: {len(wet_text.splitlines())} lines, {len(wet_text):,} chars")
        print(f"  4-shingle overlap: {ours_in_wet:.1%} of ours is in the WET text; {wet_in_ours:.1%} of the WET text is in ours (the rest: menus, footers)")
        print("  first lines of ours: " + " | ".join(ours.splitlines()[:3])[:200])
    else:
        print(f"  extract step rejected the page: {ctx.rejected_records[0]['reason']}")
    out = Path(tempfile.mkdtemp(prefix="tamis-whirlwind-"))
    try:
        result = run(RunConfig(input=[str(warc), str(wet)], output=str(out / "run"), steps=recipe("default"), report=False), overwrite=True)
        stats = result.stats
        accounting = f"read {stats['read']} = kept {stats['kept']} + rejected {stats['rejected_total']}"
        print(f"  tamis run, default recipe, WARC + WET: {accounting} {dict(stats['rejected'])}")

        # 2. Parsers on a bigger file made of the real records.
        print(f"\n[2] WARC parsers on the whirlwind WARC repeated {args.copies} times")
        big = out / "big.warc.gz"
        blob = warc.read_bytes()
        big.write_bytes(blob * args.copies)
        size = big.stat().st_size
        for name, counter in (("tamis framing", count_tamis), ("fastwarc", count_fastwarc), ("warcio", count_warcio)):
            started = time.perf_counter()
            good, _ = counter(big)
            seconds = time.perf_counter() - started
            print(f"  {name:<14} {good:6d} records  {good / seconds:9.0f} records/s  {size / seconds / 1e6:6.1f} MB/s (compressed)")
        started = time.perf_counter()
        docs = sum(1 for item in read(big) if not isinstance(item, BadRecord))
        seconds = time.perf_counter() - started
        print(f"  tamis warc reader (framing + HTTP + decoding): {docs} documents, {docs / seconds:,.0f} pages/s")

        print("\n  damaged copies (12 records; what each parser returns):")
        parts = members(warc) * 3
        cut_mid = out / "cut-middle.warc.gz"
        cut_mid.write_bytes(b"".join(parts[:5]) + parts[5][: len(parts[5]) // 2] + b"".join(parts[6:]))
        cut_end = out / "cut-end.warc.gz"
        cut_end.write_bytes(b"".join(parts[:-1]) + parts[-1][: len(parts[-1]) // 2])
        plain = gzip.decompress(b"".join(members(warc)))
        match = re.search(rb"WARC-Type: response.*?Content-Length: (\d+)", plain, re.DOTALL)
        assert match is not None
        wrong = plain[: match.start(1)] + str(int(match.group(1)) - 100).encode() + plain[match.end(1) :]
        bad_length = out / "bad-length.warc"
        bad_length.write_bytes(wrong * 3)
        for label, path in (("gzip member cut in the middle", cut_mid), ("gzip member cut at the end", cut_end), ("wrong Content-Length (x3)", bad_length)):
            good, bad = count_tamis(path)
            fw_good, fw_note = count_fastwarc(path)
            wi_good, wi_note = count_warcio(path)
            print(f"    {label}:")
            print(f"      tamis    {good:2d} records + {bad} located error(s)")
            print(f"      fastwarc {fw_good:2d} records, {fw_note}")
            print(f"      warcio   {wi_good:2d} records, {wi_note}")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
