"""The APIs governance rules read: automatic snapshot policies
(DescribeAutoSnapshotPolicyEx), the renewal of subscription instances
(DescribeInstanceAutoRenewAttribute), KMS keys (DescribeKey) and RAM roles with their
trust policies (ListRoles, GetRole).

The export in tests/fixtures/aliyun-governance holds each response as the official SDK's
response model reads and writes it (checked below); a rule per API reads what it gives
(tests/fixtures/aliyun-governance-rules); a bad value stops the run naming the file and
the JSON pointer (exit 3); and where the export lacks the API, the rule reports `error`
naming it, never `pass`."""

from __future__ import annotations

import importlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli

from policyengine.frontend.loader import bundled_policies, load
from policyengine.inputs import importers
from policyengine.inputs.importers.aliyun.apis import APIS

EXPORT = ROOT / "tests" / "fixtures" / "aliyun-governance"
RULES = ROOT / "tests" / "fixtures" / "aliyun-governance-rules"
SDK = {
    "ListRoles": "alibabacloud_ram20150501",
    "GetRole": "alibabacloud_ram20150501",
    "DescribeKey": "alibabacloud_kms20160120",
}
PREPAID = "i-bp1g6zv0ce8oghu7k2zq"
POSTPAID = "i-bp1a2b3c4d5e6f7g8h9j"
ENCRYPTED = "d-bp1a7dh2ksmd8e8t9h3a"
PLAIN = "d-bp1c4v5b6n7m8q9w0e1r"
KEY = "key-hzz65f0d6c1a8mxe4l1wv"
POLICY = "sp-bp14yzyxvx4vq9jmnbkv"


def _api(path: Path) -> str:
    return path.name.split(".")[0]


@pytest.mark.parametrize(
    "rel", sorted(p.relative_to(EXPORT).as_posix() for p in EXPORT.rglob("*.json"))
)
def test_each_response_is_the_sdks_response_model(rel: str) -> None:
    """The SDK's model reads every field of the file and writes back the same JSON: the
    names and nesting the importer reads are the API's."""
    path = EXPORT / rel
    api = _api(path)
    module = importlib.import_module(SDK.get(api, "alibabacloud_ecs20140526") + ".models")
    body = json.loads(path.read_text())
    model = getattr(module, f"{api}ResponseBody")
    assert model().from_map(body).to_map() == body


def _document(folder: Path) -> dict[str, Any]:
    m = load(bundled_policies()).plan.model
    read = importers.read(folder, "aliyun", m, importers.Options())
    importers.to_store(read.snapshot, m)  # the model accepts it
    document: dict[str, Any] = read.converted.document
    return document


def _find(document: dict[str, Any], kind: str, key: str) -> dict[str, Any]:
    (found,) = [
        r
        for r in document["resources"]
        if r["kind"] == kind and key in (r.get("id"), r.get("name"), r.get("key_id"))
    ]
    return found


def test_the_export_becomes_kinds_and_attributes() -> None:
    document = _document(EXPORT)
    policy = _find(document, "auto_snapshot_policy", POLICY)
    assert (policy["region"], policy["retention_days"], policy["tags"]) == (
        "cn-hangzhou",
        7,
        {"owner": "platform"},
    )
    key = _find(document, "kms_key", KEY)
    assert (key["region"], key["creator"], key["origin"]) == (
        "cn-hangzhou",
        "1498765432101234",
        "Aliyun_KMS",
    )
    assert key["source"]["file"].endswith(f"cn-hangzhou/DescribeKey.{KEY}.json")
    assert key["source"]["pointer"] == "/KeyMetadata"
    disk = _find(document, "disk", ENCRYPTED)
    assert (disk["auto_snapshot_policy_id"], disk["kms_key_id"]) == (POLICY, KEY)
    # Renewal: the subscription instance's, from its own file; none for pay-as-you-go.
    prepaid = _find(document, "instance", PREPAID)
    assert prepaid["renewal"] == {
        "auto_renew_enabled": False,
        "duration": 1,
        "period_unit": "Month",
        "renewal_status": "Normal",
    }
    place = prepaid["source"]["fields"]["/renewal"]
    assert place["file"].endswith("cn-hangzhou/DescribeInstanceAutoRenewAttribute.json")
    assert place["pointer"] == "/InstanceRenewAttributes/InstanceRenewAttribute/0"
    assert _find(document, "instance", POSTPAID)["renewal"] is None
    # Roles: listed by ListRoles, completed by GetRole, global.
    partner = _find(document, "ram_role", "AuditFromPartner")
    assert "region" not in partner and partner["role_id"] == "338521047283470299"
    assert partner["trust_policy"] == {
        "version": "1",
        "statements": [
            {
                "effect": "Allow",
                "actions": ["sts:AssumeRole"],
                "principals": {
                    "ram": ["acs:ram::1122334455667788:root"],
                    "service": [],
                    "federated": [],
                },
                "conditions": [
                    {"operator": "StringEquals", "key": "sts:ExternalId", "values": ["audit-2024"]}
                ],
            }
        ],
    }
    assert partner["source"]["fields"]["/trust_policy"]["file"].endswith(
        "global/GetRole.AuditFromPartner.json"
    )
    shipper = _find(document, "ram_role", "EcsLogShipperRole")
    assert shipper["trust_policy"]["statements"][0]["principals"]["service"] == ["ecs.aliyuncs.com"]
    assert "gaps" not in document and "not_read" not in document


