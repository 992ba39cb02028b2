"""The command line: the only module that imports typer, prints, or exits.

Commands parse their arguments, call the library and map the outcome to output and an
exit code. stdout is the product; stderr is for people. With `--format json`, stdout is
always one JSON document, even when the input was bad.
"""

from __future__ import annotations

import difflib
import gc
import json
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from typer.exceptions import TyperException

from policyengine.core import files, limits
from policyengine.core.diagnostics import (
    Diagnostic,
    DiagnosticError,
    Level,
    did_you_mean,
    render_text,
    sort_diagnostics,
    to_json,
)
from policyengine.core.files import Confinement
from policyengine.core.model import parse_time
from policyengine.core.plan import RulePlan
from policyengine.core.semantics import Severity
from policyengine.core.source import Source
from policyengine.frontend import cost as costs
from policyengine.frontend.describe import describe_rule
from policyengine.frontend.describe import render_markdown as describe_markdown
from policyengine.frontend.describe import render_text as describe_text
from policyengine.frontend.describe import to_json as describe_json
from policyengine.frontend.formatter import format_source
from policyengine.frontend.lint import lint
from policyengine.frontend.loader import (
    Loaded,
    UsageError,
    bundled_policies,
    bundled_root,
    find_files,
    front,
    load,
    read_source,
)
from policyengine.inputs import importers, stats
from policyengine.inputs.snapshot import InputError, Problem, json_schema, read_input
from policyengine.inputs.store import Store
from policyengine.outputs import Format, picture, render, render_failure
from policyengine.outputs import check_sarif as sarif
from policyengine.outputs import html as html_page
from policyengine.outputs.docs import render_docs
from policyengine.pipeline import delta, jobs
from policyengine.pipeline import testing as policy_tests
from policyengine.pipeline.jobs import Reading
from policyengine.results import baseline as baselines
from policyengine.results import report as reports
from policyengine.results.explain import (
    fingerprint,
    proof_to_json,
    render_proof_markdown,
    render_proof_text,
)
from policyengine.results.report import Finding
from policyengine.results.waivers import DEFAULT_NAMES, Waiver, expired_diagnostic, parse_waivers
from policyengine.runtime import Proof, Result, Status, evaluate, trace


class ExitCode(IntEnum):
    OK = 0  # evaluated; no failing outcome at or above the threshold
    VIOLATIONS = 1  # evaluated; a fail or error outcome at or above the threshold
    USAGE = 2  # bad command line (typer's own usage errors exit 2 as well)
    INVALID = 3  # a policy that does not parse or check, or a snapshot that is not valid
    INTERNAL = 4  # a bug in policyengine; never 1, so CI cannot mistake it for a verdict


class CheckFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


class ExplainFormat(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"
    HTML = "html"


class Executor(StrEnum):
    LOCAL = "local"
    DASK = "dask"


class Color(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


EXIT_CODES_HELP = (
    "Exit codes: 0 no fail or error outcome of a mandatory rule at or above --fail-on; "
    "1 there is one, or a waiver has expired; 2 usage error; 3 invalid input (a policy "
    "that does not parse or check, a snapshot, waivers file or baseline that is not "
    "valid); 4 internal error."
)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Evaluate cloud resource policies over account snapshots, and explain the results. "
    + EXIT_CODES_HELP,
)
waivers_app = typer.Typer(
    no_args_is_help=True, help="Work with waivers files: known findings accepted for a while."
)
app.add_typer(waivers_app, name="waivers")

SnapshotsArg = Annotated[
    list[Path],
    typer.Argument(
        metavar="SNAPSHOT",
        allow_dash=True,
        show_default=False,
        help="Snapshot JSON files, one per account; '-' reads stdin.",
    ),
]
SnapshotArg = Annotated[
    Path,
    typer.Argument(
        metavar="SNAPSHOT",
        allow_dash=True,
        show_default=False,
        help="Snapshot JSON file; '-' reads stdin.",
    ),
]
OptionalSnapshotArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="[SNAPSHOT]",
        allow_dash=True,
        show_default=False,
        help="Snapshot JSON file; '-' reads stdin. Leave out to describe --rule.",
    ),
]
PolicyOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--policy",
        "-p",
        show_default=False,
        help="Policy file or folder (repeatable). Default: the bundled packs.",
    ),
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        show_default=False,
        help="Set a policy param: NAME=VALUE or POLICY.NAME=VALUE (repeatable).",
    ),
]
ParamsFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--params",
        show_default=False,
        help="A parameters file (JSON, or YAML for .yaml/.yml): {NAME: VALUE} or "
        "{POLICY: {NAME: VALUE}}. --param wins over it.",
    ),
]
NowOpt = Annotated[
    str | None,
    typer.Option(
        "--now",
        show_default=False,
        help="The time now() means in rules (ISO 8601). Default: the snapshot's captured_at.",
    ),
]
FailOnOpt = Annotated[
    Severity, typer.Option("--fail-on", help="Lowest severity that makes the run fail.")
]
ColorOpt = Annotated[Color, typer.Option("--color", help="Color the text output.")]
WaiversOpt = Annotated[
    Path | None,
    typer.Option(
        "--waivers",
        show_default=False,
        help="Waivers file (YAML or JSON). Default: waivers.yaml, waivers.yml or "
        "waivers.json in a --policy folder.",
    ),
]
TodayOpt = Annotated[
    str | None,
    typer.Option(
        "--today",
        metavar="YYYY-MM-DD",
        show_default=False,
        help="The date waivers expire against. Default: today's date (UTC).",
    ),
]


