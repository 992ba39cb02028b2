"""Runs a plan over a store. Every (rule, resource) pair, or (rule, edge) for a sentence,
ends as pass, fail, error or skipped; nothing undecidable ever passes.

One evaluator, two modes. `evaluate` records nothing: it is the fast path. `trace`
re-runs one pair with recording on and returns the proof that explanations render.
Never raises on bad data: a missing value or a dangling reference is an `error` outcome.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, assert_never

from policyengine import model, plan
from policyengine.builtins import BUILTINS, Undecided
from policyengine.snapshot import pointer_escape
from policyengine.source import Span
from policyengine.store import Edge, Resource, Store


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


class _Missing(enum.Enum):
    ALLOWED = "missing"
    REQUIRED = "missing, and required"
    PARENT = "missing, under a missing required attribute"


# A path that does not exist (or is null) in the snapshot. Where the model allows it
# (optional, a map key) it is an ordinary value. Where it does not, using it is an error,
# and so is testing the presence of something under it: `a.b is set` cannot be decided
# when the required `a` is missing.
MISSING: Final = _Missing.ALLOWED
ABSENT: Final = _Missing.REQUIRED
PARENT: Final = _Missing.PARENT


@dataclass(frozen=True)
class Unknown:
    """Why a condition could not be decided; becomes an `error` outcome."""

    reason: str


Truth = bool | Unknown


@dataclass(frozen=True)
class Result:
    rule: plan.RulePlan
    resource: Resource
    status: Status
    reason: str = ""  # for error and skipped: why, in a sentence
    edge: Edge | None = None  # a sentence's edge
    target: Resource | None = None  # the edge's end this outcome is about


# ---------------------------------------------------------------- the proof


@dataclass(frozen=True)
class Fact:
    """One thing the evaluation looked at, said as a sentence, with its place in the data."""

    kind: str  # read | missing | follow | dangling | compare | element | call | count
    text: str
    pointer: str = ""  # JSON Pointer into the snapshot
    value: Any = None
    owner: str = ""  # the resource the text starts with ("disk d-1"), if any

    @property
    def brief(self) -> str:
        """The text without its owner, for a line that already names the resource."""
        prefix = f"{self.owner}: "
        return (
            self.text[len(prefix) :] if self.owner and self.text.startswith(prefix) else self.text
        )


@dataclass(frozen=True)
class Trace:
    """One condition as evaluated: its span, its truth, what it read and its parts."""

    op: str  # all | any | not | quantifier | leaf
    span: Span
    truth: Truth
    facts: tuple[Fact, ...] = ()
    children: tuple[Trace, ...] = ()


@dataclass(frozen=True)
class Proof:
    result: Result
    where: Trace | None
    unless: Trace | None
    condition: Trace | None
    edge_facts: tuple[Fact, ...]
    message: str


@dataclass
class _Frame:
    facts: list[Fact] = field(default_factory=list)
    children: list[Trace] = field(default_factory=list)


class _Elem:
    """A list element bound to a quantifier variable, with its pointer when tracing."""

    __slots__ = ("value", "pointer")

    def __init__(self, value: Any, pointer: str) -> None:
        self.value = value
        self.pointer = pointer


class _Evaluator:
    def __init__(self, store: Store, tracing: bool) -> None:
        self.store = store
        self.tracing = tracing
        self.frame = _Frame()
        self.witness: dict[int, Any] = {}  # slot -> the element that decided a quantifier

    # -- recording helpers (no-ops on the fast path)
    def _fact(
        self, kind: str, text: str, pointer: str = "", value: Any = None, owner: str = ""
    ) -> None:
        if self.tracing:
            self.frame.facts.append(Fact(kind, text, pointer, value, owner))

    # -- values
    def value(self, op: plan.Value, env: list[Any]) -> Any:
        match op:
            case plan.Const(value=value):
                return value
            case plan.Read():
                return self.read(op, env)
            case plan.CallOp(function=function, args=args):
                values = [_plain(self.value(a, env)) for a in args]
                for a, v in zip(args, values, strict=True):
                    if isinstance(v, Unknown) or v is MISSING:
                        return v  # an absent optional value stays an ordinary absence
                    if isinstance(v, _Missing):
                        return Unknown(f"{self.gone(a, env)}, so `{function}` cannot run")
                out = BUILTINS[function].impl(values, self.store)
                if isinstance(out, Undecided):
                    return Unknown(out.reason)
                self._fact("call", f"{op.span.text} = {_show(out)}", value=out)
                return out
            case plan.RelatedOp():
                return self.related(op, env)
            case plan.CountOp(slot=slot, source=source, where=where):
                items = self.value(source, env)
                if isinstance(items, Unknown):
                    return items
                if isinstance(items, _Missing):
                    return Unknown(f"{self.gone(source, env)}, so it cannot be counted")
                if where is None:
                    self._fact("count", f"{op.span.text} = {len(items)}", value=len(items))
                    return len(items)
                total = 0
                for item in items:
                    env[slot] = item
                    truth = self.cond(where, env)
                    if isinstance(truth, Unknown):
                        return truth
                    total += truth
                self._fact("count", f"{op.span.text} = {total}", value=total)
                return total
            case _:
                assert_never(op)

    def read(self, op: plan.Read, env: list[Any]) -> Any:
        start = env[op.slot]
        if not op.steps and isinstance(start, Resource):
            return start  # `{this}` in a message: the resource itself
        if isinstance(start, Resource):
            current: Any = start.data
            pointer = start.pointer if self.tracing else ""
            owner = f"{start.kind} {start.key}"
        elif isinstance(start, _Elem):
            current, pointer, owner = start.value, start.pointer, ""
        else:
            current, pointer, owner = start, "", ""
        values: list[tuple[Any, str]] = [(current, pointer)]
        plural = False
        for i, step in enumerate(op.steps):
            nxt: list[tuple[Any, str]] = []
            for value, ptr in values:
                if step.op == "star":
                    if isinstance(value, list):
                        nxt.extend(
                            (v, f"{ptr}/{j}" if self.tracing else "") for j, v in enumerate(value)
                        )
                    continue
                if step.op == "var":
                    key = env[step.slot]
                    key = key.value if isinstance(key, _Elem) else key
                else:
                    key = step.name
                if i == 0 and isinstance(start, Resource) and key in ("region", "zone"):
                    got = getattr(start, key)  # the region may come from the location table
                elif isinstance(value, Mapping):
                    got = value.get(key)
                else:
                    got = None
                if isinstance(value, _Missing):
                    nxt.append((value, ptr))  # the first absent step decides which it is
                elif got is not None:
                    nxt.append((got, f"{ptr}/{pointer_escape(str(key))}" if self.tracing else ""))
                elif not plural:
                    last = i == len(op.steps) - 1
                    gone = MISSING if step.optional else ABSENT if last else PARENT
                    nxt.append((gone, f"{ptr}/{pointer_escape(str(key))}" if self.tracing else ""))
            values = nxt
            plural = plural or step.op == "star"
        if plural:
            kept = [(v, p) for v, p in values if not isinstance(v, _Missing)]
            if self.tracing:
                self._fact(
                    "read",
                    f"{_subject(owner, _shown_path(op, env))} = {_show([v for v, _ in kept])}",
                    pointer,
                    [v for v, _ in kept],
                )
            return [_Elem(v, p) if self.tracing else v for v, p in kept]
        value, ptr = values[0] if values else (MISSING, pointer)
        if self.tracing:
            text = _subject(owner, _shown_path(op, env))
            if isinstance(value, _Missing):
                self._fact("missing", f"{text} is missing", ptr, owner=owner)
            else:
                self._fact("read", f"{text} = {_show(value)}", ptr, value, owner)
        return value

    def related(self, op: plan.RelatedOp, env: list[Any]) -> Any:
        anchor = env[op.slot]
        assert isinstance(anchor, Resource)
        relation = op.relation
        out: list[Resource] = []
        if op.forward:
            for path, pointer in self.store.incomplete(relation, anchor):
                return Unknown(_incomplete(relation, anchor, path, pointer))
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
                    return Unknown(_dangling(edge))
                for target in edge.targets:
                    self._fact("follow", _follow(edge, target), edge.pointer)
                    out.append(target)
        else:
            # Any source whose path is incomplete might point here: the list is unknown.
            for source, path, pointer in self.store.incomplete_sources(relation)[:1]:
                return Unknown(
                    f"the {relation.source}s that {relation.verb} {anchor.kind} {anchor.key} "
                    f"cannot be listed: {_incomplete(relation, source, path, pointer)}"
                )
            for edge in self.store.edges_to(relation, anchor):
                self._fact("follow", _follow(edge, anchor), edge.pointer)
                out.append(edge.source)
        return out

    # -- conditions
    def cond(self, op: plan.Cond, env: list[Any]) -> Truth:
        if not self.tracing:
            return self._cond(op, env)
        parent, self.frame = self.frame, _Frame()
        truth = self._cond(op, env)
        node = Trace(
            _OP_NAMES.get(type(op), "leaf"),
            op.span,
            truth,
            tuple(self.frame.facts),
            tuple(self.frame.children),
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
                result = bool(_COMPARE[name](lv, rv))
                self._fact("compare", f"`{op.span.text}` is {str(result).lower()}")
                return result
            case plan.MemberOp(item=item, collection=coll, negated=negated):
                iv, cv = self.operand(item, env), self.operand(coll, env)
                if isinstance(iv, Unknown):
                    return iv
                if isinstance(cv, Unknown):
                    return cv
                if iv is MISSING or cv is MISSING:
                    return False
                values = [c.value if isinstance(c, _Elem) else c for c in cv]
                found = iv in values
                self._fact("compare", f"{_show(iv)} is {'' if found else 'not '}in {_show(values)}")
                return found != negated
            case plan.MatchOp(operand=operand, regex=regex, pattern=pattern):
                v = self.operand(operand, env)
                if isinstance(v, Unknown):
                    return v
                if v is MISSING:
                    return False
                ok = regex.fullmatch(v) is not None
                self._fact(
                    "compare", f"{_show(v)} {'matches' if ok else 'does not match'} /{pattern}/"
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
                if isinstance(v, _Elem):
                    v = v.value
                if v is PARENT:
                    tested = (
                        _shown_path(operand, env)
                        if isinstance(operand, plan.Read)
                        else _text(operand)
                    )
                    return Unknown(f"`{tested}` cannot be tested: {self.gone(operand, env)}")
                missing = isinstance(v, _Missing)
                empty = not missing and v in ("", [], {})
                result = {
                    "present": not missing,
                    "missing": missing,
                    "set": not missing and not empty,
                    "empty": empty,
                }[test]
                return result != negated
            case plan.TruthyOp(operand=operand):
                v = self.operand(operand, env)
                if isinstance(v, Unknown):
                    return v
                if v is MISSING:
                    return False
                if not isinstance(v, bool):
                    return Unknown(f"`{_text(operand)}` is {_show(v)}, not true or false")
                return v
            case plan.AllOp(ops=ops):
                return self.junction(ops, env, decided_by=False)
            case plan.AnyOp(ops=ops):
                return self.junction(ops, env, decided_by=True)
            case plan.NotOp(op=inner):
                t = self.cond(inner, env)
                return t if isinstance(t, Unknown) else not t
            case plan.QuantOp():
                return self.quantifier(op, env)
            case plan.SameLocationOp(scope=scope, left=left, right=right):
                return self.same_location(scope, env[left], env[right])
            case _:
                assert_never(op)

    def junction(self, ops: tuple[plan.Cond, ...], env: list[Any], decided_by: bool) -> Truth:
        """`and` (decided by a false part) or `or` (by a true one), in Kleene logic: an
        unknown part matters only when no part decides."""
        unknown: Unknown | None = None
        for child in ops:
            t = self.cond(child, env)
            if t is decided_by:
                return decided_by
            if isinstance(t, Unknown) and unknown is None:
                unknown = t
        return unknown or not decided_by

    def operand(self, op: plan.Value, env: list[Any]) -> Any:
        """A value a comparison uses: a missing non-optional value is `Unknown`."""
        v = self.value(op, env)
        if isinstance(v, _Elem):
            v = v.value
        if v is ABSENT or v is PARENT:
            return Unknown(self.gone(op, env))
        return v

    def gone(self, op: plan.Value, env: list[Any]) -> str:
        """Which attribute a missing value lacks, said for a person: "`metadata_options` of
        instance i-1 is missing" (not the path the rule wrote, which may go deeper)."""
        if not isinstance(op, plan.Read):
            return f"`{_text(op)}` is missing"
        start = env[op.slot]
        if isinstance(start, Resource):
            current: Any = start.data
            shown, owner = "", f" of {start.kind} {start.key}"
        else:
            current = start.value if isinstance(start, _Elem) else start
            shown, owner = re.split(r"[.\[]", op.text, maxsplit=1)[0], ""
        for i, step in enumerate(op.steps):
            if step.op == "star":
                break
            key = env[step.slot] if step.op == "var" else step.name
            key = key.value if isinstance(key, _Elem) else key
            shown += f".{key}" if step.op == "attr" else f"[{_show(key)}]"
            if i == 0 and isinstance(start, Resource) and key in ("region", "zone"):
                current = getattr(start, key)
            else:
                current = current.get(key) if isinstance(current, Mapping) else None
            if current is None:
                break
        return f"`{shown.lstrip('.')}`{owner} is missing"

    def quantifier(self, op: plan.QuantOp, env: list[Any]) -> Truth:
        items = self.value(op.source, env)
        if isinstance(items, Unknown):
            return items
        if isinstance(items, _Missing):
            return Unknown(self.gone(op.source, env))
        if not isinstance(items, list):
            return Unknown(f"`{_text(op.source)}` is {_show(items)}, not a list")
        unknown: Unknown | None = None
        decided_by = {"every": False, "any": True, "no": True}[op.quantifier]
        considered = 0
        for item in items:
            env[op.slot] = item if isinstance(item, Resource | _Elem) else _Elem(item, "")
            # When tracing, keep only what the deciding element did: the proof is minimal.
            mark_children = len(self.frame.children)
            if op.where is not None:
                keep = self.cond(op.where, env)
                if isinstance(keep, Unknown):
                    unknown = unknown or keep
                    continue
                if not keep:
                    continue
            considered += 1
            t = self.cond(op.body, env)
            if t is decided_by:
                if self.tracing:
                    del self.frame.children[:mark_children]
                self.witness[op.slot] = env[op.slot]
                self._fact(
                    "element",
                    f"decided by {op.var} = {_show_item(env[op.slot])}",
                    _pointer_of(env[op.slot]),
                )
                return op.quantifier == "any"
            if isinstance(t, Unknown) and unknown is None:
                unknown = t
                if self.tracing:  # keep the element that could not be decided, drop others
                    del self.frame.children[:mark_children]
            elif self.tracing and len(self.frame.children) > _TRACE_ELEMENTS:
                del self.frame.children[mark_children:]
        if unknown is not None:
            return unknown
        self._fact("element", f"{considered} {op.var} considered; none decided otherwise")
        return op.quantifier != "any"

    def id_format(self, resource: Resource) -> Truth:
        kind = self.store.model.kinds[resource.kind]
        identity = kind.identity
        if not isinstance(identity, model.IdFormat):
            return True  # named and keyed kinds have no id format (skipped by the caller)
        if identity.name_when is not None and identity.name_when.holds(resource.data):
            return True
        key = resource.key
        tail = key[len(identity.prefix) :]
        ok = (
            key.startswith(identity.prefix)
            and tail.isascii()
            and tail.isalnum()
            and tail == tail.lower()
            and (identity.length is None or len(tail) == identity.length)
        )
        self._fact(
            "compare",
            f"{resource.kind} id {_show(key)} "
            f"{'matches' if ok else 'does not match'} {identity.describe()}",
            f"{resource.pointer}/id",
            key,
        )
        return ok

    def range_test(self, op: plan.RangeOp, env: list[Any]) -> Truth:
        lv, rv = self.operand(op.left, env), self.operand(op.right, env)
        for v in (lv, rv):
            if isinstance(v, Unknown):
                return v
        if lv is MISSING or rv is MISSING:
            return False
        container, member = (lv, rv) if op.op == "covers" else (rv, lv)
        if op.kind == "port":
            outer = model.parse_port_range(str(container))
            inner = model.parse_port_range(str(member))
            if outer is None or inner is None:
                return Unknown(f"{_show(container)} or {_show(member)} is not a port range")
            result = outer[0] <= inner[0] and inner[1] <= outer[1]
        else:
            net, sub = model.parse_cidr(str(container)), model.parse_cidr(str(member))
            if net is None or sub is None:
                return Unknown(f"{_show(container)} or {_show(member)} is not a CIDR block")
            result = net.version == sub.version and sub.subnet_of(net)  # type: ignore[arg-type]
        self._fact(
            "compare",
            f"{_show(container)} {'covers' if result else 'does not cover'} {_show(member)}",
        )
        return result

    def same_location(self, scope: str, left: Resource, right: Resource) -> Truth:
        lv, rv = getattr(left, scope), getattr(right, scope)
        for res, v in ((left, lv), (right, rv)):
            if v is None:
                return Unknown(f"{res.kind} {res.key} has no {scope}")
            self._fact(
                "read", f"{res.kind} {res.key} is in {scope} {v}", f"{res.pointer}/{scope}", v
            )
        same = bool(lv == rv)
        self._fact("compare", f"{lv} {'=' if same else '≠'} {rv}")
        return same


