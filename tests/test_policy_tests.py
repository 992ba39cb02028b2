"""`policyengine test`: the bundled packs' unit tests pass with full coverage, and a wrong
expectation fails with the explanation of what happened instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, run_cli, transcript
from syrupy.assertion import SnapshotAssertion

from policyengine.frontend.loader import bundled_policies, load
from policyengine.pipeline.testing import find_test_files, read_test_file

POLICY = """\
use alicloud.ecs

policy demo {
  rule encrypted "Disks are encrypted" {
    for each disk require encrypted == true and category != "local"
    remediation "Snapshot the disk and create an encrypted disk from the snapshot."
  }

  rule disk_zone {
    disk attach requires same zone
  }
}
"""

DISK = (
    "{kind: disk, id: d-bp1data0000000000001, region: cn-hangzhou, zone: cn-hangzhou-h, "
    "encrypted: false, category: cloud_essd, type: data, size: 40, status: In_use, "
    "attachments: [], tags: {}}"
)

WRONG = f"""\
cases:
  - name: an unencrypted disk
    rule: demo.encrypted
    resources: [{DISK}]
    expect:
      - {{resource: d-bp1data0000000000001, outcome: pass}}
  - name: a disk with no attachment
    rule: demo.disk_zone
    resources: [{DISK}]
    expect:
      - {{resource: d-bp1data0000000000001, outcome: pass}}
      - {{resource: d-bp1data0000000000999, outcome: fail}}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("demo.policy").write_text(POLICY, encoding="utf-8")
    return tmp_path


def test_the_bundled_packs_pass_with_full_coverage() -> None:
    code, out, err = run_cli(["test", str(ROOT / "policies"), "--coverage-min", "100"])
    assert code == 0, out + err
    assert "FAIL" not in out
    assert "coverage 100.0%" in out


def test_every_bundled_rule_is_tested() -> None:
    files = [read_test_file(p) for p in find_test_files([ROOT / "policies"])]
    tested = {e.rule for f in files for c in f.cases for e in c.expect}
    assert tested == {r.id for r in load(bundled_policies(opt_in=True)).plan.rules}


def test_a_wrong_expectation_fails_with_a_readable_diff(
    folder: Path, text_snapshot: SnapshotAssertion
) -> None:
    Path("demo.test.yaml").write_text(WRONG, encoding="utf-8")
    assert transcript(["test", "demo.test.yaml"]) == text_snapshot


def test_a_correct_file_passes_and_reports_its_coverage(
    folder: Path, text_snapshot: SnapshotAssertion
) -> None:
    right = WRONG.replace("outcome: pass}", "outcome: fail}", 1)
    right = right.replace(
        "      - {resource: d-bp1data0000000000001, outcome: pass}\n"
        "      - {resource: d-bp1data0000000000999, outcome: fail}\n",
        "      - {resource: d-bp1data0000000000001, outcome: skipped}\n",
    )
    Path("demo.test.yaml").write_text(right, encoding="utf-8")
    assert transcript(["test", ".", "--coverage"]) == text_snapshot


def test_coverage_min_gates(folder: Path) -> None:
    right = WRONG.replace("outcome: pass}", "outcome: fail}", 1).split("  - name: a disk")[0]
    Path("demo.test.yaml").write_text(right, encoding="utf-8")
    code, out, err = run_cli(["test", "demo.test.yaml", "--coverage-min", "90"])
    assert code == 1
    assert "1 cases: 1 passed, 0 failed" in out
    assert "FAILED: coverage 40.0% is below 90%" in err
    assert run_cli(["test", "demo.test.yaml", "--coverage-min", "40"])[0] == 0


