"""The CI integration examples: the GitLab CI example is valid GitLab CI and its command
writes a Code Quality report, and the pre-commit hooks' entries run. (The GitHub workflow
uses the Action, which tests/test_github_action.py runs.)"""

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
    assert set(hooks) == {
        "policyengine-check",
        "policyengine-evaluate",
        "policyengine-fmt",
        "policyengine-test",
    }
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


def test_the_fmt_hook_passes_a_formatted_policy_and_fails_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = _hooks()["policyengine-fmt"]
    assert re.search(hook["files"], "policies/alicloud/baseline.policy")
    entry = shlex.split(hook["entry"])
    monkeypatch.chdir(ROOT)
    code, _, err = run_cli([*entry[1:], "policies/alicloud/ecs-locations.policy"])
    assert code == 0, err
    messy = tmp_path / "messy.policy"
    text = (ROOT / "policies/alicloud/ecs-locations.policy").read_text(encoding="utf-8")
    messy.write_text(text.replace("  ", "    ", 3), encoding="utf-8")
    code, out, err = run_cli([*entry[1:], str(messy)])
    assert code == 1 and "would reformat" in err and out.startswith("---")
    assert messy.read_text(encoding="utf-8") != text  # --check changes nothing


def test_the_test_hook_runs_the_policy_tests_under_its_args(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook = _hooks()["policyengine-test"]
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "policies/alicloud/baseline.test.yaml")
    assert re.search(hook["files"], "policies/alicloud/baseline.policy")
    entry = shlex.split(hook["entry"])
    monkeypatch.chdir(ROOT / "policies" / "alicloud")
    tests = sorted(Path(".").glob("*.test.yaml"))
    assert tests
    code, out, err = run_cli([*entry[1:], str(tests[0])])
    assert code == 0, out + err
    assert " passed, 0 failed" in out
