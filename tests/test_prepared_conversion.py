"""A declared type's prepared conversion (`conversion.converter`, what the store calls)
against `conversion.convert`: the same value and the same problems, in the same words
at the same places, for every type the bundled model declares, on values of the type,
of other types and as the APIs send them. And the quick test of a value needing no
conversion (`conversion.ready`) says so only of values `convert` returns as they are."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.core import model
from policyengine.frontend.loader import bundled_policies, load
from policyengine.inputs import canonical, conversion
from policyengine.inputs.snapshot import Problem, UnknownValue

# More examples than the default profile's, as many as the long one's when it runs.
_EXAMPLES = max(100, settings.default.max_examples)

# The texts the conversion treats apart: numbers and booleans as the APIs send them,
# CIDR blocks, port ranges (every port, none for ICMP), times, and spellings of enums.
_TEXTS = [
    "1",
    " -7 ",
    "true",
    "FALSE",
    "10.0.0.1/8",
    "0.0.0.0/0",
    "::/0",
    "22/22",
    "-1/-1",
    "1/65535",
    "22",
    "2024-01-31T08:00Z",
    "2024-01-31T08:00:00+08:00",
    "TCP",
    "icmp",
    "ICMP",
    "accept",
    "Ingress",
    "",
    "x",
]

_scalars = st.one_of(
    st.sampled_from(_TEXTS),
    st.text(max_size=4),
    st.integers(-3, 70000),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.builds(UnknownValue, st.just("module.x.id")),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@cache
def _types() -> list[model.Type]:
    """Every declared attribute type of the bundled model, and a few it has no example of."""
    m = load(bundled_policies()).plan.model
    found: dict[str, model.Type] = {}
    for kind in m.kinds.values():
        for _, t in kind.attributes.fields:
            found.setdefault(repr(t), t)
    string = model.Scalar("string")
    extra = [
        model.Scalar("port_range"),
        model.MapT(model.Scalar("int")),
        model.MapT(model.ListT(string)),
        model.ListT(model.ListT(model.Scalar("cidr"))),
        model.ListT(model.OptionalT(model.Scalar("port_range"))),
        model.RecordT(None, (("at", model.Scalar("time")), ("n", model.MapT(string)))),
    ]
    return [*found.values(), *extra]


# Per scalar type (and the protocol field a port range is read with), the texts that
# test it most.
_LIKELY = {
    "port_range": ["-1/-1", " -1/-1 ", "22/22", "1/65535", "22", "a/b"],
    "cidr": ["10.0.0.1/8", "0.0.0.0/0", "::1/64", "10.0.0.0/33", "x"],
    "time": ["2024-01-31T08:00Z", "2024-01-31T08:00:00+08:00", "yesterday"],
    "int": ["1", " -7 ", "1.5", "x"],
    "bool": ["true", "FALSE", "yes"],
    "ip_protocol": ["ICMP", "icmp", "GRE", "TCP", "all", "ICMPv6", 6],
}


def _of(t: model.Type, field: str = "") -> st.SearchStrategy[Any]:
    """Values of `t` as a snapshot may hold them, any JSON value in their place at times."""
    t = model.unwrap(t)
    likely = _LIKELY.get(field) or (_LIKELY.get(t.name) if isinstance(t, model.Scalar) else None)
    if likely is not None:
        return st.one_of(st.sampled_from(likely), st.sampled_from(likely), _scalars)
    match t:
        case model.ListT(item=item):
            shaped: st.SearchStrategy[Any] = st.lists(_of(item), max_size=3)
        case model.MapT(value=vt):
            shaped = st.dictionaries(st.sampled_from(["a", "b/c", "d~e"]), _of(vt), max_size=3)
        case model.RecordT(fields=fields):
            names = [name for name, _ in fields][:8]
            shaped = st.fixed_dictionaries(
                {},
                optional={
                    **{
                        name: st.deferred(lambda ft=ft, name=name: _of(ft, name))
                        for name, ft in fields[:8]
                    },
                    "undeclared": _json,
                },
            )
            if not names:
                shaped = _json
        case _:
            shaped = _scalars
    return st.one_of(shaped, shaped, _json)


def _converted(fn: Any, value: Any, parent: Any) -> tuple[Any, list[Problem]]:
    problems: list[Problem] = []
    return fn(copy.deepcopy(value), "f.json", "/resources/0/a", problems, parent), problems


@st.composite
def _typed_values(draw: st.DrawFn) -> tuple[model.Type, Any, Any]:
    t = draw(st.sampled_from(_types()))
    protocol = st.sampled_from(_LIKELY["ip_protocol"])
    parent = draw(st.none() | st.fixed_dictionaries({"ip_protocol": protocol}))
    return t, draw(_of(t)), parent


@settings(
    max_examples=_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_typed_values())
def test_the_prepared_conversion_is_convert(typed: tuple[model.Type, Any, Any]) -> None:
    t, value, parent = typed
    prepared = conversion.converter(t)

    def general(v: Any, file: str, at: str, problems: list[Problem], parent: Any) -> Any:
        return conversion.convert(v, t, file, at, problems, parent)

    assert _converted(prepared, value, parent) == _converted(general, value, parent)


@settings(
    max_examples=_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_typed_values())
def test_a_value_said_ready_is_one_convert_keeps(typed: tuple[model.Type, Any, Any]) -> None:
    t, value, _ = typed
    if value is not None and conversion.ready(t)(value):
        assert _converted(conversion.converter(t), value, None) == (value, [])


def test_every_prepared_shape_is_met() -> None:
    """The types above reach each prepared conversion: records, lists, CIDR blocks, port
    ranges and values kept as they are."""
    made = {conversion.converter(t).__name__ for t in _types()}
    assert {"record", "items", "cidr", "port_range", "as_given", "general"} <= made


@cache
def _rules_type() -> model.Type:
    m = load(bundled_policies()).plan.model
    return dict(m.kinds["security_group"].attributes.fields)["rules"]


@pytest.mark.parametrize("protocol", ["TCP", "icmp", "GRE", "ICMPv6", "all", None, 6])
@pytest.mark.parametrize("ports", ["-1/-1", " -1/-1", "22/22", "22", None, 22])
def test_security_group_rules_convert_alike(protocol: Any, ports: Any) -> None:
    """A security group's rules, a record in canonical spelling: every protocol with every
    port range (none for ICMP), CIDR blocks to their network, values of other types."""
    rule = {"direction": "Ingress", "policy": "accept", "priority": "1", "ip_protocol": protocol}
    rule |= {"port_range": ports, "undeclared": [1]}
    cidrs = ["10.0.0.1/8", "0.0.0.0/0", "10/40", None, 7]
    rules = [rule | {"source_cidr_ip": cidr} for cidr in cidrs]
    rules += [{"direction": "egress"}, None, "not a rule"]
    t = _rules_type()

    def general(v: Any, file: str, at: str, problems: list[Problem], parent: Any) -> Any:
        return conversion.convert(v, t, file, at, problems, parent)

    prepared = _converted(conversion.converter(t), rules, None)
    assert prepared == _converted(general, rules, None)
    assert len(prepared[1]) >= 1  # "not a rule" at least


def _reference_ready(t: model.Type) -> Any:
    """`conversion.ready` written plainly, a record field by field and a list element by
    element, each by its own test: what the prepared tests of records and lists of
    records must say."""
    t = model.unwrap(t)
    match t:
        case model.ListT(item=item):
            if conversion.scalar_types(model.unwrap(item)):
                return conversion.ready(t)  # a list of scalars: tested in C
            each = _reference_ready(item)
            return lambda v: isinstance(v, list) and all(x is None or each(x) for x in v)
        case model.RecordT(fields=fields) if t.name not in canonical.SPELLINGS:
            tests = {name: _reference_ready(ft) for name, ft in fields}

            def record(v: Any) -> bool:
                if type(v) is not dict:
                    return False
                for name, x in v.items():
                    test = tests.get(name)
                    if test is None:
                        continue  # not declared: kept as given
                    scalar = conversion.scalar_types(model.unwrap(dict(fields)[name]))
                    if scalar is not None:
                        if x is not None and type(x) not in scalar:
                            return False
                    elif x is not None and not test(x):
                        return False
                return True

            return record
    return conversion.ready(t)


_STRING = model.Scalar("string")
_NESTED = model.RecordT(
    None,
    (
        ("ids", model.OptionalT(model.ListT(_STRING))),
        ("n", model.Scalar("int")),
        ("at", model.OptionalT(model.Scalar("time"))),
        ("times", model.ListT(model.Scalar("time"))),
        ("inner", model.RecordT(None, (("k", _STRING), ("ports", model.ListT(_STRING))))),
        ("tags", model.MapT(_STRING)),
    ),
)
_RECORDS = [_NESTED, model.ListT(_NESTED), model.ListT(model.OptionalT(_NESTED))]


@st.composite
def _records(draw: st.DrawFn) -> tuple[model.Type, Any]:
    records = [t for t in _types() if _has_record(t)] + _RECORDS
    t = draw(st.sampled_from(records))
    return t, draw(_of(t))


def _has_record(t: model.Type) -> bool:
    t = model.unwrap(t)
    if isinstance(t, model.ListT):
        t = model.unwrap(t.item)
    return isinstance(t, model.RecordT)


@settings(
    max_examples=_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_records())
def test_the_ready_test_of_records_is_the_test_of_each_field(
    typed: tuple[model.Type, Any],
) -> None:
    t, value = typed
    assert conversion.ready(t)(value) == _reference_ready(t)(value)


def test_the_ready_test_of_records_takes_good_values() -> None:
    """Values of every field's type, lists of records among them: ready (the test above
    would hold two tests that never say so to each other)."""
    record = {"ids": ["a", None], "n": 1, "inner": {"k": "x", "ports": []}, "tags": {}}
    assert conversion.ready(_NESTED)(record)
    assert conversion.ready(model.ListT(_NESTED))([record, None, {"n": None}])
    assert not conversion.ready(model.ListT(_NESTED))([record, {"ids": ["a", 1]}])
    assert not conversion.ready(_NESTED)({**record, "times": ["2024-01-31T08:00Z"]})


@settings(
    max_examples=_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(_of(_rules_type()), min_size=1, max_size=6))
def test_one_prepared_conversion_converts_many_values_as_convert(values: list[Any]) -> None:
    """Values converted one after another by one prepared conversion (which keeps the
    spellings and the sets of fields it met): each as `convert` converts it alone."""
    t = _rules_type()
    prepared = conversion.converter(t)
    normalised = canonical.normaliser("sg_rule")

    def general(v: Any, file: str, at: str, problems: list[Problem], parent: Any) -> Any:
        return conversion.convert(v, t, file, at, problems, parent)

    for value in values * 2:
        assert _converted(prepared, value, None) == _converted(general, value, None)
        for rule in value if isinstance(value, list) else ():
            if isinstance(rule, dict):
                assert normalised(copy.deepcopy(rule)) == canonical.normalise("sg_rule", rule)
