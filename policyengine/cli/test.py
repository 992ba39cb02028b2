"""`policyengine test`: policy unit tests, cases and their expected outcomes."""

from typing import Annotated

import typer

from policyengine.cli import console
from policyengine.cli.app import ExitCode, app
from policyengine.cli.failure import fail
from policyengine.cli.options import Color, ColorOpt, PathsArg
from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.errors import InputError, UsageError
from policyengine.pipeline import engine


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
    color: ColorOpt = Color.AUTO,
) -> None:
    """Run policy unit tests: *.test.yaml files of cases and their expected outcomes.

    Exit 0 when every case passes (and coverage reaches --coverage-min); 1 otherwise;
    3 when a test file, policy or snapshot is not valid.
    """
    from policyengine.pipeline import testing as policy_tests

    console.use(color)
    with_coverage = coverage or coverage_min is not None
    try:
        run = engine.run_policy_tests(paths, coverage=with_coverage)
    except InputError as exc:
        console.say("\n".join(p.render() for p in exc.problems))
        console.say("error: a test file or its snapshot is not valid; no test ran")
        raise typer.Exit(ExitCode.INVALID) from None
    except (DiagnosticError, UsageError) as exc:
        fail(exc, False)
    console.show(policy_tests.render_text(run), console.TESTS)
    failed = any(not r.passed for r in run.results)
    if with_coverage:
        console.show("\n" + policy_tests.render_coverage(run.coverage), console.TESTS)
        if coverage_min is not None and run.coverage.percent() < coverage_min:
            typer.echo(
                f"FAILED: coverage {run.coverage.percent():.1f}% is below {coverage_min:g}%",
                err=True,
            )
            failed = True
    raise typer.Exit(ExitCode.VIOLATIONS if failed else ExitCode.OK)
