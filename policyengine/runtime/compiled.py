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

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import compress
from operator import attrgetter, not_
from typing import Any, Final

from policyengine.core import limits, model, plan, semantics
from policyengine.core.builtins import BUILTINS, Undecided
from policyengine.core.recent import Recent
from policyengine.core.semantics import Quantifier
from policyengine.inputs.resources import Edge, Resource
from policyengine.inputs.store import Store
from policyengine.runtime.alike import by_values, read_of_subject
from policyengine.runtime.evaluator import Evaluator
from policyengine.runtime.outcomes import ABSENT, MISSING, PARENT, Missing, Result, Status
from policyengine.runtime.rules import (
    Batch,
    Decide,
    Env,
    Pair,
    Runner,
    Subject,
    Tally,
    decided_by,
    driver,
    evaluate_interpreted,
    interpreted,
    run_all,
    runner,
)
from policyengine.runtime.shown import element_at


class _Undecided:
    """A part of a condition the data cannot decide; the interpreter says why."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNDECIDED"


UNDECIDED: Final = _Undecided()

ValueFn = Callable[[Env, Store], Any]  # a value, a `Missing` member, or UNDECIDED
_EMPTIES: Final[tuple[object, ...]] = ("", [], {})  # as `semantics.is_empty` tests
CondFn = Callable[[Env, Store], Any]  # True, False or UNDECIDED


class Unsupported(Exception):
    """An op the compiled path does not handle; its rule runs on the interpreter."""


# ---------------------------------------------------------------- values


def _const(op: plan.Const) -> ValueFn:
    value = op.value
    return lambda env, store: value


def _read(op: plan.Read, strict: bool = False) -> ValueFn:
    """The value at a path. `strict` (an operand's read): a missing value the model
    requires reads as UNDECIDED at once, as `_operand` would make it."""
    if any(step.op not in ("attr", "key", "var", "index") for step in op.steps) or op.plural:
        raise Unsupported(f"the path `{op.text}` goes through a list")
    slot = op.slot
    carried = _strictly if strict else _as_is  # a slot's missing value, as read
    if not op.steps:
        if strict:
            return lambda env, store: _strictly(env[slot])
        return lambda env, store: env[slot]
    gone = _gone(op)
    if strict:
        gone = tuple(_strictly(g) for g in gone)
    if any(step.op == "index" for step in op.steps):
        if any(step.api for step in op.steps):
            raise Unsupported(f"the path `{op.text}` indexes an attribute an export may lack")
        steps = tuple((s.op, s.slot, s.name) for s in op.steps)
        return _read_indexed(slot, steps, gone, carried)
    if any(step.api for step in op.steps):
        if any(step.op == "var" for step in op.steps):
            raise Unsupported(f"the path `{op.text}` reads an attribute an export may lack")
        return _read_api(slot, tuple((s.name, bool(s.api)) for s in op.steps), gone, carried)
    if all(step.op != "var" for step in op.steps):
        return _read_named(slot, tuple(step.name for step in op.steps), gone, carried)
    # A key bound by a quantifier (`tags[t]`): the key is the element in its slot.
    keys = tuple((step.slot, step.name) for step in op.steps)  # slot -1: a named step
    return _read_bound(slot, keys, gone, carried)


def _gone(op: plan.Read) -> tuple[Any, ...]:
    """What each missing step of a path reads as: an ordinary absence where the model
    allows it, else ABSENT for the last step and PARENT for a step under which more was
    to be read."""
    last = len(op.steps) - 1
    return tuple(
        MISSING if step.optional else ABSENT if i == last else PARENT
        for i, step in enumerate(op.steps)
    )


def _as_is(value: Any) -> Any:
    return value


def _strictly(value: Any) -> Any:
    """A value as an operand takes it: missing though required is UNDECIDED."""
    return UNDECIDED if value is ABSENT or value is PARENT else value


def _read_bound(
    slot: int,
    keys: tuple[tuple[int, str], ...],
    gone: tuple[Any, ...],
    carried: Callable[[Any], Any],
) -> ValueFn:
    """A path with a key bound by a quantifier (`tags[t]`), each key a slot's element or
    a name (slot -1)."""
    first_bound, first_name = keys[0]
    rest = tuple(enumerate(keys))[1:]
    if len(keys) == 2 and first_bound < 0 and first_name not in _LOCATED and keys[1][0] >= 0:
        # `tags[t]`: a map of the resource, then the element's key in it.
        bound, (gone_map, gone_key) = keys[1][0], gone

        def read_keyed(env: Env, store: Store) -> Any:
            start = env[slot]
            if type(start) is Resource:
                current = start.data.get(first_name)
            elif isinstance(start, Missing):
                return carried(start)
            else:
                current = start.get(first_name) if isinstance(start, dict) else None
            if current is None:
                return gone_map
            current = current.get(env[bound]) if isinstance(current, dict) else None
            return gone_key if current is None else current

        return read_keyed

    def read_bound(env: Env, store: Store) -> Any:
        current = env[slot]
        if isinstance(current, Missing):
            return carried(current)
        key = env[first_bound] if first_bound >= 0 else first_name
        if type(current) is Resource:
            current = getattr(current, key) if key in _LOCATED else current.data.get(key)
        else:
            current = current.get(key) if isinstance(current, dict) else None
        if current is None:
            return gone[0]
        for i, (bound, name) in rest:
            key = env[bound] if bound >= 0 else name
            current = current.get(key) if isinstance(current, dict) else None
            if current is None:
                return gone[i]
        return current

    return read_bound


_LOCATED = ("region", "zone")  # read from the resource: the location table may supply it


def _read_indexed(
    slot: int,
    steps: tuple[tuple[str, int, str], ...],
    gone: tuple[Any, ...],
    carried: Callable[[Any], Any],
) -> ValueFn:
    """A path with `[i]` steps (`parts[1]`): the element, counted from the end for a
    negative index; a list too short, or no list, reads as absent, as in the
    interpreter."""

    def read_indexed(env: Env, store: Store) -> Any:
        current = env[slot]
        if isinstance(current, Missing):
            return carried(current)
        for i, (op, bound, name) in enumerate(steps):
            if type(current) is Resource:
                if op == "attr" and name in _LOCATED:
                    current = getattr(current, name)
                    if current is None:
                        return gone[i]
                    continue
                current = current.data
            if op == "index":
                current = element_at(current, int(name))
            elif isinstance(current, dict):
                current = current.get(env[bound] if op == "var" else name)
            else:
                current = None
            if current is None:
                return gone[i]
        return current

    return read_indexed


def _read_named(
    slot: int, keys: tuple[str, ...], gone: tuple[Any, ...], carried: Callable[[Any], Any]
) -> ValueFn:
    """A path of attribute names from a slot holding a resource, or an element of a list
    a quantifier walks (a plain value)."""
    first = keys[0]
    located = first in _LOCATED
    if len(keys) == 1:
        absent = gone[0]
        if located:

            def read_located(env: Env, store: Store) -> Any:
                start = env[slot]
                if type(start) is Resource:
                    value = getattr(start, first)
                elif isinstance(start, Missing):
                    return carried(start)
                else:
                    value = start.get(first) if isinstance(start, dict) else None
                return absent if value is None else value

            return read_located

        def read_one(env: Env, store: Store) -> Any:
            start = env[slot]
            if type(start) is Resource:
                value = start.data.get(first)
            elif isinstance(start, Missing):
                return carried(start)  # an absent value passed to a `define`: it stays absent
            else:
                value = start.get(first) if isinstance(start, dict) else None
            return absent if value is None else value

        return read_one

    def read_path(env: Env, store: Store) -> Any:
        start = env[slot]
        if type(start) is Resource:
            current = getattr(start, first) if located else start.data.get(first)
        elif isinstance(start, Missing):
            return carried(start)
        else:
            current = start.get(first) if isinstance(start, dict) else None
        if current is None:
            return gone[0]
        for i in range(1, len(keys)):
            current = current.get(keys[i]) if isinstance(current, dict) else None
            if current is None:
                return gone[i]
        return current

    return read_path


def _read_api(
    slot: int,
    steps: tuple[tuple[str, bool], ...],
    gone: tuple[Any, ...],
    carried: Callable[[Any], Any],
) -> ValueFn:
    """A path with an attribute only some APIs return: where the object lacks it (not
    null, absent), the export did not call that API, which the interpreter words."""

    def read_api(env: Env, store: Store) -> Any:
        current = env[slot]
        if isinstance(current, Missing):
            return carried(current)
        for i, (key, api) in enumerate(steps):
            if i == 0 and type(current) is Resource:
                if key in _LOCATED:
                    current = getattr(current, key)
                else:
                    data = current.data
                    if api and key not in data:
                        return UNDECIDED
                    current = data.get(key)
            elif isinstance(current, dict):
                if api and key not in current:
                    return UNDECIDED
                current = current.get(key)
            else:
                current = None
            if current is None:
                return gone[i]
        return current

    return read_api


def _related(op: plan.RelatedOp) -> ValueFn:
    """`this use image`: the resources reached by a relation, from either end. An edge
    whose end is missing, or a source whose path is incomplete, is for the interpreter."""
    relation, slot, forward = op.relation, op.slot, op.forward

    def related(env: Env, store: Store) -> Any:
        anchor = env[slot]
        if not isinstance(anchor, Resource):
            return UNDECIDED
        out: list[Resource] = []
        if forward:
            if store.incomplete(relation, anchor):
                return UNDECIDED
            for edge in store.edges_from(relation, anchor):
                if not edge.targets:
                    if relation.dangle_reason is not None:
                        continue  # a dangling end the model allows is left out
                    return UNDECIDED
                out.extend(edge.targets)
        else:
            if store.incomplete_sources(relation):
                return UNDECIDED
            out.extend(edge.source for edge in store.edges_to(relation, anchor))
        return out

    return related


def _located(op: plan.LocatedOp) -> ValueFn:
    """`disk located in region`: the region's resources of a kind, each counted as a
    step, as the interpreter counts them."""
    place, kind, budget = _operand(op.place), op.kind, _counting()

    def located(env: Env, store: Store) -> Any:
        region = place(env, store)
        if not isinstance(region, str):
            return UNDECIDED  # undecided, missing or not a region: the interpreter says
        found = list(store.located(kind, region))
        budget.steps += len(found)
        return UNDECIDED if budget.steps > budget.limit else found

    return located


def _count(op: plan.CountOp) -> ValueFn:
    """`count(LIST where C)`: a step for each element `where` is tried on."""
    source, slot, budget = _value(op.source), op.slot, _counting()
    where = None if op.where is None else _cond(op.where)

    def count(env: Env, store: Store) -> Any:
        items = source(env, store)
        if not isinstance(items, list):
            return UNDECIDED  # undecided, missing or not a list: the interpreter says
        if where is None:
            return len(items)
        total = 0
        for item in items:
            budget.steps += 1
            if budget.steps > budget.limit:
                return UNDECIDED
            env[slot] = item
            t = where(env, store)
            if t is UNDECIDED:
                return t
            total += t
        return total

    return count


def _call(op: plan.CallOp) -> ValueFn:
    args = tuple(_value(a) for a in op.args)
    impl = BUILTINS[op.function].impl
    if op.function in _KEPT_CALLS:
        return _kept_call(args[0], impl)
    if len(args) == 1:
        (only,) = args

        def call_one(env: Env, store: Store) -> Any:
            v = only(env, store)
            if v is UNDECIDED or v is MISSING:
                return v  # an absent optional value stays an ordinary absence
            if isinstance(v, Missing):
                return UNDECIDED
            out = impl((v,), store)
            return UNDECIDED if isinstance(out, Undecided) else out

        return call_one

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


# Built-ins of one text whose answer a store fixes (a zone's region, from its location
# table): found once per value and store, not per resource.
_KEPT_CALLS: Final = frozenset({"region_of"})


def _kept_call(only: ValueFn, impl: Callable[[Any, Store], Any]) -> ValueFn:
    """`_call` of a built-in in `_KEPT_CALLS`: each text's answer kept for the store it
    was found in (a compiled rule is used again over other stores; a weak reference, so
    that a rule kept between runs does not keep a store)."""
    kept: dict[str, Any] = {}
    held: list[weakref.ref[Store] | None] = [None]  # the store `kept` is of

    def call_kept(env: Env, store: Store) -> Any:
        v = only(env, store)
        if type(v) is not str:
            return _applied(impl, v, store)
        of = held[0]
        if of is None or of() is not store:
            kept.clear()
            held[0] = weakref.ref(store)
        found = kept.get(v, _NOT_SEEN)
        if found is _NOT_SEEN:
            found = kept[v] = _applied(impl, v, store)
        return found

    return call_kept


def _applied(impl: Callable[[Any, Store], Any], v: Any, store: Store) -> Any:
    """A built-in of one argument applied to its value, as `call_one` applies it inline."""
    if v is UNDECIDED or v is MISSING:
        return v  # an absent optional value stays an ordinary absence
    if isinstance(v, Missing):
        return UNDECIDED
    out = impl((v,), store)
    return UNDECIDED if isinstance(out, Undecided) else out


_VALUES: dict[type, Callable[[Any], ValueFn]] = {
    plan.Const: _const,
    plan.Read: _read,
    plan.CallOp: _call,
    plan.RelatedOp: _related,
    plan.LocatedOp: _located,
    plan.CountOp: _count,
}


def _value(op: plan.Value) -> ValueFn:
    compile_value = _VALUES.get(type(op))
    if compile_value is None:
        raise Unsupported(f"no compiled form of {type(op).__name__}")
    return compile_value(op)


# Values that are never a missing value the model requires: their operand is themselves.
_NEVER_ABSENT = (plan.CallOp, plan.RelatedOp, plan.LocatedOp, plan.CountOp)


def _operand(op: plan.Value) -> ValueFn:
    """A value a comparison uses: a missing non-optional value is undecided. A read says
    so itself; a built-in's result, the resources a relation reaches and a count are
    never missing; a literal is what it is."""
    if isinstance(op, plan.Read):
        return _read(op, strict=True)
    if isinstance(op, _NEVER_ABSENT) or (
        isinstance(op, plan.Const) and _strictly(op.value) is op.value
    ):
        return _value(op)
    value = _value(op)

    def operand(env: Env, store: Store) -> Any:
        v = value(env, store)
        return UNDECIDED if v is ABSENT or v is PARENT else v

    return operand


# ---------------------------------------------------------------- conditions


def _compare(op: plan.CompareOp) -> CondFn:
    left, test = _operand(op.left), semantics.comparison(op.op)
    if isinstance(op.right, plan.Const) and _literal(op.right.value):
        # `visibility == "public"`: the literal side is no call.
        literal = op.right.value

        def compare_literal(env: Env, store: Store) -> Any:
            lv = left(env, store)
            if lv is UNDECIDED:
                return UNDECIDED
            if lv is MISSING:
                return False  # only optional values get here
            return bool(test(lv, literal))

        return compare_literal
    right = _operand(op.right)

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
    member_of = semantics.member

    def member(env: Env, store: Store) -> Any:
        iv, cv = item(env, store), collection(env, store)
        if iv is UNDECIDED or cv is UNDECIDED:
            return UNDECIDED
        if iv is MISSING or cv is MISSING:
            return False
        return member_of(iv, cv, negated)

    return member


def _match(op: plan.MatchOp) -> CondFn:
    operand, regex, matches = _operand(op.operand), op.regex, semantics.matches

    def match(env: Env, store: Store) -> Any:
        v = operand(env, store)
        if v is UNDECIDED:
            return v
        if v is MISSING:
            return False
        return matches(regex, v)

    return match


def _id_format(op: plan.IdFormatOp) -> CondFn:
    slot, holds = op.slot, semantics.id_format_holds

    def id_format(env: Env, store: Store) -> Any:
        resource = env[slot]
        identity = store.model.kinds[resource.kind].identity
        if not isinstance(identity, model.IdFormat):
            return True  # named and keyed kinds have no id format (the rule skips them)
        return holds(identity, resource.key, resource.data)

    return id_format


def _literal(value: Any) -> bool:
    """Whether a constant is a plain value, neither undecided nor missing."""
    return not isinstance(value, Missing) and value is not UNDECIDED


def _presence(op: plan.PresenceOp) -> CondFn:
    value, negated = _value(op.operand), op.negated
    holds, is_empty = semantics.presence_test(op.test), semantics.is_empty
    if op.test is semantics.Presence.SET:
        # `tags[t] is set`, the commonest test: present and not empty, inline.

        def is_set(env: Env, store: Store) -> Any:
            v = value(env, store)
            if v is UNDECIDED or v is PARENT:
                return UNDECIDED
            if type(v) is str:  # most values: no comparison with a list or a map
                return (v != "") != negated
            return _set(v, negated)

        return is_set

    def presence(env: Env, store: Store) -> Any:
        v = value(env, store)
        if v is UNDECIDED or v is PARENT:
            return UNDECIDED
        missing = isinstance(v, Missing)
        return holds(missing, not missing and is_empty(v)) != negated

    return presence


def _set(v: Any, negated: bool) -> Any:
    """`is set` (or `is not set`) of a value read as it is, but for a text, which is set
    when not empty (callers test that inline)."""
    if v is UNDECIDED or v is PARENT:
        return UNDECIDED
    if isinstance(v, Missing):
        return negated
    return (v not in _EMPTIES) != negated


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


def _all(op: plan.AllOp) -> CondFn:
    return semantics.junction(Quantifier.EVERY, tuple(map(_cond, op.ops)))


def _any(op: plan.AnyOp) -> CondFn:
    return semantics.junction(Quantifier.ANY, tuple(map(_cond, op.ops)))


def _not(op: plan.NotOp) -> CondFn:
    inner, negate = _cond(op.op), semantics.negate

    def negation(env: Env, store: Store) -> Any:
        return negate(inner(env, store))

    return negation


def _range(op: plan.RangeOp) -> CondFn:
    left, right, test, kind = _operand(op.left), _operand(op.right), op.op, op.kind
    oriented, contains = semantics.oriented, semantics.contains
    # Texts and whole numbers -> their answer: an account repeats a few port ranges and
    # CIDR blocks over thousands of rules, and each answer parses both sides again.
    known: dict[tuple[Any, Any], Any] = {}

    def within(env: Env, store: Store) -> Any:
        lv, rv = left(env, store), right(env, store)
        if lv is UNDECIDED or rv is UNDECIDED:
            return UNDECIDED
        if lv is MISSING or rv is MISSING:
            return False
        plain = type(lv) in _PLAIN and type(rv) in _PLAIN  # no bool: True would be 1
        if plain:
            found = known.get((lv, rv), _NOT_SEEN)
            if found is not _NOT_SEEN:
                return found
        found = contains(kind, *oriented(test, lv, rv))
        found = UNDECIDED if found is None else found
        if plain:
            if len(known) >= _RANGES_KEPT:
                known.clear()  # a rule kept between runs keeps a few values, not every one
            known[lv, rv] = found
        return found

    return within


_PLAIN: Final = (str, int)
_RANGES_KEPT: Final = 4096


class _Budget:
    """Quantifier steps of the outcome being decided, against the limit for one outcome,
    as the interpreter counts them: past the limit the outcome is left undecided, and
    the interpreter, deciding it again, stops with its error."""

    __slots__ = ("steps", "limit", "used")

    def __init__(self) -> None:
        self.steps = 0
        self.limit = limits.outcome_steps()
        self.used = False  # whether an op of the rule counts steps: else none to reset


def _counting() -> _Budget:
    """The budget of the rule being compiled, for an op that counts steps in it."""
    budget = _COMPILING[-1]
    budget.used = True
    return budget


_COMPILING: list[_Budget] = []  # the budget of the rule being compiled, which its ops share
_COMPILE_LOCK = threading.Lock()


def _quantifier(op: plan.QuantOp) -> CondFn:
    """`every` / `any` / `no` over a list: each element bound to the variable's slot as
    the plain value it is, as the interpreter binds it when it records nothing."""
    source = _value(op.source)
    where = None if op.where is None else _cond(op.where)
    body, slot, budget = _cond(op.body), op.slot, _counting()
    decided_by = semantics.decider(op.quantifier)
    settled, none_decided = (
        semantics.settled(op.quantifier, True),
        semantics.settled(op.quantifier, False),
    )

    def quantifier(env: Env, store: Store) -> Any:
        items = source(env, store)
        if not isinstance(items, list):
            return UNDECIDED  # missing, undecided or not a list: the interpreter says so
        undecided = False
        for item in items:
            budget.steps += 1
            if budget.steps > budget.limit:
                return UNDECIDED
            env[slot] = item
            if where is not None:
                keep = where(env, store)
                if keep is UNDECIDED:
                    undecided = True
                    continue
                if not keep:
                    continue
            t = body(env, store)
            if t is decided_by:
                return settled
            if t is UNDECIDED:
                undecided = True
        return UNDECIDED if undecided else none_decided

    return _keys_set(op, quantifier, budget) or quantifier


def _keys_set(op: plan.QuantOp, generic: CondFn, budget: _Budget) -> CondFn | None:
    """`every t in ["owner", "cost-center"]: tags[t] is set` and its like (a literal list
    of texts, each a key of one map of a resource, tested with `is set` or `is not set`):
    the map read once, each key looked up in it, the steps counted once, as the generic
    quantifier would decide and count them. An element that is not a resource, or a
    quantifier the step limit may stop, is the generic one's. None for any other."""
    source, body = op.source, op.body
    if (
        not isinstance(source, plan.Const)
        or type(source.value) is not list
        or not all(type(item) is str for item in source.value)
        or op.where is not None
        or not isinstance(body, plan.PresenceOp)
        or body.test is not semantics.Presence.SET
        or not isinstance(body.operand, plan.Read)
    ):
        return None
    read = body.operand
    steps = read.steps
    if (
        read.plural
        or read.slot == op.slot
        or len(steps) != 2
        or steps[0].op != "attr"
        or steps[0].name in _LOCATED
        or steps[1].op != "var"
        or steps[1].slot != op.slot
        or any(step.api for step in steps)
    ):
        return None
    gone_map, gone_key = _gone(read)  # as `_read` reads the map, then the key
    items, n, at, name, negated = (
        tuple(source.value),
        len(source.value),
        read.slot,
        steps[0].name,
        body.negated,
    )
    decided_by = semantics.decider(op.quantifier)
    settled = semantics.settled(op.quantifier, True)
    none_decided = semantics.settled(op.quantifier, False)

    def keys_set(env: Env, store: Store) -> Any:
        start = env[at]
        if type(start) is not Resource or budget.steps + n > budget.limit:
            return generic(env, store)
        found = start.data.get(name)
        keyed = isinstance(found, dict)
        undecided = False
        visited = 0
        for item in items:
            visited += 1
            if keyed:
                v = found.get(item)  # type: ignore[union-attr]
                if v is None:
                    v = gone_key
            else:
                v = gone_map if found is None else gone_key
            t = ((v != "") != negated) if type(v) is str else _set(v, negated)
            if t is decided_by:
                budget.steps += visited
                return settled
            if t is UNDECIDED:
                undecided = True
        budget.steps += n
        return UNDECIDED if undecided else none_decided

    return keys_set


def _define(op: plan.DefineOp) -> CondFn:
    """A `define` call: each argument bound to its parameter's slot, then the body. A
    required value that is missing cannot be passed: the interpreter says so."""
    args = tuple(zip(op.slots, map(_value, op.args), strict=True))
    body = _cond(op.body)

    def define(env: Env, store: Store) -> Any:
        for slot, arg in args:
            value = arg(env, store)
            if value is UNDECIDED or value is ABSENT or value is PARENT:
                return UNDECIDED
            env[slot] = value
        return body(env, store)

    return define


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
    plan.RangeOp: _range,
    plan.QuantOp: _quantifier,
    plan.DefineOp: _define,
}


