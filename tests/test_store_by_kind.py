"""A store loaded kind by kind holds what the store loaded one resource at a time in the
snapshot's order holds: the same resources in the same order, identities, names several
regions hold, addresses and location table; and where the data has a problem, the same
problems in the same order. Compared on generated accounts, with and without the
attributes a plan reads, and on accounts given shapes the usual steps do not take
(unknown kinds, duplicates, keys of other types, values that do not convert, sources,
names unique per region, kinds located in a zone only where a guard holds)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from generated_account import bench_account, bench_policies

from policyengine import InputError, Store, parse_snapshot
from policyengine.inputs import store as store_module
from policyengine.inputs.reads import attributes_read
from policyengine.inputs.resources import LocationTable

FILE = "s.json"


def _state(store: Store) -> dict[str, Any]:
    """Everything loading made, resources named by index."""
    table = store.locations
    return {
        "resources": [
            (r.index, r.kind, r.key, r.data, r.region, r.zone, r.file, r.address, r.origin, r.at)
            for r in store.resources
        ],
        "by_kind": {k: [r.index for r in rs] for k, rs in store.by_kind.items()},
        "identity": {
            k: {key: r.index for key, r in ids.items()} for k, ids in store._identity.items()
        },
        "several": {
            k: {key: [r.index for r in rs] for key, rs in held.items()}
            for k, held in store._several.items()
        },
        "by_address": {a: r.index for a, r in store._by_address.items()},
        "locations": (
            table._declared,
            {z: sorted(rs) for z, rs in table._seen.items() if rs},
            {r: sorted(zs) for r, zs in table._zones.items() if zs},
            table._regions,
        ),
        "at": [store.resource_at(i) is r for i, r in enumerate(store.resources)],
    }


def _loaded(
    doc: dict[str, Any], one_by_one: bool, monkeypatch: pytest.MonkeyPatch, reads: bool
) -> Any:
    """The store's state, or the problems of its input error."""
    monkeypatch.setattr(store_module, "_ONE_BY_ONE", one_by_one)
    plan = bench_policies().plan
    try:
        store = Store(
            parse_snapshot(json.dumps(doc), FILE),
            plan.model,
            None,
            attributes_read(plan) if reads else None,
        )
    except InputError as exc:
        return [(p.file, p.pointer, p.message) for p in exc.problems]
    return _state(store)


def _both(doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch, reads: bool) -> Any:
    by_kind = _loaded(doc, False, monkeypatch, reads)
    assert by_kind == _loaded(doc, True, monkeypatch, reads)
    return by_kind


