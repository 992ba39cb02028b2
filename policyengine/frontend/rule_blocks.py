"""Parsing a policy file again after an edit, reparsing only the rule blocks it touched.

An editor checks a file on every change, and parsing a 500-line policy is most of that
check. The rules of a policy are blocks with braces, `rule NAME ["title"] { ... }`: each
is parsed alone from the grammar's `rule` start and its tree kept by its text; an edit
changes one or two of them. The rest of the file (uses, the policy's header, params,
metadata, defines) is parsed with the rule blocks blanked out, and the rules' trees,
moved to where they now are, are put back into their policies.

The result is the tree a whole parse gives, spans included. Whenever that cannot be
shown from the pieces (a piece does not parse, a blanked rule would change what is
around it), the file is parsed whole instead, so that its syntax errors are the ones a
whole parse reports.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TypeVar

from lark.exceptions import UnexpectedInput, VisitError

from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.source import Source, Span
from policyengine.frontend import ast
from policyengine.frontend.chains import shaped
from policyengine.frontend.grammar import lark_parser
from policyengine.frontend.tree_builder import TreeBuilder

# What decides where rule blocks are: strings, comments and /regular expressions/ (which
# may hold braces, quotes or the word `rule`), braces, and the word `rule`. The regular
# expression engine skips everything else.
_TOKENS = re.compile(
    r'(?P<skip>"(?:\\.|[^"\\\n])*"|#[^\n]*|/(?:\\.|[^/\\\n])+/)'
    r"|(?P<open>\{)|(?P<close>\})|(?P<rule>(?<![A-Za-z0-9_])rule(?![A-Za-z0-9_]))"
)
# Between `rule` and its `{`: a name and perhaps a title.
_HEADER = re.compile(r'\s+[A-Za-z_][A-Za-z0-9_]*(?:\s+"(?:\\.|[^"\\\n])*")?\s*')
_N = TypeVar("_N", bound=ast.Node)


@dataclass(frozen=True)
class Block:
    """A rule block's place in a text: from `rule` to its closing brace."""

    start: int
    end: int


def rule_blocks(text: str) -> list[Block]:
    """The rule blocks directly inside a top-level block: `rule NAME ["title"] {...}` one
    level deep. Found from tokens alone; whether they are rules is for the parser."""
    out: list[Block] = []
    depth = 0
    word: re.Match[str] | None = None  # the last `rule` one level deep
    opened = -1  # where the rule block being read starts
    for token in _TOKENS.finditer(text):
        kind = token.lastgroup
        if kind == "rule":
            word = token if depth == 1 else None
        elif kind == "open":
            if (
                depth == 1
                and word is not None
                and _HEADER.fullmatch(text, word.end(), token.start())
            ):
                opened = word.start()
            depth += 1
            word = None
        elif kind == "close":
            depth = max(0, depth - 1)
            if depth == 1 and opened >= 0:
                out.append(Block(opened, token.end()))
                opened = -1
            word = None
    return out


class RuleReuse:
    """Keeps the trees of the rule blocks of recent texts, by the block's text."""

    def __init__(self, kept: int = 4096) -> None:
        self._trees: OrderedDict[str, ast.Rule] = OrderedDict()
        self._kept = kept

    def parse(self, source: Source) -> ast.File | None:
        """The file's tree from its pieces; None when a whole parse must say (a syntax
        error somewhere, or a block the pieces cannot place)."""
        text = source.text
        blocks = rule_blocks(text)
        if not blocks:
            return None
        pieces, at = [], 0
        for block in blocks:
            pieces += [text[at : block.start], " " * (block.end - block.start)]
            at = block.end
        pieces.append(text[at:])
        try:
            outline_tree = shaped(lark_parser().parse("".join(pieces)), source)
            outline = TreeBuilder(source).transform(outline_tree)
            rules = [self._rule(source, block) for block in blocks]
        except (UnexpectedInput, VisitError, DiagnosticError):
            return None  # the whole file is parsed, and its errors reported, instead
        if not isinstance(outline, ast.PolicyFile):
            return None
        return _put_back(outline, blocks, rules)

    def _rule(self, source: Source, block: Block) -> ast.Rule:
        text = source.text[block.start : block.end]
        tree = self._trees.get(text)
        if tree is None:
            piece = Source(source.name, text)
            parsed = TreeBuilder(piece).transform(shaped(lark_parser("rule").parse(text), piece))
            assert isinstance(parsed, ast.Rule)
            tree = parsed
            self._trees[text] = tree
            if len(self._trees) > self._kept:
                self._trees.popitem(last=False)
        else:
            self._trees.move_to_end(text)
        return relocate(tree, source, block.start)


