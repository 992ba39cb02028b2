"""Results -> the report `evaluate` prints: text for people, JSON for machines.

Findings (fail and error) carry their evidence, which is recorded by re-running only
those pairs with tracing on; the fast path that produced the results recorded nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from fnmatch import fnmatchcase
from functools import cached_property
from typing import Any, Literal

from policyengine.core import collector, plan
from policyengine.core.diagnostics import did_you_mean
from policyengine.core.files import FileText
from policyengine.core.positions import FilePositions, Positions, locate, positions_of
from policyengine.core.semantics import Enforcement, Severity
from policyengine.core.source import Source
from policyengine.core.text import printable
from policyengine.core.version import TOOL, __version__, tool_version
from policyengine.inputs import origins as places
from policyengine.inputs.resources import Resource
from policyengine.inputs.store import Store
from policyengine.results import json_text
from policyengine.results.baseline import Baseline
from policyengine.results.baseline import Entry as BaselineEntry
from policyengine.results.explain import evidence as proof_evidence
from policyengine.results.explain import (
    fact_json,
    fingerprint,
    message,
    origin_of,
    related_json,
    resource_json,
    subject,
)
from policyengine.results.gate import Gate as Gate
from policyengine.results.gate import Verdict
from policyengine.results.waivers import Waiver
from policyengine.runtime import Proof, Result, Status, Tally, evaluate, trace

REPORT_VERSION = 1
OUTCOMES = ("fail", "error", "pass", "skipped")


@dataclass(frozen=True)
class Finding:
    result: Result
    proof: Proof | None  # recorded for fail and error outcomes
    fingerprint: str | None = None  # of the proof: what baselines and waivers key on
    waiver: Waiver | None = None  # the waiver that covers this fail or error
    baselined: bool = False  # recorded in the baseline: known, not reported as new

    @property
    def status(self) -> Status:
        """The outcome as reported: a waived finding is skipped."""
        return Status.SKIPPED if self.waiver is not None else self.result.status

    @property
    def finding(self) -> bool:
        """A fail or error outcome, whatever covers it."""
        return self.result.status in (Status.FAIL, Status.ERROR)


@dataclass(frozen=True)
class Notice:
    """Something about the run itself that every output shows: an expired or stale
    waiver, a finding fixed since the baseline, a run in which nothing applied."""

    level: Literal["error", "warning", "note"]
    message: str
    file: str = ""  # where it is about, when that is a file (a waiver's entry)
    line: int = 0


@dataclass
class Report:
    plan: plan.Plan
    snapshots: list[str]
    resources: int
    findings: list[Finding]  # every outcome, in snapshot order then policy order
    gate: Gate = field(default_factory=Gate)
    # Snapshot file -> its text, or where to read it again (a large snapshot's).
    texts: dict[str, str | FileText] = field(default_factory=dict)
    waiver_files: list[str] = field(default_factory=list)
    expired: list[Waiver] = field(default_factory=list)
    stale: list[tuple[Waiver, str]] = field(default_factory=list)  # and a hint
    baseline: str | None = None  # the baseline file, when one was given
    fixed: list[BaselineEntry] = field(default_factory=list)
    # An input file -> its text, for snapshots converted from files (a Terraform plan, an
    # export's responses): findings point at their lines.
    origins: dict[str, str] = field(default_factory=dict)
    # Input files of APIs no importer reads: (file, API), listed in every output.
    not_read: list[tuple[str, str]] = field(default_factory=list)
    # Pass and skipped outcomes counted, not kept (no output lists them): (rule id, status).
    tallied: Counter[tuple[str, Status]] = field(default_factory=Counter)
    accounts: dict[str, str | None] = field(default_factory=dict)  # snapshot -> its account

    @property
    def threshold(self) -> Severity:
        return self.gate.threshold

    @cached_property
    def counts(self) -> Counter[str]:
        """Outcomes by status, of findings neither waived nor baselined; then `waived`
        and `baselined`. Together they add up to every outcome."""
        c: Counter[str] = Counter({s: 0 for s in (*OUTCOMES, "waived", "baselined")})
        for f in self.findings:
            if f.baselined:
                c["baselined"] += 1
            elif f.waiver is not None:
                c["waived"] += 1
            else:
                c[str(f.result.status)] += 1
        for (_, status), n in self.tallied.items():
            c[str(status)] += n
        return c

    def reported(self, f: Finding) -> bool:
        """Whether a finding counts in this run: not waived, not in the baseline."""
        return f.waiver is None and not f.baselined

    def gating(self) -> list[Finding]:
        """The findings that make the run fail (the gate decides)."""
        return list(self._gating)

    def advisory(self) -> list[Finding]:
        """Findings of advisory rules: reported, never failing the run."""
        return list(self._advisory)

    # Found once: a format asks for the verdict several times (a page's title and heading),
    # and a run may keep every outcome of a large account. A report with other findings or
    # another gate is a new report (`replace`), found again.
    @cached_property
    def _gating(self) -> tuple[Finding, ...]:
        return tuple(
            f
            for f in self.findings
            if self.gate.gates(f.result.rule, f.result.status, covered=not self.reported(f))
        )

    @cached_property
    def _advisory(self) -> tuple[Finding, ...]:
        return tuple(
            f
            for f in self.findings
            if f.finding and self.reported(f) and f.result.rule.enforcement is Enforcement.ADVISORY
        )

    def outcomes(self) -> int:
        """Every outcome of the run: those kept and those only counted."""
        return len(self.findings) + sum(self.tallied.values())

    def verdict(self) -> Verdict:
        return self.gate.verdict(len(self.gating()), self.outcomes(), len(self.expired))

    def failed(self) -> bool:
        """Not passed: failed, or nothing was evaluated."""
        return self.verdict() is not Verdict.PASSED

    def applied_rules(self) -> int:
        return len({f.result.rule.id for f in self.findings} | {r for r, _ in self.tallied})

    def summary(self) -> dict[str, Any]:
        """The counts every output carries, so that "nothing ran" never reads as "passed"."""
        c = self.counts
        return {
            "rules_loaded": len(self.plan.rules),
            "rules_evaluated": self.applied_rules(),
            "resources": self.resources,
            "snapshots": len(self.snapshots),
            "outcomes": {s: c[s] for s in OUTCOMES},
            "waived": c["waived"],
            "baselined": c["baselined"],
        }

    def notices(self) -> list[Notice]:
        out: list[Notice] = []
        if self.applied_rules() == 0:
            out.append(
                Notice(
                    "warning",
                    f"no rule applied to any resource: {len(self.plan.rules)} rules loaded, "
                    f"none evaluated over {self.resources} resources; nothing was checked",
                )
            )
        for w in self.expired:
            out.append(
                Notice(
                    "error",
                    f"waiver {w.describe()} expired on {w.expires.isoformat()} "
                    f"(owner {w.owner}); renew or remove it",
                    w.span.file,
                    w.span.line,
                )
            )
        for w, hint in self.stale:
            out.append(
                Notice(
                    "warning",
                    f"waiver {w.describe()} matches no finding; remove it"
                    + (f" ({hint})" if hint else ""),
                    w.span.file,
                    w.span.line,
                )
            )
        for e in self.fixed:
            out.append(Notice("note", f"fixed since the baseline: {e.rule} {e.resource}"))
        for file, api in self.not_read:
            out.append(
                Notice("note", f"not read: {file} ({api} is not an API policyengine reads)", file)
            )
        return out

    @cached_property
    def _positions(self) -> dict[str, Positions | FilePositions | None]:
        return {}

    @cached_property
    def _resources(self) -> dict[tuple[str, int], Resource]:
        """(snapshot, index) -> every resource a finding names, so that a fact's pointer
        into the snapshot can be turned into a place in the user's own files."""
        out: dict[tuple[str, int], Resource] = {}
        for f in self.findings:
            result = f.result
            named: list[Resource | None] = [result.resource, result.target]
            if result.edge is not None:
                named.extend(result.edge.targets)
            if f.proof is not None:  # and those its evidence reached (`located in`)
                named.extend(f.proof.reached)
            for r in named:
                if r is not None and r.index >= 0:
                    out[(r.file, r.index)] = r
        return out

    @cached_property
    def _places(self) -> dict[tuple[str, str], places.Place]:
        return {}

    def place(self, file: str, pointer: str) -> places.Place:
        """A pointer into the snapshot `file` (`/resources/7/zone`) -> the place of that
        value in the file the user has: the response file and its JSON Pointer, the plan's
        `after` of the resource, or the snapshot itself when it was given as one. Found
        once per pointer: every format asks it of a finding's place several times."""
        key = (file, pointer)
        found = self._places.get(key)
        if found is None:
            found = self._places[key] = self._place(file, pointer)
        return found

    def _place(self, file: str, pointer: str) -> places.Place:
        at = places.split(pointer)
        resource = self._resources.get((file, at[0])) if at is not None else None
        if at is None or resource is None:
            return places.Place(file, pointer)
        if resource.origin is None:
            # The snapshot as given: a value the data lacks (a tag never set) is pointed
            # at through what holds it.
            # Read from the snapshot's text, the same in every process.
            sub = at[1]
            if not sub:  # the resource itself: nothing to read (a pass in JUnit, each)
                return places.Place(file, resource.pointer)
            positions = self.positions(file)
            data = positions.resource(at[0]) if positions is not None else None
            while sub and data is not None and not places.resolves(data, sub):
                sub = sub.rsplit("/", 1)[0]
            return places.Place(file, f"{resource.pointer}{sub}")
        place = resource.origin.place(at[1], file)
        doc = self._doc(place.file)
        trimmed = place.pointer
        while doc is not None and trimmed and not places.resolves(doc, trimmed):
            trimmed = trimmed.rsplit("/", 1)[0]
        return place if trimmed == place.pointer else replace(place, pointer=trimmed)

    @cached_property
    def _docs(self) -> dict[str, Any]:
        return {}

    def _doc(self, file: str) -> Any:
        """The parsed JSON of an input file whose text is at hand, parsed once."""
        if file not in self._docs:
            text = self.origins.get(file)
            try:
                self._docs[file] = json.loads(text) if text else None
            except ValueError:
                self._docs[file] = None
        return self._docs[file]

    def line_of(self, place: places.Place) -> tuple[int, int] | None:
        """The 1-based line and column of a place, when its file's text is at hand."""
        positions = self.positions(place.file)
        if positions is not None:  # a snapshot file: its resources are indexed once
            return positions.find(place.pointer)
        text = self.origins.get(place.file)
        if not text:
            return None
        return locate(Source(place.file, text), place.pointer)

    def positions(self, file: str) -> Positions | FilePositions | None:
        """Where resources sit in a snapshot's text; scanned once, when first asked."""
        if file not in self._positions:
            # The resources of the findings that carry evidence: read together.
            wanted = (
                r.index
                for f in self.findings
                if f.proof is not None
                for r in (
                    f.result.resource,
                    f.result.target,
                    *(f.result.edge.targets if f.result.edge is not None else ()),
                    *f.proof.reached,
                )
                if r is not None and r.file == file
            )
            self._positions[file] = positions_of(self.texts.get(file) or "", file, wanted)
        return self._positions[file]


