"""Options shared by several commands, declared once: each `Annotated` type is one option
with its flags and help, and each dataclass is a group of them as a command passes it on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from policyengine.core.errors import UsageError
from policyengine.core.model import parse_time
from policyengine.core.semantics import Severity
from policyengine.inputs import importers
from policyengine.pipeline.config import FailOn
from policyengine.pipeline.reading import Reading
from policyengine.pipeline.selection import Selection


class Color(StrEnum):
    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


SnapshotsArg = Annotated[
    list[Path],
    typer.Argument(
        metavar="SNAPSHOT...",
        allow_dash=True,
        show_default=False,
        help="Snapshot JSON files, one per account; '-' reads stdin.",
    ),
]
OptionalSnapshotArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="SNAPSHOT",
        allow_dash=True,
        show_default=False,
        help="Snapshot JSON file; '-' reads stdin. Leave out to describe --rule.",
    ),
]
InputArg = Annotated[
    Path,
    typer.Argument(
        metavar="INPUT",
        allow_dash=True,
        show_default=False,
        help="A snapshot, aliyun CLI output (file or folder), or Terraform JSON; '-' reads stdin.",
    ),
]
PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        metavar="PATH...",
        show_default=False,
        help="Policy and model files or folders. Default: the bundled packs.",
    ),
]
PolicyOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--policy",
        "-p",
        metavar="PATH",
        show_default=False,
        help="Policy file or folder (repeatable). Default: the bundled packs.",
    ),
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        metavar="NAME=VALUE",
        show_default=False,
        help="Set a policy param: NAME=VALUE or POLICY.NAME=VALUE (repeatable).",
    ),
]
ParamsFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--params",
        metavar="FILE",
        show_default=False,
        help="A parameters file (JSON, or YAML for .yaml/.yml): {NAME: VALUE} or "
        "{POLICY: {NAME: VALUE}}. --param wins over it.",
    ),
]
NowOpt = Annotated[
    str | None,
    typer.Option(
        "--now",
        metavar="TIME",
        show_default=False,
        help="The time now() means in rules (ISO 8601). Default: the snapshot's captured_at.",
    ),
]
FailOnOpt = Annotated[
    FailOn,
    typer.Option(
        "--fail-on",
        help="Lowest severity that makes the run fail; none: report, never fail on findings.",
    ),
]
FailOnErrorOpt = Annotated[
    bool,
    typer.Option(
        "--fail-on-error/--no-fail-on-error",
        show_default=False,
        help="Whether an error outcome (could not be decided) fails the run (default: it does).",
    ),
]
RuleOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--rule",
        metavar="GLOB",
        show_default=False,
        help="Evaluate only rules whose id or name matches (repeatable), e.g. 'org_baseline.*'.",
    ),
]
SkipRuleOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--skip-rule",
        metavar="GLOB",
        show_default=False,
        help="Leave out rules whose id or name matches (repeatable).",
    ),
]
TagOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        metavar="TAG",
        show_default=False,
        help="Evaluate only rules with one of these tags (repeatable).",
    ),
]
MinSeverityOpt = Annotated[
    Severity | None,
    typer.Option(
        "--min-severity", show_default=False, help="Evaluate only rules at or above a severity."
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        show_default=False,
        help="Configuration file. Default: the nearest .policyengine.yaml, or pyproject.toml "
        "with [tool.policyengine], from the working directory up.",
    ),
]
NoConfigOpt = Annotated[bool, typer.Option("--no-config", help="Read no configuration file.")]
ColorOpt = Annotated[Color, typer.Option("--color", help="Color the text output.")]
WaiversOpt = Annotated[
    Path | None,
    typer.Option(
        "--waivers",
        metavar="FILE",
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


def _input_format(value: str) -> str:
    if value not in importers.FORMATS:
        listed = ", ".join(repr(f) for f in importers.FORMATS)
        raise typer.BadParameter(f"{value!r} is not one of {listed}.")
    return value


# The choices are the importer registry's: a new importer is a new --input-format.
InputFormatOpt = Annotated[
    str,
    typer.Option(
        "--input-format",
        "-i",
        metavar="<" + "|".join(importers.FORMATS) + ">",
        callback=_input_format,
        help="What SNAPSHOT holds: " + importers.FORMATS_HELP + " auto: tell by the content.",
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region",
        metavar="REGION",
        show_default=False,
        help="Region of aliyun output that does not say it (a single file), and of "
        "Terraform resources whose provider sets none.",
    ),
]
TfDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--tf-dir",
        file_okay=False,
        show_default=False,
        help="Folder of the .tf files of a Terraform plan, when they are not beside it: "
        "findings then name the file and line of each resource block.",
    ),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Say how each input was read (on stderr).")
]


@dataclass(frozen=True)
class PolicyOptions:
    """--policy, --param and --params: which policies, with which parameters."""

    paths: Sequence[Path] | None = None
    params: Sequence[str] = ()
    params_file: Path | None = None


@dataclass(frozen=True)
class InputOptions:
    """--input-format, --region, --verbose, --now and --tf-dir: how inputs are read."""

    format: str = importers.AUTO
    region: str | None = None
    verbose: bool = False
    now: str | None = None
    tf_dir: Path | None = None

    def reading(self) -> Reading:
        return Reading(self.format, self.region, self.verbose, _parse_now(self.now), self.tf_dir)


@dataclass(frozen=True)
class WaiverOptions:
    """--waivers and --today: which findings are accepted, and until when."""

    file: Path | None = None
    today: str | None = None


def _parse_now(text: str | None) -> datetime | None:
    if text is None:
        return None
    value = parse_time(text)
    if value is None:
        raise UsageError(f"--now `{text}` is not a time in ISO 8601 form, e.g. 2024-05-01T00:00Z")
    return value


@dataclass(frozen=True)
class SelectionOptions:
    """--rule, --skip-rule, --tag and --min-severity: which loaded rules are evaluated."""

    rules: Sequence[str] = ()
    skip: Sequence[str] = ()
    tags: Sequence[str] = ()
    min_severity: Severity | None = None

    def selection(self) -> Selection:
        return Selection(tuple(self.rules), tuple(self.skip), tuple(self.tags), self.min_severity)
