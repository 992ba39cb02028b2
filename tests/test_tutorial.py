"""docs/tutorial-org-pack.md: every file it shows is the one in examples/org-pack, and
every command it shows runs there with the output and exit code it shows (`...` stands
for lines left out; `[exit N]` for a non-zero exit code)."""

from __future__ import annotations

import re
import shlex

import pytest
from conftest import ROOT, run_cli

DOC = ROOT / "docs" / "tutorial-org-pack.md"
PACK = ROOT / "examples" / "org-pack"
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def _blocks(language: str) -> list[str]:
    return [text for lang, text in _BLOCK.findall(DOC.read_text()) if lang == language]


def _commands() -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for block in _blocks("console"):
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            else:
                out[-1][1].append(line)
    return out


FILES = [b for lang in ("model", "policy", "yaml") for b in _blocks(lang)]


def test_the_tutorial_shows_files_and_commands() -> None:
    assert len(FILES) == 3 and len(_commands()) == 6


@pytest.mark.parametrize("block", FILES, ids=lambda b: b.splitlines()[0])
def test_each_file_shown_is_the_example(block: str) -> None:
    first, rest = block.split("\n", 1)
    path = ROOT / first.removeprefix("# ")
    assert path.read_text(encoding="utf-8") == rest


@pytest.mark.parametrize(("command", "expected"), _commands(), ids=lambda v: str(v)[:40])
def test_each_command_runs_as_shown(
    command: str, expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PACK)
    program, *args = shlex.split(command)
    assert program == "policyengine"
    code, out, err = run_cli(args)
    exits = [int(line[6:-1]) for line in expected if line.startswith("[exit ")]
    assert code == (exits[0] if exits else 0), out + err
    lines = (out + err).splitlines()
    at = 0
    for want in expected:
        if want == "..." or want.startswith("[exit "):
            continue
        assert want in lines[at:], f"`{want}` is not in the output after line {at}:\n{out}"
        at = lines.index(want, at) + 1
