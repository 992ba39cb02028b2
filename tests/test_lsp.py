"""The language server, end to end: started as a subprocess on stdio and driven by an LSP
client (pytest-lsp) over the bundled packs, as an editor would."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from conftest import ROOT, run_cli
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

from policyengine.core.source import Source
from policyengine.frontend import ast
from policyengine.frontend.formatter import format_text
from policyengine.frontend.parser import parse

PACK = ROOT / "policies" / "alicloud"
LOCATIONS = PACK / "ecs-locations.policy"
BASELINE = PACK / "baseline.policy"
MODEL = PACK / "ecs.model"


pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(
    scope="module",
    config=ClientServerConfig(server_command=[sys.executable, "-m", "policyengine", "lsp"]),
)
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        t.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
            root_uri=ROOT.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            t.TextDocumentItem(uri, "policyengine", 1, path.read_text() if text is None else text)
        )
    )
    return uri


async def _diagnostics(client: LanguageClient, uri: str) -> list[t.Diagnostic]:
    """The diagnostics of one document, once the server has published them."""
    for _ in range(20):  # one notification per file of the folder
        if uri in client.diagnostics:
            return client.diagnostics[uri]
        await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    raise AssertionError(f"no diagnostics published for {uri}")


def _apply(text: str, edits: list[t.TextEdit]) -> str:
    """The text after an action's edits, as an editor applies them (last first)."""
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def offset(p: t.Position) -> int:
        return starts[p.line] + p.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


async def _actions(client: LanguageClient, uri: str, at: t.Range) -> list[t.CodeAction]:
    found = await client.text_document_code_action_async(
        t.CodeActionParams(t.TextDocumentIdentifier(uri), at, t.CodeActionContext(diagnostics=[]))
    )
    return [a for a in found or [] if isinstance(a, t.CodeAction)]


def _at(text: str, needle: str, into: int = 0) -> t.Position:
    offset = text.index(needle) + into
    line = text.count("\n", 0, offset)
    return t.Position(line, offset - (text.rfind("\n", 0, offset) + 1))


async def test_a_typo_is_squiggled_and_fixed_by_its_action(client: LanguageClient) -> None:
    text = LOCATIONS.read_text().replace(
        'where scope == "Zone" require zone is set', 'where scope == "Zone" require zoen is set'
    )
    uri = _open(client, LOCATIONS, text)
    await _diagnostics(client, uri)
    (diag,) = [d for d in client.diagnostics[uri] if d.code == "PE104"]
    start = _at(text, "zoen is set")
    assert (diag.range.start, diag.range.end) == (
        start,
        t.Position(start.line, start.character + 4),
    )
    assert "did you mean `zone`" in diag.message
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(
            t.TextDocumentIdentifier(uri), diag.range, t.CodeActionContext(diagnostics=[diag])
        )
    )
    assert actions
    fix = next(a for a in actions if isinstance(a, t.CodeAction) and "zone" in a.title)
    assert fix.edit is not None and fix.edit.changes is not None
    (edit,) = fix.edit.changes[uri]
    lines = text.splitlines(keepends=True)
    line = lines[edit.range.start.line]
    fixed = line[: edit.range.start.character] + edit.new_text + line[edit.range.end.character :]
    lines[edit.range.start.line] = fixed
    assert "".join(lines) == LOCATIONS.read_text()


async def test_completion_after_disk_lists_its_attributes(client: LanguageClient) -> None:
    text = LOCATIONS.read_text().replace(
        "disk attach requires same zone", "disk attach requires same zone unless disk."
    )
    uri = _open(client, LOCATIONS, text)
    result = await client.text_document_completion_async(
        t.CompletionParams(t.TextDocumentIdentifier(uri), _at(text, "unless disk.", 12))
    )
    assert result is not None
    items = result.items if isinstance(result, t.CompletionList) else result
    labels = {i.label: i for i in items}
    assert {"zone", "region", "instance_id", "encrypted", "attachments"} <= set(labels)
    assert labels["encrypted"].detail == "bool"
    assert labels["zone"].kind == t.CompletionItemKind.Field


async def test_hover_on_zone_names_describe_disks(client: LanguageClient) -> None:
    text = LOCATIONS.read_text().replace(
        "disk attach requires same zone", 'disk attach requires same zone unless disk.zone == ""'
    )
    uri = _open(client, LOCATIONS, text)
    result = await client.text_document_hover_async(
        t.HoverParams(t.TextDocumentIdentifier(uri), _at(text, "disk.zone", 6))
    )
    assert result is not None and isinstance(result.contents, t.MarkupContent)
    assert "DescribeDisks" in result.contents.value and "`ZoneId`" in result.contents.value


async def test_hover_on_a_rule_says_what_explain_says(client: LanguageClient) -> None:
    text = LOCATIONS.read_text()
    uri = _open(client, LOCATIONS)
    result = await client.text_document_hover_async(
        t.HoverParams(t.TextDocumentIdentifier(uri), _at(text, "rule disk_zone", 6))
    )
    assert result is not None and isinstance(result.contents, t.MarkupContent)
    assert "disk attach" in result.contents.value and "zone" in result.contents.value


