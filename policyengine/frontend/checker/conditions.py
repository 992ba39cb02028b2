"""Conditions and expressions: their types in scope, and every check on them (the rules
over types alone are in `type_rules`, a message's placeholders in `messages`).

Shared by the checker (which reports) and the compiler (which resolves the same way and
reports nothing). Never raises.
"""

from __future__ import annotations

from typing import Literal

from policyengine.core import model, semantics
from policyengine.core.builtins import BUILTINS, compile_regex
from policyengine.core.diagnostics import did_you_mean
from policyengine.core.semantics import RangeKind
from policyengine.frontend import ast
from policyengine.frontend.checker.scope import Scope
from policyengine.frontend.checker.type_rules import (
    RANGE_EXAMPLE,
    TYPED_TEXT,
    fits_type,
    literal_type,
    quote_hint,
    range_kind,
    range_literal_shaped,
    valid_range_literal,
    with_article,
)


def expr_type(scope: Scope, expr: ast.Collection) -> model.Type | None:
    """The type of an expression; None after reporting why it has none."""
    match expr:
        case ast.Path():
            resolved = scope.resolve_path(expr)
            if resolved is None:
                return None
            if resolved.binding.role == "param" and not resolved.steps:
                return resolved.binding.type
            return resolved.type
        case ast.Literal(value=value):
            return literal_type(value)
        case ast.Call():
            if expr.function.text in scope.defines:
                scope.diags.error(
                    "PE106",
                    f"`{expr.function.text}` is a `define`: a condition, not a value",
                    expr.span,
                    "used as a value",
                    help=f"use it as a condition: `... where {expr.span.text}` or "
                    f"`require {expr.span.text}`",
                )
                return None
            return call_type(scope, expr)
        case ast.LocatedIn():
            return located_type(scope, expr)
        case ast.Count(var=var, source=source, where=where):
            element = element_type(scope, source)
            if element is None:
                return model.INT
            if where is not None:
                inner = scope.child()
                if var is None:
                    scope.diags.error(
                        "PE111",
                        "a `where` in `count(...)` needs a name",
                        where.span,
                        "no name to test",
                        help="write `count(x in COLLECTION where CONDITION)`",
                    )
                    return model.INT
                inner.bind(var, _role_of(element), element)
                check_condition(inner, where)
            return model.INT
        case ast.Related():
            found = related_kind(scope, expr)
            return None if found is None else model.ListT(model.ResourceT(found[1]))


def located_type(scope: Scope, expr: ast.LocatedIn) -> model.Type | None:
    """`instance located in this`: every resource of a kind in a region."""
    if expr.kind.text not in scope.model.kinds:
        scope.diags.error(
            "PE102",
            f"unknown kind `{expr.kind.text}`",
            expr.kind.span,
            "expected a kind",
            help=did_you_mean(expr.kind.text, scope.model.kinds),
        )
        return None
    if scope.model.kinds[expr.kind.text].scope == "global":
        scope.diags.error(
            "PE109",
            f"`{expr.kind.text}` is global and located in no region",
            expr.kind.span,
            "has no region",
        )
        return None
    place = ast.Path(head=expr.place, span=expr.place.span)
    t = expr_type(scope, place)
    if t is not None and model.value_class(t) not in ("string", "any"):
        scope.diags.error(
            "PE106",
            f"`located in` takes a region, not {with_article(model.unwrap(t))}",
            expr.place.span,
            "not a region",
            help="write `located in this` in a `for each region` rule, or `located in region`",
        )
        return None
    return model.ListT(model.ResourceT(expr.kind.text))


def _role_of(t: model.Type) -> Literal["resource", "value"]:
    return "resource" if isinstance(t, model.ResourceT) else "value"


