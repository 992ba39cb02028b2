"""Rules over a store: one outcome per (rule, resource), or per (rule, edge) for a
sentence, in snapshot order then policy order; and the re-run of one outcome with
recording on, for its proof."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, Protocol, TypeVar, assert_never

from policyengine.core import model, plan
from policyengine.inputs import origins
from policyengine.inputs.resources import Edge, Resource
from policyengine.inputs.store import Store
from policyengine.runtime.evaluator import Evaluator, Frame, Pending
from policyengine.runtime.gaps import is_gap, with_gaps
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
from policyengine.runtime.shown import bare, dangling, follow, incomplete, show

# ---------------------------------------------------------------- the rule driver

Env = list[Any]
U = TypeVar("U")  # what the evaluator deciding a condition uses for "undecided"
Check = Callable[[Env, Store], "bool | U"]  # a condition, decided in one environment
Decide = Callable[[Env], tuple[Status, str]]  # an outcome, decided in one environment
Runner = Callable[[Resource, list[Result]], None]  # appends one subject's outcomes
Subject = Callable[[Resource], tuple[Status, str]]  # an outcome, decided of its subject
Pair = Callable[[Resource, Resource], tuple[Status, str]]  # of an edge's (source, target)
# A rule over resources of one kind, its passes and skips counted, as its `Runner` would
# run it over each; made for a rule, a kind, its tally and that runner.
Batch = Callable[[Sequence[Resource], list[Result]], None]
MakeBatch = Callable[[plan.RulePlan, str, "Tally", Runner], Batch | None]
# A rule's pass and skipped outcomes counted, not kept, when no output lists them: a
# number per status instead of a `Result` each.
Tally = dict[Status, int]
_PASS: Final = (Status.PASS, "")
_FAIL: Final = (Status.FAIL, "")
_NOT_APPLICABLE: Final = (Status.SKIPPED, "not applicable: its `where` does not hold")
_EXEMPT: Final = (Status.SKIPPED, "exempt: its `unless` holds")


class Steps(Protocol):
    """What counts an outcome's quantifier steps against the limit for one outcome."""

    steps: int


def driver(
    rule: plan.RulePlan,
    store: Store,
    where: Check[U] | None,
    unless: Check[U] | None,
    condition: Check[U],
    undecided: Callable[[Env, U], tuple[Status, str]],
    steps: Steps | None,
) -> Decide:
    """A rule's outcome from its conditions, however they are decided (walked or
    compiled): `where`, then `unless`, then the condition. What a condition could not
    decide goes to `undecided`, which words it or decides it again. `steps`, when given,
    starts each outcome from zero steps."""
    checks_id = isinstance(rule.condition, plan.IdFormatOp)
    when_true, when_false = decided_by(rule)
    m = store.model

    if where is None and unless is None and steps is None and not checks_id:
        # The commonest rule: one condition, no quantifier steps to count.
        def decide_alone(env: Env) -> tuple[Status, str]:
            t = condition(env, store)
            if t is True:
                return when_true
            if t is False:
                return when_false
            return undecided(env, t)

        return decide_alone

    if where is None and unless is None:
        # Most rules have neither: the condition alone, in one call per outcome.
        def decide_condition(env: Env) -> tuple[Status, str]:
            if steps is not None:
                steps.steps = 0
            if checks_id:
                settled = id_format_applies(env[0], m)
                if settled is not None:
                    return settled
            t = condition(env, store)
            if t is True:
                return when_true
            if t is False:
                return when_false
            return undecided(env, t)

        return decide_condition

    def decide(env: Env) -> tuple[Status, str]:
        if steps is not None:
            steps.steps = 0
        if where is not None:
            t = where(env, store)
            if t is not True and t is not False:
                return undecided(env, t)
            if not t:
                return _NOT_APPLICABLE
        if unless is not None:
            t = unless(env, store)
            if t is not True and t is not False:
                return undecided(env, t)
            if t:
                return _EXEMPT
        if checks_id:
            settled = id_format_applies(env[0], m)
            if settled is not None:
                return settled
        t = condition(env, store)
        if t is True:
            return when_true
        if t is False:
            return when_false
        return undecided(env, t)

    return decide


