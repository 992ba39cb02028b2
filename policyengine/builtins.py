"""The typed built-in functions a condition may call.

Signatures are read by the checker; implementations by the interpreter. A function
returns `UNDECIDED` (with a reason) when it cannot answer, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import re2

from policyengine import model

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
    """The snapshot's location table, as the interpreter's store provides it."""

    def region_of(self, zone: str) -> str | None: ...

    def zones_of(self, region: str) -> tuple[str, ...]: ...

    def unknown_zone(self, zone: str) -> str: ...


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
            "contains",
            (("string", "list"), ("string", "int", "bool")),
            model.BOOL,
            _contains,
            "whether a string holds a substring, or a list an item",
        ),
    )
}
