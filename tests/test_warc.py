"""WARC and WET readers on files written here with warcio: metadata, encodings, and damage."""

from __future__ import annotations

import gzip
import io
import itertools
import re
from pathlib import Path

import orjson
import pytest
from runutil import assert_accounting, kept, load_stats, rejected, run_recipe
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import tamis.io.html  # noqa: F401 - registers the html format
from tamis.io.readers import BadRecord, ReaderOptions, detect_format, plan_tasks, read_task
from tamis.io.warc import iter_records

ARTICLE = (
    "<html lang='{lang}'><head><title>T</title></head><body><nav>Home | News | Contact</nav><article>"
    "<h1>Heading {n}</h1><p>{para} This first paragraph of article {n} is long enough to count as real text for an extractor.</p>"
    "<p>The second paragraph of article {n} adds more sentences, so that the main text is clearly the article body.</p>"
    "</article><footer>Impressum - Datenschutz</footer></body></html>"
)


def page(n: int, *, lang: str = "en", para: str = "Hello.") -> str:
    return ARTICLE.format(n=n, lang=lang, para=para)


def _response(writer: WARCWriter, url: str, body: bytes, content_type: str):
    http = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
    return writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)


def write_warc(path: Path, pages: list[tuple[str, bytes, str]], *, gz: bool = True, extras: bool = True) -> list[tuple[int, int]]:
    """Write (url, body, content type) responses; returns each record's (start, end) offsets."""
    offsets = []
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        if extras:
            start = fh.tell()
            writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
            offsets.append((start, fh.tell()))
        for url, body, ctype in pages:
            if extras:
                start = fh.tell()
                writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))
                offsets.append((start, fh.tell()))
            start = fh.tell()
            writer.write_record(_response(writer, url, body, ctype))
            offsets.append((start, fh.tell()))
    return offsets


def read_all(path: Path, **options) -> list:
    opts = ReaderOptions(**options)
    return [item for task in plan_tasks([str(path)], opts) for item in read_task(task, opts)]


def html_pages(n: int) -> list[tuple[str, bytes, str]]:
    return [(f"http://example.com/{i}", page(i).encode(), "text/html; charset=utf-8") for i in range(n)]


def test_formats_are_detected_by_suffix():
    assert detect_format("a/CC-MAIN-1.warc.gz") == "warc"
    assert detect_format("a/CC-MAIN-1.warc") == "warc"
    assert detect_format("a/CC-MAIN-1.warc.wet.gz") == "wet"
    assert detect_format("a/x.wet") == "wet"
    assert detect_format("a/x.html.gz") == "html"
    assert detect_format("a/x.htm") == "html"


@pytest.mark.parametrize("gz", [True, False])
def test_only_html_responses_become_documents_with_metadata(tmp_path: Path, gz: bool):
    path = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    cp1252 = page(2, lang="fr", para="L’été à Paris coûte cher.").encode("cp1252")
    pages = [
        *html_pages(2),
        ("http://example.fr/ete", cp1252, "text/html; charset=windows-1252"),
        ("http://example.com/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png"),
    ]
    write_warc(path, pages, gz=gz)
    items = read_all(path)
    assert all(not isinstance(i, BadRecord) for i in items)
    assert [d.metadata["url"] for d in items] == ["http://example.com/0", "http://example.com/1", "http://example.fr/ete"]
    first = items[0]
    assert first.id.startswith("urn:uuid:")
    assert first.metadata["warc_record_id"] == f"<{first.id}>"
    assert first.metadata["content_format"] == "html"
    assert first.metadata["content_type"] == "text/html; charset=utf-8"
    assert first.metadata["encoding"] == "utf-8"
    assert first.metadata["declared_language"] == "en"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]+Z", first.metadata["date"])
    assert first.metadata["source"] == {"path": str(path), "line": 3}  # warcinfo, request, response
    french = items[2]
    assert french.metadata["encoding"] == "cp1252"
    assert french.metadata["declared_language"] == "fr"
    assert "L’été à Paris coûte cher." in french.text
    # Ids are stable: the same file read twice gives the same ids.
    assert [d.id for d in read_all(path)] == [d.id for d in items]


