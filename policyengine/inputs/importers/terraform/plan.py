"""Reading `terraform show -json`: the resource instances of a plan or a state, each with
its values as they will be after apply, and the configuration's expressions.

A plan says what it cannot know yet in `after_unknown`, a tree beside `after` with `true`
where a value is known only after apply. The two are read together (`planned`) into one
tree in which every such value is an `UnknownValue`: what is unknown is decided on the
parsed trees alone, and from then on an unknown can only be carried, never read as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from policyengine.inputs.importers.shape import Either, MapOf
from policyengine.inputs.snapshot import Problem, UnknownValue, pointer_escape

PROVIDER = re.compile(r"(^|/)alicloud$")


@dataclass
class Instance:
    """One resource instance of the plan or state."""

    address: str  # module.app.alicloud_ecs_disk.data[0]
    module: str  # module.app ("" for the root), without instance keys
    type: str
    name: str
    index: Any  # count or for_each key; None for a single instance
    values: dict[str, Any]  # after apply: known values, and UnknownValue where not known
    pointer: str  # where its values are in the input file (`/resource_changes/4/change/after`)
    unknown_pointer: str | None  # where its `after_unknown` tree is, in a plan
    provider: str = ""
    region: str | UnknownValue | None = None
    refs: dict[str, list[str]] = field(default_factory=dict)  # attribute -> references

    @property
    def config_address(self) -> str:
        return f"{self.type}.{self.name}"


def planned(after: Any, flags: Any, what: str) -> Any:
    """`after` with every value `flags` (the `after_unknown` tree) marks `true` replaced by
    an UnknownValue named `what` and the path to it."""
    if flags is True:
        return UnknownValue(what)
    if isinstance(flags, dict) and flags:
        out = dict(after) if isinstance(after, dict) else {}
        if after is not None and not isinstance(after, dict):
            return after  # a shape the flags do not describe: the value as planned
        for key, inner in flags.items():
            value = planned(out.get(key), inner, f"{what}.{key}")
            if value is not None or key in out:
                out[key] = value
        return out
    if isinstance(flags, list) and flags:
        if after is not None and not isinstance(after, list):
            return after
        items = list(after) if isinstance(after, list) else []
        items += [None] * (len(flags) - len(items))
        return [
            planned(v, flags[i] if i < len(flags) else None, f"{what}[{i}]")
            for i, v in enumerate(items)
        ]
    return after


# ---------------------------------------------------------------- the shape it reads

_EXPRESSION = {"constant_value": object, "references": [str]}
_EXPRESSIONS = MapOf(Either(_EXPRESSION, list))  # an attribute, or a list of nested blocks
_CONFIG_MODULE: dict[str, Any] = {
    "resources": [{"address": str, "provider_config_key": str, "expressions": _EXPRESSIONS}],
}
_CONFIG_MODULE["module_calls"] = MapOf({"source": str, "module": _CONFIG_MODULE})
_STATE_MODULE: dict[str, Any] = {
    "resources": [
        {
            "address": str,
            "mode": str,
            "type": str,
            "name": str,
            "provider_name": str,
            "values": dict,
        }
    ],
}
_STATE_MODULE["child_modules"] = [_STATE_MODULE]
_COMMON = {
    "configuration": {
        "root_module": _CONFIG_MODULE,
        "provider_config": MapOf({"expressions": _EXPRESSIONS}),
    },
    "variables": MapOf(dict),
    "values": {"root_module": _STATE_MODULE},
    "prior_state": {"values": {"root_module": _STATE_MODULE}},
}
PLAN_SHAPE = {
    **_COMMON,
    "resource_changes": [
        {
            "address": str,
            "module_address": str,
            "mode": str,
            "type": str,
            "name": str,
            "provider_name": str,
            "change": {"actions": [str], "after": dict, "after_unknown": object},
        }
    ],
}
STATE_SHAPE = _COMMON


# ---------------------------------------------------------------- instances


def plan_instances(doc: dict[str, Any], file: str, problems: list[Problem]) -> list[Instance]:
    out = []
    changes = doc.get("resource_changes")
    if not isinstance(changes, list):
        problems.append(Problem(file, "/resource_changes", "expected the plan's resource list"))
        return []
    for i, rc in enumerate(changes):
        at = f"/resource_changes/{i}"
        if not isinstance(rc, dict) or rc.get("mode") != "managed":
            continue
        change = rc.get("change") or {}
        if change.get("actions") == ["delete"]:
            continue  # gone after apply
        after = change.get("after")
        if not isinstance(after, dict):
            problems.append(Problem(file, f"{at}/change/after", "expected the planned values"))
            continue
        address = str(rc.get("address"))
        flags = change.get("after_unknown")
        values = planned(after, flags if isinstance(flags, dict) else {}, address)
        out.append(
            Instance(
                address,
                module_path(str(rc.get("module_address") or "")),
                str(rc.get("type")),
                str(rc.get("name")),
                rc.get("index"),
                values if isinstance(values, dict) else {},
                f"{at}/change/after",
                f"{at}/change/after_unknown" if isinstance(flags, dict) else None,
                str(rc.get("provider_name", "")),
            )
        )
    return out


def state_instances(doc: dict[str, Any], file: str, problems: list[Problem]) -> list[Instance]:
    out: list[Instance] = []
    root = (doc.get("values") or {}).get("root_module")
    if not isinstance(root, dict):
        problems.append(Problem(file, "/values/root_module", "expected the state's root module"))
        return out

    def walk(mod: dict[str, Any], at: str) -> None:
        for i, r in enumerate(mod.get("resources") or []):
            if not isinstance(r, dict) or r.get("mode") != "managed":
                continue
            module_addr = str(r.get("address", "")).rsplit(f"{r.get('type')}.", 1)[0].rstrip(".")
            state_values = r.get("values")
            out.append(
                Instance(
                    str(r.get("address")),
                    module_path(module_addr),
                    str(r.get("type")),
                    str(r.get("name")),
                    r.get("index"),
                    state_values if isinstance(state_values, dict) else {},
                    f"{at}/resources/{i}/values",
                    None,
                    str(r.get("provider_name", "")),
                )
            )
        for j, child in enumerate(mod.get("child_modules") or []):
            walk(child, f"{at}/child_modules/{j}")

    walk(root, "/values/root_module")
    return out


def module_path(address: str) -> str:
    """`module.app[0].module.db["x"]` -> `module.app.module.db`: configuration's path."""
    return re.sub(r"\[[^\]]*\]", "", address)


