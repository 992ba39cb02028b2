"""The installed command ends its process once its output is written (`cli/leave.py`):
the same output, files and exit code as the ordinary exit, the exit handlers run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from conftest import ROOT, run_cli

from policyengine.cli import leave

EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"

# The console script as installed, with an exit handler that writes a file: the handlers
# must run before the process ends.
SCRIPT = """
import atexit, sys
from pathlib import Path
atexit.register(Path(sys.argv[1]).write_text, "handled")
from policyengine.cli import main
sys.argv = ["policyengine", *sys.argv[2:]]
main()
"""


def _installed(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    handled = tmp_path / "handled"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(handled), *args],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, handled


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "--format", "json", str(EXAMPLE)],
        ["evaluate", "--format", "json", "--fail-on", "none", str(EXAMPLE)],
        ["evaluate", "--all", str(EXAMPLE)],
        ["evaluate", "--format", "sarif", "--fail-on", "critical", str(EXAMPLE)],
    ],
    ids=["json", "passing", "text", "sarif"],
)
def test_the_installed_command_ends_as_the_app_does(tmp_path: Path, args: list[str]) -> None:
    code, out, err = run_cli(args)  # in this process: the ordinary exit
    done, handled = _installed(tmp_path, *args)
    assert (done.returncode, done.stdout, done.stderr) == (code, out, err)
    assert handled.read_text() == "handled"


def test_files_written_by_the_installed_command_are_whole(tmp_path: Path) -> None:
    sarif = tmp_path / "report.sarif"
    args = ["evaluate", "--format", "json", "-o", f"sarif={sarif}", str(EXAMPLE)]
    code, out, _ = run_cli([*args[:3], "-o", f"sarif={tmp_path / 'here.sarif'}", args[-1]])
    done, _ = _installed(tmp_path, *args)
    assert (done.returncode, done.stdout) == (code, out)
    assert sarif.read_text() == (tmp_path / "here.sarif").read_text()


def test_a_command_not_owning_its_process_exits_as_ever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(leave._Process, "owned", False)
    with pytest.raises(typer.Exit) as ended:
        leave.finish(3)
    assert ended.value.exit_code == 3


def test_output_captured_away_from_the_process_streams_exits_as_ever(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Owned, but stdout is not the process's own (a test's capture, an embedding program).
    monkeypatch.setattr(leave._Process, "owned", True)
    assert not leave.leaves_at_once()
    with pytest.raises(typer.Exit) as ended:
        leave.finish(1)
    assert ended.value.exit_code == 1