def _outcomes(folder: Path) -> tuple[int, set[tuple[str, str, str, str]]]:
    code, out, err = run_cli(
        ["evaluate", str(folder), "--policy", str(RULES), "--all", "--format", "json"]
    )
    assert out, err
    rows = {
        (r["rule"].split(".")[1], r["resource"]["id"], r["outcome"], r["message"])
        for r in json.loads(out)["results"]
    }
    return code, rows


def test_a_rule_per_api_reads_what_it_gives() -> None:
    code, rows = _outcomes(EXPORT)
    assert code == 1
    decided = {(rule, rid, outcome) for rule, rid, outcome, _ in rows if outcome != "skipped"}
    assert decided == {
        ("renew", PREPAID, "fail"),
        ("retention", ENCRYPTED, "pass"),
        ("own_key", ENCRYPTED, "pass"),
        ("trust", "AuditFromPartner", "fail"),
        ("trust", "EcsLogShipperRole", "pass"),
    }


def _edit(tmp_path: Path, rel: str, change: Callable[[Any], None]) -> Path:
    folder = tmp_path / "export"
    shutil.copytree(EXPORT, folder)
    path = folder / rel
    body = json.loads(path.read_text())
    change(body)
    path.write_text(json.dumps(body))
    return folder


def _policy(body: Any) -> dict[str, Any]:
    row: dict[str, Any] = body["AutoSnapshotPolicies"]["AutoSnapshotPolicy"][0]
    return row


def test_the_relations_decide_a_failing_case(tmp_path: Path) -> None:
    folder = _edit(
        tmp_path,
        "cn-hangzhou/DescribeAutoSnapshotPolicyEx.json",
        lambda b: _policy(b).update(RetentionDays=3),
    )
    key_file = folder / f"cn-hangzhou/DescribeKey.{KEY}.json"
    key = json.loads(key_file.read_text())
    key["KeyMetadata"]["Creator"] = "1122334455667788"
    key_file.write_text(json.dumps(key))
    _, rows = _outcomes(folder)
    failed = {(rule, rid) for rule, rid, outcome, _ in rows if outcome == "fail"}
    assert {("retention", ENCRYPTED), ("own_key", ENCRYPTED)} <= failed


GET_ROLE = "global/GetRole.AuditFromPartner.json"


def _trust(document: Any) -> Callable[[Any], None]:
    def change(body: Any) -> None:
        body["Role"]["AssumeRolePolicyDocument"] = (
            document if isinstance(document, str) else json.dumps(document)
        )

    return change


BAD = {
    "a retention that is not a number": (
        "cn-hangzhou/DescribeAutoSnapshotPolicyEx.json",
        lambda b: _policy(b).update(RetentionDays="a week"),
        "/AutoSnapshotPolicies/AutoSnapshotPolicy/0/RetentionDays: expected an integer",
    ),
    "a policy without its id": (
        "cn-hangzhou/DescribeAutoSnapshotPolicyEx.json",
        lambda b: _policy(b).pop("AutoSnapshotPolicyId"),
        "/AutoSnapshotPolicies/AutoSnapshotPolicy/0/AutoSnapshotPolicyId: "
        "`AutoSnapshotPolicyId` is required",
    ),
    "key metadata that is a list": (
        f"cn-hangzhou/DescribeKey.{KEY}.json",
        lambda b: b.update(KeyMetadata=[b["KeyMetadata"]]),
        "/KeyMetadata: expected an object (a DescribeKey response describes one item)",
    ),
    "a key without its id": (
        f"cn-hangzhou/DescribeKey.{KEY}.json",
        lambda b: b["KeyMetadata"].pop("KeyId"),
        "/KeyMetadata: this kms_key has no identity: `key_id` is required",
    ),
    "a renewal flag that is not a boolean": (
        "cn-hangzhou/DescribeInstanceAutoRenewAttribute.json",
        lambda b: b["InstanceRenewAttributes"]["InstanceRenewAttribute"][0].update(
            AutoRenewEnabled="maybe"
        ),
        "/InstanceRenewAttributes/InstanceRenewAttribute/0/AutoRenewEnabled: expected",
    ),
    "the renewal of an instance no export lists": (
        "cn-hangzhou/DescribeInstanceAutoRenewAttribute.json",
        lambda b: b["InstanceRenewAttributes"]["InstanceRenewAttribute"][0].update(
            InstanceId="i-bp1zzzzzzzzzzzzzzzzz"
        ),
        "/InstanceRenewAttributes/InstanceRenewAttribute/0/InstanceId: instance "
        "`i-bp1zzzzzzzzzzzzzzzzz` is not in any DescribeInstances response",
    ),
    "a role name that is a number": (
        "global/ListRoles.json",
        lambda b: b["Roles"]["Role"][0].update(RoleName=5),
        "/Roles/Role/0/RoleName: `RoleName` is required: expected a non-empty string, found an "
        "integer 5",
    ),
    "a trust policy that is not JSON": (
        GET_ROLE,
        _trust('{"Statement": ['),
        "/Role/AssumeRolePolicyDocument: the trust policy: not valid JSON",
    ),
    "a trust policy with an unknown principal type": (
        GET_ROLE,
        _trust({"Statement": [{"Effect": "Allow", "Principal": {"Account": "1"}}]}),
        "/Role/AssumeRolePolicyDocument: the trust policy (at /Statement/0/Principal/Account "
        "in the document): unknown principal type `Account`; expected RAM, Service, Federated",
    ),
    "a trust policy whose principal is a number": (
        GET_ROLE,
        _trust({"Statement": [{"Effect": "Allow", "Principal": {"RAM": 5}}]}),
        "/Role/AssumeRolePolicyDocument: the trust policy (at /Statement/0/Principal/RAM in "
        "the document): expected a string or a list of strings, found an integer 5",
    ),
    "a trust policy document that is not a string": (
        GET_ROLE,
        lambda b: b["Role"].update(AssumeRolePolicyDocument={"Statement": []}),
        "/Role/AssumeRolePolicyDocument: the trust policy: expected the policy document as a "
        "JSON string",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD), ids=lambda c: c.replace(" ", "_"))
