"""`policyengine evaluate`: policies over snapshots, every finding reported."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from policyengine.cli import common, console, progress, settings
from policyengine.cli.app import ExitCode, app
from policyengine.cli.failure import Output, check_outputs, fail, outputs, plural, write
from policyengine.cli.leave import finish
from policyengine.cli.options import (
    Color,
    ColorOpt,
    ConfigOpt,
    FailOnErrorOpt,
    FailOnOpt,
    InputFormatOpt,
    InputOptions,
    MinSeverityOpt,
    NoConfigOpt,
    NowOpt,
    ParamOpt,
    ParamsFileOpt,
    PolicyOpt,
    PolicyOptions,
    RegionOpt,
    RuleOpt,
    SelectionOptions,
    SkipRuleOpt,
    SnapshotsArg,
    TagOpt,
    TfDirOpt,
    TodayOpt,
    VerboseOpt,
    WaiverOptions,
    WaiversOpt,
)
from policyengine.core.diagnostics import DiagnosticError, did_you_mean, render_text
from policyengine.core.errors import InputError, UsageError
from policyengine.core.semantics import Severity
from policyengine.inputs import importers
from policyengine.inputs.files import read_stdin, read_text
from policyengine.outputs import Format, needs_every_outcome, render_parts
from policyengine.pipeline import engine
from policyengine.pipeline.config import FailOn
from policyengine.pipeline.reading import Reading
from policyengine.pipeline.selection import select
from policyengine.results import baseline as baselines
from policyengine.results import report as reports
from policyengine.results.gate import Gate, Verdict


class Executor(StrEnum):
    LOCAL = "local"
    DASK = "dask"


@dataclass(frozen=True)
class ReportOptions:
    """--format, --output, --all and --color: what is written where."""

    fmt: Format
    outputs: Sequence[str]
    show_all: bool
    color: Color
    docs_url: str | None = None  # where `policyengine docs` pages are: SARIF's helpUri
    quiet: bool = False  # nothing on stderr but errors


@dataclass(frozen=True)
class GateOptions:
    """--fail-on and --fail-on-error: which outcomes fail the run."""

    fail_on: FailOn
    fail_on_error: bool

    @property
    def threshold(self) -> Severity:
        """The lowest severity that counts; with `none`, every finding is reported."""
        return Severity.LOW if self.fail_on is FailOn.NONE else Severity(self.fail_on)

    def gate(self) -> Gate:
        return Gate.named(self.fail_on, self.fail_on_error)


@dataclass(frozen=True)
class BaselineOptions:
    """--baseline, --write-baseline and --any-account: findings known before, read or
    recorded, and whether the baseline's entries hide findings of other accounts."""

    read: Path | None
    write: Path | None
    any_account: bool = False


@dataclass(frozen=True)
class CompareOptions:
    """--operation and --baseline-snapshot: report what would change, not every finding."""

    operation: Path | None
    baseline_snapshot: Path | None

    def wanted(self) -> bool:
        return self.operation is not None or self.baseline_snapshot is not None


@dataclass(frozen=True)
class ExecutionOptions:
    """--jobs, --executor, --scheduler and --scheduler-timeout: where snapshots evaluate."""

    jobs: int
    executor: Executor
    scheduler: str | None
    timeout: float

    def apart(self, snapshots: int) -> bool:
        """Whether each snapshot is evaluated as its own task."""
        return self.executor is Executor.DASK or (self.jobs > 1 and snapshots > 1)


@dataclass(frozen=True)
class EvaluateOptions:
    policies: PolicyOptions
    inputs: InputOptions
    waivers: WaiverOptions
    report: ReportOptions
    gate: GateOptions
    baseline: BaselineOptions
    compare: CompareOptions
    execution: ExecutionOptions
    selection: SelectionOptions = SelectionOptions()