def _put_back(
    outline: ast.PolicyFile, blocks: list[Block], rules: list[ast.Rule]
) -> ast.PolicyFile | None:
    """The outline with each rule in the policy whose braces hold its block; None if a
    block is outside every policy or overlaps another item (which the blank changed)."""
    starts = [b.start for b in blocks]

    def overlaps(span: Span) -> bool:
        # Blocks are in order and apart: only the last one starting before the span's
        # end can reach into it.
        at = bisect_left(starts, span.end) - 1
        return at >= 0 and blocks[at].end > span.start

    policies = []
    placed = 0
    for policy in outline.policies:
        first = bisect_left(starts, policy.span.start)
        last = bisect_left(starts, policy.span.end)
        inside = range(first, last)
        if any(blocks[i].end >= policy.span.end for i in inside):
            return None
        items: list[ast.Node] = [*policy.params, *policy.meta, *policy.rules, *policy.defines]
        if any(overlaps(i.span) for i in items) or overlaps(policy.name.span):
            return None
        placed += len(inside)
        if inside:
            merged = sorted([*policy.rules, *(rules[i] for i in inside)], key=_start)
            policy = replace(policy, rules=tuple(merged))
        policies.append(policy)
    if placed != len(blocks) or any(overlaps(d.span) for d in [*outline.defines, *outline.uses]):
        return None
    return replace(outline, policies=tuple(policies))


def _start(rule: ast.Rule) -> int:
    return rule.span.start


def relocate(node: _N, source: Source, delta: int) -> _N:
    """A copy of a tree with every span in `source`, `delta` characters further on."""
    moved = _mover(type(node))(node, source, delta)
    assert isinstance(moved, type(node))
    return moved


# Field types that hold no span: copied as they are.
_PLAIN = re.compile(
    r"(str|int|bool|LiteralValue|Lit\[.*\]|sem\.\w+|tuple\[str, \.\.\.\])( \| None)?"
)


_Mover = Callable[[ast.Node, Source, int], ast.Node]
_MOVERS: dict[type[ast.Node], _Mover] = {}


def _mover(cls: type[ast.Node]) -> _Mover:
    """A function that copies a node of `cls` with its spans moved, written out field by
    field: an edit moves every rule after it, and this runs for each of their nodes."""
    found = _MOVERS.get(cls)
    if found is not None:
        return found
    lines = ["def move(node, source, delta):\n    return cls("]
    for f in fields(cls):
        value = f"node.{f.name}"
        if f.type == "Span":
            moved = f"Span(source, {value}.start + delta, {value}.end + delta)"
        elif _PLAIN.fullmatch(str(f.type)):
            moved = value
        else:
            moved = f"_moved({value}, source, delta)"
        lines.append(f"        {f.name}={moved},")
    lines.append("    )")
    scope: dict[str, object] = {"cls": cls, "Span": Span, "_moved": _moved}
    exec("\n".join(lines), scope)  # noqa: S102 - code written here from the class's fields
    _MOVERS[cls] = scope["move"]  # type: ignore[assignment]
    return _MOVERS[cls]


def _moved(value: object, source: Source, delta: int) -> object:
    if value is None:
        return None
    if type(value) is tuple:
        return tuple([_moved(item, source, delta) for item in value])
    if isinstance(value, ast.Node):
        return _mover(type(value))(value, source, delta)
    return value
