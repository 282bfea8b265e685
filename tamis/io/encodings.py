"""Guessing the legacy encoding of bytes that are not UTF-8 and do not say their encoding.

The one guesser of the project: ``encoding: auto`` of the text readers, and HTML pages with
neither an HTTP charset nor a ``<meta charset>`` (``tamis.io.htmldecode``). A wrong guess writes
other letters (Italian ``città è`` read as windows-1250 is ``cittŕ č``) and no later step can tell,
so the order is the one that measured best (``bench/bench_decode.py``: translated man pages in 25
languages, each in the legacy encodings its language was written in, 300 and 2,000 characters):

1. uchardet (through resiliparse, already a dependency), whose answer is taken when it is an
   encoding web pages are written in (WHATWG's, less the rare ones: ISO-8859-3/4/10/14/16, the
   Mac and DOS code pages) and the bytes decode in it without a C1 control, and, where the
   record declares a language (``language``, ``lang``, ``<html lang>`` ...), when it is one of
   that language's encodings (where the bytes declare none and uchardet names a Latin code page,
   the language fastText reads in their windows-1252 reading stands for it: on a short text
   uchardet picks among the Latin code pages almost at random);
2. else the declared language's family of encodings (French: windows-1252, Latin-1, Latin-9;
   Polish: windows-1250, Latin-2 ...): the first that decodes the bytes into letters;
3. else uchardet's answer all the same, else charset-normalizer among the same web encodings,
   windows-1252 on a tie (the web's most common legacy encoding, WHATWG's default).

KOI8-R is read as KOI8-U (they differ only where KOI8-R has box-drawing signs, which KOI8-U
spends on Ukrainian letters), ISO-8859-9 as windows-1254, TIS-620 as windows-874 and EUC-KR as
windows-949 (UHC), as WHATWG does for the last three. The encoding used is returned so that the
reader records it in ``metadata.encoding``.
"""

from __future__ import annotations

import re
from typing import Any

WESTERN = ("cp1252", "latin_1", "iso8859_15")
CENTRAL = ("cp1250", "iso8859_2")
CYRILLIC = ("cp1251", "koi8_r", "koi8_u", "iso8859_5")
BALTIC = ("cp1257", "iso8859_13")
FAMILIES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        [
            "en",
            "fr",
            "de",
            "es",
            "it",
            "pt",
            "nl",
            "ca",
            "da",
            "sv",
            "no",
            "nb",
            "nn",
            "fi",
            "is",
            "ga",
            "gl",
            "eu",
            "af",
            "sq",
            "br",
            "co",
            "oc",
            "lb",
            "wa",
            "fo",
            "sw",
            "ms",
            "id",
            "tl",
        ],
        WESTERN,
    ),
    **dict.fromkeys(["pl", "cs", "sk", "hu", "sl", "hr", "bs", "ro", "sr-latn"], CENTRAL),
    **dict.fromkeys(["ru", "uk", "bg", "be", "mk", "sr", "kk", "ky", "tg", "mn"], CYRILLIC),
    **dict.fromkeys(["lt", "lv", "et"], BALTIC),
    "el": ("cp1253", "iso8859_7"),
    "tr": ("cp1254", "iso8859_9"),
    "az": ("cp1254", "iso8859_9"),
    "he": ("cp1255", "iso8859_8"),
    "yi": ("cp1255", "iso8859_8"),
    "ar": ("cp1256", "iso8859_6"),
    "fa": ("cp1256",),
    "ur": ("cp1256",),
    "vi": ("cp1258",),
    "th": ("cp874", "tis_620"),
    "ja": ("shift_jis", "euc_jp", "iso2022_jp"),
    "zh": ("gb18030", "big5"),
    "ko": ("euc_kr", "cp949"),
}
LANGUAGE_KEYS = ("language", "lang", "declared_language", "lang_code", "locale")


def _codec(name: str) -> str:
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


_C1 = re.compile("[\x80-\x9f]")
_WIDE = re.compile("[^\x00-\x7f]")


def _decode(raw: bytes, encoding: str) -> str | None:
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    # C1 controls (U+0080-U+009F) mean the code page did not fit (Latin-1 decodes anything).
    return None if _C1.search(text) else text


