"""`policyengine lsp`: the language server an editor starts on stdio (pygls, lsprotocol).

Every answer comes from one check of the folder (`folder`), which reads the loader's front
end: the squiggles are
`check`'s diagnostics, the formatting is `fmt`'s, a rule's hover is `explain --rule`'s
sentence. Diagnostics are published for every file of the folder, so an edit to a model
shows the problems it causes in the policies beside it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from policyengine import __version__
from policyengine.core.diagnostics import Diagnostic, Level
from policyengine.core.source import Span
from policyengine.lsp import actions, completion, folder, hover, navigation
from policyengine.lsp.folder import Analysis

DEBOUNCE = 0.15  # seconds of quiet typing before a folder is checked again

_KINDS = {
    "keyword": t.CompletionItemKind.Keyword,
    "kind": t.CompletionItemKind.Class,
    "attribute": t.CompletionItemKind.Field,
    "function": t.CompletionItemKind.Function,
    "relation": t.CompletionItemKind.Method,
    "param": t.CompletionItemKind.Variable,
    "define": t.CompletionItemKind.Function,
    "variable": t.CompletionItemKind.Variable,
    "value": t.CompletionItemKind.EnumMember,
}
_SYMBOLS = {
    "policy": t.SymbolKind.Module,
    "rule": t.SymbolKind.Method,
    "kind": t.SymbolKind.Class,
    "relation": t.SymbolKind.Interface,
    "define": t.SymbolKind.Function,
    "param": t.SymbolKind.Constant,
    "record": t.SymbolKind.Struct,
}


def position(text: str, offset: int) -> t.Position:
    """A character offset as an LSP position: line, and UTF-16 units into the line."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return t.Position(line, len(text[start:offset].encode("utf-16-le")) // 2)


def offset_of(text: str, pos: t.Position) -> int:
    start = 0
    for _ in range(pos.line):
        found = text.find("\n", start)
        if found < 0:
            return len(text)
        start = found + 1
    end = text.find("\n", start)
    line = text[start : len(text) if end < 0 else end]
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return start + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return start + len(line)


def span_range(text: str, span: Span) -> t.Range:
    return t.Range(position(text, span.start), position(text, max(span.end, span.start)))


class PolicyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("policyengine", __version__)
        self.analyses: dict[Path, Analysis] = {}  # the last check, by folder
        self.pending: dict[Path, asyncio.Task[None]] = {}

    def overlay(self) -> dict[Path, str]:
        return {
            Path(to_fs_path(uri) or uri).resolve(): doc.source
            for uri, doc in self.workspace.text_documents.items()
        }

    def analyse(self, path: Path) -> Analysis:
        checked = folder.analyse(path, self.overlay())
        self.analyses[path.parent] = checked
        return checked

    def current(self, uri: str) -> tuple[Path, Analysis]:
        path = Path(to_fs_path(uri) or uri)
        found = self.analyses.get(path.parent)
        if found is None or path not in found.texts or found.texts[path] != self.text(uri):
            found = self.analyse(path)
        return path, found

    def text(self, uri: str) -> str:
        return self.workspace.get_text_document(uri).source

    def publish(self, checked: Analysis) -> None:
        for path, diags in checked.diagnostics.items():
            text = checked.texts.get(path, "")
            uri = from_fs_path(str(path)) or str(path)
            items = [lsp_diagnostic(text, d) for d in diags]
            if checked.trouble:
                items.append(
                    t.Diagnostic(
                        range=t.Range(t.Position(0, 0), t.Position(0, 0)),
                        message=checked.trouble,
                        severity=t.DiagnosticSeverity.Error,
                        source="policyengine",
                    )
                )
            self.text_document_publish_diagnostics(
                t.PublishDiagnosticsParams(uri=uri, diagnostics=items)
            )


def lsp_diagnostic(text: str, d: Diagnostic) -> t.Diagnostic:
    message = d.message + (f": {d.label}" if d.label else "")
    extra = [*d.notes, *([f"help: {d.help}"] if d.help else [])]
    if extra:
        message += "\n" + "\n".join(extra)
    return t.Diagnostic(
        range=span_range(text, d.span),
        message=message,
        severity=t.DiagnosticSeverity.Error
        if d.level is Level.ERROR
        else t.DiagnosticSeverity.Warning,
        code=d.code,
        source="policyengine",
    )


server = PolicyServer()


async def _check_later(ls: PolicyServer, uri: str) -> None:
    await asyncio.sleep(DEBOUNCE)
    path = Path(to_fs_path(uri) or uri)
    ls.publish(ls.analyse(path))


