"""Proposed operations -> the snapshot as it would be after them.

An operations file holds API calls as a user would make them: a JSON object (or a list of
them) such as `{"Action": "AttachDisk", "DiskId": "d-…", "InstanceId": "i-…"}`, or
`aliyun ecs AttachDisk --DiskId d-… --InstanceId i-…` command lines, one per line.
`apply` makes each call's change to a copy of a normalized snapshot document:

* AttachDisk: the disk's `instance_id` and `attachments`;
* AttachNetworkInterface: the ENI's `instance_id`;
* JoinSecurityGroup: the instance's (or ENI's) `security_group_ids`;
* AttachInstanceRamRole: a `ram_role_attachment` per instance, in the call's region;
* ImportKeyPair: a `key_pair` in the call's region;
* RunCommand / InvokeCommand: an `invocation` on the instances, in the call's region;
* AddTags / TagResources: the resources' `tags`, and a `tag_binding` per tag;
* CreateInstance / RunInstances: a new `instance` in the call's zone, with its linked ids;
  its id is not known until it exists.

A call that names a resource the snapshot lacks, or lacks a parameter it needs, is a
problem naming the file and the call.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from policyengine.core.errors import InputError, Problem
from policyengine.inputs.snapshot import UNKNOWN, describe_json, load_json


@dataclass(frozen=True)
class Operation:
    action: str
    params: dict[str, Any]
    file: str
    where: str  # a JSON Pointer (`/0`) or `line 3`

    def describe(self) -> str:
        """`AttachDisk d-… → i-…`: the call in a few words."""
        ids = [
            str(v)
            for k, v in self.params.items()
            if k.endswith(("Id", "Name", "Ids")) and k != "RegionId" and isinstance(v, str)
        ]
        return f"{self.action} {' → '.join(ids)}".strip()


ACTIONS = (
    "AttachDisk",
    "AttachNetworkInterface",
    "JoinSecurityGroup",
    "AttachInstanceRamRole",
    "ImportKeyPair",
    "RunCommand",
    "InvokeCommand",
    "AddTags",
    "TagResources",
    "CreateInstance",
    "RunInstances",
)


def parse(text: str, file: str) -> list[Operation]:
    """An operations file -> its calls, in order. Raises InputError."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        data = load_json(text, file)
        items = data if isinstance(data, list) else [data]
        out = []
        problems = []
        for i, item in enumerate(items):
            where = f"/{i}" if isinstance(data, list) else ""
            if not isinstance(item, dict) or not isinstance(item.get("Action"), str):
                problems.append(
                    Problem(
                        file,
                        where,
                        f"expected an API call with `Action`, found {describe_json(item)}",
                    )
                )
                continue
            given = {k: v for k, v in item.items() if k != "Action"}
            out.append(Operation(item["Action"], _lists(given), file, where))
        if problems:
            raise InputError(problems)
        return _check(out)
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise InputError([Problem(file, "", f"line {number}: {exc}")]) from None
        after = words[words.index("ecs") + 1 :] if "ecs" in words else words
        if not after or after[0].startswith("-"):
            raise InputError(
                [Problem(file, "", f"line {number}: expected `aliyun ecs ACTION --Param value`")]
            )
        params: dict[str, Any] = {}
        i = 1
        while i < len(after):
            word = after[i]
            if word.startswith("--") and "=" in word:
                key, _, value = word[2:].partition("=")
                params[key] = _value(value)
            elif word.startswith("--") and i + 1 < len(after):
                params[word[2:]] = _value(after[i + 1])
                i += 1
            i += 1
        out.append(Operation(after[0], _lists(params), file, f"line {number}"))
    return _check(out)


def _value(text: str) -> Any:
    """A command-line value: JSON arrays and objects (`'["i-1","i-2"]'`) are parsed."""
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def _lists(params: dict[str, Any]) -> dict[str, Any]:
    """`InstanceId.1`, `Tag.1.Key` (the API's RepeatList form) -> lists."""
    out: dict[str, Any] = {}
    repeated: dict[str, dict[int, Any]] = {}
    for key, value in params.items():
        m = re.fullmatch(r"([A-Za-z]+)\.([0-9]+)(?:\.([A-Za-z]+))?", key)
        if m is None:
            out[key] = value
            continue
        slot = repeated.setdefault(m.group(1), {})
        index = int(m.group(2))
        if m.group(3):
            slot.setdefault(index, {})[m.group(3)] = value
        else:
            slot[index] = value
    for name, slots in repeated.items():
        out[name] = [slots[i] for i in sorted(slots)]
    return out


