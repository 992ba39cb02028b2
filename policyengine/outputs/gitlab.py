"""Evaluation findings as a GitLab Code Quality report: the subset of the Code Climate
issue format GitLab reads (`artifacts:reports:codequality`), a JSON array of issues,
each with a description, the rule as `check_name`, a fingerprint, a severity and the
place (`location.path`, `location.lines.begin`).

GitLab compares the report of a merge request with the one of its target branch by
fingerprint, so each issue's fingerprint is the finding's own (the one baselines,
waivers and SARIF use): a finding already on the target branch is not shown as new.
Waived findings are accepted and left out; findings in the baseline stay, so that
GitLab does not read them as resolved. What is wrong with the run itself (an expired
waiver, no rule applied to anything) is an issue too: an empty report reads as clean.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from policyengine.core.semantics import Enforcement, Severity
from policyengine.outputs.finding import explanation, primary
from policyengine.results.report import Finding, Notice, Report, outcome_text

# GitLab's scale is info, minor, major, critical, blocker. An advisory rule never fails
# a run: its findings are `info`, whatever its severity.
SEVERITY = {
    Severity.LOW: "minor",
    Severity.MEDIUM: "major",
    Severity.HIGH: "critical",
    Severity.CRITICAL: "blocker",
}


def _issue(report: Report, f: Finding) -> dict[str, Any]:
    rule = f.result.rule
    place = primary(report, f)
    advisory = rule.enforcement is Enforcement.ADVISORY
    assert f.fingerprint is not None  # every fail and error is fingerprinted
    return {
        "type": "issue",
        "check_name": rule.id,
        "description": f"{rule.id}: {outcome_text(report, f)}",
        "content": {"body": explanation(report, f)},
        "fingerprint": f.fingerprint,
        "severity": "info" if advisory else SEVERITY[rule.severity],
        "location": {"path": place.file, "lines": {"begin": place.line}},
    }


# A notice about the run: an error (an expired waiver fails the run) is critical, a
# warning (a stale waiver, nothing applied) minor; a note (fixed since the baseline) is
# good news, not an issue.
_NOTICE_SEVERITY = {"error": "critical", "warning": "minor"}


def _notice(n: Notice) -> dict[str, Any]:
    return {
        "type": "issue",
        "check_name": "policyengine",
        "description": n.message,
        "fingerprint": hashlib.sha256(f"policyengine\0{n.message}".encode()).hexdigest(),
        "severity": _NOTICE_SEVERITY[n.level],
        "location": {"path": n.file or ".", "lines": {"begin": n.line or 1}},
    }


def issues(report: Report) -> list[dict[str, Any]]:
    """Fails and errors, waived ones left out (passes and skips are no one's to fix,
    whatever `--all` says); then what is wrong with the run."""
    found = [_issue(report, f) for f in report.findings if f.finding and f.waiver is None]
    return found + [_notice(n) for n in report.notices() if n.level in _NOTICE_SEVERITY]


def render(report: Report, show_all: bool = False) -> str:
    return json.dumps(issues(report), indent=2, ensure_ascii=False)


def render_failure(kind: str, text: str) -> str:
    """Nothing was evaluated: one blocker issue that says why, so that the report is
    never an empty list (which GitLab reads as a clean run)."""
    issue = {
        "type": "issue",
        "check_name": "policyengine",
        "description": f"{kind}; nothing was evaluated",
        "content": {"body": text},
        "fingerprint": hashlib.sha256(f"policyengine\0{kind}".encode()).hexdigest(),
        "severity": "blocker",
        "location": {"path": ".", "lines": {"begin": 1}},
    }
    return json.dumps([issue], indent=2, ensure_ascii=False)
