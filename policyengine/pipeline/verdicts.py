"""The commands that end in a verdict beside `evaluate`, assembled here and decided by
the one gate (`results.gate`): `explain`, `evaluate --operation` and `evaluate
--baseline-snapshot`. A finding that an advisory rule, `--fail-on`, `--no-fail-on-error`,
a waiver or a baseline takes out of `evaluate`'s verdict is out of theirs too, and no
rule applied to any resource is "nothing evaluated" in each.

    policies = load_policies()
    before = read_input(Path("account.json"), policies)
    change = operations(policies, before, Path("ops.json").read_text(), gate=Gate())
    print(change.text); sys.exit(change.verdict.exit_code)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from policyengine.frontend.loader import Loaded
from policyengine.inputs import importers
from policyengine.inputs.store import Store
from policyengine.pipeline import delta
from policyengine.results import explanations
from policyengine.results.gate import Gate, Verdict
from policyengine.results.report import REPORT_VERSION
from policyengine.results.waivers import Waiver

NOTHING_KNOWN = delta.Known()  # no waiver, no baseline


@dataclass(frozen=True)
class Change:
    """What an operation or a newer input changes: the document machines read, the text
    people read, and the gate's verdict."""

    doc: dict[str, Any]
    text: str
    verdict: Verdict


def explained(
    policies: Loaded,
    store: Store,
    *,
    rule: str | None = None,
    resource: str | None = None,
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
) -> explanations.Explained:
    """The fails and errors (of `rule`), or every outcome of `resource`, traced, with the
    live waiver of each; `.verdict(gate)` is the exit `evaluate` would give them."""
    return explanations.explained(
        policies.plan, store, rule=rule, resource=resource, waivers=waivers, today=today
    )


def operations(
    policies: Loaded,
    before: importers.Read,
    text: str,
    file: str = "<operations>",
    *,
    gate: Gate,
    known: delta.Known = NOTHING_KNOWN,
) -> Change:
    """The findings each API call in `text` (JSON, or `aliyun ecs ACTION --Param value`
    lines) would add to the account `before` holds, applied in turn, gated."""
    ops = importers.operations.parse(text, file)
    results = delta.introduced(
        policies.plan,
        before.converted.document,
        ops,
        before.snapshot.file,
        policies.plan.model,
        known,
    )
    doc = {"version": REPORT_VERSION, **delta.operations_json(results, gate)}
    return Change(
        doc, delta.operations_text(results, gate), delta.operations_verdict(results, gate)
    )


def snapshot_change(
    policies: Loaded,
    old: importers.Read,
    new: importers.Read,
    *,
    gate: Gate,
    known: delta.Known = NOTHING_KNOWN,
) -> Change:
    """The findings new, fixed and unchanged between two inputs of one account; the new
    ones gated."""
    m = policies.plan.model
    before = delta.evaluated(policies.plan, old.converted.document, old.snapshot.file, m, known)
    after = delta.evaluated(policies.plan, new.converted.document, new.snapshot.file, m, known)
    diff = delta.compare(before.findings, after.findings, after.outcomes)
    doc = {"version": REPORT_VERSION, **delta.diff_json(diff, gate)}
    return Change(doc, delta.diff_text(diff, gate), delta.diff_verdict(diff, gate))


__all__ = ["Change", "explained", "operations", "snapshot_change"]
