"""Honest verdicts: one gate decides for every command, and nothing evaluated is its own
verdict. The same advisory finding exits 0 from `evaluate`, `explain`, `--operation` and
`--baseline-snapshot`; an operation the gate lets through says so, and what it adds; a
run in which no rule applied exits 3, never "PASSED"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

EXPORT = str(ROOT / "examples" / "aliyun-export")
ACROSS = str(ROOT / "examples" / "operations" / "attach-across-zones.json")
ADVISORY = """use alicloud.ecs

policy soft {
  rule disk_zone "A disk is attached only to instances in its zone" {
    severity high
    enforcement advisory
    disk attach requires same zone
  }

  rule encrypted "Disks are encrypted" {
    severity high
    enforcement advisory
    for each disk require encrypted
  }
}
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("soft.policy").write_text(ADVISORY, encoding="utf-8")
    doc = json.loads((ROOT / "examples" / "ecs-account" / "snapshot.json").read_text("utf-8"))
    disks = [r for r in doc["resources"] if r["kind"] == "disk"]
    for d in disks:
        d["encrypted"] = True
    Path("old.json").write_text(json.dumps(doc), encoding="utf-8")
    disks[0]["encrypted"] = False
    Path("new.json").write_text(json.dumps(doc), encoding="utf-8")
    return tmp_path


def test_an_advisory_finding_exits_the_same_way_from_every_command(work: Path) -> None:
    runs = {
        "evaluate": ["evaluate", "-p", "soft.policy", "new.json"],
        "explain": ["explain", "-p", "soft.policy", "new.json"],
        "baseline-snapshot": [
            "evaluate",
            "-p",
            "soft.policy",
            "--baseline-snapshot",
            "old.json",
            "new.json",
        ],
        "operation": ["evaluate", "-p", "soft.policy", EXPORT, "--operation", ACROSS],
    }
    codes = {name: run_cli(args)[0] for name, args in runs.items()}
    assert codes == dict.fromkeys(runs, 0)


def test_an_operation_the_gate_lets_through_says_what_it_adds(work: Path) -> None:
    shutil.copytree(ROOT / "policies" / "alicloud", "pack")
    args = ["evaluate", "-p", "pack", EXPORT, "--operation", ACROSS, "--fail-on", "critical"]
    code, out, _ = run_cli(args)
    assert code == 0
    assert "allowed, no new finding" not in out
    assert "allowed by the gate (--fail-on critical)" in out
    assert "ecs_locations.disk_zone [high]" in out
    code, out, _ = run_cli([*args, "--format", "json"])
    (op,) = json.loads(out)["operations"]
    assert op["verdict"] == "pass" and op["findings"][0]["gating"] is False


@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", "-p", "model.model", "new.json"],
        ["evaluate", "-p", "model.model", "--format", "json", "new.json"],
        ["explain", "-p", "model.model", "new.json"],
        ["evaluate", "-p", "model.model", "--baseline-snapshot", "old.json", "new.json"],
    ],
)
def test_nothing_evaluated_is_not_passed(work: Path, command: list[str]) -> None:
    # `--policy` pointed at a model: it loads, and holds no rule.
    Path("model.model").write_text("model mine\nuse alicloud.ecs\n", encoding="utf-8")
    code, out, err = run_cli(command)
    assert code == 3, out + err
    assert "PASSED" not in out
    if "--format" in command:
        assert json.loads(out)["summary"]["verdict"] == "none"
    elif command[0] == "evaluate" and "--baseline-snapshot" not in command:
        assert "NOTHING EVALUATED: no rule applied to any resource" in out
    else:
        assert "nothing was evaluated" in err
