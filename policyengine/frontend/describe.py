"""A rule said in sentences, without a snapshot: what it checks, what it reads and
follows, and its metadata. What a reviewer reads before approving a policy."""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass
from typing import Any

from policyengine.core import model, plan


@dataclass(frozen=True)
class RuleDescription:
    id: str
    title: str
    severity: str
    at: str  # file:line:column of the rule
    written: str  # the statement as its author wrote it
    checks: tuple[str, ...]  # what it checks, one sentence each
    applies_to: tuple[str, ...]  # subject kinds
    leaves_out: tuple[str, ...]  # `for each resource`: kinds without what it reads
    reads: tuple[str, ...]  # attributes, as written in the rule
    follows: tuple[str, ...]  # relations
    outcomes: tuple[str, ...]  # when each outcome happens
    remediation: str
    reference: str


def describe_rule(rule: plan.RulePlan) -> RuleDescription:
    # What decides the outcome; a message's placeholders only word it.
    ops = [
        op for root in (rule.where, rule.condition, rule.unless) if root for op in plan.walk(root)
    ]
    reads, follows = _reads(rule)
    return RuleDescription(
        id=rule.id,
        title=rule.title,
        severity=rule.severity,
        at=f"{rule.span.file}:{rule.span.line}:{rule.span.column}",
        written=rule.sentence or textwrap.dedent(" " * (rule.span.column - 1) + rule.span.text),
        checks=tuple(_checks(rule, ops)),
        applies_to=rule.kinds,
        leaves_out=rule.excluded_kinds,
        reads=tuple(reads),
        follows=tuple(follows),
        outcomes=tuple(_outcomes(rule)),
        remediation=rule.remediation,
        reference=rule.reference,
    )


def _reads(rule: plan.RulePlan) -> tuple[list[str], list[str]]:
    """The attributes a rule reads, each as a path from the kind that holds it
    (`security_group.rules[*].port_range`, not the variable `r.port_range`), and the
    relations it follows, in the order the rule reads them."""
    # What each slot holds, as a path: the subject, the edge's other end, and each
    # variable bound to a path (by a quantifier, a `let` or a `define`'s parameter). A
    # variable bound to a param's list or a computed value holds no attribute.
    held: dict[int, str] = {0: rule.kinds[0] if len(rule.kinds) == 1 else "resource"}
    reads: dict[str, None] = {}
    follows: dict[str, None] = {}
    if rule.edge is not None:
        held[1] = rule.edge.target
        follows[_relation(rule.edge)] = None

    def path(value: plan.Value) -> str | None:
        match value:
            case plan.Read(slot=slot, steps=steps) if slot in held:
                return held[slot] + "".join(_step(s) for s in steps)
            case plan.RelatedOp(relation=relation, forward=forward):
                return relation.target if forward else relation.source
            case plan.LocatedOp(kind=kind):
                return kind
        return None

    def bind(slot: int, value: plan.Value, element: bool) -> None:
        found = path(value)
        if found is not None and slot >= 0:
            held[slot] = found + ("[*]" if element and isinstance(value, plan.Read) else "")

    for let in rule.lets:
        bind(let.slot, let.value, element=False)
    roots = (rule.where, rule.condition, rule.unless)
    for op in (op for root in roots if root for op in plan.walk(root)):
        match op:
            case plan.QuantOp(slot=slot, source=source) | plan.CountOp(slot=slot, source=source):
                bind(slot, source, element=True)
            case plan.DefineOp(args=args, slots=slots):
                for arg, slot in zip(args, slots, strict=True):
                    bind(slot, arg, element=False)
            case plan.Read(slot=slot, steps=steps) if steps and slot in held:
                reads[held[slot] + "".join(_step(s) for s in steps)] = None
            case plan.SameLocationOp(scope=scope, left=left, right=right):
                reads[f"{held[left]}.{scope}"] = None
                reads[f"{held[right]}.{scope}"] = None
            case plan.IdFormatOp(slot=slot) if slot in held:
                reads[f"{held[slot]}.id"] = None
            case plan.RelatedOp(relation=relation):
                follows[_relation(relation)] = None
            case _:
                pass
    return list(reads), list(follows)


def _step(step: plan.Step) -> str:
    match step.op:
        case "attr":
            return f".{step.name}"
        case "key":
            return f'["{step.name}"]'
        case "var":
            return f"[{step.name}]"
        case "star":
            return "[*]"
        case "index":
            return f"[{step.name}]"


