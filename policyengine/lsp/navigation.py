"""Going to a definition, finding references, and a file's outline (its symbols): kinds,
attributes, relations, defines and params, across the model and policy files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from policyengine.core import model
from policyengine.core.source import Span
from policyengine.frontend import ast
from policyengine.lsp.folder import Analysis
from policyengine.lsp.scopes import path_before, path_type, policy_at, scope_at, word_at


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str  # policy | rule | kind | relation | define | param | record
    start: int
    end: int
    children: tuple[Symbol, ...] = ()


def definitions(analysis: Analysis, path: Path, offset: int) -> list[tuple[str, Span]]:
    """Where the word at an offset is declared: a kind, an attribute, a relation, a
    define or a param. Spans carry their file's name as the loader displays it."""
    text = analysis.texts.get(path, "")
    start, _, word = word_at(text, min(offset, len(text)))
    vocabulary, checked = analysis.vocabulary, analysis.front
    if not word or vocabulary is None or checked is None:
        return []
    before = path_before(text, start)
    scope = scope_at(analysis, path, offset)
    if before:
        owner = model.unwrap(path_type(analysis, scope, before))
        if isinstance(owner, model.ResourceT):
            span = _attribute_span(vocabulary, owner.kind, word)
            return [("attribute", span)] if span is not None else []
        return []
    if word in vocabulary.kinds and word not in scope.names:
        return [("kind", vocabulary.kinds[word].span)]
    out: list[tuple[str, Span]] = []
    relations = [r for r in vocabulary.relations if r.verb == word]
    if scope.subject is not None:
        relations = [r for r in relations if r.source == scope.subject] or relations
    out += [("relation", r.span) for r in relations]
    if out:
        return out
    if word in checked.defines:
        return [("define", checked.defines[word].node.name.span)]
    tree = analysis.tree(path)
    policy = policy_at(tree, offset) if tree is not None else None
    if policy is not None:
        for p in policy.params:
            if p.name.text == word:
                return [("param", p.name.span)]
    if scope.subject is not None:
        span = _attribute_span(vocabulary, scope.subject, word)
        if span is not None:
            return [("attribute", span)]
    return []


def _attribute_span(vocabulary: model.Model, kind: str, name: str) -> Span | None:
    """The declaration of an attribute in the model's text: its name inside the kind."""
    declared = vocabulary.kinds.get(kind)
    if declared is None or name not in declared.declared:
        return None
    span = declared.span
    found = re.search(rf"(?m)^\s*({re.escape(name)})\s*:", span.text)
    if found is None:
        return None
    return Span(span.source, span.start + found.start(1), span.start + found.end(1))


def references(analysis: Analysis, offset: int, path: Path) -> list[tuple[Path, int, int]]:
    """Every use of the word at an offset in the folder's files, as a whole word."""
    text = analysis.texts.get(path, "")
    _, _, word = word_at(text, min(offset, len(text)))
    if not word:
        return []
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])")
    out: list[tuple[Path, int, int]] = []
    for p, body in analysis.texts.items():
        masked = _mask_strings_and_comments(body)
        out += [(p, m.start(), m.end()) for m in pattern.finditer(masked)]
    return out


def _mask_strings_and_comments(text: str) -> str:
    """The text with strings and comments blanked out, offsets kept."""
    return re.sub(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*', lambda m: " " * len(m.group(0)), text)


def symbols(tree: ast.File | None) -> list[Symbol]:
    if isinstance(tree, ast.PolicyFile):
        return [
            Symbol(
                p.name.text,
                "policy",
                p.span.start,
                p.span.end,
                tuple(
                    [Symbol(r.name.text, "rule", r.span.start, r.span.end) for r in p.rules]
                    + [Symbol(x.name.text, "param", x.span.start, x.span.end) for x in p.params]
                    + [Symbol(d.name.text, "define", d.span.start, d.span.end) for d in p.defines]
                ),
            )
            for p in tree.policies
        ] + [Symbol(d.name.text, "define", d.span.start, d.span.end) for d in tree.defines]
    if isinstance(tree, ast.ModelFile):
        return (
            [Symbol(k.name.text, "kind", k.span.start, k.span.end) for k in tree.kinds]
            + [
                Symbol(
                    f"{r.source.text} {r.verb.text} {r.target.text}",
                    "relation",
                    r.span.start,
                    r.span.end,
                )
                for r in tree.relations
            ]
            + [Symbol(r.name.text, "record", r.span.start, r.span.end) for r in tree.records]
            + [Symbol(d.name.text, "define", d.span.start, d.span.end) for d in tree.defines]
        )
    return []
