"""The fast path: a plan compiled once more, into closures specialised per op.

The plan stays data; this module turns each rule into Python closures that decide an
outcome without recording anything. Every op type has one compiling function in
`_CONDITIONS` or `_VALUES`, so a new op is one entry. A rule that uses an op with no
entry runs on the tracing interpreter instead: `CompiledPlan.fallbacks` names each such
rule and why, and the differential test holds both paths to identical outcomes.

Closures answer true, false or `UNDECIDED`. They do not build the reason an outcome could
not be decided: when a rule meets `UNDECIDED`, that (rule, resource) pair is decided
again by the interpreter, which words the reason. Such pairs are rare (bad data), so the
common case pays nothing for them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from policyengine.core import model, plan
from policyengine.core.builtins import BUILTINS, Undecided
from policyengine.inputs.store import Resource, Store
from policyengine.runtime.evaluator import Evaluator
from policyengine.runtime.outcomes import ABSENT, MISSING, PARENT, Missing, Result, Status
from policyengine.runtime.rules import RANK, decide, evaluate_interpreted, run_rule


class _Undecided:
    """A part of a condition the data cannot decide; the interpreter says why."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNDECIDED"


UNDECIDED: Final = _Undecided()

Env = list[Any]
ValueFn = Callable[[Env, Store], Any]  # a value, a `Missing` member, or UNDECIDED
CondFn = Callable[[Env, Store], Any]  # True, False or UNDECIDED
Decision = tuple[Status, str] | None  # None: undecided, ask the interpreter
Runner = Callable[[Resource, list[Result]], None]


class Unsupported(Exception):
    """An op the compiled path does not handle; its rule runs on the interpreter."""


# ---------------------------------------------------------------- values


def _const(op: plan.Const) -> ValueFn:
    value = op.value
    return lambda env, store: value


def _read(op: plan.Read) -> ValueFn:
    if any(step.op not in ("attr", "key") for step in op.steps) or op.plural:
        raise Unsupported(f"the path `{op.text}` goes through a list or a bound key")
    if any(step.api for step in op.steps):
        raise Unsupported(f"the path `{op.text}` reads an attribute an export may lack")
    slot = op.slot
    if not op.steps:
        return lambda env, store: env[slot]
    # What a missing step reads as: an ordinary absence where the model allows it, else
    # ABSENT for the last step and PARENT for a step under which more was to be read.
    last = len(op.steps) - 1
    keys = tuple(step.name for step in op.steps)
    gone = tuple(
        MISSING if step.optional else ABSENT if i == last else PARENT
        for i, step in enumerate(op.steps)
    )
    first = keys[0]
    located = first in ("region", "zone")  # from the resource: the table may supply it
    if len(keys) == 1:
        absent = gone[0]
        if located:

            def read_located(env: Env, store: Store) -> Any:
                value = getattr(env[slot], first)
                return absent if value is None else value

            return read_located

        def read_one(env: Env, store: Store) -> Any:
            value = env[slot].data.get(first)
            return absent if value is None else value

        return read_one

    def read_path(env: Env, store: Store) -> Any:
        start = env[slot]
        current = getattr(start, first) if located else start.data.get(first)
        if current is None:
            return gone[0]
        for i in range(1, len(keys)):
            current = current.get(keys[i]) if isinstance(current, dict) else None
            if current is None:
                return gone[i]
        return current

    return read_path


def _call(op: plan.CallOp) -> ValueFn:
    args = tuple(_value(a) for a in op.args)
    impl = BUILTINS[op.function].impl

    def call(env: Env, store: Store) -> Any:
        values = []
        for arg in args:
            v = arg(env, store)
            if v is UNDECIDED or v is MISSING:
                return v  # an absent optional value stays an ordinary absence
            if isinstance(v, Missing):
                return UNDECIDED
            values.append(v)
        out = impl(values, store)
        return UNDECIDED if isinstance(out, Undecided) else out

    return call


_VALUES: dict[type, Callable[[Any], ValueFn]] = {
    plan.Const: _const,
    plan.Read: _read,
    plan.CallOp: _call,
}


def _value(op: plan.Value) -> ValueFn:
    compile_value = _VALUES.get(type(op))
    if compile_value is None:
        raise Unsupported(f"no compiled form of {type(op).__name__}")
    return compile_value(op)


def _operand(op: plan.Value) -> ValueFn:
    """A value a comparison uses: a missing non-optional value is undecided."""
    value = _value(op)

    def operand(env: Env, store: Store) -> Any:
        v = value(env, store)
        return UNDECIDED if v is ABSENT or v is PARENT else v

    return operand


# ---------------------------------------------------------------- conditions

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(op: plan.CompareOp) -> CondFn:
    left, right, test = _operand(op.left), _operand(op.right), _COMPARE[op.op]

    def compare(env: Env, store: Store) -> Any:
        lv, rv = left(env, store), right(env, store)
        if lv is UNDECIDED or rv is UNDECIDED:
            return UNDECIDED
        if lv is MISSING or rv is MISSING:
            return False  # only optional values get here
        return bool(test(lv, rv))

    return compare


