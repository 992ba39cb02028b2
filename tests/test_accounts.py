"""A baseline or a waiver written for one account hides nothing in another: the same
finding (same ids, same facts) in a snapshot of another account is reported, unless the
run asks otherwise (`--any-account` for a baseline, `account: "*"` in a waiver)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, run_cli


@pytest.fixture
def accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    doc = json.loads((ROOT / "examples" / "ecs-account" / "snapshot.json").read_text("utf-8"))
    for name, account in (("a.json", "111111111111"), ("b.json", "222222222222")):
        Path(name).write_text(json.dumps({**doc, "account": account}), encoding="utf-8")
    return tmp_path


def test_a_baseline_hides_findings_of_its_own_account_only(accounts: Path) -> None:
    code, _, err = run_cli(["evaluate", "a.json", "--write-baseline", "base.json"])
    assert code == 0, err  # every finding of a.json is now in the baseline
    entries = json.loads(Path("base.json").read_text("utf-8"))["findings"]
    assert entries and {e["account"] for e in entries} == {"111111111111"}
    assert run_cli(["evaluate", "a.json", "--baseline", "base.json"])[0] == 0
    code, out, _ = run_cli(["evaluate", "b.json", "--baseline", "base.json"])
    assert code == 1 and "FAILED" in out
    assert run_cli(["evaluate", "b.json", "--baseline", "base.json", "--any-account"])[0] == 0


@pytest.mark.parametrize(("account", "covers_b"), [("111111111111", False), ("*", True)])
def test_a_waiver_naming_an_account_is_kept_to_it(
    accounts: Path, account: str, covers_b: bool
) -> None:
    Path("waivers.yaml").write_text(
        "waivers:\n"
        f"  - {{rule: '*', resource: '*', reason: known, owner: team, expires: 2999-01-01,"
        f" account: '{account}'}}\n",
        encoding="utf-8",
    )
    args = ["--waivers", "waivers.yaml", "--today", "2026-01-01"]
    assert run_cli(["evaluate", *args, "a.json"])[0] == 0
    assert run_cli(["evaluate", *args, "b.json"])[0] == (0 if covers_b else 1)
    code, _, _ = run_cli(["explain", *args, "b.json"])
    assert code == (0 if covers_b else 1)
