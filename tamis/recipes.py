"""Named recipes: lists of step configs, exactly as a YAML ``steps:`` list would hold them."""

from __future__ import annotations

import copy
from typing import Any

# The foundation recipe: what every later recipe starts with. Tests that must not change
# when the default recipe grows pin this one.
FOUNDATION: list[dict[str, Any]] = [
    {"step": "normalize"},
    {"step": "repetition"},
    {"step": "exact_dedup"},
]

# The default recipe of `tamis run` when no config names steps.
DEFAULT: list[dict[str, Any]] = [
    {"step": "extract"},
    {"step": "normalize"},
    {"step": "repetition"},
    {"step": "language"},
    {"step": "gopher_repetition"},
    {"step": "gopher_quality"},
    {"step": "c4_quality"},
    {"step": "fineweb_quality"},
    {"step": "exact_dedup"},
    {"step": "minhash"},
    {"step": "pii"},
]

RECIPES = {"default": DEFAULT, "foundation": FOUNDATION}


def recipe(name: str) -> list[dict[str, Any]]:
    return copy.deepcopy(RECIPES[name])
