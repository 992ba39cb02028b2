"""SARIF as GitHub code scanning reads it: at most 25,000 results a run (the most severe
kept, and a notification that says what was left out), results recorded in the baseline
kept as `unchanged`, and each rule's `helpUri` at its page of `policyengine docs`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from conftest import DATA, ROOT

from policyengine.core.semantics import Severity
from policyengine.frontend.loader import load
from policyengine.inputs import importers
from policyengine.outputs import Format, render, sarif
from policyengine.outputs.docs import render_docs
from policyengine.results import report as reports

SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
SEVERITIES = ["critical", "high", "medium", "low", "low", "low", "low", "low", "low", "low"]
DISKS = 26  # x 10 rules: 260 findings
CAP = 250  # the cap of these tests; code scanning's is sarif.MAX_RESULTS


def _run(folder: Path, disks: int) -> reports.Report:
    """Ten rules, each failing on every one of `disks` disks."""
    rules = "\n".join(
        f'  rule r{i} "Rule {i}" {{\n    severity {s}\n'
        "    for each disk require encrypted == true\n  }"
        for i, s in enumerate(SEVERITIES)
    )
    policy = folder / "scan.policy"
    policy.write_text(f'use alicloud.ecs\n\npolicy scan "Scan" {{\n{rules}\n}}\n', "utf-8")
    resources = [
        {
            "kind": "disk",
            "id": f"d-{i:020d}",
            "region": "cn-hangzhou",
            "zone": "cn-hangzhou-h",
            "encrypted": False,
        }
        for i in range(disks)
    ]
    snapshot = folder / "account.json"
    snapshot.write_text(json.dumps({"resources": resources}, indent=1), encoding="utf-8")
    loaded = load([policy])
    read = importers.read(snapshot, "auto", loaded.plan.model, importers.Options(None))
    store = importers.to_store(read.snapshot, loaded.plan.model, None)
    return reports.build(loaded.plan, [store])


@pytest.fixture(scope="module")
def big_run(tmp_path_factory: pytest.TempPathFactory) -> reports.Report:
    """A run of 260 findings: ten rules, each failing on every one of 26 disks."""
    return _run(tmp_path_factory.mktemp("big"), DISKS)


def _document(report: reports.Report, options: sarif.Options | None = None) -> Any:
    """The SARIF document of the report, read back from its text."""
    return json.loads(sarif.render(report, options=options or sarif.Options()))


def _valid(doc: dict[str, Any]) -> None:
    errors = [e.message for e in jsonschema_rs.validator_for(SCHEMA).iter_errors(doc)]
    assert not errors, errors[:5]


def test_the_cap_is_code_scanning_s() -> None:
    assert sarif.Options().max_results == sarif.MAX_RESULTS == 25_000


def test_a_run_over_the_cap_keeps_the_most_severe_and_says_what_was_cut(
    big_run: reports.Report,
) -> None:
    # The selection is the same whatever the cap: shown at 250, where a run over code
    # scanning's own would need more than 25,000 findings built and rendered.
    assert len(big_run.findings) == 10 * DISKS
    doc = _document(big_run, sarif.Options(max_results=CAP))
    _valid(doc)
    run = doc["runs"][0]
    results = run["results"]
    assert len(results) == CAP
    kept = [r["properties"]["severity"] for r in results]
    # Every critical, high and medium finding is kept; the cut falls on low ones.
    assert kept.count("critical") == kept.count("high") == kept.count("medium") == DISKS
    assert kept.count("low") == CAP - 3 * DISKS
    ranks = [Severity(s).rank for s in kept]
    assert ranks == sorted(ranks, reverse=True)
    (notice,) = [
        n
        for n in run["invocations"][0]["toolExecutionNotifications"]
        if "results are listed" in n["message"]["text"]
    ]
    assert notice["level"] == "warning"
    assert notice["message"]["text"].startswith(
        "250 of 260 results are listed, the most severe first: code scanning takes at most 250"
    )
    assert "Left out: 10 low." in notice["message"]["text"]
    assert run["properties"]["resultsLeftOut"] == 10


def test_a_run_under_the_cap_lists_every_result_in_report_order(
    big_run: reports.Report,
) -> None:
    doc = json.loads(render(Format.SARIF, big_run))  # 260 findings, under the default cap
    _valid(doc)
    run = doc["runs"][0]
    assert len(run["results"]) == 260
    # Snapshot order, then policy order: each disk's ten rules in turn.
    assert [r["ruleId"] for r in run["results"]] == [
        f"scan.r{i}" for _ in range(26) for i in range(10)
    ]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert not any("results are listed" in n["message"]["text"] for n in notes)
    assert run["properties"]["resultsLeftOut"] == 0


def _example() -> reports.Report:
    loaded = load(sorted((ROOT / "policies").rglob("*.policy")))
    snapshot = ROOT / "examples" / "ecs-account" / "snapshot.json"
    read = importers.read(snapshot, "auto", loaded.plan.model, importers.Options(None))
    return reports.build(loaded.plan, [importers.to_store(read.snapshot, loaded.plan.model)])


def test_each_rule_links_to_its_docs_page_when_a_base_url_is_given(tmp_path: Path) -> None:
    report = _example()
    base = "https://example.org/policies/"
    doc = _document(report, sarif.Options(docs_url=base))
    _valid(doc)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules and all(r["helpUri"].startswith(base) for r in rules)
    # The page and the anchor are the ones `policyengine docs` writes.
    files = sorted((ROOT / "policies").rglob("*.policy"))
    pages = render_docs(load(files))
    for rule in rules:
        page, anchor = rule["helpUri"][len(base) :].split("#")
        assert f'\n<a id="{anchor}"></a>\n' in pages[page], rule["helpUri"]
    encrypted = next(r for r in rules if r["id"] == "org_baseline.encrypted_disks")
    assert encrypted["helpUri"] == base + "baseline.md#encrypted_disks"


def test_no_help_uri_without_a_base_url() -> None:
    rules = _document(_example())["runs"][0]["tool"]["driver"]["rules"]
    assert not any("helpUri" in r for r in rules)
