"""The engine as a library: every step a command takes, as a function with typed results.

    policies = load_policies([Path("policies/")])
    stores = read_snapshots([Path("account.json")], policies)
    report = evaluate_report(policies, stores, Gate("high"))
    print(render(Format.SARIF, report))      # policyengine.outputs

Errors are raised, never printed: `UsageError` (a name or path the engine cannot act on),
`InputError` (an input that is not valid, each problem with its place) and
`DiagnosticError` (a policy that does not parse or check), all in `core.errors`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from policyengine.core.diagnostics import Diagnostic, Level
from policyengine.core.errors import InputError, UsageError
from policyengine.core.files import Confinement
from policyengine.frontend.loader import (
    Loaded,
    bundled_policies,
    bundled_root,
    find_files,
    front,
    load,
)
from policyengine.inputs import importers
from policyengine.inputs.files import read_text
from policyengine.inputs.reads import Reads, attributes_read
from policyengine.pipeline.reading import Reading

if TYPE_CHECKING:
    from policyengine.frontend import cost as costs
    from policyengine.frontend.describe import RuleDescription
    from policyengine.inputs.store import Store
    from policyengine.pipeline import delta
    from policyengine.pipeline import testing as policy_tests
    from policyengine.results import baseline as baselines
    from policyengine.results import explanations
    from policyengine.results.report import Gate, Part, Report
    from policyengine.results.waivers import Waiver, WaiversFile

# A stage's modules are imported by the functions that use them: a command runs a few of
# these functions, and importing every stage up front was most of a small run's time.

POLICY_SUFFIXES = (".policy",)
SOURCE_SUFFIXES = (".policy", ".model")


# ------------------------------------------------------------------ policies


def policy_paths(given: Sequence[Path] | None = None, *, opt_in: bool = False) -> list[Path]:
    """The policy files named and under the folders named; for none, the bundled packs a
    run reads by default (`opt_in`: every bundled pack, as `docs` documents them)."""
    if given:
        return find_files(given, POLICY_SUFFIXES, "policy file")
    return bundled_policies(opt_in=opt_in)


def source_paths(given: Sequence[Path] | None = None) -> list[Path]:
    """Policy and model files named and under the folders named (default: the packs)."""
    return find_files(given or [bundled_root()], SOURCE_SUFFIXES, "file")


def load_policies(
    paths: Sequence[Path] | None = None,
    params: Sequence[str] = (),
    params_file: Path | None = None,
) -> Loaded:
    """Policies parsed, checked and compiled (default: the bundled packs). `params` are
    `NAME=VALUE` or `POLICY.NAME=VALUE` and win over the `params_file`'s values."""
    return load(policy_paths(paths), params, params_file)


@dataclass(frozen=True)
class Checked:
    """What `check` finds: every diagnostic once, in order, and the rules' costs."""

    files: list[Path]
    diagnostics: list[Diagnostic]
    costs: list[costs.RuleCost] = field(default_factory=list)  # asked for, and no error

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level is Level.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level is Level.WARNING]


def check(
    paths: Sequence[Path] | None = None, params: Sequence[str] = (), *, cost: bool = False
) -> Checked:
    """Policies and models parsed, checked and linted, without a snapshot; with `cost`,
    what each rule's evaluation looks up and scans."""
    from policyengine.frontend import cost as costs
    from policyengine.frontend.lint import check_diagnostics

    files = source_paths(paths)
    checked = front(files, params)
    diags = check_diagnostics(checked)
    result = Checked(files, diags)
    if cost and not result.errors:
        return Checked(files, diags, costs.plan_cost(load(checked=checked).plan))
    return result


def describe(policies: Loaded, rule: str) -> RuleDescription:
    """What a rule (by id or name) checks, in words: `explain --rule` without a snapshot."""
    from policyengine.frontend.describe import describe_rule
    from policyengine.results import explanations

    return describe_rule(explanations.find_rule(policies.plan, rule))


# ------------------------------------------------------------------ inputs

OnRead = Callable[[importers.Read], None]


def read_input(
    path: Path,
    policies: Loaded,
    reading: Reading = Reading(),
    stdin: str | None = None,
    on_read: OnRead | None = None,
) -> importers.Read:
    """An input file or folder (or `-`, stdin), in the format `reading.format` names or
    detected, converted to the normalized snapshot of the policies' model. `on_read` is
    told how it was read."""
    return _read(path, policies, reading, stdin, on_read)


def _read(
    path: Path,
    policies: Loaded,
    reading: Reading,
    stdin: str | None,
    on_read: OnRead | None,
    reads: Reads = None,
) -> importers.Read:
    options = importers.Options(reading.region, reading.tf_dir)
    read = importers.read(path, reading.format, policies.plan.model, options, stdin, reads)
    if on_read is not None:
        on_read(read)
    return read


def read_snapshot(
    path: Path, policies: Loaded, reading: Reading = Reading(), on_read: OnRead | None = None
) -> Store:
    """One input, read and indexed for evaluation."""
    # Only what the rules read is decoded (from a large file), checked and converted: see
    # `inputs.reads` and `inputs.projection`.
    reads = attributes_read(policies.plan)
    read = _read(path, policies, reading, None, on_read, reads)
    return importers.to_store(read.snapshot, policies.plan.model, reading.now, reads)


def read_snapshots(
    paths: Sequence[Path],
    policies: Loaded,
    reading: Reading = Reading(),
    on_read: OnRead | None = None,
) -> list[Store]:
    """Every input, with the problems of all of them raised together."""
    stores, problems = [], []
    for path in paths:
        try:
            stores.append(read_snapshot(path, policies, reading, on_read))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    # Loaded data holds no cycles and lives until the end: keep the cyclic collector from
    # walking it again and again while results are made (measured: a third of the time
    # on a 20,000-instance account).
    gc.freeze()
    return stores


