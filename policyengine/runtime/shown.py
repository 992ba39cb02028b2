"""How values, resources and edges are shown in evidence and messages: the words an
explanation and an `error` outcome use, shared by the interpreter and the rule driver."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from policyengine.core import model, plan
from policyengine.inputs.resources import Edge, Resource
from policyengine.inputs.snapshot import UnknownValue
from policyengine.inputs.store import Store
from policyengine.runtime.outcomes import Missing


class Elem:
    """A list element bound to a quantifier variable, with its pointer when tracing."""

    __slots__ = ("value", "pointer")

    def __init__(self, value: Any, pointer: str) -> None:
        self.value = value
        self.pointer = pointer


def bare(value: Any) -> Any:
    """A value without its quantifier wrapping."""
    return value.value if isinstance(value, Elem) else value


def unwrapped(value: Any) -> Any:
    """A value, or each item of a list, without quantifier wrapping: what built-ins see."""
    return [bare(v) for v in value] if isinstance(value, list) else bare(value)


def element_at(value: Any, index: int) -> Any:
    """`xs[i]`: the element, counting from the end for a negative index; None when the
    value is no list or is shorter."""
    if isinstance(value, list) and -len(value) <= index < len(value):
        return value[index]
    return None


def text_of(op: plan.Value) -> str:
    return op.text if isinstance(op, plan.Read | plan.Const) else op.span.text


def shown_path(op: plan.Read, env: list[Any]) -> str:
    """The path as written, with each `[name]` key replaced by the key it held."""
    text = op.text
    for step in op.steps:
        if step.op == "var":
            key = env[step.slot]
            key = bare(key)
            text = text.replace(f"[{step.name}]", f"[{show(key)}]", 1)
    return text


def kind_and_key(resource: Resource) -> str:
    return f"{resource.kind} {resource.key}"


def subject_of(owner: str, path: str) -> str:
    return f"{owner}: {path}" if owner else path


def show(value: Any) -> str:
    value = bare(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Resource):
        return f"{value.kind} {value.key}"
    if isinstance(value, Missing):
        return "missing"
    if isinstance(value, UnknownValue):
        return f"unknown ({value.what})"
    if isinstance(value, dict):
        return "{…}"
    return str(value)


def element_label(item: Any, source: str, index: int) -> str:
    """How a deciding element is named: a resource by kind and id, an object by its
    place in the list (`rules[2]`), a scalar by its value."""
    value = bare(item)
    if isinstance(item, Resource) or not isinstance(value, dict | list):
        return show(item)
    return f"{source}[{index}]"


def pointer_of(item: Any) -> str:
    if isinstance(item, Resource):
        return item.pointer
    if isinstance(item, Elem):
        return item.pointer
    return ""


def named_with_address(resource: Resource) -> str:
    """A resource as a person finds it: by kind and key, and where it is declared."""
    named = f"{resource.kind} {resource.key}"
    return (
        f"{named} ({resource.address})"
        if resource.address != resource.key and resource.address
        else named
    )


def follow(edge: Edge, target: Resource) -> str:
    via = ", ".join(edge.paths)
    return (
        f"{edge.source.kind} {edge.source.key} {edge.relation.verb} {target.kind} "
        f"{target.key} (via {via})"
    )


def incomplete(
    relation: model.Relation, source: Resource, path: str, pointer: str, store: Store
) -> str:
    attribute = pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
    gap = f"`{attribute}` of {source.kind} {source.key} is missing"
    unknown = store.value_at(source, pointer)
    if isinstance(unknown, UnknownValue):
        gap = f"`{attribute}` of {named_with_address(source)} is not known yet ({unknown.what})"
    if path.startswith("when "):
        return f"{gap}, so whether it has a `{relation.name}` edge cannot be told"
    return f"{gap}, so `{relation.name}` cannot be followed through `{path}`"


def dangling(edge: Edge) -> str:
    return (
        f"{edge.source.kind} {edge.source.key} names {edge.relation.target} "
        f"`{edge.value}` ({', '.join(edge.paths)}), which is not in the snapshot"
    )


def missing_attribute(op: plan.Value, env: list[Any]) -> str:
    """Which attribute a missing value lacks, said for a person: "`metadata_options` of
    instance i-1 is missing" (not the path the rule wrote, which may go deeper)."""
    if not isinstance(op, plan.Read):
        return f"`{text_of(op)}` is missing"
    start = env[op.slot]
    if isinstance(start, Resource):
        current: Any = start.data
        said, owner = "", f" of {start.kind} {start.key}"
    else:
        current = bare(start)
        said, owner = re.split(r"[.\[]", op.text, maxsplit=1)[0], ""
    for i, step in enumerate(op.steps):
        if step.op == "star":
            break
        key = env[step.slot] if step.op == "var" else step.name
        key = bare(key)
        if step.op == "index":
            said += f"[{key}]"
            current = element_at(current, int(key))
            if current is None:
                break
            continue
        said += f".{key}" if step.op == "attr" else f"[{show(key)}]"
        if i == 0 and isinstance(start, Resource) and key in ("region", "zone"):
            current = getattr(start, key)
        else:
            current = current.get(key) if isinstance(current, Mapping) else None
        if current is None:
            break
    return f"`{said.lstrip('.')}`{owner} is missing"
