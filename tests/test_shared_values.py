"""A large snapshot's equal values held once as its resources are decoded (regions,
zones, tag sets, the strings of lists of ids and of records), and a resource's only
edge held as itself: the same values, outcomes and input errors as the whole
document read the usual way, on generated accounts and on shapes that do not fit the
model (values of other types where the strings are shared, records that are not
objects, names unique per region held by several resources, duplicates)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
from differential import outcome_key
from generated_account import bench_account, bench_policies

from policyengine.core.errors import InputError
from policyengine.frontend.loader import load
from policyengine.inputs import edge_index, projection, snapshot
from policyengine.inputs import store as store_module
from policyengine.inputs.reads import ENVELOPE, attributes_read
from policyengine.inputs.resources import Edge, Edges
from policyengine.pipeline import engine
from policyengine.runtime import evaluate


def _write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _outcomes(path: Path, projected: bool, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The outcomes over the file, or the problems of its input error, read as `evaluate`
    reads it: decoded resource by resource with values shared (every file counts as
    large), or whole by orjson."""
    monkeypatch.setattr(snapshot, "LARGE", 0 if projected else 1 << 62)
    try:
        store = engine.read_snapshot(path, bench_policies())
    except InputError as exc:
        return [("input error", p.file, p.pointer, p.message) for p in exc.problems]
    return [outcome_key(r) for r in evaluate(bench_policies().plan, store)]


def test_equal_values_are_one_object_and_every_value_is_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "LARGE", 0)
    plan = bench_policies().plan
    reads = attributes_read(plan)
    path = _write(tmp_path, bench_account())
    found = projection.read(path, str(path), reads, plan.model)
    assert found is not None
    resources = found.document["resources"]
    kept = ENVELOPE.union(*reads.values())
    whole = orjson.loads(path.read_bytes())["resources"]
    assert resources == [{k: v for k, v in r.items() if k in kept} for r in whole]

    def distinct(values: list[Any]) -> tuple[int, int]:
        """How many different values, and how many different objects hold them."""
        return len({json.dumps(v, sort_keys=True) for v in values}), len(set(map(id, values)))

    regions = [r["region"] for r in resources if r.get("region") is not None]
    tags = [r["tags"] for r in resources if r.get("tags")]
    group_ids = [g for r in resources for g in r.get("security_group_ids") or ()]
    attached = [a["instance_id"] for r in resources for a in r.get("attachments") or ()]
    networks = [r["vpc_attributes"]["vswitch_id"] for r in resources if "vpc_attributes" in r]
    group_lists = [r["security_group_ids"] for r in resources if r.get("security_group_ids")]
    for values in (regions, tags, group_ids, attached, networks, group_lists):
        assert len(values) > 8
        values_count, objects = distinct(values)
        assert objects == values_count < len(values)


