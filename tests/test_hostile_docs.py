"""docs/hostile-input.md and docs/guarantees.md name the tests that hold each guarantee:
every file and test they name exists, so a page cannot point at a test that is gone."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

PAGES = ["hostile-input.md", "guarantees.md"]


@pytest.mark.parametrize("page", PAGES)
def test_every_test_the_page_names_exists(page: str) -> None:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    files = set(re.findall(r"`(test_\w+\.py)", text))
    assert len(files) >= 8
    for name in files:
        assert (ROOT / "tests" / name).is_file(), name
    named = re.findall(r"(test_\w+\.py)::(test_\w+)", text)
    assert named
    for file, test in named:
        assert f"def {test}(" in (ROOT / "tests" / file).read_text(encoding="utf-8"), test
    bare = set(re.findall(r"`(test_\w+)`", text))
    everything = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    for test in bare:
        assert f"def {test}(" in everything, test