def _check(ops: list[Operation]) -> list[Operation]:
    problems = [
        Problem(
            op.file,
            op.where if op.where.startswith("/") else "",
            (f"{op.where}: " if not op.where.startswith("/") else "")
            + f"`{op.action}` is not an operation policyengine can apply; it applies "
            + ", ".join(ACTIONS),
        )
        for op in ops
        if op.action not in ACTIONS
    ]
    if not ops:
        problems.append(Problem(ops[0].file if ops else "<operations>", "", "no operation"))
    if problems:
        raise InputError(problems)
    return ops


# ---------------------------------------------------------------- applying


class _Doc:
    def __init__(self, document: dict[str, Any], op: Operation, number: int) -> None:
        self.document = document
        self.op = op
        self.number = number
        self.index: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in document["resources"]:
            key = r.get("id") if isinstance(r.get("id"), str) else r.get("name")
            if isinstance(key, str):
                self.index.setdefault((r["kind"], key), []).append(r)

    def fail(self, message: str) -> InputError:
        at = self.op.where if self.op.where.startswith("/") else ""
        prefix = "" if at else f"{self.op.where}: "
        return InputError([Problem(self.op.file, at, f"{prefix}{self.op.action}: {message}")])

    def param(self, name: str) -> Any:
        value = self.op.params.get(name)
        if value in (None, "", []):
            raise self.fail(f"`{name}` is required")
        return value

    def ids(self, name: str) -> list[str]:
        value = self.param(name)
        if isinstance(value, str) and value.startswith("["):
            value = _value(value)
        return [str(v) for v in (value if isinstance(value, list) else [value])]

    def find(self, kind: str, key: str) -> dict[str, Any]:
        found = self.index.get((kind, key))
        if not found:
            raise self.fail(f"{kind} `{key}` is not in the snapshot")
        region = self.op.params.get("RegionId")
        if region and len(found) > 1:
            found = [r for r in found if r.get("region") == region] or found
        return found[0]

    def region(self, *near: dict[str, Any]) -> str:
        region = self.op.params.get("RegionId")
        if isinstance(region, str) and region:
            return region
        for r in near:
            if isinstance(r.get("region"), str):
                return str(r["region"])
        raise self.fail("`RegionId` is required")

    def add(self, resource: dict[str, Any]) -> None:
        resource["source"] = {"format": "operation", "address": self.address()}
        if self.op.where.startswith("/"):  # the call in its JSON file: findings point at it
            resource["source"].update(file=self.op.file, pointer=self.op.where)
        self.document["resources"].append(resource)

    def address(self) -> str:
        return f"operation {self.number} ({self.op.action})"


def _attach_disk(d: _Doc) -> None:
    disk = d.find("disk", d.param("DiskId"))
    instance = d.find("instance", d.param("InstanceId"))
    disk["instance_id"] = instance["id"]
    disk["status"] = "In_use"
    disk.setdefault("attachments", []).append({"instance_id": instance["id"]})


def _attach_eni(d: _Doc) -> None:
    eni = d.find("eni", d.param("NetworkInterfaceId"))
    eni["instance_id"] = d.find("instance", d.param("InstanceId"))["id"]


def _join_security_group(d: _Doc) -> None:
    group = d.find("security_group", d.param("SecurityGroupId"))
    if d.op.params.get("NetworkInterfaceId"):
        member = d.find("eni", d.param("NetworkInterfaceId"))
    else:
        member = d.find("instance", d.param("InstanceId"))
    member.setdefault("security_group_ids", []).append(group["id"])


def _attach_ram_role(d: _Doc) -> None:
    role = d.param("RamRoleName")
    for iid in d.ids("InstanceIds"):
        instance = d.find("instance", iid)
        d.add(
            {
                "kind": "ram_role_attachment",
                "ram_role_name": role,
                "instance_id": iid,
                "region": d.region(instance),
            }
        )


