"""The compiled form of policies: frozen ops with spans, rules indexed by subject kind.

Smaller and more resolved than the syntax tree: names are slots, params are constants,
regexes are compiled, relations are looked up. The interpreter runs from a plan alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, cast, get_args

from policyengine.core import model
from policyengine.core.semantics import (
    Containment,
    Enforcement,
    Op,
    Presence,
    Quantifier,
    RangeKind,
    Severity,
)
from policyengine.core.source import Span

# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Step:
    op: Literal["attr", "key", "var", "star", "index"]
    name: str = ""
    slot: int = -1
    optional: bool = False  # absent here is an ordinary value; elsewhere it is an error
    api: str = ""  # `from "DescribeX"`: absent here means the export lacks that API


@dataclass(frozen=True)
class Read:
    """A path from a bound slot: `disk.zone`, `r.port_range`, `tags["env"]`."""

    slot: int
    steps: tuple[Step, ...]
    plural: bool  # went through `[*]`: the value is a list
    type: model.Type
    text: str  # as written
    span: Span


@dataclass(frozen=True)
class Const:
    value: Any
    text: str  # as written, or the param's name
    span: Span


@dataclass(frozen=True)
class CallOp:
    function: str
    args: tuple[Value, ...]
    span: Span


@dataclass(frozen=True)
class RelatedOp:
    """The resources reached from the resource in `slot` by `relation`."""

    relation: model.Relation
    slot: int
    forward: bool  # from the relation's source (`this use image`) or its target
    span: Span


@dataclass(frozen=True)
class LocatedOp:
    """`instance located in this`: the resources of `kind` in the region `place` holds."""

    kind: str
    place: Value
    span: Span


@dataclass(frozen=True)
class CountOp:
    slot: int  # where each element is bound while `where` runs; -1 when there is none
    source: Value
    where: Cond | None
    span: Span


Value = Read | Const | CallOp | RelatedOp | CountOp | LocatedOp

# ---------------------------------------------------------------- conditions


@dataclass(frozen=True)
class CompareOp:
    op: Op
    left: Value
    right: Value
    span: Span


@dataclass(frozen=True)
class MemberOp:
    item: Value
    collection: Value
    negated: bool
    span: Span


@dataclass(frozen=True)
class MatchOp:
    operand: Value
    pattern: str
    regex: Any = field(compare=False)  # compiled once, at compile time
    span: Span = field(compare=False)


@dataclass(frozen=True)
class IdFormatOp:
    slot: int
    span: Span


@dataclass(frozen=True)
class RangeOp:
    op: Containment
    kind: RangeKind
    left: Value
    right: Value
    span: Span


@dataclass(frozen=True)
class PresenceOp:
    operand: Value
    test: Presence
    negated: bool
    span: Span


@dataclass(frozen=True)
class TruthyOp:
    operand: Value
    span: Span


@dataclass(frozen=True)
class AllOp:
    ops: tuple[Cond, ...]
    span: Span


@dataclass(frozen=True)
class AnyOp:
    ops: tuple[Cond, ...]
    span: Span


@dataclass(frozen=True)
class NotOp:
    op: Cond
    span: Span


@dataclass(frozen=True)
class QuantOp:
    quantifier: Quantifier
    slot: int
    var: str
    source: Value
    where: Cond | None
    body: Cond
    span: Span


@dataclass(frozen=True)
class DefineOp:
    """A call of a `define`: each argument bound to its parameter's slot, then the body."""

    name: str
    args: tuple[Value, ...]
    slots: tuple[int, ...]  # one per parameter, in order
    body: Cond
    span: Span  # the call, as written in the rule


@dataclass(frozen=True)
class SameLocationOp:
    scope: Literal["zone", "region"]
    left: int  # slot of the subject
    right: int  # slot of the edge's other end
    span: Span


Cond = (
    CompareOp
    | MemberOp
    | MatchOp
    | IdFormatOp
    | RangeOp
    | PresenceOp
    | TruthyOp
    | AllOp
    | AnyOp
    | NotOp
    | QuantOp
    | SameLocationOp
    | DefineOp
)

# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class MessagePart:
    text: str  # literal text before the placeholder
    value: Read | Const | None  # the placeholder, or None at the end
    witness: str = ""  # a quantifier's variable: filled from the deciding element


@dataclass(frozen=True)
class LetOp:
    """`let NAME = VALUE`: computed when first read, once per subject."""

    slot: int
    name: str
    value: Value
    span: Span


@dataclass(frozen=True)
class RulePlan:
    id: str  # POLICY.RULE
    policy: str
    name: str
    title: str
    severity: Severity
    enforcement: Enforcement
    remediation: str
    reference: str
    kinds: tuple[str, ...]  # subject kinds
    excluded_kinds: tuple[str, ...]  # `for each resource`: kinds lacking what it reads
    edge: model.Relation | None  # a sentence: one outcome per edge
    where: Cond | None
    mode: Literal["require", "forbid"]
    condition: Cond
    unless: Cond | None
    message: tuple[MessagePart, ...]
    sentence: str  # the sentence as written, or "" for a core rule
    slots: int  # how many slots an evaluation needs
    span: Span  # the statement
    name_span: Span
    lets: tuple[LetOp, ...] = ()
    tags: tuple[str, ...] = ()  # the rule's and its policy's `tags`
    per_region: bool = False  # `for each region`: one outcome per region of the snapshot


