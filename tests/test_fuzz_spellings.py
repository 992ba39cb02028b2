"""The bundled security-group rules mean what they say: one rule open to the internet,
written in any spelling the API accepts (any case of direction, policy and protocol; the
whole internet as any IPv4 or IPv6 form of it), gets the same verdict from every bundled
rule as the rule in the API's own spelling.

A few examples run in the suite; HYPOTHESIS_PROFILE=long runs ten thousand.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.runtime import evaluate

GROUP = "sg-" + "0" * 19 + "1"


@cache
def bundled() -> Loaded:
    return load(bundled_policies())


def _verdicts(rule: dict[str, Any]) -> dict[str, str]:
    return _verdicts_of(json.dumps(rule, sort_keys=True))


@cache  # the API's own spellings recur (60 of them): each is evaluated once
def _verdicts_of(rule: str) -> dict[str, str]:
    group = {
        "kind": "security_group",
        "id": GROUP,
        "region": "cn-hangzhou",
        "rules": [json.loads(rule)],
    }
    loaded = bundled()
    store = Store(parse_snapshot(json.dumps({"resources": [group]}), "s.json"), loaded.plan.model)
    return {
        r.rule.id: str(r.status) for r in evaluate(loaded.plan, store) if r.resource.key == GROUP
    }


def _cases(word: str) -> st.SearchStrategy[str]:
    """`word` in any mix of upper and lower case."""
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda ups: "".join(c.upper() if up else c.lower() for c, up in zip(word, ups, strict=True))
    )


_V4 = st.sampled_from(["0.0.0.0/0", "0.0.0.0/00", "0.0.0.0/000", "0.0.0.1/0", "255.1.2.3/0"])
_V6 = st.sampled_from(
    ["::/0", "0::0/0", "::0/0", "0:0:0:0:0:0:0:0/0", "::/00", "0000::/0", "2001:db8::1/0"]
)


@given(
    protocol=st.sampled_from(["TCP", "UDP", "ALL", "ICMP", "ICMPv6", "GRE"]).flatmap(_cases),
    direction=_cases("ingress"),
    policy=_cases("Accept"),
    source=st.one_of(
        _V4.map(lambda c: ("source_cidr_ip", c)), _V6.map(lambda c: ("ipv6_source_cidr_ip", c))
    ),
    ports=st.sampled_from(["22/22", "1/65535", "-1/-1", "443/443", "8080/8080"]),
)
def test_every_spelling_of_an_open_rule_gets_the_same_verdict(
    protocol: str, direction: str, policy: str, source: tuple[str, str], ports: str
) -> None:
    field, cidr = source
    canonical = {"TCP", "UDP", "ALL", "ICMP", "ICMPV6", "GRE"}
    api = {p.upper(): p for p in ("TCP", "UDP", "ALL", "ICMP", "ICMPv6", "GRE")}
    assert protocol.upper() in canonical
    written = {
        "direction": direction,
        "policy": policy,
        "priority": 1,
        "ip_protocol": protocol,
        "port_range": ports,
        field: cidr,
    }
    reference = {
        **written,
        "direction": "ingress",
        "policy": "Accept",
        "ip_protocol": api[protocol.upper()],
        field: "0.0.0.0/0" if field == "source_cidr_ip" else "::/0",
    }
    assert _verdicts(written) == _verdicts(reference)
    # And the open rule is found: an IPv6 rule is judged like the IPv4 one.
    ipv4 = {k: v for k, v in reference.items() if k != field} | {"source_cidr_ip": "0.0.0.0/0"}
    assert _verdicts(reference) == _verdicts(ipv4)
