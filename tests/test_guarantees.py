"""The guarantees the README states, each shown here: regexes cannot blow up, message
templates interpolate values only, `use` reaches only the folders it may, a compiled
policy set evaluates from several threads at once, and no outcome is dropped."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from policyengine.diagnostics import DiagnosticError
from policyengine.interpreter import Status, evaluate
from policyengine.loader import Loaded, bundled_policies, load
from policyengine.report import build, render_json
from policyengine.snapshot import parse_snapshot
from policyengine.store import Store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"


def _policy(tmp_path: Path, body: str, extra: str = "") -> Loaded:
    path = tmp_path / "t.policy"
    path.write_text(
        f"use alicloud.ecs\n\npolicy t {{\n  rule r {{\n    {body}\n{extra}  }}\n}}\n",
        encoding="utf-8",
    )
    return load([path])


def _store(loaded: Loaded, resources: list[dict[str, Any]]) -> Store:
    return Store(parse_snapshot(json.dumps({"resources": resources}), "s.json"), loaded.plan.model)


DISK = {"kind": "disk", "id": "d-" + "1" * 20, "region": "cn-hangzhou", "zone": "cn-hangzhou-h"}


# ---------------------------------------------------------------- regexes


def test_a_catastrophic_pattern_finishes_at_once(tmp_path: Path) -> None:
    """`(a+)+$` backtracks exponentially in Python's `re` on a long non-matching string."""
    loaded = _policy(tmp_path, 'for each disk require category matches "(a+)+$"')
    store = _store(loaded, [{**DISK, "category": "a" * 50_000 + "!"}])
    started = time.perf_counter()
    (result,) = evaluate(loaded.plan, store)
    elapsed = time.perf_counter() - started
    assert result.status is Status.FAIL
    # Not a speed goal: Python's `re` would take longer than the age of the universe here.
    assert elapsed < 5, elapsed


def test_dollar_means_the_end_of_the_string(tmp_path: Path) -> None:
    loaded = _policy(tmp_path, 'for each disk require category matches "^cloud$"')
    store = _store(loaded, [{**DISK, "category": "cloud\n"}])
    assert [r.status for r in evaluate(loaded.plan, store)] == [Status.FAIL]


def test_a_pattern_re2_cannot_accept_is_a_check_error(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as info:
        _policy(tmp_path, 'for each disk require category matches "(a)\\\\1"')
    (diag,) = info.value.diagnostics
    assert diag.span.line == 5


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize(
    "template",
    [
        "{category.__class__}",
        "{__import__('os')}",
        "{id!r}",
        "{id:>10}",
        "{0}",
        "{category.__class__.__mro__}",
        "{tags.__class__}",
    ],
)
def test_a_template_cannot_reach_python(tmp_path: Path, template: str) -> None:
    with pytest.raises(DiagnosticError) as info:
        _policy(tmp_path, 'for each disk require category == "x"', f'    message "{template}"\n')
    assert {d.code for d in info.value.diagnostics} == {"PE114"}


# ---------------------------------------------------------------- `use` stays inside


MODEL = 'model secret.data\n\nkind thing id "t-" located in region\n'


def test_use_does_not_search_above_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "data.model").write_text(MODEL, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    policy = work / "p.policy"
    policy.write_text(
        "use secret.data\n\npolicy p {\n  rule r {\n    for each thing require id is set\n  }\n}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(work)
    with pytest.raises(DiagnosticError) as info:
        load([policy])
    assert [d.code for d in info.value.diagnostics][0] == "PE101"  # unknown model
    monkeypatch.chdir(tmp_path)  # the folder above is now inside the working directory
    assert [r.id for r in load([policy]).plan.rules] == ["p.r"]


@pytest.mark.parametrize("name", ["..secret.data", "/etc/passwd", "secret/../data"])
def test_a_model_name_cannot_spell_a_path(tmp_path: Path, name: str) -> None:
    policy = tmp_path / "p.policy"
    policy.write_text(f"use {name}\n", encoding="utf-8")
    with pytest.raises(DiagnosticError) as info:
        load([policy])
    assert info.value.diagnostics[0].code.startswith("PE0")  # a syntax error


# ---------------------------------------------------------------- concurrency


def test_one_plan_evaluates_several_snapshots_from_threads() -> None:
    loaded = load(bundled_policies())
    text = EXAMPLE.read_text(encoding="utf-8")
    docs = []
    for n in range(6):
        doc = json.loads(text)
        doc["resources"] = doc["resources"][n:]  # different accounts, different outcomes
        docs.append(json.dumps(doc))

    def run(doc: str) -> str:
        store = Store(parse_snapshot(doc, "account.json"), loaded.plan.model)
        return render_json(build(loaded.plan, [store]))

    expected = [run(doc) for doc in docs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        for _ in range(3):
            assert list(pool.map(run, docs)) == expected
    assert len(set(expected)) == len(expected)


# ---------------------------------------------------------------- nothing dropped


def test_every_rule_gives_every_applicable_resource_an_outcome() -> None:
    loaded = load(bundled_policies())
    store = Store(parse_snapshot(EXAMPLE.read_text(encoding="utf-8"), "s.json"), loaded.plan.model)
    results = evaluate(loaded.plan, store)
    seen: dict[tuple[str, int], int] = {}
    for r in results:
        seen[(r.rule.id, r.resource.index)] = seen.get((r.rule.id, r.resource.index), 0) + 1
    expected_pairs = {
        (rule.id, res.index)
        for res in store.resources
        for rule in loaded.plan.by_kind.get(res.kind, ())
    }
    assert set(seen) == expected_pairs
    for rule in loaded.plan.rules:
        if rule.edge is None:  # one outcome per resource; a sentence gives one per edge
            assert all(n == 1 for (rid, _), n in seen.items() if rid == rule.id), rule.id
    summary = json.loads(render_json(build(loaded.plan, [store])))["summary"]
    assert sum(summary["outcomes"].values()) == len(results)


def test_the_report_is_byte_identical_across_runs() -> None:
    loaded = load(bundled_policies())
    text = EXAMPLE.read_text(encoding="utf-8")
    outputs = {
        render_json(
            build(loaded.plan, [Store(parse_snapshot(text, "s.json"), loaded.plan.model)]),
            show_all=True,
        )
        for _ in range(3)
    }
    assert len(outputs) == 1
