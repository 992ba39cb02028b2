"""The language's grammar and its LALR parse tables, built once and kept between runs,
and what the grammar accepts after a prefix (what an editor offers to complete)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path as FsPath
from typing import TYPE_CHECKING

from policyengine.core.user_cache import cache_folder

if TYPE_CHECKING:  # lark is imported when a text is parsed, not at start-up
    from lark import Lark


def grammar_text() -> str:
    # A wheel carries the grammar inside the package; an editable install or a checkout
    # reads it from the top-level grammar/ folder, which force-include does not reach.
    packaged = resources.files("policyengine") / "grammar" / "policy.lark"
    checkout = FsPath(__file__).resolve().parents[2] / "grammar" / "policy.lark"
    return (packaged if packaged.is_file() else checkout).read_text(encoding="utf-8")


def cache_file(grammar: str, start: str = "start") -> str | bool:
    """Where the built parse tables are kept between runs: building them costs about a
    third of a second, loading them a hundredth. No cache where the per-user cache folder
    cannot be made. One file for each start symbol: lark keeps one parser in it."""
    folder = cache_folder()
    if folder is None:
        return False
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    # lark checks its own digest of grammar, options and versions inside the file.
    suffix = "" if start == "start" else f"-{start}"
    return str(folder / f"grammar-{digest}{suffix}.lark-cache")


@cache
def lark_parser(start: str = "start") -> Lark:
    """The LALR parser of the grammar from `start`: the whole file, or one `rule` block
    (what an editor's change reparses)."""
    from lark import Lark

    grammar = grammar_text()
    return Lark(
        grammar,
        start=start,
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=cache_file(grammar, start),
    )


def keywords_after(prefix: str) -> frozenset[str] | None:
    """The keywords the grammar accepts next after `prefix` (the text before the cursor,
    without the word being typed); None when the prefix does not parse so far, and so
    tells nothing. What an editor offers to complete."""
    from lark.exceptions import LarkError, UnexpectedInput

    parser = lark_parser()
    try:
        interactive = parser.parse_interactive(prefix)
        interactive.exhaust_lexer()
        accepted = interactive.accepts()  # type: ignore[no-untyped-call]
    except (UnexpectedInput, LarkError):
        return None
    words = set()
    for terminal in parser.terminals:
        pattern = terminal.pattern
        if terminal.name in accepted and pattern.type == "str" and pattern.value.isidentifier():
            words.add(pattern.value)
    return frozenset(words)
