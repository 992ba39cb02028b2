"""`policyengine explain`: outcomes traced to the policy line and the values read, or,
without a snapshot, what a rule checks."""

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
    FailOnErrorOpt,
    FailOnOpt,
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
from policyengine.pipeline.config import FailOn
from policyengine.results.gate import Gate, Verdict


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
    fail_on: FailOnOpt = FailOn.LOW,
    fail_on_error: FailOnErrorOpt = True,
) -> None:
    """Explain outcomes: the policy line, each value read and where it came from.

    Explains every fail and error (of --rule, when given). With --resource, explains
    every outcome of that resource, passes and skips included. A finding a waiver covers
    is shown with the waiver. Exit as `evaluate` would on the outcomes explained: 1 when
    one fails the run (mandatory, at or above --fail-on, not waived), 3 when no rule
    applied to any resource. Without a snapshot, --rule says what the rule checks.
    """
    console.use(color)
    policies = PolicyOptions(policy, param or (), params_file)
    inputs = InputOptions(input_format, region, verbose, now, tf_dir)
    # Imported by the command that uses them: other commands start without them.
    from policyengine.pipeline import verdicts
    from policyengine.results import explanations

    json_out = fmt is ExplainFormat.JSON
    try:
        loaded = common.load_policies(policies)
        if snapshot is None:
            _describe(loaded, rule, resource, fmt)
        day = common.today(today)
        accepted = engine.read_waivers(engine.waiver_files(waivers, policies.paths))
        reading = inputs.reading()
        store = engine.read_snapshot(snapshot, loaded, reading, common.say_read(verbose))
        explained = verdicts.explained(
            loaded, store, rule=rule, resource=resource, waivers=accepted, today=day
        )
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, json_out)
    found = explained.explanations
    if fmt is ExplainFormat.HTML:
        from policyengine.outputs import html as html_page

        console.document(html_page.render_explained([e.finding() for e in found]))
    elif json_out:
        console.document(json.dumps(explanations.to_json(found), indent=2, ensure_ascii=False))
    else:
        markdown = fmt is ExplainFormat.MARKDOWN
        text = explanations.render_text(found, rule=rule, markdown=markdown)
        console.show(text, None if markdown else console.DIAGNOSTICS)
    # The gate `evaluate` uses: an advisory finding, or one below --fail-on, is explained
    # and does not fail the run.
    verdict = explained.verdict(Gate.named(fail_on, fail_on_error))
    if verdict is Verdict.NOTHING_EVALUATED:
        console.say("error: no rule applied to any resource; nothing was evaluated")
    raise typer.Exit(verdict.exit_code)


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
        console.document(json.dumps(describe_json(d), indent=2, ensure_ascii=False))
    else:
        if fmt is ExplainFormat.MARKDOWN:
            console.document(describe_markdown(d))
        else:
            console.show(describe_text(d), console.DIAGNOSTICS)
    raise typer.Exit(ExitCode.OK)
