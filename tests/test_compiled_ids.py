"""The id format over a kind's resources, tested a slice of ids at a time on the fast
path, against the plan interpreter: slices all of the format, and slices with ids
without it at their start, middle and end."""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path

import pytest
from differential import evaluate_both
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.frontend.loader import Loaded, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.runtime import Status, compiled, evaluate

_POLICY = """use alicloud.ecs

policy t {
  rule ids {
    for each resource require id matches kind format
  }
}
"""
# How each id's tail is made from its position: of the format, or not.
_TAILS = {
    "digits": lambda n: f"{n:020d}",
    "letters": lambda n: f"z{n:019d}",
    "uppercase": lambda n: f"Z{n:019d}",
    "short": lambda n: f"{n:019d}",
    "long": lambda n: f"{n:021d}",
    "beyond ASCII": lambda n: f"é{n:019d}",
}
_OF_FORMAT = ("digits", "letters")


@cache
def _loaded() -> Loaded:
    path = Path(tempfile.mkdtemp()) / "t.policy"
    path.write_text(_POLICY, encoding="utf-8")
    return load([path])


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    tails=st.lists(st.sampled_from(sorted(_TAILS)), min_size=1, max_size=12),
    at_once=st.integers(1, 4),
)
def test_ids_in_slices_are_decided_alike_on_both_paths(
    tails: list[str], at_once: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiled, "_IDS_AT_ONCE", at_once)
    resources, expected = [], set()
    for n, tail in enumerate(tails):  # instances and disks in turn
        kind, prefix = ("instance", "i-") if n % 2 == 0 else ("disk", "d-")
        resources.append({"kind": kind, "id": prefix + _TAILS[tail](n), "region": "cn-hangzhou"})
        if tail not in _OF_FORMAT:
            expected.add(resources[-1]["id"])
    loaded = _loaded()
    doc = json.dumps({"resources": resources})
    store = Store(parse_snapshot(doc, "s.json"), loaded.plan.model)
    found = evaluate_both(loaded.plan, store)
    failing = {r.resource.key for r in found if r.status is Status.FAIL}
    assert failing == expected
    assert {r.resource.key for r in evaluate(loaded.plan, store, {})} == failing
