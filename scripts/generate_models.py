"""Declare the whole API: generate the attributes of the bundled ECS, VPC, RAM and KMS
kinds from the official SDKs' response models.

For every response item the aliyun importer reads, this reads the SDK's model class
(`alibabacloud_ecs20140526.models`, `alibabacloud_vpc20160428.models`,
`alibabacloud_ram20150501.models`, `alibabacloud_kms20160120.models`): the field names
its `to_map` writes and the types its constructor declares. Each field gets the
attribute name the importer gives it (`OSType` -> `os_type`, one-key list wrappers
unwrapped) and its type; fields the hand-written models (`ecs.model`, `vpc.model`)
already declare are left to them, so identities, locations, relations and refined types
(`time`, `cidr`, `id of disk`, required attributes) stay hand-written.

It writes:
  policies/alicloud/{ecs,vpc,ram,kms}_api.model     `extend kind` declarations
  policyengine/core/api_fields.json                 attribute -> API field, for diagnostics
  docs/model-reference.md                           every kind's attributes and sources

    python scripts/generate_models.py           # write the files
    python scripts/generate_models.py --check   # exit 1 if a file is stale

The SDK packages are in the `test` extra. Decimal fields (`float` in the SDK) are left
out: the language has no decimal type; they are listed in the reference.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from policyengine.core import model  # noqa: E402
from policyengine.core.source import Source  # noqa: E402
from policyengine.frontend import ast  # noqa: E402
from policyengine.frontend.checker import build_model  # noqa: E402
from policyengine.frontend.formatter import format_text  # noqa: E402
from policyengine.frontend.parser import parse  # noqa: E402
from policyengine.inputs.importers.aliyun.apis import APIS, attribute_name  # noqa: E402

PACK = ROOT / "policies" / "alicloud"
SDKS = {
    "ecs": "alibabacloud_ecs20140526",
    "vpc": "alibabacloud_vpc20160428",
    "ram": "alibabacloud_ram20150501",
    "kms": "alibabacloud_kms20160120",
}
# The hand-written model that declares each product's kinds: RAM roles and KMS keys are
# the ECS vocabulary's, which relates instances and disks to them.
HAND = {"ecs": "ecs", "vpc": "vpc", "ram": "ecs", "kms": "ecs"}
# The fields that tell which resource an item completes: not attributes of it.
JOIN_KEYS = {"DescribeInstanceAutoRenewAttribute": ("InstanceId",)}


@dataclass(frozen=True)
class Target:
    """Where an API's items go: a kind, or a record a kind holds a list of."""

    api: str
    product: str  # ecs | vpc
    what: str  # "kind" | "record"
    name: str
    at: str = ""  # the attribute of the kind that holds each item; "": the kind itself
    source: str | None = None  # the API its new attributes are declared `from`


def targets() -> list[Target]:
    out = []
    for api in APIS.values():
        product = api.product
        source = api.name if api.declared_from and api.into is None else None
        if api.kind is not None:
            out.append(Target(api.name, product, "kind", api.kind))
        elif api.name == "DescribeSecurityGroupAttribute":
            out.append(Target(api.name, product, "record", "sg_rule"))
        elif api.completes is not None and api.name != "DescribeAutoProvisioningGroupInstances":
            out.append(Target(api.name, product, "kind", api.completes, api.into or "", source))
    return out


# ---------------------------------------------------------------- the SDK's models


@dataclass(frozen=True)
class SdkField:
    key: str  # the API's field name: OSType
    name: str  # the attribute the importer makes of it: os_type
    type: SdkType


@dataclass(frozen=True)
class SdkType:
    scalar: str | None = None  # string | int | bool | float
    item: SdkType | None = None  # a list of this
    fields: tuple[SdkField, ...] | None = None  # an object


def item_class(t: Target) -> type:
    api = APIS[t.api]
    module = importlib.import_module(SDKS[t.product] + ".models")
    # The model of a one-item response (`{"KeyMetadata": {...}}`) has no inner name.
    cls: type = getattr(module, f"{api.name}ResponseBody{api.items[0]}{api.items[1]}")
    return cls


