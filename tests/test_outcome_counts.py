"""Passes and skips counted instead of kept: every output that does not list them is
the same as when they are kept, and the formats that list them get them."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.frontend.loader import bundled_policies, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.outputs import Format, needs_every_outcome, render
from policyengine.results import report as reports
from policyengine.runtime import Status

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ecs-account" / "snapshot.json"


def _reports() -> tuple[reports.Report, reports.Report]:
    loaded = load(bundled_policies())
    text = EXAMPLE.read_text(encoding="utf-8")
    kept, counted = (
        reports.build(
            loaded.plan,
            [Store(parse_snapshot(text, str(EXAMPLE)), loaded.plan.model)],
            every_outcome=every,
        )
        for every in (True, False)
    )
    return kept, counted


@pytest.mark.parametrize("fmt", [f for f in Format if f is not Format.JUNIT])
def test_counted_passes_render_as_kept_ones(fmt: Format) -> None:
    kept, counted = _reports()
    assert not needs_every_outcome([fmt], show_all=False)
    assert render(fmt, counted) == render(fmt, kept)


def test_counted_passes_are_not_kept_but_counted() -> None:
    kept, counted = _reports()
    assert counted.counts == kept.counts
    assert counted.counts["pass"] > 100
    assert all(f.result.status in (Status.FAIL, Status.ERROR) for f in counted.findings)
    assert counted.applied_rules() == kept.applied_rules()
    assert counted.failed() == kept.failed()


def test_formats_that_list_every_outcome_keep_them() -> None:
    assert needs_every_outcome([Format.JSON, Format.JUNIT], show_all=False)
    assert needs_every_outcome([Format.TEXT], show_all=True)


def test_a_listed_pass_is_placed_without_reading_its_resource_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """JUnit lists every outcome: each pass is placed at its resource, whose text is read
    again only where a finding points into it (reading each one cost a report over
    10,000 instances most of its time). It reads the resources a report of the findings
    alone reads."""
    from policyengine.core import positions

    original = positions.Positions.resource
    read: list[int] = []

    def resource(self: positions.Positions, index: int) -> object:
        read.append(index)
        return original(self, index)

    monkeypatch.setattr(positions.Positions, "resource", resource)
    kept, counted = _reports()
    render(Format.JUNIT, kept)
    by_junit = set(read)
    read.clear()
    render(Format.JSON, counted)
    assert by_junit == set(read)
    assert len(by_junit) < len({f.result.resource.index for f in kept.findings})