def _hostile(rng: random.Random) -> dict[str, Any]:
    """The generated account with values of shapes the model does not expect, where the
    decoding shares strings, and names several resources hold."""
    doc = copy.deepcopy(bench_account())
    resources = doc["resources"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_kind.setdefault(resource["kind"], []).append(resource)
    group = by_kind["security_group"][0]["id"]
    odd: list[Any] = [None, 7, True, "", [], {}, ["sg-x", None], {"vpc_id": 5}, [{"a": [1]}]]
    for _ in range(6):
        disk = rng.choice(by_kind["disk"])
        disk["attachments"] = rng.choice(
            [
                rng.choice(odd),
                [rng.choice(odd), {"instance_id": disk.get("instance_id"), "device": 3}],
                [{"instance_id": rng.choice(by_kind["instance"])["id"], "note": {"x": "y"}}],
            ]
        )
        instance = rng.choice(by_kind["instance"])
        instance["vpc_attributes"] = rng.choice(odd)
        # Values its decoding takes (it checks a list of ids): shared, not read again.
        instance["security_group_ids"] = rng.choice(
            [None, [], [group] * 3, [None, "sg-missing", group]]
        )
        instance["tags"] = dict(reversed(list((instance.get("tags") or {}).items())))
    # A name unique per region held in another region too, and a duplicate of it.
    pair = copy.deepcopy(by_kind["key_pair"][0])
    pair["region"] = "cn-elsewhere"
    resources.append(pair)
    if rng.random() < 0.5:
        resources.append(copy.deepcopy(pair))
    return doc


@pytest.mark.parametrize("seed", range(4))
def test_shapes_that_do_not_fit_give_the_outcomes_and_errors_of_the_whole(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, _hostile(random.Random(seed)))
    whole = _outcomes(path, False, monkeypatch)
    assert whole and _outcomes(path, True, monkeypatch) == whole


def test_shapes_that_do_not_fit_are_decoded_resource_by_resource(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shapes above are taken by the decoding that shares values (not read again the
    usual way), so that the comparison above is of the two readings."""
    monkeypatch.setattr(snapshot, "LARGE", 0)
    plan = bench_policies().plan
    for seed in range(4):
        path = _write(tmp_path, _hostile(random.Random(seed)))
        assert projection.read(path, str(path), attributes_read(plan), plan.model) is not None


def test_an_only_edge_is_held_as_itself_and_read_as_a_sequence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "LARGE", 0)
    store = engine.read_snapshot(_write(tmp_path, bench_account()), bench_policies())
    model = bench_policies().plan.model
    attach = next(r for r in model.relations if r.source == "disk" and r.target == "instance")
    out, _ = store.edge_index(attach)
    assert any(isinstance(edges, Edge) for edges in out.values())
    for disk in store.by_kind["disk"]:
        edges = store.edges_from(attach, disk)
        held = out.get(disk.index)
        assert list(edges) == (
            [] if held is None else [held] if isinstance(held, Edge) else [*held]
        )
        for edge in edges:
            assert edge in store.edges_to(attach, edge.targets[0])


def _odd_edges(rng: random.Random) -> dict[str, Any]:
    """The generated account with references of every shape a relation path meets: two
    paths naming two instances, or one of them naming none; lists of several records, or
    of none, or whose first lacks the id; null and empty ids; ids of no resource; names
    several resources hold."""
    doc = copy.deepcopy(bench_account())
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for resource in doc["resources"]:
        by_kind.setdefault(resource["kind"], []).append(resource)
    for pair in by_kind["key_pair"][:3]:  # a name unique per region, in two regions
        doc["resources"].append({**pair, "region": "cn-elsewhere"})
    instances = [i["id"] for i in by_kind["instance"]]
    for disk in rng.sample(by_kind["disk"], 40):
        other = rng.choice(instances + ["i-missing"])
        disk["attachments"] = rng.choice(
            [
                [{"instance_id": other}],
                [{"device": "x"}, {"instance_id": disk.get("instance_id")}],
                [{"instance_id": disk.get("instance_id")}, {"instance_id": other}],
                [{"instance_id": other}, {"instance_id": other}],
                [{"instance_id": None}],
                [{"instance_id": ""}],
                [],
            ]
        )
        if rng.random() < 0.3:
            disk.pop("instance_id", None)
        elif rng.random() < 0.2:
            disk["instance_id"] = rng.choice(["", None, other])
    for eni in rng.sample(by_kind["eni"], 10):
        eni["instance_id"] = rng.choice(instances + ["i-missing"])
    for instance in rng.sample(by_kind["instance"], 10):
        instance["security_group_ids"] = rng.sample(
            [g["id"] for g in by_kind["security_group"]] + ["sg-missing", None, ""],
            rng.randrange(0, 4),
        )
    return doc


def _as_sequence(edges: Edges) -> tuple[Edge, ...]:
    return (edges,) if isinstance(edges, Edge) else edges


def _told(edge: Edge) -> tuple[Any, ...]:
    """An edge as its fields tell it, its resources by their places (each reading of a
    file makes resources of its own)."""
    targets = tuple(t.pointer for t in edge.targets)
    return (
        type(edge),
        edge.relation,
        edge.source.pointer,
        edge.value,
        targets,
        edge.paths,
        edge.pointer,
    )


@pytest.mark.parametrize("listed", [True, False, None], ids=["list", "dict", "as sized"])
@pytest.mark.parametrize("seed", range(2))
def test_edges_held_as_their_targets_are_the_edges_made(
    seed: int, listed: bool | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every edge of every relation, from and to every resource, as it is when each edge
    is held as made: the same source, value, targets, paths and pointer, in the same
    order. Most are held as their targets (so that this compares them), in a list over
    every resource or by index, or as the number of the relation's sources says."""
    if listed is not None:
        monkeypatch.setattr(store_module, "listed", lambda sources, resources: listed)
    path = _write(tmp_path, _odd_edges(random.Random(seed)))
    relations = bench_policies().plan.model.relations

    def every_edge() -> tuple[list[Any], int, int]:
        store = engine.read_snapshot(path, bench_policies())
        found, held, sources = [], 0, 0
        for relation in relations:
            index, _ = store.edge_index(relation)
            held += getattr(index, "_count", 0)
            sources += len(index)
            for resource in store.resources:
                ways = (store.edges_from(relation, resource), store.edges_to(relation, resource))
                found.extend([_told(e) for e in edges] for edges in ways)
                # The one target of its one edge, told without the edge.
                edges = ways[0]
                only = edges[0].targets if len(edges) == 1 else ()
                target = index.only_target(resource.index)
                assert target is (only[0] if len(only) == 1 else None)
            found.append([(i, _told(e)) for i, edges in index.items() for e in _as_sequence(edges)])
        return found, held, sources

    with monkeypatch.context() as patched:
        patched.setattr(edge_index.Place, "of", classmethod(lambda cls, relation, paths: None))
        made, none_held, sources = every_edge()
    held_too, held, _ = every_edge()
    assert none_held == 0 and sources // 2 < held < sources
    assert held_too == made


@pytest.mark.parametrize(
    ("text", "may"),
    [
        (b'{"a": "b"}', False),
        (b'{"a": "$5", "b": "x\\/y"}', False),  # each first byte alone: no marker
        (b'{"$unknown": "x"}', True),
        (b'{"\\u0024unknown": "x"}', True),
        (b'{"a": "\\\\u"}', True),  # an escaped backslash and a u: may be, read the values
    ],
)
def test_a_marker_is_looked_for_where_the_bytes_may_spell_it(text: bytes, may: bool) -> None:
    assert projection._may_spell(bytearray(text)) is may
    assert projection._may_spell(bytearray(text)) is snapshot.may_spell_unknown(text.decode())


def test_the_resource_at_each_index_is_the_one_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "LARGE", 0)
    doc = bench_account()
    store = engine.read_snapshot(_write(tmp_path, doc), bench_policies())
    resources = doc["resources"]
    assert store.resource_at(len(resources)) is None and store.resource_at(-1) is None
    for index, resource in enumerate(resources):
        found = store.resource_at(index)
        assert found is not None and found.index == index and found.kind == resource["kind"]


_SPARE_KEYS = """\
model acme.keys "Instances naming spare key pairs"
use alicloud.ecs

extend kind instance {
  spare_key_pair_names: optional list of id of key_pair
}
relation instance spare key_pair via instance.spare_key_pair_names[*], instance.key_pair_name
"""

_SPARE_POLICY = """\
use acme.keys

policy spare "Spare keys" {
  rule spare_key_here { instance spare requires same region }
}
"""


@pytest.mark.parametrize("listed", [True, False])
def test_edges_to_names_unique_per_region_are_the_edges_made(
    listed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relation of two paths to a kind whose names are unique per region: a name held
    in several regions has several targets, found by the general steps; a name of one
    region, by one look-up. Every edge is as it is when each is made one by one."""
    monkeypatch.setattr(store_module, "listed", lambda sources, resources: listed)
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "keys.model").write_text(_SPARE_KEYS, encoding="utf-8")
    (tmp_path / "spare.policy").write_text(_SPARE_POLICY, encoding="utf-8")
    policies = load([tmp_path / "spare.policy"])
    doc = copy.deepcopy(bench_account())
    rng = random.Random(3)
    pairs = [r for r in doc["resources"] if r["kind"] == "key_pair"]
    doc["resources"] += [{**pair, "region": "cn-elsewhere"} for pair in pairs[:2]]
    names = [p["name"] for p in pairs] + ["missing"]
    for instance in (r for r in doc["resources"] if r["kind"] == "instance"):
        name = instance.get("key_pair_name") or rng.choice(names)
        instance["key_pair_name"] = name
        instance["spare_key_pair_names"] = rng.choice([[name], [name], [rng.choice(names)], []])
    path = _write(tmp_path, doc)
    relation = next(r for r in policies.plan.model.relations if r.verb == "spare")

    def every_edge() -> tuple[list[Any], int]:
        store = engine.read_snapshot(path, policies)
        index, _ = store.edge_index(relation)
        told = [_told(e) for r in store.resources for e in store.edges_from(relation, r)]
        return told, getattr(index, "_count", 0)

    with monkeypatch.context() as patched:
        patched.setattr(edge_index.Place, "of", classmethod(lambda cls, relation, paths: None))
        made, _ = every_edge()
    held_too, held = every_edge()
    assert any(len(e[4]) > 1 for e in made)  # names held in several regions
    assert any(len(e[4]) == 1 for e in made)
    assert 0 < held < len(made)
    assert held_too == made


def _kept(path: Path) -> list[dict[str, Any]]:
    """The file's resources with the fields the rules read, as orjson reads them."""
    kept = ENVELOPE.union(*attributes_read(bench_policies().plan).values())
    whole = orjson.loads(path.read_bytes())["resources"]
    return [{k: v for k, v in r.items() if k in kept} for r in whole]


def test_the_decoder_of_the_locations_decodes_each_resource_as_the_general_one() -> None:
    """The decoder whose regions and zones are the snapshot's `locations` gives every
    resource it takes as the general decoder gives it, each region and zone one string;
    one in a region or zone elsewhere it does not take."""
    plan = bench_policies().plan
    reads = attributes_read(plan)
    names = ENVELOPE.union(*reads.values())
    typed = projection._checked_types(plan.model, names)
    decoders = projection._decoders(frozenset(names), frozenset(reads), frozenset(typed.items()))
    doc = bench_account()
    places = projection._places_of(doc["locations"])
    assert places is not None and decoders.located is not None
    located = decoders.located(places)
    texts = [orjson.dumps(r) for r in doc["resources"]]
    decoded = [located(text) for text in texts]
    assert decoded == [decoders.resource(text) for text in texts]
    for name in ("region", "zone"):
        values = [r[name] for r in decoded if r.get(name) is not None]
        assert len(values) > 8 and len(set(map(id, values))) == len(set(values))
    for odd in ({"region": "cn-elsewhere"}, {"zone": "cn-elsewhere-a"}, {"region": 5}):
        with pytest.raises(msgspec.ValidationError):
            located(orjson.dumps({**doc["resources"][0], **odd}))


def _located_otherwise(where: str, odd: dict[str, Any]) -> dict[str, Any]:
    """The generated account with one resource (first, in the middle or last) in a place
    its `locations` does not name, or with `locations` of another shape."""
    doc = copy.deepcopy(bench_account())
    resources = doc["resources"]
    if "locations" in odd:
        doc["locations"] = odd["locations"]
        return doc
    index = {"first": 0, "middle": len(resources) // 2, "last": len(resources) - 1}[where]
    resources[index] = {**resources[index], **odd}
    return doc


_ELSEWHERE: list[dict[str, Any]] = [
    {"region": "cn-elsewhere"},
    {"zone": "cn-elsewhere-a"},
    {"zone": "cn-shanghai-e", "region": "cn-hangzhou"},  # a zone of another region
    {"region": None, "zone": None},
    {"region": 5},  # the usual reading words it
    {"locations": {}},
    {"locations": {"cn-hangzhou": ["cn-hangzhou-h", 7]}},
    {"locations": ["cn-hangzhou"]},
    {"locations": None},
]


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("odd", _ELSEWHERE, ids=[json.dumps(o) for o in _ELSEWHERE])
def test_a_place_the_locations_do_not_name_is_read_as_ever(
    where: str, odd: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, _located_otherwise(where, odd))
    whole = _outcomes(path, False, monkeypatch)
    assert whole and _outcomes(path, True, monkeypatch) == whole
    plan = bench_policies().plan
    found = projection.read(path, str(path), attributes_read(plan), plan.model)
    if odd.get("region") == 5:
        assert found is None  # not taken: the usual reading words it
        return
    assert found is not None and found.document["resources"] == _kept(path)


@pytest.mark.parametrize(
    "tags",
    ['{"owner":"a"}', '{ "owner" : "a" }', '{"owner":"\\u0061"}', "{}", "null", "{ }"],
)
def test_tags_spelt_alike_or_not_are_each_the_tags_written(
    tags: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tags are decoded once per different text: every spelling of a tag set, and the
    same set spelt differently, is the value the file holds there."""
    monkeypatch.setattr(snapshot, "LARGE", 0)
    text = json.dumps(bench_account())
    marker = '"tags": '
    spelt = text.replace(marker, marker + tags + ', "_": ', 7)  # some resources respelt
    path = tmp_path / "s.json"
    path.write_text(spelt, encoding="utf-8")
    plan = bench_policies().plan
    found = projection.read(path, str(path), attributes_read(plan), plan.model)
    assert found is not None and found.document["resources"] == _kept(path)
    assert _outcomes(path, True, monkeypatch) == _outcomes(path, False, monkeypatch)
