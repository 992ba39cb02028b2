"""Each alicloud resource type -> a resource of the ECS model, with where in the plan each
value came from. An instance also brings its disks: the system disk and the inline
`data_disks` are disks of its zone attached to it, so every disk rule applies to them.

Values are carried as they are: an unknown (`UnknownValue`) is never turned into text,
compared or used to decide whether a resource exists. A default stands in only for a
value the plan says is absent (null), never for one that is unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policyengine.inputs.importers.terraform.context import Context, Made, id_of, own_id
from policyengine.inputs.importers.terraform.plan import Instance
from policyengine.inputs.snapshot import UnknownValue, pointer_escape


def or_default(value: Any, default: Any) -> Any:
    """The value, or `default` where the plan says none (null or "")."""
    return default if value is None or (isinstance(value, str) and value == "") else value


def base(inst: Instance, kind: str) -> Made:
    made = Made({"kind": kind, "id": own_id(inst)}, inst)
    made.fields["/id"] = (f"{inst.pointer}/id", None)
    if inst.region is not None:
        made.data["region"] = inst.region
    return made


def _tags(ctx: Context, made: Made, inst: Instance, attr: str = "tags") -> None:
    tags = ctx.take(made, "tags", inst, attr)
    if isinstance(tags, dict) and any(isinstance(v, UnknownValue) for v in tags.values()):
        # A snapshot's tags are text; one not known yet leaves the whole map unknown.
        made.data["tags"] = UnknownValue(f"{inst.address}.{attr}")
    elif not isinstance(tags, dict | UnknownValue):
        made.data["tags"] = {}


def _instance(ctx: Context, inst: Instance) -> Made:
    v = ctx.value
    made = base(inst, "instance")
    out = made.data
    ctx.take(made, "zone", inst, "availability_zone")
    vswitch = v(inst, "vswitch_id")
    vpc: Any = None
    switch = ctx.find(inst, "vswitch_id", ("alicloud_vswitch", "alicloud_vpc_vswitch"))
    if switch is not None:
        vpc = ctx.value(switch, "vpc_id")
    elif vswitch:
        vpc = UnknownValue(f"{inst.address}.vswitch_id (the vSwitch's VPC)")
    public_ip = v(inst, "public_ip")
    bandwidth = v(inst, "internet_max_bandwidth_out")
    if (
        isinstance(public_ip, UnknownValue)
        and not isinstance(bandwidth, UnknownValue)
        and not bandwidth
    ):
        public_ip = None  # no Internet bandwidth: no public IP is assigned
    ctx.take(made, "instance_name", inst, "instance_name")
    ctx.take(made, "status", inst, "status", or_default(v(inst, "status"), "Running"))
    ctx.take(made, "instance_type", inst, "instance_type")
    charge = or_default(v(inst, "instance_charge_type"), "PostPaid")
    ctx.take(made, "instance_charge_type", inst, "instance_charge_type", charge)
    network = "vpc" if isinstance(vswitch, UnknownValue) or vswitch else "classic"
    ctx.take(made, "instance_network_type", inst, "vswitch_id", network)
    protection = or_default(v(inst, "deletion_protection"), False)
    ctx.take(made, "deletion_protection", inst, "deletion_protection", protection)
    ctx.take(made, "image_id", inst, "image_id")
    ctx.take(
        made,
        "security_group_ids",
        inst,
        "security_groups",
        or_default(v(inst, "security_groups"), []),
    )
    addresses: Any = (
        public_ip if isinstance(public_ip, UnknownValue) else [public_ip] if public_ip else []
    )
    ctx.take(made, "public_ip_addresses", inst, "public_ip", addresses)
    out["eip_address"] = {}
    out["vpc_attributes"] = {"vpc_id": vpc, "vswitch_id": vswitch}
    made.fields["/vpc_attributes"] = (f"{inst.pointer}/vswitch_id", None)
    out["metadata_options"] = {"http_tokens": or_default(v(inst, "http_tokens"), None)}
    made.fields["/metadata_options"] = (f"{inst.pointer}/http_tokens", None)
    _tags(ctx, made, inst)
    for attr, name in (
        ("key_name", "key_pair_name"),
        ("deployment_set_id", "deployment_set_id"),
        ("launch_template_id", "launch_template_id"),
    ):
        if or_default(inst.values.get(attr), None) is not None:
            ctx.take(made, name, inst, attr)
    return made


def instance_disks(ctx: Context, inst: Instance) -> list[Made]:
    """The system disk and each inline data disk of an `alicloud_instance`: disks in its
    zone, attached to it. Their ids are the cloud's to assign (`system_disk_id` once it
    exists); data disks declared inline have none in the plan or the state."""
    v = ctx.value
    attached = id_of(inst)
    zone = v(inst, "availability_zone")
    out: list[Made] = []
    system = Made({"kind": "disk"}, inst, address=f"{inst.address}.system_disk")
    sid = inst.values.get("system_disk_id")
    system.data["id"] = (
        sid if isinstance(sid, str) and sid else UnknownValue(f"{inst.address}.system_disk_id")
    )
    system.fields["/id"] = (f"{inst.pointer}/system_disk_id", None)
    _disk_common(ctx, system, inst, zone, attached)
    ctx.take(system, "zone", inst, "availability_zone", zone)
    system.data["type"] = "system"
    ctx.take(system, "category", inst, "system_disk_category")
    ctx.take(system, "size", inst, "system_disk_size")
    encrypted = or_default(v(inst, "system_disk_encrypted"), False)
    ctx.take(system, "encrypted", inst, "system_disk_encrypted", encrypted)
    system.data["delete_with_instance"] = True  # a system disk goes with its instance
    _tags(ctx, system, inst, "volume_tags")
    out.append(system)
    disks = v(inst, "data_disks")
    if isinstance(disks, UnknownValue):
        disks = [disks]  # how many there are is not known: one disk stands for them
    for i, disk in enumerate(disks if isinstance(disks, list) else []):
        made = Made({"kind": "disk"}, inst, address=f"{inst.address}.data_disks[{i}]")
        here = f"{inst.pointer}/data_disks/{i}"
        what = f"{inst.address}.data_disks[{i}]"
        made.data["id"] = UnknownValue(f"{what} (an id assigned on apply)")
        _disk_common(ctx, made, inst, zone, attached)
        made.data["type"] = "data"
        made.fields[""] = (here, None)
        if isinstance(disk, UnknownValue) or not isinstance(disk, dict):
            for key in ("category", "size", "encrypted", "delete_with_instance"):
                made.data[key] = UnknownValue(f"{what}.{key}")
        else:
            for key, default in (
                ("category", "cloud_efficiency"),
                ("size", None),
                ("encrypted", False),
                ("delete_with_instance", True),
            ):
                value = disk.get(key)
                made.data[key] = (
                    UnknownValue(f"{what}.{key}")
                    if isinstance(value, UnknownValue)
                    else or_default(value, default)
                )
                made.fields["/" + key] = (f"{here}/{key}", None)
        _tags(ctx, made, inst, "volume_tags")
        out.append(made)
    return out


def _disk_common(ctx: Context, made: Made, inst: Instance, zone: Any, attached: Any) -> None:
    if inst.region is not None:
        made.data["region"] = inst.region
    made.data["zone"] = zone
    made.fields["/zone"] = (f"{inst.pointer}/availability_zone", None)
    made.data["status"] = "In_use"
    made.data["instance_id"] = attached
    made.data["attachments"] = [{"instance_id": attached}]


def _disk(ctx: Context, inst: Instance) -> Made:
    v = ctx.value
    made = base(inst, "disk")
    zone_attr = "zone_id" if "zone_id" in inst.values else "availability_zone"
    ctx.take(made, "zone", inst, zone_attr)
    made.data["type"] = "data"  # a disk resource is a data disk; system disks are instances'
    ctx.take(made, "category", inst, "category")
    ctx.take(made, "size", inst, "size")
    ctx.take(made, "encrypted", inst, "encrypted", or_default(v(inst, "encrypted"), False))
    ctx.take(made, "status", inst, "status", or_default(v(inst, "status"), "Available"))
    ctx.take(made, "delete_with_instance", inst, "delete_with_instance")
    made.data["attachments"] = []
    _tags(ctx, made, inst)
    return made


def _eni(ctx: Context, inst: Instance) -> Made:
    v = ctx.value
    made = base(inst, "eni")
    made.data["type"] = "Secondary"
    ctx.take(made, "status", inst, "status", or_default(v(inst, "status"), "Available"))
    ctx.take(made, "vswitch_id", inst, "vswitch_id")
    groups = or_default(v(inst, "security_group_ids"), [])
    ctx.take(made, "security_group_ids", inst, "security_group_ids", groups)
    _tags(ctx, made, inst)
    return made


def _security_group(ctx: Context, inst: Instance) -> Made:
    v = ctx.value
    made = base(inst, "security_group")
    name_attr = "security_group_name" if v(inst, "security_group_name") is not None else "name"
    ctx.take(made, "security_group_name", inst, name_attr)
    ctx.take(made, "vpc_id", inst, "vpc_id")
    made.data["rules"] = []
    _tags(ctx, made, inst)
    return made


def _named(kind: str, *attrs: str) -> Callable[[Context, Instance], Made]:
    """A kind identified by name: the first of `attrs` the plan gives."""

    def convert(ctx: Context, inst: Instance) -> Made:
        made = Made({"kind": kind}, inst)
        attr = next((a for a in attrs if ctx.value(inst, a) is not None), attrs[0])
        ctx.take(made, "name", inst, attr)
        if kind == "ram_role":
            ctx.take(made, "arn", inst, "arn")
        else:
            if inst.region is not None:
                made.data["region"] = inst.region
            _tags(ctx, made, inst)
        return made

    return convert


def _launch_template(ctx: Context, inst: Instance) -> Made:
    made = base(inst, "launch_template")
    attr = "launch_template_name" if ctx.value(inst, "launch_template_name") is not None else "name"
    ctx.take(made, "launch_template_name", inst, attr)
    _tags(ctx, made, inst)
    return made


def _deployment_set(ctx: Context, inst: Instance) -> Made:
    made = base(inst, "deployment_set")
    ctx.take(made, "deployment_set_name", inst, "deployment_set_name")
    ctx.take(made, "strategy", inst, "strategy")
    return made


def _apg(ctx: Context, inst: Instance) -> Made:
    made = base(inst, "auto_provisioning_group")
    configs = ctx.value(inst, "launch_template_config")
    ctx.take(made, "auto_provisioning_group_name", inst, "auto_provisioning_group_name")
    ctx.take(made, "launch_template_id", inst, "launch_template_id")
    ctx.take(
        made,
        "launch_template_configs",
        inst,
        "launch_template_config",
        [
            {"vswitch_id": c.get("vswitch_id"), "instance_type": c.get("instance_type")}
            for c in configs
            if isinstance(c, dict)
        ]
        if isinstance(configs, list)
        else configs,
    )
    # Which instances the group launches is decided by the cloud, after apply.
    made.data["instance_ids"] = UnknownValue(f"{inst.address} (the instances it launches)")
    return made


def _image_copy(ctx: Context, inst: Instance) -> Made:
    made = base(inst, "image")
    ctx.take(made, "image_name", inst, "image_name")
    made.data["image_owner_alias"] = "self"
    made.data["visibility"] = "custom"
    _tags(ctx, made, inst)
    return made


def _snapshot(ctx: Context, inst: Instance) -> Made:
    made = base(inst, "snapshot")
    ctx.take(made, "source_disk_id", inst, "disk_id")
    _tags(ctx, made, inst)
    return made


# Terraform type -> how its instances become resources.
TYPES: dict[str, Callable[[Context, Instance], Made]] = {
    "alicloud_instance": _instance,
    "alicloud_ecs_disk": _disk,
    "alicloud_disk": _disk,
    "alicloud_ecs_network_interface": _eni,
    "alicloud_network_interface": _eni,
    "alicloud_security_group": _security_group,
    "alicloud_ecs_key_pair": _named("key_pair", "key_pair_name", "key_name"),
    "alicloud_key_pair": _named("key_pair", "key_pair_name", "key_name"),
    "alicloud_ram_role": _named("ram_role", "role_name", "name"),
    "alicloud_ecs_launch_template": _launch_template,
    "alicloud_launch_template": _launch_template,
    "alicloud_ecs_deployment_set": _deployment_set,
    "alicloud_auto_provisioning_group": _apg,
    "alicloud_image_copy": _image_copy,
    "alicloud_ecs_snapshot": _snapshot,
    "alicloud_snapshot": _snapshot,
}


def escape(key: str | int) -> str:
    return "/" + pointer_escape(key)
