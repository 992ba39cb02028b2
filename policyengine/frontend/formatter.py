"""One canonical layout for models and policies (`policyengine fmt`).

A printer over the syntax tree, not a rewrite of the text: every construct is printed
from its node, so the result parses to the same tree. Comments, which the parser drops,
are read from the text beside it and put back: a comment on its own line stays before
the item it preceded, a comment at the end of a line stays at the end of that line, and
a comment inside a construct the printer lays out anew (a condition broken over lines)
moves to its own line before that construct. Blank lines between items are kept, at
most one. Formatting formatted text changes nothing.

Layout: two spaces per block; a statement on one line when it fits in 100 columns, else
broken before `require`/`forbid`, at each `and`/`or` of its condition and after a
quantifier's `:`; the fields of a kind or record one per line with their types (and
end-of-line comments) aligned, as are the `via` of consecutive relations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import assert_never

from policyengine.core.source import Source
from policyengine.frontend import ast
from policyengine.frontend.expression_text import (
    condition,
    ends_open,
    expr,
    identity,
    joined_operand,
    literal,
    location,
    path,
    string,
    type_expr,
)
from policyengine.frontend.parser import parse

WIDTH = 100
INDENT = "  "
INLINE_OBJECT = 60  # an inline `{ ... }` type longer than this is laid out as a block
TAB = "\x1f"  # ends an aligned cell; a character no comment or string holds as such
CELL_CAP = 40  # a longer cell does not widen its column: it overflows, one space after

# What the lexer reads as one token where a `#` does not start a comment: strings and
# /regexes/ cannot span lines, and a comment runs to the end of its line.
_TOKENS = re.compile(r'"(?:\\.|[^"\\\n])*"|/(?:\\.|[^/\\\n])+/|#[^\n]*')


@dataclass(frozen=True)
class Comment:
    start: int
    end: int
    text: str
    own_line: bool  # nothing but blanks before it on its line


def comments(text: str) -> list[Comment]:
    found: list[Comment] = []
    for match in _TOKENS.finditer(text):
        if match.group().startswith("#"):
            line_start = text.rfind("\n", 0, match.start()) + 1
            own = not text[line_start : match.start()].strip()
            found.append(Comment(match.start(), match.end(), match.group().rstrip(), own))
    return found


def format_source(source: Source) -> str:
    """The canonical text of a model or policy. Raises DiagnosticError if it does not parse."""
    tree = parse(source)
    printer = _Printer(source.text, comments(source.text))
    match tree:
        case ast.ModelFile():
            printer.model_file(tree)
        case ast.PolicyFile():
            printer.policy_file(tree)
        case _:
            assert_never(tree)
    return printer.result()


def format_text(text: str, name: str = "<text>") -> str:
    return format_source(Source(name, text))


# ---------------------------------------------------------------- conditions over lines


def _broken(node: ast.Condition, prefix: str, indent: str) -> list[str]:
    """A condition after `prefix`, on one line if it fits, else broken at its top-level
    `and`/`or` (continuations four columns in) or after a quantifier's `:`."""
    flat = prefix + condition(node)
    if len(flat) <= WIDTH:
        return [flat]
    match node:
        case ast.AllOf(conditions=parts) | ast.AnyOf(conditions=parts):
            word = "and " if isinstance(node, ast.AllOf) else "or "
            last = len(parts) - 1
            lines = [prefix + joined_operand(parts[0], node, last == 0)]
            for i, part in enumerate(parts[1:], start=1):
                text = joined_operand(part, node, i == last)
                if i == last and isinstance(part, ast.Quantifier):
                    lines += _broken(part, indent + INDENT * 2 + word, indent + INDENT * 2)
                else:
                    lines.append(indent + INDENT * 2 + word + text)
            return lines
        case ast.Quantifier(where=where, body=body):
            inner = indent + INDENT
            head = f"{node.quantifier} {node.var.text} in {expr(node.source)}"
            if where is None:
                return [prefix + head + ":", *_broken(body, inner, inner)]
            text = condition(where)
            text = f"({text})" if ends_open(where) else text
            return [prefix + head, f"{inner}where {text}:", *_broken(body, inner, inner)]
    return [flat]


# ---------------------------------------------------------------- types laid out as blocks


def _block_object(node: ast.TypeExpr) -> ast.ObjectType | None:
    """The object type a field ends with, when it is too long to stay inline."""
    while isinstance(node, ast.ListType | ast.MapType | ast.OptionalType):
        node = (
            node.item
            if isinstance(node, ast.ListType)
            else (node.value if isinstance(node, ast.MapType) else node.inner)
        )
    if isinstance(node, ast.ObjectType) and len(type_expr(node)) > INLINE_OBJECT:
        return node
    return None


