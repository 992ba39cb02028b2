"""Every kind of error the engine reports to a user, in one place.

Each kind maps to one outcome of a command: `UsageError` is a command line or a path the
engine cannot act on (exit 2); `InputError` is a snapshot, parameters file, baseline or
test file that is not valid, with a JSON Pointer to each problem (exit 3);
`DiagnosticError` (a policy that does not parse or check) and its `WaiversError` carry
diagnostics with a source line and caret (exit 3). Callers tell them apart by type.
"""

from __future__ import annotations

from dataclasses import dataclass

from policyengine.core.diagnostics import DiagnosticError


class UsageError(Exception):
    """A command line the engine cannot act on (exit 2), said in one sentence."""


class MissingInput(UsageError):
    """An input path that names no file or folder (a usage error, not bad input)."""


@dataclass(frozen=True)
class Problem:
    file: str
    pointer: str  # JSON Pointer to the offending place, "" for the whole document
    message: str

    def render(self) -> str:
        where = f"{self.file}:{self.pointer}" if self.pointer else self.file
        return f"error: {where}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "pointer": self.pointer, "message": self.message}


class InputError(Exception):
    """An input that cannot be used. Carries every problem found, in order."""

    def __init__(self, problems: list[Problem], what: str = "snapshot") -> None:
        super().__init__("\n".join(p.render() for p in problems))
        self.problems = problems
        self.what = what  # the kind of input: "snapshot", "parameters file", "baseline"


class BaselineError(InputError):
    """A baseline file that cannot be read as one."""

    def __init__(self, problems: list[Problem], what: str = "baseline") -> None:
        super().__init__(problems, what)


class WaiversError(DiagnosticError):
    """A waivers file that is not valid: its diagnostics point into the file."""


__all__ = [
    "BaselineError",
    "DiagnosticError",
    "InputError",
    "MissingInput",
    "Problem",
    "UsageError",
    "WaiversError",
]


class YamlError(Exception):
    """A YAML document that is not a JSON value: where (1-based line and column), and why."""

    def __init__(self, file: str, line: int, column: int, problem: str, index: int = 0) -> None:
        super().__init__(f"{file}:{line}:{column}: {problem}")
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
        self.index = index  # character offset of the place
