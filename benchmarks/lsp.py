"""How long the language server takes from a change to its diagnostics, on a generated
policy of about 500 lines: the folder's check with the editor's text, and the conversion
of every diagnostic to the protocol's form. The first check (parse tables, models) is
reported apart; the figure that matters is a change after it.

    python benchmarks/lsp.py [--lines 500] [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from policyengine.lsp import analysis
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
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.policy"
        text = policy(args.lines)
        path.write_text(text)
        started = time.perf_counter()
        analysis.analyse(path, {})
        first = time.perf_counter() - started
        times = []
        for i in range(args.runs):
            edited = text.replace('require tags["owner"]', f'require tags["owner{i}"]', 1)
            started = time.perf_counter()
            checked = analysis.analyse(path, {path.resolve(): edited})
            for diags in checked.diagnostics.values():
                [lsp_diagnostic(edited, d) for d in diags]
            times.append(time.perf_counter() - started)
    lines = len(text.splitlines())
    median, best = statistics.median(times) * 1000, min(times) * 1000
    print(f"policy of {lines} lines; first check {first * 1000:.0f} ms")
    print(f"a change to its diagnostics: median {median:.0f} ms, best {best:.0f} ms")
    print(f"target under 100 ms: {'met' if median < 100 else 'NOT met'} ({median / 100:.2f}x)")


if __name__ == "__main__":
    main()
