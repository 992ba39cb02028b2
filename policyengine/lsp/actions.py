"""Code actions and formatting: apply a did-you-mean, declare an attribute the API
returns with `extend kind`, add a missing `message` or `remediation`; a file as `fmt`
writes it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from policyengine.core import model
from policyengine.core.diagnostics import Diagnostic, DiagnosticError, Level
from policyengine.core.source import Source
from policyengine.frontend import ast
from policyengine.frontend.formatter import format_source
from policyengine.frontend.loader import find_model
from policyengine.lsp.folder import Analysis, analyse, file_of, is_bundled

_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`")


@dataclass(frozen=True)
class Edit:
    """A code action: a title and text edits (path -> [(start, end, new text)])."""

    title: str
    edits: Mapping[Path, tuple[tuple[int, int, str], ...]]
    diagnostic: Diagnostic | None = None


def actions(analysis: Analysis, path: Path, start: int, end: int) -> list[Edit]:
    """Fixes for the diagnostics in a range, and stubs for the rules in it."""
    out: list[Edit] = []
    for d in analysis.diagnostics.get(path, []):
        if d.span.end < start or d.span.start > end:
            continue
        found = _DID_YOU_MEAN.search(d.help)
        if found:
            new = found.group(1).split(".")[-1] if "." not in d.span.text else found.group(1)
            out.append(Edit(f"Change to `{new}`", {path: ((d.span.start, d.span.end, new),)}, d))
        out += _declarations(analysis, path, d)
    tree = analysis.tree(path)
    if isinstance(tree, ast.PolicyFile) and analysis.vocabulary is not None:
        for policy in tree.policies:
            for rule in policy.rules:
                if rule.span.start <= end and start <= rule.span.end:
                    out += _stubs(analysis.vocabulary, path, rule)
    return out


# ---------------------------------------------------------------- stubs


def _stubs(vocabulary: model.Model, path: Path, rule: ast.Rule) -> list[Edit]:
    """For a rule without a `message` or a `remediation`, the line to fill in, after its
    statement and as indented: `fmt` leaves it where it is."""
    if rule.body is None:
        return []
    at = rule.body.span.end
    indent = " " * (rule.body.span.column - 1)
    subject = rule.body.kind.text
    # `{id}` names the resource in every kind's message; `for each region` has none.
    what = "{id}" if subject in vocabulary.kinds else "this region"
    stubs = {
        "message": f'message "{what} does not meet this rule"',
        "remediation": 'remediation "Say how to fix a violation."',
    }
    return [
        Edit(f"Add a {key}", {path: ((at, at, f"\n{indent}{line}"),)})
        for key, line in stubs.items()
        if rule.get(key) is None
    ]


# ---------------------------------------------------------------- declaring an API field

_DECLARE = re.compile(r"declare it with `(extend kind (\w+) \{ (\w+): .+ \})`")


def _declarations(analysis: Analysis, path: Path, d: Diagnostic) -> list[Edit]:
    """For an attribute a model lacks and its API returns (PE104 with `extend kind` in
    its help): the extension, added at the end of a model the user can edit that the
    checker then accepts: the model declaring the kind, or one the policy uses."""
    found = _DECLARE.fullmatch(d.help) if d.code == "PE104" else None
    vocabulary, tree = analysis.vocabulary, analysis.tree(path)
    if found is None or vocabulary is None or tree is None:
        return []
    extension, kind, attribute = found.groups()
    declared = vocabulary.kinds.get(kind)
    candidates = [file_of(declared.span.file)] if declared is not None else []
    candidates += [m for use in tree.uses if (m := find_model(use.name, path)) is not None]
    seen: set[Path] = set()
    for target in candidates:
        target = target.resolve()
        if target in seen or is_bundled(target) or target.suffix != ".model":
            continue
        seen.add(target)
        text = text_of(analysis, target)
        if text is None:
            continue
        addition = ("\n" if text and not text.endswith("\n") else "") + extension + "\n"
        if _accepted(analysis, path, {target: text + addition}, d):
            title = f"Declare `{attribute}` in {target.name}: `{extension}`"
            return [Edit(title, {target: ((len(text), len(text), addition),)}, d)]
    return []


def text_of(analysis: Analysis, path: Path) -> str | None:
    """A file's text as the editor has it if it is of the folder, else as saved."""
    for known, text in analysis.texts.items():
        if known.resolve() == path:
            return text
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _accepted(analysis: Analysis, path: Path, changed: dict[Path, str], d: Diagnostic) -> bool:
    """Whether the folder, with `changed`, checks without `d` and without a new error."""
    overlay = {p.resolve(): text for p, text in analysis.texts.items()} | changed
    after = analyse(path, overlay)
    if after.front is None or analysis.front is None:
        return False

    def errors(diags: list[Diagnostic]) -> set[tuple[str, str, str]]:
        return {(e.code, e.span.file, e.message) for e in diags if e.level is Level.ERROR}

    before = errors(analysis.front.diagnostics)
    now = errors(after.front.diagnostics)
    return (d.code, d.span.file, d.message) not in now and now <= before


def formatted(text: str, name: str) -> str | None:
    """The file as `fmt` writes it; None for text that does not parse (its diagnostics
    say why, and the editor's text is left alone)."""
    try:
        return format_source(Source(name, text))
    except DiagnosticError:
        return None
