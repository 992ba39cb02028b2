"""Standard output that cannot be written (here a full device) is the output's failure,
said in one line with exit 2, as an `--output` file's is: never the engine's internal
error (exit 4). The installed command, as its own process: the exit is decided at its
entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "examples" / "ecs-account" / "snapshot.json")
FULL = Path("/dev/full")


@pytest.mark.skipif(not FULL.exists(), reason="a system without a full device to write to")
@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", EXAMPLE],  # the text report
        ["evaluate", "--format", "json", "--all", EXAMPLE],  # a document in pieces
        ["evaluate", "--format", "junit", EXAMPLE],
        ["explain", "--format", "json", EXAMPLE],
        ["check", "--format", "json", str(ROOT / "policies")],
        ["rules", "--no-such-option", "--format", "json"],  # a usage error's JSON
    ],
)
def test_a_full_standard_output_is_an_output_that_cannot_be_written(args: list[str]) -> None:
    with FULL.open("w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "policyengine", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=120,
        )
    assert done.returncode == 2, done.stderr
    assert "error: cannot write the standard output: No space left on device" in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
