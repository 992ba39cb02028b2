"""A checked policy file -> plan rules. Pure: no I/O and no diagnostics.

Runs only on what the checker passed, and lowers what it resolved: each rule's subject
kinds, edge, params, defines and scope come from the checker (`CheckedFile`), so nothing
is resolved twice and the two cannot disagree. Anything impossible here is a bug (an
assertion), never a user error.
"""

from __future__ import annotations

from dataclasses import replace
from typing import assert_never

from policyengine.core import model, plan
from policyengine.core.builtins import compile_regex
from policyengine.core.diagnostics import Collector
from policyengine.core.semantics import Enforcement, Severity
from policyengine.core.source import Span
from policyengine.frontend import ast
from policyengine.frontend.checker.conditions import expr_type, range_kind_of, related_kind
from policyengine.frontend.checker.defines import bind_params
from policyengine.frontend.checker.messages import placeholder_path, placeholders
from policyengine.frontend.checker.policies import (
    ANY_KIND,
    REGION,
    CheckedFile,
    CheckedPolicy,
    CheckedRule,
)
from policyengine.frontend.checker.scope import Binding, Scope


class CompileBug(AssertionError):
    """The checker let through something the compiler cannot lower."""


def compile_file(checked: CheckedFile, m: model.Model) -> tuple[plan.RulePlan, ...]:
    rules: list[plan.RulePlan] = []
    for policy in checked.policies:
        if len(policy.rules) != len(policy.policy.rules):
            raise CompileBug(f"policy {policy.policy.name.text} has a rule the checker refused")
        for rule in policy.rules:
            rules.append(_rule(policy, rule, m))
    return tuple(rules)


def _rule(checked: CheckedPolicy, resolved: CheckedRule, m: model.Model) -> plan.RulePlan:
    policy, rule, body, kinds = checked.policy, resolved.rule, resolved.body, resolved.kinds
    if not kinds:
        raise CompileBug(f"rule {rule.name.text} has no subject kind")
    scope = resolved.lowering_scope()
    per_region = kinds == (REGION,)
    lower = _Lowering(scope)
    edge = resolved.relation
    excluded: tuple[str, ...] = ()
    if body.kind.text == ANY_KIND:
        excluded = tuple(k for k in m.kinds if k not in kinds)

    def meta(key: str, default: str = "") -> str:
        node = rule.get(key) or policy.get(key)
        return node.value if node is not None else default

    title_meta = rule.get("title")
    title = rule.title or (title_meta.value if title_meta is not None else "")
    message = rule.get("message")
    # Lower before counting slots: every quantifier binds one as it is lowered.
    lets = []
    for let in body.lets:
        binding = scope.lookup(let.name.text)
        assert binding is not None  # rule_scope bound every let
        lets.append(plan.LetOp(binding.slot, let.name.text, lower.value(let.value), let.span))
    where = None if body.where is None else lower.cond(body.where)
    condition = lower.cond(body.condition)
    unless = None if body.unless is None else lower.cond(body.unless)
    parts = () if message is None else lower.message(message.value, message.span)
    return plan.RulePlan(
        id=f"{policy.name.text}.{rule.name.text}",
        policy=policy.name.text,
        name=rule.name.text,
        title=title,
        severity=Severity(meta("severity", Severity.MEDIUM)),
        enforcement=Enforcement(meta("enforcement", Enforcement.MANDATORY)),
        remediation=meta("remediation"),
        reference=meta("reference"),
        kinds=() if per_region else tuple(kinds),
        excluded_kinds=excluded,
        edge=edge,
        where=where,
        mode=body.mode,
        condition=condition,
        unless=unless,
        message=parts,
        sentence="" if body.origin is None else " ".join(body.origin.span.text.split()),
        slots=scope.counter.next,
        span=body.span,
        name_span=rule.name.span,
        lets=tuple(lets),
        tags=tuple(dict.fromkeys(_tags(policy.get("tags")) + _tags(rule.get("tags")))),
        per_region=per_region,
    )