def test_gzip_member_cut_short_at_the_end(tmp_path: Path):
    path = tmp_path / "cut.warc.gz"
    offsets = write_warc(path, html_pages(3), extras=False)
    data = path.read_bytes()
    last_start, _ = offsets[-1]
    path.write_bytes(data[: last_start + 60])
    items = read_all(path)
    docs = [i for i in items if not isinstance(i, BadRecord)]
    bad = [i for i in items if isinstance(i, BadRecord)]
    assert [d.metadata["url"] for d in docs] == ["http://example.com/0", "http://example.com/1"]
    assert len(bad) == 1
    assert bad[0].error.reason == "reader:truncated"
    assert bad[0].error.line == 3
    assert "cut short" in bad[0].error.message


def test_gzip_member_cut_short_in_the_middle_loses_nothing_else(tmp_path: Path):
    path = tmp_path / "hole.warc.gz"
    offsets = write_warc(path, html_pages(4), extras=False)
    data = path.read_bytes()
    start, end = offsets[1]
    path.write_bytes(data[: start + (end - start) // 2] + data[end:])
    items = read_all(path)
    urls = [i.metadata["url"] for i in items if not isinstance(i, BadRecord)]
    assert urls == ["http://example.com/0", "http://example.com/2", "http://example.com/3"]
    bad = [i for i in items if isinstance(i, BadRecord)]
    assert len(bad) == 1
    assert bad[0].error.reason == "reader:truncated"
    assert f"byte {start:,}" in bad[0].error.message


def _shift_content_length(raw: bytes, record: int, delta: int) -> bytes:
    """Change the WARC Content-Length of the ``record``-th record (0-based) by ``delta``."""
    headers = [m for m in re.finditer(rb"WARC/1\.[01]\r\n", raw)]
    block = raw[headers[record].start() :]
    match = re.search(rb"\r\nContent-Length: (\d+)\r\n", block)
    assert match is not None
    at = headers[record].start() + match.start(1)
    return raw[:at] + str(int(match.group(1)) + delta).encode() + raw[at + len(match.group(1)) :]


@pytest.mark.parametrize("delta", [-40, 40, 100_000])
@pytest.mark.parametrize("gz", [False, True])
def test_wrong_content_length_rejects_that_record_only(tmp_path: Path, delta: int, gz: bool):
    plain = tmp_path / "plain.warc"
    write_warc(plain, html_pages(4), gz=False, extras=False)
    broken = _shift_content_length(plain.read_bytes(), 1, delta)
    path = tmp_path / ("bad.warc.gz" if gz else "bad.warc")
    if gz:
        # One gzip member per record, as Common Crawl writes them.
        starts = [m.start() for m in re.finditer(rb"(?:^|(?<=\n))WARC/1\.0\r\n", broken)] + [len(broken)]
        path.write_bytes(b"".join(gzip.compress(broken[a:b]) for a, b in itertools.pairwise(starts)))
    else:
        path.write_bytes(broken)
    items = read_all(path)
    urls = [i.metadata["url"] for i in items if not isinstance(i, BadRecord)]
    assert urls == ["http://example.com/0", "http://example.com/2", "http://example.com/3"]
    bad = [i for i in items if isinstance(i, BadRecord)]
    assert len(bad) == 1
    err = bad[0].error
    assert err.reason == "reader:bad_content_length"
    assert err.line == 2
    assert "Content-Length says" in err.message
    assert bad[0].doc is not None and bad[0].doc.metadata["url"] == "http://example.com/1"


def test_not_a_warc_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "fake.warc"
    path.write_bytes(b"this is not a WARC file at all\n" * 10)
    items = read_all(path)
    assert len(items) == 1 and isinstance(items[0], BadRecord)
    assert items[0].error.reason == "reader:bad_record"


def test_framing_reports_every_record_number(tmp_path: Path):
    path = tmp_path / "n.warc.gz"
    write_warc(path, html_pages(2))
    numbers = [r.number for r in iter_records(str(path))]
    assert numbers == [1, 2, 3, 4, 5]


def write_wet(path: Path, texts: list[tuple[str, str, str]]) -> None:
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
        for url, text, lang in texts:
            headers = [("WARC-Identified-Content-Language", lang), ("Content-Type", "text/plain")]
            record = writer.create_warc_record(url, "conversion", payload=io.BytesIO(text.encode()), warc_headers_dict=dict(headers))
            writer.write_record(record)


def test_wet_conversion_records_become_text_documents(tmp_path: Path):
    path = tmp_path / "crawl.warc.wet.gz"
    write_wet(path, [("http://a.fr/", "Bonjour tout le monde.\nDeuxième ligne.", "fra"), ("http://b.com/", "Hello world.", "eng")])
    items = read_all(path)
    assert [d.text for d in items] == ["Bonjour tout le monde.\nDeuxième ligne.", "Hello world."]
    assert items[0].metadata["warc_language"] == "fra"
    assert items[0].metadata["url"] == "http://a.fr/"
    assert "content_format" not in items[0].metadata


def test_run_reads_warc_with_damage_and_accounts_for_everything(tmp_path: Path):
    path = tmp_path / "crawl.warc.gz"
    offsets = write_warc(path, html_pages(4), extras=False)
    data = path.read_bytes()
    path.write_bytes(data[: offsets[-1][0] + 50])  # the last page is cut short
    out = tmp_path / "run"
    run_recipe([path], out, [{"step": "extract", "isolate": False}])
    texts = [r["text"] for r in kept(out)]
    assert len(texts) == 3
    assert all("first paragraph" in t and "Impressum" not in t for t in texts)
    stats = load_stats(out)
    assert stats["read"] == 3 and stats["kept"] == 3
    errors = [orjson.loads(line) for line in (out / "errors.jsonl").read_bytes().splitlines()]
    assert [e["reason"] for e in errors] == ["reader:truncated"]
    assert errors[0]["line"] == 4
    assert_accounting(out, [r["id"] for r in kept(out)] + [r["id"] for r in rejected(out)])


def test_fifty_megabyte_page_is_rejected_by_the_reader(tmp_path: Path):
    path = tmp_path / "big.warc.gz"
    huge = b"<html><body>" + b"<p>spam spam spam spam</p>" * (50 * (1 << 20) // 26) + b"</body></html>"
    write_warc(path, [("http://big.example/", huge, "text/html"), *html_pages(1)], extras=False)
    items = read_all(path)
    assert isinstance(items[0], BadRecord)
    assert items[0].error.reason == "reader:too_large"
    assert items[0].doc is not None and len(items[0].doc.text) <= ReaderOptions().max_doc_bytes
    assert items[1].metadata["url"] == "http://example.com/0"


def test_an_encoded_payload_decodes_at_most_max_doc_bytes(tmp_path: Path):
    """A site's "zip bomb" (a few hundred kB of gzip or brotli that decode to 200 MB) is a
    reader:too_large reject decoded only as far as max_doc_bytes, where it was decoded whole
    first (memory for all of it); a gzip payload cut short gives the page it holds, where it
    was left compressed (a binary reject)."""
    import resource
    import zlib

    import brotli

    # Compressed a megabyte at a time, so that making them never holds the 200 MB this test
    # process's peak memory must not see.
    chunk = b"a" * (1 << 20)
    gz, br = zlib.compressobj(1, zlib.DEFLATED, 31), brotli.Compressor(quality=1)
    gz_bomb, br_bomb = [gz.compress(b"<html><body><p>")], [br.process(b"<html><body><p>")]
    for _ in range(200):
        gz_bomb.append(gz.compress(chunk))
        br_bomb.append(br.process(chunk))
    gz_bomb.append(gz.compress(b"</p></body></html>") + gz.flush())
    br_bomb.append(br.process(b"</p></body></html>") + br.finish())
    page_html = page(1, para="A page whose gzip was cut short at its end, after this paragraph.").encode()
    cut = gzip.compress(page_html)[:-12]  # the trailer (CRC, size) lost: the deflate data whole
    path = tmp_path / "encoded.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, encoding in (
            ("http://bomb.example/gz", b"".join(gz_bomb), "gzip"),
            ("http://bomb.example/br", b"".join(br_bomb), "br"),
            ("http://cut.example/", cut, "gzip"),
        ):
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Encoding", encoding)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    items = read_all(path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert [item.error.reason for item in items[:2]] == ["reader:too_large", "reader:too_large"]
    assert all(len(item.doc.text) <= ReaderOptions().max_doc_bytes for item in items[:2])
    assert grown_mb < 120, grown_mb  # a 200 MB decoding would raise the peak by 200 MB at least
    assert items[2].metadata["url"] == "http://cut.example/" and "after this paragraph" in items[2].text
    with pytest.raises(zlib.error):
        zlib.decompress(cut, 47)  # what the reader used to do with it


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, made as read (a record's payload never held by the test)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def test_a_record_over_the_block_cap_is_read_past_not_held(tmp_path: Path):
    """An archive's 100 MB video record beside its pages: skipped without being held (the reader
    held every block whole, twice: 2 GB of memory for a 500 MB video); a page over the cap
    (2 x max_doc_bytes as stored) is a reader:too_large reject with its first max_doc_bytes;
    a record the file ends inside of is a located truncation, the records before it read."""
    import resource

    path = tmp_path / "archive.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, size, ctype in (("http://v.example/video.mp4", 100 << 20, "video/mp4"), ("http://big.example/", 5 << 20, "text/html")):
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            payload = io.BufferedReader(_Zeros(size))
            writer.write_record(writer.create_warc_record(url, "response", payload=payload, length=size, http_headers=http))
        for url, body, ctype in html_pages(2):
            writer.write_record(_response(writer, url, body, ctype))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    items = read_all(path, max_doc_bytes=1 << 20)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 40, grown_mb  # holding the video would be 100 MB at least
    big, *pages = items
    assert isinstance(big, BadRecord) and big.error.reason == "reader:too_large" and "5,242,9" in big.error.message
    assert big.doc is not None and len(big.doc.text.encode()) <= 1 << 20 and big.doc.metadata["url"] == "http://big.example/"
    assert [p.metadata["url"] for p in pages] == ["http://example.com/0", "http://example.com/1"]
    # A record whose Content-Length runs past the end of the file (plain WARC, cut there).
    whole = tmp_path / "whole.warc"
    write_warc(whole, [*html_pages(1), ("http://cut.example/", b"<p>" + b"x" * (3 << 20) + b"</p>", "text/html")], gz=False, extras=False)
    cut = tmp_path / "cut.warc"
    cut.write_bytes(whole.read_bytes()[: -(2 << 20)])
    first, last = read_all(cut, max_doc_bytes=1 << 20)
    assert first.metadata["url"] == "http://example.com/0"
    assert isinstance(last, BadRecord) and last.error.reason == "reader:truncated" and "the file ends first" in last.error.message


def test_a_content_length_that_claims_too_much_resumes_at_the_next_record(tmp_path: Path):
    """A record whose Content-Length claims 50 MB (over the block cap, so read past unheld)
    while its block is a few bytes: the reader resumes at the first record start inside the
    claimed span, so the pages after it are read, as they were when every block was held."""
    good = tmp_path / "good.warc"
    write_warc(good, html_pages(3), gz=False, extras=False)
    data = good.read_bytes()
    first_end = data.index(b"WARC/1.", 1)  # where the second record starts
    head, rest = data[:first_end], data[first_end:]
    length = re.search(rb"Content-Length: (\d+)", head)
    assert length is not None
    broken = head.replace(length.group(0), b"Content-Length: " + str(50 << 20).encode(), 1)
    path = tmp_path / "claims.warc"
    path.write_bytes(broken + rest)
    items = read_all(path, max_doc_bytes=1 << 20)
    assert isinstance(items[0], BadRecord) and items[0].error.reason == "reader:bad_content_length"
    assert [item.metadata["url"] for item in items[1:]] == ["http://example.com/1", "http://example.com/2"]
