"""What `collect` asks each region for: every API the aliyun importer reads, how each
pages, and the queries that depend on what other calls listed (the rules of each
security group, the versions of each launch template, the instances of each role).

A query is one call with its parameters, whatever the page; its pages become one file
each, named as the importer reads them: `cn-hangzhou/DescribeImages.self.page2.json`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from policyengine.inputs.importers.aliyun.apis import APIS


class Product(enum.StrEnum):
    ECS = "ecs"
    VPC = "vpc"
    RAM = "ram"
    KMS = "kms"


class Paging(enum.Enum):
    NONE = "none"
    PAGE_NUMBER = "PageNumber"  # PageNumber and PageSize; TotalCount says when to stop
    NEXT_TOKEN = "NextToken"  # NextToken and MaxResults; an empty NextToken ends
    MARKER = "Marker"  # RAM: Marker and MaxItems; IsTruncated says whether more follow


# The size each paging asks for; an endpoint may give fewer, and the pages are followed.
PAGE_SIZE = {Paging.PAGE_NUMBER: ("PageSize", 50), Paging.NEXT_TOKEN: ("MaxResults", 100)}
MAX_ITEMS = ("MaxItems", 1000)
GLOBAL = "global"  # the folder of calls that have no region


@dataclass(frozen=True)
class Query:
    """One call, with its parameters, whatever the page."""

    product: Product
    api: str
    region: str | None  # None: a call without a region (RAM)
    paging: Paging
    params: tuple[tuple[str, str], ...] = ()
    qualifier: str = ""  # the file-name part that tells queries of one API apart

    @property
    def folder(self) -> str:
        return self.region or GLOBAL

    def file(self, page: int) -> str:
        parts = [self.api]
        if self.qualifier:
            parts.append(_safe(self.qualifier))
        if page > 1:
            parts.append(f"page{page}")
        return f"{self.folder}/{'.'.join(parts)}.json"

    def request(self, paging: Mapping[str, Any]) -> dict[str, Any]:
        """The request's parameters, as the API names them."""
        out: dict[str, Any] = {}
        if self.region is not None:
            out["RegionId"] = self.region
        out.update(dict(self.params))
        out.update(paging)
        return out

    def command(self, paging: Mapping[str, Any]) -> str:
        """The `aliyun` CLI command line that makes the same call."""
        words = ["aliyun", str(self.product), self.api]
        for key, value in self.request(paging).items():
            words += [f"--{key}", _quote(str(value))]
        return " ".join(words)


@dataclass(frozen=True)
class Listing:
    """A query's pages, all of them."""

    query: Query
    pages: tuple[tuple[dict[str, Any], dict[str, Any]], ...]  # (paging asked, body)

    def items(self, wrapper: tuple[str, str] | None = None) -> Iterator[dict[str, Any]]:
        outer, inner = wrapper or APIS[self.query.api].items
        for _, body in self.pages:
            found = body.get(outer)
            if not inner:  # a response that describes one item: {"KeyMetadata": {...}}
                found = {inner: [found]}
            rows = found.get(inner) if isinstance(found, dict) else None
            for row in rows if isinstance(rows, list) else ():
                if isinstance(row, dict):
                    yield row


def _safe(text: str) -> str:
    """A file-name part: no dots (they separate the parts), no slashes."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def _quote(text: str) -> str:
    return (
        text
        if re.fullmatch(r"[A-Za-z0-9_.,:/@=-]+", text)
        else "'" + text.replace("'", "'\\''") + "'"
    )


def _ecs(
    api: str, region: str, paging: Paging, *params: tuple[str, str], qualifier: str = ""
) -> Query:
    return Query(Product.ECS, api, region, paging, tuple(params), qualifier)


def regional(region: str) -> list[Query]:
    """The calls each region gets first: one query per API, every page."""
    pn, nt, none = Paging.PAGE_NUMBER, Paging.NEXT_TOKEN, Paging.NONE
    return [
        _ecs("DescribeZones", region, none),
        _ecs("DescribeInstances", region, nt),
        _ecs("DescribeDisks", region, pn),
        _ecs("DescribeNetworkInterfaces", region, nt),
        _ecs("DescribeSecurityGroups", region, pn),
        _ecs("DescribeImages", region, pn, ("ImageOwnerAlias", "self"), qualifier="self"),
        _ecs("DescribeSnapshots", region, pn),
        _ecs("DescribeAutoSnapshotPolicyEx", region, pn),
        _ecs("DescribeKeyPairs", region, pn),
        _ecs("DescribeLaunchTemplates", region, pn),
        _ecs("DescribeDeploymentSets", region, pn),
        _ecs("DescribeAutoProvisioningGroups", region, pn),
        _ecs("DescribeReservedInstances", region, pn),
        _ecs("DescribeStorageCapacityUnits", region, pn),
        _ecs("ListTagResources", region, nt, ("ResourceType", "instance")),
        _ecs("DescribeCommands", region, pn),
        _ecs("DescribeInvocations", region, nt),
        Query(Product.VPC, "DescribeVpcs", region, pn),
        Query(Product.VPC, "DescribeVSwitches", region, pn),
    ]


ROLES = Query(Product.RAM, "ListRoles", None, Paging.MARKER)


@dataclass
class Found:
    """What the first round listed, by region: what the second round asks about."""

    listings: dict[tuple[str, str | None], Listing] = field(default_factory=dict)

    def add(self, listing: Listing) -> None:
        q = listing.query
        if not q.qualifier or q.api == "DescribeImages":
            self.listings[(q.api, q.region)] = listing

    def items(
        self, api: str, region: str | None, wrapper: tuple[str, str] | None = None
    ) -> list[dict[str, Any]]:
        found = self.listings.get((api, region))
        return list(found.items(wrapper)) if found is not None else []

    def listed(self, api: str, region: str | None) -> bool:
        return (api, region) in self.listings


def role_names(found: Found) -> list[str]:
    return sorted(
        {
            str(r["RoleName"])
            for r in found.items("ListRoles", None, ("Roles", "Role"))
            if r.get("RoleName")
        }
    )


def account_of(found: Found) -> str | None:
    """The account id, from a role's ARN (`acs:ram::1498765432101234:role/...`)."""
    for role in found.items("ListRoles", None, ("Roles", "Role")):
        match = re.fullmatch(r"acs:ram::([0-9]+):role/.*", str(role.get("Arn", "")))
        if match:
            return match.group(1)
    return None


