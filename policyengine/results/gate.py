"""The gate: the one decision of whether a run, an explanation or an operation fails.

Every command that ends in a verdict asks this module, so the same finding exits the same
way everywhere (`evaluate`, `explain`, `evaluate --operation`, `--baseline-snapshot`):
- a finding gates when its rule is mandatory (an advisory rule reports, never gates), its
  severity is at or above `--fail-on`, and it is a fail, or an error while errors count;
  a waiver or a baseline entry that covers it takes it out; with `--fail-on none`
  nothing gates;
- a run in which no rule applied to any resource evaluated nothing: that is its own
  verdict, never "passed".

Exit codes (the command line's): 0 passed, 1 failed, 3 nothing was evaluated (like
invalid input: the run cannot vouch for anything), 2 usage and 4 internal errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from policyengine.core.plan import RulePlan
from policyengine.core.semantics import Enforcement, Severity
from policyengine.runtime import Status


class ExitCode(IntEnum):
    OK = 0  # evaluated; nothing gating
    VIOLATIONS = 1  # evaluated; a gating finding or an expired waiver
    USAGE = 2  # a command line the engine cannot act on, or an output it cannot write
    INVALID = 3  # invalid input, or nothing evaluated
    INTERNAL = 4  # a bug in policyengine; never 1, so CI cannot mistake it for a verdict


class Verdict(StrEnum):
    PASSED = "pass"
    FAILED = "fail"
    NOTHING_EVALUATED = "none"  # no rule applied to any resource

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT[self]

    @property
    def heading(self) -> str:
        return _HEADING[self]


_EXIT = {
    Verdict.PASSED: ExitCode.OK,
    Verdict.FAILED: ExitCode.VIOLATIONS,
    Verdict.NOTHING_EVALUATED: ExitCode.INVALID,
}
_HEADING = {
    Verdict.PASSED: "PASSED",
    Verdict.FAILED: "FAILED",
    Verdict.NOTHING_EVALUATED: "NOTHING EVALUATED",
}


@dataclass(frozen=True)
class Gate:
    """What makes a run fail: a fail (or, unless turned off, an error) outcome of a
    mandatory rule at or above the threshold, that no waiver or baseline covers; or an
    expired waiver."""

    threshold: Severity = Severity.LOW
    fail_on_error: bool = True
    # `--fail-on none`: findings are reported as usual, and nothing fails the run.
    report_only: bool = False

    @classmethod
    def named(cls, fail_on: str, fail_on_error: bool = True) -> Gate:
        """The gate of `--fail-on NAME` (a severity, or `none`) and `--fail-on-error`."""
        if fail_on == "none":
            return cls(Severity.LOW, fail_on_error, report_only=True)
        return cls(Severity(fail_on), fail_on_error)

    def gates(self, rule: RulePlan, status: Status, covered: bool = False) -> bool:
        """Whether one outcome fails the run; `covered`: a waiver or baseline covers it."""
        if self.report_only or covered or rule.enforcement is not Enforcement.MANDATORY:
            return False
        if rule.severity.rank < self.threshold.rank:
            return False
        return status is Status.FAIL or (status is Status.ERROR and self.fail_on_error)

    def verdict(self, gating: int, evaluated: int, expired: int = 0) -> Verdict:
        """The verdict on `gating` findings over `evaluated` (rule, resource) outcomes,
        with `expired` waivers. Nothing evaluated stays its own verdict with `--fail-on
        none` too: reporting nothing is not a report."""
        if evaluated == 0:
            return Verdict.NOTHING_EVALUATED
        if self.report_only:
            return Verdict.PASSED
        return Verdict.FAILED if gating or expired else Verdict.PASSED

    def describe(self) -> str:
        if self.report_only:
            return "--fail-on none"
        errors = "" if self.fail_on_error else ", errors not counted"
        return f"--fail-on {self.threshold}{errors}"
