"""The aliyun importer and its fixtures use the APIs' own field names: every key of every
fixture response, and every field the importer reads by name, survives a round trip
through the official SDKs' response models (`alibabacloud-ecs20140526`,
`alibabacloud-vpc20160428`, `alibabacloud-ram20150501`, `alibabacloud-kms20160120`), which
drop what they do not know."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from policyengine.inputs.importers.aliyun import APIS, RENAMES

# Imported by the tests that use them, not at collection: the models take a second to
# import, in every worker of a parallel run.
MODELS = {
    "ecs": "alibabacloud_ecs20140526.models",
    "vpc": "alibabacloud_vpc20160428.models",
    "ram": "alibabacloud_ram20150501.models",
    "kms": "alibabacloud_kms20160120.models",
}


@functools.cache
def _models(product: str) -> Any:
    return pytest.importorskip(MODELS[product])


RESPONSES = sorted(
    p
    for folder in (
        ROOT / "examples" / "aliyun-export",
        ROOT / "tests" / "fixtures" / "aliyun-cli-export",
        ROOT / "tests" / "fixtures" / "same-account",
        ROOT / "tests" / "fixtures" / "aliyun-governance",
    )
    for p in folder.rglob("*.json")
    if p.name != "manifest.json" and p.parent.name != "same-account"
)


def _unknown_keys(data: Any, back: Any, path: str = "") -> list[str]:
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(back, dict) or key not in back:
                out.append(f"{path}/{key}")
            else:
                out += _unknown_keys(value, back[key], f"{path}/{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            other = back[i] if isinstance(back, list) and i < len(back) else None
            out += _unknown_keys(value, other, f"{path}/{i}")
    return out


def _round_trip(api: str, data: dict[str, Any], product: str | None = None) -> Any:
    models = _models(product or APIS[api].product)
    return getattr(models, f"{api}ResponseBody")().from_map(data).to_map()


def _product(path: Path, api: str) -> str:
    """The product of a response's API: the importer's, or, for an API it does not read,
    the one its command line in the export's manifest names (`aliyun ram ListPolicies`)."""
    if api in APIS:
        return APIS[api].product
    for folder in path.parents:
        manifest = folder / "manifest.json"
        if manifest.is_file():
            command = json.loads(manifest.read_text())["files"][path.relative_to(folder).as_posix()]
            return str(command.split()[1])
    raise AssertionError(f"{path}: {api} is not read, and no manifest names its product")


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fixture_responses_use_only_api_field_names(path: Path) -> None:
    data = json.loads(path.read_text())
    api = path.name.split(".")[0]
    assert _unknown_keys(data, _round_trip(api, data, _product(path, api))) == []


@pytest.mark.parametrize("name", sorted(APIS))
def test_the_importer_reads_fields_the_api_has(name: str) -> None:
    api = APIS[name]
    outer, inner = api.items
    item: dict[str, Any] = {
        key: "x" for key in (api.identity, "RegionId", "ZoneId", *RENAMES) if key
    }
    item["VSwitchIds"] = {"VSwitchId": ["x"]}  # a wrapped list where an API has it
    listed: Any = item if api.single else {inner: [item]}
    data = {outer: listed, "RegionId": "cn-hangzhou", "NextToken": "", "TotalCount": 1}
    if api.group_by:
        data[api.group_by] = "x"
    back = _round_trip(name, data)
    if api.single:
        assert isinstance(back.get(outer), dict), f"{name}: `{outer}` is not its item"
        got = back[outer]
    else:
        assert back[outer][inner], f"{name}: `{outer}.{inner}` is not its list"
        got = back[outer][inner][0]
    if api.identity:
        assert got.get(api.identity) == "x", f"{name}: no `{api.identity}`"


def _keys(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in _keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in _keys(v)}
    return set()


@pytest.mark.parametrize("field", sorted(RENAMES))
def test_every_renamed_field_is_a_field_of_an_api(field: str) -> None:
    value: Any = {"VSwitchId": ["x"]} if field == "VSwitchIds" else "x"
    found = []
    for name, api in APIS.items():
        outer, inner = api.items
        back = _round_trip(name, {outer: {inner: [{field: value}]}})
        if field in _keys(back):
            found.append(name)
    assert found, f"no API response has `{field}`"
