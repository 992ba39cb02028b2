"""What every importer takes and returns: an input (a file's parsed JSON, or a folder),
options from the command line, and the normalized snapshot document it made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyengine.core import model


@dataclass(frozen=True)
class Input:
    name: str  # as messages name it: the path as given, or "<stdin>"
    path: Path | None  # the file or folder; None for stdin
    data: Any = None  # the parsed JSON of a file; None for a folder

    @property
    def is_dir(self) -> bool:
        return self.path is not None and self.path.is_dir()


@dataclass(frozen=True)
class Options:
    region: str | None = None  # the region of a single response that does not say it
    tf_dir: Path | None = None  # where a Terraform plan's `.tf` files are (else beside it)


@dataclass(frozen=True)
class Converted:
    document: dict[str, Any]  # the normalized snapshot: {"resources": [...], ...}
    format: str  # the importer's name
    summary: str  # what was read, in a sentence (printed with --verbose)
    unknowns: bool = False  # whether the document holds `{"$unknown": ...}` values
    notes: tuple[str, ...] = field(default=())  # what was detected, and from what


@dataclass(frozen=True)
class Importer:
    name: str  # the --input-format value
    title: str  # what a person calls the input
    # Content-based detection: why a parsed JSON document looks like this input, or None.
    detect: Callable[[Any], str | None]
    convert: Callable[[Input, model.Model, Options], Converted]
    # What marks the input, for the messages that list the formats: "`resources`".
    looks: str = ""
    folders: bool = False  # whether a folder of files is read as this input
