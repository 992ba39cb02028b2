"""A declared attribute's value converted to its declared type, the way the APIs send it
(`"1"` -> 1, `"false"` -> false, times, CIDR blocks and port ranges in one form); a value
that does not convert is a problem at its place."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from policyengine.core import model
from policyengine.inputs import canonical
from policyengine.inputs.snapshot import (
    Problem,
    UnknownValue,
    as_unknown,
    describe_json,
    pointer_escape,
)


def ready(t: model.Type) -> Callable[[Any], bool]:
    """Whether a value of declared type `t` needs no conversion: `convert` would return
    it unchanged. A closure per type, built once per store, so good data costs a few
    calls. Times, CIDR blocks and port ranges are always converted (to one form)."""
    t = model.unwrap(t)
    scalar = scalar_types(t)
    if scalar is not None:
        return (lambda v: type(v) in scalar) if scalar else lambda v: False
    match t:
        case model.ListT(item=item):
            items = scalar_types(model.unwrap(item))
            if items:  # the usual list of ids: every element's type tested in C
                allowed = items | {type(None)}
                return lambda v: type(v) is list and all(map(allowed.__contains__, map(type, v)))
            record = model.unwrap(item)
            if isinstance(record, model.RecordT) and record.name not in canonical.SPELLINGS:
                return _records_ready(record)
            item_ready = ready(item)

            def list_ready(v: Any) -> bool:
                if not isinstance(v, list):
                    return False
                for x in v:  # a loop of its own: a generator per list cost a third more
                    if x is not None and not item_ready(x):
                        return False
                return True

            return list_ready
        case model.MapT(value=vt):
            values = scalar_types(model.unwrap(vt))
            if values:
                allowed = values | {type(None)}
                return lambda v: (
                    type(v) is dict and all(map(allowed.__contains__, map(type, v.values())))
                )
            value_ready = ready(vt)
            return lambda v: (
                isinstance(v, dict) and all(x is None or value_ready(x) for x in v.values())
            )
        case model.RecordT():
            if t.name in canonical.SPELLINGS:
                return lambda v: False  # its enum-like fields are spelled one way
            return _record_ready(t)
        case _:
            return lambda v: True


def _fields_ready(
    t: model.RecordT,
) -> tuple[
    Callable[[str], frozenset[type] | None],
    Callable[[str], Callable[[type], bool] | None],
    Callable[[str], Callable[[Any], bool] | None],
]:
    """A record's fields, told apart by how a value of each is tested as ready: by name,
    a scalar field's types (null among them), tested without a call; a list of scalars'
    test of one element's type, the elements tested in C; any other field's own test."""
    fields = t.fields
    scalars = {
        name: types | {type(None)}
        for name, ft in fields
        if (types := scalar_types(model.unwrap(ft))) is not None
    }
    lists: dict[str, Callable[[type], bool]] = {}
    for name, ft in fields:
        listed = model.unwrap(ft)
        if name not in scalars and isinstance(listed, model.ListT):
            if items := scalar_types(model.unwrap(listed.item)):
                lists[name] = (items | {type(None)}).__contains__
    others = {name: ready(ft) for name, ft in fields if name not in scalars and name not in lists}
    return scalars.get, lists.get, others.get


def _record_ready(t: model.RecordT) -> Callable[[Any], bool]:
    """`ready` of a record (not one whose fields are spelled one way)."""
    scalar_of, items_of, ready_of = _fields_ready(t)

    def record_ready(v: Any) -> bool:
        if type(v) is not dict:
            return False
        for name, x in v.items():  # the fields present: often fewer than declared
            types = scalar_of(name)
            if types is not None:
                if type(x) not in types:
                    return False
                continue
            if x is None:
                continue
            item_ok = items_of(name)
            if item_ok is not None:
                if type(x) is not list or not all(map(item_ok, map(type, x))):
                    return False
                continue
            field_ready = ready_of(name)
            if field_ready is not None and not field_ready(x):
                return False
        return True

    return record_ready


def _records_ready(t: model.RecordT) -> Callable[[Any], bool]:
    """`ready` of a list of records (not ones whose fields are spelled one way): the
    steps of `_record_ready` for each element, written in the loop over them rather than
    called (a disk's attachments are a list of one record: the call was a third of it)."""
    scalar_of, items_of, ready_of = _fields_ready(t)

    def records_ready(v: Any) -> bool:
        if not isinstance(v, list):
            return False
        for record in v:
            if record is None:
                continue
            if type(record) is not dict:
                return False
            for name, x in record.items():
                types = scalar_of(name)
                if types is not None:
                    if type(x) not in types:
                        return False
                    continue
                if x is None:
                    continue
                item_ok = items_of(name)
                if item_ok is not None:
                    if type(x) is not list or not all(map(item_ok, map(type, x))):
                        return False
                    continue
                field_ready = ready_of(name)
                if field_ready is not None and not field_ready(x):
                    return False
        return True

    return records_ready


# `convert` of a value of one type: (value, file, pointer, problems, parent) -> converted.
Converter = Callable[[Any, str, str, list[Problem], Mapping[str, Any] | None], Any]
# A record's field as its conversion reads it: name, pointer tail, converter, kept types.
_Field = tuple[str, str, Converter, frozenset[type] | None]
# Sets of fields a record's conversion keeps its fields of (more are found each time).
_SHAPES = 256


def converter(t: model.Type) -> Converter:
    """`convert` for values of declared type `t`, prepared once per store: what a value
    of each part of the type needs is found here rather than for each value, and the
    usual values (strings, numbers, CIDR blocks and port ranges in one form already) take
    a few steps. Any other value is converted by `convert` itself, so that it says the
    same of it, in the same words, at the same place."""
    t = model.unwrap(t)

    def general(
        value: Any, file: str, at: str, problems: list[Problem], parent: Mapping[str, Any] | None
    ) -> Any:
        return convert(value, t, file, at, problems, parent)

    scalar = scalar_types(t)
    if scalar:

        def as_given(
            value: Any,
            file: str,
            at: str,
            problems: list[Problem],
            parent: Mapping[str, Any] | None,
        ) -> Any:
            if value is None or type(value) in scalar:
                return value
            return convert(value, t, file, at, problems, parent)

        return as_given
    match t:
        case model.Scalar(name="cidr"):

            def cidr(
                value: Any,
                file: str,
                at: str,
                problems: list[Problem],
                parent: Mapping[str, Any] | None,
            ) -> Any:
                network = _canonical_cidr(value) if type(value) is str else None
                if network is None:
                    return convert(value, t, file, at, problems, parent)
                return network

            return cidr
        case model.Scalar(name="port_range"):

            def port_range(
                value: Any,
                file: str,
                at: str,
                problems: list[Problem],
                parent: Mapping[str, Any] | None,
            ) -> Any:
                if type(value) is not str or bad_ports(value):
                    return convert(value, t, file, at, problems, parent)
                protocol = parent.get("ip_protocol") if parent is not None else None
                if value.strip() == "-1/-1" and str(protocol).upper() in NO_PORT_PROTOCOLS:
                    return ""
                return value

            return port_range
        case model.ListT(item=item):
            each = converter(item)

            def items(
                value: Any,
                file: str,
                at: str,
                problems: list[Problem],
                parent: Mapping[str, Any] | None,
            ) -> Any:
                if type(value) is not list:
                    return convert(value, t, file, at, problems, parent)
                return [each(v, file, f"{at}/{i}", problems, None) for i, v in enumerate(value)]

            return items
        case model.RecordT(fields=fields):
            name = t.name
            # Per field, in declared order: its pointer's tail, its converter, and the
            # types a value of it keeps as it is (null among them), None for any other.
            prepared = tuple(
                (
                    field,
                    "/" + pointer_escape(field),
                    converter(ft),
                    None if not (kept := scalar_types(model.unwrap(ft))) else kept | {type(None)},
                )
                for field, ft in fields
            )

            normalised = canonical.normaliser(name)
            # Per set of fields a value has (its keys in order), the prepared fields of it,
            # in declared order: a rule has a few of the many fields declared.
            present: dict[tuple[str, ...], tuple[_Field, ...]] = {}

            def record(
                value: Any,
                file: str,
                at: str,
                problems: list[Problem],
                parent: Mapping[str, Any] | None,
            ) -> Any:
                if type(value) is not dict:
                    return convert(value, t, file, at, problems, parent)
                out = normalised(value)
                keys = tuple(out)
                fields_in = present.get(keys)
                if fields_in is None:
                    held = set(keys)
                    fields_in = tuple(p for p in prepared if p[0] in held)
                    if len(present) < _SHAPES:
                        present[keys] = fields_in
                for field, tail, each, kept in fields_in:
                    x = out[field]
                    if kept is not None and type(x) in kept:
                        continue  # as it is: `convert` would return it
                    out[field] = each(x, file, at + tail, problems, out)
                return out

            return record
    return general


def scalar_types(t: model.Type) -> frozenset[type] | None:
    """The Python types a parsed JSON value of scalar type `t` has when it needs no
    conversion (tested as `type(v) in ...`: JSON's parser makes no subclasses, and bool is
    not int here); empty for the types always converted; None for a type not scalar."""
    match t:
        case model.Scalar(name="int"):
            return frozenset({int})
        case model.Scalar(name="bool"):
            return frozenset({bool})
        case model.Scalar(name="time" | "cidr" | "port_range"):
            return frozenset()
        case model.Scalar() | model.RefT():
            return frozenset({str})
    return None


def mark_unknowns(data: Any) -> Any:
    """Replaces every `{"$unknown": ...}` under `data` by an UnknownValue, in place."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict | list):
                data[key] = as_unknown(value) or mark_unknowns(value)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if isinstance(value, dict | list):
                data[i] = as_unknown(value) or mark_unknowns(value)
    return data


def convert(
    value: Any,
    t: model.Type,
    file: str,
    at: str,
    problems: list[Problem],
    parent: Mapping[str, Any] | None = None,
) -> Any:
    """A declared attribute's value, converted to its declared type the way the APIs send
    it (`"1"` -> 1, `"false"` -> false); a value that does not convert is a problem at its
    place. `null` counts as missing; a value not known yet (a Terraform plan's) has every
    type. `parent` is the object holding the value: an `"-1/-1"` port range means every
    port for TCP, UDP and ALL, and none for ICMP and GRE.
    """
    if value is None or isinstance(value, UnknownValue):
        return value
    t = model.unwrap(t)

    def wrong(expected: str) -> Any:
        problems.append(Problem(file, at, f"expected {expected}, found {describe_json(value)}"))
        return value

    match t:
        case model.Scalar(name="int"):
            if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
                return int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                return wrong("an integer")
        case model.Scalar(name="bool"):
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if not isinstance(value, bool):
                return wrong("true or false")
        case model.Scalar(name="time"):
            # Compared as text from here on: one form for every offset (UTC, seconds).
            moment = model.canonical_time(value) if isinstance(value, str) else None
            if moment is None:
                return wrong("a time in ISO 8601 form, e.g. 2024-01-31T08:00Z")
            return moment
        case model.Scalar(name="cidr"):
            network = _canonical_cidr(value) if isinstance(value, str) else None
            if network is None:
                return wrong("a CIDR block, e.g. 10.0.0.0/8")
            return network
        case model.Scalar(name="port_range"):
            if not isinstance(value, str) or bad_ports(value):
                return wrong('a port range such as "22/22", or "-1/-1" for every port')
            protocol = parent.get("ip_protocol") if parent is not None else None
            if value.strip() == "-1/-1" and str(protocol).upper() in NO_PORT_PROTOCOLS:
                return ""  # ICMP and GRE have no ports: an empty range
        case model.Scalar() | model.RefT():
            if not isinstance(value, str):
                return wrong("a string")
        case model.ListT(item=item):
            if not isinstance(value, list):
                return wrong("an array")
            return [convert(v, item, file, f"{at}/{i}", problems) for i, v in enumerate(value)]
        case model.MapT(value=vt):
            if not isinstance(value, dict):
                return wrong("an object")
            return {
                k: convert(v, vt, file, f"{at}/{pointer_escape(k)}", problems)
                for k, v in value.items()
            }
        case model.RecordT(fields=fields):
            if not isinstance(value, dict):
                return wrong("an object")
            # Enum-like fields in the API's one spelling, before anything reads them.
            out = canonical.normalise(t.name, value)
            value = out
            for name, ft in fields:
                if name in value:
                    out[name] = convert(
                        value[name], ft, file, f"{at}/{pointer_escape(name)}", problems, value
                    )
            return out
        case model.ResourceT() | model.AnyT() | model.OptionalT():
            pass
    return value


NO_PORT_PROTOCOLS = ("ICMP", "GRE", "ICMPV6")


@lru_cache(maxsize=4096)
def bad_ports(text: str) -> bool:
    return "/" not in text or model.parse_port_range(text) is None


# An account repeats a few CIDR blocks and port ranges across thousands of rules: each is
# parsed once (parsing one by `ipaddress` costs more than the rest of its rule's check).
_canonical_cidr = lru_cache(maxsize=4096)(model.canonical_cidr)
