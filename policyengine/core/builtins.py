"""The typed built-in functions a condition may call.

Signatures are read by the checker; implementations by the interpreter. A function
returns `UNDECIDED` (with a reason) when it cannot answer, never a guess.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import re2

from policyengine.core import model

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # errors become diagnostics, not lines on stderr


def compile_regex(pattern: str) -> Any:
    """RE2 matches in time linear in the text: no policy regex can hang an evaluation.

    Raises ValueError with RE2's explanation when the pattern is not valid RE2 syntax.
    """
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        raise ValueError(reason.decode() if isinstance(reason, bytes) else str(reason)) from None


class Locations(Protocol):
    """What built-ins read from the snapshot, as the interpreter's store provides it: the
    location table and the time a rule calls `now()` (the capture time or `--now`)."""

    def region_of(self, zone: str) -> str | None: ...

    def zones_of(self, region: str) -> tuple[str, ...]: ...

    def unknown_zone(self, zone: str) -> str: ...

    def now(self) -> datetime | None: ...

    def no_now(self) -> str: ...


@dataclass(frozen=True)
class Undecided:
    reason: str


Impl = Callable[[Sequence[object], Locations], object]


@dataclass(frozen=True)
class Builtin:
    name: str
    params: tuple[tuple[str, ...], ...]  # accepted value classes per argument
    returns: model.Type
    impl: Impl
    doc: str


def _wrong(name: str, value: object) -> Undecided:
    return Undecided(f"`{name}` cannot take {type(value).__name__} {value!r}")


def _region_of(args: Sequence[object], loc: Locations) -> object:
    zone = args[0]
    if not isinstance(zone, str):
        return _wrong("region_of", zone)
    region = loc.region_of(zone)
    if region is None:
        return Undecided(loc.unknown_zone(zone))
    return region


def _zones_of(args: Sequence[object], loc: Locations) -> object:
    region = args[0]
    if not isinstance(region, str):
        return _wrong("zones_of", region)
    return list(loc.zones_of(region))


def _len(args: Sequence[object], loc: Locations) -> object:
    value = args[0]
    if not isinstance(value, str | list | Mapping):
        return _wrong("len", value)
    return len(value)


def _str_fn(name: str, fn: Callable[[str], object]) -> Impl:
    def impl(args: Sequence[object], loc: Locations) -> object:
        if not isinstance(args[0], str):
            return _wrong(name, args[0])
        return fn(args[0])

    return impl


def _str2_fn(name: str, fn: Callable[[str, str], object]) -> Impl:
    def impl(args: Sequence[object], loc: Locations) -> object:
        if not isinstance(args[0], str) or not isinstance(args[1], str):
            return _wrong(name, args[0] if not isinstance(args[0], str) else args[1])
        return fn(args[0], args[1])

    return impl


def _now(args: Sequence[object], loc: Locations) -> object:
    now = loc.now()
    if now is None:
        return Undecided(f"`now()` has no time: {loc.no_now()}")
    return now.isoformat().replace("+00:00", "Z")


def _days(name: str, sign: int) -> Impl:
    def impl(args: Sequence[object], loc: Locations) -> object:
        if not isinstance(args[0], str) or (when := model.parse_time(args[0])) is None:
            return _wrong(name, args[0])
        now = loc.now()
        if now is None:
            return Undecided(f"`{name}` needs the current time: {loc.no_now()}")
        # Whole days, rounded down: 23 hours since a time is 0 days since it.
        return math.floor(sign * (now - when).total_seconds() / 86400)

    return impl


def _split(args: Sequence[object], loc: Locations) -> object:
    text, sep = args
    if not isinstance(text, str) or not isinstance(sep, str):
        return _wrong("split", text if not isinstance(text, str) else sep)
    if sep == "":
        return Undecided("`split` needs a separator that is not empty")
    return [] if text == "" else text.split(sep)


def _keys(args: Sequence[object], loc: Locations) -> object:
    value = args[0]
    if not isinstance(value, Mapping):
        return _wrong("keys", value)
    return sorted(value)  # sorted: the order of keys in a snapshot means nothing


def _is_private(args: Sequence[object], loc: Locations) -> object:
    value = args[0]
    if not isinstance(value, str) or (net := model.parse_cidr(value)) is None:
        return _wrong("is_private", value)
    # Inside one private block. Not Python's `is_private`, which also counts 0.0.0.0/8
    # and the broadcast address, so that 0.0.0.0/0 would pass as private.
    return any(
        net.version == block.version and net.subnet_of(block)  # type: ignore[arg-type]
        for block in PRIVATE_BLOCKS
    )


# RFC 1918, loopback and link-local; for IPv6 unique local (RFC 4193), loopback, link-local.
PRIVATE_BLOCKS = tuple(
    ipaddress.ip_network(block)
    for block in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


def _contains(args: Sequence[object], loc: Locations) -> object:
    haystack, needle = args
    if isinstance(haystack, str):
        return isinstance(needle, str) and needle in haystack
    if not isinstance(haystack, list):
        return _wrong("contains", haystack)
    return needle in haystack


_S = ("string",)
BUILTINS: Mapping[str, Builtin] = {
    b.name: b
    for b in (
        Builtin(
            "region_of",
            (_S,),
            model.STRING,
            _region_of,
            "the region a zone belongs to, from the snapshot's location table",
        ),
        Builtin(
            "zones_of",
            (_S,),
            model.ListT(model.STRING),
            _zones_of,
            "the zones of a region known to the snapshot",
        ),
        Builtin(
            "len",
            (("string", "list", "object"),),
            model.INT,
            _len,
            "the length of a string, list or map",
        ),
        Builtin("lower", (_S,), model.STRING, _str_fn("lower", str.lower), "lower-case text"),
        Builtin("upper", (_S,), model.STRING, _str_fn("upper", str.upper), "upper-case text"),
        Builtin(
            "starts_with",
            (_S, _S),
            model.BOOL,
            _str2_fn("starts_with", str.startswith),
            "whether the text starts with the prefix",
        ),
        Builtin(
            "ends_with",
            (_S, _S),
            model.BOOL,
            _str2_fn("ends_with", str.endswith),
            "whether the text ends with the suffix",
        ),
        Builtin(
            "now",
            (),
            model.Scalar("time"),
            _now,
            "the snapshot's capture time (or --now): never the clock, so runs repeat",
        ),
        Builtin(
            "days_since",
            (_S,),
            model.INT,
            _days("days_since", 1),
            "whole days from a time to now(), rounded down",
        ),
        Builtin(
            "days_until",
            (_S,),
            model.INT,
            _days("days_until", -1),
            "whole days from now() to a time, rounded down",
        ),
        Builtin(
            "concat",
            (_S, _S),
            model.STRING,
            _str2_fn("concat", str.__add__),
            'the two texts joined: concat(region, "-web")',
        ),
        Builtin(
            "split",
            (_S, _S),
            model.ListT(model.STRING),
            _split,
            "the parts of a text between a separator",
        ),
        Builtin("keys", (("object",),), model.ListT(model.STRING), _keys, "a map's keys, sorted"),
        Builtin(
            "is_private",
            (_S,),
            model.BOOL,
            _is_private,
            "whether every address of a CIDR block is private",
        ),
        Builtin(
            "contains",
            (("string", "list"), ("string", "int", "bool")),
            model.BOOL,
            _contains,
            "whether a string holds a substring, or a list an item",
        ),
    )
}
