"""Code actions and formatting: apply a did-you-mean, declare an attribute the API
returns with `extend kind`, add a missing `message` or `remediation`; a file as `fmt`
writes it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from policyengine.core.diagnostics import Diagnostic, DiagnosticError
from policyengine.core.source import Source
from policyengine.frontend import ast
from policyengine.frontend.formatter import format_source
from policyengine.lsp.folder import Analysis

_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`")


@dataclass(frozen=True)
class Edit:
    """A code action: a title and text edits (path -> [(start, end, new text)])."""

    title: str
    edits: Mapping[Path, tuple[tuple[int, int, str], ...]]
    diagnostic: Diagnostic | None = None


def actions(analysis: Analysis, path: Path, start: int, end: int) -> list[Edit]:
    """Fixes for the diagnostics in a range: apply a did-you-mean; for a rule without a
    remediation, a stub to fill in."""
    out: list[Edit] = []
    for d in analysis.diagnostics.get(path, []):
        if d.span.end < start or d.span.start > end:
            continue
        found = _DID_YOU_MEAN.search(d.help)
        if found:
            new = found.group(1).split(".")[-1] if "." not in d.span.text else found.group(1)
            out.append(Edit(f"Change to `{new}`", {path: ((d.span.start, d.span.end, new),)}, d))
    tree = analysis.tree(path)
    if isinstance(tree, ast.PolicyFile):
        for policy in tree.policies:
            for rule in policy.rules:
                if not (rule.span.start <= end and start <= rule.span.end):
                    continue
                if rule.get("remediation") is None and rule.body is not None:
                    at = rule.body.span.end
                    indent = " " * (rule.body.span.column - 1)
                    stub = f'\n{indent}remediation "Say how to fix a violation."'
                    out.append(Edit("Add a remediation", {path: ((at, at, stub),)}))
    return out


def formatted(text: str, name: str) -> str | None:
    """The file as `fmt` writes it; None for text that does not parse (its diagnostics
    say why, and the editor's text is left alone)."""
    try:
        return format_source(Source(name, text))
    except DiagnosticError:
        return None
