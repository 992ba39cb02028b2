"""Where each resource starts in a snapshot's text, for findings' lines: the quick finding
(msgspec's raw values) agrees with the scan by json's own scanner on every layout, and
each offset is where that resource's JSON is. And where a relation path reaches inside a
resource: the quick readers agree with the generic walk."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policyengine.core.model import RelationPath
from policyengine.core.positions import (
    Positions,
    _raw_starts,
    _resource_starts,
    _scanned_starts,
)
from policyengine.core.source import Source, Span
from policyengine.inputs.snapshot import UnknownValue
from policyengine.inputs.store import _reader, _values_at

_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=6)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
_RESOURCES = st.lists(
    st.fixed_dictionaries({"kind": st.text(min_size=1, max_size=5)}, optional={"x": _VALUES}),
    max_size=6,
)


@given(
    resources=_RESOURCES,
    before=st.dictionaries(st.sampled_from(["version", "account", "locations"]), _VALUES),
    after=st.dictionaries(st.sampled_from(["gaps", "not_read"]), _VALUES),
    indent=st.none() | st.integers(0, 3),
    compact=st.booleans(),
    ascii_only=st.booleans(),
)
def test_the_quick_finding_agrees_with_the_scan(
    resources: list[dict[str, Any]],
    before: dict[str, Any],
    after: dict[str, Any],
    indent: int | None,
    compact: bool,
    ascii_only: bool,
) -> None:
    doc = {**before, "resources": resources, **after}
    separators = (",", ":") if compact else (", ", ": ")
    text = json.dumps(doc, indent=indent, separators=separators, ensure_ascii=ascii_only)
    starts = _resource_starts(text)
    assert starts == _scanned_starts(text)
    assert len(starts) == len(resources)
    if text.isascii() and resources:  # the quick finding answered, not the scan
        assert _raw_starts(text) == starts
    positions = Positions(Source("s.json", text))
    for index, resource in enumerate(resources):
        assert positions.resource(index) == resource


def test_a_resource_spelled_earlier_in_the_text_is_not_taken_for_the_first() -> None:
    text = '{"x": [{"kind": "a"}], "resources": [{"kind": "a"}, {"kind": "b"}]}'
    starts = [text.index('[{"kind": "a"}, ') + 1, text.rindex("{")]
    assert _resource_starts(text) == starts
    assert _raw_starts(text) is None  # the finding a large text takes refuses: the scan decides


_ELEMENT = st.none() | st.text(max_size=3) | st.builds(UnknownValue, st.text(max_size=3))
_ITEMS = st.lists(
    _ELEMENT | st.dictionaries(st.sampled_from(["instance_id", "other"]), _ELEMENT), max_size=4
)


@given(
    value=st.none() | _ELEMENT | _ITEMS | st.dictionaries(st.text(max_size=2), _ELEMENT),
    field=st.booleans(),
    optional=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_the_quick_readers_of_a_relation_path_reach_what_the_walk_does(
    value: Any, field: bool, optional: tuple[bool, bool, bool]
) -> None:
    """`ids[*]` and `items[*].instance_id`, read without the generic walk: the same
    values, absences and pointers, in the same order."""
    steps = ("a/b", "*", "instance_id") if field else ("a/b", "*")
    text = ".".join(steps)
    path = RelationPath(steps, optional[: len(steps)], text, Span(Source("m", text), 0, 1))
    data = {} if value is None and optional[1] else {"a/b": value}
    quick = list(_reader(path)(data, "/resources/3"))
    assert quick == list(_values_at(data, path, 0, "/resources/3"))
