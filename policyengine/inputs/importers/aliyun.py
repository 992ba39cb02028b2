"""What the `aliyun` CLI prints for the ECS (and VPC) Describe APIs -> the normalized
snapshot.

The input is a folder of JSON files, one per call as the CLI prints it, or one file (a
single response, or a JSON array bundling several as `{"command": ..., "response": ...}`).
Field names are the official APIs' (the `alibabacloud-ecs20140526` and
`alibabacloud-vpc20160428` models). Every field a response holds is kept, under the
model's attribute name by one rule:

* PascalCase becomes snake_case (`InstanceChargeType` -> `instance_charge_type`,
  `OSName` -> `os_name`), and a one-key wrapper around a list is unwrapped
  (`{"SecurityGroupIds": {"SecurityGroupId": [...]}}` -> `security_group_ids: [...]`);
* except for the few names in `RENAMES` and `LIST_RENAMES`, the item's own id field
  (`DiskId` -> `id`, `KeyPairName` -> `name`), `RegionId` -> `region`, and a top-level
  `ZoneId` -> `zone` on a kind that may be located in a zone;
* every `Tags` shape (`{"Tag": [{"TagKey", "TagValue"}]}`, `{Key, Value}` pairs,
  ListTagResources rows) becomes one `tags` map; `ImageOwnerAlias` also gives the image's
  `visibility` (`VISIBILITY`).

Two fields that would become one name, a tag given twice and a tag value that is not a
string are problems: no value is dropped silently. What is deliberately not kept:
DescribeZones' fields other than ZoneId (the zones are the `locations` table), an item of
DescribeInstanceRamRole without a role, and a top-level `"ZoneId": ""` (no zone).

Where a response does not say its region, the region is the call's: the folder the file
is in (`cn-hangzhou/DescribeKeyPairs.json`; `global/` for region-less APIs), the
command line `manifest.json` maps the file to, or `--region`. A region is never derived
from a zone id. Pages (`PageNumber`/`TotalCount` or `NextToken`) are merged and checked.
A response the importer does not recognise, a missing page, a duplicate id and a string
that does not convert to the model's type are problems naming the file and the JSON path.
"""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyengine.core import model
from policyengine.inputs.importers import values
from policyengine.inputs.importers.base import Converted, Importer, Input, Options
from policyengine.inputs.snapshot import (
    InputError,
    Problem,
    describe_json,
    load_json,
    pointer_escape,
    read_input,
)


@dataclass(frozen=True)
class Api:
    name: str
    items: tuple[str, str]  # the wrapper: {"Instances": {"Instance": [...]}}
    kind: str | None  # the kind each item becomes; None: the items join other resources
    identity: str | None  # the field that names an item: becomes `id` (or `name`)
    region: str  # where the region is: "item" (RegionId), "response" (RegionId) or "call"
    group_by: str | None = None  # the parameter that tells the resource a call is about


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
_BY_WRAPPER = {
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

PRODUCTS = ("ecs", "vpc")  # the `aliyun` CLI's product names of the APIs above
_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+")
_PAGE = re.compile(r"page([0-9]+)")


def snake(name: str) -> str:
    """`InstanceChargeType` -> `instance_charge_type`; acronyms stay one word (`OSName` ->
    `os_name`, `IOPSRead` -> `iops_read`)."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def attribute_name(key: str, value: Any) -> str:
    if key in LIST_RENAMES and _wrapped(value) is not None:
        return LIST_RENAMES[key]
    return RENAMES.get(key) or snake(key)


def _wrapped(value: Any) -> tuple[str, list[Any]] | None:
    """The list inside a one-key wrapper object, with the wrapper's key."""
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), *_ = value.items()
        if isinstance(inner, list):
            return key, inner
    return None


# ---------------------------------------------------------------- reading responses


@dataclass
class Response:
    file: str
    base: str  # JSON Pointer of the response body in its file
    body: dict[str, Any]
    api: Api
    region: str | None  # the call's region, when the layout, manifest or --region says it
    region_from: str  # where that region came from, said for a person
    params: dict[str, str]  # the command line's parameters, from the manifest
    qualifier: str | None  # a file-name part naming what the call was about
    order: tuple[int, str]  # page number (from the body or the name), then file

    def at(self, *parts: str | int) -> str:
        return self.base + "".join(f"/{pointer_escape(p)}" for p in parts)

    def items(self) -> list[Any]:
        outer, inner = self.api.items
        wrapper = self.body.get(outer)
        if isinstance(wrapper, dict):
            found = wrapper.get(inner, [])
            return found if isinstance(found, list) else []
        return []


