"""`policyengine collect`: an account's export through the official Alibaba Cloud SDKs."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from policyengine.cli.app import app


@app.command()
def collect(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="FOLDER",
            help="The folder to write the export into (new, empty).",
        ),
    ],
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region",
            metavar="REGION",
            help="A region to collect (repeatable); default: every region.",
        ),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Send every call to this address (a private endpoint), e.g. http://host:port.",
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, metavar="N", help="Calls at once.")
    ] = 8,
    retries: Annotated[
        int, typer.Option(min=0, max=10, metavar="N", help="Retries of a throttled or failed call.")
    ] = 4,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress", help="Show progress on stderr (default: when a terminal)."
        ),
    ] = None,
) -> None:
    """Export an Alibaba Cloud account through the official SDKs, for `evaluate`.

    Credentials come from the standard chain (environment variables, the aliyun CLI's
    profile, an ECS RAM role) and are never written. Every region, every API the aliyun
    importer reads, every page; calls that fail for good are listed in manifest.json, and
    every rule that needs their data then reports error.
    """
    from policyengine import collect as collector  # the SDKs load only for this command

    show = sys.stderr.isatty() if progress is None else progress
    options = collector.Options(
        out,
        tuple(region or ()),
        endpoint,
        concurrency,
        collector.Retry(attempts=retries + 1),
    )
    try:
        if show:
            from rich.console import Console
            from rich.progress import Progress as Bar

            with Bar(console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("collecting", total=None)

                def tick(p: collector.Progress) -> None:
                    bar.update(task, completed=p.done, total=p.total, description=p.what)

                summary = collector.collect(options, tick)
        else:
            summary = collector.collect(options)
    except (collector.MissingSdk, collector.OutExists) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except collector.CallFailed as exc:
        typer.echo(f"error: the regions could not be listed: {exc}", err=True)
        raise typer.Exit(3) from None
    regions = ", ".join(summary.regions)
    typer.echo(
        f"collected {summary.files} files from {summary.calls} calls in {regions} into "
        f"{summary.out}",
        err=True,
    )
    for failure in summary.failed:
        where = f" in {failure.region}" if failure.region else ""
        typer.echo(f"not collected: {failure.api}{where}: {failure.code}", err=True)