def decided_by(rule: plan.RulePlan) -> tuple[tuple[Status, str], tuple[Status, str]]:
    """The outcomes a rule's condition decides: (when it holds, when it does not)."""
    return (_PASS, _FAIL) if rule.mode == "require" else (_FAIL, _PASS)


def id_format_applies(subject: Resource, m: model.Model) -> tuple[Status, str] | None:
    """The outcome of an id-format rule that its subject decides before its id is read:
    a kind without an id format, an id not assigned yet, an id that is a name."""
    identity = m.kinds[subject.kind].identity
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
            return Status.SKIPPED, f"not applicable: its id is a name ({identity.name_when.text})"
    return None


def rank(status: Status) -> int:
    """Which outcome counts when an edge has several candidate targets: the best."""
    match status:
        case Status.PASS:
            return 0
        case Status.SKIPPED:
            return 1
        case Status.ERROR:
            return 2
        case Status.FAIL:
            return 3
        case _:
            assert_never(status)


def new_env(rule: plan.RulePlan, resource: Resource) -> Env:
    """The slots of one evaluation: the subject first (a region's name for `for each
    region`), each `let` waiting to be computed when first read."""
    env: Env = [None] * rule.slots
    env[0] = resource.key if rule.per_region else resource
    for let in rule.lets:
        env[let.slot] = Pending(let)
    return env


def runner(
    rule: plan.RulePlan,
    store: Store,
    decide_one: Decide,
    tally: Tally | None = None,
    *,
    subject: Subject | None = None,
    pair: Pair | None = None,
) -> Runner:
    """A rule over one subject: one outcome, or for a sentence one per edge. With a
    `tally`, a pass or skipped outcome is counted there and no `Result` is made for it.
    `subject` (a rule without lets about resources) and `pair` (a sentence without lets)
    decide an outcome from the resources themselves, without an environment: as
    `decide_one` would, faster (the compiled path gives them for the rules it can)."""
    slots, plain = rule.slots, not rule.lets and not rule.per_region
    fail, error, passed = Status.FAIL, Status.ERROR, Status.PASS

    def keep(
        resource: Resource,
        status: Status,
        reason: str,
        out: list[Result],
        edge: Edge | None = None,
        target: Resource | None = None,
    ) -> None:
        if tally is not None and status is not fail and status is not error:
            tally[status] += 1
        else:
            out.append(Result(rule, resource, status, reason, edge, target))

    if rule.edge is None:
        if not plain:

            def run_one(resource: Resource, out: list[Result]) -> None:
                status, reason = decide_one(new_env(rule, resource))
                keep(resource, status, reason, out)

            return run_one

        if subject is not None:
            decide_subject = subject

            def run_subject(resource: Resource, out: list[Result]) -> None:
                status, reason = decide_subject(resource)
                # `keep`, inline: most outcomes pass, and a call each is most of their cost
                if tally is not None and status is not fail and status is not error:
                    tally[status] += 1
                else:
                    out.append(Result(rule, resource, status, reason))

            return run_subject

        def run_plain(resource: Resource, out: list[Result]) -> None:
            env: Env = [None] * slots  # `new_env` of a rule without lets, inline
            env[0] = resource
            status, reason = decide_one(env)
            # `keep`, inline: most outcomes pass, and a call each is most of their cost
            if tally is not None and status is not fail and status is not error:
                tally[status] += 1
            else:
                out.append(Result(rule, resource, status, reason))

        return run_plain

    relation = rule.edge
    edges_from, incomplete_at = store.edge_index(relation)
    target_kind = store.model.kinds[relation.target]
    public_applies = (
        isinstance(rule.condition, plan.SameLocationOp) and rule.condition.scope == "region"
    )
    no_edge = (Status.SKIPPED, f"not applicable: no `{relation.name}` edge")
    if pair is not None:
        decide_pair = pair
    elif plain:
        rest: Env = [None] * (slots - 2)

        def decide_pair(source: Resource, target: Resource) -> tuple[Status, str]:
            return decide_one([source, target, *rest] if rest else [source, target])

    else:

        def decide_pair(source: Resource, target: Resource) -> tuple[Status, str]:
            env = new_env(rule, source)  # a `let` may read the other end
            env[1] = target
            return decide_one(env)

    def run_edges(resource: Resource, out: list[Result]) -> None:
        index = resource.index
        edges = edges_from.get(index)
        gaps = incomplete_at.get(index)
        if gaps:
            for path, pointer in gaps:
                # An edge may be hidden behind the missing attribute: that cannot pass.
                reason = incomplete(relation, resource, path, pointer, store)
                out.append(Result(rule, resource, Status.ERROR, reason))
            if not edges:
                return
        if not edges:
            if tally is not None:
                tally[no_edge[0]] += 1  # `keep`, inline: a skip
            else:
                out.append(Result(rule, resource, *no_edge))
            return
        for edge in (edges,) if isinstance(edges, Edge) else edges:
            targets = edge.targets
            if public_applies:
                public = _everywhere(target_kind, resource, edge)
                if public is not None:
                    keep(resource, Status.PASS, public, out, edge)
                    continue
            if not targets:
                status, reason = _dangling(relation, edge)
                keep(resource, status, reason, out, edge)
                continue
            if len(targets) == 1:  # most edges: one target, whose outcome counts
                best_target = targets[0]
                best_status, best_reason = decide_pair(resource, best_target)
            else:
                # Several candidates (a name unique per region): the edge holds if one
                # satisfies the rule, so the best outcome counts.
                best_status, best_reason = decide_pair(resource, targets[0])
                best_target = targets[0]
                for target in targets[1:]:
                    if best_status is passed:
                        break  # none ranks before a pass: the first pass counts
                    status, reason = decide_pair(resource, target)
                    if rank(status) < rank(best_status):
                        best_status, best_reason, best_target = status, reason, target
            if tally is not None and best_status is not fail and best_status is not error:
                tally[best_status] += 1  # `keep`, inline: the common case
            else:
                out.append(Result(rule, resource, best_status, best_reason, edge, best_target))

    return run_edges


