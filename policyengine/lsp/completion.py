"""Completion: keywords where the grammar allows them, kinds, a path's attributes with
their types, relation verbs, built-ins with signatures, params, defines and the values
the model says an attribute takes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from policyengine.core import model
from policyengine.core.builtins import BUILTINS
from policyengine.frontend.grammar import grammar_text, keywords_after
from policyengine.lsp.folder import Analysis
from policyengine.lsp.hover import api_field, signature
from policyengine.lsp.scopes import (
    Scope,
    fields_of,
    path_before,
    path_type,
    policy_at,
    scope_at,
    word_at,
)


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str  # keyword | kind | attribute | function | relation | param | define
    detail: str = ""
    documentation: str = ""


def completions(analysis: Analysis, path: Path, offset: int) -> list[Completion]:
    text = analysis.texts.get(path, "")
    start, _, _ = word_at(text, min(offset, len(text)))
    vocabulary = analysis.vocabulary
    before = path_before(text, start)
    scope = scope_at(analysis, path, offset)
    if before:
        record = fields_of(analysis, path_type(analysis, scope, before))
        if record is None:
            return []
        return [_attribute(analysis, scope, before, name, t) for name, t in record.fields]
    out: list[Completion] = []
    keywords = keywords_after(text[:start])
    if keywords is None:
        keywords = frozenset(_all_keywords())
    out += [Completion(k, "keyword") for k in sorted(keywords)]
    if vocabulary is not None:
        out += [Completion(k, "kind", "kind") for k in sorted(vocabulary.kinds)]
        if scope.subject is not None:
            subject = vocabulary.kinds.get(scope.subject)
            if subject is not None:
                out += [
                    _attribute(analysis, scope, [], name, t)
                    for name, t in subject.attributes.fields
                ]
            out += [
                Completion(r.verb, "relation", r.name, f"{r.name} ({r.how})")
                for r in vocabulary.relations
                if r.source == scope.subject
            ]
        out += [Completion(name, "variable", model.describe(t)) for name, t in scope.names.items()]
    out += [Completion(b.name, "function", signature(b.name), b.doc) for b in BUILTINS.values()]
    if analysis.front is not None:
        out += [Completion(name, "define", "define") for name in sorted(analysis.front.defines)]
        tree = analysis.tree(path)
        policy = policy_at(tree, offset) if tree is not None else None
        if policy is not None:
            out += [Completion(p.name.text, "param", "param " + p.name.text) for p in policy.params]
    seen: set[tuple[str, str]] = set()
    unique = []
    for c in out:
        if (c.label, c.kind) not in seen:
            seen.add((c.label, c.kind))
            unique.append(c)
    return unique


def _attribute(
    analysis: Analysis, scope: Scope, before: list[str], name: str, t: model.Type
) -> Completion:
    owner = model.unwrap(path_type(analysis, scope, before)) if before else None
    kind = (
        owner.kind if isinstance(owner, model.ResourceT) else scope.subject if not before else None
    )
    doc = ""
    if kind is not None and analysis.vocabulary is not None and kind in analysis.vocabulary.kinds:
        where = api_field(kind, name, analysis.vocabulary.kinds[kind].attributes)
        doc = f"from {where}" if where else ""
    return Completion(name, "attribute", model.describe(t), doc)


def _all_keywords() -> set[str]:
    return set(re.findall(r'"([a-z_]+)"', grammar_text()))