class _Probe:
    """Stands for a field's value while `to_map` runs, to learn the key it writes."""

    def __init__(self, attr: str) -> None:
        self.attr = attr

    def to_map(self) -> _Probe:
        return self

    def __iter__(self) -> Iterator[_Probe]:
        yield self


def _keys(cls: type) -> dict[str, str]:
    """SDK attribute -> the API field name its `to_map` writes."""
    obj = cls()
    for attr in _hints(cls):
        setattr(obj, attr, _Probe(attr))
    out: dict[str, str] = {}
    for key, value in obj.to_map().items():  # type: ignore[attr-defined]
        probe = value[0] if isinstance(value, list) and value else value
        if isinstance(probe, _Probe):
            out[probe.attr] = key
    return out


def _hints(cls: type) -> dict[str, Any]:
    return {a: t for a, t in typing.get_type_hints(cls.__init__).items() if a != "return"}


SCALARS = {str: "string", int: "int", bool: "bool", float: "float"}


def sdk_type(t: Any) -> SdkType:
    if t in SCALARS:
        return SdkType(scalar=SCALARS[t])
    if typing.get_origin(t) is list:
        (item,) = typing.get_args(t)
        return SdkType(item=sdk_type(item))
    if typing.get_origin(t) is dict:
        return SdkType(scalar="map")
    if hasattr(t, "to_map"):
        fields = sdk_fields(t)
        # A one-key wrapper around a list is unwrapped by the importer.
        if len(fields) == 1 and fields[0].type.item is not None:
            return fields[0].type
        return SdkType(fields=tuple(fields))
    raise TypeError(f"an SDK type this script does not know: {t!r}")


# The SDK types these as strings; the API documents them as times and CIDR blocks, which
# rules compare as such (`expired_time < now()`, `covers`).
REFINED = {"Time": "time", "CidrIp": "cidr", "CidrBlock": "cidr"}


def sdk_fields(cls: type) -> list[SdkField]:
    keys = _keys(cls)
    out = []
    for attr, t in _hints(cls).items():
        key = keys[attr]
        typed = sdk_type(t)
        refined = next((r for end, r in REFINED.items() if key.endswith(end)), None)
        if typed.scalar == "string" and refined is not None:
            typed = SdkType(scalar=refined)
        if key == "Tags":  # every tag shape becomes one map
            typed = SdkType(scalar="map")
        wrapped = typed.item is not None and _is_wrapper(t)
        name = "tags" if key == "Tags" else attribute_name(key, {"x": []} if wrapped else None)
        out.append(SdkField(key, name, typed))
    return out


def _is_wrapper(t: Any) -> bool:
    return hasattr(t, "to_map") and len(_hints(t)) == 1


def item_fields(t: Target, kind: model.Kind | None) -> list[SdkField]:
    """The fields of one response item as the importer keeps them: the identity becomes
    the envelope's `id`/`name`, `RegionId` the region, `ZoneId` the zone of a kind that
    may be in one."""
    api = APIS[t.api]
    out = []
    for f in sdk_fields(item_class(t)):
        if f.key in (api.identity, "RegionId", *JOIN_KEYS.get(t.api, ())):
            continue
        if f.key == "ZoneId" and kind is not None and kind.may_have("zone"):
            continue
        out.append(f)
    return out


# ---------------------------------------------------------------- the hand-written model


def hand_written() -> dict[str, ast.ModelFile]:
    out = {}
    for product in sorted(set(HAND.values())):
        path = PACK / f"{product}.model"
        parsed = parse(Source(f"policies/alicloud/{product}.model", path.read_text()))
        assert isinstance(parsed, ast.ModelFile)
        out[product] = parsed
    return out


def declared_fields(files: dict[str, ast.ModelFile], t: Target) -> tuple[ast.Field, ...]:
    for file in files.values():
        table = file.kinds if t.what == "kind" else file.records
        for node in table:
            if node.name.text == t.name:
                return node.fields
    raise LookupError(f"no hand-written {t.what} `{t.name}`")