def related_kind(scope: Scope, expr: ast.Related) -> tuple[model.Relation, str, bool] | None:
    """The relation a relation expression follows, the kind it reaches, and its direction."""
    left_kind, right_kind = _resource_kind(scope, expr.left), _resource_kind(scope, expr.right)
    kinds = scope.model.kinds
    if left_kind is not None and expr.right.text in kinds:
        source, target, forward = left_kind, expr.right.text, True
    elif right_kind is not None and expr.left.text in kinds:
        source, target, forward = expr.left.text, right_kind, False
    elif left_kind is None and right_kind is None:
        scope.diags.error(
            "PE102",
            "a relation expression needs a resource in scope",
            expr.left.span,
            "expected `this` or a name bound to a resource",
        )
        return None
    else:
        bad = expr.right if left_kind is not None else expr.left
        scope.diags.error(
            "PE102",
            f"unknown kind `{bad.text}`",
            bad.span,
            "expected a kind",
            help=did_you_mean(bad.text, kinds),
        )
        return None
    relation = scope.model.relation(source, expr.verb.text, target)
    if relation is None:
        known = [r.name for r in scope.model.relations]
        scope.diags.error(
            "PE103",
            f"unknown relation `{source} {expr.verb.text} {target}`",
            expr.verb.span,
            "the model declares no such relation",
            help=did_you_mean(f"{source} {expr.verb.text} {target}", known),
        )
        return None
    return relation, (target if forward else source), forward


def _resource_kind(scope: Scope, name: ast.Name) -> str | None:
    """The kind of the resource a name is bound to, if it is bound to one."""
    binding = scope.lookup(name.text)
    if binding is not None and isinstance(binding.type, model.ResourceT):
        return binding.type.kind
    return None


def element_type(scope: Scope, source: ast.Collection) -> model.Type | None:
    t = expr_type(scope, source)
    if t is None:
        return None
    t = model.unwrap(t)
    if isinstance(t, model.AnyT):
        return t
    if not isinstance(t, model.ListT):
        scope.diags.error(
            "PE106",
            f"`{source.span.text}` is {with_article(t)}, not a list",
            source.span,
            "expected a list or a relation",
        )
        return None
    return t.item


def define_call(scope: Scope, call: ast.Call) -> None:
    """A `define` used as a condition: its arguments fit its parameters."""
    sig = scope.defines[call.function.text]
    if len(call.args) != len(sig.params):
        scope.diags.error(
            "PE106",
            f"`{call.function.text}` takes {len(sig.params)} argument(s), not {len(call.args)}",
            call.span,
            "wrong number of arguments",
            notes=(f"declared at {sig.node.name.span.location()}",),
        )
        return
    for arg, (name, want) in zip(call.args, sig.params, strict=True):
        got = expr_type(scope, arg)
        if got is not None and not fits_type(got, want):
            scope.diags.error(
                "PE106",
                f"`{call.function.text}` takes {model.describe(want)} as `{name}`, "
                f"not {model.describe(got)}",
                arg.span,
                "wrong type of argument",
            )


def _typed_literals(scope: Scope, cond: ast.Compare, lt: model.Type, rt: model.Type) -> bool:
    """A comparison with a time, a CIDR block or a port range: a text literal on the other
    side is parsed now (a bad one is an error at its place), and only times have an
    order. True when something was reported."""
    special = next(
        (
            t.name
            for t in map(model.unwrap, (lt, rt))
            if isinstance(t, model.Scalar) and t.name in TYPED_TEXT
        ),
        None,
    )
    if special is None:
        return False
    parse, noun, example = TYPED_TEXT[special]
    reported = False
    for side in (cond.left, cond.right):
        if isinstance(side, ast.Literal) and isinstance(side.value, str):
            if parse(side.value) is None:
                scope.diags.error(
                    "PE002",
                    f"`{side.span.text}` is not {noun}",
                    side.span,
                    "cannot be parsed",
                    help=f"write e.g. {example}",
                )
                reported = True
    if semantics.orders(cond.op) and special != "time":
        scope.diags.error(
            "PE106",
            f"`{cond.op}` does not order {noun.split(' ', 1)[1]}s; use `covers` or `within`",
            cond.op_span,
            "not an order",
        )
        reported = True
    return reported


# Built-in arguments that must be a typed value, not any text: a literal is parsed now.
_TYPED_ARGS = {
    ("days_since", 0): "time",
    ("days_until", 0): "time",
    ("is_private", 0): "cidr",
}


def _typed_arg(scope: Scope, function: str, index: int, arg: ast.Expr, t: model.Type) -> None:
    want = _TYPED_ARGS.get((function, index))
    if want is None or isinstance(model.unwrap(t), model.AnyT):
        return
    if isinstance(arg, ast.Literal) and isinstance(arg.value, str):
        ok = (model.parse_time if want == "time" else model.parse_cidr)(arg.value) is not None
        if not ok:
            example = '"2024-01-31T08:00:00Z"' if want == "time" else '"10.0.0.0/8"'
            scope.diags.error(
                "PE002",
                f"`{arg.span.text}` is not a {'time' if want == 'time' else 'CIDR block'}",
                arg.span,
                "cannot be parsed",
                help=f"write e.g. {example}",
            )
        return
    if model.unwrap(t) != model.Scalar(want):
        scope.diags.error(
            "PE106",
            f"`{function}` takes a {want}, not {model.describe(model.unwrap(t))}",
            arg.span,
            "wrong type of argument",
            help=f"declare the attribute as `{want}` in the model",
        )


