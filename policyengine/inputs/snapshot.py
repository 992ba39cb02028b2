"""The normalized snapshot: its envelope, reading its JSON, and input errors.

A snapshot is `{"resources": [{"kind", "id" | "name", "region", "zone", "tags", ...}]}`.
Bad input raises `InputError` naming the file, the JSON Pointer of the place and what was
expected; nothing is dropped quietly.

A value that is not known yet (a Terraform plan's "known after apply") is the object
`{"$unknown": WHAT}`, where WHAT names what would tell it (an address and attribute); with
`"ref": ADDRESS` it is the id of the resource whose `source.address` is ADDRESS. Any rule
that needs such a value reports `error`; a `ref` still links the two resources.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from policyengine.core import collector, files, limits

# Importers and readers of snapshots raise these; they are defined with every other error.
from policyengine.core.errors import InputError as InputError
from policyengine.core.errors import Problem as Problem
from policyengine.core.errors import YamlError

UNKNOWN = "$unknown"


@dataclass(frozen=True, slots=True)
class UnknownValue:
    """A value the input cannot know yet, e.g. an id or zone assigned on apply."""

    what: str  # what would tell the value: `module.app.alicloud_ecs_disk.data[0].id`
    ref: str | None = None  # the address of the resource whose id this is, if known

    def to_json(self) -> dict[str, str]:
        return {UNKNOWN: self.what, **({"ref": self.ref} if self.ref else {})}


def holds_unknown(data: object) -> bool:
    """Whether parsed JSON holds an object with a `$unknown` key anywhere: told from the
    data, never from the text, where the key may be spelled with escapes
    (`"\\u0024unknown"`). One pass, without recursion, stopping at the first found."""
    stack = [data]
    pop, push = stack.pop, stack.extend
    while stack:
        value = pop()
        if type(value) is dict:
            if UNKNOWN in value:
                return True
            push([v for v in value.values() if type(v) is dict or type(v) is list])
        elif type(value) is list:
            push([v for v in value if type(v) is dict or type(v) is list])
    return False


def may_spell_unknown(text: str | bytes) -> bool:
    """Whether JSON text can hold a `$unknown` key: it spells it, or has a `\\u` escape
    (which may spell any of its characters). False tells `holds_unknown` is False without
    the walk: a search in C, a tenth of the walk's time."""
    if isinstance(text, bytes):
        return UNKNOWN.encode() in text or b"\\u" in text
    return UNKNOWN in text or "\\u" in text


def as_unknown(value: object) -> UnknownValue | None:
    """The unknown a snapshot value stands for, or None for an ordinary value."""
    if isinstance(value, dict) and UNKNOWN in value:
        what, ref = value.get(UNKNOWN), value.get("ref")
        if isinstance(what, str) and (ref is None or isinstance(ref, str)):
            return UnknownValue(what, ref)
    return None


@dataclass(frozen=True, slots=True)
class Gap:
    """Data the snapshot lacks: what a call that failed would have listed. Every rule that
    needs one of its kinds reports `error` with the reason, never `pass`."""

    kinds: tuple[str, ...]
    region: str | None  # None: in every region
    reason: str


@dataclass(frozen=True, slots=True)
class NotReadFile:
    """An input file the importer did not read: the response of an API it does not know."""

    file: str
    api: str


@dataclass(frozen=True, slots=True)
class Envelope:
    """A snapshot's own fields, as `snapshot_format.SnapshotEnvelope` defines them."""

    resources: list[dict[str, Any]]
    version: int = 1
    account: str | None = None
    captured_at: str | None = None
    locations: dict[str, list[str]] | None = None
    gaps: tuple[Gap, ...] = ()
    not_read: tuple[NotReadFile, ...] = ()


def yaml_problem(exc: YamlError) -> Problem:
    """A YAML document that is not a JSON value, as a problem at its line and column."""
    return Problem(f"{exc.file}:{exc.line}:{exc.column}", "", exc.problem)


