"""Enum-like fields in one spelling: the one the API's responses use.

The ECS API accepts `accept`, `Accept` and `ACCEPT` alike for a security group rule's
policy (and so for its direction and protocol), and Terraform, hand-written snapshots and
older exports pass on whatever was written. A rule that compares `policy == "Accept"`
would silently pass `accept`. Every input is therefore normalised when it is stored, to
the spelling DescribeSecurityGroupAttribute returns; the value as given is kept beside
it, under `given`, so that what the input said is not lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

# record name -> field -> lower-case spelling -> canonical spelling
SPELLINGS: Final[dict[str, dict[str, dict[str, str]]]] = {
    "sg_rule": {
        "direction": {"ingress": "ingress", "egress": "egress"},
        "policy": {"accept": "Accept", "drop": "Drop"},
        "ip_protocol": {p.lower(): p for p in ("TCP", "UDP", "ICMP", "ICMPv6", "GRE", "ALL")},
    },
}


def canonical(record: str | None, field: str, value: Any) -> Any:
    """The canonical spelling of `value` for this record's field; the value itself when the
    field is not enum-like or the value is not one of its spellings."""
    if record is None or not isinstance(value, str):
        return value
    spellings = SPELLINGS.get(record, {}).get(field)
    if spellings is None:
        return value
    return spellings.get(value.strip().lower(), value)


def normalise(record: str | None, value: dict[str, Any]) -> dict[str, Any]:
    """A record with its enum-like fields in canonical spelling; the originals that changed
    kept under `given`."""
    fields = SPELLINGS.get(record or "")
    if not fields:
        return value
    given: dict[str, Any] = {}
    out = dict(value)
    for name in fields:
        if name in value:
            out[name] = canonical(record, name, value[name])
            if out[name] != value[name]:
                given[name] = value[name]
    if given:
        out["given"] = given
    return out


def normaliser(record: str | None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """`normalise` for the values of one record, prepared once: the spelling of a text
    is found once per field and text (an account repeats a few, `TCP` and `Accept`, in
    every rule), and found as `canonical` finds it."""
    fields = SPELLINGS.get(record or "")
    if not fields:
        return lambda value: value
    assert record is not None
    # Per field, its texts seen so far and their spellings; as many as `_SEEN` each.
    seen: tuple[tuple[str, dict[str, Any]], ...] = tuple((name, {}) for name in fields)

    def normalised(value: dict[str, Any]) -> dict[str, Any]:
        given: dict[str, Any] = {}
        out = dict(value)
        for name, spelt in seen:
            if name in value:
                was = value[name]
                now = spelt.get(was) if type(was) is str else None
                if now is None:
                    now = canonical(record, name, was)
                    if type(was) is str and len(spelt) < _SEEN:
                        spelt[was] = now
                out[name] = now
                if now != was:
                    given[name] = was
        if given:
            out["given"] = given
        return out

    return normalised


_SEEN = 1024
