"""Guessing the legacy encoding of bytes that are not UTF-8 (``encoding: auto``).

charset-normalizer ranks candidate decodings, but on a short record the single-byte Latin
code pages are all plausible and it may pick any of them: ``crème`` in Latin-1 (byte E8)
comes out as ``crčme`` in cp1250. Two rules settle those ties, as a browser would:

1. A language the record declares (``language``, ``lang`` ...) or that is detected names a
   family of encodings (French: cp1252, Latin-1, Latin-9; Polish: cp1250,
   Latin-2 ...); the first of them that decodes the bytes into letters wins.
   For Latin-script text the language is detected (fastText, as the language step does)
   on the text read as cp1252: its mostly ASCII words tell it whatever the code page.
2. Otherwise, among the Latin code pages that decode the bytes, the one that yields the most
   letters (``ą`` in cp1250 is ``¹`` in cp1252) wins, and on a tie the West-European
   windows-1252, by far the most common legacy encoding on the web (WHATWG's default).
3. Text in another script (Cyrillic, Greek, CJK ...) is left to charset-normalizer.

The encoding used is returned so that the reader records it in ``metadata.encoding``.
"""

from __future__ import annotations

from typing import Any

WESTERN = ("cp1252", "latin_1", "iso8859_15")
CENTRAL = ("cp1250", "iso8859_2")
CYRILLIC = ("cp1251", "koi8_r", "iso8859_5")
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


def _decode(raw: bytes, encoding: str) -> str | None:
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    # C1 controls (U+0080-U+009F) mean the code page did not fit (Latin-1 decodes anything).
    if any("\x80" <= c <= "\x9f" for c in text):
        return None
    return text


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
    wide = [c for c in text if ord(c) >= 0x80]
    if not wide:
        return 1.0
    return sum(c.isalpha() or c in TYPOGRAPHY for c in wide) / len(wide)


LATIN_ORDER = ("cp1252", "cp1250", "iso8859_2", "cp1257", "cp1254", "iso8859_15", "iso8859_16", "mac_roman")


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


def guess(raw: bytes, language: str | None = None) -> tuple[str, str] | None:
    """(text, encoding) for bytes that are not UTF-8, or None when nothing fits."""
    for encoding in family_of(language):
        text = _decode(raw, encoding)
        if text is not None and _plausible_share(text) >= 0.9:
            return text, _codec(encoding)
    latin = []
    for rank, encoding in enumerate(LATIN_ORDER):
        text = _decode(raw, encoding)
        if text is not None:
            latin.append((-_plausible_share(text), rank, _codec(encoding), text))
    latin.sort()
    if latin and _latin_script_share(latin[0][3]) >= 0.5:
        # Latin-script text: its words (mostly ASCII) tell the language, and the language its
        # code page; else the code page that reads the most letters, cp1252 first on a tie.
        detected, probability = detect_language(latin[0][3])
        if probability >= 0.5:
            for encoding in family_of(detected):
                text = _decode(raw, encoding)
                if text is not None and _plausible_share(text) >= 0.9:
                    return text, _codec(encoding)
        _, _, encoding, text = latin[0]
        return text, encoding
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is not None:
        return str(best), _codec(best.encoding)
    if latin:
        _, _, encoding, text = latin[0]
        return text, encoding
    return None
