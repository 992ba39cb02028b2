"""Waivers: a waived finding is skipped and named; an expired waiver fails the run by
name; one that matches nothing is reported; a fingerprint-bound waiver lapses when the
facts change; `waivers check` lints a file with the place of each problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli, transcript
from syrupy.assertion import SnapshotAssertion

EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"
DISK, INSTANCE = "d-bp16n7nazpipgv3zqhn8", "i-bp1us31ietd42pe50vjm"

# Only the rule under test, so that the run's verdict is this finding's.
ZONE_POLICY = """\
use alicloud.ecs

policy ecs_locations {
  severity high
  rule disk_zone "An EBS device can be attached only to ECS instances within the same zone" {
    disk attach requires same zone
  }
}
"""


def waiver(**fields: str) -> str:
    entry = {
        "rule": "ecs_locations.disk_zone",
        "resource": DISK,
        "reason": "moved in the next maintenance window",
        "owner": "platform-team",
        "expires": "2024-07-01",
        **fields,
    }
    lines = [
        f"  - {k}: {json.dumps(v)}" if i == 0 else f"    {k}: {json.dumps(v)}"
        for i, (k, v) in enumerate(entry.items())
    ]
    return "waivers:\n" + "\n".join(lines) + "\n"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLE, tmp_path / "snapshot.json")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "zone.policy").write_text(ZONE_POLICY, encoding="utf-8")
    return tmp_path


def evaluate(*extra: str, fmt: str = "text") -> tuple[int, str, str]:
    return run_cli(["evaluate", "snapshot.json", "-p", "policies", "-f", fmt, *extra])


def test_without_a_waiver_the_finding_fails(workspace: Path) -> None:
    code, out, _ = evaluate()
    assert code == 1
    assert f"FAIL    disk {DISK}" in out


def test_a_waived_finding_is_skipped_and_says_by_whom(workspace: Path) -> None:
    (workspace / "w.yaml").write_text(waiver(), encoding="utf-8")
    code, out, err = evaluate("--waivers", "w.yaml", "--today", "2024-06-03")
    assert code == 0, out + err
    assert (
        f"SKIPPED disk {DISK} → instance {INSTANCE} (waived: moved in the next maintenance "
        "window, platform-team, until 2024-07-01)"
    ) in out
    assert ": 0 failed, 0 errors," in out and ", 1 waived, 0 baselined" in out


def test_waived_output(workspace: Path, text_snapshot: SnapshotAssertion) -> None:
    (workspace / "w.yaml").write_text(waiver(), encoding="utf-8")
    args = ["evaluate", "snapshot.json", "-p", "policies", "--waivers", "w.yaml"]
    assert transcript([*args, "--today", "2024-06-03"]) == text_snapshot


def test_the_last_day_still_counts_and_the_next_fails_naming_the_waiver(workspace: Path) -> None:
    (workspace / "w.yaml").write_text(waiver(), encoding="utf-8")
    code, _, _ = evaluate("--waivers", "w.yaml", "--today", "2024-07-01")
    assert code == 0
    code, out, _ = evaluate("--waivers", "w.yaml", "--today", "2024-07-02")
    assert code == 1
    assert (
        "error: waiver w.yaml:2:5 (rule ecs_locations.disk_zone, resource "
        f"{DISK}) expired on 2024-07-01 (owner platform-team); renew or remove it"
    ) in out
    assert f"FAIL    disk {DISK}" in out  # no longer waived
    assert "FAILED: 1 finding at or above severity low and 1 expired waiver" in out


def test_an_expired_waiver_fails_the_run_in_every_format(workspace: Path) -> None:
    (workspace / "w.yaml").write_text(waiver(), encoding="utf-8")
    for fmt in ("json", "sarif", "junit", "github", "markdown"):
        code, out, err = evaluate("--waivers", "w.yaml", "--today", "2025-01-01", fmt=fmt)
        assert code == 1, fmt
        assert "w.yaml:2:5" in out and "expired on 2024-07-01" in err, fmt


def test_a_fingerprint_bound_waiver_lapses_when_the_deciding_value_changes(
    workspace: Path,
) -> None:
    _, out, _ = evaluate(fmt="json")
    (finding,) = json.loads(out)["results"]
    (workspace / "w.yaml").write_text(waiver(fingerprint=finding["fingerprint"]), "utf-8")
    code, out, _ = evaluate("--waivers", "w.yaml", "--today", "2024-06-03", fmt="json")
    assert code == 0
    (waived,) = json.loads(out)["results"]
    assert waived["outcome"] == "skipped" and waived["waiver"]["waived_outcome"] == "fail"

    # The disk moves to yet another zone: the same rule still fails on the same pair,
    # but on other facts, so the waiver no longer covers it.
    doc: dict[str, Any] = json.loads((workspace / "snapshot.json").read_text())
    disk = next(r for r in doc["resources"] if r.get("id") == DISK)
    assert disk["zone"] == "cn-hangzhou-j"
    disk["zone"] = "cn-hangzhou-k"
    (workspace / "snapshot.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
    code, out, _ = evaluate("--waivers", "w.yaml", "--today", "2024-06-03")
    assert code == 1
    assert f"FAIL    disk {DISK}" in out
    assert "matches no finding; remove it (its fingerprint no longer matches" in out

    # Without the fingerprint, the same waiver still covers the finding.
    (workspace / "w.yaml").write_text(waiver(), encoding="utf-8")
    code, _, _ = evaluate("--waivers", "w.yaml", "--today", "2024-06-03")
    assert code == 0


def test_a_stale_waiver_is_reported(workspace: Path) -> None:
    (workspace / "w.yaml").write_text(
        waiver() + waiver(rule="ecs_locations.disk_zon", resource="d-*").replace("waivers:\n", ""),
        encoding="utf-8",
    )
    code, out, _ = evaluate("--waivers", "w.yaml", "--today", "2024-06-03")
    assert code == 0
    assert (
        "warning: waiver w.yaml:7:5 (rule ecs_locations.disk_zon, resource d-*) matches no "
        "finding; remove it (no rule `ecs_locations.disk_zon` is loaded; did you mean "
        "`ecs_locations.disk_zone`?)"
    ) in out


def test_globs_match_rule_and_resource(workspace: Path) -> None:
    (workspace / "w.yaml").write_text(waiver(rule="ecs_locations.*", resource="d-bp1*"), "utf-8")
    code, out, _ = evaluate("--waivers", "w.yaml", "--today", "2024-06-03")
    assert code == 0 and "1 waived" in out


def test_the_policy_folder_holds_the_default_waivers_file(workspace: Path) -> None:
    (workspace / "policies" / "waivers.yaml").write_text(waiver(), encoding="utf-8")
    code, out, _ = evaluate("--today", "2024-06-03", fmt="json")
    assert code == 0
    assert json.loads(out)["waivers"]["files"] == [str(Path("policies") / "waivers.yaml")]


def test_json_waivers_are_read_too(workspace: Path) -> None:
    entry = {
        "rule": "ecs_locations.disk_zone",
        "resource": DISK,
        "reason": "r",
        "owner": "o",
        "expires": "2024-07-01",
    }
    (workspace / "w.json").write_text(json.dumps({"waivers": [entry]}, indent=2), "utf-8")
    code, _, _ = evaluate("--waivers", "w.json", "--today", "2024-06-03")
    assert code == 0


BAD = """\
waivers:
  - rule: ecs_locations.disk_zone
    resource: d-1
    reason: ""
    owner: platform-team
    expires: next week
    fingerprnt: abc
  - rule: org_baseline.*
    resource: i-1
    owner: me
    expires: 2024-07-01
    fingerprint: not-hex
