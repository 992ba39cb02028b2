"""Fields no rule reads: adding them to a snapshot, whatever their shape, changes no
outcome and raises no error; and the quick check of a resource's envelope accepts only
what the envelope model accepts, so skipping the model never lets bad input through."""

from __future__ import annotations

import copy
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from differential import outcome_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from policyengine.core import model as models
from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs.snapshot import ResourceEnvelope, parse_document, plain_envelope
from policyengine.inputs.store import Store
from policyengine.runtime import evaluate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402

ENVELOPE = ("kind", "id", "name", "region", "zone", "tags", "source")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@cache
def _policies() -> Loaded:
    return load([*bundled_policies(), ROOT / "benchmarks" / "ecs-bench.policy"])


@cache
def _documents() -> tuple[dict[str, Any], ...]:
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return (example, generate.account(generate.MIN_INSTANCES))


def _outcomes(doc: dict[str, Any]) -> list[Any]:
    loaded = _policies()
    store = Store(parse_document(copy.deepcopy(doc), "s.json"), loaded.plan.model)
    return [outcome_key(r) for r in evaluate(loaded.plan, store)]


@cache
def _expected(which: int) -> list[Any]:
    return _outcomes(_documents()[which])


@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from([0, 1]),
    added=st.lists(
        st.tuples(st.integers(0, 10**6), st.text(min_size=1, max_size=12), json_values),
        min_size=1,
        max_size=6,
    ),
)
def test_fields_no_rule_reads_change_no_outcome(
    which: int, added: list[tuple[int, str, Any]]
) -> None:
    doc = copy.deepcopy(_documents()[which])
    model = _policies().plan.model
    resources = doc["resources"]
    for at, name, value in added:
        resource = resources[at % len(resources)]
        kind = model.kinds[resource["kind"]]
        if name in ENVELOPE or name in kind.declared:
            continue  # a field the model knows is read (and checked) by the store
        resource[name] = value
    assert _outcomes(doc) == _expected(which)


def _records(data: Any, t: models.Type) -> list[tuple[dict[str, Any], models.RecordT]]:
    """Every object in `data` the model types as a record, with its record type: where an
    added key is a field no rule can read (unlike a map's key, which a rule may list)."""
    t = models.unwrap(t)
    if isinstance(t, models.RecordT) and isinstance(data, dict):
        inner = [r for name, ft in t.fields for r in _records(data.get(name), ft)]
        return [(data, t), *inner]
    if isinstance(t, models.ListT) and isinstance(data, list):
        return [r for item in data for r in _records(item, t.item)]
    return []


@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from([0, 1]),
    added=st.lists(
        st.tuples(st.integers(0, 10**6), st.text(min_size=1, max_size=12), json_values),
        min_size=1,
        max_size=6,
    ),
)
def test_fields_no_rule_reads_inside_objects_change_no_outcome(
    which: int, added: list[tuple[int, str, Any]]
) -> None:
    doc = copy.deepcopy(_documents()[which])
    model = _policies().plan.model
    records = [
        found
        for resource in doc["resources"]
        for name, t in model.kinds[resource["kind"]].attributes.fields
        if name in model.kinds[resource["kind"]].declared
        for found in _records(resource.get(name), t)
    ]
    assert records, "the accounts hold objects the model types as records"
    for at, name, value in added:
        record, t = records[at % len(records)]
        if name not in t.by_name:
            record[name] = value
    assert _outcomes(doc) == _expected(which)


@given(
    st.dictionaries(
        st.sampled_from([*ENVELOPE, "other"]),
        json_values | st.text(min_size=1, max_size=8),
        max_size=7,
    )
)
def test_the_quick_envelope_check_accepts_only_what_the_model_accepts(
    resource: dict[str, Any],
) -> None:
    if plain_envelope(resource):
        ResourceEnvelope.model_validate(resource)


@pytest.mark.parametrize(
    "resource",
    [
        {"kind": "instance", "id": "i-1", "region": "r", "zone": "z", "tags": {"a": "b"}},
        {"kind": "key_pair", "name": "k", "region": "r", "anything": [1, {"x": None}]},
        {"kind": "instance", "id": None, "tags": None},
    ],
)
def test_usual_resources_take_the_quick_check(resource: dict[str, Any]) -> None:
    assert plain_envelope(resource)
    ResourceEnvelope.model_validate(resource)


@pytest.mark.parametrize(
    "resource",
    [
        {"kind": ""},
        {"kind": "instance", "id": 5},
        {"kind": "instance", "tags": {"a": 1}},
        {"kind": "instance", "region": True},
    ],
)
def test_bad_envelopes_still_reach_the_model(resource: dict[str, Any]) -> None:
    assert not plain_envelope(resource)
    with pytest.raises(ValidationError):
        ResourceEnvelope.model_validate(resource)
