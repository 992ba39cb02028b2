"""examples/org-pack: an organisation's own pack over the bundled model, extended rather
than copied. Its eleven rules read attributes a copied model once had to add; with
`extend` only they give exactly the outcomes they give over such a copy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, ROOT, run_cli

PACK = ROOT / "examples" / "org-pack"
COPIED = DATA / "org-pack-copied"


def _outcomes(folder: Path) -> tuple[set[tuple[str, str, str]], dict[str, int]]:
    code, out, err = run_cli(
        [
            "evaluate",
            "snapshot.json",
            "-p",
            str(folder / "policies"),
            "--format",
            "json",
            "--today",
            "2026-06-01",
        ]
    )
    assert code == 1, err
    report = json.loads(out)
    found = {(r["rule"], r["resource"]["id"], r["outcome"]) for r in report["results"]}
    return found, report["summary"]["outcomes"]


def test_extend_gives_the_outcomes_of_a_copied_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PACK)
    extended = _outcomes(PACK)
    # The same policies over a copy of the bundled model with the attributes added by hand,
    # found next to them before the bundled one.
    copy = tmp_path / "copy"
    shutil.copytree(COPIED, copy)
    (copy / "policies").mkdir()
    for policy in (PACK / "policies").glob("*.policy"):
        text = policy.read_text(encoding="utf-8").replace("use acme.org", "use alicloud.ecs")
        (copy / "policies" / policy.name).write_text(text, encoding="utf-8")
    shutil.copy(PACK / "snapshot.json", copy / "snapshot.json")
    shutil.copy(PACK / "policies" / "waivers.yaml", copy / "policies" / "waivers.yaml")
    monkeypatch.chdir(copy)
    copied = _outcomes(copy)
    assert extended == copied
    report, summary = extended
    fails = {(rule, resource) for rule, resource, outcome in report if outcome == "fail"}
    waived = {(rule, resource) for rule, resource, outcome in report if outcome == "skipped"}
    # Every rule fails once (one of them waived) and passes elsewhere.
    assert len(fails) == 10 and waived == {
        ("acme_network.enterprise_groups", "sg-bp10000000000000000c")
    }
    assert len({rule for rule, _ in fails | waived}) == 11
    assert summary == {"fail": 10, "error": 0, "pass": 26, "skipped": 10}


def test_the_copy_is_the_model_that_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the copy next to them, the rewritten policies read the bundled model, which
    # declares these attributes too; with a copy lacking one, they do not check.
    copy = tmp_path / "copy"
    shutil.copytree(COPIED, copy)
    model = copy / "alicloud" / "ecs.model"
    model.write_text(model.read_text().replace("  os_type:", "  os_kind:"))
    (copy / "p.policy").write_text(
        'use alicloud.ecs\npolicy p { rule r { for each instance require os_type == "linux" } }\n'
    )
    monkeypatch.chdir(copy)
    code, out, err = run_cli(["check", "p.policy"])
    assert code == 3 and "`os_type` is not declared for `instance`" in out + err


def test_the_pack_checks_is_formatted_and_its_tests_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PACK)
    assert run_cli(["check", "policies/"])[0] == 0
    assert run_cli(["fmt", "--check", "policies", "acme"])[0] == 0
    code, out, _ = run_cli(["test", "policies/"])
    assert code == 0, out
    assert out.rstrip().endswith("11 cases: 11 passed, 0 failed")
