"""Everything a config or the command line names is looked up here, never imported.

Steps register with ``@register("name")``; input formats (``tamis.io.readers.register_format``)
and output formats (``tamis.io.outputs.register_output``) keep their own tables, so a new step
or format needs only its registration. Formats live under ``tamis.io``: the modules there whose
source registers one (``register_format(`` or ``@register_output``, read, not imported) are
imported once (:func:`load_formats`) where a name is not in the tables (``tamis.io.readers.FORMAT_MODULES``,
``tamis.io.outputs``) that give the CLI's choices and a run's format without importing them; the others (the dataset card, id
stores, remote runs: numpy, concurrent.futures ...) wait until a run uses them, which every
``tamis run`` paid at start when all of ``tamis.io`` was imported. A step is looked up by name: only
the module that registers that name is imported (the built-in steps' from :data:`STEP_MODULES`,
any other found by reading the sources of ``tamis.steps`` and ``tamis.dedup``, a few
milliseconds), not every step module (the language
tables and word rules alone take ~0.7 s to import where no bytecode is cached, which a
``tamis dedup`` paid at every start). :func:`load_builtins` still imports everything, for the
listings (``tamis steps``) and for names the source scan does not find. The CLI's choices come
from the functions at the end (input formats: ``tamis.io.readers.input_format_names``, next to
the table it reads).
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tamis.errors import ConfigError

if TYPE_CHECKING:
    from tamis.steps.base import Step

_REGISTRY: dict[str, type[Step]] = {}
_LOADED = False
_STEP_PACKAGES = ("tamis.steps", "tamis.dedup")
_FORMAT_PACKAGE = "tamis.io"
_PACKAGES = (*_STEP_PACKAGES, _FORMAT_PACKAGE)
_LOADED_PACKAGES: set[str] = set()
# Compiled where a source is scanned (an unknown name, a format not in the tables), not at every
# import: ``tamis.cli`` imports this module before a run's patterns are seeded from the store,
# and the two compiles were ~1 % of a short run.
_REGISTRATION = rb"""@register\(\s*["']([^"'\\]+)["']\s*\)"""
_FORMAT_REGISTRATION = rb"^\s*(?:@register_output\b|register_format\()"

S = TypeVar("S", bound="type[Step]")


def register(name: str):
    """Class decorator: make a step available to configs under ``name``."""

    def deco(cls: S) -> S:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            msg = f"step name {name!r} is registered twice ({_REGISTRY[name].__qualname__}, {cls.__qualname__})"
            raise TypeError(msg)
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def _load_package(package_name: str) -> None:
    """Import every module of one package (and its subpackages) once."""
    if package_name in _LOADED_PACKAGES:
        return
    import pkgutil  # here: only listing every step (`tamis steps`, an unknown name) walks the packages

    package = importlib.import_module(package_name)
    for module in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
        importlib.import_module(module.name)
    _LOADED_PACKAGES.add(package_name)


def load_builtins() -> None:
    """Import every built-in module once, so every registration has run."""
    global _LOADED
    if _LOADED:
        return
    for package_name in _PACKAGES:
        _load_package(package_name)
    _LOADED = True


def load_formats() -> None:
    """Import the modules of ``tamis.io`` that register input or output formats (found by
    reading their sources, as steps are); a registration the scan cannot see is still found
    by :func:`load_builtins`, which imports everything."""
    if _FORMAT_PACKAGE in _LOADED_PACKAGES:
        return
    for module in _format_modules():
        importlib.import_module(module)


@functools.cache
def _format_modules() -> list[str]:
    """The modules of ``tamis.io`` (subpackages included) whose source registers a format at
    the start of a line (a call or a class decorator, not a mention in a docstring)."""
    # The literal test first: the pattern (a line start, then spaces) is tried at every line of
    # every source (~6 ms of every start); it can only match where one of its literals stands.
    return [module for module, source in _package_sources(_FORMAT_PACKAGE)
            if (b"@register_output" in source or b"register_format(" in source) and re.search(_FORMAT_REGISTRATION, source, re.MULTILINE)]


# Where each built-in step registers: what the source scan below finds (tests/test_registry_lazy.py
# checks the two agree), so that a run imports its steps' modules without reading the ~50 sources
# of tamis.steps and tamis.dedup (3-8 CPU-ms of every start). A name not here is looked up by the scan.
STEP_MODULES = {
    "extract": "tamis.steps.extract",
    "language": "tamis.steps.language",
    "normalize": "tamis.steps.normalize",
    "pii": "tamis.steps.pii",
    "c4_quality": "tamis.steps.quality.c4",
    "fineweb_quality": "tamis.steps.quality.fineweb",
    "gopher_quality": "tamis.steps.quality.gopher",
    "gopher_repetition": "tamis.steps.quality.gopher",
    "repetition": "tamis.steps.repetition",
    "url_filter": "tamis.steps.url_filter",
    "exact_dedup": "tamis.dedup.exact",
    "minhash": "tamis.dedup.minhash",
    "substring_dedup": "tamis.dedup.substring",
}


def _modules_registering(name: str) -> list[str]:
    """The step modules whose source holds ``@register("name")`` (read, not imported)."""
    return _registrations().get(name, [])


@functools.cache
def _registrations() -> dict[str, list[str]]:
    """Each name registered in the step packages' sources, with the modules registering it: the
    sources read once per process, not once per step a recipe names."""
    found: dict[str, list[str]] = {}
    for package_name in _STEP_PACKAGES:
        for module, source in _package_sources(package_name):
            for name in dict.fromkeys(m.group(1).decode("utf-8", "replace") for m in re.finditer(_REGISTRATION, source)):
                found.setdefault(name, []).append(module)
    return found


def _package_sources(package_name: str) -> Iterator[tuple[str, bytes]]:
    """Each module of a package (subpackages included, in path order) with its source bytes,
    read, not imported; a file that cannot be read is left out."""
    package = importlib.import_module(package_name)
    for root in package.__path__:
        for path in sorted(Path(root).rglob("*.py")):
            try:
                source = path.read_bytes()
            except OSError:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            yield ".".join((package_name, *parts[: -1 if parts[-1] == "__init__" else None])), source


def get_step_class(name: str) -> type[Step]:
    if name not in _REGISTRY and not _LOADED and name in STEP_MODULES:
        importlib.import_module(STEP_MODULES[name])
    if name not in _REGISTRY and not _LOADED:
        for module in _modules_registering(name):
            importlib.import_module(module)
        if name not in _REGISTRY:  # registered some other way (or unknown): import everything
            load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        load_builtins()
        known = ", ".join(sorted(_REGISTRY))
        msg = f"unknown step {name!r}; available steps: {known}"
        raise ConfigError(msg) from None


def has_step(name: str) -> bool:
    """Whether a step ``name`` is registered (importing only what registers it)."""
    try:
        get_step_class(name)
    except ConfigError:
        return False
    return True


def all_steps() -> dict[str, type[Step]]:
    load_builtins()
    return dict(sorted(_REGISTRY.items()))


def output_format_names() -> list[str]:
    """Every registered output format (``--format``)."""
    from tamis.io.outputs import output_names  # every output format is registered there (tests/test_readers.py)

    return output_names()


def compression_names() -> list[str]:
    """The codecs output formats take (``--compression``)."""
    from tamis.io.outputs import COMPRESSIONS  # every output format is registered there (tests/test_readers.py)

    return list(COMPRESSIONS)


EXECUTORS = ("local", "ray")  # tamis/executors/local.py, tamis/executors/ray.py (runner.make_executor)


def executor_names() -> list[str]:
    """The executors (``--executor``)."""
    return list(EXECUTORS)
