"""The SARIF document is made a piece at a time as it is written (`sarif.render_parts`): its
results a batch at a time, so that a run's results are never whole in memory. The results
are nested in the run (`runs[0].results`) and the run goes on after them; whatever the
batch, the pieces make exactly the document the standard library writes of the whole run,
and a batch's results are made only when the piece before is taken."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache

import pytest
from example_report import FINDINGS, example_report

from policyengine.outputs import Format, render_parts, sarif
from policyengine.results import report as reports
from policyengine.runtime import Status

DOCS = "https://example.org/docs/"


@cache
def baselined_report() -> reports.Report:
    """The example against a baseline that records every other finding."""
    report = example_report()
    findings = [
        replace(f, baselined=f.finding and i % 2 == 0) for i, f in enumerate(report.findings)
    ]
    return replace(report, findings=findings, baseline="baseline.json")


def whole(report: reports.Report, show_all: bool, options: sarif.Options) -> str:
    """The run's document as the standard library writes it, results and all at once."""
    index = {rule.id: i for i, rule in enumerate(report.plan.rules)}
    listed, cut = sarif._listed(report, show_all, options.max_results)
    doc = sarif._frame(report, len(listed), cut, options)
    doc["runs"][0]["results"] = [
        sarif._result(report, f, index[f.result.rule.id], report.baseline is not None)
        for f in listed
    ]
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _pieces_of(listed: int, at_once: int) -> int:
    """The frame up to the results, each batch, the rest of the frame; or the frame alone."""
    return 2 + -(-listed // at_once) if listed else 1


@pytest.mark.parametrize("show_all", [False, True])
@pytest.mark.parametrize("at_once", [1, 2, 3, 7, 27, 28, 29, 1000])
def test_the_pieces_make_the_whole_document_whatever_the_batch(
    monkeypatch: pytest.MonkeyPatch, at_once: int, show_all: bool
) -> None:
    monkeypatch.setattr(sarif, "_RESULTS_AT_ONCE", at_once)
    report = example_report()
    pieces = list(sarif.render_parts(report, show_all))
    text = "".join(pieces)
    assert text == whole(report, show_all, sarif.Options())
    doc = json.loads(text)
    shown = len(doc["runs"][0]["results"])
    if show_all:
        assert shown > FINDINGS
    else:
        assert shown == FINDINGS
    assert doc["runs"][0]["properties"]["resultsLeftOut"] == 0
    assert len(pieces) == _pieces_of(shown, at_once)
    assert sarif.render(report, show_all) == text


@pytest.mark.parametrize("show_all", [False, True])
@pytest.mark.parametrize("at_once", [1, 4, 1000])
def test_the_pieces_of_a_run_against_a_baseline_with_docs_links(
    monkeypatch: pytest.MonkeyPatch, at_once: int, show_all: bool
) -> None:
    monkeypatch.setattr(sarif, "_RESULTS_AT_ONCE", at_once)
    report = baselined_report()
    text = "".join(render_parts(Format.SARIF, report, show_all=show_all, docs_url=DOCS))
    assert text == whole(report, show_all, sarif.Options(docs_url=DOCS))
    run = json.loads(text)["runs"][0]
    states = {r.get("baselineState") for r in run["results"] if r["kind"] == "fail"}
    assert states == {"new", "unchanged"}
    assert all(r["helpUri"].startswith(DOCS) for r in run["tool"]["driver"]["rules"])


@pytest.mark.parametrize("show_all", [False, True])
@pytest.mark.parametrize("cap", [0, 1, 5, 27])
@pytest.mark.parametrize("at_once", [1, 2, 3, 1000])
def test_the_pieces_of_a_run_cut_to_the_cap(
    monkeypatch: pytest.MonkeyPatch, at_once: int, cap: int, show_all: bool
) -> None:
    monkeypatch.setattr(sarif, "_RESULTS_AT_ONCE", at_once)
    report = baselined_report()
    options = sarif.Options(max_results=cap)
    pieces = list(sarif.render_parts(report, show_all, options))
    text = "".join(pieces)
    assert text == whole(report, show_all, options)
    run = json.loads(text)["runs"][0]
    assert len(run["results"]) == cap
    left_out = run["properties"]["resultsLeftOut"]
    assert left_out > 0
    assert (left_out + cap > FINDINGS) is show_all
    (notice,) = [
        n["message"]["text"]
        for n in run["invocations"][0]["toolExecutionNotifications"]
        if "results are listed" in n["message"]["text"]
    ]
    assert notice.startswith(f"{cap:,} of {cap + left_out:,} results are listed")
    assert len(pieces) == _pieces_of(cap, at_once)


def test_a_run_without_results_is_one_piece() -> None:
    report = example_report()
    kept = [f for f in report.findings if f.status is Status.PASS]
    passes = replace(report, findings=kept)  # no output lists a pass but with --all
    assert kept
    pieces = list(sarif.render_parts(passes))
    assert len(pieces) == 1
    run = json.loads(pieces[0])["runs"][0]
    assert run["results"] == []
    assert "properties" in run  # what follows the results is still written
    assert pieces[0] == whole(passes, False, sarif.Options())


def test_a_batch_is_made_only_when_the_piece_before_it_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sarif, "_RESULTS_AT_ONCE", 5)
    made: list[object] = []
    real = sarif._result

    def counted(
        report: reports.Report, f: reports.Finding, index: int, baseline: bool
    ) -> dict[str, object]:
        made.append(f)
        return real(report, f, index, baseline)

    monkeypatch.setattr(sarif, "_result", counted)
    pieces = sarif.render_parts(example_report())
    next(pieces)  # the frame up to the results: no result made yet
    assert made == []
    next(pieces)
    assert len(made) == 5
    next(pieces)
    assert len(made) == 10
    rest = list(pieces)
    assert len(made) == FINDINGS
    assert rest[-1].startswith('\n      ],\n      "properties": {')


@pytest.mark.parametrize("show_all", [False, True])
@pytest.mark.parametrize("cap", [0, 1, 5, 27])
def test_a_cut_run_keeps_the_findings_first_by_priority_in_report_order(
    cap: int, show_all: bool
) -> None:
    report = baselined_report()
    wanted = [f for f in report.findings if show_all or f.finding]
    ranked = sorted(wanted, key=sarif._priority)  # stable: report order within a priority
    assert len({sarif._priority(f) for f in wanted}) > 3
    assert sarif._listed(report, show_all, cap) == (ranked[:cap], ranked[cap:])
