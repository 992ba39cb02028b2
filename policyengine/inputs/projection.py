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

from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache, partial
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
        buffer = files.read_buffer(path, limits.current().input_bytes)
        if files.FileText.of(path) != later or len(buffer) != later.size:
            return None  # changed while it was read: the usual reading takes it as it is
    except (OSError, files.Refused, files.TooLarge):
        return None
    is_ascii = buffer.isascii()
    if not is_ascii:
        try:  # UTF-8, as the usual reading requires, checked without keeping a copy
            buffer.decode("utf-8")
        except UnicodeDecodeError:
            return None
    names = ENVELOPE.union(*reads.values())
    typed = _checked_types(m, names)
    decoders = _decoders(frozenset(names), frozenset(reads), frozenset(typed.items()))
    shared = _shared_values(m, names, frozenset(typed))
    may_spell = _may_spell(buffer)  # before the decoding, which may shrink the buffer
    with collector.paused():  # many objects and no cycles, as any snapshot's values
        read_each = _Reader(decoders, shared, is_ascii)
        found = snapshot._decode_within(buffer, limits.current().json_depth, read_each)
        del buffer
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


def _may_spell(buffer: bytearray) -> bool:
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
    )


# A snapshot's regions and their zones, each set sorted (`_places_of`).
Places = tuple[tuple[str, ...], tuple[str, ...]]


@lru_cache(maxsize=8)
def _located_decoder(
    names: frozenset[str],
    kinds: frozenset[str],
    typed: frozenset[tuple[str, Any]],
    places: Places | None,
) -> Callable[[Any], Any]:
    """The decoder of one resource (`_decoders`); with `places`, one whose regions and
    zones are those alone (`Literal`): each is then one string for every resource, in C,
    as a kind is, where the general decoder makes a string for every resource and each
    was held once in Python (measured at 10,000 instances: 5% of the instructions of
    reading). A resource in a region or zone not among them does not decode."""
    from typing import Literal, Required, TypedDict

    import msgspec

    fields: dict[str, Any] = {name: Any for name in sorted(names)}
    fields["kind"] = Required[Literal[tuple(sorted(kinds))]]
    fields.update({name: str | None for name in ("id", "name", "region", "zone")})
    if places is not None:
        regions, zones = places
        fields["region"] = Literal[regions] | None
        fields["zone"] = Literal[zones] | None
    fields.update(typed)
    fields["tags"] = msgspec.Raw
    resource = TypedDict("resource", fields, total=False)  # type: ignore[misc]
    return msgspec.json.Decoder(resource).decode


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


