"""lark's parse tree -> the syntax tree of `policyengine.frontend.ast`, with a span on
every piece of user text; a literal the grammar admits but the language does not (a bad
escape, a key given twice) stops it with a diagnostic."""

from __future__ import annotations

import json
from typing import Any

from lark import Token, Transformer, v_args
from lark.tree import Meta

from policyengine.core.diagnostics import Diagnostic
from policyengine.core.semantics import Containment, Op, Presence, Quantifier
from policyengine.core.source import Source, Span
from policyengine.frontend import ast


class LiteralError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def _decode_string(token: Token, source: Source, offset: int) -> str:
    try:
        value = json.loads(str(token))
    except json.JSONDecodeError:
        span = Span(source, (token.start_pos or 0) + offset, (token.end_pos or 0) + offset)
        raise LiteralError(
            Diagnostic(
                "PE002",
                "invalid escape in string",
                span,
                label="not a valid string",
                help='use \\\\ for a backslash and \\" for a quote',
            )
        ) from None
    assert isinstance(value, str)
    return value


@v_args(meta=True, inline=True)
class TreeBuilder(Transformer[Token, ast.File]):
    """lark tree -> policyengine.frontend.ast: one method per grammar rule, same name."""

    def __init__(self, source: Source, offset: int = 0) -> None:
        super().__init__()
        self.source = source
        # Where the parsed text starts in the source: a rule block is parsed alone.
        self.offset = offset

    # -- helpers
    def _span(self, meta: Meta) -> Span:
        # A rule that matched no tokens (an empty file) has an empty Meta.
        if meta.empty:
            return Span(self.source, self.offset, self.offset)
        return Span(self.source, meta.start_pos + self.offset, meta.end_pos + self.offset)

    def _tok(self, token: Token) -> Span:
        start, end = token.start_pos or 0, token.end_pos or 0
        return Span(self.source, start + self.offset, end + self.offset)

    def _name(self, token: Token) -> ast.Name:
        return ast.Name(text=str(token), span=self._tok(token))

    def _str(self, token: Token | None) -> str | None:
        return None if token is None else _decode_string(token, self.source, self.offset)

    # -- files
    def start(self, meta: Meta, file: ast.File) -> ast.File:
        return file

    def model_file(
        self, meta: Meta, name: ast.Name, title: Token | None, *items: Any
    ) -> ast.ModelFile:
        return ast.ModelFile(
            name=name,
            title=self._str(title),
            uses=tuple(i for i in items if isinstance(i, ast.Use)),
            records=tuple(i for i in items if isinstance(i, ast.Record)),
            kinds=tuple(i for i in items if isinstance(i, ast.Kind)),
            relations=tuple(i for i in items if isinstance(i, ast.Relation)),
            defines=tuple(i for i in items if isinstance(i, ast.Define)),
            extensions=tuple(i for i in items if isinstance(i, ast.Extension)),
            span=self._span(meta),
        )

    def policy_file(self, meta: Meta, *items: Any) -> ast.PolicyFile:
        return ast.PolicyFile(
            uses=tuple(i for i in items if isinstance(i, ast.Use)),
            policies=tuple(i for i in items if isinstance(i, ast.Policy)),
            defines=tuple(i for i in items if isinstance(i, ast.Define)),
            span=self._span(meta),
        )

    def use(self, meta: Meta, name: ast.Name) -> ast.Use:
        return ast.Use(name=name, span=self._span(meta))

    def dotted(self, meta: Meta, *parts: Token) -> ast.Name:
        return ast.Name(text=".".join(map(str, parts)), span=self._span(meta))

    # -- models
    def record(self, meta: Meta, name: Token, *fields: ast.Field) -> ast.Record:
        return ast.Record(name=self._name(name), fields=fields, span=self._span(meta))

    def field(
        self, meta: Meta, name: Token, type_: ast.TypeExpr, api: str | None, _comma: Any = None
    ) -> ast.Field:
        return ast.Field(name=self._name(name), type=type_, api=api, span=self._span(meta))

    def api(self, meta: Meta, name: Token) -> str:
        return self._str(name) or ""

    def define(self, meta: Meta, name: Token, *rest: Any) -> ast.Define:
        *params, body = rest
        return ast.Define(
            name=self._name(name),
            params=tuple(p for p in params if p is not None),
            body=body,
            span=self._span(meta),
        )

    def define_param(self, meta: Meta, name: Token, type_: ast.TypeExpr) -> ast.Field:
        return ast.Field(name=self._name(name), type=type_, span=self._span(meta))

    def optional_type(self, meta: Meta, inner: ast.TypeExpr) -> ast.OptionalType:
        return ast.OptionalType(inner=inner, span=self._span(meta))

    def list_type(self, meta: Meta, item: ast.TypeExpr) -> ast.ListType:
        return ast.ListType(item=item, span=self._span(meta))

    def map_type(self, meta: Meta, value: ast.TypeExpr) -> ast.MapType:
        return ast.MapType(value=value, span=self._span(meta))

    def ref_type(self, meta: Meta, kind: Token) -> ast.RefType:
        return ast.RefType(kind=self._name(kind), span=self._span(meta))

    def object_type(self, meta: Meta, *fields: ast.Field) -> ast.ObjectType:
        return ast.ObjectType(fields=fields, span=self._span(meta))

    def named_type(self, meta: Meta, name: Token) -> ast.NamedType:
        return ast.NamedType(name=self._name(name), span=self._span(meta))

    def kind(
        self,
        meta: Meta,
        name: Token,
        identity: ast.Identity,
        location: ast.Location,
        unique: bool | None,
        *fields: ast.Field | None,
    ) -> ast.Kind:
        return ast.Kind(
            name=self._name(name),
            identity=identity,
            location=location,
            unique_per_region=bool(unique),
            fields=tuple(f for f in fields if f is not None),
            span=self._span(meta),
        )

    def extension(
        self,
        meta: Meta,
        target: str,
        name: Token,
        *fields: ast.Field,
    ) -> ast.Extension:
        return ast.Extension(
            target=target,  # type: ignore[arg-type]
            name=self._name(name),
            fields=fields,
            span=self._span(meta),
        )

    def extended(self, meta: Meta, token: Token) -> str:
        return str(token)

    def unique(self, meta: Meta) -> bool:
        return True

    def id_identity(
        self, meta: Meta, prefix: Token, length: Token | None, when: ast.Condition | None
    ) -> ast.IdIdentity:
        return ast.IdIdentity(
            prefix=self._str(prefix) or "",
            length=None if length is None else int(length),
            name_when=when,
            span=self._span(meta),
        )

    def name_identity(self, meta: Meta, attribute: Token) -> ast.NameIdentity:
        return ast.NameIdentity(attribute=self._name(attribute), span=self._span(meta))

    def key_identity(self, meta: Meta, *attributes: Token) -> ast.KeyIdentity:
        return ast.KeyIdentity(attributes=tuple(map(self._name, attributes)), span=self._span(meta))

    def located(
        self, meta: Meta, scope: str, when: ast.Condition | None, otherwise: str | None
    ) -> ast.Location:
        return ast.Location(
            scope=scope,  # type: ignore[arg-type]
            when=when,
            otherwise=otherwise,  # type: ignore[arg-type]
            span=self._span(meta),
        )

    def global_location(self, meta: Meta) -> ast.Location:
        return ast.Location(scope="global", span=self._span(meta))

    def scope(self, meta: Meta, token: Token) -> str:
        return str(token)

    def relation(
        self,
        meta: Meta,
        source: Token,
        verb: Token,
        target: Token,
        how: tuple[str, tuple[Any, ...]],
        when: ast.Condition | None,
        dangle: str | None,
    ) -> ast.Relation:
        form, items = how
        return ast.Relation(
            source=self._name(source),
            verb=self._name(verb),
            target=self._name(target),
            paths=items if form == "via" else (),
            join=items if form == "on" else (),
            when=when,
            dangle_reason=dangle,
            span=self._span(meta),
        )

    def via(self, meta: Meta, *paths: ast.Path) -> tuple[str, tuple[ast.Path, ...]]:
        return "via", paths

    def join(self, meta: Meta, *keys: Token) -> tuple[str, tuple[ast.Name, ...]]:
        return "on", tuple(map(self._name, keys))

    def dangle(self, meta: Meta, reason: Token) -> str | None:
        return self._str(reason)

    # -- policies
    def policy(self, meta: Meta, name: Token, title: Token | None, *items: Any) -> ast.Policy:
        return ast.Policy(
            name=self._name(name),
            title=self._str(title),
            params=tuple(i for i in items if isinstance(i, ast.Param)),
            meta=tuple(i for i in items if isinstance(i, ast.Meta)),
            rules=tuple(i for i in items if isinstance(i, ast.Rule)),
            defines=tuple(i for i in items if isinstance(i, ast.Define)),
            span=self._span(meta),
        )

    def param(
        self, meta: Meta, name: Token, type_: ast.TypeExpr, default: ast.Literal | None
    ) -> ast.Param:
        return ast.Param(name=self._name(name), type=type_, default=default, span=self._span(meta))

    def _meta(self, key: str, meta: Meta, value: Token | str) -> ast.Meta:
        text = value if isinstance(value, str) and not isinstance(value, Token) else None
        decoded = text if text is not None else self._str(value) or ""  # type: ignore[arg-type]
        return ast.Meta(key=key, value=decoded, span=self._span(meta))  # type: ignore[arg-type]

    def severity(self, meta: Meta, level: str) -> ast.Meta:
        return ast.Meta(key="severity", value=level, span=self._span(meta))

    def severity_level(self, meta: Meta, token: Token) -> str:
        return str(token)

    def enforcement(self, meta: Meta, level: str) -> ast.Meta:
        return ast.Meta(key="enforcement", value=level, span=self._span(meta))

    def enforcement_level(self, meta: Meta, token: Token) -> str:
        return str(token)

    def reference(self, meta: Meta, value: Token) -> ast.Meta:
        return self._meta("reference", meta, value)

    def remediation(self, meta: Meta, value: Token) -> ast.Meta:
        return self._meta("remediation", meta, value)

    def title(self, meta: Meta, value: Token) -> ast.Meta:
        return self._meta("title", meta, value)

    def message(self, meta: Meta, value: Token) -> ast.Meta:
        return self._meta("message", meta, value)

    def tags(self, meta: Meta, word: Token, *values: Token | None) -> ast.Meta:
        # `tags` stays an ordinary name (an attribute is often called so); any other
        # word before a list is a syntax error in the usual words.
        if str(word) != "tags":
            raise LiteralError(
                Diagnostic(
                    "PE001",
                    f"unexpected `{word}`",
                    self._tok(word),
                    label="not valid here",
                    help='expected `tags ["..."]`, a rule statement or rule metadata',
                )
            )
        tags = tuple(self._str(v) or "" for v in values if v is not None)
        return ast.Meta(key="tags", value=", ".join(tags), values=tags, span=self._span(meta))

    def rule(self, meta: Meta, name: Token, title: Token | None, *items: Any) -> ast.Rule:
        bodies = [i for i in items if isinstance(i, ast.ForEach)]
        # The grammar admits several statements so that the checker can say so in words.
        return ast.Rule(
            name=self._name(name),
            title=self._str(title),
            meta=tuple(i for i in items if isinstance(i, ast.Meta)),
            body=bodies[0] if bodies else None,
            extra=tuple(bodies[1:]),
            span=self._span(meta),
        )

    def sentence(
        self,
        meta: Meta,
        subject: Token,
        verb: Token,
        obj: Token | None,
        alias: Token | None,
        requirement: tuple[str, Span],
        where: ast.Condition | None,
        unless: ast.Condition | None,
    ) -> ast.ForEach:
        scope, clause = requirement
        sentence = ast.Sentence(
            subject=self._name(subject),
            verb=self._name(verb),
            object=None if obj is None else self._name(obj),
            alias=None if alias is None else self._name(alias),
            scope=scope,  # type: ignore[arg-type]
            where=where,
            unless=unless,
            span=self._span(meta),
        )
        return ast.desugar(sentence, clause)

    def requirement(self, meta: Meta, scope: str) -> tuple[str, Span]:
        return scope, self._span(meta)

    def for_each(
        self,
        meta: Meta,
        kind: Token,
        alias: Token | None,
        where: ast.Condition | None,
        *rest: Any,
    ) -> ast.ForEach:
        *lets, mode, condition, unless = rest
        return ast.ForEach(
            kind=self._name(kind),
            alias=None if alias is None else self._name(alias),
            edge=None,
            where=where,
            lets=tuple(lets),
            mode=mode,
            condition=condition,
            unless=unless,
            span=self._span(meta),
        )

    def let(self, meta: Meta, name: Token, value: ast.Collection) -> ast.Let:
        return ast.Let(name=self._name(name), value=value, span=self._span(meta))

    def where(self, meta: Meta, condition: ast.Condition) -> ast.Condition:
        return condition

    def unless(self, meta: Meta, condition: ast.Condition) -> ast.Condition:
        return condition

    def mode(self, meta: Meta, token: Token) -> str:
        return str(token)

    # -- conditions
    def quantifier(
        self,
        meta: Meta,
        word: str,
        var: Token,
        source: ast.Collection,
        where: ast.Condition | None,
        body: ast.Condition,
    ) -> ast.Quantifier:
        return ast.Quantifier(
            quantifier=Quantifier(word),
            var=self._name(var),
            source=source,
            where=where,
            body=body,
            span=self._span(meta),
        )

    def quantifier_word(self, meta: Meta, token: Token) -> str:
        return str(token)

    # A chain arrives flat, every operand at once (see `chains.shaped`).
    def any_of(self, meta: Meta, *operands: ast.Condition) -> ast.AnyOf:
        return ast.AnyOf(conditions=operands, span=self._span(meta))

    def all_of(self, meta: Meta, *operands: ast.Condition) -> ast.AllOf:
        return ast.AllOf(conditions=operands, span=self._span(meta))

    def negate(self, meta: Meta, condition: ast.Condition) -> ast.Not:
        return ast.Not(condition=condition, span=self._span(meta))

    def compare(self, meta: Meta, left: ast.Expr, op: Token, right: ast.Expr) -> ast.Compare:
        return ast.Compare(
            op=Op(str(op)), op_span=self._tok(op), left=left, right=right, span=self._span(meta)
        )

    def member(self, meta: Meta, item: ast.Expr, collection: ast.Expr) -> ast.Member:
        return ast.Member(item=item, collection=collection, negated=False, span=self._span(meta))

    def not_member(self, meta: Meta, item: ast.Expr, collection: ast.Expr) -> ast.Member:
        return ast.Member(item=item, collection=collection, negated=True, span=self._span(meta))

    def id_format(self, meta: Meta, operand: ast.Expr) -> ast.IdFormat:
        return ast.IdFormat(operand=operand, span=self._span(meta))

    def matches(self, meta: Meta, operand: ast.Expr, pattern: tuple[str, Span]) -> ast.Matches:
        text, span = pattern
        return ast.Matches(operand=operand, pattern=text, pattern_span=span, span=self._span(meta))

    def pattern(self, meta: Meta, token: Token) -> tuple[str, Span]:
        if token.type == "REGEX":
            return str(token)[1:-1].replace("\\/", "/"), self._tok(token)
        return self._str(token) or "", self._tok(token)

    def range_test(self, meta: Meta, left: ast.Expr, op: str, right: ast.Expr) -> ast.RangeTest:
        return ast.RangeTest(op=Containment(op), left=left, right=right, span=self._span(meta))

    def range_op(self, meta: Meta, token: Token) -> str:
        return str(token)

    def presence(
        self, meta: Meta, operand: ast.Expr, negated: str | None, test: str
    ) -> ast.Presence:
        return ast.Presence(
            operand=operand,
            test=Presence(test),
            negated=negated is not None,
            span=self._span(meta),
        )

    def negation_word(self, meta: Meta, token: Token) -> str:
        return str(token)

    def presence_word(self, meta: Meta, token: Token) -> str:
        return str(token)

    def truthy(self, meta: Meta, operand: ast.Expr) -> ast.Truthy:
        return ast.Truthy(operand=operand, span=self._span(meta))

    # -- expressions
    def call(self, meta: Meta, function: Token, *args: ast.Expr | None) -> ast.Call:
        return ast.Call(
            function=self._name(function),
            args=tuple(a for a in args if a is not None),
            span=self._span(meta),
        )

    def count(
        self,
        meta: Meta,
        var: Token | None,
        source: ast.Collection,
        where: ast.Condition | None,
    ) -> ast.Count:
        return ast.Count(
            var=None if var is None else self._name(var),
            source=source,
            where=where,
            span=self._span(meta),
        )

    def related(self, meta: Meta, left: Any, verb: Token, right: Any) -> ast.Related:
        return ast.Related(
            left=self._subject(left),
            verb=self._name(verb),
            right=self._subject(right),
            span=self._span(meta),
        )

    def located_in(self, meta: Meta, kind: Token, place: Any) -> ast.LocatedIn:
        return ast.LocatedIn(
            kind=self._name(kind), place=self._subject(place), span=self._span(meta)
        )

    def _subject(self, item: Token | ast.Name) -> ast.Name:
        return item if isinstance(item, ast.Name) else self._name(item)

    def this(self, meta: Meta) -> ast.Name:
        return ast.Name(text="this", span=self._span(meta))

    def path(self, meta: Meta, head: Token | ast.Name, *segments: ast.Segment) -> ast.Path:
        return ast.Path(head=self._subject(head), segments=segments, span=self._span(meta))

    def attr_segment(self, meta: Meta, name: Token) -> ast.AttrSegment:
        # The span is the name, not the dot: a caret under `.prority` reads as a typo in `.`.
        return ast.AttrSegment(name=str(name), span=self._tok(name))

    def key_segment(self, meta: Meta, key: Token) -> ast.KeySegment:
        return ast.KeySegment(key=self._str(key) or "", span=self._span(meta))

    def star_segment(self, meta: Meta) -> ast.StarSegment:
        return ast.StarSegment(span=self._span(meta))

    def index_segment(self, meta: Meta, index: Token) -> ast.IndexSegment:
        return ast.IndexSegment(index=int(index), span=self._span(meta))

    def var_segment(self, meta: Meta, var: Token) -> ast.VarSegment:
        return ast.VarSegment(var=str(var), span=self._span(meta))

    def string(self, meta: Meta, token: Token) -> ast.Literal:
        return ast.Literal(value=self._str(token) or "", span=self._span(meta))

    def integer(self, meta: Meta, token: Token) -> ast.Literal:
        return ast.Literal(value=int(token), span=self._span(meta))

    def true(self, meta: Meta) -> ast.Literal:
        return ast.Literal(value=True, span=self._span(meta))

    def false(self, meta: Meta) -> ast.Literal:
        return ast.Literal(value=False, span=self._span(meta))

    def list_value(self, meta: Meta, *items: ast.Literal | None) -> ast.Literal:
        values = tuple(i.value for i in items if i is not None)
        return ast.Literal(value=values, span=self._span(meta))

    def map_value(self, meta: Meta, *items: Token | ast.Literal | None) -> ast.Literal:
        pairs: dict[str, ast.LiteralValue] = {}
        given = [i for i in items if i is not None]
        for key, value in zip(given[::2], given[1::2], strict=True):
            assert isinstance(key, Token) and isinstance(value, ast.Literal)
            name = self._str(key) or ""
            if name in pairs:
                raise LiteralError(
                    Diagnostic(
                        "PE002",
                        f"key {key} is given twice",
                        self._tok(key),
                        label="given again here",
                        help="give each key once",
                    )
                )
            pairs[name] = value.value
        return ast.Literal(value=ast.MapValue(tuple(pairs.items())), span=self._span(meta))
