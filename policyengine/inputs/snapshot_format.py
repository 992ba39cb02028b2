"""The snapshot format as pydantic models: its JSON Schema (`policyengine schema`) and the
wording of every problem of an envelope that does not fit it.

Reading a snapshot imports this module only for an envelope the quick check in
`snapshot.parse_document` does not vouch for: pydantic and the models take longer to
import than the example account takes to evaluate.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policyengine.core.errors import InputError, Problem
from policyengine.inputs import snapshot
from policyengine.inputs.snapshot import UNKNOWN, describe_json, plain_envelope, pointer_escape


class UnknownMarker(BaseModel):
    """`{"$unknown": WHAT, "ref": ADDRESS}`: a value not known until it is created."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    what: str = Field(alias="$unknown", min_length=1, description="What would tell the value.")
    ref: str | None = Field(None, description="The address of the resource whose id it is.")


class Declared(BaseModel):
    """A line of a file that is not JSON: a Terraform `resource` block in a `.tf` file."""

    model_config = ConfigDict(extra="forbid", strict=True)

    file: str = Field(description="The file, as the user names it.")
    line: int = Field(ge=1, description="The 1-based line.")


class FieldPlace(BaseModel):
    """Where one value of an imported resource came from."""

    model_config = ConfigDict(extra="forbid", strict=True)

    file: str | None = Field(None, description="The input file, when not the resource's.")
    pointer: str = Field(description="The JSON Pointer in that file.")
    address: str | None = Field(None, description="The Terraform address, when another's.")
    declared: Declared | None = Field(None, description="Where that resource is declared.")


class SourcePlace(BaseModel):
    """Where an imported resource came from, so reports can name it the way its input does."""

    model_config = ConfigDict(extra="forbid", strict=True)

    format: str | None = Field(None, description="The input format, e.g. aliyun.")
    file: str | None = Field(None, description="The input file.")
    pointer: str | None = Field(None, description="The JSON Pointer in that file.")
    address: str | None = Field(None, description="The Terraform address.")
    fields: dict[str, FieldPlace] | None = Field(
        None,
        description="Where each part of the resource came from: a JSON Pointer below the "
        "resource (`/zone`, `/rules/0`) -> its place in the input.",
    )
    declared: Declared | None = Field(None, description="Where the resource is declared.")


class ResourceEnvelope(BaseModel):
    """The fields every resource may carry; any other field is the resource's own data."""

    model_config = ConfigDict(extra="allow", strict=True)

    kind: str = Field(min_length=1, description="The resource kind, as the model names it.")
    id: str | UnknownMarker | None = Field(
        None, description="The resource id, for kinds identified by id."
    )
    name: str | None = Field(None, description="The name, for kinds identified by name.")
    region: str | UnknownMarker | None = Field(None, description="The region, e.g. cn-hangzhou.")
    zone: str | UnknownMarker | None = Field(None, description="The zone, for zone-located kinds.")
    tags: dict[str, str] | None = Field(None, description="Tags, key to value.")
    source: SourcePlace | None = Field(
        None, description="Where an imported resource came from (set by importers)."
    )


class Gap(BaseModel):
    """Data the snapshot lacks: what a call that failed would have listed. Every rule that
    needs one of its kinds reports `error` with the reason, never `pass`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kinds: list[str] = Field(description="The kinds the missing data would hold.")
    region: str | None = Field(None, description="Where; null: in every region.")
    reason: str = Field(
        min_length=1,
        description="Why, e.g. not collected: DescribeInvocations in cn-hangzhou: Forbidden.RAM",
    )


class NotReadFile(BaseModel):
    """An input file the importer did not read: the response of an API it does not know."""

    model_config = ConfigDict(extra="forbid", strict=True)

    file: str = Field(description="The file, as the input names it.")
    api: str = Field(description="The API whose response it is.")


class SnapshotEnvelope(BaseModel):
    """One account at one time."""

    model_config = ConfigDict(extra="forbid", strict=True)

    version: int = Field(1, description="The snapshot format version.")
    account: str | None = Field(None, description="The account the resources belong to.")
    captured_at: str | None = Field(None, description="When the snapshot was taken (ISO 8601).")
    locations: dict[str, list[str]] | None = Field(
        None, description="Region to zones, as DescribeZones reports them."
    )
    resources: list[dict[str, Any]] = Field(
        min_length=1, description="The resources, in any order; at least one."
    )
    gaps: list[Gap] = Field(
        default_factory=list, description="Data the snapshot lacks, and why (failed calls)."
    )
    not_read: list[NotReadFile] = Field(
        default_factory=list, description="Input files of APIs the importer does not read."
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the snapshot format, generated from the envelope models."""
    schema = SnapshotEnvelope.model_json_schema()
    schema["properties"]["resources"]["items"] = {"$ref": "#/$defs/ResourceEnvelope"}
    resource = ResourceEnvelope.model_json_schema()
    defs = schema.setdefault("$defs", {})
    defs.update(resource.pop("$defs", {}))  # the markers it uses, shared at the top
    defs["ResourceEnvelope"] = resource
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "policyengine snapshot"
    return schema


