"""How a finished command ends: with its exit code, and for the installed command, the
process with it.

When `evaluate` has written its report over a large snapshot, the process still holds
millions of objects (the store, its indexes, the outcomes); freeing them one by one and
then tearing the interpreter down took a quarter of a second of CPU at 100,000 instances
after the last byte was written. Where the command line owns the process (the console
script's `main` says so) and writes to the process's own streams, a finished command
flushes them, runs the exit handlers as an ordinary exit runs them (the method cache is
written by one), and leaves by `os._exit` with the same code: the same output, nothing
freed. Anywhere else (a test's runner, a program that calls the app, a thread still
running, a stream that cannot be flushed), it ends as every command ends, by
`typer.Exit`, and the interpreter's own exit does the rest as ever.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

import typer


class _Process:
    """Whether the command line owns this process: set by the console script alone."""

    owned = False


def own_process() -> None:
    """Called by the console script's entry point: the process ends with the command."""
    _Process.owned = True


def leaves_at_once() -> bool:
    """Whether a finished command may end the process itself: the command line owns it,
    its output goes to the process's own streams and no other thread runs."""
    return (
        _Process.owned
        and sys.stdout is sys.__stdout__
        and sys.stderr is sys.__stderr__
        and threading.active_count() == 1
    )


def finish(code: int) -> NoReturn:
    """Ends a command that has written all of its output, with `code`."""
    if leaves_at_once() and _flushed():
        atexit._run_exitfuncs()  # as the interpreter's exit would, once: they are cleared
        if _flushed():  # what a handler wrote, too
            os._exit(code)
    # An ordinary exit: a stream that cannot be flushed is reported by the interpreter.
    raise typer.Exit(code)


def _flushed() -> bool:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe, a closed stream
        return False
    return True
