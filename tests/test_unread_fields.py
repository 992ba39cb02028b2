"""Fields no rule reads: adding them to a snapshot, whatever their shape (a wrong-typed
value of a declared attribute no rule reads included), changes no outcome and no error;
what the rules read is checked as strictly as ever; and the quick check of a resource's
envelope accepts only what the envelope model accepts, so skipping the model never lets
bad input through."""

from __future__ import annotations

import copy
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from differential import outcome_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from policyengine.core import model as models
from policyengine.core.errors import InputError
from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs.reads import attributes_read
from policyengine.inputs.snapshot import parse_document, plain_envelope
from policyengine.inputs.snapshot_format import ResourceEnvelope
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
# Fields to add: (which resource or record, modulo their number; the field's name; its value).
added_fields = st.lists(
    st.tuples(st.integers(0, 10**6), st.text(min_size=1, max_size=12), json_values),
    min_size=1,
    max_size=6,
)


@cache
def _policies() -> Loaded:
    return load([*bundled_policies(), ROOT / "benchmarks" / "ecs-bench.policy"])


@cache
def _reads() -> dict[str, frozenset[str]]:
    return attributes_read(_policies().plan)


@cache
def _documents() -> tuple[dict[str, Any], ...]:
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    # The example with values of the wrong type in attributes the rules read: an input
    # error, which fields no rule reads must leave exactly as it is.
    broken = copy.deepcopy(example)
    disks = [r for r in broken["resources"] if r["kind"] == "disk"]
    disks[0]["encrypted"] = "sometimes"
    disks[-1]["attachments"] = {"not": "a list"}
    return (example, generate.account(generate.MIN_INSTANCES), broken)


def _outcomes(doc: dict[str, Any]) -> list[Any]:
    """The outcomes of the rules over `doc`, checked as `evaluate` checks it: only what the
    rules read; or the problems of the input error it raises."""
    loaded = _policies()
    try:
        snapshot = parse_document(copy.deepcopy(doc), "s.json")
        store = Store(snapshot, loaded.plan.model, None, _reads())
    except InputError as exc:
        return [("input error", p.file, p.pointer, p.message) for p in exc.problems]
    return [outcome_key(r) for r in evaluate(loaded.plan, store)]


@cache
def _expected(which: int) -> list[Any]:
    return _outcomes(_documents()[which])


@settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from([0, 1]),
    added=added_fields,
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


def _unread(kind: str) -> list[str]:
    """The attributes `kind` declares that no rule of the policies reads."""
    return sorted(_policies().plan.model.kinds[kind].declared - _reads()[kind])


@given(
    which=st.sampled_from([0, 1, 2]),
    added=st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.integers(0, 10**6) | st.text(min_size=1, max_size=12),
            json_values,
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_unread_declared_attributes_of_any_shape_change_no_outcome_and_no_error(
    which: int, added: list[tuple[int, int | str, Any]]
) -> None:
    """A value of any shape, of the wrong type for its declaration too, in a declared
    attribute no rule reads (or under a name the model does not know) leaves the
    outcomes, and the input error of a snapshot that has one, exactly as they were."""
    doc = copy.deepcopy(_documents()[which])
    resources = doc["resources"]
    for at, name, value in added:
        resource = resources[at % len(resources)]
        unread = _unread(resource["kind"])
        if isinstance(name, int):
            if not unread:
                continue
            name = unread[name % len(unread)]
        elif name in ENVELOPE or name in _policies().plan.model.kinds[resource["kind"]].declared:
            continue  # read by the rules or the store, and checked
        resource[name] = value
    assert _outcomes(doc) == _expected(which)


def test_the_broken_example_is_an_input_error_at_each_place() -> None:
    """The baseline of the property above holds the errors it must keep unchanged."""
    found = _expected(2)
    assert [p[2].split("/")[-1] for p in found] == ["encrypted", "attachments"]
    assert all(p[0] == "input error" for p in found)


def _with_instance_value(tmp_path: Path, name: str, value: Any) -> Path:
    """The example, with `value` as `name` of its first instance when `name` is given,
    written where the other is (reports name their snapshot file)."""
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    if name:
        next(r for r in doc["resources"] if r["kind"] == "instance")[name] = value
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_evaluate_checks_only_what_the_rules_read(tmp_path: Path) -> None:
    """`cpu` is declared an int and no bundled rule reads it: a string there changes
    nothing `evaluate` reports, while `snapshot stats` (no rules) still refuses it."""
    bundled = attributes_read(load(bundled_policies()).plan)
    assert "cpu" not in bundled["instance"]
    assert "cpu" in _policies().plan.model.kinds["instance"].declared
    path = _with_instance_value(tmp_path, "", None)
    code, out, err = run_cli(["evaluate", "--format", "json", str(path)])
    assert code in (0, 1)
    path = _with_instance_value(tmp_path, "cpu", "many")
    assert run_cli(["evaluate", "--format", "json", str(path)]) == (code, out, err)
    code, _, err = run_cli(["snapshot", "stats", str(path)])
    assert code == 3
    assert "/cpu: expected an integer, found a string" in err


def test_what_a_rule_reads_is_checked_as_strictly_as_ever(tmp_path: Path) -> None:
    """`instance_type` is read by a bundled rule: a number there stops the run (exit 3)
    with its JSON Pointer."""
    assert "instance_type" in attributes_read(load(bundled_policies()).plan)["instance"]
    path = _with_instance_value(tmp_path, "instance_type", 5)
    code, _, err = run_cli(["evaluate", str(path)])
    assert code == 3
    assert "/instance_type: expected a string, found an integer 5" in err


def test_the_plan_reads_its_rules_attributes_and_what_the_model_indexes() -> None:
    bench = load([ROOT / "benchmarks" / "ecs-bench.policy"]).plan
    reads = attributes_read(bench)
    # read by a rule (`image_id` by the image-region join) and by a relation path
    # (`security_group_ids`); `cpu` by nothing
    assert {"image_id", "security_group_ids", "tags"} <= reads["instance"]
    assert "cpu" not in reads["instance"]
    assert reads["instance"] <= bench.model.kinds["instance"].declared
    assert set(reads) == set(bench.model.kinds)


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
    added=added_fields,
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
