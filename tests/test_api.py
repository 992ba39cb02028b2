"""docs/api.md: its example runs as written, and the package exports what it documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import policyengine

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"


def test_the_api_page_example_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example as a reader runs it, from the checkout, as a script of its own."""
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    monkeypatch.chdir(ROOT)
    exec(compile(code, str(DOC), "exec"), {"__name__": "__main__"})
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"\d+ findings fail the run: True", lines[0])
    assert lines[1].startswith("fail[PE500]: disk ")
    assert "0 errors, 0 warnings" in lines
    assert lines[-1] == "usage: no such snapshot file: no-such-file.json"


def test_every_function_the_page_names_is_exported() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"^\| `(\w+)\(", text, re.M))
    assert named, "the page lists no function"
    assert named <= set(policyengine.__all__)
    for name in policyengine.__all__:
        assert hasattr(policyengine, name), name
