"""A snapshot loaded for evaluation: resources checked against the model, identities,
the location table, and every relation indexed once, in both directions.

Following `disk attach instance` from either end is then a dictionary lookup; no rule
ever scans all resources per resource. Raises `InputError` for data the model rejects.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from policyengine import model
from policyengine.diagnostics import did_you_mean
from policyengine.snapshot import InputError, Problem, Snapshot, describe_json, pointer_escape


class Resource:
    """One resource: its data as given, and where it sits in the snapshot."""

    __slots__ = ("index", "kind", "key", "data", "region", "zone", "file")

    def __init__(
        self,
        index: int,
        kind: str,
        key: str,
        data: dict[str, Any],
        region: str | None,
        zone: str | None,
        file: str,
    ) -> None:
        self.index = index
        self.kind = kind
        self.key = key  # the id, name or composite key a person reads
        self.data = data
        self.region = region  # from the data, or from the location table for a zone
        self.zone = zone
        self.file = file

    @property
    def pointer(self) -> str:
        return f"/resources/{self.index}"

    def __repr__(self) -> str:
        return f"{self.kind} {self.key}"


@dataclass(frozen=True)
class Edge:
    """One edge of a relation: a source, the value it names, and what that resolves to."""

    relation: model.Relation
    source: Resource
    value: str  # the id or name the source holds
    targets: tuple[Resource, ...]  # several where the target is unique per region; () dangles
    paths: tuple[str, ...]  # the relation paths that produced it
    pointer: str  # where the value sits, under the source


class LocationTable:
    """Regions and zones as the snapshot knows them; never guessed from a zone's name.

    The snapshot's `locations` (from DescribeZones) are authoritative; without them the
    table is learned from the (region, zone) pairs the resources carry.
    """

    def __init__(self, declared: Mapping[str, list[str]] | None) -> None:
        self._declared: dict[str, str] = {}  # zone -> region, as DescribeZones says
        self._seen: dict[str, set[str]] = defaultdict(set)  # zone -> regions resources claim
        self._zones: dict[str, set[str]] = defaultdict(set)  # region -> zones
        for region, zones in (declared or {}).items():
            for zone in zones:
                self._declared[zone] = region
                self._zones[region].add(zone)

    def add(self, region: str, zone: str) -> None:
        self._seen[zone].add(region)
        if not self._declared:
            self._zones[region].add(zone)

    def region_of(self, zone: str) -> str | None:
        """The zone's region; None when unknown, or claimed by several regions."""
        if self._declared:
            return self._declared.get(zone)  # what resources claim cannot extend it
        regions = self._seen.get(zone, set())
        return next(iter(regions)) if len(regions) == 1 else None

    def zones_of(self, region: str) -> tuple[str, ...]:
        return tuple(sorted(self._zones.get(region, ())))

    def unknown_zone(self, zone: str) -> str:
        """Why `region_of(zone)` has no answer, in a sentence."""
        if self._declared:
            return f"zone `{zone}` is not in the snapshot's `locations`"
        regions = sorted(self._seen.get(zone, ()))
        if len(regions) > 1:
            return f"resources place zone `{zone}` in several regions: {', '.join(regions)}"
        return f"no resource in the snapshot places zone `{zone}` in a region"


