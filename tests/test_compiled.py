"""The compiled fast path against the plan interpreter: identical outcomes on the bundled
example and on generated accounts, and a counted fallback for ops it does not compile."""

from __future__ import annotations

import copy
import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from differential import evaluate_both
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.core.errors import InputError
from policyengine.core.files import Confinement
from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.pipeline.testing import read_test_file
from policyengine.runtime import compile_plan

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ecs-account" / "snapshot.json"


@cache
def _bundled() -> Loaded:
    return load(bundled_policies())


@cache
def _example() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return doc


def test_example_account_is_identical_on_both_paths() -> None:
    loaded = _bundled()
    store = Store(parse_snapshot(EXAMPLE.read_text(encoding="utf-8"), "s.json"), loaded.plan.model)
    assert len(evaluate_both(loaded.plan, store)) > 200


def test_every_bundled_rule_is_compiled() -> None:
    root = Path(__file__).resolve().parents[1] / "policies"
    packs = sorted(root.rglob("*.policy"))
    assert len(packs) >= 5  # the opt-in packs too: governance, cost
    fast = compile_plan(load(packs).plan)
    assert fast.fallbacks == ()
    assert len(fast.rules) == len(load(packs).plan.rules)


def test_only_the_lets_a_condition_reads_are_computed_on_the_fast_path() -> None:
    """`instance_family` reads its three lets (an index into a split, a concatenation);
    `scu_offsets_disks` shows its `let` in the message alone, which the fast path never
    computes (the interpreter words the outcomes that are reported)."""
    root = Path(__file__).resolve().parents[1] / "policies" / "alicloud"
    fast = compile_plan(load([root / "governance.policy", root / "cost.policy"]).plan)
    assert len(fast.rules["governance.instance_family"].lets) == 3
    assert fast.rules["cost.scu_offsets_disks"].lets == ()


@cache
def _every_pack(policies: tuple[Path, ...], params: tuple[str, ...]) -> Loaded:
    return load(list(policies), params)


def test_every_pack_case_is_identical_on_both_paths() -> None:
    """Each case of each bundled pack's test file, opt-in packs included: the relations
    followed from either end, `located in`, `count` and attributes only some APIs
    return, with their dangling, incomplete and absent forms, on both paths."""
    root = Path(__file__).resolve().parents[1] / "policies"
    cases = 0
    for test_file in sorted(root.rglob("*.test.yaml")):
        read = read_test_file(test_file, Confinement.of([root]))
        for case in read.cases:
            loaded = _every_pack(read.policies, case.params)
            snapshot = parse_snapshot(case.snapshot_text, case.snapshot_name)
            evaluate_both(loaded.plan, Store(snapshot, loaded.plan.model))
            cases += 1
    assert cases > 100


def test_rules_with_uncompiled_ops_fall_back_by_name(tmp_path: Path) -> None:
    path = tmp_path / "star.policy"
    path.write_text(
        "use alicloud.ecs\n\npolicy t {\n  rule star {\n"
        '    for each instance require "sg-1" in security_group_ids[*]\n  }\n'
        "  rule per_region {\n"
        "    for each region require count(instance located in this) <= 1\n  }\n}\n",
        encoding="utf-8",
    )
    fast = compile_plan(load([path]).plan)
    assert dict(fast.fallbacks) == {
        "t.star": "the path `security_group_ids[*]` goes through a list"
    }
    assert list(fast.rules) == ["t.per_region"]


_ZONES = ["cn-hangzhou-h", "cn-hangzhou-i", "cn-shanghai-e", "nowhere-1a", None]
_REGIONS = ["cn-hangzhou", "cn-shanghai", "ap-southeast-1", None]
_ATTRIBUTES = [
    "zone",
    "region",
    "instance_id",
    "image_id",
    "key_pair_name",
    "security_group_ids",
    "source_disk_id",
    "visibility",
    "scope",
    "tags",
    "attachments",
    "launch_template_data",
    "default_version",
    "deletion_protection",
    "encrypted",
]


