"""`extend kind` / `extend record`: a user's model adds attributes to the bundled one, and
the policies that use it read them as if the bundled model declared them; a clash names
both places. (Which declarations are accepted or refused: tests/checker/models.model.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from syrupy.assertion import SnapshotAssertion

from policyengine.core.diagnostics import DiagnosticError
from policyengine.frontend.formatter import format_text
from policyengine.frontend.loader import load

MODEL = """\
model acme.org "Acme's additions to the ECS vocabulary"
use alicloud.ecs

extend kind instance {
  os_type:          optional string
  expired_time:     optional time
  cost_center:      optional string
  metadata_options: { http_endpoint: optional string }
}
extend record sg_rule {
  ipv6_source_cidr_ip: optional cidr
}
"""

POLICY = """\
use acme.org

policy acme "Acme" {
  rule linux_key_login {
    for each instance where os_type == "linux" require key_pair_name is present
  }
  rule no_open_ipv6 {
    for each security_group
    forbid any r in rules: r.ipv6_source_cidr_ip == "::/0"
  }
}
"""


def _instance(id_: str, **attributes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "kind": "instance",
        "id": id_,
        "region": "cn-hangzhou",
        "zone": "cn-hangzhou-h",
        "status": "Running",
        "instance_type": "ecs.g7.large",
        "instance_charge_type": "PostPaid",
        "deletion_protection": False,
        "image_id": "m-bp1000000000000000aa",
        "security_group_ids": [],
        "public_ip_addresses": [],
        "eip_address": {},
        "vpc_attributes": {},
        "metadata_options": {},
        "tags": {},
    }
    return {**base, **attributes}


def _rule(port: str, **source: str) -> dict[str, object]:
    return {
        "direction": "ingress",
        "policy": "Accept",
        "priority": 1,
        "ip_protocol": "TCP",
        "port_range": port,
        **source,
    }


SNAPSHOT = {
    "version": 1,
    "account": "1",
    "captured_at": "2026-01-01T00:00:00Z",
    "locations": {"cn-hangzhou": ["cn-hangzhou-h"]},
    "resources": [
        _instance("i-bp1000000000000000aa", os_type="linux", key_pair_name="ops"),
        _instance("i-bp1000000000000000ab", os_type="linux"),
        _instance("i-bp1000000000000000ac", os_type="windows"),
        {
            "kind": "security_group",
            "id": "sg-bp1000000000000000aa",
            "region": "cn-hangzhou",
            "rules": [_rule("22/22", ipv6_source_cidr_ip="::/0")],
            "tags": {},
        },
        {
            "kind": "security_group",
            "id": "sg-bp1000000000000000ab",
            "region": "cn-hangzhou",
            "rules": [_rule("22/22", source_cidr_ip="10.0.0.0/8")],
            "tags": {},
        },
    ],
}


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "org.model").write_text(MODEL, encoding="utf-8")
    (tmp_path / "acme.policy").write_text(POLICY, encoding="utf-8")
    (tmp_path / "snapshot.json").write_text(json.dumps(SNAPSHOT), encoding="utf-8")
    return tmp_path


def test_policies_read_the_extended_attributes(pack: Path) -> None:
    code, out, _ = run_cli(["evaluate", "snapshot.json", "-p", "acme.policy", "--format", "json"])
    assert code == 1
    report = json.loads(out)
    found = {(r["rule"], r["resource"]["id"], r["outcome"]) for r in report["results"]}
    assert found == {
        ("acme.linux_key_login", "i-bp1000000000000000ab", "fail"),
        ("acme.no_open_ipv6", "sg-bp1000000000000000aa", "fail"),
    }
    # The Windows instance is outside the rule (skipped); the other two pass.
    assert report["summary"]["outcomes"] == {"fail": 2, "error": 0, "pass": 2, "skipped": 1}


def test_an_extended_attribute_is_typed(pack: Path) -> None:
    # `expired_time` is a time: compared with a number, the checker refuses it.
    policy = pack / "acme.policy"
    policy.write_text(
        policy.read_text().replace(
            'os_type == "linux" require key_pair_name is present', "true require expired_time > 3"
        )
    )
    with pytest.raises(DiagnosticError) as info:
        load([Path("acme.policy")])
    assert {d.code for d in info.value.diagnostics} == {"PE106"}


def test_a_clash_names_both_places(pack: Path, text_snapshot: SnapshotAssertion) -> None:
    model = pack / "acme" / "org.model"
    model.write_text(MODEL + "extend kind instance { cost_center: int }\n")
    with pytest.raises(DiagnosticError) as info:
        load([Path("acme.policy")])
    (diag,) = info.value.diagnostics
    assert "acme/org.model:7:3" in diag.message and "acme/org.model:13:24" in diag.message
    assert str(info.value) + "\n" == text_snapshot


def test_declaring_a_bundled_kind_again_points_at_extend(pack: Path) -> None:
    model = pack / "acme" / "org.model"
    model.write_text(MODEL + 'kind disk id "d-" + 20 located in zone { kms_key_id: string }\n')
    with pytest.raises(DiagnosticError) as info:
        load([Path("acme.policy")])
    (diag,) = info.value.diagnostics
    assert diag.code == "PE108"
    assert "policies/alicloud/ecs.model" in diag.notes[0]
    assert "extend kind disk" in diag.help


def test_extensions_format_canonically() -> None:
    messy = (
        "model m\nuse alicloud.ecs\n"
        + "extend kind disk   { kms_key_id : optional string,a: int }\n"
    )
    assert format_text(messy) == (
        "model m\nuse alicloud.ecs\nextend kind disk {\n"
        "  kms_key_id: optional string\n  a:          int\n}\n"
    )
    assert format_text(MODEL) == MODEL


OWN_MODEL = """\
model acme.own
kind instance id "i-" + 20 located in zone {
  status:        string
  instance_type: string
}
"""


@pytest.mark.parametrize("read", ["os_type", "this.os_type"])
def test_an_attribute_the_api_returns_says_how_to_declare_it(
    read: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "own.model").write_text(OWN_MODEL, encoding="utf-8")
    rule = f'rule r {{ for each instance require {read} == "linux" }}'
    Path("p.policy").write_text(f"use acme.own\npolicy p {{\n  {rule}\n}}\n")
    with pytest.raises(DiagnosticError) as info:
        load([Path("p.policy")])
    (diag,) = info.value.diagnostics
    assert diag.code == "PE104"
    assert diag.message == (
        "`os_type` is not declared for `instance`; DescribeInstances returns it as `OSType`"
    )
    assert diag.help == "declare it with `extend kind instance { os_type: string }`"
    if read == "os_type":
        assert str(info.value) + "\n" == text_snapshot


def test_a_name_that_is_not_near_gets_no_suggestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "own.model").write_text(OWN_MODEL, encoding="utf-8")
    Path("p.policy").write_text(
        "use acme.own\npolicy p {\n  rule r { for each instance require os_kind == 1 }\n}\n"
    )
    with pytest.raises(DiagnosticError) as info:
        load([Path("p.policy")])
    (diag,) = info.value.diagnostics
    assert diag.message == "unknown attribute `os_kind` of `instance`"
    assert "instance_type" not in diag.help
