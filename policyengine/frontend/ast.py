"""The syntax tree: frozen, slotted data with a span on every piece of user text.

Equality and repr ignore spans, so tests compare shapes. No behaviour beyond small
helpers and `dump()`, the position-free text form that snapshot tests pin.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Literal as Lit

from policyengine.core import semantics as sem
from policyengine.core.source import Span


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    # Position is metadata, as in Python's ast._attributes: excluded from ==, hash and
    # repr, so tests compare shapes and dumps stay readable.
    span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Name(Node):
    text: str


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True, kw_only=True)
class AttrSegment(Node):
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class KeySegment(Node):
    key: str  # tags["cost center"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VarSegment(Node):
    var: str  # tags[t]: the key is the value of a bound name


@dataclass(frozen=True, slots=True, kw_only=True)
class StarSegment(Node):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexSegment(Node):
    index: int  # disks[0]: the first element; disks[-1]: the last


Segment = AttrSegment | KeySegment | VarSegment | StarSegment | IndexSegment


@dataclass(frozen=True, slots=True, kw_only=True)
class Path(Node):
    head: Name  # `this`, a bound name, a kind in scope, a param or an attribute of `this`
    segments: tuple[Segment, ...] = ()

    def dotted(self) -> str:
        out = self.head.text
        for seg in self.segments:
            match seg:
                case AttrSegment(name=name):
                    out += f".{name}"
                case KeySegment(key=key):
                    out += f'["{key}"]'
                case VarSegment(var=var):
                    out += f"[{var}]"
                case StarSegment():
                    out += "[*]"
                case IndexSegment(index=index):
                    out += f"[{index}]"
        return out


class MapValue(Mapping[str, "LiteralValue"]):
    """`{"env": "prod"}`, a map param's default: a read-only, hashable mapping, as every
    part of the tree is."""

    __slots__ = ("_items",)

    def __init__(self, items: tuple[tuple[str, LiteralValue], ...]) -> None:
        self._items = items

    def __getitem__(self, key: str) -> LiteralValue:
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __repr__(self) -> str:
        return f"MapValue({dict(self._items)!r})"


LiteralValue = str | int | bool | tuple["LiteralValue", ...] | MapValue


@dataclass(frozen=True, slots=True, kw_only=True)
class Literal(Node):
    value: LiteralValue


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Node):
    function: Name
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Related(Node):
    """`this use image`, `disk attach this`: the resources one relation reaches."""

    left: Name
    verb: Name
    right: Name


@dataclass(frozen=True, slots=True, kw_only=True)
class LocatedIn(Node):
    """`instance located in this`: the resources of a kind in a region."""

    kind: Name
    place: Name


@dataclass(frozen=True, slots=True, kw_only=True)
class Count(Node):
    var: Name | None
    source: Collection
    where: Condition | None


Expr = Path | Literal | Call | Count
Collection = Path | Literal | Call | Count | Related | LocatedIn


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True, kw_only=True)
class Compare(Node):
    op: sem.Op
    op_span: Span = field(compare=False, repr=False)
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Member(Node):
    item: Expr
    collection: Expr
    negated: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Matches(Node):
    operand: Expr
    pattern: str
    pattern_span: Span = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdFormat(Node):
    operand: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeTest(Node):
    op: sem.Containment
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Presence(Node):
    operand: Expr
    test: sem.Presence
    negated: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Truthy(Node):
    operand: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class AllOf(Node):
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AnyOf(Node):
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Not(Node):
    condition: Condition


@dataclass(frozen=True, slots=True, kw_only=True)
class Quantifier(Node):
    quantifier: sem.Quantifier
    var: Name
    source: Collection
    where: Condition | None
    body: Condition


@dataclass(frozen=True, slots=True, kw_only=True)
class SameLocation(Node):
    """What `requires same zone` desugars to: the two ends of an edge share a location."""

    scope: Lit["zone", "region"]  # compares the subject with the edge's other end


Condition = (
    Compare
    | Member
    | Matches
    | IdFormat
    | RangeTest
    | Presence
    | Truthy
    | AllOf
    | AnyOf
    | Not
    | Quantifier
    | SameLocation
)


# ---------------------------------------------------------------- types (models and params)


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedType(Node):
    name: Name  # a scalar (string, int, ...) or a record


@dataclass(frozen=True, slots=True, kw_only=True)
class RefType(Node):
    kind: Name


@dataclass(frozen=True, slots=True, kw_only=True)
class ListType(Node):
    item: TypeExpr


@dataclass(frozen=True, slots=True, kw_only=True)
class MapType(Node):
    value: TypeExpr


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionalType(Node):
    inner: TypeExpr


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectType(Node):
    fields: tuple[Field, ...]


TypeExpr = NamedType | RefType | ListType | MapType | OptionalType | ObjectType


@dataclass(frozen=True, slots=True, kw_only=True)
class Field(Node):
    name: Name
    type: TypeExpr
    api: str | None = None  # `from "DescribeX"`: an export may lack this API


@dataclass(frozen=True, slots=True, kw_only=True)
class Define(Node):
    """`define world_open(r: sg_rule) = CONDITION`: a named, typed predicate."""

    name: Name
    params: tuple[Field, ...]
    body: Condition


# ---------------------------------------------------------------- models


@dataclass(frozen=True, slots=True, kw_only=True)
class Record(Node):
    name: Name
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class IdIdentity(Node):
    prefix: str
    length: int | None  # None: any length after the prefix
    name_when: Condition | None  # `or name when C`: no id format where C holds


@dataclass(frozen=True, slots=True, kw_only=True)
class NameIdentity(Node):
    attribute: Name


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyIdentity(Node):
    attributes: tuple[Name, ...]


Identity = IdIdentity | NameIdentity | KeyIdentity


@dataclass(frozen=True, slots=True, kw_only=True)
class Location(Node):
    scope: Lit["zone", "region", "global"]
    when: Condition | None = None  # `located in zone when C else region`
    otherwise: Lit["zone", "region"] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Kind(Node):
    name: Name
    identity: Identity
    location: Location
    unique_per_region: bool
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Extension(Node):
    """`extend kind instance { os_type: string }`: attributes added to a kind or record
    that a used model declares; the checker merges them into it."""

    target: Lit["kind", "record"]
    name: Name
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Relation(Node):
    source: Name
    verb: Name
    target: Name
    paths: tuple[Path, ...]
    when: Condition | None
    dangle_reason: str | None  # `may dangle "reason"`: a missing target is skipped
    join: tuple[Name, ...] = ()  # `on region`: a join on equal keys, instead of paths


@dataclass(frozen=True, slots=True, kw_only=True)
class Use(Node):
    name: Name  # dotted, e.g. alicloud.ecs


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelFile(Node):
    name: Name
    title: str | None
    uses: tuple[Use, ...]
    records: tuple[Record, ...]
    kinds: tuple[Kind, ...]
    relations: tuple[Relation, ...]
    defines: tuple[Define, ...] = ()
    extensions: tuple[Extension, ...] = ()


# ---------------------------------------------------------------- policies


@dataclass(frozen=True, slots=True, kw_only=True)
class Meta(Node):
    key: Lit["severity", "reference", "remediation", "title", "message", "tags", "enforcement"]
    value: str
    values: tuple[str, ...] = ()  # `tags ["a", "b"]`


@dataclass(frozen=True, slots=True, kw_only=True)
class Param(Node):
    name: Name
    type: TypeExpr
    default: Literal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sentence(Node):
    """`disk attach requires same zone`, as written; kept for explanations."""

    subject: Name
    verb: Name
    object: Name | None
    alias: Name | None
    scope: Lit["zone", "region"]
    where: Condition | None
    unless: Condition | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge(Node):
    """`for each disk, over every edge of this attach instance`: one outcome per edge."""

    verb: Name
    target: Name | None  # None: the only relation with this subject and verb
    alias: Name | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Let(Node):
    """`let n = count(this join security_group)`: a name for a value, once per subject."""

    name: Name
    value: Collection


@dataclass(frozen=True, slots=True, kw_only=True)
class ForEach(Node):
    """The core rule. A sentence desugars into one, with `edge` set and `origin` kept."""

    kind: Name
    alias: Name | None
    edge: Edge | None
    where: Condition | None
    lets: tuple[Let, ...] = ()
    mode: Lit["require", "forbid"]
    condition: Condition
    unless: Condition | None
    origin: Sentence | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule(Node):
    name: Name
    title: str | None
    meta: tuple[Meta, ...]
    body: ForEach | None  # None: the rule has no statement, a check error
    extra: tuple[ForEach, ...] = ()  # statements after the first: a check error

    def get(self, key: str) -> Meta | None:
        return next((m for m in self.meta if m.key == key), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy(Node):
    name: Name
    title: str | None
    params: tuple[Param, ...]
    meta: tuple[Meta, ...]
    rules: tuple[Rule, ...]
    defines: tuple[Define, ...] = ()

    def get(self, key: str) -> Meta | None:
        return next((m for m in self.meta if m.key == key), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyFile(Node):
    uses: tuple[Use, ...]
    policies: tuple[Policy, ...]
    defines: tuple[Define, ...] = ()


File = ModelFile | PolicyFile


def desugar(sentence: Sentence, clause: Span) -> ForEach:
    """`A VERB [B] requires same LOC` -> the core rule, one outcome per edge.

    `clause` is the span of `requires same LOC`, which explanations underline.
    """
    last = sentence.alias or sentence.object or sentence.verb
    edge = Edge(
        verb=sentence.verb,
        target=sentence.object,
        alias=sentence.alias,
        span=sentence.subject.span.to(last.span),  # `disk attach instance as peer`
    )
    return ForEach(
        kind=sentence.subject,
        alias=None,
        edge=edge,
        where=sentence.where,
        mode="require",
        condition=SameLocation(scope=sentence.scope, span=clause),
        unless=sentence.unless,
        origin=sentence,
        span=sentence.span,
    )


def walk(node: object, prune: tuple[type[Node], ...] = ()) -> Iterator[Node]:
    """Every node under `node`, depth first; the children of `prune` types are not entered."""
    if isinstance(node, tuple):
        for item in node:
            yield from walk(item, prune)
        return
    if not isinstance(node, Node):
        return
    yield node
    if isinstance(node, prune):
        return
    names = _WALKED.get(type(node))
    if names is None:  # found once per node type: `fields` builds its answer on each call
        names = tuple(f.name for f in fields(node) if f.name not in ("span", "origin"))
        _WALKED[type(node)] = names
    for name in names:
        yield from walk(getattr(node, name), prune)


_WALKED: dict[type, tuple[str, ...]] = {}


def dump(node: object, indent: int = 0) -> str:
    """A compact, position-free text form of a tree, for snapshot tests."""
    pad = "  " * indent
    if isinstance(node, Name):
        return repr(node.text)
    if isinstance(node, Node):
        lines = [type(node).__name__]
        for f in fields(node):
            value = getattr(node, f.name)
            if f.name in {"span", "origin"} or f.name.endswith("_span") or value in (None, ()):
                continue
            lines.append(f"{pad}  {f.name}: {dump(value, indent + 1)}")
        return "\n".join(lines)
    if isinstance(node, tuple) and node and all(isinstance(item, Node) for item in node):
        return "\n".join(
            ["["] + [f"{pad}  - {dump(item, indent + 2)}" for item in node] + [f"{pad}]"]
        )
    if isinstance(node, enum.Enum):
        return repr(node.value)  # as written: `'=='`, not the member's name
    return repr(node)


def _set_fields(names: tuple[str, ...]) -> Callable[[Node, list[object]], None]:
    set_field = object.__setattr__

    def __setstate__(self: Node, state: list[object]) -> None:
        for name, value in zip(names, state, strict=True):
            set_field(self, name, value)

    return __setstate__


def _quicker_unpickling(cls: type[Node]) -> None:
    """Trees are read back from the parse cache on every run (thousands of nodes for the
    bundled packs). A frozen, slotted dataclass's own `__setstate__` asks `fields()` for
    each node it restores; this one knows the names, in the order `__getstate__` gives
    the values, and reads the same cache entries in about half the time."""
    for sub in cls.__subclasses__():
        sub.__setstate__ = _set_fields(tuple(f.name for f in fields(sub)))  # type: ignore[attr-defined]
        _quicker_unpickling(sub)


_quicker_unpickling(Node)
