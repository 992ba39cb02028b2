"""A relation's edges by source index, the usual ones held as their targets alone.

An account has an edge per reference (half a million at 100,000 instances). The usual
edge names its targets by one id, at the place the relation's one path gives: a plain
attribute (`image_id`), or the one element of a list (`security_group_ids[*]`, the
`instance_id` of the one record of `attachments[*].instance_id`). Its source, its targets
and that path tell it whole: it is held as its targets alone (the target itself where it
is one, as most are), and made when asked for, equal to the edge made when the relation
was indexed (measured at 100,000 instances: 52 MB of edges and tuples of one target).
Any other edge is held as made.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from heapq import merge
from typing import TypeVar, overload

from policyengine.core import model
from policyengine.inputs.resources import Edge, EdgeBelow, Edges, Resource
from policyengine.inputs.snapshot import pointer_escape

Held = Resource | tuple[Resource, ...]  # an edge held as its targets

_D = TypeVar("_D")
_new = object.__new__


@dataclass(frozen=True)
class Place:
    """Where the id of an edge held as its targets sits in its source: at its first
    path's place, `attribute`, or the first element of that list (`element`), or that
    element's `field`. Held only where every path of the relation names that id once, at
    its own place of `pointers` (`disk.instance_id` and `disk.attachments[*].instance_id`
    naming one instance)."""

    relation: model.Relation
    paths: tuple[str, ...]  # the relation's paths, as its edges name them
    attribute: str
    element: bool
    field: str | None
    pointers: tuple[str, ...]  # of each path, below the source's pointer

    @classmethod
    def of(cls, relation: model.Relation, paths: Sequence[model.RelationPath]) -> Place | None:
        """The place of the usual ids of `paths`, each an attribute, a list of ids or a
        field of each record of a list; None for any other path, or none."""
        places = [_place(path.steps) for path in paths]
        first = places[0] if places else None
        if first is None or any(p is None for p in places):
            return None
        texts = tuple(dict.fromkeys(path.text for path in paths))
        pointers = tuple(p[3] for p in places if p is not None)
        return cls(relation, texts, first[0], first[1], first[2], pointers)


def _place(steps: tuple[str, ...]) -> tuple[str, bool, str | None, str] | None:
    """The attribute, whether the id is a list's first element, the field of that
    element, and the pointer, of a path's id; None for a path of another shape."""
    if len(steps) == 1 and steps[0] != "*":
        return steps[0], False, None, "/" + pointer_escape(steps[0])
    if len(steps) not in (2, 3) or steps[0] == "*" or steps[1] != "*" or steps[2:] == ("*",):
        return None
    field = steps[2] if len(steps) == 3 else None
    pointer = "/" + pointer_escape(steps[0]) + "/0"
    if field is not None:
        pointer += "/" + pointer_escape(field)
    return steps[0], True, field, pointer


class EdgeIndex(Mapping[int, Edges]):
    """Edges by source index: `made`, held as made, and `held`, held as their targets
    (made again from `place` when asked for). Each source is in one of them; both are
    in the order of the sources (ascending indexes), as the edges were made. `held` is a
    dictionary, or a list over every resource (None where it has no such edge): eight
    bytes a resource against some fifty a source, less where a relation's sources are
    a sixth of the resources or more (`listed`)."""

    __slots__ = ("_made", "_listed", "_keyed", "_size", "_count", "_at", "_read")

    def __init__(
        self,
        made: dict[int, Edges],
        held: dict[int, Held] | list[Held | None],
        at: Sequence[Resource | None],
        place: Place | None,
    ) -> None:
        self._made = made
        self._listed: list[Held | None] = [] if isinstance(held, dict) else held
        self._keyed: dict[int, Held] = held if isinstance(held, dict) else {}
        self._size = len(self._listed)
        self._count = self._size - self._listed.count(None) + len(self._keyed)
        self._at = at  # resource by index: the sources
        # What an edge held as its targets is made of, besides them (read once here: an
        # edge is made for each source a rule follows the relation from).
        self._read = (
            None
            if place is None
            else (
                place.attribute,
                place.element,
                place.field,
                place.relation,
                place.paths,
                place.pointers[0],
            )
        )

    @overload
    def get(self, index: int, /) -> Edges | None: ...

    @overload
    def get(self, index: int, /, default: Edges | _D) -> Edges | _D: ...

    def get(self, index: int, /, default: Edges | _D | None = None) -> Edges | _D | None:
        if 0 <= index < self._size:
            targets = self._listed[index]
        else:
            targets = self._keyed.get(index)
        if targets is None:
            return self._made.get(index, default)
        attribute, element, field, relation, paths, pointer = self._read  # type: ignore[misc]
        source = self._at[index]
        value = source.data[attribute]  # type: ignore[union-attr]
        if element:
            value = value[0] if field is None else value[0][field]
        # Its slots set here rather than by `EdgeBelow(...)`, whose `__init__` is a call of
        # its own: an edge is made for every source a rule follows (measured: 0.29
        # against 0.46 microseconds an edge).
        edge = _new(EdgeBelow)
        edge.relation = relation
        edge.source = source  # type: ignore[assignment]
        edge.value = value
        edge.targets = targets if type(targets) is tuple else (targets,)  # type: ignore[assignment]
        edge.paths = paths
        edge._pointer = pointer
        return edge

    def only_target(self, index: int) -> Resource | None:
        """The target of the source's edge where it has one edge of one target (the
        usual case, found without making the edge); None otherwise."""
        if 0 <= index < self._size:
            targets = self._listed[index]
        else:
            targets = self._keyed.get(index)
        if targets is not None:
            if type(targets) is not tuple:
                return targets  # type: ignore[return-value]
            return targets[0] if len(targets) == 1 else None
        edge = self._made.get(index)
        if isinstance(edge, Edge) and len(edge.targets) == 1:
            return edge.targets[0]
        return None

    def __getitem__(self, index: int) -> Edges:
        found = self.get(index)
        if found is None:
            raise KeyError(index)
        return found

    def __contains__(self, index: object) -> bool:
        if isinstance(index, int) and 0 <= index < self._size:
            if self._listed[index] is not None:
                return True
        return index in self._keyed or index in self._made

    def __iter__(self) -> Iterator[int]:
        listed = (index for index, targets in enumerate(self._listed) if targets is not None)
        return merge(self._made, listed, self._keyed)

    def __len__(self) -> int:
        return len(self._made) + self._count


def listed(sources: int, resources: int) -> bool:
    """Whether a relation's edges held as their targets are held in a list over every
    resource (eight bytes each) rather than a dictionary (some fifty bytes a source)."""
    return sources * 6 >= resources
