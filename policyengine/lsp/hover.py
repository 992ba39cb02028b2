"""Hover: an attribute's type and the API field it comes from, a kind's identity, a
relation's paths and why it may dangle, a rule as `explain --rule` says it, a built-in's
signature and doc."""

from __future__ import annotations

from pathlib import Path

from policyengine.core import api_fields, model
from policyengine.core.builtins import BUILTINS
from policyengine.frontend import ast
from policyengine.frontend.compiler import compile_file
from policyengine.frontend.describe import describe_rule, render_text
from policyengine.inputs.importers.aliyun.apis import APIS
from policyengine.lsp.folder import Analysis
from policyengine.lsp.scopes import fields_of, path_before, path_type, rule_at, scope_at, word_at


def api_field(kind: str, attribute: str, record: model.RecordT) -> str | None:
    """Where an attribute comes from: `DescribeDisks field `ZoneId``. The generated table
    of the official SDKs' fields says it for declared API fields; the envelope's `zone`,
    `region` and `id` come from the API the importer reads the kind from."""
    found = api_fields.api_field(kind, attribute)
    if found is not None:
        return f"{found.api} field `{found.field}`"
    api = dict(record.apis).get(attribute) or next(
        (a.name for a in APIS.values() if a.kind == kind), None
    )
    if api is None:
        return None
    envelope = {
        "zone": "ZoneId",
        "region": "RegionId",
        "id": APIS[api].identity if api in APIS else None,
    }
    name = envelope.get(attribute)
    return f"{api} field `{name}`" if name else None


def signature(name: str) -> str:
    b = BUILTINS[name]
    params = ", ".join(" | ".join(p) for p in b.params)
    return f"{name}({params}) -> {model.describe(b.returns)}"


def hover(analysis: Analysis, path: Path, offset: int) -> str | None:
    text = analysis.texts.get(path, "")
    start, end, word = word_at(text, min(offset, len(text)))
    vocabulary = analysis.vocabulary
    if not word or vocabulary is None:
        return None
    tree = analysis.tree(path)
    rule = rule_at(tree, offset) if tree is not None else None
    if rule is not None and rule.name.span.start <= start < rule.name.span.end:
        return _rule_hover(analysis, path, rule)
    before = path_before(text, start)
    scope = scope_at(analysis, path, offset)
    owner = path_type(analysis, scope, before) if before else None
    if owner is not None:
        record = fields_of(analysis, owner)
        if record is not None and word in record.by_name:
            unwrapped = model.unwrap(owner)
            kind = unwrapped.kind if isinstance(unwrapped, model.ResourceT) else None
            return _attribute_hover(analysis, kind, word, record)
    if word in scope.names:
        return f"`{word}`: {model.describe(scope.names[word])}"
    if word in vocabulary.kinds:
        return _kind_hover(vocabulary.kinds[word])
    if word in BUILTINS:
        return f"```\n{signature(word)}\n```\n{BUILTINS[word].doc}"
    relations = [r for r in vocabulary.relations if r.verb == word]
    if scope.subject is not None:
        own = [r for r in relations if r.source == scope.subject]
        relations = own or relations
    if relations:
        return "\n\n".join(_relation_hover(r) for r in relations)
    if scope.subject is not None:
        subject = vocabulary.kinds.get(scope.subject)
        if subject is not None and word in subject.attributes.by_name:
            return _attribute_hover(analysis, scope.subject, word, subject.attributes)
    if analysis.front is not None and word in analysis.front.defines:
        return f"define `{word}`"
    return None


def _attribute_hover(analysis: Analysis, kind: str | None, name: str, record: model.RecordT) -> str:
    t = record.by_name[name]
    lines = [f"`{name}`: {model.describe(t)}" + (f" — attribute of `{kind}`" if kind else "")]
    if kind is not None:
        where = api_field(kind, name, record)
        if where:
            lines.append(f"from {where}")
    return "\n\n".join(lines)


def _kind_hover(kind: model.Kind) -> str:
    match kind.identity:
        case model.IdFormat():
            identity = f"id `{kind.identity.describe()}`"
        case model.NamedBy(attribute=attribute):
            identity = f"named by `{attribute}`"
        case model.KeyedBy(attributes=attributes):
            identity = "keyed by " + ", ".join(f"`{a}`" for a in attributes)
    located = f"located in {kind.scope}" + (f" else {kind.otherwise}" if kind.otherwise else "")
    return f"kind `{kind.name}`: {identity}, {located}, {len(kind.declared)} attributes"


def _relation_hover(relation: model.Relation) -> str:
    text = f"relation `{relation.name}` {relation.how}"
    if relation.dangle_reason:
        text += f"; may dangle: {relation.dangle_reason}"
    return text


def _rule_hover(analysis: Analysis, path: Path, rule: ast.Rule) -> str | None:
    checked, tree = analysis.front, analysis.tree(path)
    if checked is None or not isinstance(tree, ast.PolicyFile):
        return None
    if any(d.level == "error" for d in analysis.diagnostics.get(path, [])):
        return f"rule `{rule.name.text}`" + (f": {rule.title}" if rule.title else "")
    resolved = next((c for c in checked.checked if c.file is tree), None)
    if resolved is None:
        return None
    try:
        compiled = compile_file(resolved, checked.vocabulary)
    except Exception:  # noqa: BLE001 - a hover never takes the server down
        return None
    for plan_rule in compiled:
        if plan_rule.name_span.start == rule.name.span.start:
            return f"```\n{render_text(describe_rule(plan_rule))}\n```"
    return None
