"""A snapshot loaded for evaluation: resources checked against the model, identities,
the location table, and every relation indexed once, in both directions.

Following `disk attach instance` from either end is then a dictionary lookup; no rule
ever scans all resources per resource. Raises `InputError` for data the model rejects.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import repeat
from operator import itemgetter
from typing import Any

from policyengine.core import collector, model
from policyengine.core.diagnostics import did_you_mean
from policyengine.inputs import conversion
from policyengine.inputs.edge_index import EdgeIndex, Held, Place, listed
from policyengine.inputs.origins import Origin
from policyengine.inputs.reads import Reads
from policyengine.inputs.resources import Edge, EdgeBelow, Edges, LocationTable, Resource
from policyengine.inputs.snapshot import (
    InputError,
    Problem,
    Snapshot,
    UnknownValue,
    describe_json,
    pointer_escape,
)


class Store:
    def __init__(
        self,
        snapshot: Snapshot,
        m: model.Model,
        now: datetime | None = None,
        reads: Reads = None,
    ) -> None:
        """`reads`: per kind, the declared attributes to check and convert (those a plan
        reads, `reads.attributes_read`); an attribute not in it is kept as given, unchecked.
        None checks every declared attribute, as a command with no rules to run does."""
        self.file = snapshot.file
        self.model = m
        self.captured_at = snapshot.envelope.captured_at
        self.account = snapshot.envelope.account
        # `now()` in a rule: `--now` when given, else the capture time; never the clock.
        self._now = now if now is not None else _capture_time(self.captured_at)
        self.text = snapshot.text
        self._typed = snapshot.typed
        self.origins = snapshot.origins
        self.locations = LocationTable(snapshot.envelope.locations)
        # What the snapshot lacks (calls that failed), and input files no importer read.
        self.gaps = tuple(snapshot.envelope.gaps)
        self.not_read = tuple(snapshot.envelope.not_read)
        self.resources: list[Resource] = []
        self.by_kind: dict[str, list[Resource]] = {k: [] for k in m.kinds}
        # Per kind, the resource of each key; the keys several resources have (one name in
        # several regions) apart, with all of them: a list per resource was a fifth of the
        # store's memory (`named`).
        self._identity: dict[str, dict[str, Resource]] = {k: {} for k in m.kinds}
        self._several: dict[str, dict[str, list[Resource]]] = {k: {} for k in m.kinds}
        # Relations are indexed on first use: a policy set follows a few of the model's
        # relations, and indexing one costs a pass over its sources and targets. Edges by
        # target (`_in`) are found from those by source when first asked for.
        # A resource's edges of a relation: the edge itself where it is the only one (most
        # are: a tuple or list of one was a fifth of the edges' memory), else all of them.
        # The usual edge is held as its targets alone (`EdgeIndex`).
        self._out: dict[model.Relation, EdgeIndex] = {}
        self._in: dict[model.Relation, dict[int, Edge | list[Edge]]] = {}
        # Sources whose relation path stops at a missing required attribute: (path, pointer).
        self._absent: dict[model.Relation, dict[int, list[tuple[str, str]]]] = {}
        self._by_address: dict[str, Resource] = {}
        problems: list[Problem] = []
        self.has_unknowns = False  # holds a value a Terraform plan knows only after apply
        raw = snapshot.resources
        if snapshot.unknowns:
            # Marked on a copy of each resource: the document stays as it was read.
            raw = [conversion.mark_unknowns(dict(data)) for data in raw]
            self.has_unknowns = True
        # Resources the model implies by a name (public images), by (kind, name, region).
        self._implied_by: dict[tuple[str, str, str | None], Resource] = {}
        self._located: dict[tuple[str, str], list[Resource]] | None = None
        # Building the tables makes millions of objects and no cycles: the cyclic
        # collector would re-walk the growing heap again and again (measured: most of
        # the indexing time at 100,000 instances).
        with collector.paused():
            self._load(raw, problems, reads, snapshot.envelope.locations)
            if problems:
                raise InputError(problems)
        # Resource by snapshot index: every resource was loaded (one that is not is a
        # problem), in the snapshot's order, so the list of them is that index.
        self._at_index: Sequence[Resource | None] = self.resources

    # -- loading
    def _load(
        self,
        raw: list[dict[str, Any]],
        problems: list[Problem],
        reads: Reads,
        declared_locations: Mapping[str, list[str]] | None,
    ) -> None:
        # Per kind, the declared attributes to check (those read, when that is known) with
        # a quick test of whether a value is already in its final form: good data skips
        # the conversion walk, and an attribute nothing reads is not looked at.
        # Those its decoder checked already (`Snapshot.typed`) are not checked again.
        typed = self._typed
        declared = {
            name: tuple(
                (attr, conversion.ready(t), t)
                for attr, t in kind.attributes.fields
                if attr in (kind.declared if reads is None else reads.get(name, kind.declared))
                and not (attr == "tags" and model.unwrap(t) == _STRING_MAP)
                and attr not in typed
            )
            for name, kind in self.model.kinds.items()
        }
        # A kind named by one attribute: its key is that attribute's text, when it is one.
        single: dict[str, str | None] = {
            name: "id"
            if isinstance(kind.identity, model.IdFormat)
            else kind.identity.attribute
            if isinstance(kind.identity, model.NamedBy)
            else None
            for name, kind in self.model.kinds.items()
        }
        kinds, file = self.model.kinds, self.file
        placed: dict[str, str] = {}  # zone -> the region last told to the location table
        shared: list[list[Resource]] = []  # keys several resources have (in several regions)
        resources, by_kind, identity = self.resources, self.by_kind, self._identity
        several, by_address, locations = self._several, self._by_address, self.locations
        # Per kind, what loading each of its resources reads, found by one look-up.
        specs = {
            name: (
                kind,
                single[name],
                declared[name],
                kind.scope_when,
                kind.unique_per_region,
                identity[name],
                several[name],
                by_kind[name].append,
            )
            for name, kind in kinds.items()
        }
        # Each type's conversion, prepared when a value first needs one: most attributes
        # checked hold values that need none.
        converters: dict[tuple[str, str], conversion.Converter] = {}
        # Resources whose region a zone may give (none in their data), told after loading.
        regionless: list[Resource] = []
        slots: list[Resource | None] = [None] * len(raw)  # the resource at each index
        sourced = False  # whether a resource loaded one by one had a `source`

        def each(indexes: Iterable[int]) -> None:
            """The resources at `indexes`, ascending, one by one, whatever their data."""
            nonlocal sourced
            for index in indexes:
                data = raw[index]
                kind_name = data["kind"]
                spec = specs.get(kind_name)
                if spec is None:
                    hint = did_you_mean(kind_name, kinds) or (
                        "the model knows " + ", ".join(f"`{k}`" for k in sorted(kinds))
                    )
                    problems.append(
                        Problem(
                            file, f"/resources/{index}/kind", f"unknown kind `{kind_name}`; {hint}"
                        )
                    )
                    continue
                kind, named, checks, scope_when, per_region, ids, keys_held, add_of_kind = spec
                key = data.get(named) if named is not None else None
                if type(key) is not str or not key:  # not the usual plain id: the full check
                    key = self._key(kind, data, f"/resources/{index}", problems)
                    if key is None:
                        continue
                if checks:
                    copied = False
                    for name, ready, t in checks:
                        value = data.get(name)
                        if value is not None and not ready(value):
                            if not copied:  # converted on a copy: the document stays as read
                                data, copied, before = dict(data), True, len(problems)
                            at = f"/resources/{index}/{pointer_escape(name)}"
                            convert = converters.get((kind_name, name))
                            if convert is None:  # by kind and name: a type's hash walks it
                                convert = conversion.converter(t)
                                converters[kind_name, name] = convert
                            data[name] = convert(value, file, at, problems, data)
                    if copied and len(problems) > before:  # problems come of conversions alone
                        continue
                region, zone = data.get("region"), data.get("zone")
                if scope_when is not None and not _zonal(scope_when, data):
                    zone = None  # located in a region here: a zone in the data is not its place
                if zone and region and isinstance(zone, str) and isinstance(region, str):
                    if placed.get(zone) != region:  # the table learns each pair once
                        placed[zone] = region
                        locations.add(region, zone)
                # The same identity loaded before: a duplicate (the first of a key is the one
                # every other of that key is told apart from).
                one = ids.get(key)
                same = None if one is None else keys_held.get(key, [one])
                if same is not None:
                    if not per_region:
                        first: Resource | None = same[0]
                    else:
                        first = next((r for r in same if r.region == region), None)
                    if first is not None:
                        where = f" in region `{region}`" if per_region else ""
                        problems.append(
                            Problem(
                                file,
                                f"/resources/{index}",
                                f"duplicate {kind_name} `{key}`{where}: also at {first.pointer}",
                            )
                        )
                        continue
                source = data.get("source")
                if source is None:
                    resource = Resource(index, kind_name, key, data, region, zone, file)
                else:
                    sourced = True
                    address = source.get("address") if isinstance(source, dict) else None
                    origin = Origin.of(source, file)
                    resource = Resource(
                        index, kind_name, key, data, region, zone, file, address, origin
                    )
                    if address:
                        by_address[address] = resource
                slots[index] = resource
                add_of_kind(resource)
                if region is None:
                    regionless.append(resource)
                if same is None:
                    ids[key] = resource
                else:
                    if len(same) == 1:  # the second of its key
                        keys_held[key] = same
                        shared.append(same)
                    same.append(resource)

        def by_kind_first() -> bool:
            """Every resource, kind by kind: those of a kind named by one attribute, and
            not unique per region only, by the steps `each` takes for a resource whose
            data holds no surprise; any other by `each`. False where one met a problem,
            a `source` or a key `each` takes with more steps: then nothing loaded holds."""
            of_kind: dict[str, list[int]] = {}
            for index, kind_name in enumerate(map(itemgetter("kind"), raw)):
                got = of_kind.get(kind_name)
                if got is None:
                    of_kind[kind_name] = [index]
                else:
                    got.append(index)
            new = _new
            for kind_name, indexes in of_kind.items():
                spec = specs.get(kind_name)
                named = spec[1] if spec is not None else None
                if spec is None or named is None or spec[4]:
                    each(indexes)  # words an unknown kind; takes a key of several parts
                    continue
                _, _, checks, scope_when, _, ids, _, add_of_kind = spec
                for index in indexes:
                    data = raw[index]
                    key = data.get(named)
                    if type(key) is not str or not key:
                        return False
                    if checks:
                        copied = False
                        for name, ready, t in checks:
                            value = data.get(name)
                            if value is not None and not ready(value):
                                if not copied:  # converted on a copy, as `each` does
                                    data, copied = dict(data), True
                                convert = converters.get((kind_name, name))
                                if convert is None:
                                    convert = conversion.converter(t)
                                    converters[kind_name, name] = convert
                                at = f"/resources/{index}/{pointer_escape(name)}"
                                data[name] = convert(value, file, at, problems, data)
                        if copied and problems:
                            return False
                    region, zone = data.get("region"), data.get("zone")
                    if scope_when is not None and not _zonal(scope_when, data):
                        zone = None
                    # A pair told to the table before is two strings: its test comes first.
                    if zone and isinstance(zone, str) and placed.get(zone) != region:
                        if region and isinstance(region, str):
                            placed[zone] = region
                            locations.add(region, zone)
                    if data.get("source") is not None:
                        return False
                    # Its slots set here: `Resource(...)` is a call of its own.
                    resource = new(Resource)
                    resource.index = index
                    resource.kind = kind_name
                    resource.key = key
                    resource.data = data
                    resource.region = region
                    resource.zone = zone
                    resource.file = file
                    resource.address = None
                    resource.origin = None
                    resource.at = None
                    if ids.setdefault(key, resource) is not resource:
                        return False  # a duplicate: `each` words it
                    slots[index] = resource
                    add_of_kind(resource)
                    if region is None:
                        regionless.append(resource)
            return not problems and not sourced

        # A kind's resources made one after another are read one after another by the
        # rules and indexes that follow it (measured at 100,000 instances: the indexes
        # 0.45 to 0.39 s).
        if _ONE_BY_ONE or not by_kind_first():
            # Every resource again, in the snapshot's order: what `each` finds is told in
            # that order, as ever.
            problems.clear()
            slots[:] = repeat(None, len(raw))
            placed.clear()
            shared.clear()
            regionless.clear()
            sourced = False
            for of_kind in by_kind.values():
                of_kind.clear()
            for ids in identity.values():
                ids.clear()
            for keys_held in several.values():
                keys_held.clear()
            by_address.clear()
            locations = self.locations = LocationTable(declared_locations)
            each(range(len(raw)))
        resources.extend(filter(None, slots))  # in the snapshot's order
        # A zone-located resource without a region learns it from the location table.
        for resource in regionless:
            if isinstance(resource.zone, str):
                resource.region = locations.region_of(resource.zone)
        # One name in several regions: candidates in region order, so the one an outcome
        # names does not depend on the order of the export.
        for same in shared:
            same.sort(key=lambda r: r.region if isinstance(r.region, str) else "")

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
            if isinstance(value, UnknownValue):
                # Not assigned yet: the resource is named by where it is declared, and a
                # `ref` to that place links to it.
                source = data.get("source")
                own = source.get("address") if isinstance(source, dict) else None
                values.append(value.ref or (own if name == "id" and own else value.what))
                continue
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

    def named(self, kind: str) -> Callable[[str], Sequence[Resource]]:
        """The resources of `kind` a key names: one, or several in region order (a name
        unique per region), or none."""
        one, several = self._identity[kind].get, self._several[kind].get
        none: tuple[Resource, ...] = ()

        def by_key(key: str) -> Sequence[Resource]:
            found = one(key)
            if found is None:
                return none
            return several(key) or (found,)

        return by_key

    # -- relations
    def _indexed(self, relation: model.Relation) -> model.Relation:
        """`relation`, indexed if it was not yet."""
        if relation not in self._out:
            with collector.paused():  # as while loading: millions of objects, no cycles
                self._index(relation)
        return relation

    def _index(self, relation: model.Relation) -> None:
        out: dict[int, Edges] = {}
        absent: dict[int, list[tuple[str, str]]] = {}
        targets = self._targets(relation, absent)
        # Target-side paths (`deployment_set.instance_ids[*]`): the sources each target
        # names, indexed by source, so that each source's edges are found in one look-up.
        named_by: dict[int, list[tuple[Resource, str, str]]] = defaultdict(list)
        sources_by_key = self.named(relation.source)
        own_paths = [
            (
                path,
                (path.steps[0], "/" + pointer_escape(path.steps[0]), path.optional[0])
                if len(path.steps) == 1 and path.steps[0] != "*"
                else None,
                _reader(path),
            )
            for path in relation.paths
            if not path.from_target
        ]
        for path in (p for p in relation.paths if p.from_target):
            for target in self.by_kind[relation.target]:
                if targets.allowed is not None and target.index not in targets.allowed:
                    continue
                for value, pointer in _values_at(target.data, path, 0, target.pointer):
                    if value is _ABSENT:
                        # Which sources it names cannot be told: every source is incomplete.
                        targets.unknown.append((path.text, pointer))
                        continue
                    if value is None or value == "":
                        continue
                    for source in sources_by_key(str(value)):
                        named_by[source.index].append((target, path.text, pointer))
        by_key, allowed_indexes = targets.by_key, targets.allowed
        # A target key's admitted targets, and whether any exists: the same for every
        # source that names it (thousands of instances name one security group).
        admitted: dict[str, tuple[tuple[Resource, ...], bool]] = {}
        one_path = {path.text: (path.text,) for path in relation.paths}
        one_path[relation.how] = (relation.how,)

        def admit(value: str) -> tuple[tuple[Resource, ...], bool]:
            resolved = by_key(value)
            known = admitted[value] = (admissible(resolved), bool(resolved))
            return known

        def admissible(candidates: Sequence[Resource]) -> tuple[Resource, ...]:
            if allowed_indexes is None:  # every target of the kind
                return tuple(candidates)
            return tuple(t for t in candidates if t.index in allowed_indexes)

        def path_texts(paths: list[str]) -> tuple[str, ...]:
            # One tuple per path, shared by its edges: the usual edge has one.
            return one_path[paths[0]] if len(paths) == 1 else tuple(dict.fromkeys(paths))

        def general(source: Resource) -> None:
            """The source's edges, whatever its relation paths meet."""
            if relation.when is not None:
                lacking = relation.when.missing(source.data)
                if lacking is not None:  # cannot tell whether the edge exists
                    pointer = f"{source.pointer}/{pointer_escape(lacking.split('.')[0])}"
                    absent.setdefault(source.index, []).append(
                        (f"when {relation.when.text}", pointer)
                    )
                    return
                if not relation.when.holds(source.data):
                    return
            for gap in targets.unknown:
                absent.setdefault(source.index, []).append(gap)
            found: dict[str, tuple[list[str], str, list[Resource] | None]] = {}
            base = source.pointer
            for path, single, reader in own_paths:
                if single is not None:  # one attribute, the usual case: no walk
                    step, tail, optional = single
                    got = source.data.get(step)
                    if got is not None:
                        reached: Any = ((got, base + tail),)
                    else:
                        reached = () if optional else ((_ABSENT, base + tail),)
                else:
                    reached = reader(source.data, base)
                for value, pointer in reached:
                    if value is _ABSENT:
                        absent.setdefault(source.index, []).append((path.text, pointer))
                        continue
                    if isinstance(value, UnknownValue):
                        linked = self._by_address.get(value.ref) if value.ref else None
                        if linked is None or linked.kind != relation.target:
                            # Which resource it names cannot be told: never guess a link.
                            absent.setdefault(source.index, []).append((path.text, pointer))
                            continue
                        value = linked.key
                    if value is None or value == "":
                        continue  # a missing, null or "" id makes no edge
                    key = str(value)
                    if key in found:
                        found[key][0].append(path.text)
                    else:
                        found[key] = ([path.text], pointer, None)
            for target, text, pointer in named_by.get(source.index, ()):
                if target.key in found:
                    found[target.key][0].append(text)
                else:
                    found[target.key] = ([text], pointer, [target])
            if relation.join:
                key_value = self._join_key(source, relation.join)
                if key_value is None:
                    lacking = next(k for k in relation.join if _key_part(source, k) is None)
                    absent.setdefault(source.index, []).append(
                        (relation.how, f"{source.pointer}/{pointer_escape(lacking)}")
                    )
                    return
                for target in targets.by_join.get(key_value, ()):
                    pointer = f"{source.pointer}/{pointer_escape(relation.join[0])}"
                    found[target.key] = ([relation.how], pointer, [target])
            edges = []
            for value, (paths, pointer, fixed) in found.items():
                if fixed is None:
                    allowed, exists = admitted.get(value) or admit(value)
                else:
                    allowed = admissible(fixed)
                    exists = bool(fixed)
                if not exists:
                    implied = self._implied(relation, value, source, pointer)
                    allowed = (implied,) if implied is not None else ()
                elif not allowed:
                    continue  # the target exists and its side of `when` excludes it
                edges.append(Edge(relation, source, value, allowed, path_texts(paths), pointer))
            if edges:
                out[source.index] = edges[0] if len(edges) == 1 else tuple(edges)

        # The usual relation (no `when`, join or target-side path) and the usual source
        # (its paths name targets by plain ids): edges made without the general steps;
        # any other source takes them.
        plain = relation.when is None and not relation.join and not named_by
        plain = plain and not targets.unknown
        place = Place.of(relation, [path for path, _, _ in own_paths]) if plain else None
        tails: dict[str, str] = {}
        shared = tails.setdefault
        paths = [
            (path.text, single[0], single[1], single[2], reader)
            if single is not None
            else (path.text, None, "", True, reader)
            for path, single, reader in own_paths
        ]
        sources = self.by_kind[relation.source]
        # The usual edges, as their targets (`EdgeIndex`), by source index.
        held: dict[int, Held] | list[Held | None] = {}
        if place is not None and listed(len(sources), len(self.resources)):
            held = [None] * len(self.resources)
        # A target named by a key it alone has, where every target is admitted: the one
        # `admit` finds, found by one look-up (most targets are named by a source or two,
        # and `admitted` would hold each once for nothing).
        alone = self._identity[relation.target] if targets.allowed is None else {}
        several = self._several[relation.target]
        if plain and len(paths) == 1 and paths[0][1] is not None:
            # One path of one attribute (`image_id`): each source names one target at
            # most, and its edge is made in a few steps.
            only, attribute, below, may_lack, _ = paths[0]
            named_by_path = one_path[only]
            for source in sources:
                got = source.data.get(attribute)
                if got is None and may_lack:
                    continue
                if type(got) is not str or not got:
                    general(source)
                    continue
                sole = alone.get(got)
                if sole is not None and place is not None and got not in several:
                    held[source.index] = sole
                    continue
                allowed, exists = admitted.get(got) or admit(got)
                if not exists:  # a target the model may imply: the general steps
                    general(source)
                    continue
                if allowed and place is not None:
                    held[source.index] = allowed[0] if len(allowed) == 1 else allowed
                elif allowed:
                    out[source.index] = EdgeBelow(
                        relation, source, got, allowed, named_by_path, below
                    )
            sources = []
        # Where a held edge's id sits on each path (`Place`): the attribute, whether it
        # is a list's one element, and that element's field.
        spots = (
            [
                (p.steps[0], len(p.steps) > 1, p.steps[2] if len(p.steps) == 3 else None)
                for p, _, _ in own_paths
            ]
            if place is not None
            else []
        )
        if 1 <= len(spots) <= _PLACES_LOOPED:
            # One place or two (a list's one id; an id and the one of a list's one
            # record), told in a loop of its own: the sources it does not hold as their
            # targets are left to the steps below, which do not look at the places again.
            (first, first_element, first_field), (then, then_element, then_field) = (
                spots[0],
                spots[-1],
            )
            two = len(spots) == 2
            rest: list[Resource] = []
            keep = rest.append
            for source in sources:
                data = source.data
                value = data.get(first)
                if first_element:
                    value = value[0] if type(value) is list and len(value) == 1 else None
                    if first_field is not None:
                        value = value.get(first_field) if type(value) is dict else None
                if type(value) is not str or not value:
                    keep(source)
                    continue
                if two:
                    got = data.get(then)
                    if then_element:
                        got = got[0] if type(got) is list and len(got) == 1 else None
                        if then_field is not None:
                            got = got.get(then_field) if type(got) is dict else None
                    if type(got) is not str or got != value:
                        keep(source)
                        continue
                sole = alone.get(value)
                if sole is not None and value not in several:
                    held[source.index] = sole
                    continue
                allowed = (admitted.get(value) or admit(value))[0]
                if allowed:  # its target exists, and is admitted
                    held[source.index] = allowed[0] if len(allowed) == 1 else allowed
                    continue
                keep(source)
            sources, spots = rest, []
        for source in sources:
            if not plain:
                general(source)
                continue
            data, index = source.data, source.index
            if spots:
                # The usual source, its edge held as its targets: every path names one id,
                # the same, at its place, of a target that exists and is admitted. Told
                # without the keys and edges below, which any other source makes.
                value = ""
                for attribute, element, field in spots:
                    got = data.get(attribute)
                    if element:
                        got = got[0] if type(got) is list and len(got) == 1 else None
                        if field is not None:
                            got = got.get(field) if type(got) is dict else None
                    if type(got) is not str or not got or (value and got != value):
                        break
                    value = got
                else:
                    sole = alone.get(value)
                    if sole is not None and value not in several:
                        held[index] = sole
                        continue
                    allowed = (admitted.get(value) or admit(value))[0]
                    if allowed:  # its target exists, and is admitted
                        held[index] = allowed[0] if len(allowed) == 1 else allowed
                        continue
            # Pointers below the source's own, each string shared by the edges of its
            # path and place: joined to the source's when asked for (`Edge.pointer`).
            keys: list[tuple[str, str, str]] = []  # (id, path, pointer below the source)
            usual = True
            for text, step, tail, optional, reader in paths:
                if step is not None:
                    got = data.get(step)
                    if got is None and optional:
                        continue
                    if type(got) is not str or not got:
                        usual = False
                        break
                    keys.append((got, text, tail))
                    continue
                for value, pointer in reader(data, ""):
                    if type(value) is not str or not value:
                        usual = False
                        break
                    keys.append((value, text, shared(pointer, pointer)))
                if not usual:
                    break
            if not usual:
                general(source)
                continue
            if not keys:
                continue
            named: dict[str, tuple[list[str], str]] = {}
            for value, text, pointer in keys:
                if value in named:
                    named[value][0].append(text)
                else:
                    named[value] = ([text], pointer)
            edges: list[Edge] = []
            implied = False
            for value, (texts, pointer) in named.items():
                allowed, exists = admitted.get(value) or admit(value)
                implied = not exists  # a target the model may imply: the general steps
                if implied:
                    break
                if not allowed:
                    continue
                edges.append(
                    EdgeBelow(relation, source, value, allowed, path_texts(texts), pointer)
                )
            if implied:
                general(source)
                continue
            if (
                place is not None
                and len(edges) == len(named) == 1
                and len(keys) == len(place.pointers)
                and all(k[2] == pointer for k, pointer in zip(keys, place.pointers, strict=True))
            ):
                allowed = edges[0].targets  # its one id, where `place` reads it
                held[index] = allowed[0] if len(allowed) == 1 else allowed
            elif edges:
                # A tuple of several: two fifths of a grown list's memory.
                out[index] = edges[0] if len(edges) == 1 else tuple(edges)
        if isinstance(held, dict):
            # In the order of the sources, as `EdgeIndex` iterates them: the steps below
            # may hold a source after the loop of the places held later ones.
            held = dict(sorted(held.items()))
        self._out[relation] = EdgeIndex(out, held, self.resources, place)
        self._absent[relation] = absent

    def _into(self, relation: model.Relation) -> dict[int, Edge | list[Edge]]:
        """A relation's edges by target index, from its edges by source, in the order
        they were made: built when a rule first follows the relation backwards (few do,
        and it was a quarter of the edges' memory)."""
        into = self._in.get(relation)
        if into is not None:
            return into
        into = self._in[relation] = {}
        into_get = into.get
        for edges in self._out[self._indexed(relation)].values():
            for edge in (edges,) if isinstance(edges, Edge) else edges:
                for target in edge.targets:
                    index = target.index
                    got = into_get(index)
                    if got is None:
                        into[index] = edge
                    elif isinstance(got, Edge):
                        into[index] = [got, edge]
                    else:
                        got.append(edge)
        return into

    def _implied(
        self, relation: model.Relation, value: str, source: Resource, at: str
    ) -> Resource | None:
        """The resource a reference names by the model's own rule when no snapshot lists
        it: a kind whose id is a name where a guard holds (`id "m-" + 20 or name when
        image_owner_alias == "system"`) names, by a value that is no id of its format, a
        resource of that guard (a public image), which exists in every region. It is the
        reference's target in the region of the resource that names it."""
        kind = self.model.kinds.get(relation.target)
        identity = kind.identity if kind is not None else None
        if kind is None or not isinstance(identity, model.IdFormat):
            return None
        guard = identity.name_when
        if guard is None or value.startswith(identity.prefix) or kind.scope == "zone":
            return None
        if any(term.op != "==" or len(term.path) != 1 for term in guard.terms):
            return None
        region = source.region if isinstance(source.region, str) else None
        key = (relation.target, value, region)
        found = self._implied_by.get(key)
        if found is None:
            data: dict[str, Any] = {"kind": kind.name, "id": value, "region": region}
            data.update({term.path[0]: term.value for term in guard.terms})
            index = -2 - len(self._implied_by)
            found = Resource(index, kind.name, value, data, region, None, self.file, None, None, at)
            self._implied_by[key] = found
        return found

    def _targets(
        self, relation: model.Relation, absent: dict[int, list[tuple[str, str]]]
    ) -> _Targets:
        """The relation's possible targets: by identity, by join key, and which ones its
        target-side `when` admits."""
        out = _Targets(self.named(relation.target))
        if relation.target_when is None and not relation.join:
            return out  # every target is admitted, and none has a key to join by
        allowed: set[int] = set()
        out.allowed = allowed
        for target in self.by_kind[relation.target]:
            guard = relation.target_when
            if guard is not None:
                lacking = guard.missing(target.data)
                if lacking is not None:
                    out.unknown.append(
                        (f"when {guard.text}", f"{target.pointer}/{pointer_escape(lacking)}")
                    )
                    continue
                if not guard.holds(target.data):
                    continue
            allowed.add(target.index)
            if relation.join:
                key = self._join_key(target, relation.join)
                if key is None:
                    lacking = next(k for k in relation.join if _key_part(target, k) is None)
                    out.unknown.append(
                        (relation.how, f"{target.pointer}/{pointer_escape(lacking)}")
                    )
                    continue
                out.by_join.setdefault(key, []).append(target)
        return out

    @staticmethod
    def _join_key(resource: Resource, keys: tuple[str, ...]) -> tuple[object, ...] | None:
        parts = tuple(_key_part(resource, k) for k in keys)
        return None if any(p is None for p in parts) else parts

    # -- regions
    def regions(self) -> list[Resource]:
        """The regions the snapshot knows, as subjects of `for each region`, in order:
        its `locations` first, then the regions resources name."""
        names: dict[str, None] = dict.fromkeys(self.locations.regions())
        for resource in self.resources:
            if isinstance(resource.region, str) and resource.region:
                names.setdefault(resource.region)
        return [
            Resource(-1, "region", name, {"region": name}, name, None, self.file) for name in names
        ]

    def located(self, kind: str, region: str) -> list[Resource]:
        """The resources of a kind in a region, from an index built on first use."""
        if self._located is None:
            self._located = defaultdict(list)
            for resource in self.resources:
                if isinstance(resource.region, str) and resource.region:
                    self._located[(resource.kind, resource.region)].append(resource)
        return self._located.get((kind, region), [])

    def now(self) -> datetime | None:
        return self._now

    def no_now(self) -> str:
        if self.captured_at is None:
            return "the snapshot has no `captured_at`; pass --now to give the time"
        return f"the snapshot's `captured_at` ({self.captured_at}) is not a time"

    def edges_from(self, relation: model.Relation, resource: Resource) -> Sequence[Edge]:
        found = self._out[self._indexed(relation)].get(resource.index, ())
        return (found,) if isinstance(found, Edge) else found

    def edges_to(self, relation: model.Relation, resource: Resource) -> Sequence[Edge]:
        found = self._into(relation).get(resource.index, ())
        return (found,) if isinstance(found, Edge) else found

    def incomplete(self, relation: model.Relation, resource: Resource) -> list[tuple[str, str]]:
        """Where following `relation` from `resource` met a missing required attribute."""
        return self._absent[self._indexed(relation)].get(resource.index, [])

    def edge_index(
        self, relation: model.Relation
    ) -> tuple[EdgeIndex, Mapping[int, list[tuple[str, str]]]]:
        """A relation's edges by source index (the edge itself where it is the only one),
        and its incomplete sources by index: for a caller that follows the relation from
        many resources."""
        self._indexed(relation)
        return self._out[relation], self._absent[relation]

    def incomplete_sources(self, relation: model.Relation) -> list[tuple[Resource, str, str]]:
        """Every source of `relation` whose edges are not all known, in snapshot order."""
        return [
            (source, path, pointer)
            for index, gaps in self._absent[self._indexed(relation)].items()
            if (source := self._at_index[index]) is not None
            for path, pointer in gaps
        ]

    def resource_at(self, index: int) -> Resource | None:
        """The resource at `/resources/INDEX` of the snapshot, if it was loaded."""
        at = self._at_index
        return at[index] if 0 <= index < len(at) else None

    def value_at(self, resource: Resource, pointer: str) -> Any:
        """The value at a snapshot pointer under `resource` (None where there is none)."""
        value: Any = resource.data
        for token in pointer[len(resource.pointer) :].split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(value, list) and token.isdigit() and int(token) < len(value):
                value = value[int(token)]
            elif isinstance(value, dict):
                value = value.get(token)
            else:
                return None
        return value

    def region_of(self, zone: str) -> str | None:
        return self.locations.region_of(zone)

    def zones_of(self, region: str) -> tuple[str, ...]:
        return self.locations.zones_of(region)

    def unknown_zone(self, zone: str) -> str:
        return self.locations.unknown_zone(zone)


