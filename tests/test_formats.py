"""The outputs of `evaluate` that CI systems read: SARIF, JUnit, GitHub annotations,
Markdown; `--output`; the run's counts in every format; exit codes in every format."""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import DATA, ROOT, run_cli, transcript
from syrupy.assertion import SnapshotAssertion

import policyengine.cli
import policyengine.outputs.github
import policyengine.results.report
from policyengine.core.positions import Positions
from policyengine.core.source import Source
from policyengine.outputs import Format

EXAMPLE = "examples/ecs-account/snapshot.json"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
FORMATS = [f.value for f in Format]

POLICY = """\
use alicloud.ecs

policy demo "Demo checks" {
  severity medium

  rule encrypted "Disks are encrypted" {
    for each disk require encrypted == true
    remediation "Snapshot the disk and create an encrypted disk from the snapshot."
  }

  rule disk_zone "A disk is attached only to instances in its zone" {
    severity high
    disk attach requires same zone
  }

  rule named "Instances are named" {
    enforcement advisory
    for each instance require instance_name is set
  }
}
"""

I1, I2 = "i-" + "1" * 20, "i-" + "2" * 20
D1, D2 = "d-" + "1" * 20, "d-" + "2" * 20


def _account(*resources: dict[str, Any]) -> str:
    return json.dumps({"resources": list(resources)}, indent=2) + "\n"


def _disk(id_: str, zone: str, instance: str, encrypted: bool) -> dict[str, Any]:
    return {
        "kind": "disk",
        "id": id_,
        "region": "cn-hangzhou",
        "zone": zone,
        "instance_id": instance,
        "attachments": [{"instance_id": instance, "device": "/dev/xvdb"}],
        "encrypted": encrypted,
    }


def _instance(id_: str, name: str | None = "web") -> dict[str, Any]:
    data = {"kind": "instance", "id": id_, "region": "cn-hangzhou", "zone": "cn-hangzhou-h"}
    return data if name is None else {**data, "instance_name": name}


ACCOUNT = _account(
    _instance(I1),
    _instance(I2, name=None),
    _disk(D1, "cn-hangzhou-i", I1, encrypted=True),
    _disk(D2, "cn-hangzhou-h", I2, encrypted=False),
)
CLEAN = _account(_instance(I1), _disk(D1, "cn-hangzhou-h", I1, encrypted=True))


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules.policy").write_text(POLICY, encoding="utf-8")
    (tmp_path / "account.json").write_text(ACCOUNT, encoding="utf-8")
    (tmp_path / "clean.json").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"resources": [\n', encoding="utf-8")
    return tmp_path


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _example(fmt: str, *extra: str) -> tuple[int, str]:
    code, out, err = run_cli(["evaluate", EXAMPLE, "--format", fmt, *extra])
    assert out, err
    return code, out


def _summary() -> dict[str, Any]:
    _, out = _example("json")
    summary: dict[str, Any] = json.loads(out)["summary"]
    return summary


def _resource_lines(path: Path) -> dict[str, list[range]]:
    """Resource key -> the lines its object spans, read from the file's layout (two-space
    indent, one resource object per `    {` ... `    }` block): a reading that owes
    nothing to the position scanner under test. A keyed resource is found under each
    of its key's parts (`role@i-1` under `role` and `i-1`); a name used in several
    regions, under the first."""
    lines = path.read_text(encoding="utf-8").splitlines()
    resources = json.loads(path.read_text(encoding="utf-8"))["resources"]
    starts = [n for n, text in enumerate(lines, 1) if text == "    {"]
    ends = [n for n, text in enumerate(lines, 1) if text in ("    }", "    },")]
    assert len(starts) == len(ends) == len(resources)
    out: dict[str, list[range]] = {}
    for r, start, end in zip(resources, starts, ends, strict=True):
        span = range(start, end + 1)
        for key in {r.get("id"), r.get("name")}:
            if isinstance(key, str):
                out.setdefault(key, []).append(span)
        for value in {str(v) for v in r.values()}:
            out.setdefault("=" + value, []).append(span)
    return out


def _lines_of(lines: dict[str, list[range]], key: str) -> set[int]:
    """The lines of the resources with this id or name (a name may be used in several
    regions), or of those whose values hold every part of a composite key."""
    if key in lines:
        return {n for r in lines[key] for n in r}
    parts = key.split("@")
    common = set(lines["=" + parts[0]]).intersection(*(set(lines["=" + p]) for p in parts[1:]))
    assert common, key
    return {n for r in common for n in r}


# ---------------------------------------------------------------- SARIF


def test_sarif_of_the_example_is_valid_sarif_2_1_0(at_root: None) -> None:
    code, out = _example("sarif")
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, SARIF_SCHEMA)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) == _summary()["rules"]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert float(rule["properties"]["security-severity"]) > 0
        assert rule["defaultConfiguration"]["level"] in ("note", "warning", "error")
    assert len(run["results"]) == _summary()["outcomes"]["fail"]
    assert run["properties"]["summary"]["rules_loaded"] == len(rules)


