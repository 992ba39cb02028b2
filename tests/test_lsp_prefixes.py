"""The language server never fails on half-typed text: every request, on any prefix of
every bundled policy and model, at any place in it, answers."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from policyengine.lsp import analysis

FILES = sorted((ROOT / "policies").rglob("*.policy")) + sorted((ROOT / "policies").rglob("*.model"))


@given(st.data())
def test_every_request_answers_on_every_prefix(data: st.DataObject) -> None:
    path: Path = data.draw(st.sampled_from(FILES))
    full = path.read_text()
    cut = data.draw(st.integers(0, len(full)))
    text = full[:cut]
    checked = analysis.analyse(path, {path.resolve(): text})
    assert checked.texts[path] == text
    for offset in {0, cut, data.draw(st.integers(0, cut))}:
        analysis.completions(checked, path, offset)
        analysis.hover(checked, path, offset)
        analysis.definitions(checked, path, offset)
        analysis.references(checked, offset, path)
        analysis.actions(checked, path, max(0, offset - 5), offset)
    analysis.symbols(checked.tree(path))
    analysis.formatted(text, str(path))


def test_the_whole_files_answer_everywhere_they_have_a_word() -> None:
    for path in FILES:
        text = path.read_text()
        checked = analysis.analyse(path, {})
        assert checked.diagnostics[path] == [], path
        for offset in range(0, len(text), 97):
            analysis.hover(checked, path, offset)
            analysis.definitions(checked, path, offset)