@pytest.mark.parametrize("reads", [True, False])
def test_a_generated_account_is_loaded_kind_by_kind_as_one_by_one(
    reads: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[LocationTable] = []

    class Counted(LocationTable):
        def __init__(self, declared: Any) -> None:
            made.append(self)
            super().__init__(declared)

    monkeypatch.setattr(store_module, "LocationTable", Counted)
    monkeypatch.setattr(store_module, "_ONE_BY_ONE", False)
    plan = bench_policies().plan
    snapshot = parse_snapshot(json.dumps(bench_account()), FILE)
    Store(snapshot, plan.model, None, attributes_read(plan) if reads else None)
    assert len(made) == 1  # not loaded a second time, one by one
    state = _both(bench_account(), monkeypatch, reads)
    assert isinstance(state, dict) and len(state["resources"]) == len(bench_account()["resources"])


def _odd(rng: random.Random) -> dict[str, Any]:
    """The generated account with shapes the usual steps do not take."""
    doc = copy.deepcopy(bench_account())
    resources: list[dict[str, Any]] = doc["resources"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_kind.setdefault(resource["kind"], []).append(resource)
    odd: list[Any] = [None, 7, True, "", [], {}, ["x", None], {"vpc_id": 5}, [{"a": [1]}]]
    changes = [
        lambda: resources.append({"kind": "instanse", "id": "i-x"}),
        lambda: resources.append(copy.deepcopy(rng.choice(by_kind["disk"]))),
        lambda: rng.choice(by_kind["eni"]).update(id=rng.choice(["", None])),
        lambda: rng.choice(by_kind["instance"]).update(vpc_attributes=rng.choice(odd)),
        lambda: rng.choice(by_kind["disk"]).update(attachments=rng.choice(odd)),
        lambda: rng.choice(by_kind["security_group"])["rules"][0].update(
            port_range=rng.choice(["22", 22, "1/99999", None])
        ),
        lambda: rng.choice(by_kind["instance"]).update(
            source={"file": "main.tf", "address": "alicloud_instance.web", "pointer": "/a"}
        ),
        lambda: rng.choice(by_kind["snapshot"]).pop("region"),
        lambda: resources.insert(
            rng.randrange(len(resources)),
            {
                "kind": "reserved_instance",
                "id": f"ecsri-bp1g70000000000000{rng.randrange(10, 99)}",
                "region": rng.choice(["cn-hangzhou", None]),
                "zone": "cn-hangzhou-h",
                "scope": rng.choice(["Zone", "Region", None]),
            },
        ),
        lambda: resources.append(
            {**copy.deepcopy(by_kind["key_pair"][0]), "region": rng.choice(["cn-x", None])}
        ),
    ]
    for _ in range(rng.randrange(1, 4)):
        rng.choice(changes)()
    return doc


@pytest.mark.parametrize("seed", range(24))
def test_shapes_the_usual_steps_do_not_take_load_as_one_by_one(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _both(_odd(random.Random(seed)), monkeypatch, reads=seed % 2 == 0)


def test_problems_are_told_in_the_snapshot_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Problems of several kinds, each kind's resources far apart: told by index."""
    doc = copy.deepcopy(bench_account())
    resources = doc["resources"]
    disk = next(i for i, r in enumerate(resources) if r["kind"] == "disk")
    eni = next(i for i, r in enumerate(resources) if r["kind"] == "eni")
    resources.append(copy.deepcopy(resources[eni]))  # a duplicate, after the disk's problem
    resources[disk]["id"] = ""
    resources.insert(1, {"kind": "nothing", "id": "n-1"})
    problems = _both(doc, monkeypatch, reads=True)
    assert [p[1] for p in problems] == [
        "/resources/1/kind",
        f"/resources/{disk + 1}/id",
        f"/resources/{len(resources) - 1}",
    ]


@pytest.mark.parametrize("listed", [True, False], ids=["list", "dict"])
@pytest.mark.parametrize("seed", range(3))
def test_sources_told_at_their_places_in_a_loop_are_held_as_by_the_general_steps(
    seed: int, listed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every relation's index, its sources held as their targets in the loop of their
    places and without it: the same edges, held the same way, in the same order."""
    from test_shared_values import _as_sequence, _odd_edges, _told, _write

    from policyengine.pipeline import engine

    monkeypatch.setattr(store_module, "listed", lambda sources, resources: listed)
    path = _write(tmp_path, _odd_edges(random.Random(seed)))
    relations = bench_policies().plan.model.relations

    def indexes() -> list[Any]:
        store = engine.read_snapshot(path, bench_policies())
        found: list[Any] = []
        for relation in relations:
            index, absent = store.edge_index(relation)
            found.append(
                (
                    [(i, [_told(e) for e in _as_sequence(edges)]) for i, edges in index.items()],
                    [_places(held) for held in index._listed],
                    [(i, _places(held)) for i, held in index._keyed.items()],
                    list(index._made),
                    dict(absent),
                    sorted(store._implied_by),
                )
            )
        return found

    with monkeypatch.context() as patched:
        patched.setattr(store_module, "_PLACES_LOOPED", 0)
        general = indexes()
    assert sum(sum(held is not None for held in i[1]) + len(i[2]) for i in general) > 8
    assert indexes() == general


def _places(held: Any) -> Any:
    """Targets held for an edge, by their places (each reading makes resources of its own)."""
    if held is None:
        return None
    return held.pointer if not isinstance(held, tuple) else tuple(t.pointer for t in held)
