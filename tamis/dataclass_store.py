"""The code ``dataclasses`` generates for tamis's dataclasses, compiled ahead of time.

``@dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__`` (...) as source text
and compiles it with ``exec`` as the class is defined: a ``tamis run`` defines about fifty
dataclasses and that compiling was ~60 % of their cost, 30-40 CPU-ms of every run's start
(``dataclasses._create_fn``: 1.1 % of the recipe bench's 1,130 pages).

:func:`install` (called first thing by ``tamis/__init__.py``; only in the ``tamis`` command, see
:func:`wanted`) gives the ``dataclasses`` module its own ``exec``: for a text found in the store it runs the stored code object, which is
what ``compile(text, "<string>", "exec", dont_inherit=True)`` gives (the same compile the
builtin ``exec`` does on a string, with no ``__future__`` flags, as ``dataclasses`` has none);
any other text is compiled as before. Only the compile is skipped: the classes and their
methods are the same (``tests/test_dataclass_store.py``).

The store (``dataclass_code.bin``, derived by ``bench/derive_dataclass_code.py`` from every
tamis module's dataclasses) opens with the interpreter's bytecode magic number and
optimisation level: any other interpreter ignores it (a code object is only valid for the
bytecode it was compiled for), and then, as for a text the store lacks (a dataclass added
since the derivation), the cost is only the compile.
"""

from __future__ import annotations

import builtins
import marshal
import sys
from pathlib import Path
from typing import Any

STORE = Path(__file__).with_name("dataclass_code.bin")
_store: dict[str, Any] | None = None


def header() -> bytes:
    """What a store must open with to be used by this interpreter."""
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER + bytes([sys.flags.optimize])


def load(path: Path = STORE) -> dict[str, Any]:
    """The stored code by source text; empty where the store is missing or was made for
    another interpreter."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    magic = header()
    if not data.startswith(magic):
        return {}
    try:
        found = marshal.loads(memoryview(data)[len(magic) :])
    except (EOFError, ValueError, TypeError):
        return {}
    return found if isinstance(found, dict) else {}


def compile_text(text: str) -> Any:
    """What the builtin ``exec`` compiles a string to, from a module without ``__future__``
    imports (``dataclasses``)."""
    return compile(text, "<string>", "exec", dont_inherit=True)


def _exec(source: Any, globals: Any = None, locals: Any = None, /) -> None:  # noqa: A002 - exec's own names
    """``exec`` for ``dataclasses``: a stored text runs its stored code; another is compiled
    here as the builtin would compile it there (a string given to ``builtins.exec`` from this
    module would take this module's ``from __future__ import annotations``, and the generated
    methods' annotations would become strings)."""
    if isinstance(source, str):
        code = _store.get(source) if _store is not None else None
        source = compile_text(source) if code is None else code
    builtins.exec(source, globals, locals)


class _InspectOnUse:
    """``dataclasses``' name ``inspect`` until it is used: the module is imported then.

    ``dataclasses`` imports ``inspect`` (with ``ast``, ``dis``, ``tokenize``: ~4 % of a
    one-document run's instructions) for one call, ``inspect.signature(cls)``, which writes the
    ``__doc__`` of a dataclass that has no docstring. tamis's run-path dataclasses have one
    (``tests/test_dataclass_store.py`` checks that a default run imports no ``inspect``); the
    first dataclass without one, anywhere, imports it here, and ``dataclasses`` holds the real
    module from then on."""

    def __getattr__(self, name: str) -> Any:
        import dataclasses
        import inspect

        dataclasses.inspect = inspect  # type: ignore[attr-defined]
        return getattr(inspect, name)


def _import_dataclasses() -> None:
    """Import ``dataclasses`` without ``inspect`` where neither is imported yet (see
    :class:`_InspectOnUse`): a stand-in module answers its ``import inspect`` (its other
    imports, ``re``, ``copy``, ``functools`` ..., import no ``inspect``), then is removed."""
    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    stand_in = type(sys)("inspect")
    sys.modules["inspect"] = stand_in
    try:
        import dataclasses
    finally:
        if sys.modules.get("inspect") is stand_in:
            del sys.modules["inspect"]
    if getattr(dataclasses, "inspect", None) is stand_in:
        dataclasses.inspect = _InspectOnUse()  # type: ignore[attr-defined]


def wanted() -> bool:
    """Whether this process is the ``tamis`` command (its script's name is ``tamis``), or
    ``TAMIS_DATACLASS_STORE=1`` asks for the store; ``TAMIS_DATACLASS_STORE=0`` turns it off.
    Both changes reach every dataclass the process defines and its ``inspect`` import, so a
    program that imports tamis as a library (a notebook, a Ray worker, a user's pipeline) keeps
    the standard library's ``dataclasses`` as it is, at ~35 ms more to import tamis."""
    import os

    setting = os.environ.get("TAMIS_DATACLASS_STORE")
    if setting in ("0", "1"):
        return setting == "1"
    argv = getattr(sys, "argv", None) or [""]
    return os.path.basename(str(argv[0])) == "tamis"


def install() -> None:
    """Give ``dataclasses`` the store-backed ``exec`` (once), and import it without ``inspect``
    (:func:`_import_dataclasses`), where :func:`wanted`; else leave both as they are."""
    global _store

    if _store is not None or not wanted():
        return
    _import_dataclasses()
    import dataclasses

    _store = load()
    if _store:
        dataclasses.exec = _exec  # type: ignore[attr-defined]  # the module's global shadows the builtin


def uninstall() -> None:
    """Back to the builtin ``exec`` (tests)."""
    global _store
    import dataclasses

    _store = None
    if getattr(dataclasses, "exec", None) is _exec:
        del dataclasses.exec  # type: ignore[attr-defined]
