"""Values not known yet (`{"$unknown": ...}`, as a Terraform plan has them): a rule that
needs one reports `error` naming what would tell it; a `ref` still links two resources,
and a `ref` to nothing links nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyengine import Store, load, parse_snapshot
from policyengine.frontend.loader import Loaded
from policyengine.inputs.snapshot import holds_unknown, may_spell_unknown
from policyengine.runtime import Status, evaluate

POLICY = """\
use alicloud.ecs

policy p {
  rule disk_zone {
    disk attach requires same zone
  }
  rule encrypted {
    for each disk require encrypted == true
  }
}
"""
ZONE = "cn-hangzhou-h"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    path = tmp_path_factory.mktemp("p") / "p.policy"
    path.write_text(POLICY)
    return load([path])


def disk(**over: Any) -> dict[str, Any]:
    return {
        "kind": "disk",
        "id": "d-" + "a" * 20,
        "region": "cn-hangzhou",
        "zone": ZONE,
        "type": "data",
        "category": "cloud_essd",
        "size": 20,
        "encrypted": True,
        "status": "In_use",
        "attachments": [],
        "tags": {},
        **over,
    }


def instance(**over: Any) -> dict[str, Any]:
    return {
        "kind": "instance",
        "id": "i-" + "b" * 20,
        "region": "cn-hangzhou",
        "zone": ZONE,
        **over,
    }


def outcomes(loaded: Loaded, *resources: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    text = json.dumps({"resources": list(resources)})
    store = Store(parse_snapshot(text, "s.json"), loaded.plan.model)
    return [
        (r.rule.name, r.resource.key, r.target.key if r.target else "", str(r.status))
        + (r.reason,) * (r.status is Status.ERROR)
        for r in evaluate(loaded.plan, store)
    ]


def test_an_unknown_zone_is_an_error_naming_what_would_tell_it(loaded: Loaded) -> None:
    got = outcomes(
        loaded,
        instance(),
        disk(zone={"$unknown": "alicloud_ecs_disk.d.zone_id"}, instance_id="i-" + "b" * 20),
    )
    zone = [o for o in got if o[0] == "disk_zone"]
    assert [o[3] for o in zone] == ["error"]
    assert "alicloud_ecs_disk.d.zone_id" in zone[0][4]


def test_an_unknown_attribute_is_an_error(loaded: Loaded) -> None:
    got = outcomes(loaded, disk(encrypted={"$unknown": "alicloud_ecs_disk.d.encrypted"}))
    (encrypted,) = [o for o in got if o[0] == "encrypted"]
    assert encrypted[3] == "error" and "`encrypted` of disk" in encrypted[4]


def test_a_ref_links_to_the_resource_declared_there(loaded: Loaded) -> None:
    got = outcomes(
        loaded,
        instance(
            id={"$unknown": "alicloud_instance.a.id"}, source={"address": "alicloud_instance.a"}
        ),
        disk(instance_id={"$unknown": "att.instance_id", "ref": "alicloud_instance.a"}),
    )
    assert ("disk_zone", "d-" + "a" * 20, "alicloud_instance.a", "pass") in got


def test_an_unknown_id_without_ref_links_nothing_and_errs(loaded: Loaded) -> None:
    for value in ({"$unknown": "att.instance_id"}, {"$unknown": "x", "ref": "nowhere"}):
        got = outcomes(loaded, instance(), disk(instance_id=value))
        zone = [o for o in got if o[0] == "disk_zone"]
        assert [o[3] for o in zone] == ["error"], value
        assert "not known yet" in zone[0][4]


def test_a_marker_must_say_what_it_stands_for(loaded: Loaded) -> None:
    from policyengine import InputError

    with pytest.raises(InputError) as caught:
        outcomes(loaded, disk(zone={"$unknown": 3}))
    assert [(p.pointer, p.message) for p in caught.value.problems] == [
        ("/resources/0/zone/$unknown", "expected a string, found an integer 3")
    ]


def _state_with_eip(tmp_path: Any, ip: str | None) -> Any:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    doc = json.loads((root / "examples" / "terraform" / "state.json").read_text())
    resources = doc["values"]["root_module"]["resources"]
    web = next(r for r in resources if r["address"] == "alicloud_instance.web")
    provider = web["provider_name"]
    eip: dict[str, Any] = {"id": "eip-bp1a2b3c4d5e6f7g8h9i0", "bandwidth": "5"}
    if ip is not None:
        eip["ip_address"] = ip
    resources += [
        {
            "address": "alicloud_eip_address.web",
            "mode": "managed",
            "type": "alicloud_eip_address",
            "name": "web",
            "provider_name": provider,
            "values": eip,
        },
        {
            "address": "alicloud_eip_association.web",
            "mode": "managed",
            "type": "alicloud_eip_association",
            "name": "web",
            "provider_name": provider,
            "values": {
                "id": "eip-bp1a2b3c4d5e6f7g8h9i0:" + web["values"]["id"],
                "allocation_id": "eip-bp1a2b3c4d5e6f7g8h9i0",
                "instance_id": web["values"]["id"],
                "instance_type": "EcsInstance",
            },
        },
    ]
    path = tmp_path / "state.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(("ip", "outcome"), [("47.98.1.2", "fail"), (None, "error")])
def test_an_eip_bound_in_terraform_is_the_instance_public_address(
    tmp_path: Any, ip: str | None, outcome: str
) -> None:
    """Without the association, `no_public_ip` would pass an instance that has an EIP."""
    from conftest import run_cli

    path = _state_with_eip(tmp_path, ip)
    code, out, err = run_cli(
        ["evaluate", str(path), "--region", "cn-hangzhou", "--all", "--format", "json"]
    )
    assert code == 1, err
    results = json.loads(out)["results"]
    public = [r for r in results if r["rule"] == "org_baseline.no_public_ip"]
    assert [r["outcome"] for r in public] == [outcome]


_KEYS = st.sampled_from(["$unknown", "$unknow", "unknown", "ref", "zone", "名"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS | st.text(), inner),
    max_leaves=10,
)


def _escaped(text: str, which: int) -> str:
    """`text` with one character of each `"$unknown"` string spelled `\\uXXXX`."""
    char = "$unknown"[which]
    spelled = "$unknown".replace(char, f"\\u{ord(char):04{'x' if which % 2 else 'X'}}")
    return text.replace('"$unknown"', f'"{spelled}"')


@given(_JSON, st.booleans(), st.integers(0, 7), st.booleans())
def test_a_text_that_cannot_spell_the_marker_holds_none(
    data: Any, ascii_only: bool, which: int, escape: bool
) -> None:
    """The quick search over the text never says "no marker" for a document holding one,
    however its characters are escaped; and it says so for text with no way to spell it."""
    text = json.dumps(data, ensure_ascii=ascii_only)
    if escape:
        text = _escaped(text, which)
    assert json.loads(text) == data
    for spelled in (text, text.encode()):
        if not may_spell_unknown(spelled):
            assert not holds_unknown(data)
    if "$unknown" not in text and "\\u" not in text:
        assert not may_spell_unknown(text)
    assert holds_unknown({"a": [{"$unknown": "x"}]})
    assert may_spell_unknown('{"a": [{"\\u0024unknown": "x"}]}')
