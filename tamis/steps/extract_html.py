"""HTML helpers for the ``extract`` step: decoding, declared language, binary check, extractors.

Decoding and the declared language live in :mod:`tamis.io.htmldecode` (the readers use them
too) and are re-exported here.

The extractors are named functions ``html -> text`` (one paragraph per line). The default and
the other choices are measured in ``bench/bench_extract.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tamis.io.htmldecode import declared_language, decode_html  # noqa: F401 - re-exported for the extract step


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


def _trafilatura(html: str, *, fast: bool) -> str:
    import trafilatura

    result = trafilatura.extract(html, fast=fast, include_comments=False, include_tables=True, include_formatting=False)
    return result or ""


def extract_trafilatura(html: str) -> str:
    """trafilatura with its fallback extractors (readability, jusText) compared."""
    return _trafilatura(html, fast=False)


def extract_trafilatura_fast(html: str) -> str:
    """trafilatura's own algorithm only (no fallback)."""
    return _trafilatura(html, fast=True)


def extract_resiliparse(html: str) -> str:
    """resiliparse's main-content heuristics (fast, C++)."""
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(html, main_content=True)


EXTRACTORS: dict[str, Callable[[str], str]] = {
    "trafilatura": extract_trafilatura,
    "trafilatura_fast": extract_trafilatura_fast,
    "resiliparse": extract_resiliparse,
}


def extract_main_text(html: str, method: str) -> str:
    return tidy_paragraphs(EXTRACTORS[method](html))


def warm_up(method: str) -> None:
    """Import the extractor's modules (done once, before the first timed page)."""
    EXTRACTORS[method]("<html><body><p>warm up</p></body></html>")
