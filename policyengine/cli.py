"""The command line: the only module that imports typer, prints, or exits.

Commands parse their arguments, call the library and map the outcome to output and an
exit code. stdout is the product; stderr is for people. With `--format json`, stdout is
always one JSON document, even when the input was bad.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from typer.exceptions import TyperException

from policyengine import delta, importers, stats
from policyengine import report as reports
from policyengine.diagnostics import DiagnosticError, did_you_mean, render_text, to_json
from policyengine.explain import proof_to_json, render_proof_markdown, render_proof_text
from policyengine.interpreter import Result, Status, evaluate, trace
from policyengine.loader import Loaded, UsageError, bundled_policies, load
from policyengine.snapshot import InputError, json_schema
from policyengine.store import Store


class ExitCode(IntEnum):
    OK = 0  # evaluated; no failing outcome at or above the threshold
    VIOLATIONS = 1  # evaluated; a fail or error outcome at or above the threshold
    USAGE = 2  # bad command line (typer's own usage errors exit 2 as well)
    INVALID = 3  # a policy that does not parse or check, or a snapshot that is not valid
    INTERNAL = 4  # a bug in policyengine; never 1, so CI cannot mistake it for a verdict


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


class ExplainFormat(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Color(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


EXIT_CODES_HELP = (
    "Exit codes: 0 no fail or error outcome at or above --fail-on; 1 there is one; "
    "2 usage error; 3 invalid input (a policy that does not parse or check, a snapshot "
    "that is not valid); 4 internal error."
)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Evaluate cloud resource policies over account snapshots, and explain the results. "
    + EXIT_CODES_HELP,
)

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
FailOnOpt = Annotated[
    Severity, typer.Option("--fail-on", help="Lowest severity that makes the run fail.")
]
ColorOpt = Annotated[Color, typer.Option("--color", help="Color the text output.")]


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


@dataclass(frozen=True)
class Reading:
    """How the snapshot arguments are read: the --input-format, --region, --verbose given."""

    format: str = "auto"
    region: str | None = None
    verbose: bool = False


def _policy_paths(given: Sequence[Path] | None) -> list[Path]:
    if not given:
        return bundled_policies()
    out: list[Path] = []
    for path in given:
        if path.is_dir():
            found = sorted(path.rglob("*.policy"))
            if not found:
                raise UsageError(f"no .policy file in folder {path}")
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(f"no such policy file or folder: {path}")
    return out


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
    return importers.to_store(read.snapshot, loaded.plan.model)


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


def _use_color(choice: Color) -> bool:
    if choice is Color.ALWAYS:
        return True
    if choice is Color.NEVER or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _fail(exc: Exception, json_out: bool) -> NoReturn:
    """Reports bad input or usage and exits with its code; JSON users get JSON."""
    if isinstance(exc, DiagnosticError):
        code, diags = ExitCode.INVALID, exc.diagnostics
        text = "\n\n".join(render_text(d) for d in diags)
        text += (
            f"\n\nerror: {len(diags)} problem{'s' if len(diags) != 1 else ''} in the "
            "policies; nothing was evaluated"
        )
        doc = {"error": "invalid policy", "diagnostics": [to_json(d) for d in diags]}
    elif isinstance(exc, InputError):
        code = ExitCode.INVALID
        text = "\n".join(p.render() for p in exc.problems)
        text += "\nerror: the snapshot is not valid; nothing was evaluated"
        doc = {
            "error": "invalid snapshot",
            "problems": [
                {"file": p.file, "pointer": p.pointer, "message": p.message} for p in exc.problems
            ],
        }
    else:
        code, text = ExitCode.USAGE, f"error: {exc}"
        doc = {"error": "usage", "message": str(exc)}
    if json_out:
        typer.echo(json.dumps({"version": reports.REPORT_VERSION, **doc}, indent=2))
    typer.echo(text, err=True)
    raise typer.Exit(code)


@app.command("evaluate")  # the function's own name would shadow interpreter.evaluate
def evaluate_command(
    snapshots: SnapshotsArg,
    policy: PolicyOpt = None,
    param: ParamOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.TEXT,
    fail_on: FailOnOpt = Severity.LOW,
    show_all: Annotated[
        bool, typer.Option("--all", help="List passes and skips too, not only findings.")
    ] = False,
    color: ColorOpt = Color.AUTO,
    input_format: InputFormatOpt = InputFormat.AUTO,
    region: RegionOpt = None,
    verbose: VerboseOpt = False,
    operation: OperationOpt = None,
    baseline_snapshot: BaselineSnapshotOpt = None,
) -> None:
    """Evaluate policies over snapshots and report every finding.

    Exit 1 when a fail or error outcome is at or above --fail-on. With --operation, exit 1
    when an operation would introduce one; with --baseline-snapshot, when one is new.
    """
    json_out = fmt is Format.JSON
    reading = Reading(str(input_format), region, verbose)
    if operation is not None or baseline_snapshot is not None:
        _compare(snapshots, policy, param, reading, operation, baseline_snapshot, fail_on, json_out)
    try:
        loaded = load(_policy_paths(policy), param or ())
        stores = _read_snapshots(snapshots, loaded, reading)
    except (DiagnosticError, InputError, UsageError) as exc:
        _fail(exc, json_out)
    for warning in loaded.warnings:
        typer.echo(render_text(warning), err=True)
    result = reports.build(loaded.plan, stores, str(fail_on))
    if json_out:
        typer.echo(reports.render_json(result, show_all=show_all))
    else:
        typer.echo(reports.render_text(result, show_all=show_all, color=_use_color(color)))
    raise typer.Exit(ExitCode.VIOLATIONS if result.gating() else ExitCode.OK)


def _compare(
    snapshots: Sequence[Path],
    policy: Sequence[Path] | None,
    param: Sequence[str] | None,
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
        loaded = load(_policy_paths(policy), param or ())
        m = loaded.plan.model
        read = _read_input(snapshots[0], loaded, reading)
        if operation is not None:
            text = sys.stdin.read() if str(operation) == "-" else _read_text(operation)
            name = "<stdin>" if str(operation) == "-" else str(operation)
            ops = importers.operations.parse(text, name)
            results = delta.introduced(
                loaded.plan, read.converted.document, ops, read.snapshot.file, m
            )
            doc = delta.operations_json(results, str(fail_on))
            out = delta.operations_text(results, str(fail_on))
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
            failing = bool(delta.gating(diff.new, str(fail_on)))
    except (DiagnosticError, InputError, UsageError) as exc:
        _fail(exc, json_out)
    if json_out:
        doc = {"version": reports.REPORT_VERSION, **doc}
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        typer.echo(out)
    raise typer.Exit(ExitCode.VIOLATIONS if failing else ExitCode.OK)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


@app.command()
def explain(
    snapshot: SnapshotArg,
    policy: PolicyOpt = None,
    param: ParamOpt = None,
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
) -> None:
    """Explain outcomes: the policy line, each value read and where it came from.

    Explains every fail and error (of --rule, when given). With --resource, explains
    every outcome of that resource, passes and skips included. Exit 1 when an explained
    outcome is a fail or an error.
    """
    json_out = fmt is ExplainFormat.JSON
    try:
        loaded = load(_policy_paths(policy), param or ())
        store = _read_snapshot(snapshot, loaded, Reading(str(input_format), region, verbose))
        results = _select(evaluate(loaded.plan, store), loaded, store, rule, resource)
    except (DiagnosticError, InputError, UsageError) as exc:
        _fail(exc, json_out)
    proofs = [trace(store, r) for r in results]
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "version": reports.REPORT_VERSION,
                    "explanations": [proof_to_json(p) for p in proofs],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    elif not proofs:
        scope = f" `{rule}`" if rule else ""
        typer.echo(f"nothing to explain: no rule{scope} fails or errors on this snapshot")
    else:
        render = render_proof_markdown if fmt is ExplainFormat.MARKDOWN else render_proof_text
        typer.echo("\n\n".join(render(p) for p in proofs))
    failing = any(r.status in (Status.FAIL, Status.ERROR) for r in results)
    raise typer.Exit(ExitCode.VIOLATIONS if failing else ExitCode.OK)


def _select(
    results: list[Result], loaded: Loaded, store: Store, rule: str | None, resource: str | None
) -> list[Result]:
    if rule is not None:
        ids = {r.id for r in loaded.plan.rules}
        names = {r.name: r.id for r in loaded.plan.rules}
        if rule not in ids and rule not in names:
            hint = did_you_mean(rule, [*ids, *names])
            raise UsageError(f"no rule `{rule}`" + (f"; {hint}" if hint else ""))
        wanted = rule if rule in ids else names[rule]
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


@app.command()
def schema() -> None:
    """Print the JSON Schema of the snapshot format (also `snapshot schema`)."""
    typer.echo(json.dumps(json_schema(), indent=2))


snapshot_app = typer.Typer(
    no_args_is_help=True, help="Convert inputs to the normalized snapshot, count what one holds."
)
app.add_typer(snapshot_app, name="snapshot")
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
    source: Path, policy: Sequence[Path] | None, reading: Reading
) -> tuple[importers.Read, Store]:
    """An input, converted and checked against the model of the policies (default: the
    bundled packs)."""
    loaded = load(_policy_paths(policy))
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
