"""docs/language.md: every example in it is a whole file that parses and checks.

`model` blocks are loaded through a policy that uses them; `policy` blocks are loaded as
they are, against the bundled packs' models. A construct that changes in the grammar or
the checker breaks this test before it can mislead a reader.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policyengine.core.source import Source
from policyengine.frontend.loader import load
from policyengine.frontend.parser import parse

DOC = Path(__file__).resolve().parents[1] / "docs" / "language.md"
_BLOCK = re.compile(r"```(model|policy)\n(.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    return _BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_reference_has_examples() -> None:
    kinds = [kind for kind, _ in _examples()]
    assert kinds.count("model") >= 1 and kinds.count("policy") >= 3


@pytest.mark.parametrize(("kind", "text"), _examples(), ids=lambda v: str(v)[:30])
def test_every_example_parses_and_checks(kind: str, text: str, tmp_path: Path) -> None:
    parse(Source(f"example.{kind}", text))
    if kind == "policy":
        path = tmp_path / "example.policy"
        path.write_text(text, encoding="utf-8")
        assert load([path]).plan.rules
        return
    name = re.match(r"model\s+([\w.]+)", text)
    assert name is not None
    model_path = tmp_path.joinpath(*name.group(1).split(".")).with_suffix(".model")
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_text(text, encoding="utf-8")
    policy = tmp_path / "uses.policy"
    policy.write_text(f"use {name.group(1)}\n", encoding="utf-8")
    assert load([policy]).plan.model.kinds