@dataclass(frozen=True)
class Output:
    fmt: Format
    path: Path


def _outputs(given: Sequence[str]) -> list[Output]:
    """`--output FORMAT=PATH` values; an unknown format is a usage error."""
    out = []
    names = [f.value for f in Format]
    for value in given:
        name, sep, path = value.partition("=")
        if not sep or not path:
            raise UsageError(
                f"--output takes FORMAT=PATH (e.g. sarif=results.sarif), not `{value}`"
            )
        if name not in names:
            hint = did_you_mean(name, names) or "expected one of " + ", ".join(names)
            raise UsageError(f"unknown output format `{name}` in --output {value}; {hint}")
        out.append(Output(Format(name), Path(path)))
    return out


def _today(given: str | None) -> date:
    if given is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(given)
    except ValueError:
        raise UsageError(f"--today takes a date as YYYY-MM-DD, not `{given}`") from None


def _read_text(path: Path, what: str, confine: Confinement | None = None) -> str:
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


def _read_stdin() -> str:
    """stdin, read in chunks up to the input limit."""
    return read_input(None, "<stdin>")


def _waiver_files(
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


def _read_waivers(files_: Sequence[tuple[Path, Confinement | None]]) -> list[Waiver]:
    waivers: list[Waiver] = []
    diags = []
    for path, confine in files_:
        try:
            text = _read_text(path, "waivers file", confine)
            waivers.extend(parse_waivers(Source(str(path), text)))
        except DiagnosticError as exc:
            diags.extend(exc.diagnostics)
    if diags:
        raise DiagnosticError(diags)
    return waivers


# -- inputs: what the snapshot argument holds, and how to read it
class InputFormat(StrEnum):
    AUTO = "auto"
    SNAPSHOT = "snapshot"
    ALIYUN = "aliyun"
    TERRAFORM_PLAN = "terraform-plan"
    TERRAFORM_STATE = "terraform-state"


assert tuple(InputFormat) == importers.FORMATS, "every importer is an --input-format"
InputFormatOpt = Annotated[
    InputFormat,
    typer.Option(
        "--input-format",
        "-i",
        help="What SNAPSHOT holds: a normalized snapshot, aliyun CLI output (a file or a "
        "folder), or `terraform show -json` of a plan or state. auto: tell by the content.",
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region",
        show_default=False,
        help="Region of aliyun output that does not say it (a single file), and of "
        "Terraform resources whose provider sets none.",
    ),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Say how each input was read (on stderr).")
]
OperationOpt = Annotated[
    Path | None,
    typer.Option(
        "--operation",
        allow_dash=True,
        show_default=False,
        help="API calls about to be made (JSON, or `aliyun ecs ACTION --Param value` lines; "
        "'-' reads stdin): report only the findings they would introduce.",
    ),
]
BaselineSnapshotOpt = Annotated[
    Path | None,
    typer.Option(
        "--baseline-snapshot",
        show_default=False,
        help="An older input of the same account: report findings new, fixed and unchanged "
        "since it.",
    ),
]


def _policy_paths(given: Sequence[Path] | None) -> list[Path]:
    return find_files(given, (".policy",), "policy file") if given else bundled_policies()


def _parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    value = parse_time(text)
    if value is None:
        raise UsageError(f"--now `{text}` is not a time in ISO 8601 form, e.g. 2024-05-01T00:00Z")
    return value


def _read_input(path: Path, loaded: Loaded, reading: Reading) -> importers.Read:
    try:
        read = importers.read(
            path, reading.format, loaded.plan.model, importers.Options(reading.region)
        )
    except importers.MissingInput as exc:
        raise UsageError(str(exc)) from None
    if reading.verbose:
        typer.echo(f"{read.detected}\n  {read.converted.summary}", err=True)
    return read


def _read_snapshot(path: Path, loaded: Loaded, reading: Reading = Reading()) -> Store:
    read = _read_input(path, loaded, reading)
    return importers.to_store(read.snapshot, loaded.plan.model, reading.now)


def _read_snapshots(
    paths: Sequence[Path], loaded: Loaded, reading: Reading = Reading()
) -> list[Store]:
    """Every snapshot, with the problems of all of them reported together."""
    stores, problems = [], []
    for path in paths:
        try:
            stores.append(_read_snapshot(path, loaded, reading))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    # Loaded data holds no cycles and lives until the end: keep the cyclic collector from
    # walking it again and again while results are made (measured: a third of the time
    # on a 20,000-instance account).
    gc.freeze()
    return stores


def _evaluate_apart(
    paths: Sequence[Path],
    loaded: Loaded,
    reading: Reading,
    workers: int,
    scheduler: str | None,
    timeout: float,
) -> list[reports.Part]:
    """Each snapshot evaluated as its own task, in worker processes or on a Dask cluster."""
    tasks = jobs.tasks_for(paths, reading, _read_stdin)
    if scheduler is not None:
        done = jobs.run_dask(loaded.plan, tasks, scheduler, timeout)
    else:
        done = jobs.run_local(loaded.plan, tasks, workers)
    echo = (lambda line: typer.echo(line, err=True)) if reading.verbose else None
    return jobs.collect(loaded.plan, done, echo)


def _use_color(choice: Color) -> bool:
    if choice is Color.ALWAYS:
        return True
    if choice is Color.NEVER or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _fail(
    exc: Exception, json_out: bool, fmt: Format | None = None, outputs: Sequence[Output] = ()
) -> NoReturn:
    """Reports bad input or usage and exits with its code; JSON users get JSON, and each
    other format (on stdout or in an --output file) says that nothing was evaluated."""
    if isinstance(exc, DiagnosticError):
        code, diags = ExitCode.INVALID, exc.diagnostics
        what = "waivers file" if all(d.code.startswith("PE6") for d in diags) else "policies"
        text = "\n\n".join(render_text(d) for d in diags)
        text += (
            f"\n\nerror: {len(diags)} problem{'s' if len(diags) != 1 else ''} in the "
            f"{what}; nothing was evaluated"
        )
        kind = "invalid waivers" if what == "waivers file" else "invalid policy"
        doc = {"error": kind, "diagnostics": [to_json(d) for d in diags]}
    elif isinstance(exc, InputError):
        code = ExitCode.INVALID
        text = "\n".join(p.render() for p in exc.problems)
        noun = "baseline" if isinstance(exc, baselines.BaselineError) else exc.what
        text += f"\nerror: the {noun} is not valid; nothing was evaluated"
        doc = {
            "error": f"invalid {noun}",
            "problems": [
                {"file": p.file, "pointer": p.pointer, "message": p.message} for p in exc.problems
            ],
        }
    else:
        code, text = ExitCode.USAGE, f"error: {exc}"
        doc = {"error": "usage", "message": str(exc)}
    json_doc = json.dumps({"version": reports.REPORT_VERSION, **doc}, indent=2)
    if json_out:
        typer.echo(json_doc)
    elif fmt is not None and fmt is not Format.TEXT:
        typer.echo(render_failure(fmt, str(doc["error"]), text))
    for output in outputs:
        body = (
            json_doc
            if output.fmt is Format.JSON
            else render_failure(output.fmt, str(doc["error"]), text)
        )
        _write(output.path, body)
    typer.echo(text, err=True)
    raise typer.Exit(code)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


@app.command("evaluate")  # the function's own name would shadow interpreter.evaluate
def evaluate_command(
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
    fail_on: FailOnOpt = Severity.LOW,
    fail_on_error: Annotated[
        bool,
        typer.Option(
            "--fail-on-error/--no-fail-on-error",
            help="Whether an error outcome (could not be decided) fails the run.",
        ),
    ] = True,
    waivers: WaiversOpt = None,
    today: TodayOpt = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            show_default=False,
            help="Report only findings not in this baseline, and list the fixed ones.",
        ),
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option(
            "--write-baseline",
            show_default=False,
            help="Record this run's findings in FILE, then report against it.",
        ),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="List passes and skips too, not only findings.")
    ] = False,
    color: ColorOpt = Color.AUTO,
    input_format: InputFormatOpt = InputFormat.AUTO,
    region: RegionOpt = None,
    verbose: VerboseOpt = False,
    operation: OperationOpt = None,
    baseline_snapshot: BaselineSnapshotOpt = None,
    jobs_: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
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
) -> None:
    """Evaluate policies over snapshots and report every finding.

    Exit 1 when a fail or error outcome of a mandatory rule is at or above --fail-on and
    no waiver or baseline covers it, or when a waiver has expired. With --operation, exit 1
    when an operation would introduce one; with --baseline-snapshot, when one is new.
    """
    json_out = fmt is Format.JSON
    outputs: list[Output] = []
    try:
        reading = Reading(str(input_format), region, verbose, _parse_now(now))
    except UsageError as exc:
        _fail(exc, json_out)
    try:
        jobs.executor_options(str(executor), scheduler)
        apart = executor is Executor.DASK or (jobs_ > 1 and len(snapshots) > 1)
        if apart and (operation is not None or baseline_snapshot is not None):
            option = "--operation" if operation is not None else "--baseline-snapshot"
            raise UsageError(f"{option} evaluates in one process: leave out --jobs and --executor")
    except UsageError as exc:
        _fail(exc, json_out)
    if operation is not None or baseline_snapshot is not None:
        _compare(
            snapshots,
            policy,
            param,
            params_file,
            reading,
            operation,
            baseline_snapshot,
            fail_on,
            json_out,
        )
    try:
        outputs = _outputs(output or ())
        day = _today(today)
        loaded = load(_policy_paths(policy), param or (), params_file)
        waiver_files = _waiver_files(waivers, policy)
        accepted = _read_waivers(waiver_files)
        known = None
        if baseline is not None:
            known = baselines.parse_baseline(_read_text(baseline, "baseline file"), str(baseline))
        if apart:
            parts = _evaluate_apart(snapshots, loaded, reading, jobs_, scheduler, scheduler_timeout)
        else:
            stores = _read_snapshots(snapshots, loaded, reading)
    except (DiagnosticError, InputError, UsageError) as exc:
        _fail(exc, json_out, fmt, outputs)
    for warning in loaded.warnings:
        typer.echo(render_text(warning), err=True)
    gate = reports.Gate(fail_on, fail_on_error)
    files = [str(p) for p, _ in waiver_files]
    if apart:
        result = reports.assemble(
            loaded.plan,
            parts,
            gate,
            waivers=accepted,
            waiver_files=files,
            baseline=known,
            today=day,
        )
    else:
        result = reports.build(
            loaded.plan,
            stores,
            gate,
            waivers=accepted,
            waiver_files=files,
            baseline=known,
            today=day,
        )
    if write_baseline is not None:
        entries = reports.to_baseline(result)
        try:
            _write(write_baseline, baselines.render(entries))
        except UsageError as exc:
            _fail(exc, json_out, fmt, outputs)
        typer.echo(
            f"wrote {len(entries)} finding{'s' if len(entries) != 1 else ''} "
            f"to the baseline {write_baseline}",
            err=True,
        )
        result = reports.with_baseline(
            result, baselines.Baseline(str(write_baseline), tuple(entries))
        )
    if fmt is Format.TEXT:
        typer.echo(reports.render_text(result, show_all=show_all, color=_use_color(color)))
    else:
        typer.echo(render(fmt, result, show_all=show_all))
        # stdout is for a machine: say what matters about the run where people look.
        for notice in result.notices():
            typer.echo(f"{notice.level}: {notice.message}", err=True)
    try:
        for out in outputs:
            _write(out.path, render(out.fmt, result, show_all=show_all))
    except UsageError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.USAGE) from None
    raise typer.Exit(ExitCode.VIOLATIONS if result.failed() else ExitCode.OK)


