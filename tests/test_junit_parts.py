"""JUnit XML is made a piece at a time as it is written (`junit.render_parts`): the
document's frame, and each suite's test cases a batch at a time, so that the elements of
every outcome are never in memory at once. Whatever the batch, the pieces make the
document ElementTree writes of the whole tree, indented."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from example_report import example_report

from policyengine.outputs import junit
from policyengine.results import report as reports

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def as_element_tree_writes_it(text: str) -> str:
    """The document read back, indented and written again by ElementTree: the same text
    only if it is exactly how ElementTree writes that tree."""
    root = ET.fromstring(text.removeprefix(DECLARATION))
    ET.indent(root)
    return DECLARATION + ET.tostring(root, encoding="unicode")


def with_suites_without_cases() -> reports.Report:
    """The example's report without the outcomes of its first and last rules."""
    report = example_report()
    rules = {report.plan.rules[0].id, report.plan.rules[-1].id}
    return replace(report, findings=[f for f in report.findings if f.result.rule.id not in rules])


@pytest.mark.parametrize("empty_suites", [False, True])
@pytest.mark.parametrize("at_once", [1, 2, 3, 7, 1000])
def test_the_pieces_make_the_whole_document_whatever_the_batch(
    monkeypatch: pytest.MonkeyPatch, at_once: int, empty_suites: bool
) -> None:
    monkeypatch.setattr(junit, "_CASES_AT_ONCE", at_once)
    report = with_suites_without_cases() if empty_suites else example_report()
    text = "".join(junit.render_parts(report))
    assert text == as_element_tree_writes_it(text)
    root = ET.fromstring(text.removeprefix(DECLARATION))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [r.id for r in report.plan.rules]
    sizes = [len(s.findall("testcase")) for s in suites]
    assert sum(sizes) == len(report.findings) == int(root.get("tests", ""))
    assert (sizes[0] == sizes[-1] == 0) is empty_suites
    assert min(sizes[1:-1]) > 0
    assert [int(s.get("tests", "")) for s in suites] == sizes
    assert root.find("policyengine-cases") is None and "policyengine-cases" not in text
    assert text == junit.render(report)


def test_a_failure_keeps_its_explanation_and_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(junit, "_CASES_AT_ONCE", 2)
    root = ET.fromstring("".join(junit.render_parts(example_report())).removeprefix(DECLARATION))
    failures = root.findall("testsuite/testcase/failure")
    assert failures
    for case in root.iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            assert case.get("line") and failure.text and failure.get("message")


def test_a_batch_is_made_only_when_the_piece_before_it_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(junit, "_CASES_AT_ONCE", 3)
    made: list[object] = []
    real = junit._case

    def counted(report: reports.Report, f: reports.Finding) -> ET.Element:
        made.append(f)
        return real(report, f)

    monkeypatch.setattr(junit, "_case", counted)
    pieces = junit.render_parts(example_report())
    next(pieces)  # the frame up to the first suite's cases: none made yet
    assert made == []
    next(pieces)
    assert len(made) == 3
