"""A Terraform plan or state -> the normalized snapshot: read the instances, give each its
region and references, convert each resource, apply the links, and record where every
value came from."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from policyengine.core import model
from policyengine.inputs.importers import shape, values
from policyengine.inputs.importers.base import Converted, Input, Options
from policyengine.inputs.importers.terraform import locations, tf_files
from policyengine.inputs.importers.terraform.context import Context, Made, id_of
from policyengine.inputs.importers.terraform.links import HELPERS, LINKS, link
from policyengine.inputs.importers.terraform.plan import (
    PLAN_SHAPE,
    PROVIDER,
    STATE_SHAPE,
    Configuration,
    Instance,
    configuration,
    plan_instances,
    state_instances,
)
from policyengine.inputs.importers.terraform.regions import region_of
from policyengine.inputs.importers.terraform.resources import TYPES, instance_disks
from policyengine.inputs.snapshot import (
    InputError,
    Problem,
    UnknownValue,
    describe_json,
    pointer_escape,
)


def convert(source: Input, m: model.Model, options: Options, plan: bool) -> Converted:
    doc = source.data
    file = source.name
    problems: list[Problem] = []
    if not isinstance(doc, dict):
        raise InputError([Problem(file, "", "expected the JSON of `terraform show -json`")])
    shape.check(doc, PLAN_SHAPE if plan else STATE_SHAPE, file, "", problems)
    if problems:
        raise InputError(problems)
    instances = (plan_instances if plan else state_instances)(doc, file, problems)
    config = configuration(doc)
    variables = doc.get("variables") or {}
    foreign: dict[str, str] = {}
    alicloud: list[Instance] = []
    for inst in instances:
        if not PROVIDER.search(inst.provider):
            foreign.setdefault(inst.provider, inst.pointer.rsplit("/", 2)[0] + "/provider_name")
            continue
        conf = config.resources.get((inst.module, inst.config_address), {})
        key = conf.get("provider_config_key")
        inst.region = region_of(key, config.providers, variables, options)
        inst.refs = {
            attr: list(expr.get("references") or [])
            for attr, expr in (conf.get("expressions") or {}).items()
            if isinstance(expr, dict)
        }
        alicloud.append(inst)
    if not alicloud and foreign:
        provider, pointer = next(iter(foreign.items()))
        problems.append(
            Problem(
                file,
                pointer,
                f"a {'plan' if plan else 'state'} for another provider (`{provider}`): "
                "policyengine reads alicloud resources",
            )
        )
    if problems:
        raise InputError(problems)
    tf = _tf_files(source, options, config)
    by_config: dict[tuple[str, str], list[Instance]] = defaultdict(list)
    by_id: dict[str, Instance] = {}
    for inst in alicloud:
        by_config[(inst.module, inst.config_address)].append(inst)
        ident = inst.values.get("id")
        if isinstance(ident, str) and ident:
            by_id[ident] = inst
    ctx = Context(alicloud, by_config, by_id, file, problems, m, tf)
    made: dict[str, Made] = {}
    extra: list[Made] = []
    skipped: dict[str, int] = defaultdict(int)
    for inst in alicloud:
        if inst.type in TYPES:
            made[inst.address] = TYPES[inst.type](ctx, inst)
            if inst.type == "alicloud_instance":
                extra.extend(instance_disks(ctx, inst))
        elif inst.type not in LINKS and inst.type not in HELPERS:
            skipped[inst.type] += 1
    images = _images(doc, config, variables, options, file, problems)
    for inst in alicloud:
        if inst.type in LINKS:
            orphan = link(ctx, inst, made)
            if orphan is not None:
                # Every attribute of a resource that cannot be told is unknown.
                untold = UnknownValue(f"{inst.address} (which {orphan.data['kind']} it names)")
                kind = m.kinds[orphan.data["kind"]]
                for name, _ in kind.attributes.fields:  # in declared order: stable output
                    if name in kind.declared:
                        orphan.data.setdefault(name, untold)
                extra.append(orphan)
        role = inst.values.get("role_name")
        if inst.type == "alicloud_instance" and (isinstance(role, UnknownValue) or role):
            row = Made(
                {
                    "kind": "ram_role_attachment",
                    "ram_role_name": ctx.value(inst, "role_name"),
                    "instance_id": id_of(inst),
                    "region": inst.region,
                },
                inst,
                address=f"{inst.address}.role_name",
            )
            row.fields["/ram_role_name"] = (f"{inst.pointer}/role_name", None)
            extra.append(row)
    resources: list[dict[str, Any]] = []
    for one in [*made.values(), *extra]:
        one.data["source"] = locations.source(one, doc, tf)
        resources.append(one.data)
    resources.extend(images)
    document = {"version": 1, "resources": [_json(_clean(r, m, file, problems)) for r in resources]}
    if problems:
        raise InputError(problems)
    what = "plan" if plan else "state"
    summary = (
        f"Terraform {what}: {len(alicloud)} alicloud resource instances -> "
        f"{len(resources)} resources"
    )
    if skipped:
        summary += "; not in the model: " + ", ".join(
            f"{t} ×{n}" for t, n in sorted(skipped.items())
        )
    if foreign:
        summary += "; other providers ignored: " + ", ".join(sorted(foreign))
    if tf.blocks:
        summary += f"; resource blocks found in {len(tf.texts)} .tf files"
    if tf.unreadable:
        summary += "; .tf files python-hcl2 could not parse: " + ", ".join(tf.unreadable)
    return Converted(document, f"terraform-{what}", summary, unknowns=True)


def _tf_files(source: Input, options: Options, config: Configuration) -> tf_files.TfFiles:
    """The configuration's `.tf` files: in `--tf-dir`, or beside the plan."""
    if options.tf_dir is not None:
        return tf_files.read(options.tf_dir, str(options.tf_dir), config.sources)
    if source.path is None:
        return tf_files.TfFiles()
    folder = source.path.parent
    name = str(Path(source.name).parent)
    return tf_files.read(folder, "" if name == "." else name, config.sources)


