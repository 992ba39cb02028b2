"""Every place a report names is in a file the user has, and resolves there: each
`FILE#POINTER` of every format names an existing file whose JSON holds that pointer,
and each file and line (SARIF locations, GitHub annotations) is a line of that file.

An aliyun export points into its response files (`cn-hangzhou/DescribeDisks.page2.json#
/Disks/Disk/...`), a Terraform plan into plan.json as written (`/resource_changes/4/
change/after/...`) and into the `.tf` files beside it, a snapshot into itself; never
into the snapshot the engine made of an input.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli

INPUTS = {
    "snapshot": ["examples/ecs-account/snapshot.json"],
    "aliyun export": ["examples/aliyun-export"],
    "terraform plan": ["examples/terraform/plan.json"],
    "terraform state": ["examples/terraform/state.json", "--region", "cn-hangzhou"],
    "operations": [
        "examples/aliyun-export",
        "--operation",
        "examples/operations/several.json",
    ],
    "org pack": [
        "examples/org-pack/snapshot.json",
        "-p",
        "examples/org-pack/policies",
        "--today",
        "2026-06-01",
    ],
    "aliyun CLI export": ["tests/fixtures/aliyun-cli-export"],
    "same account, aliyun": ["tests/fixtures/same-account/aliyun"],
    "same account, plan": ["tests/fixtures/same-account/plan.json"],
}
# The examples that hold no input: CI configurations.
NO_INPUT = {"ci"}
# Every format that names places; `html` carries the JSON report packed for the page,
# and its places are the JSON report's.
FORMATS = ["text", "json", "sarif", "github", "junit", "gitlab", "markdown"]
# `FILE#POINTER` as the formats print it: the pointer ends at a space, a quote, a
# backtick, a parenthesis or an XML/markdown delimiter. A file's name is matched from its
# first character only (the lookbehind), which finds the same names without trying each
# later character of every word of a long report as a start.
_URI = re.compile(r"(?<![\w./-])([\w./-]+\.(?:json|tf))#(/[^\s`\"'()<>]*|)")
# `FILE:LINE` of a `.tf` resource block: `(examples/terraform/main.tf:46)`.
_BLOCK = re.compile(r"(?<![\w./-])([\w./-]+\.tf):(\d+)")


def _resolves(doc: Any, pointer: str) -> bool:
    value = doc
    for token in pointer.split("/")[1:] if pointer else []:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return False
    return True


def _check_uri(file: str, pointer: str, problems: list[str]) -> None:
    path = ROOT / file
    if not path.is_file():
        problems.append(f"{file}#{pointer}: no such file")
    elif file.endswith(".json") and not _resolves(json.loads(path.read_text()), pointer):
        problems.append(f"{file}#{pointer}: the pointer does not resolve")


def _check_line(file: str, line: int, problems: list[str]) -> None:
    path = ROOT / file
    if not path.is_file():
        problems.append(f"{file}:{line}: no such file")
    elif not 1 <= line <= len(path.read_text().splitlines()):
        problems.append(f"{file}:{line}: no such line")


def _places(fmt: str, out: str) -> tuple[list[tuple[str, str]], list[tuple[str, int]]]:
    """Every `FILE#POINTER` the output names, and every file and line."""
    uris = [(m.group(1), m.group(2)) for m in _URI.finditer(out)]
    lines: list[tuple[str, int]] = [(m.group(1), int(m.group(2))) for m in _BLOCK.finditer(out)]
    if fmt == "sarif" and out.startswith("{"):
        run = json.loads(out)["runs"][0]
        for result in run["results"]:
            for loc in [*result["locations"], *result.get("relatedLocations", [])]:
                physical = loc["physicalLocation"]
                lines.append((physical["artifactLocation"]["uri"], physical["region"]["startLine"]))
    if fmt == "github":
        for m in re.finditer(r"file=([^,]+),line=(\d+)", out):
            lines.append((m.group(1), int(m.group(2))))
    if fmt == "gitlab" and out.startswith("["):
        for issue in json.loads(out):
            lines.append((issue["location"]["path"], issue["location"]["lines"]["begin"]))
    if fmt == "junit":
        for m in re.finditer(r'<testcase [^>]*?file="([^"]+)"(?: line="(\d+)")?', out):
            lines.append((m.group(1), int(m.group(2) or 1)))
    return uris, lines


def _problems(uris: list[tuple[str, str]], lines: list[tuple[str, int]]) -> list[str]:
    problems: list[str] = []
    for file, pointer in uris:
        _check_uri(file, pointer, problems)
    for file, line in lines:
        _check_line(file, line, problems)
        if file.endswith(".tf") and not problems:
            text = (ROOT / file).read_text().splitlines()[line - 1]
            if not text.startswith("resource "):
                problems.append(f"{file}:{line}: not a resource block: {text!r}")
    return problems


@pytest.mark.parametrize("name", list(INPUTS))
def test_every_place_a_report_names_resolves_in_the_users_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    args = ["evaluate", *INPUTS[name], "--all"]
    if "--operation" in args:  # an operation's verdict is printed, in one format a run
        runs = {fmt: run_cli([*args, "--format", fmt]) for fmt in FORMATS}
        outputs, err = {fmt: out for fmt, (_, out, _) in runs.items()}, ""
    else:  # one run writes every format, as a CI job does with --output
        written = [f"--output={fmt}={tmp_path / fmt}" for fmt in FORMATS[1:]]
        _, text, err = run_cli([*args, "--format", FORMATS[0], *written])
        outputs = {FORMATS[0]: text, **{f: (tmp_path / f).read_text() for f in FORMATS[1:]}}
    for fmt, out in outputs.items():
        assert out, (fmt, err)
        uris, lines = _places(fmt, out)
        problems = _problems(uris, lines)
        assert not problems, (fmt, problems)
        if not INPUTS[name][0].endswith("snapshot.json"):
            # Places in the user's own files, never in the snapshot made of them.
            made = [f"{f}#{p}" for f, p in uris if p.startswith("/resources/")]
            assert not made, (fmt, made)
            if fmt in ("json", "sarif", "github", "gitlab") and name != "operations":
                assert uris or lines, fmt  # (an operation's verdict is one line per call)


# explain places a value through the resource it points into: one the outcome names, or
# one its evidence reached (the cost pack's candidates, instances `located in` a region).
@pytest.mark.parametrize("name", [n for n in INPUTS if n != "operations"])
def test_every_place_an_explanation_names_resolves_in_the_users_file(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    args = [a for a in INPUTS[name] if a not in ("--today", "2026-06-01")]
    _, out, err = run_cli(["explain", *args, "--format", "json"])
    facts = [
        fact
        for explanation in json.loads(out)["explanations"]
        for fact in explanation["evidence"]
        if fact["origin"]
    ]
    assert facts, err
    problems: list[str] = []
    for fact in facts:
        file, _, pointer = fact["origin"].partition("#")
        if fact["kind"] == "missing":
            # A value the file lacks: the place it would be in, which holds the rest.
            pointer = pointer.rsplit("/", 1)[0]
        _check_uri(file, pointer, problems)
    assert not problems, problems
    # The text names the same places.
    _, text, _ = run_cli(["explain", *args])
    assert {f"({f['origin']})" for f in facts} <= {
        f"({m.group(1)}#{m.group(2)})" for m in _URI.finditer(text)
    }


def test_every_example_input_is_covered() -> None:
    covered = {
        Path(args[0]).parts[1] for args in INPUTS.values() if args[0].startswith("examples/")
    }
    examples = {p.name for p in (ROOT / "examples").iterdir() if p.is_dir()}
    assert examples - NO_INPUT - {"operations"} <= covered, examples - covered
    assert any("examples/operations" in a for args in INPUTS.values() for a in args)
    assert {"json", "sarif", "github", "junit"} <= set(FORMATS)


def test_an_export_finding_points_at_the_field_of_its_response_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    _, out, _ = run_cli(["evaluate", "examples/aliyun-export", "--format", "github"])
    out = out.replace("%3A", ":")
    # The disk in cn-hangzhou-j attached to an instance in cn-hangzhou-h; the unencrypted
    # disk, on the fourth page of DescribeDisks.
    assert "examples/aliyun-export/cn-hangzhou/DescribeDisks.json#/Disks/Disk/1/ZoneId" in out
    assert (
        "file=examples/aliyun-export/cn-hangzhou/DescribeDisks.page4.json,line=15" in out
        and "examples/aliyun-export/cn-hangzhou/DescribeDisks.page4.json#/Disks/Disk/0/Encrypted"
        in out
    )


def test_a_security_group_rule_finding_names_the_rule_resource_to_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    _, out, _ = run_cli(["evaluate", "examples/terraform/plan.json", "--format", "sarif"])
    result = next(
        r
        for r in json.loads(out)["runs"][0]["results"]
        if r["ruleId"] == "org_baseline.no_public_ssh"
    )
    assert "alicloud_security_group_rule.ssh_anywhere" in result["message"]["text"]
    primary = result["locations"][0]["physicalLocation"]
    text = (ROOT / "examples/terraform/plan.json").read_text().splitlines()
    assert primary["artifactLocation"]["uri"] == "examples/terraform/plan.json"
    # The rule's own change in the plan, and its `resource` block in main.tf.
    assert '"alicloud_security_group_rule"' in "\n".join(
        text[primary["region"]["startLine"] - 12 : primary["region"]["startLine"]]
    )
    block = result["relatedLocations"][0]["physicalLocation"]
    tf = (ROOT / "examples/terraform/main.tf").read_text().splitlines()
    assert block["artifactLocation"]["uri"] == "examples/terraform/main.tf"
    line = tf[block["region"]["startLine"] - 1]
    assert line.startswith('resource "alicloud_security_group_rule" "ssh_anywhere"')


def _block_location(out: str) -> tuple[str, int]:
    result = next(
        r
        for r in json.loads(out)["runs"][0]["results"]
        if r["ruleId"] == "org_baseline.no_public_ssh"
    )
    block = result["relatedLocations"][0]["physicalLocation"]
    return block["artifactLocation"]["uri"], block["region"]["startLine"]


def _is_the_rule_block(uri: str, line: int) -> bool:
    text = (ROOT / uri).read_text().splitlines()
    return text[line - 1].startswith('resource "alicloud_security_group_rule" "ssh_anywhere"')


def test_tf_dir_names_the_resource_block_of_a_plan_apart_from_its_tf_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plan written to another folder than its configuration, as CI jobs often do.
    shutil.copy(ROOT / "examples/terraform/plan.json", tmp_path / "plan.json")
    monkeypatch.chdir(ROOT)
    plan = str(tmp_path / "plan.json")
    _, alone, _ = run_cli(["evaluate", plan, "--format", "sarif", "--no-config"])
    assert "main.tf" not in alone  # without the .tf files, no block to point at
    _, out, err = run_cli(
        ["evaluate", plan, "--format", "sarif", "--tf-dir", "examples/terraform", "--no-config"]
    )
    uri, line = _block_location(out)
    assert uri == "examples/terraform/main.tf", err
    assert _is_the_rule_block(uri, line)
    _, explained, _ = run_cli(
        ["explain", plan, "--rule", "no_public_ssh", "--tf-dir", "examples/terraform"]
    )
    assert f"alicloud_security_group_rule.ssh_anywhere (examples/terraform/main.tf:{line})" in (
        explained
    )


def test_tf_dir_comes_from_the_configuration_file_relative_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(ROOT / "examples/terraform/plan.json", tmp_path / "plan.json")
    (tmp_path / ".policyengine.yaml").write_text(
        f"tf-dir: {os.path.relpath(ROOT / 'examples/terraform', tmp_path)}\n"
    )
    monkeypatch.chdir(ROOT)
    config = str(tmp_path / ".policyengine.yaml")
    _, out, err = run_cli(
        ["evaluate", str(tmp_path / "plan.json"), "--format", "sarif", "--config", config]
    )
    uri, line = _block_location(out)
    assert uri == "examples/terraform/main.tf", err
    assert _is_the_rule_block(uri, line)


def test_an_instance_reached_through_located_in_is_placed_in_its_response_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The reserved instance's candidates are instances `located in` its region: no
    # outcome names them, and their values are still places in DescribeInstances.json.
    monkeypatch.chdir(ROOT)
    export = "tests/fixtures/aliyun-cli-export"
    zone = f"{export}/cn-hangzhou/DescribeInstances.json#/Instances/Instance/1/ZoneId"
    _, explained, _ = run_cli(["explain", export, "--rule", "zonal_ri_in_its_zone"])
    assert f'i.zone = "cn-hangzhou-i"  ({zone})' in explained
    # Evaluated alone, the cost pack keeps no outcome of that instance: only the proof
    # names it.
    cost = "policies/alicloud/cost.policy"
    _, out, _ = run_cli(["evaluate", export, "-p", cost, "--format", "json"])
    finding = next(
        r for r in json.loads(out)["results"] if r["rule"] == "cost.zonal_ri_in_its_zone"
    )
    assert zone in [fact["origin"] for fact in finding["evidence"]]
