"""Everything a config or the command line names is looked up here, never imported.

Steps register with ``@register("name")``; input formats (``tamis.io.readers.register_format``)
and output formats (``tamis.io.outputs.register_output``) keep their own tables. Every module
under ``tamis.steps``, ``tamis.dedup`` and ``tamis.io`` is imported once by
:func:`load_builtins` (on the first lookup of any of them), so a new step or format needs only
its registration. Heavy optional dependencies are imported inside the steps, never at module
top, so this stays cheap. The CLI's choices come from the functions at the end (input formats:
``tamis.io.readers.input_format_names``, next to the table it reads).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, TypeVar

from tamis.errors import ConfigError

if TYPE_CHECKING:
    from tamis.steps.base import Step

_REGISTRY: dict[str, type[Step]] = {}
_LOADED = False
_PACKAGES = ("tamis.steps", "tamis.dedup", "tamis.io")

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


def load_builtins() -> None:
    """Import every built-in module once, so every registration has run."""
    global _LOADED
    if _LOADED:
        return
    for package_name in _PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
            importlib.import_module(module.name)
    _LOADED = True


def get_step_class(name: str) -> type[Step]:
    load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        msg = f"unknown step {name!r}; available steps: {known}"
        raise ConfigError(msg) from None


def all_steps() -> dict[str, type[Step]]:
    load_builtins()
    return dict(sorted(_REGISTRY.items()))


def output_format_names() -> list[str]:
    """Every registered output format (``--format``)."""
    load_builtins()
    from tamis.io.outputs import output_names

    return output_names()


def compression_names() -> list[str]:
    """The codecs output formats take (``--compression``)."""
    load_builtins()
    from tamis.io.outputs import COMPRESSIONS

    return list(COMPRESSIONS)


EXECUTORS = ("local", "ray")  # tamis/executors/local.py, tamis/executors/ray.py (runner.make_executor)


def executor_names() -> list[str]:
    """The executors (``--executor``)."""
    return list(EXECUTORS)
