"""The checker, in two halves: what it reports (codes and lines) and how that reads.

What: `tests/checker/*.policy` and `*.model` are Starlark-style case files. Cases are
separated by a line `---`; each starts with a comment saying what it shows, and each line
that must draw a diagnostic ends with `# expect: PE1xx` (several codes allowed).
Policy cases start with `use alicloud.ecs`; model cases are a model `checker.case`,
loaded through a policy that uses it. Every case goes through `loader.load`, the path
the CLI takes, and the set of (line, code) it reports must equal the expectations
exactly: a case without expectations must load cleanly. Wording is not tested here.

How: a few representative cases are rendered with `render_text` and pinned by text
snapshots, from a temporary folder so that file names stay relative and stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from policyengine.core.diagnostics import Diagnostic, DiagnosticError
from policyengine.frontend.loader import load

CASES_DIR = Path(__file__).resolve().parent / "checker"
_EXPECT = re.compile(r"#\s*expect:\s*(PE\d{3}(?:[\s,]+PE\d{3})*)\s*$")


@dataclass(frozen=True)
class Case:
    file: str  # the case file's name, e.g. `names.policy`
    line: int  # where the case starts in that file
    text: str
    title: str
    expected: frozenset[tuple[int, str]]

    @property
    def is_model(self) -> bool:
        return self.file.endswith(".model")

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def _read_cases(path: Path) -> list[Case]:
    cases: list[Case] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    start = 0
    for i in range(len(lines) + 1):
        if i < len(lines) and lines[i] != "---":
            continue
        chunk = lines[start:i]
        expected = {
            (n, code)
            for n, text in enumerate(chunk, start=1)
            if (m := _EXPECT.search(text))
            for code in re.findall(r"PE\d{3}", m.group(1))
        }
        cases.append(
            Case(
                file=path.name,
                line=start + 1,
                text="\n".join(chunk) + "\n",
                title=chunk[0].lstrip("# ") if chunk else "",
                expected=frozenset(expected),
            )
        )
        start = i + 1
    return cases


CASES = [case for path in sorted(CASES_DIR.glob("*.*")) for case in _read_cases(path)]


def _params() -> list[object]:
    return [pytest.param(case, id=case.id) for case in CASES]


def _write(case: Case, folder: Path) -> tuple[Path, str]:
    """The case on disk; returns the policy to load and the name of the case's file."""
    if case.is_model:
        (folder / "checker").mkdir()
        (folder / "checker" / "case.model").write_text(case.text, encoding="utf-8")
        (folder / "case.policy").write_text("use checker.case\n", encoding="utf-8")
        return Path("case.policy"), "case.model"
    (folder / "case.policy").write_text(case.text, encoding="utf-8")
    return Path("case.policy"), "case.policy"


def _diagnostics(policy: Path) -> list[Diagnostic]:
    try:
        loaded = load([policy])
    except DiagnosticError as exc:
        return list(exc.diagnostics)
    return list(loaded.warnings)


# ---------------------------------------------------------------- the case files


def test_case_files_are_well_formed() -> None:
    assert len(CASES) > 60
    for case in CASES:
        assert case.text.startswith("#"), (
            f"{case.id}: a case starts with a comment saying what it shows"
        )
        body = [t for t in case.text.splitlines() if t and not t.startswith("#")]
        first = "model checker.case" if case.is_model else "use alicloud.ecs"
        assert body[0] == first, f"{case.id}: a case starts with `{first}`"
        assert "# expect" not in case.text or case.expected, case.id


