"""The normalized snapshot itself: the format the engine evaluates, read as it is."""

from __future__ import annotations

from typing import Any

from policyengine.core import model
from policyengine.inputs.importers.base import Converted, Importer, Input, Options


def detect(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("resources"), list):
        items = data["resources"]
        if not items or any(isinstance(r, dict) and "kind" in r for r in items[:5]):
            return "it has a `resources` list of objects with a `kind`"
    return None


def convert(source: Input, m: model.Model, options: Options) -> Converted:
    data = source.data
    count = len(data.get("resources", [])) if isinstance(data, dict) else 0
    # Whether it holds unknown values is told from the text, when there is one.
    return Converted(data, "snapshot", f"normalized snapshot: {count} resources", unknowns=True)


IMPORTER = Importer("snapshot", "a normalized snapshot", detect, convert, "`resources`")
