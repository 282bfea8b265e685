"""Decoding HTML bytes into text, and the language a page declares.

Shared by the readers that hold HTML (``tamis/io/html.py``, ``tamis/io/warc.py``) and the
``extract`` step, so it lives with the readers: the readers never import a step.

Decoding follows the order a browser uses (WHATWG "encoding sniffing", simplified), but for one
step: a byte order mark, then UTF-8 where the bytes are valid UTF-8 beyond ASCII (whatever a
label says: see _decode), then the HTTP ``charset``, then a ``<meta charset>`` in the first 4 KiB,
then UTF-8 if the bytes are nearly UTF-8 (_nearly_utf8), then the project's guess
(``tamis.io.encodings.guess``: uchardet, the ``<html lang>``'s encodings, charset-normalizer). ``iso-8859-1``,
``latin-1`` and ``us-ascii`` labels are read as windows-1252, as WHATWG specifies (pages that
say latin-1 use the 0x80-0x9F punctuation of windows-1252 all the time).
"""

from __future__ import annotations

import codecs
import re
import threading

from tamis.io.encodings import few_replacements, utf16_by_zeros, web_codec

# Each attempt stays inside its own tag, at most 2 kB of it ([^<>]{0,2048}): with an unbounded
# [^>]+, every "<meta" of a page that never closes its tags scanned to the page's end (n²/2:
# 48 kB of "<html " took 4.7 s).
_META_CHARSET_RE = re.compile(rb"""<meta[^<>]{1,2048}charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_HTML_LANG_RE = re.compile(r"""<html\b[^<>]{0,2048}?\blang\s*=\s*["']?\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)""", re.IGNORECASE)
_META_LANG_RE = re.compile(
    r"""<meta[^<>]{1,2048}http-equiv\s*=\s*["']?content-language["']?[^<>]{0,2048}content\s*=\s*["']?\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)""",
    re.IGNORECASE,
)


def decode_html(body: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML page; returns (text, the encoding used)."""
    text, name, _ = _decode(body, http_charset)
    return text, name


def decode_html_keeping_utf8(body: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """:func:`decode_html`, and where ``body`` was read as UTF-8 without a byte changed (no BOM,
    no replacement), remember it as the text's UTF-8 (:func:`utf8_of`), so that the ``extract``
    step sends the page to its child without encoding it again."""
    text, name, exact = _decode(body, http_charset)
    if exact:
        _remember_utf8(text, body)
    return text, name


def _decode(body: bytes, http_charset: str | None) -> tuple[str, str, bool]:
    """(text, encoding, whether ``body`` is exactly ``text``'s UTF-8)."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom) :].decode(name, "replace"), name, False
    wide = utf16_by_zeros(body)  # before UTF-8: UTF-16 of ASCII markup is valid UTF-8 (with NULs)
    if wide is not None:
        return wide[0], wide[1], False
    # Bytes that are valid UTF-8 beyond ASCII are UTF-8 whatever a label says: text in a legacy
    # encoding with one accented letter is not valid UTF-8, and servers and templates that say
    # ISO-8859-1 over UTF-8 pages are common (wceb2026: 5 of the 7 pages whose meta names another
    # encoding; read as windows-1252, their "–" was "â€“"). trafilatura reads them so too.
    try:
        utf8 = body.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    if utf8 is not None and not utf8.isascii():
        return utf8, "utf-8", True
    labels = [web_codec(http_charset)]
    match = _META_CHARSET_RE.search(body[:4096])
    if match:
        labels.append(web_codec(match.group(1).decode("ascii", "ignore")))
    for name in labels:
        if name and not name.startswith("utf-16"):
            try:
                return body.decode(name), name, name == "utf-8"
            except UnicodeDecodeError:
                # A few stray bytes in a page that is otherwise what it says (common on the
                # web: UTF-8 pages with one pasted latin-1 word) keep the label; more mean
                # the label is wrong, and the bytes are guessed below.
                text = body.decode(name, "replace")
                if few_replacements(text):
                    return text, name, False
    if utf8 is not None:
        return utf8, "utf-8", True
    text = body.decode("utf-8", "replace")
    if _nearly_utf8(text):
        return text, "utf-8", False
    from tamis.io.encodings import guess

    found = guess(body, declared_language(body[: 64 << 10].decode("latin-1")))
    if found is not None:
        return found[0], found[1], False
    # Not text (or hopeless): keep it visible; the binary check rejects it.
    return body.decode("utf-8", "replace"), "binary", False


def _nearly_utf8(text: str) -> bool:
    """Whether bytes that say nothing of their encoding, read as UTF-8 with a few replacements,
    are UTF-8 with stray bytes: the replacements are few, and the characters UTF-8 did read beyond
    ASCII outnumber them two to one. A windows-1252 page with two accented letters and nothing
    else beyond ASCII is not (it is guessed: tamis.io.encodings)."""
    if not few_replacements(text):
        return False
    bad = text.count("\ufffd")
    wide = len(text) - len(text.encode("ascii", "ignore")) - bad  # counted in C, not a loop per character
    return wide >= 2 * bad


# Pages read as UTF-8 (by decode_html_keeping_utf8) and their bytes, until the extract step takes
# them: id(text) -> (text, bytes). The text itself is held, so its id cannot be reused while the
# entry lives, and a taker checks it is the same object (a step before extract that rewrote the
# text gets no bytes). Bounded by bytes held, oldest first out: a recipe without the extract
# step, or a reader far ahead of it, loses the shortcut, never memory. Encoding a 150 kB page
# that is not all ASCII costs 0.15-0.3 ms, 3-5 % of what the learned extractor spends on it.
_UTF8_HELD_LIMIT = 16 << 20  # the step takes 32 pages at a time: ~5 MB of typical pages
_utf8_held: dict[int, tuple[str, bytes]] = {}
_utf8_held_bytes = 0
_utf8_lock = threading.Lock()  # readers and steps share one thread today; a lock keeps it safe if not


def _remember_utf8(text: str, body: bytes) -> None:
    global _utf8_held_bytes
    if text.isascii() or len(body) > _UTF8_HELD_LIMIT // 4:
        return  # an ASCII str's UTF-8 is a copy of its own bytes: nothing to save
    with _utf8_lock:
        while _utf8_held and _utf8_held_bytes + len(body) > _UTF8_HELD_LIMIT:
            oldest = next(iter(_utf8_held))  # dicts keep insertion order
            _utf8_held_bytes -= len(_utf8_held.pop(oldest)[1])
        _utf8_held[id(text)] = (text, body)  # a new key: the held text keeps its id from reuse
        _utf8_held_bytes += len(body)


def utf8_of(text: str) -> bytes:
    """``text.encode("utf-8")``: the bytes it was read from where :func:`decode_html_keeping_utf8`
    kept them (each is handed out once, then forgotten). Lone surrogates raise UnicodeEncodeError."""
    global _utf8_held_bytes
    if _utf8_held:
        with _utf8_lock:
            held = _utf8_held.pop(id(text), None)
            if held is not None:
                _utf8_held_bytes -= len(held[1])
        if held is not None and held[0] is text:
            return held[1]
    return text.encode("utf-8")


def declared_language(html: str, content_language: str | None = None) -> str | None:
    """The language the page says it is in: ``<html lang>``, a meta tag, or the HTTP header."""
    head = html[: 64 << 10]
    for regex in (_HTML_LANG_RE, _META_LANG_RE):
        match = regex.search(head)
        if match:
            return match.group(1).lower().replace("_", "-")
    if content_language:
        first = content_language.split(",")[0].strip()
        if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", first):
            return first.lower()
    return None
