"""Derive ``tamis/dataclass_code.bin``: the code ``dataclasses`` generates for every dataclass
tamis's modules define, compiled ahead of time (see :mod:`tamis.dataclass_store`).

    .venv/bin/python bench/derive_dataclass_code.py

Run it again after adding or changing a dataclass (a text the store lacks is compiled at run
time, as before: only its speed is lost) and with the interpreter the store is for (any other
ignores it).
"""

from __future__ import annotations

import builtins
import dataclasses
import importlib
import marshal
import os
import pkgutil
import sys
from typing import Any

texts: dict[str, None] = {}


def _recording_exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:  # noqa: A002 - exec's own names
    if isinstance(source, str):  # compiled as the builtin compiles it in dataclasses (no __future__ flags)
        from tamis.dataclass_store import compile_text

        texts[source] = None
        source = compile_text(source)
    builtins.exec(source, globals, locals)


def main() -> None:
    os.environ["TAMIS_DATACLASS_STORE"] = "0"  # record every text (none taken from an older store)
    dataclasses.exec = _recording_exec  # type: ignore[attr-defined]
    import tamis
    from tamis.dataclass_store import STORE, compile_text, header

    skipped = []
    for module in pkgutil.walk_packages(tamis.__path__, "tamis."):
        try:
            importlib.import_module(module.name)
        except Exception as exc:  # noqa: BLE001 - optional extras (ray, s3fs...): their dataclasses are compiled at run time
            skipped.append(f"{module.name} ({type(exc).__name__})")
    code = {text: compile_text(text) for text in sorted(texts)}
    STORE.write_bytes(header() + marshal.dumps(code))
    print(f"{STORE}: {len(code)} texts, {STORE.stat().st_size:,} bytes, Python {sys.version.split()[0]}")
    if skipped:
        print("modules not imported:", ", ".join(skipped))


if __name__ == "__main__":
    main()