def _everywhere(target: model.Kind, resource: Resource, edge: Edge) -> str | None:
    """A same-region requirement on a public resource the snapshot does not list in the
    subject's region holds: a public image or command exists in every region. The reason
    of that pass, or None when the edge is judged as listed."""
    region = resource.region
    for t in edge.targets:
        if t.region == region:
            return None  # listed in its region: judged as listed
    if not target.names_public(edge.value):
        return None
    return f"{target.name} `{edge.value}` is public: it exists in every region"


def _dangling(relation: model.Relation, edge: Edge) -> tuple[Status, str]:
    if relation.dangle_reason is None:
        return Status.ERROR, dangling(edge)
    reason = f"{relation.target} `{edge.value}` is not in the snapshot ({relation.dangle_reason})"
    return Status.SKIPPED, reason


def run_all(
    compiled: plan.Plan,
    store: Store,
    make_runner: Callable[[plan.RulePlan, Tally | None], Runner],
    tallies: dict[str, Tally] | None = None,
    make_batch: MakeBatch | None = None,
) -> list[Result]:
    """Every outcome, in snapshot order then policy order, each rule run by the runner
    `make_runner` gives it (built once per rule). With `tallies`, the pass and skipped
    outcomes of each rule about resources are counted in `tallies[rule id]`, not kept;
    a rule run per region keeps all of its outcomes (a gap may replace them). Then a
    rule runs over each kind's resources by the batch `make_batch` gives for that kind,
    where it gives one."""
    made: dict[str, Runner] = {}

    def made_for(rule: plan.RulePlan) -> Runner:
        found = made.get(rule.id)
        if found is None:
            tally = None
            if tallies is not None and not rule.per_region:
                tally = tallies.setdefault(rule.id, dict.fromkeys((Status.PASS, Status.SKIPPED), 0))
            found = made[rule.id] = make_runner(rule, tally)
        return found

    results: list[Result] = []
    if tallies is None:
        runners = {
            kind: tuple(made_for(rule) for rule in rules)
            for kind, rules in compiled.by_kind.items()
        }
        for resource in store.resources:
            for run in runners.get(resource.kind, ()):
                run(resource, results)
    else:
        # Most outcomes are counted: each rule runs over its kind's resources in one
        # loop (one closure over many resources runs faster than a resource's rules in
        # turn: a fifth of the evaluation at 100,000 instances), and the few outcomes
        # kept are put in snapshot order then policy order after.
        position: dict[tuple[str, str], int] = {}
        for kind, rules in compiled.by_kind.items():
            subjects = store.by_kind.get(kind, ())
            for i, rule in enumerate(rules):
                position[kind, rule.id] = i
                run = made_for(rule)
                tally = tallies.get(rule.id)
                batch = None
                if make_batch is not None and tally is not None:
                    batch = make_batch(rule, kind, tally, run)
                if batch is not None:
                    batch(subjects, results)
                    continue
                for resource in subjects:
                    run(resource, results)
        results.sort(key=lambda r: (r.resource.index, position[r.resource.kind, r.rule.id]))
    if compiled.region_rules:
        for region in store.regions():
            for rule in compiled.region_rules:
                made_for(rule)(region, results)
    return with_gaps(compiled, store, results)


