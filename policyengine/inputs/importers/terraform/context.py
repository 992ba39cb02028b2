"""What converting one plan needs at hand: its instances, indexed by configuration address
and by id, the configuration's references, and the places each value came from.

References: a value Terraform knows only after apply is linked through the plan's
`configuration` where it references exactly one resource (`disk_id =
alicloud_ecs_disk.data.id` names that disk before it has an id). A reference whose index
is an expression (`alicloud_ecs_disk.data[count.index]`) is followed only when the `.tf`
files show the expression is that index and nothing more; otherwise the link is unknown,
never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from policyengine.core import model
from policyengine.inputs.importers.terraform.plan import Instance
from policyengine.inputs.importers.terraform.tf_files import TfFiles
from policyengine.inputs.snapshot import Problem, UnknownValue, pointer_escape

# `alicloud_ecs_disk.data`, `alicloud_ecs_disk.data[0]`, `alicloud_ecs_disk.data["a"].id`
_REF = re.compile(r"([a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[([^\]]*)\])?(?:\.id)?")
# What stands for "this instance's own index" in a reference.
_SELF_INDEX = ("count.index", "each.key")
_NOT_RESOURCES = ("var", "local", "data", "module", "count", "each", "path", "terraform", "self")


@dataclass
class Made:
    """A resource being made, and where each of its values came from in the plan."""

    data: dict[str, Any]
    inst: Instance | None  # the instance it is made from
    # JSON Pointer below the resource (`/zone`, `/rules/0`) -> (pointer in the plan, the
    # Terraform resource it came from when that is another one)
    fields: dict[str, tuple[str, Instance | None]] = field(default_factory=dict)
    address: str | None = None  # its own Terraform address, where not the instance's


@dataclass
class Context:
    instances: list[Instance]
    by_config: dict[tuple[str, str], list[Instance]]
    by_id: dict[str, Instance]
    file: str
    problems: list[Problem]
    model: model.Model
    tf: TfFiles

    def value(self, inst: Instance, attr: str) -> Any:
        """An attribute's value after apply: known, linked through a reference, or unknown."""
        value = inst.values.get(attr)
        if isinstance(value, UnknownValue):
            linked = self.linked(inst, attr)
            return linked if linked is not None else UnknownValue(f"{inst.address}.{attr}")
        return value

    def take(self, made: Made, key: str, inst: Instance, attr: str, value: Any = None) -> Any:
        """Sets `made.data[key]` to the attribute's value (or `value`, derived from it) and
        records where in the plan it came from."""
        got = self.value(inst, attr) if value is None else value
        made.data[key] = got
        made.fields["/" + pointer_escape(key)] = (f"{inst.pointer}/{pointer_escape(attr)}", None)
        return got

    def linked(self, inst: Instance, attr: str) -> str | UnknownValue | None:
        """What an unknown id attribute references in the configuration, if it tells."""
        target = self.referenced(inst, attr)
        if target is None:
            return None
        own = target.values.get("id")
        if isinstance(own, str) and own:
            return own
        return UnknownValue(f"{inst.address}.{attr}", ref=target.address)

    def referenced(self, inst: Instance, attr: str) -> Instance | None:
        """The one instance the attribute's expression references, when it can be told."""
        refs = inst.refs.get(attr, [])
        named: dict[str, list[str | None]] = {}
        for ref in refs:
            if ref in _SELF_INDEX:
                continue
            m = _REF.fullmatch(ref)
            if m is None or m.group(1) in _NOT_RESOURCES:
                return None  # a variable, a data source, a module output: not told here
            address = f"{m.group(1)}.{m.group(2)}"
            if (inst.module, address) not in self.by_config:
                return None  # a resource this plan does not hold (another provider's)
            named.setdefault(address, []).append(m.group(3))
        if len(named) != 1:
            return None  # none, or several (`cond ? a.id : b.id`): which is not known
        address, keys = next(iter(named.items()))
        candidates = self.by_config[(inst.module, address)]
        literal = {k for k in keys if k is not None}
        if len(literal) > 1:
            return None  # several instances of it: which one is not known
        if literal:
            key: Any = next(iter(literal)).strip('"')
            key = int(key) if key.isdigit() else key
            candidates = [c for c in candidates if c.index == key]
        elif any(c.index is not None for c in candidates):
            # An instance of a `count` or `for_each` resource, named by an index computed
            # by an expression: not guessed, even when one instance is left to choose.
            if not self._own_index(inst, attr, address):
                return None
            candidates = [c for c in candidates if c.index == inst.index]
        return candidates[0] if len(candidates) == 1 else None

    def _own_index(self, inst: Instance, attr: str, address: str) -> bool:
        """Whether the `.tf` files show the attribute is `ADDRESS[count.index].id` (or
        `[each.key]`) and nothing more."""
        block = self.tf.block(inst.module, inst.config_address)
        expr = block.expressions.get(attr) if block is not None else None
        if expr is None:
            return False
        expr = expr.strip()
        if expr.startswith('"${') and expr.endswith('}"'):
            expr = expr[3:-2].strip()
        pattern = re.escape(address) + r"\[\s*(count\.index|each\.key)\s*\](\.id)?"
        return re.fullmatch(pattern, expr) is not None

    def find(self, inst: Instance, attr: str, types: tuple[str, ...]) -> Instance | None:
        """The resource of the plan an id attribute names, known or referenced."""
        value = inst.values.get(attr)
        if isinstance(value, str) and value in self.by_id:
            found = self.by_id[value]
            return found if found.type in types else None
        target = self.referenced(inst, attr)
        return target if target is not None and target.type in types else None


def own_id(inst: Instance) -> str | UnknownValue:
    value = inst.values.get("id")
    if isinstance(value, str) and value:
        return value
    return UnknownValue(f"{inst.address}.id")


def id_of(inst: Instance) -> str | UnknownValue:
    """The id another resource names this one by: its own, or an unknown that links to it."""
    value = own_id(inst)
    return value if isinstance(value, str) else UnknownValue(f"{inst.address}.id", inst.address)
