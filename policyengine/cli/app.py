"""The command tree and the exit codes every command shares."""

from __future__ import annotations

import copy
import os
import textwrap
from collections.abc import Sequence
from typing import Annotated

import typer

from policyengine.cli import console
from policyengine.core.version import tool_version
from policyengine.results.gate import ExitCode as ExitCode  # one place for the codes

EXIT_CODES_HELP = (
    "Exit codes: 0 no fail or error outcome of a mandatory rule at or above --fail-on; "
    "1 there is one, or a waiver has expired; 2 usage error (also an output that cannot "
    "be written); 3 invalid input (a policy that does not parse or check, a snapshot, "
    "waivers file or baseline that is not valid), or nothing was evaluated (no rule "
    "applied to any resource); 4 internal error."
)

# Help is click's plain layout: it wraps to the terminal (80 columns too) without cutting
# an option's name, and reads no markup in help texts (`policyengine[dask]` stays).
PLAIN_HELP = None


def _wrap_help_at_spaces_only() -> None:
    """Help lines break between words, never inside `--fail-on` at a hyphen (the wrapper
    of typer's own click breaks on hyphens, and no option turns that off)."""
    try:
        from typer._click import _textwrap
    except ImportError:  # another layout: the help test says whether it still holds
        return
    _textwrap.TextWrapper.wordsep_re = textwrap.TextWrapper.wordsep_simple_re


_wrap_help_at_spaces_only()

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=PLAIN_HELP,
    add_completion=True,  # --install-completion and --show-completion
    pretty_exceptions_enable=False,
    help="Evaluate cloud resource policies over account snapshots, and explain the results. "
    + EXIT_CODES_HELP,
)
waivers_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=PLAIN_HELP,
    help="Work with waivers files: known findings accepted for a while.",
)
app.add_typer(waivers_app, name="waivers")


def _version(value: bool) -> None:
    if value:
        typer.echo(tool_version())
        raise typer.Exit(ExitCode.OK)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Evaluate cloud resource policies over account snapshots, and explain the results."""
    console.reset()  # each run's consoles write to its own stdout and stderr


snapshot_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=PLAIN_HELP,
    help="Convert inputs to the normalized snapshot, count what one holds.",
)
app.add_typer(snapshot_app, name="snapshot")


def for_arguments(args: Sequence[str]) -> typer.Typer:
    """The command tree a command line needs: the named command alone when the line names
    one (click builds every command's options from its signature before running any, a
    sixth of a small run), else the whole tree, which lists, completes and refuses."""
    if not args or args[0].startswith("-") or any(k.endswith("_COMPLETE") for k in os.environ):
        return app
    commands = [c for c in app.registered_commands if _name(c) == args[0]]
    groups = [g for g in app.registered_groups if g.name == args[0]]
    if not commands and not groups:
        return app  # a misspelt command: the whole tree says which ones there are
    alone = copy.copy(app)
    alone.registered_commands, alone.registered_groups = commands, groups
    return alone


def _name(command: typer.models.CommandInfo) -> str | None:
    if command.name is not None:
        return command.name
    return (
        None if command.callback is None else typer.main.get_command_name(command.callback.__name__)
    )
