"""Where each converted value is in the user's own files: a JSON Pointer into the plan (or
state) as written, and the `resource` block in the `.tf` files when they are at hand.

A resource made from a plan carries `source.pointer` (its values in the plan) and
`source.fields`: for each part of it (`/zone`, `/rules/0/source_cidr_ip`), the place in the
plan the value came from, with the Terraform address when that is another resource (a
security group rule's values come from the `alicloud_security_group_rule`). Every pointer
written here resolves in the plan: a value the plan does not hold (a default, an unknown
that `after` omits) points at `after_unknown`'s flag for it, or else at the nearest part
of the resource that the plan does hold.
"""

from __future__ import annotations

from typing import Any

from policyengine.inputs.importers.terraform.context import Made
from policyengine.inputs.importers.terraform.tf_files import TfFiles
from policyengine.inputs.origins import resolves


def nearest(doc: Any, pointer: str) -> str:
    """The pointer itself when it resolves; else the same place under `after_unknown`
    (where the plan flags a value it cannot know yet); else its nearest parent that does."""
    if resolves(doc, pointer):
        return pointer
    if "/change/after/" in pointer:
        flagged = pointer.replace("/change/after/", "/change/after_unknown/", 1)
        if resolves(doc, flagged):
            return flagged
    while pointer and not resolves(doc, pointer):
        pointer = pointer.rsplit("/", 1)[0]
    return pointer


def source(made: Made, doc: Any, tf: TfFiles) -> dict[str, Any]:
    """The resource's `source`: its address, its place in the plan, where each of its
    values came from, and where it is declared."""
    inst = made.inst
    out: dict[str, Any] = {"format": "terraform"}
    if inst is None:
        return out
    out["address"] = made.address or inst.address
    own = nearest(doc, inst.pointer)
    out["pointer"] = own
    fields: dict[str, dict[str, Any]] = {}
    for sub, (pointer, other) in sorted(made.fields.items()):
        place: dict[str, Any] = {"pointer": nearest(doc, pointer)}
        if other is not None and other.address != out["address"]:
            place["address"] = other.address
            other_block = tf.block(other.module, other.config_address)
            if other_block is not None:
                place["declared"] = {"file": other_block.file, "line": other_block.line}
        if place == {"pointer": own} and sub != "":
            continue  # the resource's own place: nothing to add
        fields[sub] = place
    if fields:
        out["fields"] = fields
    block = tf.block(inst.module, inst.config_address)
    if block is not None:
        out["declared"] = {"file": block.file, "line": block.line}
    return out
