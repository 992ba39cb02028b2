"""A local stand-in for the Alibaba Cloud RPC endpoints: it serves an account given as a
normalized snapshot as the APIs' own responses, for `policyengine collect` to read.

Responses are built with the official SDKs' response models: each snapshot attribute
becomes the field the model names (found by the importer's own naming rule, so a field
the importer would not read back is an error here), wrapped lists are wrapped again.
It answers GET and form POST, accepts any signature, pages by PageNumber (TotalCount)
and by NextToken, at most `page_size` items a page whatever is asked, throttles the very
first call, fails one call with a 500 once, and denies the APIs it is told to. It also
answers RAM's ListPolicies, which the engine does not read, for an export that holds it.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from policyengine.inputs.importers.aliyun.apis import APIS, attribute_name

MODELS = {
    "ecs": "alibabacloud_ecs20140526.models",
    "vpc": "alibabacloud_vpc20160428.models",
    "ram": "alibabacloud_ram20150501.models",
    "kms": "alibabacloud_kms20160120.models",
}
# The API that lists each kind.
LISTED_BY = {
    "instance": "DescribeInstances",
    "disk": "DescribeDisks",
    "eni": "DescribeNetworkInterfaces",
    "security_group": "DescribeSecurityGroups",
    "image": "DescribeImages",
    "snapshot": "DescribeSnapshots",
    "key_pair": "DescribeKeyPairs",
    "launch_template": "DescribeLaunchTemplates",
    "launch_template_version": "DescribeLaunchTemplateVersions",
    "deployment_set": "DescribeDeploymentSets",
    "auto_provisioning_group": "DescribeAutoProvisioningGroups",
    "reserved_instance": "DescribeReservedInstances",
    "storage_capacity_unit": "DescribeStorageCapacityUnits",
    "tag_binding": "ListTagResources",
    "command": "DescribeCommands",
    "invocation": "DescribeInvocations",
    "ram_role_attachment": "DescribeInstanceRamRole",
    "auto_snapshot_policy": "DescribeAutoSnapshotPolicyEx",
    "kms_key": "DescribeKey",
    "vpc": "DescribeVpcs",
    "vswitch": "DescribeVSwitches",
}
# Attributes the importer derives, not fields of a response.
DERIVED = {"kind", "source", "visibility"}
NEXT_TOKEN_APIS = {
    "DescribeInstances",
    "DescribeNetworkInterfaces",
    "ListTagResources",
    "DescribeInvocations",
}


# ---------------------------------------------------------------- the SDK's models


@cache
def _models(product: str) -> Any:
    return importlib.import_module(MODELS[product])


@cache
def fields_of(cls: type) -> dict[str, type | None]:
    """A response model's fields: API name -> the model class of its value (None for a
    scalar or a list of scalars), read from the model's own `from_map`."""
    source = inspect.getsource(cls.from_map)
    out: dict[str, type | None] = {}
    module = importlib.import_module(cls.__module__)
    for block in source.split("if m.get('")[1:]:
        key = block.split("'", 1)[0]
        nested = re.search(r"temp_model = (?:main_models\.)?(\w+)\(\)", block)
        out[key] = getattr(module, nested.group(1)) if nested else None
    return out


def _wrapper(cls: type) -> tuple[str, type | None] | None:
    """A model that only wraps a list: {"SecurityGroupId": [...]} -> its key and item model."""
    fields = fields_of(cls)
    if len(fields) != 1:
        return None
    (key, inner), *_ = fields.items()
    source = inspect.getsource(cls.from_map)
    return (key, inner) if f"for k1 in m.get('{key}')" in source or inner is None else None


def item_model(api: str) -> type:
    outer, inner = APIS[api].items
    return getattr(_models(APIS[api].product), f"{api}ResponseBody{outer}{inner}")


def body_model(api: str) -> type:
    return getattr(_models(APIS[api].product), f"{api}ResponseBody")


# The trust policy a role of a snapshot that does not give one is served with: the usual
# one of an instance role, which ECS may assume.
ECS_TRUST = json.dumps(
    {
        "Statement": [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": ["ecs.aliyuncs.com"]},
            }
        ],
        "Version": "1",
    }
)


# Attributes a snapshot may hold that no response carries: (model, attribute).
DROPPED: set[tuple[str, str]] = set()


