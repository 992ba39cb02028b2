"""The resolved vocabulary: kinds, identities, locations, typed attributes and relations.

Built from `*.model` files by the checker; read by the checker (to type policies), by the
store (to validate snapshots and index relations) and by the interpreter. Pure data.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from policyengine.core import semantics
from policyengine.core.source import Span

SCALARS = ("string", "int", "bool", "time", "cidr", "port_range")


@dataclass(frozen=True)
class Scalar:
    name: str  # one of SCALARS


@dataclass(frozen=True)
class RefT:
    kind: str  # a string that names a resource of this kind


@dataclass(frozen=True)
class ListT:
    item: Type


@dataclass(frozen=True)
class MapT:
    value: Type


@dataclass(frozen=True)
class OptionalT:
    inner: Type


@dataclass(frozen=True)
class RecordT:
    name: str | None  # None for an inline `{...}` object
    fields: tuple[tuple[str, Type], ...]
    # `from "DescribeX"`: attribute -> the API an export must have called to hold it.
    apis: tuple[tuple[str, str], ...] = ()

    @property
    def by_name(self) -> Mapping[str, Type]:
        return dict(self.fields)


@dataclass(frozen=True)
class ResourceT:
    kind: str  # a whole resource: `this`, or an element of `this use image`


@dataclass(frozen=True)
class AnyT:
    """The type of something that already produced a diagnostic: checks stay quiet."""


Type = Scalar | RefT | ListT | MapT | OptionalT | RecordT | ResourceT | AnyT

STRING = Scalar("string")
INT = Scalar("int")
BOOL = Scalar("bool")


def describe(t: Type) -> str:
    match t:
        case Scalar(name=name):
            return name
        case RefT(kind=kind):
            return f"id of {kind}"
        case ListT(item=item):
            return f"list of {describe(item)}"
        case MapT(value=value):
            return f"map of {describe(value)}"
        case OptionalT(inner=inner):
            return f"optional {describe(inner)}"
        case RecordT(name=name):
            return name or "object"
        case ResourceT(kind=kind):
            return kind
        case AnyT():
            return "any"


def unwrap(t: Type) -> Type:
    """The type without `optional`."""
    while isinstance(t, OptionalT):
        t = t.inner
    return t


def value_class(t: Type) -> str:
    """What a value of this type compares as: ids and times are strings in a snapshot."""
    t = unwrap(t)
    match t:
        case Scalar(name="int"):
            return "int"
        case Scalar(name="bool"):
            return "bool"
        case Scalar() | RefT():
            return "string"
        case ListT():
            return "list"
        case MapT() | RecordT():
            return "object"
        case ResourceT():
            return "resource"
        case AnyT():
            return "any"
    return "any"


# ---------------------------------------------------------------- kinds and relations


@dataclass(frozen=True)
class GuardTerm:
    path: tuple[str, ...]  # attribute path from the resource
    op: semantics.Op  # == or !=
    value: str | int | bool
    optional: bool  # the attribute may be absent (then it equals nothing)


@dataclass(frozen=True)
class Guard:
    """A model `when`: attributes compared with literals, all of which must hold.

    Model guards stay this simple on purpose: they decide identity and edges while a
    snapshot is indexed, before any rule runs. The only thing that can leave one
    undecided is a missing required attribute, which `missing` names.
    """

    terms: tuple[GuardTerm, ...]
    text: str

    def missing(self, data: Mapping[str, object]) -> str | None:
        """The first required attribute the guard reads that `data` lacks, if any."""
        for term in self.terms:
            if not term.optional and _at(data, term.path) is None:
                return ".".join(term.path)
        return None

    def holds(self, data: Mapping[str, object]) -> bool:
        """Whether every term holds; call `missing` first, or an absence reads as false."""
        return all(
            semantics.compare(term.op, _at(data, term.path), term.value) for term in self.terms
        )


def _at(data: Mapping[str, object], path: tuple[str, ...]) -> object:
    value: object = data
    for step in path:
        value = value.get(step) if isinstance(value, Mapping) else None
    return value


@dataclass(frozen=True)
class IdFormat:
    prefix: str
    length: int | None  # characters after the prefix; None: any length
    name_when: Guard | None  # where this holds the id is a name and has no format

    def describe(self) -> str:
        tail = "[0-9a-z]+" if self.length is None else f"[0-9a-z]{{{self.length}}}"
        return f"{self.prefix}{tail}"


@dataclass(frozen=True)
class NamedBy:
    attribute: str


@dataclass(frozen=True)
class KeyedBy:
    attributes: tuple[str, ...]


Identity = IdFormat | NamedBy | KeyedBy
Scope = Literal["zone", "region", "global"]


@dataclass(frozen=True)
class Kind:
    name: str
    identity: Identity
    scope: Scope
    # `located in zone when C else region`: `scope` applies where the guard holds; the
    # store takes a zone from the data only there.
    scope_when: Guard | None
    otherwise: Scope | None
    unique_per_region: bool
    attributes: RecordT  # declared attributes plus the envelope (kind, id, region, zone)
    declared: frozenset[str]  # the attributes the model itself declares
    span: Span = field(compare=False, repr=False)

    def may_have(self, scope: Scope) -> bool:
        return self.scope == scope or self.otherwise == scope

    def names_public(self, value: object) -> bool:
        """Whether `value` names a public resource of this kind: one whose id is its name
        (`id "m-" + 20 or name when ...`). A public resource (a public image, a common
        Cloud Assistant command) has that one id in every region, so such a name exists
        in every region whether or not the snapshot lists it there."""
        identity = self.identity
        return (
            isinstance(identity, IdFormat)
            and identity.name_when is not None
            and isinstance(value, str)
            and value != ""
            and not value.startswith(identity.prefix)
        )


@dataclass(frozen=True)
class RelationPath:
    steps: tuple[str, ...]  # attribute names after the kind it starts at; "*" for `[*]`
    optional: tuple[bool, ...]  # per step: may it be absent? (else the data is incomplete)
    text: str  # as written: `disk.attachments[*].instance_id`
    span: Span = field(compare=False, repr=False)
    # Starts at the target kind and names sources: `deployment_set.instance_ids[*]`.
    from_target: bool = False


@dataclass(frozen=True)
class Relation:
    source: str
    verb: str
    target: str
    paths: tuple[RelationPath, ...]
    when: Guard | None
    dangle_reason: str | None
    span: Span = field(compare=False, repr=False)
    join: tuple[str, ...] = ()  # `on region`: an edge for every pair with equal keys
    target_when: Guard | None = None  # the `when` terms that read the target

    @property
    def name(self) -> str:
        return f"{self.source} {self.verb} {self.target}"

    @property
    def how(self) -> str:
        """How its edges are found, as written: `via a.b, c.d` or `on region`."""
        if self.join:
            return "on " + ", ".join(self.join)
        return "via " + ", ".join(p.text for p in self.paths)


@dataclass(frozen=True)
class Model:
    names: tuple[str, ...]  # the model files that contributed, e.g. ("alicloud.ecs",)
    kinds: Mapping[str, Kind]
    relations: tuple[Relation, ...]
    records: Mapping[str, RecordT] = field(default_factory=dict)

    def relations_of(self, source: str, verb: str) -> list[Relation]:
        return [r for r in self.relations if r.source == source and r.verb == verb]

    def relation(self, source: str, verb: str, target: str) -> Relation | None:
        return next((r for r in self.relations_of(source, verb) if r.target == target), None)


# ---------------------------------------------------------------- value types


def parse_port_range(text: str) -> tuple[int, int] | None:
    """`"22/22"` or `"22"` -> (22, 22); `"-1/-1"` is every port. None if malformed."""
    parts = text.split("/")
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(re.fullmatch(r"-?[0-9]+", p) for p in parts):
        return None
    low, high = int(parts[0]), int(parts[1])
    if (low, high) == (-1, -1):
        return (0, 65535)
    if not 0 <= low <= high <= 65535:
        return None
    return low, high


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time; one without a zone is read as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def canonical_time(text: str) -> str | None:
    """A time as the engine stores and compares it: UTC, to the second, in one fixed-width
    form, so that text order is time order whatever offset the input used."""
    value = parse_time(text)
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_cidr(text: str) -> str | None:
    """A CIDR block in its network form (`10.0.0.1/8` is `10.0.0.0/8`)."""
    network = parse_cidr(text)
    return None if network is None else str(network)


def parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
