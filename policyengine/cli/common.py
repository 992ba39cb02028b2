"""What several commands do alike: find policies and waivers, read inputs and dates."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import typer

from policyengine.cli.options import Color, PolicyOptions
from policyengine.core import files, limits
from policyengine.core.diagnostics import DiagnosticError, did_you_mean
from policyengine.core.errors import InputError, Problem, UsageError, WaiversError
from policyengine.core.files import Confinement
from policyengine.core.plan import RulePlan
from policyengine.core.source import Source
from policyengine.frontend.loader import Loaded, bundled_policies, bundled_root, find_files, load
from policyengine.inputs import importers
from policyengine.inputs.snapshot import read_input as read_input_text
from policyengine.inputs.store import Store
from policyengine.pipeline.jobs import Reading
from policyengine.results.waivers import DEFAULT_NAMES, Waiver, parse_waivers


def today(given: str | None) -> date:
    if given is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(given)
    except ValueError:
        raise UsageError(f"--today takes a date as YYYY-MM-DD, not `{given}`") from None


def read_text(path: Path, what: str, confine: Confinement | None = None) -> str:
    """A file the command reads besides policies and snapshots. `confine` None: the user
    named it; otherwise it was found, and must resolve inside `confine`."""
    try:
        return files.read_text(path, limits.current().input_bytes, confine)
    except FileNotFoundError:
        raise UsageError(f"no such {what}: {path}") from None
    except files.Refused as exc:
        raise InputError([Problem(str(path), "", f"refused: {exc.reason}")]) from None
    except files.TooLarge as exc:
        raise InputError(
            [Problem(str(path), "", f"the file is larger than {limits.size(exc.limit)}")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), "", f"cannot be read: {exc}")]) from None


def read_stdin() -> str:
    """stdin, read in chunks up to the input limit."""
    return read_input_text(None, "<stdin>")


def waiver_files(
    given: Path | None, policies: Sequence[Path] | None
) -> list[tuple[Path, Confinement | None]]:
    """`--waivers FILE`, else the first of waivers.yaml, waivers.yml, waivers.json in
    each policy folder given with --policy (which must stay inside that folder: a
    committed symlink to another file is refused)."""
    if given is not None:
        return [(given, None)]
    found: list[tuple[Path, Confinement | None]] = []
    for folder in policies or ():
        if folder.is_dir():
            for n in DEFAULT_NAMES:
                if (folder / n).exists():
                    found.append((folder / n, Confinement.of([folder])))
                    break
    return found


def read_waivers(files_: Sequence[tuple[Path, Confinement | None]]) -> list[Waiver]:
    waivers: list[Waiver] = []
    diags = []
    for path, confine in files_:
        try:
            text = read_text(path, "waivers file", confine)
            waivers.extend(parse_waivers(Source(str(path), text)))
        except DiagnosticError as exc:
            diags.extend(exc.diagnostics)
    if diags:
        raise WaiversError(diags)
    return waivers


def policy_paths(given: Sequence[Path] | None) -> list[Path]:
    return find_files(given, (".policy",), "policy file") if given else bundled_policies()


def source_paths(given: Sequence[Path] | None, suffixes: tuple[str, ...]) -> list[Path]:
    """Files named, and the files with these suffixes under folders named, in order."""
    return find_files(given or [bundled_root()], suffixes, "file")


def load_policies(policies: PolicyOptions) -> Loaded:
    return load(policy_paths(policies.paths), policies.params, policies.params_file)


def read_input(path: Path, loaded: Loaded, reading: Reading) -> importers.Read:
    read = importers.read(
        path, reading.format, loaded.plan.model, importers.Options(reading.region)
    )
    if reading.verbose:
        typer.echo(f"{read.detected}\n  {read.converted.summary}", err=True)
    return read


def read_snapshot(path: Path, loaded: Loaded, reading: Reading = Reading()) -> Store:
    read = read_input(path, loaded, reading)
    return importers.to_store(read.snapshot, loaded.plan.model, reading.now)


def read_snapshots(
    paths: Sequence[Path], loaded: Loaded, reading: Reading = Reading()
) -> list[Store]:
    """Every snapshot, with the problems of all of them reported together."""
    stores, problems = [], []
    for path in paths:
        try:
            stores.append(read_snapshot(path, loaded, reading))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    # Loaded data holds no cycles and lives until the end: keep the cyclic collector from
    # walking it again and again while results are made (measured: a third of the time
    # on a 20,000-instance account).
    gc.freeze()
    return stores


def find_rule(loaded: Loaded, rule: str) -> RulePlan:
    ids = {r.id: r for r in loaded.plan.rules}
    names = {r.name: r for r in loaded.plan.rules}
    found = ids.get(rule) or names.get(rule)
    if found is None:
        hint = did_you_mean(rule, [*ids, *names])
        raise UsageError(f"no rule `{rule}`" + (f"; {hint}" if hint else ""))
    return found


def use_color(choice: Color) -> bool:
    if choice is Color.ALWAYS:
        return True
    if choice is Color.NEVER or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()
