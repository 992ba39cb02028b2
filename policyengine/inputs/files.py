"""Reading a file the user named or the engine found, besides policies and snapshots: a
missing file is a usage error (exit 2); one refused, too large, unreadable or not UTF-8 is
bad input (exit 3)."""

from __future__ import annotations

from pathlib import Path

from policyengine.core import files, limits
from policyengine.core.errors import InputError, Problem, UsageError
from policyengine.core.files import Confinement
from policyengine.inputs.snapshot import read_input


def read_text(path: Path, what: str, confine: Confinement | None = None) -> str:
    """The text of `path`; `what` names the file in the message ("baseline file").
    `confine` None: the user named it; otherwise it was found, and must resolve inside
    `confine`."""
    try:
        return files.read_text(path, limits.current().input_bytes, confine)
    except FileNotFoundError:
        raise UsageError(f"no such {what}: {path}") from None
    except files.Refused as exc:
        raise InputError([Problem(str(path), "", f"refused: {exc.reason}")], what) from None
    except files.TooLarge as exc:
        raise InputError(
            [Problem(str(path), "", f"the file is larger than {limits.size(exc.limit)}")], what
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(str(path), "", f"cannot be read: {exc}")], what) from None


def read_stdin() -> str:
    """stdin, read in chunks up to the input limit."""
    return read_input(None, "<stdin>")
