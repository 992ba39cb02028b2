"""Where each attribute of the bundled kinds comes from: the API, its field name and the
type to declare, for every field the official SDKs' response models have.

Generated into `api_fields.json` by `scripts/generate_models.py`; read by diagnostics,
so that an attribute a model lacks but the API returns is reported with the way to
declare it rather than a guess at another name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class ApiField:
    api: str  # DescribeInstances
    field: str  # OSType; nested fields dotted: MetadataOptions.HttpEndpoint
    type: str  # the type to declare: string, int, list of string, { ... }


@cache
def _table() -> dict[str, dict[str, list[str]]]:
    text = (resources.files("policyengine.core") / "api_fields.json").read_text(encoding="utf-8")
    table: dict[str, dict[str, list[str]]] = json.loads(text)
    return table


def api_field(kind: str, attribute: str) -> ApiField | None:
    """The API field an attribute path of a kind comes from, if an API returns it."""
    found = _table().get(kind, {}).get(attribute)
    return None if found is None else ApiField(*found)


def declare_hint(kind: str, attribute: str) -> tuple[str, str] | None:
    """(message, help) for an attribute `kind` lacks that its API returns."""
    found = api_field(kind, attribute)
    if found is None:
        return None
    message = (
        f"`{attribute}` is not declared for `{kind}`; {found.api} returns it as `{found.field}`"
    )
    fix = f"declare it with `extend kind {kind} {{ {attribute}: {found.type} }}`"
    if "." in attribute or "[" in attribute:
        fix = f"declare it in an `extend kind {kind} {{ ... }}` ({found.type})"
    return message, fix