def to_api(value: dict[str, Any], cls: type, identity: str | None = None) -> dict[str, Any]:
    """A snapshot object -> the API's object of model `cls`. An attribute the model has
    no field for is left out, and recorded in DROPPED: no export can hold it."""
    fields = fields_of(cls)
    names: dict[str, str] = {}
    for key, nested in fields.items():
        wrapped = nested is not None and _wrapper(nested) is not None
        names[attribute_name(key, {"x": []} if wrapped else None)] = key
    out: dict[str, Any] = {}
    for name, v in value.items():
        if name in DERIVED:
            continue
        if (name == "id" or name == "name" and "id" not in value) and identity:
            out[identity] = v
            continue
        if name == "region" and "RegionId" in fields:
            out["RegionId"] = v
            continue
        if name == "region":
            continue
        if name == "zone":
            out["ZoneId"] = v
            continue
        if name == "tags":
            out["Tags"] = _tags(v, fields.get("Tags"))
            continue
        key = names.get(name)
        if key is None:
            DROPPED.add((cls.__name__, name))
            continue
        nested = fields[key]
        if nested is None:
            out[key] = v
            continue
        wrapper = _wrapper(nested)
        if wrapper is not None and isinstance(v, list):
            inner_key, inner_cls = wrapper
            out[key] = {
                inner_key: [
                    to_api(x, inner_cls) if inner_cls is not None and isinstance(x, dict) else x
                    for x in v
                ]
            }
        else:
            out[key] = to_api(v, nested) if isinstance(v, dict) else v
    return out


def _tags(tags: dict[str, str], cls: type | None) -> Any:
    wrapper = _wrapper(cls) if cls is not None else None
    if wrapper is None or wrapper[1] is None:
        return {"Tag": [{"TagKey": k, "TagValue": v} for k, v in tags.items()]}
    inner_key, inner_cls = wrapper
    key, value = ("TagKey", "TagValue") if "TagKey" in fields_of(inner_cls) else ("Key", "Value")
    return {inner_key: [{key: k, value: v} for k, v in tags.items()]}


# ---------------------------------------------------------------- the account


@dataclass
class Account:
    """The responses of one account, by (API, region)."""

    regions: dict[str, list[str]]  # region -> zones
    items: dict[tuple[str, str | None], list[dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    groups: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # SG bodies
    apg_instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)  # GetRole's, by name
    keys: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # DescribeKey's
    # RAM policies, as ListPolicies lists them: an API the engine does not read.
    policies: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, snapshot: dict[str, Any], extra: list[dict[str, Any]] = ()) -> Account:
        account = cls(dict(snapshot.get("locations") or {}))
        for resource in [*snapshot["resources"], *extra]:
            account.add(dict(resource))
        return account

    def add(self, r: dict[str, Any]) -> None:
        kind = r["kind"]
        region = r.get("region")
        if kind == "ram_role":
            r.pop("trust_policy", None)  # the importer's reading of the document below
            document = r.pop("assume_role_policy_document", None) or ECS_TRUST
            role = to_api(r, item_model("GetRole"), "RoleName")
            role["AssumeRolePolicyDocument"] = document
            self.roles[r["name"]] = role
            listed = fields_of(item_model("ListRoles"))
            self.items[("ListRoles", None)].append({k: v for k, v in role.items() if k in listed})
            return
        if kind == "kms_key":
            self.keys[(region, r["key_id"])] = to_api(r, item_model("DescribeKey"))
            return
        if kind == "instance":
            renewal = r.pop("renewal", None)
            if isinstance(renewal, dict):
                row = to_api(renewal, item_model("DescribeInstanceAutoRenewAttribute"))
                row["InstanceId"] = r["id"]
                self.items[("DescribeInstanceAutoRenewAttribute", region)].append(row)
        api = LISTED_BY[kind]
        identity = APIS[api].identity
        if kind == "security_group":
            rules = r.pop("rules", [])
            permission = fields_of(body_model("DescribeSecurityGroupAttribute"))["Permissions"]
            assert permission is not None
            wrapper = _wrapper(permission)
            assert wrapper is not None and wrapper[1] is not None
            self.groups[(region, r["id"])] = {
                "RegionId": region,
                "SecurityGroupId": r["id"],
                "SecurityGroupName": r.get("security_group_name", ""),
                "VpcId": r.get("vpc_id", ""),
                "Permissions": {"Permission": [to_api(x, wrapper[1]) for x in rules]},
            }
        if kind == "auto_provisioning_group":
            listed = r.pop("instances", None)
            ids = r.pop("instance_ids", [])
            model = item_model("DescribeAutoProvisioningGroupInstances")
            self.apg_instances[r["id"]] = (
                [to_api(i, model) for i in listed] if listed else [{"InstanceId": i} for i in ids]
            )
        if kind == "command" and r.get("provider"):
            r["region"] = None  # a public command: in every region
        item = to_api(r, item_model(api), identity)
        self.items[(api, region if kind != "command" or region else None)].append(item)

    def listing(self, api: str, region: str | None, params: dict[str, str]) -> list[dict[str, Any]]:
        rows = list(self.items.get((api, region), []))
        match api:
            case "DescribeImages":
                alias = params.get("ImageOwnerAlias")
                ids = set(params["ImageId"].split(",")) if params.get("ImageId") else None
                rows = [
                    r
                    for r in rows
                    if (alias is None or r.get("ImageOwnerAlias") == alias)
                    and (ids is None or r.get("ImageId") in ids)
                ]
            case "DescribeCommands":
                if params.get("Provider"):
                    ids = set(params.get("CommandId", "").split(",")) - {""}
                    rows = [
                        r
                        for r in self.items.get((api, None), [])
                        if not ids or r.get("CommandId") in ids
                    ]
            case "DescribeLaunchTemplateVersions":
                rows = [
                    r for r in rows if r.get("LaunchTemplateId") == params.get("LaunchTemplateId")
                ]
            case "DescribeInstanceRamRole":
                rows = [r for r in rows if r.get("RamRoleName") == params.get("RamRoleName")]
            case "DescribeInstanceAutoRenewAttribute":
                asked = set(params.get("InstanceId", "").split(","))
                rows = [r for r in rows if r.get("InstanceId") in asked]
            case "DescribeAutoProvisioningGroupInstances":
                rows = list(self.apg_instances.get(params.get("AutoProvisioningGroupId", ""), []))
        return rows


