"""Outputs cannot be turned against their reader: a value from the snapshot holding a
newline, a workflow command, an escape sequence, a right-to-left override, a mention or a
link is shown as text in every format, and acts on nothing. And the JSON proofs
`explain` prints validate against the shipped schema, waivers included."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT, run_cli

EVIL = "web\n::error file=x.py::pwned\r\x1b[31mred \u202egnp.exe @octocat [click](https://evil.example)"
POLICY = """use alicloud.ecs

policy named {
  rule plain "Instances have plain names" {
    for each instance require instance_name == "plain"
    message "instance {id} is named {instance_name}"
  }
}
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    doc = json.loads((ROOT / "examples" / "ecs-account" / "snapshot.json").read_text("utf-8"))
    for r in doc["resources"]:
        if r["kind"] == "instance":
            r["instance_name"] = EVIL
    Path("snapshot.json").write_text(json.dumps(doc), encoding="utf-8")
    Path("named.policy").write_text(POLICY, encoding="utf-8")
    return tmp_path


def _evaluate(fmt: str) -> str:
    code, out, err = run_cli(
        ["evaluate", "--policy", "named.policy", "--format", fmt, "snapshot.json"]
    )
    assert code == 1, err
    return out


@pytest.mark.parametrize("fmt", ["text", "github", "markdown", "junit", "sarif", "json"])
def test_no_value_starts_a_line_or_a_command(work: Path, fmt: str) -> None:
    out = _evaluate(fmt)
    for line in out.splitlines():
        assert not line.lstrip().startswith("::error file=x.py"), line
    assert "\x1b" not in out and "\r" not in out
    if fmt != "json":  # JSON keeps the data as it was; every other format is read by people
        assert "\u202e" not in out
    if fmt in ("text", "markdown", "github"):
        assert "pwned" in out  # shown, as text


def test_text_shows_the_characters_as_escapes(work: Path) -> None:
    out = _evaluate("text")
    assert "web\\n::error file=x.py::pwned\\r\\x1b[31mred \\u202egnp.exe" in out


def test_markdown_neither_mentions_nor_links(work: Path) -> None:
    out = _evaluate("markdown")
    assert "@octocat" not in out and "&#64;octocat" in out
    assert "](https://" not in out and "https://" not in out


def test_junit_is_well_formed_xml(work: Path) -> None:
    root = ET.fromstring(_evaluate("junit"))
    assert root.iter("testcase")


def test_explain_text_shows_the_characters_as_escapes(work: Path) -> None:
    code, out, _ = run_cli(["explain", "--policy", "named.policy", "snapshot.json"])
    assert code == 1
    assert "\x1b" not in out and "\u202e" not in out
    assert not any(line.startswith("::error") for line in out.splitlines())


def test_every_json_proof_validates_against_the_shipped_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real output of `explain --format json` over the example account, with a waiver
    covering one finding, checked against schemas/proof.schema.json."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "policies" / "alicloud", "pack")
    shutil.copy(ROOT / "examples" / "ecs-account" / "snapshot.json", "snapshot.json")
    code, out, _ = run_cli(["explain", "--policy", "pack", "--format", "json", "snapshot.json"])
    first = json.loads(out)["explanations"][0]
    Path("pack/waivers.yaml").write_text(
        "waivers:\n"
        f"  - {{rule: {first['rule']}, resource: {first['resource']['id']}, reason: known,"
        " owner: team, expires: 2999-01-01}\n",
        encoding="utf-8",
    )
    code, out, err = run_cli(["explain", "--policy", "pack", "--format", "json", "snapshot.json"])
    docs = json.loads(out)["explanations"]
    assert code == 1, err
    schema = json.loads((ROOT / "schemas" / "proof.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    assert any(d["waiver"] is not None for d in docs)
    for doc in docs:
        errors = sorted(validator.iter_errors(doc), key=str)
        assert not errors, errors[0].message
