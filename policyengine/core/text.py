"""Text from the input, made safe to print on one line.

Values come from snapshots and exports the engine does not control. Printed raw, a
newline in a tag value starts a new line of a CI log, where `::error ...` is a workflow
command; an escape sequence recolours or rewrites the terminal; a right-to-left override
makes a resource id read as another. Every value that reaches a report line goes through
`printable`: such characters are shown as escapes (`\\n`, `\\x1b`, `\\u202e`), so the
reader sees them and nothing acts on them.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


@lru_cache(maxsize=256)
def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(ch: str) -> bool:
    # Cc: control characters; Cf: format characters (bidi overrides, zero-width joiners);
    # Zl, Zp: the line and paragraph separators some viewers break lines at.
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def printable(text: str) -> str:
    """`text` on one line, with every control, format and line-separator character shown
    as an escape."""
    if text.isprintable():  # the common case: nothing to do
        return text
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in text)