def _cond(op: plan.Cond) -> CondFn:
    compile_cond = _CONDITIONS.get(type(op))
    if compile_cond is None:
        raise Unsupported(f"no compiled form of {type(op).__name__}")
    return compile_cond(op)


# ---------------------------------------------------------------- rules


@dataclass(frozen=True)
class CompiledRule:
    rule: plan.RulePlan
    where: CondFn | None
    unless: CondFn | None
    condition: CondFn
    budget: _Budget  # reset for each outcome
    lets: tuple[tuple[int, ValueFn], ...] = ()  # (slot, value) of the lets the rule reads


def _compile_rule(rule: plan.RulePlan) -> CompiledRule:
    with _COMPILE_LOCK:
        _COMPILING.append(budget := _Budget())
        try:
            where = None if rule.where is None else _cond(rule.where)
            unless = None if rule.unless is None else _cond(rule.unless)
            read = _lets_read(rule)
            lets = tuple((let.slot, _value(let.value)) for let in rule.lets if let.slot in read)
            return CompiledRule(rule, where, unless, _cond(rule.condition), budget, lets)
        finally:
            _COMPILING.pop()


def _lets_read(rule: plan.RulePlan) -> set[int]:
    """The slots of the lets that `where`, the condition or `unless` read, and of the
    lets those read. A let only a message shows is not computed by the fast path: the
    interpreter computes it for the outcomes it words."""
    lets = {let.slot: let for let in rule.lets}
    read: set[int] = set()
    pending: list[plan.Value | plan.Cond] = [
        op for op in (rule.where, rule.condition, rule.unless) if op is not None
    ]
    while pending:
        for op in plan.walk(pending.pop()):
            if not isinstance(op, plan.Read):
                continue
            slots = {op.slot, *(step.slot for step in op.steps if step.op == "var")}
            for slot in slots & lets.keys() - read:
                read.add(slot)
                pending.append(lets[slot].value)
    return read