class Store:
    def __init__(self, snapshot: Snapshot, m: model.Model) -> None:
        self.file = snapshot.file
        self.model = m
        self.captured_at = snapshot.envelope.captured_at
        self.locations = LocationTable(snapshot.envelope.locations)
        self.resources: list[Resource] = []
        self.by_kind: dict[str, list[Resource]] = {k: [] for k in m.kinds}
        self._identity: dict[str, dict[str, list[Resource]]] = {k: {} for k in m.kinds}
        # Keyed by relation name: hashing a Relation hashes all its paths, on every lookup.
        self._out: dict[str, dict[int, list[Edge]]] = {}
        self._in: dict[str, dict[int, list[Edge]]] = {}
        # Sources whose relation path stops at a missing required attribute: (path, pointer).
        self._absent: dict[str, dict[int, list[tuple[str, str]]]] = {}
        problems: list[Problem] = []
        # Building the tables makes millions of objects and no cycles: the cyclic
        # collector would re-walk the growing heap again and again (measured: most of
        # the indexing time at 100,000 instances).
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._load(snapshot.resources, problems)
            self.resources_by_index = {r.index: r for r in self.resources}
            if problems:
                raise InputError(problems)
            for relation in m.relations:
                self._index(relation)
        finally:
            if enabled:
                gc.enable()

    # -- loading
    def _load(self, raw: list[dict[str, Any]], problems: list[Problem]) -> None:
        seen: dict[tuple[str, str | None, str], int] = {}
        # Per kind, a validator per declared attribute: a quick yes for good data; only a
        # value it refuses is walked again to say where and why.
        checks = {
            kind.name: tuple(
                (name, t, _validator(t))
                for name, t in kind.attributes.fields
                if name in kind.declared
            )
            for kind in self.model.kinds.values()
        }
        for index, data in enumerate(raw):
            at = f"/resources/{index}"
            kind_name = data["kind"]
            kind = self.model.kinds.get(kind_name)
            if kind is None:
                hint = did_you_mean(kind_name, self.model.kinds) or (
                    "the model knows " + ", ".join(f"`{k}`" for k in sorted(self.model.kinds))
                )
                problems.append(
                    Problem(self.file, f"{at}/kind", f"unknown kind `{kind_name}`; {hint}")
                )
                continue
            key = self._key(kind, data, at, problems)
            if key is None:
                continue
            before = len(problems)
            for name, t, valid in checks[kind.name]:
                value = data.get(name)
                if value is not None and not valid(value):
                    _check_type(value, t, self.file, f"{at}/{pointer_escape(name)}", problems)
            if len(problems) > before:
                continue
            region, zone = data.get("region"), data.get("zone")
            if zone and region:
                self.locations.add(region, zone)
            scope_key = region if kind.unique_per_region else None
            ident = (kind.name, scope_key, key)
            if ident in seen:
                where = f" in region `{region}`" if kind.unique_per_region else ""
                problems.append(
                    Problem(
                        self.file,
                        at,
                        f"duplicate {kind.name} `{key}`{where}: also at /resources/{seen[ident]}",
                    )
                )
                continue
            seen[ident] = index
            resource = Resource(index, kind.name, key, data, region, zone, self.file)
            self.resources.append(resource)
            self.by_kind[kind.name].append(resource)
            self._identity[kind.name].setdefault(key, []).append(resource)
        # A zone-located resource without a region learns it from the location table.
        for resource in self.resources:
            if resource.region is None and resource.zone is not None:
                resource.region = self.locations.region_of(resource.zone)

    def _key(
        self, kind: model.Kind, data: dict[str, Any], at: str, problems: list[Problem]
    ) -> str | None:
        match kind.identity:
            case model.IdFormat():
                names: tuple[str, ...] = ("id",)
            case model.NamedBy(attribute=attribute):
                names = (attribute,)
            case model.KeyedBy(attributes=attributes):
                names = attributes
        values = []
        for name in names:
            value = data.get(name)
            if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
                found = "nothing" if value is None else describe_json(value)
                problems.append(
                    Problem(
                        self.file,
                        f"{at}/{pointer_escape(name)}",
                        f"a {kind.name} is identified by `{name}`: expected a "
                        f"non-empty string, found {found}",
                    )
                )
                return None
            values.append(str(value))
        # Keys join in declared order: `keyed by (ram_role_name, instance_id)` reads
        # `EcsRole@i-bp1…`, the way a person names the row.
        return "@".join(values)

    # -- relations
    def _index(self, relation: model.Relation) -> None:
        out: dict[int, list[Edge]] = {}
        absent: dict[int, list[tuple[str, str]]] = {}
        into: dict[int, list[Edge]] = defaultdict(list)
        targets = self._identity[relation.target]
        escaped = {path: tuple(map(pointer_escape, path.steps)) for path in relation.paths}
        for source in self.by_kind[relation.source]:
            if relation.when is not None:
                lacking = relation.when.missing(source.data)
                if lacking is not None:  # cannot tell whether the edge exists
                    pointer = f"{source.pointer}/{pointer_escape(lacking.split('.')[0])}"
                    absent.setdefault(source.index, []).append(
                        (f"when {relation.when.text}", pointer)
                    )
                    continue
                if not relation.when.holds(source.data):
                    continue
            found: dict[str, tuple[list[str], str]] = {}
            for path in relation.paths:
                found_at = _values_at(source.data, path, escaped[path], 0, source.pointer)
                for value, pointer in found_at:
                    if value is _ABSENT:
                        absent.setdefault(source.index, []).append((path.text, pointer))
                        continue
                    if value is None or value == "":
                        continue  # a missing, null or "" id makes no edge
                    key = str(value)
                    if key in found:
                        found[key][0].append(path.text)
                    else:
                        found[key] = ([path.text], pointer)
            edges = []
            for value, (paths, pointer) in found.items():
                edge = Edge(
                    relation,
                    source,
                    value,
                    tuple(targets.get(value, ())),
                    tuple(dict.fromkeys(paths)),
                    pointer,
                )
                edges.append(edge)
                for target in edge.targets:
                    into[target.index].append(edge)
            if edges:
                out[source.index] = edges
        self._out[relation.name] = out
        self._in[relation.name] = dict(into)
        self._absent[relation.name] = absent

    def edges_from(self, relation: model.Relation, resource: Resource) -> list[Edge]:
        return self._out[relation.name].get(resource.index, [])

    def edges_to(self, relation: model.Relation, resource: Resource) -> list[Edge]:
        return self._in[relation.name].get(resource.index, [])

    def incomplete(self, relation: model.Relation, resource: Resource) -> list[tuple[str, str]]:
        """Where following `relation` from `resource` met a missing required attribute."""
        return self._absent[relation.name].get(resource.index, [])

    def edge_index(
        self, relation: model.Relation
    ) -> tuple[Mapping[int, list[Edge]], Mapping[int, list[tuple[str, str]]]]:
        """A relation's edges by source index, and its incomplete sources by index: for a
        caller that follows the relation from many resources."""
        return self._out[relation.name], self._absent[relation.name]

    def incomplete_sources(self, relation: model.Relation) -> list[tuple[Resource, str, str]]:
        """Every source of `relation` whose edges are not all known, in snapshot order."""
        return [
            (self.resources_by_index[index], path, pointer)
            for index, gaps in self._absent[relation.name].items()
            for path, pointer in gaps
        ]

    def region_of(self, zone: str) -> str | None:
        return self.locations.region_of(zone)

    def zones_of(self, region: str) -> tuple[str, ...]:
        return self.locations.zones_of(region)

    def unknown_zone(self, zone: str) -> str:
        return self.locations.unknown_zone(zone)


