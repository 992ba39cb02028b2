"""SARIF 2.1.0, the format GitHub code scanning and other tools read, for `check` and
`evaluate` alike: one skeleton (the log, the tool, locations, notifications) filled with
`check`'s diagnostics, each located by its span in a policy, or with `evaluate`'s
findings: each rule a `reportingDescriptor`, each fail or error a `result` located at its
resource in the snapshot (else at the rule in the policy), with the proof's other
resources as related locations and the finding's fingerprint as a partial fingerprint.
Paths are relative URIs, as the user named the file, so a CI upload resolves them
against the checkout.

Shaped for GitHub code scanning: at most 25,000 results a run (the most severe kept, and
a notification saying what was left out), findings recorded in the baseline kept with
`baselineState: unchanged` (left out, code scanning would close them as fixed), and
each rule's `helpUri` at its page of `policyengine docs` when those pages are published.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath
from typing import Any, assert_never
from urllib.parse import quote

import orjson

from policyengine.core import plan
from policyengine.core.diagnostics import CODES, Diagnostic, Level
from policyengine.core.semantics import Severity
from policyengine.core.source import Span
from policyengine.core.version import DISTRIBUTION, __version__
from policyengine.outputs.docs import rule_url
from policyengine.outputs.finding import (
    Place,
    declared,
    explanation,
    policy_place,
    primary,
    related,
)
from policyengine.results.report import Finding, Report, summary_line, verdict_line

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# The distribution's own page: the name `policyengine` elsewhere is another project's.
INFORMATION_URI = f"https://pypi.org/project/{DISTRIBUTION}/"

# ---------------------------------------------------------------- the skeleton


def log(
    rules: Sequence[dict[str, Any]],
    results: Sequence[dict[str, Any]],
    *,
    invocation: dict[str, Any] | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A SARIF document of one run of the tool, with the rules its results refer to."""
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "policyengine",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": list(rules),
            }
        },
        "columnKind": "unicodeCodePoints",  # our columns count characters
    }
    if invocation is not None:
        run["invocations"] = [invocation]
    run["results"] = list(results)
    if properties is not None:
        run["properties"] = properties
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def location(place: Place, index: int | None = None, span: Span | None = None) -> dict[str, Any]:
    """A physical location: the file as a relative URI and the region; with the `span`
    of the place, the region's end and its line's text."""
    region: dict[str, Any] = {"startLine": place.line, "startColumn": place.column}
    if span is not None:
        end_line, end_column = span.source.line_col(span.end)
        region["endLine"] = end_line
        region["endColumn"] = max(end_column, span.column + (span.end > span.start))
        snippet = span.source.line_text(span.line)
        if snippet:
            region["snippet"] = {"text": snippet}
    loc: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": uri(place.file)}, "region": region}
    }
    if index is not None:
        loc["id"] = index
    if place.label:
        loc["message"] = {"text": place.label}
    return loc


@cache  # a run names few files, each in many results
def uri(path: str) -> str:
    """A path as a SARIF artifact URI: relative paths stay relative (to the checkout, as
    code scanning expects), absolute ones become file URIs; stdin is `stdin`."""
    if path == "<stdin>":
        return "stdin"
    pure = PurePath(path)
    if pure.is_absolute():
        return "file://" + quote(pure.as_posix())
    return quote(pure.as_posix())


def _notification(level: str, text: str, place: Place | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"level": _NOTIFICATION_LEVEL[level], "message": {"text": text}}
    if place is not None:
        out["locations"] = [location(place)]
    return out


_NOTIFICATION_LEVEL = {"error": "error", "warning": "warning", "note": "note"}

# ---------------------------------------------------------------- check: diagnostics

# SARIF knows error, warning, note and none; diagnostic levels map onto them.
_DIAGNOSTIC_LEVEL = {
    Level.ERROR: "error",
    Level.WARNING: "warning",
    Level.FAIL: "error",
    Level.PASS: "none",
    Level.SKIPPED: "note",
}


def _diagnostic_result(diag: Diagnostic, index: int) -> dict[str, Any]:
    text = diag.message + (f" ({diag.label})" if diag.label else "")
    if diag.help:
        text += f"; {diag.help}"
    result: dict[str, Any] = {
        "ruleId": diag.code,
        "ruleIndex": index,
        "level": _DIAGNOSTIC_LEVEL[diag.level],
        "message": {"text": text},
        "locations": [location(policy_place(diag.span), span=diag.span)],
    }
    if diag.notes:
        result["properties"] = {"notes": list(diag.notes)}
    return result


def diagnostics_log(diags: Iterable[Diagnostic]) -> dict[str, Any]:
    """Diagnostics (of `check`) as one SARIF run; only the codes that occur are listed."""
    listed = list(diags)
    codes = sorted({d.code for d in listed})
    index = {code: i for i, code in enumerate(codes)}
    rules = [{"id": code, "shortDescription": {"text": CODES.get(code, code)}} for code in codes]
    return log(rules, [_diagnostic_result(d, index[d.code]) for d in listed])


