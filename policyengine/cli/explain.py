"""`policyengine explain`: outcomes traced to the policy line and the values read, or,
without a snapshot, what a rule checks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated, NoReturn

import typer

from policyengine.cli import common
from policyengine.cli.app import ExitCode, app
from policyengine.cli.failure import fail
from policyengine.cli.options import (
    InputFormatOpt,
    InputOptions,
    NowOpt,
    OptionalSnapshotArg,
    ParamOpt,
    ParamsFileOpt,
    PolicyOpt,
    PolicyOptions,
    RegionOpt,
    TodayOpt,
    VerboseOpt,
    WaiverOptions,
    WaiversOpt,
)
from policyengine.core.diagnostics import DiagnosticError, did_you_mean
from policyengine.core.errors import InputError, UsageError
from policyengine.frontend.describe import describe_rule
from policyengine.frontend.describe import render_markdown as describe_markdown
from policyengine.frontend.describe import render_text as describe_text
from policyengine.frontend.describe import to_json as describe_json
from policyengine.frontend.loader import Loaded
from policyengine.inputs import importers
from policyengine.inputs.store import Store
from policyengine.outputs import html as html_page
from policyengine.results import report as reports
from policyengine.results.explain import (
    fingerprint,
    proof_to_json,
    render_proof_markdown,
    render_proof_text,
)
from policyengine.results.report import Finding
from policyengine.results.waivers import Waiver
from policyengine.runtime import Proof, Result, Status, evaluate, trace


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
        str | None, typer.Option("--rule", help="Rule id (POLICY.RULE or RULE) to explain.")
    ] = None,
    resource: Annotated[
        str | None, typer.Option("--resource", help="Resource id or name to explain.")
    ] = None,
    fmt: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExplainFormat.TEXT,
    input_format: InputFormatOpt = importers.AUTO,
    region: RegionOpt = None,
    verbose: VerboseOpt = False,
    waivers: WaiversOpt = None,
    today: TodayOpt = None,
) -> None:
    """Explain outcomes: the policy line, each value read and where it came from.

    Explains every fail and error (of --rule, when given). With --resource, explains
    every outcome of that resource, passes and skips included. A finding a waiver covers
    is shown with the waiver. Exit 1 when an explained outcome is a fail or an error that
    no waiver covers. Without a snapshot, --rule says what the rule checks.
    """
    policies = PolicyOptions(policy, param or (), params_file)
    inputs = InputOptions(input_format, region, verbose, now)
    json_out = fmt is ExplainFormat.JSON
    try:
        loaded = common.load_policies(policies)
        if snapshot is None:
            _describe(loaded, rule, resource, fmt)
        waived_by = WaiverOptions(waivers, today)
        day = common.today(waived_by.today)
        files = common.waiver_files(waived_by.file, policies.paths)
        accepted = [w for w in common.read_waivers(files) if not w.expired(day)]
        store = common.read_snapshot(snapshot, loaded, inputs.reading())
        results = _select(evaluate(loaded.plan, store), loaded, store, rule, resource)
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, json_out)
    proofs = [trace(store, r) for r in results]
    waived = {id(p): _waiver_of(p, accepted) for p in proofs}
    if fmt is ExplainFormat.HTML:
        explained = [Finding(p.result, p, fingerprint(p), waived[id(p)]) for p in proofs]
        typer.echo(html_page.render_explained(explained))
    elif json_out:
        docs = []
        for p in proofs:
            doc = proof_to_json(p)
            w = waived[id(p)]
            doc["waiver"] = None if w is None else w.to_json()
            docs.append(doc)
        typer.echo(
            json.dumps(
                {"version": reports.REPORT_VERSION, "explanations": docs},
                indent=2,
                ensure_ascii=False,
            )
        )
    elif not proofs:
        scope = f" `{rule}`" if rule else ""
        typer.echo(f"nothing to explain: no rule{scope} fails or errors on this snapshot")
    else:
        render = render_proof_markdown if fmt is ExplainFormat.MARKDOWN else render_proof_text
        shown = []
        for p in proofs:
            w = waived[id(p)]
            note = "" if w is None else f"\n   = {w.note()} ({w.place}): it does not fail the run"
            shown.append(render(p) + note)
        typer.echo("\n\n".join(shown))
    failing = any(
        r.status in (Status.FAIL, Status.ERROR) and waived[id(p)] is None
        for r, p in zip(results, proofs, strict=True)
    )
    raise typer.Exit(ExitCode.VIOLATIONS if failing else ExitCode.OK)


def _waiver_of(proof: Proof, waivers: Sequence[Waiver]) -> Waiver | None:
    """The live waiver that covers a fail or error, as `evaluate` would apply it."""
    result = proof.result
    if result.status not in (Status.FAIL, Status.ERROR) or not waivers:
        return None
    print_ = fingerprint(proof)
    return next((w for w in waivers if w.covers(result.rule.id, result.resource.key, print_)), None)


def _describe(
    loaded: Loaded, rule: str | None, resource: str | None, fmt: ExplainFormat
) -> NoReturn:
    if rule is None or resource is not None:
        raise UsageError("explain needs a SNAPSHOT, or --rule alone to describe a rule")
    d = describe_rule(common.find_rule(loaded, rule))
    if fmt is ExplainFormat.JSON:
        typer.echo(json.dumps(describe_json(d), indent=2, ensure_ascii=False))
    else:
        typer.echo(describe_markdown(d) if fmt is ExplainFormat.MARKDOWN else describe_text(d))
    raise typer.Exit(ExitCode.OK)


def _select(
    results: list[Result], loaded: Loaded, store: Store, rule: str | None, resource: str | None
) -> list[Result]:
    if rule is not None:
        wanted = common.find_rule(loaded, rule).id
        results = [r for r in results if r.rule.id == wanted]
    if resource is not None:
        keys = [r.key for r in store.resources]
        if resource not in keys:
            hint = did_you_mean(resource, keys)
            raise UsageError(
                f"no resource `{resource}` in the snapshot" + (f"; {hint}" if hint else "")
            )
        results = [
            r
            for r in results
            if r.resource.key == resource or (r.target is not None and r.target.key == resource)
        ]
    if resource is None:  # asked about a resource, its passes are explained too
        results = [r for r in results if r.status in (Status.FAIL, Status.ERROR)]
    return results
