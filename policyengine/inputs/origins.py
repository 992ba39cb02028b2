"""Where a resource's values are in the user's own files.

An imported resource's `source` says where it came from: the file and JSON Pointer of
the resource (an aliyun response item, a Terraform plan's `after`), where each of its
values came from (`fields`: `/zone` -> `/Disks/Disk/3/ZoneId`, possibly in another file,
possibly another Terraform resource's), and the line of a `.tf` block that declares it.
`Origin.place` turns a pointer into the snapshot (`/resources/7/zone`, what evaluation
records) into that place in the user's file; a value the import made up without a place
of its own points at the nearest part that has one, and at worst at the resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Place:
    file: str
    pointer: str  # a JSON Pointer into `file`; "" for the whole document
    address: str | None = None  # the Terraform resource it is part of, when known
    declared: tuple[str, int] | None = None  # that resource's `.tf` file and line

    def uri(self) -> str:
        return f"{self.file}#{self.pointer}"


@dataclass(frozen=True, slots=True)
class Origin:
    """The places of one resource; `file` None means the snapshot file itself."""

    file: str | None
    pointer: str
    address: str | None
    fields: dict[str, Place]  # JSON Pointer below the resource -> its place
    declared: tuple[str, int] | None  # the `.tf` block, when the files were at hand

    @classmethod
    def of(cls, source: Any, snapshot_file: str) -> Origin | None:
        """The origin a resource's `source` gives, or None when it gives no place."""
        if not isinstance(source, dict) or not isinstance(source.get("pointer"), str):
            return None
        file = source.get("file") if isinstance(source.get("file"), str) else None
        address = source.get("address") if isinstance(source.get("address"), str) else None
        home = file or snapshot_file
        block = _block(source.get("declared"))
        fields: dict[str, Place] = {}
        for sub, place in (source.get("fields") or {}).items():
            if isinstance(place, dict) and isinstance(place.get("pointer"), str):
                other = place.get("address") if isinstance(place.get("address"), str) else None
                fields[sub] = Place(
                    place["file"] if isinstance(place.get("file"), str) else home,
                    place["pointer"],
                    other or address,
                    _block(place.get("declared")) if other else block,
                )
        return cls(file, source["pointer"], address, fields, block)

    def place(self, sub: str, snapshot_file: str) -> Place:
        """The place of the part `sub` (`/zone`, `/rules/0/port_range`, "" for the
        resource): the longest recorded prefix of it, else the resource's own."""
        probe = sub
        while True:
            found = self.fields.get(probe)
            if found is not None:
                return found
            if not probe:
                break
            probe = probe.rsplit("/", 1)[0]
        return Place(self.file or snapshot_file, self.pointer, self.address, self.declared)


def _block(declared: Any) -> tuple[str, int] | None:
    if not isinstance(declared, dict):
        return None
    file, line = declared.get("file"), declared.get("line")
    return (file, line) if isinstance(file, str) and isinstance(line, int) else None


def split(pointer: str) -> tuple[int, str] | None:
    """`/resources/7/zone` -> (7, "/zone"); None for a pointer outside `resources`."""
    parts = pointer.split("/", 3)
    if len(parts) < 3 or parts[0] or parts[1] != "resources" or not parts[2].isdigit():
        return None
    return int(parts[2]), ("/" + parts[3] if len(parts) == 4 else "")


def resolves(doc: Any, pointer: str) -> bool:
    """Whether the JSON Pointer names a value of the parsed document."""
    value = doc
    for token in pointer.split("/")[1:] if pointer else []:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return False
    return True
