"""Times and CIDR blocks compare as what they are, not as text: an export's offsets and a
network written from a host address make no difference, and a literal that is not a time
or a CIDR block is an error where it is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.core.diagnostics import DiagnosticError
from policyengine.frontend.loader import Loaded, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.runtime import evaluate

MODEL = """model ex.m

kind thing id "t-" located in region {
  created: time
  net:     cidr
  ports:   port_range
}
"""


def _load(tmp_path: Path, condition: str) -> Loaded:
    (tmp_path / "ex").mkdir(exist_ok=True)
    (tmp_path / "ex" / "m.model").write_text(MODEL, encoding="utf-8")
    policy = tmp_path / "t.policy"
    policy.write_text(
        f"use ex.m\n\npolicy t {{\n  rule r {{\n    for each thing require {condition}\n  }}\n}}\n",
        encoding="utf-8",
    )
    return load([policy])


def _outcomes(loaded: Loaded, **values: str) -> list[str]:
    thing = {
        "kind": "thing",
        "id": "t-1",
        "region": "r",
        "created": "2024-01-01T00:00:00Z",
        "net": "10.0.0.0/8",
        "ports": "22/22",
        **values,
    }
    store = Store(parse_snapshot(json.dumps({"resources": [thing]}), "s.json"), loaded.plan.model)
    return [str(r.status) for r in evaluate(loaded.plan, store)]


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ("2024-05-31T20:00:00Z", "fail"),  # 04:00 on June 1st in +08:00: not before
        ("2024-06-01T03:00:00+08:00", "fail"),  # 19:00 UTC on May 31st: not before 16:00
        ("2024-05-31T15:59:59Z", "pass"),
        ("2024-05-31T23:59+08:00", "pass"),  # minute precision, as the ECS API writes it
    ],
)
def test_times_compare_as_moments_whatever_their_offset(
    tmp_path: Path, created: str, expected: str
) -> None:
    loaded = _load(tmp_path, 'created < "2024-06-01T00:00:00+08:00"')
    assert _outcomes(loaded, created=created) == [expected]


def test_a_network_compares_in_its_network_form(tmp_path: Path) -> None:
    loaded = _load(tmp_path, 'net == "10.0.0.1/8"')
    assert _outcomes(loaded, net="10.255.0.0/8") == ["pass"]
    assert _outcomes(loaded, net="10.0.0.0/16") == ["fail"]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ('created < "2024-13-01"', '`"2024-13-01"` is not a time'),
        ('net == "10.0.0.0/33"', '`"10.0.0.0/33"` is not a CIDR block'),
        ('ports == "22-23"', '`"22-23"` is not a port range'),
        ('net < "10.0.0.0/8"', "`<` does not order CIDR blocks; use `covers` or `within`"),
        ('ports >= "22/22"', "`>=` does not order port ranges; use `covers` or `within`"),
    ],
)
def test_a_bad_literal_or_order_is_an_error_at_its_place(
    tmp_path: Path, condition: str, message: str
) -> None:
    with pytest.raises(DiagnosticError) as info:
        _load(tmp_path, condition)
    (diag,) = info.value.diagnostics
    assert diag.message == message
    assert diag.span.line == 5


def test_a_time_that_does_not_parse_is_invalid_input(tmp_path: Path) -> None:
    from policyengine.core.errors import InputError

    loaded = _load(tmp_path, 'created < "2024-06-01"')
    with pytest.raises(InputError) as info:
        _outcomes(loaded, created="yesterday")
    assert info.value.problems[0].pointer == "/resources/0/created"
