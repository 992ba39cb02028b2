"""SARIF 2.1.0, the format code-scanning UIs read: a pure function from results to a dict.

`log` and `run` are the skeleton any producer reuses (a tool with its rules, and its
results); `diagnostics_log` fills it with diagnostics, each located by its span. Paths
are emitted as relative URIs, as the user named the file, so a CI upload can resolve them
against the checkout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from policyengine.core.diagnostics import CODES, Diagnostic, Level
from policyengine.core.source import Span
from policyengine.core.version import DISTRIBUTION, __version__

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# The distribution's own page: the name `policyengine` elsewhere is another project's.
INFORMATION_URI = f"https://pypi.org/project/{DISTRIBUTION}/"

# SARIF knows error, warning, note and none; outcome levels map onto them.
_LEVELS = {
    Level.ERROR: "error",
    Level.WARNING: "warning",
    Level.FAIL: "error",
    Level.PASS: "none",
    Level.SKIPPED: "note",
}


def log(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The top-level SARIF document."""
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": list(runs)}


def run(
    rules: Mapping[str, str], results: Sequence[Mapping[str, Any]], name: str = "policyengine"
) -> dict[str, Any]:
    """One run: the tool (with the rules its results refer to, id -> description) and the
    results, each carrying a `ruleId` from `rules`."""
    ids = list(rules)
    return {
        "tool": {
            "driver": {
                "name": name,
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [
                    {"id": rule_id, "shortDescription": {"text": rules[rule_id]}} for rule_id in ids
                ],
            }
        },
        "columnKind": "unicodeCodePoints",  # our columns count characters
        "results": [
            {**result, "ruleIndex": ids.index(str(result["ruleId"]))} for result in results
        ],
    }


def location(span: Span) -> dict[str, Any]:
    """A physical location: the file as a relative URI and the span's region."""
    end_line, end_column = span.source.line_col(span.end)
    region: dict[str, Any] = {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": end_line,
        "endColumn": max(end_column, span.column + (span.end > span.start)),
    }
    snippet = span.source.line_text(span.line)
    if snippet:
        region["snippet"] = {"text": snippet}
    return {"physicalLocation": {"artifactLocation": {"uri": uri(span.file)}, "region": region}}


@cache  # a run names few files, each in many results
def uri(path: str) -> str:
    """A path as a SARIF artifact URI: relative paths stay relative (to the checkout, as
    code scanning expects), absolute ones become file URIs; stdin is `stdin`."""
    if path == "<stdin>":
        return "stdin"
    pure = PurePath(path)
    if pure.is_absolute():
        return "file://" + quote(pure.as_posix())
    return quote(pure.as_posix())


def diagnostic_result(diag: Diagnostic) -> dict[str, Any]:
    text = diag.message + (f" ({diag.label})" if diag.label else "")
    if diag.help:
        text += f"; {diag.help}"
    result: dict[str, Any] = {
        "ruleId": diag.code,
        "level": _LEVELS[diag.level],
        "message": {"text": text},
        "locations": [location(diag.span)],
    }
    if diag.notes:
        result["properties"] = {"notes": list(diag.notes)}
    return result


def diagnostics_log(diags: Iterable[Diagnostic]) -> dict[str, Any]:
    """Diagnostics (of `check`) as one SARIF run; only the codes that occur are listed."""
    listed = list(diags)
    codes = sorted({d.code for d in listed})
    rules = {code: CODES.get(code, code) for code in codes}
    return log([run(rules, [diagnostic_result(d) for d in listed])])