def _type_prefix(node: ast.TypeExpr) -> str:
    """`list of ` / `optional map of ` ...: the words before a block object."""
    match node:
        case ast.ListType(item=item):
            return "list of " + _type_prefix(item)
        case ast.MapType(value=value):
            return "map of " + _type_prefix(value)
        case ast.OptionalType(inner=inner):
            return "optional " + _type_prefix(inner)
    return ""


# ---------------------------------------------------------------- the printer


class _Printer:
    """Emits lines; cells separated by a tab are aligned across consecutive lines."""

    def __init__(self, text: str, found: Sequence[Comment]) -> None:
        self.text = text
        self.comments = list(found)
        self.next = 0  # the first comment not yet printed
        self.lines: list[str] = []
        self.last = 0  # source offset of the end of what was printed last
        self.block_start = True  # nothing printed yet in the current block

    # -- comments and blank lines
    def _gap_has_blank(self, start: int) -> bool:
        return re.search(r"\n[ \t\r]*\n", self.text[self.last : start]) is not None

    def _emit(self, line: str, start: int, end: int) -> None:
        if self._gap_has_blank(start) and not self.block_start:
            self.lines.append("")
        self.lines.append(line)
        self.last = max(self.last, end)
        self.block_start = False

    def _before(self, start: int, end: int, indent: str) -> None:
        """Prints the comments before an item that spans [start, end), and those inside it."""
        while self.next < len(self.comments) and self.comments[self.next].start < end:
            c = self.comments[self.next]
            self.next += 1
            if c.start < start and not c.own_line and self.lines and self.lines[-1].strip():
                self._trail(c)  # the end of a line already printed (a block's opening line)
                continue
            self._emit(indent + c.text, c.start, c.end)

    def _after(self, end: int) -> None:
        """A comment that ends the item's last line stays there."""
        if self.next < len(self.comments):
            c = self.comments[self.next]
            if c.start >= end and "\n" not in self.text[end : c.start]:
                self.next += 1
                self._trail(c)

    def _trail(self, c: Comment) -> None:
        line = self.lines[-1]
        # An aligned line ends with an empty cell, where its comment goes.
        self.lines[-1] = line + c.text if line.endswith(TAB) else f"{line}  {c.text}"
        self.last = max(self.last, c.end)

    def item(self, node: ast.Node, lines: list[str], indent: str) -> None:
        self._before(node.span.start, node.span.end, indent)
        if self._gap_has_blank(node.span.start) and not self.block_start:
            self.lines.append("")
        self.lines.extend(lines)
        self.block_start = False
        self.last = max(self.last, node.span.end)
        self._after(node.span.end)

    def open_block(self, node: ast.Node, header: Sequence[str], indent: str) -> None:
        """The lines that open a block; the last one ends with its `{`."""
        self._before(node.span.start, node.span.start + 1, indent)
        self._emit(header[0], node.span.start, node.span.start)
        self.lines.extend(header[1:])
        self.block_start = True

    def close_block(self, node: ast.Node, indent: str, tail: str = "") -> None:
        self._before(node.span.end, node.span.end, indent + INDENT)
        self.lines.append(indent + "}" + tail)
        self.last = max(self.last, node.span.end)
        self.block_start = False
        self._after(node.span.end)

    def result(self) -> str:
        self._before(len(self.text) + 1, len(self.text) + 1, "")
        return "\n".join(_align(self.lines)).rstrip("\n") + "\n"

    # -- models
    def model_file(self, node: ast.ModelFile) -> None:
        title = f" {string(node.title)}" if node.title is not None else ""
        self.item(node.name, [f"model {node.name.text}{title}"], "")
        for use in node.uses:
            self.item(use, [f"use {use.name.text}"], "")
        items: list[ast.Record | ast.Kind | ast.Extension | ast.Relation | ast.Define] = [
            *node.records,
            *node.kinds,
            *node.extensions,
            *node.relations,
            *node.defines,
        ]
        for entry in sorted(items, key=lambda n: n.span.start):
            match entry:
                case ast.Record(name=name, fields=fields):
                    self.open_block(entry, [f"record {name.text} {{"], "")
                    self.fields(fields, INDENT)
                    self.close_block(entry, "")
                case ast.Kind():
                    self.kind(entry)
                case ast.Extension():
                    self.extension(entry)
                case ast.Relation():
                    self.item(entry, self.relation(entry), "")
                case ast.Define():
                    self.item(entry, define(entry, ""), "")

    def kind(self, node: ast.Kind) -> None:
        head = f"kind {node.name.text} {identity(node.identity)}"
        where = location(node.location) + (" unique per region" if node.unique_per_region else "")
        brace = " {" if node.fields else ""
        if len(f"{head} {where}{brace}") <= WIDTH:
            lines = [f"{head} {where}"]
        else:
            lines = [head, " " * len("kind ") + where]
        if not node.fields:
            self.item(node, lines, "")
            return
        self.open_block(node, [*lines[:-1], lines[-1] + " {"], "")
        self.fields(node.fields, INDENT)
        self.close_block(node, "")

    def extension(self, node: ast.Extension) -> None:
        head = f"extend {node.target} {node.name.text} {{"
        if not node.fields:
            self.item(node, [head + " }"], "")
            return
        self.open_block(node, [head], "")
        self.fields(node.fields, INDENT)
        self.close_block(node, "")

    def fields(self, fields: Sequence[ast.Field], indent: str) -> None:
        for f in fields:
            block = _block_object(f.type)
            if block is None:
                api = f" from {string(f.api)}" if f.api is not None else ""
                self.item(f, [f"{indent}{f.name.text}:{TAB}{type_expr(f.type)}{api}{TAB}"], indent)
                continue
            self.open_block(f, [f"{indent}{f.name.text}:{TAB}{_type_prefix(f.type)}{{"], indent)
            self.fields(block.fields, indent + INDENT)
            # An object's `from "API"` follows its closing brace, as it is written.
            self.close_block(f, indent, f" from {string(f.api)}" if f.api is not None else "")

    def relation(self, node: ast.Relation) -> list[str]:
        """`via` aligned across consecutive relations; paths after the first, `when` and
        `may dangle` on lines of their own in the same column."""
        head = f"relation {node.source.text} {node.verb.text} {node.target.text}"
        if node.join:
            lines = [f"{head}{TAB}on {', '.join(k.text for k in node.join)}{TAB}"]
            if node.when is not None:
                lines.append(f"{TAB}when {condition(node.when)}{TAB}")
            if node.dangle_reason is not None:
                lines.append(f"{TAB}may dangle {string(node.dangle_reason)}{TAB}")
            return lines
        paths = [path(p) for p in node.paths]
        via = f"via {paths[0]}{',' if len(paths) > 1 else ''}"
        if max(len(head), CELL_CAP) + 1 + len(via) <= WIDTH:
            lines = [f"{head}{TAB}{via}{TAB}"]
        else:
            lines = [f"{head}{TAB}", f"{TAB}{via}{TAB}"]
        for i, p in enumerate(paths[1:], start=2):
            lines.append(f"{TAB}    {p}{',' if i < len(paths) else ''}{TAB}")
        if node.when is not None:
            lines.append(f"{TAB}when {condition(node.when)}{TAB}")
        if node.dangle_reason is not None:
            lines.append(f"{TAB}may dangle {string(node.dangle_reason)}{TAB}")
        return lines

    # -- policies
    def policy_file(self, node: ast.PolicyFile) -> None:
        for use in node.uses:
            self.item(use, [f"use {use.name.text}"], "")
        tops: list[ast.Define | ast.Policy] = [*node.defines, *node.policies]
        for policy in sorted(tops, key=lambda n: n.span.start):
            if isinstance(policy, ast.Define):
                self.item(policy, define(policy, ""), "")
                continue
            title = f" {string(policy.title)}" if policy.title is not None else ""
            self.open_block(policy, [f"policy {policy.name.text}{title} {{"], "")
            items: list[ast.Param | ast.Meta | ast.Rule | ast.Define] = [
                *policy.params,
                *policy.meta,
                *policy.rules,
                *policy.defines,
            ]
            for entry in sorted(items, key=lambda n: n.span.start):
                match entry:
                    case ast.Param():
                        self.item(entry, [INDENT + _param(entry)], INDENT)
                    case ast.Meta():
                        self.item(entry, [INDENT + _meta(entry)], INDENT)
                    case ast.Rule():
                        self.rule(entry)
                    case ast.Define():
                        self.item(entry, define(entry, INDENT), INDENT)
            self.close_block(policy, "")

    def rule(self, node: ast.Rule) -> None:
        indent = INDENT * 2
        title = f" {string(node.title)}" if node.title is not None else ""
        self.open_block(node, [f"{INDENT}rule {node.name.text}{title} {{"], INDENT)
        bodies = [] if node.body is None else [node.body, *node.extra]
        items: list[ast.Meta | ast.ForEach] = [*node.meta, *bodies]
        for entry in sorted(items, key=lambda n: n.span.start):
            if isinstance(entry, ast.Meta):
                self.item(entry, [indent + _meta(entry)], indent)
            else:
                self.item(entry, statement(entry, indent), indent)
        self.close_block(node, INDENT)


