"""Admission control and snapshot diffs: an operation is applied to a copy of the
snapshot and only the findings it would introduce are reported; a newer snapshot is
compared with an older one by (rule, resource) and the fingerprint of the deciding facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, run_cli, transcript
from syrupy.assertion import SnapshotAssertion

from policyengine import InputError
from policyengine.inputs.importers import operations

EXPORT = "examples/aliyun-export"
OPS = "examples/operations"
SAME = ROOT / "tests" / "fixtures" / "same-account" / "snapshot.json"


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_attach_disk_across_zones_is_refused_with_one_line(
    text_snapshot: SnapshotAssertion,
) -> None:
    args = ["evaluate", EXPORT, "--operation", f"{OPS}/attach-across-zones.json"]
    code, out, _ = run_cli(args)
    assert code == 1
    assert out.splitlines() == [
        "AttachDisk would violate ecs_locations.disk_zone: disk d-bp1bxncy9h7foyc8eeed is in "
        "zone cn-hangzhou-h; instance i-bp11pk03t1thybzlkoni is in zone cn-hangzhou-i; "
        "cn-hangzhou-h ≠ cn-hangzhou-i"
    ]
    assert transcript(args) == text_snapshot


def test_attach_disk_within_the_zone_passes_from_a_command_line_on_stdin() -> None:
    stdin = (ROOT / OPS / "attach-within-zone.sh").read_text()
    code, out, _ = run_cli(["evaluate", EXPORT, "--operation", "-"], stdin)
    assert (code, out.strip()) == (
        0,
        "AttachDisk d-bp1bxncy9h7foyc8eeed → i-bp1us31ietd42pe50vjm: allowed, no new finding",
    )


def test_existing_findings_are_not_blamed_on_the_operation() -> None:
    # The export already has 31 findings; the attach within the zone adds none.
    code, out, _ = run_cli(
        ["evaluate", EXPORT, "--operation", f"{OPS}/attach-within-zone.sh", "--format", "json"]
    )
    doc = json.loads(out)
    assert code == 0 and doc["operations"][0]["findings"] == [] and doc["verdict"] == "pass"


def test_every_kind_of_operation(text_snapshot: SnapshotAssertion) -> None:
    args = ["evaluate", EXPORT, "--operation", f"{OPS}/several.json"]
    code, out, _ = run_cli([*args, "--format", "json"])
    assert code == 1
    rules = [
        (op["action"], [f["rule"] for f in op["findings"]]) for op in json.loads(out)["operations"]
    ]
    assert rules == [
        ("ImportKeyPair", ["org_baseline.approved_region"]),
        ("JoinSecurityGroup", ["ecs_locations.instance_security_group_region"]),
        ("AttachInstanceRamRole", ["ecs_locations.ram_role_region"]),
        ("TagResources", []),
        ("InvokeCommand", ["ecs_locations.command_instance_region"]),
        ("RunInstances", ["org_baseline.instances_in_vpc", "ecs_locations.image_region"]),
    ]
    assert transcript(args) == text_snapshot


def test_command_lines_take_repeated_parameters() -> None:
    (op,) = operations.parse(
        "aliyun ecs TagResources --RegionId cn-hangzhou --ResourceType instance "
        "--ResourceId.1 i-1 --ResourceId.2 i-2 --Tag.1.Key env --Tag.1.Value prod\n",
        "ops.sh",
    )
    assert op.params == {
        "RegionId": "cn-hangzhou",
        "ResourceType": "instance",
        "ResourceId": ["i-1", "i-2"],
        "Tag": [{"Key": "env", "Value": "prod"}],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"Action": "DeleteInstance", "InstanceId": "i-1"}', "`DeleteInstance` is not an"),
        ('[{"DiskId": "d-1"}]', "expected an API call with `Action`"),
        ("aliyun ecs --DiskId d-1", "line 1: expected `aliyun ecs ACTION"),
    ],
)
def test_bad_operations_are_bad_input(text: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        operations.parse(text, "ops")
    assert expected in str(caught.value)


def test_an_operation_on_a_resource_the_snapshot_lacks_exits_3(tmp_path: Path) -> None:
    ops = tmp_path / "ops.json"
    ops.write_text('[{"Action": "AttachDisk", "DiskId": "d-nosuch", "InstanceId": "i-x"}]')
    code, _, err = run_cli(["evaluate", EXPORT, "--operation", str(ops)])
    assert code == 3
    assert f"{ops}:/0: AttachDisk: disk `d-nosuch` is not in the snapshot" in err


def test_baseline_snapshot_reports_new_fixed_and_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    old = json.loads(SAME.read_text())
    new = json.loads(SAME.read_text())
    new["resources"][1]["encrypted"] = True  # fixed
    new["resources"][2]["rules"][0]["port_range"] = "3389/3389"  # SSH fixed, RDP new
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    monkeypatch.chdir(tmp_path)
    args = ["evaluate", "new.json", "--baseline-snapshot", "old.json"]
    code, out, _ = run_cli([*args, "--format", "json"])
    doc = json.loads(out)
    assert code == 1
    assert sorted(f["rule"] for f in doc["new"]) == [
        "org_baseline.no_public_rdp",
        "security_groups.allowed_ports_only",  # its deciding port changed
        "security_groups.no_risky_ports",
    ]
    assert sorted(f["rule"] for f in doc["fixed"]) == [
        "org_baseline.encrypted_disks",
        "org_baseline.no_public_ssh",
        "security_groups.allowed_ports_only",
        "security_groups.no_risky_ports",
    ]
    assert [f["rule"] for f in doc["unchanged"]] == ["ecs_locations.disk_zone"]
    assert transcript(args) == text_snapshot
    # The same export against itself: nothing new, so exit 0.
    code, out, _ = run_cli(["evaluate", "old.json", "--baseline-snapshot", "old.json"])
    assert code == 0 and out.startswith("new: 0\nfixed: 0\nunchanged: 5")
