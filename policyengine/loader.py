"""Files -> a checked, compiled plan. The one place that reads policy and model files.

`use alicloud.ecs` finds `alicloud/ecs.model` next to the policy (or in a folder above
it) and then among the bundled packs. Every file is parsed and checked before anything
is compiled; any error stops the run with all diagnostics, so a policy is never skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from policyengine import ast, model, plan
from policyengine.checker import build_model, check_policy_file
from policyengine.checker.policies import fits, param_type
from policyengine.compiler import compile_file
from policyengine.diagnostics import Diagnostic, DiagnosticError, did_you_mean, sort_diagnostics
from policyengine.parser import parse
from policyengine.source import Source


class UsageError(Exception):
    """A command line the engine cannot act on (exit 2), said in one sentence."""


def bundled_root() -> Path:
    # A wheel carries the packs inside the package; a checkout keeps them at the top.
    packaged = Path(str(resources.files("policyengine"))) / "policies"
    checkout = Path(__file__).resolve().parents[1] / "policies"
    return packaged if packaged.is_dir() else checkout


def bundled_policies() -> list[Path]:
    return sorted(bundled_root().rglob("*.policy"))


def read_source(path: Path, display: str | None = None) -> Source:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    return Source(display or str(path), text)


def _display(path: Path) -> str:
    """How a file is named in output: bundled files relative to the packs' folder, others
    relative to the working directory when they are under it, so output is stable."""
    resolved = path.resolve()
    for root, prefix in ((bundled_root().resolve(), Path("policies")), (Path.cwd(), Path())):
        try:
            return str(prefix / resolved.relative_to(root))
        except ValueError:
            continue
    return str(path)


@dataclass(frozen=True)
class Loaded:
    plan: plan.Plan
    warnings: tuple[Diagnostic, ...]


def _find_model(name: ast.Name, near: Path) -> Path | None:
    relative = Path(*name.text.split(".")).with_suffix(".model")
    for folder in [near.parent.resolve(), *near.parent.resolve().parents, bundled_root()]:
        candidate = folder / relative
        if candidate.is_file():
            return candidate
    return None


def _parse_all(paths: Iterable[Path], diags: list[Diagnostic]) -> dict[Path, ast.File]:
    out: dict[Path, ast.File] = {}
    for path in paths:
        try:
            out[path] = parse(read_source(path, _display(path)))
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
    diagnostics: list[Diagnostic]


def front(paths: Sequence[Path], params: Sequence[str] = ()) -> Front:
    """Parse and check policy and model files, and the models they use. Never stops at the
    first problem: a policy is checked whenever the models it reads built cleanly, even if
    another file has a syntax error. Raises UsageError for a bad `--param`."""
    diags: list[Diagnostic] = []
    files = _parse_all(paths, diags)
    model_diags: list[Diagnostic] = []
    models: dict[Path, ast.ModelFile] = {}
    tried: set[Path] = {p.resolve() for p in files}
    pending: list[tuple[ast.File, Path]] = [(f, p) for p, f in files.items()]
    while pending:
        file, path = pending.pop(0)
        if isinstance(file, ast.ModelFile):
            models.setdefault(path.resolve(), file)
        for use in file.uses:
            found = _find_model(use.name, path)
            if found is None:
                model_diags.append(_unknown_model(use))
            elif found.resolve() not in tried:
                tried.add(found.resolve())  # a model that fails to parse is reported once
                for model_path, parsed in _parse_all([found], model_diags).items():
                    if isinstance(parsed, ast.ModelFile):
                        models[model_path.resolve()] = parsed
                        pending.append((parsed, model_path))
                    else:
                        model_diags.append(_not_a_model(use, model_path))
    vocabulary, built = build_model(models.values())
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
    values = _param_values(policies.values(), params)
    # Policies are typed against the models: with a broken model, every name would look
    # unknown. Another file's syntax error does not stop them being checked.
    if not any(d.level == "error" for d in model_diags):
        for file in policies.values():
            diags.extend(check_policy_file(file, vocabulary, values))
    return Front(files, policies, vocabulary, values, diags)


def load(policy_paths: Sequence[Path], params: Sequence[str] = ()) -> Loaded:
    """Parse, check and compile. Raises DiagnosticError (exit 3) or UsageError (exit 2)."""
    checked = front(policy_paths, params)
    diags, policies, vocabulary, values = (
        checked.diagnostics,
        checked.policies,
        checked.vocabulary,
        checked.params,
    )
    errors = [d for d in diags if d.level == "error"]
    if errors:
        raise DiagnosticError(sort_diagnostics(errors))
    rules: list[plan.RulePlan] = []
    seen: dict[str, plan.RulePlan] = {}
    for file in policies.values():
        for rule in compile_file(file, vocabulary, values):
            if rule.id in seen:
                raise DiagnosticError(
                    [
                        Diagnostic(
                            "PE108",
                            f"rule `{rule.id}` is declared twice",
                            rule.name_span,
                            "declared again here",
                            notes=(f"first declared at {seen[rule.id].name_span.location()}",),
                        )
                    ]
                )
            seen[rule.id] = rule
            rules.append(rule)
    warnings = tuple(sort_diagnostics(d for d in diags if d.level != "error"))
    return Loaded(plan.index_by_kind(vocabulary, tuple(rules)), warnings)


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


def _not_a_model(use: ast.Use, path: Path) -> Diagnostic:
    return Diagnostic(
        "PE101",
        f"`{use.name.text}` names {path}, which is not a model",
        use.name.span,
        "not a model file",
        help="a model file starts with `model NAME`",
    )


def _param_values(
    files: Iterable[ast.PolicyFile], raw: Sequence[str]
) -> dict[str, dict[str, object]]:
    """`--param NAME=VALUE` or `--param POLICY.NAME=VALUE`, converted to the declared type."""
    declared: dict[str, list[tuple[ast.Policy, ast.Param]]] = {}
    for file in files:
        for policy in file.policies:
            for param in policy.params:
                declared.setdefault(param.name.text, []).append((policy, param))
                declared.setdefault(f"{policy.name.text}.{param.name.text}", []).append(
                    (policy, param)
                )
    out: dict[str, dict[str, object]] = {}
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


def _convert(param: ast.Param, text: str) -> object:
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
