"""The APIs the aliyun importer reads, and the one rule that names their fields.

Field names are the official APIs' (the `alibabacloud-ecs20140526`,
`alibabacloud-vpc20160428`, `alibabacloud-ram20150501` and `alibabacloud-kms20160120`
models): PascalCase becomes snake_case, a one-key wrapper
around a list is unwrapped, except for the few names in `RENAMES` and `LIST_RENAMES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Api:
    name: str
    # The wrapper: {"Instances": {"Instance": [...]}}; ("KeyMetadata", ""): the response
    # describes one item, {"KeyMetadata": {...}}.
    items: tuple[str, str]
    kind: str | None  # the kind each item becomes; None: the items join other resources
    identity: str | None  # the field that names an item: becomes `id` (or `name`)
    # Where the region is: "item" (RegionId), "response" (RegionId), "call" (the folder,
    # command line or --region), or "none" (RAM: an account-wide API, in `global/`).
    region: str
    group_by: str | None = None  # the parameter that tells the resource a call is about
    completes: str | None = None  # the kind whose resources its items complete
    # The attribute of the completed kind that holds each item (declared `from` this API,
    # so that a rule reading it where the API is absent names it); None: merged in.
    into: str | None = None
    # The model declares the attributes it gives `from` it: a rule reading one where the
    # API is absent (or failed) is an error naming it, so the kind needs no gap.
    declared_from: bool = False
    # The product whose SDK (`alibabacloud-<product><version>`) and endpoint serve it.
    product: str = "ecs"

    @property
    def single(self) -> bool:
        """Whether a response describes one item rather than listing several."""
        return self.items[1] == ""


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
        # Automatic snapshot policies, and the renewal of subscription instances.
        Api(
            "DescribeAutoSnapshotPolicyEx",
            ("AutoSnapshotPolicies", "AutoSnapshotPolicy"),
            "auto_snapshot_policy",
            "AutoSnapshotPolicyId",
            "item",
        ),
        Api(
            "DescribeInstanceAutoRenewAttribute",
            ("InstanceRenewAttributes", "InstanceRenewAttribute"),
            None,
            None,
            "call",
            completes="instance",
            into="renewal",
            declared_from=True,
        ),
        # The KMS keys disks name (KMSKeyId): one DescribeKey call per key.
        Api(
            "DescribeKey",
            ("KeyMetadata", ""),
            "kms_key",
            None,
            "call",
            group_by="KeyId",
            product="kms",
        ),
        # RAM roles (account-wide), each completed by GetRole with its trust policy; read
        # before DescribeInstanceRamRole, which names them.
        Api("ListRoles", ("Roles", "Role"), "ram_role", "RoleName", "none", product="ram"),
        Api(
            "GetRole",
            ("Role", ""),
            None,
            "RoleName",
            "none",
            group_by="RoleName",
            completes="ram_role",
            declared_from=True,
            product="ram",
        ),
        Api(
            "DescribeInstanceRamRole",
            ("InstanceRamRoleSets", "InstanceRamRoleSet"),
            "ram_role_attachment",
            None,
            "response",
        ),
        # The VPC API: the vSwitches instances are placed in, and their VPCs.
        Api("DescribeVpcs", ("Vpcs", "Vpc"), "vpc", "VpcId", "item", product="vpc"),
        Api(
            "DescribeVSwitches",
            ("VSwitches", "VSwitch"),
            "vswitch",
            "VSwitchId",
            "call",
            product="vpc",
        ),
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
