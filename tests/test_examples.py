"""The bundled example account: it reports exactly its planted violations, covers every
location rule both ways, and its text report and explanation read as the README shows."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
from conftest import ROOT, run_cli, transcript
from syrupy.assertion import SnapshotAssertion

from policyengine.frontend.loader import bundled_policies, load

EXAMPLE = "examples/ecs-account/snapshot.json"
EXPECTED = ROOT / "examples" / "ecs-account" / "expected.json"


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the repository root, so the report's paths are the README's."""
    monkeypatch.chdir(ROOT)


def _report(*extra: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run_cli(["evaluate", EXAMPLE, "--format", "json", *extra])
    assert out, err
    return code, json.loads(out)


def _triple(result: dict[str, Any]) -> tuple[str, str, str | None]:
    related = result["related"]
    return result["rule"], result["resource"]["id"], related["id"] if related else None


def test_example_reports_exactly_the_planted_violations(at_root: None) -> None:
    code, report = _report()
    planted = {(v["rule"], v["resource"], v["related"]) for v in json.loads(EXPECTED.read_text())}
    fails = [_triple(r) for r in report["results"] if r["outcome"] == "fail"]
    errors = [_triple(r) for r in report["results"] if r["outcome"] == "error"]
    assert errors == []
    assert len(fails) == len(set(fails))
    assert set(fails) == planted
    assert report["summary"]["outcomes"]["error"] == 0
    assert report["summary"]["outcomes"]["fail"] == len(planted)
    assert report["summary"]["verdict"] == "fail"
    assert code == 1


def test_every_location_rule_fails_and_passes_in_the_example(at_root: None) -> None:
    code, report = _report("--all")
    assert code == 1
    outcomes: dict[str, set[str]] = defaultdict(set)
    for r in report["results"]:
        outcomes[r["rule"]].add(r["outcome"])
    assert not any("error" in seen for seen in outcomes.values())
    rules = [r.id for r in load(bundled_policies()).plan.rules]
    location_rules = [r for r in rules if r.startswith("ecs_locations.")]
    assert len(location_rules) >= 20
    for rule in location_rules:
        assert {"pass", "fail"} <= outcomes[rule], f"{rule}: only {sorted(outcomes[rule])}"


def test_example_text_report(at_root: None, text_snapshot: SnapshotAssertion) -> None:
    assert transcript(["evaluate", EXAMPLE]) == text_snapshot


def test_example_explain_disk_zone(at_root: None, text_snapshot: SnapshotAssertion) -> None:
    text = transcript(["explain", EXAMPLE, "--rule", "ecs_locations.disk_zone"])
    # A crash shows only as an empty stdout in a transcript: say so before the diff.
    assert "this requirement does not hold" in text, "explain printed no failing outcome"
    assert text == text_snapshot
