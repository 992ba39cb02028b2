"""Exports as people make them: several queries of one API in a region (images by owner
alias, security group rules per group), responses of APIs the engine does not read,
and a manifest that says when the export was taken and which calls failed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli

from policyengine.core.model import Model
from policyengine.frontend.loader import bundled_policies, load
from policyengine.inputs import importers
from policyengine.inputs.snapshot import InputError

EXAMPLE = ROOT / "tests" / "fixtures" / "aliyun-cli-export"


@pytest.fixture(scope="module")
def ecs() -> Model:
    return load(bundled_policies()).plan.model


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def _images(alias: str, *images: dict[str, Any], page: int = 1, total: int | None = None) -> Any:
    return {
        "RequestId": "req",
        "RegionId": "cn-hangzhou",
        "TotalCount": len(images) if total is None else total,
        "PageNumber": page,
        "PageSize": 10,
        "Images": {"Image": list(images)},
    }


PUBLIC = {
    "ImageId": "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
    "ImageName": "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
    "ImageOwnerAlias": "system",
    "Status": "Available",
}
CUSTOM = {
    "ImageId": "m-bp1hd5yd3z8vfr0wq1ae",
    "ImageName": "app-v42",
    "ImageOwnerAlias": "self",
    "Status": "Available",
}


def _export(tmp_path: Path) -> Path:
    """The example export without its image listings."""
    root = tmp_path / "export"
    shutil.copytree(EXAMPLE, root)
    for path in root.rglob("DescribeImages*.json"):
        path.unlink()
    for region in ("cn-shanghai", "ap-southeast-1"):
        _write(
            root / region / "DescribeImages.json", _images("system", PUBLIC) | {"RegionId": region}
        )
    return root


def _images_of(read: importers.Read, region: str) -> list[str]:
    return sorted(
        r["id"]
        for r in read.converted.document["resources"]
        if r["kind"] == "image" and r["region"] == region
    )


def test_two_queries_of_one_api_by_file_name_are_unioned(ecs: Model, tmp_path: Path) -> None:
    root = _export(tmp_path)
    # Both queries list the public image (a self query would not; the same item twice
    # is what two overlapping filters give) and each has its own page numbering.
    _write(root / "cn-hangzhou" / "DescribeImages.self.json", _images("self", CUSTOM, PUBLIC))
    _write(root / "cn-hangzhou" / "DescribeImages.system.json", _images("system", PUBLIC))
    read = importers.read(root, "auto", ecs, importers.Options())
    assert _images_of(read, "cn-hangzhou") == [
        "m-bp1hd5yd3z8vfr0wq1ae",
        "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
    ]


def test_two_queries_by_manifest_command_lines_are_unioned(ecs: Model, tmp_path: Path) -> None:
    root = _export(tmp_path)
    _write(root / "cn-hangzhou" / "a.json", _images("self", CUSTOM))
    _write(root / "cn-hangzhou" / "b.json", _images("system", PUBLIC, total=2))
    _write(
        root / "cn-hangzhou" / "c.json",
        _images("system", PUBLIC | {"ImageId": "x"}, page=2, total=2),
    )
    base = "aliyun ecs DescribeImages --RegionId cn-hangzhou --ImageOwnerAlias"
    manifest = json.loads((EXAMPLE / "manifest.json").read_text())
    _write(
        root / "manifest.json",
        manifest
        | {
            "cn-hangzhou/a.json": f"{base} self",
            "cn-hangzhou/b.json": f"{base} system",
            "cn-hangzhou/c.json": f"{base} system --PageNumber 2",
        },
    )
    read = importers.read(root, "auto", ecs, importers.Options())
    assert _images_of(read, "cn-hangzhou") == [
        "m-bp1hd5yd3z8vfr0wq1ae",
        "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
        "x",
    ]


def test_an_item_two_queries_give_differently_is_an_error_naming_both_files(
    ecs: Model, tmp_path: Path
) -> None:
    root = _export(tmp_path)
    _write(root / "cn-hangzhou" / "DescribeImages.self.json", _images("self", CUSTOM, PUBLIC))
    _write(
        root / "cn-hangzhou" / "DescribeImages.system.json",
        _images("system", PUBLIC | {"Status": "Deprecated"}),
    )
    with pytest.raises(InputError) as caught:
        importers.read(root, "auto", ecs, importers.Options())
    [problem] = caught.value.problems
    assert problem.file.endswith("cn-hangzhou/DescribeImages.system.json")
    assert "cn-hangzhou/DescribeImages.self.json#/Images/Image/1" in problem.message
    assert "another query of DescribeImages" in problem.message


def test_a_missing_page_of_one_query_is_still_an_error(ecs: Model, tmp_path: Path) -> None:
    root = _export(tmp_path)
    _write(root / "cn-hangzhou" / "DescribeImages.self.json", _images("self", CUSTOM, PUBLIC))
    _write(root / "cn-hangzhou" / "DescribeImages.system.json", _images("system", PUBLIC, total=2))
    with pytest.raises(InputError) as caught:
        importers.read(root, "auto", ecs, importers.Options())
    [problem] = caught.value.problems
    assert problem.file.endswith("DescribeImages.system.json")
    assert "TotalCount is 2" in problem.message


LIST_POLICIES = {
    "RequestId": "req",
    "IsTruncated": False,
    "Policies": {"Policy": [{"PolicyName": "AdministratorAccess", "PolicyType": "System"}]},
}


def _with_unread(tmp_path: Path) -> Path:
    root = tmp_path / "export"
    shutil.copytree(EXAMPLE, root)
    _write(root / "global" / "ListPolicies.json", LIST_POLICIES)
    _write(root / "cn-hangzhou" / "DescribeRegions.json", {"RequestId": "r", "Regions": {}})
    return root


def test_a_response_of_an_api_not_read_is_listed_in_every_format(tmp_path: Path) -> None:
    root = _with_unread(tmp_path)
    expected_code, _, _ = run_cli(["evaluate", str(EXAMPLE), "--format", "json"])
    code, out, _ = run_cli(["evaluate", str(root), "--format", "json"])
    assert code == expected_code  # the run goes on
    doc = json.loads(out)
    assert doc["not_read"] == [
        {"file": f"{root}/cn-hangzhou/DescribeRegions.json", "api": "DescribeRegions"},
        {"file": f"{root}/global/ListPolicies.json", "api": "ListPolicies"},
    ]
    note = (
        f"not read: {root}/global/ListPolicies.json (ListPolicies is not an API policyengine reads)"
    )
    assert {"level": "note", "message": note} in doc["notices"]
    for fmt in ("text", "markdown", "sarif", "github", "junit"):
        _, out, _ = run_cli(["evaluate", str(root), "--format", fmt])
        assert "global/ListPolicies.json (ListPolicies is not an API policyengine reads)" in out, (
            fmt
        )


def test_a_manifest_naming_an_api_not_read_lists_it(ecs: Model, tmp_path: Path) -> None:
    root = _with_unread(tmp_path)
    (root / "global" / "ListPolicies.json").rename(root / "global" / "policies.json")
    manifest = json.loads((EXAMPLE / "manifest.json").read_text())
    manifest["global/policies.json"] = "aliyun ram ListPolicies"
    _write(root / "manifest.json", manifest)
    read = importers.read(root, "auto", ecs, importers.Options())
    assert {
        "file": f"{root}/global/policies.json",
        "api": "ListPolicies",
    } in read.converted.document["not_read"]


@pytest.mark.parametrize("body", [[1, 2], {"just": "a file"}, "text"])
def test_a_file_that_is_no_api_response_stays_an_input_error(
    ecs: Model, tmp_path: Path, body: Any
) -> None:
    root = tmp_path / "export"
    shutil.copytree(EXAMPLE, root)
    _write(root / "global" / "notes.json", body)
    with pytest.raises(InputError) as caught:
        importers.read(root, "auto", ecs, importers.Options())
    assert [p.file for p in caught.value.problems] == [f"{root}/global/notes.json"]


def _collected(tmp_path: Path, **facts: Any) -> Path:
    root = tmp_path / "export"
    shutil.copytree(EXAMPLE, root)
    files = json.loads((EXAMPLE / "manifest.json").read_text())
    _write(root / "manifest.json", {"version": 1, "files": files, **facts})
    return root


def test_the_capture_time_comes_from_the_manifest(ecs: Model, tmp_path: Path) -> None:
    root = _collected(tmp_path, account="1498765432101234", captured_at="2024-06-03T02:00:00Z")
    read = importers.read(root, "auto", ecs, importers.Options())
    assert read.snapshot.envelope.captured_at == "2024-06-03T02:00:00Z"
    assert read.snapshot.envelope.account == "1498765432101234"
    store = importers.to_store(read.snapshot, ecs)
    assert store.now() is not None and store.now().isoformat() == "2024-06-03T02:00:00+00:00"


def test_a_call_that_failed_makes_every_rule_needing_it_an_error(tmp_path: Path) -> None:
    failed = [{"api": "DescribeInvocations", "region": "cn-hangzhou", "code": "Forbidden.RAM"}]
    root = _collected(tmp_path, failed=failed)
    for path in root.glob("cn-hangzhou/DescribeInvocations*.json"):
        path.unlink()
    _, out, _ = run_cli(["evaluate", str(root), "--format", "json"])
    doc = json.loads(out)
    errors = sorted(
        (r["rule"], r["resource"]["id"], r["message"])
        for r in doc["results"]
        if r["outcome"] == "error"
    )
    reason = "not collected: DescribeInvocations in cn-hangzhou: Forbidden.RAM"
    assert errors == [
        ("ecs_locations.command_instance_region", "cn-hangzhou", reason),
        ("ecs_locations.command_region", "cn-hangzhou", reason),
        ("ecs_locations.resource_id_format", "cn-hangzhou", reason),
        ("org_baseline.approved_region", "cn-hangzhou", reason),
    ]
    _, text, _ = run_cli(["evaluate", str(root)])
    assert f"ERROR   region cn-hangzhou: {reason}" in text