def parse_command(line: str) -> tuple[str | None, dict[str, str]]:
    """`aliyun ecs DescribeDisks --RegionId cn-hangzhou --PageNumber 2` -> (API, params)."""
    try:
        words = shlex.split(line)
    except ValueError:
        return None, {}
    # `aliyun ecs|vpc API --Param value ...`: the API is the word after the product.
    product = next((i for i, w in enumerate(words) if w in PRODUCTS), None)
    after = words[product + 1 :] if product is not None else words
    api = next((w for w in after if not w.startswith("-")), None)
    params: dict[str, str] = {}
    for i, word in enumerate(words):
        if word.startswith("--") and i + 1 < len(words) and not words[i + 1].startswith("--"):
            params[word[2:]] = words[i + 1]
        elif word.startswith("--") and "=" in word:
            key, _, val = word[2:].partition("=")
            params[key] = val
    return api, params


def _not_read(api_name: str) -> str:
    return f"`{api_name}` is not an API policyengine reads; it reads " + ", ".join(APIS)


def _command_region(params: dict[str, str]) -> str | None:
    return params.get("RegionId") or params.get("region")


def _read_folder(source: Input, options: Options, problems: list[Problem]) -> list[Response]:
    assert source.path is not None
    root = source.path
    manifest: dict[str, str] = {}
    manifest_path = root / "manifest.json"
    manifest_name = _join(source.name, "manifest.json")
    if manifest_path.is_file():
        data = load_json(_read_text(manifest_path, manifest_name), manifest_name)
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            problems.append(
                Problem(
                    manifest_name,
                    "",
                    "expected an object mapping each file to its command line, e.g. "
                    '{"cn-hangzhou/DescribeDisks.json": "aliyun ecs DescribeDisks --RegionId '
                    'cn-hangzhou"}',
                )
            )
        else:
            manifest = data
    out: list[Response] = []
    files = sorted(p for p in root.rglob("*.json") if p != manifest_path)
    if not files:
        problems.append(Problem(source.name, "", "no .json file in the folder"))
    # A manifest names files of the folder; its names are compared with them, never opened
    # (a name may be anything: `../x`, an absolute path, longer than a path may be).
    held = {p.relative_to(root).as_posix() for p in files}
    for rel in manifest:
        if rel not in held:
            problems.append(
                Problem(
                    manifest_name,
                    f"/{pointer_escape(rel)}",
                    f"no such file in the folder: {rel}",
                )
            )
    for path in files:
        rel = path.relative_to(root).as_posix()
        name = _join(source.name, rel)
        try:
            data = load_json(_read_text(path, name), name)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        folders = rel.split("/")[:-1]
        region, region_from = None, ""
        api_name, params = parse_command(manifest[rel]) if rel in manifest else (None, {})
        if api_name is not None and api_name not in APIS:
            problems.append(Problem(manifest_name, f"/{pointer_escape(rel)}", _not_read(api_name)))
            continue
        if _command_region(params):
            region, region_from = _command_region(params), f"its command line in {manifest_name}"
        elif folders:
            folder = folders[-1]
            if folder != "global":
                if not _REGION.fullmatch(folder):
                    problems.append(
                        Problem(
                            name,
                            "",
                            f"the folder `{folder}` is not a region name; put each region's "
                            "files in a folder named after it (`cn-hangzhou/`), and region-less "
                            "APIs in `global/`",
                        )
                    )
                    continue
                region, region_from = folder, f"its folder `{folder}/`"
        elif options.region:
            region, region_from = options.region, "--region"
        out.extend(
            _responses(name, data, api_name, params, region, region_from, path.stem, problems)
        )
    return out


