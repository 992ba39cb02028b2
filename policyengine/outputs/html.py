"""Evaluation results as one self-contained HTML page: the verdict and counts, a table of
findings that filters and sorts, and for each finding its explanation and, when it is
about two resources, a picture of them in their zones and regions.

Everything the page needs is inside it (styles, script, data, pictures as inline SVG);
its Content-Security-Policy forbids every request, so it shows the same from a CI
artifact, an email attachment or a file on disk.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from policyengine.core.diagnostics import Diagnostic
from policyengine.core.source import Source, Span
from policyengine.outputs import picture
from policyengine.results.explain import to_diagnostic
from policyengine.results.report import (
    Finding,
    Report,
    finding_json,
    shown,
    summary_line,
    verdict_line,
)
from policyengine.runtime import Status

# No request of any kind: styles, script and pictures are inline; images only as data.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _asset(name: str) -> str:
    return (resources.files("policyengine.outputs") / "assets" / name).read_text("utf-8")


def _script_json(value: object) -> str:
    """JSON inside a <script> element: nothing in it can close the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass(frozen=True)
class Row:
    """One finding as the table lists it, and its explanation as HTML."""

    data: dict[str, Any]
    detail: str


def _location(value: object) -> str:
    return picture.location_text(value) or "—"


def _source_lines(span: Span) -> str:
    """The policy lines of a span, the span itself underlined."""
    return _lines_of(span.source, span.start, span.end)


# Drawn once per clause: the findings of one rule, thousands on a large account, point at
# the same few clauses. (A source is its own key: two files' spans may have equal offsets.)
@functools.lru_cache(maxsize=1024)
def _lines_of(src: Source, start_offset: int, end_offset: int) -> str:
    span = Span(src, start_offset, end_offset)
    number, column = src.line_col(span.start)
    start = span.start - (column - 1)
    out = []
    while True:
        text = src.line_text(number)
        lo, hi = max(span.start - start, 0), min(span.end - start, len(text))
        body = html.escape(text)
        if lo < hi:
            body = (
                html.escape(text[:lo])
                + f'<mark class="clause">{html.escape(text[lo:hi])}</mark>'
                + html.escape(text[hi:])
            )
        out.append(f'<span class="ln">{number:>4} │ </span>{body}')
        newline = src.text.find("\n", start)
        if newline < 0 or newline + 1 >= span.end:
            return "\n".join(out)
        start, number = newline + 1, number + 1


def explanation(diag: Diagnostic, file: str) -> str:
    """A proof rendered from its diagnostic: the clause in the policy, what decided, what
    would change it and the fix."""
    span = diag.span
    parts = [
        f'<p class="where"><code>{html.escape(span.location())}</code></p>',
        f'<pre class="policy">{_source_lines(span)}</pre>',
        f'<p class="label">{html.escape(diag.label)}</p>',
    ]
    if diag.notes:
        items = "".join(f"<li>{_note(n, file)}</li>" for n in diag.notes)
        parts.append(f'<ul class="evidence">{items}</ul>')
    if diag.help:
        parts.append(f'<p class="fix">{html.escape(diag.help)}</p>')
    return "".join(parts)


def _note(note: str, file: str) -> str:
    """A note, its pointer into the user's file set apart."""
    marker = f"  ({file}#"
    if file and marker in note and note.endswith(")"):
        text, _, where = note.rpartition(marker)
        pointer = html.escape(f"{file}#{where[:-1]}")
        return f'{html.escape(text)} <code class="pointer">{pointer}</code>'
    return html.escape(note)


def _state(f: Finding, baseline: bool) -> str:
    if f.waiver is not None:
        return f"waived: {f.waiver.note()}"
    if baseline:
        return "new since the baseline"
    return ""


def row(f: Finding, index: int, baseline: bool = False) -> Row:
    """One finding's table row and explanation; `baseline`: the run had a baseline, so a
    listed finding is new."""
    doc = finding_json(f, places=False)  # the explanation below places the evidence
    res = doc["resource"]
    data = {
        "i": index,
        "outcome": doc["outcome"],
        "severity": doc["severity"],
        "rule": doc["rule"],
        "kind": res["kind"],
        "id": res["id"],
        "region": _location(res.get("region")),
        "zone": _location(res.get("zone")),
        "message": doc["message"],
        "state": _state(f, baseline),
    }
    detail = [f"<h3>{html.escape(doc['rule'])}: {html.escape(doc['title'] or '')}</h3>"]
    if data["state"]:
        detail.append(f'<p class="state">{html.escape(data["state"])}</p>')
    if f.proof is not None:
        detail.append(explanation(to_diagnostic(f.proof), f.result.resource.file))
    elif doc["message"]:
        detail.append(f"<p>{html.escape(doc['message'])}</p>")
    drawn = picture.from_finding(doc)
    if drawn is not None:
        detail.append(f'<figure class="picture">{picture.svg(drawn, f"p{index}")}</figure>')
    return Row(data, "".join(detail))