"""


def test_waivers_check_lints_a_file(workspace: Path, text_snapshot: SnapshotAssertion) -> None:
    (workspace / "bad.yaml").write_text(BAD, encoding="utf-8")
    code, _, err = run_cli(["waivers", "check", "bad.yaml"])
    assert code == 3
    assert "bad.yaml:4:13" in err  # the empty reason
    assert "bad.yaml:6:14" in err  # the date that is not a date
    assert "did you mean `fingerprint`?" in err
    assert transcript(["waivers", "check", "bad.yaml"]) == text_snapshot


def test_waivers_check_reports_expired_waivers(workspace: Path) -> None:
    (workspace / "w.yaml").write_text(waiver(), encoding="utf-8")
    code, out, _ = run_cli(["waivers", "check", "w.yaml", "--today", "2024-06-03"])
    assert code == 0 and "1 waiver in 1 file: 0 expired as of 2024-06-03" in out
    code, out, err = run_cli(["waivers", "check", "w.yaml", "--today", "2024-08-01"])
    assert code == 1
    assert "error[PE602]: waiver expired on 2024-07-01" in err and "--> w.yaml:2:5" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("waivers: [\n", "not valid YAML or JSON"),
        ("- rule: x\n", "expected a mapping with a `waivers` list"),
        ("waiver: []\n", "unknown field `waiver`"),
        ("waivers: {}\n", "`waivers` must be a list"),
        ("waivers:\n  - just text\n", "a waiver is a mapping"),
    ],
)
def test_malformed_waivers_files_exit_3(workspace: Path, text: str, message: str) -> None:
    (workspace / "w.yaml").write_text(text, encoding="utf-8")
    code, _, err = run_cli(["waivers", "check", "w.yaml"])
    assert code == 3 and message in err and "w.yaml:" in err
    code, out, err = evaluate("--waivers", "w.yaml", "--today", "2024-06-03", fmt="json")
    assert code == 3 and message in err
    assert json.loads(out)["error"] == "invalid waivers"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--today", "tomorrow"], "--today takes a date as YYYY-MM-DD"),
        (["--waivers", "nosuch.yaml", "--today", "2024-06-03"], "no such waivers file"),
    ],
)
def test_waiver_usage_errors_exit_2(workspace: Path, args: list[str], message: str) -> None:
    code, _, err = evaluate(*args)
    assert code == 2 and message in err
