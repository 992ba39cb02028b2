"""Policy unit tests (`policyengine test`): YAML files of cases, each a small snapshot and
the outcome every (rule, resource) must have, and the coverage they reach.

A test file sits next to its policy (`baseline.test.yaml` tests `baseline.policy`):

    policies: [baseline.policy]          # optional; relative to this file
    params: {required_tags: [owner]}     # optional; for every case
    cases:
      - name: an instance without tags fails
        resources: [{kind: instance, id: i-..., region: cn-hangzhou, zone: cn-hangzhou-h}]
        # or: snapshot: ../../examples/ecs-account/snapshot.json
        expect:
          - {rule: org_baseline.required_tags, resource: i-..., outcome: fail}
          # an error or skipped outcome may pin part of its reason:
          # - {resource: s-..., related: d-..., outcome: skipped, reason: may have been released}

For each rule a case names, its outcomes must be exactly the expected ones, one
expectation per outcome: an outcome that was not expected, or one more outcome for the same
(rule, resource, related) than was expected, is a failure too. A surprising outcome comes
with its explanation.

Coverage says, per rule, whether the cases saw it pass and fail, and for each `and`,
`or` and quantifier whether each way it can be decided happened: each operand of `and`
being the first false one and all of them holding; each operand of `or` being the first
true one and none holding; a quantifier decided by an element and by none. Branches are
read from the tracing interpreter's record of each outcome, which keeps every element
that decided a quantifier but only the first few that did not: coverage is never
over-reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policyengine.core import plan
from policyengine.core.errors import InputError, Problem, YamlError
from policyengine.core.files import Confinement, Refused, admit
from policyengine.core.source import Span
from policyengine.core.yamldoc import load_yaml
from policyengine.frontend.loader import Loaded, find_files, load
from policyengine.inputs.reads import attributes_read
from policyengine.inputs.snapshot import parse_snapshot, read_input, yaml_problem
from policyengine.inputs.store import Store
from policyengine.results.explain import render_proof_text
from policyengine.runtime import Result, Status, Trace, evaluate, trace

SUFFIX = ".test.yaml"

# ---------------------------------------------------------------- the file format


class _Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: str | None = None  # default: the case's `rule`
    resource: str
    related: str | None = None  # the other end of a sentence's edge
    outcome: Literal["pass", "fail", "error", "skipped"]
    reason: str | None = Field(default=None, min_length=1)  # a part of an error's or skip's reason


class _Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    rule: str | None = None
    resources: list[dict[str, Any]] | None = None
    locations: dict[str, list[str]] | None = None
    snapshot: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    expect: list[_Expect] = Field(min_length=1)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policies: list[str] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    cases: list[_Case] = Field(min_length=1)


@dataclass(frozen=True)
class Expectation:
    rule: str
    resource: str
    related: str | None
    outcome: str
    reason: str | None = None  # the outcome's reason must contain it

    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.resource, self.related or "")


@dataclass(frozen=True)
class Case:
    name: str
    snapshot_name: str  # how explanations name the data
    snapshot_text: str
    params: tuple[str, ...]  # NAME=VALUE, as `--param` takes them
    expect: tuple[Expectation, ...]


@dataclass(frozen=True)
class TestFile:
    path: Path
    policies: tuple[Path, ...]
    cases: tuple[Case, ...]


def _param_arg(value: Any) -> str:
    if isinstance(value, list):
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _param_args(params: Mapping[str, Any]) -> list[str]:
    return [f"{k}={_param_arg(v)}" for k, v in params.items()]


def _pointer(loc: Sequence[int | str]) -> str:
    return "/" + "/".join(str(p) for p in loc)


def read_test_file(path: Path, confine: Confinement | None = None) -> TestFile:
    """Reads and validates a test file. Raises InputError naming the file and the place.
    The policies and snapshots it names must resolve inside `confine` (by default the
    working directory and the test file's folder): a test file is data from the
    repository under test, and may not make a run read, or echo, anything else."""
    name = str(path)
    inside = confine or Confinement.of([path])
    try:
        raw = load_yaml(read_input(path, name), name)
    except YamlError as exc:
        raise InputError([yaml_problem(exc)]) from None
    try:
        doc = _File.model_validate(raw)
    except ValidationError as exc:
        raise InputError(
            [Problem(name, _pointer(e["loc"]), e["msg"].lower()) for e in exc.errors()]
        ) from None
    problems: list[Problem] = []
    default = path.with_name(path.name.removesuffix(SUFFIX) + ".policy")
    policies = tuple(path.parent / p for p in doc.policies) if doc.policies else (default,)
    for i, policy in enumerate(policies):
        at = f"/policies/{i}" if doc.policies else ""
        if policy.suffix != ".policy":
            problems.append(
                Problem(name, at, f"{policy} is not a policy file (its name must end in .policy)")
            )
            continue
        try:
            admit(policy, inside)
        except FileNotFoundError:
            problems.append(Problem(name, at, f"no policy file {policy}"))
        except (Refused, OSError) as exc:
            problems.append(Problem(name, at, f"refused: {exc}"))
    cases: list[Case] = []
    for i, case in enumerate(doc.cases):
        at = f"/cases/{i}"
        if (case.resources is None) == (case.snapshot is None):
            problems.append(Problem(name, at, "give either `resources` or `snapshot`"))
            continue
        if case.snapshot is not None:
            file = path.parent / case.snapshot
            try:
                text, shown = read_input(file, str(file), inside), str(file)
            except InputError as exc:
                problems += [Problem(name, f"{at}/snapshot", p.message) for p in exc.problems]
                continue
        else:
            snapshot: dict[str, Any] = {"resources": case.resources}
            if case.locations is not None:
                snapshot["locations"] = case.locations
            text, shown = json.dumps(snapshot), f"{name}:cases/{i}"
        expect = []
        for j, e in enumerate(case.expect):
            rule = e.rule or case.rule
            if rule is None:
                problems.append(Problem(name, f"{at}/expect/{j}", "name the `rule`"))
                continue
            if e.reason is not None and e.outcome not in ("error", "skipped"):
                problems.append(
                    Problem(
                        name,
                        f"{at}/expect/{j}/reason",
                        f"only an error or skipped outcome has a reason, not a {e.outcome}",
                    )
                )
                continue
            expect.append(Expectation(rule, e.resource, e.related, e.outcome, e.reason))
        params = tuple(_param_args({**doc.params, **case.params}))
        cases.append(Case(case.name, shown, text, params, tuple(expect)))
    if problems:
        raise InputError(problems)
    return TestFile(path, policies, tuple(cases))


def find_test_files(paths: Sequence[Path]) -> list[Path]:
    return find_files(paths, (SUFFIX,), "test file")


# ---------------------------------------------------------------- running


@dataclass(frozen=True)
class Mismatch:
    rule: str
    resource: str
    related: str | None
    expected: str | None  # None: an outcome no expectation named
    actual: str | None  # None: no such outcome was reported
    explanation: str  # of the actual outcome, when there is one
    expected_reason: str | None = None  # set when only the reason did not match
    actual_reason: str | None = None


@dataclass(frozen=True)
class CaseResult:
    file: Path
    name: str
    mismatches: tuple[Mismatch, ...]

    @property
    def passed(self) -> bool:
        return not self.mismatches


@dataclass
class Coverage:
    """Per rule: outcomes seen, and each branch with whether it decided once."""

    rules: dict[str, set[str]] = field(default_factory=dict)  # rule -> statuses seen
    branches: dict[str, dict[tuple[int, int, str, int], str]] = field(default_factory=dict)
    decided: set[tuple[str, tuple[int, int, str, int]]] = field(default_factory=set)

    def add_rule(self, rule: plan.RulePlan) -> None:
        if rule.id in self.rules:
            return
        self.rules[rule.id] = set()
        self.branches[rule.id] = dict(_branches(rule))

    def items(self) -> tuple[int, int]:
        """(covered, total) over pass/fail per rule and every branch."""
        total = covered = 0
        for rule, seen in self.rules.items():
            total += 2 + len(self.branches[rule])
            covered += len(seen & {"pass", "fail"})
            covered += sum((rule, b) in self.decided for b in self.branches[rule])
        return covered, total

    def percent(self) -> float:
        covered, total = self.items()
        return 100.0 * covered / total if total else 100.0


@dataclass
class Run:
    results: list[CaseResult] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)


class Loads:
    """Each (policies, params) is loaded once however many cases use it."""

    def __init__(self) -> None:
        self.cache: dict[tuple[tuple[Path, ...], tuple[str, ...]], Loaded] = {}

    def get(self, policies: tuple[Path, ...], params: tuple[str, ...]) -> Loaded:
        key = (tuple(p.resolve() for p in policies), params)
        if key not in self.cache:
            self.cache[key] = load(list(policies), params)
        return self.cache[key]


def run_tests(files: Sequence[TestFile], with_coverage: bool = False) -> Run:
    """Runs every case. Raises DiagnosticError for a policy that does not check and
    InputError for a case's snapshot that is not valid (naming the case)."""
    out = Run()
    loads = Loads()
    for test_file in files:
        for case in test_file.cases:
            coverage = out.coverage if with_coverage else None
            out.results.append(run_case(test_file, case, loads, coverage))
    return out


def run_case(
    test_file: TestFile, case: Case, loads: Loads, coverage: Coverage | None = None
) -> CaseResult:
    """Runs one case of `test_file`, adding what it decided to `coverage` when given.
    Raises like `run_tests`."""
    loaded = loads.get(test_file.policies, case.params)
    try:
        snapshot = parse_snapshot(case.snapshot_text, case.snapshot_name)
        # As `evaluate` reads it: only what the rules read is checked.
        store = Store(snapshot, loaded.plan.model, reads=attributes_read(loaded.plan))
    except InputError as exc:
        raise InputError([_in_case(p, test_file, case) for p in exc.problems]) from None
    results = evaluate(loaded.plan, store)
    if coverage is not None:
        _cover(coverage, loaded, store, results, case)
    return _check_case(test_file.path, case, loaded, store, results)


def _in_case(problem: Problem, test_file: TestFile, case: Case) -> Problem:
    return Problem(problem.file, problem.pointer, f"{problem.message} (case `{case.name}`)")


def _related(result: Result) -> str | None:
    if result.target is not None:
        return result.target.key
    if result.edge is not None:
        return result.edge.value
    return None


def _check_case(
    path: Path, case: Case, loaded: Loaded, store: Store, results: list[Result]
) -> CaseResult:
    known = {r.id for r in loaded.plan.rules}
    rules = {e.rule for e in case.expect}
    mismatches: list[Mismatch] = []
    for rule in sorted(rules - known):
        mismatches.append(Mismatch(rule, "", None, "a rule", None, "no rule has this id"))
    actual: dict[tuple[str, str, str], list[Result]] = {}
    for r in results:
        if r.rule.id in rules:
            actual.setdefault((r.rule.id, r.resource.key, _related(r) or ""), []).append(r)
    expected: dict[tuple[str, str, str], list[Expectation]] = {}
    for e in case.expect:
        expected.setdefault(e.key(), []).append(e)
    for key, wanted in expected.items():
        mismatches += _compare(store, wanted, actual.get(key, []))
    for key, got in actual.items():
        if key not in expected:
            for r in got:
                mismatches.append(
                    Mismatch(
                        r.rule.id, key[1], key[2] or None, None, str(r.status), _explain(store, r)
                    )
                )
    return CaseResult(path, case.name, tuple(mismatches))


def _compare(store: Store, wanted: list[Expectation], got: list[Result]) -> list[Mismatch]:
    """Matches the expectations of one (rule, resource, related) with its outcomes, one to
    one; what is left over on either side is a mismatch."""
    left = list(got)
    unmet: list[Expectation] = []
    out: list[Mismatch] = []
    # Expectations that pin a reason choose first, so that one without a reason does not
    # take the outcome they need.
    for e in sorted(wanted, key=lambda e: e.reason is None):
        same = [r for r in left if str(r.status) == e.outcome]
        match = next((r for r in same if e.reason is None or e.reason in r.reason), None)
        if match is not None:
            left.remove(match)
        elif same:
            r = same[0]
            left.remove(r)
            out.append(
                Mismatch(
                    e.rule,
                    e.resource,
                    e.related,
                    e.outcome,
                    str(r.status),
                    _explain(store, r),
                    expected_reason=e.reason,
                    actual_reason=r.reason,
                )
            )
        else:
            unmet.append(e)
    for e, r in zip_longest(unmet, left):
        if r is None:
            out.append(Mismatch(e.rule, e.resource, e.related, e.outcome, None, ""))
            continue
        # An outcome left over once every expectation has had its own is not expected.
        subject = e or wanted[0]
        out.append(
            Mismatch(
                subject.rule,
                subject.resource,
                subject.related,
                e.outcome if e else None,
                str(r.status),
                _explain(store, r),
            )
        )
    return out


def _explain(store: Store, result: Result) -> str:
    text = render_proof_text(trace(store, result))
    if result.status in (Status.ERROR, Status.SKIPPED) and result.reason not in text:
        text += f"\n  = {result.reason}"
    return text


# ---------------------------------------------------------------- coverage

_Branch = tuple[int, int, str, int]  # op span start, end, op name, branch index


def _where(span: Span) -> str:
    return f"{span.line}:{span.column}"


def _short(span: Span) -> str:
    text = " ".join(span.text.split())
    return text if len(text) <= 50 else text[:47] + "..."


def _branches(rule: plan.RulePlan) -> Iterator[tuple[_Branch, str]]:
    def walk(op: plan.Cond) -> Iterator[tuple[_Branch, str]]:
        match op:
            case plan.AllOp(ops=ops) | plan.AnyOp(ops=ops):
                name = "all" if isinstance(op, plan.AllOp) else "any"
                word, value = ("and", "false") if name == "all" else ("or", "true")
                for i, child in enumerate(ops):
                    label = (
                        f"`{_short(child.span)}` ({_where(child.span)}) decides its `{word}` "
                        f"as {value}"
                    )
                    yield (op.span.start, op.span.end, name, i), label
                none = "every operand holds" if name == "all" else "no operand holds"
                yield (
                    (op.span.start, op.span.end, name, len(ops)),
                    f"`{_short(op.span)}` ({_where(op.span)}): {none}",
                )
                for child in ops:
                    yield from walk(child)
            case plan.NotOp(op=inner):
                yield from walk(inner)
            case plan.QuantOp(quantifier=q, var=var, where=where, body=body):
                head = f"`{q} {var} in ...` ({_where(op.span)})"
                yield (
                    (op.span.start, op.span.end, "quantifier", 0),
                    f"{head}: decided by an element",
                )
                yield (op.span.start, op.span.end, "quantifier", 1), f"{head}: decided by none"
                for part in (where, body):
                    if part is not None:
                        yield from walk(part)
            case _:
                return

    for op in (rule.where, rule.unless, rule.condition):
        if op is not None:
            yield from walk(op)


def _decided(node: Trace) -> Iterator[_Branch]:
    key = (node.span.start, node.span.end)
    if node.op in ("all", "any") and isinstance(node.truth, bool):
        deciding = node.truth is (node.op == "any")  # `and` decided false, `or` true
        if deciding:
            index = next(
                (i for i, c in enumerate(node.children) if c.truth is node.truth),
                None,
            )
            if index is not None:
                yield (*key, node.op, index)
        else:
            yield (*key, node.op, len(node.children))
    elif node.op == "quantifier" and isinstance(node.truth, bool):
        by_element = any(c.op == "element" for c in node.children)
        yield (*key, "quantifier", 0 if by_element else 1)
    for child in node.children:
        yield from _decided(child)


def _cover(
    coverage: Coverage, loaded: Loaded, store: Store, results: list[Result], case: Case
) -> None:
    wanted = {e.rule for e in case.expect}
    for rule in loaded.plan.rules:
        if rule.id in wanted:
            coverage.add_rule(rule)
    for result in results:
        rule = result.rule
        if rule.id not in wanted:
            continue
        coverage.rules[rule.id].add(str(result.status))
        # A skipped outcome was decided too: by a `where` or `unless` whose branches count.
        if result.status not in (Status.PASS, Status.FAIL, Status.SKIPPED):
            continue
        proof = trace(store, result)
        known = coverage.branches[rule.id]
        for part in (proof.where, proof.unless, proof.condition):
            if part is None:
                continue
            for branch in _decided(part):
                # An `and` whose every operand held: the index is its operand count.
                if branch in known:
                    coverage.decided.add((rule.id, branch))


# ---------------------------------------------------------------- text


def _outcome_line(m: Mismatch) -> str:
    subject = m.resource + (f" → {m.related}" if m.related else "")
    if m.expected == "a rule":
        return f"{m.rule}: {m.explanation}"
    if m.actual is None:
        return f"{m.rule}  {subject}: expected {m.expected}, but the rule reported no outcome"
    if m.expected is None:
        return f"{m.rule}  {subject}: not expected, got {m.actual}"
    if m.expected_reason is not None:
        return (
            f"{m.rule}  {subject}: expected {m.expected} with a reason containing "
            f'"{m.expected_reason}", got {m.actual}: {m.actual_reason}'
        )
    return f"{m.rule}  {subject}: expected {m.expected}, got {m.actual}"


def render_text(run: Run) -> str:
    lines: list[str] = []
    current: Path | None = None
    for result in run.results:
        if result.file != current:
            current = result.file
            lines.append(str(current))
        lines.append(f"  {'PASS' if result.passed else 'FAIL'}  {result.name}")
        for m in result.mismatches:
            lines.append(f"        - {_outcome_line(m)}")
            if m.explanation and m.expected != "a rule":
                lines += [f"          {row}".rstrip() for row in m.explanation.splitlines()]
    failed = sum(not r.passed for r in run.results)
    lines.append(f"{len(run.results)} cases: {len(run.results) - failed} passed, {failed} failed")
    return "\n".join(lines)


def render_coverage(coverage: Coverage) -> str:
    lines = ["coverage:"]
    for rule, seen in coverage.rules.items():
        branches = coverage.branches[rule]
        hit = [b for b in branches if (rule, b) in coverage.decided]
        marks = " ".join(f"{o} {'yes' if o in seen else 'NO'}" for o in ("pass", "fail"))
        lines.append(f"  {rule}  {marks}  branches {len(hit)}/{len(branches)}")
        for branch, label in branches.items():
            if (rule, branch) not in coverage.decided:
                lines.append(f"      never: {label}")
    covered, total = coverage.items()
    lines.append(f"coverage {coverage.percent():.1f}% ({covered} of {total} outcomes and branches)")
    return "\n".join(lines)
