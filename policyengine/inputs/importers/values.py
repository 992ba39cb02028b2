"""Values from an input -> values of the types the model declares.

APIs and Terraform print some numbers and booleans as strings (`"Priority": "1"`,
`"Encrypted": "false"`). Where the model declares `int` or `bool`, such a string is
converted; one that does not convert is a problem naming the file and the place. An empty
string where the model declares an optional non-string value means "none" and becomes
null; everything else is kept as it was given.
"""

from __future__ import annotations

import re
from typing import Any

from policyengine.core import model
from policyengine.core.errors import Problem
from policyengine.inputs.snapshot import UnknownValue, describe_json, pointer_escape

_INT = re.compile(r"-?[0-9]+")
_BOOLS = {"true": True, "false": False}


def convert(value: Any, t: model.Type | None, file: str, at: str, problems: list[Problem]) -> Any:
    """`value` with every part the model types converted; problems for what does not."""
    if t is None or value is None or isinstance(value, UnknownValue):
        return value
    optional = isinstance(t, model.OptionalT)
    t = model.unwrap(t)
    match t:
        case model.Scalar(name="int") if isinstance(value, str):
            if value == "" and optional:
                return None
            if _INT.fullmatch(value.strip()):
                return int(value)
            problems.append(Problem(file, at, f"expected an integer, found {describe_json(value)}"))
        case model.Scalar(name="bool") if isinstance(value, str):
            if value == "" and optional:
                return None
            if value.lower() in _BOOLS:
                return _BOOLS[value.lower()]
            problems.append(
                Problem(file, at, f"expected true or false, found {describe_json(value)}")
            )
        case model.Scalar(name="cidr" | "port_range" | "time") if value == "" and optional:
            return None
        case model.ListT(item=item) if isinstance(value, list):
            return [convert(v, item, file, f"{at}/{i}", problems) for i, v in enumerate(value)]
        case model.MapT(value=vt) if isinstance(value, dict):
            return {
                k: convert(v, vt, file, f"{at}/{pointer_escape(k)}", problems)
                for k, v in value.items()
            }
        case model.RecordT() if isinstance(value, dict):
            fields = t.by_name
            return {
                k: convert(v, fields.get(k), file, f"{at}/{pointer_escape(k)}", problems)
                for k, v in value.items()
            }
    return value


def scalar(value: Any, t: model.Type | None, file: str, at: str, problems: list[Problem]) -> Any:
    """One leaf value converted to its declared type (lists and objects are left as given)."""
    if isinstance(value, list | dict):
        return value
    return convert(value, t, file, at, problems)


def field_type(t: model.Type | None, name: str) -> model.Type | None:
    """The type of field `name` under a value of type `t`; None where the model says nothing."""
    if t is None:
        return None
    t = model.unwrap(t)
    match t:
        case model.RecordT():
            return t.by_name.get(name)
        case model.MapT(value=vt):
            return vt
    return None


def item_type(t: model.Type | None) -> model.Type | None:
    """The type of the elements of a list of type `t`."""
    t = model.unwrap(t) if t is not None else None
    return t.item if isinstance(t, model.ListT) else None
