"""What several formats say about one finding: its explanation as plain lines, and where
it is, in the snapshot (the resource's position, at the deciding attribute when known)
or else in the policy."""

from __future__ import annotations

from dataclasses import dataclass

from policyengine.core.source import Span
from policyengine.core.text import printable
from policyengine.results.explain import deciding_pointer, evidence
from policyengine.results.report import Finding, Report, outcome_text


@dataclass(frozen=True)
class Place:
    file: str
    line: int
    column: int
    label: str = ""  # what is there: `instance i-1`, or the rule for a policy place


def explanation(report: Report, f: Finding) -> str:
    """The first line is the finding; then each deciding fact with where it is in the
    user's own file (`plan.json#/resource_changes/4/change/after/zone_id`), and the rule's
    remediation."""
    lines = [outcome_text(report, f)]
    if f.proof is not None:
        file = f.result.resource.file
        for fact in evidence(f.proof):
            # A fact quotes a value from the input: one line, whatever the value holds.
            where = f" ({report.place(file, fact.pointer).uri()})" if fact.pointer else ""
            lines.append(printable(f"- {fact.text}{where}"))
    res = f.result.resource
    place = report.place(res.file, _deciding_pointer(f))
    if place.address and place.address != res.address:
        block = f" ({place.declared[0]}:{place.declared[1]})" if place.declared else ""
        lines.append(f"- the resource to change: {place.address}{block}")
    if f.result.rule.remediation and f.status.value == "fail":
        lines.append(f"fix: {f.result.rule.remediation}")
    return "\n".join(lines)


def policy_place(span: Span, label: str = "") -> Place:
    return Place(span.file, span.line, span.column, label)


def _deciding_pointer(f: Finding) -> str:
    return deciding_pointer(f.proof) if f.proof is not None else f.result.resource.pointer


def _at(report: Report, file: str, pointer: str, label: str) -> Place | None:
    """A pointer into the snapshot, as a line and column of the user's file."""
    if file == "<stdin>":
        return None
    place = report.place(file, pointer)
    found = report.line_of(place)
    return None if found is None else Place(place.file, found[0], found[1], label)


def primary(report: Report, f: Finding) -> Place:
    """Where the finding is in the user's own files: the deciding value of the resource
    to change (a plan's `alicloud_security_group_rule`, not its group; a response file's
    field); the rule's place in the policy when no file of the input is at hand (stdin)."""
    res = f.result.resource
    place = report.place(res.file, _deciding_pointer(f))
    label = f"{res.kind} {res.key}" + (f" ({place.address})" if place.address else "")
    found = _at(report, res.file, _deciding_pointer(f), label)
    if found is None:
        return policy_place(f.result.rule.span, f.result.rule.id)
    return found


def declared(report: Report, f: Finding) -> Place | None:
    """The `.tf` block of the resource to change, when the configuration was at hand."""
    res = f.result.resource
    place = report.place(res.file, _deciding_pointer(f))
    if place.declared is None:
        return None
    file, line = place.declared
    return Place(file, line, 1, f"resource {place.address or res.key}")


def related(report: Report, f: Finding) -> list[Place | str]:
    """Every other resource of the proof: a place in the user's files, or its name alone
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
    out: list[Place | str] = []
    for label, pointer in labels.values():
        found = _at(report, res.file, pointer, label)
        out.append(label if found is None else found)
    return out
