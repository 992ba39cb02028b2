"""Files -> a checked, compiled plan. The one place that reads policy and model files.

`use alicloud.ecs` finds `alicloud/ecs.model` next to the policy (or in a folder above
it, within the working directory) and then among the bundled packs. Every file is parsed
and checked before anything is compiled; any error stops the run with all diagnostics,
so a policy is never skipped.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

from policyengine.core import limits, model, plan
from policyengine.core.diagnostics import (
    Collector,
    Diagnostic,
    DiagnosticError,
    did_you_mean,
    sort_diagnostics,
)
from policyengine.core.errors import InputError, Problem, UsageError, YamlError
from policyengine.core.files import Confinement, Refused, TooLarge, admit
from policyengine.core.files import read_text as read_file_text
from policyengine.core.recent import Recent
from policyengine.core.source import Source, Span
from policyengine.frontend import ast
from policyengine.frontend.parser import parse
from policyengine.frontend.plan_cache import KeptPlans

if TYPE_CHECKING:  # imported when files are checked: a kept plan needs no checker
    from policyengine.frontend.checker import CheckedFile
    from policyengine.frontend.checker.scope import DefineSig
from policyengine.inputs.snapshot import describe_json, pointer_escape, yaml_problem


@cache
def bundled_root() -> Path:
    # A wheel carries the packs inside the package; a checkout keeps them at the top.
    # The package is a folder of files either way (`importlib.resources` would find the
    # same one, and costs its import and zipfile's).
    here = Path(__file__).resolve().parents
    packaged, checkout = here[1] / "policies", here[2] / "policies"
    return packaged if packaged.is_dir() else checkout


# Bundled packs a run reads only when they are named (`-p alicloud/governance.policy`, or
# under `policies:` in a configuration file): they would add findings to every report of
# the users who did not ask for them. Paths inside the bundled packs' folder.
OPT_IN = ("alicloud/governance.policy",)


def bundled_policies(*, opt_in: bool = False) -> list[Path]:
    """The bundled policy files a run reads by default; with `opt_in`, every one."""
    root = bundled_root()
    return sorted(
        p for p in root.rglob("*.policy") if opt_in or p.relative_to(root).as_posix() not in OPT_IN
    )


def bundled_file(given: Path, suffixes: tuple[str, ...]) -> Path | None:
    """A bundled pack's file named by its path inside the packs' folder
    (`alicloud/governance.policy`), as `use alicloud.ecs` names a bundled model: for a
    relative path that names nothing in the working directory."""
    if given.is_absolute() or ".." in given.parts or not given.name.endswith(suffixes):
        return None
    candidate = bundled_root() / given
    return candidate if candidate.is_file() else None


def find_files(given: Sequence[Path], suffixes: tuple[str, ...], noun: str) -> list[Path]:
    """The files named, and the files with these suffixes under the folders named, in
    order. A folder without one, or a path that is neither, is a usage error."""
    out: list[Path] = []
    for path in given:
        if path.is_dir():
            try:
                found = sorted(p for p in path.rglob("*") if p.name.endswith(suffixes))
                # A file found in a folder must stay in it: a committed symlink to
                # /etc/passwd or /proc/self/environ is refused, not read.
                inside = Confinement.of([path])
                for p in found:
                    admit(p, inside)
            except Refused as exc:
                raise UsageError(f"refused {exc}") from None
            except OSError as exc:  # a folder that changed or cannot be listed
                raise UsageError(f"cannot read folder {path}: {exc}") from None
            if not found:
                kinds = " or ".join(f"*{s}" for s in suffixes)
                raise UsageError(f"no {kinds} file in folder {path}")
            out.extend(found)
        elif path.is_file():
            out.append(path)
        elif (bundled := bundled_file(path, suffixes)) is not None:
            out.append(bundled)
        else:
            raise UsageError(f"no such {noun} or folder: {path}")
    return out


# Only these are parsed, so a diagnostic never quotes a line of any other file.
SOURCE_SUFFIXES = (".policy", ".model")


def read_source(
    path: Path, display: str | None = None, confine: Confinement | None = None
) -> Source:
    """A policy or model file. `confine` None: the user named it; otherwise it must
    resolve inside the confinement. Raises UsageError for a file that cannot or may not be
    read, DiagnosticError for one over the size limit."""
    most = limits.current().policy_bytes
    shown = display or str(path)
    if path.suffix not in SOURCE_SUFFIXES:
        raise UsageError(
            f"refused {path}: not a policy or model file (their names end in .policy or "
            ".model); not read"
        )
    try:
        text = read_file_text(path, most, confine)
    except TooLarge as exc:
        # Refused before it is read, so that parsing it cannot take the run.
        empty = Source(shown, "")
        raise DiagnosticError(
            [
                Diagnostic(
                    "PE003",
                    f"this file is {limits.size(exc.size)}, larger than {limits.size(most)}, "
                    "the limit for a policy or model file",
                    Span(empty, 0, 0),
                    "not read",
                    help=f"{limits.env_name('policy_bytes')} sets the limit",
                )
            ]
        ) from None
    except Refused as exc:
        raise UsageError(f"refused {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    return Source(shown, text)


def display_name(path: Path) -> str:
    """How diagnostics name a file: what an editor matches them to its documents by."""
    return _display(path)


def _display(path: Path) -> str:
    """How a file is named in output: bundled files relative to the packs' folder, others
    relative to the working directory when they are under it, so output is stable."""
    resolved = path.resolve()
    for root, prefix in ((_bundled_resolved(), Path("policies")), (Path.cwd(), Path())):
        try:
            return str(prefix / resolved.relative_to(root))
        except ValueError:
            continue
    return str(path)


@cache
def _bundled_resolved() -> Path:
    return bundled_root().resolve()


@dataclass(frozen=True)
class Loaded:
    """Policies ready to evaluate: the compiled plan, the warnings found on the way, and
    the checked syntax tree of each policy file (what `docs` describes, as written)."""

    plan: plan.Plan
    warnings: tuple[Diagnostic, ...]
    policies: Mapping[Path, ast.PolicyFile]


def find_model(name: ast.Name, near: Path) -> Path | None:
    return find_model_from(name.text, near.parent)


def find_model_from(name: str, folder: Path) -> Path | None:
    """The model `use NAME` names, from a file in `folder`."""
    relative = Path(*name.split(".")).with_suffix(".model")
    for candidate_folder in _model_folders(folder):
        candidate = candidate_folder / relative
        # A FIFO or device under the name is found, so that it is refused, not skipped.
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return None


def _model_folders(folder: Path) -> list[Path]:
    """Where `use` looks for a model: the policy's own folder, the folders above it up to
    the working directory (never above it; for a policy outside it, only the folder just
    above), then the bundled packs. A model name is dotted identifiers, so it cannot spell
    `..` or an absolute path: these folders are all a policy can reach."""
    start = folder.resolve()
    cwd = Path.cwd().resolve()
    if start.is_relative_to(cwd):
        above = [p for p in start.parents if p.is_relative_to(cwd)]
    else:
        above = list(start.parents)[:1]
    return [start, *above, bundled_root()]


def _parse_all(
    paths: Iterable[Path], diags: list[Diagnostic], overlay: Mapping[Path, str]
) -> dict[Path, ast.File]:
    out: dict[Path, ast.File] = {}
    for path in paths:
        try:
            unsaved = overlay.get(path.resolve()) if overlay else None
            if unsaved is None:
                out[path] = parse(read_source(path, _display(path)))
            else:  # an editor's buffer: checked as it is, never cached on disk
                out[path] = parse(Source(_display(path), unsaved), keep=False)
        except DiagnosticError as exc:
            diags.extend(exc.diagnostics)
    return out


@dataclass(frozen=True)
class Front:
    """Every file parsed and checked, with every diagnostic found: what `check` reports
    and what `load` compiles when there is no error."""

    files: dict[Path, ast.File]
    policies: dict[Path, ast.PolicyFile]
    vocabulary: model.Model
    params: dict[str, dict[str, object]]
    defines: dict[str, DefineSig]
    diagnostics: list[Diagnostic]
    checked: tuple[CheckedFile, ...] = ()  # what the checker resolved, for the compiler
    # Each model looked for, (name, folder of the file that uses it) -> what was found,
    # and the model files read, in order, with their text: what a kept plan depends on
    # besides `files`.
    lookups: Mapping[tuple[str, Path], Path | None] = field(default_factory=dict)
    models_read: tuple[tuple[Path, Source], ...] = ()


def front(
    paths: Sequence[Path],
    params: Sequence[str] = (),
    params_file: Path | None = None,
    overlay: Mapping[Path, str] | None = None,
) -> Front:
    """Parse and check policy and model files, and the models they use. Never stops at the
    first problem: a policy is checked whenever the models it reads built cleanly, even if
    another file has a syntax error. Raises UsageError for a bad `--param`, InputError for
    a bad parameters file; `params` (`NAME=VALUE`) win over the `params_file`'s values.
    `overlay` holds the text of files as an editor has them, unsaved (by resolved path)."""
    overlay = overlay or {}
    diags: list[Diagnostic] = []
    # A model a policy uses is found by the engine, not named by the user: it must stay
    # inside the working directory, the paths given or the bundled packs.
    confine = Confinement.of(paths, bundled_root())
    files = _parse_all(paths, diags, overlay)
    model_diags: list[Diagnostic] = []
    models: dict[Path, ast.ModelFile] = {}
    tried: set[Path] = {p.resolve() for p in files}
    pending: list[tuple[ast.File, Path]] = [(f, p) for p, f in files.items()]
    # Each name is looked for once from each folder: the files of a pack use the same models.
    looked_up: dict[tuple[str, Path], Path | None] = {}
    models_read: list[tuple[Path, Source]] = []
    while pending:
        file, path = pending.pop(0)
        if isinstance(file, ast.ModelFile):
            models.setdefault(path.resolve(), file)
        for use in file.uses:
            where = (use.name.text, path.parent)
            if where not in looked_up:
                looked_up[where] = find_model_from(*where)
            found = looked_up[where]
            if found is None:
                model_diags.append(_unknown_model(use))
            elif (real := found.resolve()) not in tried:
                tried.add(real)  # a model that fails to parse is reported once
                try:
                    admit(found, confine)
                except (Refused, OSError) as exc:
                    model_diags.append(_refused_model(use, exc))
                    continue
                for model_path, parsed in _parse_all([found], model_diags, overlay).items():
                    models_read.append((model_path, parsed.span.source))
                    if isinstance(parsed, ast.ModelFile):
                        models[model_path.resolve()] = parsed
                        pending.append((parsed, model_path))
                    else:
                        model_diags.append(_not_a_model(use, model_path))
    vocabulary, built = _built_model(tuple(models.values()))
    model_diags.extend(built)
    diags.extend(model_diags)
    policies = {p: f for p, f in files.items() if isinstance(f, ast.PolicyFile)}
    for file in policies.values():
        if not file.uses and file.policies:
            diags.append(
                Diagnostic(
                    "PE101",
                    "this policy file uses no model",
                    file.policies[0].name.span,
                    "which kinds does it check?",
                    help="add `use alicloud.ecs` (or your model) at the top",
                )
            )
    values = _param_values(policies.values(), params, params_file)
    defines: dict[str, DefineSig] = {}
    checked: list[CheckedFile] = []
    # Policies are typed against the models: with a broken model, every name would look
    # unknown. Another file's syntax error does not stop them being checked.
    if not any(d.level == "error" for d in model_diags):
        done = _CHECKED.get(
            (*models.values(), *policies.values()),
            (len(models), _hashable(values), limits.current()),
            lambda: _checks(tuple(models.values()), tuple(policies.values()), vocabulary, values),
        )
        vocabulary, defines, checked = done.vocabulary, done.defines, list(done.checked)
        diags.extend(done.diagnostics)
    return Front(
        files,
        policies,
        vocabulary,
        values,
        defines,
        diags,
        tuple(checked),
        looked_up,
        tuple(models_read),
    )


@dataclass(frozen=True)
class _Checks:
    vocabulary: model.Model  # the model they were made against (built of the same trees)
    defines: dict[str, DefineSig]
    diagnostics: tuple[Diagnostic, ...]
    checked: tuple[CheckedFile, ...]


# The checks of the latest loads, by their trees' identity, parameter values and limits.
_CHECKED: Recent[_Checks] = Recent(8)
# The rules compiled of the latest checked files, by identity with the model's.
_COMPILED: Recent[tuple[plan.RulePlan, ...]] = Recent(64)


def _hashable(values: dict[str, dict[str, object]]) -> Hashable:
    return tuple(
        sorted((p, tuple(sorted((k, repr(v)) for k, v in d.items()))) for p, d in values.items())
    )


def _checks(
    models: tuple[ast.ModelFile, ...],
    policies: tuple[ast.PolicyFile, ...],
    vocabulary: model.Model,
    values: dict[str, dict[str, object]],
) -> _Checks:
    from policyengine.frontend.checker import check_policy_file, declare, duplicate_rules
    from policyengine.frontend.depth import nesting_diagnostics

    diags: list[Diagnostic] = []
    checked: list[CheckedFile] = []
    # A model's defines are seen by every policy that uses it; a policy file's own
    # top-level defines by that file alone, so two files of a folder may each have
    # their own helper of the same name.
    declared = Collector()
    defines = declare([d for f in models for d in f.defines], vocabulary, declared, {})
    own = [declare(f.defines, vocabulary, declared, defines) for f in policies]
    diags.extend(declared)
    # What `evaluate` would refuse, `check` refuses: conditions nested too deep once
    # the defines they call are expanded.
    diags.extend(nesting_diagnostics([*models, *policies]))
    if not any(d.level == "error" for d in declared):
        for file, its_own in zip(policies, own, strict=True):
            checked.append(check_policy_file(file, vocabulary, values, its_own))
            diags.extend(checked[-1].diagnostics)
        diags.extend(duplicate_rules(policies))
    return _Checks(vocabulary, defines, tuple(diags), tuple(checked))


_LAST_MODEL: list[tuple[tuple[ast.ModelFile, ...], model.Model, tuple[Diagnostic, ...]]] = []


def _built_model(files: tuple[ast.ModelFile, ...]) -> tuple[model.Model, tuple[Diagnostic, ...]]:
    """The model built from these very trees, built again only when one changed: an editor
    checks a folder on every change, and its models seldom change (parse gives the same
    tree for the same text)."""
    from policyengine.frontend.checker import build_model

    for given, vocabulary, built in _LAST_MODEL:
        if len(given) == len(files) and all(a is b for a, b in zip(given, files, strict=True)):
            return vocabulary, built
    vocabulary, diags = build_model(files)
    _LAST_MODEL[:] = [(files, vocabulary, tuple(diags))]
    return vocabulary, tuple(diags)


def load(
    policy_paths: Sequence[Path] = (),
    params: Sequence[str] = (),
    params_file: Path | None = None,
    *,
    checked: Front | None = None,
) -> Loaded:
    """Parse, check and compile; or, given what `front` already `checked`, compile that
    without parsing or checking again. Raises DiagnosticError or InputError (exit 3), or
    UsageError (exit 2). `params` (`NAME=VALUE`) win over the `params_file`'s values.

    The plan of a set of policy files loaded before, unchanged and with the models it
    found unchanged, is read back from the per-user cache (`plan_cache`) instead."""
    if checked is None:
        keeps = params_file is None  # a parameters file's values are not checked for change
        kept = _KEPT.find(policy_paths, params) if keeps else None
        if kept is not None:
            return kept
        checked = front(policy_paths, params, params_file)
        loaded = _compiled(checked)
        if keeps:
            _KEPT.keep(policy_paths, params, checked, loaded)
        return loaded
    return _compiled(checked)


def _compiled(checked: Front) -> Loaded:
    from policyengine.frontend.compiler import compile_file

    errors = [d for d in checked.diagnostics if d.level == "error"]
    if errors:
        raise DiagnosticError(sort_diagnostics(errors))
    vocabulary = checked.vocabulary
    rules = tuple(
        rule
        for file in checked.checked
        for rule in _COMPILED.get((file, vocabulary), None, partial(compile_file, file, vocabulary))
    )
    warnings = tuple(sort_diagnostics(d for d in checked.diagnostics if d.level != "error"))
    return Loaded(plan.index_by_kind(checked.vocabulary, rules), warnings, checked.policies)


def _unknown_model(use: ast.Use) -> Diagnostic:
    where = Path(*use.name.text.split(".")).with_suffix(".model")
    return Diagnostic(
        "PE101",
        f"unknown model `{use.name.text}`",
        use.name.span,
        "no such model file",
        notes=(
            f"looked for {where} next to this file, in the folders above it and among "
            "the bundled packs",
        ),
    )


def _refused_model(use: ast.Use, exc: Exception) -> Diagnostic:
    return Diagnostic(
        "PE101",
        f"model `{use.name.text}` is refused: {exc}",
        use.name.span,
        "not read",
        help="a model must be a regular file inside the working directory, a path given "
        "on the command line or the bundled packs",
    )


def _not_a_model(use: ast.Use, path: Path) -> Diagnostic:
    return Diagnostic(
        "PE101",
        f"`{use.name.text}` names {path}, which is not a model",
        use.name.span,
        "not a model file",
        help="a model file starts with `model NAME`",
    )


def _param_values(
    files: Iterable[ast.PolicyFile], raw: Sequence[str], params_file: Path | None = None
) -> dict[str, dict[str, object]]:
    """`--param NAME=VALUE` or `--param POLICY.NAME=VALUE`, converted to the declared type,
    over the values of a parameters file."""
    declared: dict[str, list[tuple[ast.Policy, ast.Param]]] = {}
    policies: set[str] = set()
    for file in files:
        for policy in file.policies:
            policies.add(policy.name.text)
            for param in policy.params:
                declared.setdefault(param.name.text, []).append((policy, param))
                declared.setdefault(f"{policy.name.text}.{param.name.text}", []).append(
                    (policy, param)
                )
    out: dict[str, dict[str, object]] = {}
    if params_file is not None:
        _file_values(params_file, declared, policies, out)
    for item in raw:
        name, sep, text = item.partition("=")
        if not sep:
            raise UsageError(f"--param `{item}` needs the form NAME=VALUE")
        targets = declared.get(name.strip())
        if not targets:
            hint = did_you_mean(name, [k for k in declared if "." not in k])
            raise UsageError(f"no policy declares a param `{name}`" + (f"; {hint}" if hint else ""))
        for policy, param in targets:
            out.setdefault(policy.name.text, {})[param.name.text] = _convert(param, text)
    return out


def _file_values(
    path: Path,
    declared: dict[str, list[tuple[ast.Policy, ast.Param]]],
    policies: set[str],
    out: dict[str, dict[str, object]],
) -> None:
    """A parameters file (JSON, or YAML for `.yaml`/`.yml`): `{"NAME": VALUE}`,
    `{"POLICY.NAME": VALUE}` or `{"POLICY": {"NAME": VALUE}}`. Every problem is named
    by the file and the JSON Pointer of the value."""
    file = str(path)
    try:
        text = read_file_text(path, limits.current().input_bytes)
    except Refused as exc:
        raise UsageError(f"refused the parameters file {exc}") from None
    except TooLarge as exc:
        raise UsageError(f"the parameters file {path} is over {limits.size(exc.limit)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the parameters file {path}: {exc}") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            from policyengine.core.yamldoc import load_yaml  # the YAML reader, when needed

            doc = load_yaml(text, file)
        else:
            doc = json.loads(text)
    except YamlError as exc:
        raise InputError([yaml_problem(exc)], PARAMS_FILE) from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(
            [Problem(file, "", f"not valid {_format_of(path)}: {exc}")], PARAMS_FILE
        ) from None
    if not isinstance(doc, dict):
        raise InputError(
            [Problem(file, "", "expected an object of param names to values")], PARAMS_FILE
        )
    from policyengine.frontend.checker.policies import fits, param_type

    problems: list[Problem] = []
    entries: list[tuple[str, str, object]] = []  # (name, pointer, value)
    for key, value in doc.items():
        at = "/" + pointer_escape(str(key))
        if key in policies and isinstance(value, dict) and key not in declared:
            entries += [
                (f"{key}.{k}", f"{at}/{pointer_escape(str(k))}", v) for k, v in value.items()
            ]
        else:
            entries.append((str(key), at, value))
    for name, at, value in entries:
        targets = declared.get(name)
        if not targets:
            hint = did_you_mean(name, [k for k in declared if "." not in k])
            problems.append(
                Problem(
                    file, at, f"no policy declares a param `{name}`" + (f"; {hint}" if hint else "")
                )
            )
            continue
        for policy, param in targets:
            t = param_type(param.type)
            if t is None:
                continue  # the checker reports the param's type where it is declared
            if not fits(value, t):
                found = "nothing" if value is None else describe_json(value)
                problems.append(
                    Problem(file, at, f"`{name}` is {model.describe(t)}: found {found}")
                )
                continue
            out.setdefault(policy.name.text, {})[param.name.text] = value
    if problems:
        raise InputError(problems, PARAMS_FILE)


PARAMS_FILE = "parameters file"


def _format_of(path: Path) -> str:
    return "YAML" if path.suffix in (".yaml", ".yml") else "JSON"


def _convert(param: ast.Param, text: str) -> object:
    from policyengine.frontend.checker.policies import fits, param_type

    t = param_type(param.type)
    name = param.name.text
    if isinstance(t, model.ListT) and isinstance(t.item, model.Scalar):
        if text.strip().startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise UsageError(f"--param {name}: not a JSON list: {exc.msg}") from None
        else:
            items = [_scalar(name, s.strip(), t.item.name) for s in text.split(",") if s.strip()]
        if not fits(items, t):
            raise UsageError(f"--param {name}: expected a {model.describe(t)}, got `{text}`")
        return items
    if isinstance(t, model.MapT):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--param {name}: not a JSON object: {exc.msg}") from None
        if not fits(items, t):
            raise UsageError(f"--param {name}: expected a {model.describe(t)}, got `{text}`")
        return items
    if isinstance(t, model.Scalar):
        return _scalar(name, text, t.name)
    raise UsageError(f"param `{name}` cannot be set from the command line")


def _scalar(name: str, text: str, type_name: str) -> object:
    if type_name == "int":
        try:
            return int(text)
        except ValueError:
            raise UsageError(f"--param {name}: expected an integer, got `{text}`") from None
    if type_name == "bool":
        if text not in ("true", "false"):
            raise UsageError(f"--param {name}: expected true or false, got `{text}`")
        return text == "true"
    return text


# Plans loaded before, read back when their files are unchanged.
_KEPT = KeptPlans(read_source, _display, find_model_from, bundled_root())
