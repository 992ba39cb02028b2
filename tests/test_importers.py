"""Real inputs: aliyun CLI output and Terraform plans and state become the normalized
snapshot, give the same findings as it, and bad ones stop the run with the file and the
JSON path of the problem (exit 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli, transcript
from syrupy.assertion import SnapshotAssertion

from policyengine.core.model import Model
from policyengine.frontend.loader import bundled_policies, load
from policyengine.inputs import importers
from policyengine.inputs.importers.aliyun import parse_command, snake

FIXTURES = ROOT / "tests" / "fixtures"
SAME = FIXTURES / "same-account"
BAD = FIXTURES / "bad-inputs"


@pytest.fixture(scope="module")
def ecs() -> Model:
    return load(bundled_policies()).plan.model


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _results(*args: str) -> tuple[int, list[tuple[Any, ...]]]:
    code, out, err = run_cli(["evaluate", *args, "--all", "--format", "json"])
    assert out, err
    doc = json.loads(out)
    rows = [
        (
            r["rule"],
            r["resource"]["kind"],
            r["resource"]["id"],
            (r["related"] or {}).get("id"),
            r["outcome"],
            r["message"],
        )
        for r in doc["results"]
    ]
    return code, sorted(rows)


def _convert(path: Path, m: Model, fmt: str = "auto", region: str | None = None) -> Any:
    read = importers.read(path, fmt, m, importers.Options(region))
    importers.to_store(read.snapshot, m)  # the model accepts it
    return read


def _by_key(document: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    out: dict[tuple[str, str | None], dict[str, Any]] = {}
    for r in document["resources"]:
        key = r.get("id") or r.get("name") or r.get("instance_id")
        out[(r["kind"], f"{key}@{r.get('region')}")] = r
    return out


# ---------------------------------------------------------------- one account, three inputs


def test_the_same_account_gives_the_same_findings_in_every_input() -> None:
    normalized = _results(str(SAME / "snapshot.json"))
    aliyun = _results(str(SAME / "aliyun"))
    plan = _results(str(SAME / "plan.json"))
    assert normalized[0] == 1
    assert {o for *_, o, _ in normalized[1]} >= {"pass", "fail", "skipped"}
    assert aliyun == normalized
    assert plan == normalized


# ---------------------------------------------------------------- aliyun


def test_snake_case_keeps_acronyms_one_word() -> None:
    assert snake("InstanceChargeType") == "instance_charge_type"
    assert snake("OSName") == "os_name"
    assert snake("IOPSRead") == "iops_read"
    assert snake("KeyPairFingerPrint") == "key_pair_finger_print"


def test_a_command_line_names_its_api_after_the_product() -> None:
    assert parse_command("aliyun ecs DescribeDisks --RegionId cn-hangzhou --PageNumber 2") == (
        "DescribeDisks",
        {"RegionId": "cn-hangzhou", "PageNumber": "2"},
    )
    assert parse_command("aliyun vpc DescribeVSwitches --RegionId cn-shanghai") == (
        "DescribeVSwitches",
        {"RegionId": "cn-shanghai"},
    )


ALIYUN_PLANTED = [
    ("ecs_locations.disk_zone", "d-bp1gdl8c7qkt3oo9f0w4", "i-bp1d6tsvkinvbbn5b8pf"),
    # the multi-attach disk: its second instance, in another zone
    ("ecs_locations.disk_zone", "d-bp1h3zj0r6w1wgplqnpa", "i-bp1e5sa1fwwz8edxlx2c"),
    ("ecs_locations.image_region", "i-uf64x0tb1ilvt8mz6sjb", "m-bp1hd5yd3z8vfr0wq1ae"),
    ("ecs_locations.key_pair_region", "i-t4n2k9bq4tvcj1uqhh3r", "deploy"),
    (
        "ecs_locations.security_group_rule_region",
        "sg-bp1a8r0h3mc6j7ypv0oq",
        "sg-uf6cd5kz8mzwq9wb3r2g",
    ),
    ("org_baseline.approved_region", "i-t4n2k9bq4tvcj1uqhh3r", None),
    ("org_baseline.approved_region", "ubuntu_22_04_x64_20G_alibase_20240101.vhd", None),
    # the VPC and vSwitch of that instance, in the same unapproved region
    ("org_baseline.approved_region", "vpc-t4n1ueb2e2l4qdp7wvnj9", None),
    ("org_baseline.approved_region", "vsw-t4n1446qbjoyrx2f23gz2", None),
    # "Encrypted": "false", converted because the model declares a bool
    ("org_baseline.encrypted_disks", "d-bp1gdl8c7qkt3oo9f0w4", None),
    # advisory: the zonal reservation's ecs.g7.large instance runs in cn-hangzhou-i
    ("cost.zonal_ri_in_its_zone", "ecsri-bp1dp5mrl3ja8ozb97vd", None),
]


# An export made by hand with the aliyun CLI, one file per call, with violations of its own.
HAND_MADE = "tests/fixtures/aliyun-cli-export"


def test_aliyun_export_reports_exactly_its_planted_violations(at_root: None) -> None:
    code, rows = _results(HAND_MADE)
    assert code == 1
    findings = sorted((r, res, rel) for r, _, res, rel, o, _ in rows if o in ("fail", "error"))
    assert findings == sorted(ALIYUN_PLANTED)
    outcome = {(r, res, rel): o for r, _, res, rel, o, _ in rows}
    # Near misses: a public image used in another region (exempt), a key pair imported into
    # both regions, a regional reserved instance (not zonal, so no zone needed).
    assert outcome[("ecs_locations.image_region", "i-uf6b3hmq8zt8d1x5tgmw", UBUNTU)] == "skipped"
    assert outcome[("ecs_locations.key_pair_region", "i-uf64x0tb1ilvt8mz6sjb", "deploy")] == "pass"
    zonal = ("ecs_locations.zonal_reserved_instance", "ecsri-bp1dp5mrl3ja8ozb97vd", None)
    regional = ("ecs_locations.zonal_reserved_instance", "ecsri-bp1c4kmq7pz3ajdpfc1r", None)
    assert (outcome[zonal], outcome[regional]) == ("pass", "skipped")


UBUNTU = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"


def test_aliyun_export_is_converted_field_by_field(ecs: Model) -> None:
    read = _convert(ROOT / HAND_MADE, ecs)
    by = _by_key(read.converted.document)
    # Region from the folder for APIs that do not say it; never cut from a zone id.
    assert by[("key_pair", "deploy@cn-hangzhou")]["key_pair_finger_print"].startswith("89:f0")
    assert ("key_pair", "deploy@cn-shanghai") in by
    edge = by[("instance", "i-t4n2k9bq4tvcj1uqhh3r@ap-southeast-1")]
    assert edge["zone"] == "ap-southeast-1a"
    # Response-level RegionId: images and security groups.
    assert by[("image", f"{UBUNTU}@cn-shanghai")]["visibility"] == "public"
    assert by[("image", "m-bp1hd5yd3z8vfr0wq1ae@cn-hangzhou")]["visibility"] == "custom"
    web = by[("security_group", "sg-bp1a8r0h3mc6j7ypv0oq@cn-hangzhou")]
    assert [r["priority"] for r in web["rules"]] == [1, 2, 3]  # "Priority": "1"
    assert web["rules"][2]["source_cidr_ip"] is None  # "" for an optional CIDR: none
    assert web["rules"][2]["source_group_id"] == "sg-uf6cd5kz8mzwq9wb3r2g"
    # Multi-attach: InstanceId "" and the instances in Attachments.
    shared = by[("disk", "d-bp1h3zj0r6w1wgplqnpa@cn-hangzhou")]
    assert shared["instance_id"] == ""
    assert [a["instance_id"] for a in shared["attachments"]] == [
        "i-bp1d6tsvkinvbbn5b8pf",
        "i-bp1e5sa1fwwz8edxlx2c",
    ]
    # Absent stays absent, empty stays empty.
    web2 = by[("instance", "i-bp1e5sa1fwwz8edxlx2c@cn-hangzhou")]
    assert "key_pair_name" not in web2
    assert web2["deployment_set_id"] == ""
    # Tags from ListTagResources (two NextToken pages) join the instance's own.
    assert web2["tags"] == {"owner": "platform", "cost-center": "cc-100"}
    template = by[("launch_template_version", "None@cn-hangzhou")]
    assert template["launch_template_data"]["tags"] == {"owner": "platform"}  # {Key, Value}
    # Wrapped lists unwrapped under the model's names; strings converted where typed.
    web1 = by[("instance", "i-bp1d6tsvkinvbbn5b8pf@cn-hangzhou")]
    assert web1["security_group_ids"] == ["sg-bp1a8r0h3mc6j7ypv0oq"]
    assert web1["vpc_attributes"]["vswitch_id"].startswith("vsw-")
    assert web1["vpc_attributes"]["private_ip_addresses"] == ["172.16.1.10"]
    assert web1["source"]["file"].endswith("cn-hangzhou/DescribeInstances.json")
    assert web1["source"]["pointer"] == "/Instances/Instance/0"
    zonal = by[("reserved_instance", "ecsri-bp1dp5mrl3ja8ozb97vd@cn-hangzhou")]
    assert zonal["instance_amount"] == 1
    regional = by[("reserved_instance", "ecsri-bp1c4kmq7pz3ajdpfc1r@cn-hangzhou")]
    assert "zone" not in regional
    apg = by[("auto_provisioning_group", "apg-bp1ckvnkx0n8d8ro6a0q@cn-hangzhou")]
    assert apg["instance_ids"] == ["i-bp1e5sa1fwwz8edxlx2c"]  # via the manifest's command
    assert read.converted.document["locations"]["ap-southeast-1"] == ["ap-southeast-1a"]
    kinds = {r["kind"] for r in read.converted.document["resources"]}
    # Every kind the ECS model declares or uses (vpc and vswitch: the VPC model's), from
    # the export; automatic snapshot policies and KMS keys where a disk names them (this
    # export's disks name none: tests/fixtures/aliyun-governance has them).
    assert kinds <= set(ecs.kinds)
    assert set(ecs.kinds) - kinds <= {"auto_snapshot_policy", "kms_key"}
    assert {k.span.file.rsplit("/", 1)[-1] for k in ecs.kinds.values()} == {
        "ecs.model",
        "vpc.model",
    }
    vswitch = by[("vswitch", "vsw-bp1i2m7c0q5n8d4r6t1ya@cn-hangzhou")]
    assert (vswitch["zone"], vswitch["vpc_id"]) == ("cn-hangzhou-i", "vpc-bp11ueb2e2l4qdp7wvnj9")
    assert vswitch["vswitch_name"] == "prod-i"  # VSwitchName: a vSwitch is one word
    vpc = by[("vpc", "vpc-bp11ueb2e2l4qdp7wvnj9@cn-hangzhou")]
    assert vpc["vswitch_ids"] == ["vsw-bp11446qbjoyrx2f23gz2", "vsw-bp1i2m7c0q5n8d4r6t1ya"]
    assert (vpc["cidr_block"], vpc["tags"]) == ("172.16.0.0/12", {"owner": "platform"})


def test_a_single_response_takes_its_region_from_the_option(ecs: Model, tmp_path: Path) -> None:
    path = BAD / "aliyun-no-region" / "DescribeKeyPairs.json"
    read = _convert(path, ecs, region="cn-beijing")
    assert read.converted.document["resources"][0]["region"] == "cn-beijing"


def test_a_bundle_of_responses_is_one_input(ecs: Model, tmp_path: Path) -> None:
    folder = SAME / "aliyun" / "cn-hangzhou"
    bundle = [
        {
            "command": f"aliyun ecs {p.stem} --RegionId cn-hangzhou",
            "response": json.loads(p.read_text()),
        }
        for p in sorted(folder.glob("*.json"))
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(bundle))
    code, rows = _results(str(path))
    assert (code, rows) == _results(str(SAME / "snapshot.json"))


# ---------------------------------------------------------------- bad input

BAD_CASES = {
    "truncated JSON": ("aliyun-truncated", "DescribeDisks.json: not valid JSON at line 12"),
    "a file that is no input": ("wrong-file.json", "wrong-file.json: not an input"),
    "a response from another API": (
        "aliyun-other-api",
        "DescribeDisks.json:/Instances: expected `Disks`",
    ),
    "an error response": ("aliyun-error-response", "DescribeInstances.json:/Code: an error"),
    "duplicate ids across pages": (
        "aliyun-duplicate-across-pages",
        "DescribeDisks.page2.json:/Disks/Disk/0: duplicate disk",
    ),
    "a missing page": ("aliyun-missing-page", "DescribeDisks.json:/TotalCount: TotalCount is 3"),
    "a missing NextToken page": (
        "aliyun-missing-next-token",
        "ListTagResources.json:/NextToken: NextToken is",
    ),
    "a string that does not convert": (
        "aliyun-string-does-not-convert",
        "/Permissions/Permission/0/Priority: expected an integer",
    ),
    "a region nobody says": ("aliyun-no-region", "DescribeKeyPairs does not say its region"),
    "a file in the folder of another region": (
        "aliyun-wrong-folder",
        "/Disks/Disk/0/RegionId: RegionId is",
    ),
    "a plan from another provider": (
        "terraform-other-provider.json",
        "terraform-other-provider.json:/resource_changes/0/provider_name: a plan for another",
    ),
    "a truncated plan": ("terraform-truncated.json", "terraform-truncated.json: not valid JSON"),
}


@pytest.mark.parametrize("case", BAD_CASES, ids=lambda c: c.replace(" ", "_"))
def test_bad_input_names_the_file_and_the_place(
    case: str, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    monkeypatch.chdir(BAD)
    name, expected = BAD_CASES[case]
    code, out, err = run_cli(["evaluate", name])
    assert code == 3
    assert out == ""
    assert expected in err
    assert transcript(["evaluate", name]) == text_snapshot


def test_bad_input_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    code, out, _ = run_cli(["evaluate", "aliyun-missing-page", "--format", "json"])
    assert code == 3
    problem = json.loads(out)["problems"][0]
    assert problem["file"] == "aliyun-missing-page/cn-hangzhou/DescribeDisks.json"
    assert problem["pointer"] == "/TotalCount"


def test_verbose_says_what_was_detected(
    monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    monkeypatch.chdir(SAME)
    lines = []
    for arg in ("snapshot.json", "aliyun", "plan.json"):
        _, _, err = run_cli(["evaluate", arg, "--verbose"])
        lines.append(err)
    assert "".join(lines) == text_snapshot


def test_a_forced_format_that_does_not_fit_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(SAME)
    code, _, err = run_cli(["evaluate", "plan.json", "--input-format", "aliyun"])
    assert code == 3 and "plan.json: not a response of an ECS, VPC, RAM or KMS API" in err
    code, _, err = run_cli(["evaluate", "aliyun", "--input-format", "terraform-plan"])
    assert code == 3 and "a folder cannot be read as a Terraform plan" in err


# ---------------------------------------------------------------- Terraform


def test_plan_links_attachments_through_configuration_references(at_root: None) -> None:
    code, rows = _results("examples/terraform/plan.json")
    assert code == 1
    disk_zone = [(res, rel, o) for r, _, res, rel, o, _ in rows if r == "ecs_locations.disk_zone"]
    # Ids unknown until apply, linked by `alicloud_ecs_disk.data[count.index]` and
    # `alicloud_instance.app[count.index]` (the `.tf` files beside the plan show the index
    # is exactly `count.index`): each disk to its own instance. Each instance's system disk
    # is in its zone.
    assert sorted(disk_zone) == [
        ("alicloud_instance.web.system_disk", "i-bp1d6tsvkinvbbn5b8pf", "pass"),
        (
            "module.app.alicloud_ecs_disk.data[0]",
            "module.app.alicloud_instance.app[0]",
            "pass",
        ),
        (
            "module.app.alicloud_ecs_disk.data[1]",
            "module.app.alicloud_instance.app[1]",
            "fail",
        ),
        # The disk of `var.scratch_disk_id` cannot be told: error, never pass.
        (
            "module.app.alicloud_ecs_disk_attachment.scratch",
            "module.app.alicloud_instance.app[0]",
            "error",
        ),
        (
            "module.app.alicloud_instance.app[0].system_disk",
            "module.app.alicloud_instance.app[0]",
            "pass",
        ),
        (
            "module.app.alicloud_instance.app[1].system_disk",
            "module.app.alicloud_instance.app[1]",
            "pass",
        ),
    ]
    error = next(
        m for r, _, res, _, o, m in rows if r == "ecs_locations.disk_zone" and o == "error"
    )
    assert "module.app.alicloud_ecs_disk_attachment.scratch.disk_id" in error


def test_plan_findings(at_root: None) -> None:
    code, rows = _results("examples/terraform/plan.json")
    findings = sorted((r, res, o) for r, _, res, _, o, _ in rows if o in ("fail", "error"))
    assert findings == [
        ("ecs_locations.disk_zone", "module.app.alicloud_ecs_disk.data[1]", "fail"),
        ("ecs_locations.disk_zone", "module.app.alicloud_ecs_disk_attachment.scratch", "error"),
        ("ecs_locations.image_region", "module.app.alicloud_instance.app[0]", "error"),
        ("ecs_locations.image_region", "module.app.alicloud_instance.app[1]", "error"),
        (
            "ecs_locations.instance_security_group_region",
            "module.app.alicloud_instance.app[0]",
            "error",
        ),
        (
            "ecs_locations.instance_security_group_region",
            "module.app.alicloud_instance.app[1]",
            "error",
        ),
        (
            "org_baseline.data_disks_kept",
            "module.app.alicloud_ecs_disk_attachment.scratch",
            "error",
        ),
        # System disks: the provider encrypts none unless `system_disk_encrypted` says so.
        ("org_baseline.encrypted_disks", "alicloud_instance.web.system_disk", "fail"),
        (
            "org_baseline.encrypted_disks",
            "module.app.alicloud_ecs_disk_attachment.scratch",
            "error",
        ),
        ("org_baseline.encrypted_disks", "module.app.alicloud_instance.app[0].system_disk", "fail"),
        ("org_baseline.encrypted_disks", "module.app.alicloud_instance.app[1].system_disk", "fail"),
        ("org_baseline.instances_in_vpc", "module.app.alicloud_instance.app[0]", "error"),
        ("org_baseline.instances_in_vpc", "module.app.alicloud_instance.app[1]", "error"),
        ("org_baseline.no_public_ssh", "sg-bp1a8r0h3mc6j7ypv0oq", "fail"),
        ("security_groups.allowed_ports_only", "sg-bp1a8r0h3mc6j7ypv0oq", "fail"),
        ("security_groups.no_risky_ports", "sg-bp1a8r0h3mc6j7ypv0oq", "fail"),
    ]
    outcome = {(r, res): o for r, _, res, _, o, _ in rows}
    # The aliased provider puts module.app in cn-shanghai, the image copy too.
    assert outcome[("org_baseline.approved_region", "alicloud_image_copy.app")] == "pass"
    # An id assigned on apply has no format to check yet.
    key = ("ecs_locations.resource_id_format", "module.app.alicloud_instance.app[0]")
    assert outcome[key] == "skipped"


def test_plan_regions_come_from_the_provider_configuration(ecs: Model) -> None:
    read = _convert(ROOT / "examples" / "terraform" / "plan.json", ecs)
    region = {r["source"]["address"]: r.get("region") for r in read.converted.document["resources"]}
    assert region["alicloud_instance.web"] == "cn-hangzhou"
    assert region["alicloud_image_copy.app"] == "cn-shanghai"  # alias `sh`, region = var
    assert region["module.app.alicloud_instance.app[1]"] == "cn-shanghai"


def test_state_names_the_address_beside_the_id(
    at_root: None, text_snapshot: SnapshotAssertion
) -> None:
    args = ["evaluate", "examples/terraform/state.json", "--region", "cn-hangzhou"]
    assert transcript(args) == text_snapshot
    code, out, _ = run_cli([*args, "--format", "json"])
    result = json.loads(out)["results"][0]
    assert result["resource"]["address"] == "module.data.alicloud_ecs_disk.data[0]"


def test_a_state_without_region_is_undecided_not_passed(at_root: None) -> None:
    code, rows = _results("examples/terraform/state.json")
    outcome = {(r, res): o for r, _, res, _, o, _ in rows}
    assert outcome[("org_baseline.approved_region", "i-bp1d6tsvkinvbbn5b8pf")] == "error"


def test_explain_an_unknown_names_the_terraform_address(
    at_root: None, text_snapshot: SnapshotAssertion
) -> None:
    args = [
        "explain",
        "examples/terraform/plan.json",
        "--rule",
        "ecs_locations.disk_zone",
    ]
    assert transcript(args) == text_snapshot


# ---------------------------------------------------------------- policyengine snapshot


@pytest.mark.parametrize(
    "source", ["examples/aliyun-export", HAND_MADE, "examples/terraform/plan.json"]
)
def test_a_converted_snapshot_gives_the_same_findings_as_its_input(
    source: str, at_root: None, tmp_path: Path
) -> None:
    out = tmp_path / "snapshot.json"
    code, _, err = run_cli(["snapshot", "convert", source, "--output", str(out)])
    assert code == 0, err
    assert json.loads(out.read_text())["resources"]
    assert _results(str(out)) == _results(source)


def test_snapshot_stats(at_root: None, text_snapshot: SnapshotAssertion) -> None:
    assert transcript(["snapshot", "stats", "examples/terraform/plan.json"]) == text_snapshot
    code, out, _ = run_cli(["snapshot", "stats", HAND_MADE, "--format", "json"])
    doc = json.loads(out)
    assert doc["resources"] == 44
    assert doc["by_kind_region"]["key_pair"] == {"cn-hangzhou": 1, "cn-shanghai": 1}
    assert doc["by_kind_region"]["vswitch"] == {
        "ap-southeast-1": 1,
        "cn-hangzhou": 2,
        "cn-shanghai": 2,
    }
    assert doc["unknowns"] == []
    # DescribeVSwitches names every vSwitch the instances are in: nothing dangles.
    assert doc["dangling"] == []


def test_snapshot_schema_is_the_schema_command() -> None:
    assert run_cli(["snapshot", "schema"]) == run_cli(["schema"])


def test_the_readme_shows_each_input_in_one_line_and_each_runs(at_root: None) -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Inputs", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("  #")[0].split() for line in block.splitlines() if line.strip()]
    ran = []
    for words in lines:
        assert words[:2] == ["policyengine", "evaluate"]
        if not (ROOT / words[2]).exists():
            continue  # new.json / old.json: the user's own files
        code, out, err = run_cli(words[1:])
        assert code == 1 and out, err  # every example has findings
        ran.append(words[2])
    assert ran == [
        "examples/ecs-account/snapshot.json",
        "examples/aliyun-export",
        "examples/terraform/plan.json",
        "examples/terraform/state.json",
        "examples/aliyun-export",
    ]
