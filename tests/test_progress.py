"""The progress display of a long run: on stderr when it is a terminal (here a
pseudo-terminal), with the stages and their counts; never on stdout, never with --quiet,
never when stderr is a pipe, and not before the delay."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import ROOT

EXAMPLE = str(ROOT / "examples" / "ecs-account" / "snapshot.json")
SCRIPT = str(Path(sys.executable).parent / "policyengine")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def _env(delay: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return {**env, "TERM": "xterm", "POLICYENGINE_PROGRESS_DELAY": delay}


def run_on_a_terminal(args: Sequence[str], delay: str = "0") -> tuple[int, str, str]:
    """The installed command with stderr on a pseudo-terminal and stdout on a pipe:
    (exit code, stdout, what the terminal received)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [SCRIPT, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=_env(delay),
    )
    os.close(slave)
    assert proc.stdout is not None
    out, tty = bytearray(), bytearray()
    streams = {master: tty, proc.stdout.fileno(): out}
    while streams:
        ready, _, _ = select.select(list(streams), [], [], 120)
        assert ready, "the command neither wrote nor ended in two minutes"
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal's last writer has gone (EIO on Linux)
                chunk = b""
            if chunk:
                streams[fd] += chunk
            else:
                del streams[fd]
    os.close(master)
    code = proc.wait(timeout=120)
    proc.stdout.close()
    return code, out.decode("utf-8"), tty.decode("utf-8", "replace")


def test_the_stages_show_on_the_terminal_with_their_counts() -> None:
    code, out, tty = run_on_a_terminal(["evaluate", EXAMPLE, "--format", "json"])
    assert code == 1
    report = json.loads(out)  # stdout is the JSON document alone
    assert "\x1b" not in out
    resources = report["summary"]["resources"]
    assert "loading policies" in tty
    assert f"read 1 of 1 input, {resources} resources; indexing snapshot.json" in tty
    assert f"over {resources} resources in 1 snapshot" in tty and "evaluating " in tty
    assert "\x1b[?25l" in tty  # rich hides the cursor while it draws the display


def test_stderr_messages_show_above_the_display() -> None:
    """A message on stderr while the display shows first erases the display's line (the
    display is drawn again under it), so the two never share a line."""
    code, _, tty = run_on_a_terminal(["evaluate", EXAMPLE, "--verbose"])
    assert code == 1 and "loading policies" in tty
    assert f"\r\x1b[2K{EXAMPLE}: read as a normalized snapshot" in tty


@pytest.mark.parametrize(
    ("args", "delay"),
    [
        (["evaluate", EXAMPLE, "--quiet"], "0"),  # asked to be quiet
        (["evaluate", EXAMPLE], "600"),  # done before the delay
    ],
    ids=["quiet", "before-the-delay"],
)
def test_no_display(args: list[str], delay: str) -> None:
    code, out, tty = run_on_a_terminal(args, delay)
    assert code == 1 and "FAILED:" in out
    assert "loading policies" not in tty and "evaluating" not in tty


def test_no_display_when_stderr_is_a_pipe() -> None:
    done = subprocess.run(
        [SCRIPT, "evaluate", EXAMPLE, "--format", "json"],
        capture_output=True,
        text=True,
        env=_env("0"),
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr == "" and json.loads(done.stdout)
