"""Baselines: record today's findings, then gate only on new ones and list the fixed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli, transcript
from syrupy.assertion import SnapshotAssertion

EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"
# The example's planted findings, as its expected.json lists them.
PLANTED = len(json.loads((EXAMPLE.parent / "expected.json").read_text(encoding="utf-8")))


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLE, tmp_path / "snapshot.json")
    return tmp_path


def edit(path: Path, change: Any) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc["resources"])
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def encrypt_nothing(resources: list[dict[str, Any]]) -> None:
    """One new violation: the first encrypted disk is encrypted no more."""
    disk = next(r for r in resources if r["kind"] == "disk" and r.get("encrypted") is True)
    disk["encrypted"] = False


def test_a_baseline_of_the_example_gates_only_new_findings(workspace: Path) -> None:
    code, _, err = run_cli(["evaluate", "snapshot.json", "--write-baseline", "baseline.json"])
    assert code == 0
    assert f"wrote {PLANTED} findings to the baseline baseline.json" in err
    recorded = json.loads((workspace / "baseline.json").read_text())
    assert len(recorded["findings"]) == PLANTED

    code, out, _ = run_cli(["evaluate", "snapshot.json", "--baseline", "baseline.json"])
    assert code == 0
    assert "0 failed, 0 errors" in out and f"{PLANTED} baselined" in out

    edit(workspace / "snapshot.json", encrypt_nothing)
    code, out, _ = run_cli(
        ["evaluate", "snapshot.json", "--baseline", "baseline.json", "-f", "json"]
    )
    assert code == 1
    report = json.loads(out)
    (new,) = report["results"]
    assert new["rule"] == "org_baseline.encrypted_disks"
    assert report["summary"]["baselined"] == PLANTED
    assert report["summary"]["outcomes"]["fail"] == 1


def test_new_findings_in_text_sarif_and_junit(
    workspace: Path, text_snapshot: SnapshotAssertion
) -> None:
    run_cli(["evaluate", "snapshot.json", "--write-baseline", "baseline.json"])
    edit(workspace / "snapshot.json", encrypt_nothing)
    args = ["evaluate", "snapshot.json", "--baseline", "baseline.json"]
    assert transcript(args) == text_snapshot
    _, out, _ = run_cli([*args, "-f", "sarif"])
    results = json.loads(out)["runs"][0]["results"]
    (new,) = [r for r in results if r["baselineState"] == "new"]
    assert new["ruleId"] == "org_baseline.encrypted_disks"
    # Known findings stay in the SARIF, marked unchanged: code scanning would close a
    # result it no longer sees as fixed.
    unchanged = [r for r in results if r["baselineState"] == "unchanged"]
    assert len(unchanged) == PLANTED and len(results) == PLANTED + 1


def test_fixed_findings_are_listed(workspace: Path) -> None:
    run_cli(["evaluate", "snapshot.json", "--write-baseline", "baseline.json"])

    def fix_public_ip(resources: list[dict[str, Any]]) -> None:
        instance = next(r for r in resources if r.get("id") == "i-bp1ghz4o2ivix09gh757")
        instance["eip_address"] = {}

    edit(workspace / "snapshot.json", fix_public_ip)
    code, out, _ = run_cli(["evaluate", "snapshot.json", "--baseline", "baseline.json"])
    assert code == 0
    assert (
        "note: fixed since the baseline: org_baseline.no_public_ip instance i-bp1ghz4o2ivix09gh757"
        in out
    )
    assert f"{PLANTED - 1} baselined" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "expected a baseline written by `policyengine evaluate --write-baseline`"),
        ('{"version": 2, "findings": []}', "/version: expected baseline version 1"),
        ('{"version": 1, "findings": [{"rule": "r"}]}', "/findings/0: `fingerprint` is required"),
        ("{", "not valid JSON"),
    ],
)
def test_a_bad_baseline_exits_3_naming_the_place(workspace: Path, text: str, message: str) -> None:
    (workspace / "baseline.json").write_text(text, encoding="utf-8")
    code, _, err = run_cli(["evaluate", "snapshot.json", "--baseline", "baseline.json"])
    assert code == 3
    assert message in err and "baseline.json" in err
    assert "the baseline is not valid" in err


def test_a_missing_baseline_is_a_usage_error(workspace: Path) -> None:
    code, _, err = run_cli(["evaluate", "snapshot.json", "--baseline", "nosuch.json"])
    assert code == 2 and "no such baseline file: nosuch.json" in err
