"""`policyengine waivers check`: waivers files, their form and their dates."""

from pathlib import Path
from typing import Annotated

import typer

from policyengine.cli import common, console
from policyengine.cli.app import ExitCode, waivers_app
from policyengine.cli.failure import fail, plural
from policyengine.cli.options import Color, ColorOpt, TodayOpt
from policyengine.core.diagnostics import render_text
from policyengine.core.errors import InputError, UsageError, WaiversError
from policyengine.pipeline import engine
from policyengine.results.waivers import expired_diagnostic


@waivers_app.command("check")
def waivers_check(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE...", show_default=False, help="Waivers files.")
    ],
    today: TodayOpt = None,
    color: ColorOpt = Color.AUTO,
) -> None:
    """Check waivers files: their form (exit 3 with each problem's place) and their dates
    (exit 1 when a waiver has expired)."""
    console.use(color)
    try:
        day = common.today(today)
        accepted = engine.read_waivers(files)
    except WaiversError as exc:
        diags = exc.diagnostics
        console.say("\n\n".join(render_text(d) for d in diags))
        console.say(
            f"\nerror: {plural(len(diags), 'problem')} in " + ", ".join(str(f) for f in files)
        )
        raise typer.Exit(ExitCode.INVALID) from None
    except (InputError, UsageError) as exc:
        fail(exc, False)
    expired = [w for w in accepted if w.expired(day)]
    for w in expired:
        console.say(render_text(expired_diagnostic(w)) + "\n")
    console.show(
        f"{plural(len(accepted), 'waiver')} in {plural(len(files), 'file')}"
        f": {len(expired)} expired as of {day.isoformat()}"
    )
    raise typer.Exit(ExitCode.VIOLATIONS if expired else ExitCode.OK)
