"""The configuration file: found from the working directory upward, read from YAML or
pyproject.toml, its unknown keys and wrong values reported at their line and column, and
the command line winning over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.core.diagnostics import DiagnosticError, render_text
from policyengine.pipeline import config

YAML = """\
# what every run of this repository uses
policies: [policies/]
fail-on: high
fail-on-error: false
outputs:
  sarif: out/results.sarif
rules: ["org_baseline.*"]
params:
  allowed_regions: cn-hangzhou
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_nearest_file_upward_is_found(tmp_path: Path) -> None:
    _write(tmp_path / "repo" / ".policyengine.yaml", YAML)
    deep = tmp_path / "repo" / "infra" / "prod"
    deep.mkdir(parents=True)
    assert config.find(deep) == tmp_path / "repo" / ".policyengine.yaml"
    # A pyproject.toml without the table is not a configuration file; one with it is.
    _write(tmp_path / "repo" / "infra" / "pyproject.toml", "[project]\nname = 'x'\n")
    assert config.find(deep) == tmp_path / "repo" / ".policyengine.yaml"
    _write(tmp_path / "repo" / "infra" / "pyproject.toml", "[tool.policyengine]\nregion = 'x'\n")
    assert config.find(deep) == tmp_path / "repo" / "infra" / "pyproject.toml"
    assert config.find(tmp_path) is None


def test_values_and_paths_relative_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "repo" / ".policyengine.yaml", YAML)
    monkeypatch.chdir(tmp_path / "repo")
    loaded = config.read(path, path.read_text(encoding="utf-8"))
    values = loaded.values()
    assert values["policies"] == ["policies"]
    assert values["fail-on"] == "high" and values["fail-on-error"] is False
    assert values["outputs"] == {"sarif": "out/results.sarif"}
    assert loaded.lines["fail-on"] == 3
    # From a folder below, the same paths are named from there.
    (tmp_path / "repo" / "infra").mkdir()
    monkeypatch.chdir(tmp_path / "repo" / "infra")
    assert loaded.values()["policies"] == ["../policies"]


def _problems(path: Path) -> str:
    with pytest.raises(DiagnosticError) as caught:
        config.read(path, path.read_text(encoding="utf-8"))
    assert all(d.code == "PE701" for d in caught.value.diagnostics)
    return "\n\n".join(render_text(d) for d in caught.value.diagnostics)


def test_an_unknown_key_is_named_at_its_place_with_the_nearest(tmp_path: Path) -> None:
    path = _write(tmp_path / ".policyengine.yaml", "policies: [p]\nfail_on: high\nsevrity: x\n")
    text = _problems(path)
    assert f"--> {path}:2:1" in text and "unknown key `fail_on`" in text
    assert "did you mean `fail-on`?" in text
    assert f"--> {path}:3:1" in text and "unknown key `sevrity`" in text


def test_a_wrong_value_is_named_at_its_key(tmp_path: Path) -> None:
    path = _write(tmp_path / ".policyengine.yaml", "region: cn-hangzhou\nfail-on: severe\n")
    text = _problems(path)
    assert f"--> {path}:2:1" in text and "`fail-on`" in text
    assert "`low`, `medium`, `high`, `critical`, `none`" in text


def test_pyproject_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = _write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.policyengine]\nfail-on = "medium"\n'
        'policies = ["rules"]\n\n[tool.policyengine.outputs]\njunit = "junit.xml"\n',
    )
    loaded = config.read(path, path.read_text(encoding="utf-8"))
    assert loaded.values() == {
        "policies": ["rules"],
        "fail-on": "medium",
        "outputs": {"junit": "junit.xml"},
    }
    assert loaded.lines == {"fail-on": 5, "policies": 6, "outputs": 8}
    bad = _write(
        tmp_path / "pyproject.toml", '[tool.policyengine]\nregion = "a"\nfial-on = "low"\n'
    )
    text = _problems(bad)
    assert f"--> {bad}:3:1" in text and "did you mean `fail-on`?" in text


def test_not_yaml_or_not_a_mapping(tmp_path: Path) -> None:
    assert "not valid YAML" in _problems(_write(tmp_path / ".policyengine.yaml", "a: [\n"))
    assert "expected a mapping" in _problems(_write(tmp_path / ".policyengine.yml", "- a\n"))


def test_the_command_line_wins_and_each_value_says_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path / ".policyengine.yaml", YAML)
    loaded = config.read(path, path.read_text(encoding="utf-8"))
    defaults = {"fail-on": "low", "fail-on-error": True, "region": None, "policies": []}
    settings = config.effective({"fail-on": "critical"}, defaults, loaded)
    assert settings["fail-on"] == config.Setting("critical", "command line")
    assert settings["fail-on-error"] == config.Setting(False, f"{path}:4")
    assert settings["region"] == config.Setting(None, "default")
    assert settings["outputs"].origin == f"{path}:5"
    text = config.render_text(settings, path)
    assert "fail-on-error  false" in text and f"({path}:4)" in text


@pytest.mark.parametrize("name", [".policyengine.yaml", "pyproject.toml"])
def test_a_found_file_linked_to_a_system_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A committed `.policyengine.yaml -> /proc/self/environ` is not read: exit 3, the
    file named and why, nothing of what it points at in the message."""
    from conftest import run_cli

    (tmp_path / name).symlink_to("/proc/self/environ")
    monkeypatch.chdir(tmp_path)
    for args in (["config"], ["evaluate", "-"]):
        code, out, err = run_cli(args, stdin='{"resources": []}')
        assert code == 3, out + err
        assert f"{tmp_path / name}: refused: resolves to /proc/" in err
        assert "error: the configuration file is not valid; nothing was evaluated" in err
        assert "PATH=" not in out + err


def test_a_found_file_linked_outside_its_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found from the working directory upward, a configuration file must resolve inside
    the folder it was found in: a link to a file elsewhere is neither read nor echoed."""
    from conftest import run_cli

    secret = _write(tmp_path / "elsewhere" / "secret.yaml", "token: s3cr3t\n")
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / ".policyengine.yaml").symlink_to(secret)
    monkeypatch.chdir(repo / "sub")
    code, out, err = run_cli(["config"])
    assert code == 3 and "outside the working directory" in err
    assert "s3cr3t" not in out + err and "token" not in out + err
    # Named with --config, the same file is the user's choice: read (and its key refused).
    code, _, err = run_cli(["config", "--config", str(repo / ".policyengine.yaml")])
    assert code == 3 and "unknown key `token`" in err
    # A link that stays inside the folder it was found in is read.
    (repo / ".policyengine.yaml").unlink()
    _write(repo / "conf" / "policyengine.yaml", "fail-on: high\n")
    (repo / ".policyengine.yaml").symlink_to(repo / "conf" / "policyengine.yaml")
    code, out, err = run_cli(["config"])
    assert code == 0 and "high" in out, err


def test_every_configuration_key_sets_an_option_of_evaluate() -> None:
    from policyengine.cli.evaluate import evaluate_command
    from policyengine.cli.settings import PARAMETERS
    from policyengine.pipeline.config_model import KEYS

    assert set(PARAMETERS) == set(KEYS)
    assert set(PARAMETERS.values()) <= set(evaluate_command.__code__.co_varnames)