def _param(node: ast.Param) -> str:
    default = f" = {literal(node.default.value)}" if node.default is not None else ""
    return f"param {node.name.text}: {type_expr(node.type)}{default}"


def _meta(node: ast.Meta) -> str:
    if node.key == "tags":
        return f"tags [{', '.join(string(v) for v in node.values)}]"
    return (
        f"{node.key} {node.value}"
        if node.key in ("severity", "enforcement")
        else f"{node.key} {string(node.value)}"
    )


def statement(node: ast.ForEach, indent: str) -> list[str]:
    """A rule's statement: a sentence as written, or a `for each`."""
    if node.origin is not None:
        s = node.origin
        head = f"{s.subject.text} {s.verb.text}"
        head += f" {s.object.text}" if s.object is not None else ""
        head += f" as {s.alias.text}" if s.alias is not None else ""
        head += f" requires same {s.scope}"
        clauses = [
            (word, c) for word, c in (("where", s.where), ("unless", s.unless)) if c is not None
        ]
        flat = indent + head + "".join(f" {w} {condition(c)}" for w, c in clauses)
        if len(flat) <= WIDTH:
            return [flat]
        lines = [indent + head]
        for word, c in clauses:
            lines += _broken(c, f"{indent}{INDENT * 2}{word} ", indent + INDENT * 2)
        return lines
    head = f"for each {node.kind.text}" + (f" as {node.alias.text}" if node.alias else "")
    if node.where is not None:
        head += f" where {condition(node.where)}"
    flat = f"{indent}{head} {node.mode} {condition(node.condition)}"
    if node.unless is not None:
        flat += f" unless {condition(node.unless)}"
    if len(flat) <= WIDTH and not node.lets:
        return [flat]
    lets = [f"{indent}let {let.name.text} = {expr(let.value)}" for let in node.lets]
    lines = [indent + head, *lets, *_broken(node.condition, f"{indent}{node.mode} ", indent)]
    if node.unless is not None:
        lines += _broken(node.unless, f"{indent}unless ", indent)
    return lines


