"""The aliyun importer and its fixtures use the ECS API's own field names: every key of
every fixture response, and every field the importer reads by name, survives a round
trip through the official SDK's response models (`alibabacloud-ecs20140526`), which drop
what they do not know."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from policyengine.importers.aliyun import APIS, RENAMES

models = pytest.importorskip("alibabacloud_ecs20140526.models")

RESPONSES = sorted(
    p
    for folder in (
        ROOT / "examples" / "aliyun-export",
        ROOT / "tests" / "fixtures" / "same-account",
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


def _round_trip(api: str, data: dict[str, Any]) -> Any:
    return getattr(models, f"{api}ResponseBody")().from_map(data).to_map()


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fixture_responses_use_only_api_field_names(path: Path) -> None:
    data = json.loads(path.read_text())
    api = path.name.split(".")[0]
    assert _unknown_keys(data, _round_trip(api, data)) == []


@pytest.mark.parametrize("name", sorted(APIS))
def test_the_importer_reads_fields_the_api_has(name: str) -> None:
    api = APIS[name]
    outer, inner = api.items
    item = {key: "x" for key in (api.identity, "RegionId", "ZoneId", *RENAMES) if key}
    data = {outer: {inner: [item]}, "RegionId": "cn-hangzhou", "NextToken": "", "TotalCount": 1}
    if api.group_by:
        data[api.group_by] = "x"
    back = _round_trip(name, data)
    assert back[outer][inner], f"{name}: `{outer}.{inner}` is not its list"
    if api.identity:
        assert back[outer][inner][0].get(api.identity) == "x", f"{name}: no `{api.identity}`"
