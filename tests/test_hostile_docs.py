"""docs/hostile-input.md names the tests that hold each guarantee: every file and test
it names exists, so the page cannot point at a test that is gone."""

from __future__ import annotations

import re

from conftest import ROOT

PAGE = (ROOT / "docs" / "hostile-input.md").read_text(encoding="utf-8")


def test_every_test_the_page_names_exists() -> None:
    files = set(re.findall(r"`(test_\w+\.py)", PAGE))
    assert len(files) >= 8
    for name in files:
        assert (ROOT / "tests" / name).is_file(), name
    named = re.findall(r"(test_\w+\.py)::(test_\w+)", PAGE)
    assert named
    for file, test in named:
        assert f"def {test}(" in (ROOT / "tests" / file).read_text(encoding="utf-8"), test
    bare = set(re.findall(r"`(test_\w+)`", PAGE))
    everything = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    for test in bare:
        assert f"def {test}(" in everything, test