@dataclass(frozen=True)
class Part:
    """One snapshot's outcomes, fail and error traced and fingerprinted, before waivers
    and the baseline: the unit of work that `--jobs` and a Dask cluster run apart."""

    file: str
    text: str | FileText  # the snapshot's text, where findings' lines are found
    resources: int
    findings: list[Finding]  # the outcomes kept, in snapshot order then policy order
    # The texts of the files it was converted from (a plan, an export's responses), by name.
    origins: dict[str, str] = field(default_factory=dict)
    not_read: tuple[tuple[str, str], ...] = ()  # (file, API) of responses no importer read
    tallied: Counter[tuple[str, Status]] = field(default_factory=Counter)  # not kept
    account: str | None = None  # the account the snapshot says it is of


def evaluate_snapshot(compiled: plan.Plan, store: Store, *, every_outcome: bool = True) -> Part:
    """Evaluates one snapshot, then traces only its fail and error outcomes. Without
    `every_outcome`, a pass or skipped outcome is a count: no output will list it."""
    findings: list[Finding] = []
    tallied: Counter[tuple[str, Status]] = Counter()
    # Without every outcome, the evaluation counts passes and skips itself: no `Result`
    # is made for them (a rule run per region still gives each, counted here).
    tallies: dict[str, Tally] | None = None if every_outcome else {}
    with collector.paused():  # an outcome per resource and rule, and no cycles
        for result in evaluate(compiled, store, tallies):
            if result.status not in (Status.FAIL, Status.ERROR):
                if every_outcome:
                    findings.append(Finding(result, None))
                else:
                    tallied[result.rule.id, result.status] += 1
                continue
            proof = trace(store, result)
            findings.append(Finding(result, proof, fingerprint(proof)))
    for rule_id, counts in (tallies or {}).items():
        for status, n in counts.items():
            if n:
                tallied[rule_id, status] += n
    not_read = tuple((n.file, n.api) for n in store.not_read)
    return Part(
        store.file,
        store.text,
        len(store.resources),
        findings,
        store.origins,
        not_read,
        tallied,
        store.account,
    )


