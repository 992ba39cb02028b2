"""Resources that only link others: an attachment sets a disk's or ENI's instance, a
security group rule joins its group's `rules`, an EIP association gives an instance its
public address, a role attachment assigns a role.

Where the resource a link names cannot be told, the link becomes a resource of unknown
identity, so that every rule about it reports `error` rather than passing unseen. Each
value keeps the place in the plan it came from; a rule's values point at the
`alicloud_security_group_rule`, the resource to change, not at its group.
"""

from __future__ import annotations

from typing import Any

from policyengine.inputs.importers.terraform.context import Context, Made, id_of
from policyengine.inputs.importers.terraform.plan import Instance
from policyengine.inputs.snapshot import UnknownValue

DISK_ATTACHMENTS = ("alicloud_ecs_disk_attachment", "alicloud_disk_attachment")
ENI_ATTACHMENTS = (
    "alicloud_ecs_network_interface_attachment",
    "alicloud_network_interface_attachment",
)
SG_RULES = ("alicloud_security_group_rule",)
ROLE_ATTACHMENTS = ("alicloud_ram_role_attachment",)
EIP_ASSOCIATIONS = ("alicloud_eip_association",)
LINKS = (*DISK_ATTACHMENTS, *ENI_ATTACHMENTS, *SG_RULES, *ROLE_ATTACHMENTS, *EIP_ASSOCIATIONS)
EIPS = ("alicloud_eip_address", "alicloud_eip")
ENIS = ("alicloud_ecs_network_interface", "alicloud_network_interface")
DISKS = ("alicloud_ecs_disk", "alicloud_disk")
# Read only to resolve other values (a vSwitch tells an instance's VPC, an EIP its address).
HELPERS = ("alicloud_vswitch", "alicloud_vpc_vswitch", "alicloud_vpc", *EIPS)


def _canonical(value: Any, spell: str) -> Any:
    """An enum-like value in the API's spelling (`accept` -> `Accept`, `tcp` -> `TCP`);
    an unknown stays unknown."""
    if not isinstance(value, str):
        return value
    return value.upper() if spell == "upper" else value.capitalize()


def link(ctx: Context, inst: Instance, made: dict[str, Made]) -> Made | None:
    """Applies one link to the resources it names; returns the resource of unknown
    identity it stands for when the one it names cannot be told."""
    v = ctx.value

    def ref(attr: str, types: tuple[str, ...]) -> Any:
        target = ctx.find(inst, attr, types)
        return id_of(target) if target is not None else v(inst, attr)

    def field(key: str, attr: str) -> tuple[str, tuple[str, Instance | None]]:
        return key, (f"{inst.pointer}/{attr}", inst)

    if inst.type in DISK_ATTACHMENTS:
        disk = ctx.find(inst, "disk_id", DISKS)
        instance = ref("instance_id", ("alicloud_instance",))
        if disk is None:
            orphan = Made(
                {
                    "kind": "disk",
                    "id": UnknownValue(f"{inst.address}.disk_id"),
                    "zone": UnknownValue(f"{inst.address}.disk_id (the disk's zone)"),
                    "region": inst.region,
                    "instance_id": instance,
                    "attachments": [],
                },
                inst,
            )
            orphan.fields.update([field("/instance_id", "instance_id"), field("/id", "disk_id")])
            return orphan
        target = made[disk.address]
        target.data["instance_id"] = instance
        target.data["status"] = "In_use"
        attachments = target.data.setdefault("attachments", [])
        attachments.append({"instance_id": instance})
        target.fields.update(
            [
                field("/instance_id", "instance_id"),
                field(f"/attachments/{len(attachments) - 1}", "instance_id"),
            ]
        )
        return None
    if inst.type in ENI_ATTACHMENTS:
        eni = ctx.find(inst, "network_interface_id", ENIS)
        instance = ref("instance_id", ("alicloud_instance",))
        if eni is None:
            orphan = Made(
                {
                    "kind": "eni",
                    "id": UnknownValue(f"{inst.address}.network_interface_id"),
                    "region": UnknownValue(
                        f"{inst.address}.network_interface_id (the ENI's region)"
                    ),
                    "instance_id": instance,
                },
                inst,
            )
            orphan.fields.update([field("/instance_id", "instance_id")])
            return orphan
        made[eni.address].data["instance_id"] = instance
        made[eni.address].fields.update([field("/instance_id", "instance_id")])
        return None
    if inst.type in SG_RULES:
        return _rule(ctx, inst, made, ref)
    if inst.type in EIP_ASSOCIATIONS:
        # An EIP bound to an instance is that instance's public address: without this, an
        # instance of the plan would look as if it had none.
        bound_to = v(inst, "instance_type")
        if isinstance(bound_to, str) and bound_to not in ("", "EcsInstance"):
            return None  # bound to a NAT gateway, a load balancer, ...: not an instance
        instance = ctx.find(inst, "instance_id", ("alicloud_instance",))
        eip = ctx.find(inst, "allocation_id", EIPS)
        address = (
            v(eip, "ip_address")
            if eip is not None
            else UnknownValue(f"{inst.address}.allocation_id (the EIP's address)")
        )
        bound = {
            "ip_address": address
            if address is not None
            else UnknownValue(f"{inst.address} (the EIP's address)"),
            "allocation_id": ref("allocation_id", EIPS),
        }
        if instance is None:
            if isinstance(v(inst, "instance_id"), str):
                return None  # an instance outside the plan: nothing here to judge
            orphan = Made(
                {
                    "kind": "instance",
                    "id": UnknownValue(f"{inst.address}.instance_id"),
                    "region": inst.region,
                    "eip_address": bound,
                },
                inst,
            )
            orphan.fields.update([field("/eip_address", "allocation_id")])
            return orphan
        made[instance.address].data["eip_address"] = bound
        made[instance.address].fields.update([field("/eip_address", "allocation_id")])
        return None
    if inst.type in ROLE_ATTACHMENTS:
        ids = v(inst, "instance_ids")
        role = v(inst, "role_name")
        for i, instance_id in enumerate(ids if isinstance(ids, list) else [ids]):
            row = Made(
                {
                    "kind": "ram_role_attachment",
                    "ram_role_name": role,
                    "instance_id": instance_id,
                    "region": inst.region,
                },
                inst,
                address=f"{inst.address}#{i}",
            )
            row.fields.update(
                [field("/ram_role_name", "role_name"), field("/instance_id", f"instance_ids/{i}")]
            )
            made[f"{inst.address}#{i}"] = row
        return None
    return None


