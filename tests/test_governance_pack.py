"""policies/alicloud/governance.policy: a governance pack over the bundled ECS model that
a run reads only when it is named, each rule naming the convention it follows, every
rule tested passing and failing with full branch coverage."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from policyengine.frontend.loader import OPT_IN, bundled_policies, load

PACK = "alicloud/governance.policy"
SNAPSHOT = ROOT / "examples" / "org-pack" / "snapshot.json"
# A Cloud Config managed rule's or an InfraGuard rule's identifier, or a convention named.
CONVENTION = (
    r"(Cloud Config managed rules? [a-z0-9-]+|InfraGuard rule [a-z0-9-]+|Organisation convention: )"
)


def _rules() -> list[str]:
    return [r.id for r in load([ROOT / "policies" / PACK]).plan.rules]


def test_the_packs_tests_pass_with_full_branch_coverage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run_cli(["test", "policies/", "--coverage-min", "100"])
    assert code == 0, out + err
    assert "coverage 100.0%" in out
    lines = {m[1]: m[2] for m in re.finditer(r"^  (governance\.\w+)  (.*)$", out, re.M)}
    assert sorted(lines) == sorted(_rules())
    for rule, line in lines.items():
        assert line.startswith("pass yes fail yes"), rule
        done, total = map(int, re.findall(r"branches (\d+)/(\d+)", line)[0])
        assert done == total, rule


def test_each_rule_names_its_convention() -> None:
    rules = load([ROOT / "policies" / PACK]).plan.rules
    assert len(rules) >= 20
    for rule in rules:
        reference = rule.reference
        assert re.search(CONVENTION, reference), rule.id


def test_it_is_not_in_the_default_set() -> None:
    assert OPT_IN == (PACK,)
    default = {p.name for p in bundled_policies()}
    assert "governance.policy" not in default and "baseline.policy" in default
    code, out, _ = run_cli(["rules"])
    assert code == 0 and "governance." not in out


def test_a_run_names_it_by_its_path_among_the_packs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(["rules", "-p", PACK])
    assert code == 0
    assert {line.split()[0] for line in out.splitlines() if line.startswith("governance.")} == set(
        _rules()
    )
    code, out, err = run_cli(["rules", "-p", "alicloud/governanse.policy"])
    assert code == 2 and "no such policy file or folder: alicloud/governanse.policy" in out + err


def test_a_file_of_that_path_in_the_working_directory_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alicloud").mkdir()
    (tmp_path / PACK).write_text(
        "use alicloud.ecs\npolicy mine { rule r { for each disk require encrypted } }\n"
    )
    code, out, _ = run_cli(["rules", "-p", PACK])
    assert code == 0 and "mine.r" in out and "governance." not in out


def test_a_configuration_file_above_enables_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".policyengine.yaml").write_text(f"policies: [{PACK}]\n", encoding="utf-8")
    (tmp_path / "team").mkdir()
    monkeypatch.chdir(tmp_path / "team")
    code, out, err = run_cli(["evaluate", str(SNAPSHOT), "--format", "json", "--fail-on", "none"])
    assert code == 0, err
    ran = {r["rule"] for r in json.loads(out)["results"]}
    assert ran and ran <= set(_rules())


def test_the_docs_page_lists_every_rule_and_param() -> None:
    page = (ROOT / "docs" / "governance.md").read_text(encoding="utf-8")
    for rule in _rules():
        assert f"`{rule.split('.')[1]}`" in page, rule
    policy = (ROOT / "policies" / PACK).read_text(encoding="utf-8")
    for param in re.findall(r"^  param (\w+):", policy, re.M):
        assert f"`{param}`" in page, param


EXPORT = ROOT / "tests" / "fixtures" / "aliyun-governance"


def _findings(export: Path) -> list[dict[str, object]]:
    code, out, err = run_cli(
        ["evaluate", str(export), "-p", PACK, "--format", "json", "--fail-on", "none"]
    )
    assert code == 0, err
    results: list[dict[str, object]] = json.loads(out)["results"]
    return results


def test_over_an_aliyun_export_the_rules_decide() -> None:
    found = _findings(EXPORT)
    assert not [r for r in found if r["outcome"] == "error"]
    failed = {str(r["rule"]) for r in found}
    assert {"governance.instance_auto_renew", "governance.disk_encrypted"} <= failed


def test_an_export_without_an_api_a_rule_reads_is_an_error_naming_it(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(EXPORT, export)
    (export / "cn-hangzhou" / "DescribeInstanceAutoRenewAttribute.json").unlink()
    errors = [r for r in _findings(export) if r["outcome"] == "error"]
    assert errors and {r["rule"] for r in errors} == {"governance.instance_auto_renew"}
    assert all("DescribeInstanceAutoRenewAttribute" in json.dumps(r) for r in errors)