def few_replacements(text: str) -> bool:
    """Whether ``text`` (bytes decoded with replacement) holds few enough U+FFFD to be what it was
    read as, with stray bytes: at most 2, or one in a thousand characters."""
    return text.count("\ufffd") <= max(2, len(text) // 1000)


# Unicode's signatures (byte order marks) of the encodings wider than a byte; UTF-32LE's first,
# since it starts with UTF-16LE's.
_WIDE_SIGNATURES = (
    (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"),
)  # fmt: skip
ZERO_SAMPLE = 4096  # the bytes utf16_by_zeros counts zeros in


def utf16_by_zeros(raw: bytes) -> tuple[str, str] | None:
    """(text, encoding) of UTF-16 bytes that carry no byte order mark, told by their zero bytes:
    markup and Latin letters in UTF-16 have a zero as the high byte of nearly every code unit, all
    at odd offsets (little-endian) or all at even ones (big-endian), where text in UTF-8 or any
    8-bit encoding has no zero at all. Taken where, in the first ZERO_SAMPLE bytes, a third or more
    of one side's bytes are zeros and under 1 % of the other's, and the decoding replaces few code
    units (few_replacements). None otherwise. What a Windows tool writes as "Unicode" without its
    mark; trafilatura's charset detection reads such pages, WHATWG's sniffing does not."""
    sample = raw[:ZERO_SAMPLE]
    half = len(sample) // 2
    if half < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd * 3 >= half and even * 100 < half:
        encoding = "utf-16-le"
    elif even * 3 >= half and odd * 100 < half:
        encoding = "utf-16-be"
    else:
        return None
    text = raw[: len(raw) - len(raw) % 2].decode(encoding, "replace")
    return (text, encoding) if few_replacements(text) else None


def wide_unicode(raw: bytes, *, guess_unmarked: bool) -> tuple[str, str] | None:
    """(text, encoding) of a whole text file in UTF-16 or UTF-32: by its byte order mark (what
    Windows tools write for "Unicode" text), and with ``guess_unmarked`` also UTF-16 without one
    (utf16_by_zeros); None for anything else (UTF-8 and the 8-bit encodings are read as before).
    A mark is the file saying its encoding, so it is read whatever ``encoding`` the run asks for."""
    for mark, encoding in _WIDE_SIGNATURES:
        if raw.startswith(mark):
            body = raw[len(mark) :]
            width = 4 if encoding.startswith("utf-32") else 2
            return body[: len(body) - len(body) % width].decode(encoding, "replace"), encoding
    return utf16_by_zeros(raw) if guess_unmarked else None


def language_hint(raw: bytes) -> str | None:
    """A language a JSON record declares, read from its bytes without decoding them."""
    import orjson

    try:
        record: Any = orjson.loads(raw.decode("latin-1"))  # keys and codes are ASCII
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict):
        return None
    nested = record.get("metadata")
    for holder in (record, nested if isinstance(nested, dict) else {}):
        for key in LANGUAGE_KEYS:
            value = holder.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def family_of(language: str | None) -> tuple[str, ...]:
    if not language:
        return ()
    code = language.lower().replace("_", "-")
    return FAMILIES.get(code) or FAMILIES.get(code.split("-")[0], ())


def _latin_script_share(text: str) -> float:
    """Among the letters of ``text``, the share that are ASCII: high in Latin-script text
    (a few accents), near zero in Cyrillic or Greek read through a Latin code page."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 1.0
    return sum(c.isascii() for c in letters) / len(letters)


# Typographic signs legacy code pages were made for (dashes, quotes, the euro, ellipsis ...):
# as plausible in a decoded text as letters.
TYPOGRAPHY = frozenset("–—‘’‚“”„…«»€£¥°·§©®™•¡¿ ")


def _plausible_share(text: str) -> float:
    """The share of non-ASCII characters that are letters or common typographic signs."""
    wide = _WIDE.findall(text)
    if not wide:
        return 1.0
    return sum(c.isalpha() or c in TYPOGRAPHY for c in wide) / len(wide)


_IDENTIFIER: list[Any] = []


def detect_language(text: str) -> tuple[str | None, float]:
    """fastText's language of ``text`` (the model the language step uses; loaded once per
    process, only when a record needs guessing), or (None, 0) without it."""
    if not _IDENTIFIER:
        try:
            from tamis.steps.language import FastTextIdentifier

            _IDENTIFIER.append(FastTextIdentifier())
        except Exception:  # noqa: BLE001 - no model: the other rules decide
            _IDENTIFIER.append(None)
    identifier = _IDENTIFIER[0]
    return identifier.predict(text) if identifier is not None else (None, 0.0)


# The single-byte code pages of Latin-script languages: where uchardet names one of these for
# bytes that say no language, the language is detected first (their mostly ASCII words tell it
# whatever the code page), since on a short text uchardet picks among them almost at random
# ("Où est la gare ?" in Latin-1 is ISO-8859-13 to it).
LATIN_PAGES = frozenset(("cp1250", "cp1252", "cp1254", "cp1257", "iso8859-2", "iso8859-13", "iso8859-15"))


def _latin_language(raw: bytes) -> str | None:
    """The language of Latin-script bytes, detected on their windows-1252 reading, where fastText is sure (0.5)."""
    text = raw[:SAMPLE_BYTES].decode("cp1252", "replace")
    if _latin_script_share(text) < 0.5:
        return None
    language, probability = detect_language(text)
    return language if probability >= 0.5 else None


def guess(raw: bytes, language: str | None = None) -> tuple[str, str] | None:
    """(text, encoding) for bytes that are not UTF-8, or None when nothing fits (NUL bytes: not text)."""
    if b"\x00" in raw[:8192]:
        return None
    detected = _detected(raw)
    if not language and detected is not None and detected[1] in LATIN_PAGES:
        language = _latin_language(raw)
    family = tuple(dict.fromkeys(WEB_ENCODINGS.get(_codec(e), _codec(e)) for e in family_of(language)))  # read as WHATWG reads them
    if detected is not None and (not family or detected[1] in family):
        return detected
    for encoding in family:
        text = _decode(raw, encoding)
        if text is not None and _plausible_share(text) >= 0.9:
            return text, encoding
    if detected is not None:
        return detected
    return _normalizer_guess(raw)


# The encodings web pages are written in (WHATWG's, less ISO-8859-3/4/10/14/16, whose use is too
# rare to win a guess over their common neighbours), each read as WHATWG reads it: Python's codec
# name -> the codec that decodes it.
WEB_ENCODINGS = {
    **{name: name for name in (
        "cp1250", "cp1251", "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "cp874",
        "iso8859-2", "iso8859-5", "iso8859-6", "iso8859-7", "iso8859-8", "iso8859-13", "iso8859-15", "cp866", "koi8-u",
        "gb18030", "big5", "big5hkscs", "euc_jp", "shift_jis", "cp932", "iso2022_jp", "cp949",
    )},
    "koi8-r": "koi8-u", "iso8859-9": "cp1254", "tis-620": "cp874", "iso8859-11": "cp874", "euc_kr": "cp949",
    "gb2312": "gb18030", "gbk": "gb18030", "latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252",
}  # fmt: skip


def web_codec(label: str | None) -> str | None:
    """The codec that decodes a page an HTTP header or a ``<meta charset>`` labels ``label`` as
    WHATWG's Encoding Standard (what browsers do) reads it: Python's codec for the label, through
    WEB_ENCODINGS (ISO-8859-1 and ASCII as windows-1252, GB2312 and GBK as GB18030, EUC-KR as
    windows-949, ISO-8859-9 as windows-1254 ...: each the superset that pages so labelled are
    written in); None for a label Python does not know. A KOI8-R label stays KOI8-R: WHATWG keeps
    the two apart, and only a guess reads KOI8-R as KOI8-U."""
    import codecs

    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'").lower()).name
    except LookupError:
        return None
    return name if name == "koi8-r" else WEB_ENCODINGS.get(name, name)


# How much of a large input each detector reads (uchardet: half from each end).
SAMPLE_BYTES = 256 << 10


def _detected(raw: bytes) -> tuple[str, str] | None:
    """uchardet's guess as (text, encoding), where it is a web encoding the bytes decode in."""
    from resiliparse.parse.encoding import detect_encoding

    found = detect_encoding(raw, max_len=SAMPLE_BYTES, html5_compatible=False)
    encoding = WEB_ENCODINGS.get(_codec(found)) if found else None
    text = _decode(raw, encoding) if encoding else None
    return (text, encoding) if text is not None else None


def _normalizer_guess(raw: bytes) -> tuple[str, str] | None:
    """charset-normalizer's best among the web encodings; windows-1252 where it ties with the best."""
    from charset_normalizer import from_bytes

    matches = from_bytes(raw[:SAMPLE_BYTES], cp_isolation=sorted(WEB_ENCODINGS))
    best = matches.best()
    if best is None or not best.encoding:
        return None
    encoding = WEB_ENCODINGS.get(_codec(best.encoding), "cp1252")
    tied = {WEB_ENCODINGS.get(_codec(m.encoding)) for m in matches if m.chaos <= best.chaos and m.coherence >= best.coherence}
    if "cp1252" in tied:
        encoding = "cp1252"
    return raw.decode(encoding, "replace"), encoding
