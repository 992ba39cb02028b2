"""The bundled ECS location rules hand-written over dictionaries: the practical floor for
Python. It indexes once (ids, names per region, zone -> region) and follows each relation
by a dictionary lookup, as policyengine does, and counts fail outcomes per rule.

It knows the model's relation paths and identity formats but none of the generator's
plants: it checks every resource the way the rule reads.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

ID_FORMATS = {  # kind -> (prefix, length after the prefix), from alicloud/ecs.model
    "instance": ("i-", 20),
    "disk": ("d-", 20),
    "eni": ("eni-", 20),
    "security_group": ("sg-", 20),
    "image": ("m-", 20),
    "snapshot": ("s-", 20),
}


def _id_ok(key: str, prefix: str, length: int) -> bool:
    tail = key[len(prefix) :]
    return (
        key.startswith(prefix)
        and len(tail) == length
        and tail.isascii()
        and tail.isalnum()
        and tail == tail.lower()
    )


def evaluate(snapshot: dict[str, Any]) -> dict[str, int]:
    """Fail outcomes per rule of policies/alicloud/ecs-locations.policy."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in snapshot["resources"]:
        by_kind[r["kind"]].append(r)
    zone_region = {z: reg for reg, zones in snapshot.get("locations", {}).items() for z in zones}
    instances = {r["id"]: r for r in by_kind["instance"]}
    disks = {r["id"]: r for r in by_kind["disk"]}
    groups = {r["id"]: r for r in by_kind["security_group"]}
    images: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in by_kind["image"]:
        images[r["id"]].append(r)
    key_regions: dict[str, set[str]] = defaultdict(set)
    for r in by_kind["key_pair"]:
        key_regions[r["name"]].add(r["region"])

    fails = dict.fromkeys(
        (
            "instance_zone",
            "image_region",
            "disk_zone",
            "snapshot_region",
            "instance_security_group_region",
            "eni_security_group_region",
            "security_group_rule_region",
            "key_pair_region",
            "ram_role_region",
            "eni_region",
            "resource_id_format",
        ),
        0,
    )

    for inst in by_kind["instance"]:
        zone, region = inst.get("zone"), inst["region"]
        if not zone or zone_region.get(zone) != region:
            fails["instance_zone"] += 1
        candidates = images.get(inst["image_id"], ())
        if candidates and not any(
            img["visibility"] == "public" or img["region"] == region for img in candidates
        ):
            fails["image_region"] += 1
        for sg in dict.fromkeys(inst["security_group_ids"]):
            if sg in groups and groups[sg]["region"] != region:
                fails["instance_security_group_region"] += 1
        key = inst.get("key_pair_name")
        if key and key in key_regions and region not in key_regions[key]:
            fails["key_pair_region"] += 1

    for disk in by_kind["disk"]:
        targets = [disk.get("instance_id")] + [a["instance_id"] for a in disk["attachments"]]
        for iid in dict.fromkeys(t for t in targets if t):
            if iid in instances and instances[iid]["zone"] != disk["zone"]:
                fails["disk_zone"] += 1

    for snap in by_kind["snapshot"]:
        disk = disks.get(snap.get("source_disk_id") or "")
        if disk is not None and disk["region"] != snap["region"]:
            fails["snapshot_region"] += 1

    for eni in by_kind["eni"]:
        for sg in dict.fromkeys(eni["security_group_ids"]):
            if sg in groups and groups[sg]["region"] != eni["region"]:
                fails["eni_security_group_region"] += 1
        inst = instances.get(eni.get("instance_id") or "")
        if inst is not None and inst["region"] != eni["region"]:
            fails["eni_region"] += 1

    for sg in by_kind["security_group"]:
        peers = [
            p
            for rule in sg["rules"]
            for p in (rule.get("source_group_id"), rule.get("dest_group_id"))
            if p
        ]
        for peer in dict.fromkeys(peers):
            if peer in groups and groups[peer]["region"] != sg["region"]:
                fails["security_group_rule_region"] += 1

    for att in by_kind["ram_role_attachment"]:
        inst = instances.get(att["instance_id"])
        if inst is not None and inst["region"] != att["region"]:
            fails["ram_role_region"] += 1

    for kind, (prefix, length) in ID_FORMATS.items():
        for r in by_kind[kind]:
            if kind == "image" and r.get("image_owner_alias") == "system":
                continue  # a public image's id is its name
            if not _id_ok(r["id"], prefix, length):
                fails["resource_id_format"] += 1
    return fails


