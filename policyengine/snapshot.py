"""The normalized snapshot: its envelope (pydantic), its JSON Schema, and input errors.

A snapshot is `{"resources": [{"kind", "id" | "name", "region", "zone", "tags", ...}]}`.
Bad input raises `InputError` naming the file, the JSON Pointer of the place and what was
expected; nothing is dropped quietly.
"""

from __future__ import annotations

import gc
import json
import math
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ResourceEnvelope(BaseModel):
    """The fields every resource may carry; any other field is the resource's own data."""

    model_config = ConfigDict(extra="allow", strict=True)

    kind: str = Field(min_length=1, description="The resource kind, as the model names it.")
    id: str | None = Field(None, description="The resource id, for kinds identified by id.")
    name: str | None = Field(None, description="The name, for kinds identified by name.")
    region: str | None = Field(None, description="The region, e.g. cn-hangzhou.")
    zone: str | None = Field(None, description="The zone, for zone-located kinds.")
    tags: dict[str, str] | None = Field(None, description="Tags, key to value.")


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


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the snapshot format, generated from the envelope models."""
    schema = SnapshotEnvelope.model_json_schema()
    schema["properties"]["resources"]["items"] = {"$ref": "#/$defs/ResourceEnvelope"}
    schema.setdefault("$defs", {})["ResourceEnvelope"] = ResourceEnvelope.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "policyengine snapshot"
    return schema


@dataclass(frozen=True)
class Problem:
    file: str
    pointer: str  # JSON Pointer to the offending place, "" for the whole document
    message: str

    def render(self) -> str:
        where = f"{self.file}:{self.pointer}" if self.pointer else self.file
        return f"error: {where}: {self.message}"


class InputError(Exception):
    """A snapshot that cannot be evaluated. Carries every problem found, in order."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.render() for p in problems))
        self.problems = problems


def pointer_escape(segment: str | int) -> str:
    """One RFC 6901 reference token."""
    return str(segment).replace("~", "~0").replace("/", "~1")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def load_json(text: str | bytes, file: str) -> Any:
    try:
        # orjson: several times faster than the standard library on large snapshots, and
        # its values take less memory. It rejects NaN and Infinity as JSON does.
        # Parsed JSON holds no cycles: without the cyclic collector re-walking the growing
        # heap, a 100 MB snapshot parses in half the time.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return orjson.loads(text)
        finally:
            if enabled:
                gc.enable()
    except orjson.JSONDecodeError as exc:
        fast_error = exc
    # A document orjson refused: the standard library says where and why in the words
    # our messages use, or accepts it (integers beyond 64 bits), and then orjson's reason
    # is the one to report.
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            [
                Problem(
                    file,
                    "",
                    f"not valid JSON at line {exc.lineno}, column {exc.colno}: "
                    f"{exc.msg[:1].lower()}{exc.msg[1:]}",
                )
            ]
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InputError([Problem(file, "", f"not valid JSON: {exc}")]) from None
    raise InputError([Problem(file, "", f"not valid JSON: {fast_error}")]) from None


@dataclass(frozen=True)
class Snapshot:
    file: str
    envelope: SnapshotEnvelope
    resources: list[dict[str, Any]]


def parse_snapshot(text: str | bytes, file: str) -> Snapshot:
    """JSON text -> a snapshot whose envelope is valid. Model checks come in the store."""
    enabled = gc.isenabled()
    gc.disable()  # as in `load_json`: validation makes many objects and no cycles
    try:
        return _parse_snapshot(text, file)
    finally:
        if enabled:
            gc.enable()


def _parse_snapshot(text: str | bytes, file: str) -> Snapshot:
    data = load_json(text, file)
    if not isinstance(data, dict):
        raise InputError(
            [
                Problem(
                    file,
                    "",
                    f"expected an object with a `resources` list, found {_json_type(data)}",
                )
            ]
        )
    try:
        envelope = SnapshotEnvelope.model_validate(data)
    except ValidationError as exc:
        raise InputError(_problems(file, exc, "")) from None
    problems: list[Problem] = []
    for index, resource in enumerate(envelope.resources):
        try:
            ResourceEnvelope.model_validate(resource)
        except ValidationError as exc:
            problems.extend(_problems(file, exc, f"/resources/{index}"))
    if problems:
        raise InputError(problems)
    return Snapshot(file, envelope, envelope.resources)


# pydantic's error types, said the way the rest of the engine says things.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "dict_type": "an object",
    "list_type": "an array",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "bool_type": "true or false",
}


def _problems(file: str, exc: ValidationError, base: str) -> list[Problem]:
    out = []
    for err in exc.errors():
        pointer = base + "".join(f"/{pointer_escape(p)}" for p in err["loc"])
        kind = err["type"]
        if kind == "missing":
            message = f"`{err['loc'][-1]}` is required"
        elif kind == "extra_forbidden":
            message = (
                f"unknown field `{err['loc'][-1]}`; expected version, account, "
                "captured_at, locations or resources"
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


def describe_json(value: object) -> str:
    """A value as a person reads it in a JSON file: its type, and the value if short."""
    shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str | int) else ""
    kind = _json_type(value)
    return f"{kind} {shown}" if shown and len(shown) <= 40 and kind != "a boolean" else kind


def _json_type(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int():
            return "an integer"
        case float() if math.isfinite(value):
            return "a number"
        case float():
            return "a non-finite number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
    return type(value).__name__
