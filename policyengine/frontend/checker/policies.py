"""Checks a policy file against its model before anything runs.

Reports every problem (unknown kinds, relations, attributes, names and functions with a
"did you mean"; type mismatches; ambiguous sentences; bad literals), never only the
first. Never raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from policyengine.core import model
from policyengine.core.diagnostics import Collector, Diagnostic, did_you_mean
from policyengine.frontend import ast
from policyengine.frontend.checker.conditions import check_condition, expr_type
from policyengine.frontend.checker.defines import declare
from policyengine.frontend.checker.messages import check_message
from policyengine.frontend.checker.scope import Binding, Counter, DefineSig, Scope

ANY_KIND = "resource"  # `for each resource`
REGION = "region"  # `for each region`: the regions of the snapshot
PARAM_SCALARS = ("string", "int", "bool")


def param_type(node: ast.TypeExpr) -> model.Type | None:
    """Params take scalars, lists of scalars and maps of scalars."""
    match node:
        case ast.NamedType(name=name) if name.text in PARAM_SCALARS:
            return model.Scalar(name.text)
        case ast.ListType(item=ast.NamedType(name=name)) if name.text in PARAM_SCALARS:
            return model.ListT(model.Scalar(name.text))
        case ast.MapType(value=ast.NamedType(name=name)) if name.text in PARAM_SCALARS:
            return model.MapT(model.Scalar(name.text))
    return None


def fits(value: object, t: model.Type) -> bool:
    match t:
        case model.Scalar(name="int"):
            return isinstance(value, int) and not isinstance(value, bool)
        case model.Scalar(name="bool"):
            return isinstance(value, bool)
        case model.Scalar():
            return isinstance(value, str)
        case model.ListT(item=item):
            return isinstance(value, tuple | list) and all(fits(v, item) for v in value)
        case model.MapT(value=item):
            return isinstance(value, Mapping) and all(
                isinstance(k, str) and fits(v, item) for k, v in value.items()
            )
    return False


@dataclass(frozen=True)
class CheckedRule:
    """A rule as the checker resolved it: what the compiler lowers and the linter reads."""

    rule: ast.Rule
    body: ast.ForEach
    kinds: tuple[str, ...]  # its subject kinds ([REGION] for `for each region`)
    scope: Scope  # the names its conditions see, for the first subject kind
    slots: int  # slots that scope bound (subject, edge end, lets) before any condition
    relation: model.Relation | None  # a sentence's edge

    def lowering_scope(self) -> Scope:
        """The rule's scope, ready to bind its conditions' own names again from where the
        checker started (so slots count from the same place), reporting nowhere: the
        checker already reported everything."""
        return replace(self.scope, diags=Collector(), counter=Counter(self.slots), witnesses={})


@dataclass(frozen=True)
class CheckedPolicy:
    policy: ast.Policy
    params: dict[str, Binding]  # with their values
    defines: dict[str, DefineSig]  # the table its rules call, its own defines included
    rules: tuple[CheckedRule, ...]  # each rule the checker could resolve


@dataclass(frozen=True)
class CheckedFile:
    file: ast.PolicyFile
    policies: tuple[CheckedPolicy, ...]
    diagnostics: list[Diagnostic]


class _PolicyChecker:
    def __init__(
        self,
        file: ast.PolicyFile,
        m: model.Model,
        params: Mapping[str, Mapping[str, object]],
        defines: Mapping[str, DefineSig],
    ) -> None:
        self.file = file
        self.model = m
        self.params = params
        self.defines = defines
        self.diags = Collector()
        self.checked: list[CheckedPolicy] = []

    def run(self) -> list[Diagnostic]:
        seen_policies: dict[str, ast.Policy] = {}
        for policy in self.file.policies:
            if policy.name.text in seen_policies:
                self.diags.error(
                    "PE108",
                    f"policy `{policy.name.text}` is declared twice",
                    policy.name.span,
                    "declared again here",
                )
            seen_policies[policy.name.text] = policy
            self.policy(policy)
        # A `for each resource` rule is checked once per kind: report each problem once.
        unique = {(d.code, d.message, d.span.file, d.span.start): d for d in self.diags}
        return list(unique.values())

    def policy(self, policy: ast.Policy) -> None:
        params = policy_params(policy, self.params.get(policy.name.text, {}), self.diags)
        defines = declare(policy.defines, self.model, self.diags, self.defines, params)
        self.meta(policy.meta, policy_level=True)
        rules: list[CheckedRule] = []
        seen: dict[str, ast.Rule] = {}
        for rule in policy.rules:
            if rule.name.text in seen:
                self.diags.error(
                    "PE108",
                    f"rule `{rule.name.text}` is declared twice",
                    rule.name.span,
                    "declared again here",
                    notes=(f"first declared at {seen[rule.name.text].name.span.location()}",),
                )
            seen[rule.name.text] = rule
            checked = self.rule(rule, params, defines)
            if checked is not None:
                rules.append(checked)
        self.checked.append(CheckedPolicy(policy, params, defines, tuple(rules)))

    def meta(self, metas: tuple[ast.Meta, ...], policy_level: bool = False) -> None:
        seen: set[str] = set()
        for m in metas:
            if m.key in seen:
                self.diags.error("PE108", f"`{m.key}` is given twice", m.span, "given again here")
            seen.add(m.key)
            if m.key == "message" and policy_level:
                self.diags.error("PE111", "`message` belongs to a rule", m.span, "not in a policy")

    def rule(
        self, rule: ast.Rule, params: dict[str, Binding], defines: dict[str, DefineSig]
    ) -> CheckedRule | None:
        self.meta(rule.meta)
        if rule.body is None:
            self.diags.error(
                "PE111",
                f"rule `{rule.name.text}` has no statement",
                rule.name.span,
                "this rule checks nothing",
                help="add a sentence such as `disk attach requires same zone` or "
                "`for each KIND require CONDITION`",
            )
            return None
        for extra in rule.extra:
            self.diags.error(
                "PE111",
                "a rule holds one statement",
                extra.span,
                "a second statement",
                help="split it into a rule of its own",
            )
        body = rule.body
        kinds = subject_kinds(body, self.model, self.diags, params)
        checked: CheckedRule | None = None
        relation: model.Relation | None = None
        for kind in kinds:
            scope = rule_scope(body, kind, self.model, params, self.diags, defines)
            if scope is None:
                continue
            if checked is None and kind == kinds[0]:
                if body.edge is not None:
                    relation = edge_relation(body, self.model)
                slots = scope.counter.next
                checked = CheckedRule(rule, body, tuple(kinds), scope, slots, relation)
            for cond in (body.where, body.unless, body.condition):
                if cond is not None:
                    check_condition(scope, cond)
            message = rule.get("message")
            if message is not None:
                check_message(scope, message)
        return checked


def policy_params(
    policy: ast.Policy, overrides: Mapping[str, object], diags: list[Diagnostic]
) -> dict[str, Binding]:
    """The policy's params with their values: the CLI's where given, else the default."""
    out: dict[str, Binding] = {}
    for p in policy.params:
        # A param with a problem is still bound (with no value), so that its uses are
        # checked and the problem is reported once, where it is.
        t = param_type(p.type)
        value: object = None
        if t is None:
            diags.append(
                Diagnostic(
                    "PE113",
                    f"param `{p.name.text}` has a type params cannot take",
                    p.type.span,
                    "not a param type",
                    help="use string, int or bool, or a list or map of one of them",
                )
            )
        elif p.name.text in overrides:
            value = overrides[p.name.text]
        elif p.default is None:
            diags.append(
                Diagnostic(
                    "PE113",
                    f"param `{p.name.text}` has no value",
                    p.span,
                    "no default",
                    help=f"give a default, or pass `--param {p.name.text}=VALUE`",
                )
            )
        elif fits(p.default.value, t):
            value = p.default.value
        else:
            diags.append(
                Diagnostic(
                    "PE113",
                    f"the default of `{p.name.text}` is not {model.describe(t)}",
                    p.default.span,
                    f"expected {model.describe(t)}",
                )
            )
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(value, Mapping):
            value = tuple(sorted(value.items()))  # hashable; the compiler makes it a map
        out[p.name.text] = Binding(p.name.text, "param", t or model.AnyT(), -1, value)
    return out


def subject_kinds(
    body: ast.ForEach, m: model.Model, diags: list[Diagnostic], params: Mapping[str, object]
) -> list[str]:
    """The kinds a rule ranges over; `resource` means every kind that has what it reads."""
    name = body.kind.text
    if name == REGION and body.edge is None:
        return [REGION]
    if name == ANY_KIND and body.edge is None:
        lets = {let.name.text for let in body.lets}
        reads = _this_reads(body) - set(params) - _quantifier_vars(body) - lets
        kinds = [k.name for k in m.kinds.values() if all(r in k.attributes.by_name for r in reads)]
        if not kinds:
            diags.append(
                Diagnostic(
                    "PE104",
                    "no kind has every attribute this rule reads",
                    body.kind.span,
                    "matches no kind",
                    notes=("reads " + ", ".join(f"`{r}`" for r in sorted(reads)),),
                )
            )
        return kinds
    if name not in m.kinds:
        diags.append(
            Diagnostic(
                "PE102",
                f"unknown kind `{name}`",
                body.kind.span,
                "no kind has this name",
                help=did_you_mean(name, [*m.kinds, ANY_KIND]),
            )
        )
        return []
    return [name]


def _this_reads(body: ast.ForEach) -> set[str]:
    """The names a `for each resource` rule reads from its subject (and some that are not:
    params and quantifier variables, which the caller takes away)."""
    found: set[str] = set()
    # `id matches kind format` applies to every kind; a relation expression names kinds.
    parts = (body.where, body.condition, body.unless, body.lets)
    for node in ast.walk(parts, (ast.IdFormat, ast.Related, ast.LocatedIn)):
        if not isinstance(node, ast.Path):
            continue
        head = node.head.text
        if head == "this" and node.segments and isinstance(node.segments[0], ast.AttrSegment):
            found.add(node.segments[0].name)
        elif head not in ("this", ANY_KIND):
            found.add(head)
    return found


def rule_scope(
    body: ast.ForEach,
    kind: str,
    m: model.Model,
    params: dict[str, Binding],
    diags: Collector,
    defines: dict[str, DefineSig] | None = None,
) -> Scope | None:
    """The names a rule's conditions see: `this`, the kind, its alias, the edge's other
    end, and its `let`s."""
    scope = Scope(m, diags, None, params, defines=defines or {})
    if kind == REGION and body.edge is None:
        # `for each region`: `this` (and `region`) is the region's name.
        this = scope.bind(ast.Name(text="this", span=body.kind.span), "value", model.STRING)
        scope.this = this
        scope.alias(REGION, this)
        if body.alias is not None:
            scope.alias(body.alias.text, this)
        bind_lets(scope, body)
        return scope
    this_type = model.ResourceT(kind)
    this = scope.bind(ast.Name(text="this", span=body.kind.span), "resource", this_type)
    scope.this = this
    scope.alias(kind, this)
    if body.kind.text != kind:
        scope.alias(body.kind.text, this)
    if body.alias is not None:
        scope.alias(body.alias.text, this)
    if body.edge is not None:
        relation = edge_relation(body, m, diags)
        if relation is None:
            return None
        if relation.target == kind and body.edge.alias is None:
            diags.append(
                Diagnostic(
                    "PE115",
                    f"both ends of `{relation.name}` are `{kind}`: name the other end",
                    body.edge.span,
                    "which one is which?",
                    help=f"write `{kind} {relation.verb} {kind} as peer`",
                )
            )
            return None
        other = scope.bind(
            body.edge.alias or ast.Name(text=relation.target, span=body.edge.span),
            "resource",
            model.ResourceT(relation.target),
        )
        scope.alias(relation.target if body.edge.alias is None else body.edge.alias.text, other)
        if isinstance(body.condition, ast.SameLocation):
            check_same_location(body.condition, m.kinds[kind], m.kinds[relation.target], diags)
    bind_lets(scope, body)
    return scope


def bind_lets(scope: Scope, body: ast.ForEach) -> None:
    """Each `let NAME = VALUE` is typed and bound, in order: a later one sees earlier ones."""
    for let in body.lets:
        t = expr_type(scope, let.value)
        scope.bind(let.name, "value", t if t is not None else model.AnyT())


def edge_relation(
    body: ast.ForEach, m: model.Model, diags: list[Diagnostic] | None = None
) -> model.Relation | None:
    """The relation a sentence follows; reports unknown and ambiguous ones."""
    assert body.edge is not None
    edge, subject = body.edge, body.kind.text
    sink = diags if diags is not None else []
    if subject not in m.kinds:
        return None
    candidates = m.relations_of(subject, edge.verb.text)
    if edge.target is not None:
        if edge.target.text not in m.kinds:
            sink.append(
                Diagnostic(
                    "PE102",
                    f"unknown kind `{edge.target.text}`",
                    edge.target.span,
                    "no kind has this name",
                    help=did_you_mean(edge.target.text, m.kinds),
                )
            )
            return None
        candidates = [r for r in candidates if r.target == edge.target.text]
    if len(candidates) == 1:
        return candidates[0]
    known = [r.name for r in m.relations if r.source == subject]
    what = f"{subject} {edge.verb.text}" + (f" {edge.target.text}" if edge.target else "")
    if not candidates:
        sink.append(
            Diagnostic(
                "PE103",
                f"unknown relation `{what}`",
                edge.verb.span,
                f"`{subject}` has no such relation",
                notes=(
                    f"relations of `{subject}`: " + (", ".join(f"`{k}`" for k in known) or "none"),
                ),
                help=did_you_mean(what, known),
            )
        )
        return None
    sink.append(
        Diagnostic(
            "PE107",
            f"`{what}` is ambiguous",
            edge.verb.span,
            "several relations match",
            notes=tuple(f"could be `{r.name}`" for r in candidates),
            help=f"name the other kind, e.g. `{subject} {edge.verb.text} {candidates[0].target}`",
        )
    )
    return None


def check_same_location(
    cond: ast.SameLocation, left: model.Kind, right: model.Kind, diags: list[Diagnostic]
) -> None:
    for kind in (left, right):
        if cond.scope == "zone" and not kind.may_have("zone"):
            diags.append(
                Diagnostic(
                    "PE109",
                    f"`{kind.name}` is located in a {kind.scope}, not a zone",
                    cond.span,
                    "cannot compare zones",
                    help="use `same region`",
                )
            )
        if kind.scope == "global":
            diags.append(
                Diagnostic(
                    "PE109",
                    f"`{kind.name}` is global and has no location",
                    cond.span,
                    "cannot compare locations",
                )
            )


# ---------------------------------------------------------------- conditions


def _quantifier_vars(body: ast.ForEach) -> set[str]:
    nodes = ast.walk((body.where, body.condition, body.unless))
    return {n.var.text for n in nodes if isinstance(n, ast.Quantifier | ast.Count) and n.var}


def duplicate_rules(files: Iterable[ast.PolicyFile]) -> list[Diagnostic]:
    """Rule ids declared in two files. Within one file, the checker says so as it checks
    the policy; across files, only this sees both."""
    out: list[Diagnostic] = []
    first: dict[str, ast.Rule] = {}
    for file in files:
        for policy in file.policies:
            for rule in policy.rules:
                rule_id = f"{policy.name.text}.{rule.name.text}"
                earlier = first.setdefault(rule_id, rule)
                if earlier.span.file != rule.span.file:
                    out.append(
                        Diagnostic(
                            "PE108",
                            f"rule `{rule_id}` is declared twice",
                            rule.name.span,
                            "declared again here",
                            notes=(f"first declared at {earlier.name.span.location()}",),
                        )
                    )
    return out


def check_policy_file(
    file: ast.PolicyFile,
    m: model.Model,
    params: Mapping[str, Mapping[str, object]] | None = None,
    defines: Mapping[str, DefineSig] | None = None,
) -> CheckedFile:
    """Every problem of the file, and what the checker resolved for each rule it could."""
    checker = _PolicyChecker(file, m, params or {}, defines or {})
    diagnostics = checker.run()
    return CheckedFile(file, tuple(checker.checked), diagnostics)