PORT_SSH = 22
BENCH_RULES = (  # the rules of benchmarks/ecs-bench.policy
    "instance_zone",
    "image_region",
    "disk_zone",
    "instance_security_group_region",
    "eni_region",
    "required_tags",
    "resource_id_format",
    "no_public_ssh",
)


def _covers_ssh(port_range: str) -> bool:
    low, _, high = port_range.partition("/")
    if (low, high) == ("-1", "-1"):
        return True  # every port
    try:
        return int(low) <= PORT_SSH <= int(high or low)
    except ValueError:
        return False


# The fields of a resource `bench_offenders` reads, all it needs decoded (measure.py's
# `projected` engine decodes these alone).
BENCH_FIELDS = (
    "kind",
    "id",
    "region",
    "zone",
    "image_id",
    "visibility",
    "image_owner_alias",
    "security_group_ids",
    "instance_id",
    "attachments",
    "rules",
    "tags",
)


def bench_offenders(snapshot: dict[str, Any]) -> dict[str, set[str]]:
    """The ids of the resources failing each rule of benchmarks/ecs-bench.policy."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in snapshot["resources"]:
        by_kind[r["kind"]].append(r)
    zone_region = {z: reg for reg, zones in snapshot.get("locations", {}).items() for z in zones}
    instances = {r["id"]: r for r in by_kind["instance"]}
    groups = {r["id"]: r for r in by_kind["security_group"]}
    images: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in by_kind["image"]:
        images[r["id"]].append(r)
    out: dict[str, set[str]] = {rule: set() for rule in BENCH_RULES}
    for inst in by_kind["instance"]:
        iid, zone, region = inst["id"], inst.get("zone"), inst["region"]
        if not zone or zone_region.get(zone) != region:
            out["instance_zone"].add(iid)
        candidates = images.get(inst["image_id"], ())
        if candidates and not any(
            img["visibility"] == "public" or img["region"] == region for img in candidates
        ):
            out["image_region"].add(iid)
        for sg in inst["security_group_ids"]:
            if sg in groups and groups[sg]["region"] != region:
                out["instance_security_group_region"].add(iid)
        tags = inst.get("tags") or {}
        if "owner" not in tags or "cost-center" not in tags:
            out["required_tags"].add(iid)
    for disk in by_kind["disk"]:
        targets = [disk.get("instance_id")] + [a["instance_id"] for a in disk["attachments"]]
        for iid in targets:
            if iid and iid in instances and instances[iid]["zone"] != disk["zone"]:
                out["disk_zone"].add(disk["id"])
    for eni in by_kind["eni"]:
        inst = instances.get(eni.get("instance_id") or "")
        if inst is not None and inst["region"] != eni["region"]:
            out["eni_region"].add(eni["id"])
    for sg in by_kind["security_group"]:
        for rule in sg["rules"]:
            if (
                rule.get("direction") == "ingress"
                and rule.get("policy") == "Accept"
                and rule.get("source_cidr_ip") == "0.0.0.0/0"
                and _covers_ssh(rule.get("port_range", ""))
            ):
                out["no_public_ssh"].add(sg["id"])
    for kind, (prefix, length) in ID_FORMATS.items():
        for r in by_kind[kind]:
            if kind == "image" and r.get("image_owner_alias") == "system":
                continue
            if not _id_ok(r["id"], prefix, length):
                out["resource_id_format"].add(r["id"])
    return out