async def test_definition_of_attach_is_the_relation_in_the_model(client: LanguageClient) -> None:
    text = LOCATIONS.read_text()
    uri = _open(client, LOCATIONS)
    result = await client.text_document_definition_async(
        t.DefinitionParams(t.TextDocumentIdentifier(uri), _at(text, "disk attach requires", 6))
    )
    assert isinstance(result, list) and result
    (target,) = result
    assert isinstance(target, t.Location)
    assert Path(target.uri.removeprefix("file://")).resolve() == MODEL.resolve()
    model_line = MODEL.read_text().splitlines()[target.range.start.line]
    assert model_line.lstrip().startswith("relation disk attach instance")


async def test_formatting_equals_fmt(client: LanguageClient) -> None:
    messy = LOCATIONS.read_text().replace("  severity high", "      severity     high")
    uri = _open(client, LOCATIONS, messy)
    edits = await client.text_document_formatting_async(
        t.DocumentFormattingParams(t.TextDocumentIdentifier(uri), t.FormattingOptions(2, True))
    )
    assert edits is not None and len(edits) == 1
    assert edits[0].new_text == format_text(messy) == LOCATIONS.read_text()


async def test_symbols_and_references(client: LanguageClient) -> None:
    text = LOCATIONS.read_text()
    uri = _open(client, LOCATIONS)
    symbols = await client.text_document_document_symbol_async(
        t.DocumentSymbolParams(t.TextDocumentIdentifier(uri))
    )
    assert symbols is not None
    (policy,) = symbols
    assert isinstance(policy, t.DocumentSymbol) and policy.name == "ecs_locations"
    assert "disk_zone" in {c.name for c in policy.children or []}
    refs = await client.text_document_references_async(
        t.ReferenceParams(
            text_document=t.TextDocumentIdentifier(uri),
            position=_at(text, "disk attach requires", 0),
            context=t.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None and any(r.uri.endswith("ecs.model") for r in refs)


async def test_completion_after_a_comparison_offers_the_values_the_model_lists(
    client: LanguageClient,
) -> None:
    # ecs.model: `status: string  # Running | Stopped | ...`
    text = BASELINE.read_text().replace(
        "for each instance require every t", "for each instance where status == require every t"
    )
    uri = _open(client, BASELINE, text)
    result = await client.text_document_completion_async(
        t.CompletionParams(t.TextDocumentIdentifier(uri), _at(text, "status == ", 10))
    )
    assert result is not None
    items = result.items if isinstance(result, t.CompletionList) else result
    assert [i.label for i in items] == ['"Running"', '"Stopped"']
    assert {i.kind for i in items} == {t.CompletionItemKind.EnumMember}


OWN_MODEL = """\
model acme.own
kind instance id "i-" + 20 located in zone {
  status: string
}
"""


async def test_an_attribute_the_api_returns_is_declared_by_its_action(
    client: LanguageClient, tmp_path: Path
) -> None:
    """PE104 on an attribute the model lacks and DescribeInstances returns: the action
    adds `extend kind instance { os_type: string }` to the user's model, and `check`
    then accepts the policy."""
    (tmp_path / "acme").mkdir()
    model = tmp_path / "acme" / "own.model"
    model.write_text(OWN_MODEL)
    policy = tmp_path / "p.policy"
    rule = 'rule r { for each instance require os_type == "linux" }'
    text = f"use acme.own\npolicy p {{\n  {rule}\n}}\n"
    policy.write_text(text)
    uri = _open(client, policy)
    (diag,) = await _diagnostics(client, uri)
    start = _at(text, "os_type ==")
    assert diag.code == "PE104"
    assert (diag.range.start, diag.range.end) == (start, t.Position(2, start.character + 7))
    (declare,) = [a for a in await _actions(client, uri, diag.range) if "Declare" in a.title]
    assert declare.edit is not None and declare.edit.changes is not None
    assert list(declare.edit.changes) == [model.as_uri()]
    model.write_text(_apply(OWN_MODEL, declare.edit.changes[model.as_uri()]))
    assert model.read_text().endswith("extend kind instance { os_type: string }\n")
    assert run_cli(["check", str(policy)])[0] == 0


async def test_a_rule_gets_the_message_and_remediation_it_lacks(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = LOCATIONS.read_text().replace(
        "    remediation \"Record the instance's zone, and check that the zone belongs to the "
        "instance's region.\"\n",
        "",
    )
    uri = _open(client, LOCATIONS, text)
    rule = t.Range(_at(text, "rule instance_zone"), _at(text, "rule instance_zone", 4))
    stubs = {a.title: a for a in await _actions(client, uri, rule) if a.title.startswith("Add")}
    assert set(stubs) == {"Add a message", "Add a remediation"}
    for title, key in (("Add a message", "message"), ("Add a remediation", "remediation")):
        edit = stubs[title].edit
        assert edit is not None and edit.changes is not None
        fixed = _apply(text, edit.changes[uri])
        tree = parse(Source("p.policy", fixed))
        assert isinstance(tree, ast.PolicyFile)
        (instance_zone,) = [r for r in tree.policies[0].rules if r.name.text == "instance_zone"]
        assert instance_zone.get(key) is not None
        assert format_text(fixed) == fixed  # where `fmt` puts it, as `fmt` writes it
        copy = tmp_path / f"{key}.policy"
        copy.write_text(fixed)
        assert run_cli(["check", str(copy)])[0] == 0
    # A rule with a remediation is offered none.
    disk = t.Range(_at(text, "rule disk_zone"), _at(text, "rule disk_zone", 4))
    assert [
        a.title for a in await _actions(client, uri, disk) if a.title == "Add a remediation"
    ] == []
