"""A large snapshot file decoded into only what the rules read.

The plan knows every attribute its rules and its model read (`inputs.reads`). msgspec
decodes the file into the resources' objects with those fields alone: the others are
skipped in C (checked as JSON, never built), so a field no rule reads costs no memory.
Such a document holds every resource with its envelope and every attribute read, as
parsed: the store checks and converts them as it checks a whole document, in the same
words. Anything this decoding does not accept as it is (a top-level field the format does
not know, a resource that is not an object with a string `kind`, JSON that is not valid
or nested too deep, a file that cannot be read) is `None`: the caller reads the file the
usual way, which words the problem exactly as ever.

The file's text is not kept: where each resource starts is found while the bytes are at
hand (`positions.places_from`), and the findings that point at lines read their own
resources again from the file (`FileText`).
"""

from __future__ import annotations

import os
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache, partial
from itertools import compress, repeat
from operator import contains, eq, is_, is_not, itemgetter, setitem
from pathlib import Path
from typing import Any

from policyengine.core import collector, files, limits, model, positions
from policyengine.inputs import conversion, snapshot
from policyengine.inputs.reads import ENVELOPE

# The snapshot's own fields, each decoded as it is (the envelope check words them).
_TOP = ("version", "account", "captured_at", "locations", "gaps", "not_read")


@dataclass(frozen=True)
class Projected:
    """A snapshot file decoded into what the rules read."""

    document: dict[str, Any]  # as parsed, each resource with the fields read alone
    text: files.FileText  # the file, to read its text again for the lines of findings
    unknowns: bool  # whether the fields read hold `{"$unknown": ...}` values
    checked: bool  # every resource's envelope is one `snapshot.plain_envelope` accepts
    # Attributes whose every value the decoder checked as the store would: none to convert.
    typed: frozenset[str]


def read(
    path: Path, name: str, reads: Mapping[str, frozenset[str]], m: model.Model
) -> Projected | None:
    """The snapshot file at `path` with the fields `reads` names (and every resource's
    envelope) alone; None for a file this decoding does not take as it is: small ones
    (msgspec's import would cost more than it saves), and any the usual reading must word
    a problem of (a value of an attribute read whose type the decoder checks, of another
    type: the usual reading converts it, or words why not)."""
    try:
        later = files.FileText.of(path)
        if later.size < snapshot.LARGE:
            return None
        # Held in a list alone, which the decoding empties to let the bytes go.
        held = [files.read_whole(path, limits.current().input_bytes)]
        if files.FileText.of(path) != later or len(held[0]) != later.size:
            return None  # changed while it was read: the usual reading takes it as it is
    except (OSError, files.Refused, files.TooLarge):
        return None
    is_ascii = held[0].isascii()
    if not is_ascii:
        try:  # UTF-8, as the usual reading requires
            held[0].decode("utf-8")
        except UnicodeDecodeError:
            return None
    names = ENVELOPE.union(*reads.values())
    typed = _checked_types(m, names)
    decoders = _decoders(frozenset(names), frozenset(reads), frozenset(typed.items()))
    shared = _shared_values(m, names, frozenset(typed))
    may_spell = _may_spell(held[0])  # before the decoding, which lets the bytes go
    with collector.paused():  # many objects and no cycles, as any snapshot's values
        read_each = _Reader(decoders, shared, is_ascii, later, _PART)
        try:
            found = snapshot._decode_within(held, limits.current().json_depth, read_each)
        except (_Changed, OSError, files.Refused):
            return None  # the file is no longer the one read: the usual reading takes it
        del held
        if found is snapshot._UNDECIDED or not found.resources:
            return None
        document = {key: getattr(found, key) for key in _TOP}
        document = {key: value for key, value in document.items() if value is not _UNSET}
        document["resources"] = found.resources
        later = replace(later, places=read_each.places)
        # Decoded as `plain_envelope` accepts a resource; `source` is told here.
        checked = read_each.checked
        # Told from the fields read: a marker in a field no rule reads changes nothing.
        unknowns = may_spell and snapshot.holds_unknown(document)
    return Projected(document, later, unknowns, checked, frozenset(typed))