@dataclass(frozen=True)
class Configuration:
    resources: dict[tuple[str, str], dict[str, Any]]  # (module path, type.name) -> resource
    providers: dict[str, Any]  # provider_config
    sources: dict[str, str]  # module path -> its `source` as written (`./modules/app`)


def configuration(doc: dict[str, Any]) -> Configuration:
    """Configuration resources by (module path, type.name), the provider configurations,
    and where each module's files are."""
    conf = doc.get("configuration") or {}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    sources: dict[str, str] = {"": "."}

    def walk(mod: dict[str, Any], path: str) -> None:
        for r in mod.get("resources") or []:
            if isinstance(r, dict):
                found[(path, str(r.get("address")))] = r
        for name, call in (mod.get("module_calls") or {}).items():
            if isinstance(call, dict) and isinstance(call.get("module"), dict):
                inner = f"{path}.module.{name}".lstrip(".")
                if isinstance(call.get("source"), str):
                    sources[inner] = call["source"]
                walk(call["module"], inner)

    walk(conf.get("root_module") or {}, "")
    return Configuration(found, conf.get("provider_config") or {}, sources)


def at(base: str, *parts: str | int) -> str:
    return base + "".join(f"/{pointer_escape(p)}" for p in parts)


def detect_plan(data: Any) -> str | None:
    if isinstance(data, dict) and "format_version" in data and "resource_changes" in data:
        return "it has `format_version` and `resource_changes`, as a Terraform plan's JSON does"
    if isinstance(data, dict) and "format_version" in data and "planned_values" in data:
        return "it has `format_version` and `planned_values`, as a Terraform plan's JSON does"
    return None


def detect_state(data: Any) -> str | None:
    if isinstance(data, dict) and "format_version" in data and "planned_values" not in data:
        if "values" in data or "terraform_version" in data:
            return "it has `format_version` and `values`, as a Terraform state's JSON does"
    return None
