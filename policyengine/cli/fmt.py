"""`policyengine fmt`: policies and models rewritten in the one canonical layout."""

import difflib
from pathlib import Path
from typing import Annotated

import typer

from policyengine.cli import console
from policyengine.cli.app import ExitCode, app
from policyengine.cli.failure import fail, plural, write_or_exit
from policyengine.cli.options import Color, ColorOpt
from policyengine.core.diagnostics import DiagnosticError, render_text
from policyengine.core.errors import UsageError
from policyengine.core.source import Source
from policyengine.frontend.loader import read_source
from policyengine.inputs.files import read_stdin
from policyengine.pipeline import engine


@app.command()
def fmt(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH...",
            allow_dash=True,
            show_default=False,
            help="Policy and model files or folders; '-' formats stdin to stdout.",
        ),
    ],
    check_only: Annotated[
        bool,
        typer.Option(
            "--check", help="Change nothing; print a diff of each file that would change."
        ),
    ] = False,
    color: ColorOpt = Color.AUTO,
) -> None:
    """Rewrite policies and models in the one canonical layout, keeping comments.

    Exit 0 when done (or, with --check, when every file is formatted); 1 with --check when
    a file is not; 3 when a file does not parse (it is left as it is).
    """
    from policyengine.frontend.formatter import format_source

    console.use(color)
    if [str(p) for p in paths] == ["-"]:
        source = Source("<stdin>", read_stdin())
        try:
            typer.echo(format_source(source), nl=False)
        except DiagnosticError as exc:
            fail(exc, False)
        raise typer.Exit(ExitCode.OK)
    try:
        files = engine.source_paths(paths)
    except UsageError as exc:
        fail(exc, False)
    changed, broken = [], []
    for path in files:
        source = read_source(path, str(path))
        try:
            formatted = format_source(source)
        except DiagnosticError as exc:
            broken.extend(exc.diagnostics)
            continue
        if formatted == source.text:
            continue
        changed.append(path)
        if check_only:
            diff = difflib.unified_diff(
                source.text.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                f"{path}",
                f"{path} (formatted)",
            )
            console.show("".join(diff), console.DIFF, end="")
        else:
            write_or_exit(path, formatted)
    for diag in broken:
        console.say(render_text(diag) + "\n")
    for path in changed:
        console.say(f"{'would reformat' if check_only else 'reformatted'} {path}")
    unchanged = len(files) - len(changed) - len(broken)
    verb = "would be reformatted" if check_only else "reformatted"
    console.say(
        f"{plural(len(changed), 'file')} {verb}, {unchanged} already formatted"
        + (f", {len(broken)} not parsed" if broken else "")
    )
    if broken:
        raise typer.Exit(ExitCode.INVALID)
    raise typer.Exit(ExitCode.VIOLATIONS if check_only and changed else ExitCode.OK)
