"""What the progress display costs a run: `evaluate` over a generated account, its stderr
a pipe (no display) and a pseudo-terminal (the display, shown from the start), and
`--color always` on a terminal-sized text report against the plain one.

    python benchmarks/progress.py --instances 20000 --repeat 3

Prints the median wall time of each and the ratios.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = str(Path(sys.executable).parent / "policyengine")


def _run(args: list[str], terminal: bool) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env |= {"TERM": "xterm", "POLICYENGINE_PROGRESS_DELAY": "0"}
    master, slave = pty.openpty() if terminal else (-1, -1)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [SCRIPT, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave if terminal else subprocess.DEVNULL,
        env=env,
    )
    if terminal:
        os.close(slave)
        while True:  # drain the terminal, as a terminal would
            ready, _, _ = select.select([master], [], [], 600)
            try:
                if not ready or not os.read(master, 65536):
                    break
            except OSError:
                break
        os.close(master)
    proc.wait()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        account = Path(folder) / "account.json"
        with account.open("w", encoding="utf-8") as out:
            subprocess.run(
                [sys.executable, str(HERE / "generate.py"), str(options.instances)],
                stdout=out,
                check=True,
            )
        cases = {
            "json, stderr a pipe (no display)": (["evaluate", str(account), "-f", "json"], False),
            "json, stderr a terminal (display)": (["evaluate", str(account), "-f", "json"], True),
            "text --all, plain": (["evaluate", str(account), "--all"], False),
            "text --all, --color always": (
                ["evaluate", str(account), "--all", "--color", "always"],
                False,
            ),
        }
        times = {}
        for name, (args, terminal) in cases.items():
            times[name] = statistics.median(_run(args, terminal) for _ in range(options.repeat))
            print(f"{name:40} {times[name]:7.2f} s")
    names = list(times)
    print(f"display / no display: {times[names[1]] / times[names[0]]:.3f}")
    print(f"coloured / plain:     {times[names[3]] / times[names[2]]:.3f}")


if __name__ == "__main__":
    main()