@app.command("evaluate")  # the function's own name would shadow interpreter.evaluate
def evaluate_command(
    ctx: typer.Context,
    snapshots: SnapshotsArg,
    policy: PolicyOpt = None,
    param: ParamOpt = None,
    params_file: ParamsFileOpt = None,
    now: NowOpt = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Output format on stdout.")
    ] = Format.TEXT,
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FORMAT=PATH",
            show_default=False,
            help="Also write FORMAT to PATH (repeatable), e.g. sarif=results.sarif.",
        ),
    ] = None,
    fail_on: FailOnOpt = FailOn.LOW,
    fail_on_error: FailOnErrorOpt = True,
    waivers: WaiversOpt = None,
    today: TodayOpt = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            show_default=False,
            help="Report only findings not in this baseline, and list the fixed ones.",
        ),
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option(
            "--write-baseline",
            metavar="FILE",
            show_default=False,
            help="Record this run's findings in FILE, then report against it.",
        ),
    ] = None,
    any_account: Annotated[
        bool,
        typer.Option(
            "--any-account",
            help="Apply the --baseline's entries to any account, not only the one each "
            "was written for.",
        ),
    ] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="List passes and skips too, not only findings.")
    ] = False,
    color: ColorOpt = Color.AUTO,
    input_format: InputFormatOpt = importers.AUTO,
    region: RegionOpt = None,
    tf_dir: TfDirOpt = None,
    verbose: VerboseOpt = False,
    operation: Annotated[
        Path | None,
        typer.Option(
            "--operation",
            metavar="FILE",
            allow_dash=True,
            show_default=False,
            help="API calls about to be made (JSON, or `aliyun ecs ACTION --Param value` "
            "lines; '-' reads stdin): report only the findings they would introduce.",
        ),
    ] = None,
    baseline_snapshot: Annotated[
        Path | None,
        typer.Option(
            "--baseline-snapshot",
            metavar="SNAPSHOT",
            show_default=False,
            help="An older input of the same account: report findings new, fixed and "
            "unchanged since it.",
        ),
    ] = None,
    jobs_: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            metavar="N",
            min=1,
            help="Evaluate up to N snapshots at once, in worker processes.",
        ),
    ] = 1,
    executor: Annotated[
        Executor,
        typer.Option(
            "--executor",
            help="Where snapshots are evaluated: local processes, or a Dask cluster "
            "(--scheduler; needs policyengine[dask]).",
        ),
    ] = Executor.LOCAL,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            show_default=False,
            help="The Dask scheduler of --executor dask, e.g. tcp://10.0.0.5:8786.",
        ),
    ] = None,
    scheduler_timeout: Annotated[
        float,
        typer.Option(
            "--scheduler-timeout",
            metavar="SECONDS",
            min=0.1,
            help="How long to try to reach the Dask scheduler.",
        ),
    ] = 10.0,
    rule: RuleOpt = None,
    skip_rule: SkipRuleOpt = None,
    tag: TagOpt = None,
    min_severity: MinSeverityOpt = None,
    config_file: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    docs_url: Annotated[
        str | None,
        typer.Option(
            "--docs-url",
            metavar="URL",
            show_default=False,
            help="Where the pages of `policyengine docs` are published: each SARIF rule "
            "links to its section there (helpUri).",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print nothing on stderr but errors.")
    ] = False,
) -> None:
    """Evaluate policies over snapshots and report every finding.

    Exit 1 when a fail or error outcome of a mandatory rule is at or above --fail-on and
    no waiver or baseline covers it, or when a waiver has expired (never with --fail-on
    none). With --operation, exit 1 when an operation would introduce one; with
    --baseline-snapshot, when one is new. Options not given come from the configuration
    file (see `policyengine config`).
    """
    console.use(color)
    try:
        v = settings.apply(ctx, settings.read_config(config_file, no_config))
        fmt_, input_format_ = _format(v["fmt"]), _input_format(v["input_format"])
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, fmt is Format.JSON, fmt)
    options = EvaluateOptions(
        PolicyOptions(v["policy"], v["param"] or (), v["params_file"]),
        InputOptions(input_format_, v["region"], verbose, now, v["tf_dir"]),
        WaiverOptions(v["waivers"], today),
        ReportOptions(fmt_, v["output"] or (), show_all, color, v["docs_url"], quiet),
        GateOptions(FailOn(v["fail_on"]), v["fail_on_error"]),
        BaselineOptions(v["baseline"], write_baseline, any_account),
        CompareOptions(operation, baseline_snapshot),
        ExecutionOptions(jobs_, executor, scheduler, scheduler_timeout),
        SelectionOptions(v["rule"] or (), v["skip_rule"] or (), v["tag"] or (), _severity(v)),
    )
    with progress.Stages(progress.wanted(quiet), color):
        run(snapshots, options)


def _format(value: object) -> Format:
    names = [f.value for f in Format]
    if str(value) not in names:
        hint = did_you_mean(str(value), names) or "expected one of " + ", ".join(names)
        raise UsageError(f"unknown format `{value}` in the configuration file; {hint}")
    return Format(str(value))


def _input_format(value: object) -> str:
    if str(value) not in importers.FORMATS:
        hint = did_you_mean(str(value), importers.FORMATS)
        listed = "expected one of " + ", ".join(importers.FORMATS)
        raise UsageError(
            f"unknown input format `{value}` in the configuration file; {hint or listed}"
        )
    return str(value)


def _severity(values: dict[str, object]) -> Severity | None:
    value = values["min_severity"]
    return None if value is None else Severity(str(value))


