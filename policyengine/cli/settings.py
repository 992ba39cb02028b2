"""The configuration file on the command line: its values under a command's options
(an option given on the command line wins), and `policyengine config`, which shows the
effective values and where each came from."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from policyengine.cli import console
from policyengine.cli.app import ExitCode, app
from policyengine.cli.failure import fail
from policyengine.cli.options import Color, ColorOpt, ConfigOpt, NoConfigOpt
from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.errors import InputError, UsageError
from policyengine.inputs.files import read_text
from policyengine.pipeline import config

# Configuration key -> the name of the `evaluate` parameter it sets.
PARAMETERS: dict[str, str] = {
    "policies": "policy",
    "params": "param",
    "params-file": "params_file",
    "waivers": "waivers",
    "baseline": "baseline",
    "fail-on": "fail_on",
    "fail-on-error": "fail_on_error",
    "format": "fmt",
    "outputs": "output",
    "rules": "rule",
    "skip-rules": "skip_rule",
    "tags": "tag",
    "min-severity": "min_severity",
    "input-format": "input_format",
    "region": "region",
    "tf-dir": "tf_dir",
    "docs-url": "docs_url",
}


def read_config(given: Path | None, no_config: bool) -> config.Loaded | None:
    """The file named with --config, else the nearest one found; None with --no-config."""
    if no_config:
        return None
    path = given if given is not None else config.find(Path.cwd())
    if path is None:
        return None
    # A file named with --config may be anywhere; one found must stay where it was found.
    confine = None if given is not None else config.confinement(path)
    return config.read(path, read_text(path, "configuration file", confine))


def _as_option(key: str, value: Any) -> Any:
    """A file's value in the form the option takes."""
    match key:
        case "policies":
            return [Path(p) for p in value]
        case "params-file" | "waivers" | "baseline" | "tf-dir":
            return Path(value)
        case "params":
            return config.params_args(value)
        case "outputs":
            return config.output_args(value)
        case _:
            return value


# Keys whose options take paths: click's context holds their values as given, in text.
PATH_KEYS = frozenset({"policies", "params-file", "waivers", "baseline", "tf-dir"})


def _typed(key: str, value: Any) -> Any:
    """A parameter's value from click's context in the form the command takes it."""
    if value is None or key not in PATH_KEYS:
        return value
    return [Path(p) for p in value] if isinstance(value, list | tuple) else Path(value)


def merged(ctx: typer.Context, loaded: config.Loaded | None) -> dict[str, config.Setting]:
    """Each key's effective value (in the option's form) and where it came from."""
    given, defaults = {}, {}
    for key, name in PARAMETERS.items():
        value = _typed(key, ctx.params[name])
        source = ctx.get_parameter_source(name)
        if source is not None and source.name == "COMMANDLINE":
            given[key] = value
        defaults[key] = value
    settings = config.effective(given, defaults, loaded)
    return {
        key: setting
        if setting.origin in (config.COMMAND_LINE, config.DEFAULT)
        else config.Setting(_as_option(key, setting.value), setting.origin)
        for key, setting in settings.items()
    }


def apply(ctx: typer.Context, loaded: config.Loaded | None) -> dict[str, Any]:
    """The command's parameters with the file's values under those not given."""
    values = dict(ctx.params)
    for key, setting in merged(ctx, loaded).items():
        values[PARAMETERS[key]] = setting.value
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


@app.command("config")
def config_command(
    ctx: typer.Context,
    config_file: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    color: ColorOpt = Color.AUTO,
) -> None:
    """Print the effective configuration of `evaluate`: each value and where it came
    from (the configuration file's line, or the default).

    Exit 0; 2 when --config names no file; 3 when the file is not valid.
    """
    console.use(color)
    try:
        loaded = read_config(config_file, no_config)
    except (DiagnosticError, InputError, UsageError) as exc:
        fail(exc, json_out)
    # The defaults are evaluate's own: its options, as a run with no flags would see them.
    evaluate = typer.main.get_command(app).commands["evaluate"]  # type: ignore[attr-defined]
    inner = evaluate.make_context("evaluate", ["-"], parent=ctx, resilient_parsing=True)
    settings = merged(inner, loaded)
    shown = {k: config.Setting(_plain(s.value), s.origin) for k, s in settings.items()}
    file = loaded.file if loaded is not None else None
    if json_out:
        console.document(json.dumps(config.to_json(shown, file), indent=2))
    else:
        console.show(config.render_text(shown, file), console.SETTINGS)
    raise typer.Exit(ExitCode.OK)