def test_sarif_cross_resource_finding_has_related_locations(at_root: None) -> None:
    _, out = _example("sarif")
    results = json.loads(out)["runs"][0]["results"]
    (disk_zone,) = [r for r in results if r["ruleId"] == "ecs_locations.disk_zone"]
    lines = _resource_lines(ROOT / EXAMPLE)
    primary = disk_zone["locations"][0]["physicalLocation"]
    assert primary["artifactLocation"]["uri"] == EXAMPLE
    assert primary["region"]["startLine"] in _lines_of(lines, "d-bp16n7nazpipgv3zqhn8")
    related = {
        loc["message"]["text"]: loc["physicalLocation"] for loc in disk_zone["relatedLocations"]
    }
    instance = related["instance i-bp1us31ietd42pe50vjm"]
    assert instance["artifactLocation"]["uri"] == EXAMPLE
    assert instance["region"]["startLine"] in _lines_of(lines, "i-bp1us31ietd42pe50vjm")
    rule = related["rule ecs_locations.disk_zone"]
    assert rule["artifactLocation"]["uri"] == "policies/alicloud/ecs-locations.policy"
    assert "cn-hangzhou-j ≠ cn-hangzhou-h" in disk_zone["message"]["text"]


def test_sarif_fingerprints_are_the_findings_fingerprints(at_root: None) -> None:
    _, out = _example("json")
    prints = {r["fingerprint"] for r in json.loads(out)["results"]}
    _, out = _example("sarif")
    results = json.loads(out)["runs"][0]["results"]
    assert {r["partialFingerprints"]["policyengine/v1"] for r in results} == prints


def test_sarif_from_stdin_points_at_the_policy(workspace: Path) -> None:
    code, out, _ = run_cli(["evaluate", "-", "-p", "rules.policy", "-f", "sarif"], stdin=ACCOUNT)
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, SARIF_SCHEMA)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in doc["runs"][0]["results"]
    }
    assert uris == {"rules.policy"}


# ---------------------------------------------------------------- JUnit


def test_junit_parses_and_its_counts_match_the_summary(at_root: None) -> None:
    code, out = _example("junit")
    assert code == 1
    root = ET.fromstring(out.encode())
    summary = _summary()
    outcomes = summary["outcomes"]
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == sum(outcomes.values()) == int(root.get("tests", ""))
    assert len(root.findall("./testsuite/testcase/failure")) == outcomes["fail"]
    assert root.get("failures") == str(outcomes["fail"])
    assert len(root.findall("./testsuite/testcase/error")) == outcomes["error"]
    assert len(root.findall("./testsuite/testcase/skipped")) == outcomes["skipped"]
    assert root.get("rules-loaded") == str(summary["rules"])
    assert root.get("resources") == str(summary["resources"])
    assert len(root.findall("./testsuite")) == summary["rules"]
    (failure,) = [
        f
        for case in cases
        if case.get("classname") == "ecs_locations.disk_zone"
        for f in case.findall("failure")
    ]
    assert "cn-hangzhou-j ≠ cn-hangzhou-h" in (failure.text or "")
    assert "fix: " in (failure.text or "")


def test_junit_escapes_what_xml_cannot_hold(workspace: Path) -> None:
    strange = _account(
        {**_instance(I1), "instance_name": "]]> <x/>"},
        _disk(D1, "cn-hangzhou-h", I1, encrypted=False),
    )
    (workspace / "strange.json").write_text(strange, encoding="utf-8")
    policy = POLICY.replace(
        "for each instance require instance_name is set",
        'for each instance require instance_name == "<a & \\"b\\">"',
    )
    (workspace / "strange.policy").write_text(policy, encoding="utf-8")
    code, out, err = run_cli(["evaluate", "strange.json", "-p", "strange.policy", "-f", "junit"])
    assert code == 1, err
    root = ET.fromstring(out.encode())
    texts = " ".join(f.text or "" for f in root.iter("failure"))
    assert 'instance_name == "<a & \\"b\\">"' in texts
    assert 'instance_name = "]]> <x/>"' in texts


