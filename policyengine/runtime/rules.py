"""Rules over a store: one outcome per (rule, resource), or per (rule, edge) for a
sentence, in snapshot order then policy order; and the re-run of one outcome with
recording on, for its proof."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policyengine.core import model, plan
from policyengine.inputs.store import Resource, Store
from policyengine.runtime.evaluator import (
    Evaluator,
    Frame,
    Pending,
    bare,
    dangling,
    follow,
    incomplete,
    show,
)
from policyengine.runtime.outcomes import (
    Fact,
    Missing,
    Proof,
    Result,
    Status,
    Trace,
    Truth,
    Unknown,
)

# ---------------------------------------------------------------- rules


def decide(ev: Evaluator, rule: plan.RulePlan, env: list[Any]) -> tuple[Status, str]:
    ev.steps = 0  # the step limit is per outcome
    if rule.where is not None:
        t = ev.cond(rule.where, env)
        if isinstance(t, Unknown):
            return Status.ERROR, t.reason
        if not t:
            return Status.SKIPPED, "not applicable: its `where` does not hold"
    if rule.unless is not None:
        t = ev.cond(rule.unless, env)
        if isinstance(t, Unknown):
            return Status.ERROR, t.reason
        if t:
            return Status.SKIPPED, "exempt: its `unless` holds"
    if isinstance(rule.condition, plan.IdFormatOp):
        subject = env[0]
        identity = ev.store.model.kinds[subject.kind].identity
        if not isinstance(identity, model.IdFormat):
            return Status.SKIPPED, f"not applicable: a {subject.kind} has no id format"
        if subject.id_unknown:
            return Status.SKIPPED, "not applicable: its id is assigned when it is created"
        if identity.name_when is not None:
            lacking = identity.name_when.missing(subject.data)
            if lacking is not None:
                return Status.ERROR, (
                    f"`{lacking}` of {subject.kind} {subject.key} is missing, so whether its "
                    "id has a format cannot be told"
                )
            if identity.name_when.holds(subject.data):
                return Status.SKIPPED, (
                    f"not applicable: its id is a name ({identity.name_when.text})"
                )
    t = ev.cond(rule.condition, env)
    if isinstance(t, Unknown):
        return Status.ERROR, t.reason
    holds = t if rule.mode == "require" else not t
    return (Status.PASS, "") if holds else (Status.FAIL, "")


RANK = {Status.PASS: 0, Status.SKIPPED: 1, Status.ERROR: 2, Status.FAIL: 3}


def _env(rule: plan.RulePlan, resource: Resource) -> list[Any]:
    """The slots of one evaluation: the subject first (a region's name for `for each
    region`), each `let` waiting to be computed when first read."""
    env: list[Any] = [None] * rule.slots
    env[0] = resource.key if rule.per_region else resource
    for let in rule.lets:
        env[let.slot] = Pending(let)
    return env


def run_rule(ev: Evaluator, rule: plan.RulePlan, resource: Resource) -> Iterator[Result]:
    env = _env(rule, resource)
    if rule.edge is None:
        status, reason = decide(ev, rule, env)
        yield Result(rule, resource, status, reason)
        return
    edges = ev.store.edges_from(rule.edge, resource)
    for path, pointer in ev.store.incomplete(rule.edge, resource):
        # An edge may be hidden behind the missing attribute: that cannot be a pass.
        reason = incomplete(rule.edge, resource, path, pointer, ev.store)
        yield Result(rule, resource, Status.ERROR, reason)
    if ev.store.incomplete(rule.edge, resource) and not edges:
        return
    if not edges:
        yield Result(rule, resource, Status.SKIPPED, f"not applicable: no `{rule.edge.name}` edge")
        return
    for edge in edges:
        if not edge.targets:
            if rule.edge.dangle_reason is not None:
                yield Result(
                    rule,
                    resource,
                    Status.SKIPPED,
                    f"{rule.edge.target} `{edge.value}` is not in the snapshot "
                    f"({rule.edge.dangle_reason})",
                    edge,
                )
            else:
                yield Result(rule, resource, Status.ERROR, dangling(edge), edge)
            continue
        # Several candidates (a name unique per region): the edge holds if one satisfies it.
        best: tuple[Status, str, Resource] | None = None
        for target in edge.targets:
            env = _env(rule, resource)  # a `let` may read the edge's other end
            env[1] = target
            status, reason = decide(ev, rule, env)
            if best is None or RANK[status] < RANK[best[0]]:
                best = (status, reason, target)
        assert best is not None
        yield Result(rule, resource, best[0], best[1], edge, best[2])


def evaluate_interpreted(compiled: plan.Plan, store: Store) -> list[Result]:
    """Every outcome, in snapshot order then policy order, walking the plan. Records no
    evidence. The compiled path (`compiled.evaluate`) gives the same outcomes faster."""
    ev = Evaluator(store, tracing=False)
    results: list[Result] = []
    for resource in store.resources:
        for rule in compiled.by_kind.get(resource.kind, ()):
            results.extend(run_rule(ev, rule, resource))
    if compiled.region_rules:
        for region in store.regions():
            for rule in compiled.region_rules:
                results.extend(run_rule(ev, rule, region))
    return results


def trace(store: Store, result: Result) -> Proof:
    """Re-evaluates one outcome with recording on: the evidence behind it."""
    rule, resource = result.rule, result.resource
    ev = Evaluator(store, tracing=True)
    env = _env(rule, resource)
    edge_facts: list[Fact] = []
    if result.edge is not None:
        if result.target is not None:
            env[1] = result.target
            edge_facts.append(
                Fact(
                    "follow",
                    follow(result.edge, result.target),
                    result.edge.pointer,
                    result.edge.value,
                    f"{resource.kind} {resource.key}",
                )
            )
            if len(result.edge.targets) > 1:
                listed = ", ".join(f"{t.key} in {t.region}" for t in result.edge.targets)
                edge_facts.append(
                    Fact(
                        "candidates",
                        f"`{result.edge.value}` names {len(result.edge.targets)} "
                        f"{result.edge.relation.target}s ({listed}); the edge holds if one "
                        "satisfies the rule",
                        result.edge.pointer,
                    )
                )
        else:
            edge_facts.append(
                Fact("dangling", dangling(result.edge), result.edge.pointer, result.edge.value)
            )
    parts: dict[str, Trace | None] = {"where": None, "unless": None, "condition": None}
    if rule.edge is None or result.target is not None:  # an edge with nothing to compare
        for name, op in (
            ("where", rule.where),
            ("unless", rule.unless),
            ("condition", rule.condition),
        ):
            if op is None:
                continue
            ev.frame = Frame()
            truth = ev.cond(op, env)
            parts[name] = ev.frame.children[0]
            if name == "where" and truth is not True:
                break
            if name == "unless" and truth is not False:
                break
    message = render_message(ev, rule, env)
    return Proof(
        result, parts["where"], parts["unless"], parts["condition"], tuple(edge_facts), message
    )


def render_message(ev: Evaluator, rule: plan.RulePlan, env: list[Any]) -> str:
    if not rule.message:
        return ""
    out = []
    for part in rule.message:
        out.append(part.text)
        if part.value is None:
            continue
        if part.witness and isinstance(part.value, plan.Read):
            if part.value.slot not in ev.witness:
                out.append("?")
                continue
            env[part.value.slot] = ev.witness[part.value.slot]
        saved, ev.tracing = ev.tracing, False
        v = bare(ev.value(part.value, env))
        ev.tracing = saved
        out.append(
            "?" if isinstance(v, Missing | Unknown) else v if isinstance(v, str) else show(v)
        )
    return "".join(out)


def decisive(node: Trace) -> Iterator[Trace]:
    """The parts of a trace that decided its truth, root first (jsonschema's best_match).

    `and` that failed and `or` that held are decided by their first such part; the
    others by all of their parts; `not` by its operand.
    """
    yield node
    if node.op == "not":
        kids = list(node.children)
    elif node.op == "quantifier":
        # Decided by its deciding elements; one that none decided (`no x` that holds,
        # `every x` that holds) is decided by the whole list, so the clause is its own.
        kids = [c for c in node.children if c.op == "element"]
        if not kids and isinstance(node.truth, Unknown):
            kids = list(node.children)
    else:
        kids = [c for c in node.children if _same(c.truth, node.truth)]
    if (
        node.op in ("all", "any")
        and isinstance(node.truth, bool)
        and ((node.op == "all") != node.truth)
    ):
        kids = kids[:1]
    if isinstance(node.truth, Unknown):
        kids = kids[:1]
    for child in kids:
        yield from decisive(child)


def _same(a: Truth, b: Truth) -> bool:
    return (
        a == b
        if isinstance(a, bool) and isinstance(b, bool)
        else (isinstance(a, Unknown) and isinstance(b, Unknown))
    )
