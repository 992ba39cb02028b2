"""Source text and spans: the coordinates every diagnostic and explanation points at.

Imports nothing from the package, so every stage can depend on it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True, eq=False)
class Source:
    """One file's text, with a line index computed once."""

    name: str  # as the user named it: shown in every `--> file:line:col`
    text: str

    @cached_property
    def _line_starts(self) -> tuple[int, ...]:
        # Newlines found by `str.find` (in C): a loop per line, not per character, which
        # on a snapshot of one long line is the difference between none and millions.
        starts, find = [0], self.text.find
        at = find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = find("\n", at + 1)
        return tuple(starts)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        starts = self._line_starts
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end].rstrip("\r")


@dataclass(frozen=True)
class Span:
    """A half-open range of character offsets in one source."""

    source: Source = field(compare=False, repr=False)
    start: int
    end: int

    @property
    def file(self) -> str:
        return self.source.name

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.line_col(self.start)[1]

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of `other`."""
        return Span(self.source, min(self.start, other.start), max(self.end, other.end))

    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to_json(self) -> dict[str, object]:
        end_line, end_col = self.source.line_col(self.end)
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": end_line,
            "end_column": end_col,
        }