# ---------------------------------------------------------------- evaluate: findings

FINGERPRINT_KEY = "policyengine/v1"


def security_severity(severity: Severity) -> str:
    """GitHub reads `security-severity` as a number in text: 9.0+ critical, 7.0+ high,
    4.0+ medium, else low."""
    match severity:
        case Severity.LOW:
            return "3.0"
        case Severity.MEDIUM:
            return "5.5"
        case Severity.HIGH:
            return "8.0"
        case Severity.CRITICAL:
            return "9.5"
        case _:
            assert_never(severity)


def sarif_level(severity: Severity) -> str:
    """The SARIF level of a finding of this severity."""
    match severity:
        case Severity.LOW:
            return "note"
        case Severity.MEDIUM:
            return "warning"
        case Severity.HIGH | Severity.CRITICAL:
            return "error"
        case _:
            assert_never(severity)


# GitHub code scanning takes at most this many results in a run.
MAX_RESULTS = 25_000


@dataclass(frozen=True)
class Options:
    # Where the pages of `policyengine docs` are published: each rule's helpUri.
    docs_url: str | None = None
    max_results: int = MAX_RESULTS


def _descriptor(rule: plan.RulePlan, docs_url: str | None) -> dict[str, Any]:
    help_lines = [rule.remediation or "No remediation is given for this rule."]
    if rule.reference:
        help_lines.append(f"Reference: {rule.reference}")
    statement = rule.sentence or rule.span.text.split("\n", 1)[0].strip()
    out: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title or rule.id},
        "fullDescription": {
            "text": f"{rule.title or rule.id} ({statement}; {rule.span.location()})"
        },
        "help": {"text": "\n".join(help_lines)},
        "defaultConfiguration": {"level": sarif_level(rule.severity)},
        "properties": {
            "security-severity": security_severity(rule.severity),
            "severity": rule.severity,
            "enforcement": rule.enforcement,
            "policy": rule.policy,
            # SARIF's tags are unique: a policy may be named like one of its tags.
            "tags": list(dict.fromkeys(["policyengine", rule.policy, *rule.tags])),
        },
    }
    if docs_url:
        out["helpUri"] = rule_url(docs_url, rule)
    return out


def _result(report: Report, f: Finding, index: int, baseline: bool) -> dict[str, Any]:
    rule = f.result.rule
    place = primary(report, f)
    others = [p for p in related(report, f) if isinstance(p, Place)]
    block = declared(report, f)  # the `.tf` block to change, when the files were at hand
    if block is not None:
        others.insert(0, block)
    # The rule's clause is related too, unless it is already the primary location.
    if place.file != rule.span.file:
        others.append(policy_place(rule.span, f"rule {rule.id}"))
    out: dict[str, Any] = {
        "ruleId": rule.id,
        "ruleIndex": index,
        "kind": "fail" if f.finding else ("pass" if f.status.value == "pass" else "notApplicable"),
        "level": sarif_level(rule.severity) if f.finding else "none",
        "message": {"text": explanation(report, f)},
        "locations": [location(place)],
        "properties": {
            "outcome": f.result.status.value,
            "severity": rule.severity,
            "enforcement": rule.enforcement,
            "resource": f"{f.result.resource.kind} {f.result.resource.key}",
            "snapshot": f.result.resource.file,
        },
    }
    if others:
        out["relatedLocations"] = [location(p, i) for i, p in enumerate(others, 1)]
    if f.fingerprint is not None:
        out["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
    if f.waiver is not None:
        w = f.waiver
        out["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{w.reason} (owner {w.owner}, until {w.expires.isoformat()})",
                "location": location(Place(w.span.file, w.span.line, w.span.column)),
            }
        ]
    if baseline and f.finding:
        out["baselineState"] = "unchanged" if f.baselined else "new"
    return out


def _priority(f: Finding) -> tuple[bool, int, bool, bool]:
    """Which results to keep when there are too many: fails and errors before passes and
    skips, then the most severe, then new before baselined, then unwaived before waived."""
    return (not f.finding, -f.result.rule.severity.rank, f.baselined, f.waiver is not None)


def _listed(report: Report, show_all: bool, cap: int) -> tuple[list[Finding], list[Finding]]:
    """The findings a run lists, and those left out to stay within `cap`. Under the cap
    they keep the report's order; over it, the kept ones go most severe first."""
    wanted = [f for f in report.findings if show_all or f.finding]
    if len(wanted) <= cap:
        return wanted, []
    # In the order of `sorted(wanted, key=_priority)`, report order within a priority,
    # but gathered a priority at a time: there are few of them, and the sort's key, a
    # tuple held for each finding (1.17 million at 100,000 instances with --all), was
    # 45 MB of the run's peak.
    by_priority: dict[tuple[bool, int, bool, bool], list[Finding]] = {}
    for f in wanted:
        by_priority.setdefault(_priority(f), []).append(f)
    del wanted
    ranked = [f for priority in sorted(by_priority) for f in by_priority.pop(priority)]
    return ranked[:cap], ranked[cap:]


