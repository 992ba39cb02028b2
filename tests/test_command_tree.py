"""A command line that names a command runs on a tree holding that command alone (click
builds every command's options before it runs one); it must behave exactly as the
whole tree does, and anything else must get the whole tree."""

from __future__ import annotations

import os

import pytest
import typer.main
from typer.testing import CliRunner

from policyengine.cli.app import app, for_arguments

WHOLE = typer.main.get_command(app)
NAMES = sorted(WHOLE.commands)  # type: ignore[attr-defined]


def _run(tree: typer.Typer, args: list[str]) -> tuple[int, str]:
    os.environ["NO_COLOR"] = "1"
    result = CliRunner().invoke(tree, args)
    return result.exit_code, result.output


def test_every_command_and_group_is_found_alone() -> None:
    assert {"evaluate", "explain", "snapshot", "waivers", "schema"} <= set(NAMES)
    for name in NAMES:
        alone = for_arguments([name])
        assert alone is not app
        assert sorted(typer.main.get_command(alone).commands) == [name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", NAMES)
def test_a_command_alone_helps_and_refuses_as_in_the_whole_tree(name: str) -> None:
    for args in ([name, "--help"], [name, "--no-such-option"]):
        assert _run(for_arguments(args), args) == _run(app, args)


@pytest.mark.parametrize(
    "args", [[], ["--help"], ["--version"], ["evaluat"], ["--version", "evaluate"]]
)
def test_a_line_naming_no_command_gets_the_whole_tree(args: list[str]) -> None:
    assert for_arguments(args) is app


def test_shell_completion_gets_the_whole_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_POLICYENGINE_COMPLETE", "bash_complete")
    assert for_arguments(["evaluate"]) is app
