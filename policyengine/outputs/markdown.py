"""Evaluation results as Markdown for a pull-request comment: the verdict, a summary
table of what ran, then the findings rule by rule."""

from __future__ import annotations

import re

from policyengine.core.semantics import Enforcement
from policyengine.core.text import printable
from policyengine.core.version import tool_version
from policyengine.outputs import picture
from policyengine.results.report import (
    Finding,
    Report,
    finding_json,
    outcome_text,
    shown,
    verdict_line,
)

# A pull-request comment holds at most 65,536 characters: list this many, then say how
# many more there are.
MAX_LISTED = 100
# Pictures of cross-resource findings, as Mermaid blocks GitHub renders: the first few.
MAX_PICTURES = 20


# Markdown that a value could use to format, link, or notify: each shown as itself.
_INERT = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "[": "\\[",
        "]": "\\]",
        "*": "\\*",
        "_": "\\_",
        "~": "\\~",
        "!": "\\!",
        "#": "&#35;",
        "<": "&lt;",
        ">": "&gt;",
        "`": "'",
        # `@name` would notify a person or a team, `#123` link an issue: entities keep
        # the text and drop the effect.
        "@": "&#64;",
    }
)


def cell(text: str) -> str:
    """Text safe inside a table cell or a list item on one line: no line break, no
    formatting, no link, no mention of a person, whatever it holds."""
    inert = printable(text).translate(_INERT)
    # A bare address becomes a link by itself: its `://` is written as an entity.
    return inert.replace("://", "&#58;//")


def render(report: Report, show_all: bool = False) -> str:
    s = report.summary()
    icon = "❌" if report.failed() else "✅"
    lines = [
        f"## {icon} policyengine: {verdict_line(report)}",
        "",
        "| | |",
        "| --- | ---: |",
        f"| rules loaded | {s['rules_loaded']} |",
        f"| rules evaluated | {s['rules_evaluated']} |",
        f"| resources | {s['resources']} |",
        f"| snapshots | {s['snapshots']} |",
        *(f"| {name} | {count} |" for name, count in s["outcomes"].items()),
        f"| waived | {s['waived']} |",
        f"| baselined | {s['baselined']} |",
        "",
    ]
    for n in report.notices():
        marker = {"error": "CAUTION", "warning": "WARNING", "note": "NOTE"}[n.level]
        lines += [f"> [!{marker}]", f"> {cell(n.message)}", ""]
    by_rule: dict[str, list[Finding]] = {rule.id: [] for rule in report.plan.rules}
    for f in report.findings:
        if shown(report, f, show_all):
            by_rule[f.result.rule.id].append(f)
    listed = drawn = 0
    total = sum(len(rows) for rows in by_rule.values())
    for rule in report.plan.rules:
        rows = by_rule[rule.id]
        if not rows or listed >= MAX_LISTED:
            continue
        level = ", advisory" if rule.enforcement is Enforcement.ADVISORY else ""
        title = f" — {cell(rule.title)}" if rule.title else ""
        lines += [
            f"### `{rule.id}`{title}",
            "",
            f"severity **{rule.severity}**{level} · `{rule.span.location()}`",
            "",
        ]
        for f in rows[: MAX_LISTED - listed]:
            lines.append(f"- **{f.status.value.upper()}** {cell(outcome_text(report, f))}")
            listed += 1
            seen = (
                picture.from_finding(finding_json(f, places=False))
                if drawn < MAX_PICTURES
                else None
            )
            if seen is not None:
                lines += ["", "  ```mermaid", *_indent(picture.mermaid(seen)), "  ```"]
                drawn += 1
        if rule.remediation and any(f.status.value == "fail" for f in rows):
            lines += ["", f"**Fix:** {cell(rule.remediation)}"]
        lines.append("")
    if total > listed:
        lines += [f"… and {total - listed} more; the full list is in the text or JSON report.", ""]
    lines.append(f"<sub>{tool_version()}</sub>")
    return "\n".join(lines).rstrip() + "\n"


def _indent(block: str) -> list[str]:
    return ["  " + line for line in block.splitlines()]


def render_failure(kind: str, text: str) -> str:
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall("`+", text)), default=0))
    return f"## ❌ policyengine: {kind}; nothing was evaluated\n\n{fence}\n{text}\n{fence}\n"