def validate(data: dict[str, Any], file: str) -> snapshot.Envelope:
    """The envelope of a document the quick check did not vouch for, validated by the
    models: every problem at its JSON Pointer (InputError), or the values they accept."""
    resources = data.get("resources")
    plain = isinstance(resources, list) and bool(resources)
    plain = plain and all(type(r) is dict for r in resources)  # type: ignore[union-attr]
    try:
        if plain:
            # A list of objects is what pydantic would make of it, only copied: validate
            # the rest, and keep the resources as parsed.
            envelope = SnapshotEnvelope.model_validate({**data, "resources": [{}]})
            envelope.resources = resources  # type: ignore[assignment]
        else:
            envelope = SnapshotEnvelope.model_validate(data)
    except ValidationError as exc:
        raise InputError(_problems(file, exc, "")) from None
    problems: list[Problem] = []
    for index, resource in enumerate(envelope.resources):
        if plain_envelope(resource):
            continue
        try:
            ResourceEnvelope.model_validate(resource)
        except ValidationError as exc:
            problems.extend(_problems(file, exc, f"/resources/{index}"))
    if problems:
        raise InputError(problems)
    return snapshot.Envelope(
        envelope.resources,
        envelope.version,
        envelope.account,
        envelope.captured_at,
        envelope.locations,
        tuple(snapshot.Gap(tuple(g.kinds), g.region, g.reason) for g in envelope.gaps),
        tuple(snapshot.NotReadFile(n.file, n.api) for n in envelope.not_read),
    )


# pydantic's error types, said the way the rest of the engine says things.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "dict_type": "an object",
    "list_type": "an array",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "bool_type": "true or false",
    "string_or_unknown": "a string",
}


def _problems(file: str, exc: ValidationError, base: str) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = err["loc"]
        # `str | UnknownMarker`: pydantic reports each member; say it once, as a person would.
        if "str" in loc or "UnknownMarker" in loc:
            tag = loc.index("str") if "str" in loc else loc.index("UnknownMarker")
            value = err.get("input")
            marker = isinstance(value, dict) and UNKNOWN in value
            if loc[tag] == "str" and not marker:
                err = {**err, "type": "string_or_unknown"}
            elif loc[tag] != "UnknownMarker" or not marker and len(loc) == tag + 1:
                continue
            loc = loc[:tag] + loc[tag + 1 :]
        pointer = base + "".join(f"/{pointer_escape(p)}" for p in loc)
        kind = err["type"]
        if kind == "missing":
            message = f"`{err['loc'][-1]}` is required"
        elif kind == "extra_forbidden" and len(err["loc"]) > 1:
            message = f"unknown field `{err['loc'][-1]}`"
        elif kind == "extra_forbidden":
            message = (
                f"unknown field `{err['loc'][-1]}`; expected version, account, "
                "captured_at, locations, resources, gaps or not_read"
            )
        elif kind in _EXPECTED:
            message = f"expected {_EXPECTED[kind]}, found {describe_json(err.get('input'))}"
        elif kind == "too_short" and err["loc"] == ("resources",):
            message = (
                "the snapshot holds no resources: an empty export cannot show that the "
                "account complies"
            )
        elif kind == "string_too_short":
            message = "expected a non-empty string"
        else:
            message = err["msg"][:1].lower() + err["msg"][1:]
        out.append(Problem(file, pointer, message))
    return out
