"""The methods `dataclasses` writes for each class, compiled once and kept between runs.

For every dataclass, Python 3.11 writes `__init__`, `__repr__`, `__eq__`, `__hash__` (and,
frozen, `__setattr__` and `__delattr__`) as source text and compiles each with `exec`:
for policyengine's 177 classes, a thousand compilations, half of the time `import
policyengine.cli` takes and a third of a small run's. The text of a method is all its
code depends on, so the code compiled from it is kept in the per-user cache folder, by
text, and the next run executes the kept code instead of compiling the text again.

`install` puts a lookup in front of the `exec` that `dataclasses` calls (a name of its
module, looked up when a class is made): same text, same code object, same class. A
text not yet kept is compiled as before and kept when the process ends. Nothing changes
where the cache cannot be read or written; a cache written by another Python or another
version of policyengine is another file (the latest three are kept), and one that cannot
be decoded is ignored and written again.
"""

from __future__ import annotations

import atexit
import builtins
import dataclasses
import hashlib
import marshal
import sys
from types import CodeType
from typing import Any

from policyengine.core.user_cache import cache_folder, prune, write_atomically
from policyengine.core.version import __version__

# Past this many kept methods, a run keeps only those it used: a process that made the
# dataclasses of many other libraries, or a checkout whose classes changed again and
# again, does not grow the file that every run reads (a run of `evaluate` uses about a
# thousand).
_MOST = 2000
_FILES_KEPT = 3  # files of other Pythons or other versions of policyengine


class _Methods:
    """The kept methods by their text, read on the first class made, written at exit if
    a text was new. The file is looked for in the cache folder as it is when read, and
    written to the cache folder as it is at exit."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.kept: dict[str, CodeType] | None = None
        self.used: dict[str, CodeType] = {}
        self.new = False

    def code(self, text: str) -> CodeType:
        if self.kept is None:
            self.kept = self._read()
        code = self.kept.get(text)
        if code is None:
            # What `exec(text)` compiles from dataclasses, whose module has no `__future__`
            # import: this module's (annotations) must not be inherited.
            code = compile(text, "<string>", "exec", dont_inherit=True)
            self.kept[text] = code
            if not self.new:
                self.new = True
                atexit.register(self.write)
        self.used[text] = code
        return code

    def _read(self) -> dict[str, CodeType]:
        folder = cache_folder()
        if folder is None:
            return {}
        try:
            # Read whole: `marshal.load` reads a file object in small pieces, ten times
            # slower than decoding the bytes.
            found = marshal.loads((folder / self.name).read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        if not isinstance(found, dict) or not all(
            isinstance(k, str) and isinstance(v, CodeType) for k, v in found.items()
        ):
            return {}
        return found

    def write(self) -> None:
        folder = cache_folder()
        if folder is None:
            return
        kept = self.kept if self.kept is not None and len(self.kept) <= _MOST else self.used
        try:
            data = marshal.dumps(kept)
        except ValueError:
            return  # a constant marshal cannot write: nothing is kept
        write_atomically(folder / self.name, data)
        prune(folder, "methods-", _FILES_KEPT, 0, ".marshal")


def file_name() -> str:
    """The cache's file for this Python and this version of policyengine: code objects
    are valid for the Python that compiled them alone, and a version's classes are not
    the next one's."""
    python = hashlib.sha256(sys.version.encode()).hexdigest()[:12]
    return f"methods-{sys.implementation.cache_tag}-{python}-{__version__}.marshal"


def install() -> None:
    """Keeps the methods of the dataclasses made from now on in this process."""
    if hasattr(dataclasses, "exec"):
        return  # installed already
    methods = _Methods(file_name())

    def exec_kept(source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:
        if isinstance(source, str):
            source = methods.code(source)
        builtins.exec(source, globals, locals)

    dataclasses.exec = exec_kept  # type: ignore[attr-defined]
