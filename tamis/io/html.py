"""Plain HTML files (``.html``, ``.htm``, each also gzip-, zstd-, bzip2- or xz-compressed): one page per file.

The page is decoded like a WARC payload (BOM, ``<meta charset>``, UTF-8, then a guess) and
marked ``metadata["content_format"] = "html"`` for the ``extract`` step. The document id is
the file's path as given (stable across runs); small files are read many to a task.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

from tamis.document import Document
from tamis.errors import InputError
from tamis.io.readers import BadRecord, FormatSpec, InputTask, ReaderOptions, ReadResult, compressed_forms, open_binary, read_capped, register_format

_GZIP_MAGIC = b"\x1f\x8b\x08"


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """The decompressed bytes of gzip ``data`` (members one after the other), at most ``limit`` of
    them: a small file cannot inflate past what the reader would keep. Raises zlib.error or
    EOFError (a member cut short)."""
    out: list[bytes] = []
    total = 0
    while data and total < limit:
        inflater = zlib.decompressobj(wbits=31)
        out.append(inflater.decompress(data, limit - total))
        total += len(out[-1])
        if total >= limit:
            break
        if not inflater.eof:
            raise EOFError("the gzip stream ends inside a member")
        data = inflater.unused_data
        if data and not data.startswith(_GZIP_MAGIC[:2]):
            break  # trailing bytes that are not another member (padding): ignored, as gzip does
    return b"".join(out)


def read_html_files(task: InputTask, options: ReaderOptions) -> Iterator[ReadResult]:
    from tamis.io.htmldecode import declared_language, decode_html_keeping_utf8

    for path in task.files:
        source = {"path": path, "line": None}
        try:
            with open_binary(path) as fh:  # plain or compressed, a file or an object
                raw = read_capped(fh, options.max_doc_bytes + 1)
        except Exception as exc:  # noqa: BLE001 - each codec raises its own (OSError, EOFError, zlib, lzma, zstd errors)
            yield BadRecord(InputError(f"cannot read: {exc}", path=path, reason="reader:unreadable_file"))
            continue
        if raw.startswith(_GZIP_MAGIC):
            # A page saved as the server sent it, gzip-encoded, under an .html name (a download
            # tool that kept the Content-Encoding): HTML never starts with these bytes.
            try:
                raw = gunzip_capped(raw, options.max_doc_bytes + 1)
            except (zlib.error, EOFError) as exc:
                msg = f"gzip data under a name without .gz, and it does not decompress: {exc}"
                yield BadRecord(InputError(msg, path=path, reason="reader:unreadable_file"))
                continue
        if len(raw) > options.max_doc_bytes:
            msg = f"page is larger than max_doc_bytes={options.max_doc_bytes:,} (kept its first bytes in the reject)"
            doc = Document(path, raw[: options.max_doc_bytes].decode("utf-8", "backslashreplace"), {"source": source})
            yield BadRecord(InputError(msg, path=path, reason="reader:too_large"), doc)
            continue
        text, encoding = decode_html_keeping_utf8(raw)
        metadata: dict[str, Any] = {"source": source, "encoding": encoding}
        language = declared_language(text)
        if language:
            metadata["declared_language"] = language
        metadata["content_format"] = "html"
        doc = Document(path, text, metadata)
        if not text or text.isspace():  # not text.strip(): that copies the whole page to find its first letter
            yield BadRecord(InputError("file is empty", path=path, reason="reader:empty"), doc)
        else:
            yield doc


register_format(FormatSpec("html", compressed_forms(".html", ".htm"), read_html_files, batch_by_size=True))