# ---------------------------------------------------------------- GitHub


def _annotations(out: str) -> list[tuple[str, dict[str, str], str]]:
    found = []
    for line in out.splitlines():
        m = re.fullmatch(r"::(error|warning|notice)(?: ([^:]*))?::(.*)", line)
        if m:
            props = dict(p.split("=", 1) for p in (m.group(2) or "").split(",") if p)
            found.append((m.group(1), props, m.group(3)))
    return found


def test_github_annotations_point_at_the_resource_line(
    at_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every finding annotated (GitHub's cap of 10 a level is tested on its own).
    monkeypatch.setattr(policyengine.outputs.github, "MAX_PER_LEVEL", 1000)
    code, out = _example("github")
    assert code == 1
    lines = _resource_lines(ROOT / EXAMPLE)
    text = (ROOT / EXAMPLE).read_text(encoding="utf-8").splitlines()
    annotations = [a for a in _annotations(out) if a[0] == "error"]
    assert len(annotations) == _summary()["outcomes"]["fail"]
    for _, props, message in annotations:
        assert props["file"] == EXAMPLE
        subject = message.split("%0A", 1)[0].split(":", 1)[0]
        resource = subject.split(" → ")[0].split(" ", 1)[1]
        assert int(props["line"]) in _lines_of(lines, resource), (resource, props)
        assert int(props["line"]) != 1
    disk = next(a for a in annotations if "ecs_locations.disk_zone" in a[1]["title"])
    # At the deciding value: the disk's zone.
    assert text[int(disk[1]["line"]) - 1].strip() == '"zone": "cn-hangzhou-j",'


def test_github_annotation_falls_back_to_the_rule_line(workspace: Path) -> None:
    code, out, _ = run_cli(["evaluate", "-", "-p", "rules.policy", "-f", "github"], stdin=ACCOUNT)
    assert code == 1
    policy_lines = POLICY.splitlines()
    for level, props, _ in _annotations(out):
        assert props["file"] == "rules.policy"
        assert (
            policy_lines[int(props["line"]) - 1].strip().startswith(("for each", "disk attach"))
        ), level


def test_github_escapes_commands() -> None:
    from policyengine.outputs.github import command

    line = command("error", "50% done\nnext", file="a,b:c.json", line=3)
    assert line == "::error file=a%2Cb%3Ac.json,line=3::50%25 done%0Anext"


# ---------------------------------------------------------------- what people read


def test_text_output(workspace: Path, text_snapshot: SnapshotAssertion) -> None:
    assert transcript(["evaluate", "account.json", "-p", "rules.policy"]) == text_snapshot


def test_github_output(workspace: Path, text_snapshot: SnapshotAssertion) -> None:
    assert transcript(["evaluate", "account.json", "-p", "rules.policy", "-f", "github"]) == (
        text_snapshot
    )


def test_markdown_output(workspace: Path, text_snapshot: SnapshotAssertion) -> None:
    assert transcript(["evaluate", "account.json", "-p", "rules.policy", "-f", "markdown"]) == (
        text_snapshot
    )


def test_markdown_summary_table_counts(at_root: None) -> None:
    _, out = _example("markdown")
    summary = _summary()
    assert f"| rules loaded | {summary['rules']} |" in out
    assert f"| resources | {summary['resources']} |" in out
    assert f"| fail | {summary['outcomes']['fail']} |" in out
    assert out.count("- **FAIL**") == summary["outcomes"]["fail"]


# ---------------------------------------------------------------- --output


def test_one_run_writes_sarif_and_junit_and_prints_text(workspace: Path) -> None:
    code, out, _ = run_cli(
        [
            "evaluate",
            "account.json",
            "-p",
            "rules.policy",
            "--output",
            "sarif=results.sarif",
            "-o",
            "junit=junit.xml",
        ]
    )
    assert code == 1
    assert "demo.disk_zone" in out and "FAILED: 2 findings at or above severity low" in out
    jsonschema.validate(json.loads((workspace / "results.sarif").read_text()), SARIF_SCHEMA)
    ET.fromstring((workspace / "junit.xml").read_bytes())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("sraif=x.sarif", "unknown output format `sraif`"),
        ("sarif", "--output takes FORMAT=PATH"),
        ("sarif=", "--output takes FORMAT=PATH"),
    ],
)
def test_bad_output_is_a_usage_error(workspace: Path, value: str, message: str) -> None:
    code, _, err = run_cli(["evaluate", "account.json", "-p", "rules.policy", "-o", value])
    assert code == 2
    assert message in err
    if value.startswith("sraif"):
        assert "did you mean `sarif`?" in err


