"""Authoring warnings: what `policyengine check` adds to the checker's errors.

Takes what the checker resolved (each rule's scope, the params' values) and reports what
no run needs but an author does: a param no rule reads, a rule whose `where` (or
`unless`) the model decides before any snapshot is read, and a condition that is always
true or always false given the model's types and the params' values. Names mean what the
checker's scopes say they mean. Pure: returns diagnostics and never raises.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import cast

from policyengine.core import model, semantics
from policyengine.core.diagnostics import Diagnostic, Level, sort_diagnostics
from policyengine.core.semantics import Op, Presence, Quantifier
from policyengine.frontend import ast
from policyengine.frontend.checker import CheckedFile
from policyengine.frontend.checker.policies import CheckedRule
from policyengine.frontend.checker.scope import Binding, Scope
from policyengine.frontend.loader import Front

ANY_KIND = "resource"


def check_diagnostics(checked: Front) -> list[Diagnostic]:
    """What `check` reports of what the front end found: its diagnostics and the authoring
    warnings, each once, in order. The command line and the editor both show these."""
    found = checked.diagnostics + lint(checked.checked, checked.vocabulary)
    unique = {(d.code, d.span.file, d.span.start, d.message): d for d in found}
    return sort_diagnostics(unique.values())


def lint(files: Iterable[CheckedFile], vocabulary: model.Model) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for file in files:
        for policy in file.policies:
            out.extend(_unused_params(policy.policy))
            for rule in policy.rules:
                if rule.body.kind.text in vocabulary.kinds:  # not `resource` nor `region`
                    out.extend(_constant_conditions(rule, policy.params))
    return out


# ---------------------------------------------------------------- unused params


def _unused_params(policy: ast.Policy) -> Iterator[Diagnostic]:
    if not policy.params:
        return  # nothing to find: no need to read every rule (an editor lints each change)
    used: set[str] = set()
    for rule in policy.rules:
        for node in ast.walk((rule.body, *rule.extra)):
            if isinstance(node, ast.Path):
                used.add(node.head.text)
            elif isinstance(node, ast.VarSegment):
                used.add(node.var)
        message = rule.get("message")
        if message is not None:
            used.update(_placeholder_heads(message.value))
    for param in policy.params:
        if param.name.text not in used:
            yield Diagnostic(
                "PE150",
                f"param `{param.name.text}` is never used",
                param.name.span,
                "no rule of this policy reads it",
                help="remove it, or use it in a rule",
                level=Level.WARNING,
            )


def _placeholder_heads(template: str) -> set[str]:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    except ValueError:
        return set()
    return {name.split(".")[0] for name in fields}


# ---------------------------------------------------------------- constant conditions


@dataclass(frozen=True)
class _Env:
    """What a rule's names mean, as far as constant folding needs: the checker's scope."""

    scope: Scope
    subject: model.Kind  # bare attribute names read this kind
    params: Mapping[str, Binding]  # with the values the checker bound
    bound: frozenset[str]  # quantifier and count variables: values vary

    def kind_of(self, name: str) -> model.Kind | None:
        """The kind of the resource `name` stands for (this, the kind, an alias, the
        edge's other end), if it stands for one."""
        binding = self.scope.lookup(name)
        if binding is None or not isinstance(binding.type, model.ResourceT):
            return None
        return self.scope.model.kinds.get(binding.type.kind)

    def param(self, name: str) -> object:
        binding = self.params.get(name)
        if binding is None or binding.value is None:  # no value: the checker said so
            return _UNKNOWN
        if isinstance(model.unwrap(binding.type), model.MapT):
            return dict(cast(tuple[tuple[str, object], ...], binding.value))
        return binding.value


def _constant_conditions(rule: CheckedRule, params: Mapping[str, Binding]) -> Iterator[Diagnostic]:
    body = rule.body
    bound = frozenset(
        n.var.text for n in ast.walk(body) if isinstance(n, ast.Quantifier | ast.Count) and n.var
    )
    scope = rule.lowering_scope()
    subject = scope.model.kinds[body.kind.text]
    env = _Env(scope, subject, params, bound)
    if body.where is not None:
        value = _fold(body.where, env)
        if value is False:
            yield _never_applies(body.where, "this `where` never holds")
        elif value is True:
            yield _always(body.where, True, "the `where` excludes nothing")
        else:
            yield from _constant_parts(body.where, env)
    if body.unless is not None:
        value = _fold(body.unless, env)
        if value is True:
            yield _never_applies(body.unless, "this `unless` always holds")
        elif value is False:
            yield _always(body.unless, False, "the `unless` exempts nothing")
        else:
            yield from _constant_parts(body.unless, env)
    value = _fold(body.condition, env)
    if isinstance(value, bool):
        holds = value if body.mode == "require" else not value
        verdict = "passes" if holds else "fails"
        yield _always(body.condition, value, f"so the rule always {verdict}")
    else:
        yield from _constant_parts(body.condition, env)


def _never_applies(cond: ast.Condition, label: str) -> Diagnostic:
    return Diagnostic(
        "PE151",
        "this rule can never apply",
        cond.span,
        label,
        notes=("the model and the params decide it before any snapshot is read",),
        level=Level.WARNING,
    )


def _always(cond: ast.Condition, value: bool, label: str) -> Diagnostic:
    return Diagnostic(
        "PE152",
        f"this condition is always {str(value).lower()}",
        cond.span,
        label,
        notes=("the model and the params decide it before any snapshot is read",),
        level=Level.WARNING,
    )


def _constant_parts(cond: ast.Condition, env: _Env) -> Iterator[Diagnostic]:
    """The largest parts of an undecided condition that are constant, each reported once."""
    match cond:
        case ast.AllOf(conditions=parts) | ast.AnyOf(conditions=parts):
            for part in parts:
                value = _fold(part, env)
                if isinstance(value, bool):
                    yield _always(part, value, "this part decides nothing")
                else:
                    yield from _constant_parts(part, env)
        case ast.Not(condition=inner):
            yield from _constant_parts(inner, env)
        case _:
            return


_UNKNOWN = object()  # a value only a snapshot can tell


def _fold(cond: ast.Condition, env: _Env) -> bool | None:
    """The condition's value if the model and params fix it, else None. Errors are not
    constants: a condition that may be undecidable on some data is left alone."""
    match cond:
        case ast.AllOf(conditions=parts):
            return semantics.fold(Quantifier.EVERY, (_fold(p, env) for p in parts))
        case ast.AnyOf(conditions=parts):
            return semantics.fold(Quantifier.ANY, (_fold(p, env) for p in parts))
        case ast.Not(condition=inner):
            return semantics.negate(_fold(inner, env))
        case ast.Compare(op=op, left=left, right=right):
            lv, rv = _value(left, env), _value(right, env)
            if lv is _UNKNOWN or rv is _UNKNOWN:
                return _count_bound(op, left, right)
            return _compare(op, lv, rv)
        case ast.Member(item=item, collection=coll, negated=negated):
            iv, cv = _value(item, env), _value(coll, env)
            if iv is _UNKNOWN or not isinstance(cv, tuple | list):
                return None
            return semantics.member(iv, cv, negated)
        case ast.Presence(operand=operand, test=test, negated=negated):
            return _presence(operand, test, env, negated)
        case ast.Truthy(operand=operand):
            truth = _value(operand, env)
            return truth if isinstance(truth, bool) else None
    return None


def _compare(op: Op, left: object, right: object) -> bool | None:
    if semantics.orders(op) and (type(left) is not type(right) or not isinstance(left, int | str)):
        return None  # the run decides: an error, or a time compared with text
    return semantics.compare(op, left, right)


def _count_bound(op: Op, left: ast.Expr, right: ast.Expr) -> bool | None:
    """`len(x) >= 0` and `count(...) < 0`: a count is never negative."""
    if not (_is_count(left) and isinstance(right, ast.Literal) and right.value == 0):
        return None
    return semantics.count_bound(op)


def _is_count(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Count) or (
        isinstance(expr, ast.Call) and expr.function.text == "len"
    )


def _presence(operand: ast.Expr, test: Presence, env: _Env, negated: bool) -> bool | None:
    value = _value(operand, env)
    if value is not _UNKNOWN:
        plain = list(value) if isinstance(value, tuple) else value  # a list param
        missing, empty = value is None, value is not None and semantics.is_empty(plain)
    elif _identity(operand, env):
        missing, empty = False, False  # the store rejects a resource without it
    elif test is Presence.EMPTY and _scalar(operand, env) in ("int", "bool"):
        return negated  # a number or a boolean is never empty, and missing is not empty
    else:
        return None
    return semantics.presence(test, missing, empty) != negated


def _value(expr: ast.Expr, env: _Env) -> object:
    match expr:
        case ast.Literal(value=value):
            return value
        case ast.Path(head=head, segments=()) if (
            head.text in env.params and head.text not in env.bound
        ):
            return env.param(head.text)
        case ast.Path(head=head, segments=(ast.AttrSegment(name="kind"),)) if (
            head.text not in env.bound and (kind := env.kind_of(head.text)) is not None
        ):
            return kind.name
        case ast.Path(head=head, segments=()) if head.text == "kind":
            return env.subject.name
    return _UNKNOWN


def _attribute(path: ast.Expr, env: _Env) -> tuple[model.Kind, list[str]] | None:
    """The kind a path starts at and the attribute names it follows, when it reads a
    resource in scope through attributes only."""
    if not isinstance(path, ast.Path) or path.head.text in env.bound:
        return None
    segments = list(path.segments)
    named = env.kind_of(path.head.text)
    if named is not None:
        kind = named
    elif path.head.text not in env.params:
        kind = env.subject
        segments.insert(0, ast.AttrSegment(name=path.head.text, span=path.head.span))
    else:
        return None
    if not segments or not all(isinstance(s, ast.AttrSegment) for s in segments):
        return None
    return kind, [s.name for s in segments if isinstance(s, ast.AttrSegment)]


def _identity(expr: ast.Expr, env: _Env) -> bool:
    found = _attribute(expr, env)
    if found is None or len(found[1]) != 1:
        return False
    kind, (name,) = found
    match kind.identity:
        case model.IdFormat():
            return name == "id"
        case model.NamedBy(attribute=attribute):
            return name == attribute
        case model.KeyedBy(attributes=attributes):
            return name in attributes
    return False


def _scalar(expr: ast.Expr, env: _Env) -> str | None:
    found = _attribute(expr, env)
    if found is None:
        return None
    kind, names = found
    t: model.Type = kind.attributes
    for name in names:
        t = model.unwrap(t)
        if not isinstance(t, model.RecordT) or name not in t.by_name:
            return None
        t = t.by_name[name]
    t = model.unwrap(t)
    return t.name if isinstance(t, model.Scalar) else None