def _may_spell(buffer: bytes | bytearray) -> bool:
    """`snapshot.may_spell_unknown`, of the file's bytes. Each pattern's first byte is
    looked for alone first, by `memchr` (a tenth of the time of looking for the
    pattern: 0.24 s of a 177 MB file's reading): most files hold no `$` and no
    backslash at all."""
    unknown = snapshot.UNKNOWN.encode()
    return (unknown[:1] in buffer and unknown in buffer) or (b"\\" in buffer and b"\\u" in buffer)


_UNSET: Any = None  # msgspec.UNSET, set on the first decoder's import


@dataclass(frozen=True)
class _Decoders:
    """How a snapshot's parts are decoded (`_decoders`)."""

    document: Callable[[Any], Any]  # the document, its resources left as their text
    resource: Callable[[Any], Any]  # one resource, its tags left as their text
    tags: Callable[[Any], Any]  # a resource's tags, from their text
    # `resource` whose regions and zones are among those given (`_located_decoder`).
    located: Callable[[Places], Callable[[Any], Any]] | None = None
    # A JSON array of resources, each decoded as `resource` and `located` decode one
    # (`_Reader`); None: one by one.
    resources: Callable[[Any], Any] | None = None
    located_resources: Callable[[Places], Callable[[Any], Any]] | None = None


@cache
def _decoders(
    names: frozenset[str], kinds: frozenset[str], typed: frozenset[tuple[str, Any]]
) -> _Decoders:
    """The decoders of a snapshot whose resources keep the fields `names` alone: of the
    document, whose resources it leaves as their JSON text (`msgspec.Raw`, a view of the
    file's bytes: checked as JSON, never built), and of one resource. One object type for
    every kind (a field read of one kind is kept of another that has it: a little more
    than needed, never less). Each resource's envelope is checked as it is decoded, in C,
    exactly as `snapshot.plain_envelope` checks it (a kind of the model, the identity and
    location fields strings or null, the tags strings), but `source`; a kind is then one
    string for every resource of it. `typed`: attributes whose values are checked too
    (`_checked_types`).

    A resource's tags are left as their text (`msgspec.Raw`), then decoded, with the same
    type, once for each different text (`_Reader`): an account repeats a few tag sets
    across thousands of resources, and a copy of a text and one lookup cost less than the
    dict decoded and the key of its items built to find the one held."""
    global _UNSET
    import msgspec

    _UNSET = msgspec.UNSET
    document = msgspec.defstruct(
        "document",
        [("resources", list[msgspec.Raw])] + [(name, Any, msgspec.UNSET) for name in _TOP],
        forbid_unknown_fields=True,
    )
    return _Decoders(
        msgspec.json.Decoder(document).decode,
        _located_decoder(names, kinds, typed, None),
        msgspec.json.Decoder(dict[str, str] | None).decode,
        partial(_located_decoder, names, kinds, typed),
        _located_decoder(names, kinds, typed, None, many=True),
        partial(_located_decoder, names, kinds, typed, many=True),
    )


# A snapshot's regions and their zones, each set sorted (`_places_of`).
Places = tuple[tuple[str, ...], tuple[str, ...]]


@lru_cache(maxsize=16)
def _located_decoder(
    names: frozenset[str],
    kinds: frozenset[str],
    typed: frozenset[tuple[str, Any]],
    places: Places | None,
    many: bool = False,
) -> Callable[[Any], Any]:
    """The decoder of one resource (`_decoders`), or with `many` of a JSON array of them,
    each as the decoder of one decodes it; with `places`, one whose regions and zones are
    those alone (`Literal`): each is then one string for every resource, in C, as a kind
    is, where the general decoder makes a string for every resource and each was held
    once in Python (measured at 10,000 instances: 5% of the instructions of reading). A
    resource in a region or zone not among them does not decode."""
    import msgspec

    resource = _resource_type(names, kinds, typed, places)
    return msgspec.json.Decoder(list[resource] if many else resource).decode  # type: ignore[valid-type]


