"""Terraform JSON (`terraform show -json` of a plan or of a state) for the `alicloud`
provider -> the normalized snapshot.

Each alicloud resource becomes a resource of the ECS model (`TYPES`); attachments become
relations: `alicloud_ecs_disk_attachment` sets the disk's `instance_id`, a security group
rule joins its group's `rules`. No alicloud resource carries its region: it is the region
of the provider configuration the resource uses (aliases included), or `--region`.

A value Terraform knows only after apply (`after_unknown`) is linked through the plan's
`configuration` where it references another resource (`disk_id =
alicloud_ecs_disk.data.id` names that disk even before it has an id), and otherwise becomes
`{"$unknown": ADDRESS.ATTRIBUTE}`, which any rule that needs it reports as `error`. Every
resource keeps its Terraform address in `source.address`, which reports show.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from policyengine.core import model
from policyengine.inputs.importers import shape, values
from policyengine.inputs.importers.base import Converted, Importer, Input, Options
from policyengine.inputs.importers.shape import Either, MapOf
from policyengine.inputs.snapshot import (
    InputError,
    Problem,
    UnknownValue,
    describe_json,
    pointer_escape,
)

PROVIDER = re.compile(r"(^|/)alicloud$")


@dataclass
class Instance:
    """One resource instance of the plan or state."""

    address: str  # module.app.alicloud_ecs_disk.data[0]
    module: str  # module.app ("" for the root), without instance keys
    type: str
    name: str
    index: Any  # count or for_each key; None for a single instance
    after: dict[str, Any]
    unknown: dict[str, Any]  # after_unknown: attribute -> true, or a nested tree
    pointer: str  # where its values are in the input file
    region: str | UnknownValue | None = None
    refs: dict[str, list[str]] = field(default_factory=dict)  # attribute -> references

    @property
    def config_address(self) -> str:
        return f"{self.type}.{self.name}"


# ---------------------------------------------------------------- the shape it reads

_EXPRESSION = {"constant_value": object, "references": [str]}
_EXPRESSIONS = MapOf(Either(_EXPRESSION, list))  # an attribute, or a list of nested blocks
_CONFIG_MODULE: dict[str, Any] = {
    "resources": [{"address": str, "provider_config_key": str, "expressions": _EXPRESSIONS}],
}
_CONFIG_MODULE["module_calls"] = MapOf({"module": _CONFIG_MODULE})
_STATE_MODULE: dict[str, Any] = {
    "resources": [
        {
            "address": str,
            "mode": str,
            "type": str,
            "name": str,
            "provider_name": str,
            "values": dict,
        }
    ],
}
_STATE_MODULE["child_modules"] = [_STATE_MODULE]
_COMMON = {
    "configuration": {
        "root_module": _CONFIG_MODULE,
        "provider_config": MapOf({"expressions": _EXPRESSIONS}),
    },
    "variables": MapOf(dict),
    "values": {"root_module": _STATE_MODULE},
    "prior_state": {"values": {"root_module": _STATE_MODULE}},
}
PLAN_SHAPE = {
    **_COMMON,
    "resource_changes": [
        {
            "address": str,
            "module_address": str,
            "mode": str,
            "type": str,
            "name": str,
            "provider_name": str,
            "change": {"actions": [str], "after": dict, "after_unknown": object},
        }
    ],
}
STATE_SHAPE = _COMMON


# ---------------------------------------------------------------- reading


def _plan_instances(doc: dict[str, Any], file: str, problems: list[Problem]) -> list[Instance]:
    out = []
    changes = doc.get("resource_changes")
    if not isinstance(changes, list):
        problems.append(Problem(file, "/resource_changes", "expected the plan's resource list"))
        return []
    for i, rc in enumerate(changes):
        at = f"/resource_changes/{i}"
        if not isinstance(rc, dict) or rc.get("mode") != "managed":
            continue
        change = rc.get("change") or {}
        if change.get("actions") == ["delete"]:
            continue  # gone after apply
        after = change.get("after")
        if not isinstance(after, dict):
            problems.append(Problem(file, f"{at}/change/after", "expected the planned values"))
            continue
        flags = change.get("after_unknown")
        unknown: dict[str, Any] = flags if isinstance(flags, dict) else {}
        out.append(
            Instance(
                str(rc.get("address")),
                _module(str(rc.get("module_address") or "")),
                str(rc.get("type")),
                str(rc.get("name")),
                rc.get("index"),
                after,
                unknown or {},
                f"{at}/change/after",
            )
        )
        out[-1].refs = {"provider_name": [str(rc.get("provider_name", ""))]}
    return out


def _state_instances(doc: dict[str, Any], file: str, problems: list[Problem]) -> list[Instance]:
    out: list[Instance] = []
    root = (doc.get("values") or {}).get("root_module")
    if not isinstance(root, dict):
        problems.append(Problem(file, "/values/root_module", "expected the state's root module"))
        return out

    def walk(mod: dict[str, Any], at: str) -> None:
        for i, r in enumerate(mod.get("resources") or []):
            if not isinstance(r, dict) or r.get("mode") != "managed":
                continue
            module_addr = str(r.get("address", "")).rsplit(f"{r.get('type')}.", 1)[0].rstrip(".")
            state_values = r.get("values")
            inst = Instance(
                str(r.get("address")),
                _module(module_addr),
                str(r.get("type")),
                str(r.get("name")),
                r.get("index"),
                state_values if isinstance(state_values, dict) else {},
                {},
                f"{at}/resources/{i}/values",
            )
            inst.refs = {"provider_name": [str(r.get("provider_name", ""))]}
            out.append(inst)
        for j, child in enumerate(mod.get("child_modules") or []):
            walk(child, f"{at}/child_modules/{j}")

    walk(root, "/values/root_module")
    return out


def _module(address: str) -> str:
    """`module.app[0].module.db["x"]` -> `module.app.module.db`: configuration's path."""
    return re.sub(r"\[[^\]]*\]", "", address)


