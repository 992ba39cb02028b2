"""`*.model` syntax -> the resolved vocabulary (`model.Model`), with every problem reported.

Never raises: a problem becomes a diagnostic, and the model is still built from what
could be resolved, so that policies can be checked in the same run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from policyengine.core import model
from policyengine.core.diagnostics import Collector, Diagnostic, did_you_mean
from policyengine.core.semantics import Op
from policyengine.frontend import ast

ENVELOPE_DOC = "the snapshot envelope"
RESERVED_KINDS = ("region", "resource")  # `for each region`, `for each resource`


def _apis(fields: Iterable[ast.Field]) -> tuple[tuple[str, str], ...]:
    return tuple((f.name.text, f.api) for f in fields if f.api is not None)


class _ModelBuilder:
    def __init__(self, files: Iterable[ast.ModelFile]) -> None:
        self.given = list(files)  # the order kinds and relations are listed in
        self.files = _used_first(self.given)  # the order they are declared in
        self.diags = Collector()
        self.records: dict[str, ast.Record] = {}
        self.kind_nodes: dict[str, ast.Kind] = {}
        self.record_types: dict[str, model.RecordT] = {}

    def build(self) -> model.Model:
        for file in self.files:
            for record in file.records:
                self._declare(self.records, record.name, record)
            for kind in file.kinds:
                if kind.name.text in RESERVED_KINDS:
                    self.diags.error(
                        "PE108",
                        f"`{kind.name.text}` is a word of the language, not a kind name",
                        kind.name.span,
                        "reserved",
                        help=f"`for each {kind.name.text}` already means something: "
                        "choose another name",
                    )
                    continue
                self._declare(self.kind_nodes, kind.name, kind)
        for file in self.files:
            for extension in file.extensions:
                self._extend(extension)
        for name in self.records:  # every record is checked, used or not
            self._record(name, ())
        listed = [
            k.name.text for f in self.given for k in f.kinds if k.name.text in self.kind_nodes
        ]
        kinds = {name: self._kind(self.kind_nodes[name]) for name in dict.fromkeys(listed)}
        partial = model.Model(tuple(f.name.text for f in self.given), kinds, ())
        relations = tuple(
            rel
            for file in self.files
            for node in file.relations
            if (rel := self._relation(node, partial)) is not None
        )
        seen: dict[tuple[str, str, str], model.Relation] = {}
        for rel in relations:
            key = (rel.source, rel.verb, rel.target)
            if key in seen:
                first = seen[key].span.location()
                self.diags.error(
                    "PE108",
                    f"relation `{rel.name}` is declared twice, at {first} and at "
                    f"{rel.span.location()}",
                    rel.span,
                    "declared again here",
                    notes=(f"first declared at {first}",),
                    help="a relation is declared once; to relate the kinds another way, "
                    "give it another verb",
                )
            seen[key] = rel
        records = {n: t for n, t in self.record_types.items() if isinstance(t, model.RecordT)}
        rank = {id(f.span.source): i for i, f in enumerate(self.given)}
        ordered = sorted(
            seen.values(), key=lambda r: (rank.get(id(r.span.source), 0), r.span.start)
        )
        return model.Model(partial.names, kinds, tuple(ordered), records)

    def _declare(
        self,
        table: dict[str, ast.Record] | dict[str, ast.Kind],
        name: ast.Name,
        node: ast.Record | ast.Kind,
    ) -> None:
        if name.text in table:
            first = table[name.text]
            word = "kind" if isinstance(node, ast.Kind) else "record"
            self.diags.error(
                "PE108",
                f"`{name.text}` is declared twice",
                name.span,
                "declared again here",
                notes=(f"first declared at {first.name.span.location()}",),
                help=f"to add attributes to a {word} another model declares, write "
                f"`extend {word} {name.text} {{ ... }}` instead",
            )
            return
        table[name.text] = node  # type: ignore[assignment]

    # -- extensions
    def _extend(self, node: ast.Extension) -> None:
        """Merge `extend kind|record NAME { ... }` into the declaration it extends. An
        attribute declared again with the same type (and source API) is accepted, with or
        without `optional`; two inline objects merge attribute by attribute; anything
        else is a clash."""
        name = node.name.text
        if node.target == "record":
            record = self.records.get(name)
            if record is None:
                self.diags.error(
                    "PE117",
                    f"unknown record `{name}`",
                    node.name.span,
                    "no record has this name",
                    help=did_you_mean(name, self.records),
                )
                return
            fields = self._merge_fields(record.fields, node.fields, name)
            self.records[name] = replace(record, fields=fields)
            return
        kind = self.kind_nodes.get(name)
        if kind is None:
            self.diags.error(
                "PE102",
                f"unknown kind `{name}`",
                node.name.span,
                "no kind has this name",
                help=did_you_mean(name, self.kind_nodes)
                or "`extend` adds to a kind a used model declares: declare a new kind with "
                "`kind NAME ...`",
            )
            return
        fields = self._merge_fields(kind.fields, node.fields, name)
        self.kind_nodes[name] = replace(kind, fields=fields)

    def _merge_fields(
        self, base: tuple[ast.Field, ...], extra: tuple[ast.Field, ...], owner: str
    ) -> tuple[ast.Field, ...]:
        out = list(base)
        index = {f.name.text: i for i, f in enumerate(out)}
        for f in extra:
            at = index.get(f.name.text)
            if at is None:
                index[f.name.text] = len(out)
                out.append(f)
                continue
            first = out[at]
            merged = self._merge_type(first.type, f.type, f"{owner}.{f.name.text}")
            same_api = first.api is None or f.api is None or first.api == f.api
            if merged is None or not same_api:
                self._clash(first, f, owner)
                continue
            out[at] = replace(first, type=merged, api=first.api or f.api)
        return tuple(out)

    def _merge_type(self, a: ast.TypeExpr, b: ast.TypeExpr, owner: str) -> ast.TypeExpr | None:
        """The two types as one, or None when they differ (a clash)."""
        if a == b:
            return a
        match a, b:
            case ast.ObjectType(), ast.ObjectType():
                return replace(a, fields=self._merge_fields(a.fields, b.fields, owner))
            case ast.ListType(), ast.ListType():
                item = self._merge_type(a.item, b.item, owner)
                return None if item is None else replace(a, item=item)
            case ast.MapType(), ast.MapType():
                value = self._merge_type(a.value, b.value, owner)
                return None if value is None else replace(a, value=value)
            case ast.OptionalType(), ast.OptionalType():
                inner = self._merge_type(a.inner, b.inner, owner)
                return None if inner is None else replace(a, inner=inner)
            # `optional` or not, the first declaration decides: an extension cannot change
            # how the rules of the model it extends treat an absent value.
            case ast.OptionalType(), _:
                inner = self._merge_type(a.inner, b, owner)
                return None if inner is None else replace(a, inner=inner)
            case _, ast.OptionalType():
                return self._merge_type(a, b.inner, owner)
        return None

    def _clash(self, first: ast.Field, again: ast.Field, owner: str) -> None:
        def said(f: ast.Field) -> str:
            return f.type.span.text + (f' from "{f.api}"' if f.api is not None else "")

        self.diags.error(
            "PE108",
            f"attribute `{again.name.text}` of `{owner}` is declared twice with different "
            f"types, at {first.name.span.location()} and at {again.name.span.location()}",
            again.type.span,
            f"declared here as `{said(again)}`",
            notes=(f"first declared at {first.name.span.location()} as `{said(first)}`",),
            help="declare it with the same type, or give the new attribute another name",
        )

    # -- types
    def type_of(self, node: ast.TypeExpr, stack: tuple[str, ...] = ()) -> model.Type:
        match node:
            case ast.NamedType(name=name):
                if name.text in model.SCALARS:
                    return model.Scalar(name.text)
                if name.text in self.records:
                    return self._record(name.text, stack)
                known = [*model.SCALARS, *self.records]
                self.diags.error(
                    "PE117",
                    f"unknown type `{name.text}`",
                    name.span,
                    "not a type",
                    help=did_you_mean(name.text, known),
                )
                return model.AnyT()
            case ast.RefType(kind=kind):
                if kind.text not in self.kind_nodes:
                    self.diags.error(
                        "PE102",
                        f"unknown kind `{kind.text}`",
                        kind.span,
                        "no kind has this name",
                        help=did_you_mean(kind.text, self.kind_nodes),
                    )
                    return model.AnyT()
                return model.RefT(kind.text)
            case ast.ListType(item=item):
                return model.ListT(self.type_of(item, stack))
            case ast.MapType(value=value):
                return model.MapT(self.type_of(value, stack))
            case ast.OptionalType(inner=inner):
                return model.OptionalT(self.type_of(inner, stack))
            case ast.ObjectType(fields=fields):
                return model.RecordT(None, self._fields(fields, stack), _apis(fields))

    def _record(self, name: str, stack: tuple[str, ...]) -> model.Type:
        if name in stack:
            node = self.records[name]
            self.diags.error(
                "PE111",
                f"record `{name}` contains itself",
                node.name.span,
                "a record cannot nest itself",
            )
            return model.AnyT()
        if name not in self.record_types:
            node = self.records[name]
            self.record_types[name] = model.RecordT(
                name, self._fields(node.fields, (*stack, name)), _apis(node.fields)
            )
        return self.record_types[name]

    def _fields(
        self, fields: Iterable[ast.Field], stack: tuple[str, ...]
    ) -> tuple[tuple[str, model.Type], ...]:
        out: dict[str, model.Type] = {}
        for f in fields:
            if f.name.text in out:
                self.diags.error(
                    "PE108",
                    f"attribute `{f.name.text}` is declared twice",
                    f.name.span,
                    "declared again here",
                )
                continue
            out[f.name.text] = self.type_of(f.type, stack)
        return tuple(out.items())

    # -- kinds
    def _kind(self, node: ast.Kind) -> model.Kind:
        declared = dict(self._fields(node.fields, ()))
        envelope: dict[str, model.Type] = {"kind": model.STRING}
        identity = self._identity(node, declared)
        match identity:
            case model.IdFormat():
                envelope["id"] = model.STRING
            case model.NamedBy(attribute=attribute):
                envelope[attribute] = model.STRING
            case model.KeyedBy():
                pass
        scope, when, otherwise = self._location(node, declared)
        if scope != "global":
            envelope["region"] = model.STRING  # missing: a rule that reads it errors
        if "zone" in (scope, otherwise):
            envelope["zone"] = model.STRING
        for name in envelope:
            if name in declared and name != "kind":
                # Declaring an envelope attribute is allowed only with the envelope's type.
                if model.unwrap(declared[name]) != model.STRING:
                    f = next(f for f in node.fields if f.name.text == name)
                    self.diags.error(
                        "PE106",
                        f"`{name}` is part of {ENVELOPE_DOC} and is a string",
                        f.type.span,
                        "declare it as `string` or leave it out",
                    )
        attributes = {**declared, **envelope}
        return model.Kind(
            name=node.name.text,
            identity=identity,
            scope=scope,
            scope_when=when,
            otherwise=otherwise,
            unique_per_region=node.unique_per_region,
            attributes=model.RecordT(node.name.text, tuple(attributes.items()), _apis(node.fields)),
            declared=frozenset(declared),
            span=node.name.span,
        )

    def _identity(self, node: ast.Kind, declared: dict[str, model.Type]) -> model.Identity:
        match node.identity:
            case ast.IdIdentity(prefix=prefix, length=length, name_when=when):
                guard = None if when is None else self.guard(when, node, declared)
                return model.IdFormat(prefix, length, guard)
            case ast.NameIdentity(attribute=attribute):
                return model.NamedBy(attribute.text)
            case ast.KeyIdentity(attributes=attributes):
                for a in attributes:
                    if a.text not in declared:
                        self.diags.error(
                            "PE104",
                            f"unknown attribute `{a.text}` of `{node.name.text}`",
                            a.span,
                            "a key must be a declared attribute",
                            help=did_you_mean(a.text, declared),
                        )
                return model.KeyedBy(tuple(a.text for a in attributes))

    def _location(
        self, node: ast.Kind, declared: dict[str, model.Type]
    ) -> tuple[model.Scope, model.Guard | None, model.Scope | None]:
        loc = node.location
        when = None if loc.when is None else self.guard(loc.when, node, declared)
        return loc.scope, when, loc.otherwise

    def guard(
        self, cond: ast.Condition, node: ast.Kind, declared: dict[str, model.Type]
    ) -> model.Guard | None:
        terms = cond.conditions if isinstance(cond, ast.AllOf) else (cond,)
        out: list[model.GuardTerm] = []
        for term in terms:
            match term:
                case ast.Compare(
                    op=Op.EQ | Op.NE as op,
                    left=ast.Path() as path,
                    right=ast.Literal(value=str() | int() | bool() as value),
                ):
                    steps = self._guard_path(path, node.name.text, declared)
                    if steps is not None:
                        optional = isinstance(declared[steps[0]], model.OptionalT)
                        out.append(model.GuardTerm(steps, op, value, optional))
                case _:
                    self.diags.error(
                        "PE111",
                        "a model `when` compares attributes with literals",
                        term.span,
                        "not an attribute compared with a literal",
                        help='write it as `attribute == "value"`, joined by `and`',
                    )
        return model.Guard(tuple(out), cond.span.text)

    def _guard_path(
        self, path: ast.Path, kind: str, declared: dict[str, model.Type]
    ) -> tuple[str, ...] | None:
        names = [path.head.text] + [s.name for s in path.segments if isinstance(s, ast.AttrSegment)]
        if names[0] == kind:
            names = names[1:]
        if not names or names[0] not in declared:
            wrong = names[0] if names else path.head.text
            self.diags.error(
                "PE104",
                f"unknown attribute `{wrong}` of `{kind}`",
                path.span,
                "not a declared attribute",
                help=did_you_mean(wrong, declared),
            )
            return None
        return tuple(names)

    # -- relations
    def _relation(self, node: ast.Relation, partial: model.Model) -> model.Relation | None:
        ok = True
        for end in (node.source, node.target):
            if end.text not in partial.kinds:
                ok = False
                self.diags.error(
                    "PE102",
                    f"unknown kind `{end.text}`",
                    end.span,
                    "no kind has this name",
                    help=did_you_mean(end.text, partial.kinds),
                )
        if not ok:
            return None
        source = partial.kinds[node.source.text]
        target = partial.kinds[node.target.text]
        paths = tuple(
            p
            for path in node.paths
            if (p := self._relation_path(path, source, target, partial)) is not None
        )
        keys_ok = all(self._join_key(key, source, target) for key in node.join)
        when = target_when = None
        if node.when is not None:
            when, target_when = self._relation_guard(node.when, source, target)
        if len(paths) != len(node.paths) or not keys_ok:
            return None
        return model.Relation(
            node.source.text,
            node.verb.text,
            node.target.text,
            paths,
            when,
            node.dangle_reason,
            node.span,
            tuple(k.text for k in node.join),
            target_when,
        )

    def _join_key(self, key: ast.Name, source: model.Kind, target: model.Kind) -> bool:
        """A join key is an attribute both kinds have, with the same kind of value."""
        types = []
        for kind in (source, target):
            t = kind.attributes.by_name.get(key.text)
            if t is None:
                self.diags.error(
                    "PE104",
                    f"unknown attribute `{key.text}` of `{kind.name}`",
                    key.span,
                    f"a join key must be an attribute of both `{source.name}` and `{target.name}`",
                    help=did_you_mean(key.text, kind.attributes.by_name),
                )
                return False
            types.append(model.value_class(t))
        if types[0] != types[1] or types[0] not in ("string", "int", "bool"):
            self.diags.error(
                "PE106",
                f"`{key.text}` cannot join `{source.name}` and `{target.name}`",
                key.span,
                f"{types[0]} and {types[1]}",
                help="join on attributes that hold the same kind of scalar value",
            )
            return False
        return True

    def _relation_guard(
        self, cond: ast.Condition, source: model.Kind, target: model.Kind
    ) -> tuple[model.Guard | None, model.Guard | None]:
        """A relation's `when` may read either end; each term is named by its kind."""
        terms = cond.conditions if isinstance(cond, ast.AllOf) else (cond,)
        on_target: list[ast.Condition] = [
            t
            for t in terms
            if source.name != target.name
            and isinstance(t, ast.Compare)
            and isinstance(t.left, ast.Path)
            and t.left.head.text == target.name
        ]
        on_source = [t for t in terms if t not in on_target]

        def build(part: list[ast.Condition], kind: model.Kind) -> model.Guard | None:
            if not part:
                return None
            node = part[0] if len(part) == 1 else ast.AllOf(conditions=tuple(part), span=cond.span)
            guard = self.guard(node, self.kind_nodes[kind.name], dict(kind.attributes.fields))
            if guard is None:
                return None
            text = " and ".join(t.span.text for t in part)
            return model.Guard(guard.terms, text)

        return build(on_source, source), build(on_target, target)

    def _relation_path(
        self, path: ast.Path, source: model.Kind, target: model.Kind, partial: model.Model
    ) -> model.RelationPath | None:
        # A path starts at either end and names the other: `deployment_set.instance_ids[*]`
        # finds the instances that belong to a deployment set.
        if path.head.text not in (source.name, target.name):
            self.diags.error(
                "PE111",
                f"a relation path starts at `{source.name}` or `{target.name}`",
                path.head.span,
                f"expected `{source.name}` or `{target.name}`",
            )
            return None
        from_target = path.head.text != source.name
        start, names = (target, source.name) if from_target else (source, target.name)
        current: model.Type = start.attributes
        steps: list[str] = []
        optional: list[bool] = []
        for seg in path.segments:
            current = model.unwrap(current)
            match seg:
                case ast.AttrSegment(name=name):
                    if isinstance(current, model.ListT):
                        self.diags.error(
                            "PE106",
                            "this is a list: write `[*]` before `.`",
                            seg.span,
                            "follows a list",
                            help=f"write `[*].{name}`",
                        )
                        return None
                    if not isinstance(current, model.RecordT) or name not in current.by_name:
                        known = current.by_name if isinstance(current, model.RecordT) else {}
                        self.diags.error(
                            "PE104",
                            f"unknown attribute `{name}`",
                            seg.span,
                            "not declared here",
                            help=did_you_mean(name, known),
                        )
                        return None
                    current = current.by_name[name]
                    steps.append(name)
                    optional.append(isinstance(current, model.OptionalT))
                case ast.StarSegment():
                    if not isinstance(current, model.ListT):
                        self.diags.error(
                            "PE106",
                            "`[*]` needs a list",
                            seg.span,
                            f"this is {model.describe(current)}",
                        )
                        return None
                    current = current.item
                    steps.append("*")
                    optional.append(False)
                case _:
                    self.diags.error(
                        "PE111",
                        "a relation path uses attribute names and `[*]`",
                        seg.span,
                        "not allowed in a relation path",
                    )
                    return None
        end = model.unwrap(current)
        if isinstance(end, model.ListT):
            self.diags.error(
                "PE106",
                "a relation path ending in a list needs `[*]`",
                path.span,
                "ends in a list",
                help=f"write `{path.dotted()}[*]`",
            )
            return None
        if end not in (model.RefT(names), model.STRING) and not isinstance(end, model.AnyT):
            self.diags.error(
                "PE106",
                f"this path holds {model.describe(end)}, not an id of `{names}`",
                path.span,
                "wrong type for this relation",
            )
            return None
        return model.RelationPath(
            tuple(steps), tuple(optional), path.span.text, path.span, from_target
        )


def _used_first(files: Iterable[ast.ModelFile]) -> list[ast.ModelFile]:
    """The files with every model before the models that use it, so that a declaration is
    always "first declared" in the model that is used, and extensions come after it."""
    given = list(files)
    by_name: dict[str, list[ast.ModelFile]] = {}
    for file in given:
        by_name.setdefault(file.name.text, []).append(file)
    out: list[ast.ModelFile] = []
    placed: set[int] = set()

    def place(file: ast.ModelFile) -> None:
        if id(file) in placed:
            return
        placed.add(id(file))  # before its uses: a cycle ends here
        for use in file.uses:
            for used in by_name.get(use.name.text, ()):
                place(used)
        out.append(file)

    for file in given:
        place(file)
    return out


def build_model(files: Iterable[ast.ModelFile]) -> tuple[model.Model, list[Diagnostic]]:
    builder = _ModelBuilder(files)
    result = builder.build()
    return result, builder.diags
