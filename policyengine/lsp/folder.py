"""One check of a folder as an editor has it: every policy and model file of the folder,
parsed and checked by the loader's front end with the editor's unsaved text, and the
diagnostics `check` reports, by file. Every question an editor asks reads this.

Positions in the `lsp` modules are character offsets into a file's text; the server
converts them to and from the editor's lines and UTF-16 columns. Nothing here raises on
half-typed text: an answer the text cannot give is empty."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from policyengine.core import model
from policyengine.core.diagnostics import Diagnostic
from policyengine.core.errors import InputError, UsageError
from policyengine.frontend import ast
from policyengine.frontend.lint import check_diagnostics
from policyengine.frontend.loader import Front, bundled_root, display_name, front

SUFFIXES = (".policy", ".model")


def folder_files(path: Path) -> list[Path]:
    """The policy and model files checked together with `path`: those of its folder."""
    try:
        found = [p for p in path.parent.iterdir() if p.suffix in SUFFIXES and p.is_file()]
    except OSError:
        found = []
    if path not in found:
        found.append(path)
    return sorted(found)


@dataclass
class Analysis:
    """One check of a folder: every file's tree and the diagnostics of each file."""

    front: Front | None
    texts: dict[Path, str]
    diagnostics: dict[Path, list[Diagnostic]] = field(default_factory=dict)
    trouble: str = ""  # why the folder could not be checked at all (a bad params file)

    def tree(self, path: Path) -> ast.File | None:
        return self.front.files.get(path) if self.front is not None else None

    @property
    def vocabulary(self) -> model.Model | None:
        return self.front.vocabulary if self.front is not None else None


def analyse(path: Path, overlay: Mapping[Path, str]) -> Analysis:
    """Parse and check the folder of `path`, with the editor's text where it has one."""
    paths = folder_files(path)
    texts: dict[Path, str] = {}
    for p in paths:
        if p.resolve() in overlay:
            texts[p] = overlay[p.resolve()]
        else:
            try:
                texts[p] = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                texts[p] = ""
    try:
        checked = front(paths, overlay=overlay)
    except (UsageError, InputError) as exc:
        return Analysis(None, texts, {p: [] for p in paths}, str(exc))
    by_file: dict[Path, list[Diagnostic]] = {p: [] for p in paths}
    names = {display_name(p): p for p in paths}
    for d in check_diagnostics(checked):
        owner = names.get(d.span.file)
        if owner is not None:
            by_file[owner].append(d)
    return Analysis(checked, texts, by_file)


def file_of(name: str) -> Path:
    """The file a diagnostic or a span names, as the loader displays it: bundled files
    relative to the packs' folder, others relative to the working directory."""
    path = Path(name)
    if path.is_absolute():
        return path
    if name.startswith("policies"):
        bundled = bundled_root().parent / path
        if bundled.is_file():
            return bundled.resolve()
    return path.resolve()


def is_bundled(path: Path) -> bool:
    """A file of the installed packs: read, never edited by a quick fix."""
    return path.resolve().is_relative_to(bundled_root().resolve())
