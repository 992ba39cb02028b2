"""Evaluation results as JUnit XML, which CI systems render as test reports: one test
suite per rule, one test case per outcome (rule x resource). A fail is a `failure`, an
error an `error`, a skip, a waived finding or one in the baseline a `skipped`; failures
and errors carry the explanation. The run's counts are attributes of `testsuites`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator

from policyengine.outputs.finding import explanation, primary
from policyengine.results.explain import subject
from policyengine.results.report import Finding, Report, summary_line, verdict_line

_TAGS = {"fail": "failure", "error": "error"}
# Characters XML 1.0 cannot hold even escaped; a snapshot value may contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _count(element: ET.Element, cases: list[Finding]) -> None:
    kinds = Counter(map(_kind, cases))  # one pass: a report has an outcome per resource
    element.set("tests", str(len(cases)))
    element.set("failures", str(kinds["failure"]))
    element.set("errors", str(kinds["error"]))
    element.set("skipped", str(kinds["skipped"]))


def _kind(f: Finding) -> str:
    if f.baselined or f.waiver is not None:
        return "skipped"
    return _TAGS.get(f.result.status.value, "skipped" if f.status.value == "skipped" else "")


def _case(report: Report, f: Finding) -> ET.Element:
    rule = f.result.rule
    res = f.result.resource
    # The file the user has (an export's response file, not its folder); the line only
    # for a finding, where a CI system shows it.
    case = ET.Element(
        "testcase",
        {
            "classname": rule.id,
            "name": _clean(subject(f.result)),
            "file": report.place(res.file, res.pointer).file,
        },
    )
    kind = _kind(f)
    if kind in ("failure", "error"):
        at = primary(report, f)
        case.set("file", at.file)
        case.set("line", str(at.line))
        text = _clean(explanation(report, f))
        child = ET.SubElement(
            case,
            kind,
            {"message": text.split("\n", 1)[0], "type": f"{rule.severity} {rule.enforcement}"},
        )
        child.text = text
    elif kind == "skipped":
        if f.baselined:
            reason = "in the baseline"
        elif f.waiver is not None:
            reason = f.waiver.note()
        else:
            reason = f.result.reason or "not applicable"
        ET.SubElement(case, "skipped", {"message": _clean(reason)})
    return case


# Test cases made into elements and text at a time (`render_parts`).
_CASES_AT_ONCE = 1000
# Where a suite's test cases go in the document's frame: an element no output holds (a
# `<` in a text or an attribute is written `&lt;`).
_CASES = "policyengine-cases"
# Before each test case but a suite's first, as `ET.indent` writes the whole document.
_BETWEEN_CASES = "\n    "
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def render(report: Report, show_all: bool = False) -> str:
    """Every outcome is a test case, whatever `show_all` says: a test report that left
    out the passes would not say what ran."""
    return "".join(render_parts(report))


def render_parts(report: Report) -> Iterator[str]:
    """`render`'s text, made a piece at a time as it is written: the document's frame
    (the suites, their counts and properties, the summary) whole, and each suite's test
    cases between, a thousand at a time, so that the elements and text of every outcome
    are never in memory at once (at 100,000 instances, 1.17 million test cases: 162 MB
    of XML, and the run's peak memory was 2,270 MB with the document made whole). The
    pieces are the bytes `ET.indent` and `ET.tostring` write of the whole document."""
    root = ET.Element("testsuites", {"name": "policyengine"})
    _count(root, report.findings)
    summary = report.summary()
    root.set("rules-loaded", str(summary["rules_loaded"]))
    root.set("rules-evaluated", str(summary["rules_evaluated"]))
    root.set("resources", str(summary["resources"]))
    root.set("waived", str(summary["waived"]))
    root.set("baselined", str(summary["baselined"]))
    by_rule: dict[str, list[Finding]] = {rule.id: [] for rule in report.plan.rules}
    for f in report.findings:
        by_rule[f.result.rule.id].append(f)
    for rule in report.plan.rules:
        cases = by_rule[rule.id]
        suite = ET.SubElement(root, "testsuite", {"name": rule.id, "file": rule.span.file})
        _count(suite, cases)
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("title", rule.title),
            ("severity", rule.severity),
            ("enforcement", rule.enforcement),
            ("source", rule.span.location()),
        ):
            ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
        if cases:
            ET.SubElement(suite, _CASES)  # indented where the first case is
    out = ET.SubElement(root, "system-out")
    notes = [f"{n.level}: {n.message}" for n in report.notices()]
    out.text = _clean("\n".join([*notes, summary_line(report), verdict_line(report)]))
    ET.indent(root)
    frame = _DECLARATION + ET.tostring(root, encoding="unicode")
    marker, start = f"<{_CASES} />", 0
    for rule in report.plan.rules:
        cases = by_rule[rule.id]
        if cases:
            at = frame.index(marker, start)
            yield frame[start:at]
            yield from _cases_text(report, cases)
            start = at + len(marker)
    yield frame[start:]


def _cases_text(report: Report, cases: list[Finding]) -> Iterator[str]:
    """A suite's test cases as the whole document's indentation writes them, a thousand
    at a time: each batch written as the children of an element whose own tags are cut
    off (one `ET.tostring` for a thousand cases: each call makes a tree and a stream)."""
    for begin in range(0, len(cases), _CASES_AT_ONCE):
        batch = ET.Element("cases")
        batch.extend(_case(report, f) for f in cases[begin : begin + _CASES_AT_ONCE])
        for case in batch:
            ET.indent(case, level=2)  # its failure, error or skip, one level in
            case.tail = _BETWEEN_CASES
        batch[-1].tail = None
        text = ET.tostring(batch, encoding="unicode")
        del batch
        yield (_BETWEEN_CASES if begin else "") + text[len("<cases>") : -len("</cases>")]


def render_failure(kind: str, text: str) -> str:
    """Nothing was evaluated: one errored test case that says why."""
    root = ET.Element(
        "testsuites", {"name": "policyengine", "tests": "1", "failures": "0", "errors": "1"}
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": "policyengine", "tests": "1", "failures": "0", "errors": "1", "skipped": "0"},
    )
    case = ET.SubElement(suite, "testcase", {"classname": "policyengine", "name": "evaluate"})
    error = ET.SubElement(case, "error", {"message": f"{kind}; nothing was evaluated"})
    error.text = _clean(text)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
