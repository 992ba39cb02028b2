"""`K located in region` inside a quantifier walks a region's resources once per element:
`check --cost` names it a nested scan, and the step limit counts the resources each
lookup hands over, so a rule that nests such scans stops at the limit as an `error`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from policyengine.frontend.cost import plan_cost
from policyengine.frontend.loader import load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.runtime import Status, evaluate

NESTED = (
    "for each region require "
    "count(i in instance located in this where count(disk located in this) >= 0) >= 0"
)
FLAT = "for each region require count(instance located in this) >= 0"


def _policy(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "p.policy"
    path.write_text(
        f"use alicloud.ecs\n\npolicy p {{\n  rule r {{\n    {body}\n  }}\n}}\n", encoding="utf-8"
    )
    return path


def test_check_cost_names_a_located_scan_inside_a_quantifier(tmp_path: Path) -> None:
    [cost] = plan_cost(load([_policy(tmp_path, NESTED)]).plan)
    assert cost.nested_scan
    assert "walked once per element of `count over instance located in this`" in " ".join(
        a.text for a in cost.accesses
    )
    [flat] = plan_cost(load([_policy(tmp_path, FLAT)]).plan)
    assert not flat.nested_scan
    code, out, _ = run_cli(["check", "--cost", str(_policy(tmp_path, NESTED))])
    assert code == 0 and "1 need a nested scan" in out


def test_the_step_limit_counts_what_located_in_hands_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load([_policy(tmp_path, NESTED)])
    zone = {"region": "cn-hangzhou", "zone": "cn-hangzhou-h"}
    resources = [{"kind": "instance", "id": f"i-{n:020d}", **zone} for n in range(60)] + [
        {"kind": "disk", "id": f"d-{n:020d}", **zone} for n in range(60)
    ]
    snapshot = parse_snapshot(json.dumps({"resources": resources}), "s.json")
    # 60 instances, each looking up 60 disks: 3,660 steps; the quantifier alone takes 60.
    monkeypatch.setenv("POLICYENGINE_MAX_OUTCOME_STEPS", "1000")
    [result] = evaluate(loaded.plan, Store(snapshot, loaded.plan.model))
    assert result.status is Status.ERROR and "quantifier and count steps" in result.reason
    monkeypatch.setenv("POLICYENGINE_MAX_OUTCOME_STEPS", "10000")
    [result] = evaluate(loaded.plan, Store(snapshot, loaded.plan.model))
    assert result.status is Status.PASS
