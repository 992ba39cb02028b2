"""`policyengine rules`: every loaded rule with its id, severity, enforcement, title,
tags and the kinds it applies to, as text for people or JSON for tools."""

from __future__ import annotations

from typing import Any

from policyengine.core import plan


def kinds(rule: plan.RulePlan) -> list[str]:
    """What a rule's outcomes are about: its subject kinds, or `region` for a rule that
    runs once per region."""
    return ["region"] if rule.per_region else list(rule.kinds)


def to_json(compiled: plan.Plan) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "policy": r.policy,
            "name": r.name,
            "title": r.title,
            "severity": str(r.severity),
            "enforcement": str(r.enforcement),
            "tags": list(r.tags),
            "kinds": kinds(r),
            "source": {"file": r.span.file, "line": r.span.line, "column": r.span.column},
        }
        for r in compiled.rules
    ]


def render_text(compiled: plan.Plan) -> str:
    """One line per rule (id, severity, enforcement, title), then its tags and kinds."""
    rules = compiled.rules
    id_width = max((len(r.id) for r in rules), default=0)
    lines = []
    for r in rules:
        head = f"{r.id:<{id_width}}  {r.severity!s:<8}  {r.enforcement!s:<9}  {r.title}"
        lines.append(head.rstrip())
        tags = ", ".join(r.tags) or "-"
        lines.append(f"    tags: {tags}; kinds: {', '.join(kinds(r))}")
    count = len(rules)
    lines.append(f"{count} rule{'s' if count != 1 else ''}")
    return "\n".join(lines)