@dataclass(frozen=True)
class CompiledPlan:
    plan: plan.Plan
    rules: dict[str, CompiledRule]  # by rule id; a rule that falls back is absent
    fallbacks: tuple[tuple[str, str], ...]  # (rule id, why) for rules the interpreter runs


def compile_plan(
    compiled: plan.Plan,
    compile_rule: Callable[[plan.RulePlan], CompiledRule | str] | None = None,
) -> CompiledPlan:
    """Each rule's closures (by `compile_rule`, or made anew), or why it falls back."""
    rules: dict[str, CompiledRule] = {}
    fallbacks: list[tuple[str, str]] = []
    for rule in compiled.rules:
        found = (compile_rule or _compile_or_why)(rule)
        if isinstance(found, str):
            fallbacks.append((rule.id, found))
        else:
            rules[rule.id] = found
    return CompiledPlan(compiled, rules, tuple(fallbacks))


def _compile_or_why(rule: plan.RulePlan) -> CompiledRule | str:
    """The rule's closures, or why the interpreter runs it."""
    try:
        return _compile_rule(rule)
    except Unsupported as exc:
        return str(exc)


def _decider(compiled: CompiledRule, store: Store, walked: Decide) -> Decide:
    """A rule's outcome from its closures; what they cannot decide, the interpreter
    decides again and words."""
    rule, budget = compiled.rule, compiled.budget

    def again(env: Env, _: object) -> tuple[Status, str]:
        return walked(env)

    if not compiled.lets:
        steps = budget if budget.used else None  # no step to count: none to reset
        return driver(
            rule, store, compiled.where, compiled.unless, compiled.condition, again, steps
        )
    lets = compiled.lets
    # The lets' steps count with the condition's: the budget starts here, not in `driver`.
    decide_after = driver(
        rule, store, compiled.where, compiled.unless, compiled.condition, again, None
    )

    def decide_lets(env: Env) -> tuple[Status, str]:
        # The lets the rule reads, computed first and in order (a let may read the ones
        # before it): the interpreter computes a let only when read, so the fast path
        # never reaches a decision it would not. A value the interpreter would not bind
        # (missing though required, or undecided) leaves the outcome to it.
        budget.steps = 0
        for slot, value in lets:
            v = value(env, store)
            if v is UNDECIDED or v is ABSENT or v is PARENT:
                return walked(env)
            env[slot] = v
        return decide_after(env)

    return decide_lets


