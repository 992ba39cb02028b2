"""Where each resource sits in a snapshot's JSON text, for outputs that point at lines.

`json.loads` forgets positions, so the text is read once more, when a finding first
asks for a place in it: where each element of the top-level `resources` array starts
(in a large text, msgspec skips each resource in C without building it); the members of a
resource (`/resources/8/zone`) are found when a finding first points into it.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import accumulate
from typing import Any, overload

from policyengine.core.files import FileText
from policyengine.core.source import Source

_WS = re.compile(r"[ \t\r\n]*")
# Parsed resources kept for the places asked of them: a finding's facts point into its
# resource and its target in turn, a report's findings go in snapshot order.
_PARSED_KEPT = 64


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


class Positions:
    """JSON Pointer -> 1-based (line, column), for resources and their members."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._members: dict[int, dict[str, int]] = {}  # walked when first asked

    @cached_property
    def _starts(self) -> list[int]:
        """The offset of each resource, found when a position is first asked for."""
        return _resource_starts(self.source.text)

    def resource(self, index: int) -> object:
        """The parsed JSON of the resource at `index` (None when the text has no such
        resource); read from its place in the text, so it costs that resource alone."""
        if not 0 <= index < len(self._starts):
            return None
        try:
            return _DECODER.raw_decode(self.source.text, self._starts[index])[0]
        except ValueError:
            return None

    def find(self, pointer: str) -> tuple[int, int] | None:
        """The position of `/resources/N` or `/resources/N/KEY...` (the nearest of the
        two that is known); None for a pointer outside `resources`."""
        parts = pointer.split("/")
        if len(parts) < 3 or parts[0] or parts[1] != "resources" or not parts[2].isdigit():
            return None
        index = int(parts[2])
        if index >= len(self._starts):
            return None
        offset = self._starts[index]
        if len(parts) > 3:
            if index not in self._members:
                self._members[index] = _members(self.source.text, offset)
            offset = self._members[index].get(parts[3], offset)
        return self.source.line_col(offset)


_DECODER = json.JSONDecoder()


def _skip(text: str, i: int) -> int:
    """The offset of the next character that is not whitespace."""
    m = _WS.match(text, i)
    return m.end() if m else i


def locate(source: Source, pointer: str) -> tuple[int, int] | None:
    """The position of any JSON Pointer in a text (`/resource_changes/2/change/after`): a
    walk down the pointer alone, skipping what it passes over with json's own scanner.
    None when the text does not hold it."""
    text = source.text
    try:
        i = _skip(text, 0)
        for token in pointer.split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            if text[i] == "{":
                i = _skip(text, i + 1)
                while True:
                    if text[i] != '"':
                        return None
                    key, i = _DECODER.raw_decode(text, i)
                    i = _skip(text, i)
                    i = _skip(text, i + 1)  # the ':'
                    if key == token:
                        break
                    i = _skip(text, _DECODER.raw_decode(text, i)[1])
                    if text[i] != ",":
                        return None
                    i = _skip(text, i + 1)
            elif text[i] == "[" and token.isdigit():
                i = _skip(text, i + 1)
                for _ in range(int(token)):
                    i = _skip(text, _DECODER.raw_decode(text, i)[1])
                    if text[i] != ",":
                        return None
                    i = _skip(text, i + 1)
                if text[i] == "]":
                    return None
            else:
                return None
    except (IndexError, ValueError):
        return None
    return source.line_col(i)


_BETWEEN = re.compile(r"[ \t\r\n]*,?[ \t\r\n]*")
_OPENING = re.compile(r'"resources"[ \t\r\n]*:[ \t\r\n]*\[[ \t\r\n]*\Z')


# From this length on, a text's resources are found by msgspec (`_raw_starts`): below it,
# importing msgspec (about 30 ms) costs more than the scan it saves (about 9 ms a MB).
_RAW_FROM = 1 << 20


def _resource_starts(text: str) -> list[int]:
    """The offset of each element of the top-level `resources` array."""
    # ASCII: then msgspec's byte offsets are offsets in the text.
    if len(text) >= _RAW_FROM and text.isascii():
        found = _raw_starts(text)
        if found is not None:
            return found
    return _scanned_starts(text)


def _raw_starts(text: str) -> list[int] | None:
    """The resources' offsets from their lengths, as msgspec finds each resource's text
    without decoding it (a twentieth of the scan below). None where the text is not laid
    out as that finding expects (then the scan below decides)."""
    import msgspec

    try:
        raws: list[Any] = msgspec.json.decode(text, type=_resources_type()).resources
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if not raws:
        return None
    # The first resource is where its text first appears after `"resources": [`: an
    # object's text (it has a quoted key) cannot appear inside a string, nor a resource
    # in the envelope's other members; each next one follows a comma, and the last the
    # closing bracket.
    at = text.find(bytes(raws[0]).decode("ascii"))
    if at < 0 or not _OPENING.search(text, 0, at):
        return None
    starts: list[int] = []
    last = len(raws) - 1
    for i, raw in enumerate(raws):
        starts.append(at)
        end = at + len(raw)
        found = _BETWEEN.match(text, end)
        at = found.end() if found is not None else end
        if ("," in text[end:at]) != (i < last):
            return None
    return starts if text[at : at + 1] == "]" else None


