"""The caret under a diagnostic stands under its text when the line holds wide (CJK)
characters: measured in terminal columns, as rich measures them."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli
from rich.cells import cell_len

from policyengine.core.diagnostics import Diagnostic, cells, excerpt
from policyengine.core.source import Source, Span


def _caret_column(lines: list[str]) -> tuple[str, str]:
    """The source line and the caret line, each without the `N | ` gutter."""
    source_line = next(line for line in lines if line[:1].isdigit())
    caret_line = lines[-1]
    gutter = source_line.index("| ") + 2
    return source_line[gutter:], caret_line[gutter:]


def test_cells_agree_with_rich() -> None:
    for text in ("abc", "磁盘加密", "ｆｕｌｌ", "é", "e\u0301", "标题 title 名前"):
        assert cells(text) == cell_len(text), text


def test_the_caret_stands_under_the_name_after_cjk_text() -> None:
    text = 'rule r "磁盘都要加密" { for each disk require encryptd == true }\n'
    start = text.index("encryptd")
    lines = excerpt(Span(Source("p.policy", text), start, start + len("encryptd")), "here")
    assert lines[0] == " --> p.policy:1:" + str(start + 1)
    source, caret = _caret_column(lines)
    at = caret.index("^")
    assert at == cell_len(source[: source.index("encryptd")])
    assert caret[at:].startswith("^^^^^^^^ here")


def test_check_points_at_the_unknown_attribute_after_a_cjk_title(tmp_path: Path) -> None:
    policy = tmp_path / "cjk.policy"
    policy.write_text(
        'use alicloud.ecs\n\npolicy cjk "中文策略" {\n'
        '  rule r "磁盘都要加密" { for each disk require encryptd == true }\n}\n',
        encoding="utf-8",
    )
    code, out, err = run_cli(["check", str(policy)])
    assert code == 3
    lines = out.splitlines()
    row = next(i for i, line in enumerate(lines) if "磁盘都要加密" in line and "|" in line)
    source, caret = _caret_column(lines[row : row + 2])
    assert caret.index("^") == cell_len(source[: source.index("encryptd")]), out


def test_a_diagnostic_without_wide_text_is_unchanged() -> None:
    text = "policy p {\n  rule r { for each disk require encryptd == true }\n}\n"
    start = text.index("encryptd")
    diag = Diagnostic("PE104", "unknown attribute", Span(Source("p", text), start, start + 8))
    lines = excerpt(diag.span, "")
    source, caret = _caret_column(lines)
    assert caret.index("^") == source.index("encryptd")
