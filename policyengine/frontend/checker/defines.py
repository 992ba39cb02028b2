"""`define`: named, typed predicates, checked once where they are declared.

A define declared in a model or at the top of a policy file is seen by every policy; one
declared inside a policy also sees that policy's params. Its body sees only its own
parameters (and those params): a define reads what it is given, never `this`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from policyengine.core import model
from policyengine.core.diagnostics import Collector, did_you_mean
from policyengine.frontend import ast
from policyengine.frontend.checker.conditions import check_condition
from policyengine.frontend.checker.scope import Binding, DefineSig, Scope


def resolve_type(node: ast.TypeExpr, m: model.Model, diags: Collector) -> model.Type:
    """A type written in a policy (a define's parameter) against the model's vocabulary:
    scalars, the model's records, kinds (a whole resource) and the type constructors."""
    match node:
        case ast.NamedType(name=name):
            if name.text in model.SCALARS:
                return model.Scalar(name.text)
            if name.text in m.records:
                return m.records[name.text]
            if name.text in m.kinds:
                return model.ResourceT(name.text)
            diags.error(
                "PE117",
                f"unknown type `{name.text}`",
                name.span,
                "not a type, record or kind",
                help=did_you_mean(name.text, [*model.SCALARS, *m.records, *m.kinds]),
            )
            return model.AnyT()
        case ast.RefType(kind=kind):
            if kind.text not in m.kinds:
                diags.error(
                    "PE102",
                    f"unknown kind `{kind.text}`",
                    kind.span,
                    "no kind has this name",
                    help=did_you_mean(kind.text, m.kinds),
                )
                return model.AnyT()
            return model.RefT(kind.text)
        case ast.ListType(item=item):
            return model.ListT(resolve_type(item, m, diags))
        case ast.MapType(value=value):
            return model.MapT(resolve_type(value, m, diags))
        case ast.OptionalType(inner=inner):
            return model.OptionalT(resolve_type(inner, m, diags))
        case ast.ObjectType(fields=fields):
            return model.RecordT(
                None, tuple((f.name.text, resolve_type(f.type, m, diags)) for f in fields)
            )


def declare(
    defines: Iterable[ast.Define],
    m: model.Model,
    diags: Collector,
    table: Mapping[str, DefineSig],
    policy_params: dict[str, Binding] | None = None,
) -> dict[str, DefineSig]:
    """`table` extended with `defines`, each checked (a name declared twice, or a
    define that calls itself, is an error)."""
    out = dict(table)
    new: list[ast.Define] = []
    for node in defines:
        name = node.name.text
        if name in out:
            diags.error(
                "PE108",
                f"`{name}` is defined twice",
                node.name.span,
                "defined again here",
                notes=(f"first defined at {out[name].node.name.span.location()}",),
            )
            continue
        params: dict[str, model.Type] = {}
        for p in node.params:
            if p.name.text in params:
                diags.error(
                    "PE108", f"parameter `{p.name.text}` is declared twice", p.name.span, "again"
                )
            params[p.name.text] = resolve_type(p.type, m, diags)
        out[name] = DefineSig(node, tuple(params.items()), policy_params or {})
        new.append(node)
    for node in new:
        _check_body(out[node.name.text], m, diags, out)
    _report_cycles(new, out, diags)
    return out


def bind_params(scope: Scope, sig: DefineSig) -> list[Binding]:
    """A define's parameters, bound in `scope` in their declared order."""
    return [
        scope.bind(p.name, "resource" if isinstance(t, model.ResourceT) else "value", t)
        for (_, t), p in zip(sig.params, sig.node.params, strict=True)
    ]


def _check_body(
    sig: DefineSig, m: model.Model, diags: Collector, table: dict[str, DefineSig]
) -> None:
    # The body sees its parameters (and its policy's params), never `this`.
    scope = Scope(m, diags, None, sig.policy_params, defines=table)
    bind_params(scope, sig)
    check_condition(scope, sig.node.body)


def calls(node: ast.Define, table: Mapping[str, DefineSig]) -> list[ast.Call]:
    return [n for n in ast.walk(node.body) if isinstance(n, ast.Call) and n.function.text in table]


def _report_cycles(new: list[ast.Define], table: Mapping[str, DefineSig], diags: Collector) -> None:
    """A define that calls itself, directly or through others, would never end."""
    callees: dict[str, list[str]] = {}  # each define's calls, found once: a chain of n
    # defines is searched from each of them, and walking the bodies each time was n²

    def called(name: str) -> list[str]:
        if name not in callees:
            callees[name] = [c.function.text for c in calls(table[name].node, table)]
        return callees[name]

    for node in new:
        stack = [(c.function.text, c) for c in calls(node, table)]
        seen: set[str] = set()
        while stack:
            name, call = stack.pop()
            if name == node.name.text:
                diags.error(
                    "PE111",
                    f"`{name}` calls itself",
                    call.span,
                    "a define cannot call itself, directly or through another",
                )
                break
            if name in seen:
                continue
            seen.add(name)
            stack.extend((callee, call) for callee in called(name))