def _read_file(source: Input, options: Options, problems: list[Problem]) -> list[Response]:
    region, region_from = (options.region, "--region") if options.region else (None, "")
    stem = source.path.stem if source.path is not None else ""
    if isinstance(source.data, list):  # a bundle of several responses
        out: list[Response] = []
        for i, entry in enumerate(source.data):
            base = f"/{i}"
            if isinstance(entry, dict) and "response" in entry:
                command = entry.get("command")
                if command is not None and not isinstance(command, str):
                    problems.append(
                        Problem(
                            source.name,
                            f"{base}/command",
                            f"expected the command line, found {describe_json(command)}",
                        )
                    )
                    continue
                api_name, params = (
                    parse_command(command) if isinstance(command, str) else (None, {})
                )
                if api_name is not None and api_name not in APIS:
                    problems.append(Problem(source.name, f"{base}/command", _not_read(api_name)))
                    continue
                entry_region, entry_from = region, region_from
                if _command_region(params):
                    entry_region, entry_from = _command_region(params), "its command line"
                out.extend(
                    _responses(
                        source.name,
                        entry["response"],
                        api_name,
                        params,
                        entry_region,
                        entry_from,
                        "",
                        problems,
                        base=f"{base}/response",
                        index=i,
                    )
                )
            else:
                out.extend(
                    _responses(
                        source.name, entry, None, {}, region, region_from, "", problems, base, i
                    )
                )
        return out
    return _responses(source.name, source.data, None, {}, region, region_from, stem, problems)


def _responses(
    file: str,
    body: Any,
    api_name: str | None,
    params: dict[str, str],
    region: str | None,
    region_from: str,
    stem: str,
    problems: list[Problem],
    base: str = "",
    index: int = 0,
) -> list[Response]:
    """One response body -> a Response, after checking that it is the API it claims."""
    if not isinstance(body, dict):
        problems.append(
            Problem(file, base, f"expected an API response object, found {describe_json(body)}")
        )
        return []
    parts = stem.split(".") if stem else []
    page = 0
    qualifier = None
    if parts and parts[0] in APIS and api_name is None:
        api_name = parts[0]
    for part in parts[1:]:
        match = _PAGE.fullmatch(part)
        if match:
            page = int(match.group(1))
        else:
            qualifier = part
    looks_like = next((api for key, api in _BY_WRAPPER.items() if key in body), None)
    if api_name is None:
        if looks_like is None:
            problems.append(Problem(file, base, _unrecognised(body)))
            return []
        api = looks_like
    else:
        api = APIS[api_name]
        if api.items[0] not in body:
            if looks_like is None and "Code" in body:
                problems.append(Problem(file, f"{base}/Code", _unrecognised(body)))
                return []
            other = (
                f"; this is a {looks_like.name} response"
                if looks_like is not None
                else f"; found {_keys(body)}"
            )
            first = looks_like.items[0] if looks_like is not None else ""
            problems.append(
                Problem(
                    file,
                    f"{base}/{pointer_escape(first)}" if first else base,
                    f"expected `{api.items[0]}` (a {api.name} response){other}",
                )
            )
            return []
    outer, inner = api.items
    wrapper = body[outer]
    if wrapper not in ({}, [], "") and not (
        isinstance(wrapper, dict) and isinstance(wrapper.get(inner), list)
    ):
        problems.append(
            Problem(
                file,
                f"{base}/{outer}",
                f'expected {{"{inner}": [...]}}, found {describe_json(wrapper)}',
            )
        )
        return []
    number = body.get("PageNumber")
    if isinstance(number, str) and number.isdigit():
        number = int(number)
    order = (number if isinstance(number, int) and not page else page or index, file)
    return [Response(file, base, body, api, region, region_from, params, qualifier, order)]


def _unrecognised(body: dict[str, Any]) -> str:
    if "Code" in body and "Message" in body:
        return (
            f"an error response ({body.get('Code')}: {body.get('Message')}), not data: "
            "export the call again"
        )
    known = ", ".join(sorted(APIS))
    return (
        f"not a response of an ECS or VPC API policyengine reads: found {_keys(body)}; "
        f"the APIs it reads are {known}"
    )


def _keys(body: dict[str, Any]) -> str:
    keys = [k for k in body if k != "RequestId"][:6]
    return "keys " + ", ".join(f"`{k}`" for k in keys) if keys else "no data keys"


def _read_text(path: Path, name: str) -> str:
    return read_input(path, name)


def _join(folder: str, rel: str) -> str:
    return f"{folder.rstrip('/')}/{rel}"


# ---------------------------------------------------------------- pages


def _group_key(r: Response) -> tuple[str, str | None, str | None]:
    about = None
    if r.api.group_by:
        about = r.params.get(r.api.group_by) or r.qualifier
        if about is None and isinstance(r.body.get(r.api.group_by), str):
            about = r.body[r.api.group_by]
    return r.api.name, r.region, about


