"""Names in scope and the typing of paths, shared by the checker and the compiler.

The compiler resolves names with the same `Scope` the checker used, so the two can
never disagree about what `zone` means in a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from policyengine.core import model as vocabulary
from policyengine.core.api_fields import declare_hint
from policyengine.core.diagnostics import Collector, did_you_mean
from policyengine.frontend import ast

Role = Literal["resource", "value", "param"]


@dataclass(frozen=True)
class Binding:
    name: str
    role: Role
    type: vocabulary.Type
    slot: int = -1  # where the interpreter keeps the value; -1 for params
    value: object = None  # a param's value, folded into the plan


@dataclass(frozen=True)
class Step:
    op: Literal["attr", "key", "var", "star", "index"]
    name: str = ""  # attribute, key, or the index of a list element
    slot: int = -1  # for `var`: the slot holding the key
    optional: bool = False  # the model allows this step to be absent (optional, map key)
    api: str = ""  # `from "DescribeX"`: absent means the export lacks that API


@dataclass(frozen=True)
class DefineSig:
    """A `define` as calls see it: its parameters' types, and the params of the policy
    that declares it (none for one declared in a model or at the top of a file)."""

    node: ast.Define
    params: tuple[tuple[str, vocabulary.Type], ...]
    policy_params: dict[str, Binding]


@dataclass(frozen=True)
class Resolved:
    binding: Binding
    steps: tuple[Step, ...]
    type: vocabulary.Type  # a list type when the path went through `[*]`
    plural: bool  # went through `[*]`
    text: str  # as written


@dataclass
class Counter:
    next: int = 0


@dataclass
class Scope:
    model: vocabulary.Model
    diags: Collector
    this: Binding | None  # the subject of the rule
    params: dict[str, Binding] = field(default_factory=dict)
    names: dict[str, Binding] = field(default_factory=dict)
    parent: Scope | None = None
    counter: Counter = field(default_factory=Counter)
    # Quantifier variables of the whole rule, shared by every child: `message` may name
    # the element that decided a quantifier.
    witnesses: dict[str, Binding] = field(default_factory=dict)
    defines: dict[str, DefineSig] = field(default_factory=dict)

    def child(self) -> Scope:
        return Scope(
            self.model,
            self.diags,
            self.this,
            self.params,
            {},
            self,
            self.counter,
            self.witnesses,
            self.defines,
        )

    def bind(self, name: ast.Name, role: Role, type_: vocabulary.Type) -> Binding:
        if (self.lookup(name.text) is not None or name.text in self.params) and name.text != "this":
            self.diags.error(
                "PE116",
                f"`{name.text}` is already a name here",
                name.span,
                "shadows another name",
                help="choose another name",
            )
        binding = Binding(name.text, role, type_, self.counter.next)
        self.counter.next += 1
        self.names[name.text] = binding
        return binding

    def alias(self, name: str, binding: Binding) -> None:
        self.names[name] = binding

    def lookup(self, name: str) -> Binding | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def known_names(self) -> list[str]:
        out: list[str] = list(self.params)
        scope: Scope | None = self
        while scope is not None:
            out.extend(scope.names)
            scope = scope.parent
        if self.this is not None and isinstance(self.this.type, vocabulary.ResourceT):
            out.extend(self.model.kinds[self.this.type.kind].attributes.by_name)
        return out

    # -- paths
    def resolve_path(self, path: ast.Path) -> Resolved | None:
        """Type a path; report what is wrong with it and return None."""
        head = path.head.text
        segments = list(path.segments)
        binding = self.lookup(head)
        if binding is None and head in self.params:
            binding = self.params[head]
            computed = [
                seg for seg in segments if isinstance(seg, ast.VarSegment | ast.StarSegment)
            ]
            if computed:
                self.diags.error(
                    "PE106",
                    f"a key of the param `{head}` is written as a string",
                    computed[0].span,
                    "not a fixed key",
                    help=f'write `{head}["KEY"]`, or test `KEY in keys({head})`',
                )
                return None
            if self._this_has(head):
                kind = self._this_kind_name()
                self.diags.error(
                    "PE116",
                    f"`{head}` is both a param and an attribute of `{kind}`",
                    path.head.span,
                    "ambiguous name",
                    help=f"write `this.{head}` for the attribute, or rename the param",
                )
                return None
        if binding is None:
            if self.this is None or not self._this_has(head):
                self._unknown_name(path.head)
                return None
            binding = self.this
            segments.insert(0, ast.AttrSegment(name=head, span=path.head.span))
        elif (
            binding.role != "param"
            and self._this_has(head)
            and binding is not self.this
            and not isinstance(binding.type, vocabulary.ResourceT)
        ):
            kind = self._this_kind_name()
            self.diags.error(
                "PE116",
                f"`{head}` is both a bound name and an attribute of `{kind}`",
                path.head.span,
                "ambiguous name",
                help=f"write `this.{head}` for the attribute, or rename the variable",
            )
            return None
        return self._walk(binding, segments, path)

    def _this_kind_name(self) -> str:
        assert self.this is not None and isinstance(self.this.type, vocabulary.ResourceT)
        return self.this.type.kind

    def _this_has(self, name: str) -> bool:
        if self.this is None or not isinstance(self.this.type, vocabulary.ResourceT):
            return False
        return name in self.model.kinds[self.this.type.kind].attributes.by_name

    def _unknown_name(self, name: ast.Name) -> None:
        if self.this is not None and isinstance(self.this.type, vocabulary.ResourceT):
            kind = self.this.type.kind
            hint = declare_hint(kind, name.text)
            if hint is not None:
                self.diags.error("PE104", hint[0], name.span, "not declared", help=hint[1])
                return
            self.diags.error(
                "PE104",
                f"unknown attribute `{name.text}` of `{kind}`",
                name.span,
                f"`{kind}` has no such attribute, and no name in scope is called this",
                help=did_you_mean(name.text, self.known_names()),
            )
        else:
            self.diags.error(
                "PE105",
                f"unknown name `{name.text}`",
                name.span,
                "not in scope",
                help=did_you_mean(name.text, self.known_names()),
            )

    def _walk(
        self, binding: Binding, segments: list[ast.Segment], path: ast.Path
    ) -> Resolved | None:
        current = binding.type
        plural = False
        steps: list[Step] = []
        owner = binding.name
        for seg in segments:
            current = vocabulary.unwrap(current)
            if isinstance(current, vocabulary.AnyT):
                # Already reported elsewhere: keep the steps, skip the checks.
                if isinstance(seg, ast.AttrSegment):
                    steps.append(Step("attr", seg.name))
                elif isinstance(seg, ast.KeySegment):
                    steps.append(Step("key", seg.key))
                elif isinstance(seg, ast.StarSegment):
                    steps.append(Step("star"))
                    plural = True
                elif isinstance(seg, ast.IndexSegment):
                    steps.append(Step("index", str(seg.index), optional=True))
                continue
            match seg:
                case ast.AttrSegment(name=name):
                    fields = self._fields_of(current)
                    if fields is None:
                        hint = "write `[*]` first" if isinstance(current, vocabulary.ListT) else ""
                        self.diags.error(
                            "PE106",
                            f"`{owner}` is {_article(current)}, which has no attributes",
                            seg.span,
                            f"cannot read `.{name}` here",
                            help=hint,
                        )
                        return None
                    if name not in fields:
                        # An inline `{...}` object has no name: call it by its attribute.
                        named = not (isinstance(current, vocabulary.RecordT) and not current.name)
                        what = vocabulary.describe(current) if named else owner
                        lacks = declare_hint(what, name) if what in self.model.kinds else None
                        if lacks is not None:
                            message, fix = lacks
                            self.diags.error("PE104", message, seg.span, "not declared", help=fix)
                            return None
                        self.diags.error(
                            "PE104",
                            f"unknown attribute `{name}` of `{what}`",
                            seg.span,
                            f"`{what}` has no such attribute",
                            help=did_you_mean(name, fields),
                        )
                        return None
                    api = self._api_of(current, name)
                    current = fields[name]
                    steps.append(
                        Step(
                            "attr",
                            name,
                            optional=isinstance(current, vocabulary.OptionalT),
                            api=api,
                        )
                    )
                    owner = name
                case ast.KeySegment(key=key) | ast.VarSegment(var=key):
                    if not isinstance(current, vocabulary.MapT):
                        self.diags.error(
                            "PE106",
                            f"`{owner}` is {_article(current)}, not a map",
                            seg.span,
                            "only a map takes a key",
                        )
                        return None
                    if isinstance(seg, ast.VarSegment):
                        var = self.lookup(seg.var) or self.params.get(seg.var)
                        if var is None or vocabulary.value_class(var.type) != "string":
                            self.diags.error(
                                "PE105",
                                f"unknown name `{seg.var}`",
                                seg.span,
                                "the key must be a string name in scope",
                                help=did_you_mean(seg.var, self.known_names()),
                            )
                            return None
                        steps.append(
                            Step("var", seg.var, var.slot, optional=True)
                            if var.role != "param"
                            else Step("key", str(var.value), optional=True)
                        )
                    else:
                        steps.append(Step("key", key, optional=True))
                    current = current.value
                    owner = f"{owner}[…]"
                case ast.StarSegment():
                    if not isinstance(current, vocabulary.ListT):
                        self.diags.error(
                            "PE106",
                            f"`[*]` needs a list; `{owner}` is {_article(current)}",
                            seg.span,
                            "not a list",
                        )
                        return None
                    current = current.item
                    plural = True
                    steps.append(Step("star"))
                case ast.IndexSegment(index=index):
                    if not isinstance(current, vocabulary.ListT):
                        self.diags.error(
                            "PE106",
                            f"`[{index}]` needs a list; `{owner}` is {_article(current)}",
                            seg.span,
                            "not a list",
                        )
                        return None
                    # A list may be shorter: an element that is not there is absent, as an
                    # optional attribute is.
                    current = vocabulary.OptionalT(current.item)
                    steps.append(Step("index", str(index), optional=True))
                    owner = f"{owner}[{index}]"
        if plural:
            current = vocabulary.ListT(current)
        return Resolved(binding, tuple(steps), current, plural, path.span.text)

    def _api_of(self, t: vocabulary.Type, name: str) -> str:
        record = self.model.kinds[t.kind].attributes if isinstance(t, vocabulary.ResourceT) else t
        if isinstance(record, vocabulary.RecordT):
            return dict(record.apis).get(name, "")
        return ""

    def _fields_of(self, t: vocabulary.Type) -> dict[str, vocabulary.Type] | None:
        match t:
            case vocabulary.RecordT():
                return dict(t.by_name)
            case vocabulary.ResourceT(kind=kind):
                return dict(self.model.kinds[kind].attributes.by_name)
            case _:
                return None


def _article(t: vocabulary.Type) -> str:
    text = vocabulary.describe(t)
    return f"an {text}" if text[0] in "aeiou" else f"a {text}"
