"""What a place in a policy means: the word under the cursor, the dotted path before it,
the rule and policy around it, and the names in scope there with their types."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from policyengine.core import model
from policyengine.core.source import Source, Span
from policyengine.frontend import ast
from policyengine.lsp.folder import Analysis

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def word_at(text: str, offset: int) -> tuple[int, int, str]:
    """The identifier around an offset (start, end, word); an empty word where none."""
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = offset
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    word = text[start:end]
    return (start, end, word) if _WORD.fullmatch(word) else (offset, offset, "")


def path_before(text: str, start: int) -> list[str]:
    """The dotted names before a word: `image.visibility` at `visibility` -> ["image"]."""
    out: list[str] = []
    at = start
    while at > 0 and text[at - 1] == ".":
        end = at - 1
        begin = end
        while begin > 0 and (text[begin - 1].isalnum() or text[begin - 1] == "_"):
            begin -= 1
        if begin == end:
            break
        out.insert(0, text[begin:end])
        at = begin
    return out


def contains(span: Span, offset: int) -> bool:
    return span.start <= offset <= span.end


def rule_at(tree: ast.File, offset: int) -> ast.Rule | None:
    if not isinstance(tree, ast.PolicyFile):
        return None
    for policy in tree.policies:
        for rule in policy.rules:
            if contains(rule.span, offset):
                return rule
    return None


def policy_at(tree: ast.File, offset: int) -> ast.Policy | None:
    if isinstance(tree, ast.PolicyFile):
        for policy in tree.policies:
            if contains(policy.span, offset):
                return policy
    return None


@dataclass(frozen=True)
class Scope:
    """What names mean at a place in a rule: `this`, aliases and bound variables."""

    subject: str | None  # the kind `for each` is over
    names: Mapping[str, model.Type]  # alias or variable -> its type


def _kind_type(vocabulary: model.Model, kind: str) -> model.Type:
    return model.ResourceT(kind) if kind in vocabulary.kinds else model.AnyT()


def scope_at(analysis: Analysis, path: Path, offset: int) -> Scope:
    tree, vocabulary = analysis.tree(path), analysis.vocabulary
    rule = rule_at(tree, offset) if tree is not None else None
    if rule is None or rule.body is None or vocabulary is None:
        return Scope(None, {})
    body = rule.body
    subject = body.kind.text
    names: dict[str, model.Type] = {"this": _kind_type(vocabulary, subject)}
    if body.alias is not None:
        names[body.alias.text] = _kind_type(vocabulary, subject)
    if body.edge is not None:
        target = body.edge.target.text if body.edge.target is not None else None
        if target is None:
            found = vocabulary.relations_of(subject, body.edge.verb.text)
            target = found[0].target if len(found) == 1 else None
        if target is not None:
            names[target] = _kind_type(vocabulary, target)
            if body.edge.alias is not None:
                names[body.edge.alias.text] = _kind_type(vocabulary, target)
    scope = Scope(subject, names)
    for node in ast.walk(body):
        if isinstance(node, ast.Quantifier) and contains(node.span, offset):
            element = _element_type(analysis, scope, node.source)
            names[node.var.text] = element
            scope = Scope(subject, names)
    for let in body.lets:
        names[let.name.text] = model.AnyT()
    return Scope(subject, names)


def _element_type(analysis: Analysis, scope: Scope, source: object) -> model.Type:
    vocabulary = analysis.vocabulary
    if vocabulary is None:
        return model.AnyT()
    if isinstance(source, ast.Related):
        target = getattr(source, "target", None)
        name = target.text if isinstance(target, ast.Name) else None
        return _kind_type(vocabulary, name) if name else model.AnyT()
    if isinstance(source, ast.Path):
        t = model.unwrap(path_type(analysis, scope, [source.head.text]))
        for segment in source.segments:
            t = model.unwrap(_step(analysis, t, segment))
        return model.unwrap(t.item) if isinstance(t, model.ListT) else model.AnyT()
    return model.AnyT()


def fields_of(analysis: Analysis, t: model.Type) -> model.RecordT | None:
    vocabulary = analysis.vocabulary
    t = model.unwrap(t)
    if isinstance(t, model.ResourceT) and vocabulary is not None:
        kind = vocabulary.kinds.get(t.kind)
        return kind.attributes if kind is not None else None
    if isinstance(t, model.RecordT):
        return t
    return None


def _step(analysis: Analysis, t: model.Type, segment: object) -> model.Type:
    t = model.unwrap(t)
    if isinstance(segment, ast.AttrSegment):
        record = fields_of(analysis, t)
        return record.by_name.get(segment.name, model.AnyT()) if record else model.AnyT()
    if isinstance(t, model.MapT):
        return t.value
    if isinstance(t, model.ListT):
        return t.item
    return model.AnyT()


def path_type(analysis: Analysis, scope: Scope, names: list[str]) -> model.Type:
    """The type of a dotted path as written at a place: a bound name, `this`, a kind,
    or an attribute of the rule's subject, then attribute after attribute."""
    vocabulary = analysis.vocabulary
    if not names or vocabulary is None:
        return model.AnyT()
    head, rest = names[0], names[1:]
    if head in scope.names:
        t = scope.names[head]
    elif head in vocabulary.kinds:
        t = model.ResourceT(head)
    elif scope.subject is not None:
        t = _step(
            analysis, model.ResourceT(scope.subject), ast.AttrSegment(span=_NOWHERE, name=head)
        )
    else:
        return model.AnyT()
    for name in rest:
        t = _step(analysis, t, ast.AttrSegment(span=_NOWHERE, name=name))
    return t


_NOWHERE = Span(Source("", ""), 0, 0)
