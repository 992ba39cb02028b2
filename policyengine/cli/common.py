"""What several commands do alike with their options before they call the library."""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime

import typer

from policyengine.cli.options import Color, PolicyOptions
from policyengine.core.errors import UsageError
from policyengine.frontend.loader import Loaded
from policyengine.inputs import importers
from policyengine.pipeline import engine


def today(given: str | None) -> date:
    if given is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(given)
    except ValueError:
        raise UsageError(f"--today takes a date as YYYY-MM-DD, not `{given}`") from None


def load_policies(policies: PolicyOptions) -> Loaded:
    return engine.load_policies(policies.paths, policies.params, policies.params_file)


def say_read(verbose: bool) -> engine.OnRead | None:
    """With --verbose, how each input was read, on stderr."""
    if not verbose:
        return None

    def say(read: importers.Read) -> None:
        typer.echo(f"{read.detected}\n  {read.converted.summary}", err=True)

    return say


def use_color(choice: Color) -> bool:
    if choice is Color.ALWAYS:
        return True
    if choice is Color.NEVER or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()