def call_type(scope: Scope, call: ast.Call) -> model.Type | None:
    builtin = BUILTINS.get(call.function.text)
    if builtin is None:
        scope.diags.error(
            "PE112",
            f"unknown function `{call.function.text}`",
            call.function.span,
            "no such function",
            help=did_you_mean(call.function.text, [*BUILTINS, *scope.defines]),
        )
        return None
    if len(call.args) != len(builtin.params):
        scope.diags.error(
            "PE106",
            f"`{builtin.name}` takes {len(builtin.params)} argument(s), not {len(call.args)}",
            call.span,
            "wrong number of arguments",
        )
        return None
    for index, (arg, accepted) in enumerate(zip(call.args, builtin.params, strict=True)):
        t = expr_type(scope, arg)
        if t is not None and model.value_class(t) not in (*accepted, "any"):
            scope.diags.error(
                "PE106",
                f"`{builtin.name}` takes {' or '.join(accepted)}, not {model.describe(t)}",
                arg.span,
                "wrong type of argument",
            )
        elif t is not None:
            _typed_arg(scope, builtin.name, index, arg, t)
    return builtin.returns


def check_condition(scope: Scope, cond: ast.Condition) -> None:
    match cond:
        case ast.Compare(op=op, left=left, right=right):
            lt, rt = expr_type(scope, left), expr_type(scope, right)
            if lt is None or rt is None:
                return
            lc, rc = model.value_class(lt), model.value_class(rt)
            if "any" in (lc, rc):
                return
            if lc != rc:
                scope.diags.error(
                    "PE106",
                    f"cannot compare {model.describe(model.unwrap(lt))} "
                    f"with {model.describe(model.unwrap(rt))}",
                    cond.span,
                    "the two sides have different types",
                    help=quote_hint(left, right, lt, rt),
                )
            elif _typed_literals(scope, cond, lt, rt):
                pass  # reported there
            elif semantics.orders(op) and lc not in ("int", "string"):
                scope.diags.error(
                    "PE106",
                    f"`{op}` compares numbers or text, not {model.describe(lt)}",
                    cond.op_span,
                    "not an order",
                )
            elif lc in ("resource",):
                scope.diags.error(
                    "PE106",
                    "compare attributes of resources, not resources",
                    cond.span,
                    "compares whole resources",
                )
        case ast.Member(item=item, collection=collection):
            it, ct = expr_type(scope, item), expr_type(scope, collection)
            if it is None or ct is None:
                return
            ct = model.unwrap(ct)
            if isinstance(ct, model.AnyT):
                return
            if not isinstance(ct, model.ListT):
                scope.diags.error(
                    "PE106",
                    f"`in` needs a list; `{collection.span.text}` is {with_article(ct)}",
                    collection.span,
                    "not a list",
                )
                return
            if "any" not in (model.value_class(it), model.value_class(ct.item)) and (
                model.value_class(it) != model.value_class(ct.item)
            ):
                scope.diags.error(
                    "PE106",
                    f"cannot look for {model.describe(model.unwrap(it))} in "
                    f"a list of {model.describe(ct.item)}",
                    cond.span,
                    "the types differ",
                )
        case ast.Matches(operand=operand, pattern=pattern, pattern_span=pspan):
            t = expr_type(scope, operand)
            if t is not None and model.value_class(t) not in ("string", "any"):
                scope.diags.error(
                    "PE106",
                    f"`matches` tests text, not {model.describe(t)}",
                    operand.span,
                    "not text",
                )
            try:
                compile_regex(pattern)
            except ValueError as exc:
                scope.diags.error("PE110", "invalid regular expression", pspan, str(exc))
        case ast.IdFormat(operand=operand):
            if not (isinstance(operand, ast.Path) and operand.dotted() in ("id", "this.id")):
                scope.diags.error(
                    "PE106",
                    "`matches kind format` tests a resource's `id`",
                    operand.span,
                    "expected `id`",
                )
        case ast.RangeTest():
            check_range(scope, cond)
        case ast.Presence(operand=operand):
            expr_type(scope, operand)
        case ast.Truthy(operand=ast.Call(function=function) as call) if (
            function.text in scope.defines
        ):
            define_call(scope, call)
        case ast.Truthy(operand=operand):
            t = expr_type(scope, operand)
            if t is not None and model.value_class(t) not in ("bool", "any"):
                scope.diags.error(
                    "PE106",
                    f"`{operand.span.text}` is {with_article(model.unwrap(t))}, not a condition",
                    operand.span,
                    "not true or false",
                    help='compare it with a value, e.g. `== "..."`, or test `is set`',
                )
        case ast.AllOf(conditions=conds) | ast.AnyOf(conditions=conds):
            for c in conds:
                check_condition(scope, c)
        case ast.Not(condition=inner):
            check_condition(scope, inner)
        case ast.Quantifier(var=var, source=source, where=where, body=qbody):
            element = element_type(scope, source) or model.AnyT()
            child = scope.child()
            scope.witnesses[var.text] = child.bind(var, _role_of(element), element)
            if where is not None:
                check_condition(child, where)
            check_condition(child, qbody)
            _warn_unused_clauses(scope, cond)
        case ast.SameLocation():
            pass  # checked with the edge in rule_scope


