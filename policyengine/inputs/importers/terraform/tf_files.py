"""The configuration's `.tf` files, when they are at hand: where each `resource` block
is (file and line), and each attribute's expression as written.

A plan's JSON gives an attribute's references but not the expression around them:
`alicloud_ecs_disk.data[count.index].id` and `alicloud_ecs_disk.data[count.index + 1].id`
both reference `alicloud_ecs_disk.data` and `count.index`. The expression's text tells
them apart. The files are parsed with python-hcl2 (HCL's own grammar), never by hand; a
file it cannot parse is named in the summary and otherwise left out, and its text is
never quoted.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from lark import Tree
from lark.exceptions import LarkError

from policyengine.inputs.snapshot import InputError, read_input


@dataclass(frozen=True)
class Block:
    file: str  # as reports name it: the path as found
    line: int  # 1-based line of `resource "type" "name" {`
    expressions: dict[str, str]  # attribute -> its expression as written
    lines: dict[str, int]  # attribute -> its line


@dataclass
class TfFiles:
    """The `resource` blocks of each module's folder, by (module path, type.name)."""

    blocks: dict[tuple[str, str], Block] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)  # files python-hcl2 could not parse
    texts: dict[str, str] = field(default_factory=dict)  # file -> its text, for positions

    def block(self, module: str, address: str) -> Block | None:
        return self.blocks.get((module, address))


def read(root: Path | None, name: str, sources: dict[str, str]) -> TfFiles:
    """The `.tf` files of the root module's folder `root` (named `name` in reports) and of
    each local module the configuration calls (`source = "./modules/app"`)."""
    out = TfFiles()
    if root is None or not root.is_dir():
        return out
    folders: dict[str, tuple[Path, str]] = {}
    for module in sorted(sources, key=lambda m: m.count(".")):
        if module == "":
            folders[module] = (root, name)
            continue
        parent = ".".join(module.split(".")[:-2])  # module.app.module.db -> module.app
        source = sources[module]
        if parent not in folders or not source.startswith(("./", "../")):
            continue  # a registry or remote module: its files are not here
        base, base_name = folders[parent]
        folders[module] = (base / source, _join(base_name, source))
    for module, (folder, folder_name) in folders.items():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.tf")):
            if not path.is_file():
                continue
            file = _join(folder_name, path.name)
            try:
                text = read_input(path, file)
                tree = hcl2.parses_to_tree(text)
            except (InputError, LarkError, ValueError, RecursionError):
                out.unreadable.append(file)
                continue
            out.texts[file] = text
            for block in tree.find_data("block"):
                found = _resource(block, file, text)
                if found is not None:
                    out.blocks.setdefault((module, found[0]), found[1])
    return out


def _resource(block: Tree[Any], file: str, text: str) -> tuple[str, Block] | None:
    """A `resource "type" "name" { ... }` block -> ("type.name", Block)."""
    children = block.children
    labels = [_label(c) for c in children if isinstance(c, Tree) and c.data == "string"]
    head = children[0] if children else None
    if (
        not isinstance(head, Tree)
        or head.data != "identifier"
        or str(head.children[0]) != "resource"
    ):
        return None
    if len(labels) != 2 or None in labels:
        return None
    expressions: dict[str, str] = {}
    lines: dict[str, int] = {}
    body = next((c for c in children if isinstance(c, Tree) and c.data == "body"), None)
    for attr in body.children if body is not None else []:
        if isinstance(attr, Tree) and attr.data == "attribute":
            ident, expr = attr.children[0], attr.children[-1]
            key = str(ident.children[0]) if isinstance(ident, Tree) else str(ident)
            if isinstance(expr, Tree) and not expr.meta.empty:
                expressions[key] = text[expr.meta.start_pos : expr.meta.end_pos].strip()
                lines[key] = attr.meta.line
    return f"{labels[0]}.{labels[1]}", Block(file, block.meta.line, expressions, lines)


def _label(node: Tree[Any]) -> str | None:
    parts = [str(c.children[0]) for c in node.children if isinstance(c, Tree) and c.children]
    return "".join(parts) if parts else None


def _join(folder: str, rel: str) -> str:
    return posixpath.normpath(posixpath.join(folder, rel))