@waivers_app.command("check")
def waivers_check(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE", show_default=False, help="Waivers files.")
    ],
    today: TodayOpt = None,
) -> None:
    """Check waivers files: their form (exit 3 with each problem's place) and their dates
    (exit 1 when a waiver has expired)."""
    try:
        day = _today(today)
        accepted = _read_waivers([(f, None) for f in files])
    except DiagnosticError as exc:
        diags = exc.diagnostics
        typer.echo("\n\n".join(render_text(d) for d in diags), err=True)
        typer.echo(
            f"\nerror: {len(diags)} problem{'s' if len(diags) != 1 else ''} in "
            + ", ".join(str(f) for f in files),
            err=True,
        )
        raise typer.Exit(ExitCode.INVALID) from None
    except (InputError, UsageError) as exc:
        _fail(exc, False)
    expired = [w for w in accepted if w.expired(day)]
    for w in expired:
        typer.echo(render_text(expired_diagnostic(w)) + "\n", err=True)
    n = len(accepted)
    typer.echo(
        f"{n} waiver{'s' if n != 1 else ''} in {len(files)} file{'s' if len(files) != 1 else ''}"
        f": {len(expired)} expired as of {day.isoformat()}"
    )
    raise typer.Exit(ExitCode.VIOLATIONS if expired else ExitCode.OK)


