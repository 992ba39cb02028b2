"""Data the snapshot lacks: a rule that needs a kind a failed call would have listed
cannot be decided where that call failed. Each such (rule, gap) is an `error` naming the
reason ("not collected: DescribeInvocations in cn-hangzhou: Forbidden.RAM"), so that an
export missing an API never reads as compliant."""

from __future__ import annotations

from policyengine.core import plan
from policyengine.inputs.resources import Resource
from policyengine.inputs.snapshot import Gap
from policyengine.inputs.store import Store
from policyengine.runtime.outcomes import Result, Status

EVERY_REGION = "every region"  # the subject of a gap without a region (a global API)


def needs(rule: plan.RulePlan) -> frozenset[str]:
    """The kinds a rule reads: its subjects, the ends of the relations it follows and
    the kinds it looks up by location."""
    kinds = set(rule.kinds)
    if rule.edge is not None:
        kinds |= {rule.edge.source, rule.edge.target}
    ops = [rule.where, rule.condition, rule.unless, *(let.value for let in rule.lets)]
    for op in ops:
        if op is None:
            continue
        for node in plan.walk(op):
            if isinstance(node, plan.RelatedOp):
                kinds |= {node.relation.source, node.relation.target}
            elif isinstance(node, plan.LocatedOp):
                kinds.add(node.kind)
    return frozenset(kinds)


def place(store: Store, gap: Gap) -> Resource:
    """The subject of a gap's outcomes: its region."""
    name = gap.region or EVERY_REGION
    return Resource(-1, "region", name, {"region": name}, gap.region, None, store.file)


def with_gaps(compiled: plan.Plan, store: Store, results: list[Result]) -> list[Result]:
    """The results, with an `error` for every rule that needs data a gap lacks. A rule
    run per region has its outcome for that region (or, for a gap in every region, all
    its outcomes) replaced."""
    if not store.gaps:
        return results
    added: list[Result] = []
    replaced: set[tuple[str, str | None]] = set()  # (rule, region); None: every region
    reads = {rule.id: needs(rule) for rule in compiled.rules}
    for gap in store.gaps:
        subject = place(store, gap)
        for rule in compiled.rules:
            if not reads[rule.id] & set(gap.kinds):
                continue
            added.append(Result(rule, subject, Status.ERROR, gap.reason))
            if rule.per_region:
                replaced.add((rule.id, gap.region))
    kept = [
        r
        for r in results
        if not r.rule.per_region
        or not ({(r.rule.id, r.resource.key), (r.rule.id, None)} & replaced)
    ]
    return kept + added


def is_gap(result: Result) -> bool:
    """Whether an outcome is a gap's: a rule about resources, said of a region."""
    return result.resource.index < 0 and not result.rule.per_region
