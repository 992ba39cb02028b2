"""Rule selection on the plan: --rule and --skip-rule globs, --tag, --min-severity; a
pattern or tag that selects nothing is a usage error naming the nearest."""

from __future__ import annotations

import functools

import pytest

from policyengine.core.errors import UsageError
from policyengine.core.plan import Plan
from policyengine.core.semantics import Severity
from policyengine.frontend.loader import bundled_policies, load
from policyengine.pipeline.selection import Selection, select


@functools.cache
def _plan() -> Plan:
    """The bundled packs' plan, loaded when a test first asks (not when the file is
    collected: every worker of a parallel run collects every file)."""
    return load(bundled_policies()).plan


def _ids(selection: Selection) -> list[str]:
    chosen = select(_plan(), selection)
    # The plan is indexed again: a kind meets only the selected rules.
    for kind, rules in chosen.by_kind.items():
        assert all(r in chosen.rules for r in rules), kind
    return [r.id for r in chosen.rules]


def test_no_selection_is_the_whole_plan() -> None:
    assert select(_plan(), Selection()) is _plan()


def test_rule_globs_match_ids_and_names() -> None:
    baseline = [r.id for r in _plan().rules if r.id.startswith("org_baseline.")]
    assert baseline and _ids(Selection(rules=("org_baseline.*",))) == baseline
    assert _ids(Selection(rules=("encrypted_disks",))) == ["org_baseline.encrypted_disks"]


def test_skip_rule_leaves_out_after_rule() -> None:
    chosen = _ids(Selection(rules=("org_baseline.*",), skip=("*encrypted*",)))
    assert chosen and not any("encrypted" in i for i in chosen)


def test_tags_and_min_severity() -> None:
    tag = next(t for r in _plan().rules for t in r.tags)
    tagged = _ids(Selection(tags=(tag,)))
    assert tagged == [r.id for r in _plan().rules if tag in r.tags]
    high = _ids(Selection(min_severity=Severity.HIGH))
    assert high == [r.id for r in _plan().rules if r.severity in (Severity.HIGH, Severity.CRITICAL)]
    assert 0 < len(high) < len(_plan().rules)


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (Selection(rules=("org_baselin.encrypted_disks",)), "did you mean"),
        (Selection(skip=("no_such_rule*",)), "--skip-rule `no_such_rule*` matches no loaded rule"),
        (Selection(tags=("no-such-tag",)), "--tag `no-such-tag`: no loaded rule has this tag"),
        (
            Selection(rules=("org_baseline.encrypted_disks",), skip=("*",)),
            "leaves none of the",
        ),
    ],
)
def test_a_selection_of_nothing_is_a_usage_error(selection: Selection, message: str) -> None:
    with pytest.raises(UsageError, match=".*") as caught:
        select(_plan(), selection)
    assert message in str(caught.value)