def _configuration(
    doc: dict[str, Any],
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, Any]]:
    """Configuration resources by (module path, type.name), and the provider configs."""
    conf = doc.get("configuration") or {}
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def walk(mod: dict[str, Any], path: str) -> None:
        for r in mod.get("resources") or []:
            if isinstance(r, dict):
                found[(path, str(r.get("address")))] = r
        for name, call in (mod.get("module_calls") or {}).items():
            if isinstance(call, dict) and isinstance(call.get("module"), dict):
                walk(call["module"], f"{path}.module.{name}".lstrip("."))

    walk(conf.get("root_module") or {}, "")
    return found, conf.get("provider_config") or {}


def _region_of(
    key: str | None, providers: dict[str, Any], variables: dict[str, Any], options: Options
) -> str | UnknownValue | None:
    """The region of the provider configuration `key`; a module's resource may use its
    parent's configuration (`module.app:alicloud` -> `alicloud`)."""
    candidates = [key, key.split(":", 1)[-1] if key else None, "alicloud"]
    for k in candidates:
        config = providers.get(k) if k else None
        if not isinstance(config, dict):
            continue
        expr = (config.get("expressions") or {}).get("region")
        if isinstance(expr, dict):
            if isinstance(expr.get("constant_value"), str):
                return str(expr["constant_value"])
            for ref in expr.get("references") or []:
                if ref.startswith("var."):
                    var = variables.get(ref[4:])
                    if isinstance(var, dict) and isinstance(var.get("value"), str):
                        return str(var["value"])
            return UnknownValue(f"provider.{k}.region")
        break  # a configuration without a region: the environment or --region sets it
    if options.region:
        return options.region
    return UnknownValue(f"provider.{key or 'alicloud'}.region")


# ---------------------------------------------------------------- the mapping