def _import_key_pair(d: _Doc) -> None:
    d.add({"kind": "key_pair", "name": d.param("KeyPairName"), "region": d.region(), "tags": {}})


def _run_command(d: _Doc) -> None:
    instances = [d.find("instance", i) for i in d.ids("InstanceId")]
    invocation: dict[str, Any] = {
        "kind": "invocation",
        "id": {UNKNOWN: f"the InvokeId {d.address()} returns"},
        "region": d.region(*instances),
        "invoke_instances": [{"instance_id": i["id"]} for i in instances],
    }
    if d.op.action == "InvokeCommand":
        invocation["command_id"] = d.param("CommandId")
    d.add(invocation)


_TAGGED = {"instance": "instance", "disk": "disk", "securitygroup": "security_group"}


def _tags(d: _Doc) -> None:
    kind = _TAGGED.get(str(d.param("ResourceType")).lower(), str(d.param("ResourceType")))
    tags = d.param("Tag")
    if not isinstance(tags, list):
        raise d.fail(f"`Tag` must be a list of {{Key, Value}}, found {describe_json(tags)}")
    name = "ResourceId"
    for rid in d.ids(name):
        target = d.find(kind, rid)
        for tag in tags:
            key, value = str(tag.get("Key")), str(tag.get("Value", ""))
            target.setdefault("tags", {})[key] = value
            d.add(
                {
                    "kind": "tag_binding",
                    "resource_type": str(d.param("ResourceType")).lower(),
                    "resource_id": rid,
                    "tag_key": key,
                    "tag_value": value,
                    "region": d.region(target),
                }
            )


def _create_instance(d: _Doc) -> None:
    p = d.op.params
    zone = d.param("ZoneId")
    groups = p.get("SecurityGroupIds") or (
        [p["SecurityGroupId"]] if p.get("SecurityGroupId") else []
    )
    tags = {
        str(t.get("Key")): str(t.get("Value", ""))
        for t in p.get("Tag") or []
        if isinstance(t, dict)
    }
    bandwidth = int(str(p.get("InternetMaxBandwidthOut") or 0))
    instance: dict[str, Any] = {
        "kind": "instance",
        "id": {UNKNOWN: f"the InstanceId {d.address()} returns"},
        "region": d.region(),
        "zone": zone,
        "status": "Pending",
        "instance_type": p.get("InstanceType", ""),
        "instance_charge_type": p.get("InstanceChargeType", "PostPaid"),
        "instance_network_type": "vpc" if p.get("VSwitchId") else "classic",
        "deletion_protection": str(p.get("DeletionProtection", "false")).lower() == "true",
        "image_id": d.param("ImageId"),
        "security_group_ids": groups,
        "public_ip_addresses": {UNKNOWN: f"the public IP {d.address()} assigns"}
        if bandwidth
        else [],
        "eip_address": {},
        "vpc_attributes": {"vswitch_id": p.get("VSwitchId")},
        "metadata_options": {"http_tokens": p.get("HttpTokens", "optional")},
        "tags": tags,
    }
    for param, attribute in (
        ("KeyPairName", "key_pair_name"),
        ("LaunchTemplateId", "launch_template_id"),
        ("DeploymentSetId", "deployment_set_id"),
    ):
        if p.get(param):
            instance[attribute] = p[param]
    if p.get("VSwitchId"):
        instance["vpc_attributes"]["vpc_id"] = {UNKNOWN: f"the VPC of vSwitch {p['VSwitchId']}"}
    d.add(instance)


APPLY: dict[str, Callable[[_Doc], None]] = {
    "AttachDisk": _attach_disk,
    "AttachNetworkInterface": _attach_eni,
    "JoinSecurityGroup": _join_security_group,
    "AttachInstanceRamRole": _attach_ram_role,
    "ImportKeyPair": _import_key_pair,
    "RunCommand": _run_command,
    "InvokeCommand": _run_command,
    "AddTags": _tags,
    "TagResources": _tags,
    "CreateInstance": _create_instance,
    "RunInstances": _create_instance,
}


def apply(document: dict[str, Any], op: Operation, number: int) -> dict[str, Any]:
    """The document after one call, as a new document; the input is left as it was."""
    after = copy.deepcopy(document)
    APPLY[op.action](_Doc(after, op, number))
    return after