def build(
    compiled: plan.Plan,
    stores: Sequence[Store],
    gate: Gate | str = "low",
    *,
    waivers: Sequence[Waiver] = (),
    waiver_files: Sequence[str] = (),
    baseline: Baseline | None = None,
    today: date | None = None,
    every_outcome: bool = True,
    any_account: bool = False,
) -> Report:
    """Evaluates, then traces only the fail and error outcomes, then applies waivers and
    the baseline. `today` decides which waivers have expired; it is required with
    waivers, so that no result depends on the clock unless the caller chose that.
    Without `every_outcome`, passes and skips are counted, not kept."""
    parts = [evaluate_snapshot(compiled, store, every_outcome=every_outcome) for store in stores]
    return assemble(
        compiled,
        parts,
        gate,
        waivers=waivers,
        waiver_files=waiver_files,
        baseline=baseline,
        today=today,
        any_account=any_account,
    )


def assemble(
    compiled: plan.Plan,
    parts: Sequence[Part],
    gate: Gate | str = "low",
    *,
    waivers: Sequence[Waiver] = (),
    waiver_files: Sequence[str] = (),
    baseline: Baseline | None = None,
    today: date | None = None,
    any_account: bool = False,
) -> Report:
    """The report of snapshots evaluated one by one (here or in other processes), in the
    order given: waivers and the baseline apply across all of them."""
    report = _assemble(compiled, parts, gate, waivers, waiver_files, today)
    return report if baseline is None else with_baseline(report, baseline, any_account)


