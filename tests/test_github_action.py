"""action.yml: valid against GitHub's published action metadata schema (check-jsonschema's
vendored copy), installing the package from the action's own checkout, and its steps'
commands, run in a temporary workspace on the example plan, write the job summary, the
SARIF and the JUnit report, print at most 10 error annotations and one notice for the
rest, and end the job with policyengine's exit code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import DATA, ROOT

from policyengine.core.version import __version__

ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "examples" / "ci" / "github-workflow.yml"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _action() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return doc


def _check(schema: str, path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_action_yml_is_valid_action_metadata() -> None:
    _check("vendor.github-actions", ACTION)
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {
        "paths",
        "policies",
        "config",
        "formats",
        "fail-on",
        "upload-sarif",
    }


def test_it_installs_from_its_own_checkout() -> None:
    steps = _action()["runs"]["steps"]
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '"$ACTION_PATH"' in install["run"]
    # Inputs reach scripts as environment variables, never pasted into the script.
    for step in steps:
        assert "${{" not in step.get("run", ""), step["name"]


def test_the_example_workflow_uses_the_action() -> None:
    _check("vendor.github-workflows", WORKFLOW)
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = workflow["jobs"]["evaluate"]["steps"]
    uses = [s for s in steps if "cloudrules-engine@" in s.get("uses", "")]
    assert len(uses) == 1 and uses[0]["with"]["paths"]
    # Pinned at this version's tag.
    assert uses[0]["uses"].endswith(f"@v{__version__}")
    assert workflow["permissions"]["security-events"] == "write"


class Context:
    """What the expressions of action.yml read: inputs, the action's path, step outputs."""

    def __init__(self, inputs: dict[str, str]) -> None:
        defaults = {k: str(v.get("default", "")) for k, v in _action()["inputs"].items()}
        self.inputs = {**defaults, **inputs}
        self.outputs: dict[str, dict[str, str]] = {}

    def value(self, expression: str) -> str:
        if expression.startswith("inputs."):
            return self.inputs[expression.removeprefix("inputs.")]
        if expression == "github.action_path":
            return str(ROOT)
        found = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if found:
            return self.outputs.get(found.group(1), {}).get(found.group(2), "")
        raise AssertionError(f"an expression the test does not know: {expression}")

    def fill(self, text: str) -> str:
        return _EXPR.sub(lambda m: self.value(m.group(1)), text)


def _read_outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture
def ran(tmp_path: Path) -> tuple[str, Path, Context, list[int]]:
    """The action's `run:` steps, in order, on the example plan: the setup-python and
    upload-sarif steps are other actions (not run here), and the install step would put
    a second copy of the package in this environment (the wheel test installs one)."""
    workspace = tmp_path / "workspace"
    (workspace / "plans").mkdir(parents=True)
    plan = (ROOT / "examples" / "terraform" / "plan.json").read_text(encoding="utf-8")
    (workspace / "plans" / "plan.json").write_text(plan, encoding="utf-8")
    context = Context({"paths": "plans/plan.json", "fail-on": "medium"})
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_STEP_SUMMARY": str(summary),
        "NO_COLOR": "1",
    }
    printed, codes = "", []
    for step in _action()["runs"]["steps"]:
        if "run" not in step or "pip install" in step["run"]:
            continue
        outputs.write_text("", encoding="utf-8")
        step_env = {k: context.fill(str(v)) for k, v in step.get("env", {}).items()}
        folder = workspace / context.fill(step.get("working-directory", "."))
        assert step["shell"] == "bash"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=folder,
            env={**env, **step_env, "GITHUB_OUTPUT": str(outputs)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        printed += done.stdout
        codes.append(done.returncode)
        if "id" in step:
            context.outputs[step["id"]] = _read_outputs(outputs)
    return printed, workspace, context, codes


def test_the_steps_write_summary_sarif_junit_and_capped_annotations(
    ran: tuple[str, Path, Context, list[int]], tmp_path: Path
) -> None:
    printed, workspace, context, codes = ran
    evaluate = context.outputs["evaluate"]
    # The plan has findings at or above medium: the evaluate step records exit 1 and
    # goes on (so the reports are uploaded); the last step ends the job with it.
    assert evaluate["exit-code"] == "1"
    assert codes[0] == 0 and codes[-1] == 1
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## ❌ policyengine: FAILED")
    assert "| rules loaded |" in summary
    sarif = json.loads((workspace / evaluate["sarif"]).read_text(encoding="utf-8"))
    jsonschema.validate(sarif, SARIF_SCHEMA)
    results = sarif["runs"][0]["results"]
    assert results
    junit = ET.parse(workspace / evaluate["junit"]).getroot()
    assert int(junit.get("failures", "0")) > 0
    errors = [line for line in printed.splitlines() if line.startswith("::error ")]
    more = [line for line in printed.splitlines() if "more annotations are not shown" in line]
    assert len(errors) == 10 and len(results) > 10
    (notice,) = more
    assert notice.startswith("::notice ")
    # Every finding is accounted for: the errors shown, the warnings (below fail-on) and
    # the errors the notice counts.
    warnings = [line for line in printed.splitlines() if line.startswith("::warning ")]
    found = re.search(r"::(\d+) more annotations are not shown \((\d+) errors?\)", notice)
    assert found, notice
    assert 10 + int(found.group(2)) + len(warnings) == len(results)