class _Absent:
    """A relation path stopped at an attribute the model requires: the data is incomplete."""


_ABSENT = _Absent()


def _values_at(
    data: Any, path: model.RelationPath, escaped: tuple[str, ...], at: int, pointer: str
) -> Iterator[tuple[Any, str]]:
    """Every value a relation path reaches, with its pointer; `*` walks a list. Yields
    `_ABSENT` where a required step is missing, so no edge is silently lost."""
    if at == 0 and "*" not in path.steps:
        yield _value_at(data, path, escaped, pointer)  # most paths: one value, no recursion
        return
    if at == len(path.steps):
        yield data, pointer
        return
    step = path.steps[at]
    if step == "*":
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield from _values_at(item, path, escaped, at + 1, f"{pointer}/{i}")
        elif data is None and not path.optional[at]:
            yield _ABSENT, pointer
        return
    if isinstance(data, Mapping) and data.get(step) is not None:
        yield from _values_at(data[step], path, escaped, at + 1, f"{pointer}/{escaped[at]}")
    elif not path.optional[at]:
        yield _ABSENT, f"{pointer}/{escaped[at]}"


def _value_at(
    data: Any, path: model.RelationPath, escaped: tuple[str, ...], pointer: str
) -> tuple[Any, str]:
    """`_values_at` for a path without `*`: the one value it reaches, or `_ABSENT`, or
    None where an optional step is missing."""
    for at, step in enumerate(path.steps):
        value = data.get(step) if isinstance(data, Mapping) else None
        if value is None:
            if path.optional[at]:
                return None, pointer
            return _ABSENT, f"{pointer}/{'/'.join(escaped[: at + 1])}"
        data = value
    return data, f"{pointer}/{'/'.join(escaped)}"