def _compare(
    snapshots: Sequence[Path],
    policy: Sequence[Path] | None,
    param: Sequence[str] | None,
    params_file: Path | None,
    reading: Reading,
    operation: Path | None,
    baseline: Path | None,
    fail_on: Severity,
    json_out: bool,
) -> NoReturn:
    """`evaluate --operation` and `evaluate --baseline-snapshot`: what would change."""
    try:
        if len(snapshots) != 1 or (operation is not None and baseline is not None):
            raise UsageError(
                "--operation and --baseline-snapshot take one snapshot, and not together"
            )
        loaded = load(_policy_paths(policy), param or (), params_file)
        m = loaded.plan.model
        read = _read_input(snapshots[0], loaded, reading)
        if operation is not None:
            text = _read_stdin() if str(operation) == "-" else _read_text(operation, "file")
            name = "<stdin>" if str(operation) == "-" else str(operation)
            ops = importers.operations.parse(text, name)
            results = delta.introduced(
                loaded.plan, read.converted.document, ops, read.snapshot.file, m
            )
            doc = delta.operations_json(results, fail_on)
            out = delta.operations_text(results, fail_on)
            failing = doc["verdict"] == "fail"
        else:
            assert baseline is not None
            old = _read_input(baseline, loaded, reading)
            diff = delta.compare(
                delta.findings(loaded.plan, old.converted.document, old.snapshot.file, m),
                delta.findings(loaded.plan, read.converted.document, read.snapshot.file, m),
            )
            doc = delta.diff_json(diff)
            out = delta.diff_text(diff)
            failing = bool(delta.gating(diff.new, fail_on))
    except (DiagnosticError, InputError, UsageError) as exc:
        _fail(exc, json_out)
    if json_out:
        doc = {"version": reports.REPORT_VERSION, **doc}
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        typer.echo(out)
    raise typer.Exit(ExitCode.VIOLATIONS if failing else ExitCode.OK)


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
    input_format: InputFormatOpt = InputFormat.AUTO,
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
    json_out = fmt is ExplainFormat.JSON
    try:
        loaded = load(_policy_paths(policy), param or (), params_file)
        if snapshot is None:
            _describe(loaded, rule, resource, fmt)
        day = _today(today)
        accepted = [w for w in _read_waivers(_waiver_files(waivers, policy)) if not w.expired(day)]
        reading = Reading(str(input_format), region, verbose, _parse_now(now))
        store = _read_snapshot(snapshot, loaded, reading)
        results = _select(evaluate(loaded.plan, store), loaded, store, rule, resource)
    except (DiagnosticError, InputError, UsageError) as exc:
        _fail(exc, json_out)
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
    d = describe_rule(_find_rule(loaded, rule))
    if fmt is ExplainFormat.JSON:
        typer.echo(json.dumps(describe_json(d), indent=2, ensure_ascii=False))
    else:
        typer.echo(describe_markdown(d) if fmt is ExplainFormat.MARKDOWN else describe_text(d))
    raise typer.Exit(ExitCode.OK)


