"""One snapshot's evaluated part as bytes, so that it can travel from the process that
evaluated it to the one that writes the report.

Plain pickling of a part is slow (every outcome is an object graph holding the plan, and
its resources hold their data) and would give the receiver copies of the plan's rules.
So outcomes travel as rows of plain values, and every reference into the plan travels as
its place in the plan, resolved against the receiver's own plan, which is the same plan:
a decoded part holds the receiver's rule, relation and source objects, as a part made
in-process does. Only fail and error outcomes have proofs; those are pickled whole, with
the same references. A resource travels without its data, which no report reads: the
data stays with the store, and reading it from a decoded resource raises.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, NoReturn, TypeVar, cast

from policyengine.core import model, plan
from policyengine.core.source import Source
from policyengine.inputs.resources import Edge, EdgeBelow, Resource
from policyengine.results.report import Finding, Part
from policyengine.runtime import Proof, Result, Status

# The layout of the bytes; a part is read only by a process running the same version.
WIRE_VERSION = 6  # 3: origins (places per value); 4: not read; 5: account; 6: reached
_STATUS = {s.value: s for s in Status}
_NONE = -1  # no edge, no target


class DetachedData(dict[str, Any]):
    """Stands for the data of a resource evaluated in another process: the report needs
    its identity and place only, so any read of the data is a bug, and says so."""

    def _refuse(self, *_: object) -> NoReturn:
        raise RuntimeError("the data of a resource evaluated in another process is not kept")

    __getitem__ = _refuse
    __contains__ = _refuse
    __iter__ = _refuse
    __len__ = _refuse
    get = _refuse
    keys = _refuse
    items = _refuse
    values = _refuse


_DETACHED = DetachedData()


@dataclass(frozen=True)
class _Refs:
    """The plan's objects by their place, the same in every process holding the plan."""

    rules: tuple[plan.RulePlan, ...]
    relations: tuple[model.Relation, ...]
    sources: dict[str, Source]

    @classmethod
    def of(cls, compiled: plan.Plan) -> _Refs:
        m = compiled.model
        sources: dict[str, Source] = {}
        spans = [r.span for r in compiled.rules] + [r.name_span for r in compiled.rules]
        spans += [k.span for k in m.kinds.values()] + [r.span for r in m.relations]
        for span in spans:
            sources.setdefault(span.source.name, span.source)
        return cls(compiled.rules, m.relations, sources)


def _reference(what: str, key: Any) -> NoReturn:
    """What a reference into the plan is pickled as; `_Unpickler` resolves it instead."""
    raise RuntimeError(f"a {what} reference is read only by policyengine.pipeline.wire.decode")


