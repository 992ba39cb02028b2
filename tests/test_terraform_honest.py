"""Terraform plans read honestly: a value known only after apply stays unknown (never the
text of a marker, never compared, never a reason to drop a resource), an instance's system
disk and inline data disks are disks the disk rules judge, and a reference whose index is
an expression links nothing unless the `.tf` files show it is the instance's own index.

The metamorphic property: making any known value of a plan or a snapshot unknown, or
removing a resource another one names, may turn a pass or a fail into `error`, never a
fail or an error into a pass (nor make the finding disappear).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs import importers
from policyengine.runtime import evaluate

SG = "sg-bp1a8r0h3mc6j7ypv0oq"
INSTANCE = "i-bp1d6tsvkinvbbn5b8pf"
DISK = "d-bp1gdl8c7qkt3oo9f0w4"
PROVIDER = "registry.terraform.io/aliyun/alicloud"


@cache
def _bundled() -> Loaded:
    return load(bundled_policies())


def change(address: str, after: dict[str, Any], unknown: dict[str, Any] | None = None) -> Any:
    kind, _, name = address.partition(".")
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "name": name,
        "provider_name": PROVIDER,
        "change": {"actions": ["create"], "after": after, "after_unknown": unknown or {}},
    }


def plan(*changes: dict[str, Any], configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    conf = configuration or {
        "provider_config": {
            "alicloud": {"expressions": {"region": {"constant_value": "cn-hangzhou"}}}
        },
        "root_module": {
            "resources": [
                {"address": c["address"], "provider_config_key": "alicloud", "expressions": {}}
                for c in changes
            ]
        },
    }
    return {
        "format_version": "1.2",
        "terraform_version": "1.7.5",
        "resource_changes": list(changes),
        "configuration": conf,
    }


def base_changes() -> list[dict[str, Any]]:
    return [
        change(
            "alicloud_instance.web",
            {
                "id": INSTANCE,
                "availability_zone": "cn-hangzhou-h",
                "instance_type": "ecs.g7.large",
                "image_id": "m-bp1hd5yd3z8vfr0wq1ae",
                "security_groups": [SG],
                "vswitch_id": "vsw-bp11446qbjoyrx2f23gz2",
                "instance_charge_type": "PostPaid",
                "deletion_protection": True,
                "http_tokens": "required",
                "tags": {"owner": "platform", "cost-center": "cc-100"},
                "system_disk_category": "cloud_essd",
                "system_disk_size": 40,
                "system_disk_encrypted": False,
                "data_disks": [
                    {"size": 100, "category": "cloud_essd", "encrypted": True},
                ],
            },
        ),
        change(
            "alicloud_security_group.web",
            {"id": SG, "security_group_name": "web", "vpc_id": "vpc-bp11ueb2e2l4qdp7wvnj9"},
        ),
        change(
            "alicloud_security_group_rule.ssh",
            {
                "type": "ingress",
                "ip_protocol": "tcp",
                "policy": "accept",
                "port_range": "22/22",
                "cidr_ip": "0.0.0.0/0",
                "priority": 1,
                "security_group_id": SG,
            },
        ),
        change(
            "alicloud_ecs_disk.data",
            {
                "id": DISK,
                "zone_id": "cn-hangzhou-j",
                "category": "cloud_essd",
                "size": 200,
                "encrypted": False,
                "delete_with_instance": False,
            },
        ),
        change("alicloud_ecs_disk_attachment.data", {"disk_id": DISK, "instance_id": INSTANCE}),
    ]


def outcomes(doc: dict[str, Any], tmp: Path, name: str = "plan.json") -> dict[tuple[str, str], str]:
    """(rule, resource) -> its worst outcome, the resource named by its address or id."""
    path = tmp / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    loaded = _bundled()
    m = loaded.plan.model
    read = importers.read(path, "auto", m, importers.Options())
    store = importers.to_store(read.snapshot, m)
    rank = {"error": 4, "fail": 3, "pass": 2, "skipped": 1}
    out: dict[tuple[str, str], str] = {}
    for result in evaluate(loaded.plan, store):
        res = result.resource
        key = (result.rule.id, res.address or f"{res.kind} {res.pointer}")
        status = str(result.status)
        if rank[status] > rank.get(out.get(key, "skipped"), 0) or key not in out:
            out[key] = status
    return out


# ---------------------------------------------------------------- unknowns stay unknown


def test_ssh_open_to_the_internet_with_an_unknown_policy_or_protocol_never_passes(
    tmp_path: Path,
) -> None:
    for attr in ("policy", "ip_protocol"):
        changes = base_changes()
        rule = changes[2]["change"]
        rule["after"][attr] = None
        rule["after_unknown"] = {attr: True}
        got = outcomes(plan(*changes), tmp_path)
        for rule_id in ("org_baseline.no_public_ssh", "security_groups.no_risky_ports"):
            assert got[(rule_id, "alicloud_security_group.web")] in ("fail", "error"), attr
        if attr == "policy":  # every bundled rule about the internet reads it
            assert got[("org_baseline.no_public_ssh", "alicloud_security_group.web")] == "error"
        converted = importers.read(
            tmp_path / "plan.json", "auto", _bundled().plan.model, importers.Options()
        ).converted.document
        group = next(r for r in converted["resources"] if r["kind"] == "security_group")
        assert group["rules"][0][attr] == {"$unknown": f"alicloud_security_group_rule.ssh.{attr}"}


def test_a_rule_whose_direction_is_unknown_puts_its_cidr_on_neither_side(tmp_path: Path) -> None:
    changes = base_changes()
    rule = changes[2]["change"]
    rule["after"]["type"] = None
    rule["after_unknown"] = {"type": True}
    got = outcomes(plan(*changes), tmp_path)
    assert got[("org_baseline.no_public_ssh", "alicloud_security_group.web")] == "error"


def test_an_unknown_tag_value_is_unknown_not_absent(tmp_path: Path) -> None:
    changes = base_changes()
    instance = changes[0]["change"]
    instance["after"]["tags"] = {"owner": "platform"}
    instance["after_unknown"] = {"tags": {"cost-center": True}}
    got = outcomes(plan(*changes), tmp_path)
    assert got[("org_baseline.required_tags", "alicloud_instance.web")] == "error"


def test_an_eip_association_of_unknown_type_is_not_dropped(tmp_path: Path) -> None:
    changes = [
        *base_changes(),
        change(
            "alicloud_eip_association.web",
            {"instance_id": INSTANCE, "allocation_id": "eip-bp1aaaaaaaaaaaaaaaaaa"},
            {"instance_type": True},
        ),
    ]
    read = importers.read(
        _write(tmp_path, plan(*changes)), "auto", _bundled().plan.model, importers.Options()
    )
    web = next(
        r
        for r in read.converted.document["resources"]
        if r["source"]["address"] == "alicloud_instance.web"
    )
    assert web["eip_address"]["allocation_id"] == "eip-bp1aaaaaaaaaaaaaaaaaa"


def _write(tmp: Path, doc: dict[str, Any]) -> Path:
    path = tmp / "plan.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# ---------------------------------------------------------------- disks of an instance


def test_system_and_inline_data_disks_are_disks_the_rules_judge(tmp_path: Path) -> None:
    got = outcomes(plan(*base_changes()), tmp_path)
    assert got[("org_baseline.encrypted_disks", "alicloud_instance.web.system_disk")] == "fail"
    assert got[("org_baseline.encrypted_disks", "alicloud_instance.web.data_disks[0]")] == "pass"
    # In the instance's zone, attached to it.
    assert got[("ecs_locations.disk_zone", "alicloud_instance.web.system_disk")] == "pass"
    assert got[("ecs_locations.disk_zone", "alicloud_instance.web.data_disks[0]")] == "pass"
    doc = importers.read(
        tmp_path / "plan.json", "auto", _bundled().plan.model, importers.Options()
    ).converted.document
    system = next(r for r in doc["resources"] if r["source"]["address"].endswith("system_disk"))
    assert (system["type"], system["zone"], system["instance_id"]) == (
        "system",
        "cn-hangzhou-h",
        INSTANCE,
    )
    assert system["source"]["fields"]["/encrypted"]["pointer"] == (
        "/resource_changes/0/change/after/system_disk_encrypted"
    )


# ---------------------------------------------------------------- index expressions


def _counted(index_expression: str) -> tuple[dict[str, Any], str]:
    """Two instances and two disks by `count`, attached by an index expression."""
    changes = []
    for i, zone in enumerate(("cn-hangzhou-h", "cn-hangzhou-i")):
        inst = change("alicloud_instance.app", {"availability_zone": zone}, {"id": True})
        inst["address"], inst["index"] = f"alicloud_instance.app[{i}]", i
        disk = change("alicloud_ecs_disk.data", {"zone_id": zone, "size": 20}, {"id": True})
        disk["address"], disk["index"] = f"alicloud_ecs_disk.data[{i}]", i
        link = change(
            "alicloud_ecs_disk_attachment.data", {}, {"disk_id": True, "instance_id": True}
        )
        link["address"], link["index"] = f"alicloud_ecs_disk_attachment.data[{i}]", i
        changes += [inst, disk, link]
    refs = {
        "disk_id": {"references": ["alicloud_ecs_disk.data", "count.index"]},
        "instance_id": {"references": ["alicloud_instance.app", "count.index"]},
    }
    conf = {
        "provider_config": {
            "alicloud": {"expressions": {"region": {"constant_value": "cn-hangzhou"}}}
        },
        "root_module": {
            "resources": [
                {"address": a, "provider_config_key": "alicloud", "expressions": e}
                for a, e in (
                    ("alicloud_instance.app", {}),
                    ("alicloud_ecs_disk.data", {}),
                    ("alicloud_ecs_disk_attachment.data", refs),
                )
            ]
        },
    }
    tf = f"""
