"""A map param takes a literal default: `param required: map of string = {"env": "prod"}`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from policyengine.core.diagnostics import DiagnosticError
from policyengine.frontend.formatter import format_text
from policyengine.frontend.loader import load

SNAPSHOT = ROOT / "examples" / "org-pack" / "snapshot.json"
POLICY = """\
use alicloud.ecs

policy m {
  param expected: map of string = {"env": "prod", "owner": "platform"}

  rule env_tag {
    for each instance where tags["env"] is set require tags["env"] == expected["env"]
  }
}
"""


def _fails(args: list[str]) -> int:
    code, out, _ = run_cli(["evaluate", str(SNAPSHOT), "-p", "m.policy", "-f", "json", *args])
    assert code in (0, 1)
    return int(json.loads(out)["summary"]["outcomes"]["fail"])


def test_the_default_is_used_and_a_param_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.policy").write_text(POLICY, encoding="utf-8")
    assert _fails([]) == 0  # the one tagged instance is env=prod
    assert _fails(["--param", 'expected={"env": "test"}']) == 1


@pytest.mark.parametrize(
    ("default", "code"),
    [('{"env": 1}', "PE113"), ('{"a": "x", "a": "y"}', "PE002"), ('["prod"]', "PE113")],
)
def test_a_default_that_does_not_fit_is_refused(
    default: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = POLICY.replace('{"env": "prod", "owner": "platform"}', default)
    Path("m.policy").write_text(text, encoding="utf-8")
    with pytest.raises(DiagnosticError) as info:
        load([Path("m.policy")])
    assert [d.code for d in info.value.diagnostics] == [code]


def test_a_map_default_keeps_its_layout() -> None:
    assert format_text(POLICY) == POLICY
    assert '= {"a": 1, "b": 2}' in format_text(
        'use alicloud.ecs\npolicy m {\n  param p: map of int = { "a" :1,"b":2 }\n}\n'
    )
