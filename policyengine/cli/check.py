"""`policyengine check`: policies and models parsed and checked, without a snapshot."""

import json
from enum import StrEnum
from typing import Annotated

import typer

from policyengine.cli import console
from policyengine.cli.app import ExitCode, app
from policyengine.cli.failure import fail, plural
from policyengine.cli.options import Color, ColorOpt, ParamOpt, PathsArg
from policyengine.core.diagnostics import Diagnostic, render_text, to_json
from policyengine.core.errors import UsageError
from policyengine.pipeline import engine
from policyengine.results import report as reports


class CheckFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


@app.command()
def check(
    paths: PathsArg = None,
    param: ParamOpt = None,
    fmt: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CheckFormat.TEXT,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings.")] = False,
    cost: Annotated[
        bool, typer.Option("--cost", help="Say how each rule evaluates: its lookups and scans.")
    ] = False,
    color: ColorOpt = Color.AUTO,
) -> None:
    """Parse and check policies and models without a snapshot: every error and warning.

    Exit 0 when clean; 1 with --strict when there are warnings; 3 when there are errors.
    """
    console.use(color)
    try:
        checked = engine.check(paths, param or (), cost=cost)
    except UsageError as exc:
        fail(exc, fmt is not CheckFormat.TEXT)
    files, diags, rule_costs = checked.files, checked.diagnostics, checked.costs
    errors, warnings = checked.errors, checked.warnings
    if fmt is CheckFormat.SARIF:
        from policyengine.outputs import sarif

        console.document(json.dumps(sarif.diagnostics_log(diags), indent=2, ensure_ascii=False))
    elif fmt is CheckFormat.JSON:
        doc = {
            "version": reports.REPORT_VERSION,
            "files": [str(p) for p in files],
            "summary": {"errors": len(errors), "warnings": len(warnings)},
            "diagnostics": [to_json(d) for d in diags],
        }
        if cost:
            doc["cost"] = [c.to_json() for c in rule_costs]
        console.document(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        console.show(_check_text(diags, len(files), errors, warnings), console.DIAGNOSTICS)
        if rule_costs:
            from policyengine.frontend import cost as costs

            console.show("\n" + costs.render_text(rule_costs), console.DIAGNOSTICS)
        elif cost:
            console.say("\nno cost report: the policies have errors")
    if errors:
        raise typer.Exit(ExitCode.INVALID)
    raise typer.Exit(ExitCode.VIOLATIONS if strict and warnings else ExitCode.OK)


def _check_text(
    diags: list[Diagnostic], files: int, errors: list[Diagnostic], warnings: list[Diagnostic]
) -> str:
    parts = [render_text(d) + "\n" for d in diags]
    parts.append(
        f"checked {plural(files, 'file')}: {plural(len(errors), 'error')}, "
        f"{plural(len(warnings), 'warning')}"
    )
    return "\n".join(parts)
