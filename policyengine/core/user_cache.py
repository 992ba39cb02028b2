"""The per-user folder where policyengine keeps what it computed for the next run: the
parse tables, syntax trees, compiled policy sets and the methods of its dataclasses.

Not the shared temp folder, whose files another user could plant: what is kept here is
executed or unpickled. Everything in it is only a cache: where the folder cannot be made
or written (a read-only home), nothing is kept and every run computes everything.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_folder() -> Path | None:
    """The folder (made if need be), or None where it cannot be made or written."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "policyengine"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def touch(path: Path) -> None:
    """Dated as used now: pruning keeps the entries used lately, not those written lately
    (the bundled packs' entries are written once, read always)."""
    try:
        os.utime(path)
    except OSError:
        pass  # pruned meanwhile, or a read-only cache: it is only a cache


def write_atomically(path: Path, data: bytes) -> None:
    """`data` as the file at `path`, which a concurrent run reads whole or not at all."""
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)


def prune(folder: Path, prefix: str, kept: int, slack: int, suffix: str = ".pickle") -> None:
    """Keeps one sort of entry (the files whose names start with `prefix` and end with
    `suffix`) few: past `kept` + `slack`, those used longest ago go, down to `kept`. The
    slack spares a pruning, which dates every entry, at each entry written."""
    try:
        with os.scandir(folder) as entries:
            found = [e for e in entries if e.name.startswith(prefix) and e.name.endswith(suffix)]
    except OSError:
        return
    if len(found) > kept + slack:
        dated = []
        for entry in found:
            try:
                dated.append((entry.stat().st_mtime, entry.path))
            except OSError:
                continue  # pruned meanwhile by another process
        dated.sort()
        for _, old in dated[: len(dated) - kept]:
            Path(old).unlink(missing_ok=True)