RENEWAL_BATCH = 100  # instance ids one DescribeInstanceAutoRenewAttribute call may name


def dependent(found: Found, regions: Iterable[str]) -> list[Query]:
    """The second round: queries about what the first listed."""
    pn = Paging.PAGE_NUMBER
    out: list[Query] = []
    roles = role_names(found)
    # Each role's trust policy: GetRole, account-wide.
    for role in roles:
        out.append(Query(Product.RAM, "GetRole", None, Paging.NONE, (("RoleName", role),), role))
    for region in regions:
        # The KMS keys the region's disks are encrypted with, one DescribeKey each.
        for key in _ids(found.items("DescribeDisks", region), "KMSKeyId"):
            out.append(
                Query(Product.KMS, "DescribeKey", region, Paging.NONE, (("KeyId", key),), key)
            )
        # The renewal of the subscription instances, in batches of ids.
        prepaid = _ids(
            (
                i
                for i in found.items("DescribeInstances", region)
                if i.get("InstanceChargeType") == "PrePaid"
            ),
            "InstanceId",
        )
        for i in range(0, len(prepaid), RENEWAL_BATCH):
            batch = ",".join(prepaid[i : i + RENEWAL_BATCH])
            qualifier = "" if i == 0 else f"batch{i // RENEWAL_BATCH + 1}"
            out.append(
                _ecs(
                    "DescribeInstanceAutoRenewAttribute",
                    region,
                    pn,
                    ("InstanceId", batch),
                    qualifier=qualifier,
                )
            )
        for group in _ids(found.items("DescribeSecurityGroups", region), "SecurityGroupId"):
            out.append(
                _ecs(
                    "DescribeSecurityGroupAttribute",
                    region,
                    Paging.NONE,
                    ("SecurityGroupId", group),
                    qualifier=group,
                )
            )
        for template in _ids(found.items("DescribeLaunchTemplates", region), "LaunchTemplateId"):
            out.append(
                _ecs(
                    "DescribeLaunchTemplateVersions",
                    region,
                    pn,
                    ("LaunchTemplateId", template),
                    qualifier=template,
                )
            )
        for group in _ids(
            found.items("DescribeAutoProvisioningGroups", region), "AutoProvisioningGroupId"
        ):
            out.append(
                _ecs(
                    "DescribeAutoProvisioningGroupInstances",
                    region,
                    pn,
                    ("AutoProvisioningGroupId", group),
                    qualifier=group,
                )
            )
        if found.listed("ListRoles", None):
            for role in roles:
                out.append(
                    _ecs(
                        "DescribeInstanceRamRole", region, pn, ("RamRoleName", role), qualifier=role
                    )
                )
        # Public images the instances use: not the account's own, so a second query.
        own = set(_ids(found.items("DescribeImages", region), "ImageId"))
        used = sorted(set(_ids(found.items("DescribeInstances", region), "ImageId")) - own)
        for i in range(0, len(used), 100):
            batch = ",".join(used[i : i + 100])
            qualifier = "system" if i == 0 else f"system{i // 100 + 1}"
            out.append(
                _ecs(
                    "DescribeImages",
                    region,
                    pn,
                    ("ImageOwnerAlias", "system"),
                    ("ImageId", batch),
                    qualifier=qualifier,
                )
            )
        # Public Cloud Assistant commands the invocations run: DescribeCommands lists them
        # only when asked with a Provider.
        custom = set(_ids(found.items("DescribeCommands", region), "CommandId"))
        named = sorted(
            c
            for c in set(_ids(found.items("DescribeInvocations", region), "CommandId")) - custom
            if not c.startswith("c-")
        )
        for command in named:
            out.append(
                _ecs(
                    "DescribeCommands",
                    region,
                    pn,
                    ("Provider", "AlibabaCloud"),
                    ("CommandId", command),
                    qualifier=command,
                )
            )
    return out


def _ids(items: Iterable[dict[str, Any]], key: str) -> list[str]:
    return sorted({str(i[key]) for i in items if isinstance(i.get(key), str) and i[key]})
