"""What several formats say about one finding: its explanation as plain lines, and where
it is, in the snapshot (the resource's position, at the deciding attribute when known)
or else in the policy."""

from __future__ import annotations

from dataclasses import dataclass

from policyengine.core.positions import locate
from policyengine.core.source import Source, Span
from policyengine.results.explain import evidence, subject
from policyengine.results.report import Finding, Report, outcome_text


@dataclass(frozen=True)
class Place:
    file: str
    line: int
    column: int
    label: str = ""  # what is there: `instance i-1`, or the rule for a policy place


def explanation(report: Report, f: Finding) -> str:
    """The first line is the finding; then each deciding fact with its JSON Pointer, and
    the rule's remediation."""
    lines = [outcome_text(report, f)]
    if f.proof is not None:
        file = f.result.resource.file
        for fact in evidence(f.proof):
            lines.append(f"- {fact.text}" + (f" ({file}#{fact.pointer})" if fact.pointer else ""))
    if f.result.rule.remediation and f.status.value == "fail":
        lines.append(f"fix: {f.result.rule.remediation}")
    return "\n".join(lines)


def policy_place(span: Span, label: str = "") -> Place:
    return Place(span.file, span.line, span.column, label)


def _deciding_pointer(f: Finding) -> str:
    """The pointer to point at in the resource: the first value read from it that
    decided the finding, else the resource itself."""
    own = f.result.resource.pointer
    facts = evidence(f.proof) if f.proof is not None else []
    under = [x for x in facts if x.pointer.startswith(own + "/")]
    reads = [x for x in under if x.kind in ("read", "missing")]
    chosen = reads or under
    return chosen[0].pointer if chosen else own


def primary(report: Report, f: Finding) -> Place:
    """The resource's position in its snapshot; the rule's place in the policy when the
    snapshot's text is not at hand (stdin) or holds no such resource."""
    res = f.result.resource
    positions = report.positions(res.file) if res.file != "<stdin>" else None
    found = positions.find(_deciding_pointer(f)) if positions is not None else None
    if found is None:
        # Converted from a file (a Terraform plan): the resource's own place in that file.
        text = report.origins.get(res.file) if res.origin is not None else None
        found = locate(Source(res.file, text), res.origin) if text and res.origin else None
    if found is None:
        return policy_place(f.result.rule.span, f.result.rule.id)
    return Place(res.file, found[0], found[1], f"{res.kind} {res.key}")


def related(report: Report, f: Finding) -> list[Place | str]:
    """Every other resource of the proof: a place in the snapshot, or its name alone
    when its position is not known."""
    res = f.result.resource
    own = res.pointer
    # resource pointer -> how to name it, and the first value of it the proof read
    labels: dict[str, tuple[str, str]] = {}
    if f.result.target is not None and f.result.target.pointer != own:
        target = f.result.target
        labels[target.pointer] = (f"{target.kind} {target.key}", target.pointer)
    for fact in evidence(f.proof) if f.proof is not None else []:
        parts = fact.pointer.split("/")
        if len(parts) >= 3 and parts[1] == "resources":
            pointer = "/".join(parts[:3])
            label, first = labels.get(pointer, (fact.owner or pointer, pointer))
            if pointer != own and first == pointer:
                labels[pointer] = (label, fact.pointer)
    positions = report.positions(res.file) if res.file != "<stdin>" else None
    out: list[Place | str] = []
    for label, pointer in labels.values():
        found = positions.find(pointer) if positions is not None else None
        out.append(label if found is None else Place(res.file, found[0], found[1], label))
    return out


def heading(f: Finding) -> str:
    return f"{f.result.rule.id}: {subject(f.result)}"
