"""A large snapshot is decoded by msgspec, a small one by orjson: both read every document
alike, valid or not. The same value, or the same problem in the same words, whichever
decodes it; a document nested deeper than the limit is refused by both, at exactly the
limit, without a walk over its values.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyengine import InputError
from policyengine.inputs import snapshot

LIMIT = 128  # the default POLICYENGINE_MAX_JSON_DEPTH

DOCUMENTS = [
    '{"resources": [{"kind": "disk", "id": "d-1"}]}',
    '{"a": 123456789012345678901234567890, "b": -9223372036854775809}',  # beyond 64 bits
    '{"a": 1.5, "b": 1E2, "c": -0, "d": 1e-400, "e": 123456789012345678901234567890.5}',
    '{"a": 1, "a": 2}',  # the last of a repeated key
    '{"a": "\\u00e9\\ud83d\\ude00", "b": "\\u0000"}',
    '["\\ud800"]',  # a lone surrogate: no text
    '{"\\udc00": 1}',
    "[NaN]",
    "[Infinity]",
    "[1.5e400]",  # beyond a double
    "[1,]",
    "[1] x",
    "\ufeff[1]",  # a byte order mark
    "",
    '"\x01"',
    "[" * LIMIT + "]" * LIMIT,
    "[" * (LIMIT + 1) + "]" * (LIMIT + 1),
    '{"a":' * LIMIT + "1" + "}" * LIMIT,
    '{"a":' * (LIMIT + 1) + "1" + "}" * (LIMIT + 1),
    "[" * 5000 + "]" * 5000,
]


def read(text: str, large: int, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    monkeypatch.setattr(snapshot, "LARGE", large)
    try:
        return "value", snapshot.load_json(text, "account.json")
    except InputError as exc:
        return "problems", exc.problems


@pytest.mark.parametrize("text", DOCUMENTS, ids=range(len(DOCUMENTS)))
def test_either_decoder_reads_a_document_alike(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    by_orjson = read(text, 1 << 62, monkeypatch)
    by_msgspec = read(text, 0, monkeypatch)
    assert by_msgspec == by_orjson
    assert repr(by_msgspec) == repr(by_orjson)  # ints stay ints, floats floats


def json_values(depth: int) -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=depth,
    )


@given(json_values(12))
def test_any_document_reads_alike_by_either_decoder(value: Any) -> None:
    text = json.dumps(value)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert read(text, 0, monkeypatch) == read(text, 1 << 62, monkeypatch)


@pytest.mark.parametrize("depth", [LIMIT - 1, LIMIT, LIMIT + 1])
def test_a_large_document_is_refused_past_the_limit_exactly(
    depth: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over a megabyte: read by msgspec, never by orjson (whose tree of the whole document
    # is what a large snapshot cannot afford).
    filler = "x" * snapshot.LARGE
    deep = "[" * (depth - 3) + "]" * (depth - 3)  # the object, the list and a resource above
    text = f'{{"resources": [{{"kind": "disk", "note": "{filler}", "deep": {deep}}}]}}'

    def refused(*args: object) -> None:
        raise AssertionError("orjson read a large valid document")

    if depth <= LIMIT:
        monkeypatch.setattr(orjson, "loads", refused)
        assert snapshot.load_json(text, "account.json") == json.loads(text)
    else:
        with pytest.raises(InputError) as caught:
            snapshot.load_json(text, "account.json")
        (problem,) = caught.value.problems
        assert "nested deeper than 128 levels" in problem.message


def test_a_large_document_read_in_another_thread_is_read_by_orjson(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The recursion limit that bounds msgspec is every thread's: only the main thread
    # sets it, so another thread's reading neither moves it nor is moved by it.
    text = json.dumps({"resources": [{"kind": "disk", "note": "x" * snapshot.LARGE}]})
    read_by: list[str] = []
    orjson_loads = orjson.loads

    def by_orjson(data: str | bytes) -> object:
        read_by.append("orjson")
        return orjson_loads(data)

    monkeypatch.setattr(orjson, "loads", by_orjson)
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(snapshot.load_json(text, "a.json")))
    worker.start()
    worker.join()
    assert found == [json.loads(text)]
    assert read_by == ["orjson"]
