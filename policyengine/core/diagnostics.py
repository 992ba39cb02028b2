"""Diagnostics: data first, text second.

A `Diagnostic` is a record; `render_text` draws it in the rustc/ruff caret layout and
`to_json` gives the stable JSON shape. Exceptions carry diagnostics, never formatted text.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from policyengine.core.source import Span


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    # Outcomes of evaluation, drawn in the same layout by `explain`.
    FAIL = "fail"
    PASS = "pass"
    SKIPPED = "skipped"


# Stable codes: tests and `--format json` users match on these, never on wording.
CODES: dict[str, str] = {
    "PE001": "syntax error",
    "PE002": "invalid literal",
    "PE003": "file too large",
    "PE101": "unknown model",
    "PE102": "unknown kind",
    "PE103": "unknown relation",
    "PE104": "unknown attribute",
    "PE105": "unknown name",
    "PE106": "type mismatch",
    "PE107": "ambiguous relation",
    "PE108": "duplicate declaration",
    "PE109": "location mismatch",
    "PE110": "invalid regular expression",
    "PE111": "invalid model declaration",
    "PE112": "unknown function",
    "PE113": "invalid parameter",
    "PE114": "unknown placeholder",
    "PE115": "alias required",
    "PE116": "shadowed name",
    "PE117": "unknown type",
    "PE118": "a quantifier's body holds a clause that does not use its variable",
    # Authoring warnings of `policyengine check`: the rules run, but not as written.
    "PE150": "unused param",
    "PE151": "a rule that can never apply",
    "PE152": "a condition that is always true or always false",
    "PE500": "the rule does not hold",
    "PE501": "the rule could not be decided",
    "PE502": "the rule holds",
    "PE503": "the rule does not apply",
    "PE601": "invalid waivers file",
    "PE602": "expired waiver",
    "PE603": "waiver that matches no finding",
    "PE701": "invalid configuration file",
}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str  # one lowercase line, no final period; user names in backticks
    span: Span
    label: str = ""  # printed after the carets
    notes: tuple[str, ...] = ()
    help: str = ""
    level: Level = Level.ERROR

    def sort_key(self) -> tuple[str, int, str]:
        return (self.span.file, self.span.start, self.code)


@dataclass
class DiagnosticError(Exception):
    """Raised by a stage that cannot go on; carries what to show the user."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n\n".join(render_text(d) for d in self.diagnostics)


class Collector(list[Diagnostic]):
    """Where a stage that never stops at the first problem puts what it finds."""

    def error(
        self,
        code: str,
        message: str,
        span: Span,
        label: str = "",
        *,
        help: str = "",
        notes: tuple[str, ...] = (),
    ) -> None:
        self.append(Diagnostic(code, message, span, label, notes, help))

    def warning(
        self, code: str, message: str, span: Span, label: str = "", *, help: str = ""
    ) -> None:
        self.append(Diagnostic(code, message, span, label, (), help, Level.WARNING))


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """The `help` text naming the nearest known name, or "" when none is near: a name a
    typo away (a third of its letters edited, at most), so that `os_type` does not
    suggest `instance_type`."""
    close = difflib.get_close_matches(word, sorted(set(known)), n=3, cutoff=0.6)
    most = max(1, len(word) // 3)
    # Near the whole name, or near its start (`disk atach` -> `disk attach instance`).
    near = [
        c
        for c in close
        if min(_edits(word.lower(), c.lower()), _edits(word.lower(), c[: len(word)].lower()))
        <= most
    ]
    return f"did you mean `{near[0]}`?" if near else ""


def _edits(a: str, b: str) -> int:
    """Levenshtein distance, with a swap of two neighbours counted as one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            row.append(cost)
        previous2, previous = previous, row
    return previous[-1]


def render_text(diag: Diagnostic) -> str:
    """Caret-under-source rendering. Plain text: the CLI adds color, snapshots stay plain."""
    out = [f"{diag.level}[{diag.code}]: {diag.message}", *excerpt(diag.span, diag.label)]
    pad = " " * len(str(_anchor(diag.span)[0]))
    out += [f"{pad} = {note}" for note in diag.notes]
    if diag.help:
        out.append(f"{pad} = help: {diag.help}")
    return "\n".join(out)


def _anchor(span: Span) -> tuple[int, int]:
    """Where the caret goes: the span's start, or the last character for a span at the
    very end of the text (so "unexpected end of file" points at something)."""
    source, start = span.source, span.start
    if start >= len(source.text.rstrip()) and source.text.strip():
        start = len(source.text.rstrip()) - 1
    return source.line_col(start)


def cells(text: str) -> int:
    """How many terminal columns the text takes: East Asian wide and fullwidth characters
    (CJK) two, combining marks and format characters none, the rest one."""
    if text.isascii():  # every ASCII character takes one column
        return len(text)
    return sum(_cells(ch) for ch in text)


def _blank(text: str) -> str:
    """Blanks as wide as the text on a terminal, its tabs kept (so a caret under it lines
    up whatever the tab stops)."""
    if text.isascii():
        # Measured in C: a generated condition puts thousands of diagnostics on one line
        # of tens of thousands of characters.
        return "\t".join(" " * len(part) for part in text.split("\t"))
    return "".join("\t" if ch == "\t" else " " * _cells(ch) for ch in text)


def _cells(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def excerpt(span: Span, label: str) -> list[str]:
    """The `--> file:line:col` line, the source line and a caret line under the span,
    clamped to the span's first line. The caret is measured in terminal columns, so it
    stands under its text after wide (CJK) characters too; tabs are kept."""
    line, col = _anchor(span)
    text = span.source.line_text(line)
    end_line, end_col = span.source.line_col(span.end)
    width = (end_col - col) if end_line == line else (len(text) - col + 1)
    width = max(1, min(width, len(text) - col + 1))
    width = max(1, cells(text[col - 1 : col - 1 + width]))
    pad = " " * len(str(line))
    indent = _blank(text[: col - 1])
    return [
        f"{pad}--> {span.file}:{line}:{col}",
        f"{pad} |",
        f"{line} | {text}",
        f"{pad} | {indent}{'^' * width} {label}".rstrip(),
    ]


def to_json(diag: Diagnostic) -> dict[str, object]:
    return {
        "code": diag.code,
        "level": str(diag.level),
        "message": diag.message,
        "span": diag.span.to_json(),
        "label": diag.label,
        "notes": list(diag.notes),
        "help": diag.help,
    }


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diags, key=Diagnostic.sort_key)