def _same_location_pair(compiled: CompiledRule, walked: Decide) -> Pair | None:
    """`disk attach requires same zone` and its like (a sentence whose condition alone
    compares the ends' locations): an edge's outcome from its two ends, no environment
    made. An end without that location is for the interpreter, which words it."""
    rule = compiled.rule
    op = rule.condition
    if (
        not isinstance(op, plan.SameLocationOp)
        or (op.left, op.right) != (0, 1)
        or compiled.where is not None
        or compiled.unless is not None
        or rule.lets
    ):
        return None
    scope, rest = op.scope, [None] * (rule.slots - 2)
    when_true, when_false = decided_by(rule)

    def same_pair(source: Resource, target: Resource) -> tuple[Status, str]:
        lv, rv = getattr(source, scope), getattr(target, scope)
        if lv is None or rv is None:
            return walked([source, target, *rest])
        return when_true if lv == rv else when_false

    return same_pair


def _id_format_subject(compiled: CompiledRule, store: Store, decide: Decide) -> Subject | None:
    """`for each resource require id matches kind format`: the outcome from the subject's
    kind and key, each kind's format looked up once. A kind whose ids are names where a
    guard holds is decided as ever (`decide`)."""
    rule = compiled.rule
    if not _plain_id_format(compiled, store):
        return None
    when_true, when_false = decided_by(rule)
    settled: dict[str, tuple[Status, str]] = {}  # kind -> its outcome, whatever the id
    formats: dict[str, tuple[str, int | None]] = {}  # kind -> (prefix, length)
    for kind in rule.kinds:
        identity = store.model.kinds[kind].identity
        if not isinstance(identity, model.IdFormat):
            settled[kind] = (Status.SKIPPED, f"not applicable: a {kind} has no id format")
        elif identity.name_when is None:
            formats[kind] = (identity.prefix, identity.length)
    slots = rule.slots
    has_format = semantics.id_has_format

    def id_format(resource: Resource) -> tuple[Status, str]:
        found = formats.get(resource.kind)
        if found is None:
            outcome = settled.get(resource.kind)
            if outcome is not None:
                return outcome
            env: Env = [None] * slots
            env[0] = resource
            return decide(env)
        # `semantics.id_format_holds` of a format without `name_when`.
        return when_true if has_format(resource.key, *found) else when_false

    return id_format


