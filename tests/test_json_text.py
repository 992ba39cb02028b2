"""The JSON report is written by orjson and must read exactly as the standard library
would write it (`json.dumps(doc, indent=2, ensure_ascii=False)`): the same bytes for every
value a snapshot can hand it, floats with exponents, non-finite floats, integers past 64
bits, integer keys and control characters included."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policyengine.results.json_text import dumps, exact

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 8, max_value=2**65)
    | st.integers(min_value=-(2**65), max_value=-(2**63) + 8)
    | st.floats()
    | st.text()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_VALUES)
def test_any_value_is_written_as_the_standard_library_writes_it(value: Any) -> None:
    assert dumps(exact(value)) == json.dumps(value, indent=2, ensure_ascii=False)


def test_the_numbers_orjson_writes_its_own_way_are_written_as_python_writes_them() -> None:
    value = {
        "floats": [1e16, 1.5e-7, float("nan"), float("inf"), -float("inf"), 0.1, -0.0],
        "integers": [2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 2**200],
        7: "an integer key",
        "text": "\x00\x1f\x7f\u2028é",
        "empty": [[], {}],
    }
    written = dumps(exact(value))
    assert written == json.dumps(value, indent=2, ensure_ascii=False)
    assert "1e+16" in written and "NaN" in written and str(2**200) in written


def test_a_value_without_such_numbers_is_passed_on_as_it_is() -> None:
    value = {"a": [1, 2.5, "x", None], "b": {"c": True}}
    assert exact(value) is value
