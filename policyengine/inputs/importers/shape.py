"""The shape of the parts of an input an importer reads, checked before it reads them.

An importer walks a document it did not write: a plan whose `resource_changes` is an
object, a reference that is a number. Rather than test every value where it is used, each
importer declares the shape it relies on and `check` reports every place that differs, as
problems naming the file and the JSON Pointer. Keys a shape does not list, and `null` as
the value of a key, are left to the importer (`null` is how these formats say "none").

A shape is a Python type (`str`, `bool`, `dict` for any object, `list` for any array,
`object` for anything), a dict (an object whose listed keys have those shapes), a
one-element list (an array of that shape), `MapOf(shape)` (an object whose every value has
that shape) or `Either(a, b)` (the first whose JSON type fits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policyengine.core.errors import Problem
from policyengine.inputs.snapshot import describe_json, pointer_escape


@dataclass(frozen=True)
class MapOf:
    value: Any  # the shape of every value


@dataclass(frozen=True)
class Either:
    first: Any
    second: Any


_NAMES = {str: "a string", bool: "true or false", dict: "an object", list: "an array"}


def check(value: Any, shape: Any, file: str, at: str, problems: list[Problem]) -> None:
    """Appends a problem for every place of `value` that does not have `shape`."""
    if value is None or shape is object:
        return
    if isinstance(shape, Either):
        shape = shape.first if _fits(value, shape.first) else shape.second
    if not _fits(value, shape):
        problems.append(
            Problem(file, at, f"expected {_expected(shape)}, found {describe_json(value)}")
        )
        return
    if isinstance(shape, dict):
        for key, inner in shape.items():
            if key in value:
                check(value[key], inner, file, f"{at}/{pointer_escape(key)}", problems)
    elif isinstance(shape, list):
        for i, item in enumerate(value):
            if item is None and shape[0] is not object:  # an array holds values, not "none"
                problems.append(Problem(file, f"{at}/{i}", f"expected {_expected(shape[0])}"))
            check(item, shape[0], file, f"{at}/{i}", problems)
    elif isinstance(shape, MapOf):
        for key, item in value.items():
            check(item, shape.value, file, f"{at}/{pointer_escape(key)}", problems)


def _fits(value: Any, shape: Any) -> bool:
    if isinstance(shape, dict | MapOf):
        return isinstance(value, dict)
    if isinstance(shape, list):
        return isinstance(value, list)
    if isinstance(shape, Either):
        return _fits(value, shape.first) or _fits(value, shape.second)
    if shape is str:
        return isinstance(value, str)
    if shape is bool:
        return isinstance(value, bool)
    return bool(shape is object or isinstance(value, shape))


def _expected(shape: Any) -> str:
    if isinstance(shape, dict | MapOf):
        return "an object"
    if isinstance(shape, list):
        return f"an array of {_expected(shape[0]).removeprefix('a ').removeprefix('an ')}s"
    if isinstance(shape, Either):
        return f"{_expected(shape.first)} or {_expected(shape.second)}"
    return _NAMES.get(shape, "a value")
