"""The language server reparses only the rule blocks an edit touched, and keeps what did
not change: its trees and diagnostics are exactly those of a whole parse and of `check`,
after any edits, including ones that break the file or move braces and quotes around."""

from __future__ import annotations

import sys
import tempfile
from collections import OrderedDict
from dataclasses import fields
from pathlib import Path
from unittest import mock

from conftest import ROOT
from hypothesis import given
from hypothesis import strategies as st

from policyengine.core.diagnostics import Diagnostic, DiagnosticError
from policyengine.core.source import Source, Span
from policyengine.frontend import ast, parser
from policyengine.frontend.loader import display_name
from policyengine.frontend.rule_blocks import RuleReuse, rule_blocks
from policyengine.lsp import folder
from policyengine.pipeline.engine import check

sys.path.insert(0, str(ROOT / "benchmarks"))
from lsp import policy as generated  # noqa: E402

POLICIES = sorted((ROOT / "policies").rglob("*.policy"))
TEXTS = [p.read_text() for p in POLICIES] + [generated(120)]

# Pieces an edit inserts: the characters that decide where blocks are, and whole items.
PIECES = [
    "",
    "x",
    " ",
    "\n",
    "{",
    "}",
    '"',
    "#",
    "/",
    "rule",
    "rule r {",
    'rule r "t" {\n for each disk require zone is set\n}\n',
    "  rule z { disk attach requires same zone }\n",
    'remediation "{ # }"',
    'param p: string = "a"\n',
    "define f(d: disk) = d.zone is set\n",
    "policy q {",
    "matches /^{r/",
    "zoen",
]


@st.composite
def edited(draw: st.DrawFn) -> tuple[str, str]:
    """A bundled or generated policy, and that text after one to three edits."""
    text = original = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, min(40, len(text) - at)))
        text = text[:at] + draw(st.sampled_from(PIECES)) + text[at + cut :]
    return original, text


def _spans(node: object) -> list[tuple[str, int, int]]:
    """Every span of a tree, with the class and field that hold it."""
    out: list[tuple[str, int, int]] = []
    if isinstance(node, ast.Node):
        for f in fields(node):
            value = getattr(node, f.name)
            if isinstance(value, Span):
                out.append((f"{type(node).__name__}.{f.name}", value.start, value.end))
            else:
                out += _spans(value)
    elif isinstance(node, tuple):
        for item in node:
            out += _spans(item)
    return out


def _sources(node: object) -> set[int]:
    if isinstance(node, ast.Node):
        return {id(node.span.source)} | {
            s for f in fields(node) if f.name != "span" for s in _sources(getattr(node, f.name))
        }
    if isinstance(node, tuple):
        return {s for item in node for s in _sources(item)}
    return set()


@given(edited())
def test_reparsing_the_touched_rules_gives_the_whole_parse(case: tuple[str, str]) -> None:
    original, text = case
    reuse = RuleReuse()
    reuse.parse(Source("a.policy", original))  # the text before the edit, remembered
    source = Source("a.policy", text)
    pieced = reuse.parse(source)
    try:
        whole = parser._parse(source)
    except DiagnosticError:
        assert pieced is None  # a syntax error is the whole parse's to report
        return
    if pieced is not None:
        assert pieced == whole
        assert _spans(pieced) == _spans(whole)
        assert _sources(pieced) == {id(source)}  # no span points at an older text


def test_the_bundled_policies_are_read_by_their_rule_blocks() -> None:
    """Every rule of the bundled packs is a block the editor reparses alone: the speed-up
    is not lost on the files people start from."""
    for path in POLICIES:
        text = path.read_text()
        tree = RuleReuse().parse(Source(path.name, text))
        assert isinstance(tree, ast.PolicyFile), path
        rules = [r for p in tree.policies for r in p.rules]
        assert len(rule_blocks(text)) == len(rules) > 0


def _shown(diags: list[Diagnostic]) -> list[tuple[object, ...]]:
    return [(d.code, d.message, d.span.start, d.span.end, d.label, d.notes, d.help) for d in diags]


@given(edited())
def test_the_editors_diagnostics_are_checks_after_edits(case: tuple[str, str]) -> None:
    original, text = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp).resolve() / "edited.policy"  # `use` finds the bundled models
        folder.analyse(path, {path: original})
        editor = folder.analyse(path, {path: text})
        # `check` on the saved file, with nothing remembered from the editor's texts.
        path.write_text(text)
        with (
            mock.patch.object(parser, "_RECENT", OrderedDict()),
            mock.patch.object(parser, "_REUSE", RuleReuse()),
            mock.patch.object(parser, "_ast_cache", lambda source: None),
        ):
            checked = check([path])
    mine = [d for d in checked.diagnostics if d.span.file == display_name(path)]
    assert _shown(editor.diagnostics[path]) == _shown(mine)