@st.composite
def _mutated_accounts(draw: st.DrawFn) -> dict[str, Any]:
    """The example account with resources dropped (dangling references), attributes
    removed or moved to other zones and regions: the data that makes outcomes differ."""
    doc = copy.deepcopy(_example())
    resources = doc["resources"]
    for _ in range(draw(st.integers(0, 12))):
        i = draw(st.integers(0, len(resources) - 1))
        resource = resources[i]
        action = draw(st.sampled_from(["drop", "delete", "zone", "region", "swap"]))
        if action == "drop" and len(resources) > 1:
            del resources[i]
        elif action == "delete":
            resource.pop(draw(st.sampled_from(_ATTRIBUTES)), None)
        elif action == "zone":
            resource["zone"] = draw(st.sampled_from(_ZONES))
        elif action == "region":
            resource["region"] = draw(st.sampled_from(_REGIONS))
        else:
            other = resources[draw(st.integers(0, len(resources) - 1))]
            name = draw(st.sampled_from(_ATTRIBUTES))
            if name in other:
                resource[name] = copy.deepcopy(other[name])
    if draw(st.booleans()):
        doc.pop("locations", None)
    return doc


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_accounts())
def test_generated_accounts_are_identical_on_both_paths(doc: dict[str, Any]) -> None:
    loaded = _bundled()
    try:
        store = Store(parse_snapshot(json.dumps(doc), "s.json"), loaded.plan.model)
    except InputError:
        return  # a mutation the loader rejects: nothing to evaluate
    evaluate_both(loaded.plan, store)


_TYPES = st.sampled_from(
    ["ecs.g7.large", "ecs.t6-c1m1.large", "ecs", "ecs.", ".g7", "a.b-c.d", "", "ecs.g5-.x"]
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(_TYPES, st.none(), st.just("absent")), min_size=1),
    st.lists(st.sampled_from(["ecs.g7", "ecs.t6", "ecs.", ""]), max_size=3),
    st.sampled_from([0, 1, -1, 2, -3]),
)
def test_lets_and_indexes_decide_alike_on_both_paths(
    types: list[Any], families: list[str], index: int
) -> None:
    """Rules whose conditions read lets that index into lists, given lists too short,
    null and missing attributes, and a rule for each region that counts its instances."""
    policy = (
        "use alicloud.ecs\n\npolicy t {\n"
        "  param allowed: list of string = []\n"
        "  rule family {\n    for each instance\n"
        '    let parts = split(instance_type, ".")\n'
        '    let series = split(parts[1], "-")\n'
        '    let family = concat("ecs.", series[0])\n'
        "    require family in allowed\n  }\n"
        "  rule indexed {\n    for each instance\n"
        '    let parts = split(instance_type, ".")\n'
        f'    require parts[{index}] != "g7"\n  }}\n'
        "  rule per_region {\n    for each region\n"
        "    let large = count(i in instance located in this where i.instance_type is set)\n"
        f'    require large <= {index + 3} or this == "cn-shanghai"\n  }}\n}}\n'
    )
    instances = []
    for i, value in enumerate(types):
        region = ("cn-hangzhou", "cn-shanghai", "ap-southeast-1")[i % 3]
        instance: dict[str, Any] = {"kind": "instance", "id": f"i-{i}", "region": region}
        if value != "absent":
            instance["instance_type"] = value
        instances.append(instance)
    folder = Path(tempfile.mkdtemp())
    (folder / "t.policy").write_text(policy, encoding="utf-8")
    params = [f"allowed={json.dumps(families)}"]
    loaded = load([folder / "t.policy"], params)
    assert compile_plan(loaded.plan).fallbacks == ()
    snapshot = parse_snapshot(json.dumps({"resources": instances}), "s.json")
    evaluate_both(loaded.plan, Store(snapshot, loaded.plan.model))