def vocabulary() -> model.Model:
    """The bundled vocabulary as the engine builds it (hand-written and generated)."""
    files = []
    for path in sorted(PACK.glob("*.model")):
        parsed = parse(Source(str(path.relative_to(ROOT)), path.read_text()))
        assert isinstance(parsed, ast.ModelFile)
        files.append(parsed)
    built, diags = build_model(files)
    errors = [d for d in diags if d.level == "error"]
    assert not errors, errors
    return built


# ---------------------------------------------------------------- generating


NAMES = {s: s for s in ("string", "int", "bool", "time", "cidr")} | {"map": "map of string"}


def _type_text(t: SdkType, indent: str) -> str | None:
    """The model's spelling of an SDK type; None for what the language cannot hold."""
    if t.scalar is not None:
        return NAMES.get(t.scalar)
    if t.item is not None:
        inner = _type_text(t.item, indent)
        return None if inner is None else f"list of {inner}"
    assert t.fields is not None
    body = _fields_text(list(t.fields), (), indent + "  ")
    return "{\n" + body + indent + "}" if body else None


def _fields_text(
    fields: list[SdkField],
    declared: tuple[ast.Field, ...],
    indent: str,
    source: str | None = None,
) -> str:
    """The declarations `fields` need beyond `declared`: new attributes whole (`from
    source` when only that API gives them), and the missing parts of inline objects the
    hand-written model declares in part."""
    have = {f.name.text: f for f in declared}
    lines = []
    for f in fields:
        mine = have.get(f.name)
        if mine is None:
            text = _type_text(f.type, indent)
            if text is not None:
                tail = f' from "{source}"' if source is not None else ""
                lines.append(f"{indent}{f.name}: optional {text}{tail}\n")
            continue
        shape = _object_part(mine.type, f.type, indent)
        if shape is not None:
            lines.append(f"{indent}{f.name}: {shape}\n")
    return "".join(lines)


def _object_part(mine: ast.TypeExpr, sdk: SdkType, indent: str) -> str | None:
    """The same wrappers as the hand-written type around the object fields it lacks."""
    match mine:
        case ast.OptionalType(inner=inner):
            part = _object_part(inner, sdk, indent)
            return None if part is None else f"optional {part}"
        case ast.ListType(item=item) if sdk.item is not None:
            part = _object_part(item, sdk.item, indent)
            return None if part is None else f"list of {part}"
        case ast.ObjectType(fields=fields) if sdk.fields is not None:
            body = _fields_text(list(sdk.fields), fields, indent + "  ")
            return "{\n" + body + indent + "}" if body else None
    return None


HEADER = """\
# GENERATED by scripts/generate_models.py from {sdk} {version}: do not edit.
# Every field of every response item the importer reads that {hand} does not declare
# itself, with the type the SDK gives it. Regenerate after an SDK upgrade.
"""


def generate_model(product: str, files: dict[str, ast.ModelFile]) -> str:
    sdk = SDKS[product]
    version = importlib.metadata.version(sdk.replace("_", "-"))
    hand = f"{HAND[product]}.model"
    out = [HEADER.format(sdk=sdk.replace("_", "-"), version=version, hand=hand)]
    out.append(f'model alicloud.{product}_api "{product.upper()} API fields, generated"\n')
    out.append(f"use alicloud.{HAND[product]}\n")
    kinds = _kinds(files)
    listed: dict[str, set[str]] = {}  # kind -> the fields an API read before gives it
    for t in targets():
        if t.product != product:
            continue
        fields = item_fields(t, kinds.get(t.name))
        given = listed.setdefault(t.name, set())
        if t.source is not None:  # only what the listing lacks comes `from` this API
            fields = [f for f in fields if f.name not in given]
        given.update(f.name for f in fields)
        if t.at:  # the items are one object attribute of the kind
            fields = [SdkField(t.at, t.at, SdkType(fields=tuple(fields)))]
        body = _fields_text(fields, declared_fields(files, t), "  ", t.source)
        if body:
            out.append(f"\n# {t.api}\nextend {t.what} {t.name} {{\n{body}}}\n")
    return format_text("".join(out), f"{product}_api.model")


