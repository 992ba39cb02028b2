"""Which declared attributes of each kind a compiled plan can read: the store checks and
converts exactly those, so that data no rule reads costs nothing and stops nothing.

An attribute counts as read when any rule, `let`, `define`, message or quantifier reads
it (by name, whatever the kind of the resource it is read from: a little more than
needed, never less), when the model itself reads it to index the snapshot (identities,
relation paths, `when` guards, join keys, `located in ... when`), or when it is part of
every resource's envelope (kind, id, name, region, zone, tags, source).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from policyengine.core import model
from policyengine.core import plan as plans
from policyengine.core.recent import Recent

# Read of every resource, whatever the rules: the envelope the store itself reads.
ENVELOPE = frozenset({"kind", "id", "name", "region", "zone", "tags", "source"})

# Kind -> the declared attributes to check and convert. None: every declared attribute.
Reads = Mapping[str, frozenset[str]] | None


def attributes_read(compiled: plans.Plan) -> dict[str, frozenset[str]]:
    """Per kind of the plan's model, the declared attributes the plan or the model reads.
    A load of the same policies gives a new plan of the same rules and model: what they
    read is found once (walking every rule took longer than evaluating a small snapshot)."""
    return _READ.get((compiled.model, *compiled.rules), None, lambda: _found(compiled))


_READ: Recent[dict[str, frozenset[str]]] = Recent(8)


def _found(compiled: plans.Plan) -> dict[str, frozenset[str]]:
    m = compiled.model
    names = set(ENVELOPE) | _model_reads(m)
    for rule in compiled.rules:
        names.update(_rule_reads(rule))
    return {name: kind.declared & names for name, kind in m.kinds.items()}


def _rule_reads(rule: plans.RulePlan) -> Iterator[str]:
    roots: list[plans.Value | plans.Cond] = [rule.condition]
    roots += [op for op in (rule.where, rule.unless) if op is not None]
    roots += [let.value for let in rule.lets]
    roots += [part.value for part in rule.message if part.value is not None]
    for root in roots:
        for op in plans.walk(root):
            if isinstance(op, plans.Read) and op.steps and op.steps[0].op in ("attr", "key"):
                # The first step names an attribute of a resource, or a field of a value
                # bound from one (already counted by the read that bound it).
                yield op.steps[0].name


def _model_reads(m: model.Model) -> set[str]:
    names: set[str] = set()
    for kind in m.kinds.values():
        match kind.identity:
            case model.IdFormat(name_when=guard):
                names.update(_guard_reads(guard))
            case model.NamedBy(attribute=attribute):
                names.add(attribute)
            case model.KeyedBy(attributes=attributes):
                names.update(attributes)
        names.update(_guard_reads(kind.scope_when))
    for relation in m.relations:
        names.update(path.steps[0] for path in relation.paths if path.steps)
        names.update(relation.join)
        names.update(_guard_reads(relation.when))
        names.update(_guard_reads(relation.target_when))
    return names


def _guard_reads(guard: model.Guard | None) -> Iterator[str]:
    if guard is not None:
        yield from (term.path[0] for term in guard.terms if term.path)
