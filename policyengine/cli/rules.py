"""`policyengine rules`: every loaded rule, or the ones a selection keeps."""

import json
from dataclasses import replace
from typing import Annotated

import typer

from policyengine.cli import common, console
from policyengine.cli.app import ExitCode, app
from policyengine.cli.failure import fail
from policyengine.cli.options import (
    Color,
    ColorOpt,
    MinSeverityOpt,
    ParamOpt,
    ParamsFileOpt,
    PolicyOpt,
    PolicyOptions,
    RuleOpt,
    SelectionOptions,
    SkipRuleOpt,
    TagOpt,
)
from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.errors import InputError, UsageError
from policyengine.outputs import rule_list
from policyengine.pipeline.selection import select
from policyengine.results import report as reports


@app.command("rules")
def rules_command(
    policy: PolicyOpt = None,
    param: ParamOpt = None,
    params_file: ParamsFileOpt = None,
    rule: RuleOpt = None,
    skip_rule: SkipRuleOpt = None,
    tag: TagOpt = None,
    min_severity: MinSeverityOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    color: ColorOpt = Color.AUTO,
) -> None:
    """List the loaded rules: id, severity, enforcement, title, tags and kinds. With
    --rule, --skip-rule, --tag or --min-severity, the rules `evaluate` would run.

    Exit 0; 2 when a selection matches no rule; 3 when a policy does not parse or check.
    """
    console.use(color)
    selection = SelectionOptions(rule or (), skip_rule or (), tag or (), min_severity)
    try:
        loaded = common.load_policies(PolicyOptions(policy, param or (), params_file))
        loaded = replace(loaded, plan=select(loaded.plan, selection.selection()))
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, json_out)
    if json_out:
        doc = {"version": reports.REPORT_VERSION, "rules": rule_list.to_json(loaded.plan)}
        console.document(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        console.show(rule_list.render_text(loaded.plan), console.RULES)
    raise typer.Exit(ExitCode.OK)
