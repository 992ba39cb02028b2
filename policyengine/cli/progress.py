"""What a long run is doing, on stderr: loading policies, reading and indexing each input,
evaluating, with counts, for runs that take more than about a second.

Shown only when stderr is a terminal and the command was not asked to be quiet; never on
stdout, so a report or a machine format there is never mixed with it. The display appears
after `POLICYENGINE_PROGRESS_DELAY` seconds (default 1), so a quick run prints nothing
but its result, and disappears when the run ends. A stage costs a few attribute writes:
nothing is called per resource or per rule, and rich redraws the line from its own thread.
While it shows, messages written to stderr appear above it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from policyengine.cli import console, failure  # failure takes the display away first
from policyengine.cli.options import Color
from policyengine.core.plan import Plan
from policyengine.inputs import importers
from policyengine.pipeline import engine

if TYPE_CHECKING:  # rich.progress is imported when a display shows, not by every run
    from rich.progress import Progress, TaskID

DELAY_VARIABLE: Final = "POLICYENGINE_PROGRESS_DELAY"
DEFAULT_DELAY: Final = 1.0


def _delay() -> float:
    text = os.environ.get(DELAY_VARIABLE, "")
    try:
        return max(0.0, float(text)) if text else DEFAULT_DELAY
    except ValueError:
        return DEFAULT_DELAY


def wanted(quiet: bool) -> bool:
    """Whether a display may show: stderr is a terminal (not dumb) and not --quiet."""
    isatty = getattr(sys.stderr, "isatty", None)
    terminal = bool(isatty is not None and isatty()) and os.environ.get("TERM") != "dumb"
    return terminal and not quiet


class Stages:
    """The stages of one run. `step` says what is being done now; the display shows the
    latest step, the time so far and a spinner, once the run has taken the delay."""

    def __init__(self, enabled: bool, color: Color = Color.AUTO) -> None:
        self.enabled = enabled
        self._color = color
        self._text = "loading policies"
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._stopped = False

    def __enter__(self) -> Stages:
        _Active.stages = self
        if not self.enabled:
            return self
        delay = _delay()
        if delay == 0:
            self._show()
        else:
            self._timer = threading.Timer(delay, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if _Active.stages is self:
            _Active.stages = None

    def step(self, text: str) -> None:
        with self._lock:
            self._text = text
            if self._progress is not None and self._task is not None:
                self._progress.update(self._task, description=text, refresh=True)

    def stop(self) -> None:
        """Takes the display away (before the result is printed); steps after it show
        nothing."""
        with self._lock:
            self._stopped = True
            if self._timer is not None:
                self._timer.cancel()
            if self._progress is not None:
                self._progress.stop()
                self._progress = None

    def _show(self) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._stopped:
                return
            # The display's own console writes to the terminal itself; while it shows,
            # sys.stderr is routed above it, so messages and the display do not mix.
            stream = console.make(self._color, err=True, stream=sys.stderr)
            progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=stream,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=True,
            )
            self._task = progress.add_task(self._text, total=None)
            progress.start()
            self._progress = progress


class _Active:
    """The stages of the running command, so that a failure takes the display away
    before it prints (stdout is not routed above the display)."""

    stages: Stages | None = None


def stop() -> None:
    if _Active.stages is not None:
        _Active.stages.stop()


def step(text: str) -> None:
    if _Active.stages is not None:
        _Active.stages.step(text)


def reading(paths: Sequence[Path], then: engine.OnRead | None) -> engine.OnRead | None:
    """The callback each input read is told of (once per input, never per resource): it
    says how many inputs and resources are read, and which input is being indexed, then
    calls `then` (--verbose). Without a display, `then` itself."""
    if _Active.stages is None or not _Active.stages.enabled:
        return then
    seen = {"inputs": 0, "resources": 0}

    def told(read: importers.Read) -> None:
        seen["inputs"] += 1
        seen["resources"] += len(read.snapshot.resources)
        name = Path(read.snapshot.file).name or read.snapshot.file
        step(
            f"read {seen['inputs']} of {failure.plural(len(paths), 'input')}, "
            f"{seen['resources']:,} resources; indexing {name}"
        )
        if then is not None:
            then(read)

    return told


class _Indexed(Protocol):
    """An input read and indexed (a store): what the display counts of it."""

    @property
    def resources(self) -> Sized: ...


def evaluating(plan: Plan, stores: Sequence[_Indexed]) -> None:
    resources = sum(len(store.resources) for store in stores)
    step(
        f"evaluating {failure.plural(len(plan.rules), 'rule')} over {resources:,} resources "
        f"in {failure.plural(len(stores), 'snapshot')}"
    )