@lru_cache(maxsize=8)
def _resource_type(
    names: frozenset[str],
    kinds: frozenset[str],
    typed: frozenset[tuple[str, Any]],
    places: Places | None,
) -> Any:
    """The type of one resource, as `_located_decoder` decodes it."""
    from typing import Literal, Required, TypedDict

    import msgspec

    # In the order a resource's keys are mostly written, its envelope first and its tags
    # last: each key is looked for from where the last one was found (measured at
    # 100,000 instances: 0.78 s decoding the resources, against 0.84 s sorted by name).
    first = ("kind", "id", "name", "region", "zone")
    order = [*first, *sorted(names - {*first, "tags"}), "tags"]
    fields: dict[str, Any] = {name: Any for name in order}
    fields["kind"] = Required[Literal[tuple(sorted(kinds))]]
    fields.update({name: str | None for name in ("id", "name", "region", "zone")})
    if places is not None:
        regions, zones = places
        fields["region"] = Literal[regions] | None
        fields["zone"] = Literal[zones] | None
    fields.update(typed)
    fields["tags"] = msgspec.Raw
    resource = TypedDict("resource", fields, total=False)  # type: ignore[misc]
    return resource


def _places_of(locations: Any) -> Places | None:
    """The regions and zones a snapshot's `locations` names (`{region: [zone, ...]}`), if
    it names some of each, in strings alone; None for anything else (the envelope check
    words what is wrong)."""
    if type(locations) is not dict or not all(type(z) is list for z in locations.values()):
        return None
    regions = tuple(sorted(locations))
    zones = [zone for zones in locations.values() for zone in zones]
    if not regions or not zones or not all(type(zone) is str for zone in zones):
        return None
    return regions, tuple(sorted(set(zones)))


# Resources decoded by one call (`_Reader`): enough that the call's own cost is spread
# thin, few enough that the values a part's sharing frees are reused by the next part's
# decoding, and that a part's bytes stay in the processor's caches while it is decoded
# and its values shared.
_PART = 512
_OPEN, _CLOSE = ord("["), ord("]")
_KIND = itemgetter("kind")
_get = dict.get


class _Changed(Exception):
    """The file is no longer what was read: the usual reading takes it as it is."""


def _consume(values: Iterator[Any]) -> None:
    """Runs an iterator of calls made for their effect, in C."""
    deque(values, maxlen=0)


# How a part of resources is decoded: one resource, and a JSON array of them (or None).
_Decoding = tuple[Callable[[Any], Any], Callable[[Any], Any] | None]


