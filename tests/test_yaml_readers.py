"""The two YAML readers behind `load_yaml`: libyaml reads a document first, and what it
does not read cleanly is read again by the pure-Python reader, whose problem is the one
reported. A document the pure reader reads has the same value either way; a problem reads
the same either way. libyaml reads a few spellings the pure reader refuses (a tab between
tokens in a flow collection, `?` inside a flow scalar); those are values, never a crash."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import yaml
from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from policyengine.core import yamldoc

PACK_TESTS = sorted((ROOT / "policies").rglob("*.test.yaml"))
SPELLINGS = [
    *["\t", ": ", "- ", "? ", "&a ", "*a", "<<: *a\n", "!!set ", "!x ", "!!str ", "---\n"],
    *['"', "'", "{", "}", "[", "]", ",", "#", "|", ">", "`", "@", "%", "\n", "  ", "\r\n"],
    *["2024-01-01", ".nan", "-.inf", "0x1F", "0o17", "1e3", "~", "yes", "é", "𝄞", "\x07"],
]


@contextmanager
def _pure_reader() -> Iterator[None]:
    saved = list(yamldoc._LOADERS)
    del yamldoc._LOADERS[1:]
    try:
        yield
    finally:
        yamldoc._LOADERS[:] = saved


def _read(text: str) -> tuple[str, Any]:
    try:
        return "value", yamldoc.load_yaml(text, "t.yaml")
    except yamldoc.YamlError as exc:
        return "problem", str(exc)


def test_libyaml_reads_where_pyyaml_has_it() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML is built without libyaml")
    assert len(yamldoc._LOADERS) == 2


@pytest.mark.parametrize("path", PACK_TESTS, ids=lambda p: p.name)
def test_the_packs_test_files_read_the_same_by_both(path: Any) -> None:
    text = path.read_text(encoding="utf-8")
    with _pure_reader():
        pure = _read(text)
    assert pure[0] == "value"
    assert _read(text) == pure


@given(
    st.sampled_from(PACK_TESTS),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.sampled_from(SPELLINGS)), max_size=3),
)
def test_a_changed_document_reads_the_same_unless_only_libyaml_reads_it(
    path: Any, edits: list[tuple[float, str]]
) -> None:
    text = path.read_text(encoding="utf-8")
    text = text[: text.find("\n", 1500) + 1]  # the first cases: the edits land in them
    for where, spelling in edits:
        at = int(where * len(text))
        text = text[:at] + spelling + text[at:]
    read = _read(text)
    with _pure_reader():
        pure = _read(text)
    if pure[0] == "value" or read[0] == "problem":
        assert read == pure
