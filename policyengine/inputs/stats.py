"""What a snapshot holds, counted: resources by kind and region, references that name
nothing in it, and values not known yet. For `policyengine snapshot stats`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from policyengine.inputs.snapshot import UnknownValue
from policyengine.inputs.store import Store


@dataclass(frozen=True)
class Stats:
    resources: int
    by_kind_region: dict[str, dict[str, int]]  # kind -> region -> count
    dangling: list[dict[str, Any]]  # one per edge that names nothing in the snapshot
    unknowns: list[dict[str, str]]  # one per value not known yet: resource, where, what


def count(store: Store) -> Stats:
    by: dict[str, Counter[str]] = {}
    unknowns: list[dict[str, str]] = []
    for r in store.resources:
        region = r.region if isinstance(r.region, str) else "(unknown)" if r.region else "(none)"
        by.setdefault(r.kind, Counter())[region] += 1
        for pointer, value in _unknowns(r.data, r.pointer):
            unknowns.append(
                {"resource": f"{r.kind} {r.key}", "pointer": pointer, "what": value.what}
            )
    dangling = []
    for relation in store.model.relations:
        for source in store.by_kind[relation.source]:
            for edge in store.edges_from(relation, source):
                if not edge.targets:
                    dangling.append(
                        {
                            "relation": relation.name,
                            "resource": f"{source.kind} {source.key}",
                            "names": edge.value,
                            "pointer": edge.pointer,
                            "may_dangle": relation.dangle_reason is not None,
                        }
                    )
    return Stats(
        len(store.resources),
        {k: dict(sorted(c.items())) for k, c in sorted(by.items())},
        dangling,
        unknowns,
    )


def _unknowns(value: Any, pointer: str) -> list[tuple[str, UnknownValue]]:
    if isinstance(value, UnknownValue):
        return [(pointer, value)]
    out: list[tuple[str, UnknownValue]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list | UnknownValue):
                out.extend(_unknowns(v, f"{pointer}/{k}"))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, dict | list | UnknownValue):
                out.extend(_unknowns(v, f"{pointer}/{i}"))
    return out


def render_text(stats: Stats) -> str:
    regions = sorted({g for per in stats.by_kind_region.values() for g in per})
    width = max([len(k) for k in stats.by_kind_region] + [4])
    head = f"{'kind':<{width}}  " + "  ".join(f"{g:>14}" for g in regions) + "  total"
    lines = [head]
    for kind, per in stats.by_kind_region.items():
        cells = "  ".join(f"{per.get(g, 0):>14}" for g in regions)
        lines.append(f"{kind:<{width}}  {cells}  {sum(per.values()):>5}")
    lines.append(f"{stats.resources} resources")
    lines.append(f"dangling references: {len(stats.dangling)}")
    for d in stats.dangling:
        note = " (may dangle)" if d["may_dangle"] else ""
        lines.append(f"  {d['resource']} names {d['names']} ({d['relation']}){note}")
    lines.append(f"values not known yet: {len(stats.unknowns)}")
    for u in stats.unknowns:
        lines.append(f"  {u['resource']} {u['pointer']}: {u['what']}")
    return "\n".join(lines)
