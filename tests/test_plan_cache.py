"""Compiled policy sets kept between runs: a kept plan is read back only while every file
it was made from says the same and every `use` finds the same model; anything else is
parsed, checked and compiled again, with the diagnostics a first load gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from policyengine.core import plan
from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.errors import UsageError
from policyengine.frontend import loader
from policyengine.frontend.loader import bundled_policies, load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"

MODEL = 'model acme.vm "Machines"\nkind vm id "vm-" + 8 located in region {\n  size: int\n}\n'
POLICY = (
    'use acme.vm\n\npolicy p "P" {\n'
    '  rule r "R" {\n    severity low\n    for each vm require COND\n  }\n}\n'
)


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A policy and its model in a fresh working directory, with a fresh cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    work = tmp_path / "work"
    (work / "acme").mkdir(parents=True)
    (work / "acme" / "vm.model").write_text(MODEL, encoding="utf-8")
    (work / "p.policy").write_text(POLICY.replace("COND", "size > 1"), encoding="utf-8")
    monkeypatch.chdir(work)
    return work


def _forgotten() -> None:
    """As a new process: nothing remembered of earlier loads but what the disk keeps."""
    loader._KEPT._recent.clear()


class _Compiled(Exception):
    pass


def _load_without_compiling(paths: list[Path]) -> loader.Loaded:
    """A load that fails if it parses and checks its files: it must read them back."""
    original = loader.front

    def compiled(*args: object, **kwargs: object) -> object:
        raise _Compiled

    loader.front = compiled  # type: ignore[assignment]
    try:
        return load(paths)
    finally:
        loader.front = original


def _kept(folder: Path) -> list[Path]:
    return sorted((folder / "cache" / "policyengine").glob("plan-*.pickle"))


def test_a_kept_plan_is_the_plan_a_load_compiles(pack: Path) -> None:
    fresh = load(bundled_policies())
    assert len(_kept(pack.parent)) == 1
    _forgotten()
    again = _load_without_compiling(bundled_policies())
    assert again is not fresh  # read back from the disk
    assert plan.dump(again.plan) == plan.dump(fresh.plan)
    assert again.plan.rules == fresh.plan.rules
    assert again.warnings == fresh.warnings
    assert dict(again.policies) == dict(fresh.policies)
    assert load(bundled_policies()) is again  # then remembered in the process


def test_the_command_reads_a_kept_plan_back_and_reports_the_same(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "policyengine", "evaluate", str(EXAMPLE), "--format", "json"]
    runs = [subprocess.run(command, env=env, capture_output=True, cwd=ROOT) for _ in range(2)]
    assert len(list((tmp_path / "policyengine").glob("plan-*.pickle"))) == 1
    assert [r.returncode for r in runs] == [1, 1]
    assert runs[0].stdout == runs[1].stdout and b'"fail"' in runs[0].stdout


@pytest.mark.parametrize("changed", ["policy", "model"])
def test_a_changed_file_is_compiled_again(pack: Path, changed: str) -> None:
    policy = pack / "p.policy"
    before = load([policy]).plan
    if changed == "policy":
        policy.write_text(POLICY.replace("COND", "size > 2"), encoding="utf-8")
    else:
        model = pack / "acme" / "vm.model"
        model.write_text(MODEL.replace("size: int", "size: int\n  name: string"), encoding="utf-8")
    _forgotten()
    after = load([policy]).plan
    assert (after.rules, after.model) != (before.rules, before.model)
    assert len(_kept(pack.parent)) == 1  # the entry of these paths, replaced
    _forgotten()
    again = _load_without_compiling([policy]).plan
    assert (again.rules, again.model) == (after.rules, after.model)


def test_a_model_found_elsewhere_now_is_compiled_again(pack: Path) -> None:
    """The same text in a model file placed nearer the policy than the one it used."""
    (pack / "sub" / "acme").mkdir(parents=True)
    policy = pack / "sub" / "p.policy"
    policy.write_text(POLICY.replace("COND", "size > 1"), encoding="utf-8")
    load([policy])
    _forgotten()
    _load_without_compiling([policy])  # kept
    (pack / "sub" / "acme" / "vm.model").write_text(MODEL, encoding="utf-8")
    _forgotten()
    with pytest.raises(_Compiled):
        _load_without_compiling([policy])
    assert load([policy]).plan.rules[0].id == "p.r"


def test_an_unchanged_set_is_read_back_without_parsing_or_checking(pack: Path) -> None:
    policy = pack / "p.policy"
    made = load([policy])
    _forgotten()
    assert plan.dump(_load_without_compiling([policy]).plan) == plan.dump(made.plan)


def test_a_model_that_may_no_longer_be_read_is_refused_again(
    pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same text under the same name, now a link out of the folders a model may be
    read from: refused, as on a first load."""
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the files are shown by their full names
    policy = pack / "p.policy"
    load([policy])
    outside = tmp_path / "outside.model"
    outside.write_text(MODEL, encoding="utf-8")
    (pack / "acme" / "vm.model").unlink()
    (pack / "acme" / "vm.model").symlink_to(outside)
    _forgotten()
    with pytest.raises(DiagnosticError, match="refused"):
        load([policy])


def test_a_policy_set_with_errors_is_not_kept(pack: Path) -> None:
    policy = pack / "p.policy"
    policy.write_text(POLICY.replace("COND", "sizes > 1"), encoding="utf-8")
    for _ in range(2):
        _forgotten()
        with pytest.raises(DiagnosticError, match="sizes"):
            load([policy])
    assert _kept(pack.parent) == []


def test_params_and_working_folder_name_their_own_plans(
    pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = pack / "p.policy"
    policy.write_text(
        POLICY.replace("COND", "size > least").replace(
            '"P" {\n', '"P" {\n  param least: int = 1\n'
        ),
        encoding="utf-8",
    )
    default = load([policy]).plan.rules[0]
    given = load([policy], ["least=5"]).plan.rules[0]
    assert given != default
    monkeypatch.chdir(pack / "acme")  # the policy is now shown as ../p.policy
    elsewhere = load([policy])
    assert len(_kept(pack.parent)) == 3
    _forgotten()
    assert load([policy]).plan.rules == elsewhere.plan.rules
    with pytest.raises(UsageError):
        load([policy], ["least=x"])


def test_a_damaged_entry_is_compiled_again_and_replaced(pack: Path) -> None:
    policy = pack / "p.policy"
    made = load([policy])
    [entry] = _kept(pack.parent)
    for damage in (b"", b"not a pickle", entry.read_bytes()[:100]):
        entry.write_bytes(damage)
        _forgotten()
        assert plan.dump(load([policy]).plan) == plan.dump(made.plan)
        assert entry.read_bytes() != damage
