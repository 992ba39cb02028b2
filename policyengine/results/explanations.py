"""What `explain` explains: the outcomes chosen by rule and resource, each traced and
shown with the live waiver that covers it, the way `evaluate` would apply the waiver."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from policyengine.core import plan
from policyengine.core.diagnostics import did_you_mean
from policyengine.core.errors import UsageError
from policyengine.inputs.store import Store
from policyengine.results.explain import fingerprint, render_proof_markdown, render_proof_text
from policyengine.results.gate import Gate, Verdict
from policyengine.results.proof_json import proof_to_json
from policyengine.results.report import REPORT_VERSION, Finding
from policyengine.results.waivers import Waiver
from policyengine.runtime import Proof, Result, Status, evaluate, trace

_FINDINGS = (Status.FAIL, Status.ERROR)


@dataclass(frozen=True)
class Explanation:
    """One outcome's proof, and the waiver that accepts it when it is a finding."""

    proof: Proof
    waiver: Waiver | None = None

    @property
    def result(self) -> Result:
        return self.proof.result

    def gates(self, gate: Gate) -> bool:
        """Whether this outcome fails the run, as `evaluate` decides: the one gate."""
        return gate.gates(self.result.rule, self.result.status, covered=self.waiver is not None)

    def finding(self) -> Finding:
        """The outcome as a report's finding, fingerprinted, with its waiver."""
        return Finding(self.result, self.proof, fingerprint(self.proof), self.waiver)

    def to_json(self) -> dict[str, Any]:
        doc = proof_to_json(self.proof)
        doc["waiver"] = None if self.waiver is None else self.waiver.to_json()
        return doc

    def render(self, *, markdown: bool = False) -> str:
        shown = render_proof_markdown(self.proof) if markdown else render_proof_text(self.proof)
        if self.waiver is None:
            return shown
        return f"{shown}\n   = {self.waiver.note()} ({self.waiver.place}): it does not fail the run"


def find_rule(compiled: plan.Plan, rule: str) -> plan.RulePlan:
    """A rule by id (POLICY.RULE) or by name. Raises UsageError, with the nearest names."""
    ids = {r.id: r for r in compiled.rules}
    names = {r.name: r for r in compiled.rules}
    found = ids.get(rule) or names.get(rule)
    if found is None:
        hint = did_you_mean(rule, [*ids, *names])
        raise UsageError(f"no rule `{rule}`" + (f"; {hint}" if hint else ""))
    return found


def select(
    results: Sequence[Result],
    compiled: plan.Plan,
    store: Store,
    rule: str | None = None,
    resource: str | None = None,
) -> list[Result]:
    """The outcomes of `rule` (every rule when None); of `resource`, every outcome, passes
    included, otherwise only fails and errors. Raises UsageError for a name not found."""
    chosen = list(results)
    if rule is not None:
        wanted = find_rule(compiled, rule).id
        chosen = [r for r in chosen if r.rule.id == wanted]
    if resource is None:
        return [r for r in chosen if r.status in _FINDINGS]
    keys = [r.key for r in store.resources]
    if resource not in keys:
        hint = did_you_mean(resource, keys)
        raise UsageError(
            f"no resource `{resource}` in the snapshot" + (f"; {hint}" if hint else "")
        )
    return [
        r
        for r in chosen
        if r.resource.key == resource or (r.target is not None and r.target.key == resource)
    ]


def covering(proof: Proof, waivers: Sequence[Waiver], account: str | None = None) -> Waiver | None:
    """The waiver that covers a fail or error, as `evaluate` applies waivers: in the
    snapshot of `account`."""
    result = proof.result
    if result.status not in _FINDINGS or not waivers:
        return None
    print_ = fingerprint(proof)
    key = result.resource.key
    return next((w for w in waivers if w.covers(result.rule.id, key, print_, account)), None)


@dataclass(frozen=True)
class Explained:
    """The explanations chosen, and how many outcomes there were to choose from."""

    explanations: list[Explanation]
    outcomes: int  # of every rule on every resource: none means nothing was evaluated

    def verdict(self, gate: Gate) -> Verdict:
        """The verdict `evaluate` would give on the outcomes explained."""
        gating = sum(1 for e in self.explanations if e.gates(gate))
        return gate.verdict(gating, self.outcomes)


def explained(
    compiled: plan.Plan,
    store: Store,
    *,
    rule: str | None = None,
    resource: str | None = None,
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
) -> Explained:
    """The chosen outcomes (see `select`), traced, each with the waiver that covers it.
    Waivers expired by `today` cover nothing; without `today`, none has expired."""
    live = [w for w in waivers if today is None or not w.expired(today)]
    outcomes = list(evaluate(compiled, store))
    chosen = select(outcomes, compiled, store, rule, resource)
    proofs = [trace(store, r) for r in chosen]
    found = [Explanation(p, covering(p, live, store.account)) for p in proofs]
    return Explained(found, len(outcomes))


def explain(
    compiled: plan.Plan,
    store: Store,
    *,
    rule: str | None = None,
    resource: str | None = None,
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
) -> list[Explanation]:
    """The chosen outcomes, traced, each with its waiver (see `explained`)."""
    found = explained(compiled, store, rule=rule, resource=resource, waivers=waivers, today=today)
    return found.explanations


def to_json(explanations: Sequence[Explanation]) -> dict[str, Any]:
    return {"version": REPORT_VERSION, "explanations": [e.to_json() for e in explanations]}


def render_text(
    explanations: Sequence[Explanation], *, rule: str | None = None, markdown: bool = False
) -> str:
    if not explanations:
        scope = f" `{rule}`" if rule else ""
        return f"nothing to explain: no rule{scope} fails or errors on this snapshot"
    return "\n\n".join(e.render(markdown=markdown) for e in explanations)
