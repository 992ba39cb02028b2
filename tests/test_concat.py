"""Text concatenation: `concat(a, b)` joins two texts, on both evaluation paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from test_extend import SNAPSHOT, _instance

from policyengine.core.diagnostics import DiagnosticError
from policyengine.frontend.loader import load

POLICY = """\
use alicloud.ecs

policy names {
  rule name_has_region_prefix {
    for each instance require starts_with(instance_name, concat(region, "-"))
    message "{id} is named {instance_name}"
  }
  rule host_tag_matches {
    for each instance where tags["host"] is set
    require tags["host"] == concat(concat(instance_name, "."), region)
  }
}
"""


def test_concat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    resources = [
        _instance("i-bp1000000000000000aa", instance_name="cn-hangzhou-web", tags={}),
        _instance(
            "i-bp1000000000000000ab",
            instance_name="web",
            tags={"host": "web.cn-hangzhou"},
        ),
        _instance(
            "i-bp1000000000000000ac",
            instance_name="cn-hangzhou-db",
            tags={"host": "db.cn-hangzhou"},
        ),
    ]
    Path("s.json").write_text(json.dumps({**SNAPSHOT, "resources": resources}))
    Path("p.policy").write_text(POLICY, encoding="utf-8")
    code, out, _ = run_cli(["evaluate", "s.json", "-p", "p.policy", "-f", "json"])
    assert code == 1
    found = {(r["rule"], r["resource"]["id"], r["outcome"]) for r in json.loads(out)["results"]}
    assert found == {
        ("names.name_has_region_prefix", "i-bp1000000000000000ab", "fail"),
        ("names.host_tag_matches", "i-bp1000000000000000ac", "fail"),
    }


def test_concat_takes_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.policy").write_text(POLICY.replace('concat(region, "-")', "concat(region, 1)"))
    with pytest.raises(DiagnosticError) as info:
        load([Path("p.policy")])
    assert [d.code for d in info.value.diagnostics] == ["PE106"]
