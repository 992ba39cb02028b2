"""What several commands do alike with their options before they call the library."""

from __future__ import annotations

from datetime import UTC, date, datetime

from policyengine.cli import console
from policyengine.cli.options import PolicyOptions
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
        console.say(f"{read.detected}\n  {read.converted.summary}")

    return say
