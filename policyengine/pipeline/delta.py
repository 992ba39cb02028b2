"""What changed between two evaluations: the findings an operation would introduce, and
the findings of a newer snapshot that are new, fixed or unchanged since an older one.

Findings are matched by (rule, resource, related resource) and the fingerprint of the
facts that decided them (`explain.fingerprint`): a finding whose deciding facts changed
is a new one, and the one it replaced is fixed.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from policyengine.core import model, plan
from policyengine.core.semantics import Enforcement
from policyengine.core.text import printable
from policyengine.inputs.importers import operations, to_store
from policyengine.inputs.reads import attributes_read
from policyengine.inputs.snapshot import parse_document
from policyengine.results.baseline import Baseline
from policyengine.results.explain import fingerprint, message, related_json, resource_json, subject
from policyengine.results.gate import Gate, Verdict
from policyengine.results.report import Finding, build
from policyengine.results.waivers import Waiver
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


@dataclass(frozen=True)
class Known:
    """What takes a finding out of the gate, as in `evaluate`: the waivers (those expired
    by `today` cover nothing) and a baseline."""

    waivers: Sequence[Waiver] = ()
    baseline: Baseline | None = None
    today: date | None = None
    any_account: bool = False  # baseline entries hide findings of any account


@dataclass(frozen=True)
class Evaluated:
    findings: list[Finding]  # the fail and error outcomes, each with its waiver or baseline
    outcomes: int  # every (rule, resource) outcome: none means nothing was evaluated


def evaluated(
    compiled: plan.Plan, document: dict[str, Any], file: str, m: model.Model, known: Known
) -> Evaluated:
    snapshot = parse_document(copy.deepcopy(document), file)  # the store marks unknowns in place
    report = build(
        compiled,
        [to_store(snapshot, m, reads=attributes_read(compiled))],
        waivers=known.waivers,
        baseline=known.baseline,
        today=known.today,
        any_account=known.any_account,
    )
    found = [f for f in report.findings if f.result.status in _FINDINGS]
    return Evaluated(found, len(report.findings))


def findings(
    compiled: plan.Plan, document: dict[str, Any], file: str, m: model.Model
) -> list[Finding]:
    return evaluated(compiled, document, file, m, Known()).findings


@dataclass(frozen=True)
class Introduced:
    operation: operations.Operation
    findings: list[Finding]  # fail and error outcomes it would add
    outcomes: int = 0  # every outcome after it: none means nothing was evaluated


def introduced(
    compiled: plan.Plan,
    document: dict[str, Any],
    ops: list[operations.Operation],
    file: str,
    m: model.Model,
    known: Known | None = None,
) -> list[Introduced]:
    """Each operation applied in turn to a copy of the snapshot, with only the findings
    it adds to those before it."""
    # An operation changes the facts of findings it does not cause (an attached disk's
    # edges): match by rule, resources and outcome, not by fingerprint.
    out = []
    known = known or Known()
    before = Counter(pair(f) for f in evaluated(compiled, document, file, m, known).findings)
    for number, op in enumerate(ops, start=1):
        document = operations.apply(document, op, number)
        after = evaluated(compiled, document, file, m, known)
        out.append(Introduced(op, _unmatched(after.findings, before, pair), after.outcomes))
        before = Counter(pair(f) for f in after.findings)
    return out


@dataclass(frozen=True)
class Diff:
    new: list[Finding]
    fixed: list[Finding]
    unchanged: list[Finding]
    outcomes: int = 0  # every outcome of the newer input: none means nothing was evaluated


def compare(old: list[Finding], new: list[Finding], outcomes: int = 0) -> Diff:
    """Findings of NEW that are new or unchanged since OLD, and those of OLD now fixed."""
    added = _unmatched(new, Counter(key(f) for f in old), key)
    fixed = _unmatched(old, Counter(key(f) for f in new), key)
    new_ones = {id(f) for f in added}
    unchanged = [f for f in new if id(f) not in new_ones]
    return Diff(added, fixed, unchanged, outcomes)


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
    return printable(f"{r.rule.id} [{r.rule.severity}] {subject(r)}: {text}")


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


def gates(f: Finding, gate: Gate) -> bool:
    """Whether a finding fails the run: the gate of `evaluate`, with its waiver and
    baseline."""
    covered = f.waiver is not None or f.baselined
    return gate.gates(f.result.rule, f.result.status, covered=covered)


def gating(findings: list[Finding], gate: Gate) -> list[Finding]:
    """The findings that fail the run."""
    return [f for f in findings if gates(f, gate)]


def operations_verdict(results: list[Introduced], gate: Gate) -> Verdict:
    """Failed when an operation adds a gating finding; nothing evaluated when no rule
    applied to any resource after the operations (or there were none)."""
    new = [f for item in results for f in item.findings]
    outcomes = results[-1].outcomes if results else 0
    return gate.verdict(len(gating(new, gate)), outcomes)


def diff_verdict(diff: Diff, gate: Gate) -> Verdict:
    """Failed when a new finding gates; nothing evaluated when no rule applied to any
    resource of the newer input."""
    return gate.verdict(len(gating(diff.new, gate)), diff.outcomes)


def _why_not(f: Finding, gate: Gate) -> str:
    """Why a new finding does not refuse the operation."""
    if f.waiver is not None:
        return f.waiver.note()
    if f.baselined:
        return "in the baseline"
    if f.result.rule.enforcement is not Enforcement.MANDATORY:
        return "advisory"
    return f"allowed by the gate ({gate.describe()})"


def operations_text(results: list[Introduced], gate: Gate) -> str:
    """What the gate decided on each operation: a line per new finding that refuses it
    (a refusal's reason); a line per new finding it lets through (waived, in the
    baseline, advisory, below --fail-on, an error while errors do not count), saying
    why; or one line saying it adds no finding."""
    out = []
    for item in results:
        if not item.findings:
            out.append(f"{item.operation.describe()}: allowed, no new finding")
        for f in item.findings:
            verb = (
                "would violate" if f.result.status is Status.FAIL else "cannot be checked against"
            )
            r = f.result
            text = printable(message(r, f.proof) if f.proof is not None else r.reason)
            if gates(f, gate):
                out.append(f"{item.operation.action} {verb} {r.rule.id}: {text}")
            else:
                out.append(
                    f"{item.operation.describe()}: {_why_not(f, gate)}, "
                    f"though it {verb} {r.rule.id} [{r.rule.severity}]: {text}"
                )
    return "\n".join(out)


def operations_json(results: list[Introduced], gate: Gate) -> dict[str, Any]:
    return {
        "operations": [
            {
                "action": item.operation.action,
                "parameters": item.operation.params,
                "verdict": "fail" if gating(item.findings, gate) else "pass",
                "findings": [{**_json(f), "gating": gates(f, gate)} for f in item.findings],
            }
            for item in results
        ],
        "verdict": str(operations_verdict(results, gate)),
    }


def diff_text(diff: Diff, gate: Gate) -> str:
    """The new, fixed and unchanged findings; a new one that does not fail the run says
    why."""
    out = []
    for name, rows in (("new", diff.new), ("fixed", diff.fixed), ("unchanged", diff.unchanged)):
        out.append(f"{name}: {len(rows)}")
        for f in rows:
            why = f" ({_why_not(f, gate)})" if name == "new" and not gates(f, gate) else ""
            out.append(f"  {_line(f)}{why}")
    return "\n".join(out)


def diff_json(diff: Diff, gate: Gate) -> dict[str, Any]:
    return {
        "new": [{**_json(f), "gating": gates(f, gate)} for f in diff.new],
        "fixed": [_json(f) for f in diff.fixed],
        "unchanged": [_json(f) for f in diff.unchanged],
        "verdict": str(diff_verdict(diff, gate)),
    }
