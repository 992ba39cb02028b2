"""What the checker knows of types alone, with no scope: the type of a literal, which
type fits where another is declared, what a `covers` / `within` compares, which text
literals parse as a time, a CIDR block or a port range, and how a type is named in a
message."""

from __future__ import annotations

import re
from collections.abc import Callable

from policyengine.core import model
from policyengine.core.semantics import RangeKind
from policyengine.frontend import ast


def literal_type(value: ast.LiteralValue) -> model.Type:
    match value:
        case bool():
            return model.BOOL
        case int():
            return model.INT
        case str():
            return model.STRING
        case tuple():
            items = {model.value_class(literal_type(v)) for v in value}
            if len(items) == 1:
                return model.ListT(literal_type(value[0]))
            return model.ListT(model.AnyT())
        case ast.MapValue():  # only a param's default, typed by the param
            return model.MapT(model.AnyT())


def fits_type(got: model.Type, want: model.Type) -> bool:
    """Whether a value of type `got` may be passed where `want` is declared."""
    got, want = model.unwrap(got), model.unwrap(want)
    if isinstance(got, model.AnyT) or isinstance(want, model.AnyT):
        return True
    match want:
        case model.ListT(item=item):
            return isinstance(got, model.ListT) and fits_type(got.item, item)
        case model.MapT(value=value):
            return isinstance(got, model.MapT) and fits_type(got.value, value)
        case model.RecordT(name=name, fields=fields):
            if not isinstance(got, model.RecordT):
                return False
            if name is not None and got.name is not None:
                return name == got.name
            have = got.by_name
            return all(f in have and fits_type(have[f], t) for f, t in fields)
        case model.ResourceT(kind=kind):
            return got == model.ResourceT(kind)
        case model.Scalar(name="time" | "cidr" | "port_range" as special):
            return got == model.Scalar(special) or got == model.STRING
    return model.value_class(got) == model.value_class(want)


# The typed scalars a text literal may stand for: how to parse one, what it is called, an
# example to write.
TYPED_TEXT: dict[str, tuple[Callable[[str], object | None], str, str]] = {
    "time": (model.parse_time, "a time", '"2024-01-31T08:00:00Z"'),
    "cidr": (model.parse_cidr, "a CIDR block", '"10.0.0.0/8"'),
    "port_range": (model.parse_port_range, "a port range", '"22/22"'),
}


def range_kind(t: model.Type) -> RangeKind | None:
    t = model.unwrap(t)
    if t == model.Scalar("port_range"):
        return RangeKind.PORT
    if t == model.Scalar("cidr"):
        return RangeKind.CIDR
    return None


RANGE_EXAMPLE = {
    RangeKind.PORT: 'write e.g. 22 or "8000/8080"',
    RangeKind.CIDR: 'write e.g. "10.0.0.0/8"',
}


def range_literal_shaped(kind: RangeKind, value: ast.LiteralValue) -> bool:
    """Whether a bad range literal is at least shaped right (then it is out of range)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return kind is RangeKind.PORT
    return isinstance(value, str) and re.fullmatch(r"-?[0-9]+(/-?[0-9]+)?", value) is not None


def valid_range_literal(kind: RangeKind, value: ast.LiteralValue) -> bool:
    if kind is RangeKind.PORT and isinstance(value, int) and not isinstance(value, bool):
        return 0 <= value <= 65535
    if not isinstance(value, str):
        return False
    if kind is RangeKind.PORT:
        return model.parse_port_range(value) is not None
    return model.parse_cidr(value) is not None


def with_article(t: model.Type) -> str:
    text = model.describe(t)
    return f"an {text}" if text[0] in "aeiou" else f"a {text}"


def quote_hint(left: ast.Expr, right: ast.Expr, lt: model.Type, rt: model.Type) -> str:
    for expr, other in ((left, rt), (right, lt)):
        if isinstance(expr, ast.Literal) and isinstance(expr.value, str):
            cls = model.value_class(other)
            if cls == "bool" and expr.value in ("true", "false"):
                return f"write {expr.value} without quotes"
            if cls == "int" and expr.value.lstrip("-").isdigit():
                return f"write {expr.value} without quotes"
    return ""