def test_a_snapshot_file_and_params(folder: Path) -> None:
    Path("data.json").write_text(
        '{"resources": [{"kind": "key_pair", "name": "ops", "region": "cn-beijing"}]}',
        encoding="utf-8",
    )
    Path("regions.policy").write_text(
        'use alicloud.ecs\npolicy r {\n  param allowed: list of string = ["cn-hangzhou"]\n'
        "  rule region {\n    for each key_pair require region in allowed\n  }\n}\n",
        encoding="utf-8",
    )
    Path("regions.test.yaml").write_text(
        "cases:\n"
        "  - {name: default, rule: r.region, snapshot: data.json,\n"
        "     expect: [{resource: ops, outcome: fail}]}\n"
        "  - {name: param, rule: r.region, snapshot: data.json, params: {allowed: [cn-beijing]},\n"
        "     expect: [{resource: ops, outcome: pass}]}\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(["test", "regions.test.yaml"])
    assert code == 0, out
    assert out.endswith("2 cases: 2 passed, 0 failed\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cases: [", "demo.test.yaml:1:9: not valid YAML"),
        ("cases: []", "demo.test.yaml:/cases: list should have at least 1 item"),
        (
            "cases:\n  - {name: x, rule: demo.encrypted, resources: [], expect: "
            "[{resource: d, outcome: passed}]}\n",
            "demo.test.yaml:/cases/0/expect/0/outcome: input should be 'pass', 'fail'",
        ),
        (
            "cases:\n  - {name: x, expect: [{resource: d, outcome: pass}]}\n",
            "demo.test.yaml:/cases/0: give either `resources` or `snapshot`",
        ),
        (
            "cases:\n  - {name: x, rule: demo.encrypted, resources: [], expect: "
            "[{resource: d, outcome: fail, reason: unencrypted}]}\n",
            "demo.test.yaml:/cases/0/expect/0/reason: only an error or skipped outcome has a "
            "reason, not a fail",
        ),
        (
            "cases:\n  - {name: x, rule: demo.encrypted, resources: [], expect: "
            "[{resource: d, outcome: error, reason: ''}]}\n",
            "demo.test.yaml:/cases/0/expect/0/reason: string should have at least 1 character",
        ),
    ],
)
def test_an_invalid_test_file_is_reported_with_its_place(
    folder: Path, text: str, message: str
) -> None:
    Path("demo.test.yaml").write_text(text, encoding="utf-8")
    code, _, err = run_cli(["test", "demo.test.yaml"])
    assert code == 3
    assert message in err


def test_an_unknown_rule_fails_the_case(folder: Path) -> None:
    Path("demo.test.yaml").write_text(
        "cases:\n  - {name: x, rule: demo.encrypted_disks, resources: ["
        + DISK
        + "], expect: [{resource: d-bp1data0000000000001, outcome: fail}]}\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(["test", "demo.test.yaml"])
    assert code == 1
    assert "demo.encrypted_disks: no rule has this id" in out


DANGLING = (
    "{kind: disk, id: d-bp1data0000000000001, region: cn-hangzhou, zone: cn-hangzhou-h, "
    "instance_id: i-bp1web00000000000001, attachments: []}"
)


def test_a_pinned_reason_must_be_part_of_the_outcome_reason(
    folder: Path, text_snapshot: SnapshotAssertion
) -> None:
    Path("demo.test.yaml").write_text(
        "cases:\n"
        "  - name: the reason holds\n"
        "    rule: demo.disk_zone\n"
        f"    resources: [{DANGLING}]\n"
        "    expect:\n"
        "      - {resource: d-bp1data0000000000001, related: i-bp1web00000000000001,\n"
        "         outcome: error, reason: which is not in the snapshot}\n"
        "  - name: another reason\n"
        "    rule: demo.disk_zone\n"
        f"    resources: [{DANGLING}]\n"
        "    expect:\n"
        "      - {resource: d-bp1data0000000000001, related: i-bp1web00000000000001,\n"
        "         outcome: error, reason: has no zone}\n",
        encoding="utf-8",
    )
    assert transcript(["test", "demo.test.yaml"]) == text_snapshot


def test_each_outcome_needs_its_own_expectation(folder: Path) -> None:
    """Two key pairs of one name in two regions are two outcomes of one (rule, resource):
    one expectation does not stand for both."""
    Path("regions.policy").write_text(
        'use alicloud.ecs\npolicy r {\n  param allowed: list of string = ["cn-hangzhou"]\n'
        "  rule region {\n    for each key_pair require region in allowed\n  }\n}\n",
        encoding="utf-8",
    )
    pairs = (
        "[{kind: key_pair, name: ops, region: cn-hangzhou},"
        " {kind: key_pair, name: ops, region: cn-beijing}]"
    )

    def run(params: str, expect: str) -> tuple[int, str]:
        Path("regions.test.yaml").write_text(
            f"cases:\n  - {{name: x, rule: r.region, resources: {pairs}, params: {params},\n"
            f"     expect: [{expect}]}}\n",
            encoding="utf-8",
        )
        code, out, _ = run_cli(["test", "regions.test.yaml"])
        return code, out

    both = "{allowed: [cn-hangzhou, cn-beijing]}"
    code, out = run(both, "{resource: ops, outcome: pass}")
    assert code == 1
    assert "r.region  ops: not expected, got pass" in out
    code, out = run(both, "{resource: ops, outcome: pass}, {resource: ops, outcome: pass}")
    assert code == 0, out
    code, out = run("{}", "{resource: ops, outcome: pass}, {resource: ops, outcome: pass}")
    assert code == 1
    assert "r.region  ops: expected pass, got fail" in out
    code, out = run("{}", "{resource: ops, outcome: fail}, {resource: ops, outcome: pass}")
    assert code == 0, out