@dataclass
class _Ctx:
    instances: list[Instance]
    by_config: dict[tuple[str, str], list[Instance]]
    by_id: dict[str, Instance]
    file: str
    problems: list[Problem]
    model: model.Model

    def value(self, inst: Instance, attr: str) -> Any:
        """An attribute's planned value, or an unknown."""
        if inst.unknown.get(attr) is True:
            linked = self.linked(inst, attr)
            if linked is not None:
                return linked
            return UnknownValue(f"{inst.address}.{attr}")
        value = inst.after.get(attr)
        if isinstance(value, list) and isinstance(inst.unknown.get(attr), list):
            flags = inst.unknown[attr]
            return [
                UnknownValue(f"{inst.address}.{attr}[{i}]")
                if i < len(flags) and flags[i] is True
                else v
                for i, v in enumerate(value)
            ]
        return value

    def linked(self, inst: Instance, attr: str) -> str | UnknownValue | None:
        """What an unknown id attribute references in the configuration, if it tells."""
        target = self.referenced(inst, attr)
        if target is None:
            return None
        own = target.after.get("id")
        if isinstance(own, str) and own and target.unknown.get("id") is not True:
            return own
        return UnknownValue(f"{inst.address}.{attr}", ref=target.address)

    def referenced(self, inst: Instance, attr: str) -> Instance | None:
        for ref in inst.refs.get(attr, []):
            m = re.fullmatch(r"([a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[([^\]]*)\])?(?:\.id)?", ref)
            if m is None:
                continue
            candidates = self.by_config.get((inst.module, f"{m.group(1)}.{m.group(2)}"), [])
            if m.group(3) is not None:
                key: Any = m.group(3).strip('"')
                key = int(key) if key.isdigit() else key
                candidates = [c for c in candidates if c.index == key]
            elif len(candidates) > 1 and "count.index" in inst.refs.get(attr, []):
                candidates = [c for c in candidates if c.index == inst.index]
            elif len(candidates) > 1 and "each.key" in inst.refs.get(attr, []):
                candidates = [c for c in candidates if c.index == inst.index]
            if len(candidates) == 1:
                return candidates[0]
        return None

    def find(self, inst: Instance, attr: str, types: tuple[str, ...]) -> Instance | None:
        """The resource of the plan an id attribute names, known or referenced."""
        value = inst.after.get(attr)
        if isinstance(value, str) and value in self.by_id and inst.unknown.get(attr) is not True:
            found = self.by_id[value]
            return found if found.type in types else None
        target = self.referenced(inst, attr)
        return target if target is not None and target.type in types else None


def _id(inst: Instance) -> str | UnknownValue:
    if inst.unknown.get("id") is True or not inst.after.get("id"):
        return UnknownValue(f"{inst.address}.id")
    return str(inst.after["id"])


def _base(inst: Instance, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "id": _id(inst)}
    if inst.region is not None:
        out["region"] = inst.region
    return out


def _tags(ctx: _Ctx, inst: Instance) -> Any:
    tags = ctx.value(inst, "tags")
    return tags if isinstance(tags, dict | UnknownValue) else {}