def _batch(
    compiled: CompiledRule, store: Store, kind: str, tally: Tally, one: Runner, walked: Decide
) -> Batch | None:
    """The rule over many resources of `kind` in one loop, where its form allows: the
    id format of a kind, a same-location sentence. What the loop does not settle at once
    is run by `one`, the rule's runner of one resource."""
    return (
        _id_format_batch(compiled, store, kind, tally)
        or _same_location_batch(compiled, store, tally, one)
        or _condition_batch(compiled, store, tally, walked)
    )


def _condition_batch(
    compiled: CompiledRule, store: Store, tally: Tally, walked: Decide
) -> Batch | None:
    """A rule about resources that is its condition alone (no `where`, `unless` or
    `let`): the condition's closure called in the loop, as the driver calls it; what it
    cannot decide, the interpreter decides again in the same environment and words.
    None for any other rule."""
    rule = compiled.rule
    if (
        rule.edge is not None
        or compiled.where is not None
        or compiled.unless is not None
        or rule.lets
        or rule.per_region
        or isinstance(rule.condition, plan.IdFormatOp)  # its subject may settle it first
    ):
        return None
    condition, budget, slots = compiled.condition, compiled.budget, rule.slots
    counts_steps = budget.used
    (when_true, true_reason), (when_false, false_reason) = decided_by(rule)
    counted = (Status.PASS, Status.SKIPPED)
    true_counted, false_counted = when_true in counted, when_false in counted

    def conditions(subjects: Sequence[Resource], out: list[Result]) -> None:
        held = broken = 0
        for resource in subjects:
            env: Env = [None] * slots
            env[0] = resource
            if counts_steps:
                budget.steps = 0
            t = condition(env, store)
            if t is True:
                if true_counted:
                    held += 1
                else:
                    out.append(Result(rule, resource, when_true, true_reason))
            elif t is False:
                if false_counted:
                    broken += 1
                else:
                    out.append(Result(rule, resource, when_false, false_reason))
            else:
                status, reason = walked(env)
                if status in counted:
                    tally[status] += 1
                else:
                    out.append(Result(rule, resource, status, reason))
        if held:
            tally[when_true] += held
        if broken:
            tally[when_false] += broken

    names = read_of_subject(rule.condition)
    if names is None:
        return conditions

    def counted_outcome(resource: Resource) -> Status | None:
        """The outcome of a resource, where it is counted: as `conditions` decides it."""
        env: Env = [None] * slots
        env[0] = resource
        if counts_steps:
            budget.steps = 0
        t = condition(env, store)
        if t is True:
            return when_true if true_counted else None
        if t is False:
            return when_false if false_counted else None
        return None  # undecided: the interpreter words it, resource by resource

    return by_values(names, conditions, counted_outcome, tally)