def _kinds(files: dict[str, ast.ModelFile]) -> dict[str, model.Kind]:
    """The hand-written kinds, for where each is located."""
    built, _ = build_model(files.values())
    return dict(built.kinds)


# ---------------------------------------------------------------- where each attribute comes from


def sources(m: model.Model) -> dict[str, dict[str, tuple[str, str, str]]]:
    """kind -> attribute path -> (API, API field path, type), for every SDK field."""
    out: dict[str, dict[str, tuple[str, str, str]]] = {}
    for t in targets():
        kind_names = [t.name] if t.what == "kind" else _holders(m, t.name)
        for kind_name in kind_names:
            table = out.setdefault(kind_name, {})
            prefix = "" if t.what == "kind" else f"{_holder_attr(m, kind_name, t.name)}[*]."
            if t.at:
                prefix = f"{t.at}."
            for f in item_fields(t, m.kinds.get(t.name)):
                for path, api_path, text in _paths(f, "", ""):
                    table.setdefault(prefix + path, (t.api, api_path, text))
    return out


def _holders(m: model.Model, record: str) -> list[str]:
    return [k.name for k in m.kinds.values() if _holder_attr(m, k.name, record)]


def _holder_attr(m: model.Model, kind: str, record: str) -> str:
    for name, t in m.kinds[kind].attributes.fields:
        inner = model.unwrap(t)
        if isinstance(inner, model.ListT) and isinstance(inner.item, model.RecordT):
            if inner.item.name == record:
                return name
    return ""


def _paths(f: SdkField, prefix: str, api_prefix: str) -> Iterator[tuple[str, str, str]]:
    """(attribute path, API field path, type as declared) of a field and its parts."""
    if not _declarable(f.type):
        return
    path, api_path = prefix + f.name, api_prefix + f.key
    yield path, api_path, _short(f.type)
    t, star = f.type, ""
    while t.item is not None:
        t, star = t.item, star + "[*]"
    if t.fields is not None:
        for sub in t.fields:
            yield from _paths(sub, f"{path}{star}.", f"{api_path}{star}.")


def _short(t: SdkType) -> str:
    if t.scalar is not None:
        return NAMES[t.scalar]
    if t.item is not None:
        return f"list of {_short(t.item)}"
    return "{ ... }"


def api_fields_json(m: model.Model) -> str:
    """One line per attribute, so that a diff after an SDK upgrade reads field by field."""
    kinds = []
    for kind, attrs in sorted(sources(m).items()):
        rows = ",\n".join(
            f"    {json.dumps(attr)}: {json.dumps(list(src))}"
            for attr, src in sorted(attrs.items())
        )
        kinds.append(f"  {json.dumps(kind)}: {{\n{rows}\n  }}")
    return "{\n" + ",\n".join(kinds) + "\n}\n"


# ---------------------------------------------------------------- the model reference


def reference(m: model.Model) -> str:
    src = sources(m)
    lines = [
        "# Model reference: the bundled ECS, VPC, RAM and KMS kinds",
        "",
        "Generated by `python scripts/generate_models.py` from the bundled models and the",
        "official SDKs' response models; a test fails when it is stale. Every attribute a",
        "rule can read, its type, and the API field it comes from (`[*]` is every element",
        "of a list). Attributes without a source are the importer's own: the envelope",
        "(`kind`, `id`, `region`, `zone`) and values it derives or joins from other APIs.",
        "Decimal fields (`float` in the SDK) are not declared: the language has no decimal",
        "type.",
        "",
    ]
    for kind in m.kinds.values():
        lines += [f"## `{kind.name}`", "", "| attribute | type | from |", "|---|---|---|"]
        for path, t in _rows(kind.attributes, ""):
            api = src.get(kind.name, {}).get(path)
            where = f"{api[0]} `{api[1]}`" if api else ""
            lines.append(f"| `{path}` | {model.describe(t)} | {where} |")
        lines.append("")
    return "\n".join(lines)


