"""tamis.dataclass_store: the stored code of dataclasses' generated methods is what compiling
their text gives, and classes built with the store are the classes built without it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any, ClassVar

import pytest

from tamis import dataclass_store


def test_every_stored_text_is_its_compiled_code() -> None:
    store = dataclass_store.load()
    if not store:
        pytest.skip("no store for this interpreter (bench/derive_dataclass_code.py derives one)")
    assert len(store) > 100
    for text, code in store.items():
        live = dataclass_store.compile_text(text)
        assert code == live and code.co_filename == live.co_filename == "<string>"
        assert code.co_consts == live.co_consts and code.co_names == live.co_names


def test_the_store_is_for_this_interpreter_only(tmp_path: Any) -> None:
    path = tmp_path / "store.bin"
    path.write_bytes(b"\x00\x01\r\n\x00" + dataclass_store.STORE.read_bytes()[5:])  # another magic number
    assert dataclass_store.load(path) == {}
    path.write_bytes(dataclass_store.header() + b"\xff\x00garbage")
    assert dataclass_store.load(path) == {}
    assert dataclass_store.load(tmp_path / "missing.bin") == {}


def _define() -> list[type]:
    """Dataclasses of every kind of generated method: defaults, factories, frozen, order,
    slots, keyword-only, class variables, InitVar and __post_init__."""

    @dataclasses.dataclass
    class Plain:
        a: int
        b: str = "x"
        c: list[int] = dataclasses.field(default_factory=list)
        d: ClassVar[int] = 3

    @dataclasses.dataclass(frozen=True, order=True)
    class Frozen:
        a: int
        b: float = 0.5

    @dataclasses.dataclass(slots=True, kw_only=True)
    class Slotted:
        a: int
        b: dict[str, int] = dataclasses.field(default_factory=dict)

    @dataclasses.dataclass
    class Post:
        a: int
        scale: dataclasses.InitVar[int] = 2

        def __post_init__(self, scale: int) -> None:
            self.a *= scale

    return [Plain, Frozen, Slotted, Post]


def _behaviour(classes: list[type]) -> list[Any]:
    plain, frozen, slotted, post = classes
    p = plain(1)
    p.c.append(2)
    f = frozen(2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.a = 3  # type: ignore[misc]
    out: list[Any] = [repr(p), p == plain(1, "x", [2]), repr(f), f < frozen(3), hash(f) == hash(frozen(2)), repr(slotted(a=1)), post(3).a]
    for cls in classes:
        out.append([(name, getattr(cls, name).__code__.co_code) for name in ("__init__", "__repr__", "__eq__") if hasattr(getattr(cls, name), "__code__")])
        out.append({k: str(v) for k, v in cls.__init__.__annotations__.items()})
    return out


def test_classes_built_with_the_store_are_those_built_without() -> None:
    import tamis.dataclass_store as store_module

    original = store_module._store
    installed = getattr(dataclasses, "exec", None)  # None: this process is not the tamis command
    assert installed in (None, store_module._exec)
    texts: list[str] = []

    def recording(source: Any, globals: Any = None, locals: Any = None, /) -> None:  # noqa: A002
        texts.append(source)
        exec(dataclass_store.compile_text(source), globals, locals)  # this module's __future__ flags left out

    try:
        if installed is not None:
            del dataclasses.exec  # type: ignore[attr-defined]
        without = _behaviour(_define())  # the builtin exec, as dataclasses has it
        dataclasses.exec = recording  # type: ignore[attr-defined]
        _define()
        dataclasses.exec = store_module._exec  # type: ignore[attr-defined]
        store_module._store = {text: dataclass_store.compile_text(text) for text in texts}
        stored = _behaviour(_define())  # every text from the store
        store_module._store = {}
        missing = _behaviour(_define())  # none: compiled by _exec
    finally:
        store_module._store = original
        if installed is not None:
            dataclasses.exec = installed  # type: ignore[attr-defined]
        else:
            del dataclasses.exec  # type: ignore[attr-defined]
    assert len(texts) >= 8
    assert without == stored == missing
    assert without[-1] == {"a": "int", "scale": "dataclasses.InitVar[int]", "return": "None"}


def test_a_run_uses_the_store_and_can_go_without() -> None:
    code = "import dataclasses, tamis.cli, tamis.dataclass_store as s; print(getattr(dataclasses, 'exec', None) is s._exec)"
    for setting, expected in (("1", bool(dataclass_store.load())), ("0", False)):
        done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env={"TAMIS_DATACLASS_STORE": setting, "PATH": ""})
        assert done.stdout.strip() == str(expected)
    # unset: only the tamis command installs it; a program importing tamis keeps dataclasses as is
    library = "import sys, dataclasses, tamis; print(getattr(dataclasses, 'exec', None) is None, 'inspect' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", library], check=True, capture_output=True, text=True, env={"PATH": ""})
    assert done.stdout.strip() == "True True"
    command = ("import sys; sys.argv = ['/usr/bin/tamis']; import dataclasses, tamis, tamis.dataclass_store as s; "
               "print(getattr(dataclasses, 'exec', None) is s._exec)")
    done = subprocess.run([sys.executable, "-c", command], check=True, capture_output=True, text=True, env={"PATH": ""})
    assert done.stdout.strip() == str(bool(dataclass_store.load()))


def test_dataclasses_imports_inspect_only_when_a_class_needs_it() -> None:
    # a dataclass without a docstring gets its signature as __doc__: inspect is imported then,
    # and the class is what it is without the store (the same __doc__)
    code = ("import sys, tamis, dataclasses; before = 'inspect' in sys.modules\n"
            "@dataclasses.dataclass\nclass Point:\n    x: int\n    y: str = 'a'\n"
            "print(before, 'inspect' in sys.modules, dataclasses.inspect is sys.modules['inspect'], Point.__doc__)")
    expected = {"1": "False True True Point(x: int, y: str = 'a')", "0": "True True True Point(x: int, y: str = 'a')"}
    for setting, line in expected.items():
        done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env={"TAMIS_DATACLASS_STORE": setting, "PATH": ""})
        assert done.stdout.strip() == line
