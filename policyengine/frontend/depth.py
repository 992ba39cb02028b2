"""How deep a condition nests, defines expanded: refused past the limit, by `check` and
`evaluate` alike.

The checker, compiler, evaluator and formatter walk conditions recursively; nesting is
bounded so that they never reach Python's recursion limit. The parser refuses a file
nested past the limit before building its syntax tree (chains of `and`/`or` are flat, so
a long chain nests one level). A define call nests its body where it is called, so a
chain of defines each calling the next is as deep as the conditions written out: this
module measures that depth, and the loader reports it as an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import fields

from policyengine.core import limits
from policyengine.core.diagnostics import Diagnostic
from policyengine.core.source import Span
from policyengine.frontend import ast

# A node class -> the names of its fields that may hold nodes (every field but the
# span). `dataclasses.fields` builds its answer on each call, and the loader walks every
# node of every file it loads.
_FIELDS: dict[type[ast.Node], tuple[str, ...]] = {}


def _children(node: ast.Node) -> list[ast.Node]:
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in fields(node) if f.name != "span")
    out: list[ast.Node] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, ast.Node):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, ast.Node))
    return out


def _calls(node: ast.Node) -> Iterator[ast.Call]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Call):
            yield current
        stack.extend(_children(current))


def _depth(node: ast.Node, called: dict[str, int]) -> tuple[int, ast.Node]:
    """The depth of `node` with each define call counted as its body's depth, and the node
    that reaches it. Iterative: a syntax tree is within the parser's limit, but a caller
    should not have to know that."""
    best, at = 0, node
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        reached = level
        if isinstance(current, ast.Call):
            reached += called.get(current.function.text, 0)
        if reached > best:
            best, at = reached, current
        stack.extend((child, level + 1) for child in _children(current))
    return best, at


def _defines(files: Iterable[ast.File]) -> list[ast.Define]:
    out: list[ast.Define] = []
    for file in files:
        out.extend(file.defines)
        if isinstance(file, ast.PolicyFile):
            for policy in file.policies:
                out.extend(policy.defines)
    return out


def define_depths(defines: list[ast.Define]) -> dict[str, int]:
    """Each define's depth, the defines it calls expanded; by name (a name declared twice
    takes the deeper). Defines are visited callees first, with an explicit stack, so a
    chain of thousands costs no recursion; a cycle (the checker reports it) counts once."""
    by_name: dict[str, list[ast.Define]] = {}
    for d in defines:
        by_name.setdefault(d.name.text, []).append(d)
    depth: dict[str, int] = {}
    visiting: set[str] = set()
    for start in by_name:
        stack = [start]
        while stack:
            name = stack[-1]
            if name in depth:
                stack.pop()
                continue
            visiting.add(name)
            pending = {
                c.function.text
                for d in by_name[name]
                for c in _calls(d.body)
                if c.function.text in by_name
                and c.function.text not in depth
                and c.function.text not in visiting
            }
            if pending:
                stack.extend(sorted(pending))
                continue
            stack.pop()
            visiting.discard(name)
            depth[name] = max(_depth(d.body, depth)[0] for d in by_name[name])
    return depth


def nesting_diagnostics(files: Iterable[ast.File]) -> list[Diagnostic]:
    """An error for each define and rule whose conditions, defines expanded, nest past the
    limit: the same limit the parser enforces on what is written."""
    files = list(files)
    most = limits.current().nesting
    defines = _defines(files)
    depths = define_depths(defines)
    out: list[Diagnostic] = []
    for define in defines:
        if depths[define.name.text] > most:
            found, at = _depth(define.body, depths)
            if found > most:
                out.append(_too_deep(define.name.span, at, found, most))
    for file in files:
        named: list[tuple[ast.Name, ast.Node]] = []
        if isinstance(file, ast.PolicyFile):
            named = [(r.name, r) for policy in file.policies for r in policy.rules]
        else:
            named = [(k.name, k) for k in file.kinds] + [(r.verb, r) for r in file.relations]
        for name, node in named:
            found, at = _depth(node, depths)
            if found > most:
                out.append(_too_deep(name.span, at, found, most))
    return out


def _too_deep(name: Span, at: ast.Node, found: int, most: int) -> Diagnostic:
    called = f" (calling `{at.function.text}`)" if isinstance(at, ast.Call) else ""
    return Diagnostic(
        "PE005",
        f"this nests {found} levels deep{called}, deeper than {most}, the limit",
        at.span,
        "too deep",
        notes=(f"in `{name.text}`",),
        help=f"split it into smaller defines or rules; {limits.env_name('nesting')} sets the limit",
    )