def _cut_notice(kept: int, cut: list[Finding]) -> str:
    by_severity = Counter(f.result.rule.severity for f in cut)
    left_out = ", ".join(f"{by_severity[s]:,} {s}" for s in reversed(Severity) if by_severity[s])
    return (
        f"{kept:,} of {kept + len(cut):,} results are listed, the most severe first: code "
        f"scanning takes at most {kept:,} a run. Left out: {left_out}. The JSON report "
        "(--format json) lists every one."
    )


def _frame(report: Report, kept: int, cut: list[Finding], options: Options) -> dict[str, Any]:
    """The document of a run that lists `kept` results and leaves `cut` out, with its
    results still to come: `"results": []`. All it says of them (how many were left out,
    and of which severity) is known before any is made."""
    notifications = [
        _notification(n.level, n.message, Place(n.file, n.line, 1) if n.file and n.line else None)
        for n in report.notices()
    ]
    if cut:
        notifications.append(_notification("warning", _cut_notice(kept, cut)))
    return log(
        [_descriptor(r, options.docs_url) for r in report.plan.rules],
        [],
        invocation={"executionSuccessful": True, "toolExecutionNotifications": notifications},
        properties={
            "summary": report.summary(),
            "summaryText": summary_line(report),
            "verdict": verdict_line(report),
            "threshold": report.threshold,
            "failOnError": report.gate.fail_on_error,
            "waiverFiles": report.waiver_files,
            "baseline": report.baseline,
            "resultsLeftOut": len(cut),
        },
    )


def _text(doc: dict[str, Any]) -> str:
    """Indented JSON, as json.dumps(indent=2, ensure_ascii=False) writes it: with an
    indent the json module encodes in Python, seconds for a run of 25,000 results;
    orjson takes a fraction of a second."""
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


# Results made into dictionaries and text at a time (`render_parts`). A hundred, not the
# JSON report's thousand: a SARIF result, with its locations, is heavier, and a thousand
# at once raised the peak at 10,000 instances with `--all` by 17 MB (148 MB against
# 131 MB), in the same time.
_RESULTS_AT_ONCE = 100
# The results are the run's, `runs[0].results`, and the run has more after them: the
# frame's text holds `_NO_RESULTS` where they go, and the whole document `_OPENED`, the
# results, then `_CLOSED`. A batch is written nested alike, `{"runs": [{"results":
# [...]}]}`, so that its items are indented as in the whole document: `_RESULTS_OPEN`
# and `_RESULTS_CLOSE` are its text around them, `_BETWEEN` the text between two.
_NO_RESULTS = '\n      "results": []'
_OPENED, _CLOSED = '\n      "results": [\n', "\n      ]"
_RESULTS_OPEN = '{\n  "runs": [\n    {' + _OPENED
_RESULTS_CLOSE = _CLOSED + "\n    }\n  ]\n}"
_BETWEEN = ",\n"


def render_parts(
    report: Report, show_all: bool = False, options: Options = Options()
) -> Iterator[str]:
    """The SARIF document, made a piece at a time as it is written: the results a
    hundred at a time, so that a run holds the dictionaries and text of a hundred of
    them at once, never of all it lists (at 10,000 instances, `--all` listed 25,000 of
    117,062 results: 40 MB of text, and the run's peak memory was 351 MB with them made
    whole)."""
    listed, cut = _listed(report, show_all, options.max_results)
    frame = _text(_frame(report, len(listed), cut, options))
    if not listed:
        yield frame
        return
    # The first `"results": []` at the run's indent is the run's own: the keys before it
    # (tool, columnKind, invocations) have other names, and deeper keys are indented more.
    at = frame.index(_NO_RESULTS)
    yield frame[:at] + _OPENED
    index = {rule.id: i for i, rule in enumerate(report.plan.rules)}
    baseline = report.baseline is not None
    for start in range(0, len(listed), _RESULTS_AT_ONCE):
        batch = listed[start : start + _RESULTS_AT_ONCE]
        docs = [_result(report, f, index[f.result.rule.id], baseline) for f in batch]
        text = _text({"runs": [{"results": docs}]})
        del docs
        yield (_BETWEEN if start else "") + text[len(_RESULTS_OPEN) : -len(_RESULTS_CLOSE)]
    yield _CLOSED + frame[at + len(_NO_RESULTS) :]


def render(report: Report, show_all: bool = False, options: Options = Options()) -> str:
    return "".join(render_parts(report, show_all, options))


def render_failure(kind: str, text: str) -> str:
    """A run that evaluated nothing: no results, and the reason as an error notification."""
    failed = _notification("error", f"{kind}; nothing was evaluated\n{text}")
    invocation = {"executionSuccessful": False, "toolExecutionNotifications": [failed]}
    return _text(log([], [], invocation=invocation))
