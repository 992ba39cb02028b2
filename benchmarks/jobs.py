"""`evaluate --jobs 1` against `--jobs N` on several generated accounts, whole process.

    python benchmarks/jobs.py                          # 8 accounts of 2,000 instances, --jobs 2
    python benchmarks/jobs.py --accounts 8 --instances 5000 --jobs 2 --repeat 5

Each account is `generate.py`'s, of a slightly different size so that no two are the
same. Each run is a fresh `policyengine evaluate` process over all the accounts with the
bundled packs (or `--policy`), JSON report on stdout; figures are medians of `--repeat`
runs, alternating the two settings so that a burst of load on a shared machine hits
both. The script stops with exit 1 unless every run prints the same report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402


def run(paths: list[Path], jobs: int, policy: list[str]) -> tuple[float, bytes]:
    args = [sys.executable, "-m", "policyengine", "evaluate", *map(str, paths)]
    args += [f"--policy={p}" for p in policy] + ["--format", "json", "--jobs", str(jobs)]
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"--jobs {jobs} exited {done.returncode}:\n{done.stderr.decode()}")
    return wall, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=8, help="how many snapshots")
    parser.add_argument("--instances", type=int, default=2000, help="instances per account")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes to compare")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--policy", action="append", default=[], help="policy file or folder")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        paths, resources, size = [], 0, 0
        for i in range(args.accounts):
            data = generate.account(args.instances + generate.GROUP * i)
            path = Path(tmp) / f"account-{i + 1}.json"
            path.write_text(json.dumps(data, separators=(",", ":")))
            resources += len(data["resources"])  # type: ignore[arg-type]
            size += path.stat().st_size
            paths.append(path)
        run(paths[:1], 1, args.policy)  # builds the parse-table cache, warms the file cache
        times: dict[int, list[float]] = {1: [], args.jobs: []}
        reports: set[bytes] = set()
        for _ in range(args.repeat):
            for jobs in times:
                wall, out = run(paths, jobs, args.policy)
                times[jobs].append(wall)
                reports.add(out)
                print(f"  --jobs {jobs}: {wall:.2f} s", file=sys.stderr)
    if len(reports) != 1:
        raise SystemExit("FAILED: the runs printed different reports")
    serial, parallel = statistics.median(times[1]), statistics.median(times[args.jobs])
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"Machine: {platform.processor() or platform.machine()}, {cpus} cores, "
        f"Python {platform.python_version()}, {date.today().isoformat()}; "
        f"median of {args.repeat} runs."
    )
    print(
        f"{args.accounts} accounts of {args.instances:,}+ instances: {resources:,} resources, "
        f"{size / 1e6:.1f} MB of snapshots; identical reports"
    )
    print(f"--jobs 1: {serial:.2f} s")
    print(f"--jobs {args.jobs}: {parallel:.2f} s")
    print(f"--jobs 1 / --jobs {args.jobs}: {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