_TRACE_ELEMENTS = 8  # a passing `every` shows this many elements' evidence, not thousands
_OP_NAMES: dict[type, str] = {
    plan.AllOp: "all",
    plan.AnyOp: "any",
    plan.NotOp: "not",
    plan.QuantOp: "quantifier",
}

_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _plain(value: Any) -> Any:
    """A value without its quantifier wrapping: built-ins see plain JSON values."""
    if isinstance(value, _Elem):
        return value.value
    if isinstance(value, list):
        return [v.value if isinstance(v, _Elem) else v for v in value]
    return value


def _text(op: plan.Value) -> str:
    return op.text if isinstance(op, plan.Read | plan.Const) else op.span.text


def _shown_path(op: plan.Read, env: list[Any]) -> str:
    """The path as written, with each `[name]` key replaced by the key it held."""
    text = op.text
    for step in op.steps:
        if step.op == "var":
            key = env[step.slot]
            key = key.value if isinstance(key, _Elem) else key
            text = text.replace(f"[{step.name}]", f"[{_show(key)}]", 1)
    return text


def _subject(owner: str, path: str) -> str:
    return f"{owner}: {path}" if owner else path


def _show(value: Any) -> str:
    if isinstance(value, _Elem):
        value = value.value
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Resource):
        return f"{value.kind} {value.key}"
    if isinstance(value, _Missing):
        return "missing"
    if isinstance(value, dict):
        return "{…}"
    return str(value)