def _find_rule(loaded: Loaded, rule: str) -> RulePlan:
    ids = {r.id: r for r in loaded.plan.rules}
    names = {r.name: r for r in loaded.plan.rules}
    found = ids.get(rule) or names.get(rule)
    if found is None:
        hint = did_you_mean(rule, [*ids, *names])
        raise UsageError(f"no rule `{rule}`" + (f"; {hint}" if hint else ""))
    return found


def _select(
    results: list[Result], loaded: Loaded, store: Store, rule: str | None, resource: str | None
) -> list[Result]:
    if rule is not None:
        wanted = _find_rule(loaded, rule).id
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


PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        metavar="[PATH]...",
        show_default=False,
        help="Policy and model files or folders. Default: the bundled packs.",
    ),
]


def _source_paths(given: Sequence[Path] | None, suffixes: tuple[str, ...]) -> list[Path]:
    """Files named, and the files with these suffixes under folders named, in order."""
    return find_files(given or [bundled_root()], suffixes, "file")


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
) -> None:
    """Parse and check policies and models without a snapshot: every error and warning.

    Exit 0 when clean; 1 with --strict when there are warnings; 3 when there are errors.
    """
    try:
        files = _source_paths(paths, (".policy", ".model"))
        checked = front(files, param or ())
    except UsageError as exc:
        _fail(exc, fmt is not CheckFormat.TEXT)
    found = checked.diagnostics + lint(checked.checked, checked.vocabulary)
    unique = {(d.code, d.span.file, d.span.start, d.message): d for d in found}
    diags = sort_diagnostics(unique.values())
    errors = [d for d in diags if d.level is Level.ERROR]
    warnings = [d for d in diags if d.level is Level.WARNING]
    rule_costs = costs.plan_cost(load(checked=checked).plan) if cost and not errors else []
    if fmt is CheckFormat.SARIF:
        typer.echo(json.dumps(sarif.diagnostics_log(diags), indent=2, ensure_ascii=False))
    elif fmt is CheckFormat.JSON:
        doc = {
            "version": reports.REPORT_VERSION,
            "files": [str(p) for p in files],
            "summary": {"errors": len(errors), "warnings": len(warnings)},
            "diagnostics": [to_json(d) for d in diags],
        }
        if cost:
            doc["cost"] = [c.to_json() for c in rule_costs]
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        typer.echo(_check_text(diags, len(files), errors, warnings))
        if rule_costs:
            typer.echo("\n" + costs.render_text(rule_costs))
        elif cost:
            typer.echo("\nno cost report: the policies have errors", err=True)
    if errors:
        raise typer.Exit(ExitCode.INVALID)
    raise typer.Exit(ExitCode.VIOLATIONS if strict and warnings else ExitCode.OK)


