"""A message placeholder is any path, map keys included: `{tags['owner']}`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from policyengine.core.diagnostics import DiagnosticError
from policyengine.frontend.loader import load

POLICY = """\
use alicloud.ecs
policy p {
  rule owner {
    for each security_group require tags["owner"] is present
    message "group {id} of team {tags['team']} ({tags[\\"team\\"]}) has no owner"
  }
}
"""


def _group(id_: str, tags: dict[str, str]) -> dict[str, object]:
    return {"kind": "security_group", "id": id_, "region": "cn-hangzhou", "rules": [], "tags": tags}


def test_map_keys_in_placeholders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.policy").write_text(POLICY, encoding="utf-8")
    snapshot = {
        "version": 1,
        "account": "1",
        "captured_at": "2026-01-01T00:00:00Z",
        "locations": {"cn-hangzhou": ["cn-hangzhou-h"]},
        "resources": [
            _group("sg-bp1000000000000000aa", {"team": "web"}),
            _group("sg-bp1000000000000000ab", {}),
        ],
    }
    Path("s.json").write_text(json.dumps(snapshot), encoding="utf-8")
    code, out, _ = run_cli(["evaluate", "s.json", "-p", "p.policy", "--format", "json"])
    assert code == 1
    messages = sorted(r["message"] for r in json.loads(out)["results"])
    assert messages == [
        "group sg-bp1000000000000000aa of team web (web) has no owner",
        "group sg-bp1000000000000000ab of team ? (?) has no owner",
    ]


def test_a_key_of_something_that_is_not_a_map_is_a_check_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.policy").write_text(POLICY.replace("{tags['team']}", "{vpc_id['x']}"))
    with pytest.raises(DiagnosticError) as info:
        load([Path("p.policy")])
    (diag,) = info.value.diagnostics
    assert diag.code == "PE114" and "not a map" in diag.message