@pytest.mark.parametrize("case", _params())
def test_checker_case(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    policy, name = _write(case, tmp_path)
    diags = _diagnostics(policy)
    found = {(d.span.line, d.code) for d in diags if Path(d.span.file).name == name}
    elsewhere = [
        f"{d.span.location()} {d.code} {d.message}" for d in diags if Path(d.span.file).name != name
    ]
    assert elsewhere == []
    assert sorted(found) == sorted(case.expected), "\n\n".join(map(str, diags))


# ---------------------------------------------------------------- rendered diagnostics


def _policy(*lines: str) -> str:
    return "use alicloud.ecs\n\npolicy p {\n" + "".join(f"  {line}\n" for line in lines) + "}\n"


RENDERED: dict[str, str] = {
    # The acceptance case: file:line:column, the line, a caret under `zoneid`, a suggestion.
    "misspelt_attribute": _policy(
        "rule r {", '  for each disk require zoneid == "cn-hangzhou-b"', "}"
    ),
    "unknown_kind": _policy("rule r {", "  dsik attach requires same zone", "}"),
    "unknown_relation": _policy("rule r {", "  disk atach requires same zone", "}"),
    "ambiguous_sentence": _policy("rule r {", "  instance use requires same region", "}"),
    "same_zone_with_a_region_kind": _policy(
        "rule r {", "  instance join security_group requires same zone", "}"
    ),
    "alias_required": _policy(
        "rule r {", "  security_group grant security_group requires same region", "}"
    ),
    "quoted_bool": _policy("rule r {", '  for each disk require encrypted == "true"', "}"),
    "string_as_a_condition": _policy("rule r {", "  for each instance require status", "}"),
    "invalid_regex": _policy("rule r {", "  for each disk require category matches /(/", "}"),
    "param_shadows_an_attribute": _policy(
        'param zone: string = "cn-hangzhou-b"',
        "rule r {",
        '  for each disk require zone == "cn-hangzhou-b"',
        "}",
    ),
    "unknown_placeholder": _policy(
        "rule r {",
        "  for each disk require size <= 3",
        '  message "disk {id} is {sise} GiB"',
        "}",
    ),
    # Each bad placeholder is reported at its own span, a conversion like `!r` too.
    "placeholders_one_by_one": _policy(
        "rule r {",
        "  for each disk require size <= 3",
        '  message "disk {id!r} is {sise} GiB in {zone.x}"',
        "}",
    ),
    "two_statements_and_a_duplicate_rule": _policy(
        "rule r {",
        "  for each disk require encrypted",
        "  for each disk require size > 1",
        "}",
        "rule r { for each disk require encrypted }",
    ),
}


@pytest.mark.parametrize("case", RENDERED, ids=str)
def test_rendered_diagnostics(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("case.policy").write_text(RENDERED[case], encoding="utf-8")
    with pytest.raises(DiagnosticError) as info:
        load([Path("case.policy")])
    assert str(tmp_path) not in str(info.value)
    assert str(info.value) + "\n" == text_snapshot


def test_acceptance_misspelt_attribute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("case.policy").write_text(RENDERED["misspelt_attribute"], encoding="utf-8")
    with pytest.raises(DiagnosticError) as info:
        load([Path("case.policy")])
    lines = str(info.value).splitlines()
    assert lines[1] == " --> case.policy:5:27"
    assert lines[3] == '5 |     for each disk require zoneid == "cn-hangzhou-b"'
    caret = lines[4]
    assert caret.index("^") == lines[3].index("zoneid")
    assert caret.count("^") == len("zoneid")
    assert lines[-1].endswith("did you mean `zone`?")


@pytest.mark.parametrize("folder", [".", "sub"])
def test_model_diagnostics_name_the_model_relative_to_the_working_directory(
    folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A model found next to the policy used to be named by its absolute, resolved path.
    monkeypatch.chdir(tmp_path)
    (tmp_path / folder / "checker").mkdir(parents=True)
    (tmp_path / folder / "checker" / "case.model").write_text(
        'model checker.case\nkind box id "b-" located in zone { size: integer }\n'
    )
    (tmp_path / folder / "case.policy").write_text("use checker.case\n")
    for policy in (Path(folder) / "case.policy", tmp_path / folder / "case.policy"):
        with pytest.raises(DiagnosticError) as info:
            load([policy])
        assert info.value.diagnostics[0].span.file == str(Path(folder) / "checker" / "case.model")