class _Pickler(pickle.Pickler):
    # `reducer_override` is not consulted for strings, numbers, lists, tuples and dicts,
    # which are most of a proof: a hook on every object (`persistent_id`) cost more than
    # the pickling itself.
    def __init__(self, file: io.BytesIO, reference: Callable[[object], Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._reference = reference

    def reducer_override(self, obj: object) -> Any:
        ref = self._reference(obj)
        return NotImplemented if ref is None else (_reference, ref)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, resolve: Callable[[str, Any], object]) -> None:
        super().__init__(file)
        self._resolve = resolve

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == _reference.__name__:
            return self._resolve
        return super().find_class(module, name)


def encode(part: Part, compiled: plan.Plan) -> bytes:
    """A part evaluated with `compiled`, as bytes that `decode` reads."""
    refs = _Refs.of(compiled)
    rule_no = {id(r): i for i, r in enumerate(refs.rules)}
    relation_no = {id(r): i for i, r in enumerate(refs.relations)}
    resources: list[tuple[Any, ...]] = []
    resource_no: dict[int, int] = {}
    edges: list[tuple[Any, ...]] = []
    edge_no: dict[int, int] = {}

    def resource(r: Resource) -> int:
        n = resource_no.get(id(r))
        if n is None:
            n = resource_no[id(r)] = len(resources)
            resources.append(
                (r.index, r.kind, r.key, r.region, r.zone, r.file, r.address, r.origin, r.at)
            )
        return n

    def edge(e: Edge) -> int:
        n = edge_no.get(id(e))
        if n is None:
            targets = tuple(resource(t) for t in e.targets)
            row = (relation_no[id(e.relation)], resource(e.source), e.value, targets)
            n = edge_no[id(e)] = len(edges)
            edges.append((*row, e.paths, e.pointer))
        return n

    rows: list[tuple[Any, ...]] = []
    result_no: dict[int, int] = {}
    proofs: list[tuple[int, Proof]] = []
    for i, f in enumerate(part.findings):
        r = f.result
        result_no[id(r)] = i
        rows.append(
            (
                rule_no[id(r.rule)],
                resource(r.resource),
                r.status.value,
                r.reason,
                _NONE if r.edge is None else edge(r.edge),
                _NONE if r.target is None else resource(r.target),
                f.fingerprint,
            )
        )
        if f.proof is not None:
            proofs.append((i, f.proof))

    def reference(obj: object) -> tuple[str, Any] | None:
        t = type(obj)  # exact types: one test per object, and nothing else is one
        if t is Result and id(obj) in result_no:
            return ("result", result_no[id(obj)])
        if t is Resource:
            return ("resource", resource(cast(Resource, obj)))
        if t is Edge or t is EdgeBelow:
            return ("edge", edge(cast(Edge, obj)))
        if t is plan.RulePlan and id(obj) in rule_no:
            return ("rule", rule_no[id(obj)])
        if t is model.Relation and id(obj) in relation_no:
            return ("relation", relation_no[id(obj)])
        if t is Source:
            name = cast(Source, obj).name
            if refs.sources.get(name) is obj:
                return ("source", name)
        return None

    buffer = io.BytesIO()
    _Pickler(buffer, reference).dump(proofs)
    # The tables last: pickling the proofs may have added resources and edges to them.
    envelope = (
        WIRE_VERSION,
        part.file,
        part.text,
        part.origins,
        part.not_read,
        part.account,
        part.resources,
        resources,
        edges,
        rows,
    )
    return pickle.dumps((*envelope, buffer.getvalue()), protocol=pickle.HIGHEST_PROTOCOL)


_T = TypeVar("_T")


def _make(cls: type[_T], values: dict[str, Any]) -> _T:
    """An instance of a frozen dataclass from its fields, as unpickling makes one: the
    parent builds one Result and one Finding per outcome, and `__init__`'s checked
    assignments were half of decoding. The field names are checked below, at import."""
    obj = object.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    return obj


for _cls, _names in (
    (Result, ("rule", "resource", "status", "reason", "edge", "target")),
    (Finding, ("result", "proof", "fingerprint", "waiver", "baselined")),
):
    if tuple(f.name for f in fields(_cls)) != _names or hasattr(_cls, "__slots__"):
        raise ImportError(f"policyengine.pipeline.wire builds {_cls.__name__} with other fields")


def decode(data: bytes, compiled: plan.Plan) -> Part:
    """The part `encode` wrote, its references resolved against `compiled`."""
    (
        version,
        file,
        text,
        origins,
        not_read,
        account,
        count,
        resource_rows,
        edge_rows,
        rows,
        proof_bytes,
    ) = pickle.loads(data)
    if version != WIRE_VERSION:
        raise ValueError(
            f"a part of wire version {version}; this policyengine reads {WIRE_VERSION}"
        )
    refs = _Refs.of(compiled)
    resources = [
        Resource(index, kind, key, _DETACHED, region, zone, file_, address, origin, at)
        for index, kind, key, region, zone, file_, address, origin, at in resource_rows
    ]
    edges = [
        Edge(
            refs.relations[rel], resources[src], value, tuple(resources[t] for t in targets), p, at
        )
        for rel, src, value, targets, p, at in edge_rows
    ]
    rules = refs.rules
    results = [
        _make(
            Result,
            {
                "rule": rules[rule],
                "resource": resources[res],
                "status": _STATUS[status],
                "reason": reason,
                "edge": None if edge == _NONE else edges[edge],
                "target": None if target == _NONE else resources[target],
            },
        )
        for rule, res, status, reason, edge, target, _ in rows
    ]

    def resolve(what: str, key: Any) -> object:
        table: dict[str, Any] = {
            "result": results,
            "resource": resources,
            "edge": edges,
            "rule": rules,
            "relation": refs.relations,
            "source": refs.sources,
        }
        return table[what][key]

    proofs: dict[int, Proof] = dict(_Unpickler(io.BytesIO(proof_bytes), resolve).load())
    findings = [
        _make(
            Finding,
            {
                "result": result,
                "proof": proofs.get(i),
                "fingerprint": row[6],
                "waiver": None,
                "baselined": False,
            },
        )
        for i, (result, row) in enumerate(zip(results, rows, strict=True))
    ]
    return Part(file, text, count, findings, origins, not_read, account=account)