def _check_pages(pages: list[Response], problems: list[Problem]) -> None:
    """Pages of one listing: none missing, none twice."""
    tokens = [p for p in pages if _text(p.body.get("NextToken"))]
    last = pages[-1]
    if tokens:
        ends = [p for p in pages if not _text(p.body.get("NextToken"))]
        if not ends:
            problems.append(
                Problem(
                    last.file,
                    last.at("NextToken"),
                    f'NextToken is "{last.body["NextToken"]}": the next page of '
                    f"{last.api.name} is missing (the last page has an empty NextToken)",
                )
            )
        return
    seen: dict[int, Response] = {}
    for page in pages:
        number = page.body.get("PageNumber")
        if isinstance(number, int) and len(pages) > 1:
            if number in seen:
                problems.append(
                    Problem(
                        page.file,
                        page.at("PageNumber"),
                        f"page {number} of {page.api.name} is given twice: also in "
                        f"{seen[number].file}",
                    )
                )
            seen[number] = page
    total = pages[0].body.get("TotalCount")
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    held = sum(len(p.items()) for p in pages)
    if isinstance(total, int) and held < total:
        problems.append(
            Problem(
                last.file,
                last.at("TotalCount"),
                f"TotalCount is {total}, but the pages of {last.api.name} hold {held}: "
                "a page is missing",
            )
        )


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


# ---------------------------------------------------------------- items -> resources


@dataclass
class _Build:
    model: model.Model
    problems: list[Problem]
    resources: list[dict[str, Any]] = field(default_factory=list)
    where: dict[int, tuple[str, str]] = field(default_factory=dict)  # id(resource) -> place
    by_identity: dict[tuple[str, str | None, str], dict[str, Any]] = field(default_factory=dict)
    locations: dict[str, list[str]] = field(default_factory=dict)

    def add(self, resource: dict[str, Any], file: str, pointer: str, key: str) -> bool:
        kind = self.model.kinds[resource["kind"]]
        region = resource.get("region")
        ident = (kind.name, region if kind.unique_per_region else None, key)
        if ident in self.by_identity:
            first_file, first_at = self.where[id(self.by_identity[ident])]
            self.problems.append(
                Problem(
                    file,
                    pointer,
                    f"duplicate {kind.name} `{key}`: also at {first_file}#{first_at}",
                )
            )
            return False
        self.by_identity[ident] = resource
        self.where[id(resource)] = (file, pointer)
        resource["source"] = {"format": "aliyun", "file": file, "pointer": pointer}
        self.resources.append(resource)
        return True

    def find(self, kind: str, region: str | None, key: str) -> dict[str, Any] | None:
        found = self.by_identity.get((kind, None, key))
        if found is None:
            found = self.by_identity.get((kind, region, key))
        return found


def _region(r: Response, item: dict[str, Any], at: str, problems: list[Problem]) -> str | None:
    """The region of one item: its own or the response's RegionId, else the call's."""
    said, said_at = None, ""
    if "RegionId" in item:  # whichever API: an item that says its region is believed
        said, said_at = item["RegionId"], f"{at}/RegionId"
        if not isinstance(said, str) or not said:
            problems.append(
                Problem(r.file, said_at, f"expected a region name, found {describe_json(said)}")
            )
            return None
    elif isinstance(r.body.get("RegionId"), str) and r.body["RegionId"]:
        said, said_at = r.body["RegionId"], r.at("RegionId")
    if said and r.region and said != r.region:
        problems.append(
            Problem(
                r.file,
                said_at,
                f'RegionId is "{said}", but {r.region_from} says "{r.region}": '
                "the file is in the wrong place",
            )
        )
        return None
    if said or r.region:
        return said or r.region
    problems.append(
        Problem(
            r.file,
            r.base,
            f"{r.api.name} does not say its region: put the file in a folder named after "
            f"the region (`cn-hangzhou/{r.api.name}.json`), map it to its command line in "
            "manifest.json, or pass --region",
        )
    )
    return None


# No API response nests more than a dozen levels; this many is a damaged or hostile file,
# refused where it starts rather than by exhausting the interpreter's stack.
MAX_DEPTH = 100


