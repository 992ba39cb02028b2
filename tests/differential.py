"""Both evaluators over one plan and one store: the compiled fast path and the plan
interpreter must give identical outcomes, reasons included, whether passes and skips are
kept or counted. Tests that evaluate go through `evaluate_both`, so every semantics table
is also a differential test."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from policyengine.core import plan
from policyengine.inputs.store import Store
from policyengine.runtime import Result, Status, Tally, evaluate, evaluate_interpreted

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
    for counting in (evaluate, evaluate_interpreted):
        _counted_alike(fast, counting, compiled, store)
    return fast


Evaluate = Callable[[plan.Plan, Store, dict[str, Tally] | None], list[Result]]


def _counted_alike(
    every: list[Result], counting: Evaluate, compiled: plan.Plan, store: Store
) -> None:
    """With passes and skips counted, the outcomes kept are the fails and errors (and
    every outcome of a rule run per region) of the full list, in its order, and the
    counts are those of the outcomes left out."""
    tallies: dict[str, Tally] = {}
    kept = counting(compiled, store, tallies)

    def counted(r: Result) -> bool:
        return not r.rule.per_region and r.status in (Status.PASS, Status.SKIPPED)

    assert [outcome_key(r) for r in kept] == [outcome_key(r) for r in every if not counted(r)]
    left_out = Counter((r.rule.id, r.status) for r in every if counted(r))
    found = Counter({(rule, s): n for rule, t in tallies.items() for s, n in t.items() if n})
    assert found == left_out
