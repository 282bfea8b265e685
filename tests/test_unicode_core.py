"""The compiled text modules' shared Unicode tables (tamis/_native/unicode_core.h): _text and
_jsonl derive the same whitespace and case-folding tables; the module imported second takes
the first one's instead of deriving them again. Whichever comes first, every BMP code point
folds, splits and counts as the plain-Python references say."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("tamis._native._text")
pytest.importorskip("tamis._native._jsonl")

CHECK = r"""
import sys
from importlib import import_module

first, second = (import_module(name) for name in sys.argv[1:3])  # in this order, before anything imports either

import orjson
from tamis._native import _jsonl, _text
from tamis.text import _count_words_reference, _normalized_utf8_reference, nfc_unstable_bitmap, normalized_utf8
assert hasattr(first, "_unicode_core") and hasattr(second, "_unicode_core")
_jsonl.set_nfc_unsafe(nfc_unstable_bitmap())
codes = [c for c in range(1, 0x10000) if not 0xD800 <= c < 0xE000]
checked = 0
for at in range(0, len(codes), 128):
    chars = [chr(c) for c in codes[at:at + 128]]
    for text in ("a".join(chars), " x ".join(chars), "".join(chars)):
        # _text: the key (NFC by CPython, then folded, spaces collapsed in one compiled pass);
        # whitespace as str.split sees it
        assert normalized_utf8(text) == _normalized_utf8_reference(text), at
        assert _text.count_words(text) == _count_words_reference(text), at
        # _jsonl: the key of a record's text, where the scanner answers
        found = _jsonl.scan_record(orjson.dumps({"id": "1", "text": text}), b"text", b"id", 1 << 20, True)
        if found is not None:
            assert found[1] == _normalized_utf8_reference(text) and found[4] == _count_words_reference(text), at
            checked += 1
assert checked > 500, checked
print(checked)
"""


@pytest.mark.parametrize("order", [("_text", "_jsonl"), ("_jsonl", "_text")])
def test_every_bmp_code_point_whichever_module_derives_the_tables(order: tuple[str, str]) -> None:
    names = [f"tamis._native.{name}" for name in order]
    subprocess.run([sys.executable, "-c", CHECK, *names], check=True, capture_output=True, text=True)


def test_the_second_module_takes_the_first_ones_fold_table() -> None:
    code = ("from tamis._native import _text, _jsonl; import ctypes; "
            "get = ctypes.pythonapi.PyCapsule_GetPointer; get.restype = ctypes.c_void_p; "
            "get.argtypes = [ctypes.py_object, ctypes.c_char_p]; name = b'tamis._native.unicode_core'; "
            "a, b = (ctypes.cast(get(m._unicode_core, name), ctypes.POINTER(ctypes.c_void_p * 2)).contents for m in (_text, _jsonl)); "
            "assert a[1] == b[1] and a[0] != b[0], (a[1], b[1])")
    subprocess.run([sys.executable, "-c", code], check=True)