def _value(
    value: Any, t: model.Type | None, file: str, at: str, problems: list[Problem], depth: int = 0
) -> Any:
    """An API value under the model's names and types, wrappers unwrapped."""
    if depth > MAX_DEPTH and isinstance(value, dict | list):
        problems.append(Problem(file, at, f"nested more than {MAX_DEPTH} levels deep"))
        return None
    depth += 1
    if isinstance(value, dict):
        wrapped = _wrapped(value)
        if wrapped is not None:
            key, inner = wrapped
            return _value(inner, t, file, f"{at}/{pointer_escape(key)}", problems, depth)
        out: dict[str, Any] = {}
        given: dict[str, str] = {}
        for k, v in value.items():
            here = f"{at}/{pointer_escape(k)}"
            name = "tags" if k == "Tags" else attribute_name(k, v)
            if not _unique(name, k, given, file, here, problems):
                continue
            if k == "Tags":
                out["tags"] = _tags(v, file, here, problems)
                continue
            out[name] = _value(v, values.field_type(t, name), file, here, problems, depth)
        return out
    if isinstance(value, list):
        item = values.item_type(t)
        return [_value(v, item, file, f"{at}/{i}", problems, depth) for i, v in enumerate(value)]
    return values.scalar(value, t, file, at, problems)


def _unique(
    name: str, key: str, given: dict[str, str], file: str, at: str, problems: list[Problem]
) -> bool:
    """Whether no other field of the same object has become `name` (`IOPS` and `Iops`
    both become `iops`): one would overwrite the other, so that is a problem."""
    if name in given:
        problems.append(
            Problem(file, at, f"`{key}` and `{given[name]}` both become the attribute `{name}`")
        )
        return False
    given[name] = key
    return True


def _tags(value: Any, file: str, at: str, problems: list[Problem]) -> dict[str, str]:
    """Every tag shape -> one map: {"Tag": [{"TagKey", "TagValue"}]}, {Key, Value} pairs."""
    rows: Any = value
    base = at
    wrapped = _wrapped(value)
    if wrapped is not None:
        rows, base = wrapped[1], f"{at}/{pointer_escape(wrapped[0])}"
    if rows in ({}, None, ""):
        return {}
    if not isinstance(rows, list):
        problems.append(Problem(file, at, f"expected a list of tags, found {describe_json(value)}"))
        return {}
    out: dict[str, str] = {}
    for i, row in enumerate(rows):
        key = row.get("TagKey", row.get("Key")) if isinstance(row, dict) else None
        if not isinstance(key, str):
            problems.append(Problem(file, f"{base}/{i}", "expected a tag with `TagKey` (or `Key`)"))
            continue
        tag_value = row.get("TagValue", row.get("Value"))
        if tag_value is not None and not isinstance(tag_value, str):
            problems.append(
                Problem(
                    file,
                    f"{base}/{i}",
                    f"expected a string tag value, found {describe_json(tag_value)}",
                )
            )
            continue
        if key in out:
            problems.append(Problem(file, f"{base}/{i}", f"tag `{key}` is given twice"))
            continue
        out[key] = tag_value or ""  # a tag without a value has the value ""
    return out


