"""What changed between two evaluations: the findings an operation would introduce, and
the findings of a newer snapshot that are new, fixed or unchanged since an older one.

Findings are matched by (rule, resource, related resource) and the fingerprint of the
facts that decided them (`explain.fingerprint`): a finding whose deciding facts changed
is a new one, and the one it replaced is fixed.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from policyengine.core import model, plan
from policyengine.core.semantics import Severity
from policyengine.inputs.importers import operations, to_store
from policyengine.inputs.snapshot import parse_document
from policyengine.results.explain import fingerprint, message, related_json, resource_json, subject
from policyengine.results.report import Finding, build
from policyengine.runtime import Status

_FINDINGS = (Status.FAIL, Status.ERROR)


def key(finding: Finding) -> tuple[str, str, str, str, str]:
    r = finding.result
    target = r.target.key if r.target is not None else (str(r.edge.value) if r.edge else "")
    facts = fingerprint(finding.proof) if finding.proof is not None else str(r.status)
    return r.rule.id, r.resource.kind, r.resource.key, target, facts


def pair(finding: Finding) -> tuple[str, str, str, str, str]:
    r = finding.result
    target = r.target.key if r.target is not None else (str(r.edge.value) if r.edge else "")
    return r.rule.id, r.resource.kind, r.resource.key, target, str(r.status)


def findings(
    compiled: plan.Plan, document: dict[str, Any], file: str, m: model.Model
) -> list[Finding]:
    snapshot = parse_document(copy.deepcopy(document), file)  # the store marks unknowns in place
    report = build(compiled, [to_store(snapshot, m)])
    return [f for f in report.findings if f.result.status in _FINDINGS]


@dataclass(frozen=True)
class Introduced:
    operation: operations.Operation
    findings: list[Finding]  # fail and error outcomes it would add


def introduced(
    compiled: plan.Plan,
    document: dict[str, Any],
    ops: list[operations.Operation],
    file: str,
    m: model.Model,
) -> list[Introduced]:
    """Each operation applied in turn to a copy of the snapshot, with only the findings
    it adds to those before it."""
    # An operation changes the facts of findings it does not cause (an attached disk's
    # edges): match by rule, resources and outcome, not by fingerprint.
    out = []
    before = Counter(pair(f) for f in findings(compiled, document, file, m))
    for number, op in enumerate(ops, start=1):
        document = operations.apply(document, op, number)
        after = findings(compiled, document, file, m)
        out.append(Introduced(op, _unmatched(after, before, pair)))
        before = Counter(pair(f) for f in after)
    return out


@dataclass(frozen=True)
class Diff:
    new: list[Finding]
    fixed: list[Finding]
    unchanged: list[Finding]


def compare(old: list[Finding], new: list[Finding]) -> Diff:
    """Findings of NEW that are new or unchanged since OLD, and those of OLD now fixed."""
    added = _unmatched(new, Counter(key(f) for f in old), key)
    fixed = _unmatched(old, Counter(key(f) for f in new), key)
    new_ones = {id(f) for f in added}
    unchanged = [f for f in new if id(f) not in new_ones]
    return Diff(added, fixed, unchanged)


def _unmatched(
    findings_: list[Finding], others: Counter[Any], by: Callable[[Finding], Any]
) -> list[Finding]:
    """The findings no finding of `others` matches, one match each (a multiset difference)."""
    left = Counter(others)
    out = []
    for f in findings_:
        k = by(f)
        if left[k] > 0:
            left[k] -= 1
        else:
            out.append(f)
    return out


# ---------------------------------------------------------------- rendering


def _line(f: Finding) -> str:
    r = f.result
    text = message(r, f.proof) if f.proof is not None else r.reason
    return f"{r.rule.id} [{r.rule.severity}] {subject(r)}: {text}"


def _json(f: Finding) -> dict[str, Any]:
    r = f.result
    return {
        "rule": r.rule.id,
        "outcome": str(r.status),
        "severity": r.rule.severity,
        "resource": resource_json(r),
        "related": related_json(r),
        "message": message(r, f.proof) if f.proof is not None else r.reason,
        "fingerprint": fingerprint(f.proof) if f.proof is not None else None,
    }


def gating(findings: list[Finding], threshold: Severity) -> list[Finding]:
    return [f for f in findings if f.result.rule.severity.rank >= threshold.rank]


def operations_text(results: list[Introduced], threshold: Severity) -> str:
    """One line per violation an operation would introduce (a refusal's reason), or one
    line saying it introduces none."""
    out = []
    for item in results:
        found = gating(item.findings, threshold)
        if not found:
            out.append(f"{item.operation.describe()}: allowed, no new finding")
        for f in found:
            verb = (
                "would violate" if f.result.status is Status.FAIL else "cannot be checked against"
            )
            r = f.result
            text = message(r, f.proof) if f.proof is not None else r.reason
            out.append(f"{item.operation.action} {verb} {r.rule.id}: {text}")
    return "\n".join(out)


def operations_json(results: list[Introduced], threshold: Severity) -> dict[str, Any]:
    return {
        "operations": [
            {
                "action": item.operation.action,
                "parameters": item.operation.params,
                "findings": [_json(f) for f in gating(item.findings, threshold)],
            }
            for item in results
        ],
        "verdict": "fail" if any(gating(i.findings, threshold) for i in results) else "pass",
    }


def diff_text(diff: Diff) -> str:
    out = []
    for name, rows in (("new", diff.new), ("fixed", diff.fixed), ("unchanged", diff.unchanged)):
        out.append(f"{name}: {len(rows)}")
        out.extend(f"  {_line(f)}" for f in rows)
    return "\n".join(out)


def diff_json(diff: Diff) -> dict[str, Any]:
    return {
        "new": [_json(f) for f in diff.new],
        "fixed": [_json(f) for f in diff.fixed],
        "unchanged": [_json(f) for f in diff.unchanged],
    }