def define(node: ast.Define, indent: str) -> list[str]:
    """`define NAME(p: T, …) = CONDITION`, the condition on the lines below when long."""
    params = ", ".join(f"{p.name.text}: {type_expr(p.type)}" for p in node.params)
    head = f"{indent}define {node.name.text}({params}) ="
    flat = f"{head} {condition(node.body)}"
    if len(flat) <= WIDTH:
        return [flat]
    inner = indent + INDENT
    return [head, *_broken(node.body, inner, inner)]


# ---------------------------------------------------------------- alignment


def _align(lines: list[str]) -> list[str]:
    """Elastic tabstops (Go's tabwriter): TAB ends a cell, and the cells of a column are
    padded to the widest of the consecutive lines that have that column. Lines align with
    the lines of their own indentation: a deeper block between them (and its closing `}`)
    does not break the run, a blank line or a shallower line does. A line whose first
    cell is empty continues the line above. A comment is set two spaces off."""
    rows = [line.split(TAB) for line in lines]
    owner: list[int | None] = []
    for row in rows:
        if row[0] == "" and len(row) > 1 and owner:
            owner.append(owner[-1])
        elif not "".join(row).strip():
            owner.append(None)
        else:
            owner.append(len(row[0]) - len(row[0].lstrip(" ")))
    widths: list[dict[int, int]] = [{} for _ in rows]
    for level in sorted({o for o in owner if o is not None}):
        run: list[int] = []
        for k, row in enumerate(rows):
            mine = owner[k]
            if "".join(row).strip() == "}" and mine is not None and mine >= level:
                continue  # the end of a block object inside the run
            if mine == level:
                run.append(k)
            if mine is None or mine < level or (mine == level and len(row) == 1):
                _columns(rows, run, 0, widths)
                run = []
        _columns(rows, run, 0, widths)
    out = []
    for row, width in zip(rows, widths, strict=True):
        cells = []
        for c, cell in enumerate(row[:-1]):
            pad = 2 if row[c + 1].startswith("#") else 1
            cells.append(cell.ljust(width.get(c, 0)) + " " * pad)
        out.append(("".join(cells) + row[-1]).rstrip())
    return out


def _columns(rows: list[list[str]], run: list[int], col: int, widths: list[dict[int, int]]) -> None:
    """Sets the width of column `col` over each stretch of `run` whose lines have it."""
    i = 0
    while i < len(run):
        if len(rows[run[i]]) <= col + 1:
            i += 1
            continue
        j = i
        while j < len(run) and len(rows[run[j]]) > col + 1:
            j += 1
        stretch = run[i:j]
        cells = [len(rows[k][col]) for k in stretch if len(rows[k][col]) <= CELL_CAP]
        for k in stretch:
            widths[k][col] = max(cells, default=0)
        _columns(rows, stretch, col + 1, widths)
        i = j
