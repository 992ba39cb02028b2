"""Results -> the report `evaluate` prints: text for people, JSON for machines.

Findings (fail and error) carry their evidence, which is recorded by re-running only
those pairs with tracing on; the fast path that produced the results recorded nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from policyengine import plan
from policyengine.explain import evidence as proof_evidence
from policyengine.explain import (
    fact_json,
    fingerprint,
    message,
    related_json,
    resource_json,
    subject,
)
from policyengine.interpreter import Proof, Result, Status, evaluate, trace
from policyengine.store import Store

REPORT_VERSION = 1
SEVERITIES = tuple(plan.SEVERITY_RANK)  # low to critical


@dataclass(frozen=True)
class Finding:
    result: Result
    proof: Proof | None  # recorded for fail and error outcomes


@dataclass
class Report:
    plan: plan.Plan
    snapshots: list[str]
    resources: int
    findings: list[Finding]  # every outcome, in snapshot order then policy order
    threshold: str = "low"

    @cached_property
    def counts(self) -> Counter[str]:
        """Outcomes by status."""
        return Counter(str(f.result.status) for f in self.findings)

    def gating(self) -> list[Finding]:
        """Fail and error outcomes at or above the threshold: what makes the run fail."""
        floor = plan.SEVERITY_RANK[self.threshold]
        return [
            f
            for f in self.findings
            if f.result.status in (Status.FAIL, Status.ERROR)
            and plan.SEVERITY_RANK[f.result.rule.severity] >= floor
        ]

    def applied_rules(self) -> int:
        return len({f.result.rule.id for f in self.findings})


def build(compiled: plan.Plan, stores: Sequence[Store], threshold: str = "low") -> Report:
    findings: list[Finding] = []
    for store in stores:
        for result in evaluate(compiled, store):
            proof = trace(store, result) if result.status in (Status.FAIL, Status.ERROR) else None
            findings.append(Finding(result, proof))
    return Report(
        compiled,
        [s.file for s in stores],
        sum(len(s.resources) for s in stores),
        findings,
        threshold,
    )


def _message(finding: Finding) -> str:
    if finding.proof is None:
        return finding.result.reason
    return message(finding.result, finding.proof)


# ---------------------------------------------------------------- text

_COLORS = {"fail": "31;1", "error": "35;1", "pass": "32", "skipped": "2", "dim": "2", "bold": "1"}


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_COLORS[style]}m{text}\x1b[0m" if color else text


def summary_line(report: Report) -> str:
    c = report.counts
    rules, applied = len(report.plan.rules), report.applied_rules()
    snaps = len(report.snapshots)
    head = (
        f"{rules} rule{'s' if rules != 1 else ''} evaluated over {report.resources} "
        f"resource{'s' if report.resources != 1 else ''} in {snaps} "
        f"snapshot{'s' if snaps != 1 else ''}"
    )
    if applied < rules:
        head += f" ({rules - applied} applied to no resource)"
    return (
        f"{head}: {c['fail']} failed, {c['error']} error{'s' if c['error'] != 1 else ''}, "
        f"{c['pass']} passed, {c['skipped']} skipped"
    )


def render_text(report: Report, *, show_all: bool = False, color: bool = False) -> str:
    out: list[str] = []
    by_rule: dict[str, list[Finding]] = {rule.id: [] for rule in report.plan.rules}
    for finding in report.findings:
        by_rule[finding.result.rule.id].append(finding)
    for rule in report.plan.rules:
        rows = by_rule[rule.id]
        shown = [f for f in rows if show_all or f.result.status in (Status.FAIL, Status.ERROR)]
        if not shown:
            continue
        where = f"{rule.span.file}:{rule.span.line}:{rule.span.column}"
        title = f"  {rule.title}" if rule.title else ""
        out.append(_paint(f"{rule.id}", "bold", color) + f"  [{rule.severity}]{title}")
        out.append(_paint(f"  --> {where}", "dim", color))
        if show_all and rule.excluded_kinds:
            kinds = ", ".join(rule.excluded_kinds)
            out.append(f"  not applied to {kinds}: they lack an attribute the rule reads")
        for f in shown:
            status = str(f.result.status)
            label = _paint(f"{status.upper():<7}", status, color)
            text = _message(f)
            if f.result.status is Status.ERROR:  # the line already names the resource
                own = f.result.resource
                text = text.replace(f" of {own.kind} {own.key}", "", 1)
            where = f" ({f.result.resource.file})" if len(report.snapshots) > 1 else ""
            out.append(f"  {label} {subject(f.result)}{where}" + (f": {text}" if text else ""))
        if rule.remediation and any(f.result.status is Status.FAIL for f in shown):
            out.append(f"  fix: {rule.remediation}")
        out.append("")
    if report.resources and not report.findings:
        out.append("warning: no rule applied to any resource in the snapshot")
    out.append(summary_line(report))
    gating = report.gating()
    if gating:
        out.append(
            _paint(
                f"FAILED: {len(gating)} finding{'s' if len(gating) != 1 else ''} at "
                f"or above severity {report.threshold}",
                "fail",
                color,
            )
        )
    else:
        out.append(
            _paint(f"PASSED: no finding at or above severity {report.threshold}", "pass", color)
        )
    return "\n".join(out)


# ---------------------------------------------------------------- json


def to_json(report: Report, *, show_all: bool = False) -> dict[str, Any]:
    by_severity: Counter[str] = Counter(
        f.result.rule.severity for f in report.findings if f.result.status is Status.FAIL
    )
    results = []
    for f in report.findings:
        r = f.result
        if not show_all and r.status not in (Status.FAIL, Status.ERROR):
            continue
        evidence = []
        if f.proof is not None:
            evidence = [fact_json(x) for x in proof_evidence(f.proof)]
        results.append(
            {
                "rule": r.rule.id,
                "title": r.rule.title,
                "resource": resource_json(r),
                "related": related_json(r),
                "outcome": str(r.status),
                "severity": r.rule.severity,
                "message": _message(f),
                "source": {
                    "file": r.rule.span.file,
                    "line": r.rule.span.line,
                    "column": r.rule.span.column,
                },
                "snapshot": r.resource.file,
                "evidence": evidence,
                "fingerprint": fingerprint(f.proof) if f.proof is not None else None,
            }
        )
    gating = report.gating()
    return {
        "version": REPORT_VERSION,
        "summary": {
            "rules": len(report.plan.rules),
            "rules_applied": report.applied_rules(),
            "resources": report.resources,
            "snapshots": report.snapshots,
            "outcomes": {s: report.counts[s] for s in ("fail", "error", "pass", "skipped")},
            "failed_by_severity": {s: by_severity[s] for s in SEVERITIES},
            "threshold": report.threshold,
            "findings_at_or_above_threshold": len(gating),
            "verdict": "fail" if gating else "pass",
        },
        "results": results,
    }


def render_json(report: Report, *, show_all: bool = False) -> str:
    return json.dumps(to_json(report, show_all=show_all), indent=2, ensure_ascii=False)