def _show_item(item: Any) -> str:
    return _show(item)


def _pointer_of(item: Any) -> str:
    if isinstance(item, Resource):
        return item.pointer
    if isinstance(item, _Elem):
        return item.pointer
    return ""


def _follow(edge: Edge, target: Resource) -> str:
    via = ", ".join(edge.paths)
    return (
        f"{edge.source.kind} {edge.source.key} {edge.relation.verb} {target.kind} "
        f"{target.key} (via {via})"
    )


def _incomplete(relation: model.Relation, source: Resource, path: str, pointer: str) -> str:
    attribute = pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
    gap = f"`{attribute}` of {source.kind} {source.key} is missing"
    if path.startswith("when "):
        return f"{gap}, so whether it has a `{relation.name}` edge cannot be told"
    return f"{gap}, so `{relation.name}` cannot be followed through `{path}`"


def _dangling(edge: Edge) -> str:
    return (
        f"{edge.source.kind} {edge.source.key} names {edge.relation.target} "
        f"`{edge.value}` ({', '.join(edge.paths)}), which is not in the snapshot"
    )


# ---------------------------------------------------------------- rules


def _decide(ev: _Evaluator, rule: plan.RulePlan, env: list[Any]) -> tuple[Status, str]:
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


_RANK = {Status.PASS: 0, Status.SKIPPED: 1, Status.ERROR: 2, Status.FAIL: 3}


