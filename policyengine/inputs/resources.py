"""A loaded resource, an edge of a relation between two, and the table of regions and
zones: what the store holds and what evaluation and explanations read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from policyengine.core import model
from policyengine.inputs.origins import Origin
from policyengine.inputs.snapshot import UnknownValue, pointer_escape


class Resource:
    """One resource: its data as given, and where it sits in the snapshot."""

    __slots__ = (
        "index",
        "kind",
        "key",
        "data",
        "region",
        "zone",
        "file",
        "address",
        "origin",
        "at",
    )

    def __init__(
        self,
        index: int,
        kind: str,
        key: str,
        data: dict[str, Any],
        region: str | UnknownValue | None,
        zone: str | UnknownValue | None,
        file: str,
        address: str | None = None,
        origin: Origin | None = None,
        at: str | None = None,
    ) -> None:
        self.index = index
        self.kind = kind
        self.key = key  # the id, name or composite key a person reads
        self.data = data
        self.region = region  # from the data, or from the location table for a zone
        self.zone = zone
        self.file = file
        self.address = address  # where an imported resource is declared (a Terraform address)
        self.origin = origin  # where it and its values are in the files it came from
        # A resource the model implies (a public image named by its name, which exists in
        # every region): the place of the reference that names it.
        self.at = at

    @property
    def id_unknown(self) -> bool:
        """Whether the id is assigned only when the resource is created."""
        return isinstance(self.data.get("id"), UnknownValue)

    @property
    def pointer(self) -> str:
        if self.at is not None:
            return self.at
        if self.index < 0:  # a region, the subject of `for each region`
            return f"/locations/{pointer_escape(self.key)}"
        return f"/resources/{self.index}"

    def __repr__(self) -> str:
        return f"{self.kind} {self.key}"


class Edge:
    """One edge of a relation: a source, the value it names, and what that resolves to.

    An account has an edge per reference (half a million at 100,000 instances): slots,
    plain assignments (a frozen dataclass's checked ones were a fifth of making one; no
    code changes an edge once made). An edge whose value sits under its source is an
    `EdgeBelow`, which keeps its pointer as the part below the source's."""

    __slots__ = ("relation", "source", "value", "targets", "paths", "_pointer")

    def __init__(
        self,
        relation: model.Relation,
        source: Resource,
        value: str,  # the id or name the source holds
        targets: tuple[Resource, ...],  # several where unique per region; () dangles
        paths: tuple[str, ...],  # the relation paths that produced it
        pointer: str,  # where the value sits (an `EdgeBelow`: below its source's pointer)
    ) -> None:
        self.relation = relation
        self.source = source
        self.value = value
        self.targets = targets
        self.paths = paths
        self._pointer = pointer

    @property
    def pointer(self) -> str:
        """Where the value sits, under the source (or the target, for a target-side path)."""
        return self._pointer

    def _fields(self) -> tuple[object, ...]:
        return (self.relation, self.source, self.value, self.targets, self.paths, self.pointer)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Edge) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"Edge(relation={self.relation!r}, source={self.source!r}, value={self.value!r}, "
            f"targets={self.targets!r}, paths={self.paths!r}, pointer={self.pointer!r})"
        )


class EdgeBelow(Edge):
    """An edge whose value sits under its source: its pointer is kept as the part below
    the source's (`/image_id`, one string shared by every edge of that path), joined when
    asked for. A class of its own rather than a slot telling which: a slot less is a
    size class less, 16 bytes of each of half a million edges."""

    __slots__ = ()

    @property
    def pointer(self) -> str:
        return self.source.pointer + self._pointer


# A resource's edges of one relation: the edge itself where it is the only one (most are,
# and a tuple of one was a fifth of the memory of an account's edges), else a tuple.
Edges = Edge | tuple[Edge, ...]


class LocationTable:
    """Regions and zones as the snapshot knows them; never guessed from a zone's name.

    The snapshot's `locations` (from DescribeZones) are authoritative; without them the
    table is learned from the (region, zone) pairs the resources carry.
    """

    def __init__(self, declared: Mapping[str, list[str]] | None) -> None:
        self._declared: dict[str, str] = {}  # zone -> region, as DescribeZones says
        self._seen: dict[str, set[str]] = defaultdict(set)  # zone -> regions resources claim
        self._zones: dict[str, set[str]] = defaultdict(set)  # region -> zones
        self._regions: list[str] = list(declared or {})
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

    def regions(self) -> list[str]:
        """The regions the snapshot's `locations` declare, in order."""
        return list(self._regions)

    def unknown_zone(self, zone: str) -> str:
        """Why `region_of(zone)` has no answer, in a sentence."""
        if self._declared:
            return f"zone `{zone}` is not in the snapshot's `locations`"
        regions = sorted(self._seen.get(zone, ()))
        if len(regions) > 1:
            return f"resources place zone `{zone}` in several regions: {', '.join(regions)}"
        return f"no resource in the snapshot places zone `{zone}` in a region"