def _member(op: plan.MemberOp) -> CondFn:
    item, collection, negated = _operand(op.item), _operand(op.collection), op.negated

    def member(env: Env, store: Store) -> Any:
        iv, cv = item(env, store), collection(env, store)
        if iv is UNDECIDED or cv is UNDECIDED:
            return UNDECIDED
        if iv is MISSING or cv is MISSING:
            return False
        return (iv in cv) != negated

    return member


def _match(op: plan.MatchOp) -> CondFn:
    operand, fullmatch = _operand(op.operand), op.regex.fullmatch

    def match(env: Env, store: Store) -> Any:
        v = operand(env, store)
        if v is UNDECIDED:
            return v
        if v is MISSING:
            return False
        return fullmatch(v) is not None

    return match


def _id_format(op: plan.IdFormatOp) -> CondFn:
    slot = op.slot

    def id_format(env: Env, store: Store) -> Any:
        return id_matches(env[slot], store.model)

    return id_format


def _presence(op: plan.PresenceOp) -> CondFn:
    value, test, negated = _value(op.operand), op.test, op.negated

    def presence(env: Env, store: Store) -> Any:
        v = value(env, store)
        if v is UNDECIDED or v is PARENT:
            return UNDECIDED
        missing = isinstance(v, Missing)
        empty = not missing and v in ("", [], {})
        if test == "present":
            result = not missing
        elif test == "missing":
            result = missing
        elif test == "set":
            result = not missing and not empty
        else:
            result = empty
        return result != negated

    return presence


def _truthy(op: plan.TruthyOp) -> CondFn:
    operand = _operand(op.operand)

    def truthy(env: Env, store: Store) -> Any:
        v = operand(env, store)
        if v is UNDECIDED:
            return v
        if v is MISSING:
            return False
        return v if isinstance(v, bool) else UNDECIDED

    return truthy


def _junction(parts: tuple[CondFn, ...], decided_by: bool) -> CondFn:
    """`and` (decided by a false part) or `or` (by a true one), in Kleene logic."""

    def junction(env: Env, store: Store) -> Any:
        undecided = False
        for part in parts:
            t = part(env, store)
            if t is decided_by:
                return decided_by
            if t is UNDECIDED:
                undecided = True
        return UNDECIDED if undecided else not decided_by

    return junction


def _all(op: plan.AllOp) -> CondFn:
    return _junction(tuple(map(_cond, op.ops)), decided_by=False)


def _any(op: plan.AnyOp) -> CondFn:
    return _junction(tuple(map(_cond, op.ops)), decided_by=True)


def _not(op: plan.NotOp) -> CondFn:
    inner = _cond(op.op)

    def negation(env: Env, store: Store) -> Any:
        t = inner(env, store)
        return t if t is UNDECIDED else not t

    return negation


def _same_location(op: plan.SameLocationOp) -> CondFn:
    scope, left, right = op.scope, op.left, op.right

    def same(env: Env, store: Store) -> Any:
        lv, rv = getattr(env[left], scope), getattr(env[right], scope)
        if lv is None or rv is None:
            return UNDECIDED
        return lv == rv

    return same


_CONDITIONS: dict[type, Callable[[Any], CondFn]] = {
    plan.CompareOp: _compare,
    plan.MemberOp: _member,
    plan.MatchOp: _match,
    plan.IdFormatOp: _id_format,
    plan.PresenceOp: _presence,
    plan.TruthyOp: _truthy,
    plan.AllOp: _all,
    plan.AnyOp: _any,
    plan.NotOp: _not,
    plan.SameLocationOp: _same_location,
}


def _cond(op: plan.Cond) -> CondFn:
    compile_cond = _CONDITIONS.get(type(op))
    if compile_cond is None:
        raise Unsupported(f"no compiled form of {type(op).__name__}")
    return compile_cond(op)


def id_matches(resource: Resource, m: model.Model) -> bool:
    """Whether a resource's id has its kind's format (the interpreter's `id_format`)."""
    identity = m.kinds[resource.kind].identity
    if not isinstance(identity, model.IdFormat):
        return True
    if identity.name_when is not None and identity.name_when.holds(resource.data):
        return True
    key = resource.key
    tail = key[len(identity.prefix) :]
    return (
        key.startswith(identity.prefix)
        and tail.isascii()
        and tail.isalnum()
        and tail == tail.lower()
        and (identity.length is None or len(tail) == identity.length)
    )


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class CompiledRule:
    rule: plan.RulePlan
    decide: Callable[[Env, Store], Decision]


