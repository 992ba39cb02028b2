"""The methods of dataclasses, kept between runs: the classes made from kept code are the
classes dataclasses makes, and a cache that is missing, damaged or unwritable changes
nothing but the time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from policyengine.core import method_cache

# Every method dataclasses wrote for policyengine's classes, as code and annotations.
_DESCRIBE = """
import json, sys, types
import policyengine.cli
METHODS = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__")
def shape(code):
    consts = [shape(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
    return [code.co_code.hex(), code.co_names, code.co_varnames, consts, code.co_flags]
out = {}
for name, module in sorted(sys.modules.items()):
    if not name.startswith("policyengine"):
        continue
    for cls in vars(module).values():
        if isinstance(cls, type) and "__dataclass_fields__" in vars(cls) and cls.__module__ == name:
            for method in METHODS:
                f = vars(cls).get(method)
                f = getattr(f, "__wrapped__", f)  # __repr__ is wrapped against recursion
                if isinstance(f, types.FunctionType):
                    out[f"{name}.{cls.__qualname__}.{method}"] = [
                        shape(f.__code__), {k: repr(v) for k, v in f.__annotations__.items()}
                    ]
print(json.dumps(out))
"""


# What dataclasses does alone: `install` leaves an `exec` already there as it is.
_UNCACHED = "import builtins, dataclasses\ndataclasses.exec = builtins.exec\n"


def _methods(cache: Path, script: str = _DESCRIBE) -> dict[str, object]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_classes_made_from_kept_methods_are_those_dataclasses_makes(tmp_path: Path) -> None:
    plain = _methods(tmp_path / "plain", _UNCACHED + _DESCRIBE)
    assert len(plain) > 500  # the package's classes, each with its methods
    assert not list(tmp_path.glob("**/methods-*"))
    unwritable = tmp_path / "a-file"
    unwritable.write_text("")  # a cache folder cannot be made under a file: no cache
    assert _methods(unwritable) == plain
    assert not list(tmp_path.glob("**/methods-*"))
    compiled = _methods(tmp_path / "cache")  # an empty cache: compiled, then kept
    kept = list((tmp_path / "cache" / "policyengine").glob("methods-*.marshal"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0
    from_cache = _methods(tmp_path / "cache")  # made from the kept code
    assert compiled == plain
    assert from_cache == plain


def test_a_kept_method_is_read_back_without_compiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    text = (
        "def __create_fn__(_type_x):\n"
        " def __init__(self, x: _type_x):\n  self.x = x\n"
        " return __init__"
    )
    first = method_cache._Methods("methods-test.marshal")
    code = first.code(text)
    assert first.new
    assert code == compile(text, "<string>", "exec", dont_inherit=True)
    first.write()
    again = method_cache._Methods("methods-test.marshal")
    assert again.code(text) == code
    assert not again.new  # found, not compiled
    namespace: dict[str, object] = {}
    exec(again.code(text), {}, namespace)
    init = namespace["__create_fn__"](_type_x=int)  # type: ignore[operator]
    assert init.__annotations__ == {"x": int}  # not the string "_type_x"


def test_a_damaged_cache_is_compiled_again_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = tmp_path / "policyengine" / "methods-test.marshal"
    path.parent.mkdir()
    text = "def f():\n return 1"
    for damage in (b"", b"\x00garbage", method_cache.marshal.dumps({"not code": 1})):
        path.write_bytes(damage)
        methods = method_cache._Methods("methods-test.marshal")
        methods.code(text)
        assert methods.new
        methods.write()
        assert method_cache._Methods("methods-test.marshal")._read().keys() == {text}


def test_past_its_size_the_cache_keeps_what_the_run_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(method_cache, "_MOST", 3)
    methods = method_cache._Methods("methods-test.marshal")
    texts = [f"def f{i}():\n return {i}" for i in range(5)]
    for text in texts[:3]:
        methods.code(text)
    methods.write()
    later = method_cache._Methods("methods-test.marshal")
    for text in texts[2:]:
        later.code(text)
    later.write()  # 5 kept would be past 3: only the 3 this run used are written
    assert method_cache._Methods("methods-test.marshal")._read().keys() == set(texts[2:])


def test_the_files_of_other_pythons_and_versions_are_pruned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "policyengine"
    folder.mkdir()
    for age, version in enumerate(["0.0.1", "0.0.2", "0.0.3", "0.0.4"]):
        old = folder / f"methods-cpython-311-000000000000-{version}.marshal"
        old.write_bytes(method_cache.marshal.dumps({}))
        os.utime(old, (1_000_000 + age, 1_000_000 + age))
    (folder / "ast-kept.pickle").write_bytes(b"")  # another sort of entry: left alone
    methods = method_cache._Methods(method_cache.file_name())
    methods.code("def f():\n return 1")
    methods.write()
    left = sorted(p.name for p in folder.iterdir())
    assert method_cache.file_name() in left and "ast-kept.pickle" in left
    assert [n for n in left if n.startswith("methods-")] == sorted(
        [
            method_cache.file_name(),
            *(f"methods-cpython-311-000000000000-0.0.{v}.marshal" for v in (3, 4)),
        ]
    )
