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
