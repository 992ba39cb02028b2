"""`policyengine docs`: one Markdown page per policy file."""

from pathlib import Path
from typing import Annotated

import typer

from policyengine.cli.app import ExitCode, app
from policyengine.cli.failure import fail, write_or_exit
from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.errors import UsageError
from policyengine.pipeline import engine


@app.command()
def docs(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH...",
            show_default=False,
            help="Policy files or folders. Default: every bundled pack.",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="FOLDER", help="Folder to write one Markdown page per file to."
        ),
    ] = Path("docs/policies"),
) -> None:
    """Write Markdown documentation of policies: every rule, what it reads, how to fix it.

    Exit 0 when written; 3 when a policy does not parse or check.
    """
    try:
        # Every bundled pack is documented, those a run reads only when named too.
        policies = engine.load_policies(engine.policy_paths(paths, opt_in=True))
    except (DiagnosticError, UsageError) as exc:
        fail(exc, False)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        typer.echo(f"error: cannot write {out}: {exc.strerror or exc}", err=True)
        raise typer.Exit(ExitCode.USAGE) from None
    from policyengine.outputs.docs import render_docs

    for name, text in render_docs(policies).items():
        write_or_exit(out / name, text)
        typer.echo(f"wrote {out / name}", err=True)
