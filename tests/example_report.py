"""The bundled example's report with the bundled packs, built once for the tests of the
formats that write a report a piece at a time."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from policyengine.frontend.loader import bundled_policies, load
from policyengine.inputs import importers
from policyengine.results import report as reports

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ecs-account" / "snapshot.json"
FINDINGS = 28  # the example's fails and errors


@cache
def example_report() -> reports.Report:
    loaded = load(bundled_policies())
    m = loaded.plan.model
    store = importers.to_store(importers.read(EXAMPLE, "auto", m, importers.Options()).snapshot, m)
    return reports.build(loaded.plan, [store])
