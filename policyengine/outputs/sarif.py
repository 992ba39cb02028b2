"""Evaluation findings as SARIF 2.1.0, the format GitHub code scanning and other tools
read: each rule a `reportingDescriptor`, each fail or error a `result` located at its
resource in the snapshot (else at the rule in the policy), with the proof's other
resources as related locations and the finding's fingerprint as a partial fingerprint.
"""

from __future__ import annotations

import json
from typing import Any

from policyengine import __version__
from policyengine.core import plan
from policyengine.outputs.check_sarif import INFORMATION_URI, SCHEMA_URI, uri
from policyengine.outputs.finding import Place, explanation, policy_place, primary, related
from policyengine.results.report import Finding, Report, summary_line, verdict_line

FINGERPRINT_KEY = "policyengine/v1"

# GitHub reads `security-severity` as a number in text: 9.0+ critical, 7.0+ high,
# 4.0+ medium, else low.
SECURITY_SEVERITY = {"low": "3.0", "medium": "5.5", "high": "8.0", "critical": "9.5"}
LEVEL = {"low": "note", "medium": "warning", "high": "error", "critical": "error"}
_NOTIFICATION_LEVEL = {"error": "error", "warning": "warning", "note": "note"}


def _location(place: Place, index: int | None = None) -> dict[str, Any]:
    loc: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": uri(place.file)},
            "region": {"startLine": place.line, "startColumn": place.column},
        }
    }
    if index is not None:
        loc["id"] = index
    if place.label:
        loc["message"] = {"text": place.label}
    return loc


def _descriptor(rule: plan.RulePlan) -> dict[str, Any]:
    help_lines = [rule.remediation or "No remediation is given for this rule."]
    if rule.reference:
        help_lines.append(f"Reference: {rule.reference}")
    statement = rule.sentence or rule.span.text.split("\n", 1)[0].strip()
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title or rule.id},
        "fullDescription": {
            "text": f"{rule.title or rule.id} ({statement}; {rule.span.location()})"
        },
        "help": {"text": "\n".join(help_lines)},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "severity": rule.severity,
            "enforcement": rule.enforcement,
            "policy": rule.policy,
            "tags": ["policyengine", rule.policy, *rule.tags],
        },
    }


def _result(report: Report, f: Finding, index: int, baseline: bool) -> dict[str, Any]:
    rule = f.result.rule
    place = primary(report, f)
    others = [p for p in related(report, f) if isinstance(p, Place)]
    # The rule's clause is related too, unless it is already the primary location.
    if place.file != rule.span.file:
        others.append(policy_place(rule.span, f"rule {rule.id}"))
    out: dict[str, Any] = {
        "ruleId": rule.id,
        "ruleIndex": index,
        "kind": "fail" if f.finding else ("pass" if f.status.value == "pass" else "notApplicable"),
        "level": LEVEL[rule.severity] if f.finding else "none",
        "message": {"text": explanation(report, f)},
        "locations": [_location(place)],
        "properties": {
            "outcome": f.result.status.value,
            "severity": rule.severity,
            "enforcement": rule.enforcement,
            "resource": f"{f.result.resource.kind} {f.result.resource.key}",
            "snapshot": f.result.resource.file,
        },
    }
    if others:
        out["relatedLocations"] = [_location(p, i) for i, p in enumerate(others, 1)]
    if f.fingerprint is not None:
        out["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
    if f.waiver is not None:
        w = f.waiver
        out["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{w.reason} (owner {w.owner}, until {w.expires.isoformat()})",
                "location": _location(Place(w.span.file, w.span.line, w.span.column)),
            }
        ]
    if baseline and f.finding:
        out["baselineState"] = "new"
    return out


def _notification(level: str, text: str, place: Place | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"level": _NOTIFICATION_LEVEL[level], "message": {"text": text}}
    if place is not None:
        out["locations"] = [_location(place)]
    return out


def _driver(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "policyengine",
        "semanticVersion": __version__,
        "informationUri": INFORMATION_URI,
        "rules": rules,
    }


def document(report: Report, show_all: bool = False) -> dict[str, Any]:
    index = {rule.id: i for i, rule in enumerate(report.plan.rules)}
    results = [
        _result(report, f, index[f.result.rule.id], report.baseline is not None)
        for f in report.findings
        if not f.baselined and (show_all or f.finding)
    ]
    notifications = [
        _notification(n.level, n.message, Place(n.file, n.line, 1) if n.file and n.line else None)
        for n in report.notices()
    ]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": _driver([_descriptor(r) for r in report.plan.rules])},
                "columnKind": "unicodeCodePoints",
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "results": results,
                "properties": {
                    "summary": report.summary(),
                    "summaryText": summary_line(report),
                    "verdict": verdict_line(report),
                    "threshold": report.threshold,
                    "failOnError": report.gate.fail_on_error,
                    "waiverFiles": report.waiver_files,
                    "baseline": report.baseline,
                },
            }
        ],
    }


def render(report: Report, show_all: bool = False) -> str:
    return json.dumps(document(report, show_all), indent=2, ensure_ascii=False)


def render_failure(kind: str, text: str) -> str:
    """A run that evaluated nothing: no results, and the reason as an error notification."""
    doc = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": _driver([])},
                "invocations": [
                    {
                        "executionSuccessful": False,
                        "toolExecutionNotifications": [
                            _notification("error", f"{kind}; nothing was evaluated\n{text}")
                        ],
                    }
                ],
                "results": [],
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)
