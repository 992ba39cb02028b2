"""Every command's --help at 80 columns: nothing cut, no markup eaten, usage readable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from syrupy.assertion import SnapshotAssertion
from typer.testing import CliRunner

from policyengine.cli import app


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def _help(path: tuple[str, ...]) -> str:
    # click reads the width from COLUMNS, as in a terminal of 80 columns.
    result = CliRunner().invoke(
        app, [*path, "--help"], env={"COLUMNS": "80"}, prog_name="policyengine"
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "policyengine" for p, _ in COMMANDS]
)
def test_help_fits_80_columns_and_names_every_option_whole(
    path: tuple[str, ...], command: Any
) -> None:
    text = _help(path)
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    assert "…" not in text
    broken = [line for line in text.splitlines() if re.search(r"\w-$", line)]
    assert not broken, broken  # no `--fail-` at a line's end, `on` on the next
    assert "[[" not in text and "]]" not in text  # no `[[PATH]...]...`
    for param in command.params:
        for name in [*param.opts, *param.secondary_opts]:
            if name.startswith("-"):
                assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), name
    if path:
        assert f"Usage: policyengine {' '.join(path)} " in text


def test_brackets_in_help_texts_are_kept() -> None:
    """Help is not read as markup: the extra's name stays whole."""
    assert "needs policyengine[dask])." in " ".join(_help(("evaluate",)).split())


def test_evaluate_help(text_snapshot: SnapshotAssertion) -> None:
    assert _help(("evaluate",)) == text_snapshot


def test_typer_and_rich_are_pinned_to_the_versions_tested() -> None:
    """The help layout above is typer's and the colour is rich's: each is pinned to a
    range with an upper bound, and the versions these tests run on are inside it."""
    import tomllib
    from importlib.metadata import version

    from conftest import ROOT
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = {r.name: r for r in map(Requirement, project["dependencies"])}
    for name in ("typer", "rich"):
        spec = pinned[name].specifier
        assert any(s.operator == "<" for s in spec), f"{name} has no upper bound"
        assert spec.contains(version(name)), f"{name} {version(name)} is outside {spec}"