def _run(ev: _Evaluator, rule: plan.RulePlan, resource: Resource) -> Iterator[Result]:
    env: list[Any] = [None] * rule.slots
    env[0] = resource
    if rule.edge is None:
        status, reason = _decide(ev, rule, env)
        yield Result(rule, resource, status, reason)
        return
    edges = ev.store.edges_from(rule.edge, resource)
    for path, pointer in ev.store.incomplete(rule.edge, resource):
        # An edge may be hidden behind the missing attribute: that cannot be a pass.
        yield Result(rule, resource, Status.ERROR, _incomplete(rule.edge, resource, path, pointer))
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
                yield Result(rule, resource, Status.ERROR, _dangling(edge), edge)
            continue
        # Several candidates (a name unique per region): the edge holds if one satisfies it.
        best: tuple[Status, str, Resource] | None = None
        for target in edge.targets:
            env[1] = target
            status, reason = _decide(ev, rule, env)
            if best is None or _RANK[status] < _RANK[best[0]]:
                best = (status, reason, target)
        assert best is not None
        yield Result(rule, resource, best[0], best[1], edge, best[2])


def evaluate(compiled: plan.Plan, store: Store) -> list[Result]:
    """Every outcome, in snapshot order then policy order. Records no evidence."""
    ev = _Evaluator(store, tracing=False)
    results: list[Result] = []
    for resource in store.resources:
        for rule in compiled.by_kind.get(resource.kind, ()):
            results.extend(_run(ev, rule, resource))
    return results


def trace(store: Store, result: Result) -> Proof:
    """Re-evaluates one outcome with recording on: the evidence behind it."""
    rule, resource = result.rule, result.resource
    ev = _Evaluator(store, tracing=True)
    env: list[Any] = [None] * rule.slots
    env[0] = resource
    edge_facts: list[Fact] = []
    if result.edge is not None:
        if result.target is not None:
            env[1] = result.target
            edge_facts.append(
                Fact(
                    "follow",
                    _follow(result.edge, result.target),
                    result.edge.pointer,
                    result.edge.value,
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
                Fact("dangling", _dangling(result.edge), result.edge.pointer, result.edge.value)
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
            ev.frame = _Frame()
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


def render_message(ev: _Evaluator, rule: plan.RulePlan, env: list[Any]) -> str:
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
        v = ev.value(part.value, env)
        ev.tracing = saved
        if isinstance(v, _Elem):
            v = v.value
        out.append(
            "?" if isinstance(v, _Missing | Unknown) else v if isinstance(v, str) else _show(v)
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
