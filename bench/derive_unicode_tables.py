"""Write ``tamis/unicode_tables.py``: what :func:`tamis.text.compute_nfc_unstable_bitmap` and
:func:`tamis.text.compute_terminal_punctuation` give for each Unicode version the Pythons named
here carry, so a run reads them instead of computing them (each is a loop over 131,072 code
points: ~90 ms of every start together), and the category runs of
:func:`tamis.text.compute_category_ranges` (the word rules' punctuation/symbol and combining-mark
classes: ~85 ms of the first word cut); a Unicode version not stored is computed as before.

    python bench/derive_unicode_tables.py python3.11 python3.12 python3.13
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tamis" / "unicode_tables.py"
# Only the standard library runs in the child (tamis/text.py imports nothing else), so any
# Python 3.11+ computes its own Unicode version's tables from this checkout.
CHILD = (
    "import importlib.util, json, sys, unicodedata; "
    "spec = importlib.util.spec_from_file_location('text', sys.argv[1]); text = importlib.util.module_from_spec(spec); "
    "spec.loader.exec_module(text); "
    "print(json.dumps([unicodedata.unidata_version, text.compute_nfc_unstable_bitmap().hex(), ''.join(text.compute_terminal_punctuation()), "
    "{name: ''.join(chr(a) + chr(b) for a, b in text.compute_category_ranges(name)) for name in text._CATEGORY_CLASSES}]))"
)


def _literal(text: str) -> str:
    """A double-quoted Python literal of ``text``, ASCII only (others as \\u/\\U escapes)."""
    assert '"' not in text and "\\" not in text and "'" not in text
    return '"' + ascii(text)[1:-1] + '"'


def _lines(name: str, values: dict[str, str], width: int = 120) -> list[str]:
    lines = [f"{name} = {{"]
    for version, value in sorted(values.items()):
        lines.append(f'    "{version}": (')
        lines += [f"        {_literal(value[i : i + width])}" for i in range(0, len(value), width)]
        lines.append("    ),")
    return [*lines, "}"]


def _nested_lines(name: str, values: dict[str, dict[str, str]], width: int = 12) -> list[str]:
    lines = [f"{name} = {{"]
    for version, tables in sorted(values.items()):
        lines.append(f'    "{version}": {{')
        for table, value in sorted(tables.items()):
            lines.append(f'        "{table}": (')
            lines += [f"            {_literal(value[i : i + width])}" for i in range(0, len(value), width)]
            lines.append("        ),")
        lines.append("    },")
    return [*lines, "}"]


def main() -> int:
    nfc: dict[str, str] = {}
    terminal: dict[str, str] = {}
    categories: dict[str, dict[str, str]] = {}
    for python in sys.argv[1:] or [sys.executable]:
        out = subprocess.run([python, "-c", CHILD, str(ROOT / "tamis" / "text.py")], capture_output=True, check=True, text=True).stdout
        version, bitmap, marks, ranges = json.loads(out)
        categories[version] = ranges
        nfc[version] = base64.b85encode(zlib.compress(bytes.fromhex(bitmap), 9)).decode()
        terminal[version] = marks
    lines = [
        '"""Unicode tables by Unicode version, written by ``bench/derive_unicode_tables.py`` (do not edit):',
        "NFC_UNSTABLE, :func:`tamis.text.compute_nfc_unstable_bitmap` zlib-compressed and base85-encoded;",
        "TERMINAL_PUNCTUATION, :func:`tamis.text.compute_terminal_punctuation` as one string;",
        "CATEGORY_RANGES, :func:`tamis.text.compute_category_ranges` by name, each run as its first and last character.",
        '``tests/test_unicode_tables.py`` compares the running Python\'s entries with the computed ones."""',
        "",
        *_lines("NFC_UNSTABLE", nfc),
        "",
        *_lines("TERMINAL_PUNCTUATION", terminal, width=12),  # up to 10 ASCII characters each
        "",
        *_nested_lines("CATEGORY_RANGES", categories),
        "",
    ]
    TARGET.write_text("\n".join(lines))
    print(f"{TARGET.relative_to(ROOT)}: Unicode {', '.join(sorted(nfc))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
