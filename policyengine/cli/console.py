"""Colour on the command line: one place decides whether a stream is coloured, and every
command writes its text for people through a rich Console made here.

The decision, in order: `--color always|never`; then `NO_COLOR` (any value: none); then
`FORCE_COLOR` (any value but empty: colour, even through a pipe; 2 asks for 256 colours,
3 for true colour); then whether the stream is a terminal (and `TERM` is not `dumb`).

The library renders plain text (snapshots and machine formats stay plain); a command gives
it a highlighter here, whose patterns mark the parts people look for: statuses, rule ids,
locations, carets, the verdict. Machine formats (json, sarif, junit, gitlab, github) are
never written through `emit` with a highlighter, so they are never coloured.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import IO, TYPE_CHECKING, ClassVar, Final, TextIO

from policyengine.cli.options import Color
from policyengine.core import files

if TYPE_CHECKING:  # rich is imported when text is coloured: plain output never needs it
    from rich.color import ColorSystem
    from rich.console import Console
    from rich.highlighter import RegexHighlighter
    from rich.theme import Theme

# FORCE_COLOR's levels (as Node and chalk read them): 1 basic, 2 256 colours, 3 true colour.
_FORCED: Final = {"2": "256", "3": "truecolor"}

STYLES: Final = {
    "pe.fail": "bold red",
    "pe.error": "bold magenta",
    "pe.warning": "bold yellow",
    "pe.pass": "green",
    "pe.skipped": "dim",
    "pe.note": "bold cyan",
    "pe.rule": "bold",
    "pe.where": "blue",
    "pe.gutter": "blue",
    "pe.caret": "bold red",
    "pe.help": "cyan",
    "pe.dim": "dim",
    "pe.added": "green",
    "pe.removed": "red",
    "pe.hunk": "cyan",
    "pe.critical": "bold red",
    "pe.high": "red",
    "pe.medium": "yellow",
    "pe.low": "cyan",
}


@cache
def theme() -> Theme:
    from rich.theme import Theme

    return Theme(STYLES, inherit=False)


@cache
def _systems() -> dict[str, ColorSystem]:
    from rich.color import ColorSystem

    return {
        "standard": ColorSystem.STANDARD,
        "256": ColorSystem.EIGHT_BIT,
        "truecolor": ColorSystem.TRUECOLOR,
        "windows": ColorSystem.WINDOWS,
    }


def colored(choice: Color, stream: TextIO) -> bool:
    """Whether text for people on `stream` is coloured."""
    if choice is Color.ALWAYS:
        return True
    if choice is Color.NEVER or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty()) and os.environ.get("TERM") != "dumb"


def _system(stream: TextIO) -> str:
    forced = _FORCED.get(os.environ.get("FORCE_COLOR", ""))
    if forced is not None:
        return forced
    isatty = getattr(stream, "isatty", None)
    # A terminal says what it can; a pipe or a file forced to colour gets the 16 basic ones.
    return "auto" if isatty is not None and isatty() else "standard"


def make(choice: Color = Color.AUTO, *, err: bool = False, stream: TextIO | None = None) -> Console:
    """A Console for stdout (or stderr) coloured as `choice` and the environment say. With
    no `stream`, it writes to whatever sys.stdout/sys.stderr is at the time of each write
    (so a progress display that takes stderr over shows messages above itself)."""
    from rich.console import Console

    target = stream if stream is not None else (sys.stderr if err else sys.stdout)
    color = colored(choice, target)
    return Console(
        file=stream,
        stderr=err,
        force_terminal=True if color else None,
        color_system=_system(target) if color else None,  # type: ignore[arg-type]
        no_color=not color,
        theme=theme(),
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )


class Stream:
    """Where a command writes text for people, and whether it is coloured there. rich's
    Console is made for coloured text alone: plain text is written as it is, and a run
    whose output is not coloured never imports rich (a tenth of a small run's time)."""

    def __init__(
        self, choice: Color = Color.AUTO, *, err: bool = False, stream: TextIO | None = None
    ) -> None:
        self._choice, self._err, self._stream = choice, err, stream
        target = stream if stream is not None else (sys.stderr if err else sys.stdout)
        self.colored = colored(choice, target)
        self._console: Console | None = None

    @property
    def file(self) -> IO[str]:
        """The stream given, or sys.stdout/sys.stderr as it is now; the file itself where a
        progress display stands in for it (as rich's Console writes)."""
        if self._stream is not None:
            return self._stream
        current = sys.stderr if self._err else sys.stdout
        found: IO[str] = getattr(current, "rich_proxied_file", current)
        return found

    def console(self) -> Console:
        if self._console is None:
            self._console = make(self._choice, err=self._err, stream=self._stream)
        return self._console


class _Streams:
    """The streams of the running command, set when it starts (each invocation anew, as
    the test runner swaps sys.stdout and sys.stderr)."""

    out: Stream | None = None
    err: Stream | None = None


def use(choice: Color) -> None:
    """The command's --color: the streams `out()` and `err()` return from now on."""
    _Streams.out, _Streams.err = Stream(choice), Stream(choice, err=True)


def reset() -> None:
    _Streams.out = _Streams.err = None


def out() -> Stream:
    if _Streams.out is None:
        _Streams.out = Stream()
    return _Streams.out


def err() -> Stream:
    if _Streams.err is None:
        _Streams.err = Stream(err=True)
    return _Streams.err


def emit(
    stream: Stream,
    text: str,
    marks: Marks | None = None,
    *,
    end: str = "\n",
    file: TextIO | None = None,
) -> None:
    """Writes `text` as it is, coloured by `marks` when the stream is coloured.

    Plain text is written unchanged. Coloured text gets the theme and the terminal's colour
    system, without rich's layout pass: no wrapping, cropping or tab expansion (carets
    line up under tabs, a long line stays one line). `file`: where to write, when not the
    stream's own file (which is never the stand-in a progress display puts in sys.stderr
    to show messages above itself)."""
    out: IO[str] = file if file is not None else stream.file
    if marks is None or not stream.colored:
        files.write_parts(out, text + end)
    else:
        console = stream.console()
        system = _systems().get(console.color_system or "")
        painted = text if system is None else _painted(console, system, text, marks)
        files.write_parts(out, painted + end)
    out.flush()


def _painted(console: Console, system: ColorSystem, text: str, marks: Marks) -> str:
    """`text` with the styles of the marks' matches. Matches are painted one after
    another in a single pass (a 50,000-line report in a fraction of a second, where
    rich's Text takes seconds); where two overlap, rich's Text combines their styles."""
    from rich.text import Text

    spans: list[tuple[int, int, str]] = []
    for pattern in marks.highlights:
        for match in re.finditer(pattern, text):
            for name, value in match.groupdict().items():
                start, stop = match.span(name)
                if value is not None and stop > start:
                    spans.append((start, stop, marks.base_style + name))
    spans.sort()
    if any(a[1] > b[0] for a, b in itertools.pairwise(spans)):
        styled = Text(text, end="")
        marks.highlighter().highlight(styled)
        segments = styled.render(console, end="")
        return "".join(
            seg.style.render(seg.text, color_system=system) if seg.style else seg.text
            for seg in segments
        )
    parts, at = [], 0
    for start, stop, name in spans:
        parts += [
            text[at:start],
            console.get_style(name).render(text[start:stop], color_system=system),
        ]
        at = stop
    parts.append(text[at:])
    return "".join(parts)


def say(text: str, marks: Marks | None = None) -> None:
    """A line (or lines) for people on stderr."""
    emit(err(), text, marks or DIAGNOSTICS, file=sys.stderr)


def show(text: str, marks: Marks | None = None, *, end: str = "\n") -> None:
    """The command's text output on stdout."""
    with _writing_stdout():
        emit(out(), text, marks, end=end)


def document(text: files.Text) -> None:
    """A document on stdout (a report, a JSON answer) as it is, ended by a newline,
    written a part at a time however long (`files.write_parts`); a text made piece by
    piece is written as each piece is made."""
    with _writing_stdout():
        file = out().file
        files.write_parts(file, text)
        file.write("\n")
        file.flush()


@contextmanager
def _writing_stdout() -> Iterator[None]:
    """Standard output that cannot be written (a full device, an I/O error) is the
    output's failure, as an `--output` file's is (exit 2), not the engine's. A reader that
    went away (`| head`) is left to the command line's own handling: it ends quietly."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EPIPE:
            raise
        raise files.CannotWrite("the standard output", exc.strerror or str(exc)) from None


class Marks:
    """The parts of a text people look for, as named groups of patterns: each group's name
    is a style of the theme (after `base_style`). rich's RegexHighlighter of the same
    patterns is made when a text is coloured."""

    base_style: ClassVar[str] = "pe."
    highlights: ClassVar[list[str]] = []
    _made: RegexHighlighter | None = None

    def highlighter(self) -> RegexHighlighter:
        if self._made is None:
            from rich.highlighter import RegexHighlighter

            marks = self

            class Made(RegexHighlighter):
                base_style = marks.base_style
                highlights = marks.highlights

            self._made = Made()
        return self._made


class _Report(Marks):
    """`evaluate`'s text report (results.report.render_text)."""

    highlights = [
        r"(?m)^(?P<rule>[^\s\[]\S*)(?=  \[)",
        r"(?m)^(?P<where>  --> .*)$",
        r"(?m)^  (?:(?P<fail>FAIL)|(?P<error>ERROR)|(?P<pass>PASS)|(?P<skipped>SKIPPED)) ",
        r"(?m)^  (?P<help>fix:)",
        r"(?m)^(?:(?P<fail>error: .*)|(?P<warning>warning: .*)|(?P<dim>note: .*))$",
        r"(?m)^(?:(?P<fail>FAILED: .*)|(?P<pass>(?:PASSED|REPORTED): .*))$",
    ]


class _Diagnostics(Marks):
    """Diagnostics with their source excerpt (core.diagnostics.render_text), `explain`'s
    traces and the messages commands print on stderr."""

    highlights = [
        r"(?m)^(?:(?P<fail>error|fail)|(?P<warning>warning)|(?P<note>note|info)"
        r"|(?P<pass>pass)|(?P<skipped>skip|skipped))(?=\[|: )",
        r"(?m)^\s*(?P<where>--> \S.*)$",
        r"(?m)^(?P<gutter>\s*\d* \|)",
        r"(?m)^\s*\d* \| *\t*(?P<caret>\^+)",
        r"(?m)^\s*(?P<help>= (?:help|fix):)",
        r"(?m)^(?P<rule>checked \d+ files?: .*)$",
        r"(?m)^(?P<fail>internal error: .*)$",
    ]


class _Tests(Marks):
    """`policyengine test`'s results and coverage."""

    highlights = [
        r"(?m)^  (?:(?P<pass>PASS)|(?P<fail>FAIL))  ",
        r"(?m)^(?P<rule>\d+ cases?: .*)$",
        r"(?m)^ +(?P<fail>never:)",
        r"(?m)(?P<fail>\bNO\b)",
    ]


class _Rules(Marks):
    """`policyengine rules`: the id, its severity and enforcement."""

    highlights = [
        r"(?m)^(?P<rule>\S+) +(?:(?P<critical>critical)|(?P<high>high)|(?P<medium>medium)"
        r"|(?P<low>low)) +(?:(?P<dim>advisory)|mandatory)",
        r"(?m)^(?P<dim>    tags: .*)$",
    ]


class _Settings(Marks):
    """`policyengine config`: each key, and where its value came from."""

    highlights = [
        r"(?m)^(?P<rule>[a-z][a-z-]+)(?=  )",
        r"(?m)(?P<dim>\(default\))$",
        r"(?m)(?P<help>\((?:command line|[^()]+:\d+)\))$",
    ]


class _Diff(Marks):
    """`fmt --check`'s unified diffs."""

    highlights = [
        r"(?m)^(?P<rule>(?:---|\+\+\+) .*)$",
        r"(?m)^(?P<hunk>@@ .* @@)",
        r"(?m)^(?P<added>\+(?!\+\+ ).*)$",
        r"(?m)^(?P<removed>-(?!-- ).*)$",
    ]


REPORT: Final = _Report()
DIAGNOSTICS: Final = _Diagnostics()
TESTS: Final = _Tests()
RULES: Final = _Rules()
SETTINGS: Final = _Settings()
DIFF: Final = _Diff()
