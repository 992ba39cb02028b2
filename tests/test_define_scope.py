"""A policy file's top-level defines are its own; a model's are shared by every policy
that uses the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.core.diagnostics import DiagnosticError
from policyengine.frontend.loader import load


def _file(name: str, helper: str, rule: str) -> None:
    Path(name).write_text(
        f"use acme.shared\n{helper}\npolicy {name.split('.')[0]} {{\n  rule r {{ {rule} }}\n}}\n",
        encoding="utf-8",
    )


@pytest.fixture(autouse=True)
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "shared.model").write_text(
        'model acme.shared\nuse alicloud.ecs\ndefine prod(i: instance) = i.tags["env"] == "prod"\n',
        encoding="utf-8",
    )


def test_two_files_may_each_have_a_helper_of_the_same_name() -> None:
    _file("a.policy", "define big(d: disk) = d.size > 100", "for each disk forbid big(this)")
    _file("b.policy", "define big(d: disk) = d.size > 500", "for each disk forbid big(this)")
    loaded = load([Path("a.policy"), Path("b.policy")])
    assert len(loaded.plan.rules) == 2


def test_a_helper_of_another_file_is_not_seen() -> None:
    _file("a.policy", "define big(d: disk) = d.size > 100", "for each disk forbid big(this)")
    _file("b.policy", "", "for each disk forbid big(this)")
    with pytest.raises(DiagnosticError) as info:
        load([Path("a.policy"), Path("b.policy")])
    (diag,) = info.value.diagnostics
    assert diag.span.file == "b.policy" and "big" in diag.message


def test_a_model_define_is_shared() -> None:
    _file("a.policy", "", "for each instance where prod(this) require deletion_protection")
    _file("b.policy", "", "for each instance where prod(this) require key_pair_name is set")
    assert len(load([Path("a.policy"), Path("b.policy")]).plan.rules) == 2


def test_a_file_cannot_define_a_model_define_again() -> None:
    _file("a.policy", "define prod(i: instance) = true", "for each instance require prod(this)")
    with pytest.raises(DiagnosticError) as info:
        load([Path("a.policy")])
    assert [d.code for d in info.value.diagnostics] == ["PE108"]
