"""The JSON report is made a piece at a time as it is written (`json_parts`): its results a
batch at a time, so that a report of every outcome is never whole in memory. Whatever the
batch, the pieces make exactly the document the standard library writes of the whole
report, and a batch's results are made only when the piece before is taken."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest
from example_report import FINDINGS, example_report

from policyengine.cli import console
from policyengine.core import files
from policyengine.results import report as reports
from policyengine.runtime import Status


def whole(report: reports.Report, show_all: bool) -> str:
    """The report's document as the standard library writes it, results and all at once."""
    doc = {
        **reports._head_json(report),
        "results": [
            reports.finding_json(f, report)
            for f in report.findings
            if reports.shown(report, f, show_all)
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("show_all", [False, True])
@pytest.mark.parametrize("at_once", [1, 2, 3, 7, 27, 28, 29, 1000])
def test_the_pieces_make_the_whole_document_whatever_the_batch(
    monkeypatch: pytest.MonkeyPatch, at_once: int, show_all: bool
) -> None:
    monkeypatch.setattr(reports, "_RESULTS_AT_ONCE", at_once)
    report = example_report()
    pieces = list(reports.json_parts(report, show_all=show_all))
    text = "".join(pieces)
    assert text == whole(report, show_all)
    shown = len(json.loads(text)["results"])
    if show_all:
        assert shown > FINDINGS
    else:
        assert shown == FINDINGS
    assert len(pieces) == 2 + -(-shown // at_once)  # the head, each batch, the end


def test_a_report_without_results_is_one_piece() -> None:
    report = example_report()
    kept = [f for f in report.findings if f.status is Status.PASS]
    passes = replace(report, findings=kept)  # no output lists a pass but with --all
    assert kept
    pieces = list(reports.json_parts(passes))
    assert len(pieces) == 1
    assert json.loads(pieces[0])["results"] == []
    assert pieces[0] == whole(passes, False)


def test_a_batch_is_made_only_when_the_piece_before_it_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reports, "_RESULTS_AT_ONCE", 5)
    made: list[object] = []
    real = reports.finding_json

    def counted(f: reports.Finding, report: reports.Report | None = None) -> object:
        made.append(f)
        return real(f, report)

    monkeypatch.setattr(reports, "finding_json", counted)
    pieces = reports.json_parts(example_report())
    next(pieces)  # the head: no result made yet
    assert made == []
    next(pieces)
    assert len(made) == 5
    next(pieces)
    assert len(made) == 10


def test_a_document_on_stdout_is_its_pieces_in_order_and_a_newline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    console.reset()
    console.document(iter(["{", "", '"a": 1', "}"]))
    assert out.getvalue() == '{"a": 1}\n'
    console.document("text")
    assert out.getvalue() == '{"a": 1}\ntext\n'
    console.reset()


@pytest.mark.parametrize(
    ("pieces", "written"),
    [
        ([], "\n"),
        ([""], "\n"),
        (["a"], "a\n"),
        (["a\n"], "a\n"),
        (["a\n", ""], "a\n"),
        (["a", "", "b"], "ab\n"),
        (["a\n", "b\n"], "a\nb\n"),
    ],
)
def test_a_file_written_ends_with_one_newline(pieces: list[str], written: str) -> None:
    assert "".join(files.line_ended(iter(pieces))) == written
    assert "".join(files.line_ended("".join(pieces))) == written
