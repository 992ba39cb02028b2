"""The bundled ECS and VPC models against the official SDKs' response models.

Every field of every response item the aliyun importer reads is declared, with a type
that agrees with the SDK's; the generated model files, the attribute-source table and
docs/model-reference.md are what `scripts/generate_models.py` makes of the installed
SDKs (run it after an SDK upgrade)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest
from conftest import ROOT

from policyengine.core import model
from policyengine.inputs.importers.aliyun.apis import APIS


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_models", ROOT / "scripts" / "generate_models.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_models"] = module
    spec.loader.exec_module(module)
    return module


gen = _generator()


@pytest.fixture(scope="module")
def vocabulary() -> model.Model:
    built: model.Model = gen.vocabulary()
    return built


def test_every_kind_the_importer_reads_is_checked() -> None:
    kinds = {t.name for t in gen.targets() if t.what == "kind"}
    assert {"instance", "disk", "security_group", "snapshot", "vpc", "vswitch"} <= kinds
    assert kinds == {api.kind for api in APIS.values() if api.kind is not None}
    assert [t.name for t in gen.targets() if t.what == "record"] == ["sg_rule"]


def test_the_model_declares_every_sdk_field_with_its_type(vocabulary: model.Model) -> None:
    assert gen.disagreements(vocabulary) == []


def test_a_field_the_model_lacks_is_reported(vocabulary: model.Model) -> None:
    instance = vocabulary.kinds["instance"]
    fields = tuple((n, t) for n, t in instance.attributes.fields if n != "os_type")
    fewer = replace(instance, attributes=replace(instance.attributes, fields=fields))
    lacking = replace(vocabulary, kinds={**vocabulary.kinds, "instance": fewer})
    assert gen.disagreements(lacking) == [
        "DescribeInstances OSType: `instance.os_type` is not declared"
    ]


def test_a_type_that_disagrees_is_reported(vocabulary: model.Model) -> None:
    disk = vocabulary.kinds["disk"]
    fields = tuple((n, model.STRING if n == "size" else t) for n, t in disk.attributes.fields)
    wrong = replace(disk, attributes=replace(disk.attributes, fields=fields))
    changed = replace(vocabulary, kinds={**vocabulary.kinds, "disk": wrong})
    assert gen.disagreements(changed) == [
        "DescribeDisks Size: `disk.size` is string, the SDK says int"
    ]


def test_nested_fields_are_declared(vocabulary: model.Model) -> None:
    data = vocabulary.kinds["launch_template_version"].attributes.by_name["launch_template_data"]
    record = model.unwrap(data)
    assert isinstance(record, model.RecordT)
    disks = model.unwrap(record.by_name["data_disks"])
    assert isinstance(disks, model.ListT) and isinstance(disks.item, model.RecordT)
    assert {"encrypted", "kms_key_id", "delete_with_instance"} <= set(disks.item.by_name)


@pytest.mark.parametrize("step", ["outputs", "derived"])
def test_the_generated_files_are_fresh(step: str) -> None:
    for path, text in getattr(gen, step)().items():
        assert Path(path).read_text(encoding="utf-8") == text, (
            f"{Path(path).relative_to(ROOT)} is stale: run python scripts/generate_models.py"
        )


def test_the_reference_names_the_api_field_of_each_attribute() -> None:
    text = (ROOT / "docs" / "model-reference.md").read_text(encoding="utf-8")
    assert "| `os_type` | optional string | DescribeInstances `OSType` |" in text
    assert (
        "| `rules[*].ipv6_source_cidr_ip` | optional cidr | "
        "DescribeSecurityGroupAttribute `Ipv6SourceCidrIp` |" in text
    )
