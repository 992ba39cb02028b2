"""The proof of one outcome as the document `explain --format json` prints: pydantic
models, so that its schema is published and every document is checked against it. Apart
from `explain`, whose other outputs (and `evaluate`'s) need no model built at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from policyengine.results.explain import (
    clause_label,
    deciding,
    fact_json,
    fingerprint,
    message,
    origin_uri,
    plain_json,
    related_json,
    resource_json,
)
from policyengine.results.hints import fix_hints
from policyengine.runtime import Proof, Result, Unknown, decisive
from policyengine.runtime.outcomes import Operand, Test

# ---------------------------------------------------------------- the proof as data


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Place(_Doc):
    """A span of policy source."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int


class ResourceRef(_Doc):
    kind: str
    id: str
    region: str | dict[str, str] | None  # {"$unknown": ADDRESS} until a plan is applied
    zone: str | dict[str, str] | None
    pointer: str | None  # JSON Pointer of the resource in its snapshot; None if not in it
    address: str | None = None  # the Terraform address, for a resource from a plan or state
    relation: str | None = None  # for the other end of an edge: the relation's name
    origin: str | None = None  # where it is in the file the user has: `FILE#POINTER`


class OperandDoc(_Doc):
    text: str
    value: Any
    literal: bool


class TestDoc(_Doc):
    op: str
    left: OperandDoc
    right: OperandDoc | None


class ClauseDoc(_Doc):
    """One condition on the path that decided the outcome, outermost first."""

    part: Literal["where", "unless", "condition"]
    op: str  # all | any | not | quantifier | element | leaf
    text: str
    at: Place
    truth: Literal["true", "false", "unknown"]
    test: TestDoc | None  # for a leaf: what it tested


class FactDoc(_Doc):
    kind: str
    text: str
    resource: str  # the resource the fact is about ("disk d-1"), or ""
    pointer: str  # JSON Pointer into the snapshot, or ""
    value: Any
    # Where it is in the file the user has: `FILE#POINTER` (a plan's `after`, a response
    # file's field; the snapshot's own pointer for a snapshot given as one), or "".
    origin: str = ""


class WaiverDoc(_Doc):
    """The waiver that covers a finding: it does not fail the run."""

    rule: str
    resource: str
    reason: str
    owner: str
    expires: str  # YYYY-MM-DD
    fingerprint: str | None
    account: str | None = None  # the account it is kept to, when it names one
    file: str
    line: int


class ProofDocument(_Doc):
    """The proof of one outcome, as `explain --format json` prints it."""

    rule: str
    title: str
    outcome: Literal["pass", "fail", "error", "skipped"]
    severity: str
    snapshot: str
    resource: ResourceRef
    related: ResourceRef | None
    clause: Place  # the clause a caret underlines
    label: str
    clauses: list[ClauseDoc]
    message: str
    reason: str
    evidence: list[FactDoc]
    hints: list[str]
    remediation: str
    fingerprint: str
    waiver: WaiverDoc | None = None  # set by `explain` when a waiver covers the finding


def proof_document(proof: Proof) -> ProofDocument:
    result = proof.result
    leaf, facts = deciding(proof)
    return ProofDocument(
        rule=result.rule.id,
        title=result.rule.title,
        outcome=str(result.status),  # type: ignore[arg-type]
        severity=result.rule.severity,
        snapshot=result.resource.file,
        resource=ResourceRef.model_validate(resource_json(result)),
        related=_related(result),
        clause=Place.model_validate(
            (leaf.span if leaf is not None else result.rule.span).to_json()
        ),
        label=clause_label(result, proof),
        clauses=list(_clauses(proof)),
        message=message(result, proof),
        reason=result.reason,
        evidence=[
            FactDoc.model_validate(fact_json(f, origin_uri(proof, f.pointer))) for f in facts
        ],
        hints=fix_hints(proof),
        remediation=result.rule.remediation,
        fingerprint=fingerprint(proof),
    )


def proof_to_json(proof: Proof, waiver: Mapping[str, object] | None = None) -> dict[str, Any]:
    """The proof document; `waiver`: the JSON of the waiver that covers the finding."""
    doc = proof_document(proof)
    if waiver is not None:
        doc = doc.model_copy(update={"waiver": WaiverDoc.model_validate(waiver)})
    return doc.model_dump(mode="json")


def _clauses(proof: Proof) -> list[ClauseDoc]:
    out: list[ClauseDoc] = []
    for part, root in (
        ("where", proof.where),
        ("unless", proof.unless),
        ("condition", proof.condition),
    ):
        if root is None:
            continue
        for node in decisive(root):
            truth = "unknown" if isinstance(node.truth, Unknown) else str(node.truth).lower()
            out.append(
                ClauseDoc(
                    part=part,  # type: ignore[arg-type]
                    op=node.op,
                    text=node.span.text,
                    at=Place.model_validate(node.span.to_json()),
                    truth=truth,  # type: ignore[arg-type]
                    test=_test_doc(node.test) if node.test is not None else None,
                )
            )
    return out


def _test_doc(test: Test) -> TestDoc:
    def side(o: Operand | None) -> OperandDoc | None:
        if o is None:
            return None
        return OperandDoc(text=o.text, value=plain_json(o.value), literal=o.literal)

    left = side(test.left)
    assert left is not None
    return TestDoc(op=test.op, left=left, right=side(test.right))


def _related(result: Result) -> ResourceRef | None:
    related = related_json(result)
    return None if related is None else ResourceRef.model_validate(related)
