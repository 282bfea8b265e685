"""Steps are named in configs, never imported: this registry maps names to classes.

Every module under ``tamis.steps``, ``tamis.dedup`` and ``tamis.io`` is imported once on the
first lookup, so a new step needs only its ``@register("name")`` decorator. Heavy optional
dependencies are imported inside the steps, never at module top, so this stays cheap.
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


def _load_builtin_steps() -> None:
    global _LOADED
    if _LOADED:
        return
    for package_name in _PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
            importlib.import_module(module.name)
    _LOADED = True


def get_step_class(name: str) -> type[Step]:
    _load_builtin_steps()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        msg = f"unknown step {name!r}; available steps: {known}"
        raise ConfigError(msg) from None


def all_steps() -> dict[str, type[Step]]:
    _load_builtin_steps()
    return dict(sorted(_REGISTRY.items()))
