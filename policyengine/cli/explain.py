"""`policyengine explain`: outcomes traced to the policy line and the values read, or,
without a snapshot, what a rule checks."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, NoReturn

import typer

from policyengine.cli import common, console
from policyengine.cli.app import ExitCode, app
from policyengine.cli.failure import fail
from policyengine.cli.options import (
    Color,
    ColorOpt,
    InputFormatOpt,
    InputOptions,
    NowOpt,
    OptionalSnapshotArg,
    ParamOpt,
    ParamsFileOpt,
    PolicyOpt,
    PolicyOptions,
    RegionOpt,
    TfDirOpt,
    TodayOpt,
    VerboseOpt,
    WaiversOpt,
)
from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.errors import InputError, UsageError
from policyengine.frontend.loader import Loaded
from policyengine.inputs import importers
from policyengine.pipeline import engine
from policyengine.results import explanations


class ExplainFormat(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"
    HTML = "html"


@app.command()
def explain(
    snapshot: OptionalSnapshotArg = None,
    policy: PolicyOpt = None,
    param: ParamOpt = None,
    params_file: ParamsFileOpt = None,
    now: NowOpt = None,
    rule: Annotated[
        str | None,
        typer.Option("--rule", metavar="RULE", help="Rule id (POLICY.RULE or RULE) to explain."),
    ] = None,
    resource: Annotated[
        str | None,
        typer.Option("--resource", metavar="RESOURCE", help="Resource id or name to explain."),
    ] = None,
    fmt: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExplainFormat.TEXT,
    input_format: InputFormatOpt = importers.AUTO,
    region: RegionOpt = None,
    tf_dir: TfDirOpt = None,
    verbose: VerboseOpt = False,
    waivers: WaiversOpt = None,
    today: TodayOpt = None,
    color: ColorOpt = Color.AUTO,
) -> None:
    """Explain outcomes: the policy line, each value read and where it came from.

    Explains every fail and error (of --rule, when given). With --resource, explains
    every outcome of that resource, passes and skips included. A finding a waiver covers
    is shown with the waiver. Exit 1 when an explained outcome is a fail or an error that
    no waiver covers. Without a snapshot, --rule says what the rule checks.
    """
    console.use(color)
    policies = PolicyOptions(policy, param or (), params_file)
    inputs = InputOptions(input_format, region, verbose, now, tf_dir)
    json_out = fmt is ExplainFormat.JSON
    try:
        loaded = common.load_policies(policies)
        if snapshot is None:
            _describe(loaded, rule, resource, fmt)
        day = common.today(today)
        accepted = engine.read_waivers(engine.waiver_files(waivers, policies.paths))
        reading = inputs.reading()
        store = engine.read_snapshot(snapshot, loaded, reading, common.say_read(verbose))
        found = engine.explain(
            loaded, store, rule=rule, resource=resource, waivers=accepted, today=day
        )
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, json_out)
    if fmt is ExplainFormat.HTML:
        from policyengine.outputs import html as html_page

        typer.echo(html_page.render_explained([e.finding() for e in found]))
    elif json_out:
        typer.echo(json.dumps(explanations.to_json(found), indent=2, ensure_ascii=False))
    else:
        markdown = fmt is ExplainFormat.MARKDOWN
        text = explanations.render_text(found, rule=rule, markdown=markdown)
        console.show(text, None if markdown else console.DIAGNOSTICS)
    failing = any(e.failing() for e in found)
    raise typer.Exit(ExitCode.VIOLATIONS if failing else ExitCode.OK)


def _describe(
    loaded: Loaded, rule: str | None, resource: str | None, fmt: ExplainFormat
) -> NoReturn:
    if rule is None or resource is not None:
        raise UsageError("explain needs a SNAPSHOT, or --rule alone to describe a rule")
    d = engine.describe(loaded, rule)
    from policyengine.frontend.describe import render_markdown as describe_markdown
    from policyengine.frontend.describe import render_text as describe_text
    from policyengine.frontend.describe import to_json as describe_json

    if fmt is ExplainFormat.JSON:
        typer.echo(json.dumps(describe_json(d), indent=2, ensure_ascii=False))
    else:
        if fmt is ExplainFormat.MARKDOWN:
            typer.echo(describe_markdown(d))
        else:
            console.show(describe_text(d), console.DIAGNOSTICS)
    raise typer.Exit(ExitCode.OK)
