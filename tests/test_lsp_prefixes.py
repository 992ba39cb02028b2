"""The language server never fails on half-typed text: every request, on any prefix of
every bundled policy and model, at any place in it, answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from policyengine.lsp import actions, completion, folder, hover, navigation

FILES = sorted((ROOT / "policies").rglob("*.policy")) + sorted((ROOT / "policies").rglob("*.model"))


# Each bundled file is its own property, with a share of the profile's examples (three
# each in the suite; more than a thousand each with the `long` profile).
EACH = settings(max_examples=max(3, settings.default.max_examples // len(FILES)))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@EACH
@given(data=st.data())
def test_every_request_answers_on_every_prefix(path: Path, data: st.DataObject) -> None:
    full = path.read_text()
    cut = data.draw(st.integers(0, len(full)))
    text = full[:cut]
    checked = folder.analyse(path, {path.resolve(): text})
    assert checked.texts[path] == text
    for offset in {0, cut, data.draw(st.integers(0, cut))}:
        completion.completions(checked, path, offset)
        hover.hover(checked, path, offset)
        navigation.definitions(checked, path, offset)
        navigation.references(checked, offset, path)
        actions.actions(checked, path, max(0, offset - 5), offset)
    navigation.symbols(checked.tree(path))
    actions.formatted(text, str(path))


def test_the_whole_files_answer_everywhere_they_have_a_word() -> None:
    for path in FILES:
        text = path.read_text()
        checked = folder.analyse(path, {})
        assert checked.diagnostics[path] == [], path
        for offset in range(0, len(text), 97):
            hover.hover(checked, path, offset)
            navigation.definitions(checked, path, offset)
