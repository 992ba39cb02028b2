"""`--format gitlab`: the Code Quality report GitLab reads from `artifacts:reports:
codequality`, checked against the fields GitLab's documentation lists (GitLab publishes
no schema of its own; tests/data/gitlab-code-quality.schema.json writes those fields
down) and against the example account's findings."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import DATA, ROOT, run_cli

SCHEMA = json.loads((DATA / "gitlab-code-quality.schema.json").read_text(encoding="utf-8"))
EXAMPLE = "examples/ecs-account/snapshot.json"


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _run(*args: str) -> tuple[int, list[dict[str, object]]]:
    code, out, err = run_cli(["evaluate", *args, "--format", "gitlab"])
    assert out, err
    issues: list[dict[str, object]] = json.loads(out)
    return code, issues


def test_the_example_is_a_valid_code_quality_report(at_root: None) -> None:
    code, issues = _run(EXAMPLE)
    assert code == 1
    jsonschema.validate(issues, SCHEMA)
    _, out, _ = run_cli(["evaluate", EXAMPLE, "--format", "json"])
    report = json.loads(out)
    assert len(issues) == report["summary"]["outcomes"]["fail"]
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)  # GitLab keys issues on them
    assert set(fingerprints) == {r["fingerprint"] for r in report["results"]}


def test_each_issue_is_where_sarif_puts_the_finding(at_root: None) -> None:
    """The resource's line in the snapshot, as code scanning shows it."""
    _, issues = _run(EXAMPLE)
    _, out, _ = run_cli(["evaluate", EXAMPLE, "--format", "sarif"])
    places = {
        r["partialFingerprints"]["policyengine/v1"]: r["locations"][0]["physicalLocation"]
        for r in json.loads(out)["runs"][0]["results"]
    }
    for issue in issues:
        place = places[issue["fingerprint"]]
        location = issue["location"]
        assert isinstance(location, dict)
        assert location["path"] == place["artifactLocation"]["uri"] == EXAMPLE
        assert location["lines"] == {"begin": place["region"]["startLine"]}


def test_severities_follow_the_rules(workspace_policy: Path) -> None:
    _, issues = _run("account.json", "-p", "rules.policy")
    by_rule = {str(i["check_name"]): i["severity"] for i in issues}
    assert by_rule == {"demo.encrypted": "major", "demo.named": "info"}


@pytest.fixture
def workspace_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules.policy").write_text(
        """\
use alicloud.ecs

policy demo "Demo" {
  rule encrypted "Disks are encrypted" {
    severity medium
    for each disk require encrypted == true
  }
  rule named "Instances are named" {
    severity critical
    enforcement advisory
    for each instance require instance_name is set
  }
}
""",
        encoding="utf-8",
    )
    account = {
        "resources": [
            {
                "kind": "instance",
                "id": "i-" + "1" * 20,
                "region": "cn-hangzhou",
                "zone": "cn-hangzhou-h",
            },
            {
                "kind": "disk",
                "id": "d-" + "1" * 20,
                "region": "cn-hangzhou",
                "zone": "cn-hangzhou-h",
                "encrypted": False,
            },
        ]
    }
    (tmp_path / "account.json").write_text(json.dumps(account, indent=2), encoding="utf-8")
    return tmp_path


def test_invalid_input_is_one_blocker_issue(workspace_policy: Path) -> None:
    (workspace_policy / "broken.json").write_text('{"resources": [\n', encoding="utf-8")
    code, issues = _run("broken.json", "-p", "rules.policy")
    assert code == 3
    jsonschema.validate(issues, SCHEMA)
    (issue,) = issues
    assert issue["severity"] == "blocker"
    assert "nothing was evaluated" in str(issue["description"])


def test_a_clean_run_is_an_empty_list(workspace_policy: Path) -> None:
    (workspace_policy / "clean.json").write_text(
        json.dumps(
            {
                "resources": [
                    {
                        "kind": "disk",
                        "id": "d-" + "2" * 20,
                        "region": "cn-hangzhou",
                        "zone": "cn-hangzhou-h",
                        "encrypted": True,
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    code, issues = _run("clean.json", "-p", "rules.policy")
    assert code == 0 and issues == []
