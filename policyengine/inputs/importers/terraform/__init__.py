"""Terraform JSON (`terraform show -json` of a plan or of a state) for the `alicloud`
provider -> the normalized snapshot.

Each alicloud resource becomes a resource of the ECS model (`resources`); an instance's
system disk and inline data disks become disks attached to it; attachments and rules
become relations (`links`). A resource's region is its provider configuration's
(`regions`). A value Terraform knows only after apply is linked through the plan's
configuration where it references exactly one resource, and otherwise is
`{"$unknown": ADDRESS.ATTRIBUTE}`, which any rule that needs it reports as `error`
(`context`). Every resource keeps its Terraform address and where each of its values is
in the plan and, when the `.tf` files are at hand, its `resource` block (`locations`).

Modules: `plan` reads the JSON, `tf_files` the `.tf` files, `context` resolves
references, `resources` and `links` convert, `locations` records the places, `convert`
runs them in order.
"""

from __future__ import annotations

from policyengine.core import model
from policyengine.inputs.importers.base import Converted, Importer, Input, Options
from policyengine.inputs.importers.terraform.plan import detect_plan, detect_state

# The converter (and the HCL reader it uses for `.tf` files) is imported when a Terraform
# input is read: telling the format needs only `plan`, and most runs read none.


def convert_plan(source: Input, m: model.Model, options: Options) -> Converted:
    from policyengine.inputs.importers.terraform.convert import convert

    return convert(source, m, options, plan=True)


def convert_state(source: Input, m: model.Model, options: Options) -> Converted:
    from policyengine.inputs.importers.terraform.convert import convert

    return convert(source, m, options, plan=False)


PLAN_IMPORTER = Importer(
    "terraform-plan", "a Terraform plan", detect_plan, convert_plan, "`terraform show -json PLAN`"
)
STATE_IMPORTER = Importer(
    "terraform-state", "a Terraform state", detect_state, convert_state, "`terraform show -json`"
)