def with_baseline(report: Report, baseline: Baseline, any_account: bool = False) -> Report:
    """The report with the findings the baseline records marked as known, and the
    baseline's findings that did not recur listed as fixed. An entry written for one
    account hides nothing in another, unless `any_account`."""
    known: dict[str, list[BaselineEntry]] = {}
    for e in baseline.entries:
        known.setdefault(e.fingerprint, []).append(e)

    def hidden(f: Finding) -> bool:
        account = report.accounts.get(f.result.resource.file)
        entries = known.get(f.fingerprint or "", [])
        return any(e.applies(account, any_account) for e in entries)

    findings = [replace(f, baselined=hidden(f)) for f in report.findings]
    seen = {f.fingerprint for f in findings if f.baselined}
    return replace(
        report,
        findings=findings,
        baseline=baseline.file,
        # A finding of a rule not evaluated this run (left out by the rule selection, or
        # no longer loaded) is not known to be fixed.
        fixed=[
            e
            for e in baseline.entries
            if e.fingerprint not in seen and report.plan.rule(e.rule) is not None
        ],
    )


def _assemble(
    compiled: plan.Plan,
    parts: Sequence[Part],
    gate: Gate | Severity | str,
    waivers: Sequence[Waiver],
    waiver_files: Sequence[str],
    today: date | None,
) -> Report:
    if not isinstance(gate, Gate):
        gate = Gate(Severity(gate))
    if waivers and today is None:
        raise ValueError("waivers need today's date")
    live = [w for w in waivers if today is not None and not w.expired(today)]
    expired = [w for w in waivers if today is not None and w.expired(today)]
    used: set[int] = set()
    findings: list[Finding] = []
    for part in parts:
        if not live:
            findings.extend(part.findings)
            continue
        for finding in part.findings:
            if finding.fingerprint is not None:
                result = finding.result
                for i, w in enumerate(live):
                    if w.covers(
                        result.rule.id, result.resource.key, finding.fingerprint, part.account
                    ):
                        finding = replace(finding, waiver=w)
                        used.add(i)
                        break
            findings.append(finding)
    rule_ids = [r.id for r in compiled.rules]
    stale = [(w, _stale_hint(w, rule_ids)) for i, w in enumerate(live) if i not in used]
    return Report(
        compiled,
        [p.file for p in parts],
        sum(p.resources for p in parts),
        findings,
        gate,
        {p.file: p.text for p in parts},
        list(waiver_files),
        expired,
        stale,
        origins={name: text for p in parts for name, text in p.origins.items()},
        not_read=[n for p in parts for n in p.not_read],
        tallied=sum((p.tallied for p in parts), Counter()),
        accounts={p.file: p.account for p in parts},
    )


