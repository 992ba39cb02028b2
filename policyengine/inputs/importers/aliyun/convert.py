"""Items of responses -> resources of the normalized snapshot, under the model's names
and types; responses that complete other responses' resources are joined last."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from policyengine.core import model
from policyengine.inputs.importers import values
from policyengine.inputs.importers.aliyun import trust
from policyengine.inputs.importers.aliyun.apis import (
    TAGGED_KINDS,
    VISIBILITY,
    attribute_name,
    snake,
    unwrap_list,
)
from policyengine.inputs.importers.aliyun.pages import group_key
from policyengine.inputs.importers.aliyun.reading import Response
from policyengine.inputs.snapshot import Problem, describe_json, pointer_escape


@dataclass
class Build:
    model: model.Model
    problems: list[Problem]
    resources: list[dict[str, Any]] = field(default_factory=list)
    where: dict[int, tuple[str, str]] = field(default_factory=dict)  # id(resource) -> place
    by_identity: dict[tuple[str, str | None, str], dict[str, Any]] = field(default_factory=dict)
    locations: dict[str, list[str]] = field(default_factory=dict)
    # (kind, region, key) -> the query that gave it first, the item as text, and where.
    queries: dict[tuple[str, str | None, str], tuple[str, str, str, str]] = field(
        default_factory=dict
    )

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
        fields = (resource.get("source") or {}).get("fields")
        resource["source"] = {"format": "aliyun", "file": file, "pointer": pointer}
        if fields:
            resource["source"]["fields"] = fields  # where each attribute is in the file
        self.resources.append(resource)
        return True

    def first(
        self, resource: dict[str, Any], key: str, r: Response, query: str, item: Any, at: str
    ) -> bool:
        """Whether this item is new, and not only given again by another query of the
        same API (images by owner alias, instances by tag): an identical item is kept
        once; one that differs is a problem naming both places."""
        kind = self.model.kinds[resource["kind"]]
        region = resource.get("region")
        ident = (kind.name, region if kind.unique_per_region else None, key)
        text = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
        seen = self.queries.setdefault(ident, (query, text, r.file, at))
        if seen[0] == query:
            return True
        if seen[1] != text:
            self.problems.append(
                Problem(
                    r.file,
                    at,
                    f"{kind.name} `{key}` differs from the same {kind.name} at "
                    f"{seen[2]}#{seen[3]}, which another query of {r.api.name} gave; "
                    "export both queries again at one time",
                )
            )
        return False

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
        wrapped = unwrap_list(value)
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
    wrapped = unwrap_list(value)
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


def make_resource(
    r: Response, item: Any, at: str, kind: model.Kind, build: Build
) -> tuple[dict[str, Any], str] | None:
    """One list item -> a resource of `kind`, and its identity key."""
    problems = build.problems
    if not isinstance(item, dict):
        problems.append(Problem(r.file, at, f"expected an object, found {describe_json(item)}"))
        return None
    region = None
    if r.api.region != "none":  # RAM: account-wide, the region of no call
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
    # Where each attribute is in the response file, for pointers into the user's files.
    fields: dict[str, dict[str, str]] = {}
    if r.api.identity is not None:
        fields[f"/{own}"] = {"pointer": f"{at}/{pointer_escape(r.api.identity)}"}
    if "RegionId" in item:
        fields["/region"] = {"pointer": f"{at}/RegionId"}
    elif isinstance(r.body.get("RegionId"), str):
        fields["/region"] = {"pointer": r.at("RegionId")}
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
                fields["/zone"] = {"pointer": here}
            continue
        name = "tags" if key == "Tags" else attribute_name(key, value)
        if not _unique(name, key, given, r.file, here, problems):
            continue
        fields[f"/{pointer_escape(name)}"] = {"pointer": here}
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
    if kind.name == "ram_role" and "AssumeRolePolicyDocument" in item:
        document_at = f"{at}/AssumeRolePolicyDocument"
        out["trust_policy"] = trust.parse(
            item["AssumeRolePolicyDocument"], r.file, document_at, problems
        )
        fields["/trust_policy"] = {"pointer": document_at}
    if kind.name == "command":
        # A common command (DescribeCommands --Provider) is public, as the model says.
        out["visibility"] = "public" if out.get("provider") else "custom"
    key = _identity_key(kind, out)
    if key is None:
        names = kind.identity.attributes if isinstance(kind.identity, model.KeyedBy) else ()
        needed = f": {', '.join(f'`{n}`' for n in names)} is required" if names else ""
        problems.append(Problem(r.file, at, f"this {kind.name} has no identity{needed}"))
        return None
    out["source"] = {"fields": fields}  # `_Build.add` completes the source
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


def no_role(item: Any) -> bool:
    return isinstance(item, dict) and item.get("RamRoleName") == ""


def add_ram_role(r: Response, resource: dict[str, Any], key: str, at: str, build: Build) -> None:
    """DescribeInstanceRamRole: an instance's role. The role it names exists (RAM roles
    are global), so it joins the snapshot once."""
    if build.add(resource, r.file, at, key):
        name = resource["ram_role_name"]
        if build.find("ram_role", None, name) is None:
            build.add({"kind": "ram_role", "name": name}, r.file, f"{at}/RamRoleName", name)


def join_later(later: list[tuple[Response, Any, str]], build: Build, m: model.Model) -> None:
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
                rules = group.setdefault("rules", [])
                rules.append(_value(item, rule_type, r.file, at, problems))
                place = {"pointer": at}
                if group["source"].get("file") != r.file:
                    place["file"] = r.file
                group["source"].setdefault("fields", {})[f"/rules/{len(rules) - 1}"] = place
            case "DescribeAutoProvisioningGroupInstances":
                _, _, group_id = group_key(r)
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
            case "GetRole":
                _describe_role(r, item, at, build, m)
            case "DescribeInstanceAutoRenewAttribute":
                _renewal(r, item, at, build, m)
            case "DescribeZones":
                zone = item.get("ZoneId")
                if r.region is None:
                    _region(r, item, at, problems)
                elif isinstance(zone, str) and zone:
                    build.locations.setdefault(r.region, []).append(zone)
    # An instance the renewal API was asked about in its region but did not list has no
    # renewal attributes (it is pay-as-you-go): null, not absent, which is "not read".
    renewed = {r.region for r, _, _ in later if r.api.name == "DescribeInstanceAutoRenewAttribute"}
    for resource in build.resources:
        if resource["kind"] == "instance" and resource.get("region") in renewed:
            resource.setdefault("renewal", None)
    # An auto provisioning group whose instances were listed with none has none.
    listed = {
        group_key(r)[2]
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
            # A resource's tags are its own: a binding listed in another region is that
            # binding's fact (the tag-region violation), not a tag of the resource.
            if tagged is not None and tagged.get("region") == resource.get("region"):
                tags = tagged.setdefault("tags", {})
                tags.setdefault(str(resource.get("tag_key")), resource.get("tag_value") or "")


def _complete(resource: dict[str, Any], more: dict[str, Any], file: str) -> None:
    """Adds the attributes of `more` (a resource made from another API's item) to
    `resource`, each with where it is in its file."""
    places = resource["source"].setdefault("fields", {})
    for key, value in more.items():
        if key in ("kind", "source"):
            continue
        resource[key] = value
    for path, place in ((more.get("source") or {}).get("fields") or {}).items():
        places[path] = place if resource["source"].get("file") == file else {**place, "file": file}


def _describe_role(r: Response, item: Any, at: str, build: Build, m: model.Model) -> None:
    """GetRole: a role with its trust policy; it completes the role ListRoles (or an
    instance's DescribeInstanceRamRole) listed, or is the role's one description."""
    made = make_resource(r, item, at, m.kinds["ram_role"], build)
    if made is None:
        return
    described, name = made
    role = build.find("ram_role", None, name)
    if role is None:
        build.add(described, r.file, at, name)
    else:
        _complete(role, described, r.file)


def _renewal(r: Response, item: Any, at: str, build: Build, m: model.Model) -> None:
    """DescribeInstanceAutoRenewAttribute: the renewal of one subscription instance,
    as its `renewal` attribute."""
    problems = build.problems
    assert isinstance(item, dict)
    region = _region(r, item, at, problems)
    instance_id = item.get("InstanceId")
    if not isinstance(instance_id, str) or not instance_id:
        problems.append(
            Problem(
                r.file,
                f"{at}/InstanceId",
                "`InstanceId` is required: expected a non-empty string, found "
                + (describe_json(instance_id) if "InstanceId" in item else "nothing"),
            )
        )
        return
    if region is None:
        return
    instance = build.find("instance", region, instance_id)
    if instance is None:
        problems.append(
            Problem(
                r.file,
                f"{at}/InstanceId",
                f"instance `{instance_id}` is not in any DescribeInstances response of "
                f"{region}: export DescribeInstances with it",
            )
        )
        return
    assert r.api.into is not None
    declared = dict(m.kinds["instance"].attributes.fields).get(r.api.into)
    renewal = {k: v for k, v in item.items() if k != "InstanceId"}
    instance[r.api.into] = _value(renewal, declared, r.file, at, problems)
    place = {"pointer": at}
    if instance["source"].get("file") != r.file:
        place["file"] = r.file
    instance["source"].setdefault("fields", {})[f"/{r.api.into}"] = place
