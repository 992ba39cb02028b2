"""Text -> syntax tree. With the grammar, the tree builder and the syntax errors, the only
modules that import lark, and only when a text is parsed: a run whose files are all in
the cache never imports lark, the tree builder or the syntax errors (start-up time).

`parse` returns an `ast.ModelFile` or `ast.PolicyFile`, or raises `DiagnosticError` with
a PE001/PE002 diagnostic in the language's own words; a lark exception never escapes.
"""

from __future__ import annotations

import hashlib
import pickle
from collections import OrderedDict
from functools import cache
from pathlib import Path as FsPath
from typing import TYPE_CHECKING

from policyengine.core import semantics
from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.source import Source
from policyengine.core.user_cache import prune, touch, write_atomically
from policyengine.frontend import ast
from policyengine.frontend.grammar import cache_file, grammar_text

if TYPE_CHECKING:
    from policyengine.frontend.rule_blocks import RuleReuse

_RECENT: OrderedDict[tuple[str, str], ast.File] = OrderedDict()
_KEPT_IN_MEMORY = 64  # the files of a folder an editor checks again on every change
_REUSE: RuleReuse | None = None  # made on an editor's first buffer: it imports lark


def parse(source: Source, keep: bool = True) -> ast.File:
    """Text -> AST. Raises DiagnosticError (PE001/PE002), never a lark exception.

    A file that parsed before is read back from the per-user cache: lexing and parsing
    the bundled packs was most of a small run's time. Within one process the trees of
    the latest texts are kept in memory too (they are immutable). `keep=False` for text
    that will not be seen again, such as an editor's buffer between two keystrokes: it
    is not written to the cache, and only its rule blocks that changed since the texts
    seen lately are parsed again (`rule_blocks`)."""
    key = (source.name, source.text)
    recent = _RECENT.get(key)
    if recent is not None:
        _RECENT.move_to_end(key)
        return recent
    result = _parse_cached(source, keep)
    _RECENT[key] = result
    if len(_RECENT) > _KEPT_IN_MEMORY:
        _RECENT.popitem(last=False)
    return result


def _parse_cached(source: Source, keep: bool) -> ast.File:
    if not keep:
        # An editor's buffer: the next keystroke's text shares most rule blocks with it.
        return _reuse().parse(source) or _parse(source)
    cached = _ast_cache(source)
    if cached is not None:
        try:
            found = pickle.loads(cached.read_bytes())
            if isinstance(found, ast.ModelFile | ast.PolicyFile):
                touch(cached)
                return found
        except Exception:  # noqa: BLE001 - a stale or damaged entry is parsed again
            pass
    result = _parse(source)
    if cached is not None:
        write_atomically(cached, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        prune(cached.parent, "ast-", _KEPT_TREES, _SLACK)
    return result


def _reuse() -> RuleReuse:
    global _REUSE
    if _REUSE is None:
        from policyengine.frontend.rule_blocks import RuleReuse

        _REUSE = RuleReuse()
    return _REUSE


_KEPT_TREES = 500  # a few MB: every version of the files a user evaluates lately
# Trees the cache may hold beyond that before it is pruned back.
_SLACK = 100


@cache
def _code_digest() -> str:
    """What a cached syntax tree depends on besides its text: the grammar and the code
    that builds the tree (and the enums it holds)."""
    digest = hashlib.sha256(grammar_text().encode("utf-8"))
    builder = FsPath(__file__).with_name("tree_builder.py")  # not imported: it imports lark
    for module in (__file__, builder, ast.__file__, semantics.__file__):
        digest.update(FsPath(module).read_bytes())
    return digest.hexdigest()


def _ast_cache(source: Source) -> FsPath | None:
    folder = cache_file(grammar_text())
    if not isinstance(folder, str):
        return None
    key = hashlib.sha256(
        f"{_code_digest()}\0{source.name}\0{source.text}".encode("utf-8", "surrogatepass")
    ).hexdigest()[:32]
    return FsPath(folder).parent / f"ast-{key}.pickle"


def _parse(source: Source) -> ast.File:
    from lark.exceptions import UnexpectedInput, VisitError

    from policyengine.frontend.chains import shaped
    from policyengine.frontend.grammar import lark_parser
    from policyengine.frontend.syntax_errors import syntax_error
    from policyengine.frontend.tree_builder import LiteralError, TreeBuilder

    try:
        tree = lark_parser().parse(source.text)
    except UnexpectedInput as exc:
        raise DiagnosticError([syntax_error(exc, source)]) from None
    shaped(tree, source)  # chains flat, nesting bounded: PE004
    try:
        result = TreeBuilder(source).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, LiteralError):
            raise DiagnosticError([exc.orig_exc.diagnostic]) from None
        raise
    assert isinstance(result, ast.ModelFile | ast.PolicyFile)
    return result
