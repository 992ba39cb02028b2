"""A quantifier over an absent optional list ranges over no elements; over an absent
required list it cannot be decided (`error`), as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from test_extend import SNAPSHOT, _instance

POLICY = """\
use alicloud.ecs
policy q {
  rule no_public_inner {
    for each instance forbid any a in inner_ip_addresses: a == "47.0.0.1"
  }
  rule every_group_known {
    for each instance require every s in security_group_ids: s matches /^sg-/
  }
}
"""


def test_absent_optional_and_required_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bare = _instance("i-bp1000000000000000aa")
    del bare["security_group_ids"]  # required: cannot be decided
    snapshot = {
        **SNAPSHOT,
        "resources": [
            bare,  # inner_ip_addresses absent: no elements, so nothing is forbidden
            _instance("i-bp1000000000000000ab", inner_ip_addresses=["47.0.0.1"]),
        ],
    }
    Path("s.json").write_text(json.dumps(snapshot), encoding="utf-8")
    Path("q.policy").write_text(POLICY, encoding="utf-8")
    code, out, _ = run_cli(["evaluate", "s.json", "-p", "q.policy", "--format", "json"])
    assert code == 1
    report = json.loads(out)
    found = {(r["rule"], r["resource"]["id"], r["outcome"]) for r in report["results"]}
    assert found == {
        ("q.no_public_inner", "i-bp1000000000000000ab", "fail"),
        ("q.every_group_known", "i-bp1000000000000000aa", "error"),
    }
    assert report["summary"]["outcomes"] == {"fail": 1, "error": 1, "pass": 2, "skipped": 0}
