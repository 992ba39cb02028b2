"""Quantifiers, ranges, bound keys and `define` calls on the fast path against the
interpreter: generated rules over generated security groups and instances, whose lists
hold missing, null and out-of-range values, give identical outcomes on both paths."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from differential import evaluate_both
from hypothesis import given
from hypothesis import strategies as st

from policyengine.frontend.loader import Loaded, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.runtime import compile_plan

RULES = [
    "for each security_group require every r in rules: r.priority < 50",
    'for each security_group forbid any r in rules where r.direction == "ingress" '
    'and r.source_cidr_ip == "0.0.0.0/0": r.port_range covers 22',
    'for each security_group require no r in rules: r.source_cidr_ip within "10.0.0.0/8"',
    'for each security_group require every r in rules where r.policy == "Accept": '
    "r.dest_group_id is set or r.dest_cidr_ip is set",
    "for each security_group forbid any r in rules: open(r) and r.port_range covers 3389",
    'for each instance require every t in ["owner", "env"]: tags[t] is set',
    'for each instance require any t in ["owner", "env"]: tags[t] == "x"',
    "for each security_group require every r in rules: every s in rules: "
    "r.priority <= s.priority or s.priority < r.priority",
]
POLICY = (
    "use alicloud.ecs\n\n"
    'define open(r: sg_rule) = r.policy == "Accept" and r.source_cidr_ip == "0.0.0.0/0"\n\n'
    "policy q {\n"
    + "".join(f"  rule r{i} {{\n    {rule}\n  }}\n" for i, rule in enumerate(RULES))
    + "}\n"
)


@cache
def _loaded(tmp: str) -> Loaded:
    path = Path(tmp) / "q.policy"
    path.write_text(POLICY, encoding="utf-8")
    return load([path])


def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just("__absent__"), st.none(), value)


sg_rules = st.fixed_dictionaries(
    {
        "direction": _maybe(st.sampled_from(["ingress", "egress"])),
        "policy": _maybe(st.sampled_from(["Accept", "Drop"])),
        "priority": _maybe(st.integers(1, 100)),
        "ip_protocol": _maybe(st.sampled_from(["TCP", "UDP", "ICMP", "ALL"])),
        "port_range": _maybe(st.sampled_from(["22/22", "20/25", "-1/-1", "3389/3389", "80/80"])),
        "source_cidr_ip": _maybe(st.sampled_from(["0.0.0.0/0", "10.1.0.0/16", "192.168.0.0/24"])),
        "dest_cidr_ip": _maybe(st.sampled_from(["10.0.0.0/8"])),
        "dest_group_id": _maybe(st.sampled_from(["sg-bp1" + "0" * 17])),
    }
).map(lambda r: {k: v for k, v in r.items() if v != "__absent__"})


@st.composite
def _snapshots(draw: st.DrawFn) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 3))):
        group: dict[str, Any] = {
            "kind": "security_group",
            "id": f"sg-bp1{i:017d}",
            "region": "cn-hangzhou",
            "tags": {},
        }
        if draw(st.booleans()) or i == 0:
            group["rules"] = draw(st.lists(sg_rules, max_size=4))
        resources.append(group)
    tags = draw(st.dictionaries(st.sampled_from(["owner", "env", "x"]), st.sampled_from(["x", ""])))
    resources.append(
        {
            "kind": "instance",
            "id": "i-bp1" + "0" * 17,
            "region": "cn-hangzhou",
            "zone": "cn-hangzhou-h",
            "tags": tags,
        }
    )
    return {"resources": resources}


def test_the_generated_rules_are_all_compiled(tmp_path: Path) -> None:
    assert compile_plan(_loaded(str(tmp_path)).plan).fallbacks == ()


@given(_snapshots())
def test_quantifier_rules_are_identical_on_both_paths(tmp_path_factory: Any, doc: Any) -> None:
    loaded = _loaded(str(tmp_path_factory.getbasetemp()))
    store = Store(parse_snapshot(json.dumps(doc), "s.json"), loaded.plan.model)
    assert evaluate_both(loaded.plan, store)


@given(st.lists(sg_rules, min_size=1, max_size=6), st.integers(2, 12))
def test_ranges_answered_once_per_value_are_identical_on_both_paths(
    tmp_path_factory: Any, rules: list[dict[str, Any]], groups: int
) -> None:
    """Many groups of the same rules: each port range and CIDR block answered once, then
    read back, over one store and the next (a compiled rule is used again)."""
    loaded = _loaded(str(tmp_path_factory.getbasetemp()))
    doc = {
        "resources": [
            {
                "kind": "security_group",
                "id": f"sg-bp1{i:017d}",
                "region": "cn-hangzhou",
                "tags": {},
                "rules": rules[i % len(rules) :] + rules[: i % len(rules)],
            }
            for i in range(groups)
        ]
    }
    for _ in range(2):
        store = Store(parse_snapshot(json.dumps(doc), "s.json"), loaded.plan.model)
        assert evaluate_both(loaded.plan, store)
