"""Opening the files the engine reads: regular files only, and only where the user pointed.

A repository under review is hostile input: a committed symlink (`leak.model ->
/proc/self/environ`, `waivers.yaml -> /etc/passwd`), a test file naming `/dev/zero`, or a
FIFO must not make a run read, echo or block on anything outside what the user gave. Every
file the engine opens goes through `read_bytes`/`read_text`:

- a path the user gave on the command line may be anywhere, but must be a regular file;
- a path found by the engine (a model a policy `use`s, a policy or snapshot a test file
  names, a waivers file found in a policy folder, a file inside a folder given) must in
  addition resolve, symlinks followed, inside the working directory, a path given on the
  command line or the bundled packs (the `Confinement`);
- devices, FIFOs, sockets, folders and the kernel's pseudo-files (`/proc`, `/sys`, `/dev`,
  whose "regular" files report size 0 and hold secrets) are refused;
- the size is checked on the opened file, and reading stops one byte past the limit, so a
  file that grows, or lies about its size, cannot take the memory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO, Final

if TYPE_CHECKING:
    from policyengine.core.positions import ResourcePlaces

# Kernel and device filesystems: nothing a policy run reads lives there.
_PSEUDO: Final = (Path("/proc"), Path("/sys"), Path("/dev"))
_CHUNK: Final = 1 << 20


class Refused(Exception):
    """A file the engine will not read: says which and why, never what it holds."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class TooLarge(Exception):
    """A file or stream past its size limit; `size` is what was seen (at least limit+1)."""

    def __init__(self, path: Path | str, size: int, limit: int) -> None:
        super().__init__(f"{path}: {size} bytes, over the limit of {limit}")
        self.path = str(path)
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class Confinement:
    """The folders files found by the engine must resolve into."""

    roots: tuple[Path, ...]

    @classmethod
    def of(cls, given: Iterable[Path | str] = (), *trusted: Path) -> Confinement:
        """The working directory, each path given on the command line (a file admits its
        own folder, where its companions live) and any `trusted` folders."""
        roots = [Path.cwd().resolve()]
        for path in given:
            if str(path) == "-":
                continue
            resolved = Path(path).resolve()
            roots.append(resolved if resolved.is_dir() else resolved.parent)
        roots.extend(p.resolve() for p in trusted)
        return cls(tuple(dict.fromkeys(roots)))

    def admits(self, resolved: Path) -> bool:
        return any(resolved.is_relative_to(root) for root in self.roots)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def admit(path: Path, confine: Confinement | None = None) -> Path:
    """The resolved path of a file the engine may read, or Refused. `confine` None: the
    user named this path. Raises FileNotFoundError for a path that does not exist."""
    resolved = Path(os.path.realpath(path))
    if any(resolved == p or resolved.is_relative_to(p) for p in _PSEUDO):
        raise Refused(path, f"resolves to {resolved}, a system file, not a regular file; not read")
    if confine is not None and not confine.admits(resolved):
        raise Refused(
            path,
            f"resolves to {resolved}, outside the working directory and the paths given "
            "on the command line; not read",
        )
    mode = os.stat(resolved).st_mode
    if not stat.S_ISREG(mode):
        raise Refused(path, f"is {_kind(mode)}, not a regular file; not read")
    return resolved


@contextmanager
def _opened(
    path: Path, limit: int, confine: Confinement | None = None, *, buffered: bool = True
) -> Iterator[tuple[BinaryIO, int]]:
    """A regular file of at most `limit` bytes, open for reading, with its size: admitted
    (`admit`), then checked again as opened. Raises Refused, TooLarge or OSError."""
    resolved = admit(path, confine)
    # O_NONBLOCK: a FIFO swapped in after the check must not block the open.
    fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb", buffering=-1 if buffered else 0) as file:
        found = os.fstat(file.fileno())
        if not stat.S_ISREG(found.st_mode):
            raise Refused(path, f"is {_kind(found.st_mode)}, not a regular file; not read")
        if found.st_size > limit:
            raise TooLarge(path, found.st_size, limit)
        yield file, found.st_size


