"""Explanations: one proof per outcome, rendered as text, markdown and JSON, with fix
hints derived from the failing clause, and rules described without a snapshot.

The text explanation of one failing and one passing resource of every bundled rule, the
first of each in the packs' test cases (policies/alicloud/*.test.yaml), is pinned, so a
change in wording is read by a person before it lands.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import pack_test_files, run_cli, transcript
from syrupy.assertion import SnapshotAssertion

from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.pipeline import testing
from policyengine.pipeline.testing import Case, Loads
from policyengine.results.explain import render_proof_text
from policyengine.results.hints import fix_hints
from policyengine.results.proof_json import ProofDocument, proof_to_json
from policyengine.runtime import Proof, Result, Status, evaluate, trace

ROOT = Path(__file__).resolve().parent.parent
LOADS = Loads()


@cache
def _loaded(params: tuple[str, ...] = ()) -> Loaded:
    return load(bundled_policies(), params)


def _proofs(rule: str, test_file: testing.TestFile, case: Case) -> list[Proof]:
    loaded = LOADS.get(test_file.policies, case.params)
    # Named as a file a person would keep the resources in, so the pinned text reads so.
    store = Store(parse_snapshot(case.snapshot_text, "snapshot.json"), loaded.plan.model)
    return [trace(store, r) for r in evaluate(loaded.plan, store) if r.rule.id == rule]


def _first(rule: str, cases: list[tuple[testing.TestFile, Case]], status: Status) -> Proof | None:
    for test_file, case in cases:
        for proof in _proofs(rule, test_file, case):
            if proof.result.status is status:
                return proof
    return None


def _rules() -> list[Any]:
    """Each rule with the packs' test cases that name it, in the files' order."""
    by_rule: dict[str, list[tuple[testing.TestFile, Case]]] = {}
    for test_file in pack_test_files():
        for case in test_file.cases:
            for rule in dict.fromkeys(e.rule for e in case.expect):
                by_rule.setdefault(rule, []).append((test_file, case))
    return [pytest.param(rule, by_rule[rule], id=rule) for rule in sorted(by_rule)]


@pytest.mark.parametrize(("rule", "cases"), _rules())
def test_every_rule_explains_a_fail_and_a_pass(
    rule: str, cases: list[tuple[testing.TestFile, Case]], text_snapshot: SnapshotAssertion
) -> None:
    failing = _first(rule, cases, Status.FAIL)
    passing = _first(rule, cases, Status.PASS)
    assert failing is not None and passing is not None, "each rule has a failing and a passing case"
    assert fix_hints(failing), "a failure says what would make it pass"
    assert not fix_hints(passing)
    text = render_proof_text(failing) + "\n\n" + render_proof_text(passing)
    assert text == text_snapshot


# ---------------------------------------------------------------- the proof as data


def _example_proofs() -> list[Proof]:
    path = ROOT / "examples" / "ecs-account" / "snapshot.json"
    loaded = _loaded()
    store = Store(parse_snapshot(path.read_text(encoding="utf-8"), str(path)), loaded.plan.model)
    return [trace(store, r) for r in evaluate(loaded.plan, store)]


def test_a_cross_resource_proof_points_at_both_resources() -> None:
    proof = next(
        p
        for p in _example_proofs()
        if p.result.rule.id == "ecs_locations.disk_zone" and p.result.status is Status.FAIL
    )
    doc = proof_to_json(proof)
    disk, instance = doc["resource"], doc["related"]
    assert (disk["kind"], instance["kind"]) == ("disk", "instance")
    pointers = {e["pointer"] for e in doc["evidence"]}
    assert f"{disk['pointer']}/zone" in pointers
    assert f"{instance['pointer']}/zone" in pointers
    texts = " ".join(e["text"] for e in doc["evidence"])
    assert disk["zone"] in texts and instance["zone"] in texts
    assert disk["id"] in texts and instance["id"] in texts
    assert any(e["kind"] == "follow" for e in doc["evidence"]), "the link is evidence too"
    assert doc["hints"][0].startswith(f"would pass if the zone of disk {disk['id']} were")


def test_the_json_proof_round_trips() -> None:
    for proof in _example_proofs():
        doc = proof_to_json(proof)
        again = ProofDocument.model_validate_json(json.dumps(doc)).model_dump(mode="json")
        assert again == doc


def test_clauses_name_the_side_that_decided() -> None:
    proof = next(
        p
        for p in _example_proofs()
        if p.result.rule.id == "ecs_locations.instance_zone" and p.result.status is Status.FAIL
    )
    clauses = proof_to_json(proof)["clauses"]
    assert [c["op"] for c in clauses] == ["all", "leaf"]
    assert clauses[0]["truth"] == clauses[1]["truth"] == "false"
    assert clauses[1]["text"] == "region_of(zone) == region"
    assert clauses[1]["test"]["op"] == "=="


def test_the_documented_schema_is_the_one_in_use() -> None:
    schema = json.loads((ROOT / "schemas" / "proof.schema.json").read_text(encoding="utf-8"))
    assert schema == ProofDocument.model_json_schema()


# ---------------------------------------------------------------- fix hints, by test


POLICY = """use alicloud.ecs

