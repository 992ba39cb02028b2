"""Rule selection: which of the loaded rules a run evaluates.

`--rule` and `--skip-rule` take rule ids or globs (`org_baseline.*`, `*_disks`), matched
against a rule's id (POLICY.RULE) and its name; `--tag` keeps rules with any of the tags;
`--min-severity` keeps rules at or above a severity. The selection is applied to the plan
before anything is evaluated, so a rule left out costs nothing and is not counted as
loaded. A pattern or tag that selects nothing is a usage error (with the nearest name), so
that a typo never reads as a clean run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from policyengine.core import plan
from policyengine.core.diagnostics import did_you_mean
from policyengine.core.errors import UsageError
from policyengine.core.semantics import Severity


@dataclass(frozen=True)
class Selection:
    rules: tuple[str, ...] = ()  # keep only rules matching one of these (all when empty)
    skip: tuple[str, ...] = ()  # then leave out rules matching one of these
    tags: tuple[str, ...] = ()  # keep only rules with one of these tags (all when empty)
    min_severity: Severity | None = None

    def __bool__(self) -> bool:
        return bool(self.rules or self.skip or self.tags or self.min_severity)


def matches(rule: plan.RulePlan, pattern: str) -> bool:
    return fnmatchcase(rule.id, pattern) or fnmatchcase(rule.name, pattern)


def select(compiled: plan.Plan, selection: Selection) -> plan.Plan:
    """The plan with only the selected rules. Raises UsageError when a pattern or tag
    matches no loaded rule, or when nothing is left to evaluate."""
    if not selection:
        return compiled
    rules = compiled.rules
    _check_patterns(rules, selection.rules, "--rule")
    _check_patterns(rules, selection.skip, "--skip-rule")
    known_tags = {t for r in rules for t in r.tags}
    for tag in selection.tags:
        if tag not in known_tags:
            hint = did_you_mean(tag, known_tags) or (
                "the loaded rules' tags: " + ", ".join(sorted(known_tags))
                if known_tags
                else "no loaded rule has tags"
            )
            raise UsageError(f"--tag `{tag}`: no loaded rule has this tag; {hint}")
    kept = tuple(r for r in rules if _selected(r, selection))
    if not kept:
        raise UsageError(
            f"the rule selection leaves none of the {len(rules)} loaded rules to evaluate"
        )
    return plan.index_by_kind(compiled.model, kept)


def _selected(rule: plan.RulePlan, selection: Selection) -> bool:
    if selection.rules and not any(matches(rule, p) for p in selection.rules):
        return False
    if any(matches(rule, p) for p in selection.skip):
        return False
    if selection.tags and not set(selection.tags) & set(rule.tags):
        return False
    floor = selection.min_severity
    return floor is None or rule.severity.rank >= floor.rank


def _check_patterns(rules: Sequence[plan.RulePlan], patterns: Iterable[str], option: str) -> None:
    for pattern in patterns:
        if not any(matches(r, pattern) for r in rules):
            hint = did_you_mean(pattern, [r.id for r in rules] + [r.name for r in rules])
            raise UsageError(
                f"{option} `{pattern}` matches no loaded rule" + (f"; {hint}" if hint else "")
            )
