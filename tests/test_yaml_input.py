"""YAML files (test files, waivers, parameters) hold JSON values only: a date, `!!binary`,
`!!set` or another tag, an alias bomb or a document nested past the limit is a clear
error at its line and column (exit 3), never a crash (exit 4) and never gigabytes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

# 798 bytes that expand to 10^9 strings when the value is walked.
BOMB = (
    "cases: &a [a, a, a, a, a, a, a, a, a, a]\n"
    + "".join(
        f"k{i}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(8)
    )
).ljust(798)
CASE = "{{name: x, rule: p.r, resources: [{resource}], expect: [{{resource: d, outcome: pass}}]}}"


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("p.policy").write_text(
        "use alicloud.ecs\n\npolicy p {\n  rule r {\n    for each disk require encrypted\n  }\n}\n",
        encoding="utf-8",
    )
    return tmp_path


def test_the_alias_bomb_fails_fast(pack: Path) -> None:
    assert len(BOMB.encode()) == 798
    Path("p.test.yaml").write_text(BOMB, encoding="utf-8")
    started = time.perf_counter()
    code, _, err = run_cli(["test", "p.test.yaml"])
    assert time.perf_counter() - started < 10
    assert code == 3
    assert "p.test.yaml:4:" in err and "aliases expand to more than 10,000 values" in err


@pytest.mark.parametrize(
    ("value", "at", "says"),
    [
        ("{kind: disk, id: d, creation_time: 2024-01-01}", "2024", "a date or time"),
        ("{kind: disk, id: d, blob: !!binary aGVsbG8=}", "!!binary", "binary data (!!binary)"),
        ("{kind: disk, id: d, tags: !!set {a, b}}", "!!set", "a set (!!set)"),
        ("{kind: disk, id: d, size: .inf}", ".inf", ".inf is not a JSON number"),
        ("{kind: disk, id: d, 22: open}", "22", "a key must be a string"),
        ("{kind: disk, id: !custom d}", "!custom", "the tag !custom is not a JSON value"),
    ],
)
def test_a_value_json_cannot_hold_is_an_error_at_its_place(
    pack: Path, value: str, at: str, says: str
) -> None:
    line = "  - " + CASE.format(resource=value)
    Path("p.test.yaml").write_text(f"cases:\n{line}\n", encoding="utf-8")
    code, _, err = run_cli(["test", "p.test.yaml"])
    assert code == 3, err
    assert f"p.test.yaml:2:{line.index(at) + 1}: {says}" in err


def test_a_waivers_file_with_an_alias_bomb_is_a_diagnostic(pack: Path) -> None:
    Path("w.yaml").write_text(BOMB.replace("cases:", "waivers:"), encoding="utf-8")
    code, _, err = run_cli(["waivers", "check", "w.yaml"])
    assert code == 3 and "aliases expand" in err and "w.yaml:4:" in err


def test_a_parameters_file_with_a_date_is_an_error_at_its_place(pack: Path) -> None:
    Path("params.yaml").write_text("since: 2024-01-01\n", encoding="utf-8")
    snapshot = str(ROOT / "examples" / "ecs-account" / "snapshot.json")
    code, _, err = run_cli(
        ["evaluate", "--policy", "p.policy", "--params", "params.yaml", snapshot]
    )
    assert code == 3 and "params.yaml:1:8: a date or time is not a JSON value" in err


def test_anchors_within_the_budget_are_read(pack: Path) -> None:
    disk = "{kind: disk, id: d, region: cn-hangzhou, zone: cn-hangzhou-h, encrypted: true}"
    Path("p.test.yaml").write_text(
        f"shared: &disk {disk}\ncases:\n  - " + CASE.format(resource="*disk") + "\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(["test", "p.test.yaml"])
    assert "alias" not in err and "not a JSON" not in err, err
