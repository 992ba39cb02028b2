"""Both evaluators over one plan and one store: the compiled fast path and the plan
interpreter must give identical outcomes, reasons included. Tests that evaluate go
through `evaluate_both`, so every semantics table is also a differential test."""

from __future__ import annotations

from policyengine.core import plan
from policyengine.inputs.store import Store
from policyengine.runtime import Result, evaluate, evaluate_interpreted

Key = tuple[str, int, str, str, str | None, str | None, int | None]


def outcome_key(result: Result) -> Key:
    edge = result.edge
    return (
        result.rule.id,
        result.resource.index,
        str(result.status),
        result.reason,
        None if edge is None else edge.value,
        None if edge is None else edge.pointer,
        None if result.target is None else result.target.index,
    )


def evaluate_both(compiled: plan.Plan, store: Store) -> list[Result]:
    fast = evaluate(compiled, store)
    walked = evaluate_interpreted(compiled, store)
    assert [outcome_key(r) for r in fast] == [outcome_key(r) for r in walked]
    return fast