def _id_format_batch(compiled: CompiledRule, store: Store, kind: str, tally: Tally) -> Batch | None:
    """`for each resource require id matches kind format` over one kind: its outcome,
    when the kind has no id format; else each id checked in the loop, as
    `_id_format_subject` checks it. None for a kind whose ids are names where a guard
    holds, and for any other rule."""
    rule = compiled.rule
    if not _plain_id_format(compiled, store):
        return None
    identity = store.model.kinds[kind].identity
    if not isinstance(identity, model.IdFormat):
        skipped = Status.SKIPPED  # the reason is `id_format_applies`'s; it is counted

        def no_format(subjects: Sequence[Resource], out: list[Result]) -> None:
            tally[skipped] += len(subjects)

        return no_format
    if identity.name_when is not None:
        return None
    prefix, length, has_format = identity.prefix, identity.length, semantics.id_has_format
    (when_true, true_reason), (when_false, false_reason) = decided_by(rule)
    counted = (Status.PASS, Status.SKIPPED)
    true_counted, false_counted = when_true in counted, when_false in counted
    pattern = semantics.id_format_pattern(prefix, length)
    if pattern is not None and true_counted:
        fullmatch, all_have = pattern.fullmatch, semantics.all_have_id_format

        def id_patterns(subjects: Sequence[Resource], out: list[Result]) -> None:
            # Every id tested in C, a slice of the kind at a time (what is joined stays a
            # few megabytes): at once from their concatenation, the commonest, else by the
            # pattern's `fullmatch` mapped over them, which gives the positions of those
            # without the format, most often a few.
            for start in range(0, len(subjects), _IDS_AT_ONCE):
                keys = list(map(_KEY, subjects[start : start + _IDS_AT_ONCE]))
                if all_have(keys, prefix, length):
                    tally[when_true] += len(keys)
                    continue
                broken = list(compress(range(len(keys)), map(not_, map(fullmatch, keys))))
                if len(keys) > len(broken):
                    tally[when_true] += len(keys) - len(broken)
                if false_counted:
                    if broken:
                        tally[when_false] += len(broken)
                    continue
                for at in broken:
                    out.append(Result(rule, subjects[start + at], when_false, false_reason))

        return id_patterns

    def id_formats(subjects: Sequence[Resource], out: list[Result]) -> None:
        held = broken = 0
        for resource in subjects:
            if has_format(resource.key, prefix, length):
                if true_counted:
                    held += 1
                else:
                    out.append(Result(rule, resource, when_true, true_reason))
            elif false_counted:
                broken += 1
            else:
                out.append(Result(rule, resource, when_false, false_reason))
        if held:
            tally[when_true] += held
        if broken:
            tally[when_false] += broken

    return id_formats