def _rows(record: model.RecordT, prefix: str) -> Iterator[tuple[str, model.Type]]:
    for name, t in record.fields:
        path = prefix + name
        yield path, t
        inner, star = model.unwrap(t), ""
        while isinstance(inner, model.ListT):
            inner, star = model.unwrap(inner.item), star + "[*]"
        if isinstance(inner, model.RecordT):
            yield from _rows(inner, f"{path}{star}.")


# ---------------------------------------------------------------- the consistency check


def disagreements(m: model.Model) -> list[str]:
    """Every SDK field the vocabulary lacks or types otherwise, as one line each."""
    out: list[str] = []
    for t in targets():
        if t.what == "kind":
            holder: model.Type = m.kinds[t.name].attributes
            if t.at:
                holder = m.kinds[t.name].attributes.by_name[t.at]
        else:
            holder = m.records[t.name]
        for f in item_fields(t, m.kinds.get(t.name)):
            _agree(f, holder, f"{t.api} {f.key}", f"{t.name}.{f.name}", out)
    return out


_CLASSES = {"string": "string", "time": "string", "cidr": "string", "int": "int", "bool": "bool"}


# Where the hand-written model deliberately types a field otherwise than the SDK does.
REFINEMENTS = {
    # The API prints a number as a string; rules compare priorities as numbers.
    ("DescribeSecurityGroupAttribute", "Priority"): "int",
}


def _declarable(t: SdkType) -> bool:
    """Whether the language can hold it: not a decimal, nor an object of decimals only."""
    if t.item is not None:
        return _declarable(t.item)
    if t.fields is not None:
        return any(_declarable(f.type) for f in t.fields)
    return t.scalar != "float"


def _agree(f: SdkField, holder: model.Type, api: str, where: str, out: list[str]) -> None:
    if not _declarable(f.type):
        return
    refined = REFINEMENTS.get((api.split(" ")[0], f.key))
    sdk = f.type if refined is None else SdkType(scalar=refined)
    record = model.unwrap(holder)
    assert isinstance(record, model.RecordT)
    declared = record.by_name.get(f.name)
    if declared is None:
        out.append(f"{api}: `{where}` is not declared")
        return
    _agree_type(sdk, declared, api, where, out)


def _agree_type(sdk: SdkType, t: model.Type, api: str, where: str, out: list[str]) -> None:
    t = model.unwrap(t)
    if sdk.scalar == "map":
        ok = isinstance(t, model.MapT)
    elif sdk.scalar is not None:
        ok = model.value_class(t) == _CLASSES[sdk.scalar]
    elif sdk.item is not None:
        ok = isinstance(t, model.ListT)
        if ok:
            assert isinstance(t, model.ListT)
            _agree_type(sdk.item, t.item, api, f"{where}[*]", out)
    else:
        ok = isinstance(t, model.RecordT)
        if ok:
            assert sdk.fields is not None
            for sub in sdk.fields:
                _agree(sub, t, f"{api}.{sub.key}", f"{where}.{sub.name}", out)
    if not ok:
        out.append(f"{api}: `{where}` is {model.describe(t)}, the SDK says {_sdk_text(sdk)}")


def _sdk_text(t: SdkType) -> str:
    if t.scalar is not None:
        return t.scalar
    if t.item is not None:
        return f"list of {_sdk_text(t.item)}"
    return "an object"


# ---------------------------------------------------------------- the files


def outputs() -> dict[Path, str]:
    files = hand_written()
    out = {PACK / f"{p}_api.model": generate_model(p, files) for p in SDKS}
    return out


def derived() -> dict[Path, str]:
    """The files read from the bundled vocabulary: written after the models."""
    m = vocabulary()
    return {
        ROOT / "policyengine" / "core" / "api_fields.json": api_fields_json(m),
        ROOT / "docs" / "model-reference.md": reference(m),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args()
    stale = []
    for step in (outputs, derived):
        for path, text in step().items():
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