def _check_text(
    diags: list[Diagnostic], files: int, errors: list[Diagnostic], warnings: list[Diagnostic]
) -> str:
    parts = [render_text(d) + "\n" for d in diags]

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'s' if n != 1 else ''}"

    parts.append(
        f"checked {count(files, 'file')}: {count(len(errors), 'error')}, "
        f"{count(len(warnings), 'warning')}"
    )
    return "\n".join(parts)


@app.command()
def fmt(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH...",
            allow_dash=True,
            show_default=False,
            help="Policy and model files or folders; '-' formats stdin to stdout.",
        ),
    ],
    check_only: Annotated[
        bool,
        typer.Option(
            "--check", help="Change nothing; print a diff of each file that would change."
        ),
    ] = False,
) -> None:
    """Rewrite policies and models in the one canonical layout, keeping comments.

    Exit 0 when done (or, with --check, when every file is formatted); 1 with --check when
    a file is not; 3 when a file does not parse (it is left as it is).
    """
    if [str(p) for p in paths] == ["-"]:
        source = Source("<stdin>", _read_stdin())
        try:
            typer.echo(format_source(source), nl=False)
        except DiagnosticError as exc:
            _fail(exc, False)
        raise typer.Exit(ExitCode.OK)
    try:
        files = _source_paths(paths, (".policy", ".model"))
    except UsageError as exc:
        _fail(exc, False)
    changed, broken = [], []
    for path in files:
        source = read_source(path, str(path))
        try:
            formatted = format_source(source)
        except DiagnosticError as exc:
            broken.extend(exc.diagnostics)
            continue
        if formatted == source.text:
            continue
        changed.append(path)
        if check_only:
            diff = difflib.unified_diff(
                source.text.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                f"{path}",
                f"{path} (formatted)",
            )
            typer.echo("".join(diff), nl=False)
        else:
            path.write_text(formatted, encoding="utf-8")
    for diag in broken:
        typer.echo(render_text(diag) + "\n", err=True)
    for path in changed:
        typer.echo(f"{'would reformat' if check_only else 'reformatted'} {path}", err=True)
    unchanged = len(files) - len(changed) - len(broken)
    verb = "would be reformatted" if check_only else "reformatted"
    typer.echo(
        f"{len(changed)} file{'s' if len(changed) != 1 else ''} {verb}, {unchanged} already "
        f"formatted" + (f", {len(broken)} not parsed" if broken else ""),
        err=True,
    )
    if broken:
        raise typer.Exit(ExitCode.INVALID)
    raise typer.Exit(ExitCode.VIOLATIONS if check_only and changed else ExitCode.OK)