def _images(
    doc: dict[str, Any],
    config: Configuration,
    variables: dict[str, Any],
    options: Options,
    file: str,
    problems: list[Problem],
) -> list[dict[str, Any]]:
    """Images a `data "alicloud_images"` source read at plan time: an instance that uses
    one then names an image the snapshot has."""
    prior = (doc.get("prior_state") or {}).get("values")
    state, base = (prior, "/prior_state/values") if prior else (doc.get("values") or {}, "/values")
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str | UnknownValue | None]] = set()
    for j, r in enumerate((state.get("root_module") or {}).get("resources") or []):
        if not isinstance(r, dict) or r.get("mode") != "data" or r.get("type") != "alicloud_images":
            continue
        conf = config.resources
        key = conf.get(("", str(r.get("address", "")).removeprefix("data.")), {})
        key = key or conf.get(("", str(r.get("address"))), {})
        region = region_of(key.get("provider_config_key"), config.providers, variables, options)
        at = f"{base}/root_module/resources/{j}/values/images"
        images = (r.get("values") or {}).get("images") or []
        if not isinstance(images, list):
            problems.append(Problem(file, at, f"expected an array, found {describe_json(images)}"))
            continue
        for i, image in enumerate(images):
            ident = image.get("id") or image.get("image_id") if isinstance(image, dict) else None
            if not isinstance(image, dict) or not isinstance(ident, str):
                problems.append(Problem(file, f"{at}/{i}", "expected an image with an `id` string"))
                continue
            alias = image.get("image_owner_alias") or image.get("owner_alias")
            if (ident, region) in seen:
                continue
            seen.add((ident, region))
            out.append(
                {
                    "kind": "image",
                    "id": ident,
                    "region": region,
                    "image_name": image.get("name") or image.get("image_name"),
                    "image_owner_alias": alias,
                    "visibility": {
                        "system": "public",
                        "self": "custom",
                        "others": "shared",
                        "marketplace": "marketplace",
                    }.get(str(alias)),
                    "status": image.get("status"),
                    "source": {
                        "format": "terraform",
                        "address": f"{r.get('address')}.images[{i}]",
                        "pointer": f"{at}/{i}",
                    },
                }
            )
    return out


def _clean(
    resource: dict[str, Any], m: model.Model, file: str, problems: list[Problem]
) -> dict[str, Any]:
    """Drops attributes Terraform left null, and converts values to the model's types."""
    kind = m.kinds.get(resource["kind"])
    types = dict(kind.attributes.fields) if kind is not None else {}
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if value is None:
            continue
        if isinstance(value, dict) and key not in ("source", "tags"):
            value = {k: v for k, v in value.items() if v is not None}
        if isinstance(value, list):
            value = [
                {k: v for k, v in item.items() if v is not None} if isinstance(item, dict) else item
                for item in value
            ]
        source = resource.get("source") or {}
        place = (source.get("fields") or {}).get(f"/{pointer_escape(key)}") or source
        out[key] = values.convert(value, types.get(key), file, place.get("pointer", ""), problems)
    return out


def _json(value: Any) -> Any:
    """UnknownValues -> their JSON marker."""
    if isinstance(value, UnknownValue):
        return value.to_json()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value