def _tags(meta: ast.Meta | None) -> tuple[str, ...]:
    return () if meta is None else meta.values


class _Lowering:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.witnesses: dict[str, Binding] = {}  # quantifier variables, for `message`

    def value(
        self, expr: ast.Expr | ast.Related | ast.LocatedIn, scope: Scope | None = None
    ) -> plan.Value:
        scope = scope or self.scope
        match expr:
            case ast.Path():
                resolved = scope.resolve_path(expr)
                if resolved is None:
                    raise CompileBug(f"unresolved path {expr.dotted()}")
                if resolved.binding.role == "param":
                    value = _python(resolved.binding.value)
                    if isinstance(value, list) and isinstance(
                        model.unwrap(resolved.binding.type), model.MapT
                    ):
                        value = dict(value)
                    if resolved.steps:  # a key of a map param: `owners["prod"]`
                        key = resolved.steps[0].name
                        value = value.get(key) if isinstance(value, dict) else None
                    return plan.Const(value, expr.dotted(), expr.span)
                steps = tuple(
                    plan.Step(s.op, s.name, s.slot, s.optional, s.api) for s in resolved.steps
                )
                return plan.Read(
                    resolved.binding.slot,
                    steps,
                    resolved.plural,
                    resolved.type,
                    expr.dotted(),
                    expr.span,
                )
            case ast.Literal(value=value):
                return plan.Const(_python(value), expr.span.text, expr.span)
            case ast.Call(function=function, args=args):
                return plan.CallOp(
                    function.text, tuple(self.value(a, scope) for a in args), expr.span
                )
            case ast.Count(var=var, source=source, where=where):
                src = self.value(source, scope)
                if where is None or var is None:
                    return plan.CountOp(-1, src, None, expr.span)
                child, binding = _bind_element(scope, var, source)
                return plan.CountOp(binding.slot, src, self.cond(where, child), expr.span)
            case ast.LocatedIn(kind=kind, place=place):
                region = self.value(ast.Path(head=place, span=place.span), scope)
                return plan.LocatedOp(kind.text, region, expr.span)
            case ast.Related():
                found = related_kind(scope, expr)
                if found is None:
                    raise CompileBug("unresolved relation expression")
                relation, _, forward = found
                anchor = scope.lookup((expr.left if forward else expr.right).text)
                assert anchor is not None
                return plan.RelatedOp(relation, anchor.slot, forward, expr.span)
            case _:
                assert_never(expr)

    def cond(self, node: ast.Condition, scope: Scope | None = None) -> plan.Cond:
        scope = scope or self.scope
        match node:
            case ast.Compare(op=op, left=left, right=right):
                lv, rv = _canonical_literals(self.value(left, scope), self.value(right, scope))
                return plan.CompareOp(op, lv, rv, node.span)
            case ast.Member(item=item, collection=coll, negated=negated):
                return plan.MemberOp(
                    self.value(item, scope), self.value(coll, scope), negated, node.span
                )
            case ast.Matches(operand=operand, pattern=pattern):
                return plan.MatchOp(
                    self.value(operand, scope), pattern, compile_regex(pattern), node.span
                )
            case ast.IdFormat():
                assert scope.this is not None
                return plan.IdFormatOp(scope.this.slot, node.span)
            case ast.RangeTest(op=op, left=left, right=right):
                kind = range_kind_of(scope, node)
                if kind is None:
                    raise CompileBug("range test without a range")
                return plan.RangeOp(
                    op, kind, self.value(left, scope), self.value(right, scope), node.span
                )
            case ast.Presence(operand=operand, test=test, negated=negated):
                return plan.PresenceOp(self.value(operand, scope), test, negated, node.span)
            case ast.Truthy(operand=ast.Call(function=function, args=args)) if (
                function.text in scope.defines
            ):
                return self.define_call(function.text, args, node.span, scope)
            case ast.Truthy(operand=operand):
                return plan.TruthyOp(self.value(operand, scope), node.span)
            case ast.AllOf(conditions=conds):
                return plan.AllOp(tuple(self.cond(c, scope) for c in conds), node.span)
            case ast.AnyOf(conditions=conds):
                return plan.AnyOp(tuple(self.cond(c, scope) for c in conds), node.span)
            case ast.Not(condition=inner):
                return plan.NotOp(self.cond(inner, scope), node.span)
            case ast.Quantifier(quantifier=q, var=var, source=source, where=where, body=body):
                src = self.value(source, scope)
                child, binding = _bind_element(scope, var, source)
                self.witnesses[var.text] = binding
                return plan.QuantOp(
                    q,
                    binding.slot,
                    var.text,
                    src,
                    None if where is None else self.cond(where, child),
                    self.cond(body, child),
                    node.span,
                )
            case ast.SameLocation(scope=loc):
                assert scope.this is not None
                # INVARIANT: rule_scope binds the edge's other end right after `this`.
                return plan.SameLocationOp(loc, scope.this.slot, scope.this.slot + 1, node.span)
            case _:
                assert_never(node)

    def define_call(
        self, name: str, args: tuple[ast.Expr, ...], span: Span, scope: Scope
    ) -> plan.DefineOp:
        """A define's body, lowered afresh at each call with slots of its own."""
        sig = scope.defines[name]
        inner = Scope(
            scope.model,
            Collector(),  # the define was checked where it is declared
            None,
            sig.policy_params,
            counter=scope.counter,
            defines=scope.defines,
        )
        bindings = bind_params(inner, sig)
        values = tuple(self.value(a, scope) for a in args)
        body = self.cond(sig.node.body, inner)
        return plan.DefineOp(name, values, tuple(b.slot for b in bindings), body, span)

    def message(self, template: str, span: Span) -> tuple[plan.MessagePart, ...]:
        found = placeholders(template)
        assert found is not None  # the checker rejects unbalanced braces
        parts: list[plan.MessagePart] = []
        for text, name in found:
            if not name:
                parts.append(plan.MessagePart(text, None))
                continue
            path = placeholder_path(name, span)
            head = path.head.text
            scope = self.scope.child()
            if head in self.witnesses:
                scope.alias(head, self.witnesses[head])
            value = self.value(path, scope)
            assert isinstance(value, plan.Read | plan.Const)
            witness = head if head in self.witnesses else ""
            parts.append(plan.MessagePart(text, value, witness))
        return tuple(parts)