def waiver_files(given: Path | None, policies: Sequence[Path] | None) -> list[WaiversFile]:
    """`given`, else the first of waivers.yaml, waivers.yml, waivers.json in each policy
    folder (which must stay inside that folder)."""
    from policyengine.results.waivers import DEFAULT_NAMES, WaiversFile

    if given is not None:
        return [WaiversFile(given)]
    found: list[WaiversFile] = []
    for folder in policies or ():
        if folder.is_dir():
            for name in DEFAULT_NAMES:
                if (folder / name).exists():
                    found.append(WaiversFile(folder / name, Confinement.of([folder])))
                    break
    return found


def read_waivers(files: Sequence[Path | WaiversFile]) -> list[Waiver]:
    """The waivers of every file, checked. Raises WaiversError."""
    from policyengine.results import waivers

    return waivers.read_waivers(files)


def read_baseline(path: Path) -> baselines.Baseline:
    """A baseline written by `evaluate --write-baseline`. Raises BaselineError."""
    from policyengine.results import baseline as baselines

    return baselines.parse_baseline(read_text(path, "baseline file"), str(path))


# ------------------------------------------------------------------ evaluation


def evaluate_report(
    policies: Loaded,
    stores: Sequence[Store],
    gate: Gate | str = "low",
    *,
    waivers: Sequence[Waiver] = (),
    waiver_files: Sequence[str] = (),
    baseline: baselines.Baseline | None = None,
    today: date | None = None,
    every_outcome: bool = True,
    any_account: bool = False,
) -> Report:
    """Every outcome of the policies over the snapshots, fails and errors traced, with
    waivers (expired as of `today`) and the baseline applied. `gate` is what fails the
    run, or only its lowest failing severity. Without `every_outcome`, passes and skips
    are counted, not kept (`outputs.needs_every_outcome` says when they are needed). A
    baseline entry hides a finding of the account it was written for only, unless
    `any_account`."""
    from policyengine.results import report

    return report.build(
        policies.plan,
        stores,
        gate,
        waivers=waivers,
        waiver_files=waiver_files,
        baseline=baseline,
        today=today,
        every_outcome=every_outcome,
        any_account=any_account,
    )


def executor_options(executor: str, scheduler: str | None) -> None:
    """Usage errors of --executor and --scheduler together (checked before the running
    apart, which a plain run does not import, is wanted)."""
    if executor == "dask" and not scheduler:
        raise UsageError("--executor dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
    if executor != "dask" and scheduler:
        raise UsageError("--scheduler is for --executor dask")


def evaluate_apart(
    policies: Loaded,
    paths: Sequence[Path],
    reading: Reading,
    stdin: Callable[[], str],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    timeout: float = 10.0,
    echo: Callable[[str], None] | None = None,
) -> list[Part]:
    """Each snapshot evaluated as its own task, in `workers` processes or on the Dask
    cluster at `scheduler`; `report.assemble` makes the report of the parts."""
    from policyengine.pipeline import jobs

    tasks = jobs.tasks_for(paths, reading, stdin)
    if scheduler is not None:
        done = jobs.run_dask(policies.plan, tasks, scheduler, timeout)
    else:
        done = jobs.run_local(policies.plan, tasks, workers)
    return jobs.collect(policies.plan, done, echo)


def explain(
    policies: Loaded,
    store: Store,
    *,
    rule: str | None = None,
    resource: str | None = None,
    waivers: Sequence[Waiver] = (),
    today: date | None = None,
) -> list[explanations.Explanation]:
    """The fails and errors (of `rule`), or every outcome of `resource`, each traced to
    the policy line and the values read, with the live waiver that covers it."""
    from policyengine.results import explanations

    return explanations.explain(
        policies.plan, store, rule=rule, resource=resource, waivers=waivers, today=today
    )


def operation_findings(
    policies: Loaded, before: importers.Read, operations: str, file: str = "<operations>"
) -> list[delta.Introduced]:
    """The findings each API call in `operations` (JSON, or `aliyun ecs ACTION --Param
    value` lines) would add to the account `before` holds, applied in turn."""
    from policyengine.pipeline import delta

    ops = importers.operations.parse(operations, file)
    m = policies.plan.model
    return delta.introduced(policies.plan, before.converted.document, ops, before.snapshot.file, m)


def snapshot_diff(policies: Loaded, old: importers.Read, new: importers.Read) -> delta.Diff:
    """The findings new, fixed and unchanged between two inputs of one account."""
    from policyengine.pipeline import delta

    m = policies.plan.model
    return delta.compare(
        delta.findings(policies.plan, old.converted.document, old.snapshot.file, m),
        delta.findings(policies.plan, new.converted.document, new.snapshot.file, m),
    )


def run_policy_tests(
    paths: Sequence[Path] | None = None, *, coverage: bool = False
) -> policy_tests.Run:
    """Every `*.test.yaml` under `paths` (default: the bundled packs) run, with the
    coverage of outcomes and branches when asked."""
    from policyengine.pipeline import testing as policy_tests

    found = policy_tests.find_test_files(paths or [bundled_root()])
    return policy_tests.run_tests([policy_tests.read_test_file(p) for p in found], coverage)


__all__ = [
    "Checked",
    "check",
    "describe",
    "evaluate_apart",
    "evaluate_report",
    "explain",
    "load_policies",
    "operation_findings",
    "policy_paths",
    "read_baseline",
    "read_input",
    "read_snapshot",
    "read_snapshots",
    "read_waivers",
    "run_policy_tests",
    "snapshot_diff",
    "source_paths",
    "waiver_files",
]
