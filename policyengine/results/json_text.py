"""A report's JSON as text: what `json.dumps(doc, indent=2, ensure_ascii=False)` writes,
byte for byte, written by orjson (the standard library indents in Python, which was most
of the time a large report took to render).

The two agree on everything a report holds except what Python alone writes its own way:
a float with an exponent (`1e+16`, not `1e16`), a float that is not finite (`NaN`, not
`null`) and an integer past 64 bits (which orjson refuses). `exact` marks those, in the
values a report copies from the user's data, as the text Python writes for them.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
_LOW, _HIGH = -(2**63), 2**64 - 1  # the integers orjson writes


class _AsPython:
    """A number orjson would write otherwise than Python: written as Python writes it."""

    __slots__ = ("value",)

    def __init__(self, value: float | int) -> None:
        self.value = value


def exact(value: Any) -> Any:
    """`value`, with each float or integer orjson would write otherwise than Python
    marked to be written as Python writes it; the value itself when it holds none."""
    if isinstance(value, float):
        return _AsPython(value) if not math.isfinite(value) or "e" in repr(value) else value
    if isinstance(value, int) and not isinstance(value, bool):
        return value if _LOW <= value <= _HIGH else _AsPython(value)
    if isinstance(value, list):
        items = [exact(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        pairs = {k: exact(v) for k, v in value.items()}
        return value if all(pairs[k] is v for k, v in value.items()) else pairs
    return value


def dumps(doc: Any) -> str:
    """`json.dumps(doc, indent=2, ensure_ascii=False)` for a document whose values from
    the user's data went through `exact`."""
    try:
        return orjson.dumps(doc, default=_python_text, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:  # a type or key orjson does not write: Python's text
        return json.dumps(doc, indent=2, ensure_ascii=False, default=_python_value)


def _python_text(value: object) -> orjson.Fragment:
    if isinstance(value, _AsPython):
        return orjson.Fragment(json.dumps(value.value))
    raise TypeError(f"{type(value).__name__} is not JSON")


def _python_value(value: object) -> object:
    if isinstance(value, _AsPython):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON")
