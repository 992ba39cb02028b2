"""Colour on the command line: `--color`, NO_COLOR, FORCE_COLOR and the terminal decide,
every command's text is coloured the same way, machine formats never are, and colouring
changes no character of the text."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from conftest import ROOT
from rich.text import Text
from syrupy.assertion import SnapshotAssertion
from typer.testing import CliRunner

from policyengine.cli import app

EXAMPLE = str(ROOT / "examples" / "ecs-account" / "snapshot.json")
POLICIES = ROOT / "policies" / "alicloud"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
BROKEN = """\
use alicloud.ecs

policy broken "B" {
  rule r "R" {
    for each instance require ?
  }
}
"""


def run(args: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    """The command in this process, its stdout and stderr captured (not terminals), with
    NO_COLOR and FORCE_COLOR as `env` sets them and no others."""
    saved = {k: os.environ.pop(k) for k in ("NO_COLOR", "FORCE_COLOR") if k in os.environ}
    try:
        result = CliRunner().invoke(app, list(args), env=dict(env or {}))
    finally:
        os.environ.update(saved)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def plain(text: str) -> str:
    return ANSI.sub("", text)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.policy"
    path.write_text(BROKEN, encoding="utf-8")
    return path


def test_color_always_colours_through_a_pipe() -> None:
    """The installed command, its stdout a pipe: `--color always` wins over NO_COLOR."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    script = Path(sys.executable).parent / "policyengine"
    done = subprocess.run(
        [str(script), "evaluate", EXAMPLE, "--color", "always"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "\x1b[1;31mFAIL\x1b[0m" in done.stdout
    piped = subprocess.run(
        [str(script), "evaluate", EXAMPLE], capture_output=True, text=True, env=env, timeout=120
    )
    assert "\x1b[" not in piped.stdout and piped.stdout == plain(done.stdout)


def test_auto_is_plain_when_stdout_is_not_a_terminal() -> None:
    code, out, _ = run(["evaluate", EXAMPLE])
    assert code == 1 and "FAIL" in out and "\x1b[" not in out


def test_force_color_colours_and_no_color_wins_over_it() -> None:
    _, forced, _ = run(["evaluate", EXAMPLE], {"FORCE_COLOR": "1"})
    assert "\x1b[1;31mFAIL\x1b[0m" in forced
    _, both, _ = run(["evaluate", EXAMPLE], {"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in both
    _, never, _ = run(["evaluate", EXAMPLE, "--color", "never"], {"FORCE_COLOR": "1"})
    assert "\x1b[" not in never
    # FORCE_COLOR=3 asks for true colour; the text is the same.
    _, true_color, _ = run(["evaluate", EXAMPLE], {"FORCE_COLOR": "3"})
    assert "\x1b[" in true_color and plain(true_color) == plain(forced) == never


def test_no_color_gives_no_colour_in_any_command(broken: Path) -> None:
    for args in (
        ["evaluate", EXAMPLE],
        ["explain", EXAMPLE],
        ["check", str(broken)],
        ["rules"],
        ["config", "--no-config"],
    ):
        _, out, err = run(args, {"NO_COLOR": "1"})
        assert "\x1b[" not in out + err, args


@pytest.mark.parametrize(
    ("args", "coloured"),
    [
        (["explain", EXAMPLE], "\x1b[1;31mfail\x1b[0m[PE500]"),
        (["explain", "--rule", "org_baseline.no_public_ip"], "\x1b[34m"),
        (["check", str(POLICIES)], "\x1b[1mchecked "),
        (["rules"], "\x1b[1;31mcritical\x1b[0m"),
        (["config", "--no-config"], "\x1b[2m(default)\x1b[0m"),
        (["test", str(ROOT / "examples" / "org-pack")], "\x1b[32mPASS\x1b[0m"),
    ],
    ids=["explain", "explain-rule", "check", "rules", "config", "test"],
)
def test_every_command_colours_its_text(args: list[str], coloured: str) -> None:
    code, out, err = run([*args, "--color", "always"])
    assert coloured in out, out[:2000] + err
    _, uncoloured, _ = run([*args, "--color", "never"])
    assert plain(out) == uncoloured  # colour adds no character and takes none away


def test_diagnostics_on_stderr_are_coloured(broken: Path, tmp_path: Path) -> None:
    code, _, err = run(["evaluate", EXAMPLE, "--policy", str(broken), "--color", "always"])
    assert code == 3 and "\x1b[1;31merror\x1b[0m[PE" in err
    messy = tmp_path / "messy.policy"
    messy.write_text(
        (POLICIES / "ecs-locations.policy").read_text(encoding="utf-8").replace("  ", "    ", 1),
        encoding="utf-8",
    )
    code, out, err = run(["fmt", "--check", str(messy), "--color", "always"])
    assert code == 1 and "\x1b[32m+" in out and "\x1b[31m-" in out


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "gitlab", "github", "markdown"])
def test_machine_formats_are_never_coloured(fmt: str) -> None:
    code, out, _ = run(["evaluate", EXAMPLE, "--format", fmt, "--color", "always"])
    assert code == 1 and out and "\x1b" not in out


def test_check_json_and_rules_json_are_never_coloured(broken: Path) -> None:
    for args in (["check", str(broken), "--format", "json"], ["rules", "--json"]):
        _, out, _ = run([*args, "--color", "always"], {"FORCE_COLOR": "1"})
        assert "\x1b" not in out, args


def test_a_tab_in_the_source_keeps_the_caret_under_its_text(tmp_path: Path) -> None:
    """Coloured diagnostics go through no layout pass: tabs stay tabs, so the caret line
    (which repeats the tabs before the span) still stands under its text."""
    path = tmp_path / "tabs.policy"
    path.write_text(BROKEN.replace("    for", "\t\tfor"), "utf-8")
    _, coloured, _ = run(["check", str(path), "--color", "always"])
    _, uncoloured, _ = run(["check", str(path), "--color", "never"])
    assert "\t" in coloured and plain(coloured) == uncoloured


def test_coloured_check_reads_as_it_should(broken: Path, text_snapshot: SnapshotAssertion) -> None:
    """The styles, shown as rich markup, for review."""
    _, out, _ = run(["check", str(broken), "--color", "always"])
    assert Text.from_ansi(out.replace(str(broken), "broken.policy")).markup == text_snapshot


def test_painting_agrees_with_rich_text(broken: Path) -> None:
    """The one-pass painting gives what rich's own Text gives for the same highlights."""
    import io

    from rich.color import ColorSystem

    from policyengine.cli import console
    from policyengine.cli.options import Color

    terminal = console.Stream(Color.ALWAYS, stream=io.StringIO())
    cases = [
        (run(["evaluate", EXAMPLE, "--all", "--color", "never"])[1], console.REPORT),
        (run(["explain", EXAMPLE, "--color", "never"])[1], console.DIAGNOSTICS),
        (run(["check", str(broken), "--color", "never"])[1], console.DIAGNOSTICS),
        (run(["rules", "--color", "never"])[1], console.RULES),
    ]
    for text, marks in cases:
        styled = Text(text, end="")
        marks.highlighter().highlight(styled)
        expected = "".join(
            seg.style.render(seg.text, color_system=ColorSystem.STANDARD) if seg.style else seg.text
            for seg in styled.render(terminal.console(), end="")
        )
        console.emit(terminal, text, marks, end="")
        painted = terminal.file.getvalue()  # type: ignore[attr-defined]
        terminal.file.truncate(0)
        terminal.file.seek(0)
        assert painted == expected and "\x1b[" in painted