def run(snapshots: Sequence[Path], options: EvaluateOptions) -> NoReturn:
    report, execution = options.report, options.execution
    json_out = report.fmt is Format.JSON
    written: list[Output] = []
    try:
        reading = options.inputs.reading()
        engine.executor_options(str(execution.executor), execution.scheduler)
        apart = execution.apart(len(snapshots))
        if apart and options.compare.wanted():
            compare = options.compare
            option = "--operation" if compare.operation is not None else "--baseline-snapshot"
            raise UsageError(f"{option} evaluates in one process: leave out --jobs and --executor")
        named = (
            options.waivers.file,
            options.baseline.read,
            options.policies.params_file,
            options.compare.operation,
            options.compare.baseline_snapshot,
        )
        given = [*snapshots, *(options.policies.paths or ()), *(p for p in named if p)]
        check_outputs(outputs(report.outputs), given)
    except UsageError as exc:
        fail(exc, json_out)  # no --output is written: one of them may be an input
    if options.compare.wanted():
        _compare(snapshots, options, reading)
    try:
        written = outputs(report.outputs)
        day = common.today(options.waivers.today)
        loaded = common.load_policies(options.policies)
        loaded = replace(loaded, plan=select(loaded.plan, options.selection.selection()))
        waiver_files = engine.waiver_files(options.waivers.file, options.policies.paths)
        accepted = engine.read_waivers(waiver_files)
        known = None
        if options.baseline.read is not None:
            known = engine.read_baseline(options.baseline.read)
        if apart:
            progress.step(f"evaluating {plural(len(snapshots), 'input')}, each apart")
            parts = engine.evaluate_apart(
                loaded,
                snapshots,
                reading,
                read_stdin,
                workers=execution.jobs,
                scheduler=execution.scheduler,
                timeout=execution.timeout,
                echo=console.say if reading.verbose else None,
            )
        else:
            say = progress.reading(snapshots, common.say_read(reading.verbose))
            stores = engine.read_snapshots(snapshots, loaded, reading, say)
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, json_out, report.fmt, written)
    for warning in () if report.quiet else loaded.warnings:
        console.say(render_text(warning))
    gate = options.gate.gate()
    files = [str(w.path) for w in waiver_files]
    if apart:
        result = reports.assemble(
            loaded.plan,
            parts,
            gate,
            waivers=accepted,
            waiver_files=files,
            baseline=known,
            today=day,
            any_account=options.baseline.any_account,
        )
    else:
        every = needs_every_outcome([report.fmt, *(o.fmt for o in written)], report.show_all)
        progress.evaluating(loaded.plan, stores)
        result = engine.evaluate_report(
            loaded,
            stores,
            gate,
            waivers=accepted,
            waiver_files=files,
            baseline=known,
            today=day,
            every_outcome=every,
            any_account=options.baseline.any_account,
        )
    if options.baseline.write is not None:
        target = options.baseline.write
        entries = reports.to_baseline(result)
        try:
            write(target, baselines.render(entries))
        except UsageError as exc:
            fail(exc, json_out, report.fmt, written)
        if not report.quiet:
            console.say(f"wrote {plural(len(entries), 'finding')} to the baseline {target}")
        result = reports.with_baseline(result, baselines.Baseline(str(target), tuple(entries)))
    progress.stop()  # the result goes to stdout, which is not routed above the display
    if report.fmt is Format.TEXT:
        console.show(reports.render_text(result, show_all=report.show_all), console.REPORT)
    else:
        console.document(
            render_parts(report.fmt, result, show_all=report.show_all, docs_url=report.docs_url)
        )
        # stdout is for a machine: say what matters about the run where people look.
        for notice in () if report.quiet else result.notices():
            console.say(f"{notice.level}: {notice.message}")
    try:
        for out in written:
            write(
                out.path,
                render_parts(out.fmt, result, show_all=report.show_all, docs_url=report.docs_url),
            )
    except UsageError as exc:
        console.say(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    finish(result.verdict().exit_code)  # the installed command: the process ends here


def _compare(snapshots: Sequence[Path], options: EvaluateOptions, reading: Reading) -> NoReturn:
    """`evaluate --operation` and `evaluate --baseline-snapshot`: what would change, with
    the gate, waivers and baseline of `evaluate`."""
    from policyengine.pipeline import delta, verdicts  # what a plain run does not use

    operation, baseline = options.compare.operation, options.compare.baseline_snapshot
    json_out = options.report.fmt is Format.JSON
    say = common.say_read(reading.verbose)
    try:
        if len(snapshots) != 1 or (operation is not None and baseline is not None):
            raise UsageError(
                "--operation and --baseline-snapshot take one snapshot, and not together"
            )
        loaded = common.load_policies(options.policies)
        known = delta.Known(
            engine.read_waivers(engine.waiver_files(options.waivers.file, options.policies.paths)),
            None if options.baseline.read is None else engine.read_baseline(options.baseline.read),
            common.today(options.waivers.today),
            options.baseline.any_account,
        )
        read = engine.read_input(snapshots[0], loaded, reading, on_read=say)
        gate = options.gate.gate()
        if operation is not None:
            stdin = str(operation) == "-"
            text = read_stdin() if stdin else read_text(operation, "file")
            name = "<stdin>" if stdin else str(operation)
            change = verdicts.operations(loaded, read, text, name, gate=gate, known=known)
        else:
            assert baseline is not None
            old = engine.read_input(baseline, loaded, reading, on_read=say)
            change = verdicts.snapshot_change(loaded, old, read, gate=gate, known=known)
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, json_out)
    if json_out:
        console.document(json.dumps(change.doc, indent=2, ensure_ascii=False))
    else:
        console.show(change.text, console.DIAGNOSTICS)
    if change.verdict is Verdict.NOTHING_EVALUATED:
        console.say("error: no rule applied to any resource; nothing was evaluated")
    raise typer.Exit(change.verdict.exit_code)