def _bind_element(scope: Scope, var: ast.Name, source: ast.Collection) -> tuple[Scope, Binding]:
    """A child scope in which `var` names each element of `source`, as the checker bound it."""
    t = expr_type(scope, source)
    t = model.unwrap(t) if t is not None else model.AnyT()
    element = t.item if isinstance(t, model.ListT) else model.AnyT()
    child = scope.child()
    if isinstance(element, model.ResourceT):
        return child, child.bind(var, "resource", element)
    return child, child.bind(var, "value", element)


def _python(value: object) -> object:
    """Literal and param values as the interpreter compares them: lists, not tuples."""
    if isinstance(value, tuple | list):
        return [_python(v) for v in value]
    return value


_CANONICAL = {"time": model.canonical_time, "cidr": model.canonical_cidr}


def _canonical_literals(left: plan.Value, right: plan.Value) -> tuple[plan.Value, plan.Value]:
    """A text literal compared with a time or a CIDR block, in the form the store keeps
    those values in, so that comparing text compares moments and networks."""

    def typed(v: plan.Value) -> str | None:
        t = model.unwrap(v.type) if isinstance(v, plan.Read) else None
        return t.name if isinstance(t, model.Scalar) and t.name in _CANONICAL else None

    def fix(literal: plan.Value, kind: str | None) -> plan.Value:
        if (
            kind is None
            or not isinstance(literal, plan.Const)
            or not isinstance(literal.value, str)
        ):
            return literal
        value = _CANONICAL[kind](literal.value)
        return literal if value is None else replace(literal, value=value)

    return fix(left, typed(right)), fix(right, typed(left))
