"""Every rule of the bundled packs against its fixtures in tests/packs/<policy>/<rule>.json.

A fixture file holds cases: resources (and optionally a `locations` table and `params`)
and the exact outcomes the case's rule must report, each as (resource, related,
outcome), optionally with a `reason` the outcome's stated reason must contain. `related`
is the other end of a relation rule's edge: the resource it resolves to, or the id it
names when that is not in the snapshot; absent otherwise.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from differential import evaluate_both

from policyengine.interpreter import Result
from policyengine.loader import Loaded, bundled_policies, load
from policyengine.snapshot import parse_snapshot
from policyengine.store import Store

PACKS = Path(__file__).resolve().parent / "packs"
OUTCOMES = {"pass", "fail", "error", "skipped"}

Outcome = tuple[str, str | None, str]


@cache
def _loaded(params: tuple[str, ...] = ()) -> Loaded:
    return load(bundled_policies(), params)


def _fixture_files() -> list[Path]:
    return sorted(PACKS.glob("*/*.json"))


def _cases() -> list[Any]:
    out = []
    for path in _fixture_files():
        doc = json.loads(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            out.append(pytest.param(doc["rule"], case, id=f"{doc['rule']}: {case['name']}"))
    return out


def _related(result: Result) -> str | None:
    if result.target is not None:
        return result.target.key
    if result.edge is not None:
        return result.edge.value  # a dangling edge: the id it names
    return None


def _results(rule: str, case: dict[str, Any], tmp_path: Path) -> list[Result]:
    snapshot: dict[str, Any] = {"resources": case["resources"]}
    if "locations" in case:
        snapshot["locations"] = case["locations"]
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot, indent=2), encoding="utf-8")
    loaded = _loaded(tuple(case.get("params", ())))
    store = Store(parse_snapshot(path.read_text(encoding="utf-8"), str(path)), loaded.plan.model)
    return [r for r in evaluate_both(loaded.plan, store) if r.rule.id == rule]


def _run(rule: str, case: dict[str, Any], tmp_path: Path) -> list[Outcome]:
    return _sorted(
        (r.resource.key, _related(r), str(r.status)) for r in _results(rule, case, tmp_path)
    )


def _sorted(outcomes: Any) -> list[Outcome]:
    """In a stable order; a subject's outcome without a related resource sorts first."""
    return sorted(outcomes, key=lambda o: (o[0], o[1] or "", o[2]))


@pytest.mark.parametrize(("rule", "case"), _cases())
def test_rule_fixture(rule: str, case: dict[str, Any], tmp_path: Path) -> None:
    expected = _sorted((e["resource"], e.get("related"), e["outcome"]) for e in case["expect"])
    assert {outcome for _, _, outcome in expected} <= OUTCOMES
    results = _results(rule, case, tmp_path)
    got = _sorted((r.resource.key, _related(r), str(r.status)) for r in results)
    assert got == expected
    for e in case["expect"]:
        if "reason" in e:
            [match] = [
                r
                for r in results
                if (r.resource.key, _related(r), str(r.status))
                == (e["resource"], e.get("related"), e["outcome"])
            ]
            assert e["reason"] in match.reason


def test_every_bundled_rule_has_a_passing_and_a_failing_fixture() -> None:
    rules = {r.id for r in _loaded().plan.rules}
    assert rules, "no bundled rule was loaded"
    problems = []
    for rule in sorted(rules):
        policy, name = rule.split(".", 1)
        path = PACKS / policy / f"{name}.json"
        if not path.is_file():
            problems.append(f"{rule}: no fixture file {path.relative_to(PACKS.parent)}")
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("rule") != rule:
            problems.append(f"{path.name}: names rule {doc.get('rule')!r}, not {rule!r}")
        seen = {e["outcome"] for case in doc["cases"] for e in case["expect"]}
        for outcome in ("pass", "fail"):
            if outcome not in seen:
                problems.append(f"{rule}: no case expects a `{outcome}`")
    stale = [
        str(p.relative_to(PACKS))
        for p in _fixture_files()
        if f"{p.parent.name}.{p.stem}" not in rules
    ]
    problems += [f"{p}: no bundled rule has this fixture's name" for p in stale]
    assert not problems, "\n".join(problems)


def test_fixture_case_names_are_unique() -> None:
    for path in _fixture_files():
        names = [c["name"] for c in json.loads(path.read_text(encoding="utf-8"))["cases"]]
        assert len(names) == len(set(names)), path
