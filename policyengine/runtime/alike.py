"""A condition decided once per distinct value of what it reads of its subject.

`for each instance require zone is set and region_of(zone) == region` reads the
instance's zone and region alone: a hundred thousand instances in a few dozen zones
are a few dozen decisions. Where a rule's condition reads its subject only through
attributes named from it (no relation followed, no id, no resource itself passed on),
its outcome is a function of those attributes' values and the store: resources whose
values are the same objects (the reading holds equal regions, zones and tag sets once)
have the same outcome. Their values are gathered in C, each distinct set decided once
on one resource of it, and the outcomes counted, not kept, are added up; the resources
of any other outcome (a fail, an error, undecided) are run by the rule's loop over one
resource at a time, as before, which keeps and words each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from itertools import compress
from operator import attrgetter, methodcaller
from typing import Final

from policyengine.core import plan
from policyengine.inputs.resources import Resource
from policyengine.runtime.outcomes import Result, Status
from policyengine.runtime.rules import Batch, Tally

# Fewer subjects than this are run one by one: gathering their values costs more.
AT_LEAST: Final = 256
# Where more than this share of the subjects have values of their own, few decisions are
# saved: run one by one.
DISTINCT_SHARE: Final = 0.5

_LOCATED: Final = ("region", "zone")  # attributes of the resource: strings or None
_DATA: Final = attrgetter("data")
# Ops whose truth or value is a function of the values read, the store and the slots
# they bind themselves. Not `RelatedOp` (a resource's edges), `IdFormatOp` (its id) or
# `SameLocationOp` (two resources).
_PURE: Final = (
    plan.Const,
    plan.Read,
    plan.CallOp,
    plan.LocatedOp,
    plan.CountOp,
    plan.CompareOp,
    plan.MemberOp,
    plan.MatchOp,
    plan.PresenceOp,
    plan.TruthyOp,
    plan.AllOp,
    plan.AnyOp,
    plan.NotOp,
    plan.RangeOp,
    plan.QuantOp,
    plan.DefineOp,
)


def read_of_subject(condition: plan.Cond) -> tuple[str, ...] | None:
    """The attributes a condition reads of its subject (slot 0), when it reads it through
    them alone and every op of it is pure; None otherwise. An attribute only some APIs
    return is left out (its absence and a null read alike, and decide otherwise)."""
    names: set[str] = set()
    for op in plan.walk(condition):
        if not isinstance(op, _PURE):
            return None
        if not isinstance(op, plan.Read):
            continue
        if any(step.api for step in op.steps):
            return None
        if op.slot != 0:
            continue  # a slot the condition binds itself (a quantifier's, a define's)
        if not op.steps or op.steps[0].op != "attr":
            return None  # the resource itself, or a step that is not a name
        names.add(op.steps[0].name)
    return tuple(sorted(names)) if names else None


def _values(names: tuple[str, ...]) -> Callable[[Sequence[Resource]], Iterator[Hashable]]:
    """What each subject has of `names`, made in C: a region or a zone as itself (a
    string or None), an attribute of the data as the identity of its value (the same
    object: the same value)."""

    def one(name: str, subjects: Sequence[Resource]) -> Iterable[Hashable]:
        if name in _LOCATED:
            return map(attrgetter(name), subjects)
        return map(id, map(methodcaller("get", name), map(_DATA, subjects)))

    if len(names) == 1:
        (name,) = names
        return lambda subjects: iter(one(name, subjects))
    return lambda subjects: zip(*(one(name, subjects) for name in names), strict=True)


def by_values(
    names: tuple[str, ...],
    each: Batch,
    counted: Callable[[Resource], Status | None],
    tally: Tally,
) -> Batch:
    """The batch `each` run once per distinct value of `names` where that is fewer
    decisions: `counted(resource)` is the counted outcome of a resource (a pass or a
    skip), or None for one to keep or to word, whose resources `each` runs."""
    values = _values(names)

    def alike(subjects: Sequence[Resource], out: list[Result]) -> None:
        if len(subjects) < AT_LEAST:
            each(subjects, out)
            return
        keys = list(values(subjects))
        seen = Counter(keys)
        if len(seen) > len(keys) * DISTINCT_SHARE:
            each(subjects, out)
            return
        kept: set[Hashable] = set()
        at = 0
        for key, n in seen.items():
            # The first subject of each value: a counter lists them in the order first
            # met, so the search goes on from the last one found.
            at = keys.index(key, at)
            status = counted(subjects[at])
            if status is None:
                kept.add(key)
            else:
                tally[status] += n
        if kept:
            each(list(compress(subjects, map(kept.__contains__, keys))), out)

    return alike