def _rule(ctx: Context, inst: Instance, made: dict[str, Made], ref: Any) -> Made | None:
    """An `alicloud_security_group_rule` -> one entry of its group's `rules`. Where its
    direction is not known, neither is which side its CIDR and group are on."""
    v = ctx.value
    group = ctx.find(inst, "security_group_id", ("alicloud_security_group",))
    direction = v(inst, "type")
    cidr = v(inst, "cidr_ip")
    peer = ref("source_security_group_id", ("alicloud_security_group",))
    rule: dict[str, Any] = {
        "direction": direction,
        "policy": _canonical(_given(v(inst, "policy"), "accept"), "capitalize"),
        "priority": _given(v(inst, "priority"), 1),
        "ip_protocol": _canonical(v(inst, "ip_protocol"), "upper"),
        "port_range": _given(v(inst, "port_range"), "-1/-1"),
    }
    names = {
        "direction": "type",
        "policy": "policy",
        "priority": "priority",
        "ip_protocol": "ip_protocol",
        "port_range": "port_range",
    }
    if isinstance(direction, str):
        side = "source" if direction == "ingress" else "dest"
        rule[f"{side}_cidr_ip"] = _given(cidr, None)
        rule[f"{side}_group_id"] = _given(peer, None)
        names[f"{side}_cidr_ip"] = "cidr_ip"
        names[f"{side}_group_id"] = "source_security_group_id"
    else:
        for side in ("source", "dest"):
            unknown = UnknownValue(f"{inst.address}.type (which side `cidr_ip` is on)")
            rule[f"{side}_cidr_ip"] = unknown if cidr is not None else None
            rule[f"{side}_group_id"] = unknown if peer is not None else None
            names[f"{side}_cidr_ip"] = "cidr_ip"
            names[f"{side}_group_id"] = "source_security_group_id"
    if group is None:
        _may_hold(made, inst, list(rule), isinstance(inst.values.get("security_group_id"), str))
        orphan = Made(
            {
                "kind": "security_group",
                "id": UnknownValue(f"{inst.address}.security_group_id"),
                "region": inst.region,
                "rules": [rule],
            },
            inst,
        )
        _rule_fields(orphan, 0, inst, names)
        return orphan
    target = made[group.address]
    rules = target.data.setdefault("rules", [])
    rules.append(rule)
    _rule_fields(target, len(rules) - 1, inst, names)
    return None


def _may_hold(made: dict[str, Made], inst: Instance, keys: list[str], named: bool) -> None:
    """A rule whose group cannot be told may be any group of its region whose id is not
    known either (any group at all, when the rule's own `security_group_id` is not known):
    each of them gets an entry of unknown values, so a rule about its groups' rules reports
    `error` where it would have passed, instead of the group looking as if it had none."""
    untold = UnknownValue(f"{inst.address}.security_group_id (the rule may be this group's)")
    for target in made.values():
        group = target.inst
        if group is None or group.type != "alicloud_security_group":
            continue
        if named and isinstance(group.values.get("id"), str):
            continue  # a known id the rule does not name
        if isinstance(group.region, str) and isinstance(inst.region, str):
            if group.region != inst.region:
                continue
        rules = target.data.setdefault("rules", [])
        rules.append(dict.fromkeys(keys, untold))
        _rule_fields(target, len(rules) - 1, inst, {k: "security_group_id" for k in keys})


def _rule_fields(target: Made, index: int, inst: Instance, names: dict[str, str]) -> None:
    at = f"/rules/{index}"
    target.fields[at] = (inst.pointer, inst)
    for key, attr in names.items():
        target.fields[f"{at}/{key}"] = (f"{inst.pointer}/{attr}", inst)


def _given(value: Any, default: Any) -> Any:
    return default if value is None or (isinstance(value, str) and value == "") else value