# ---------------------------------------------------------------- the interpreter


def interpreted(ev: Evaluator, rule: plan.RulePlan) -> Decide:
    """A rule's outcome in one environment, walking its plan: what cannot be decided
    becomes an `error` that says why."""

    def walk(op: plan.Cond | None) -> Check[Unknown] | None:
        if op is None:
            return None
        return lambda env, store: ev.cond(op, env)

    where, unless, condition = walk(rule.where), walk(rule.unless), walk(rule.condition)
    assert condition is not None
    return driver(rule, ev.store, where, unless, condition, _worded, ev)


def _worded(env: Env, unknown: Unknown) -> tuple[Status, str]:
    return Status.ERROR, unknown.reason


def evaluate_interpreted(
    compiled: plan.Plan, store: Store, tallies: dict[str, Tally] | None = None
) -> list[Result]:
    """Every outcome, in snapshot order then policy order, walking the plan (with
    `tallies`, passes and skips counted: `run_all`). Records no evidence. The compiled
    path (`compiled.evaluate`) gives the same outcomes faster."""
    ev = Evaluator(store, tracing=False)

    def make_runner(rule: plan.RulePlan, tally: Tally | None) -> Runner:
        return runner(rule, store, interpreted(ev, rule), tally)

    return run_all(compiled, store, make_runner, tallies)


def trace(store: Store, result: Result) -> Proof:
    """Re-evaluates one outcome with recording on: the evidence behind it."""
    rule, resource = result.rule, result.resource
    if is_gap(result):  # nothing was evaluated: the data is not there
        fact = Fact("missing", f"{resource.key}: {result.reason}")
        return Proof(result, None, None, None, (fact,), "")
    ev = Evaluator(store, tracing=True)
    env = new_env(rule, resource)
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
    traces = tuple(t for t in parts.values() if t is not None)
    return Proof(
        result,
        parts["where"],
        parts["unless"],
        parts["condition"],
        tuple(edge_facts),
        message,
        _reached(store, result, traces, edge_facts),
    )


def _reached(
    store: Store, result: Result, traces: tuple[Trace, ...], edge_facts: list[Fact]
) -> tuple[Resource, ...]:
    """The resources the facts point into that the result does not name, in the order
    first met: a fact's pointer (`/resources/7/zone`) is a place in the user's files only
    through the resource at that index."""
    named = [result.resource, result.target, *(result.edge.targets if result.edge else ())]
    seen = {r.index for r in named if r is not None}
    out: list[Resource] = []
    for fact in (*edge_facts, *(f for t in traces for f in _facts(t))):
        at = origins.split(fact.pointer)
        if at is None or at[0] in seen:
            continue
        seen.add(at[0])
        found = store.resource_at(at[0])
        if found is not None:
            out.append(found)
    return tuple(out)


def _facts(node: Trace) -> Iterator[Fact]:
    yield from node.facts
    for child in node.children:
        yield from _facts(child)


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