def _instance(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    v = ctx.value
    out = _base(inst, "instance")
    out["zone"] = v(inst, "availability_zone")
    vswitch = v(inst, "vswitch_id")
    vpc: Any = None
    switch = ctx.find(inst, "vswitch_id", ("alicloud_vswitch", "alicloud_vpc_vswitch"))
    if switch is not None:
        vpc = ctx.value(switch, "vpc_id")
    elif vswitch:
        vpc = UnknownValue(f"{inst.address}.vswitch_id (the vSwitch's VPC)")
    public_ip = v(inst, "public_ip")
    if isinstance(public_ip, UnknownValue) and not v(inst, "internet_max_bandwidth_out"):
        public_ip = None  # no Internet bandwidth: no public IP is assigned
    out.update(
        {
            "instance_name": v(inst, "instance_name"),
            "status": v(inst, "status") or "Running",
            "instance_type": v(inst, "instance_type"),
            "instance_charge_type": v(inst, "instance_charge_type") or "PostPaid",
            "instance_network_type": "vpc" if vswitch else "classic",
            "deletion_protection": v(inst, "deletion_protection") or False,
            "image_id": v(inst, "image_id"),
            "security_group_ids": v(inst, "security_groups") or [],
            "public_ip_addresses": public_ip
            if isinstance(public_ip, UnknownValue)
            else [public_ip]
            if public_ip
            else [],
            "eip_address": {},
            "vpc_attributes": {"vpc_id": vpc, "vswitch_id": vswitch},
            "metadata_options": {"http_tokens": v(inst, "http_tokens") or None},
            "tags": _tags(ctx, inst),
        }
    )
    for attr, name in (
        ("key_name", "key_pair_name"),
        ("deployment_set_id", "deployment_set_id"),
        ("launch_template_id", "launch_template_id"),
    ):
        if inst.after.get(attr) or inst.unknown.get(attr) is True:
            out[name] = v(inst, attr)
    return out


def _disk(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    v = ctx.value
    out = _base(inst, "disk")
    out["zone"] = (
        v(inst, "zone_id")
        if "zone_id" in inst.after or "zone_id" in inst.unknown
        else v(inst, "availability_zone")
    )
    out.update(
        {
            "type": "data",  # system disks belong to alicloud_instance, not to a disk resource
            "category": v(inst, "category"),
            "size": v(inst, "size"),
            "encrypted": v(inst, "encrypted") or False,
            "status": v(inst, "status") or "Available",
            "delete_with_instance": v(inst, "delete_with_instance"),
            "attachments": [],
            "tags": _tags(ctx, inst),
        }
    )
    return out


def _eni(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    v = ctx.value
    out = _base(inst, "eni")
    out.update(
        {
            "type": "Secondary",
            "status": v(inst, "status") or "Available",
            "vswitch_id": v(inst, "vswitch_id"),
            "security_group_ids": v(inst, "security_group_ids") or [],
            "tags": _tags(ctx, inst),
        }
    )
    return out


def _security_group(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    v = ctx.value
    out = _base(inst, "security_group")
    out.update(
        {
            "security_group_name": v(inst, "security_group_name") or v(inst, "name"),
            "vpc_id": v(inst, "vpc_id"),
            "rules": [],
            "tags": _tags(ctx, inst),
        }
    )
    return out


def _key_pair(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "key_pair",
        "name": ctx.value(inst, "key_pair_name") or ctx.value(inst, "key_name"),
        "tags": _tags(ctx, inst),
    }
    if inst.region is not None:
        out["region"] = inst.region
    return out


def _ram_role(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    return {
        "kind": "ram_role",
        "name": ctx.value(inst, "role_name") or ctx.value(inst, "name"),
        "arn": ctx.value(inst, "arn"),
    }


def _launch_template(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    out = _base(inst, "launch_template")
    out.update(
        {
            "launch_template_name": ctx.value(inst, "launch_template_name")
            or ctx.value(inst, "name"),
            "tags": _tags(ctx, inst),
        }
    )
    return out


def _deployment_set(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    out = _base(inst, "deployment_set")
    out.update(
        {
            "deployment_set_name": ctx.value(inst, "deployment_set_name"),
            "strategy": ctx.value(inst, "strategy"),
        }
    )
    return out


def _apg(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    out = _base(inst, "auto_provisioning_group")
    configs = ctx.value(inst, "launch_template_config")
    out.update(
        {
            "auto_provisioning_group_name": ctx.value(inst, "auto_provisioning_group_name"),
            "launch_template_id": ctx.value(inst, "launch_template_id"),
            "launch_template_configs": [
                {"vswitch_id": c.get("vswitch_id"), "instance_type": c.get("instance_type")}
                for c in configs
                if isinstance(c, dict)
            ]
            if isinstance(configs, list)
            else configs,
            # Which instances the group launches is decided by the cloud, after apply.
            "instance_ids": UnknownValue(f"{inst.address} (the instances it launches)"),
        }
    )
    return out


def _image_copy(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    out = _base(inst, "image")
    out.update(
        {
            "image_name": ctx.value(inst, "image_name"),
            "image_owner_alias": "self",
            "visibility": "custom",
            "tags": _tags(ctx, inst),
        }
    )
    return out


def _snapshot(ctx: _Ctx, inst: Instance) -> dict[str, Any]:
    out = _base(inst, "snapshot")
    disk = ctx.value(inst, "disk_id")
    out.update({"source_disk_id": disk, "tags": _tags(ctx, inst)})
    return out


# Terraform type -> how its instances become resources.
TYPES: dict[str, Callable[[_Ctx, Instance], dict[str, Any]]] = {
    "alicloud_instance": _instance,
    "alicloud_ecs_disk": _disk,
    "alicloud_disk": _disk,
    "alicloud_ecs_network_interface": _eni,
    "alicloud_network_interface": _eni,
    "alicloud_security_group": _security_group,
    "alicloud_ecs_key_pair": _key_pair,
    "alicloud_key_pair": _key_pair,
    "alicloud_ram_role": _ram_role,
    "alicloud_ecs_launch_template": _launch_template,
    "alicloud_launch_template": _launch_template,
    "alicloud_ecs_deployment_set": _deployment_set,
    "alicloud_auto_provisioning_group": _apg,
    "alicloud_image_copy": _image_copy,
    "alicloud_ecs_snapshot": _snapshot,
    "alicloud_snapshot": _snapshot,
}
# Types that only link resources of the types above.
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
# Read only to resolve other values (a vSwitch tells an instance's VPC, an EIP its address).
HELPERS = ("alicloud_vswitch", "alicloud_vpc_vswitch", "alicloud_vpc", *EIPS)


def _links(ctx: _Ctx, inst: Instance, made: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """An attachment or rule: edits the resources it links. Where the resource it attaches
    cannot be told, it becomes a resource of unknown identity, so rules report `error`."""
    v = ctx.value

    def ref(attr: str, types: tuple[str, ...]) -> Any:
        target = ctx.find(inst, attr, types)
        if target is not None:
            own = _id(target)
            return (
                own
                if isinstance(own, str)
                else UnknownValue(f"{inst.address}.{attr}", target.address)
            )
        return v(inst, attr)

    if inst.type in DISK_ATTACHMENTS:
        disk = ctx.find(inst, "disk_id", ("alicloud_ecs_disk", "alicloud_disk"))
        instance = ref("instance_id", ("alicloud_instance",))
        if disk is None:
            return {
                "kind": "disk",
                "id": UnknownValue(f"{inst.address}.disk_id"),
                "zone": UnknownValue(f"{inst.address}.disk_id (the disk's zone)"),
                "region": inst.region,
                "instance_id": instance,
                "attachments": [],
            }
        target = made[disk.address]
        target["instance_id"] = instance
        target["status"] = "In_use"
        target.setdefault("attachments", []).append({"instance_id": instance})
        return None
    if inst.type in ENI_ATTACHMENTS:
        eni = ctx.find(inst, "network_interface_id", TYPES_FOR["eni"])
        instance = ref("instance_id", ("alicloud_instance",))
        if eni is None:
            return {
                "kind": "eni",
                "id": UnknownValue(f"{inst.address}.network_interface_id"),
                "region": UnknownValue(f"{inst.address}.network_interface_id (the ENI's region)"),
                "instance_id": instance,
            }
        made[eni.address]["instance_id"] = instance
        return None
    if inst.type in SG_RULES:
        group = ctx.find(inst, "security_group_id", ("alicloud_security_group",))
        direction = v(inst, "type")
        cidr = v(inst, "cidr_ip")
        rule = {
            "direction": direction,
            "policy": str(v(inst, "policy") or "accept").capitalize(),
            "priority": v(inst, "priority") or 1,
            "ip_protocol": str(v(inst, "ip_protocol") or "").upper(),
            "port_range": v(inst, "port_range") or "-1/-1",
            "source_cidr_ip" if direction == "ingress" else "dest_cidr_ip": cidr or None,
            "source_group_id" if direction == "ingress" else "dest_group_id": ref(
                "source_security_group_id", ("alicloud_security_group",)
            )
            or None,
        }
        if group is None:
            return {
                "kind": "security_group",
                "id": UnknownValue(f"{inst.address}.security_group_id"),
                "region": inst.region,
                "rules": [rule],
            }
        made[group.address].setdefault("rules", []).append(rule)
        return None
    if inst.type in EIP_ASSOCIATIONS:
        # An EIP bound to an instance is that instance's public address: without this, an
        # instance of the plan would look as if it had none.
        if str(v(inst, "instance_type") or "EcsInstance") != "EcsInstance":
            return None  # bound to a NAT gateway, a load balancer, ...: not an instance
        instance = ctx.find(inst, "instance_id", ("alicloud_instance",))
        eip = ctx.find(inst, "allocation_id", EIPS)
        address = (
            v(eip, "ip_address")
            if eip is not None
            else UnknownValue(f"{inst.address}.allocation_id (the EIP's address)")
        )
        bound = {
            "ip_address": address or UnknownValue(f"{inst.address} (the EIP's address)"),
            "allocation_id": ref("allocation_id", EIPS),
        }
        if instance is None:
            if isinstance(v(inst, "instance_id"), str):
                return None  # an instance outside the plan: nothing here to judge
            return {
                "kind": "instance",
                "id": UnknownValue(f"{inst.address}.instance_id"),
                "region": inst.region,
                "eip_address": bound,
            }
        made[instance.address]["eip_address"] = bound
        return None
    if inst.type in ROLE_ATTACHMENTS:
        ids = v(inst, "instance_ids")
        role = v(inst, "role_name")
        rows = []
        for i, instance in enumerate(ids if isinstance(ids, list) else [ids]):
            rows.append(
                {
                    "kind": "ram_role_attachment",
                    "ram_role_name": role,
                    "instance_id": instance,
                    "region": inst.region,
                    "source": {"format": "terraform", "address": f"{inst.address}#{i}"},
                }
            )
        made[f"{inst.address}#rows"] = {"rows": rows}
        return None
    return None


TYPES_FOR = {"eni": ("alicloud_ecs_network_interface", "alicloud_network_interface")}


def _convert(source: Input, m: model.Model, options: Options, plan: bool) -> Converted:
    doc = source.data
    file = source.name
    problems: list[Problem] = []
    if not isinstance(doc, dict):
        raise InputError([Problem(file, "", "expected the JSON of `terraform show -json`")])
    shape.check(doc, PLAN_SHAPE if plan else STATE_SHAPE, file, "", problems)
    if problems:
        raise InputError(problems)
    instances = (_plan_instances if plan else _state_instances)(doc, file, problems)
    config, providers = _configuration(doc)
    variables = doc.get("variables") or {}
    foreign: dict[str, str] = {}
    alicloud: list[Instance] = []
    for inst in instances:
        provider = inst.refs.pop("provider_name")[0]
        if not PROVIDER.search(provider):
            foreign.setdefault(provider, inst.pointer.rsplit("/", 2)[0] + "/provider_name")
            continue
        conf = config.get((inst.module, inst.config_address), {})
        inst.region = _region_of(conf.get("provider_config_key"), providers, variables, options)
        inst.refs = {
            attr: list(expr.get("references") or [])
            for attr, expr in (conf.get("expressions") or {}).items()
            if isinstance(expr, dict)
        }
        alicloud.append(inst)
    if not alicloud and foreign:
        provider, pointer = next(iter(foreign.items()))
        problems.append(
            Problem(
                file,
                pointer,
                f"a {'plan' if plan else 'state'} for another provider (`{provider}`): "
                "policyengine reads alicloud resources",
            )
        )
    if problems:
        raise InputError(problems)
    by_config: dict[tuple[str, str], list[Instance]] = defaultdict(list)
    by_id: dict[str, Instance] = {}
    for inst in alicloud:
        by_config[(inst.module, inst.config_address)].append(inst)
        ident = inst.after.get("id")
        if isinstance(ident, str) and ident and inst.unknown.get("id") is not True:
            by_id[ident] = inst
    ctx = _Ctx(alicloud, by_config, by_id, file, problems, m)
    made: dict[str, dict[str, Any]] = {}
    skipped: dict[str, int] = defaultdict(int)
    for inst in alicloud:
        if inst.type in TYPES:
            resource = TYPES[inst.type](ctx, inst)
            resource["source"] = {
                "format": "terraform",
                "address": inst.address,
                "pointer": inst.pointer,
            }
            made[inst.address] = resource
        elif inst.type not in LINKS and inst.type not in HELPERS:
            skipped[inst.type] += 1
    extra: list[dict[str, Any]] = _images(doc, providers, variables, options, file, problems)
    for inst in alicloud:
        if inst.type in LINKS:
            orphan = _links(ctx, inst, made)
            if orphan is not None:
                # Every attribute of a resource that cannot be told is unknown.
                untold = UnknownValue(f"{inst.address} (which {orphan['kind']} it names)")
                kind = m.kinds[orphan["kind"]]
                for name, _ in kind.attributes.fields:  # in declared order: stable output
                    if name in kind.declared:
                        orphan.setdefault(name, untold)
                orphan["source"] = {"format": "terraform", "address": inst.address}
                extra.append(orphan)
        if inst.type == "alicloud_instance" and inst.after.get("role_name"):
            extra.append(
                {
                    "kind": "ram_role_attachment",
                    "ram_role_name": ctx.value(inst, "role_name"),
                    "instance_id": _id(inst)
                    if isinstance(_id(inst), str)
                    else UnknownValue(f"{inst.address}.id", inst.address),
                    "region": inst.region,
                    "source": {"format": "terraform", "address": f"{inst.address}.role_name"},
                }
            )
    resources: list[dict[str, Any]] = []
    for resource in made.values():
        if "rows" in resource:
            resources.extend(resource["rows"])
        else:
            resources.append(resource)
    resources.extend(extra)
    document = {"version": 1, "resources": [_json(_clean(r, m, file, problems)) for r in resources]}
    if problems:
        raise InputError(problems)
    what = "plan" if plan else "state"
    summary = (
        f"Terraform {what}: {len(alicloud)} alicloud resource instances -> "
        f"{len(resources)} resources"
    )
    if skipped:
        summary += "; not in the model: " + ", ".join(
            f"{t} ×{n}" for t, n in sorted(skipped.items())
        )
    if foreign:
        summary += "; other providers ignored: " + ", ".join(sorted(foreign))
    return Converted(document, f"terraform-{what}", summary, unknowns=True)


def _images(
    doc: dict[str, Any],
    providers: dict[str, Any],
    variables: dict[str, Any],
    options: Options,
    file: str,
    problems: list[Problem],
) -> list[dict[str, Any]]:
    """Images a `data "alicloud_images"` source read at plan time: an instance that uses
    one then names an image the snapshot has."""
    prior = (doc.get("prior_state") or {}).get("values")
    state, base = (prior, "/prior_state/values") if prior else (doc.get("values") or {}, "/values")
    conf, _ = _configuration(doc)
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for j, r in enumerate((state.get("root_module") or {}).get("resources") or []):
        if not isinstance(r, dict) or r.get("mode") != "data" or r.get("type") != "alicloud_images":
            continue
        key = conf.get(("", str(r.get("address", "")).removeprefix("data.")), {})
        key = key or conf.get(("", str(r.get("address"))), {})
        region = _region_of(key.get("provider_config_key"), providers, variables, options)
        at = f"{base}/root_module/resources/{j}/values/images"
        images = (r.get("values") or {}).get("images") or []
        if not isinstance(images, list):
            problems.append(Problem(file, at, f"expected an array, found {describe_json(images)}"))
            continue
        for i, image in enumerate(images):
            ident = image.get("id") or image.get("image_id") if isinstance(image, dict) else None
            if not isinstance(image, dict) or not isinstance(ident, str):
                problems.append(Problem(file, f"{at}/{i}", "expected an image with an `id` string"))
                continue
            alias = image.get("image_owner_alias") or image.get("owner_alias")
            if (ident, str(region)) in seen:
                continue
            seen.add((ident, str(region)))
            out.append(
                {
                    "kind": "image",
                    "id": ident,
                    "region": region,
                    "image_name": image.get("name") or image.get("image_name"),
                    "image_owner_alias": alias,
                    "visibility": {
                        "system": "public",
                        "self": "custom",
                        "others": "shared",
                        "marketplace": "marketplace",
                    }.get(str(alias)),
                    "status": image.get("status"),
                    "source": {"format": "terraform", "address": f"{r.get('address')}.images[{i}]"},
                }
            )
    return out


def _clean(
    resource: dict[str, Any], m: model.Model, file: str, problems: list[Problem]
) -> dict[str, Any]:
    """Drops attributes Terraform left null, and converts values to the model's types."""
    kind = m.kinds.get(resource["kind"])
    types = dict(kind.attributes.fields) if kind is not None else {}
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if value is None:
            continue
        if isinstance(value, dict) and key not in ("source", "tags"):
            value = {k: v for k, v in value.items() if v is not None}
        if isinstance(value, list):
            value = [
                {k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item
                for item in value
            ]
        base = (resource.get("source") or {}).get("pointer", "")
        out[key] = values.convert(
            value, types.get(key), file, f"{base}/{pointer_escape(key)}", problems
        )
    return out


def _json(value: Any) -> Any:
    """UnknownValues -> their JSON marker."""
    if isinstance(value, UnknownValue):
        return value.to_json()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def _detect_plan(data: Any) -> str | None:
    if isinstance(data, dict) and "format_version" in data and "resource_changes" in data:
        return "it has `format_version` and `resource_changes`, as a Terraform plan's JSON does"
    if isinstance(data, dict) and "format_version" in data and "planned_values" in data:
        return "it has `format_version` and `planned_values`, as a Terraform plan's JSON does"
    return None


def _detect_state(data: Any) -> str | None:
    if isinstance(data, dict) and "format_version" in data and "planned_values" not in data:
        if "values" in data or "terraform_version" in data:
            return "it has `format_version` and `values`, as a Terraform state's JSON does"
    return None


def convert_plan(source: Input, m: model.Model, options: Options) -> Converted:
    return _convert(source, m, options, plan=True)


def convert_state(source: Input, m: model.Model, options: Options) -> Converted:
    return _convert(source, m, options, plan=False)


PLAN_IMPORTER = Importer("terraform-plan", "a Terraform plan", _detect_plan, convert_plan)
STATE_IMPORTER = Importer("terraform-state", "a Terraform state", _detect_state, convert_state)