def _compile_rule(rule: plan.RulePlan) -> CompiledRule:
    if rule.lets or rule.per_region:
        raise Unsupported("a `let` or `for each region` rule")
    where = None if rule.where is None else _cond(rule.where)
    unless = None if rule.unless is None else _cond(rule.unless)
    condition = _cond(rule.condition)
    require = rule.mode == "require"
    checks_id = isinstance(rule.condition, plan.IdFormatOp)

    def decide_fast(env: Env, store: Store) -> Decision:
        if where is not None:
            t = where(env, store)
            if t is UNDECIDED:
                return None
            if not t:
                return Status.SKIPPED, "not applicable: its `where` does not hold"
        if unless is not None:
            t = unless(env, store)
            if t is UNDECIDED:
                return None
            if t:
                return Status.SKIPPED, "exempt: its `unless` holds"
        if checks_id:
            identity = store.model.kinds[env[0].kind].identity
            if not isinstance(identity, model.IdFormat) or identity.name_when is not None:
                return None  # skipped or guarded by a name: the interpreter words it
        t = condition(env, store)
        if t is UNDECIDED:
            return None
        return (Status.PASS, "") if t == require else (Status.FAIL, "")

    return CompiledRule(rule, decide_fast)


@dataclass(frozen=True)
class CompiledPlan:
    plan: plan.Plan
    rules: dict[str, CompiledRule]  # by rule id; a rule that falls back is absent
    fallbacks: tuple[tuple[str, str], ...]  # (rule id, why) for rules the interpreter runs


def compile_plan(compiled: plan.Plan) -> CompiledPlan:
    rules: dict[str, CompiledRule] = {}
    fallbacks: list[tuple[str, str]] = []
    for rule in compiled.rules:
        try:
            rules[rule.id] = _compile_rule(rule)
        except Unsupported as exc:
            fallbacks.append((rule.id, str(exc)))
    return CompiledPlan(compiled, rules, tuple(fallbacks))


def _runner(compiled: CompiledRule | None, rule: plan.RulePlan, store: Store) -> Runner:
    ev = Evaluator(store, tracing=False)
    if compiled is None:
        return lambda resource, out: out.extend(run_rule(ev, rule, resource))
    decide_fast, slots = compiled.decide, rule.slots

    def decision(env: Env) -> tuple[Status, str]:
        found = decide_fast(env, store)
        return decide(ev, rule, env) if found is None else found

    if rule.edge is None:

        def run_one(resource: Resource, out: list[Result]) -> None:
            env: Env = [None] * slots
            env[0] = resource
            status, reason = decision(env)
            out.append(Result(rule, resource, status, reason))

        return run_one

    edges_from, incomplete = store.edge_index(rule.edge)

    def run_edges(resource: Resource, out: list[Result]) -> None:
        index = resource.index
        if index in incomplete:
            out.extend(run_rule(ev, rule, resource))  # data missing: the interpreter's words
            return
        edges = edges_from.get(index)
        if not edges:
            out.append(Result(rule, resource, Status.SKIPPED, _no_edge(rule)))
            return
        env: Env = [None] * slots
        env[0] = resource
        for edge in edges:
            targets = edge.targets
            if not targets:  # dangling: rare, and worded by the interpreter
                out.extend(r for r in run_rule(ev, rule, resource) if r.edge is edge)
                continue
            env[1] = target = targets[0]
            status, reason = decision(env)
            # Several candidates (a name unique per region): the best outcome counts.
            for other in targets[1:]:
                env[1] = other
                found = decision(env)
                if RANK[found[0]] < RANK[status]:
                    (status, reason), target = found, other
            out.append(Result(rule, resource, status, reason, edge, target))

    return run_edges


def _no_edge(rule: plan.RulePlan) -> str:
    assert rule.edge is not None
    return f"not applicable: no `{rule.edge.name}` edge"


def evaluate(compiled: plan.Plan, store: Store) -> list[Result]:
    """Every outcome, in snapshot order then policy order, on the fast path. Records no
    evidence; `trace` re-runs one outcome for its proof."""
    if store.has_unknowns:
        # Values a Terraform plan knows only after apply: the interpreter turns each one
        # it reads into an `error` naming the address; the closures do not look for them.
        return evaluate_interpreted(compiled, store)
    fast = compile_plan(compiled)
    runners: dict[str, tuple[Runner, ...]] = {}
    made: dict[str, Runner] = {}
    for kind, rules in compiled.by_kind.items():
        for rule in rules:
            if rule.id not in made:
                made[rule.id] = _runner(fast.rules.get(rule.id), rule, store)
        runners[kind] = tuple(made[rule.id] for rule in rules)
    results: list[Result] = []
    for resource in store.resources:
        for run in runners[resource.kind]:
            run(resource, results)
    if compiled.region_rules:
        ev = Evaluator(store, tracing=False)
        for region in store.regions():
            for rule in compiled.region_rules:
                results.extend(run_rule(ev, rule, region))
    return results
