"""How a command that cannot go on says so: on stderr for people, as one JSON document on
stdout with `--format json`, and in every other format asked for, so that a file a later
CI step reads is never stale or empty."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer

from policyengine.cli import console, progress
from policyengine.cli.app import ExitCode
from policyengine.core import files
from policyengine.core.diagnostics import DiagnosticError, did_you_mean, render_text, to_json
from policyengine.core.errors import InputError, UsageError, WaiversError
from policyengine.outputs import Format, render_failure
from policyengine.pipeline.config import ConfigError
from policyengine.results import report as reports


@dataclass(frozen=True)
class Output:
    fmt: Format
    path: Path


def outputs(given: Sequence[str]) -> list[Output]:
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


def write(path: Path, text: files.Text) -> None:
    """Writes an output, ended by a newline; one that cannot be written (no folder, a
    folder in its place, a full device, a FIFO no one reads) raises UsageError: exit 2,
    whatever else failed."""
    try:
        files.write_text(path, files.line_ended(text))
    except files.CannotWrite as exc:
        raise UsageError(str(exc)) from None


def write_or_exit(path: Path, text: str) -> None:
    """`write`, ending the command with the usage error when it cannot."""
    try:
        write(path, text)
    except UsageError as exc:
        console.say(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None


def check_outputs(outputs: Sequence[Output], inputs: Sequence[Path]) -> None:
    """Before anything is read: every `--output` can be written, and none is one of the
    inputs (`--output json=snapshot.json` would replace the snapshot). Raises UsageError."""
    for output in outputs:
        for given in inputs:
            if str(given) != "-" and files.same_file(output.path, given):
                raise UsageError(
                    f"--output {output.fmt.value}={output.path} would overwrite the input "
                    f"{given}; write it elsewhere"
                )
        if output.path.is_dir():
            raise UsageError(f"cannot write {output.path}: it is a folder")
        if not output.path.parent.is_dir():
            raise UsageError(f"cannot write {output.path}: no folder {output.path.parent}")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _described(exc: Exception) -> tuple[ExitCode, str, dict[str, Any]]:
    """The exit code, the text for people and the JSON document of an error."""
    if isinstance(exc, DiagnosticError):
        diags = exc.diagnostics
        if isinstance(exc, WaiversError):
            what, kind = "waivers file", "invalid waivers"
        elif isinstance(exc, ConfigError):
            what, kind = "configuration file", "invalid configuration"
        else:
            what, kind = "policies", "invalid policy"
        text = "\n\n".join(render_text(d) for d in diags)
        text += f"\n\nerror: {plural(len(diags), 'problem')} in the {what}; nothing was evaluated"
        return ExitCode.INVALID, text, {"error": kind, "diagnostics": [to_json(d) for d in diags]}
    if isinstance(exc, InputError):
        text = "\n".join(p.render() for p in exc.problems)
        text += f"\nerror: the {exc.what} is not valid; nothing was evaluated"
        problems = [p.to_json() for p in exc.problems]
        return ExitCode.INVALID, text, {"error": f"invalid {exc.what}", "problems": problems}
    return ExitCode.USAGE, f"error: {exc}", {"error": "usage", "message": str(exc)}


def fail(
    exc: Exception, json_out: bool, fmt: Format | None = None, outputs: Sequence[Output] = ()
) -> NoReturn:
    """Reports bad input or usage and exits with its code; JSON users get JSON, and each
    other format (on stdout or in an --output file) says that nothing was evaluated."""
    progress.stop()  # stdout is not routed above a progress display: take it away first
    code, text, doc = _described(exc)
    json_doc = json.dumps({"version": reports.REPORT_VERSION, **doc}, indent=2)
    if json_out:
        console.document(json_doc)
    elif fmt is not None and fmt is not Format.TEXT:
        console.document(render_failure(fmt, str(doc["error"]), text))
    for output in outputs:
        body = (
            json_doc
            if output.fmt is Format.JSON
            else render_failure(output.fmt, str(doc["error"]), text)
        )
        try:
            write(output.path, body)
        except UsageError as unwritable:
            # The output fails too: that is the usage error the run ends with.
            text += f"\nerror: {unwritable}"
            code = ExitCode.USAGE
    console.say(text)
    raise typer.Exit(code)