def _mentions(node: ast.Node, var: str) -> bool:
    for n in ast.walk(node):
        if isinstance(n, ast.Path) and (
            n.head.text == var
            or any(isinstance(s, ast.VarSegment) and s.var == var for s in n.segments)
        ):
            return True
        if isinstance(n, ast.Related) and var in (n.left.text, n.right.text):
            return True
        if isinstance(n, ast.LocatedIn) and n.place.text == var:
            return True
    return False


def _warn_unused_clauses(scope: Scope, quantifier: ast.Quantifier) -> None:
    """A quantifier's body runs to the end of the condition, so `every a in xs: p(a) and
    q` quantifies `q` too; when `q` does not use `a`, that is rarely what was meant."""
    body, var = quantifier.body, quantifier.var.text
    if not isinstance(body, ast.AllOf | ast.AnyOf):
        return
    for clause in body.conditions:
        if not _mentions(clause, var):
            scope.diags.warning(
                "PE118",
                f"`{clause.span.text}` does not use `{var}`, yet it is inside "
                f"`{quantifier.quantifier} {var} in …`",
                clause.span,
                f"evaluated once per `{var}`",
                help=f"to test it once, parenthesise the quantifier: "
                f"`({quantifier.quantifier} {var} in …: …) and …`",
            )


def check_range(scope: Scope, cond: ast.RangeTest) -> None:
    """`covers` / `within`: one side is a port range or a CIDR block; the other side a
    value of that kind (a literal is parsed now, so a typo is an error at its place)."""
    lt, rt = expr_type(scope, cond.left), expr_type(scope, cond.right)
    if lt is None or rt is None:
        return
    kind = range_kind(lt) or range_kind(rt)
    if kind is None:
        scope.diags.error(
            "PE106",
            f"`{cond.op}` compares port ranges or CIDR blocks, and neither side is one",
            cond.span,
            f"{model.describe(model.unwrap(lt))} {cond.op} {model.describe(model.unwrap(rt))}",
            help="declare the attribute as `port_range` or `cidr` in the model",
        )
        return
    what = "a port or a port range" if kind is RangeKind.PORT else "a CIDR block or an address"
    for expr, t in ((cond.left, lt), (cond.right, rt)):
        if range_kind(t) == kind:
            continue
        accepted = ("int", "string", "any") if kind is RangeKind.PORT else ("string", "any")
        if model.value_class(t) not in accepted:
            scope.diags.error(
                "PE106", f"expected {what}, not {model.describe(t)}", expr.span, "wrong type"
            )
        elif isinstance(expr, ast.Literal) and not valid_range_literal(kind, expr.value):
            scope.diags.error(
                "PE002",
                f"`{expr.span.text}` is not {what}",
                expr.span,
                "out of range" if range_literal_shaped(kind, expr.value) else "cannot be parsed",
                help=RANGE_EXAMPLE[kind],
            )


def range_kind_of(scope: Scope, cond: ast.RangeTest) -> RangeKind | None:
    """What a checked `covers` / `within` compares: port ranges or CIDR blocks."""
    for side in (cond.left, cond.right):
        t = expr_type(scope, side)
        if t is not None and (kind := range_kind(t)) is not None:
            return kind
    return None