# Resources loaded one by one in the snapshot's order, never kind by kind (for tests).
_ONE_BY_ONE = False
_new = object.__new__
# The most places a relation's usual sources are told at in a loop of their own (one or
# two: a loop written for two); 0 for none (for tests).
_PLACES_LOOPED = 2

# Tags of that type need no check here: the envelope's check let only string tags in.
_STRING_MAP = model.MapT(model.Scalar("string"))


class _Targets:
    """The possible targets of one relation while it is indexed."""

    def __init__(self, by_key: Callable[[str], Sequence[Resource]]) -> None:
        self.by_key = by_key
        self.by_join: dict[tuple[object, ...], list[Resource]] = {}
        # The indexes of the targets its `when` admits; None: every target of the kind.
        self.allowed: set[int] | None = None
        self.unknown: list[tuple[str, str]] = []  # targets whose edges cannot be told


def _key_part(resource: Resource, key: str) -> object:
    if key in ("region", "zone"):
        return getattr(resource, key)  # a zone-located resource's region is learned
    value = resource.data.get(key)
    return None if value == "" else value


def _capture_time(text: str | None) -> datetime | None:
    return None if text is None else model.parse_time(text)


class _Absent:
    """A relation path stopped at an attribute the model requires: the data is incomplete."""


_ABSENT = _Absent()


