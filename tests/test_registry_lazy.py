"""A step is looked up by importing only the module that registers it."""

from __future__ import annotations

import json
import subprocess
import sys

from tamis import registry


def test_source_scan_finds_every_registered_step() -> None:
    # Every step the full import registers is found by reading the sources alone, in the
    # module that defines it: a lookup never needs the full import. Steps other tests register
    # from their own modules are not tamis's and are not scanned for.
    for name, cls in registry.all_steps().items():
        if not cls.__module__.startswith("tamis."):
            continue
        assert registry._modules_registering(name) == [cls.__module__], name


def test_unknown_step_still_names_every_step() -> None:
    try:
        registry.get_step_class("no_such_step")
    except Exception as exc:  # noqa: BLE001 - the message is what is checked
        assert "minhash" in str(exc) and "gopher_quality" in str(exc)
    else:
        raise AssertionError("an unknown step was found")


def test_dedup_lookup_imports_no_other_step_module() -> None:
    code = (
        "import sys, json\n"
        "from tamis.cli import build_parser\n"
        "from tamis.registry import get_step_class, has_step\n"
        "build_parser()\n"
        "for name in ('normalize', 'exact_dedup', 'minhash'): get_step_class(name)\n"
        "assert has_step('minhash')\n"
        "heavy = ('tamis.steps.quality.languages', 'tamis.steps.quality.spacy_rules', 'tamis.steps.language', 'tamis.steps.extract', 'tqdm')\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
