"""`policyengine snapshot convert|stats`: inputs as the normalized snapshot, and counts."""

import json
from collections.abc import Sequence
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from policyengine.cli import common, console
from policyengine.cli.app import snapshot_app
from policyengine.cli.failure import fail, write_or_exit
from policyengine.cli.options import (
    InputArg,
    InputFormatOpt,
    InputOptions,
    PolicyOpt,
    RegionOpt,
    VerboseOpt,
)
from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.errors import InputError, UsageError
from policyengine.frontend.loader import Loaded
from policyengine.inputs import importers
from policyengine.inputs.store import Store
from policyengine.outputs import Format
from policyengine.pipeline import engine
from policyengine.results import report as reports


def _read_checked(
    source: Path, policy: Sequence[Path] | None, inputs: InputOptions, loaded: Loaded | None = None
) -> tuple[importers.Read, Store]:
    """An input, converted and checked against the model of the policies (default: the
    bundled packs)."""
    loaded = loaded or engine.load_policies(policy)
    read = engine.read_input(
        source, loaded, inputs.reading(), on_read=common.say_read(inputs.verbose)
    )
    document = json.loads(json.dumps(read.converted.document, default=_marker))
    snapshot = importers.parse_document(document, read.snapshot.file)
    return read, importers.to_store(snapshot, loaded.plan.model)


def _marker(value: object) -> object:
    if isinstance(value, importers.UnknownValue):
        return value.to_json()
    raise TypeError(type(value).__name__)


@snapshot_app.command("convert")
def snapshot_convert(
    source: InputArg,
    policy: PolicyOpt = None,
    input_format: InputFormatOpt = importers.AUTO,
    region: RegionOpt = None,
    verbose: VerboseOpt = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", show_default=False, help="Write here, not to stdout."
        ),
    ] = None,
) -> None:
    """Convert an input to the normalized snapshot, so it can be stored and diffed."""
    try:
        read, _ = _read_checked(source, policy, InputOptions(input_format, region, verbose))
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, False)
    text = json.dumps(read.converted.document, indent=2, ensure_ascii=False, default=_marker)
    if output is None:
        console.document(text)
    else:
        write_or_exit(output, text + "\n")


@snapshot_app.command("stats")
def snapshot_stats(
    source: InputArg,
    policy: PolicyOpt = None,
    input_format: InputFormatOpt = importers.AUTO,
    region: RegionOpt = None,
    verbose: VerboseOpt = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.TEXT,
) -> None:
    """Count resources by kind and region, references to nothing, and unknown values."""
    try:
        _, store = _read_checked(source, policy, InputOptions(input_format, region, verbose))
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, fmt is Format.JSON)
    from policyengine.inputs import stats

    counted = stats.count(store)
    if fmt is Format.JSON:
        console.document(
            json.dumps({"version": reports.REPORT_VERSION, **asdict(counted)}, indent=2)
        )
    else:
        console.document(stats.render_text(counted))


class GraphFormat(StrEnum):
    HTML = "html"
    SVG = "svg"


@snapshot_app.command("graph")
def snapshot_graph(
    source: InputArg,
    policy: PolicyOpt = None,
    input_format: InputFormatOpt = importers.AUTO,
    region: RegionOpt = None,
    verbose: VerboseOpt = False,
    fmt: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="A page to filter, or the picture alone.")
    ] = GraphFormat.HTML,
) -> None:
    """Draw the account: its resources by region and zone, with the relations of the
    model, each resource marked with its worst outcome under the policies."""
    try:
        loaded = engine.load_policies(policy)
        inputs = InputOptions(input_format, region, verbose)
        _, store = _read_checked(source, policy, inputs, loaded)
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, False)
    from policyengine.outputs import html as html_page
    from policyengine.outputs import picture
    from policyengine.runtime import evaluate

    drawn = picture.of_account(store, picture.worst_outcomes(evaluate(loaded.plan, store)))
    console.document(
        picture.svg(drawn, "account", standalone=True)
        if fmt is GraphFormat.SVG
        else html_page.render_account(drawn)
    )
