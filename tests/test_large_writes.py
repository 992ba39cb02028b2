"""A report of any size reaches its output whole: one write of more than 2 GiB is cut
short by the system, and Python's buffered streams do not always write the rest."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from policyengine.core import files


class _Recording(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[int] = []

    def write(self, text: str) -> int:
        self.writes.append(len(text))
        return super().write(text)


@pytest.mark.parametrize("part", [1, 2, 3, 7, 1000])
def test_a_text_is_written_whole_a_part_at_a_time(part: int) -> None:
    text = "zone é 区域 \U0001f600 " * 11 + "end"
    out = _Recording()
    files.write_parts(out, text, part)
    assert out.getvalue() == text
    assert max(out.writes) <= part
    assert len(out.writes) == -(-len(text) // part)


def test_a_short_text_is_one_write() -> None:
    out = _Recording()
    files.write_parts(out, "a report\n")
    assert out.writes == [9]


def test_an_empty_text_writes_nothing() -> None:
    out = _Recording()
    files.write_parts(out, "")
    assert out.writes == []


# Builds 2.1 GB in memory and writes it twice: with the long profile alone.
@pytest.mark.skipif(
    os.environ.get("HYPOTHESIS_PROFILE") != "long", reason="2 GB in memory and on disk"
)
def test_more_than_2_gib_reaches_stdout_and_a_file_whole(tmp_path: Path) -> None:
    size = (1 << 31) + 4097
    out, written = tmp_path / "stdout.txt", tmp_path / "file.txt"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from policyengine.cli import console\n"
        "from policyengine.core import files\n"
        f"text = 'x' * {size - 1}\n"
        "console.emit(console.out(), text)\n"  # a text format's report
        "console.document(iter((text[:-1], text[-1:])))\n"  # a machine format's, in pieces
        f"files.write_text(Path({str(written)!r}), text + '\\n')\n"
    )
    with out.open("wb") as stdout:
        subprocess.run([sys.executable, "-c", code], stdout=stdout, check=True)
    assert out.stat().st_size == 2 * size
    assert written.stat().st_size == size
