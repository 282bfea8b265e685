"""Decoding pages that do not say their encoding: tamis's decode_html against the detectors it could use.

A page saved in a legacy encoding (windows-1252 for Western European languages, windows-1250 for
Central European ones, windows-1251 or KOI8 for Cyrillic, Shift_JIS, EUC-KR, GBK, Big5 ...)
without a ``<meta charset>`` or an HTTP charset is decoded by guessing; a wrong guess writes other
letters (Italian "città è" read as windows-1250 is "cittŕ č") and no later step can tell.

Real text in many languages: Debian's translated man pages (``/usr/share/man/<lang>/``, rendered
with groff as ``bench/bench_languages.py`` does), each page cut to its first ``--chars`` characters
(a short web page's text; ``--chars`` takes several lengths), encoded in each legacy encoding its
language was written in (characters that encoding cannot hold left out of the reference), wrapped
in ``<html><body><p>`` without any charset, and decoded by:

* ``tamis``: ``tamis.io.htmldecode.decode_html`` (what every HTML reader and the extract step use);
* ``charset_normalizer``: its best match alone (what decode_html asks when the bytes are not UTF-8);
* ``resiliparse``: ``detect_encoding`` + ``bytes_to_str`` (the decoder of resiliparse, which tamis's
  fast path parses with).

Printed per language and encoding: the share of pages decoded to exactly the reference text, and
the decoders' time. Run: ``.venv/bin/python bench/bench_decode.py [--pages 30] [--chars 300 2000]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_languages import render  # noqa: E402

MAN = Path("/usr/share/man")

# man folder -> the legacy encodings pages of that language were commonly written in.
LEGACY = {
    "da": ("cp1252",), "de": ("cp1252",), "es": ("cp1252",), "fi": ("cp1252",), "fr": ("cp1252",), "id": ("cp1252",),
    "it": ("cp1252",), "nl": ("cp1252",), "pt": ("cp1252",), "pt_BR": ("cp1252",), "sv": ("cp1252",),
    "cs": ("cp1250", "iso8859-2"), "hr": ("cp1250",), "hu": ("cp1250", "iso8859-2"), "pl": ("cp1250", "iso8859-2"), "ro": ("cp1250",),
    "sl": ("cp1250",), "tr": ("cp1254",), "ru": ("cp1251", "koi8-r"), "uk": ("cp1251", "koi8-u"), "sr": ("cp1251",),
    "ja": ("shift_jis", "euc-jp"), "ko": ("cp949",), "zh_CN": ("gbk",), "zh_TW": ("big5",),
}  # fmt: skip


def pages_of(folder: str, count: int) -> list[str]:
    """The first ``count`` man pages of a language with some non-ASCII text, rendered."""
    out = []
    for path in sorted((MAN / folder).glob("man*/*")):
        text = render(path)
        if sum(not c.isascii() for c in text) >= 20:
            out.append(text)
            if len(out) == count:
                break
    return out


def encodable(text: str, encoding: str) -> str:
    """``text`` without the characters ``encoding`` cannot hold."""
    return "".join(c for c in text if c.encode(encoding, "ignore"))


def decoders():
    from charset_normalizer import from_bytes
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    from tamis.io.htmldecode import decode_html

    def normalizer(body: bytes) -> str:
        best = from_bytes(body).best()
        return str(best) if best is not None else body.decode("utf-8", "replace")

    return {
        "tamis": lambda body: decode_html(body)[0],
        "charset_normalizer": normalizer,
        "resiliparse": lambda body: bytes_to_str(body, detect_encoding(body)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=30, help="man pages per language")
    parser.add_argument("--chars", type=int, nargs="+", default=[300, 2000], help="each page cut to its first N characters (several: each length)")
    parser.add_argument("--languages", nargs="+", default=list(LEGACY), help="man folders")
    args = parser.parse_args()
    contenders = decoders()
    totals = {name: [0, 0, 0.0] for name in contenders}  # exact, pages, seconds
    print(f"{'language':<8} {'encoding':<10} {'chars':>5} {'pages':>5}  " + "  ".join(f"{name:>18}" for name in contenders))
    for folder in args.languages:
        if not (MAN / folder).is_dir():
            print(f"{folder:<8} (no /usr/share/man/{folder}: skipped)")
            continue
        texts = pages_of(folder, args.pages)
        for encoding in LEGACY[folder]:
            for chars in args.chars:
                references = [encodable(text[:chars], encoding) for text in texts]
                references = [r for r in references if sum(not c.isascii() for c in r) >= 3]
                bodies = [f"<html><body><p>{r}</p></body></html>".encode(encoding) for r in references]
                cells = []
                for name, decode in contenders.items():
                    started = time.process_time()
                    exact = sum(f"<p>{r}</p>" in decode(body) for r, body in zip(references, bodies, strict=True))
                    seconds = time.process_time() - started
                    totals[name][0] += exact
                    totals[name][1] += len(bodies)
                    totals[name][2] += seconds
                    cells.append(f"{exact / max(len(bodies), 1):>18.0%}")
                print(f"{folder:<8} {encoding:<10} {chars:>5} {len(bodies):>5}  " + "  ".join(cells), flush=True)
    cells = [f"{name} {exact}/{n} exact ({exact / max(n, 1):.1%}), {1000 * seconds / max(n, 1):.2f} ms a page" for name, (exact, n, seconds) in totals.items()]
    print("all: " + ", ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
