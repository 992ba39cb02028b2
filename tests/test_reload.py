"""Loading the same policies again, as an editor, the language server or a program that
evaluates many inputs does: the checks and compiled rules of a recent load, what its rules
read and their closures are reused while every file, parameter value and limit is the
same, and made again when any of them changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.core.diagnostics import DiagnosticError
from policyengine.frontend.loader import bundled_policies, front, load
from policyengine.inputs.reads import attributes_read
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.runtime import Status, evaluate
from policyengine.runtime.compiled import _compiled_once

MODEL = 'model acme.vm "Machines"\nkind vm id "vm-" + 8 located in region {\n  size: int\n}\n'
GROWN = MODEL.replace("  size: int\n", "  size: int\n  disks: int\n")


def _policy(condition: str, param: str = "") -> str:
    return (
        'use acme.vm\n\npolicy p "P" {\n'
        + (f"  param {param}\n" if param else "")
        + f'  rule r "R" {{\n    severity low\n    for each vm require {condition}\n  }}\n}}\n'
    )


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "vm.model").write_text(MODEL, encoding="utf-8")
    return tmp_path


def test_the_same_files_give_the_same_rules_without_checking_again() -> None:
    first, again = load(bundled_policies()), load(bundled_policies())
    assert again.plan.rules == first.plan.rules
    # Reused, not made again: the very same compiled rules.
    assert all(a is b for a, b in zip(again.plan.rules, first.plan.rules, strict=True))


def test_a_changed_policy_is_checked_again(pack: Path) -> None:
    policy = pack / "p.policy"
    policy.write_text(_policy("size > 1"), encoding="utf-8")
    before = load([policy]).plan.rules[0]
    policy.write_text(_policy("size > 2"), encoding="utf-8")
    after = load([policy]).plan.rules[0]
    assert after.condition != before.condition
    policy.write_text(_policy("sizes > 2"), encoding="utf-8")
    with pytest.raises(DiagnosticError, match="sizes"):
        load([policy])


def test_a_changed_model_is_checked_again(pack: Path) -> None:
    policy = pack / "p.policy"
    policy.write_text(_policy("disks > 1"), encoding="utf-8")
    with pytest.raises(DiagnosticError, match="disks"):
        load([policy])
    (pack / "acme" / "vm.model").write_text(GROWN, encoding="utf-8")
    assert load([policy]).plan.rules[0].id == "p.r"  # the same policy text, now clean
    (pack / "acme" / "vm.model").write_text(MODEL, encoding="utf-8")
    with pytest.raises(DiagnosticError, match="disks"):
        load([policy])


def test_a_changed_param_value_is_compiled_again(pack: Path) -> None:
    policy = pack / "p.policy"
    policy.write_text(_policy("size > least", "least: int = 1"), encoding="utf-8")
    default, given = load([policy]), load([policy], ["least=5"])
    assert given.plan.rules[0].condition != default.plan.rules[0].condition
    assert load([policy]).plan.rules == default.plan.rules


def test_a_changed_limit_is_checked_again(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = pack / "p.policy"
    policy.write_text(_policy("not " * 10 + "size > 1"), encoding="utf-8")
    load([policy])
    monkeypatch.setenv("POLICYENGINE_MAX_NESTING", "5")
    with pytest.raises(DiagnosticError, match="deeper than 5"):
        load([policy])
    monkeypatch.delenv("POLICYENGINE_MAX_NESTING")
    load([policy])


def test_a_reload_reuses_what_its_rules_read_and_their_closures() -> None:
    # Checked anew each time: a plain reload gives the very plan kept (`plan_cache`).
    first = load(checked=front(bundled_policies())).plan
    again = load(checked=front(bundled_policies())).plan
    assert again is not first
    assert attributes_read(again) is attributes_read(first)
    made, reused = _compiled_once(first), _compiled_once(again)
    assert reused.rules.keys() == made.rules.keys() and reused.fallbacks == made.fallbacks
    assert all(reused.rules[r] is made.rules[r] for r in made.rules)


def test_a_rule_kept_compiled_keeps_to_the_step_limit_of_each_run(
    pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (pack / "acme" / "vm.model").write_text(
        MODEL.replace("  size: int\n", "  size: int\n  sizes: list of int\n"), encoding="utf-8"
    )
    policy = pack / "p.policy"
    policy.write_text(_policy("every s in sizes: s > 0"), encoding="utf-8")
    vm = {"kind": "vm", "id": "vm-00000001", "region": "r", "size": 1, "sizes": [1] * 6}
    snapshot = parse_snapshot(json.dumps({"resources": [vm]}), "s.json")
    loaded = load([policy])
    statuses = []
    for limit in ("100", "3", "100"):  # a stricter limit after a looser one, then again
        monkeypatch.setenv("POLICYENGINE_MAX_OUTCOME_STEPS", limit)
        [result] = evaluate(loaded.plan, Store(snapshot, loaded.plan.model))
        statuses.append(result.status)
    assert statuses == [Status.PASS, Status.ERROR, Status.PASS]
