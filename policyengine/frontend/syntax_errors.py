"""A lark syntax error -> a PE001 diagnostic in the language's own words: what was found,
what was expected, and for a file that ends early, which block is still open."""

from __future__ import annotations

import re

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from policyengine.core.diagnostics import Diagnostic
from policyengine.core.source import Source, Span
from policyengine.frontend.grammar import lark_parser

# Terminal names as the user knows them. Keywords and punctuation fall back to their text.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "a number",
    "SIGNED_INT": "a number",
    "REGEX": "a /regular expression/",
    "COMPARE": "a comparison (`==`, `!=`, `<`, ...)",
    "$END": "the end of the file",
    "TAGS_WORD": "`tags`",
}


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    terminal = next((t for t in lark_parser().terminals if t.name == name), None)
    if terminal is not None and terminal.pattern.type == "str":
        return f"`{terminal.pattern.value}`"
    return name.lower()


_CLOSERS = ("`}`", "`)`", "`]`")


def _tags_as_word(accepts: set[str]) -> set[str]:
    """Among a policy's items a name can only start `tags [...]`: say `tags`."""
    if "PARAM" in accepts and "NAME" in accepts:
        return (accepts - {"NAME"}) | {"TAGS_WORD"}
    return accepts


def _expected(names: set[str]) -> str:
    # Closing brackets first: at the end of a block they are most often what is missing.
    words = sorted(
        {_describe_terminal(n) for n in names},
        key=lambda w: (w not in _CLOSERS, w.startswith("a "), w),
    )
    if len(words) > 10:
        words = words[:10] + ["..."]
    return "expected " + (
        words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    )


_BLOCK_TOKENS = re.compile(r'"(?:\\.|[^"\\\n])*"|#[^\n]*|[{}]')


def _open_block(text: str) -> str | None:
    """The innermost `policy`/`rule`/`kind`/`record` block still open at the end of text."""
    opened: list[int] = []
    for match in _BLOCK_TOKENS.finditer(text):
        if match.group() == "{":
            opened.append(match.start())
        elif match.group() == "}" and opened:
            opened.pop()
    if not opened:
        return None
    at = opened[-1]
    line_start = text.rfind("\n", 0, at) + 1
    header = " ".join(text[line_start:at].split()[:2])
    line = text.count("\n", 0, at) + 1
    return (
        f"`{header} {{` (line {line}) is still open"
        if header
        else f"a `{{` on line {line} is still open"
    )


def syntax_error(exc: UnexpectedInput, source: Source) -> Diagnostic:
    if (
        isinstance(exc, UnexpectedToken)
        and exc.token.type == "$END"
        or isinstance(exc, UnexpectedEOF)
    ):
        at = max(0, len(source.text.rstrip()) - 1)
        expected = _tags_as_word(
            set(exc.expected if isinstance(exc, UnexpectedEOF) else exc.accepts)
        )
        block = _open_block(source.text)
        return Diagnostic(
            "PE001",
            "unexpected end of file",
            Span(source, at, at + 1),
            label="the file ends here",
            notes=(block,) if block else (),
            help=_expected(set(expected)),
        )
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        span = Span(source, token.start_pos or 0, token.end_pos or 0)
        accepts = _tags_as_word(set(exc.accepts or exc.expected))
        if accepts == {"NAME", "LSQB"}:
            accepts = {"NAME"}  # `[` only for `tags [...]`: a name is what was meant
        notes: tuple[str, ...] = ()
        if token.type == "USE":
            notes = ("a model's `use` lines come first, before its records, kinds and relations",)
        if "REQUIRES" in accepts:
            notes = ("a sentence reads `KIND VERB [KIND] [as NAME] requires same zone|region`",)
        return Diagnostic(
            "PE001",
            f"unexpected `{token}`",
            span,
            label="not valid here",
            notes=notes,
            help=_expected(accepts),
        )
    if isinstance(exc, UnexpectedCharacters):
        at = int(exc.pos_in_stream or 0)
        span = Span(source, at, at + 1)
        char = source.text[at : at + 1]
        if char == '"':
            return Diagnostic(
                "PE001",
                "unterminated string",
                span,
                label="this string is not closed on its line",
                help='end it with `"`; a string cannot span lines',
            )
        return Diagnostic(
            "PE001",
            f"unexpected character `{char}`",
            span,
            label="not valid here",
            help=_expected(set(exc.allowed)),
        )
    span = Span(source, 0, 1)
    return Diagnostic("PE001", "syntax error", span, label=str(exc).splitlines()[0])
