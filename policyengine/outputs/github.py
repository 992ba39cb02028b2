"""Evaluation results as GitHub Actions workflow commands: each finding an annotation
(`::error file=…,line=…,col=…,title=…::message`) at its resource's line in the snapshot,
or at the rule's line in the policy when the resource's position is not known.

A finding that fails the run is an `error`; one that is reported but does not gate
(advisory, below `--fail-on`, an error outcome with `--no-fail-on-error`) a `warning`;
a waived one a `notice`. The run's counts end the output.

GitHub shows at most 10 annotations of each level a step and drops the rest without a
word; so each level lists its 10 most severe, and one notice says how many more there
are and where every finding is listed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from policyengine.core.semantics import Enforcement
from policyengine.outputs.finding import explanation, primary
from policyengine.results.report import Finding, Report, summary_line, verdict_line

# GitHub Actions: at most 10 error, 10 warning and 10 notice annotations a step.
MAX_PER_LEVEL = 10
LEVELS = ("error", "warning", "notice")
_RUN_NOTICE = 5  # above any severity's rank


@dataclass(frozen=True)
class Annotation:
    level: str  # error, warning or notice
    rank: int  # which to show first within its level: higher first
    line: str  # the workflow command


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **props: str | int) -> str:
    shown = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v != "")
    return f"::{level}{' ' + shown if shown else ''}::{escape_data(message)}"


def _annotation(report: Report, f: Finding, gating: set[int]) -> Annotation:
    rule = f.result.rule
    place = primary(report, f)
    advisory = ", advisory" if rule.enforcement is Enforcement.ADVISORY else ""
    if f.waiver is not None:
        level = "notice"
    else:
        level = "error" if id(f) in gating else "warning"
    title = f"{rule.id} [{rule.severity}{advisory}]" + (f" {rule.title}" if rule.title else "")
    line = command(
        level,
        explanation(report, f),
        file=place.file,
        line=place.line,
        col=place.column,
        title=title,
    )
    return Annotation(level, rule.severity.rank, line)


def _capped(annotations: list[Annotation]) -> list[str]:
    """Every annotation, in the report's order, when GitHub shows them all. Else at most
    MAX_PER_LEVEL of each level, most severe first (in the report's order among equals),
    then one notice that says what was left out."""
    by_level = {level: [a for a in annotations if a.level == level] for level in LEVELS}
    over = any(len(listed) > MAX_PER_LEVEL for listed in by_level.values())
    if not over:
        return [a.line for a in annotations]
    room = {level: MAX_PER_LEVEL for level in LEVELS}
    room["notice"] -= 1  # for the notice that says what was left out
    shown: list[str] = []
    left: Counter[str] = Counter()
    for level in LEVELS:
        ranked = sorted(by_level[level], key=lambda a: -a.rank)
        shown.extend(a.line for a in ranked[: room[level]])
        left[level] = max(0, len(ranked) - room[level])
    counts = ", ".join(
        f"{left[level]} {level}{'s' if left[level] != 1 else ''}" for level in LEVELS if left[level]
    )
    message = (
        f"{left.total()} more annotations are not shown ({counts}): GitHub shows "
        f"{MAX_PER_LEVEL} of each level a step. Every finding is in the job summary, the "
        "SARIF and JUnit reports, and `policyengine evaluate --format text`."
    )
    shown.append(command("notice", message, title="policyengine: more findings"))
    return shown


def render(report: Report, show_all: bool = False) -> str:
    """Annotations for fails, errors and waived findings (passes and skips are not
    annotated, whatever `show_all` says: they are no one's to fix)."""
    gating = {id(f) for f in report.gating()}
    annotations = [
        _annotation(report, f, gating) for f in report.findings if f.finding and not f.baselined
    ]
    for n in report.notices():
        level = {"error": "error", "warning": "warning", "note": "notice"}[n.level]
        # About the run itself (an expired waiver fails it): before any one finding.
        line = command(level, n.message, file=n.file, line=n.line or "")
        annotations.append(Annotation(level, _RUN_NOTICE, line))
    lines = _capped(annotations)
    lines.append(summary_line(report))
    lines.append(verdict_line(report))
    return "\n".join(lines)


def render_failure(kind: str, text: str) -> str:
    return command("error", f"{kind}; nothing was evaluated\n{text}", title="policyengine")
