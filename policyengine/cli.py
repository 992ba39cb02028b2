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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from typer.exceptions import TyperException

from policyengine import baseline as baselines
from policyengine import report as reports
from policyengine.diagnostics import DiagnosticError, did_you_mean, render_text, to_json
from policyengine.explain import proof_to_json, render_proof_markdown, render_proof_text
from policyengine.formats import Format, render, render_failure
from policyengine.interpreter import Result, Status, evaluate, trace
from policyengine.loader import Loaded, UsageError, bundled_policies, load
from policyengine.snapshot import InputError, Problem, json_schema, parse_snapshot
from policyengine.source import Source
from policyengine.store import Store
from policyengine.waivers import DEFAULT_NAMES, Waiver, expired_diagnostic, parse_waivers


class ExitCode(IntEnum):
    OK = 0  # evaluated; no failing outcome at or above the threshold
    VIOLATIONS = 1  # evaluated; a fail or error outcome at or above the threshold
    USAGE = 2  # bad command line (typer's own usage errors exit 2 as well)
    INVALID = 3  # a policy that does not parse or check, or a snapshot that is not valid
    INTERNAL = 4  # a bug in policyengine; never 1, so CI cannot mistake it for a verdict


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


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"no such {what}: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), "", f"cannot be read: {exc}")]) from None


def _waiver_files(given: Path | None, policies: Sequence[Path] | None) -> list[Path]:
    """`--waivers FILE`, else the first of waivers.yaml, waivers.yml, waivers.json in
    each policy folder given with --policy."""
    if given is not None:
        return [given]
    found = []
    for folder in policies or ():
        if folder.is_dir():
            found.extend(next(([folder / n] for n in DEFAULT_NAMES if (folder / n).is_file()), []))
    return found


def _read_waivers(files: Sequence[Path]) -> list[Waiver]:
    waivers: list[Waiver] = []
    diags = []
    for path in files:
        try:
            waivers.extend(parse_waivers(Source(str(path), _read_text(path, "waivers file"))))
        except DiagnosticError as exc:
            diags.extend(exc.diagnostics)
    if diags:
        raise DiagnosticError(diags)
    return waivers


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


def _read_snapshot(path: Path, loaded: Loaded) -> Store:
    if str(path) == "-":
        name, text = "<stdin>", sys.stdin.read()
    else:
        try:
            name, text = str(path), path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"no such snapshot file: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError([Problem(str(path), "", f"cannot be read: {exc}")]) from None
    return Store(parse_snapshot(text, name), loaded.plan.model)


def _read_snapshots(paths: Sequence[Path], loaded: Loaded) -> list[Store]:
    """Every snapshot, with the problems of all of them reported together."""
    stores, problems = [], []
    for path in paths:
        try:
            stores.append(_read_snapshot(path, loaded))
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
        noun = "baseline" if isinstance(exc, baselines.BaselineError) else "snapshot"
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
    waivers: Annotated[
        Path | None,
        typer.Option(
            "--waivers",
            show_default=False,
            help="Waivers file (YAML or JSON). Default: waivers.yaml, waivers.yml or "
            "waivers.json in a --policy folder.",
        ),
    ] = None,
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
) -> None:
    """Evaluate policies over snapshots and report every finding.

    Exit 1 when a fail or error outcome of a mandatory rule is at or above --fail-on and
    no waiver or baseline covers it, or when a waiver has expired.
    """
    json_out = fmt is Format.JSON
    outputs: list[Output] = []
    try:
        outputs = _outputs(output or ())
        day = _today(today)
        loaded = load(_policy_paths(policy), param or ())
        waiver_files = _waiver_files(waivers, policy)
        accepted = _read_waivers(waiver_files)
        known = None
        if baseline is not None:
            known = baselines.parse_baseline(_read_text(baseline, "baseline file"), str(baseline))
        stores = _read_snapshots(snapshots, loaded)
    except (DiagnosticError, InputError, UsageError) as exc:
        _fail(exc, json_out, fmt, outputs)
    for warning in loaded.warnings:
        typer.echo(render_text(warning), err=True)
    result = reports.build(
        loaded.plan,
        stores,
        reports.Gate(str(fail_on), fail_on_error),
        waivers=accepted,
        waiver_files=[str(p) for p in waiver_files],
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
        accepted = _read_waivers(files)
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
) -> None:
    """Explain outcomes: the policy line, each value read and where it came from.

    Explains every fail and error (of --rule, when given). With --resource, explains
    every outcome of that resource, passes and skips included. Exit 1 when an explained
    outcome is a fail or an error.
    """
    json_out = fmt is ExplainFormat.JSON
    try:
        loaded = load(_policy_paths(policy), param or ())
        store = _read_snapshot(snapshot, loaded)
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
    """Print the JSON Schema of the snapshot format."""
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
