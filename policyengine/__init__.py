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

from importlib import import_module
from typing import TYPE_CHECKING, Any

from policyengine.core import method_cache

# Before any module of the package makes its dataclasses: their methods' code is kept
# between runs instead of compiled in each (a third of a small run's time).
method_cache.install()

if TYPE_CHECKING:
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
    from policyengine.outputs.docs import render_docs
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
    from policyengine.pipeline.reading import Reading
    from policyengine.pipeline.testing import Run as TestRun
    from policyengine.results.baseline import Baseline
    from policyengine.results.explanations import Explanation
    from policyengine.results.report import Finding, Gate, Report
    from policyengine.results.waivers import Waiver, WaiversFile
    from policyengine.runtime import Result, Status, evaluate, trace

# A name of the library is imported on first use (PEP 562): a command needs a few of them,
# and importing every stage up front cost most of a small run's time.
_WHERE: dict[str, tuple[str, str]] = {
    "Diagnostic": ("policyengine.core.diagnostics", "Diagnostic"),
    "DiagnosticError": ("policyengine.core.diagnostics", "DiagnosticError"),
    "BaselineError": ("policyengine.core.errors", "BaselineError"),
    "InputError": ("policyengine.core.errors", "InputError"),
    "MissingInput": ("policyengine.core.errors", "MissingInput"),
    "Problem": ("policyengine.core.errors", "Problem"),
    "UsageError": ("policyengine.core.errors", "UsageError"),
    "WaiversError": ("policyengine.core.errors", "WaiversError"),
    "Severity": ("policyengine.core.semantics", "Severity"),
    "Source": ("policyengine.core.source", "Source"),
    "Span": ("policyengine.core.source", "Span"),
    "__version__": ("policyengine.core.version", "__version__"),
    "RuleDescription": ("policyengine.frontend.describe", "RuleDescription"),
    "Loaded": ("policyengine.frontend.loader", "Loaded"),
    "load": ("policyengine.frontend.loader", "load"),
    "parse": ("policyengine.frontend.parser", "parse"),
    "Read": ("policyengine.inputs.importers", "Read"),
    "parse_snapshot": ("policyengine.inputs.snapshot", "parse_snapshot"),
    "Store": ("policyengine.inputs.store", "Store"),
    "Format": ("policyengine.outputs", "Format"),
    "render": ("policyengine.outputs", "render"),
    "render_docs": ("policyengine.outputs.docs", "render_docs"),
    "Diff": ("policyengine.pipeline.delta", "Diff"),
    "Introduced": ("policyengine.pipeline.delta", "Introduced"),
    "Checked": ("policyengine.pipeline.engine", "Checked"),
    "check": ("policyengine.pipeline.engine", "check"),
    "describe": ("policyengine.pipeline.engine", "describe"),
    "evaluate_report": ("policyengine.pipeline.engine", "evaluate_report"),
    "explain": ("policyengine.pipeline.engine", "explain"),
    "load_policies": ("policyengine.pipeline.engine", "load_policies"),
    "operation_findings": ("policyengine.pipeline.engine", "operation_findings"),
    "read_baseline": ("policyengine.pipeline.engine", "read_baseline"),
    "read_input": ("policyengine.pipeline.engine", "read_input"),
    "read_snapshot": ("policyengine.pipeline.engine", "read_snapshot"),
    "read_snapshots": ("policyengine.pipeline.engine", "read_snapshots"),
    "read_waivers": ("policyengine.pipeline.engine", "read_waivers"),
    "run_policy_tests": ("policyengine.pipeline.engine", "run_policy_tests"),
    "snapshot_diff": ("policyengine.pipeline.engine", "snapshot_diff"),
    "waiver_files": ("policyengine.pipeline.engine", "waiver_files"),
    "Reading": ("policyengine.pipeline.reading", "Reading"),
    "TestRun": ("policyengine.pipeline.testing", "Run"),
    "Baseline": ("policyengine.results.baseline", "Baseline"),
    "Explanation": ("policyengine.results.explanations", "Explanation"),
    "Finding": ("policyengine.results.report", "Finding"),
    "Gate": ("policyengine.results.report", "Gate"),
    "Report": ("policyengine.results.report", "Report"),
    "Waiver": ("policyengine.results.waivers", "Waiver"),
    "WaiversFile": ("policyengine.results.waivers", "WaiversFile"),
    "Result": ("policyengine.runtime", "Result"),
    "Status": ("policyengine.runtime", "Status"),
    "evaluate": ("policyengine.runtime", "evaluate"),
    "trace": ("policyengine.runtime", "trace"),
}


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
    "render_docs",
    "run_policy_tests",
    "snapshot_diff",
    "trace",
    "waiver_files",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'policyengine' has no attribute {name!r}")
    module, attribute = _WHERE[name]
    value = getattr(import_module(module), attribute)
    globals()[name] = value  # the next use is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
