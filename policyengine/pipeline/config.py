"""The configuration file: the options a repository gives every run, so that no command
line repeats them. `.policyengine.yaml` (or `.policyengine.yml`), or a
`[tool.policyengine]` table in `pyproject.toml`, found from the working directory upward
(the nearest wins), or named with `--config`.

Keys are the long options' names: `policies`, `params`, `params-file`, `waivers`,
`baseline`, `fail-on`, `fail-on-error`, `format`, `outputs`, `rules`, `skip-rules`,
`tags`, `min-severity`, `input-format`, `region`, `tf-dir`, `docs-url`. Paths are relative to the
file's folder. A value given on the command line wins over the file's, and the file's
over the default; `effective` says where each value came from. An unknown key, or a
value of the wrong type, is a diagnostic at its line and column (PE701), with the
nearest known key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policyengine.core import files, limits
from policyengine.core.diagnostics import Collector, DiagnosticError, did_you_mean
from policyengine.core.files import Confinement
from policyengine.core.semantics import Severity
from policyengine.core.source import Source, Span
from policyengine.frontend.loader import bundled_file

if TYPE_CHECKING:
    from policyengine.pipeline.config_model import Config, Scalar

NAMES = (".policyengine.yaml", ".policyengine.yml")
PYPROJECT = "pyproject.toml"
TABLE = "tool.policyengine"


class FailOn(StrEnum):
    """The lowest severity that fails a run; `none`: report, never fail on findings."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    NONE = "none"


PATH_KEYS = ("policies", "params-file", "waivers", "baseline", "outputs", "tf-dir")


class ConfigError(DiagnosticError):
    """A configuration file that is not valid: its diagnostics point into the file."""


@dataclass(frozen=True)
class Loaded:
    """A configuration file read: its values (paths resolved against its folder) and
    where each key is, for `policyengine config` and for diagnostics."""

    file: Path
    config: Config
    lines: Mapping[str, int]  # key -> its line in the file

    def values(self) -> dict[str, Any]:
        """Set keys -> values, paths relative to the working directory when inside it."""
        raw = self.config.model_dump(by_alias=True, exclude_none=True)
        return {key: _resolve(self.file.parent, key, value) for key, value in raw.items()}

    def origin(self, key: str) -> str:
        return f"{self.file}:{self.lines.get(key, 1)}"


def find(start: Path) -> Path | None:
    """The nearest configuration file at or above `start`: a `.policyengine.yaml` (or
    .yml), or a pyproject.toml with a [tool.policyengine] table."""
    for folder in (start, *start.parents):
        for name in NAMES:
            if (folder / name).is_file():
                return folder / name
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_table(pyproject):
            return pyproject
    return None


def confinement(found: Path) -> Confinement:
    """Where a file `find` found must resolve: its own folder or the working directory. A
    committed `.policyengine.yaml -> /etc/passwd` (or `-> /proc/self/environ`) is refused,
    never read nor echoed in a message."""
    return Confinement.of([found.parent])


def _has_table(path: Path) -> bool:
    try:
        text = files.read_text(path, limits.current().input_bytes, confinement(path))
    except files.Refused:
        return True  # found: reading it again says why it is refused, and the run stops
    except (OSError, UnicodeDecodeError, files.TooLarge):
        return False
    return bool(re.search(r"^\s*\[tool\.policyengine(\.[\w-]+)?\]", text, re.M))


def read(path: Path, text: str) -> Loaded:
    """Parses a configuration file's text. Raises DiagnosticError (PE701) with every
    problem: not YAML or TOML, not a mapping, unknown keys, values of the wrong type."""
    # The model is pydantic's: imported only where there is a file to read.
    from pydantic import ValidationError

    from policyengine.pipeline.config_model import KEYS, Config

    source = Source(str(path), text)
    diags = Collector()
    if path.name == PYPROJECT:
        raw, places = _toml(source, diags)
    else:
        raw, places = _yaml(source, diags)
    if diags:
        raise ConfigError(list(diags))
    for key in raw:
        if key not in KEYS:
            hint = did_you_mean(key, KEYS)
            diags.error(
                "PE701",
                f"unknown key `{key}`",
                places.get(key, Span(source, 0, 0)),
                "not a configuration key",
                help=hint or "expected one of " + ", ".join(f"`{k}`" for k in KEYS),
            )
    if diags:
        raise ConfigError(list(diags))
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else ""
            inner = "".join(f"[{part!r}]" for part in error["loc"][1:])
            diags.error(
                "PE701",
                f"`{key}{inner}`: {error['msg'].lower()}",
                places.get(key, Span(source, 0, 0)),
                "here",
                help=_expected(key),
            )
        raise ConfigError(list(diags)) from None
    lines = {key: span.line for key, span in places.items()}
    return Loaded(path, config, lines)


_EXPECTED = {
    "policies": "a list of policy files or folders",
    "params": "a mapping of NAME (or POLICY.NAME) to a value",
    "outputs": "a mapping of FORMAT to PATH, e.g. `sarif: results.sarif`",
    "rules": "a list of rule ids or globs",
    "skip-rules": "a list of rule ids or globs",
    "tags": "a list of tags",
    "fail-on": "one of " + ", ".join(f"`{f}`" for f in FailOn),
    "min-severity": "one of " + ", ".join(f"`{s}`" for s in Severity),
    "fail-on-error": "`true` or `false`",
}


def _expected(key: str) -> str:
    return f"`{key}` takes {_EXPECTED[key]}" if key in _EXPECTED else f"`{key}` takes a text"


