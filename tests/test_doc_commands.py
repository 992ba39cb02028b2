"""The commands the README and docs/*.md show run as shown: each `policyengine` line of a
`sh` block exits 0 or 1 (findings), never with a usage error, invalid input or a crash;
each `$ policyengine` transcript of a `console` block prints every line it shows (`…`
stands for lines left out). A command on files the reader brings (`new.json`) is left
out; what a command writes goes to a temporary folder."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

# The tutorial's commands run in the folder it builds: tests/test_tutorial.py runs them there.
PAGES = [
    ROOT / "README.md",
    *sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "tutorial-org-pack.md"),
]
_BLOCK = re.compile(r"^```(sh|console)\n(.*?)^```", re.S | re.M)


def _commands() -> list[tuple[str, list[str], list[str]]]:
    """(where, the command's arguments, the output lines a transcript shows)."""
    found: list[tuple[str, list[str], list[str]]] = []
    for page in PAGES:
        for kind, block in _BLOCK.findall(page.read_text(encoding="utf-8")):
            where = page.relative_to(ROOT).as_posix()
            if kind == "sh":
                for line in block.splitlines():
                    if line.startswith("policyengine "):
                        found.append((where, _words(line)[1:], []))
                continue
            for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
                command, *shown = part.splitlines()
                if command.startswith("policyengine "):
                    found.append((where, _words(command)[1:], shown))
    return found


def _words(line: str) -> list[str]:
    """The command's words, up to a redirection or pipe (what the shell does with stdout
    is not the command's)."""
    words = shlex.split(line, comments=True)
    cut = next((i for i, w in enumerate(words) if w.startswith((">", "|", "<"))), len(words))
    return words[:cut]


COMMANDS = _commands()


# A command several pages show runs once; each page's transcript is checked against it.
_RAN: dict[tuple[str, ...], tuple[int, str, str]] = {}


def _available(args: list[str]) -> bool:
    named = [a for a in args if a.endswith((".json", ".yaml")) or "/" in a]
    inputs = [a for a in named if "=" not in a]
    # A bundled pack is named by its path among the packs: `-p alicloud/governance.policy`.
    return all((ROOT / a).exists() or (ROOT / "policies" / a).exists() for a in inputs)


def test_the_pages_show_commands() -> None:
    pages = {where for where, _, _ in COMMANDS}
    assert {"README.md", "docs/inputs.md", "docs/explanations.md"} <= pages


@pytest.mark.parametrize(
    ("where", "args", "shown"),
    COMMANDS,
    ids=[f"{where}: {' '.join(args)}" for where, args, _ in COMMANDS],
)
def test_a_documented_command_runs_as_shown(
    where: str, args: list[str], shown: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _available(args):
        pytest.skip("runs on the reader's own files")
    ran = _RAN.get(tuple(args))
    if ran is None:
        for name in ("examples", "policies"):
            (tmp_path / name).symlink_to(ROOT / name)
        monkeypatch.chdir(tmp_path)  # whatever the command writes lands here
        ran = _RAN[tuple(args)] = run_cli(args)
    code, out, err = ran
    assert code in (0, 1), f"{where}: exit {code}\n{err}"
    printed = set(out.splitlines())
    missing = [line for line in shown if line.strip() not in ("", "…") and line not in printed]
    assert not missing, f"{where}: not printed: {missing}"
