"""How long the language server takes from a change to its diagnostics, on a generated
policy of about 500 lines: the folder's check with the editor's text, and the conversion
of every diagnostic to the protocol's form. The first check (parse tables, models, every
rule block) is reported apart; the figure that matters is a change after it. Each change
edits one rule, as typing does, so the other rules' trees are reused.

The machine's load is printed with the figures: on a shared machine the wall-clock time
grows with it, the processor time much less.

    python benchmarks/lsp.py [--lines 500] [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from policyengine.lsp import folder
from policyengine.lsp.server import lsp_diagnostic

RULE = """  rule zone_{n} "Disks {n} stay in their instance's zone" {{
    disk attach requires same zone
    remediation "Move disk {n}."
  }}

  rule tags_{n} "Instances {n} carry an owner" {{
    for each instance where status == "Running" require tags["owner"] is set
    remediation "Tag instance {n}."
  }}

"""


def policy(lines: int) -> str:
    head = 'use alicloud.ecs\n\npolicy generated "Generated" {\n  severity high\n\n'
    body, n = [], 0
    while len((head + "".join(body)).splitlines()) < lines - 1:
        body.append(RULE.format(n=n))
        n += 1
    return head + "".join(body) + "}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.policy"
        text = policy(args.lines)
        path.write_text(text)
        started = time.perf_counter()
        folder.analyse(path, {path.resolve(): text})  # as the editor opens it
        first = time.perf_counter() - started
        times, cpu = [], []
        for i in range(args.runs):
            edited = text.replace('require tags["owner"]', f'require tags["owner{i}"]', 1)
            started, started_cpu = time.perf_counter(), time.process_time()
            checked = folder.analyse(path, {path.resolve(): edited})
            for diags in checked.diagnostics.values():
                [lsp_diagnostic(edited, d) for d in diags]
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
    lines = len(text.splitlines())
    median, best = statistics.median(times) * 1000, min(times) * 1000
    load = os.getloadavg()[0]
    print(f"policy of {lines} lines; first check {first * 1000:.0f} ms")
    print(f"a change to its diagnostics: median {median:.0f} ms, best {best:.0f} ms")
    print(f"processor time of a change: median {statistics.median(cpu) * 1000:.0f} ms")
    print(f"machine load (1-minute average): {load:.2f} on {os.cpu_count()} processors")
    print(f"target under 100 ms: {'met' if median < 100 else 'NOT met'} ({median / 100:.2f}x)")


if __name__ == "__main__":
    main()
