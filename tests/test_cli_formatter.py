"""The command line's help formatter is as wide as argparse's own, without importing shutil."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from tamis.cli import _HelpFormatter


@pytest.mark.parametrize("columns", [None, "", "abc", "0", "-3", "40", "100", "250"])
def test_same_width_as_argparse(monkeypatch: pytest.MonkeyPatch, columns: str | None) -> None:
    for lines in (None, "30"):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", columns)
        if lines is None:
            monkeypatch.delenv("LINES", raising=False)
        else:
            monkeypatch.setenv("LINES", lines)
        ours, theirs = _HelpFormatter(prog="tamis"), argparse.HelpFormatter(prog="tamis")
        assert (ours._width, ours._max_help_position) == (theirs._width, theirs._max_help_position)


def test_a_run_parser_imports_no_shutil() -> None:
    code = "import sys; from tamis.cli import build_parser; build_parser('run').parse_args(['run']); print('shutil' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.split() == ["False"]
