"""The plan interpreter: one walk over plan ops, with recording off or on (the trace an
explanation renders). It decides what the compiled fast path (`compiled.py`) does not
handle, and words why an outcome could not be decided; what each operation means comes
from `core.semantics`, which the fast path shares. Never raises on bad data: what cannot
be decided is `Unknown`, and becomes an `error` outcome."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, assert_never

from policyengine.core import limits, model, plan, semantics
from policyengine.core.builtins import BUILTINS, Undecided
from policyengine.core.semantics import Quantifier
from policyengine.inputs.resources import Resource
from policyengine.inputs.snapshot import UnknownValue, pointer_escape
from policyengine.inputs.store import Store
from policyengine.runtime.outcomes import (
    ABSENT,
    MISSING,
    PARENT,
    Fact,
    Missing,
    Operand,
    Test,
    Trace,
    Truth,
    Unknown,
)
from policyengine.runtime.shown import (
    Elem,
    bare,
    dangling,
    element_at,
    element_label,
    follow,
    incomplete,
    kind_and_key,
    missing_attribute,
    named_with_address,
    pointer_of,
    show,
    shown_path,
    subject_of,
    text_of,
    unwrapped,
)


@dataclass
class Frame:
    facts: list[Fact] = field(default_factory=list)
    children: list[Trace] = field(default_factory=list)
    test: Test | None = None


class Pending:
    """A `let` not yet computed: computed when first read, then kept in its slot."""

    __slots__ = ("op",)

    def __init__(self, op: plan.LetOp) -> None:
        self.op = op


class Evaluator:
    def __init__(self, store: Store, tracing: bool) -> None:
        self.store = store
        self.tracing = tracing
        # Quantifier and count steps of the outcome being decided, against the limit for
        # one outcome: a rule that would run for hours stops with an `error` instead.
        self.steps = 0
        self.max_steps = limits.outcome_steps()
        self.frame = Frame()
        self.witness: dict[int, Any] = {}  # slot -> the element that decided a quantifier
        self.last_pointer = ""  # tracing: the pointer of the last single value read

    # -- recording helpers (no-ops on the fast path)
    def _fact(
        self, kind: str, text: str, pointer: str = "", value: Any = None, owner: str = ""
    ) -> None:
        if self.tracing:
            self.frame.facts.append(Fact(kind, text, pointer, value, owner))

    def _test(
        self,
        op: str,
        left: tuple[plan.Value, Any],
        right: tuple[plan.Value, Any] | None,
        env: list[Any],
    ) -> None:
        """Tracing only: keeps what a leaf tested, so a fix hint can say what would pass."""
        self.frame.test = Test(
            op, self._side(*left, env), self._side(*right, env) if right is not None else None
        )

    def _side(self, op: plan.Value, value: Any, env: list[Any]) -> Operand:
        value = unwrapped(value)
        if isinstance(op, plan.Const):
            return Operand(show(value), value, True)
        if isinstance(op, plan.Read):
            start = env[op.slot]
            path = f"`{shown_path(op, env)}`"
            if isinstance(start, Resource):
                return Operand(f"{path} of {start.kind} {start.key}", value, False)
            return Operand(path, value, False)
        return Operand(f"`{text_of(op)}`", value, False)

    # -- values
    def value(self, op: plan.Value, env: list[Any]) -> Any:
        match op:
            case plan.Const(value=value):
                return value
            case plan.Read():
                return self.read(op, env)
            case plan.CallOp(function=function, args=args):
                values = [unwrapped(self.value(a, env)) for a in args]
                for a, v in zip(args, values, strict=True):
                    if isinstance(v, Unknown) or v is MISSING:
                        return v  # an absent optional value stays an ordinary absence
                    if isinstance(v, Missing):
                        return Unknown(f"{missing_attribute(a, env)}, so `{function}` cannot run")
                out = BUILTINS[function].impl(values, self.store)
                if isinstance(out, Undecided):
                    return Unknown(out.reason)
                self._fact("call", f"{op.span.text} = {show(out)}", value=out)
                return out
            case plan.RelatedOp():
                return self.related(op, env)
            case plan.LocatedOp(kind=kind, place=place):
                region = self.operand(place, env)
                if isinstance(region, Unknown):
                    return region
                if region is MISSING or not isinstance(region, str):
                    return Unknown(f"`{text_of(place)}` is {show(region)}, not a region")
                found = list(self.store.located(kind, region))
                # Copying the region's resources is work too: counted, so a quantifier
                # over `K located in region` inside another one meets the step limit.
                self.steps += len(found)
                if self.steps > self.max_steps:
                    return self.over_budget()
                self._fact(
                    "count",
                    f"{len(found)} {kind}(s) located in {region}",
                    value=len(found),
                )
                return found
            case plan.CountOp(slot=slot, source=source, where=where):
                items = self.value(source, env)
                if isinstance(items, Unknown):
                    return items
                if isinstance(items, Missing):
                    return Unknown(f"{missing_attribute(source, env)}, so it cannot be counted")
                if where is None:
                    self._fact("count", f"{op.span.text} = {len(items)}", value=len(items))
                    return len(items)
                total = 0
                for item in items:
                    self.steps += 1
                    if self.steps > self.max_steps:
                        return self.over_budget()
                    env[slot] = item
                    truth = self.cond(where, env)
                    if isinstance(truth, Unknown):
                        return truth
                    total += truth
                self._fact("count", f"{op.span.text} = {total}", value=total)
                return total
            case _:
                assert_never(op)

    def let_value(self, op: plan.LetOp, env: list[Any]) -> Any:
        value = self.value(op.value, env)
        if value is ABSENT or value is PARENT:
            value = Unknown(missing_attribute(op.value, env))
        return value  # reading the let's name records its value

    def read(self, op: plan.Read, env: list[Any]) -> Any:
        start = env[op.slot]
        if isinstance(start, Pending):
            start = env[op.slot] = self.let_value(start.op, env)
        if isinstance(start, Unknown):
            return start
        if not op.steps and isinstance(start, Resource):
            return start  # `{this}` in a message: the resource itself
        if isinstance(start, Resource):
            current: Any = start.data
            pointer = start.pointer if self.tracing else ""
            owner = f"{start.kind} {start.key}"
        elif isinstance(start, Elem):
            current, pointer, owner = start.value, start.pointer, ""
        else:
            current, pointer, owner = start, "", ""
        # A value with a place in the input (a resource, an element of a list read from
        # it) gives places to what is read under it; a computed one (a `let`, a call's
        # result) has none, and neither has `parts[1]` of it.
        placed = self.tracing and bool(pointer)
        values: list[tuple[Any, str]] = [(current, pointer)]
        plural = False
        for i, step in enumerate(op.steps):
            nxt: list[tuple[Any, str]] = []
            for value, ptr in values:
                if isinstance(value, UnknownValue):
                    nxt.append((value, ptr))  # what is under an unknown is unknown too
                    continue
                if step.op == "star":
                    if isinstance(value, list):
                        nxt.extend((v, f"{ptr}/{j}" if placed else "") for j, v in enumerate(value))
                    continue
                if step.op == "var":
                    key = env[step.slot]
                    key = bare(key)
                else:
                    key = step.name
                if step.op == "index":
                    got = element_at(value, int(step.name))
                elif i == 0 and isinstance(start, Resource) and key in ("region", "zone"):
                    got = getattr(start, key)  # the region may come from the location table
                elif isinstance(value, Mapping):
                    got = value.get(key)
                    if step.api and key not in value:
                        # Not null but absent: the export did not call the API that holds it.
                        where = f" of {owner}" if owner else ""
                        return Unknown(f"`{key}`{where} needs {step.api}, which the snapshot lacks")
                else:
                    got = None
                if isinstance(value, Missing):
                    nxt.append((value, ptr))  # the first absent step decides which it is
                elif got is not None:
                    nxt.append((got, f"{ptr}/{pointer_escape(str(key))}" if placed else ""))
                elif not plural:
                    last = i == len(op.steps) - 1
                    gone = MISSING if step.optional else ABSENT if last else PARENT
                    nxt.append((gone, f"{ptr}/{pointer_escape(str(key))}" if placed else ""))
            values = nxt
            plural = plural or step.op == "star"
        if plural:
            kept = [(v, p) for v, p in values if not isinstance(v, Missing)]
            for v, p in kept:
                if isinstance(v, UnknownValue):
                    return self.unknown(owner, shown_path(op, env), v, p)
            if self.tracing:
                self._fact(
                    "read",
                    f"{subject_of(owner, shown_path(op, env))} = {show([v for v, _ in kept])}",
                    pointer,
                    [v for v, _ in kept],
                )
            return [Elem(v, p) if self.tracing else v for v, p in kept]
        value, ptr = values[0] if values else (MISSING, pointer)
        if isinstance(value, UnknownValue):
            return self.unknown(owner, shown_path(op, env), value, ptr)
        if self.tracing:
            self.last_pointer = ptr  # where a quantifier's list elements live
            text = subject_of(owner, shown_path(op, env))
            if isinstance(value, Missing):
                self._fact("missing", f"{text} is missing", ptr, owner=owner)
            else:
                self._fact("read", f"{text} = {show(value)}", ptr, value, owner)
        return value

    def unknown(self, owner: str, path: str, value: UnknownValue, pointer: str) -> Unknown:
        """A value the input cannot know yet: the rule that reads it cannot be decided."""
        text = f"`{path}`{' of ' + owner if owner else ''} is not known yet ({value.what})"
        self._fact("missing", text, pointer, owner=owner)
        return Unknown(text)

    def related(self, op: plan.RelatedOp, env: list[Any]) -> Any:
        anchor = env[op.slot]
        assert isinstance(anchor, Resource)
        relation = op.relation
        out: list[Resource] = []
        if op.forward:
            for path, pointer in self.store.incomplete(relation, anchor):
                return Unknown(incomplete(relation, anchor, path, pointer, self.store))
            for edge in self.store.edges_from(relation, anchor):
                if not edge.targets:
                    if relation.dangle_reason is not None:
                        self._fact(
                            "dangling",
                            f"{relation.target} `{edge.value}` is not in "
                            f"the snapshot ({relation.dangle_reason}); left out",
                            edge.pointer,
                        )
                        continue
                    return Unknown(dangling(edge))
                for target in edge.targets:
                    self._fact(
                        "follow", follow(edge, target), edge.pointer, owner=kind_and_key(anchor)
                    )
                    out.append(target)
        else:
            # Any source whose path is incomplete might point here: the list is unknown.
            for source, path, pointer in self.store.incomplete_sources(relation)[:1]:
                return Unknown(
                    f"the {relation.source}s that {relation.verb} {anchor.kind} {anchor.key} "
                    f"cannot be listed: {incomplete(relation, source, path, pointer, self.store)}"
                )
            for edge in self.store.edges_to(relation, anchor):
                self._fact(
                    "follow",
                    follow(edge, anchor),
                    edge.pointer,
                    owner=kind_and_key(edge.source),
                )
                out.append(edge.source)
        return out

    # -- conditions
    def cond(self, op: plan.Cond, env: list[Any]) -> Truth:
        if not self.tracing:
            return self._cond(op, env)
        parent, self.frame = self.frame, Frame()
        truth = self._cond(op, env)
        node = Trace(
            _OP_NAMES.get(type(op), "leaf"),
            op.span,
            truth,
            tuple(self.frame.facts),
            tuple(self.frame.children),
            self.frame.test,
        )
        self.frame = parent
        parent.children.append(node)
        return truth

    def _cond(self, op: plan.Cond, env: list[Any]) -> Truth:
        match op:
            case plan.CompareOp(op=name, left=left, right=right):
                lv, rv = self.operand(left, env), self.operand(right, env)
                if isinstance(lv, Unknown):
                    return lv
                if isinstance(rv, Unknown):
                    return rv
                if lv is MISSING or rv is MISSING:
                    return False  # only optional values get here: see `operand`
                result = semantics.compare(name, lv, rv)
                if self.tracing:
                    self._fact("compare", f"`{op.span.text}` is {str(result).lower()}")
                    self._test(name, (left, lv), (right, rv), env)
                return result
            case plan.MemberOp(item=item, collection=coll, negated=negated):
                iv, cv = self.operand(item, env), self.operand(coll, env)
                if isinstance(iv, Unknown):
                    return iv
                if isinstance(cv, Unknown):
                    return cv
                if iv is MISSING or cv is MISSING:
                    return False
                values = unwrapped(cv)
                result = semantics.member(iv, values, negated)
                if self.tracing:
                    found = result != negated
                    self._fact(
                        "compare",
                        f"{show(iv)} is {'' if found else 'not '}in {show(values)}",
                    )
                    self._test("not in" if negated else "in", (item, iv), (coll, values), env)
                return result
            case plan.MatchOp(operand=operand, regex=regex, pattern=pattern):
                v = self.operand(operand, env)
                if isinstance(v, Unknown):
                    return v
                if v is MISSING:
                    return False
                ok = semantics.matches(regex, v)
                if self.tracing:
                    self._fact(
                        "compare",
                        f"{show(v)} {'matches' if ok else 'does not match'} /{pattern}/",
                    )
                    self.frame.test = Test(
                        "matches",
                        self._side(operand, v, env),
                        Operand(f"/{pattern}/", pattern, True),
                    )
                return ok
            case plan.IdFormatOp(slot=slot):
                return self.id_format(env[slot])
            case plan.RangeOp():
                return self.range_test(op, env)
            case plan.PresenceOp(operand=operand, test=test, negated=negated):
                v = self.value(operand, env)
                if isinstance(v, Unknown):
                    return v
                v = bare(v)
                if v is PARENT:
                    tested = (
                        shown_path(operand, env)
                        if isinstance(operand, plan.Read)
                        else text_of(operand)
                    )
                    return Unknown(
                        f"`{tested}` cannot be tested: {missing_attribute(operand, env)}"
                    )
                missing = isinstance(v, Missing)
                result = semantics.presence(test, missing, not missing and semantics.is_empty(v))
                if self.tracing:
                    self._test(f"is {'not ' if negated else ''}{test}", (operand, v), None, env)
                return result != negated
            case plan.TruthyOp(operand=operand):
                v = self.operand(operand, env)
                if isinstance(v, Unknown):
                    return v
                if v is MISSING:
                    return False
                if not isinstance(v, bool):
                    return Unknown(f"`{text_of(operand)}` is {show(v)}, not true or false")
                if self.tracing:
                    self._test("is true", (operand, v), None, env)
                return v
            case plan.AllOp(ops=ops):
                return semantics.fold(Quantifier.EVERY, map(self.cond, ops, repeat(env)))
            case plan.AnyOp(ops=ops):
                return semantics.fold(Quantifier.ANY, map(self.cond, ops, repeat(env)))
            case plan.NotOp(op=inner):
                return semantics.negate(self.cond(inner, env))
            case plan.QuantOp():
                return self.quantifier(op, env)
            case plan.SameLocationOp(scope=scope, left=left, right=right):
                return self.same_location(scope, env[left], env[right])
            case plan.DefineOp():
                return self.define(op, env)
            case _:
                assert_never(op)

    def define(self, op: plan.DefineOp, env: list[Any]) -> Truth:
        """A define's body over its arguments: each bound to its parameter's slot. A
        required value that is missing cannot be passed: the call is undecided."""
        for slot, arg in zip(op.slots, op.args, strict=True):
            if isinstance(arg, plan.Read) and not arg.steps:
                value = env[arg.slot]  # keep a resource or an element with its pointer
                if isinstance(value, Pending):
                    value = env[arg.slot] = self.let_value(value.op, env)
            else:
                value = self.value(arg, env)
                if self.tracing and not isinstance(value, Resource | Elem | Missing | Unknown):
                    value = Elem(value, self.last_pointer if isinstance(arg, plan.Read) else "")
            if isinstance(value, Unknown):
                return value
            if bare(value) is ABSENT or bare(value) is PARENT:
                return Unknown(missing_attribute(arg, env))
            env[slot] = value
        return self.cond(op.body, env)

    def operand(self, op: plan.Value, env: list[Any]) -> Any:
        """A value a comparison uses: a missing non-optional value is `Unknown`."""
        v = bare(self.value(op, env))
        if v is ABSENT or v is PARENT:
            return Unknown(missing_attribute(op, env))
        return v

    def over_budget(self) -> Unknown:
        return Unknown(
            f"stopped after {self.max_steps:,} quantifier and count steps, the limit for one "
            f"outcome ({limits.env_name('outcome_steps')} sets it)"
        )

    def quantifier(self, op: plan.QuantOp, env: list[Any]) -> Truth:
        items = self.value(op.source, env)
        if isinstance(items, Unknown):
            return items
        if items is MISSING:
            items = []  # an absent optional list has no elements
        if isinstance(items, Missing):
            return Unknown(missing_attribute(op.source, env))  # a required one cannot be decided
        if not isinstance(items, list):
            return Unknown(f"`{text_of(op.source)}` is {show(items)}, not a list")
        unknown: Unknown | None = None
        decided_by = semantics.decider(op.quantifier)
        considered = 0
        base = self.last_pointer if self.tracing and isinstance(op.source, plan.Read) else ""
        # Tracing only: every element that decides `any` / `no` (each open port of a
        # `forbid any r in rules ...`), each with the evidence of what it did.
        deciders: list[Trace] = []
        # The first element the `where` kept: what a failed `any` names in a `message`
        # (the nearest candidate: of the right type, in the wrong zone).
        nearest: Any = None
        for index, item in enumerate(items):
            self.steps += 1
            if self.steps > self.max_steps:
                return self.over_budget()
            if not isinstance(item, Resource | Elem):
                item = Elem(item, f"{base}/{index}" if base else "")
            env[op.slot] = item
            mark_children = len(self.frame.children)
            if op.where is not None:
                keep = self.cond(op.where, env)
                if isinstance(keep, Unknown):
                    unknown = unknown or keep
                    continue
                if not keep:
                    continue
            considered += 1
            if nearest is None:
                nearest = item
            t = self.cond(op.body, env)
            if t is decided_by:
                if not self.tracing:
                    return semantics.settled(op.quantifier, True)
                if not deciders:  # the first decider is the one a `message` names
                    self.witness[op.slot] = item
                label = element_label(item, text_of(op.source), index)
                fact = Fact("element", f"decided by {op.var} = {label}", pointer_of(item))
                kids = tuple(self.frame.children[mark_children:])
                deciders.append(Trace("element", op.span, t, (fact,), kids))
                if op.quantifier is Quantifier.EVERY:
                    break  # one counterexample is the whole story
                continue
            if isinstance(t, Unknown) and unknown is None:
                unknown = t
                if self.tracing:  # keep the element that could not be decided, drop others
                    del self.frame.children[:mark_children]
            elif self.tracing and len(self.frame.children) > _TRACE_ELEMENTS:
                del self.frame.children[mark_children:]
        if deciders:
            self.frame.children[:] = deciders[:_TRACE_ELEMENTS]  # the proof stays minimal
            return semantics.settled(op.quantifier, True)
        if unknown is not None:
            return unknown
        if self.tracing and op.quantifier is Quantifier.ANY and nearest is not None:
            self.witness.setdefault(op.slot, nearest)
        self._fact("element", f"{considered} {op.var} considered; none decided otherwise")
        return semantics.settled(op.quantifier, False)

    def id_format(self, resource: Resource) -> Truth:
        kind = self.store.model.kinds[resource.kind]
        identity = kind.identity
        if not isinstance(identity, model.IdFormat):
            return True  # named and keyed kinds have no id format (skipped by the caller)
        key = resource.key
        ok = semantics.id_format_holds(identity, key, resource.data)
        if self.tracing:
            self._fact(
                "compare",
                f"{resource.kind} id {show(key)} "
                f"{'matches' if ok else 'does not match'} {identity.describe()}",
                f"{resource.pointer}/id",
                key,
            )
            self.frame.test = Test(
                "matches",
                Operand(f"the id of {resource.kind} {resource.key}", key, False),
                Operand(identity.describe(), identity.describe(), True),
            )
        return ok

    def range_test(self, op: plan.RangeOp, env: list[Any]) -> Truth:
        lv, rv = self.operand(op.left, env), self.operand(op.right, env)
        for v in (lv, rv):
            if isinstance(v, Unknown):
                return v
        if lv is MISSING or rv is MISSING:
            return False
        container, member = semantics.oriented(op.op, lv, rv)
        result = semantics.contains(op.kind, container, member)
        if result is None:
            return Unknown(f"{show(container)} or {show(member)} is not {semantics.noun(op.kind)}")
        if self.tracing:
            self._fact(
                "compare",
                f"{show(container)} {'covers' if result else 'does not cover'} {show(member)}",
            )
            self._test(op.op, (op.left, lv), (op.right, rv), env)
        return result

    def same_location(self, scope: str, left: Resource, right: Resource) -> Truth:
        lv, rv = getattr(left, scope), getattr(right, scope)
        for res, v in ((left, lv), (right, rv)):
            if v is None:
                return Unknown(f"{res.kind} {res.key} has no {scope}")
            if isinstance(v, UnknownValue):
                return Unknown(
                    f"the {scope} of {named_with_address(res)} is not known yet ({v.what})"
                )
            self._fact(
                "read",
                f"{kind_and_key(res)} is in {scope} {v}",
                f"{res.pointer}/{scope}",
                v,
                kind_and_key(res),
            )
        same = bool(lv == rv)
        if self.tracing:
            self._fact("compare", f"{lv} {'=' if same else '≠'} {rv}")
            self.frame.test = Test(
                "==",
                Operand(f"the {scope} of {left.kind} {left.key}", lv, False),
                Operand(f"the {scope} of {right.kind} {right.key}", rv, False),
            )
        return same


_TRACE_ELEMENTS = 8  # a passing `every` shows this many elements' evidence, not thousands
_OP_NAMES: dict[type, str] = {
    plan.AllOp: "all",
    plan.AnyOp: "any",
    plan.NotOp: "not",
    plan.QuantOp: "quantifier",
    plan.DefineOp: "define",
}