def _item(
    r: Response, item: Any, at: str, kind: model.Kind, build: _Build
) -> tuple[dict[str, Any], str] | None:
    """One list item -> a resource of `kind`, and its identity key."""
    problems = build.problems
    if not isinstance(item, dict):
        problems.append(Problem(r.file, at, f"expected an object, found {describe_json(item)}"))
        return None
    region = _region(r, item, at, problems)
    if region is None:
        return None
    types = dict(kind.attributes.fields)
    out: dict[str, Any] = {"kind": kind.name}
    own = "name" if isinstance(kind.identity, model.NamedBy) else "id"
    if r.api.identity is not None:
        ident = item.get(r.api.identity)
        if not isinstance(ident, str) or not ident:
            problems.append(
                Problem(
                    r.file,
                    f"{at}/{r.api.identity}",
                    f"`{r.api.identity}` is required: expected a non-empty string, found "
                    f"{describe_json(ident) if r.api.identity in item else 'nothing'}",
                )
            )
            return None
        out[own] = ident
    if kind.scope != "global":
        out["region"] = region
    # The names the importer itself writes, and the API field each comes from.
    given = {"kind": "kind", "source": "source", "region": "RegionId"}
    if r.api.identity is not None:
        given[own] = r.api.identity
    for key, value in item.items():
        here = f"{at}/{pointer_escape(key)}"
        if key in (r.api.identity, "RegionId"):
            continue
        if key == "ZoneId" and kind.may_have("zone"):
            if _unique("zone", key, given, r.file, here, problems) and value:
                out["zone"] = value  # "" on a regional reserved instance: it has no zone
            continue
        name = "tags" if key == "Tags" else attribute_name(key, value)
        if not _unique(name, key, given, r.file, here, problems):
            continue
        if key == "Tags":
            out["tags"] = _tags(value, r.file, here, problems)
            continue
        out[name] = _value(value, types.get(name), r.file, here, problems)
    if kind.name == "image":
        alias = out.get("image_owner_alias")
        if isinstance(alias, str):
            if alias not in VISIBILITY:
                problems.append(
                    Problem(
                        r.file,
                        f"{at}/ImageOwnerAlias",
                        f"unknown ImageOwnerAlias {describe_json(alias)}; expected "
                        + ", ".join(VISIBILITY),
                    )
                )
            else:
                out["visibility"] = VISIBILITY[alias]
    key = _identity_key(kind, out)
    if key is None:
        problems.append(Problem(r.file, at, f"this {kind.name} has no identity"))
        return None
    return out, key


def _identity_key(kind: model.Kind, data: dict[str, Any]) -> str | None:
    match kind.identity:
        case model.IdFormat():
            names: tuple[str, ...] = ("id",)
        case model.NamedBy(attribute=attribute):
            names = (attribute,)
        case model.KeyedBy(attributes=attributes):
            names = attributes
    parts = [data.get(n) for n in names]
    if not all(isinstance(p, str | int) and p != "" for p in parts):
        return None
    return "@".join(str(p) for p in parts)


def convert(source: Input, m: model.Model, options: Options) -> Converted:
    problems: list[Problem] = []
    if source.is_dir:
        responses = _read_folder(source, options, problems)
    else:
        responses = _read_file(source, options, problems)
    missing = sorted(
        {r.api.kind for r in responses if r.api.kind is not None and r.api.kind not in m.kinds}
    )
    if missing:
        raise InputError(
            problems
            + [Problem(source.name, "", f"the model has no kind `{k}` for it") for k in missing]
        )
    groups: dict[tuple[str, str | None, str | None], list[Response]] = defaultdict(list)
    for r in responses:
        groups[_group_key(r)].append(r)
    api_order = list(APIS)
    ordered = sorted(
        groups.items(),
        key=lambda kv: (api_order.index(kv[0][0]), kv[0][1] or "", kv[0][2] or ""),
    )
    build = _Build(m, problems)
    later: list[tuple[Response, Any, str]] = []  # items that join resources read first
    for _, pages in ordered:
        pages.sort(key=lambda p: p.order)
        _check_pages(pages, problems)
        for page in pages:
            outer, inner = page.api.items
            for i, item in enumerate(page.items()):
                at = page.at(outer, inner, i)
                if page.api.kind is None:
                    later.append((page, item, at))
                    continue
                if page.api.name == "DescribeInstanceRamRole" and _no_role(item):
                    continue  # the instance has no role: "" is none
                made = _item(page, item, at, m.kinds[page.api.kind], build)
                if made is None:
                    continue
                resource, key = made
                if page.api.name == "DescribeInstanceRamRole":
                    _ram_role(page, resource, key, at, build)
                    continue
                build.add(resource, page.file, at, key)
    _join_later(later, build, m)
    if problems:
        raise InputError(problems)
    regions = sorted({r.region for r in responses if r.region})
    document: dict[str, Any] = {"version": 1}
    if build.locations:
        document["locations"] = build.locations
    document["resources"] = build.resources
    files = len({r.file for r in responses})
    summary = (
        f"aliyun CLI output: {len(responses)} response{'s' if len(responses) != 1 else ''} "
        f"in {files} file{'s' if files != 1 else ''}"
        + (f" ({', '.join(regions)})" if regions else "")
        + f" -> {len(build.resources)} resources"
    )
    return Converted(document, "aliyun", summary)


def _no_role(item: Any) -> bool:
    return isinstance(item, dict) and item.get("RamRoleName") == ""


