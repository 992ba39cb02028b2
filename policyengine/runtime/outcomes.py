"""What evaluation produces: outcomes, the truth of a condition, and the proof of one
outcome (the facts that decided it, each with its place in the policy and the data)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Final

from policyengine.core import plan
from policyengine.core.source import Span
from policyengine.inputs.resources import Edge, Resource


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


class Missing(enum.Enum):
    ALLOWED = "missing"
    REQUIRED = "missing, and required"
    PARENT = "missing, under a missing required attribute"


# A path that does not exist (or is null) in the snapshot. Where the model allows it
# (optional, a map key) it is an ordinary value. Where it does not, using it is an error,
# and so is testing the presence of something under it: `a.b is set` cannot be decided
# when the required `a` is missing.
MISSING: Final = Missing.ALLOWED
ABSENT: Final = Missing.REQUIRED
PARENT: Final = Missing.PARENT


@dataclass(frozen=True)
class Unknown:
    """Why a condition could not be decided; becomes an `error` outcome."""

    reason: str


Truth = bool | Unknown


@dataclass(frozen=True)
class Result:
    rule: plan.RulePlan
    resource: Resource
    status: Status
    reason: str = ""  # for error and skipped: why, in a sentence
    edge: Edge | None = None  # a sentence's edge
    target: Resource | None = None  # the edge's end this outcome is about


# ---------------------------------------------------------------- the proof


@dataclass(frozen=True)
class Operand:
    """One side of a test, as a fix hint names it."""

    text: str  # "`zone` of disk d-1", "\"cn-hangzhou-b\"", "count(rules)"
    value: Any
    literal: bool  # written in the policy (a literal or a param): the data cannot change it


@dataclass(frozen=True)
class Test:
    """The test a condition made, kept so that an explanation can say what would have
    given the other answer (`zone` of disk d-1 == "cn-hangzhou-h")."""

    op: str  # a comparison, in, matches, covers, within, id_format, same_<scope>, is_<test>
    left: Operand
    right: Operand | None = None


@dataclass(frozen=True)
class Fact:
    """One thing the evaluation looked at, said as a sentence, with its place in the data."""

    kind: str  # read | missing | follow | dangling | compare | element | call | count
    text: str
    pointer: str = ""  # JSON Pointer into the snapshot
    value: Any = None
    owner: str = ""  # the resource the text starts with ("disk d-1"), if any

    @property
    def brief(self) -> str:
        """The text without its owner, for a line that already names the resource."""
        prefix = f"{self.owner}: "
        return (
            self.text[len(prefix) :] if self.owner and self.text.startswith(prefix) else self.text
        )


@dataclass(frozen=True)
class Trace:
    """One condition as evaluated: its span, its truth, what it read and its parts."""

    op: str  # all | any | not | quantifier | leaf
    span: Span
    truth: Truth
    facts: tuple[Fact, ...] = ()
    children: tuple[Trace, ...] = ()
    test: Test | None = None  # what a leaf tested, for fix hints


@dataclass(frozen=True)
class Proof:
    result: Result
    where: Trace | None
    unless: Trace | None
    condition: Trace | None
    edge_facts: tuple[Fact, ...]
    message: str
    # The resources its facts point into beyond those the result names (an instance a
    # `located in` or a quantifier reached): each fact's place in the user's files is
    # found through the resource it points into.
    reached: tuple[Resource, ...] = ()
