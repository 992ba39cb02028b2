"""Evaluation results as GitHub Actions workflow commands: each finding an annotation
(`::error file=…,line=…,col=…,title=…::message`) at its resource's line in the snapshot,
or at the rule's line in the policy when the resource's position is not known.

A finding that fails the run is an `error`; one that is reported but does not gate
(advisory, below `--fail-on`, an error outcome with `--no-fail-on-error`) a `warning`;
a waived one a `notice`. The run's counts end the output.
"""

from __future__ import annotations

from policyengine.core.semantics import Enforcement
from policyengine.outputs.finding import explanation, primary
from policyengine.results.report import Finding, Report, summary_line, verdict_line


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **props: str | int) -> str:
    shown = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v != "")
    return f"::{level}{' ' + shown if shown else ''}::{escape_data(message)}"


def _annotation(report: Report, f: Finding, gating: set[int]) -> str:
    rule = f.result.rule
    place = primary(report, f)
    advisory = ", advisory" if rule.enforcement is Enforcement.ADVISORY else ""
    if f.waiver is not None:
        level = "notice"
    else:
        level = "error" if id(f) in gating else "warning"
    return command(
        level,
        explanation(report, f),
        file=place.file,
        line=place.line,
        col=place.column,
        title=f"{rule.id} [{rule.severity}{advisory}]" + (f" {rule.title}" if rule.title else ""),
    )


def render(report: Report, show_all: bool = False) -> str:
    """Annotations for fails, errors and waived findings (passes and skips are not
    annotated, whatever `show_all` says: they are no one's to fix)."""
    gating = {id(f) for f in report.gating()}
    lines = [
        _annotation(report, f, gating) for f in report.findings if f.finding and not f.baselined
    ]
    for n in report.notices():
        level = {"error": "error", "warning": "warning", "note": "notice"}[n.level]
        lines.append(command(level, n.message, file=n.file, line=n.line or ""))
    lines.append(summary_line(report))
    lines.append(verdict_line(report))
    return "\n".join(lines)


def render_failure(kind: str, text: str) -> str:
    return command("error", f"{kind}; nothing was evaluated\n{text}", title="policyengine")