resource "alicloud_ecs_disk_attachment" "data" {{
  count       = 2
  disk_id     = alicloud_ecs_disk.data[{index_expression}].id
  instance_id = alicloud_instance.app[count.index].id
}}
"""
    return plan(*changes, configuration=conf), tf


def test_a_link_by_an_index_expression_is_unknown_without_the_configuration(
    tmp_path: Path,
) -> None:
    doc, _ = _counted("count.index")
    got = outcomes(doc, tmp_path)
    for i in (0, 1):
        assert (
            got[("ecs_locations.disk_zone", f"alicloud_ecs_disk_attachment.data[{i}]")] == "error"
        )


def test_the_tf_files_tell_an_own_index_from_an_expression(tmp_path: Path) -> None:
    doc, tf = _counted("count.index")
    (tmp_path / "main.tf").write_text(tf, encoding="utf-8")
    got = outcomes(doc, tmp_path)
    for i in (0, 1):
        assert got[("ecs_locations.disk_zone", f"alicloud_ecs_disk.data[{i}]")] == "pass"
    doc, tf = _counted("1 - count.index")
    (tmp_path / "main.tf").write_text(tf, encoding="utf-8")
    got = outcomes(doc, tmp_path)
    for i in (0, 1):
        assert (
            got[("ecs_locations.disk_zone", f"alicloud_ecs_disk_attachment.data[{i}]")] == "error"
        )


# ---------------------------------------------------------------- the metamorphic property


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path] if value is not None else []


def _set_unknown(change_: dict[str, Any], path: tuple[Any, ...]) -> None:
    """Marks the value at `path` of `after` known only after apply, as Terraform does:
    `after` holds null there and `after_unknown` holds `true` at the same path."""
    after = change_["change"]["after"]
    flags = change_["change"].setdefault("after_unknown", {})
    for step, nxt in zip(path, path[1:], strict=False):
        after = after[step]
        empty: Any = [] if isinstance(nxt, int) else {}
        if isinstance(flags, dict):
            if not isinstance(flags.get(step), dict | list):
                flags[step] = empty
        else:
            while len(flags) <= step:
                flags.append(False)
            if not isinstance(flags[step], dict | list):
                flags[step] = empty
        flags = flags[step]
    last = path[-1]
    after[last] = None
    if isinstance(flags, list):
        while len(flags) <= last:
            flags.append(False)
    flags[last] = True


def _never_hidden(
    before: dict[tuple[str, str], str], after: dict[tuple[str, str], str], gone: set[str]
) -> None:
    """Every fail or error of `before` is a fail or error of `after`, on the same resource
    or on a new one that stands in for a resource that can no longer be told (a rule
    whose group's id became unknown is judged as a group of unknown identity)."""
    stand_ins = {
        rule
        for (rule, res), status in after.items()
        if status in ("fail", "error") and (rule, res) not in before
    }
    for key, status in before.items():
        if status in ("fail", "error") and key[1] not in gone:
            kept = after.get(key) in ("fail", "error")
            assert kept or key[0] in stand_ins, (key, status, after.get(key))


@given(st.data())
def test_unknowns_and_removals_in_a_plan_never_turn_a_finding_into_a_pass(
    tmp_path_factory: Any, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("plan")
    changes = base_changes()
    before = outcomes(plan(*changes), tmp)
    mutated = copy.deepcopy(changes)
    gone: set[str] = set()
    if data.draw(st.booleans(), "remove"):
        named = [c for c in mutated if c["change"]["after"].get("id") in (SG, DISK, INSTANCE)]
        victim = data.draw(st.sampled_from(named), "removed")
        mutated.remove(victim)
        gone = {victim["address"]} | {a for a in _derived(victim["address"])}
    else:
        which = data.draw(st.sampled_from(range(len(mutated))), "resource")
        leaves = _leaves(mutated[which]["change"]["after"])
        path = data.draw(st.sampled_from(leaves), "value")
        _set_unknown(mutated[which], path)
    after = outcomes(plan(*mutated), tmp)
    _never_hidden(before, after, gone)


def _derived(address: str) -> list[str]:
    return [f"{address}.system_disk", f"{address}.data_disks[0]"]


def _snapshot_leaves(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    out = []
    for i, resource in enumerate(doc["resources"]):
        for path in _leaves(resource):
            if path[0] == "tags":  # a snapshot's tags are text: the whole map is unknown
                path = ("tags",)
            # A kind and a name are never unknown in a snapshot (its format says so).
            if path[0] not in ("kind", "name", "source") and ("resources", i, *path) not in out:
                out.append(("resources", i, *path))
    return out


def _snapshot_outcomes(doc: dict[str, Any], tmp: Path) -> dict[tuple[str, str], str]:
    """Keys by the resource's position before any removal (its `source.address` here)."""
    return outcomes(doc, tmp, "snapshot.json")


@given(st.data())
def test_unknowns_and_removals_in_a_snapshot_never_turn_a_finding_into_a_pass(
    tmp_path_factory: Any, data: st.DataObject
) -> None:
    tmp = tmp_path_factory.mktemp("snapshot")
    doc = json.loads((ROOT / "tests/fixtures/same-account/snapshot.json").read_text())
    for i, resource in enumerate(doc["resources"]):
        resource["source"] = {"address": f"r{i}"}  # a name that survives the change
    before = _snapshot_outcomes(doc, tmp)
    mutated = copy.deepcopy(doc)
    gone: set[str] = set()
    ids = {r.get("id") for r in doc["resources"]}
    named = [
        r for r in mutated["resources"] if r.get("id") and json.dumps(doc).count(f'"{r["id"]}"') > 1
    ]
    if named and data.draw(st.booleans(), "remove"):
        victim = data.draw(st.sampled_from(named), "removed")
        mutated["resources"].remove(victim)
        gone = {victim["source"]["address"]}
    else:
        path = data.draw(st.sampled_from(_snapshot_leaves(mutated)), "value")
        target: Any = mutated
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = {"$unknown": "made unknown by the test"}
    del ids
    after = _snapshot_outcomes(mutated, tmp)
    _never_hidden(before, after, gone)


# ---------------------------------------------------------------- public images by name


def test_a_public_image_named_by_its_name_exists_in_every_region(tmp_path: Path) -> None:
    changes = base_changes()
    changes[0]["change"]["after"]["image_id"] = "aliyun_3_x64_20G_alibase_20240528.vhd"
    got = outcomes(plan(*changes), tmp_path)
    # The model: an image id that is not `m-…` is a system image's name, and system
    # images are released in every region. Exempt, never `error`.
    assert got[("ecs_locations.image_region", "alicloud_instance.web")] == "skipped"


def test_a_custom_image_id_the_plan_does_not_hold_is_still_an_error(tmp_path: Path) -> None:
    got = outcomes(plan(*base_changes()), tmp_path)  # image_id m-bp1hd5yd3z8vfr0wq1ae
    assert got[("ecs_locations.image_region", "alicloud_instance.web")] == "error"
