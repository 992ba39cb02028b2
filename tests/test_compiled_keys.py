"""Quantifiers over a literal list of keys of one map (`every t in ["owner", "cost-center"]:
tags[t] is set`), which the fast path decides with the map read once, against the plan
interpreter: maps absent, null, empty or of other types, values empty or not, every
quantifier, `is set` and `is not set`, and a step limit that stops them."""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from differential import evaluate_both
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.core.errors import InputError
from policyengine.frontend.loader import Loaded, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.runtime import Status, compile_plan, evaluate

# More examples than the default profile's, as many as the long one's when it runs.
_EXAMPLES = max(100, settings.default.max_examples)

_POLICY = """use alicloud.ecs

policy t {
  rule every_set {
    for each instance require every t in ["owner", "cost-center"]: tags[t] is set
  }
  rule any_unset {
    for each instance forbid any t in ["owner", "env", "team"]: tags[t] is not set
  }
  rule no_set {
    for each disk require no t in ["scratch"]: tags[t] is set
  }
  rule some_set {
    for each instance require any t in ["env"]: tags[t] is set
  }
  rule two {
    for each instance
    require (any t in ["owner", "env", "team"]: tags[t] is set)
      and (every t in ["owner", "cost-center"]: tags[t] is set)
  }
  rule per_region {
    for each region require every t in ["a"]: t is set
  }
}
"""
_KEYED = ("t.every_set", "t.any_unset", "t.no_set", "t.some_set")
_ABSENT = object()
_TAGS = st.one_of(
    st.dictionaries(
        st.sampled_from(["owner", "cost-center", "env", "team", "scratch", "other"]),
        st.sampled_from(["x", "", "prod", "team-a"]),
        max_size=5,
    ),
    st.sampled_from([None, _ABSENT, {}, [], "owner", 3]),
)


@cache
def _loaded() -> Loaded:
    path = Path(tempfile.mkdtemp()) / "t.policy"
    path.write_text(_POLICY, encoding="utf-8")
    return load([path])


@st.composite
def _accounts(draw: st.DrawFn) -> dict[str, Any]:
    resources = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["instance", "disk"]))
        prefix = "i-" if kind == "instance" else "d-"
        record: dict[str, Any] = {"kind": kind, "id": f"{prefix}{i:020d}", "region": "cn-hangzhou"}
        tags = draw(_TAGS)
        if tags is not _ABSENT:
            record["tags"] = tags
        resources.append(record)
    return {"resources": resources}


def _store(doc: dict[str, Any]) -> Store | None:
    try:
        return Store(parse_snapshot(json.dumps(doc), "s.json"), _loaded().plan.model)
    except InputError:
        return None  # an account the loader rejects: nothing to evaluate


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=_EXAMPLES,
)
@given(_accounts())
def test_keys_of_one_map_are_decided_alike_on_both_paths(doc: dict[str, Any]) -> None:
    store = _store(doc)
    if store is not None:
        evaluate_both(_loaded().plan, store)


def test_the_keys_of_one_map_are_decided_with_the_map_read_once() -> None:
    """The test above goes through that form for these rules, and not for a list of
    values that are not keys."""
    fast = compile_plan(_loaded().plan)
    made = {rule_id: found.condition.__name__ for rule_id, found in fast.rules.items()}
    assert {r for r, name in made.items() if name == "keys_set"} == set(_KEYED)


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_a_step_limit_stops_the_keys_as_it_stops_the_quantifier(
    limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the limit of steps of one outcome, the outcome is an error on both paths,
    not a pass: three keys need three steps, one decided early fewer."""
    monkeypatch.setenv("POLICYENGINE_MAX_OUTCOME_STEPS", str(limit))
    doc = {
        "resources": [
            {"kind": "instance", "id": "i-" + "0" * 20, "region": "cn-hangzhou", "tags": {}},
            {
                "kind": "instance",
                "id": "i-" + "1" * 20,
                "region": "cn-hangzhou",
                "tags": {"owner": "a", "env": "b", "team": "c", "cost-center": "d"},
            },
        ]
    }
    store = _store(doc)
    assert store is not None
    evaluate_both(_loaded().plan, store)
    statuses = {(r.rule.id, r.resource.key): r.status for r in evaluate(_loaded().plan, store)}
    # Every key present: `any_unset` visits all three, past a limit below three; `two`
    # is settled by its first key, then visits two: three steps in all.
    for rule in ("t.any_unset", "t.two"):
        assert statuses[rule, "i-" + "1" * 20] is (Status.PASS if limit >= 3 else Status.ERROR)