def _yaml(source: Source, diags: Collector) -> tuple[dict[str, Any], dict[str, Span]]:
    import yaml  # only for a YAML configuration file

    try:
        root = yaml.compose(source.text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source.text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = mark.index if mark is not None else 0
        diags.error("PE701", f"not valid YAML: {exc.problem or exc.context}", Span(source, at, at))
        return {}, {}
    except yaml.YAMLError as exc:
        diags.error("PE701", f"not valid YAML: {exc}", Span(source, 0, 0))
        return {}, {}
    if root is None:
        return {}, {}
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        at = root.start_mark.index
        diags.error(
            "PE701",
            "expected a mapping of options, e.g. `fail-on: high`",
            Span(source, at, max(at, root.end_mark.index)),
            "not a mapping",
        )
        return {}, {}
    places = {
        str(k.value): Span(source, k.start_mark.index, k.end_mark.index) for k, _ in root.value
    }
    return {str(k): v for k, v in data.items()}, places


def _toml(source: Source, diags: Collector) -> tuple[dict[str, Any], dict[str, Span]]:
    import tomllib  # imported when a configuration file is TOML: most runs have none

    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        diags.error("PE701", f"not valid TOML: {exc}", Span(source, 0, 0))
        return {}, {}
    table = data.get("tool", {}).get("policyengine", {})
    if not isinstance(table, dict):
        diags.error("PE701", "`tool.policyengine` must be a table", Span(source, 0, 0))
        return {}, {}
    return table, _toml_places(source, table)


def _toml_places(source: Source, table: Mapping[str, Any]) -> dict[str, Span]:
    """Where each key of [tool.policyengine] is written: `key = ...` lines in that table,
    or a `[tool.policyengine.key]` sub-table's header (tomllib keeps no positions)."""
    places: dict[str, Span] = {}
    current = ""
    offset = 0
    for line in source.text.splitlines(keepends=True):
        header = re.match(r"\s*\[\s*([\w.\"-]+)\s*\]", line)
        if header:
            current = header.group(1).replace('"', "")
            if current.startswith(TABLE + "."):
                key = current[len(TABLE) + 1 :].split(".")[0]
                start = offset + line.index(key)
                places.setdefault(key, Span(source, start, start + len(key)))
        elif current == TABLE:
            assign = re.match(r"(\s*)\"?([\w-]+)\"?\s*=", line)
            if assign and assign.group(2) in table:
                start = offset + len(assign.group(1))
                places.setdefault(
                    assign.group(2), Span(source, start, start + len(assign.group(2)))
                )
        offset += len(line)
    return places


def _resolve(folder: Path, key: str, value: Any) -> Any:
    """Paths in the file are relative to its folder."""
    if key not in PATH_KEYS:
        return value
    if key == "policies":
        return [v if _bundled(folder, v) else _path(folder, v) for v in value]
    if key == "outputs":
        return {fmt: _path(folder, v) for fmt, v in value.items()}
    return _path(folder, value)


def _bundled(folder: Path, value: str) -> bool:
    """`alicloud/governance.policy`: a bundled pack named by its path inside the packs'
    folder, where the file's own folder holds no such path; kept as written."""
    return not (folder / value).exists() and bundled_file(Path(value), (".policy",)) is not None


def _path(folder: Path, value: str) -> str:
    path = Path(value) if Path(value).is_absolute() else folder / value
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)


# ---------------------------------------------------------------- the effective settings


@dataclass(frozen=True)
class Setting:
    value: Any
    origin: str  # "command line", "default", or FILE:LINE of the configuration file


COMMAND_LINE = "command line"
DEFAULT = "default"


def effective(
    given: Mapping[str, Any], defaults: Mapping[str, Any], loaded: Loaded | None
) -> dict[str, Setting]:
    """Each key's value and where it came from: the command line (`given`: only what was
    given there) wins over the file, the file over `defaults`."""
    from_file = loaded.values() if loaded is not None else {}
    out: dict[str, Setting] = {}
    for key in (*defaults, *(k for k in from_file if k not in defaults)):
        if key in given:
            out[key] = Setting(given[key], COMMAND_LINE)
        elif key in from_file:
            assert loaded is not None
            out[key] = Setting(from_file[key], loaded.origin(key))
        else:
            out[key] = Setting(defaults.get(key), DEFAULT)
    return out


def params_args(params: Mapping[str, Scalar]) -> list[str]:
    """The file's `params` as `--param NAME=VALUE` texts (true/false as the language
    writes them)."""
    return [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in params.items()]


def output_args(outputs: Mapping[str, str]) -> list[str]:
    return [f"{fmt}={path}" for fmt, path in outputs.items()]


def render_text(settings: Mapping[str, Setting], file: Path | None) -> str:
    """`policyengine config`: one line per key, its value and where it came from."""
    head = f"configuration file: {file}" if file is not None else "configuration file: none found"
    width = max((len(k) for k in settings), default=0)
    lines = [head, ""]
    for key, setting in settings.items():
        lines.append(f"{key:<{width}}  {_show(setting.value):<30}  ({setting.origin})")
    return "\n".join(lines)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items()) or "-"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return ", ".join(_show(v) for v in value) or "-"
    return str(value)


def to_json(settings: Mapping[str, Setting], file: Path | None) -> dict[str, Any]:
    return {
        "file": None if file is None else str(file),
        "settings": {k: {"value": s.value, "origin": s.origin} for k, s in settings.items()},
    }
