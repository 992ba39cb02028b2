"""Where each resource sits in a snapshot's JSON text, for outputs that point at lines.

`json.loads` forgets positions, so the text is scanned once more, by a small scanner that
knows only strings and brackets: one pass, linear in the text, run only when an output
(SARIF, GitHub annotations) asks for positions. It records the offset of every element of
the top-level `resources` array and of each member of those elements, keyed by JSON
Pointer (`/resources/8` and `/resources/8/zone`).
"""

from __future__ import annotations

import json
import re

from policyengine.source import Source

# A JSON string from its opening quote: any run of non-special characters or escapes.
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"', re.DOTALL)
_WS = re.compile(r"[ \t\r\n]*")


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


class Positions:
    """JSON Pointer -> 1-based (line, column), for resources and their members."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._offsets = _scan(source.text)

    def find(self, pointer: str) -> tuple[int, int] | None:
        """The position of `pointer`, or of its nearest recorded ancestor; None when not
        even the resource is known (a pointer outside `resources`)."""
        while pointer:
            offset = self._offsets.get(pointer)
            if offset is not None:
                return self.source.line_col(offset)
            pointer = pointer.rsplit("/", 1)[0]
        return None


class _Open:
    """A container being scanned: its pointer, and for arrays the index of the next element."""

    __slots__ = ("is_object", "pointer", "index")

    def __init__(self, is_object: bool, pointer: str) -> None:
        self.is_object = is_object
        self.pointer = pointer
        self.index = 0


def _scan(text: str) -> dict[str, int]:
    """Offsets of `/resources/N` (the element's first character) and `/resources/N/KEY`
    (the member's key). A text that is not JSON yields what was found before it broke:
    positions are a courtesy, and the snapshot was validated when it was loaded."""
    offsets: dict[str, int] = {}
    stack: list[_Open] = []
    key = ""  # the last key read in the innermost object

    def element(at: int) -> None:
        # A value starts here; in the `resources` array, that is a resource.
        if stack and not stack[-1].is_object and stack[-1].pointer == "/resources":
            offsets[f"/resources/{stack[-1].index}"] = at

    def done() -> None:
        # A value just ended: in an array, the next one gets the next index.
        if stack and not stack[-1].is_object:
            stack[-1].index += 1

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            m = _STRING.match(text, i)
            if m is None:
                break
            after = _WS.match(text, m.end())
            j = after.end() if after else m.end()
            if stack and stack[-1].is_object and j < n and text[j] == ":":
                try:
                    key = json.loads(m.group())
                except ValueError:
                    break
                parent = stack[-1].pointer
                if parent.startswith("/resources/") and parent.count("/") == 2:
                    offsets[f"{parent}/{_escape(key)}"] = i
            else:
                element(i)
                done()
            i = m.end()
            continue
        if ch in "{[":
            element(i)
            if not stack:
                pointer = ""
            elif stack[-1].is_object:
                pointer = f"{stack[-1].pointer}/{_escape(key)}"
            else:
                pointer = f"{stack[-1].pointer}/{stack[-1].index}"
            stack.append(_Open(ch == "{", pointer))
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
            done()
        elif ch not in " \t\r\n:,":
            # A number, true, false or null.
            element(i)
            while i < n and text[i] not in ",]} \t\r\n":
                i += 1
            done()
            continue
        i += 1
    return offsets