def test_bad_input_names_the_file_and_the_pointer(case: str, tmp_path: Path) -> None:
    rel, change, expected = BAD[case]
    folder = _edit(tmp_path, rel, change)
    code, out, err = run_cli(["evaluate", str(folder), "--policy", str(RULES)])
    assert code == 3, err
    assert out == ""
    assert f"{folder}/{rel}:{expected}" in err, err


ABSENT = {
    # Each API's files removed; the rule that reads what it gives, and the error naming it.
    "DescribeAutoSnapshotPolicyEx": (
        "cn-hangzhou/DescribeAutoSnapshotPolicyEx.json",
        "retention",
        "cn-hangzhou",
        "not collected: DescribeAutoSnapshotPolicyEx in cn-hangzhou: not in the export "
        f"(disk {ENCRYPTED} names {POLICY})",
    ),
    "DescribeKey": (
        f"cn-hangzhou/DescribeKey.{KEY}.json",
        "own_key",
        "cn-hangzhou",
        f"not collected: DescribeKey in cn-hangzhou: not in the export (disk {ENCRYPTED} "
        f"names {KEY})",
    ),
    "DescribeInstanceAutoRenewAttribute": (
        "cn-hangzhou/DescribeInstanceAutoRenewAttribute.json",
        "renew",
        PREPAID,
        f"`renewal` of instance {PREPAID} needs DescribeInstanceAutoRenewAttribute, which the "
        "snapshot lacks",
    ),
    "GetRole": (
        "global/GetRole.AuditFromPartner.json",
        "trust",
        "AuditFromPartner",
        "`trust_policy` of ram_role AuditFromPartner needs GetRole, which the snapshot lacks",
    ),
}


@pytest.mark.parametrize("api", sorted(ABSENT))
def test_a_rule_reading_an_api_the_export_lacks_is_an_error_naming_it(
    api: str, tmp_path: Path
) -> None:
    rel, rule, subject, message = ABSENT[api]
    folder = tmp_path / "export"
    shutil.copytree(EXPORT, folder)
    (folder / rel).unlink()
    code, rows = _outcomes(folder)
    assert code == 1
    assert (rule, subject, "error", message) in rows
    assert not any(
        r == rule and rid in (subject, ENCRYPTED) and outcome == "pass"
        for r, rid, outcome, _ in rows
    )


def test_a_failed_call_is_the_gap_of_its_kind(tmp_path: Path) -> None:
    """A DescribeKey the manifest lists as failed: that call's reason, not "not in the
    export"."""
    folder = tmp_path / "export"
    shutil.copytree(EXPORT, folder)
    (folder / f"cn-hangzhou/DescribeKey.{KEY}.json").unlink()
    failed = {"api": "DescribeKey", "region": "cn-hangzhou", "code": "Forbidden.KeyNotFound"}
    manifest = {"version": 1, "files": {}, "failed": [{**failed, "message": "denied"}]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    _, rows = _outcomes(folder)
    reasons = {m for rule, rid, outcome, m in rows if rule == "own_key" and outcome == "error"}
    assert "not collected: DescribeKey in cn-hangzhou: Forbidden.KeyNotFound" in reasons
    assert not any("not in the export" in m for m in reasons)


def test_every_new_api_is_read() -> None:
    for api in ABSENT:
        assert api in APIS
    assert "ListRoles" in APIS
