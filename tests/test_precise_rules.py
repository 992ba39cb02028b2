"""The precise rules of the language, the ones not pinned elsewhere. Where each of the
others is held (each test fails if the rule were implemented the other way):

- `unless` before the requirement, per edge, error on missing, `forbid c unless u`:
  test_interpreter.py::test_unless_is_decided_before_the_requirement,
  ::test_same_region_unless_exempts_per_edge, ::test_where_and_unless
- missing, empty, set; optional attributes and map keys compare false:
  test_interpreter.py::test_missing_values, ::test_presence
- several values are several edges:
  test_interpreter.py::test_multi_attach_disk_gives_one_outcome_per_edge
- a location a sentence compares is missing: error:
  test_interpreter.py::test_same_region_learns_a_zone_region_from_locations
- dangling edges: test_interpreter.py::test_dangling_reference_is_an_error,
  ::test_may_dangle_relation_is_skipped_with_its_reason
- `same zone` needs zone kinds, a global kind in a sentence, an alias for one kind at both
  ends, shadowing: tests/checker/sentences.policy and names.policy (test_checker.py)
- id format per kind, named kinds skipped: test_interpreter.py::test_id_matches_kind_format
- witnesses: test_interpreter.py::test_forbid_any_records_every_witness
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from test_interpreter import (
    HZ,
    SH,
    compile_rule,
    instance,
    key_pair,
    run,
    security_group,
    sg_rule,
)

from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.runtime import trace


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("policies")


def test_one_name_with_several_candidates_is_one_edge_whose_evidence_lists_them(
    policy_dir: Path,
) -> None:
    body = "instance use key_pair requires same region"
    resources = [instance(1, key_pair_name="ops"), key_pair("ops", SH), key_pair("ops", HZ)]
    [result] = run(policy_dir, body, resources)
    assert str(result.status) == "pass"  # the key pair of the instance's region satisfies it
    loaded = compile_rule(policy_dir, body)
    store = Store(parse_snapshot(json.dumps({"resources": resources}), "s.json"), loaded.plan.model)
    proof = trace(store, result)
    [listed] = [f for f in proof.edge_facts if f.kind == "candidates"]
    assert "ops" in listed.text and HZ in listed.text and SH in listed.text


def test_an_inner_quantifier_sees_the_outer_name(policy_dir: Path) -> None:
    body = (
        "for each security_group require every r in rules: any x in rules: x.priority == r.priority"
    )
    group = security_group(1, [sg_rule(priority=1), sg_rule(priority=5)])
    assert [str(r.status) for r in run(policy_dir, body, [group])] == ["pass"]
    body = "for each security_group forbid any r in rules: any x in rules: x.priority < r.priority"
    assert [str(r.status) for r in run(policy_dir, body, [group])] == ["fail"]


def test_for_each_resource_names_the_kinds_it_leaves_out() -> None:
    code, out, _ = run_cli(["explain", "--rule", "org_baseline.approved_region", "-f", "json"])
    assert code == 0
    doc = json.loads(out)
    assert doc["leaves_out"] == ["ram_role"]  # global: it has no region to read
    assert "ram_role" not in doc["applies_to"]
    code, out, _ = run_cli(["check", "--cost"])
    assert "leaves out (no such attributes): ram_role" in out
