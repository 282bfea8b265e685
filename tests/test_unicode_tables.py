"""The stored Unicode tables are the computed ones (tamis/unicode_tables.py, bench/derive_unicode_tables.py)."""

from __future__ import annotations

import base64
import unicodedata
import zlib

import pytest

from tamis.text import compute_nfc_unstable_bitmap, compute_terminal_punctuation, nfc_unstable_bitmap, terminal_punctuation
from tamis.unicode_tables import NFC_UNSTABLE, TERMINAL_PUNCTUATION


def test_the_tables_a_run_uses_are_the_computed_ones() -> None:
    assert nfc_unstable_bitmap() == compute_nfc_unstable_bitmap()
    assert terminal_punctuation() == compute_terminal_punctuation()


def test_this_pythons_unicode_version_is_stored() -> None:
    version = unicodedata.unidata_version
    if version not in NFC_UNSTABLE:
        pytest.skip(f"Unicode {version} not stored: computed at run time (rerun bench/derive_unicode_tables.py)")
    assert zlib.decompress(base64.b85decode(NFC_UNSTABLE[version])) == compute_nfc_unstable_bitmap()
    assert tuple(TERMINAL_PUNCTUATION[version]) == compute_terminal_punctuation()


def test_the_word_rules_classes_from_stored_runs_equal_the_classes_computed_code_point_by_code_point() -> None:
    from tamis.steps.quality import words
    from tamis.text import category_ranges, compute_category_ranges

    for name in ("punctuation_symbols", "combining_marks"):
        assert category_ranges(name) == compute_category_ranges(name)
    split = set(words._SPACY_SPLIT_NON_ASCII)

    def glued(code: int) -> bool:
        category = unicodedata.category(chr(code))
        return category[0] in "PS" and category != "So" and chr(code) not in split

    assert words.glued_symbols() == words._class_ranges(0x80, 0x30000, glued)
    assert words.combining_marks() == words._class_ranges(0x300, 0x1F000, lambda code: unicodedata.category(chr(code))[0] == "M")