def _validator(t: model.Type) -> Callable[[Any], bool]:
    """Whether a value of declared type `t` is valid: `_check_type` finds no problem in
    it. A closure per type, built once per store, so good data costs a few calls."""
    t = model.unwrap(t)
    match t:
        case model.Scalar(name="int"):
            return lambda v: isinstance(v, int) and not isinstance(v, bool)
        case model.Scalar(name="bool"):
            return lambda v: isinstance(v, bool)
        case model.Scalar(name="time"):
            return lambda v: isinstance(v, str) and not _bad_time(v)
        case model.Scalar(name="cidr"):
            return lambda v: isinstance(v, str) and not _bad_cidr(v)
        case model.Scalar(name="port_range"):
            return lambda v: isinstance(v, str) and not _bad_ports(v)
        case model.Scalar() | model.RefT():
            return lambda v: isinstance(v, str)
        case model.ListT(item=item):
            valid_item = _validator(item)
            return lambda v: isinstance(v, list) and all(x is None or valid_item(x) for x in v)
        case model.MapT(value=vt):
            valid_value = _validator(vt)
            return lambda v: (
                isinstance(v, dict) and all(x is None or valid_value(x) for x in v.values())
            )
        case model.RecordT(fields=fields):
            valid_fields = tuple((name, _validator(ft)) for name, ft in fields)
            return lambda v: (
                isinstance(v, dict)
                and all(v.get(name) is None or valid(v[name]) for name, valid in valid_fields)
            )
        case _:
            return lambda v: True


def _check_type(value: Any, t: model.Type, file: str, at: str, problems: list[Problem]) -> None:
    """A declared attribute's value must have its declared type (null counts as missing)."""
    if value is None:
        return
    t = model.unwrap(t)

    def wrong(expected: str) -> None:
        problems.append(Problem(file, at, f"expected {expected}, found {describe_json(value)}"))

    match t:
        case model.Scalar(name="int"):
            if not isinstance(value, int) or isinstance(value, bool):
                wrong("an integer")
        case model.Scalar(name="bool"):
            if not isinstance(value, bool):
                wrong("true or false")
        case model.Scalar(name="time"):
            if not isinstance(value, str) or _bad_time(value):
                wrong("a time in ISO 8601 form, e.g. 2024-01-31T08:00Z")
        case model.Scalar(name="cidr"):
            if not isinstance(value, str) or _bad_cidr(value):
                wrong("a CIDR block, e.g. 10.0.0.0/8")
        case model.Scalar(name="port_range"):
            if not isinstance(value, str) or _bad_ports(value):
                wrong('a port range such as "22/22", or "-1/-1" for every port')
        case model.Scalar() | model.RefT():
            if not isinstance(value, str):
                wrong("a string")
        case model.ListT(item=item):
            if not isinstance(value, list):
                wrong("an array")
                return
            for i, v in enumerate(value):
                _check_type(v, item, file, f"{at}/{i}", problems)
        case model.MapT(value=vt):
            if not isinstance(value, dict):
                wrong("an object")
                return
            for k, v in value.items():
                _check_type(v, vt, file, f"{at}/{pointer_escape(k)}", problems)
        case model.RecordT(fields=fields):
            if not isinstance(value, dict):
                wrong("an object")
                return
            for name, ft in fields:
                if name in value:
                    _check_type(value[name], ft, file, f"{at}/{pointer_escape(name)}", problems)
        case model.ResourceT() | model.AnyT() | model.OptionalT():
            pass


def _bad_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return True
    return False


def _bad_cidr(text: str) -> bool:
    return model.parse_cidr(text) is None


def _bad_ports(text: str) -> bool:
    return "/" not in text or model.parse_port_range(text) is None