class _Reader:
    """Decodes a snapshot's document, then its resources one by one, each in place of its
    text in the list, with equal values held once as each is decoded: the regions, zones
    and tag sets an account repeats across thousands of resources, and the strings of
    lists of ids and of records (`_shared_values`).

    Resource by resource, so that what a resource's decoding makes and its sharing frees
    is reused by the next one's: decoded whole and shared after, the values freed were
    scattered holes over the whole heap that the store's objects, of other sizes, did
    not fill (measured at 100,000 instances: 158 MB of free blocks left by the sharing;
    the resident memory after reading 580 MB)."""

    def __init__(
        self,
        decoders: _Decoders,
        shared: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
        is_ascii: bool | None = None,  # whether the buffer is ASCII, if known
    ) -> None:
        self._is_ascii = is_ascii
        self._document, self._resource, self._tags = (
            decoders.document,
            decoders.resource,
            decoders.tags,
        )
        self._located = decoders.located
        self._shared = shared  # per kind, `_shared_values`
        self.checked = True  # every resource has no `source` (`plain_envelope`'s case)
        # Where each resource starts, found while the bytes are at hand: the lines of
        # findings then read only their own resources again, never the whole text.
        self.places: positions.ResourcePlaces | None = None

    def __call__(self, buffer: bytearray) -> Any:
        found = self._document(buffer)
        resources: list[Any] = found.resources
        if not resources:
            return found
        lengths = array(positions.number_code(buffer), map(len, resources))
        first = bytes(resources[0])
        places = self.places = positions.places_from(buffer, first, lengths, self._is_ascii)
        if places is not None:
            # Decoded from the file's bytes where `places` says, with the buffer cut
            # behind them as it halves: the views of the bytes (`msgspec.Raw`) go first,
            # as a buffer with views cannot be cut.
            resources[:] = [None] * len(resources)
        located = None
        if self._located is not None and (known := _places_of(found.locations)) is not None:
            located = self._located(known)
        self._decode(resources, buffer, places, located)
        return found

    def _decode(
        self,
        resources: list[Any],
        buffer: bytearray,
        places: positions.ResourcePlaces | None,
        located: Callable[[Any], Any] | None = None,
    ) -> None:
        """Each resource decoded in place of its bytes in `resources` (`msgspec.Raw`), or,
        with `places`, from the buffer where they say, the buffer cut before the resource
        whenever that halves it (a bytearray cut to less than half of its memory moves to
        a block of its size, giving the rest back). The file's bytes and the decoded
        resources are then never both whole in memory (measured at 100,000 instances: the
        resident peak of reading fell from 536 MB, the 177 MB file and 316 MB of
        resources, to 455 MB). In order: decoded from the last, the resources lay in
        memory the other way round from the order every later pass reads them in, which
        made those passes slower.

        Tags, left as their text by the decoding (`_decoders`), are decoded once for each
        different text, and that value held for every resource that spells it alike: the
        key is a copy of the text, as `msgspec.Raw` holds the buffer (which cannot be cut
        while it is held).

        With `located` (a decoder whose regions and zones are the snapshot's `locations`:
        each one string already), each resource is decoded by it until one does not
        decode; that one and every later one by the general decoder, which words nothing
        but decodes what it takes (a problem it does not take is the usual reading's to
        word), their regions and zones held once here."""
        from msgspec import ValidationError

        general, decode_tags, shared = self._resource, self._tags, self._shared
        decode = general if located is None else located
        offsets, lengths = (places.offsets, places.lengths) if places is not None else ((), ())
        kept, cut = len(buffer), 0  # the bytes the buffer holds memory for, and cut from it
        whole = raw = memoryview(buffer)
        strings: dict[str, str] = {}
        tag_sets: dict[bytes, dict[str, str] | None] = {}
        id_lists: dict[tuple[str | None, ...], list[str | None]] = {}
        share, tags_held, share_list = strings.setdefault, tag_sets.get, id_lists.get
        checked, tags = True, None
        for index in range(len(resources)):
            if places is None:
                raw = resources[index]
            else:
                start = offsets[index] - cut
                if start > kept // 2:  # cut: what is left is less than half
                    tags = None  # a view of the bytes, as `raw` and `whole`
                    raw.release()
                    whole.release()
                    del buffer[:start]
                    kept, cut, start = len(buffer), offsets[index], 0
                    whole = memoryview(buffer)
                raw = whole[start : start + lengths[index]]
            try:
                resource = decode(raw)
            except ValidationError:
                if decode is general:
                    raise
                decode = general  # a region or zone elsewhere, or what it does not take
                resource = decode(raw)
            if decode is general:
                region = resource.get("region")
                if region is not None:
                    resource["region"] = share(region, region)
                zone = resource.get("zone")
                if zone is not None:
                    resource["zone"] = share(zone, zone)
            tags = resource.get("tags")
            if tags is not None:  # empty ones too: most snapshots have no tags
                text = bytes(tags)
                held = tags_held(text, tags)
                if held is tags:
                    held = tag_sets[text] = decode_tags(text)
                resource["tags"] = held
            lists, records = shared[resource["kind"]]
            for name in lists:
                value = resource.get(name)
                if type(value) is list:
                    # The list itself held once: checked by the decoder, it holds strings
                    # and nulls alone, which nothing converts or marks in place (thousands
                    # of instances name the same one security group: 18 MB of lists of one
                    # at 100,000 instances).
                    key = tuple(value)
                    same = share_list(key)
                    if same is not None:
                        resource[name] = same
                        continue
                    for at, item in enumerate(value):
                        if type(item) is str:
                            value[at] = share(item, item)
                    id_lists[tuple(value)] = value  # keyed by the strings held once
            for name in records:
                record = resource.get(name)
                if type(record) is dict:
                    for field, string in record.items():
                        if type(string) is str:
                            record[field] = share(string, string)
                elif type(record) is list:  # of records, or of anything the store refuses
                    for entry in record:
                        if type(entry) is dict:
                            for field, string in entry.items():
                                if type(string) is str:
                                    entry[field] = share(string, string)
            if checked and "source" in resource and resource["source"] is not None:
                checked = False
            resources[index] = resource
        tags = None
        self.checked = checked
        if places is not None:
            raw.release()
            whole.release()
            del buffer[:]


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
