"""How each compiled rule evaluates, read off its plan: the work per resource and every
lookup it makes, so the compiler's choices are visible (`policyengine check --cost`).

A rule runs once per resource of its kinds (or once per edge, for a sentence). Every
relation it follows is a lookup in an index the store builds once per snapshot, in both
directions. An op that walks the resources of a kind in a region once per element of a
quantifier around it (`all i in instance located in this: all d in disk located in
this: ...`) is a nested scan, reported with a warning; the `match` below is exhaustive,
so a new op must say which it is. Pure: a function of the plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import assert_never

from policyengine.core import plan


@dataclass(frozen=True)
class Access:
    """One step of a rule's work beyond reading its own resource."""

    how: str  # index | list | nested-scan
    text: str  # in words, for a person
    relation: str = ""  # the relation looked up, for `index`


@dataclass(frozen=True)
class RuleCost:
    rule: str  # POLICY.RULE
    per: str  # what one outcome is evaluated for, in words
    kinds: tuple[str, ...]
    accesses: tuple[Access, ...]
    leaves_out: tuple[str, ...] = ()  # `for each resource`: kinds without what it reads

    @property
    def nested_scan(self) -> bool:
        return any(a.how == "nested-scan" for a in self.accesses)

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "per": self.per,
            "kinds": list(self.kinds),
            "leaves_out": list(self.leaves_out),
            "accesses": [
                {"how": a.how, "text": a.text, "relation": a.relation or None}
                for a in self.accesses
            ],
            "nested_scan": self.nested_scan,
        }


def rule_cost(rule: plan.RulePlan) -> RuleCost:
    accesses: list[Access] = []
    if rule.edge is not None:
        per = f"once per `{rule.edge.name}` edge of a {rule.edge.source}"
        accesses.append(
            Access(
                "index",
                f"edges of `{rule.edge.name}`: hash lookup on the relation's index "
                f"({rule.edge.source} → {rule.edge.target})",
                rule.edge.name,
            )
        )
    elif rule.per_region:
        per = "once per region of the snapshot"
    elif len(rule.kinds) == 1:
        per = f"once per resource of kind {rule.kinds[0]}"
    else:
        per = f"once per resource of the {len(rule.kinds)} kinds that have what it reads"
    found: list[Access] = [a for let in rule.lets for a in _value(let.value)]
    for op in (rule.where, rule.unless, rule.condition):
        if op is not None:
            found.extend(_cond(op))
    for access in found:
        if access not in accesses:
            accesses.append(access)
    return RuleCost(rule.id, per, rule.kinds, tuple(accesses), rule.excluded_kinds)


def plan_cost(compiled: plan.Plan) -> list[RuleCost]:
    return [rule_cost(r) for r in compiled.rules]


def render_text(costs: list[RuleCost]) -> str:
    lines: list[str] = []
    for cost in costs:
        lines.append(f"{cost.rule}: {cost.per}")
        if cost.leaves_out:
            lines.append(f"  leaves out (no such attributes): {', '.join(cost.leaves_out)}")
        if not cost.accesses:
            lines.append("  reads only the resource itself")
        for access in cost.accesses:
            lines.append(f"  {access.how}: {access.text}")
        if cost.nested_scan:
            lines.append("  warning: a nested scan; its time grows with the square of the data")
    scans = sum(c.nested_scan for c in costs)
    indexed = sum(any(a.how == "index" for a in c.accesses) for c in costs)
    lines.append(f"{len(costs)} rules: {indexed} use a relation index, {scans} need a nested scan")
    return "\n".join(lines)


def _cond(op: plan.Cond, inside: str = "") -> Iterator[Access]:
    """The accesses of a condition; `inside`: the quantifier it runs once per element of,
    if any (a scan there is a scan inside a scan)."""
    match op:
        case plan.CompareOp(left=left, right=right) | plan.RangeOp(left=left, right=right):
            yield from _value(left, inside)
            yield from _value(right, inside)
        case plan.MemberOp(item=item, collection=collection):
            yield from _value(item, inside)
            yield from _value(collection, inside)
        case plan.MatchOp(operand=operand) | plan.PresenceOp(operand=operand):
            yield from _value(operand, inside)
        case plan.TruthyOp(operand=operand):
            yield from _value(operand, inside)
        case plan.AllOp(ops=ops) | plan.AnyOp(ops=ops):
            for child in ops:
                yield from _cond(child, inside)
        case plan.NotOp(op=inner):
            yield from _cond(inner, inside)
        case plan.QuantOp(source=source, where=where, body=body, var=var):
            yield from _collection(source, f"{op.quantifier} {var} in", inside)
            per = f"{op.quantifier} {var} in {source.span.text}"
            for part in (where, body):
                if part is not None:
                    yield from _cond(part, per)
        case plan.DefineOp(args=args, body=body):
            for arg in args:
                yield from _value(arg, inside)
            yield from _cond(body, inside)
        case plan.IdFormatOp() | plan.SameLocationOp():
            return
        case _:
            assert_never(op)


def _collection(source: plan.Value, by: str, inside: str = "") -> Iterator[Access]:
    if isinstance(source, plan.Read):
        yield Access("list", f"`{by} {source.text}`: walks a list the resource holds")
    elif isinstance(source, plan.Const):
        yield Access("list", f"`{by} {source.text}`: walks a list the policy holds")
    yield from _value(source, inside)


def _value(value: plan.Value, inside: str = "") -> Iterator[Access]:
    match value:
        case plan.Read() | plan.Const():
            return
        case plan.CallOp(args=args):
            for arg in args:
                yield from _value(arg, inside)
        case plan.RelatedOp(relation=relation, forward=forward):
            direction = (
                f"{relation.source} → {relation.target}"
                if forward
                else f"reverse, {relation.target} → {relation.source}"
            )
            yield Access(
                "index",
                f"`{value.span.text}`: hash lookup on the index of `{relation.name}` ({direction})",
                relation.name,
            )
        case plan.CountOp(source=source, where=where):
            yield from _collection(source, "count over", inside)
            if where is not None:
                yield from _cond(where, f"count over {source.span.text}")
        case plan.LocatedOp(kind=kind) if inside:
            # Looked up once per element of the quantifier around it, and walked: the
            # work grows with both (nested, with a third, the cube).
            yield Access(
                "nested-scan",
                f"`{value.span.text}`: the {kind}s of a region, walked once per element of "
                f"`{inside}`",
                f"{kind} by region",
            )
        case plan.LocatedOp(kind=kind):
            yield Access(
                "index",
                f"`{value.span.text}`: hash lookup on the index of {kind}s by region",
                f"{kind} by region",
            )
        case _:
            assert_never(value)
