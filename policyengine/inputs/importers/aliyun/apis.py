"""The APIs the aliyun importer reads, and the one rule that names their fields.

Field names are the official APIs' (the `alibabacloud-ecs20140526` and
`alibabacloud-vpc20160428` models): PascalCase becomes snake_case, a one-key wrapper
around a list is unwrapped, except for the few names in `RENAMES` and `LIST_RENAMES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Api:
    name: str
    items: tuple[str, str]  # the wrapper: {"Instances": {"Instance": [...]}}
    kind: str | None  # the kind each item becomes; None: the items join other resources
    identity: str | None  # the field that names an item: becomes `id` (or `name`)
    region: str  # where the region is: "item" (RegionId), "response" (RegionId) or "call"
    group_by: str | None = None  # the parameter that tells the resource a call is about
    completes: str | None = None  # the kind whose resources its items complete


APIS = {
    api.name: api
    for api in (
        Api("DescribeInstances", ("Instances", "Instance"), "instance", "InstanceId", "item"),
        Api("DescribeDisks", ("Disks", "Disk"), "disk", "DiskId", "item"),
        Api(
            "DescribeNetworkInterfaces",
            ("NetworkInterfaceSets", "NetworkInterfaceSet"),
            "eni",
            "NetworkInterfaceId",
            "call",
        ),
        Api(
            "DescribeSecurityGroups",
            ("SecurityGroups", "SecurityGroup"),
            "security_group",
            "SecurityGroupId",
            "response",
        ),
        Api(
            "DescribeSecurityGroupAttribute",
            ("Permissions", "Permission"),
            None,
            None,
            "response",
            group_by="SecurityGroupId",
            completes="security_group",
        ),
        Api("DescribeImages", ("Images", "Image"), "image", "ImageId", "response"),
        Api("DescribeSnapshots", ("Snapshots", "Snapshot"), "snapshot", "SnapshotId", "item"),
        Api("DescribeKeyPairs", ("KeyPairs", "KeyPair"), "key_pair", "KeyPairName", "call"),
        Api(
            "DescribeLaunchTemplates",
            ("LaunchTemplateSets", "LaunchTemplateSet"),
            "launch_template",
            "LaunchTemplateId",
            "call",
        ),
        Api(
            "DescribeLaunchTemplateVersions",
            ("LaunchTemplateVersionSets", "LaunchTemplateVersionSet"),
            "launch_template_version",
            None,
            "call",
            group_by="LaunchTemplateId",
        ),
        Api(
            "DescribeDeploymentSets",
            ("DeploymentSets", "DeploymentSet"),
            "deployment_set",
            "DeploymentSetId",
            "response",
        ),
        Api(
            "DescribeAutoProvisioningGroups",
            ("AutoProvisioningGroups", "AutoProvisioningGroup"),
            "auto_provisioning_group",
            "AutoProvisioningGroupId",
            "item",
        ),
        Api(
            "DescribeAutoProvisioningGroupInstances",
            ("Instances", "Instance"),
            None,
            None,
            "item",
            group_by="AutoProvisioningGroupId",
            completes="auto_provisioning_group",
        ),
        Api(
            "DescribeReservedInstances",
            ("ReservedInstances", "ReservedInstance"),
            "reserved_instance",
            "ReservedInstanceId",
            "item",
        ),
        Api(
            "DescribeStorageCapacityUnits",
            ("StorageCapacityUnits", "StorageCapacityUnit"),
            "storage_capacity_unit",
            "StorageCapacityUnitId",
            "item",
        ),
        Api("ListTagResources", ("TagResources", "TagResource"), "tag_binding", None, "call"),
        Api("DescribeCommands", ("Commands", "Command"), "command", "CommandId", "call"),
        Api("DescribeInvocations", ("Invocations", "Invocation"), "invocation", "InvokeId", "call"),
        Api(
            "DescribeInstanceRamRole",
            ("InstanceRamRoleSets", "InstanceRamRoleSet"),
            "ram_role_attachment",
            None,
            "response",
        ),
        # The VPC API: the vSwitches instances are placed in, and their VPCs.
        Api("DescribeVpcs", ("Vpcs", "Vpc"), "vpc", "VpcId", "item"),
        Api("DescribeVSwitches", ("VSwitches", "VSwitch"), "vswitch", "VSwitchId", "call"),
        Api("DescribeZones", ("Zones", "Zone"), None, None, "call"),
    )
}
# Content detection: the wrapper names one API. `Instances` is DescribeInstances unless a
# file name or command says DescribeAutoProvisioningGroupInstances.
BY_WRAPPER = {
    api.items[0]: api
    for api in APIS.values()
    if api.name != "DescribeAutoProvisioningGroupInstances"
}

# Names the snake_case rule does not give: the model's own spelling (a vSwitch and a
# vRouter are one word each, not `v_switch`).
RENAMES = {
    "VSwitchId": "vswitch_id",
    "VSwitchName": "vswitch_name",
    "VSwitchIds": "vswitch_ids",
    "VRouterId": "vrouter_id",
}
# A wrapped list takes the plural: {"PublicIpAddress": {"IpAddress": [...]}}.
LIST_RENAMES = {
    "PublicIpAddress": "public_ip_addresses",
    "PrivateIpAddress": "private_ip_addresses",
    "InnerIpAddress": "inner_ip_addresses",
    "RdmaIpAddress": "rdma_ip_addresses",
    "Permissions": "rules",
}
# ImageOwnerAlias -> the image's visibility, as the model names it.
VISIBILITY = {
    "system": "public",
    "self": "custom",
    "others": "shared",
    "marketplace": "marketplace",
}

# ListTagResources' ResourceType -> the kind it tags.
TAGGED_KINDS = {
    "instance": "instance",
    "disk": "disk",
    "snapshot": "snapshot",
    "image": "image",
    "securitygroup": "security_group",
    "eni": "eni",
    "keypair": "key_pair",
    "launchtemplate": "launch_template",
    "reservedinstance": "reserved_instance",
    "command": "command",
    "invocation": "invocation",
}

_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+")
_PAGE = re.compile(r"page([0-9]+)")


def snake(name: str) -> str:
    """`InstanceChargeType` -> `instance_charge_type`; acronyms stay one word (`OSName` ->
    `os_name`, `IOPSRead` -> `iops_read`)."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def attribute_name(key: str, value: Any) -> str:
    if key in LIST_RENAMES and unwrap_list(value) is not None:
        return LIST_RENAMES[key]
    return RENAMES.get(key) or snake(key)


def unwrap_list(value: Any) -> tuple[str, list[Any]] | None:
    """The list inside a one-key wrapper object, with the wrapper's key."""
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), *_ = value.items()
        if isinstance(inner, list):
            return key, inner
    return None