def _counts(report: Report) -> str:
    # The summary's counts alone: the JSON report would build every finding's JSON again.
    s = report.summary()
    cells = [
        ("rules loaded", s["rules_loaded"]),
        ("rules evaluated", s["rules_evaluated"]),
        ("resources", s["resources"]),
        *((name, n) for name, n in s["outcomes"].items()),
        ("waived", s["waived"]),
        ("baselined", s["baselined"]),
    ]
    body = "".join(
        f'<div class="count"><span class="n">{n}</span> <span>{html.escape(str(k))}</span></div>'
        for k, n in cells
    )
    said = html.escape(summary_line(report))
    return f'<div class="counts">{body}</div><p class="summary">{said}</p>'


def page(
    title: str,
    verdict: str,
    failed: bool,
    counts: str,
    notices: Iterable[tuple[str, str]],
    rows: Sequence[Row],
    extra: str = "",
) -> str:
    """The page around a table of findings; also used by `explain --format html`."""
    notes = "".join(
        f'<p class="notice {html.escape(level)}">{html.escape(level)}: {html.escape(text)}</p>'
        for level, text in notices
    )
    # The explanations, compressed: they repeat themselves, and tens of thousands of them
    # would otherwise make a page too large to open. The browser inflates them.
    details = json.dumps([r.detail for r in rows], ensure_ascii=False).encode("utf-8")
    packed = base64.b64encode(gzip.compress(details, compresslevel=6, mtime=0)).decode("ascii")
    mark = "failed" if failed else "passed"
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f"<style>{_asset('report.css')}{picture.style()}</style></head><body>"
        f'<header><h1 class="verdict {mark}">{html.escape(verdict)}</h1>{counts}{notes}</header>'
        f"<main>{extra}"
        '<section aria-label="Findings"><form id="filters" role="search">'
        '<label>Rule <select data-filter="rule"></select></label>'
        '<label>Severity <select data-filter="severity"></select></label>'
        '<label>Outcome <select data-filter="outcome"></select></label>'
        '<label>Kind <select data-filter="kind"></select></label>'
        '<label>Region <select data-filter="region"></select></label>'
        '<label>Text <input type="search" data-filter="text" placeholder="id, message…"></label>'
        '</form><p id="shown" aria-live="polite"></p>'
        '<table id="findings"><caption>Findings: select a row (Enter or click) for its '
        "explanation</caption><thead><tr>"
        + "".join(
            f'<th scope="col" aria-sort="none"><button type="button" data-sort="{key}">'
            f"{label}</button></th>"
            for key, label in (
                ("outcome", "Outcome"),
                ("severity", "Severity"),
                ("rule", "Rule"),
                ("kind", "Kind"),
                ("id", "Resource"),
                ("region", "Region"),
                ("zone", "Zone"),
                ("message", "Message"),
            )
        )
        + "</tr></thead><tbody></tbody></table>"
        '<button type="button" id="more" hidden></button></section></main>'
        f'<script type="application/json" id="data">{_script_json([r.data for r in rows])}</script>'
        f'<script type="application/octet-stream" id="details">{packed}</script>'
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )


def render(report: Report, show_all: bool = False) -> str:
    listed = [f for f in report.findings if shown(report, f, show_all)]
    rows = [row(f, i, report.baseline is not None) for i, f in enumerate(listed)]
    notices = [(n.level, n.message) for n in report.notices()]
    return page(
        f"policyengine: {verdict_line(report)}",
        verdict_line(report),
        report.failed(),
        _counts(report),
        notices,
        rows,
    )


def render_explained(findings: Sequence[Finding]) -> str:
    """The page of `explain --format html`: the outcomes explained, passes and skips
    included when asked for, each with its explanation and picture."""
    counts = Counter(str(f.status) for f in findings)
    said = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"
    verdict = f"{len(findings)} outcomes explained: {said}"
    failing = any(f.status in (Status.FAIL, Status.ERROR) for f in findings)
    rows = [row(f, i) for i, f in enumerate(findings)]
    return page(f"policyengine explain: {verdict}", verdict, failing, "", [], rows)


def render_account(drawn: picture.Picture) -> str:
    """The page of `snapshot graph`: the account's picture, with a box per kind to show
    or hide its resources (and their edges)."""
    kinds = sorted({n.kind for n in drawn.nodes})
    boxes = "".join(
        f'<label><input type="checkbox" checked data-kind="{html.escape(k)}"> '
        f"{html.escape(k)} ({sum(1 for n in drawn.nodes if n.kind == k)})</label>"
        for k in kinds
    )
    marked = sum(1 for n in drawn.nodes if n.status in ("fail", "error"))
    title = f"{drawn.title}: {len(drawn.nodes)} resources, {marked} with a finding"
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">'
        f"<title>{html.escape(title)}</title>"
        f"<style>{_asset('report.css')}{picture.style()}</style></head><body>"
        f'<header><h1>{html.escape(title)}</h1></header><main class="graph">'
        f'<fieldset class="graph-filters"><legend>Kinds shown</legend>{boxes}</fieldset>'
        f'<figure class="picture">{picture.svg(drawn, "account")}</figure>'
        f"</main><script>{_asset('graph.js')}</script></body></html>\n"
    )


def render_failure(kind: str, text: str) -> str:
    verdict = f"{kind}; nothing was evaluated"
    return page(
        f"policyengine: {verdict}", verdict, True, f"<pre>{html.escape(text)}</pre>", [], []
    )