@app.command("test")  # the function's own name would read as a pytest test
def test_command(
    paths: PathsArg = None,
    coverage: Annotated[
        bool, typer.Option("--coverage", help="Report which outcomes and branches were exercised.")
    ] = False,
    coverage_min: Annotated[
        float | None,
        typer.Option(
            "--coverage-min",
            metavar="PCT",
            min=0,
            max=100,
            help="Fail when coverage is below PCT percent (implies --coverage).",
        ),
    ] = None,
) -> None:
    """Run policy unit tests: *.test.yaml files of cases and their expected outcomes.

    Exit 0 when every case passes (and coverage reaches --coverage-min); 1 otherwise;
    3 when a test file, policy or snapshot is not valid.
    """
    with_coverage = coverage or coverage_min is not None
    try:
        found = policy_tests.find_test_files(paths or [bundled_root()])
        files = [policy_tests.read_test_file(p) for p in found]
        run = policy_tests.run_tests(files, with_coverage)
    except InputError as exc:
        typer.echo("\n".join(p.render() for p in exc.problems), err=True)
        typer.echo("error: a test file or its snapshot is not valid; no test ran", err=True)
        raise typer.Exit(ExitCode.INVALID) from None
    except (DiagnosticError, UsageError) as exc:
        _fail(exc, False)
    typer.echo(policy_tests.render_text(run))
    failed = any(not r.passed for r in run.results)
    if with_coverage:
        typer.echo("\n" + policy_tests.render_coverage(run.coverage))
        if coverage_min is not None and run.coverage.percent() < coverage_min:
            typer.echo(
                f"FAILED: coverage {run.coverage.percent():.1f}% is below {coverage_min:g}%",
                err=True,
            )
            failed = True
    raise typer.Exit(ExitCode.VIOLATIONS if failed else ExitCode.OK)


@app.command()
def docs(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATH]...",
            show_default=False,
            help="Policy files or folders. Default: the bundled packs.",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write one Markdown page per file to.")
    ] = Path("docs/policies"),
) -> None:
    """Write Markdown documentation of policies: every rule, what it reads, how to fix it.

    Exit 0 when written; 3 when a policy does not parse or check.
    """
    try:
        files = _policy_paths(paths)
        checked = front(files)
        compiled = load(checked=checked).plan
    except (DiagnosticError, UsageError) as exc:
        _fail(exc, False)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render_docs(checked.policies, compiled).items():
        (out / name).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out / name}", err=True)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the snapshot format (also `snapshot schema`)."""
    typer.echo(json.dumps(json_schema(), indent=2))


snapshot_app = typer.Typer(
    no_args_is_help=True, help="Convert inputs to the normalized snapshot, count what one holds."
)
app.add_typer(snapshot_app, name="snapshot")


@app.command("lsp")
def lsp_command() -> None:
    """Serve the language server on stdin and stdout, for an editor to start."""
    from policyengine.lsp.server import serve  # only an editor's session needs pygls

    serve()


InputArg = Annotated[
    Path,
    typer.Argument(
        metavar="INPUT",
        allow_dash=True,
        show_default=False,
        help="A snapshot, aliyun CLI output (file or folder), or Terraform JSON; '-' reads stdin.",
    ),
]


