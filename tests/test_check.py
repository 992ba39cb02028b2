"""`policyengine check`: every error and warning in one run, in text, JSON and SARIF, and
the cost of each rule.

What the authoring warnings find is asserted by `tests/lint/*.policy` case files (cases
separated by `---`, each line that must warn ends with `# expect: PE15x`), so wording can
change without touching them; how the output reads is pinned by text snapshots.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
from conftest import DATA, ROOT, run_cli, transcript
from syrupy.assertion import SnapshotAssertion

from policyengine.core import plan
from policyengine.frontend.cost import plan_cost
from policyengine.frontend.lint import lint
from policyengine.frontend.loader import bundled_policies, front, load

LINT_CASES = Path(__file__).resolve().parent / "lint"
_EXPECT = re.compile(r"#\s*expect:\s*(PE\d{3}(?:[\s,]+PE\d{3})*)\s*$")


def _cases() -> list[tuple[str, str]]:
    out = []
    for path in sorted(LINT_CASES.glob("*.policy")):
        for text in path.read_text(encoding="utf-8").split("\n---\n"):
            title = text.splitlines()[0].lstrip("# ")
            out.append((title, text if text.endswith("\n") else text + "\n"))
    return out


@pytest.mark.parametrize(("title", "text"), _cases(), ids=[t for t, _ in _cases()])
def test_lint_case(title: str, text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("case.policy").write_text(text, encoding="utf-8")
    expected = {
        (number, code)
        for number, line in enumerate(text.splitlines(), start=1)
        if (m := _EXPECT.search(line))
        for code in re.findall(r"PE\d{3}", m.group(1))
    }
    checked = front([Path("case.policy")])
    assert [d for d in checked.diagnostics if d.level == "error"] == []
    found = lint(checked.checked, checked.vocabulary)
    assert {(d.span.line, d.code) for d in found} == expected


def test_the_bundled_packs_check_clean() -> None:
    code, out, _ = run_cli(["check", "--strict"])
    assert code == 0, out
    files = [p for p in (ROOT / "policies").rglob("*") if p.suffix in (".policy", ".model")]
    assert out.strip() == f"checked {len(files)} files: 0 errors, 0 warnings"


def test_three_mistakes_all_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    shutil.copy(DATA / "authoring" / "three_mistakes.policy", tmp_path / "rules.policy")
    monkeypatch.chdir(tmp_path)
    assert transcript(["check", "rules.policy"]) == text_snapshot


def test_errors_in_several_files_are_reported_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.policy").write_text("use alicloud.ecs\npolicy a {\n  rule r {\n", encoding="utf-8")
    Path("b.policy").write_text(
        "use alicloud.ecs\npolicy b {\n  rule r {\n    for each dsik require zone is set\n  }\n}\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(["check", "."])
    assert code == 3
    assert "a.policy:3:" in out and "error[PE001]" in out
    assert "b.policy:4:14" in out and "error[PE102]" in out
    assert out.rstrip().endswith("checked 2 files: 2 errors, 0 warnings")


def test_a_rule_id_declared_in_two_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = "use alicloud.ecs\npolicy p {\n  rule r {\n    for each disk require encrypted\n  }\n}\n"
    Path("a.policy").write_text(text, encoding="utf-8")
    Path("b.policy").write_text(text, encoding="utf-8")
    code, out, _ = run_cli(["check", "a.policy", "b.policy"])
    assert code == 3
    assert "error[PE108]: rule `p.r` is declared twice" in out
    assert "first declared at a.policy:3:8" in out


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["check", "warn.policy"], 0),
        (["check", "warn.policy", "--strict"], 1),
        (["check", "bad.policy", "--strict"], 3),
        (["check", "missing.policy"], 2),
    ],
)
def test_exit_codes(
    args: list[str], code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("warn.policy").write_text(
        "use alicloud.ecs\npolicy p {\n  param unused: int = 1\n"
        "  rule r {\n    for each disk require encrypted\n  }\n}\n",
        encoding="utf-8",
    )
    Path("bad.policy").write_text("use alicloud.ecs\npolicy p {\n", encoding="utf-8")
    assert run_cli(args)[0] == code


def test_json_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(DATA / "authoring" / "three_mistakes.policy", tmp_path / "rules.policy")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(["check", "rules.policy", "--format", "json"])
    doc = json.loads(out)
    assert code == 3
    assert doc["summary"] == {"errors": 3, "warnings": 2}
    assert [d["code"] for d in doc["diagnostics"]] == ["PE150", "PE102", "PE104", "PE114", "PE151"]
    assert doc["diagnostics"][1]["span"] == {
        "file": "rules.policy",
        "line": 7,
        "column": 5,
        "end_line": 7,
        "end_column": 9,
    }
    assert doc["diagnostics"][1]["help"] == "did you mean `disk`?"


def test_sarif_output_is_valid_sarif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(DATA / "authoring" / "three_mistakes.policy", tmp_path / "rules.policy")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(["check", "rules.policy", "--format", "sarif"])
    doc = json.loads(out)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(doc)
    assert code == 3
    (run,) = doc["runs"]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["PE150", "PE102", "PE104", "PE114", "PE151"]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)
    assert [r["level"] for r in results] == ["warning", "error", "error", "error", "warning"]
    location = results[1]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "rules.policy"
    assert location["region"] == {
        "startLine": 7,
        "startColumn": 5,
        "endLine": 7,
        "endColumn": 9,
        "snippet": {"text": "    dsik attach requires same zone"},
    }
    assert "did you mean `disk`?" in results[1]["message"]["text"]


def test_sarif_of_a_clean_run_is_valid(tmp_path: Path) -> None:
    code, out, _ = run_cli(["check", "--format", "sarif"])
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(json.loads(out))
    assert code == 0


# ---------------------------------------------------------------- cost


def _relations_used(rule: plan.RulePlan) -> set[str]:
    found = {rule.edge.name} if rule.edge is not None else set()
    pending: list[object] = [rule.where, rule.unless, rule.condition]
    while pending:
        item = pending.pop()
        if isinstance(item, plan.RelatedOp):
            found.add(item.relation.name)
        if isinstance(item, plan.LocatedOp):  # `disk located in region`: the region index
            found.add(f"{item.kind} by region")
        if hasattr(item, "__dataclass_fields__") and not isinstance(item, plan.RulePlan):
            pending.extend(getattr(item, name) for name in item.__dataclass_fields__)
        elif isinstance(item, tuple):
            pending.extend(item)
    return found


def test_cost_names_the_index_of_every_cross_resource_rule() -> None:
    compiled = load(bundled_policies()).plan
    costs = {c.rule: c for c in plan_cost(compiled)}
    crossing = 0
    for rule in compiled.rules:
        used = _relations_used(rule)
        indexed = {a.relation for a in costs[rule.id].accesses if a.how == "index"}
        assert indexed == used, rule.id
        assert not costs[rule.id].nested_scan
        crossing += bool(used)
    assert crossing == 19


def test_cost_of_relation_expressions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("rules.policy").write_text(
        "use alicloud.ecs\npolicy p {\n  rule r {\n    for each instance\n"
        "    require count(disk attach this) <= 16\n"
        "        and every g in this join security_group: g.rules is set\n  }\n}\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(["check", "rules.policy", "--cost"])
    assert code == 0
    assert out.splitlines()[2:] == [
        "p.r: once per resource of kind instance",
        "  index: `disk attach this`: hash lookup on the index of `disk attach instance` "
        "(reverse, instance → disk)",
        "  index: `this join security_group`: hash lookup on the index of "
        "`instance join security_group` (instance → security_group)",
        "1 rules: 1 use a relation index, 0 need a nested scan",
    ]


def test_cost_of_the_bundled_packs(text_snapshot: SnapshotAssertion) -> None:
    assert transcript(["check", "--cost"]) == text_snapshot


def test_cost_json(tmp_path: Path) -> None:
    code, out, _ = run_cli(["check", "--cost", "--format", "json"])
    doc = json.loads(out)
    disk_zone = next(c for c in doc["cost"] if c["rule"] == "ecs_locations.disk_zone")
    assert code == 0
    assert disk_zone["accesses"][0]["relation"] == "disk attach instance"
    assert disk_zone["nested_scan"] is False


def test_no_cost_report_when_there_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(DATA / "authoring" / "three_mistakes.policy", tmp_path / "rules.policy")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["check", "rules.policy", "--cost"])
    assert code == 3
    assert "no cost report: the policies have errors" in err
