"""The CI integration examples: the GitHub Actions workflow parses and has the steps a
gate needs, its evaluate step runs as written, and the pre-commit hooks' entries run."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import DATA, ROOT, run_cli

from policyengine.core.version import DISTRIBUTION, __version__

WORKFLOW = ROOT / "examples" / "ci" / "github-workflow.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
GITLAB_SCHEMA = json.loads((DATA / "gitlab-code-quality.schema.json").read_text("utf-8"))


def check_jsonschema(schema: str, path: Path) -> None:
    """Validates a file with check-jsonschema's vendored copy of a published schema."""
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _workflow() -> dict[Any, Any]:
    doc: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return doc


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _workflow()["jobs"]["evaluate"]["steps"]
    return steps


def _evaluate_args() -> list[str]:
    step = next(s for s in _steps() if s.get("id") == "evaluate")
    args = shlex.split(step["run"])
    assert args[:2] == ["policyengine", "evaluate"]
    # The plan the Terraform steps would write: the example plan stands in for it here.
    plan = "examples/terraform/plan.json"
    assert _workflow()["env"]["PLAN"] == "plan.json"
    return [plan if a == "$PLAN" else a for a in args[1:]]


def test_the_workflow_installs_evaluates_uploads_and_gates() -> None:
    workflow = _workflow()
    assert workflow["permissions"]["security-events"] == "write"
    steps = _steps()
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any("pip install" in s.get("run", "") for s in steps)
    assert any(u.startswith("hashicorp/setup-terraform@") for u in uses)
    plan = next(s for s in steps if "terraform show -json" in s.get("run", ""))
    assert steps.index(plan) < steps.index(next(s for s in steps if s.get("id") == "evaluate"))
    evaluate = next(s for s in steps if s.get("id") == "evaluate")
    assert evaluate["continue-on-error"] is True
    upload = next(
        s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    )
    assert upload["if"] == "always()"
    assert f"sarif={upload['with']['sarif_file']}" in _evaluate_args()
    gate = steps[-1]
    assert gate["if"] == "steps.evaluate.outcome == 'failure'" and "exit 1" in gate["run"]
    assert steps.index(upload) < steps.index(gate)


def test_the_workflow_evaluate_step_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    written = _evaluate_args()
    # The same command, with the output files in a temporary folder.
    args = [
        a if prev != "--output" else f"{a.split('=', 1)[0]}={tmp_path / a.split('=', 1)[1]}"
        for prev, a in zip(["", *written[:-1]], written, strict=True)
    ]
    code, out, _ = run_cli(args)
    assert code == 1  # the example plan has planted violations
    # A plan's findings point at the resource's change in the plan, and name its address.
    first = out.splitlines()[0]
    assert first.startswith("::error file=examples/terraform/plan.json,line=")
    line = int(first.split("line=", 1)[1].split(",", 1)[0])
    plan_lines = (ROOT / "examples/terraform/plan.json").read_text(encoding="utf-8").splitlines()
    assert plan_lines[line - 1].strip().startswith('"after"')
    assert "module.app.alicloud_ecs_disk.data[1]" in out
    sarif = json.loads((tmp_path / "policyengine.outputs.check_sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"]
    assert (tmp_path / "policyengine-junit.xml").is_file()
    assert "| rules loaded |" in (tmp_path / "policyengine.md").read_text(encoding="utf-8")


def test_the_gitlab_example_is_valid_gitlab_ci() -> None:
    check_jsonschema("vendor.gitlab-ci", GITLAB)


def test_the_gitlab_example_writes_a_code_quality_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    doc = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    job = doc["policyengine"]
    install, command = job["script"]
    # It installs the distribution by its name, at this version.
    assert f'"{DISTRIBUTION}=={__version__}"' in install
    args = shlex.split(command)
    assert args[:2] == ["policyengine", "evaluate"]
    reports = job["artifacts"]["reports"]
    assert job["artifacts"]["when"] == "always"
    quality, junit = reports["codequality"], reports["junit"]
    assert f"gitlab={quality}" in args and f"junit={junit}" in args
    # The plan the plan job writes: the example plan stands in for it here.
    assert doc["variables"]["PLAN"] == "plan.json"
    args = [
        "examples/terraform/plan.json"
        if a == "$PLAN"
        else a.replace(f"={quality}", f"={tmp_path / quality}").replace(
            f"={junit}", f"={tmp_path / junit}"
        )
        for a in args[1:]
    ]
    code, _, _ = run_cli(args)
    assert code == 1  # the example plan has planted violations
    issues = json.loads((tmp_path / quality).read_text(encoding="utf-8"))
    jsonschema.validate(issues, GITLAB_SCHEMA)
    paths = [i["location"]["path"] for i in issues]
    assert "examples/terraform/plan.json" in paths
    # Where a finding's resource has no place in the plan, its rule's line in the policy.
    assert all((ROOT / p).is_file() for p in paths), paths
    assert (tmp_path / junit).is_file()


def _hooks() -> dict[str, dict[str, Any]]:
    hooks: list[dict[str, Any]] = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    return {h["id"]: h for h in hooks}


def test_the_hooks_are_declared() -> None:
    hooks = _hooks()
    assert set(hooks) == {"policyengine-check", "policyengine-evaluate"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["entry"].startswith("policyengine ")


def test_the_evaluate_hook_runs_on_a_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    hook = _hooks()["policyengine-evaluate"]
    snapshot = "examples/ecs-account/snapshot.json"
    assert re.search(hook["files"], snapshot)
    assert not re.search(hook["files"], "examples/ecs-account/expected.json")
    entry = shlex.split(hook["entry"])
    code, out, _ = run_cli([*entry[1:], snapshot])  # pre-commit appends the file names
    planted = len(json.loads((ROOT / "examples/ecs-account/expected.json").read_text()))
    assert code == 1 and f"{planted} failed" in out


def test_the_check_hook_runs_on_a_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    entry = shlex.split(_hooks()["policyengine-check"]["entry"])
    code, _, err = run_cli([*entry[1:], "policies/alicloud/ecs-locations.policy"])
    assert code == 0, err
