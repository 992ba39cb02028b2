"""What real data means: an instance's tags are its own; public images and Cloud
Assistant commands exist in every region; a snapshot copied from another region is a
copy, not a backup taken across regions."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

from conftest import ROOT, run_cli

ACCOUNT = ROOT / "examples" / "ecs-account" / "snapshot.json"
EXPORT = ROOT / "tests" / "fixtures" / "aliyun-cli-export"


def _outcomes(path: Path) -> dict[tuple[str, str, str | None], tuple[str, str]]:
    code, out, err = run_cli(["evaluate", str(path), "--all", "--format", "json"])
    assert out, err
    return {
        (r["rule"], r["resource"]["id"], (r["related"] or {}).get("id")): (
            r["outcome"],
            r["message"],
        )
        for r in json.loads(out)["results"]
    }


def _account(tmp_path: Path, *extra: dict[str, Any]) -> Path:
    data = json.loads(ACCOUNT.read_text())
    data["resources"].extend(copy.deepcopy(list(extra)))
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data))
    return path


def test_a_tag_listed_in_another_region_is_not_the_instances_own(tmp_path: Path) -> None:
    root = tmp_path / "export"
    shutil.copytree(EXPORT, root)
    instances = root / "cn-shanghai" / "DescribeInstances.json"
    data = json.loads(instances.read_text())
    first = data["Instances"]["Instance"][0]
    first["Tags"]["Tag"] = [t for t in first["Tags"]["Tag"] if t["TagKey"] != "cost-center"]
    instances.write_text(json.dumps(data))
    # ListTagResources in cn-hangzhou lists a cost-center tag on the cn-shanghai instance.
    tags = root / "cn-hangzhou" / "ListTagResources.page2.json"
    page = json.loads(tags.read_text())
    page["TagResources"]["TagResource"].append(
        {
            "ResourceType": "instance",
            "ResourceId": first["InstanceId"],
            "TagKey": "cost-center",
            "TagValue": "cc-100",
        }
    )
    tags.write_text(json.dumps(page))
    outcomes = _outcomes(root)
    status, message = outcomes[("org_baseline.required_tags", first["InstanceId"], None)]
    assert (status, message) == ("fail", f"instance {first['InstanceId']} lacks tag cost-center")
    binding = f"cost-center@{first['InstanceId']}"
    assert outcomes[("ecs_locations.tag_region", binding, first["InstanceId"])][0] == "fail"


PUBLIC_COMMAND = "ACS-ECS-InstallPackage-linux.sh"


def test_a_public_command_an_export_does_not_list_exists_in_every_region(
    tmp_path: Path,
) -> None:
    invocation = {
        "kind": "invocation",
        "id": "t-uf6x0q4ng2xhr3mc",
        "region": "cn-shanghai",
        "command_id": PUBLIC_COMMAND,
        "invoke_instances": [{"instance_id": "i-uf6mr2zctgvgo4luov7b"}],
    }
    outcomes = _outcomes(_account(tmp_path, invocation))
    status, _ = outcomes[("ecs_locations.command_region", "t-uf6x0q4ng2xhr3mc", PUBLIC_COMMAND)]
    assert status == "pass"


def test_a_public_command_listed_in_one_region_exists_in_the_others(tmp_path: Path) -> None:
    listed = {
        "kind": "command",
        "id": PUBLIC_COMMAND,
        "region": "cn-hangzhou",
        "name": PUBLIC_COMMAND,
        "provider": "AlibabaCloud",
        "visibility": "public",
    }
    invocation = {
        "kind": "invocation",
        "id": "t-uf6x0q4ng2xhr3mc",
        "region": "cn-shanghai",
        "command_id": PUBLIC_COMMAND,
        "invoke_instances": [{"instance_id": "i-uf6mr2zctgvgo4luov7b"}],
    }
    outcomes = _outcomes(_account(tmp_path, listed, invocation))
    assert outcomes[("ecs_locations.command_region", "t-uf6x0q4ng2xhr3mc", PUBLIC_COMMAND)][0] == (
        "pass"
    )
    # Its id is a name: no id format to match.
    assert outcomes[("ecs_locations.resource_id_format", PUBLIC_COMMAND, None)][0] == "skipped"


def test_a_public_image_named_by_its_name_exists_in_every_region(tmp_path: Path) -> None:
    data = json.loads(ACCOUNT.read_text())
    instance = next(r for r in data["resources"] if r.get("id") == "i-uf6mq8o7nn8oo9urnh9q")
    name = "aliyun_3_x64_20G_alibase_20240528.vhd"  # listed by no DescribeImages
    instance["image_id"] = name
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data))
    outcomes = _outcomes(path)
    key = ("ecs_locations.image_region", "i-uf6mq8o7nn8oo9urnh9q", name)
    assert outcomes[key][0] == "skipped"  # exempt: public, and never an error


def test_a_custom_image_another_region_lacks_is_still_an_error(tmp_path: Path) -> None:
    data = json.loads(ACCOUNT.read_text())
    instance = next(r for r in data["resources"] if r.get("id") == "i-uf6mq8o7nn8oo9urnh9q")
    instance["image_id"] = "m-uf6aaaaaaaaaaaaaaaaa"
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data))
    key = ("ecs_locations.image_region", "i-uf6mq8o7nn8oo9urnh9q", "m-uf6aaaaaaaaaaaaaaaaa")
    assert _outcomes(path)[key][0] == "error"


def test_a_snapshot_copied_from_another_region_is_judged_as_a_copy(tmp_path: Path) -> None:
    data = json.loads(ACCOUNT.read_text())
    taken = next(r for r in data["resources"] if r.get("id") == "s-uf6zwpy17gfn7tkavd8x")
    disk = taken["source_disk_id"]
    copied = dict(taken, id="s-uf6copyofbackup00001")
    copied["source_snapshot_id"] = "s-bp1bu5opfsyh6p58ub1e"
    copied["source_region_id"] = "cn-hangzhou"
    data["resources"].append(copied)
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data))
    outcomes = _outcomes(path)
    assert outcomes[("ecs_locations.snapshot_region", "s-uf6copyofbackup00001", disk)][0] == (
        "skipped"
    )
    # The snapshot taken in another region from the disk is still a violation.
    assert outcomes[("ecs_locations.snapshot_region", "s-uf6zwpy17gfn7tkavd8x", disk)][0] == "fail"