def test_invalid_input_still_writes_each_output(workspace: Path) -> None:
    code, _, err = run_cli(
        [
            "evaluate",
            "broken.json",
            "-p",
            "rules.policy",
            "-o",
            "sarif=r.sarif",
            "-o",
            "junit=j.xml",
        ]
    )
    assert code == 3
    sarif = json.loads((workspace / "r.sarif").read_text())
    jsonschema.validate(sarif, SARIF_SCHEMA)
    invocation = sarif["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "broken.json" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    junit = ET.fromstring((workspace / "j.xml").read_bytes())
    assert junit.get("errors") == "1"


# ---------------------------------------------------------------- exit codes, every format

CASES = {
    "pass": (["evaluate", "clean.json", "-p", "rules.policy"], 0),
    "violations": (["evaluate", "account.json", "-p", "rules.policy"], 1),
    "usage": (["evaluate", "clean.json", "-p", "rules.policy", "--fail-on", "severe"], 2),
    "invalid": (["evaluate", "broken.json", "-p", "rules.policy"], 3),
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES)
def test_exit_codes_in_every_format(workspace: Path, fmt: str, case: str) -> None:
    args, expected = CASES[case]
    code, out, err = run_cli([*args, "--format", fmt])
    assert code == expected, (out, err)
    if expected >= 2:
        assert err
    if fmt == "sarif" and expected != 2:
        jsonschema.validate(json.loads(out), SARIF_SCHEMA)
    if fmt == "junit" and expected != 2:
        ET.fromstring(out.encode())
    if fmt == "json" and expected != 2:
        json.loads(out)


@pytest.mark.parametrize("fmt", FORMATS)
def test_internal_error_exits_4_in_every_format(
    workspace: Path,
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(policyengine.results.report, "build", crash)
    argv = ["policyengine", "evaluate", "clean.json", "-p", "rules.policy", "-f", fmt]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        policyengine.cli.main()
    assert exited.value.code == 4
    assert "internal error" in capsys.readouterr().err


# ---------------------------------------------------------------- counts and gates


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_says_what_ran(workspace: Path, fmt: str) -> None:
    _, out, _ = run_cli(["evaluate", "account.json", "-p", "rules.policy", "-f", fmt])
    # 3 rules, 4 resources; outcomes: 2 fails, 1 advisory fail, 3 passes.
    if fmt == "json":
        summary = json.loads(out)["summary"]
        assert (summary["rules"], summary["rules_applied"], summary["resources"]) == (3, 3, 4)
        assert summary["outcomes"] == {"fail": 3, "error": 0, "pass": 3, "skipped": 0}
        assert (summary["waived"], summary["baselined"]) == (0, 0)
    elif fmt == "sarif":
        summary = json.loads(out)["runs"][0]["properties"]["summary"]
        assert summary == {
            "rules_loaded": 3,
            "rules_evaluated": 3,
            "resources": 4,
            "snapshots": 1,
            "outcomes": {"fail": 3, "error": 0, "pass": 3, "skipped": 0},
            "waived": 0,
            "baselined": 0,
        }
    elif fmt == "junit":
        root = ET.fromstring(out.encode())
        got = {k: root.get(k) for k in ("rules-loaded", "rules-evaluated", "resources")}
        assert got == {"rules-loaded": "3", "rules-evaluated": "3", "resources": "4"}
        assert (root.get("tests"), root.get("failures"), root.get("waived")) == ("6", "3", "0")
    elif fmt == "gitlab":
        # A Code Quality report is a list of issues, with no place for counts: the three
        # fails (the advisory one as `info`).
        issues = json.loads(out)
        assert sorted(i["severity"] for i in issues) == ["critical", "info", "major"]
    else:
        assert (
            "3 rules loaded, 3 evaluated over 4 resources in 1 snapshot: 3 failed, 0 errors, "
            "3 passed, 0 skipped, 0 waived, 0 baselined"
            in out
            or "| rules loaded | 3 |" in out
        )


@pytest.mark.parametrize("fmt", FORMATS)
def test_zero_rules_applied_warns_in_every_format(workspace: Path, fmt: str) -> None:
    policy = "use alicloud.ecs\npolicy p { rule r { for each eni require region is set } }\n"
    (workspace / "eni.policy").write_text(policy, encoding="utf-8")
    code, out, err = run_cli(["evaluate", "clean.json", "-p", "eni.policy", "-f", fmt])
    assert code == 3  # nothing evaluated is its own verdict, not a pass
    assert "no rule applied to any resource" in out
    if fmt != "text":
        assert "warning: no rule applied to any resource" in err


def test_advisory_findings_are_reported_and_never_gate(workspace: Path) -> None:
    only = POLICY.replace("rule encrypted", "rule encrypted_").replace(
        "for each disk require encrypted == true", "for each disk require encrypted is set"
    )
    only = only.replace("disk attach requires same zone", "for each disk require zone is set")
    (workspace / "advisory.policy").write_text(only, encoding="utf-8")
    code, out, _ = run_cli(["evaluate", "account.json", "-p", "advisory.policy"])
    assert code == 0
    assert "demo.named  [medium, advisory]" in out
    assert f"FAIL    instance {I2}" in out
    assert "PASSED: no finding at or above severity low (1 advisory finding reported only)" in out


def test_error_outcomes_gate_unless_told_not_to(workspace: Path) -> None:
    missing = _account(_instance(I1), {**_disk(D1, "cn-hangzhou-h", I1, True), "encrypted": None})
    (workspace / "missing.json").write_text(missing, encoding="utf-8")
    code, out, _ = run_cli(["evaluate", "missing.json", "-p", "rules.policy"])
    assert code == 1 and "ERROR" in out
    code, out, _ = run_cli(["evaluate", "missing.json", "-p", "rules.policy", "--no-fail-on-error"])
    assert code == 0 and "ERROR" in out


# ---------------------------------------------------------------- positions


def test_positions_of_resources_and_members() -> None:
    text = (
        '{"resources": [\n  {"kind": "disk",\n   "zone": "a"},\n'
        '  {"kind": "x", "tags": {"k/~": 1}}\n], "other": [{"a": 1}]}'
    )
    pos = Positions(Source("s.json", text))
    assert pos.find("/resources/0") == (2, 3)
    assert pos.find("/resources/0/zone") == (3, 4)
    assert pos.find("/resources/1") == (4, 3)
    assert pos.find("/resources/1/tags/k~1~0") == (4, 17)  # nearest recorded: `tags`
    assert pos.find("/resources/2") is None
    assert pos.find("/other/0") is None


def test_positions_on_one_line_json() -> None:
    doc = json.loads((ROOT / EXAMPLE).read_text(encoding="utf-8"))
    text = json.dumps(doc)
    pos = Positions(Source("s.json", text))
    for index, resource in enumerate(doc["resources"]):
        line, col = pos.find(f"/resources/{index}/kind") or (0, 0)
        assert line == 1
        assert text[col - 1 :].startswith(f'"kind": "{resource["kind"]}"')


def test_resource_positions_in_the_example() -> None:
    text = (ROOT / EXAMPLE).read_text(encoding="utf-8")
    pos = Positions(Source(EXAMPLE, text))
    starts = [n for n, line in enumerate(text.splitlines(), 1) if line == "    {"]
    doc = json.loads(text)
    assert len(starts) == len(doc["resources"])
    for index, start in enumerate(starts):
        assert pos.find(f"/resources/{index}") == (start, 5)
        assert pos.find(f"/resources/{index}/kind") == (start + 1, 7)


def test_any_pointer_is_located_in_a_json_text() -> None:
    from policyengine.core.positions import locate
    from policyengine.core.source import Source

    text = '{\n  "a": [1, {"b~/c": {"d": 2}}],\n  "e": "x"\n}\n'
    source = Source("t.json", text)
    assert locate(source, "/a/1/b~0~1c/d") == (2, 27)  # the value 2
    assert locate(source, "/e") == (3, 8)
    assert locate(source, "/a/2") is None
    assert locate(source, "/nope") is None
