"""Compiled policy sets kept between runs, beside the syntax trees.

Checking and compiling the bundled packs was a fifth of a small run's time, the same
work on every run of a CI job or a pre-commit hook. A set of policy files loaded without
error is kept in the per-user cache folder with what it depended on: the text of every
file read (the policies given and the models they found), and where each `use` found
its model. A later load of the same paths, with the same `--param`s and limits, by the
same code and from the same working directory, reads it back when every file still has
that text and every `use` still finds the same file, the same checks passed on the way
(a model must still be one the engine may read). Anything else is a miss, and the files
are parsed, checked and compiled as always: an entry can make a run faster, never
different. Within a process, the plan last read for a key is reused while its files
are unchanged, as the trees and checks of recent loads are.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from policyengine.core import limits
from policyengine.core.files import Confinement, admit
from policyengine.core.source import Source
from policyengine.core.user_cache import cache_folder, prune, touch, write_atomically
from policyengine.frontend.grammar import grammar_text

if TYPE_CHECKING:
    from policyengine.frontend.loader import Front, Loaded

_KEPT_PLANS = 50  # policy sets: the packs, each project's own and a few versions of each
_SLACK = 20
_REMEMBERED = 8  # in a process


@dataclass(frozen=True)
class _Entry:
    texts: str  # the digest of every file read, by its name in output and its text
    lookups: tuple[tuple[str, Path, Path | None], ...]  # `use` name, from folder, found
    models: tuple[Path, ...]  # the model files read, in order
    loaded: Loaded


@cache
def _code_stamp() -> str:
    """What a kept plan depends on in the code: the modules that parse, check and
    compile (as Python validates its own compiled modules: size and time of change),
    the grammar and the Python that pickled it."""
    stamp = hashlib.sha256(grammar_text().encode("utf-8"))
    stamp.update(sys.version.encode())
    here = Path(__file__).resolve().parent
    for base in (here, here.parent / "core"):
        for root, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    found = os.stat(os.path.join(root, name))
                    stamp.update(f"{root}/{name}:{found.st_size}:{found.st_mtime_ns};".encode())
    return stamp.hexdigest()


class KeptPlans:
    """The kept plans, read and written with the loader's own ways to name, read and find
    files, so that a plan read back has passed the checks a load makes."""

    def __init__(
        self,
        read_source: Callable[[Path, str], Source],
        display: Callable[[Path], str],
        find_model_from: Callable[[str, Path], Path | None],
        trusted: Path,
    ) -> None:
        self._read_source = read_source
        self._display = display
        self._find_model_from = find_model_from
        self._trusted = trusted  # the bundled packs' folder, where `use` may also look
        self._lock = threading.Lock()
        # The entries read or written lately, by key: a process that loads a few policy
        # sets again and again (a test run, a program evaluating many inputs) reads each
        # from the disk once, and gets the same plan each time.
        self._recent: OrderedDict[str, _Entry] = OrderedDict()

    def find(self, paths: Sequence[Path], params: Sequence[str]) -> Loaded | None:
        """The kept plan of these files, or None: none kept, or one no longer valid."""
        key = _key(paths, params)
        with self._lock:
            entry = self._recent.get(key)
        path = None
        if entry is None:
            path = _entry_path(key)
            entry = _read(path) if path is not None else None
        if entry is None or not self._valid(entry, paths):
            return None
        if path is not None:
            touch(path)
        self._remember(key, entry)
        return entry.loaded

    def keep(
        self, paths: Sequence[Path], params: Sequence[str], front: Front, loaded: Loaded
    ) -> None:
        """Keeps the plan `front` checked and `loaded` compiled, with its dependencies."""
        key = _key(paths, params)
        sources = [front.files[p].span.source for p in paths if p in front.files]
        if len(sources) != len(paths):
            return  # a path given twice, or a file that did not parse: nothing to keep
        entry = _Entry(
            _digest([*sources, *(source for _, source in front.models_read)]),
            tuple((name, folder, found) for (name, folder), found in front.lookups.items()),
            tuple(path for path, _ in front.models_read),
            loaded,
        )
        self._remember(key, entry)
        path = _entry_path(key)
        if path is None:
            return
        try:
            data = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, RecursionError, TypeError, AttributeError):
            return  # kept in this process alone
        write_atomically(path, data)
        prune(path.parent, "plan-", _KEPT_PLANS, _SLACK)

    def _remember(self, key: str, entry: _Entry) -> None:
        with self._lock:
            self._recent[key] = entry
            self._recent.move_to_end(key)
            while len(self._recent) > _REMEMBERED:
                self._recent.popitem(last=False)

    def _valid(self, entry: _Entry, paths: Sequence[Path]) -> bool:
        """Whether the files still say what they said: read again as a load reads them
        (the same names, size limits and refusals), and each model found again."""
        try:
            for name, folder, found in entry.lookups:
                if self._find_model_from(name, folder) != found:
                    return False
            confine = Confinement.of(paths, self._trusted)
            for model in entry.models:
                admit(model, confine)
            sources = [self._read_source(p, self._display(p)) for p in paths]
            sources += [self._read_source(m, self._display(m)) for m in entry.models]
        except Exception:  # noqa: BLE001 - any problem is the load's to report, as always
            return False
        return _digest(sources) == entry.texts


def _digest(sources: Sequence[Source]) -> str:
    digest = hashlib.sha256()
    for source in sources:
        for part in (source.name, source.text):
            encoded = part.encode("utf-8", "surrogatepass")
            digest.update(len(encoded).to_bytes(8, "little"))
            digest.update(encoded)
    return digest.hexdigest()


def _key(paths: Sequence[Path], params: Sequence[str]) -> str:
    """What names an entry: the files as given and where they resolve, the parameters,
    the limits, the working directory (names in output and where models are looked for
    depend on it) and the code."""
    parts = [
        _code_stamp(),
        os.getcwd(),
        [[str(p), os.path.realpath(p)] for p in paths],
        list(params),
        repr(limits.current()),
    ]
    return hashlib.sha256(json.dumps(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _entry_path(key: str) -> Path | None:
    folder = cache_folder()
    return None if folder is None else folder / f"plan-{key}.pickle"


def _read(path: Path) -> _Entry | None:
    try:
        found = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a stale or damaged entry is compiled again
        return None
    return found if isinstance(found, _Entry) else None
