"""HTML helpers for the ``extract`` step: decoding, declared language, binary check, extractors.

Decoding and the declared language live in :mod:`tamis.io.htmldecode` (the readers use them
too) and are re-exported here.

The extractors are named functions ``html -> Extraction`` (text with one paragraph per line,
the page's title/url/date, and which path produced the text). The default and
the other choices are measured in ``bench/bench_extract.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tamis.extract.regex_seed import seed_regex_cache

# Before the extractors' modules (and, through the warm-up page, trafilatura) compile their
# patterns: they find them built in re's cache (tamis.extract.regex_seed).
seed_regex_cache()

from tamis.extract import Extraction, extract_fast, extract_hybrid  # noqa: E402
from tamis.extract.hybrid import extract_learned_hybrid, trafilatura_or_fast  # noqa: E402
from tamis.extract.learned import extract_learned  # noqa: E402
from tamis.extract.metadata import page_metadata  # noqa: E402
from tamis.io.htmldecode import declared_language, decode_html  # noqa: E402, F401 - re-exported for the extract step
from tamis.text import fix_mojibake, nfc  # noqa: E402

# Control characters other than tab, newline, form feed and carriage return, and U+FFFD (what
# a decoder writes for bytes it could not read).
_BINARY_CHAR_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffd]")


# The control characters of _BINARY_CHAR_RE as UTF-8 bytes (each is one byte, and no byte of a
# longer UTF-8 sequence is below 0x80) and U+FFFD's three bytes.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)])
_REPLACEMENT_UTF8 = "\ufffd".encode()


def binary_share(text: str, sample: int = 8192) -> float:
    """Share of control and replacement characters at the start of ``text`` (0 for real HTML)."""
    head = text[:sample]
    if not head:
        return 0.0
    # Counted on the UTF-8 bytes, by bytes.translate and bytes.count (C loops at memory speed):
    # the regex (binary_share_reference) scans at 7 ns a character, 0.06 ms a page.
    data = head.encode("utf-8", "surrogatepass")
    bad = len(data) - len(data.translate(None, _CONTROL_BYTES)) + data.count(_REPLACEMENT_UTF8)
    return bad / len(head)


def binary_share_reference(text: str, sample: int = 8192) -> float:
    """:func:`binary_share` by the regex that defines it."""
    head = text[:sample]
    if not head:
        return 0.0
    return len(_BINARY_CHAR_RE.findall(head)) / len(head)


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

# A literal that every alternative of BOILERPLATE_LINE_RE contains (lower-case), so a line holding
# none of them cannot match: the furniture regex runs only on the few short lines that hold one.
# Python's re has no fast scan for a case-insensitive alternation (it tries all of it at every
# position: 40 us per short line), while a case-sensitive alternation of literals over the
# lower-cased line is several times cheaper. tests/test_extract_step_speed.py checks that each
# alternative holds one of these.
BOILERPLATE_KEYWORDS = (
    "copyright", "©", "all rights reserved", "alle rechte vorbehalten", "tous droits réservés", "todos los derechos",
    "newsletter", "subscri", "sign", "abonn", "inscrivez", "error", "try again later", "share ", "teilen", "partager",
    "follow us", "folgen sie uns", "suivez-nous", "cookie", "datenschutz", "privacy policy", "impressum",
    "mentions légales", "terms of ", "advertisement", "anzeige", "publicité", "werbung", "read more", "weiterlesen",
    "lire la suite", "mehr zum thema", "related ", "you may also like", "recommended for you", "log", "anmelden",
    "se connecter", "regist", "comment", "kommentare", "leave a reply", "thank", "vielen dank", "merci",
)  # fmt: skip
_KEYWORD_RE = re.compile("|".join(re.escape(keyword) for keyword in BOILERPLATE_KEYWORDS))
# re.IGNORECASE also equates these with ASCII letters, which str.lower() does not (U+0130 even
# lower-cases to two characters); folded first, a line the regex matches always holds a keyword.
_CASE_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


def _folded(line: str) -> str:
    if line.isascii() or not ("\u0130" in line or "\u0131" in line or "\u017f" in line):
        return line.lower()
    return line.translate(_CASE_FOLD).lower()


def drop_boilerplate_lines(text: str, max_words: int = BOILERPLATE_MAX_WORDS) -> tuple[str, int]:
    """``text`` without short furniture lines; returns (text, number of lines dropped).

    The same lines as :func:`drop_boilerplate_lines_reference`, five times faster: words are
    counted only up to ``max_words`` (split stops there), and the furniture regex runs only on
    short lines that hold one of its keywords."""
    kept = []
    dropped = 0
    for line in text.split("\n"):
        # split(None, n) has at most n + 1 parts, n + 1 exactly when there are more than n words.
        if len(line.split(None, max_words)) <= max_words and _KEYWORD_RE.search(_folded(line)) and BOILERPLATE_LINE_RE.search(line):
            dropped += 1
            continue
        kept.append(line)
    return ("\n".join(kept), dropped) if dropped else (text, 0)


def drop_boilerplate_lines_reference(text: str, max_words: int = BOILERPLATE_MAX_WORDS) -> tuple[str, int]:
    """Every line tested with the regex (the definition :func:`drop_boilerplate_lines` must match)."""
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


def extract_quick(html: str) -> Extraction:
    """The fast path wherever it is confident (about 70 % of pages), trafilatura elsewhere."""
    return extract_hybrid(html, min_long_share=0.0)


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
    "tamis_quick": extract_quick,
    "tamis_fast": extract_fast,
    "tamis_learned": extract_learned,
    "tamis_learned_hybrid": extract_learned_hybrid,
}


# Extractors that parse a page's UTF-8 bytes themselves (lxml reads bytes): the extraction
# worker hands them the bytes it received instead of decoding them to a str first.
UTF8_EXTRACTORS = frozenset({"tamis_learned", "tamis_learned_hybrid"})


def takes_utf8(method: str) -> bool:
    return method in UTF8_EXTRACTORS


def extracted_text(text: str) -> str:
    """An extractor's text as the step writes it: one paragraph per line (tidy_paragraphs), in
    Unicode NFC, as trafilatura writes its own. The same letters, canonically encoded: a page
    that spells é as e and a combining accent, or a Bengali ya with its dot as one code point,
    keeps its letters, and its text compares equal to anyone's NFC copy of it. No character is
    dropped: invisible ones (soft hyphens, zero-width joiners) stay as the page has them, where
    trafilatura drops every format character, the joiners that Persian and Indic spelling needs
    among them. A site's own mojibake (its UTF-8 once read as windows-1252: "Ã©" for "é") is
    repaired first (tamis.text.fix_mojibake, as the normalize step does; on the lines that show
    its mark only): WCXB's development pages +0.0007 F1 (15 pages changed), trafilatura-eval's and
    AEB's development halves unchanged, wceb2026's -0.0001 (4 pages: gold that kept the mojibake)."""
    return nfc(fix_mojibake(tidy_paragraphs(text)))


def written_text(text: str) -> str:
    """An extractor's text as the ``extract`` step writes it with its defaults: extracted_text (in
    the worker), then drop_boilerplate_lines (in the step). What the benchmark and fitting scripts
    score, so that they score what users get."""
    return drop_boilerplate_lines(extracted_text(text))[0]


def extract_main_text(html: str | bytes, method: str) -> dict[str, object]:
    """The worker's answer for one page: ``text`` (extracted_text: one paragraph per line, NFC),
    the page's stated ``metadata`` (title, url, date) and the ``path`` that produced the text.
    ``html`` may be UTF-8 bytes for the extractors in UTF8_EXTRACTORS."""
    if isinstance(html, bytes) and method not in UTF8_EXTRACTORS:
        html = html.decode("utf-8")
    result = EXTRACTORS[method](html)  # type: ignore[arg-type]
    return {"text": extracted_text(result.text), "metadata": result.metadata, "path": result.method}


WARM_UP_PAGE = "<html><body><p>warm up</p></body></html>"
# Extractors that call trafilatura only for the pages their router sends it: their warm-up can
# leave trafilatura's import (~0.15-0.2 CPU-s: courlan, tld, urllib.request, http.client, ssl,
# urllib3, htmldate, dateutil, justext) to the first such page, so a run that routes none never pays it.
ROUTED_TRAFILATURA = {"tamis_learned_hybrid": "tamis_learned"}


def warm_up(method: str, trafilatura: bool = True) -> None:
    """Import the extractor's modules and run it once (done once, before the first timed page).
    ``trafilatura=False``: for an extractor of ROUTED_TRAFILATURA, warm up its first path alone
    (the tiny page would be routed: trafilatura imported); the extraction worker then credits
    trafilatura's import to no page (``extract_worker._credit_first_import``)."""
    EXTRACTORS[method if trafilatura else ROUTED_TRAFILATURA.get(method, method)](WARM_UP_PAGE)
