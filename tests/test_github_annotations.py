"""`--format github` within GitHub's limits: at most 10 annotations of each level a step,
the most severe first, then one notice saying how many more there are and where."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, run_cli

from policyengine.core.semantics import Severity
from policyengine.outputs.github import MAX_PER_LEVEL

EXAMPLE = "examples/ecs-account/snapshot.json"


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _title_severity(line: str) -> Severity:
    found = re.search(r"title=[^,:]* \[(\w+)", line)
    assert found, line
    return Severity(found.group(1))


def test_the_example_shows_ten_errors_most_severe_first_and_says_how_many_more(
    at_root: None,
) -> None:
    code, out, _ = run_cli(["evaluate", EXAMPLE, "--format", "github"])
    assert code == 1
    lines = out.splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    notices = [line for line in lines if line.startswith("::notice ")]
    assert len(errors) == MAX_PER_LEVEL == 10
    _, report, _ = run_cli(["evaluate", EXAMPLE, "--format", "json"])
    findings = json.loads(report)["results"]
    total = len(findings)
    assert total > 10
    # The ten shown are the most severe: none left out is more severe than one shown.
    shown = sorted((_title_severity(line).rank for line in errors), reverse=True)
    every = sorted((Severity(f["severity"]).rank for f in findings), reverse=True)
    assert shown == every[:10]
    (more,) = [n for n in notices if "more annotations are not shown" in n]
    assert f"{total - 10} more annotations are not shown ({total - 10} errors)" in more
    assert "job summary" in more and "SARIF" in more
    # The run's counts still end the output.
    assert lines[-1].startswith("FAILED:")
