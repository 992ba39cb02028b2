"""A path may index a list: `security_group_ids[0]` is the first element, `[-1]` the last;
an index past the end is absent (as an optional attribute is), never an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from test_extend import SNAPSHOT, _instance

from policyengine.core.diagnostics import DiagnosticError
from policyengine.frontend.formatter import format_text
from policyengine.frontend.loader import load

POLICY = """\
use alicloud.ecs

policy idx {
  rule first_group {
    for each instance require security_group_ids[0] == "sg-bp1000000000000000aa"
    message "{id} is first in {security_group_ids[0]}, last in {security_group_ids[-1]}"
  }
  rule at_most_two {
    for each instance forbid security_group_ids[2] is present
  }
}
"""

GROUPS = ["sg-bp1000000000000000aa", "sg-bp1000000000000000ab", "sg-bp1000000000000000ac"]


def test_indexing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    resources = [
        _instance("i-bp1000000000000000aa", security_group_ids=GROUPS[:1]),
        _instance("i-bp1000000000000000ab", security_group_ids=GROUPS[1:]),
        _instance("i-bp1000000000000000ac", security_group_ids=GROUPS),
        _instance("i-bp1000000000000000ad", security_group_ids=[]),
    ]
    Path("s.json").write_text(json.dumps({**SNAPSHOT, "resources": resources}))
    Path("p.policy").write_text(POLICY, encoding="utf-8")
    code, out, _ = run_cli(["evaluate", "s.json", "-p", "p.policy", "-f", "json"])
    assert code == 1
    found = {
        (r["rule"], r["resource"]["id"], r["outcome"], r["message"])
        for r in json.loads(out)["results"]
    }
    assert found == {
        (
            "idx.first_group",
            "i-bp1000000000000000ab",
            "fail",
            "i-bp1000000000000000ab is first in sg-bp1000000000000000ab, "
            "last in sg-bp1000000000000000ac",
        ),
        (
            "idx.first_group",
            "i-bp1000000000000000ad",
            "fail",
            "i-bp1000000000000000ad is first in ?, last in ?",
        ),
        (
            "idx.at_most_two",
            "i-bp1000000000000000ac",
            "fail",
            'security_group_ids[2] = "sg-bp1000000000000000ac"',
        ),
    }


def test_an_index_needs_a_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("p.policy").write_text(POLICY.replace("security_group_ids[2]", "status[2]"))
    with pytest.raises(DiagnosticError) as info:
        load([Path("p.policy")])
    (diag,) = info.value.diagnostics
    assert diag.code == "PE106" and diag.message == "`[2]` needs a list; `status` is a string"


def test_an_index_keeps_its_layout() -> None:
    assert format_text(POLICY) == POLICY