# ---------------------------------------------------------------- the server


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class _Server(ThreadingHTTPServer):
    # collect's calls arrive many at once: past the listen backlog (5 by default) a
    # connection is dropped and the client tries again a second later, as real endpoints
    # never make it wait.
    request_queue_size = 128


class Fake:
    def __init__(
        self,
        account: Account,
        *,
        deny: dict[tuple[str, str | None], str] | None = None,
        page_size: int = 2,
        token_page_size: int | None = None,  # NextToken listings; default: page_size
        throttle_first: bool = True,
        fail_once: tuple[str, str | None] | None = None,
    ) -> None:
        self.account = account
        self.deny = deny or {}
        self.page_size = page_size
        self.token_page_size = token_page_size or page_size
        self.throttle_next = throttle_first
        self.fail_once = fail_once
        self.calls: list[tuple[str, str, dict[str, str]]] = []  # (method, action, params)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.requests = 0
        # Calls that fail every time: (action, region) -> (HTTP status, error code).
        self.always: dict[tuple[str, str | None], tuple[int, str]] = {}

    def __enter__(self) -> Fake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer(dict(parse_qsl(urlsplit(self.path).query)))

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                self._answer({**dict(parse_qsl(urlsplit(self.path).query)), **form})

            def _answer(self, params: dict[str, str]) -> None:
                # An RPC call names its action in the query (signature v2) or in the
                # `x-acs-action` header (v3, as the SDKs send it).
                params.setdefault("Action", self.headers.get("x-acs-action") or "")
                answer = fake.answer(self.command, params)
                data = json.dumps(answer.body).encode()
                self.send_response(answer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        # `shutdown` waits for the loop to look at its flag, which it does once a poll
        # interval (half a second by default, on every fake a test starts and stops).
        serve = partial(self.server.serve_forever, poll_interval=0.01)
        threading.Thread(target=serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, method: str, params: dict[str, str]) -> Answer:
        action = params.get("Action", "")
        region = params.get("RegionId")
        with self.lock:
            self.requests += 1
            self.calls.append((method, action, params))
            if self.throttle_next:
                self.throttle_next = False
                return _error(
                    400, "Throttling.User", "Request was denied due to user flow control."
                )
            if self.fail_once == (action, region):
                self.fail_once = None
                return _error(
                    500,
                    "InternalError",
                    "The request processing has failed due to some unknown error.",
                )
        if (action, region) in self.always:
            status, code = self.always[(action, region)]
            return _error(status, code, "The service is not available.")
        if (action, region) in self.deny:
            return _error(
                403,
                self.deny[(action, region)],
                "User not authorized to operate on the specified resource.",
            )
        body = self._data(action, region, params)
        # The same call gets the same id, whatever order a pool of threads calls in.
        digest = hashlib.sha256(json.dumps(sorted(params.items())).encode()).hexdigest().upper()
        request_id = "-".join(
            (digest[:8], digest[8:12], digest[12:16], digest[16:20], digest[20:32])
        )
        return Answer(200, {"RequestId": request_id, **body})

    def _data(self, action: str, region: str | None, params: dict[str, str]) -> dict[str, Any]:
        a = self.account
        if action == "DescribeRegions":
            return {"Regions": {"Region": [{"RegionId": r, "LocalName": r} for r in a.regions]}}
        if action == "DescribeZones":
            zones = a.regions.get(region or "", [])
            return {"Zones": {"Zone": [{"ZoneId": z, "LocalName": z} for z in zones]}}
        if action == "ListRoles":
            return {"IsTruncated": False, "Roles": {"Role": a.items.get(("ListRoles", None), [])}}
        if action == "ListPolicies":
            model = _models("ram").ListPoliciesResponseBodyPoliciesPolicy
            rows = [p for p in a.policies if params.get("PolicyType") in (None, p["PolicyType"])]
            for row in rows:  # only the fields the SDK's model has
                assert set(row) <= set(fields_of(model)), set(row) - set(fields_of(model))
            return {"IsTruncated": False, "Policies": {"Policy": rows}}
        if action == "GetRole":
            return {"Role": a.roles.get(params.get("RoleName", ""), {})}
        if action == "DescribeKey":
            # DescribeKeyRequest has no RegionId: the endpoint is the region's.
            found = [k for (_, key), k in a.keys.items() if key == params.get("KeyId")]
            return {"KeyMetadata": found[0] if found else {}}
        if action == "DescribeSecurityGroupAttribute":
            found = a.groups.get((region or "", params.get("SecurityGroupId", "")))
            if found is None:
                return {
                    "RegionId": region,
                    "SecurityGroupId": params.get("SecurityGroupId"),
                    "Permissions": {"Permission": []},
                }
            return found
        if action not in APIS:
            return {}
        rows = a.listing(action, region, params)
        outer, inner = APIS[action].items
        out: dict[str, Any] = {}
        if "RegionId" in fields_of(body_model(action)):
            out["RegionId"] = region
        if action in NEXT_TOKEN_APIS:
            start = int(params.get("NextToken") or 0)
            page = rows[start : start + self.token_page_size]
            after = start + len(page)
            out["NextToken"] = str(after) if after < len(rows) else ""
            out[outer] = {inner: page}
            return out
        number = int(params.get("PageNumber") or 1)
        start = (number - 1) * self.page_size
        paging = {"TotalCount": len(rows), "PageNumber": number, "PageSize": self.page_size}
        # Only the fields the API's response has: DescribeInstanceRamRole has no PageNumber.
        fields = fields_of(body_model(action))
        out.update({k: v for k, v in paging.items() if k in fields})
        out[outer] = {inner: rows[start : start + self.page_size]}
        return out


def _error(status: int, code: str, message: str) -> Answer:
    return Answer(
        status,
        {
            "RequestId": "00000000-0000-4000-8000-0000000000EE",
            "HostId": "ecs.aliyuncs.com",
            "Code": code,
            "Message": message,
        },
    )


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ecs-account" / "snapshot.json"
# A public Cloud Assistant command (in every region) and an invocation of it, beside the
# example account: an export names such commands, which DescribeCommands lists only when
# asked with a Provider.
PUBLIC_COMMAND = {
    "kind": "command",
    "id": "ACS-ECS-InstallPackage-linux.sh",
    "name": "ACS-ECS-InstallPackage-linux.sh",
    "type": "RunShellScript",
    "provider": "AlibabaCloud",
}
PUBLIC_INVOCATION = {
    "kind": "invocation",
    "id": "t-uf6x0q4ng2xhr3mc",
    "region": "cn-shanghai",
    "command_id": "ACS-ECS-InstallPackage-linux.sh",
    "invoke_instances": [{"instance_id": "i-uf6mr2zctgvgo4luov7b", "invocation_status": "Success"}],
}
# The example account's RAM policies: its own, which the log shipper's role is granted,
# and one of Alibaba Cloud's. ListPolicies is not an API the engine reads.
EXAMPLE_POLICIES = [
    {
        "PolicyName": "EcsLogShipperPolicy",
        "PolicyType": "Custom",
        "Description": "Write the shop's access logs to its Logstore",
        "DefaultVersion": "v1",
        "AttachmentCount": 1,
        "CreateDate": "2025-11-04T02:15:37Z",
        "UpdateDate": "2025-11-04T02:15:37Z",
    },
    {
        "PolicyName": "AliyunECSReadOnlyAccess",
        "PolicyType": "System",
        "Description": "只读访问云服务器服务(ECS)的权限",
        "DefaultVersion": "v1",
        "AttachmentCount": 0,
        "CreateDate": "2015-01-23T12:33:18Z",
        "UpdateDate": "2015-01-23T12:33:18Z",
    },
]
DENIED = {("DescribeInvocations", "cn-hangzhou"): "Forbidden.RAM"}
FAILS_ONCE = ("DescribeDisks", "cn-shanghai")


@cache
def _example_account() -> Account:
    """Made once a process (every response built through the SDKs' models): the fakes
    that serve it only read it."""
    snapshot = json.loads(EXAMPLE.read_text())
    account = Account.of(snapshot, [PUBLIC_COMMAND, PUBLIC_INVOCATION])
    account.policies = [dict(p) for p in EXAMPLE_POLICIES]
    return account


def example_fake() -> Fake:
    """The bundled example account, one API denied, as `collect` tests and the example
    export meet it."""
    return Fake(_example_account(), deny=DENIED, fail_once=FAILS_ONCE)