@dataclass(frozen=True)
class Plan:
    model: model.Model
    rules: tuple[RulePlan, ...]
    # Built at compile time: a resource only meets the rules for its kind.
    by_kind: Mapping[str, tuple[RulePlan, ...]]
    region_rules: tuple[RulePlan, ...] = ()  # `for each region`, run once per region

    def rule(self, rule_id: str) -> RulePlan | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def index_by_kind(m: model.Model, rules: tuple[RulePlan, ...]) -> Plan:
    by_kind: dict[str, list[RulePlan]] = {k: [] for k in m.kinds}
    for rule in rules:
        for kind in rule.kinds:
            by_kind[kind].append(rule)
    region_rules = tuple(r for r in rules if r.per_region)
    return Plan(m, rules, {k: tuple(v) for k, v in by_kind.items()}, region_rules)


def dump(plan: Plan) -> str:
    """A readable listing of the plan, for golden tests of the compiler."""
    lines: list[str] = []
    for rule in plan.rules:
        subject = "regions" if rule.per_region else ", ".join(rule.kinds)
        level = "" if rule.enforcement is Enforcement.MANDATORY else f" ({rule.enforcement})"
        lines.append(f"rule {rule.id} [{rule.severity}]{level} over {subject}")
        if rule.edge is not None:
            lines.append(f"  each edge: {rule.edge.name}")
        for let in rule.lets:
            lines.append(f"  let ${let.slot} {let.name} = {_value(let.value)}")
        if rule.where is not None:
            lines.append(f"  where {_op(rule.where)}")
        lines.append(f"  {rule.mode} {_op(rule.condition)}")
        if rule.unless is not None:
            lines.append(f"  unless {_op(rule.unless)}")
    return "\n".join(lines)


def _value(v: Value) -> str:
    match v:
        case Read(slot=slot, steps=steps):
            path = "".join(_step(s) + ("?" if s.optional else "") for s in steps)
            return f"${slot}{path}"
        case Const(value=value):
            return repr(value)
        case CallOp(function=function, args=args):
            return f"{function}({', '.join(map(_value, args))})"
        case RelatedOp(relation=relation, slot=slot, forward=forward):
            return f"{'out' if forward else 'in'}(${slot}, {relation.name})"
        case CountOp(slot=slot, source=source, where=where):
            filt = f" where ${slot}: {_op(where)}" if where is not None else ""
            return f"count({_value(source)}{filt})"
        case LocatedOp(kind=kind, place=place):
            return f"located({kind}, {_value(place)})"


def _step(s: Step) -> str:
    match s.op:
        case "attr":
            return f".{s.name}"
        case "key":
            return f'["{s.name}"]'
        case "var":
            return f"[${s.slot}]"
        case "star":
            return "[*]"
        case "index":
            return f"[{s.name}]"


def _op(op: Cond) -> str:
    match op:
        case CompareOp(op=name, left=left, right=right):
            return f"{_value(left)} {name} {_value(right)}"
        case MemberOp(item=item, collection=coll, negated=negated):
            return f"{_value(item)} {'not in' if negated else 'in'} {_value(coll)}"
        case MatchOp(operand=operand, pattern=pattern):
            return f"{_value(operand)} matches /{pattern}/"
        case IdFormatOp(slot=slot):
            return f"id-format(${slot})"
        case RangeOp(op=name, left=left, right=right, kind=kind):
            return f"{_value(left)} {name}:{kind} {_value(right)}"
        case PresenceOp(operand=operand, test=test, negated=negated):
            return f"{_value(operand)} is {'not ' if negated else ''}{test}"
        case TruthyOp(operand=operand):
            return _value(operand)
        case AllOp(ops=ops):
            return "(" + " and ".join(map(_op, ops)) + ")"
        case AnyOp(ops=ops):
            return "(" + " or ".join(map(_op, ops)) + ")"
        case NotOp(op=inner):
            return f"not {_op(inner)}"
        case QuantOp(quantifier=q, slot=slot, source=source, where=where, body=body):
            filt = f" where {_op(where)}" if where is not None else ""
            return f"({q} ${slot} in {_value(source)}{filt}: {_op(body)})"
        case SameLocationOp(scope=scope, left=left, right=right):
            return f"same {scope}(${left}, ${right})"
        case DefineOp(name=name, args=args, slots=slots, body=body):
            bound = ", ".join(f"${s}={_value(a)}" for s, a in zip(slots, args, strict=True))
            return f"{name}({bound}) = {_op(body)}"


def walk(op: Value | Cond) -> Iterator[Value | Cond]:
    """An op and every op inside it, outermost first. With a stack, not nested
    generators, and each op type's field names found once: every run walks every rule."""
    stack: list[Value | Cond] = [op]
    while stack:
        current = stack.pop()
        yield current
        names = _FIELDS.get(type(current))
        if names is None:
            names = _FIELDS[type(current)] = tuple(f.name for f in fields(current))
        inside: list[Value | Cond] = []
        for name in names:
            child = getattr(current, name)
            for item in child if isinstance(child, tuple) else (child,):
                if isinstance(item, _OPS):
                    inside.append(cast(Value | Cond, item))
        stack.extend(reversed(inside))


_FIELDS: dict[type, tuple[str, ...]] = {}


# Every op type, from the unions above, so that a new op is walked without a change here.
_OPS: tuple[type, ...] = (*get_args(Value), *get_args(Cond))
