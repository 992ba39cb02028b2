"""A snapshot's envelope is read without pydantic when every field is as the format
defines it; anything else is validated by the format's models, which word the problem.
The quick check must never accept what the models refuse, nor read a value differently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyengine.core.errors import InputError
from policyengine.inputs import snapshot_format
from policyengine.inputs.snapshot import parse_document, plain_document

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=4)
strings = st.text(min_size=0, max_size=4)
resource = st.fixed_dictionaries(
    {"kind": st.sampled_from(["instance", "", 1])},
    optional={"id": scalars, "region": scalars, "tags": st.dictionaries(strings, scalars)},
)
gap = st.fixed_dictionaries(
    {},
    optional={
        "kinds": st.lists(strings | st.integers(), max_size=2) | scalars,
        "region": scalars,
        "reason": scalars,
        "other": scalars,
    },
)
not_read = st.fixed_dictionaries({}, optional={"file": scalars, "api": scalars, "extra": scalars})
envelope = st.fixed_dictionaries(
    {},
    optional={
        "version": scalars,
        "account": scalars,
        "captured_at": scalars,
        "locations": st.none()
        | st.dictionaries(strings, st.lists(strings | st.integers(), max_size=2) | scalars),
        "resources": st.lists(resource, max_size=2) | scalars,
        "gaps": st.lists(gap, max_size=2) | scalars,
        "not_read": st.lists(not_read, max_size=2) | scalars,
        "unknown": scalars,
    },
)


@given(envelope)
def test_the_quick_check_reads_only_what_the_models_accept_and_reads_it_alike(
    data: dict[str, Any],
) -> None:
    quick = plain_document(data)
    if quick is not None:
        assert snapshot_format.validate(data, "s.json") == quick


@pytest.mark.parametrize(
    "data",
    [
        {"version": 1, "account": "1", "captured_at": "2024-06-03T02:00:00Z",
         "locations": {"cn-hangzhou": ["cn-hangzhou-h"]},
         "resources": [{"kind": "instance", "id": "i-1", "region": "cn-hangzhou"}],
         "gaps": [{"kinds": ["command"], "region": "cn-hangzhou", "reason": "denied"}],
         "not_read": [{"file": "global/ListPolicies.json", "api": "ListPolicies"}]},
        {"resources": [{"kind": "key_pair", "name": "k", "anything": [1, {"x": None}]}]},
    ],
)  # fmt: skip
def test_usual_snapshots_take_the_quick_check(data: dict[str, Any]) -> None:
    quick = plain_document(data)
    assert quick is not None
    assert snapshot_format.validate(data, "s.json") == quick


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"version": True, "resources": [{"kind": "i"}]}, "/version: expected an integer"),
        ({"resources": []}, "the snapshot holds no resources"),
        ({"resources": [{"kind": "i"}], "gaps": [{"kinds": [], "reason": ""}]}, "/gaps/0/reason"),
        ({"resources": [{"kind": "i"}], "not_read": [{"file": "f"}]}, "`api` is required"),
        ({"resources": [{"kind": "i"}], "extra": 1}, "unknown field `extra`"),
        ({"resources": [{"kind": "i", "zone": 3}]}, "/resources/0/zone: expected a string"),
        ({"resources": [{"kind": "i"}], "locations": {"r": "z"}}, "/locations/r: expected an"),
    ],
)  # fmt: skip
def test_a_bad_envelope_is_worded_by_the_models(data: dict[str, Any], problem: str) -> None:
    assert plain_document(data) is None
    with pytest.raises(InputError) as raised:
        parse_document(data, "s.json")
    assert problem in str(raised.value)


def test_reading_a_snapshot_imports_no_pydantic() -> None:
    code = (
        "import sys\n"
        "from policyengine.inputs.snapshot import parse_snapshot\n"
        "parse_snapshot(open('examples/ecs-account/snapshot.json').read(), 's.json')\n"
        "assert 'pydantic' not in sys.modules, sorted(m for m in sys.modules if 'pydantic' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])