def _ram_role(r: Response, resource: dict[str, Any], key: str, at: str, build: _Build) -> None:
    """DescribeInstanceRamRole: an instance's role. The role it names exists (RAM roles
    are global), so it joins the snapshot once."""
    if build.add(resource, r.file, at, key):
        name = resource["ram_role_name"]
        if build.find("ram_role", None, name) is None:
            build.add({"kind": "ram_role", "name": name}, r.file, f"{at}/RamRoleName", name)


def _join_later(later: list[tuple[Response, Any, str]], build: _Build, m: model.Model) -> None:
    """Responses that complete resources of other responses: security group rules, the
    instances of auto provisioning groups, the zones of each region, and tags."""
    problems = build.problems
    for r, item, at in later:
        if not isinstance(item, dict):
            problems.append(Problem(r.file, at, f"expected an object, found {describe_json(item)}"))
            continue
        match r.api.name:
            case "DescribeSecurityGroupAttribute":
                group_id = r.body.get("SecurityGroupId")
                region = _region(r, item, at, problems)
                if not isinstance(group_id, str) or region is None:
                    if not isinstance(group_id, str):
                        problems.append(
                            Problem(
                                r.file, r.at("SecurityGroupId"), "`SecurityGroupId` is required"
                            )
                        )
                    continue
                group = build.find("security_group", region, group_id)
                if group is None:
                    group = {"kind": "security_group", "id": group_id, "region": region}
                    for key in ("SecurityGroupName", "VpcId", "Description"):
                        if key in r.body:
                            group[snake(key)] = r.body[key]
                    build.add(group, r.file, r.base, group_id)
                rule_type = values.item_type(
                    dict(m.kinds["security_group"].attributes.fields).get("rules")
                )
                group.setdefault("rules", []).append(_value(item, rule_type, r.file, at, problems))
            case "DescribeAutoProvisioningGroupInstances":
                _, _, group_id = _group_key(r)
                if group_id is None:
                    problems.append(
                        Problem(
                            r.file,
                            r.base,
                            "which auto provisioning group these instances belong to is not "
                            "said: map the file to its command line (`--AutoProvisioningGroupId "
                            "apg-…`) in manifest.json, or name it "
                            "DescribeAutoProvisioningGroupInstances.apg-….json",
                        )
                    )
                    continue
                region = _region(r, item, at, problems)
                apg = build.find("auto_provisioning_group", region, group_id)
                if apg is None:
                    problems.append(
                        Problem(
                            r.file,
                            at,
                            f"auto provisioning group `{group_id}` is not in any "
                            "DescribeAutoProvisioningGroups response",
                        )
                    )
                    continue
                instance = item.get("InstanceId")
                if isinstance(instance, str) and instance:
                    apg.setdefault("instance_ids", []).append(instance)
                # Every field of the listing is kept, each instance as the API describes it.
                apg.setdefault("instances", []).append(_value(item, None, r.file, at, problems))
            case "DescribeZones":
                zone = item.get("ZoneId")
                if r.region is None:
                    _region(r, item, at, problems)
                elif isinstance(zone, str) and zone:
                    build.locations.setdefault(r.region, []).append(zone)
    # An auto provisioning group whose instances were listed with none has none.
    listed = {
        _group_key(r)[2]
        for r, _, _ in later
        if r.api.name == "DescribeAutoProvisioningGroupInstances"
    }
    for resource in build.resources:
        if resource["kind"] == "auto_provisioning_group" and resource.get("id") in listed:
            resource.setdefault("instance_ids", [])
            resource.setdefault("instances", [])
        if resource["kind"] == "tag_binding":
            kind = TAGGED_KINDS.get(str(resource.get("resource_type")))
            tagged = (
                build.find(kind, resource.get("region"), str(resource.get("resource_id")))
                if kind is not None and kind in m.kinds
                else None
            )
            if tagged is not None:
                tags = tagged.setdefault("tags", {})
                tags.setdefault(str(resource.get("tag_key")), resource.get("tag_value") or "")


def detect(data: Any) -> str | None:
    bodies = data if isinstance(data, list) else [data]
    for body in bodies:
        if isinstance(body, dict) and isinstance(body.get("response"), dict):
            body = body["response"]
        if isinstance(body, dict):
            for key, api in _BY_WRAPPER.items():
                if key in body:
                    return f"it holds `{key}`, as a {api.name} response does"
    return None


IMPORTER = Importer("aliyun", "aliyun CLI output", detect, convert)
