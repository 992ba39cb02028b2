"""`policyengine fmt`: the printer keeps the syntax tree and the comments, and is idempotent.

Property tests over every policy and model in the repository (case files are split at
their `---` lines) and over generated ones with random layout, parentheses and comments:
`parse(fmt(x))` has the tree of `parse(x)`, `fmt(fmt(x)) == fmt(x)`, and the comments come
out in the order they went in.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, run_cli, transcript
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from syrupy.assertion import SnapshotAssertion

from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.source import Source
from policyengine.frontend import ast
from policyengine.frontend.formatter import comments, format_text
from policyengine.frontend.parser import parse


def _chunks() -> list[tuple[str, str]]:
    """Every chunk of every policy and model file: split, not parsed, so that collecting
    the suite parses nothing (each test parses its own chunk)."""
    out = []
    for folder in ("policies", "examples", "tests"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".policy", ".model"):
                continue
            text = path.read_text(encoding="utf-8")
            for i, chunk in enumerate(text.split("\n---\n")):
                out.append((f"{path.relative_to(ROOT)}#{i}", chunk))
    return out


# Every text is parsed under the name `format_text` gives it: the parser keeps the trees of
# the texts it has seen by name and text, so a text is parsed once however often a test
# asks (a file already formatted is its own formatting).
NAME = "<text>"


def _parses(text: str) -> bool:
    try:
        parse(Source(NAME, text))
    except DiagnosticError:
        return False  # a case that shows a syntax error
    return True


CHUNKS = _chunks()


def _same_tree(before: str, after: str) -> None:
    old, new = parse(Source(NAME, before)), parse(Source(NAME, after))
    assert ast.dump(new) == ast.dump(old)
    assert new == old


def _roundtrip(text: str) -> str:
    formatted = format_text(text)
    _same_tree(text, formatted)
    assert format_text(formatted) == formatted
    assert [c.text for c in comments(formatted)] == [c.text for c in comments(text)]
    return formatted


def test_the_repository_has_enough_cases() -> None:
    assert sum(_parses(text) for _, text in CHUNKS) > 80


@pytest.mark.parametrize(("name", "text"), CHUNKS, ids=[n for n, _ in CHUNKS])
def test_repository_files_keep_their_tree(name: str, text: str) -> None:
    if _parses(text):
        _roundtrip(text)
    else:  # a case that shows a syntax error: fmt refuses it as the parser does
        with pytest.raises(DiagnosticError):
            format_text(text)


def test_bundled_packs_are_formatted() -> None:
    for path in sorted((ROOT / "policies").rglob("*")):
        if path.suffix in (".policy", ".model"):
            text = path.read_text(encoding="utf-8")
            assert format_text(text) == text, path


# ---------------------------------------------------------------- generated files

_LEAVES = [
    "encrypted == true",
    "size >= 10",
    'tags["cost center"] is set',
    'zone in ["a", "b"]',
    r"id matches /d-[a-z]+\/x/",
    r'status matches "In_\\w+"',
    "encrypted",
    'category != "local"',
    "count(attachments) > 1",
    'count(a in attachments where a.device == "x") == 0',
    "len(tags) < 3",
    "delete_with_instance is not missing",
    'lower(status) == "x"',
    "id matches kind format",
    "region_of(zone) == region",
    "port_range covers 22",
    "region not in allowed",
    "count(disk attach this) <= -1",
    "tags[t] is empty",
    "this.size > 0",
]

_SEP = st.sampled_from([" ", "  ", "\n      ", " # a note\n    ", "\n\n  "])


@st.composite
def _condition(draw: st.DrawFn, depth: int = 0) -> str:
    choice = draw(st.integers(0, 6 if depth < 3 else 0))
    if choice <= 1:
        return draw(st.sampled_from(_LEAVES))
    if choice in (2, 3):
        word = "and" if choice == 2 else "or"
        left, right = draw(_condition(depth + 1)), draw(_condition(depth + 1))
        if draw(st.booleans()) or left.startswith(("every", "any", "no ")):
            left = f"({left})"
        return f"{left}{draw(_SEP)}{word} {right}"
    if choice == 4:
        return f"not {draw(_condition(depth + 1))}"
    if choice == 5:
        return f"({draw(_condition(depth + 1))})"
    word = draw(st.sampled_from(["every", "any", "no"]))
    where = ""
    if draw(st.booleans()):
        inner = draw(_condition(depth + 1))
        where = f" where ({inner})" if draw(st.booleans()) else f" where {inner}"
    return f"{word} r in rules{where}:{draw(_SEP)}{draw(_condition(depth + 1))}"


@st.composite
def _statement(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        head = draw(st.sampled_from(["disk attach", "disk attach instance", "sg grant sg as p"]))
        text = f"{head} requires same {draw(st.sampled_from(['zone', 'region']))}"
    else:
        text = "for each " + draw(st.sampled_from(["disk", "disk as d", "resource"]))
        if draw(st.booleans()):
            text += f" where {draw(_condition())}"
        text += f"{draw(_SEP)}{draw(st.sampled_from(['require', 'forbid']))} {draw(_condition())}"
    if draw(st.booleans()):
        text += f" where {draw(_condition())}" if text.endswith(("zone", "region")) else ""
    if draw(st.booleans()):
        text += f"{draw(_SEP)}unless {draw(_condition())}"
    return text


@st.composite
def _policy(draw: st.DrawFn) -> str:
    rules = []
    for i in range(draw(st.integers(1, 3))):
        items = [draw(_statement())]
        items += draw(
            st.lists(
                st.sampled_from(
                    ["severity high", 'message "disk {id} \\"quoted\\""', 'remediation "Fix ü."']
                ),
                max_size=2,
                unique=True,
            )
        )
        items = draw(st.permutations(items))
        title = draw(st.sampled_from(["", ' "A title"']))
        rules.append(f"rule r{i}{title} {{{draw(_SEP)}" + draw(_SEP).join(items) + "\n}")
    params = draw(
        st.lists(
            st.sampled_from(
                [
                    'param allowed: list of string = ["a", "b"]',
                    "param n: int = -3",
                    "param on: bool",
                ]
            ),
            max_size=2,
            unique=True,
        )
    )
    body = draw(_SEP).join([*params, *rules])
    return f"# head\nuse alicloud.ecs  # trailing\npolicy p {{ {body} }}  # end\n"


@st.composite
def _model(draw: st.DrawFn) -> str:
    types = [
        "string",
        "optional int",
        "list of id of disk",
        "map of string",
        "{ a: string, b: optional list of int }",
        "list of { a_long_name: string, another_long_name: optional string, third: int }",
    ]
    fields = [f"f{i}: {draw(st.sampled_from(types))}" for i in range(draw(st.integers(0, 4)))]
    sep = draw(_SEP)
    kind = (
        'kind disk id "d-" + 20 '
        + draw(
            st.sampled_from(
                ["located in zone", 'located in zone when s == "Z" else region', "global"]
            )
        )
        + (" unique per region" if draw(st.booleans()) else "")
        + (" {" + sep + sep.join(fields) + "\n}" if fields or draw(st.booleans()) else "")
    )
    relation = "relation disk attach instance via disk.instance_id"
    if draw(st.booleans()):
        relation += ", disk.attachments[*].instance_id"
    if draw(st.booleans()):
        relation += ' when disk.kind == "x"'
    if draw(st.booleans()):
        relation += ' may dangle "gone"'
    record = "record r { x: string  y: port_range }"
    items = draw(st.permutations([kind, relation, record, "kind key named by name global"]))
    return 'model m.x "Title"\n' + draw(_SEP).join(items) + "\n"


@settings(deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_policy())
def test_generated_policies_keep_their_tree(text: str) -> None:
    try:
        parse(Source(NAME, text))
    except DiagnosticError:
        assume(False)  # a quantifier where the grammar does not allow one
    _roundtrip(text)


@settings(deadline=None)
@given(_model())
def test_generated_models_keep_their_tree(text: str) -> None:
    _roundtrip(text)


# ---------------------------------------------------------------- the layout and the CLI

MESSY = """\
# A policy as someone might type it.
use   alicloud.ecs
policy demo "Demo" {   # the demo
  param allowed_regions : list of string=["cn-hangzhou"]
    rule encrypted {for each disk require encrypted==true
  remediation "Encrypt it." }


  rule open_ports "No open ports" { severity critical
    for each security_group forbid any r in rules where r.direction == "ingress" and \
r.policy == "Accept" and r.source_cidr_ip == "0.0.0.0/0": r.port_range covers 22 or \
r.port_range covers 3389
  }
  rule zone { disk attach requires same zone unless (disk.category == "local" # why
      or disk.size > 100) }
}
"""


def test_layout(text_snapshot: SnapshotAssertion) -> None:
    assert _roundtrip(MESSY) == text_snapshot


def test_fmt_check_passes_on_the_bundled_packs() -> None:
    code, out, err = run_cli(["fmt", "--check", str(ROOT / "policies")])
    assert code == 0, out
    files = [p for p in (ROOT / "policies").rglob("*") if p.suffix in (".policy", ".model")]
    assert err == f"0 files would be reformatted, {len(files)} already formatted\n"


def test_fmt_check_prints_a_diff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("messy.policy").write_text(MESSY, encoding="utf-8")
    assert transcript(["fmt", "--check", "messy.policy"]) == text_snapshot
    assert Path("messy.policy").read_text(encoding="utf-8") == MESSY


def test_fmt_rewrites_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("messy.policy").write_text(MESSY, encoding="utf-8")
    assert run_cli(["fmt", "."])[0] == 0
    assert Path("messy.policy").read_text(encoding="utf-8") == format_text(MESSY)
    assert run_cli(["fmt", "--check", "."])[0] == 0


def test_fmt_stdin_to_stdout() -> None:
    code, out, _ = run_cli(["fmt", "-"], stdin=MESSY)
    assert code == 0
    assert out == format_text(MESSY)


def test_fmt_leaves_a_file_that_does_not_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.policy").write_text("policy p {\n", encoding="utf-8")
    code, _, err = run_cli(["fmt", "bad.policy"])
    assert code == 3
    assert "error[PE001]: unexpected end of file" in err
    assert Path("bad.policy").read_text(encoding="utf-8") == "policy p {\n"