def read_bytes(path: Path, limit: int, confine: Confinement | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. Raises Refused, TooLarge or
    OSError (FileNotFoundError for a missing file)."""
    with _opened(path, limit, confine) as (file, _):
        return read_stream(file, limit, path)


def read_buffer(path: Path, limit: int) -> bytearray:
    """`read_bytes` into one buffer of the file's size, for a file read once and dropped:
    no chunks joined into a copy (twice the file in memory at the end of the read). A
    file that grows while it is read is read to the end, up to `limit`."""
    with _opened(path, limit, buffered=False) as (file, size):
        buffer = bytearray(size)
        view, done = memoryview(buffer), 0
        while done < len(buffer):
            got = file.readinto(view[done:])  # type: ignore[attr-defined]  # a FileIO
            if not got:
                del buffer[done:]  # shorter than it said: what it holds
                return buffer
            done += got
        view.release()
        rest = read_stream(file, limit - len(buffer), path)  # grown meanwhile
        buffer += rest
        return buffer


def read_whole(path: Path, limit: int) -> bytes:
    """`read_bytes` in reads of the file's size (one, for a file under 2 GB), each into a
    buffer the read fills as it first touches it: `read_buffer` zeroes its buffer before
    the read fills it (measured on a 177 MB file: 0.24 s against 0.12 s). A file that
    grows while it is read is read to the end, up to `limit`."""
    with _opened(path, limit, buffered=False) as (file, size):
        parts: list[bytes] = []
        left = size
        while left > 0:
            got = file.read(left)
            if not got:
                break  # shorter than it said: what it holds
            parts.append(got)
            left -= len(got)
        rest = read_stream(file, limit - (size - left), path)  # grown meanwhile
        if rest:
            parts.append(rest)
        return parts[0] if len(parts) == 1 else b"".join(parts)


@dataclass(frozen=True)
class FileText:
    """A file's text read again when first needed: a large snapshot's text, which only
    the lines of findings need, is not kept for the whole run. What is read is None when
    the file is no longer what was read (its size or time changed), or cannot be read.
    `places`: where each resource sits in it, when found while it was decoded (then only
    the resources findings point into are read again)."""

    path: Path
    size: int
    mtime_ns: int
    places: ResourcePlaces | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, path: Path) -> FileText:
        found = os.stat(path)
        return cls(path, found.st_size, found.st_mtime_ns)

    def _unchanged(self) -> bool:
        found = os.stat(self.path)
        return (found.st_size, found.st_mtime_ns) == (self.size, self.mtime_ns)

    def text(self) -> str | None:
        try:
            if not self._unchanged():
                return None
            return read_buffer(self.path, self.size).decode("utf-8")
        except (OSError, Refused, TooLarge, UnicodeDecodeError):
            return None

    def part(self, offset: int, length: int) -> str | None:
        """The text of `length` bytes from `offset` (one resource's)."""
        return self.parts([(offset, length)])[0]

    def parts(self, spans: Sequence[tuple[int, int]]) -> list[str | None]:
        """The texts of several (offset, length) spans, read through one opening of the
        file: a report's findings point into a thousand resources and more, and checking
        and opening the file again for each was most of the time of writing the report."""
        texts: list[str | None] = [None] * len(spans)
        try:
            if not self._unchanged():
                return texts
            fd = os.open(admit(self.path), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            try:
                for i, (offset, length) in enumerate(spans):
                    data = os.pread(fd, length, offset)
                    try:
                        texts[i] = data.decode("utf-8") if len(data) == length else None
                    except UnicodeDecodeError:
                        texts[i] = None
            finally:
                os.close(fd)
        except (OSError, Refused):
            return [None] * len(spans)
        return texts


def read_text(path: Path, limit: int, confine: Confinement | None = None) -> str:
    """`read_bytes`, decoded as UTF-8 (UnicodeDecodeError when it is not)."""
    return read_bytes(path, limit, confine).decode("utf-8")


def read_stream(stream: BinaryIO, limit: int, name: Path | str = "<stdin>") -> bytes:
    """Everything a stream holds, read in chunks: never more than `limit` + one chunk in
    memory, and never a buffer of `limit` bytes allocated up front."""
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise TooLarge(name, total, limit)


class CannotWrite(Exception):
    """An output the engine cannot write: a usage error (exit 2), whatever else failed."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path = str(path)
        self.reason = reason


# Characters per write: at most 256 MiB of UTF-8. One write of more than 2 GiB is cut
# short by the system, and Python's buffered streams do not always write the rest: a
# 2.1 GB report written to stdout at once came out as 2,147,479,552 bytes, and nothing
# said so.
WRITE_PART = 1 << 26


# A text to write: whole, or made as it is written, piece by piece (a report of every
# outcome, never whole in memory).
Text = str | Iterator[str]


def write_parts(out: IO[str], text: Text, part: int = WRITE_PART) -> None:
    """Writes `text` to `out` a part at a time (one write for most texts); the pieces of
    an iterator one after another, each as it is made."""
    for piece in (text,) if isinstance(text, str) else text:
        for start in range(0, len(piece), part):
            out.write(piece[start : start + part])


def line_ended(text: Text) -> Iterator[str]:
    """`text`, and a newline after it unless it ends with one."""
    last = ""  # the last character written
    for piece in (text,) if isinstance(text, str) else text:
        if piece:
            last = piece[-1]
            yield piece
    if last != "\n":
        yield "\n"


def write_text(path: Path, text: Text) -> None:
    """Writes `text` (UTF-8) to `path`. Raises CannotWrite, never OSError: no folder, a
    folder in its place, a full device, a FIFO no one reads (opened without blocking)."""
    try:
        fd = os.open(
            path,
            os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
        )
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            write_parts(file, text)
    except OSError as exc:
        raise CannotWrite(path, exc.strerror or str(exc)) from None


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through symlinks and hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
