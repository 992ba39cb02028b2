"""What an editor asks about a policy or model file, answered from the checker's own work:
the folder is parsed and checked by the loader's front end (with the editor's unsaved
text), and each question reads its syntax trees, vocabulary and diagnostics.

Positions here are character offsets into a file's text; the server converts them to
and from the editor's lines and UTF-16 columns. Nothing here raises on half-typed text:
an answer the text cannot give is empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from policyengine.core import api_fields, model
from policyengine.core.builtins import BUILTINS
from policyengine.core.diagnostics import Diagnostic, DiagnosticError
from policyengine.core.errors import InputError, UsageError
from policyengine.core.source import Source, Span
from policyengine.frontend import ast
from policyengine.frontend.compiler import compile_file
from policyengine.frontend.describe import describe_rule, render_text
from policyengine.frontend.formatter import format_source
from policyengine.frontend.grammar import grammar_text, keywords_after
from policyengine.frontend.loader import Front, display_name, front
from policyengine.inputs.importers.aliyun.apis import APIS

SUFFIXES = (".policy", ".model")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`")


@dataclass(frozen=True)
class Place:
    """A span of a file, by path: where a definition or a reference is."""

    path: Path
    start: int
    end: int


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str  # keyword | kind | attribute | function | relation | param | define
    detail: str = ""
    documentation: str = ""


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str  # policy | rule | kind | relation | define | param | record
    start: int
    end: int
    children: tuple[Symbol, ...] = ()


@dataclass(frozen=True)
class Edit:
    """A code action: a title and text edits (path -> [(start, end, new text)])."""

    title: str
    edits: Mapping[Path, tuple[tuple[int, int, str], ...]]
    diagnostic: Diagnostic | None = None


def folder_files(path: Path) -> list[Path]:
    """The policy and model files checked together with `path`: those of its folder."""
    try:
        found = [p for p in path.parent.iterdir() if p.suffix in SUFFIXES and p.is_file()]
    except OSError:
        found = []
    if path not in found:
        found.append(path)
    return sorted(found)


@dataclass
class Analysis:
    """One check of a folder: every file's tree and the diagnostics of each file."""

    front: Front | None
    texts: dict[Path, str]
    diagnostics: dict[Path, list[Diagnostic]] = field(default_factory=dict)
    trouble: str = ""  # why the folder could not be checked at all (a bad params file)

    def tree(self, path: Path) -> ast.File | None:
        return self.front.files.get(path) if self.front is not None else None

    @property
    def vocabulary(self) -> model.Model | None:
        return self.front.vocabulary if self.front is not None else None


def analyse(path: Path, overlay: Mapping[Path, str]) -> Analysis:
    """Parse and check the folder of `path`, with the editor's text where it has one."""
    paths = folder_files(path)
    texts: dict[Path, str] = {}
    for p in paths:
        if p.resolve() in overlay:
            texts[p] = overlay[p.resolve()]
        else:
            try:
                texts[p] = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                texts[p] = ""
    try:
        checked = front(paths, overlay=overlay)
    except (UsageError, InputError) as exc:
        return Analysis(None, texts, {p: [] for p in paths}, str(exc))
    by_file: dict[Path, list[Diagnostic]] = {p: [] for p in paths}
    names = {display_name(p): p for p in paths}
    for d in checked.diagnostics:
        owner = names.get(d.span.file)
        if owner is not None:
            by_file[owner].append(d)
    return Analysis(checked, texts, by_file)


# ---------------------------------------------------------------- words and scopes


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


def _contains(span: Span, offset: int) -> bool:
    return span.start <= offset <= span.end


def _rule_at(tree: ast.File, offset: int) -> ast.Rule | None:
    if not isinstance(tree, ast.PolicyFile):
        return None
    for policy in tree.policies:
        for rule in policy.rules:
            if _contains(rule.span, offset):
                return rule
    return None


def _policy_at(tree: ast.File, offset: int) -> ast.Policy | None:
    if isinstance(tree, ast.PolicyFile):
        for policy in tree.policies:
            if _contains(policy.span, offset):
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
    rule = _rule_at(tree, offset) if tree is not None else None
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
        if isinstance(node, ast.Quantifier) and _contains(node.span, offset):
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


def _fields(analysis: Analysis, t: model.Type) -> model.RecordT | None:
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
        record = _fields(analysis, t)
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


# ---------------------------------------------------------------- the API field of an attribute


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


# ---------------------------------------------------------------- completion


def completions(analysis: Analysis, path: Path, offset: int) -> list[Completion]:
    text = analysis.texts.get(path, "")
    start, _, _ = word_at(text, min(offset, len(text)))
    vocabulary = analysis.vocabulary
    before = path_before(text, start)
    scope = scope_at(analysis, path, offset)
    if before:
        record = _fields(analysis, path_type(analysis, scope, before))
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
        policy = _policy_at(tree, offset) if tree is not None else None
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


def signature(name: str) -> str:
    b = BUILTINS[name]
    params = ", ".join(" | ".join(p) for p in b.params)
    return f"{name}({params}) -> {model.describe(b.returns)}"


# ---------------------------------------------------------------- hover


def hover(analysis: Analysis, path: Path, offset: int) -> str | None:
    text = analysis.texts.get(path, "")
    start, end, word = word_at(text, min(offset, len(text)))
    vocabulary = analysis.vocabulary
    if not word or vocabulary is None:
        return None
    tree = analysis.tree(path)
    rule = _rule_at(tree, offset) if tree is not None else None
    if rule is not None and rule.name.span.start <= start < rule.name.span.end:
        return _rule_hover(analysis, path, rule)
    before = path_before(text, start)
    scope = scope_at(analysis, path, offset)
    owner = path_type(analysis, scope, before) if before else None
    if owner is not None:
        record = _fields(analysis, owner)
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


# ---------------------------------------------------------------- definitions and references


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
    policy = _policy_at(tree, offset) if tree is not None else None
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


# ---------------------------------------------------------------- symbols and actions


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


def actions(analysis: Analysis, path: Path, start: int, end: int) -> list[Edit]:
    """Fixes for the diagnostics in a range: apply a did-you-mean; for a rule without a
    remediation, a stub to fill in."""
    out: list[Edit] = []
    for d in analysis.diagnostics.get(path, []):
        if d.span.end < start or d.span.start > end:
            continue
        found = _DID_YOU_MEAN.search(d.help)
        if found:
            new = found.group(1).split(".")[-1] if "." not in d.span.text else found.group(1)
            out.append(Edit(f"Change to `{new}`", {path: ((d.span.start, d.span.end, new),)}, d))
    tree = analysis.tree(path)
    if isinstance(tree, ast.PolicyFile):
        for policy in tree.policies:
            for rule in policy.rules:
                if not (rule.span.start <= end and start <= rule.span.end):
                    continue
                if rule.get("remediation") is None and rule.body is not None:
                    at = rule.body.span.end
                    indent = " " * (rule.body.span.column - 1)
                    stub = f'\n{indent}remediation "Say how to fix a violation."'
                    out.append(Edit("Add a remediation", {path: ((at, at, stub),)}))
    return out


def formatted(text: str, name: str) -> str | None:
    """The file as `fmt` writes it; None for text that does not parse (its diagnostics
    say why, and the editor's text is left alone)."""
    try:
        return format_source(Source(name, text))
    except DiagnosticError:
        return None