def _read_checked(
    source: Path, policy: Sequence[Path] | None, reading: Reading, loaded: Loaded | None = None
) -> tuple[importers.Read, Store]:
    """An input, converted and checked against the model of the policies (default: the
    bundled packs)."""
    loaded = loaded or load(_policy_paths(policy))
    read = _read_input(source, loaded, reading)
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
    input_format: InputFormatOpt = InputFormat.AUTO,
    region: RegionOpt = None,
    verbose: VerboseOpt = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", show_default=False, help="Write here, not to stdout."),
    ] = None,
) -> None:
    """Convert an input to the normalized snapshot, so it can be stored and diffed."""
    try:
        read, _ = _read_checked(source, policy, Reading(str(input_format), region, verbose))
    except (DiagnosticError, InputError, UsageError) as exc:
        _fail(exc, False)
    text = json.dumps(read.converted.document, indent=2, ensure_ascii=False, default=_marker)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")


@snapshot_app.command("stats")
def snapshot_stats(
    source: InputArg,
    policy: PolicyOpt = None,
    input_format: InputFormatOpt = InputFormat.AUTO,
    region: RegionOpt = None,
    verbose: VerboseOpt = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.TEXT,
) -> None:
    """Count resources by kind and region, references to nothing, and unknown values."""
    try:
        _, store = _read_checked(source, policy, Reading(str(input_format), region, verbose))
    except (DiagnosticError, InputError, UsageError) as exc:
        _fail(exc, fmt is Format.JSON)
    counted = stats.count(store)
    if fmt is Format.JSON:
        typer.echo(json.dumps({"version": reports.REPORT_VERSION, **asdict(counted)}, indent=2))
    else:
        typer.echo(stats.render_text(counted))


class GraphFormat(StrEnum):
    HTML = "html"
    SVG = "svg"


@snapshot_app.command("graph")
def snapshot_graph(
    source: InputArg,
    policy: PolicyOpt = None,
    input_format: InputFormatOpt = InputFormat.AUTO,
    region: RegionOpt = None,
    verbose: VerboseOpt = False,
    fmt: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="A page to filter, or the picture alone.")
    ] = GraphFormat.HTML,
) -> None:
    """Draw the account: its resources by region and zone, with the relations of the
    model, each resource marked with its worst outcome under the policies."""
    try:
        loaded = load(_policy_paths(policy))
        reading = Reading(str(input_format), region, verbose)
        _, store = _read_checked(source, policy, reading, loaded)
    except (DiagnosticError, InputError, UsageError) as exc:
        _fail(exc, False)
    drawn = picture.of_account(store, picture.worst_outcomes(evaluate(loaded.plan, store)))
    typer.echo(
        picture.svg(drawn, "account", standalone=True)
        if fmt is GraphFormat.SVG
        else html_page.render_account(drawn)
    )


@snapshot_app.command("schema")
def snapshot_schema() -> None:
    """Print the JSON Schema of the normalized snapshot."""
    typer.echo(json.dumps(json_schema(), indent=2))


def _wants_json(argv: Sequence[str]) -> bool:
    for i, arg in enumerate(argv):
        if arg in ("--format", "-f") and i + 1 < len(argv) and argv[i + 1] == "json":
            return True
        if arg in ("--format=json", "-fjson"):
            return True
    return False


def main() -> None:
    """Console-script entry point: usage errors exit 2 (as JSON too with `--format json`);
    a crash exits 4, never 1."""
    try:
        limits.current()  # a limit set to nonsense in the environment is a usage error
    except limits.LimitError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(ExitCode.USAGE)
    try:
        code = app(standalone_mode=False)
    except TyperException as exc:  # a usage error found while parsing the command line
        if _wants_json(sys.argv[1:]):
            doc = {
                "version": reports.REPORT_VERSION,
                "error": "usage",
                "message": exc.format_message(),
            }
            typer.echo(json.dumps(doc, indent=2))
        exc.show()  # type: ignore[attr-defined]
        sys.exit(getattr(exc, "exit_code", ExitCode.USAGE))
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(ExitCode.USAGE)
    except Exception:  # noqa: BLE001 - the last-resort boundary: report, then exit 4
        if os.environ.get("POLICYENGINE_TRACEBACK"):
            traceback.print_exc()
        typer.echo(
            "internal error: this is a bug in policyengine, please report it "
            "(set POLICYENGINE_TRACEBACK=1 to see the traceback)",
            err=True,
        )
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