@cache
def _resources_type() -> type:
    """A document's `resources` alone, each left as its text (`msgspec.Raw`)."""
    import msgspec

    return msgspec.defstruct("resources", [("resources", list[msgspec.Raw], [])])


def _scanned_starts(text: str) -> list[int]:
    """The offset of each element of the top-level `resources` array. The values are
    skipped by json's own scanner, so the walk costs about what loading the text did.
    A text that is not JSON yields what was found before it broke: positions are a
    courtesy, and the snapshot was validated when it was loaded."""
    starts: list[int] = []
    try:
        i = _skip(text, 0)
        if text[i] != "{":
            return starts
        i = _skip(text, i + 1)
        while text[i] == '"':
            key, i = _DECODER.raw_decode(text, i)
            i = _skip(text, i)
            if text[i] != ":":
                break
            i = _skip(text, i + 1)
            if key == "resources" and text[i] == "[":
                i = _skip(text, i + 1)
                while text[i] != "]":
                    starts.append(i)
                    i = _skip(text, _DECODER.raw_decode(text, i)[1])
                    if text[i] == ",":
                        i = _skip(text, i + 1)
                i += 1
            else:
                i = _DECODER.raw_decode(text, i)[1]
            i = _skip(text, i)
            if text[i] != ",":
                break
            i = _skip(text, i + 1)
    except (IndexError, ValueError):
        pass
    return starts


def _members(text: str, i: int) -> dict[str, int]:
    """Escaped member name -> offset of its key, for the object at `i`."""
    out: dict[str, int] = {}
    try:
        if text[i] != "{":
            return out
        i = _skip(text, i + 1)
        while text[i] == '"':
            start = i
            key, i = _DECODER.raw_decode(text, i)
            out[_escape(key)] = start
            i = _skip(text, i)
            if text[i] != ":":
                break
            i = _skip(text, _DECODER.raw_decode(text, _skip(text, i + 1))[1])
            if text[i] != ",":
                break
            i = _skip(text, i + 1)
    except (IndexError, ValueError):
        pass
    return out


@dataclass(frozen=True, eq=False)
class ResourcePlaces:
    """Where each resource of a snapshot file starts, found while the file was decoded:
    its byte offset and length, and the 1-based line and column (in characters) of its
    start. Kept instead of the text (four numbers a resource, not its bytes)."""

    offsets: array[int]
    lengths: array[int]
    lines: array[int]
    columns: array[int] | Following


@dataclass(frozen=True)
class Following(Sequence[int]):
    """The columns of resources that all start on the first line of an ASCII text: one
    past each offset, told when asked for (an array of them was a fifth of the time of
    finding the places of a 177 MB file on one line)."""

    offsets: array[int]

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> list[int]: ...
    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return [offset + 1 for offset in self.offsets[index]]
        return self.offsets[index] + 1

    def __len__(self) -> int:
        return len(self.offsets)


_BETWEEN_BYTES = re.compile(rb"[ \t\r\n]*,?[ \t\r\n]*")
_OPENING_BYTES = re.compile(rb'"resources"[ \t\r\n]*:[ \t\r\n]*\[[ \t\r\n]*\Z')
_COMMA, _SPACES = ord(","), frozenset(b" \t\r\n")


def places_from(
    buffer: bytes | bytearray, first: bytes, lengths: array[int], is_ascii: bool | None = None
) -> ResourcePlaces | None:
    """The places of the resources of a snapshot file's bytes (valid JSON, as decoded),
    found as `_raw_starts` finds them in a text, from what the decoding of the resources
    found already: the text of the first (`msgspec.Raw`) and the length of each (best in
    numbers of `number_code`, not converted). None where the text is not laid out as
    that finding expects (then the text is read again whole when a line is asked for).
    `is_ascii`: whether the bytes are ASCII, when the caller looked already."""
    at = buffer.find(first)
    if at < 0 or not _OPENING_BYTES.search(buffer, 0, at):
        return None
    code = number_code(buffer)
    if lengths.typecode != code:
        lengths = array(code, lengths)
    offsets = _compact(at, lengths, buffer)
    if offsets is not None:
        return _lines(buffer, offsets, lengths, is_ascii)
    offsets = array(code)
    last, size = len(lengths) - 1, len(buffer)
    match = _BETWEEN_BYTES.match
    for i, length in enumerate(lengths):
        offsets.append(at)
        end = at + length
        if end + 1 < size and buffer[end] == _COMMA and buffer[end + 1] not in _SPACES:
            at = end + 1  # the compact layout: `},{`
            if i == last:
                return None
            continue
        found = match(buffer, end)
        at = found.end() if found is not None else end
        if (b"," in buffer[end:at]) != (i < last):
            return None
    if buffer[at : at + 1] != b"]":
        return None
    return _lines(buffer, offsets, lengths, is_ascii)


