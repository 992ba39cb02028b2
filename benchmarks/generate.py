"""A synthetic Alibaba Cloud ECS account of N instances, with a known number of planted
violations of each bundled location rule.

Deterministic: the same N gives the same bytes. Per instance: a system and a data disk,
one ENI; per 20 instances a security group with rules; a snapshot of every second
instance's system disk (one per 4 disks); a RAM role attachment per 10 instances; custom
and public images, key pairs and RAM roles shared by all. Four regions of three zones.

Every 50th instance (from the 8th) carries exactly one violation, of one rule in turn,
and is built so that it violates nothing else: `planted(n)` is the number of fails each
engine must report.

    python benchmarks/generate.py 1000 > account.json
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator

REGIONS = (
    ("cn-hangzhou", "bp1", ("h", "i", "j")),
    ("cn-shanghai", "uf6", ("e", "f", "g")),
    ("cn-beijing", "2ze", ("a", "b", "c")),
    ("cn-shenzhen", "wz9", ("a", "b", "d")),
)
GROUP = 20  # instances per security group
PLANT_EVERY = 50
PLANT_OFFSET = 7  # odd, so a planted instance has a snapshot and a RAM role attachment
# The rules of policies/alicloud/ecs-locations.policy that this account can violate, in
# the order they are planted. The others (launch templates, deployment sets, auto
# provisioning groups, tags, Cloud Assistant, reserved instances) have no resources here.
RULES = (
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
)
# Rules of policies/alicloud/baseline.policy planted in the same cycle, after the location
# rules: an instance without its `cost-center` tag, a group that opens SSH to everyone.
BASELINE_RULES = ("required_tags", "no_public_ssh")
PLANTED = RULES + BASELINE_RULES
# The rules whose subject is the instance; a RAM role attachment has no id to name.
INSTANCE_SUBJECT = (
    "instance_zone",
    "image_region",
    "instance_security_group_region",
    "key_pair_region",
    "required_tags",
)
MIN_INSTANCES = 4 * GROUP  # security groups in at least two regions to plant across
PUBLIC_IMAGES = ("ubuntu_22_04_x64_20G_alibase_20240101.vhd", "aliyun_3_x64_20G_alibase.vhd")
CUSTOM_IMAGES = 5  # per region
KEY_PAIRS = 5  # `deploy-K` exists in every region; `legacy-R` only in region R
RAM_ROLES = 10


def _id(prefix: str, region: int, n: int, length: int = 20) -> str:
    code = REGIONS[region][1]
    return f"{prefix}{code}{n:0{length - len(code)}d}"


def _zone(region: int, n: int) -> str:
    name, _, letters = REGIONS[region]
    return f"{name}-{letters[n % 3]}"


def planted_rule(i: int) -> str | None:
    """The rule instance `i` violates, if it is planted."""
    if i % PLANT_EVERY != PLANT_OFFSET:
        return None
    return PLANTED[(i // PLANT_EVERY) % len(PLANTED)]


def planted(n: int) -> dict[str, int]:
    """How many fail outcomes of each location rule an account of `n` instances holds."""
    counts = Counter(r for i in range(n) if (r := planted_rule(i)) is not None)
    return {rule: counts.get(rule, 0) for rule in RULES}


def offenders(n: int) -> dict[str, set[str]]:
    """The id of the resource each planted violation makes fail, by rule: the subject a
    report names (the disk for `disk_zone`, the group for the group rules)."""
    offending = _offending()
    for _ in _resources(n, offending):
        pass
    return offending


def account(n: int) -> dict[str, object]:
    return _envelope(list(_resources(n, _offending())))


def write(n: int, path: str) -> tuple[dict[str, set[str]], int]:
    """Writes the account of `n` instances to `path`, compact, one resource at a time (a
    million instances never sit in memory at once); returns `offenders(n)` and the
    number of resources written."""
    import orjson

    offending = _offending()
    head = orjson.dumps(_envelope([]))
    assert head.endswith(b"[]}")
    with open(path, "wb") as out:
        out.write(head[:-2])
        count = 0
        for count, resource in enumerate(_resources(n, offending), 1):
            out.write(b"," if count > 1 else b"")
            out.write(orjson.dumps(resource))
        out.write(b"]}")
    return offending, count


def _offending() -> dict[str, set[str]]:
    return {rule: set() for rule in PLANTED if rule != "ram_role_region"}


def _envelope(resources: list[dict[str, object]]) -> dict[str, object]:
    locations = {name: [f"{name}-{z}" for z in letters] for name, _, letters in REGIONS}
    return {
        "version": 1,
        "account": "1000000000000001",
        "captured_at": "2026-01-01T00:00:00Z",
        "locations": locations,
        "resources": resources,
    }


def _resources(n: int, offending: dict[str, set[str]]) -> Iterator[dict[str, object]]:
    if n < MIN_INSTANCES:
        raise ValueError(f"at least {MIN_INSTANCES} instances, so groups span regions")
    groups = (n + GROUP - 1) // GROUP

    def group_region(g: int) -> int:
        return g % len(REGIONS)

    def sg_id(g: int) -> str:
        return _id("sg-", group_region(g), g)

    def foreign_group(g: int) -> int:
        """A group of another region (the next or previous one)."""
        return g + 1 if g + 1 < groups else g - 1

    for r, (region, _, _) in enumerate(REGIONS):
        for name in PUBLIC_IMAGES:
            yield _image(name, region, "system", "public")
        for k in range(CUSTOM_IMAGES):
            yield _image(_id("m-", r, k), region, "self", "custom")
        for k in range(KEY_PAIRS):
            yield {"kind": "key_pair", "name": f"deploy-{k}", "region": region, "tags": {}}
        yield {"kind": "key_pair", "name": f"legacy-{r}", "region": region, "tags": {}}
    for k in range(RAM_ROLES):
        yield {"kind": "ram_role", "name": f"EcsRole{k}", "arn": f"acs:ram::1:role/ecsrole{k}"}

    for g in range(groups):
        r = group_region(g)
        peer = g + 4 if g + 4 < groups else g  # a group of the same region
        rules: list[dict[str, object]] = [
            _rule("ingress", "443/443", source_cidr_ip="0.0.0.0/0"),
            _rule("ingress", "22/22", source_cidr_ip="10.0.0.0/8"),
            _rule("ingress", "3306/3306", source_group_id=sg_id(peer)),
            _rule("egress", "-1/-1", dest_cidr_ip="0.0.0.0/0"),
        ]
        planted_here = [
            i
            for i in range(g * GROUP, min(n, (g + 1) * GROUP))
            if planted_rule(i) == "security_group_rule_region"
        ]
        if planted_here:
            rules.append(_rule("ingress", "8080/8080", source_group_id=sg_id(foreign_group(g))))
            offending["security_group_rule_region"].add(sg_id(g))
        if any(
            planted_rule(i) == "no_public_ssh" for i in range(g * GROUP, min(n, (g + 1) * GROUP))
        ):
            rules.append(_rule("ingress", "20/25", source_cidr_ip="0.0.0.0/0"))
            offending["no_public_ssh"].add(sg_id(g))
        yield (
            {
                "kind": "security_group",
                "id": sg_id(g),
                "region": REGIONS[r][0],
                "security_group_name": f"group-{g}",
                "vpc_id": _id("vpc-", r, g),
                "rules": rules,
                "tags": {"owner": "platform"},
            }
        )

    for i in range(n):
        g = i // GROUP
        r = group_region(g)
        region = REGIONS[r][0]
        zone = _zone(r, i)
        other_r = (r + 1) % len(REGIONS)
        plant = planted_rule(i)
        iid = _id("i-", r, i)
        inst_zone = _zone(other_r, i) if plant == "instance_zone" else zone
        image = (
            _id("m-", other_r, i % CUSTOM_IMAGES)
            if plant == "image_region"
            else PUBLIC_IMAGES[i % 2]
            if i % 3 == 0
            else _id("m-", r, i % CUSTOM_IMAGES)
        )
        key = f"legacy-{other_r}" if plant == "key_pair_region" else f"deploy-{i % KEY_PAIRS}"
        inst_sg = foreign_group(g) if plant == "instance_security_group_region" else g
        tags = {"owner": "platform", "cost-center": f"cc-{g % 100}"}
        if plant == "required_tags":
            del tags["cost-center"]
        if plant in INSTANCE_SUBJECT:
            offending[plant].add(iid)
        yield (
            {
                "kind": "instance",
                "id": iid,
                "region": region,
                "zone": inst_zone,
                "instance_name": f"web-{i}",
                "status": "Running",
                "instance_type": "ecs.g7.large",
                "instance_charge_type": "PostPaid",
                "instance_network_type": "vpc",
                "deletion_protection": True,
                "image_id": image,
                "key_pair_name": key,
                "security_group_ids": [sg_id(inst_sg)],
                "public_ip_addresses": [],
                "eip_address": {},
                "vpc_attributes": {
                    "vpc_id": _id("vpc-", r, g),
                    "vswitch_id": _id("vsw-", r, i % 3),
                    "private_ip_addresses": [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"],
                },
                "metadata_options": {"http_tokens": "required"},
                "tags": tags,
            }
        )
        for d, (kind, size) in enumerate((("system", 40), ("data", 200))):
            disk_zone = inst_zone
            if plant == "disk_zone" and kind == "data":
                disk_zone = _zone(r, i + 1)  # another zone of the same region
            did = _id("d-", r, 2 * i + d)
            if plant == "disk_zone" and kind == "data":
                offending["disk_zone"].add(did)
            yield (
                {
                    "kind": "disk",
                    "id": did,
                    "region": region,
                    "zone": disk_zone,
                    "type": kind,
                    "category": "cloud_essd",
                    "size": size,
                    "encrypted": True,
                    "status": "In_use",
                    "delete_with_instance": kind == "system",
                    "instance_id": iid,
                    "attachments": [{"instance_id": iid, "device": f"/dev/xvd{'ab'[d]}"}],
                    "tags": {"owner": "platform"},
                }
            )
        # An ENI planted for `eni_region` sits in the next region and joins a group
        # there, so that only its binding to the instance is wrong.
        eni_r, eni_g = (other_r, foreign_group(g)) if plant == "eni_region" else (r, g)
        if plant == "eni_region" and group_region(eni_g) != eni_r:
            eni_r = group_region(eni_g)
        if plant == "eni_security_group_region":
            eni_g = foreign_group(g)
        if plant in ("eni_region", "eni_security_group_region"):
            offending[plant].add(_id("eni-", r, i))
        yield (
            {
                "kind": "eni",
                "id": _id("eni-", r, i),
                "region": REGIONS[eni_r][0],
                "type": "Secondary",
                "status": "InUse",
                "instance_id": iid,
                "vswitch_id": _id("vsw-", r, i % 3),
                "zone_id": zone,
                "security_group_ids": [sg_id(eni_g)],
                "tags": {"owner": "platform"},
            }
        )
        if i % 2 == 1:
            snap_r = other_r if plant == "snapshot_region" else r
            sid = _id("s-", r, i)
            if plant == "resource_id_format":
                sid = sid[:-1]  # one character short
                offending["resource_id_format"].add(sid)
            if plant == "snapshot_region":
                offending["snapshot_region"].add(sid)
            yield (
                {
                    "kind": "snapshot",
                    "id": sid,
                    "region": REGIONS[snap_r][0],
                    "source_disk_id": _id("d-", r, 2 * i),
                    "status": "accomplished",
                    "encrypted": True,
                    "tags": {},
                }
            )
        if i % 10 == PLANT_OFFSET:
            yield (
                {
                    "kind": "ram_role_attachment",
                    "instance_id": iid,
                    "ram_role_name": f"EcsRole{i % RAM_ROLES}",
                    "region": REGIONS[other_r if plant == "ram_role_region" else r][0],
                }
            )


def _image(image_id: str, region: str, owner: str, visibility: str) -> dict[str, object]:
    return {
        "kind": "image",
        "id": image_id,
        "region": region,
        "image_name": image_id,
        "image_owner_alias": owner,
        "visibility": visibility,
        "status": "Available",
        "tags": {},
    }


def _rule(direction: str, ports: str, **peer: str) -> dict[str, object]:
    return {
        "direction": direction,
        "policy": "Accept",
        "priority": 1,
        "ip_protocol": "TCP",
        "port_range": ports,
        **peer,
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    json.dump(account(n), sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
