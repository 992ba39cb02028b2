"""The benchmark: policyengine against a hand-written Python baseline and a Rego engine
from PyPI, on synthetic ECS accounts, with the bundled location rules.

    python benchmarks/run.py                      # N = 1,000, 10,000 and 100,000
    python benchmarks/run.py --sizes 1000 --repeat 5

Every measurement runs in a fresh process (so peak memory is that engine's own); each
figure is the median of `--repeat` runs. Every engine must report exactly the planted
number of fails of every rule, or the script stops with exit 1. Rego runs only up to
`--rego-max` instances: regopy's evaluation grows quadratically with the account (see the
README), and at 10,000 instances one run would take a quarter of an hour.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

ENGINES = ("baseline", "policyengine", "rego", "rego-noregex")


def measure(engine: str, snapshot: Path) -> dict[str, Any]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(HERE / "measure.py"), engine, str(snapshot)],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{engine} failed on {snapshot}:\n{done.stderr}")
    out: dict[str, Any] = json.loads(done.stdout)
    out["end_to_end"] = wall  # the whole process: interpreter start, imports, everything
    return out


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in runs[0].items() if isinstance(v, float | int)]
    out: dict[str, Any] = {k: statistics.median(r[k] for r in runs) for k in keys}
    out["fails"] = runs[0]["fails"]
    return out


def check(engine: str, n: int, fails: dict[str, int]) -> None:
    want = generate.planted(n)
    if engine == "rego-noregex":
        want = {k: v for k, v in want.items() if k != "resource_id_format"}
    if fails != want:
        raise SystemExit(
            f"FAILED: {engine} at N={n} found {fails}, but the generator planted {want}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="instances, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--rego-max", type=int, default=1000, help="largest N Rego runs at")
    parser.add_argument("--engines", default=",".join(ENGINES), help="which engines to run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = [e for e in args.engines.split(",") if e]

    rows: dict[tuple[int, str], dict[str, Any]] = {}
    sizes_mb: dict[int, float] = {}
    counts: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            snapshot = Path(tmp) / f"account-{n}.json"
            data = generate.account(n)
            counts[n] = len(data["resources"])  # type: ignore[arg-type]
            snapshot.write_text(json.dumps(data, separators=(",", ":")))
            del data
            sizes_mb[n] = snapshot.stat().st_size / 1e6
            for engine in engines:
                if engine.startswith("rego") and n > args.rego_max:
                    continue
                runs = [measure(engine, snapshot) for _ in range(args.repeat)]
                for run in runs:
                    check(engine, n, run["fails"])
                rows[n, engine] = median_of(runs)
                print(f"  measured {engine} at N={n}", file=sys.stderr)

    print(
        f"Machine: {platform.processor() or platform.machine()}, {_cpus()} cores, "
        f"Python {platform.python_version()}, {date.today().isoformat()}; "
        f"median of {args.repeat} runs.\n"
    )
    print(
        "| instances | resources | snapshot | engine | JSON load | compile | index | evaluate "
        "| end to end | peak memory | fails found |"
    )
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        for engine in engines:
            r = rows.get((n, engine))
            if r is None:
                continue
            total = sum(r["fails"].values())
            print(
                f"| {n:,} | {counts[n]:,} | {sizes_mb[n]:.1f} MB | {engine} | {r['load']:.3f} s "
                f"| {r['compile']:.3f} s | {r['prepare']:.3f} s | {r['evaluate']:.3f} s "
                f"| {r['end_to_end']:.2f} s | {r['peak_mb']:.0f} MB | {total} (= planted) |"
            )
    print()
    print(
        "| instances | evaluation, policyengine / baseline | end to end, policyengine / baseline "
        "| end to end, Rego / policyengine | the same without the regex rule "
        "| peak memory / snapshot size |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        pe, base = rows.get((n, "policyengine")), rows.get((n, "baseline"))
        if pe is None:
            continue
        pe_eval = pe["prepare"] + pe["evaluate"]
        cells = [f"{n:,}"]
        if base is not None:
            cells.append(f"{pe_eval / (base['prepare'] + base['evaluate']):.2f}x")
            cells.append(f"{pe['end_to_end'] / base['end_to_end']:.2f}x")
        else:
            cells += ["—", "—"]
        for engine in ("rego", "rego-noregex"):
            rego = rows.get((n, engine))
            cells.append(f"{rego['end_to_end'] / pe['end_to_end']:.1f}x" if rego else "not run")
        cells.append(f"{pe['peak_mb'] / sizes_mb[n]:.1f}x")
        print("| " + " | ".join(cells) + " |")
    pe_sizes = [n for n in sizes if (n, "policyengine") in rows]
    for small, large in zip(pe_sizes, pe_sizes[1:], strict=False):
        a, b = rows[small, "policyengine"], rows[large, "policyengine"]
        growth = (b["prepare"] + b["evaluate"]) / (a["prepare"] + a["evaluate"])
        print(
            f"\npolicyengine index + evaluation, N={large:,} / N={small:,}: {growth:.1f}x "
            f"for {large / small:.0f}x the instances"
        )


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
