"""What would make a failing outcome pass, derived from the proof rather than written
per rule: the test each deciding leaf made, turned around.

A hint is phrased "would pass if …" when changing that one thing is enough, and
"would need …" when it is necessary but other parts might still fail (an `and` stops
at its first false part, so what follows it was never evaluated).
"""

from __future__ import annotations

from typing import Any

from policyengine.core import semantics
from policyengine.runtime import Proof, Status, Trace
from policyengine.runtime.outcomes import Operand, Test
from policyengine.runtime.shown import show

# A test other than a comparison -> (after "would pass if SUBJECT", after "would need
# SUBJECT"), for the wanted truth. Comparisons say themselves: `semantics.phrase`.
_PHRASES: dict[str, tuple[str, str]] = {
    "in": ("were one of {v}", "to be one of {v}"),
    "not in": ("were none of {v}", "to be none of {v}"),
    "includes": ("included {v}", "to include {v}"),
    "excludes": ("did not include {v}", "not to include {v}"),
    "matches": ("matched {v}", "to match {v}"),
    "not matches": ("did not match {v}", "not to match {v}"),
    "covers": ("covered {v}", "to cover {v}"),
    "not covers": ("did not cover {v}", "not to cover {v}"),
    "within": ("were within {v}", "to be within {v}"),
    "not within": ("were not within {v}", "not to be within {v}"),
    "is set": ("were set", "to be set"),
    "is not set": ("were unset (missing or empty)", "to be unset (missing or empty)"),
    "is present": ("were present", "to be present"),
    "is not present": ("were removed", "to be removed"),
    "is empty": ("were empty", "to be empty"),
    "is not empty": ("were not empty", "not to be empty"),
    "is true": ("were true", "to be true"),
    "is not true": ("were false", "to be false"),
}
_NEGATED = {
    "in": "not in",
    "includes": "excludes",
    "matches": "not matches",
    "covers": "not covers",
    "within": "not within",
    "is set": "is not set",
    "is present": "is not present",
    "is empty": "is not empty",
    "is true": "is not true",
}
_NEGATED |= {v: k for k, v in _NEGATED.items()}
_NEGATED |= {"is missing": "is present", "is not missing": "is not present"}
# The data is on the right of a literal (`"0.0.0.0/0" covers cidr`): say it from the right.
_MIRRORED = {
    "covers": "within",
    "within": "covers",
    "in": "includes",
    "not in": "excludes",
}


def fix_hints(proof: Proof) -> list[str]:
    """For a fail: each change that would make the rule pass, or that it would need."""
    result = proof.result
    if result.status is not Status.FAIL or proof.condition is None:
        return []
    want = result.rule.mode == "require"
    hints = [
        _say(leaf.test, wanted, alone) if leaf.test else _some(leaf)
        for leaf, wanted, alone in _leaves(proof.condition, want, True)
        if leaf.test or leaf.op == "quantifier"
    ]
    edge, target = result.edge, result.target
    if edge is not None and target is not None:
        hints.append(
            f"or if {edge.source.kind} {edge.source.key} were no longer linked to "
            f"{target.kind} {target.key} by `{edge.relation.verb}` ({', '.join(edge.paths)})"
        )
    return hints


def _leaves(node: Trace, want: bool, alone: bool) -> list[tuple[Trace, bool, bool]]:
    """The leaves to turn around so that `node` becomes `want`, each with the truth it
    needs and whether turning it alone is enough."""
    truth = node.truth
    if not isinstance(truth, bool) or truth is want:
        return []
    if node.op == "leaf":
        return [(node, want, alone)]
    if node.op == "define":  # a named condition: its body decided
        return _leaves(node.children[-1], want, alone) if node.children else []
    if node.op == "not":
        return _leaves(node.children[0], not want, alone) if node.children else []
    if node.op in ("all", "any"):
        # A true `and` or a false `or` turns when any one part turns; the other two
        # stopped at their first deciding part, and what came after it is unknown.
        enough = (node.op == "all") is truth
        parts = [c for c in node.children if c.truth is truth]
        found: list[tuple[Trace, bool, bool]] = []
        for part in parts:
            found += _leaves(part, not truth, alone and enough)
        return found
    if node.op == "quantifier":
        # `every` stops at its first counterexample, so more may follow; `any` and `no`
        # record every element that decided them.
        elements = [c for c in node.children if c.op == "element"]
        if not elements and truth is False and node.span.text.startswith("any "):
            return [(node, want, alone)]  # no element held: one that would
        single = len(elements) == 1 and not node.span.text.startswith("every")
        found = []
        for element in elements:
            if element.children:
                *where, body = element.children
                found += _leaves(body, not body.truth, alone and single)
                for part in where:  # or the element leaves the quantifier's `where`
                    found += _leaves(part, False, alone and single)
        return found
    return []


def _some(node: Trace) -> str:
    """`any x in xs where w: c` that no element satisfied: what one element would need."""
    head, _, body = node.span.text.removeprefix("any ").partition(":")
    return f"would pass if one {' '.join(head.split())} satisfied `{' '.join(body.split())}`"


def _say(test: Test, want: bool, alone: bool) -> str:
    compared = semantics.as_op(test.op)
    op = test.op if want else _NEGATED.get(test.op, test.op)
    if compared is not None and not want:
        compared = semantics.negation(compared)
    subject: Operand | None = test.left
    other = test.right
    if other is not None and test.left.literal and not other.literal:
        # The data is on the right of a literal: say it from the right.
        if compared is not None:
            subject, other, compared = other, test.left, semantics.mirror(compared)
        elif op in _MIRRORED:
            subject, other, op = other, test.left, _MIRRORED[op]
    assert subject is not None
    value = _value(other) if other is not None else ""
    sufficient, needed = (
        semantics.phrase(compared)
        if compared is not None
        else _PHRASES.get(op, ("satisfied `{v}`", "to satisfy `{v}`"))
    )
    phrase = (sufficient if alone else needed).format(v=value)
    return (
        f"would pass if {subject.text} {phrase}" if alone else f"would need {subject.text} {phrase}"
    )


def _value(operand: Operand) -> str:
    if operand.literal:
        return operand.text
    shown: Any = operand.value
    return f"{show(shown)} ({operand.text})"
