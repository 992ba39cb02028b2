"""Outcomes -> what a person reads: the proof of one outcome as caret text, markdown or
JSON, and the one-line message a report prints for a finding.

The proof as a validated document (`explain --format json`) is `proof_json`'s: its
pydantic models are imported by the commands that print one.

Sentences come from the evidence the interpreter recorded, in the words of the rule as
written (`requires same zone`), with the policy line underlined and each value's place
in the snapshot.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, assert_never

from policyengine.core.diagnostics import Diagnostic, Level, render_text
from policyengine.core.source import Span
from policyengine.core.text import printable
from policyengine.inputs import origins as places
from policyengine.inputs.resources import Resource
from policyengine.inputs.snapshot import UnknownValue
from policyengine.results.hints import fix_hints
from policyengine.runtime import Fact, Proof, Result, Status, Trace, Unknown, decisive


def _code_and_level(status: Status) -> tuple[str, Level]:
    """The diagnostic code and level an outcome is shown with."""
    match status:
        case Status.FAIL:
            return "PE500", Level.FAIL
        case Status.ERROR:
            return "PE501", Level.ERROR
        case Status.PASS:
            return "PE502", Level.PASS
        case Status.SKIPPED:
            return "PE503", Level.SKIPPED
        case _:
            assert_never(status)


def named(resource: Resource) -> str:
    """`disk d-1`, and where an imported resource is declared when that is not its key:
    `disk d-1 (module.app.alicloud_ecs_disk.data[0])`."""
    text = f"{resource.kind} {resource.key}"
    if resource.address and resource.address != resource.key:
        text += f" ({resource.address})"
    return text


def subject(result: Result) -> str:
    res = named(result.resource)
    if result.target is not None:
        return f"{res} → {named(result.target)}"
    if result.edge is not None:
        return f"{res} → {result.edge.relation.target} {result.edge.value}"
    return res


@dataclass(frozen=True)
class _Decided:
    leaf: Trace | None
    facts: tuple[Fact, ...]
    pointer: str


# The proof last asked about, and what decided it: a report's formats ask for the same
# finding's evidence and deciding pointer several times in a row (its message, its place,
# its related resources, its explanation), and a run may list tens of thousands of
# findings. One entry, read and written as one tuple, so threads rendering apart stay
# correct.
_recent: tuple[Proof, _Decided] | None = None


def _decided(proof: Proof) -> _Decided:
    global _recent
    recent = _recent
    if recent is not None and recent[0] is proof:
        return recent[1]
    leaf, facts = _deciding(proof)
    answer = _Decided(leaf, facts, _pointer(proof, facts))
    _recent = (proof, answer)
    return answer


def deciding(proof: Proof) -> tuple[Trace | None, tuple[Fact, ...]]:
    """The trace that decided the outcome, and the facts along its deciding parts."""
    decided = _decided(proof)
    return decided.leaf, decided.facts


def _deciding(proof: Proof) -> tuple[Trace | None, tuple[Fact, ...]]:
    decided: Trace | None = None
    for part in (proof.where, proof.unless, proof.condition):
        if part is not None:
            decided = part  # the last part evaluated is the one that decided
    facts: list[Fact] = list(proof.edge_facts)
    leaf: Trace | None = decided
    if decided is not None:
        for node in decisive(decided):
            facts.extend(f for f in node.facts if f not in facts)
            leaf = node
            if node.op == "quantifier" and isinstance(node.truth, bool):
                if not any(c.op == "element" for c in node.children):
                    # Held for every element it looked at: what it saw is the evidence.
                    for sub in _subtree(node):
                        facts.extend(f for f in sub.facts if f not in facts)
    return leaf, tuple(facts)


def _subtree(node: Trace) -> Iterator[Trace]:
    for child in node.children:
        yield child
        yield from _subtree(child)


def evidence(proof: Proof) -> tuple[Fact, ...]:
    """The facts that decided an outcome, in the order they were met."""
    return deciding(proof)[1]


def deciding_pointer(proof: Proof) -> str:
    """The pointer to point at in the resource: the first value read from it that
    decided the outcome, else the resource itself."""
    return _decided(proof).pointer


def _pointer(proof: Proof, facts: tuple[Fact, ...]) -> str:
    own = proof.result.resource.pointer
    under = [x for x in facts if x.pointer.startswith(own + "/")]
    reads = [x for x in under if x.kind in ("read", "missing")]
    chosen = reads or under
    if not chosen:
        return own
    pointer = chosen[0].pointer
    # Into the element that decided it (`rules/0` of `rules`): a security group rule of a
    # plan is its own resource, the one to change.
    for x in under:
        if x.kind == "element" and x.pointer.startswith(pointer + "/"):
            pointer = x.pointer
    return pointer


def clause_label(result: Result, proof: Proof) -> str:
    if proof.where is not None and proof.where.truth is False:
        return "the rule's `where` does not hold, so it does not apply"
    if proof.where is not None and isinstance(proof.where.truth, Unknown):
        return "this `where` cannot be decided"
    if proof.unless is not None and proof.unless.truth is not False:
        return (
            "exempt: this `unless` holds"
            if proof.unless.truth is True
            else "this `unless` cannot be decided"
        )
    rule = result.rule
    match result.status:
        case Status.FAIL:
            return (
                "this condition holds, and the rule forbids it"
                if rule.mode == "forbid"
                else "this requirement does not hold"
            )
        case Status.PASS:
            return (
                "this requirement holds"
                if rule.mode == "require"
                else "this forbidden condition does not hold"
            )
        case Status.ERROR:
            return "this cannot be decided"
        case Status.SKIPPED:
            return "not applicable"


def message(result: Result, proof: Proof) -> str:
    """The one line a report shows for a finding."""
    if result.status in (Status.ERROR, Status.SKIPPED) and result.reason:
        return result.reason  # the rule's message describes a violation, not this
    if proof.message:
        return proof.message
    _, facts = deciding(proof)
    own = f"{result.resource.kind} {result.resource.key}"
    shown = [
        f.brief if f.owner == own else f.text
        for f in facts
        if f.kind in ("read", "missing", "compare", "call", "count", "element")
    ]
    return "; ".join(shown) or result.reason


def to_diagnostic(proof: Proof) -> Diagnostic:
    result = proof.result
    rule = result.rule
    leaf, facts = deciding(proof)
    span: Span = leaf.span if leaf is not None else rule.span
    notes: list[str] = []
    for fact in facts:
        where = f"  ({origin_uri(proof, fact.pointer)})" if fact.pointer else ""
        notes.append(f"{fact.text}{where}")
    if (
        result.status is Status.ERROR
        and result.reason
        and all(result.reason not in note for note in notes)
    ):
        notes.append(f"undecided: {result.reason}")
    elif result.status is Status.SKIPPED and result.reason:
        notes.append(result.reason)
    if proof.message and result.status is Status.FAIL:
        notes.append(f"message: {proof.message}")
    block = origin_of(proof, deciding_pointer(proof))
    if block.declared is not None and result.status in (Status.FAIL, Status.ERROR):
        # The `.tf` block to edit (a plan's `alicloud_security_group_rule`, not its group).
        file, line = block.declared
        notes.append(f"the resource to change: {block.address} ({file}:{line})")
    notes.extend(fix_hints(proof))
    if (
        leaf is not None
        and isinstance(leaf.truth, Unknown)
        and leaf.truth.reason not in " ".join(notes)
    ):
        notes.append(f"undecided: {leaf.truth.reason}")
    return Diagnostic(
        code=_code_and_level(result.status)[0],
        message=printable(f"{subject(result)}: {rule.id}")
        + (f" — {rule.title}" if rule.title else ""),
        span=span,
        label=printable(clause_label(result, proof)),
        # Notes hold values from the input: one line each, whatever the values hold.
        notes=tuple(printable(n) for n in notes),
        help=f"fix: {rule.remediation}"
        if rule.remediation and result.status is Status.FAIL
        else "",
        level=_code_and_level(result.status)[1],
    )


def render_proof_text(proof: Proof) -> str:
    text = render_text(to_diagnostic(proof))
    # `help: fix: ...` reads twice; a remediation is its own line.
    return text.replace("= help: fix: ", "= fix: ")


def render_proof_markdown(proof: Proof) -> str:
    result, rule = proof.result, proof.result.rule
    leaf, facts = deciding(proof)
    span = leaf.span if leaf is not None else rule.span
    line = span.source.line_text(span.line)
    lines = [
        f"### {result.status.upper()}: `{rule.id}`" + (f" — {rule.title}" if rule.title else ""),
        "",
        f"**{subject(result)}** · severity **{rule.severity}** · "
        f"`{span.file}:{span.line}:{span.column}`",
        "",
        "```",
        line,
        " " * (span.column - 1)
        + "^"
        * max(
            1,
            min(len(span.text.splitlines()[0] if span.text else " "), len(line) - span.column + 1),
        )
        + " "
        + clause_label(result, proof),
        "```",
        "",
    ]
    lines += [
        f"- {f.text}" + (f" (`{origin_uri(proof, f.pointer)}`)" if f.pointer else "") for f in facts
    ]
    if result.reason and result.status in (Status.ERROR, Status.SKIPPED):
        lines.append(f"- {result.reason}")
    hints = fix_hints(proof)
    if hints:
        lines += ["", "**What would change it:**", ""] + [f"- {h}" for h in hints]
    if rule.remediation and result.status is Status.FAIL:
        lines += ["", f"**Fix:** {rule.remediation}"]
    return "\n".join(lines)


FINGERPRINT_VERSION = 1


def fingerprint(proof: Proof) -> str:
    """A finding's identity for baselines and waivers: the rule, the resources and the
    facts that decided it. JSON Pointers are left out, because they hold the resource's
    position in the snapshot, and a reordered export is the same finding; a deciding
    value that changes makes a new one."""
    result = proof.result
    ends = [(r.kind, r.key, r.region) for r in (result.resource, result.target) if r is not None]
    if result.target is None and result.edge is not None:
        ends.append((result.edge.relation.target, str(result.edge.value), None))
    facts = [(f.kind, f.owner, f.text, f.value) for f in evidence(proof)]
    blob = json.dumps(
        [FINGERPRINT_VERSION, result.rule.id, str(result.status), ends, facts],
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def origin_of(proof: Proof, pointer: str) -> places.Place:
    """A pointer into the snapshot (`/resources/7/zone`) -> where that value is in the
    file the user has, through the resource it points into: one the outcome names, or
    one its evidence reached (an instance `located in` the region a rule is about)."""
    result = proof.result
    at = places.split(pointer)
    file = result.resource.file
    if at is None:
        return places.Place(file, pointer)
    resource = next((r for r in named_resources(proof) if r.index == at[0]), None)
    if resource is None or resource.origin is None:
        return places.Place(file, pointer)
    return resource.origin.place(at[1], file)


def named_resources(proof: Proof) -> list[Resource]:
    """Every resource a proof's facts can point into: those the outcome names, then
    those its evidence reached."""
    result = proof.result
    named = [result.resource, result.target, *(result.edge.targets if result.edge else ())]
    return [r for r in (*named, *proof.reached) if r is not None]


def origin_uri(proof: Proof, pointer: str) -> str:
    return origin_of(proof, pointer).uri() if pointer else ""


def fact_json(fact: Fact, origin: str = "") -> dict[str, Any]:
    return {
        "kind": fact.kind,
        "text": fact.text,
        "resource": fact.owner,
        "pointer": fact.pointer,
        "value": plain_json(fact.value),
        "origin": origin,
    }


def resource_json(result: Result) -> dict[str, Any]:
    return _place(result.resource)


def _place(r: Resource) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": r.kind, "id": r.key, "region": plain_json(r.region)}
    out["zone"] = plain_json(r.zone)
    out["pointer"] = r.pointer
    if r.address:
        out["address"] = r.address  # the Terraform address of an imported resource
    if r.origin is not None and r.index >= 0:
        out["origin"] = r.origin.place("", r.file).uri()
    return out


def plain_json(value: object) -> object:
    """A value as JSON: unknowns as their marker, also inside lists and objects."""
    if isinstance(value, UnknownValue):
        return value.to_json()
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    return value


def related_json(result: Result) -> dict[str, Any] | None:
    if result.target is not None:
        return {
            **_place(result.target),
            "relation": result.edge.relation.name if result.edge else None,
        }
    if result.edge is not None:
        return {
            "kind": result.edge.relation.target,
            "id": result.edge.value,
            "region": None,
            "zone": None,
            "pointer": None,
            "relation": result.edge.relation.name,
        }
    return None