def _schedule(ls: PolicyServer, uri: str) -> None:
    folder = Path(to_fs_path(uri) or uri).parent
    previous = ls.pending.get(folder)
    if previous is not None and not previous.done():
        previous.cancel()
    ls.pending[folder] = asyncio.ensure_future(_check_later(ls, uri))


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: PolicyServer, params: t.DidOpenTextDocumentParams) -> None:
    ls.publish(ls.analyse(Path(to_fs_path(params.text_document.uri) or "")))


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: PolicyServer, params: t.DidChangeTextDocumentParams) -> None:
    _schedule(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: PolicyServer, params: t.DidSaveTextDocumentParams) -> None:
    _schedule(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=[".", " ", '"']))
def on_completion(ls: PolicyServer, params: t.CompletionParams) -> t.CompletionList:
    path, checked = ls.current(params.text_document.uri)
    text = checked.texts.get(path, "")
    items = completion.completions(checked, path, offset_of(text, params.position))
    return t.CompletionList(
        is_incomplete=False,
        items=[
            t.CompletionItem(
                label=c.label,
                kind=_KINDS.get(c.kind, t.CompletionItemKind.Text),
                detail=c.detail or None,
                documentation=c.documentation or None,
            )
            for c in items
        ],
    )


@server.feature(t.TEXT_DOCUMENT_HOVER)
def on_hover(ls: PolicyServer, params: t.HoverParams) -> t.Hover | None:
    path, checked = ls.current(params.text_document.uri)
    text = checked.texts.get(path, "")
    said = hover.hover(checked, path, offset_of(text, params.position))
    if said is None:
        return None
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=said))


def _location(span: Span) -> t.Location | None:
    uri = from_fs_path(str(folder.file_of(span.file)))
    return None if uri is None else t.Location(uri=uri, range=span_range(span.source.text, span))


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
def definition(ls: PolicyServer, params: t.DefinitionParams) -> list[t.Location]:
    path, checked = ls.current(params.text_document.uri)
    text = checked.texts.get(path, "")
    found = navigation.definitions(checked, path, offset_of(text, params.position))
    return [loc for _, span in found if (loc := _location(span)) is not None]


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
def references(ls: PolicyServer, params: t.ReferenceParams) -> list[t.Location]:
    path, checked = ls.current(params.text_document.uri)
    text = checked.texts.get(path, "")
    out = []
    for file, start, end in navigation.references(checked, offset_of(text, params.position), path):
        body = checked.texts[file]
        uri = from_fs_path(str(file.resolve())) or str(file)
        out.append(t.Location(uri=uri, range=t.Range(position(body, start), position(body, end))))
    return out


@server.feature(t.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: PolicyServer, params: t.DocumentFormattingParams) -> list[t.TextEdit]:
    uri = params.text_document.uri
    text = ls.text(uri)
    formatted = actions.formatted(text, str(to_fs_path(uri)))
    if formatted is None or formatted == text:
        return []
    return [
        t.TextEdit(range=t.Range(position(text, 0), position(text, len(text))), new_text=formatted)
    ]


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: PolicyServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
    path, checked = ls.current(params.text_document.uri)
    text = checked.texts.get(path, "")

    def convert(s: navigation.Symbol) -> t.DocumentSymbol:
        whole = t.Range(position(text, s.start), position(text, s.end))
        return t.DocumentSymbol(
            name=s.name,
            kind=_SYMBOLS[s.kind],
            range=whole,
            selection_range=whole,
            children=[convert(c) for c in s.children] or None,
        )

    return [convert(s) for s in navigation.symbols(checked.tree(path))]


@server.feature(t.TEXT_DOCUMENT_CODE_ACTION)
def on_code_action(ls: PolicyServer, params: t.CodeActionParams) -> list[t.CodeAction]:
    path, checked = ls.current(params.text_document.uri)
    text = checked.texts.get(path, "")
    start, end = offset_of(text, params.range.start), offset_of(text, params.range.end)
    out = []
    for edit in actions.actions(checked, path, start, end):
        changes: dict[str, list[t.TextEdit]] = {}
        for file, edits in edit.edits.items():
            body = actions.text_of(checked, file) or ""
            changes[from_fs_path(str(file.resolve())) or str(file)] = [
                t.TextEdit(range=t.Range(position(body, a), position(body, b)), new_text=new)
                for a, b, new in edits
            ]
        out.append(
            t.CodeAction(
                title=edit.title,
                kind=t.CodeActionKind.QuickFix,
                edit=t.WorkspaceEdit(changes=changes),
                diagnostics=[lsp_diagnostic(text, edit.diagnostic)] if edit.diagnostic else None,
            )
        )
    return out


def serve(**_: Any) -> None:
    """Answers an editor on stdin and stdout until it disconnects."""
    server.start_io()
