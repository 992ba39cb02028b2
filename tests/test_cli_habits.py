"""What people expect of a command line: --version, shell completion, --fail-on none,
`rules`, rule selection, a configuration file the flags win over, and `config`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from policyengine.core.version import __version__
from policyengine.frontend.loader import bundled_policies, load

EXAMPLE = str(ROOT / "examples" / "ecs-account" / "snapshot.json")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_version() -> None:
    code, out, _ = run_cli(["--version"])
    assert code == 0 and out == f"policyengine {__version__}\n"


def test_shell_completion_script() -> None:
    """The completion script typer writes with --install-completion, for bash."""
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "policyengine"), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "complete -o default -F _policyengine_completion policyengine" in done.stdout
    code, out, _ = run_cli(["--help"])
    assert "--install-completion" in out


def test_fail_on_none_reports_and_exits_0(workspace: Path) -> None:
    code, out, _ = run_cli(["evaluate", EXAMPLE, "--fail-on", "none"])
    assert code == 0
    assert "28 failed" in out
    assert out.rstrip().endswith("REPORTED: 28 findings; --fail-on none: the run does not fail")
    # Still 3 on invalid input.
    (workspace / "broken.json").write_text('{"resources": [\n', encoding="utf-8")
    code, _, _ = run_cli(["evaluate", "broken.json", "--fail-on", "none"])
    assert code == 3


def test_rules_lists_every_loaded_rule(workspace: Path) -> None:
    code, out, _ = run_cli(["rules", "--json"])
    assert code == 0
    rules = json.loads(out)["rules"]
    loaded = len(load(bundled_policies()).plan.rules)
    assert len(rules) == loaded
    first = rules[0]
    assert set(first) >= {"id", "severity", "enforcement", "title", "tags", "kinds"}
    code, text, _ = run_cli(["rules"])
    assert code == 0 and text.rstrip().endswith(f"{loaded} rules")
    assert all(r["id"] in text for r in rules)


def test_rule_selection_on_evaluate(workspace: Path) -> None:
    code, out, _ = run_cli(
        ["evaluate", EXAMPLE, "-f", "json", "--rule", "org_baseline.*", "--min-severity", "high"]
    )
    results = json.loads(out)["results"]
    assert results and all(r["rule"].startswith("org_baseline.") for r in results)
    assert all(r["severity"] in ("high", "critical") for r in results)
    code, _, err = run_cli(["evaluate", EXAMPLE, "--skip-rule", "org_baselin.*"])
    assert code == 2 and "--skip-rule `org_baselin.*` matches no loaded rule" in err


def test_the_configuration_file_is_used_and_flags_win(workspace: Path) -> None:
    (workspace / ".policyengine.yaml").write_text(
        "fail-on: critical\nrules: ['org_baseline.*']\noutputs:\n  sarif: out.sarif\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(["evaluate", EXAMPLE])
    assert "severity critical" in out and (workspace / "out.sarif").is_file()
    assert "ecs_locations." not in out
    code, out, _ = run_cli(["evaluate", EXAMPLE, "--fail-on", "none"])
    assert code == 0 and "REPORTED" in out
    code, out, _ = run_cli(["config"])
    assert code == 0
    assert (
        f"fail-on        critical                        ({workspace / '.policyengine.yaml'}:1)"
        in out
    )
    code, out, _ = run_cli(["config", "--json"])
    settings = json.loads(out)["settings"]
    assert settings["outputs"]["value"] == ["sarif=out.sarif"]
    assert settings["region"] == {"value": None, "origin": "default"}


def test_an_unknown_key_exits_3_with_the_nearest(workspace: Path) -> None:
    (workspace / ".policyengine.yaml").write_text("fail_on: high\n", encoding="utf-8")
    code, _, err = run_cli(["evaluate", EXAMPLE])
    assert code == 3
    assert ".policyengine.yaml:1:1" in err and "did you mean `fail-on`?" in err
    assert "in the configuration file; nothing was evaluated" in err


def test_docs_url_gives_each_sarif_rule_a_help_uri(workspace: Path) -> None:
    code, out, _ = run_cli(
        ["evaluate", EXAMPLE, "-f", "sarif", "--docs-url", "https://example.org/docs"]
    )
    rules = json.loads(out)["runs"][0]["tool"]["driver"]["rules"]
    assert all(r["helpUri"].startswith("https://example.org/docs/") for r in rules)


def test_the_commands_in_docs_ci_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every `policyengine` line of a sh block in docs/ci.md's section on CI integration
    runs from the checkout."""
    import re
    import shlex

    monkeypatch.chdir(ROOT)
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    text = text[text.index("## Installing in CI") :]
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    commands = [line for b in blocks for line in b.splitlines() if line.startswith("policyengine ")]
    assert len(commands) >= 4
    for line in commands:
        code, out, err = run_cli(shlex.split(line)[1:])
        assert code == 0, (line, out, err)