def _same_location_batch(
    compiled: CompiledRule, store: Store, tally: Tally, one: Runner
) -> Batch | None:
    """`disk attach requires same zone` and its like over its sources, with a `where`
    or `unless` about the target alone (`unless image.visibility == "public"`) decided
    once per target: a source without a gap whose one edge's candidates are decided
    here is counted in the loop when its best outcome is a pass or a skip. Any other
    source (none or several edges, a dangling edge, a place unknown, a public target
    listed in no region of the source's, a condition undecided, an outcome kept) is run
    by `one`, from the start. None for any other rule."""
    rule = compiled.rule
    op = rule.condition
    if (
        rule.edge is None
        or not isinstance(op, plan.SameLocationOp)
        or (op.left, op.right) != (0, 1)
        or rule.lets
        or rule.per_region
    ):
        return None
    where, unless = compiled.where, compiled.unless
    screened = where is not None or unless is not None
    if screened and (
        compiled.budget.used  # the steps of a pair count `where`, `unless` and condition
        or not all(_of_target(c) for c in (rule.where, rule.unless) if c is not None)
    ):
        return None
    edges_from, incomplete_at = store.edge_index(rule.edge)
    only_target = edges_from.only_target  # one edge of one target, without making it
    scope = op.scope
    public_applies = scope == "region"  # as `runner` tests: a public target may be unlisted
    (when_true, _), (when_false, _) = decided_by(rule)
    passed, skipped = Status.PASS, Status.SKIPPED
    slots = rule.slots
    screens: dict[Resource, object] = {}  # target -> what its `where` and `unless` settle
    bests: dict[tuple[tuple[Resource, ...], object], object] = {}  # (targets, place) -> best

    def screen(target: Resource) -> object:
        """What the target's `where` and `unless` settle, in the driver's order: skipped,
        or `UNSCREENED` for the condition to decide; None where either is undecided."""
        env: Env = [None] * slots
        env[1] = target
        found: object = _UNSCREENED
        if where is not None:
            t = where(env, store)
            if t is not True and t is not False:
                found = None
            elif not t:
                found = skipped  # not applicable
        if found is _UNSCREENED and unless is not None:
            t = unless(env, store)
            if t is not True and t is not False:
                found = None
            elif t:
                found = skipped  # exempt
        screens[target] = found
        return found

    def same_places(subjects: Sequence[Resource], out: list[Result]) -> None:
        held = exempt = 0
        for resource in subjects:
            index = resource.index
            place = getattr(resource, scope)
            target = only_target(index)
            if target is not None and place is not None and index not in incomplete_at:
                # The commonest: one edge, one target, decided here.
                found = screens.get(target, _NOT_SEEN) if screened else _UNSCREENED
                if found is _NOT_SEEN:
                    found = screen(target)
                if found is _UNSCREENED:
                    if public_applies and target.region != place:
                        one(resource, out)  # perhaps a public one, listed elsewhere
                        continue
                    there = getattr(target, scope)
                    if (
                        there is not None
                        and (when_true if place == there else when_false) is passed
                    ):
                        held += 1
                        continue
                elif found is skipped:
                    if public_applies and target.region != place:
                        one(resource, out)
                        continue
                    exempt += 1
                    continue
                one(resource, out)
                continue
            # Several candidates of one edge (a name unique per region), or anything else.
            edges = None if place is None else edges_from.get(index)
            if not isinstance(edges, Edge) or index in incomplete_at or not edges.targets:
                one(resource, out)
                continue
            # The best outcome of the same candidates from the same place, found once.
            targets = edges.targets
            best = bests.get((targets, place), _NOT_SEEN)
            if best is _NOT_SEEN:
                if public_applies and all(t.region != place for t in targets):
                    best = None  # perhaps a public one, listed elsewhere
                else:
                    best = _decided_best(
                        targets, place, scope, screened, screens, screen, when_true, when_false
                    )
                bests[targets, place] = best
            if best is passed:
                held += 1
            elif best is skipped:
                exempt += 1
            else:
                one(resource, out)
        if held:
            tally[passed] += held
        if exempt:
            tally[skipped] += exempt

    if when_true is not passed or screened:
        # A sentence that forbids (a pass is a place that differs), or one whose targets
        # are screened (public images, listed in several regions: most are for the loop).
        return same_places
    place_of = attrgetter(scope)

    def same_first(subjects: Sequence[Resource], out: list[Result]) -> None:
        """`same_places`, the commonest sources first in a shorter loop: one edge of one
        target in the same place, a pass; the rest, in their order, through
        `same_places`."""
        held = 0
        rest: list[Resource] = []
        for resource in subjects:
            target = only_target(resource.index)
            # The same place is the region of a region's sentence: a public target listed
            # elsewhere needs no look here.
            if (
                target is not None
                and (place := place_of(resource)) is not None
                and place_of(target) == place
                and resource.index not in incomplete_at
            ):
                held += 1
            else:
                rest.append(resource)
        if held:
            tally[passed] += held
        if rest:
            same_places(rest, out)

    return same_first


