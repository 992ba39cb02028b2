"""policyengine: policy-as-code for cloud resources, as a library.

Everything a command does is a function here that returns typed results and raises the
errors of `policyengine.core.errors`; the command line only parses options and prints.
`docs/api.md` shows them at work:

    policies = load_policies()                         # the bundled packs
    stores = read_snapshots([Path("account.json")], policies)
    report = evaluate_report(policies, stores, "high")
    print(render(Format.SARIF, report))

The stages underneath, in order: `parse` text into a syntax tree, `load` (parse, check
against the model, compile) files into a plan, build a `Store` from a snapshot,
`evaluate` the plan over it, and `trace` an outcome to explain it.
"""

from policyengine.core.diagnostics import Diagnostic, DiagnosticError
from policyengine.core.errors import (
    BaselineError,
    InputError,
    MissingInput,
    Problem,
    UsageError,
    WaiversError,
)
from policyengine.core.semantics import Severity
from policyengine.core.source import Source, Span
from policyengine.core.version import __version__
from policyengine.frontend.describe import RuleDescription
from policyengine.frontend.loader import Loaded, load
from policyengine.frontend.parser import parse
from policyengine.inputs.importers import Read
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.outputs import Format, render
from policyengine.pipeline.delta import Diff, Introduced
from policyengine.pipeline.engine import (
    Checked,
    check,
    describe,
    evaluate_report,
    explain,
    load_policies,
    operation_findings,
    read_baseline,
    read_input,
    read_snapshot,
    read_snapshots,
    read_waivers,
    run_policy_tests,
    snapshot_diff,
    waiver_files,
)
from policyengine.pipeline.jobs import Reading
from policyengine.pipeline.testing import Run as TestRun
from policyengine.results.baseline import Baseline
from policyengine.results.explanations import Explanation
from policyengine.results.report import Finding, Gate, Report
from policyengine.results.waivers import Waiver, WaiversFile
from policyengine.runtime import Result, Status, evaluate, trace

__all__ = [
    "__version__",
    "Baseline",
    "BaselineError",
    "Checked",
    "Diagnostic",
    "DiagnosticError",
    "Diff",
    "Explanation",
    "Finding",
    "Format",
    "Gate",
    "InputError",
    "Introduced",
    "Loaded",
    "MissingInput",
    "Problem",
    "Read",
    "Reading",
    "Report",
    "Result",
    "RuleDescription",
    "Source",
    "Severity",
    "Span",
    "Status",
    "Store",
    "TestRun",
    "UsageError",
    "Waiver",
    "WaiversError",
    "WaiversFile",
    "check",
    "describe",
    "evaluate",
    "evaluate_report",
    "explain",
    "load",
    "load_policies",
    "operation_findings",
    "parse",
    "parse_snapshot",
    "read_baseline",
    "read_input",
    "read_snapshot",
    "read_snapshots",
    "read_waivers",
    "render",
    "run_policy_tests",
    "snapshot_diff",
    "trace",
    "waiver_files",
]
