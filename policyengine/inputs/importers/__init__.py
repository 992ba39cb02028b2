"""Inputs -> the normalized snapshot the engine evaluates, one module per source.

`read` takes a file, a folder or stdin and an `--input-format` (`auto` detects it from
the content), runs the importer and returns the snapshot with a sentence saying what was
read. Importers know nothing of rules, and the engine nothing of sources: an importer
only makes a document of the snapshot format (`policyengine snapshot schema`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from policyengine.core import model
from policyengine.core.errors import InputError, MissingInput, Problem
from policyengine.core.files import FileText
from policyengine.inputs import projection
from policyengine.inputs.importers import aliyun, normalized, operations, terraform
from policyengine.inputs.importers.base import Converted, Importer, Input, Options
from policyengine.inputs.reads import Reads
from policyengine.inputs.snapshot import (
    Snapshot,
    UnknownValue,
    holds_unknown,
    load_json,
    may_spell_unknown,
    parse_document,
    read_input,
)
from policyengine.inputs.store import Store

__all__ = [
    "AUTO",
    "EXPECTED",
    "FORMATS",
    "FORMATS_HELP",
    "IMPORTERS",
    "Converted",
    "Input",
    "MissingInput",
    "Options",
    "Read",
    "UnknownValue",
    "detect",
    "operations",
    "parse_document",
    "read",
    "to_store",
]

IMPORTERS: dict[str, Importer] = {
    i.name: i
    for i in (
        normalized.IMPORTER,
        aliyun.IMPORTER,
        terraform.PLAN_IMPORTER,
        terraform.STATE_IMPORTER,
    )
}
AUTO = "auto"  # tell the format by the content
FORMATS = (AUTO, *IMPORTERS)  # the --input-format choices


def _listed(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else "".join(words)


# What each format is, for the --input-format help and for input that is none of them.
FORMATS_HELP = (
    _listed([f"{i.title} ({i.name})" for i in IMPORTERS.values()])
    + "; a folder is read as "
    + _listed([i.title for i in IMPORTERS.values() if i.folders])
    + "."
)
EXPECTED = _listed([f"{i.title} ({i.looks})" for i in IMPORTERS.values()])


@dataclass(frozen=True)
class Read:
    snapshot: Snapshot
    converted: Converted
    detected: str  # how the format was chosen, for --verbose


def detect(source: Input) -> tuple[Importer, str]:
    """The importer for an input, by its content, and why."""
    if source.is_dir:
        for importer in IMPORTERS.values():
            if importer.folders:
                return importer, f"a folder is read as {importer.title}"
    for importer in IMPORTERS.values():
        why = importer.detect(source.data)
        if why:
            return importer, why
    raise InputError(
        [
            Problem(
                source.name,
                "",
                f"not an input policyengine reads: expected {EXPECTED}; found "
                + _shape(source.data),
            )
        ]
    )


def read(
    path: Path,
    fmt: str,
    m: model.Model,
    options: Options,
    stdin: str | None = None,
    reads: Reads = None,
) -> Read:
    """A file, folder or `-` (stdin, or `stdin` when the caller read it already) -> the
    normalized snapshot. Raises InputError. With `reads` (what the rules read, see
    `inputs.reads`), a large snapshot file keeps those fields alone: the document is then
    not the whole file, and serves evaluation only."""
    text: str | None = None
    projected: projection.Projected | None = None
    if str(path) == "-":
        text = read_input(None, "<stdin>") if stdin is None else stdin
        source = Input("<stdin>", None, load_json(text, "<stdin>"))
    elif path.is_dir():
        source = Input(str(path), path)
    elif path.exists():  # a device or FIFO is refused by name, not called missing
        if reads is not None and fmt in (AUTO, normalized.IMPORTER.name):
            projected = projection.read(path, str(path), reads, m)
        if projected is not None:
            source = Input(str(path), path, projected.document)
        else:
            text = read_input(path, str(path))
            source = Input(str(path), path, load_json(text, str(path)))
    else:
        raise MissingInput(f"no such snapshot file: {path}")
    if fmt == AUTO:
        importer, why = detect(source)
        detected = f"{source.name}: read as {importer.title} ({why})"
    else:
        importer = IMPORTERS[fmt]
        if source.is_dir and not importer.folders:
            raise InputError(
                [Problem(source.name, "", f"a folder cannot be read as {importer.title}")]
            )
        detected = f"{source.name}: read as {importer.title} (--input-format {fmt})"
    converted = importer.convert(source, m, options)
    unknowns = converted.unknowns
    kept: str | FileText = ""
    if projected is not None and importer.name == "snapshot":
        unknowns, kept = projected.unknowns, projected.text
    elif importer.name == "snapshot":
        # Told from the parsed data, whatever escapes the text spells the key with; a
        # text that cannot spell it is not walked.
        unknowns = (text is None or may_spell_unknown(text)) and holds_unknown(converted.document)
        # A normalized snapshot file keeps its text: findings can then point at its lines.
        kept = text if source.path is not None and text else ""
    origins = _origins(converted, source, text if importer.name != "snapshot" else None)
    as_projected = projected is not None and importer.name == "snapshot"
    checked = as_projected and projected is not None and projected.checked
    typed = projected.typed if as_projected and projected is not None else frozenset()
    snapshot = parse_document(
        converted.document,
        source.name,
        unknowns=unknowns,
        text=kept,
        origins=origins,
        checked=checked,
        typed=typed,
    )
    return Read(snapshot, converted, detected)


def _origins(converted: Converted, source: Input, text: str | None) -> dict[str, str]:
    """The texts of the files the resources came from, by name, so that findings can point
    at their lines: the input file itself, or the files of a folder its resources name."""
    if source.path is None:
        return {}
    if not source.is_dir:
        return {source.name: text} if text else {}
    names: set[str] = set()
    for resource in converted.document.get("resources", []):
        place = resource.get("source") if isinstance(resource, dict) else None
        if not isinstance(place, dict):
            continue
        names.add(str(place.get("file") or ""))
        for inner in (place.get("fields") or {}).values():
            if isinstance(inner, dict) and inner.get("file"):
                names.add(str(inner["file"]))
    prefix = source.name.rstrip("/") + "/"
    out: dict[str, str] = {}
    for name in sorted(names):
        if name.startswith(prefix):  # a file of the folder the user gave, read again
            out[name] = read_input(source.path / name[len(prefix) :], name)
    return out


def _shape(data: object) -> str:
    if isinstance(data, dict):
        keys = list(data)[:6]
        return "an object with keys " + ", ".join(f"`{k}`" for k in keys) if keys else "{}"
    if isinstance(data, list):
        return f"an array of {len(data)} items"
    return type(data).__name__


def to_store(
    snapshot: Snapshot, m: model.Model, now: datetime | None = None, reads: Reads = None
) -> Store:
    """The store of an imported snapshot. A problem the model finds in a converted
    resource is told where that resource came from: the input file and JSON path. `now`
    overrides the capture time that `now()` in a rule reads; `reads` names the attributes
    checked (by default every declared one: see `Store`)."""
    try:
        return Store(snapshot, m, now, reads)
    except InputError as exc:
        raise InputError([_locate(p, snapshot) for p in exc.problems]) from None


def _locate(problem: Problem, snapshot: Snapshot) -> Problem:
    parts = problem.pointer.split("/")
    if len(parts) < 3 or parts[1] != "resources" or not parts[2].isdigit():
        return problem
    index = int(parts[2])
    if index >= len(snapshot.resources):
        return problem
    source = snapshot.resources[index].get("source")
    if not isinstance(source, dict):
        return problem
    attribute = "/".join(parts[3:])
    where = f" (its `{attribute}`)" if attribute else ""
    if source.get("address"):
        where = f" ({source['address']}" + (f", `{attribute}`)" if attribute else ")")
    return Problem(
        str(source.get("file") or problem.file),
        str(source.get("pointer") or ""),
        problem.message + where,
    )
