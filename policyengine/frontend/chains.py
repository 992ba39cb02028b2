"""The parse tree before the syntax tree is built from it: `and`/`or` chains made flat and
nesting bounded, both without recursion, so that no condition reaches Python's recursion
limit in the tree builder or in any later walk (see `depth` for defines)."""

from __future__ import annotations

from lark import Token, Tree

from policyengine.core import limits
from policyengine.core.diagnostics import Diagnostic, DiagnosticError
from policyengine.core.source import Source, Span

_CHAINS = ("all_of", "any_of")


def shaped(tree: Tree[Token], source: Source) -> Tree[Token]:
    """`tree` with its chains flat. Raises DiagnosticError (PE004) when it nests deeper
    than the limit."""
    _flatten_chains(tree)
    deepest = _too_deep(tree, limits.current().nesting)
    if deepest is not None:
        raise DiagnosticError([_nesting_error(source, deepest)])
    return tree


def _flatten_chains(tree: Tree[Token]) -> None:
    """`a and b and c` parses left-nested, one level per operand: made one node with every
    operand here, without recursion, so that a chain of any length nests one level."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.data in _CHAINS:
            # The left spine holds the earlier operands: spliced in, in order.
            while node.children and isinstance(first := node.children[0], Tree):
                if first.data != node.data:
                    break
                node.children[0:1] = first.children
        stack.extend(c for c in node.children if isinstance(c, Tree))


def _too_deep(tree: Tree[Token], most: int) -> Tree[Token] | None:
    """The first node nested deeper than `most`, walked without recursion."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > most:
            return node
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))
    return None


def _nesting_error(source: Source, node: Tree[Token]) -> Diagnostic:
    most = limits.current().nesting
    start = getattr(node.meta, "start_pos", 0) if not node.meta.empty else 0
    return Diagnostic(
        "PE004",
        f"this is nested more than {most} levels deep",
        Span(source, start, start + 1),
        "too deep",
        help=f"split it into defines or smaller rules; {limits.env_name('nesting')} sets the limit",
    )