def _stale_hint(waiver: Waiver, rule_ids: Sequence[str]) -> str:
    if any(fnmatchcase(r, waiver.rule) for r in rule_ids):
        if waiver.fingerprint is not None:
            return "its fingerprint no longer matches: the facts of the finding changed"
        return ""
    hint = did_you_mean(waiver.rule, rule_ids)
    return f"no rule `{waiver.rule}` is loaded" + (f"; {hint}" if hint else "")


def _message(finding: Finding) -> str:
    """A finding's message, on one line whatever the values in it hold."""
    if finding.proof is None:
        return printable(finding.result.reason)
    return printable(message(finding.result, finding.proof))


def to_baseline(report: Report) -> list[BaselineEntry]:
    """The entries `--write-baseline` records: every fail and error of the run."""
    return [
        BaselineEntry(
            f.fingerprint,
            f.result.rule.id,
            subject(f.result),
            str(f.result.status),
            _message(f),
            report.accounts.get(f.result.resource.file),
        )
        for f in report.findings
        if f.fingerprint is not None
    ]


# ---------------------------------------------------------------- text


def _plural(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def summary_line(report: Report) -> str:
    c = report.counts
    rules, applied = len(report.plan.rules), report.applied_rules()
    head = (
        f"{_plural(rules, 'rule')} loaded, {applied} evaluated over "
        f"{_plural(report.resources, 'resource')} in {_plural(len(report.snapshots), 'snapshot')}"
    )
    return (
        f"{head}: {c['fail']} failed, {_plural(c['error'], 'error')}, {c['pass']} passed, "
        f"{c['skipped']} skipped, {c['waived']} waived, {c['baselined']} baselined "
        f"({tool_version()})"
    )


def verdict_line(report: Report) -> str:
    gating, expired = report.gating(), len(report.expired)
    advisory = len(report.advisory())
    tail = f" ({_plural(advisory, 'advisory finding')} reported only)" if advisory else ""
    verdict = report.verdict()
    if verdict is Verdict.NOTHING_EVALUATED:
        return (
            f"{verdict.heading}: no rule applied to any resource "
            f"({_plural(len(report.plan.rules), 'rule')} loaded); nothing was checked"
        )
    if report.gate.report_only:
        # What would gate without `--fail-on none`, and the advisory findings.
        would = replace(report, gate=replace(report.gate, report_only=False))
        found = len(would.gating()) + advisory
        also = f" and {_plural(expired, 'expired waiver')}" if expired else ""
        return f"REPORTED: {_plural(found, 'finding')}{also}; --fail-on none: the run does not fail"
    if verdict is Verdict.PASSED:
        return f"{verdict.heading}: no finding at or above severity {report.threshold}{tail}"
    reasons = []
    if gating:
        reasons.append(f"{_plural(len(gating), 'finding')} at or above severity {report.threshold}")
    if expired:
        reasons.append(_plural(expired, "expired waiver"))
    return f"{verdict.heading}: {' and '.join(reasons)}{tail}"


def outcome_text(report: Report, f: Finding) -> str:
    """One finding's line after its status: what it is about and why."""
    text = _message(f)
    if f.result.status is Status.ERROR:  # the line already names the resource
        own = f.result.resource
        text = text.replace(f" of {own.kind} {own.key}", "", 1)
    where = f" ({f.result.resource.file})" if len(report.snapshots) > 1 else ""
    waived = f" ({f.waiver.note()})" if f.waiver is not None else ""
    return printable(f"{subject(f.result)}{where}{waived}") + (f": {text}" if text else "")


def shown(report: Report, f: Finding, show_all: bool) -> bool:
    """Listed in a report: fails, errors and waived findings; everything with --all.
    Findings in the baseline are counted, not listed."""
    if f.baselined:
        return False
    return show_all or f.finding


def render_text(report: Report, *, show_all: bool = False) -> str:
    """The report for people, plain: the command line colours it."""
    out: list[str] = []
    by_rule: dict[str, list[Finding]] = {rule.id: [] for rule in report.plan.rules}
    for finding in report.findings:
        by_rule[finding.result.rule.id].append(finding)
    for rule in report.plan.rules:
        rows = [f for f in by_rule[rule.id] if shown(report, f, show_all)]
        if not rows:
            continue
        where = f"{rule.span.file}:{rule.span.line}:{rule.span.column}"
        title = f"  {rule.title}" if rule.title else ""
        level = ", advisory" if rule.enforcement is Enforcement.ADVISORY else ""
        out.append(f"{rule.id}  [{rule.severity}{level}]{title}")
        out.append(f"  --> {where}")
        if show_all and rule.excluded_kinds:
            kinds = ", ".join(rule.excluded_kinds)
            out.append(f"  not applied to {kinds}: they lack an attribute the rule reads")
        for f in rows:
            out.append(f"  {str(f.status).upper():<7} {outcome_text(report, f)}")
        if rule.remediation and any(f.status is Status.FAIL for f in rows):
            out.append(f"  fix: {rule.remediation}")
        out.append("")
    for notice in report.notices():
        out.append(f"{notice.level}: {printable(notice.message)}")
    out.append(summary_line(report))
    out.append(verdict_line(report))
    return "\n".join(out)


# ---------------------------------------------------------------- json


def finding_json(
    f: Finding, report: Report | None = None, *, places: bool = True
) -> dict[str, Any]:
    """A finding as the JSON report lists it; without `places`, its evidence names no
    place in the user's files (for a picture, which draws the facts alone)."""
    r = f.result

    def where(proof: Proof, pointer: str) -> str:
        if not pointer or not places:
            return ""
        if report is None:
            return origin_of(proof, pointer).uri()
        return report.place(r.resource.file, pointer).uri()

    evidence = (
        [fact_json(x, where(f.proof, x.pointer)) for x in proof_evidence(f.proof)]
        if f.proof is not None
        else []
    )
    return {
        "rule": r.rule.id,
        "title": r.rule.title,
        "resource": resource_json(r),
        "related": related_json(r),
        "outcome": str(f.status),
        "severity": r.rule.severity,
        "enforcement": r.rule.enforcement,
        "tags": list(r.rule.tags),
        "message": _message(f),
        "source": {
            "file": r.rule.span.file,
            "line": r.rule.span.line,
            "column": r.rule.span.column,
        },
        "snapshot": r.resource.file,
        "evidence": evidence,
        "fingerprint": f.fingerprint,
        "waiver": None
        if f.waiver is None
        else {**f.waiver.to_json(), "waived_outcome": str(r.status)},
    }


def _head_json(report: Report) -> dict[str, Any]:
    """The JSON report but its results."""
    by_severity: Counter[str] = Counter(
        f.result.rule.severity
        for f in report.findings
        if f.status is Status.FAIL and report.reported(f)
    )
    gating = report.gating()
    summary = report.summary()
    return {
        "version": REPORT_VERSION,
        "tool": {"name": TOOL, "version": __version__},
        "summary": {
            "rules": summary["rules_loaded"],
            "rules_applied": summary["rules_evaluated"],
            "resources": report.resources,
            "snapshots": report.snapshots,
            "outcomes": summary["outcomes"],
            "waived": summary["waived"],
            "baselined": summary["baselined"],
            "failed_by_severity": {s.value: by_severity[s] for s in Severity},
            "threshold": report.threshold,
            "fail_on_error": report.gate.fail_on_error,
            "findings_at_or_above_threshold": len(gating),
            "advisory_findings": len(report.advisory()),
            "expired_waivers": len(report.expired),
            "verdict": str(report.verdict()),  # pass, fail, or none: nothing evaluated
        },
        "waivers": {
            "files": report.waiver_files,
            "expired": [w.to_json() for w in report.expired],
            "stale": [w.to_json() for w, _ in report.stale],
        },
        "baseline": None
        if report.baseline is None
        else {"file": report.baseline, "fixed": [e.to_json() for e in report.fixed]},
        "notices": [{"level": n.level, "message": n.message} for n in report.notices()],
        "not_read": [{"file": file, "api": api} for file, api in report.not_read],
    }


# Results made into dictionaries and text at a time (`json_parts`).
_RESULTS_AT_ONCE = 1000
# How the text of `{"results": [...]}` begins and ends around its results, and the text
# between two of them: in the whole document, `results` is the last field of the top
# object, and its items are indented alike.
_RESULTS_OPEN, _RESULTS_CLOSE, _BETWEEN = '{\n  "results": [\n', "\n  ]\n}", ",\n"


def json_parts(report: Report, *, show_all: bool = False) -> Iterator[str]:
    """The JSON report's text (`render_json`), made a piece at a time as it is written:
    the results a thousand at a time, so that a report of every outcome holds the
    dictionaries and text of a thousand of them at once, never of all of them (at
    10,000 instances, `--all` listed 117,062 results: 95 MB of text, and the run's peak
    memory was 681 MB with them made whole)."""
    results = [f for f in report.findings if shown(report, f, show_all)]
    head = json_text.dumps({**_head_json(report), "results": []})
    if not results:
        yield head
        return
    yield head[: -len("[]\n}")] + "[\n"
    for start in range(0, len(results), _RESULTS_AT_ONCE):
        docs = [finding_json(f, report) for f in results[start : start + _RESULTS_AT_ONCE]]
        for doc in docs:
            for fact in doc["evidence"]:  # the values copied from the user's data
                fact["value"] = json_text.exact(fact["value"])
        text = json_text.dumps({"results": docs})
        del docs
        yield (_BETWEEN if start else "") + text[len(_RESULTS_OPEN) : -len(_RESULTS_CLOSE)]
    yield _RESULTS_CLOSE


def render_json(report: Report, *, show_all: bool = False) -> str:
    return "".join(json_parts(report, show_all=show_all))
