"""A rule's `message`: its `{placeholders}`, each a name or path in scope, checked, and
read back as the paths the compiler resolves."""

from __future__ import annotations

import re
import string

from policyengine.core.diagnostics import Collector
from policyengine.core.source import Span
from policyengine.frontend import ast
from policyengine.frontend.checker.scope import Scope

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_KEY = r"""\[(?:"[^"]*"|'[^']*'|-?[0-9]+)\]"""
_PLACEHOLDER = re.compile(rf"{_NAME}(?:\.{_NAME}|{_KEY})*")
_SEGMENT = re.compile(rf"\.({_NAME})|\[(?:\"([^\"]*)\"|'([^']*)'|(-?[0-9]+))\]")


def placeholders(template: str) -> list[tuple[str, str]] | None:
    """(text before, placeholder) pairs of a message; None if the braces do not balance."""
    try:
        return [(text, name or "") for text, name, _, _ in string.Formatter().parse(template)]
    except ValueError:
        return None


def placeholder_path(name: str, span: Span) -> ast.Path:
    """`{r.priority}`, `{tags["owner"]}` (or `{tags['owner']}`), `{ids[0]}` as the path it
    names."""
    head = re.match(_NAME, name)
    assert head is not None  # the checker accepts only what _PLACEHOLDER matches
    segments: list[ast.Segment] = []
    for m in _SEGMENT.finditer(name, head.end()):
        if m.group(1) is not None:
            segments.append(ast.AttrSegment(name=m.group(1), span=span))
        elif m.group(4) is not None:
            segments.append(ast.IndexSegment(index=int(m.group(4)), span=span))
        else:
            key = m.group(2) if m.group(2) is not None else m.group(3)
            segments.append(ast.KeySegment(key=key, span=span))
    return ast.Path(
        head=ast.Name(text=head.group(), span=span), segments=tuple(segments), span=span
    )


def check_message(scope: Scope, message: ast.Meta) -> None:
    """Each `{placeholder}` names a value in scope, or a quantifier's deciding element."""
    try:
        fields = list(string.Formatter().parse(message.value))
    except ValueError:
        scope.diags.error(
            "PE114",
            "unbalanced `{` or `}` in a message",
            message.span,
            "cannot be read",
            help="write `{{` or `}}` for a literal brace",
        )
        return
    child = scope.child()
    for var, binding in scope.witnesses.items():
        child.alias(var, binding)
    cursor = message.span.start
    for _, field_name, spec, conversion in fields:
        if field_name is None:
            continue
        name = field_name
        tail = (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
        raw = "{" + name + tail + "}"
        at = message.span.source.text.find(raw, cursor, message.span.end)
        span = Span(message.span.source, at, at + len(raw)) if at >= 0 else message.span
        cursor = max(cursor, span.end)
        if spec or conversion:
            scope.diags.error(
                "PE114",
                f"`{raw}` has a conversion or a format; a placeholder is only a name",
                span,
                "not a plain placeholder",
                help=f"write `{{{name}}}`",
            )
            continue
        if not _PLACEHOLDER.fullmatch(name):
            scope.diags.error(
                "PE114",
                f"`{raw}` is not a name or a path",
                span,
                "unknown placeholder",
                help="write e.g. `{id}`, `{r.priority}` or `{tags['owner']}`",
            )
            continue
        found = Collector()
        probe = Scope(child.model, found, child.this, child.params, {}, child, child.counter)
        probe.resolve_path(placeholder_path(name, span))
        for problem in found:
            scope.diags.error(
                "PE114",
                f"in `{raw}`: {problem.message}",
                span,
                "not a value in scope",
                help=problem.help,
            )
