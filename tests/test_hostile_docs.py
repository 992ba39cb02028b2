"""docs/hostile-input.md, docs/guarantees.md and the README's Guarantees section name the
tests that hold each guarantee: every file and test they name exists, so a page cannot point
at a test that is gone."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

# Each page and the fewest test files it names: a page that lost its list fails.
PAGES = {"docs/hostile-input.md": 8, "docs/guarantees.md": 8, "README.md": 5}


@pytest.mark.parametrize("page", PAGES)
def test_every_test_the_page_names_exists(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    files = set(re.findall(r"`(test_\w+\.py)", text))
    assert len(files) >= PAGES[page]
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
