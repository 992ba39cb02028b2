"""The source text of values, paths, expressions, conditions and types, each on one line,
as `policyengine fmt` prints them (and `docs` shows a param's type and default): printed
from the syntax tree, in parentheses only where the grammar's precedence needs them."""

from __future__ import annotations

import json
from typing import assert_never

from policyengine.frontend import ast


def string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def literal(value: ast.LiteralValue) -> str:
    match value:
        case bool():
            return "true" if value else "false"
        case int():
            return str(value)
        case str():
            return string(value)
        case tuple():
            return "[" + ", ".join(literal(v) for v in value) + "]"
        case ast.MapValue():
            return "{" + ", ".join(f"{string(k)}: {literal(v)}" for k, v in value.items()) + "}"


def path(node: ast.Path) -> str:
    out = node.head.text
    for seg in node.segments:
        match seg:
            case ast.AttrSegment(name=name):
                out += f".{name}"
            case ast.KeySegment(key=key):
                out += f"[{string(key)}]"
            case ast.VarSegment(var=var):
                out += f"[{var}]"
            case ast.IndexSegment(index=index):
                out += f"[{index}]"
            case ast.StarSegment():
                out += "[*]"
            case _:
                assert_never(seg)
    return out


def expr(node: ast.Expr | ast.Related | ast.LocatedIn) -> str:
    match node:
        case ast.Path():
            return path(node)
        case ast.Literal(value=value):
            return literal(value)
        case ast.Call(function=function, args=args):
            return f"{function.text}({', '.join(expr(a) for a in args)})"
        case ast.Count(var=var, source=source, where=where):
            head = f"{var.text} in " if var is not None else ""
            tail = f" where {condition(where)}" if where is not None else ""
            return f"count({head}{expr(source)}{tail})"
        case ast.LocatedIn(kind=kind, place=place):
            return f"{kind.text} located in {place.text}"
        case ast.Related(left=left, verb=verb, right=right):
            return f"{left.text} {verb.text} {right.text}"
        case _:
            assert_never(node)


def ends_open(node: ast.Condition) -> bool:
    """Printed bare, does it end in a quantifier whose body would swallow what follows?"""
    match node:
        case ast.Quantifier():
            return True
        case ast.Not(condition=inner):
            return not isinstance(inner, ast.AllOf | ast.AnyOf) and ends_open(inner)
        case ast.AllOf(conditions=parts) | ast.AnyOf(conditions=parts):
            last = parts[-1]
            wrapped = isinstance(last, ast.AnyOf) or (
                isinstance(node, ast.AllOf) and isinstance(last, ast.AllOf)
            )
            return not wrapped and ends_open(last)
    return False


def joined_operand(node: ast.Condition, parent: ast.AllOf | ast.AnyOf, last: bool) -> str:
    """An operand of `and`/`or`, in parentheses where the grammar's precedence needs them:
    a nested `or` (and `and` inside `and`) would flatten, and a quantifier that is not the
    last operand would take the rest as its body."""
    wrap = isinstance(node, ast.AnyOf) or (
        isinstance(parent, ast.AllOf) and isinstance(node, ast.AllOf)
    )
    if not last and ends_open(node):
        wrap = True
    text = condition(node)
    return f"({text})" if wrap else text


def condition(node: ast.Condition) -> str:
    match node:
        case ast.Compare(op=op, left=left, right=right):
            return f"{expr(left)} {op} {expr(right)}"
        case ast.Member(item=item, collection=coll, negated=negated):
            return f"{expr(item)} {'not in' if negated else 'in'} {expr(coll)}"
        case ast.Matches(operand=operand, pattern=pattern, pattern_span=span):
            # A /regex/ is kept as written: its escapes are not those of a string.
            token = span.text if span.text.startswith("/") else string(pattern)
            return f"{expr(operand)} matches {token}"
        case ast.IdFormat(operand=operand):
            return f"{expr(operand)} matches kind format"
        case ast.RangeTest(op=op, left=left, right=right):
            return f"{expr(left)} {op} {expr(right)}"
        case ast.Presence(operand=operand, test=test, negated=negated):
            return f"{expr(operand)} is {'not ' if negated else ''}{test}"
        case ast.Truthy(operand=operand):
            return expr(operand)
        case ast.AllOf(conditions=parts) | ast.AnyOf(conditions=parts):
            word = " and " if isinstance(node, ast.AllOf) else " or "
            last = len(parts) - 1
            return word.join(joined_operand(p, node, i == last) for i, p in enumerate(parts))
        case ast.Not(condition=inner):
            text = condition(inner)
            return f"not ({text})" if isinstance(inner, ast.AllOf | ast.AnyOf) else f"not {text}"
        case ast.Quantifier():
            return f"{_quantifier_head(node)}: {condition(node.body)}"
        case ast.SameLocation(scope=scope):
            return f"same {scope}"  # only inside a sentence, which prints its origin
        case _:
            assert_never(node)


def _quantifier_head(node: ast.Quantifier) -> str:
    head = f"{node.quantifier} {node.var.text} in {expr(node.source)}"
    if node.where is not None:
        where = condition(node.where)
        head += f" where ({where})" if ends_open(node.where) else f" where {where}"
    return head


def type_expr(node: ast.TypeExpr) -> str:
    match node:
        case ast.NamedType(name=name):
            return name.text
        case ast.RefType(kind=kind):
            return f"id of {kind.text}"
        case ast.ListType(item=item):
            return f"list of {type_expr(item)}"
        case ast.MapType(value=value):
            return f"map of {type_expr(value)}"
        case ast.OptionalType(inner=inner):
            return f"optional {type_expr(inner)}"
        case ast.ObjectType(fields=fields):
            listed = ", ".join(f"{f.name.text}: {type_expr(f.type)}" for f in fields)
            return "{ " + listed + " }" if listed else "{}"
        case _:
            assert_never(node)


def identity(node: ast.Identity) -> str:
    match node:
        case ast.IdIdentity(prefix=prefix, length=length, name_when=when):
            out = f"id {string(prefix)}" + (f" + {length}" if length is not None else "")
            return out + (f" or name when {condition(when)}" if when is not None else "")
        case ast.NameIdentity(attribute=attribute):
            return f"named by {attribute.text}"
        case ast.KeyIdentity(attributes=attributes):
            return "keyed by (" + ", ".join(a.text for a in attributes) + ")"
        case _:
            assert_never(node)


def location(node: ast.Location) -> str:
    if node.scope == "global":
        return "global"
    out = f"located in {node.scope}"
    if node.when is not None:
        out += f" when {condition(node.when)} else {node.otherwise}"
    return out