class _Reader:
    """Decodes a snapshot's document, then its resources a part at a time, each part in
    place of its text in the list, with equal values held once as each part is decoded:
    the regions, zones and tag sets an account repeats across thousands of resources,
    and the strings of lists of ids and of records (`_shared_values`).

    Part by part, so that what a part's decoding makes and its sharing frees is reused
    by the next one's: decoded whole and shared after, the values freed were scattered
    holes over the whole heap that the store's objects, of other sizes, did not fill
    (measured at 100,000 instances: 158 MB of free blocks left by the sharing; the
    resident memory after reading 580 MB)."""

    def __init__(
        self,
        decoders: _Decoders,
        shared: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
        is_ascii: bool | None = None,  # whether the buffer is ASCII, if known
        file: files.FileText | None = None,  # the file the bytes are, to read parts again
        part: int = _PART,  # resources decoded by one call
    ) -> None:
        self._is_ascii = is_ascii
        self._decoders = decoders
        # Per kind that has some, `_shared_values`: the kinds with none are passed over.
        self._shared = {kind: work for kind, work in shared.items() if work != ((), ())}
        self._file = file
        self._part = part
        self._strings: dict[str, str] = {}
        self._tag_sets: dict[bytes, dict[str, str] | None] = {}
        self._id_lists: dict[tuple[str | None, ...], list[str | None]] = {}
        self.checked = True  # every resource has no `source` (`plain_envelope`'s case)
        # Where each resource starts, found while the bytes are at hand: the lines of
        # findings then read only their own resources again, never the whole text.
        self.places: positions.ResourcePlaces | None = None

    def __call__(self, held: list[bytes]) -> Any:
        """The document of the file's bytes, `held` alone in a list: with `file`, the
        list is emptied once the resources are found, and the bytes are let go."""
        buffer = held[0]
        decoders = self._decoders
        found = decoders.document(buffer)
        resources: list[Any] = found.resources
        if not resources:
            return found
        lengths = array(positions.number_code(buffer), map(len, resources))
        first = bytes(resources[0])
        places = self.places = positions.places_from(buffer, first, lengths, self._is_ascii)
        general = decoders.resource, decoders.resources
        decode = general
        if decoders.located is not None and (known := _places_of(found.locations)) is not None:
            many = decoders.located_resources
            decode = decoders.located(known), None if many is None else many(known)
        if places is None or self._file is None:
            self._decode_texts(resources, decode, general)
            return found
        # The file's bytes and the decoded resources are never both whole in memory: the
        # bytes go, and each part is read again from the file where `places` says
        # (measured at 100,000 instances: the resident peak of reading was 536 MB with
        # the 177 MB file and 316 MB of resources whole, 455 MB with the file's buffer
        # cut behind the resources decoded, each cut a copy of its rest into new memory,
        # and is 350 MB; reading the parts again costs under 0.05 s). The views of the
        # bytes (`msgspec.Raw`) go first, as they hold them.
        resources[:] = [None] * len(resources)
        held.clear()
        del buffer
        self._decode_read(resources, places, self._file, decode, general)
        return found

    def _decode_texts(self, resources: list[Any], decode: _Decoding, general: _Decoding) -> None:
        """The resources decoded in place of their texts in `resources` (`msgspec.Raw`),
        a part at a time (`_decode_read`)."""
        from msgspec import ValidationError

        for begin in range(0, len(resources), self._part):
            end = begin + self._part
            texts = resources[begin:end]
            try:
                part = _part_of_texts(decode, texts)
            except ValidationError:
                if decode is general:
                    raise
                decode = general  # a region or zone elsewhere, or what it does not take
                part = _part_of_texts(decode, texts)
            del texts
            self._settle(part, decode is general)
            resources[begin:end] = part

    def _decode_read(
        self,
        resources: list[Any],
        places: positions.ResourcePlaces,
        file: files.FileText,
        decode: _Decoding,
        general: _Decoding,
    ) -> None:
        """The resources decoded in place from the file's bytes where `places` says, a
        part at a time, read in order (decoded from the last, the resources lay in memory
        the other way round from the order every later pass reads them in, which made
        those passes slower).

        A part is decoded by one call, as a JSON array: the byte before its first resource
        and the one after its last (a bracket, a comma or a space, as `places` found them)
        read as brackets. One call a resource, and the Python work around each, were half
        the time of reading. A part the call does not decode for its depth (the array is
        one level more than a resource alone) is decoded resource by resource, as the
        depth of the document was checked with each resource where it is.

        With `decode` other than `general` (decoders whose regions and zones are the
        snapshot's `locations`: each one string already), each part is decoded by it
        until one does not decode; that one and every later one by the general decoder,
        which words nothing but decodes what it takes (a problem it does not take is the
        usual reading's to word), their regions and zones held once here.

        A file that is not the one read (its size or time changed, or shorter than its
        places) raises `_Changed`."""
        from msgspec import ValidationError

        offsets, lengths = places.offsets, places.lengths
        fd = os.open(files.admit(file.path), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            _same(fd, file)
            scratch = bytearray()
            for begin in range(0, len(resources), self._part):
                end = min(begin + self._part, len(resources))
                start = offsets[begin] - 1
                size = offsets[end - 1] + lengths[end - 1] + 1 - start
                if len(scratch) < size:
                    scratch = bytearray(size)  # the last part's views are gone
                view = memoryview(scratch)[:size]
                if _read_into(fd, view, start) != size:
                    raise _Changed
                view[0], view[size - 1] = _OPEN, _CLOSE
                spans = (offsets, lengths, begin, end, start)
                try:
                    part = _part_of_bytes(decode, view, spans)
                except ValidationError:
                    if decode is general:
                        raise
                    decode = general
                    part = _part_of_bytes(decode, view, spans)
                del view
                self._settle(part, decode is general)
                resources[begin:end] = part
            _same(fd, file)
        finally:
            os.close(fd)

    def _settle(self, part: list[Any], general: bool) -> None:
        """A part's equal values held once, and whether each has no `source` told."""
        self._share(part, general)
        if self.checked and any(map(contains, part, repeat("source"))):
            self.checked = all(resource.get("source") is None for resource in part)

    def _share(self, part: list[Any], general: bool) -> None:
        """Equal values of a part's resources held once: regions and zones (where the
        general decoder made a string of each), tag sets, lists of ids and the strings
        of records (`_shared_values`). As many steps as can run over the whole part in C
        (a `map`) do: a step of Python a resource was most of the rest of the time."""
        share = self._strings.setdefault
        if general:  # the general decoder's strings: one for each resource
            for resource in part:
                region = resource.get("region")
                if region is not None:
                    resource["region"] = share(region, region)
                zone = resource.get("zone")
                if zone is not None:
                    resource["zone"] = share(zone, zone)
        self._share_tags(part)
        if not self._shared:
            return
        kinds = list(map(_KIND, part))
        found = set(kinds)
        for kind, (lists, records) in self._shared.items():
            if kind not in found:
                continue
            group = part if len(found) == 1 else list(compress(part, map(eq, kinds, repeat(kind))))
            for name in lists:
                self._share_lists(group, name)
            for name in records:
                for record in map(_get, group, repeat(name)):
                    if type(record) is dict:
                        for field, string in record.items():
                            if type(string) is str:
                                record[field] = share(string, string)
                    elif type(record) is list:  # of records, or of what the store refuses
                        for entry in record:
                            if type(entry) is dict:
                                for field, string in entry.items():
                                    if type(string) is str:
                                        entry[field] = share(string, string)

    def _share_tags(self, part: list[Any]) -> None:
        """Tags, left as their text by the decoding (`_decoders`), decoded once for each
        different text, and that value held for every resource that spells it alike: the
        key is a copy of the text, as `msgspec.Raw` holds the buffer (which cannot be cut
        while it is held)."""
        texts: list[Any] = list(map(_get, part, repeat("tags")))
        if None in texts:  # resources without tags: most snapshots have none
            tagged = list(map(is_not, texts, repeat(None)))
            part = list(compress(part, tagged))
            texts = list(compress(texts, tagged))
        texts = list(map(bytes, texts))  # and the views of the buffer let go
        held, decode = self._tag_sets, self._decoders.tags
        for text in set(texts).difference(held):
            held[text] = decode(text)
        _consume(map(setitem, part, repeat("tags"), map(held.__getitem__, texts)))

    def _share_lists(self, group: list[Any], name: str) -> None:
        """The lists of ids of attribute `name` held once: checked by the decoder, they
        hold strings and nulls alone, which nothing converts or marks in place (thousands
        of instances name the same one security group: 18 MB of lists of one at 100,000
        instances). A list first seen has its strings held once, and is held."""
        values: list[Any] = list(map(_get, group, repeat(name)))
        lists = list(map(is_, map(type, values), repeat(list)))
        if not all(lists):
            group, values = list(compress(group, lists)), list(compress(values, lists))
        keys = list(map(tuple, values))
        held = self._id_lists
        found = list(map(held.get, keys))
        if None in found:
            share = self._strings.setdefault
            for at, same in enumerate(found):
                if same is None:
                    same = held.get(keys[at])  # an earlier list of this part, held
                    if same is None:
                        same = values[at]
                        for i, item in enumerate(same):
                            if type(item) is str:
                                same[i] = share(item, item)
                        held[tuple(same)] = same  # keyed by the strings held once
                    found[at] = same
        _consume(map(setitem, group, repeat(name), found))


def _part_of_texts(decode: _Decoding, texts: list[Any]) -> list[Any]:
    """Resources decoded from their texts: together, as one JSON array (a copy of them),
    or one by one (`_Reader._decode_read`)."""
    one, many = decode
    if many is not None:
        try:
            return many(b"[" + b",".join(texts) + b"]")  # type: ignore[no-any-return]
        except RecursionError:
            pass
    return list(map(one, texts))


def _part_of_bytes(
    decode: _Decoding, view: memoryview, spans: tuple[array[int], array[int], int, int, int]
) -> list[Any]:
    """The resources `begin` to `end` decoded from `view`, the file's bytes from `start`
    with brackets at each end: as one JSON array, or one by one (`_Reader._decode_read`)."""
    one, many = decode
    if many is not None:
        try:
            return many(view)  # type: ignore[no-any-return]
        except RecursionError:
            pass
    offsets, lengths, begin, end, start = spans
    return [
        one(view[offsets[i] - start : offsets[i] - start + lengths[i]]) for i in range(begin, end)
    ]


def _read_into(fd: int, view: memoryview, offset: int) -> int:
    """Reads the bytes of the file open at `fd` from `offset` into `view`, as many as it
    holds or the file has: straight into it where the system reads into a buffer given
    (`preadv`), else through a copy."""
    if hasattr(os, "preadv"):
        return os.preadv(fd, [view], offset)
    data = os.pread(fd, len(view), offset)
    view[: len(data)] = data
    return len(data)


def _same(fd: int, file: files.FileText) -> None:
    """Raises `_Changed` if the file open at `fd` is not the one read (size and time)."""
    found = os.fstat(fd)
    if (found.st_size, found.st_mtime_ns) != (file.size, file.mtime_ns):
        raise _Changed


def _checked_types(m: model.Model, names: frozenset[str]) -> dict[str, Any]:
    """The attributes among `names` whose values the decoder can check in C exactly as
    the store would (`conversion.ready`: a value that needs no conversion), with the
    type it checks: strings, integers or booleans, and lists and maps of them, null
    counting as missing. Only where every kind that declares the attribute declares it
    so; times, CIDR blocks, port ranges (always converted) and records are left to the
    store."""
    found: dict[str, set[Any]] = {}
    for kind in m.kinds.values():
        for name, t in kind.attributes.fields:
            if name in names and name in kind.declared and name not in ENVELOPE:
                found.setdefault(name, set()).add(_checked_type(t))
    return {name: ts.pop() for name, ts in found.items() if len(ts) == 1 and None not in ts}


def _checked_type(t: model.Type) -> Any:
    """The type of a value of `t` that needs no conversion, as msgspec checks it; None
    where it cannot check that alone."""
    t = model.unwrap(t)
    scalar = _one(t)
    if scalar is not None:
        return scalar | None
    if isinstance(t, model.ListT) and (item := _one(model.unwrap(t.item))) is not None:
        return list[item | None] | None  # type: ignore[valid-type]
    if isinstance(t, model.MapT) and (value := _one(model.unwrap(t.value))) is not None:
        return dict[str, value | None] | None  # type: ignore[valid-type]
    return None


def _one(t: model.Type) -> type | None:
    types = conversion.scalar_types(t)
    return next(iter(types)) if types is not None and len(types) == 1 else None


def _shared_values(
    m: model.Model, names: frozenset[str], typed: frozenset[str]
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per kind, the attributes among `names` whose strings are held once as they are
    decoded: lists of references (which the decoder checked: `typed`), the few security
    groups thousands of instances name; and records, and lists of records (a disk's
    attachments name its instance and device, an instance's network its VPC and
    vSwitch). References one by one (`image_id`, `instance_id`) are not: measured at
    100,000 instances, holding them once saved 48 MB for 0.8 s of CPU, most of it
    hashing a new string of every resource against a table of a hundred thousand."""
    out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for kind in m.kinds.values():
        lists, records = [], []
        for name, t in kind.attributes.fields:
            if name not in names or name not in kind.declared or name in ENVELOPE:
                continue
            t = model.unwrap(t)
            item = model.unwrap(t.item) if isinstance(t, model.ListT) else t
            if isinstance(t, model.ListT) and isinstance(item, model.RefT) and name in typed:
                lists.append(name)
            elif isinstance(item, model.RecordT):
                records.append(name)
        out[kind.name] = (tuple(lists), tuple(records))
    return out
