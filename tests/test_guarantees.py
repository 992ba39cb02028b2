"""The guarantees the README states, each shown here: regexes cannot blow up, message
templates interpolate values only, `use` reaches only the folders it may, a compiled
policy set evaluates from several threads at once, and no outcome is dropped."""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from policyengine.cli import main
from policyengine.core.diagnostics import DiagnosticError
from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.results.report import build, render_json
from policyengine.runtime import Status, evaluate

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


# ---------------------------------------------------------------- limits


def test_a_snapshot_over_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYENGINE_MAX_INPUT_BYTES", "1000")
    code, _, err = run_cli(["evaluate", str(EXAMPLE)])
    assert code == 3
    assert "larger than 1000 bytes, the limit (POLICYENGINE_MAX_INPUT_BYTES sets it)" in err


@pytest.mark.parametrize("depth", [200, 1100])
def test_json_nested_past_the_limit_is_an_input_error(tmp_path: Path, depth: int) -> None:
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    text = json.dumps(doc)
    nested = "[" * depth + '{"$unknown": "x"}' + "]" * depth  # walks would recurse here
    path = tmp_path / "deep.json"
    path.write_text(text.replace('"resources": [{', f'"resources": [{{"junk": {nested}, ', 1))
    code, _, err = run_cli(["evaluate", str(path)])
    assert code == 3, err
    assert "nested deeper than 128 levels, the limit (POLICYENGINE_MAX_JSON_DEPTH" in err


def test_a_policy_over_the_size_limit_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "big.policy"
    policy.write_text("use alicloud.ecs\n" + "# padding\n" * 100, encoding="utf-8")
    monkeypatch.setenv("POLICYENGINE_MAX_POLICY_BYTES", "100")
    code, out, err = run_cli(["check", str(policy)])
    assert code == 3
    assert "error[PE003]" in out + err and "larger than 100 bytes" in out + err


def test_a_pathological_rule_stops_with_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYENGINE_MAX_OUTCOME_STEPS", "10000")
    body = (
        "for each security_group require every a in rules: every b in rules: "
        "every c in rules: a.priority <= 100"
    )
    loaded = _policy(tmp_path, body)
    rule = {
        "direction": "ingress",
        "policy": "Accept",
        "priority": 1,
        "ip_protocol": "TCP",
        "port_range": "22/22",
        "source_cidr_ip": "10.0.0.0/8",
    }
    group = {"kind": "security_group", "id": "sg-" + "1" * 20, "region": "cn-hangzhou"}
    store = _store(loaded, [{**group, "rules": [rule] * 100}])  # a million steps
    started = time.perf_counter()
    (result,) = evaluate(loaded.plan, store)
    assert time.perf_counter() - started < 30  # not a speed goal: it stopped, not hung
    assert result.status is Status.ERROR
    assert result.rule.id == "t.r"
    assert "stopped after 10,000 quantifier and count steps" in result.reason


def test_a_limit_set_to_nonsense_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The console script's entry point, called as the installed command calls it."""
    monkeypatch.setenv("POLICYENGINE_MAX_JSON_DEPTH", "deep")
    monkeypatch.setattr(sys, "argv", ["policyengine", "evaluate", str(EXAMPLE)])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    assert "POLICYENGINE_MAX_JSON_DEPTH='deep' is not a whole number" in capsys.readouterr().err


# ---------------------------------------------------------------- fail closed


def test_what_cannot_be_decided_is_an_error_never_a_pass(tmp_path: Path) -> None:
    loaded = load(bundled_policies())
    instance = {
        "kind": "instance",
        "id": "i-" + "1" * 20,
        "region": "cn-hangzhou",
        "zone": "cn-hangzhou-h",
        "image_id": "m-" + "9" * 20,  # names an image the snapshot lacks: dangles
        "security_group_ids": [],
        "tags": {"owner": "a", "cost-center": "b"},
    }
    disk = {"kind": "disk", "id": "d-" + "1" * 20, "region": "cn-hangzhou", "zone": "cn-hangzhou-h"}
    store = _store(loaded, [instance, disk])  # the disk lacks `encrypted`
    by_rule = {(r.rule.id, r.resource.kind): r for r in evaluate(loaded.plan, store)}
    missing = by_rule[("org_baseline.encrypted_disks", "disk")]
    assert missing.status is Status.ERROR and "`encrypted`" in missing.reason
    dangling = by_rule[("ecs_locations.image_region", "instance")]
    assert dangling.status is Status.ERROR and "not in the snapshot" in dangling.reason


def test_a_value_of_the_wrong_type_stops_the_run(tmp_path: Path) -> None:
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    disk = next(r for r in doc["resources"] if r["kind"] == "disk")
    disk["encrypted"] = "sometimes"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code, _, err = run_cli(["evaluate", str(path)])
    assert code == 3
    assert "/encrypted: expected true or false, found a string" in err


@pytest.mark.parametrize(
    "number", ["-9223372036854775809", "18446744073709551616", "123456789012345678901234567890"]
)
def test_a_number_beyond_64_bits_is_read_exactly(number: str) -> None:
    """orjson reads such an integer as a rounded float; the value must not change."""
    from policyengine.inputs.snapshot import load_json

    assert load_json(f'{{"n": {number}}}', "s.json") == {"n": int(number)}
    assert load_json(f'{{"n": {number}}}'.encode(), "s.json") == {"n": int(number)}
