"""Where each resource starts in a snapshot's text, for findings' lines: the quick finding
(msgspec's raw values) agrees with the scan by json's own scanner on every layout, and
each offset is where that resource's JSON is."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policyengine.core.positions import (
    Positions,
    _raw_starts,
    _resource_starts,
    _scanned_starts,
)
from policyengine.core.source import Source

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
    assert _resource_starts(text) == [text.index('[{"kind": "a"}, ') + 1, text.rindex("{")]