def pointer_escape(segment: str | int) -> str:
    """One RFC 6901 reference token."""
    return str(segment).replace("~", "~0").replace("/", "~1")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_input(path: Path | None, name: str, confine: files.Confinement | None = None) -> str:
    """The text of an input file (or of stdin, for `path` None), refused above the
    configured size before it is read into memory. A file found by the engine (inside a
    folder, or named by a test file) is read only inside `confine`."""
    most = limits.current().input_bytes
    over = f"larger than {limits.size(most)}, the limit ({limits.env_name('input_bytes')} sets it)"
    try:
        if path is None:
            return files.read_stream(sys.stdin.buffer, most, name).decode("utf-8")
        return files.read_text(path, most, confine)
    except files.TooLarge as exc:
        what = "input is" if path is None else f"file is {limits.size(exc.size)},"
        raise InputError([Problem(name, "", f"the {what} {over}")]) from None
    except files.Refused as exc:
        raise InputError([Problem(name, "", f"refused: {exc.reason}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(name, "", f"cannot be read: {exc}")]) from None


def load_json(text: str | bytes, file: str, depth: int | None = None) -> Any:
    """Parsed JSON; a document nested deeper than `depth` (by default the configured
    limit) is an input error, so no walk over it can exhaust Python's stack."""
    limit = limits.current().json_depth if depth is None else depth
    if len(text) >= LARGE:
        data = _decode_within(text, limit)
        if data is not _UNDECIDED:
            return data
    # orjson refuses documents deeper than PARSER_DEPTH. Wrapped in that many levels less
    # the limit, a document is refused exactly when it is deeper than the limit: the
    # check costs one copy of the text, not a walk over the parsed values.
    pad = limits.PARSER_DEPTH - limit
    try:
        # orjson: several times faster than the standard library on large snapshots, and
        # its values take less memory. It rejects NaN and Infinity as JSON does.
        # Parsed JSON holds no cycles: without the cyclic collector re-walking the growing
        # heap, a 100 MB snapshot parses in half the time.
        with collector.paused():
            if isinstance(text, bytes):
                data = orjson.loads(b"[" * pad + text + b"]" * pad)
            else:
                data = orjson.loads("[" * pad + text + "]" * pad)
            for _ in range(pad):
                if not (isinstance(data, list) and len(data) == 1):
                    raise orjson.JSONDecodeError("not one JSON document", "", 0)
                data = data[0]
            if not _parser_refuses_depth() and _depth_over(data, limit):
                raise InputError([_too_deep(file, limit)])
            if _has_long_number(text):
                # orjson reads an integer beyond 64 bits as a rounded float: read such a
                # document again exactly (its depth is already known to be within limit).
                data = json.loads(text, parse_constant=_reject_constant)
            return data
    except orjson.JSONDecodeError as exc:
        fast_error = exc
        if "memory" in str(exc).lower():
            # Valid or not, the document could not be held: never call it invalid, and
            # never try the standard library, which needs several times more memory.
            raise InputError(
                [
                    Problem(
                        file,
                        "",
                        f"too large to parse in the memory this process may use "
                        f"({limits.size(len(text))}): {exc}",
                    )
                ]
            ) from None
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        fast_error = exc
        if "depth limit" in str(exc):  # deeper even than the parser's own limit
            raise InputError([_too_deep(file, limit)]) from None
    else:
        raise InputError([_too_deep(file, limit)]) from None
    # A document orjson refused: the standard library says where and why in the words
    # our messages use, or accepts it (integers beyond 64 bits), and then orjson's reason
    # is the one to report.
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            [
                Problem(
                    file,
                    "",
                    f"not valid JSON at line {exc.lineno}, column {exc.colno}: "
                    f"{exc.msg[:1].lower()}{exc.msg[1:]}",
                )
            ]
        ) from None
    except RecursionError:
        # Nested past what the standard library's reader follows (a document cut off
        # inside a thousand open brackets): deeper than the limit, as a rule, or else
        # orjson's reason.
        if _nesting(text) > limit:
            raise InputError([_too_deep(file, limit)]) from None
        raise InputError([Problem(file, "", f"not valid JSON: {fast_error}")]) from None
    except ValueError as exc:
        raise InputError([Problem(file, "", f"not valid JSON: {exc}")]) from None
    if _depth_over(data, limit):
        raise InputError([_too_deep(file, limit)]) from None
    if "surrogate" in str(fast_error):
        # `"\ud800"` is valid JSON syntax but no text: it cannot be printed or hashed.
        where = _lone_surrogate(data) or ""
        raise InputError(
            [
                Problem(
                    file,
                    where,
                    "holds an unpaired UTF-16 surrogate (such as \\ud800), which is not text",
                )
            ]
        ) from None
    raise InputError([Problem(file, "", f"not valid JSON: {fast_error}")]) from None


# From this size on, a document is first decoded by msgspec: orjson builds a tree of the
# whole document before its Python values (measured: a third more memory at the peak and
# twice the time on a 177 MB snapshot), and reads integers beyond 64 bits as floats, which
# costs a scan of the text and a second, exact reading. Below it, msgspec's import would
# cost more than it saves.
LARGE = 1 << 20


class _Undecided:
    """msgspec did not decode the document: the general path reads it and words why."""


_UNDECIDED = _Undecided()


def _decode_within(
    text: str | bytes | bytearray | list[bytes],
    limit: int,
    typed: Callable[[Any], Any] | None = None,
) -> Any:
    """The document decoded by msgspec when it is valid JSON nested at most `limit` levels
    deep; `_UNDECIDED` for anything else (invalid, deeper, too large for the memory).
    `typed`: a msgspec decoder's `decode` to decode it with (one that skips fields, see
    `inputs.projection`), given `text` as it is (there, the bytes alone in a list, which
    it empties to let them go); a document it does not accept is `_UNDECIDED` too.

    msgspec nests within the interpreter's recursion limit, from the depth of the calling
    frame: the limit is set, for the call, to where exactly `limit` levels fit, so that a
    deeper document raises RecursionError and no walk of the values has to find it. Where
    that is is measured here, in this frame, with small documents (a few microseconds),
    and checked: an interpreter that does not bound msgspec so is left to orjson."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        # The recursion limit is the interpreter's, for every thread: lowered here, it
        # would bound another thread's calls, and another thread's setting would bound
        # this decoding. It is set from the main thread alone; other threads use orjson.
        return _UNDECIDED
    import msgspec

    decode, nested = msgspec.json.decode, _nested
    frame: FrameType | None = sys._getframe()
    frames = 0
    while frame is not None:
        frames, frame = frames + 1, frame.f_back
    before = sys.getrecursionlimit()
    try:
        with collector.paused():  # as orjson's values below: many objects, no cycles
            try:
                # How many levels fit under a limit `room` above this frame's depth.
                room = limit + _ROOM
                sys.setrecursionlimit(frames + room)
                low, high = 0, room + _ROOM  # low fits; high does not, or is unbounded
                while high - low > 1:
                    middle = (low + high) // 2
                    try:
                        decode(nested(middle))
                        low = middle
                    except RecursionError:
                        high = middle
                if low >= room + _ROOM - 1:
                    return _UNDECIDED  # nesting not bounded by the recursion limit here
                sys.setrecursionlimit(frames + room - (low - limit))
                decode(nested(limit))  # fits exactly: a RecursionError if not
                try:
                    decode(nested(limit + 1))
                except RecursionError:
                    pass
                else:
                    return _UNDECIDED
                if typed is None:
                    if isinstance(text, list):  # the bytes in a list: for `typed` alone
                        return _UNDECIDED
                    return decode(text)
                # The limit checked again after a typed decoding, which is kept only if
                # it still holds exactly (measured: calibrating right before each typed
                # decoding, without this, drifted a level after some fifty files).
                found = typed(text)
                decode(nested(limit))
                try:
                    decode(nested(limit + 1))
                except RecursionError:
                    return found
                return _UNDECIDED
            finally:
                sys.setrecursionlimit(before)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, MemoryError):
        return _UNDECIDED


# Levels of slack above the limit while measuring: more than the calls between a frame
# and msgspec's own count (the interpreter's entries from C).
_ROOM = 64


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@cache
def _parser_refuses_depth() -> bool:
    """Whether this orjson refuses documents deeper than PARSER_DEPTH, as the wrapping in
    `load_json` relies on (older releases have no limit: then the depth is walked)."""
    deepest = limits.PARSER_DEPTH
    try:
        orjson.loads("[" * deepest + "]" * deepest)
    except orjson.JSONDecodeError:
        return False
    try:
        orjson.loads("[" * (deepest + 1) + "]" * (deepest + 1))
    except orjson.JSONDecodeError:
        return True
    return False


# 19 digits in a row: the shortest integer that a 64-bit one may not hold.
_LONG_RUN = "0" * 19
_DIGITS_AS_ZERO = str.maketrans(dict.fromkeys("123456789", "0"))
_BYTE_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _has_long_number(text: str | bytes) -> bool:
    """Whether the text has a run of 19 digits (a number orjson may round); a string
    holding one costs only an exact second reading. One pass in C, about 0.1 s per 40 MB."""
    if isinstance(text, bytes):
        return _LONG_RUN.encode() in text.translate(_BYTE_DIGITS_AS_ZERO)
    return _LONG_RUN in text.translate(_DIGITS_AS_ZERO)


# A JSON string, or one cut off by the end of the text; and any character but a bracket.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_LEVEL = {"[": 1, "{": 1, "]": -1, "}": -1}


def _nesting(text: str | bytes) -> int:
    """How deep a text's arrays and objects nest at their deepest, outside its strings,
    whether or not it is JSON (one that is cut off too): without recursion, for a text
    the standard library's reader could not follow."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_LEVEL.__getitem__, brackets)), default=0)


def _too_deep(file: str, limit: int) -> Problem:
    name = limits.env_name("json_depth")
    return Problem(file, "", f"nested deeper than {limit} levels, the limit ({name} sets it)")


def _depth_over(data: Any, limit: int) -> bool:
    """Whether parsed JSON nests deeper than `limit` (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, dict | list))
    return False


def _lone_surrogate(data: Any) -> str | None:
    """The JSON Pointer of the first string (or object with a key) holding a lone
    surrogate, if any."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, at = stack.pop()
        if isinstance(value, str):
            if _has_surrogate(value):
                return at
        elif isinstance(value, dict):
            for key, inner in value.items():
                if _has_surrogate(key):
                    return at  # the object whose key it is: the key cannot be printed
                stack.append((inner, f"{at}/{pointer_escape(key)}"))
        elif isinstance(value, list):
            stack.extend((inner, f"{at}/{i}") for i, inner in enumerate(value))
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass(frozen=True)
class Snapshot:
    file: str
    envelope: Envelope
    resources: list[dict[str, Any]]
    # As read, or where to read it again: outputs that point at lines scan it for positions.
    text: str | files.FileText = ""
    unknowns: bool = True  # may hold `{"$unknown": ...}` values (False: known not to)
    # The texts of the files the snapshot was converted from (a Terraform plan, an export's
    # response files), by name: each resource's `source` points into them.
    origins: dict[str, str] = field(default_factory=dict)
    # Attributes whose every value its decoder checked needs no conversion (see
    # `inputs.projection`): the store checks them no more.
    typed: frozenset[str] = frozenset()


def parse_snapshot(text: str | bytes, file: str) -> Snapshot:
    """JSON text -> a snapshot whose envelope is valid. Model checks come in the store."""
    with collector.paused():  # as in `load_json`: validation makes many objects, no cycles
        data = load_json(text, file)
        unknowns = may_spell_unknown(text) and holds_unknown(data)
        if isinstance(text, bytes):  # read as bytes for speed: no lines to point at
            return parse_document(data, file, unknowns=unknowns)
        return parse_document(data, file, unknowns=unknowns, text=text)


def parse_document(
    data: Any,
    file: str,
    *,
    unknowns: bool = True,
    text: str | files.FileText = "",
    origins: dict[str, str] | None = None,
    checked: bool = False,
    typed: frozenset[str] = frozenset(),
) -> Snapshot:
    """Parsed JSON (as an importer makes it) -> a snapshot whose envelope is valid. `text`
    is the JSON as read, when there is a file whose lines findings can point at.
    `checked`: every resource is known to pass `plain_envelope` (its decoder checked it);
    `typed`: attributes whose values it checked need no conversion."""
    if not isinstance(data, dict):
        raise InputError(
            [
                Problem(
                    file,
                    "",
                    f"expected an object with a `resources` list, found {_json_type(data)}",
                )
            ]
        )
    envelope = plain_document(data, checked)
    if envelope is None:
        # Not vouched for: the format's models say what is wrong, or accept it.
        from policyengine.inputs import snapshot_format

        envelope = snapshot_format.validate(data, file)
    return Snapshot(file, envelope, envelope.resources, text, unknowns, origins or {}, typed)


def plain_document(data: dict[str, Any], checked: bool = False) -> Envelope | None:
    """The envelope of a document whose every field the format accepts as it is, told
    without pydantic; None for anything else, which the models then word (or accept):
    known keys only, an integer version, strings or nothing for the account and time,
    region to zone lists, plain gaps and unread files, and resources that pass
    `plain_envelope` (`checked`: known to, as a decoder that checked them tells)."""
    get = data.get
    resources = get("resources")
    if (
        not data.keys() <= _ENVELOPE_KEYS
        or type(resources) is not list
        or not resources
        or type(get("version", 1)) is not int
        or not {type(get("account")), type(get("captured_at"))} <= _STR_OR_NONE
    ):
        return None
    locations = get("locations")
    if locations is not None and not (
        type(locations) is dict
        and all(
            type(region) is str and type(zones) is list and {*map(type, zones)} <= _STR
            for region, zones in locations.items()
        )
    ):
        return None
    gaps = _plain_records(get("gaps", []), _GAP_KEYS)
    not_read = _plain_records(get("not_read", []), _NOT_READ_KEYS)
    if gaps is None or not_read is None:
        return None
    for gap in gaps:
        kinds, reason = gap.get("kinds"), gap.get("reason")
        if (
            type(kinds) is not list
            or not {*map(type, kinds)} <= _STR
            or type(reason) is not str
            or not reason
            or type(gap.get("region")) not in _STR_OR_NONE
        ):
            return None
    if any({*map(type, record.values())} != _STR or len(record) != 2 for record in not_read):
        return None
    if not checked and not all(type(r) is dict and plain_envelope(r) for r in resources):
        return None
    return Envelope(
        resources,
        get("version", 1),
        get("account"),
        get("captured_at"),
        locations,
        tuple(Gap(tuple(g["kinds"]), g.get("region"), g["reason"]) for g in gaps),
        tuple(NotReadFile(n["file"], n["api"]) for n in not_read),
    )


def _plain_records(value: object, keys: frozenset[str]) -> list[dict[str, Any]] | None:
    """A list of objects with no key beyond `keys`, or None."""
    if type(value) is not list or not all(type(v) is dict and v.keys() <= keys for v in value):
        return None
    return value


_ENVELOPE_KEYS = frozenset(
    {"version", "account", "captured_at", "locations", "resources", "gaps", "not_read"}
)
_GAP_KEYS = frozenset({"kinds", "region", "reason"})
_NOT_READ_KEYS = frozenset({"file", "api"})


def plain_envelope(resource: dict[str, Any]) -> bool:
    """Whether `ResourceEnvelope` accepts `resource`, told without building the model
    (a tenth of the time): a non-empty `kind`, strings or nothing for the identity and
    location fields, string tags, no `source`. Anything else is left to pydantic, which
    also words the problem. Types are compared as sets, in C: one call per resource."""
    get = resource.get
    kind = get("kind")
    if type(kind) is not str or not kind or get("source") is not None:
        return False
    if not {type(get("id")), type(get("name")), type(get("region")), type(get("zone"))} <= (
        _STR_OR_NONE
    ):
        return False
    tags = get("tags")
    return tags is None or (
        type(tags) is dict and {*map(type, tags), *map(type, tags.values())} <= _STR
    )


_STR = frozenset({str})
_STR_OR_NONE = frozenset({str, type(None)})


def describe_json(value: object) -> str:
    """A value as a person reads it in a JSON file: its type, and the value if short."""
    shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str | int) else ""
    kind = _json_type(value)
    return f"{kind} {shown}" if shown and len(shown) <= 40 and kind != "a boolean" else kind


def _json_type(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int():
            return "an integer"
        case float() if math.isfinite(value):
            return "a number"
        case float():
            return "a non-finite number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
    return type(value).__name__
