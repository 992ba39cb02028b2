"""The TextMate grammar in editors/ highlights exactly the keywords of the Lark grammar,
and its patterns compile; a keyword added to one and not the other fails here."""

from __future__ import annotations

import json
import os
import re
import zipfile

import pytest
from conftest import ROOT

TM = ROOT / "editors" / "vscode" / "syntaxes" / "policyengine.tmLanguage.json"


def _lark_keywords() -> set[str]:
    text = (ROOT / "grammar" / "policy.lark").read_text(encoding="utf-8")
    return set(re.findall(r'"([a-z_]+)"', text))


def _grammar() -> dict[str, object]:
    doc = json.loads(TM.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def test_keywords_match_the_lark_grammar() -> None:
    patterns = _grammar()["repository"]["keywords"]["patterns"]  # type: ignore[index]
    listed: list[str] = []
    for pattern in patterns:
        match = re.fullmatch(r"\(\?<!\[\.\\w\]\)\((.*)\)\(\?!\\w\)", pattern["match"])
        assert match, pattern["match"]
        listed += match.group(1).split("|")
    assert len(listed) == len(set(listed)), "a keyword is listed twice"
    assert set(listed) == _lark_keywords()


def test_patterns_compile_and_highlight_a_rule() -> None:
    repo = _grammar()["repository"]
    assert isinstance(repo, dict)
    line = "for each disk where size > 10 require encrypted == true  # note"
    found: dict[str, str] = {}
    for key, rule in repo.items():
        for sub in rule.get("patterns", [rule]):
            if "match" in sub:
                for m in re.finditer(sub["match"], line):
                    found.setdefault(m.group(), sub.get("name", key))
    assert found["for"].startswith("keyword.other")
    assert found["where"].startswith("keyword")
    assert found["true"].startswith("constant.language")
    assert found["# note"].startswith("comment")
    assert "size" not in found  # an attribute is not a keyword
    keywords = repo["keywords"]["patterns"][1]["match"]
    assert [m.group() for m in re.finditer(keywords, "zone == disk.zone")] == ["zone"]


def test_the_extension_points_at_the_grammar() -> None:
    package = json.loads((ROOT / "editors" / "vscode" / "package.json").read_text())
    (grammar,) = package["contributes"]["grammars"]
    assert (ROOT / "editors" / "vscode" / grammar["path"]).resolve() == TM.resolve()
    assert package["contributes"]["languages"][0]["extensions"] == [".policy", ".model"]


VSIX = ROOT / "editors" / "vscode" / "policyengine.vsix"


def test_the_extension_package_holds_the_grammar_and_the_client() -> None:
    """`.ci/run` builds the extension (npm ci, tsc, vsce package); its package must carry
    the grammar, the compiled client and the language client library it loads."""
    if not VSIX.exists():
        message = f"{VSIX} is not built; .ci/run builds it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with zipfile.ZipFile(VSIX) as package:
        names = set(package.namelist())
        manifest = json.loads(package.read("extension/package.json"))
        client = package.read("extension/out/extension.js").decode()
    assert {
        "extension/syntaxes/policyengine.tmLanguage.json",
        "extension/language-configuration.json",
        "extension/node_modules/vscode-languageclient/package.json",
    } <= names
    assert manifest["main"] == "./out/extension.js"
    setting = manifest["contributes"]["configuration"]["properties"]["policyengine.server.command"]
    assert setting["default"] == ["policyengine", "lsp"]
    assert "vscode-languageclient/node" in client and "server.command" in client
