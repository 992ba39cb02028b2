"""`examples/aliyun-export/` is what `policyengine collect` writes of the example account
(`scripts/make_example_export.py`, against the local stand-in of the endpoints; the collect
tests make it again and compare), and `evaluate` reports of it exactly the example
account's findings, the denied API's rules as `error` naming it, and nothing else. Its
`global/` also holds a response of an API the engine does not read (RAM's ListPolicies,
added as a person adds an `aliyun` command's output): listed as "not read" in every
report, never an error."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, assert_the_example_accounts_findings, run_cli

pytest.importorskip("alibabacloud_tea_openapi")
pytest.importorskip("alibabacloud_ram20150501")

EXAMPLE = ROOT / "examples" / "aliyun-export"
UNREAD = "global/ListPolicies.json"
NOTE = f"not read: examples/aliyun-export/{UNREAD} (ListPolicies is not an API policyengine reads)"


def test_the_example_export_holds_exports_as_people_make_them() -> None:
    files = {p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE.rglob("*.json")}
    for name in (
        "cn-hangzhou/DescribeImages.self.json",  # two image queries
        "cn-hangzhou/DescribeImages.system.json",
        "cn-hangzhou/DescribeInstanceRamRole.EcsLogShipperRole.json",  # per role
        "cn-hangzhou/DescribeSecurityGroupAttribute.sg-bp13lqntew0x2siuzfug.json",  # per group
        "cn-hangzhou/DescribeDisks.page2.json",  # PageNumber pages
        "cn-hangzhou/DescribeInstances.page2.json",  # NextToken pages
        "global/ListRoles.json",  # calls made without a region
        "global/ListPolicies.json",  # an API the engine does not read
    ):
        assert name in files, name
    manifest = json.loads((EXAMPLE / "manifest.json").read_text())
    assert "--NextToken" in manifest["files"]["cn-hangzhou/DescribeInstances.page2.json"]
    assert manifest["files"]["global/ListPolicies.json"] == (
        "aliyun ram ListPolicies --PolicyType Custom --MaxItems 1000"
    )
    assert [(f["api"], f["region"], f["code"]) for f in manifest["failed"]] == [
        ("DescribeInvocations", "cn-hangzhou", "Forbidden.RAM")
    ]
    assert not any(f.startswith("cn-hangzhou/DescribeInvocations") for f in files)


def test_the_example_export_reports_the_example_accounts_findings_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    code, text, err = run_cli(["evaluate", "examples/aliyun-export", "--format", "json"])
    assert code == 1, err
    doc = json.loads(text)
    assert_the_example_accounts_findings(doc)
    assert {r["outcome"] for r in doc["results"]} == {"fail", "error"}
    # global/ holds RAM's ListRoles and GetRole, which the engine reads (a role's trust),
    # and ListPolicies, which it lists and does not read.
    assert doc["not_read"] == [{"file": f"examples/aliyun-export/{UNREAD}", "api": "ListPolicies"}]
    assert {"level": "note", "message": NOTE} in doc["notices"]


# Every format that lists what is wrong with the run: GitLab's code quality report lists
# errors and warnings only, and a note is neither.
NOTICE_FORMATS = ["text", "markdown", "sarif", "github", "junit", "html"]


@pytest.mark.parametrize("fmt", NOTICE_FORMATS)
def test_the_unread_response_is_listed_in_every_format_and_stops_nothing(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(["evaluate", "examples/aliyun-export", "--format", fmt])
    assert code == 1, err  # the example account's findings, as without the file
    assert NOTE in out, fmt


def test_the_readme_shows_the_manifests_command_lines() -> None:
    readme = (EXAMPLE / "README.md").read_text()
    manifest = json.loads((EXAMPLE / "manifest.json").read_text())
    shown = re.findall(r"^    (aliyun .+?) > (\S+)$", readme, re.M)
    assert shown
    for command, file in shown:
        assert manifest["files"][file] == command
    assert "    policyengine collect --out export/\n" in readme
    assert NOTE in readme  # what every report says of the response not read