def _values_at(
    data: Any, path: model.RelationPath, at: int, pointer: str
) -> Iterator[tuple[Any, str]]:
    """Every value a relation path reaches, with its pointer; `*` walks a list. Yields
    `_ABSENT` where a required step is missing, so no edge is silently lost."""
    if at == len(path.steps) or isinstance(data, UnknownValue):
        yield data, pointer  # an unknown list or object hides what is under it
        return
    step = path.steps[at]
    if step == "*":
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield from _values_at(item, path, at + 1, f"{pointer}/{i}")
        elif data is None and not path.optional[at]:
            yield _ABSENT, pointer
        return
    if isinstance(data, Mapping) and data.get(step) is not None:
        yield from _values_at(data[step], path, at + 1, f"{pointer}/{pointer_escape(step)}")
    elif not path.optional[at]:
        yield _ABSENT, f"{pointer}/{pointer_escape(step)}"


Reached = list[tuple[Any, str]]


def _reader(path: model.RelationPath) -> Callable[[dict[str, Any], str], Iterable[tuple[Any, str]]]:
    """What `_values_at` yields for a resource's data and pointer, read without its walk
    for the usual shapes, a list of ids (`security_group_ids[*]`) and a field of each
    element of a list (`attachments[*].instance_id`)."""
    steps, optional = path.steps, path.optional
    if len(steps) not in (2, 3) or steps[0] == "*" or steps[1] != "*" or steps[-1] == "*":
        return lambda data, pointer: _values_at(data, path, 0, pointer)
    name, tail = steps[0], "/" + pointer_escape(steps[0])
    field = steps[2] if len(steps) == 3 else None
    field_tail = "/" + pointer_escape(field) if field is not None else ""
    field_optional = optional[2] if field is not None else True

    def read(data: dict[str, Any], pointer: str) -> Reached:
        got = data.get(name)
        if got is None:
            return [] if optional[0] else [(_ABSENT, pointer + tail)]
        if isinstance(got, UnknownValue):
            return [(got, pointer + tail)]  # an unknown list hides what is under it
        if not isinstance(got, list):
            return []
        prefix = f"{pointer}{tail}/"
        if field is None:
            return [(item, f"{prefix}{i}") for i, item in enumerate(got)]
        out: Reached = []
        for i, item in enumerate(got):
            if isinstance(item, UnknownValue):
                out.append((item, f"{prefix}{i}"))
            elif (type(item) is dict or isinstance(item, Mapping)) and item.get(field) is not None:
                out.append((item[field], f"{prefix}{i}{field_tail}"))
            elif not field_optional:
                out.append((_ABSENT, f"{prefix}{i}{field_tail}"))
        return out

    return read


def _zonal(guard: model.Guard, data: Mapping[str, Any]) -> bool:
    """Whether a kind `located in zone when C else region` is in a zone here: where C
    cannot be told (an attribute it reads is missing), it is not, so that a rule that
    needs its zone says so rather than comparing a zone that may not be its place."""
    return guard.missing(data) is None and guard.holds(data)
