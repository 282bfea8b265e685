"""Write one small input of every format tamis reads, from the demo corpus, with the stdlib only.

Run by .ci/smoke_noextras.sh in an environment that has tamis without any extra: the demo
corpus gives JSONL.gz, Parquet and a text folder; this adds plain JSONL, JSONL.zst (written by
tamis's own zstandard dependency), HTML pages, a WARC with HTTP responses and a WET file.
Usage: python smoke_inputs.py DEMO_DIR OUT_DIR
"""

from __future__ import annotations

import gzip
import json
import sys
import uuid
from pathlib import Path

import zstandard  # a runtime dependency of tamis, so present in the no-extras environment


def demo_records(demo: Path, n: int) -> list[dict]:
    records: list[dict] = []
    for shard in sorted(demo.glob("*.jsonl.gz")):
        with gzip.open(shard, "rt", encoding="utf-8") as fh:
            records.extend(json.loads(line) for line in fh)
    # Long, distinct documents: the pages must survive extraction and the quality filters.
    records = [r for r in records if len(r["text"]) > 1500]
    seen: set[str] = set()
    unique = []
    for r in records:
        key = r["text"][:200]
        if key not in seen:
            seen.add(key)
            unique.append(r)
    if len(unique) < n:
        raise SystemExit(f"smoke: the demo corpus has only {len(unique)} long distinct documents")
    return unique[:n]


def html_page(title: str, text: str) -> bytes:
    paragraphs = "".join(f"<p>{line}</p>\n" for line in text.split("\n") if line.strip())
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>{title}</h1>\n{paragraphs}</article>"
        "<footer>Contact</footer></body></html>"
    ).encode()


def warc_record(kind: str, uri: str, payload: bytes, content_type: str) -> bytes:
    head = (
        f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>\r\nContent-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + payload + b"\r\n\r\n")


def main() -> None:
    demo, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    records = demo_records(demo, 24)
    plain, zst, html, warc, wet = records[:4], records[4:8], records[8:12], records[12:18], records[18:24]
    (out / "plain.jsonl").write_bytes(b"".join(json.dumps({**r, "id": f"plain-{r['id']}"}).encode() + b"\n" for r in plain))
    blob = b"".join(json.dumps({**r, "id": f"zst-{r['id']}"}).encode() + b"\n" for r in zst)
    half = blob.index(b"\n", len(blob) // 2) + 1  # two frames, as a streaming writer leaves them
    (out / "frames.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(blob[:half]) + zstandard.ZstdCompressor().compress(blob[half:]))
    pages = out / "pages"
    pages.mkdir(exist_ok=True)
    for i, r in enumerate(html):
        (pages / f"page{i}.html").write_bytes(html_page(f"Page {i}", r["text"]))
    with open(out / "crawl.warc.gz", "wb") as fh:
        fh.write(warc_record("warcinfo", "", b"software: smoke\r\n", "application/warc-fields"))
        for i, r in enumerate(warc):
            body = html_page(f"Capture {i}", r["text"])
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % len(body)
            uri = f"https://example.org/capture/{i}"
            fh.write(warc_record("request", uri, b"GET / HTTP/1.1\r\n\r\n", "application/http; msgtype=request"))
            fh.write(warc_record("response", uri, http + body, "application/http; msgtype=response"))
    with open(out / "crawl.warc.wet.gz", "wb") as fh:
        for i, r in enumerate(wet):
            fh.write(warc_record("conversion", f"https://example.org/text/{i}", r["text"].encode(), "text/plain"))
    print(f"smoke inputs in {out}: plain JSONL, multi-frame JSONL.zst, {len(html)} HTML pages, WARC ({len(warc)} responses), WET ({len(wet)})")


if __name__ == "__main__":
    main()