def _relation(relation: model.Relation) -> str:
    return f"{relation.name} (via {', '.join(p.text for p in relation.paths)})"


def _checks(rule: plan.RulePlan, ops: list[plan.Value | plan.Cond]) -> list[str]:
    out: list[str] = []
    kinds = (
        " or ".join(rule.kinds)
        if len(rule.kinds) <= 3
        else f"resource of the {len(rule.kinds)} kinds that have what it reads"
    )
    if rule.edge is not None:
        rel = rule.edge
        scopes = [op.scope for op in ops if isinstance(op, plan.SameLocationOp)]
        ends = "the two" if rel.source == rel.target else f"the {rel.source} and the {rel.target}"
        what = (
            f"{ends} must be in the same {scopes[0]}"
            if scopes and rule.mode == "require"
            else f"it {rule.mode}s: {_flat(rule.condition)}"
        )
        out.append(f"For each `{rel.name}` edge, {what}.")
    else:
        verb = "requires" if rule.mode == "require" else "forbids"
        out.append(f"For each {kinds}, it {verb}: {_flat(rule.condition)}.")
    if rule.where is not None:
        out.append(f"It applies only where {_flat(rule.where)}.")
    if rule.unless is not None:
        out.append(f"It exempts what satisfies {_flat(rule.unless)}.")
    return out


def _flat(op: plan.Cond) -> str:
    """A condition as written, on one line."""
    return " ".join(op.span.text.split())


def _outcomes(rule: plan.RulePlan) -> list[str]:
    fail = (
        "the requirement does not hold"
        if rule.mode == "require"
        else "the forbidden condition holds"
    )
    out = [f"fail: {fail}", "error: a value it reads is missing, or a reference names nothing"]
    skipped = []
    if rule.edge is not None:
        skipped.append(f"the {rule.edge.source} has no `{rule.edge.verb}` edge")
        if rule.edge.dangle_reason is not None:
            skipped.append(
                f"the {rule.edge.target} is not in the snapshot ({rule.edge.dangle_reason})"
            )
    if rule.where is not None:
        skipped.append("its `where` does not hold")
    if rule.unless is not None:
        skipped.append("its `unless` holds")
    if skipped:
        out.append("skipped: " + "; or ".join(skipped))
    return out


def render_text(d: RuleDescription) -> str:
    lines = [f"{d.id}" + (f" — {d.title}" if d.title else ""), f"  --> {d.at}", ""]
    lines += [f"    {line}" for line in d.written.splitlines()] + [""]
    lines += list(d.checks) + [""]
    rows = [
        ("severity", d.severity),
        ("applies to", ", ".join(d.applies_to)),
        ("leaves out", ", ".join(d.leaves_out) + " (no such attributes)" if d.leaves_out else ""),
        ("reads", ", ".join(d.reads)),
        ("follows", ", ".join(d.follows)),
        ("remediation", d.remediation),
        ("reference", d.reference),
    ]
    lines += [f"{name + ':':<13}{value}" for name, value in rows if value]
    lines += ["outcomes:"] + [f"  {o}" for o in d.outcomes]
    return "\n".join(lines)


def render_markdown(d: RuleDescription, heading: str = "###") -> str:
    """The description as Markdown, under a heading of the level given (`##`)."""
    lines = [f"{heading} `{d.id}`" + (f" — {d.title}" if d.title else ""), ""]
    lines += ["```", d.written, "```", ""]
    lines += [" ".join(d.checks), ""]
    lines += [
        f"- **Severity:** {d.severity}",
        f"- **Applies to:** {', '.join(d.applies_to)}",
    ]
    if d.leaves_out:
        lines.append(f"- **Leaves out** (no such attributes): {', '.join(d.leaves_out)}")
    if d.reads:
        lines.append(f"- **Reads:** {', '.join(f'`{r}`' for r in d.reads)}")
    if d.follows:
        lines.append(f"- **Follows:** {', '.join(f'`{r}`' for r in d.follows)}")
    lines.append("- **Outcomes:** " + "; ".join(d.outcomes))
    if d.remediation:
        lines.append(f"- **Remediation:** {d.remediation}")
    if d.reference:
        lines.append(f"- **Reference:** {d.reference}")
    lines.append(f"- **Defined at:** `{d.at}`")
    return "\n".join(lines)


def to_json(d: RuleDescription) -> dict[str, Any]:
    return asdict(d)
