"""The console-script entry point: the one place a command's outcome becomes an exit."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Sequence

import typer
from typer.exceptions import TyperException

# Each command module registers its command on the app when imported.
from policyengine.cli import (  # noqa: F401
    check,
    collect,
    console,
    docs,
    evaluate,
    explain,
    fmt,
    leave,
    lsp,
    rules,
    schema,
    settings,
    snapshot,
    test,
    waivers,
)
from policyengine.cli.app import ExitCode, for_arguments
from policyengine.core import files, limits
from policyengine.results import report as reports


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
        console.say(f"error: {exc}")
        sys.exit(ExitCode.USAGE)
    leave.own_process()
    try:
        code = for_arguments(sys.argv[1:])(standalone_mode=False)
    except TyperException as exc:  # a usage error found while parsing the command line
        if _wants_json(sys.argv[1:]):
            doc = {
                "version": reports.REPORT_VERSION,
                "error": "usage",
                "message": exc.format_message(),
            }
            try:
                console.document(json.dumps(doc, indent=2))
            except files.CannotWrite as cannot:
                console.say(f"error: {cannot}")
        exc.show()  # type: ignore[attr-defined]
        sys.exit(getattr(exc, "exit_code", ExitCode.USAGE))
    except typer.Abort:
        console.say("aborted")
        sys.exit(ExitCode.USAGE)
    except files.CannotWrite as exc:  # the standard output (`console`): exit 2, as a file's
        console.say(f"error: {exc}")
        sys.exit(ExitCode.USAGE)
    except Exception:  # noqa: BLE001 - the last-resort boundary: report, then exit 4
        if os.environ.get("POLICYENGINE_TRACEBACK"):
            traceback.print_exc()
        console.say(
            "internal error: this is a bug in policyengine, please report it "
            "(set POLICYENGINE_TRACEBACK=1 to see the traceback)"
        )
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
