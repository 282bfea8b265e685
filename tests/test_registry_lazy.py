"""A step is looked up by importing only the module that registers it."""

from __future__ import annotations

import json
import subprocess
import sys

from tamis import registry


def test_source_scan_finds_every_registered_step() -> None:
    # Every step the full import registers is found by reading the sources alone, in the
    # module that defines it: a lookup never needs the full import.
    builtin = {name: cls for name, cls in registry.all_steps().items() if cls.__module__.startswith("tamis.")}  # tests register their own
    assert {"normalize", "exact_dedup", "minhash", "gopher_quality", "language"} <= set(builtin)
    for name, cls in builtin.items():
        assert registry._modules_registering(name) == [cls.__module__], name


def test_step_table_equals_what_the_sources_register() -> None:
    # STEP_MODULES spares a run the source scan: it must name what the scan finds, and every
    # built-in step's defining module
    scanned = dict(registry._registrations())
    assert {name: [module] for name, module in registry.STEP_MODULES.items()} == scanned
    builtin = {name: cls for name, cls in registry.all_steps().items() if cls.__module__.startswith("tamis.")}
    assert {name: cls.__module__ for name, cls in builtin.items()} == registry.STEP_MODULES


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


def test_format_tables_equal_what_the_modules_register() -> None:
    # The static tables (the CLI's choices, a run's format lookup) against the full import.
    from tamis.io import outputs, readers

    registry.load_formats()
    assert readers.input_format_names() == sorted(readers.FORMATS)
    for name, (module, suffixes) in readers.FORMAT_MODULES.items():
        spec = readers.FORMATS[name]
        assert spec.suffixes == suffixes, name
        assert spec.read.__module__ == module, name
    outside = {name for name, spec in readers.FORMATS.items() if spec.read.__module__ != "tamis.io.readers"}
    assert outside == set(readers.FORMAT_MODULES)
    assert registry.output_format_names() == outputs.output_names()
    scanned = set(registry._format_modules())
    assert scanned == {"tamis.io.readers", "tamis.io.outputs", *(module for module, _ in readers.FORMAT_MODULES.values())}


def test_jsonl_run_start_imports_no_other_format_module(tmp_path) -> None:
    # Parsing the command line and planning a JSONL input import neither the WARC nor the
    # HTML reader; a .warc.gz input imports the WARC reader only.
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "b.warc.gz").write_bytes(b"")
    code = (
        "import sys, json\n"
        "from tamis.cli import build_parser\n"
        "from tamis.io.readers import ReaderOptions, plan_tasks\n"
        "build_parser()\n"
        f"jsonl = plan_tasks([{str(tmp_path / 'a.jsonl')!r}], ReaderOptions())\n"
        "before = [m for m in ('tamis.io.warc', 'tamis.io.html') if m in sys.modules]\n"
        f"warc = plan_tasks([{str(tmp_path / 'b.warc.gz')!r}], ReaderOptions())\n"
        "after = [m for m in ('tamis.io.warc', 'tamis.io.html') if m in sys.modules]\n"
        "print(json.dumps([before, after, jsonl[0].format, warc[0].format]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [[], ["tamis.io.warc"], "jsonl", "warc"]