# `_same_location_batch`'s marks: a target whose `where` and `unless` leave the outcome
# to the condition; a target not screened yet.
_UNSCREENED: Final = object()
_NOT_SEEN: Final = object()


def _decided_best(
    targets: Sequence[Resource],
    place: object,
    scope: str,
    screened: bool,
    screens: dict[Resource, object],
    screen: Callable[[Resource], object],
    when_true: Status,
    when_false: Status,
) -> Status | None:
    """The best outcome (`rules.rank`) of an edge's candidate targets, from a source in
    `place`: a pass counts first, then a skip, then a fail. None where a candidate is
    undecided (its `where` or `unless`, or its place unknown): the runner of one source
    decides that edge in order and words what it could not decide."""
    best: Status | None = None
    for target in targets:
        found = screens.get(target, _NOT_SEEN) if screened else _UNSCREENED
        if found is _NOT_SEEN:
            found = screen(target)
        if found is None:
            return None
        if found is _UNSCREENED:
            there = getattr(target, scope)
            if there is None:
                return None
            found = when_true if there == place else when_false
        if found is Status.PASS:
            return found
        if best is None or found is Status.SKIPPED:
            best = found  # type: ignore[assignment]
    return best


# Ops of a `where` or `unless` whose truth may be found once per target: read from the
# target (slot 1) or constant, no step counted, no other resource reached.
_TARGET_OPS: Final = (
    plan.Const,
    plan.CallOp,
    plan.CompareOp,
    plan.MemberOp,
    plan.MatchOp,
    plan.PresenceOp,
    plan.TruthyOp,
    plan.AllOp,
    plan.AnyOp,
    plan.NotOp,
    plan.RangeOp,
)


def _of_target(cond: plan.Cond) -> bool:
    """Whether a condition's truth depends on an edge's target alone."""
    for node in plan.walk(cond):
        if isinstance(node, plan.Read):
            if node.slot != 1 or node.plural or any(s.op == "var" for s in node.steps):
                return False
        elif not isinstance(node, _TARGET_OPS):
            return False
    return True


_KEY: Final = attrgetter("key")
_IDS_AT_ONCE: Final = 20_000  # ids joined at once: some 0.5 MB of text and as much in bytes


def _plain_id_format(compiled: CompiledRule, store: Store) -> bool:
    """Whether a rule is the id format alone, over resources of a store whose ids are
    all known: its outcome depends on the subject's kind and key."""
    rule = compiled.rule
    op = rule.condition
    return (
        isinstance(op, plan.IdFormatOp)
        and op.slot == 0
        and compiled.where is None
        and compiled.unless is None
        and not rule.lets
        and not rule.per_region
        and not store.has_unknowns  # an id assigned on creation: only a Terraform plan's
    )


# The closures of the rules evaluated lately, made once per thread: a run of policy tests
# evaluates one plan over hundreds of small snapshots, and a process that loads the same
# policies again (an editor, an embedding program, a test run) gets a new plan of the
# same rule objects; compiling every rule each time was a third of a small run. Per
# thread, because a compiled rule counts its steps in one budget; kept with the step
# limit they were made under (the budgets hold it).
_RECENT_RULES: Final = threading.local()
_RULES_KEPT: Final = 1024


def _recent_rules() -> Recent[CompiledRule | str]:
    found: Recent[CompiledRule | str] | None = getattr(_RECENT_RULES, "rules", None)
    if found is None:
        found = _RECENT_RULES.rules = Recent(_RULES_KEPT)
    return found


def _compiled_once(compiled: plan.Plan) -> CompiledPlan:
    recent, limit = _recent_rules(), limits.outcome_steps()
    return compile_plan(
        compiled, lambda rule: recent.get((rule,), limit, partial(_compile_or_why, rule))
    )


def evaluate(
    compiled: plan.Plan, store: Store, tallies: dict[str, Tally] | None = None
) -> list[Result]:
    """Every outcome, in snapshot order then policy order, on the fast path. Records no
    evidence; `trace` re-runs one outcome for its proof. With `tallies`, the pass and
    skipped outcomes of rules about resources are counted there, not kept (`run_all`)."""
    if store.has_unknowns:
        # Values a Terraform plan knows only after apply: the interpreter turns each one
        # it reads into an `error` naming the address; the closures do not look for them.
        return evaluate_interpreted(compiled, store, tallies)
    fast = _compiled_once(compiled)
    ev = Evaluator(store, tracing=False)

    def make_runner(rule: plan.RulePlan, tally: Tally | None) -> Runner:
        walked = interpreted(ev, rule)
        found = fast.rules.get(rule.id)
        if found is None:
            return runner(rule, store, walked, tally)
        decide = _decider(found, store, walked)
        subject = _id_format_subject(found, store, decide)
        pair = _same_location_pair(found, walked)
        return runner(rule, store, decide, tally, subject=subject, pair=pair)

    def make_batch(rule: plan.RulePlan, kind: str, tally: Tally, one: Runner) -> Batch | None:
        found = fast.rules.get(rule.id)
        if found is None:
            return None
        return _batch(found, store, kind, tally, one, interpreted(ev, rule))

    return run_all(compiled, store, make_runner, tallies, make_batch)