policy t {{
  rule r {{
    {body}
  }}
}}
"""


def _hints(tmp_path: Path, body: str, resource: dict[str, Any]) -> list[str]:
    path = tmp_path / "t.policy"
    path.write_text(POLICY.format(body=body), encoding="utf-8")
    loaded = load([path])
    store = Store(
        parse_snapshot(json.dumps({"resources": [resource]}), "s.json"), loaded.plan.model
    )
    (result,) = evaluate(loaded.plan, store)
    assert result.status is Status.FAIL
    return fix_hints(trace(store, result))


DISK = {
    "kind": "disk",
    "id": "d-00000000000000000001",
    "region": "cn-hangzhou",
    "zone": "cn-hangzhou-h",
    "category": "cloud",
    "tags": {"env": "prod"},
}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            'for each disk require category == "cloud_essd"',
            'would pass if `category` of disk d-00000000000000000001 were "cloud_essd"',
            id="comparison",
        ),
        pytest.param(
            'for each disk forbid category == "cloud"',
            'would pass if `category` of disk d-00000000000000000001 were anything but "cloud"',
            id="forbidden comparison",
        ),
        pytest.param(
            'for each disk require region in ["cn-beijing", "cn-shanghai"]',
            "would pass if `region` of disk d-00000000000000000001 were one of "
            '["cn-beijing", "cn-shanghai"]',
            id="membership",
        ),
        pytest.param(
            'for each disk require tags["owner"] is set',
            'would pass if `tags["owner"]` of disk d-00000000000000000001 were set',
            id="presence",
        ),
        pytest.param(
            'for each disk require category matches "cloud_(essd|auto)"',
            "would pass if `category` of disk d-00000000000000000001 matched /cloud_(essd|auto)/",
            id="regex",
        ),
        pytest.param(
            'for each disk require not (category == "cloud")',
            'would pass if `category` of disk d-00000000000000000001 were anything but "cloud"',
            id="negation",
        ),
        pytest.param(
            'for each disk require tags["env"] == "dev" and category == "cloud"',
            'would need `tags["env"]` of disk d-00000000000000000001 to be "dev"',
            id="a necessary part of an and",
        ),
    ],
)
def test_fix_hints(tmp_path: Path, body: str, expected: str) -> None:
    assert _hints(tmp_path, body, DISK) == [expected]


def test_either_side_of_an_or_is_enough(tmp_path: Path) -> None:
    hints = _hints(tmp_path, 'for each disk require category == "a" or zone == "b"', DISK)
    assert hints == [
        'would pass if `category` of disk d-00000000000000000001 were "a"',
        'would pass if `zone` of disk d-00000000000000000001 were "b"',
    ]


# ---------------------------------------------------------------- through the CLI


EXAMPLE = "examples/ecs-account/snapshot.json"


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # paths in output are relative to the working directory


def test_explain_a_rule_without_a_snapshot(text_snapshot: SnapshotAssertion) -> None:
    out = "\n".join(
        transcript(["explain", "--rule", rule, *fmt])
        for rule, fmt in [
            ("ecs_locations.disk_zone", []),
            ("org_baseline.no_public_ssh", []),
            ("image_region", ["--format", "markdown"]),
            ("ecs_locations.snapshot_region", ["--format", "json"]),
            ("disk_zon", []),
        ]
    )
    assert out == text_snapshot


def test_explain_an_error_names_the_missing_attribute(tmp_path: Path) -> None:
    doc = json.loads((ROOT / EXAMPLE).read_text(encoding="utf-8"))
    disk = next(r for r in doc["resources"] if r["kind"] == "disk" and "encrypted" in r)
    del disk["encrypted"]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = transcript(["explain", str(path), "--rule", "encrypted_disks", "--resource", disk["id"]])
    assert f"`encrypted` of disk {disk['id']} is missing" in out
    assert "exit 1" in out


def test_explain_a_pass_says_why(text_snapshot: SnapshotAssertion) -> None:
    result: Result = next(
        p.result
        for p in _example_proofs()
        if p.result.rule.id == "ecs_locations.disk_zone" and p.result.status is Status.PASS
    )
    out = transcript(["explain", EXAMPLE, "--rule", "disk_zone", "--resource", result.resource.key])
    assert "this requirement holds" in out
    assert out == text_snapshot


def test_explain_shows_the_waiver_that_covers_a_finding(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n"
        "  - rule: ecs_locations.disk_zone\n"
        "    resource: d-bp16n7nazpipgv3zqhn8\n"
        "    reason: moved in the next maintenance window\n"
        "    owner: platform-team\n"
        "    expires: 2027-01-31\n",
        encoding="utf-8",
    )
    args = ["explain", EXAMPLE, "--rule", "disk_zone", "--today", "2026-11-28"]
    code, out, _ = run_cli([*args, "--waivers", str(waivers)])
    assert code == 0  # the only finding explained is waived
    assert "= waived: moved in the next maintenance window, platform-team, until 2027-01-31" in out
    assert run_cli(args)[0] == 1
    code, out, _ = run_cli([*args, "--waivers", str(waivers), "--format", "json"])
    [doc] = json.loads(out)["explanations"]
    assert doc["waiver"]["owner"] == "platform-team"
    # Past its date, the waiver covers nothing here (evaluate fails the run for it).
    assert run_cli([*args[:-1], "2027-02-01", "--waivers", str(waivers)])[0] == 1
