"""Completion: keywords where the grammar allows them, kinds, a path's attributes with
their types, relation verbs, built-ins with signatures, params, defines and the values
the model says an attribute takes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from policyengine.core import model
from policyengine.core.builtins import BUILTINS
from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.source import Source
from policyengine.frontend import ast
from policyengine.frontend.grammar import grammar_text, keywords_after
from policyengine.frontend.parser import parse
from policyengine.lsp.folder import Analysis, analyse
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
    kind: str  # keyword | kind | attribute | function | relation | param | define | value
    detail: str = ""
    documentation: str = ""


def completions(analysis: Analysis, path: Path, offset: int) -> list[Completion]:
    text = analysis.texts.get(path, "")
    start, _, _ = word_at(text, min(offset, len(text)))
    vocabulary = analysis.vocabulary
    before = path_before(text, start)
    scope = scope_at(analysis, path, offset)
    values = _values(analysis, path, text, start)
    if values is not None:
        return values
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


# ---------------------------------------------------------------- values an attribute takes

# `status == `, `instance.status != "`: a comparison waiting for its value.
_COMPARED = re.compile(r"(?<![\w.])((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\s*(?:==|!=)\s*(\"?)$")
# In a model, the comment after an attribute lists its values: `# Running | Stopped | ...`.
_VALUE = re.compile(r"[A-Za-z0-9_.:/-]+")


def _values(analysis: Analysis, path: Path, text: str, start: int) -> list[Completion] | None:
    """After a comparison of an attribute whose values the model lists, those values;
    None anywhere else."""
    found = _COMPARED.search(text, max(0, start - 200), start)
    if found is None:
        return None
    if analysis.tree(path) is None:
        # `status == ` is half a comparison, so the file does not parse: read it with
        # the value closed, to know the rule and its subject.
        closed = text[:start] + ('"' if found.group(2) else '""') + text[start:]
        overlay = {p.resolve(): t for p, t in analysis.texts.items()}
        analysis = analyse(path, overlay | {path.resolve(): closed})
    vocabulary, scope = analysis.vocabulary, scope_at(analysis, path, start)
    if vocabulary is None:
        return None
    *owner_path, attribute = found.group(1).split(".")
    if owner_path:
        owner = model.unwrap(path_type(analysis, scope, owner_path))
    elif attribute not in scope.names and scope.subject is not None:
        owner = model.ResourceT(scope.subject)
    else:
        return None
    name = owner.kind if isinstance(owner, model.ResourceT) else None
    if isinstance(owner, model.RecordT):
        name = owner.name
    listed = listed_values(vocabulary).get((name or "", attribute), ())
    quote = "" if found.group(2) else '"'
    return [
        Completion(f"{quote}{v}{quote}", "value", f"{name}.{attribute}", "listed in the model")
        for v in listed
    ] or None


_LISTED: dict[int, tuple[model.Model, dict[tuple[str, str], tuple[str, ...]]]] = {}


def listed_values(vocabulary: model.Model) -> dict[tuple[str, str], tuple[str, ...]]:
    """(kind or record, attribute) -> the values the comment on its declaration lists,
    for every model file the vocabulary was built from."""
    kept = _LISTED.get(id(vocabulary))
    if kept is not None and kept[0] is vocabulary:
        return kept[1]
    sources = {id(k.span.source): k.span.source for k in vocabulary.kinds.values()}
    out: dict[tuple[str, str], tuple[str, ...]] = {}
    for source in sources.values():
        try:
            tree = parse(Source(source.name, source.text))
        except DiagnosticError:
            continue
        if not isinstance(tree, ast.ModelFile):
            continue
        blocks: list[ast.Kind | ast.Record | ast.Extension] = [
            *tree.kinds,
            *tree.records,
            *tree.extensions,
        ]
        for block in blocks:
            for f in block.fields:
                values = _listed_after(source.text, f.span.end)
                if values:
                    out[(block.name.text, f.name.text)] = values
    _LISTED.clear()  # the latest model only: an editor has one folder's at a time
    _LISTED[id(vocabulary)] = (vocabulary, out)
    return out


def _listed_after(text: str, at: int) -> tuple[str, ...]:
    """The values a `# A | B | ...` comment lists on the rest of a line."""
    end = text.find("\n", at)
    rest = text[at : len(text) if end < 0 else end].strip()
    if not rest.startswith("#") or "|" not in rest:
        return ()
    words = (_VALUE.match(piece.strip()) for piece in rest[1:].split("|"))
    return tuple(w.group() for w in words if w is not None and w.group().strip("."))