def _compact(first: int, lengths: array[int], buffer: bytes | bytearray) -> array[int] | None:
    """The offsets of resources laid out `},{` (one comma between each, as a compact
    writer writes them), told in C: valid JSON, and the resources and their commas span
    exactly from the first to the closing bracket, leave no room for anything else
    between them. None for any other layout."""
    end = first + sum(lengths) + len(lengths) - 1
    if buffer[end : end + 1] != b"]":
        return None
    return array(lengths.typecode, accumulate(map((1).__add__, lengths[:-1]), initial=first))


def number_code(buffer: bytes | bytearray) -> str:
    """The type of the numbers of places in `buffer`: four bytes each where every offset
    fits (a file under 4 GB), half the memory of eight (7 MB at 100,000 instances)."""
    return "I" if len(buffer) < 1 << 32 else "q"


def _lines(
    buffer: bytes | bytearray,
    offsets: array[int],
    lengths: array[int],
    is_ascii: bool | None = None,
) -> ResourcePlaces:
    """The places of resources at `offsets`: their lines and columns (in characters)."""
    code = offsets.typecode
    if is_ascii is None:
        is_ascii = buffer.isascii()
    # Whether a newline is found by `memchr` (`in`): counted, they took twenty times as
    # long (0.1 s of a 177 MB file on one line).
    newlines = b"\n" in buffer
    if not newlines and is_ascii:  # one line: the column is the offset
        lines = array(code, [1]) * len(offsets)
        return ResourcePlaces(offsets, lengths, lines, Following(offsets))
    lines, columns = array(code), array(code)
    line, line_start, previous, column = 1, 0, 0, 1
    for offset in offsets:
        if newlines:
            crossed = buffer.count(b"\n", previous, offset)
            if crossed:
                line += crossed
                line_start = buffer.rfind(b"\n", previous, offset) + 1
                column = 1
                previous = line_start
        if is_ascii:
            column = offset - line_start + 1
        else:  # characters, as a text's offsets count them
            column += len(bytes(buffer[previous:offset]).decode("utf-8"))
        previous = offset
        lines.append(line)
        columns.append(column)
    return ResourcePlaces(offsets, lengths, lines, columns)


class FilePositions:
    """`Positions` of a snapshot file whose text is not kept: each resource's start from
    its places, and the text of a resource a finding points into read again from the
    file (None where the file changed since)."""

    def __init__(self, file: FileText, places: ResourcePlaces, wanted: Iterable[int] = ()) -> None:
        self.file = file
        self.places = places
        self._texts: dict[int, str | None] = {}
        self._members: dict[int, dict[str, int]] = {}
        # The resources findings point into, read together when the first is asked for.
        self._wanted = {i for i in wanted if 0 <= i < len(places.offsets)}
        self._parsed: dict[int, object] = {}  # the last resources parsed (a few)

    def _text(self, index: int) -> str | None:
        if index not in self._texts:
            places = self.places
            # Not `- self._texts.keys()`: a set less a dict's keys walks every key, and a
            # report that places every outcome (JUnit) asks for each resource in turn.
            texts = self._texts
            batch = sorted(i for i in {index, *self._wanted} if i not in texts)
            self._wanted = set()
            spans = [(places.offsets[i], places.lengths[i]) for i in batch]
            self._texts.update(zip(batch, self.file.parts(spans), strict=True))
        return self._texts[index]

    def resource(self, index: int) -> object:
        if not 0 <= index < len(self.places.offsets):
            return None
        if index in self._parsed:  # a finding asks of the same few resources in turn
            return self._parsed[index]
        text = self._text(index)
        try:
            found = None if text is None else json.loads(text)
        except ValueError:
            found = None
        if len(self._parsed) >= _PARSED_KEPT:
            self._parsed.clear()
        self._parsed[index] = found
        return found

    def find(self, pointer: str) -> tuple[int, int] | None:
        parts = pointer.split("/")
        if len(parts) < 3 or parts[0] or parts[1] != "resources" or not parts[2].isdigit():
            return None
        index = int(parts[2])
        if index >= len(self.places.offsets):
            return None
        line, column = self.places.lines[index], self.places.columns[index]
        if len(parts) <= 3:
            return line, column
        text = self._text(index)
        if text is None:
            return None
        if index not in self._members:
            self._members[index] = _members(text, 0)
        offset = self._members[index].get(parts[3])
        if offset is None:
            return line, column
        crossed = text.count("\n", 0, offset)
        if not crossed:
            return line, column + offset
        return line + crossed, offset - text.rfind("\n", 0, offset)


def positions_of(
    text: str | FileText, name: str, wanted: Iterable[int] = ()
) -> Positions | FilePositions | None:
    """Where resources sit in a snapshot file: from its text, or from the places found
    while it was decoded (reading again only the resources asked for, the `wanted` ones
    together), or from its text read again; None when there is no text to point into."""
    if isinstance(text, FileText):
        if text.places is not None:
            return FilePositions(text, text.places, wanted)
        text = text.text() or ""
    return Positions(Source(name, text)) if text else None
