"""The benchmark as users compare engines: whole processes over the same generated ECS
account, with the eight rules of benchmarks/ecs-bench.policy.

    python benchmarks/run.py                                # 1,000, 10,000 and 100,000
    python benchmarks/run.py --sizes 1000 --repeat 5
    python benchmarks/run.py --sizes 1000000 --repeat 1 --memory-limit 16   # 1.8 GB of JSON

Engines, each a fresh process timed from start to exit:
- `handwritten`: benchmarks/baseline.py, plain Python over orjson with dict indexes;
- `projected`: the same rules over msgspec's typed decoding of only the fields they read
  (the rest skipped in C, as policyengine reads a large snapshot): the least a Python
  program spends on these rules, with nothing checked and nothing to explain. A target
  this one misses is out of reach of any Python engine that reads the JSON;
- `regorus`: the same rules in Rego (benchmarks/rego/ecs_bench.rego), run by regorus, the
  Rust Rego engine (PyPI `hobofan_regorus`, in the `bench` extra);
- `policyengine`: the command `policyengine evaluate --format json --policy
  benchmarks/ecs-bench.policy SNAPSHOT`, its report written to a file; its modules'
  bytecode compiled first, as `pip install` leaves an installed package, and one untimed
  run first, as any run but a machine's first finds the per-user cache (the bundled
  example is also timed once with an empty cache).

Every engine must name exactly the resources the generator planted a violation on, rule
by rule, or the script stops with exit 1. End-to-end figures are medians of `--repeat`
runs, the engines taking turns run after run; wall and CPU time (user + system) and the
peak resident set come from the kernel's accounting of that one child (`wait4`). Phases
are timed in-process by benchmarks/measure.py, in one extra run per engine and size.
With `--memory-limit GB`, each engine's address space is bounded (RLIMIT_AS), so that a
size too large for the machine ends that engine's process with a memory error, reported
as such, instead of drawing the whole machine into swap or the kernel's out-of-memory
killer.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import baseline  # noqa: E402
import generate  # noqa: E402
import measure  # noqa: E402

ENGINES = ("handwritten", "projected", "regorus", "policyengine")
EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"


@dataclass
class Process:
    wall: float
    cpu: float
    peak_mb: float


class OverLimit(Exception):
    """An engine ran out of the address space `--memory-limit` allows it."""


@dataclass
class Row:
    runs: list[Process] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    over_limit: bool = False  # it did not finish within --memory-limit

    def median(self, what: str) -> float:
        return statistics.median(getattr(p, what) for p in self.runs)


MEMORY_LIMIT: int | None = None  # bytes of address space for each engine, from --memory-limit


def _bounded() -> None:
    if MEMORY_LIMIT is not None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_process(
    argv: list[str], stdout: Path, env: dict[str, str] | None = None
) -> tuple[Process, int, str]:
    """Runs `argv` to its end; its exit code, stderr and the kernel's figures for it.
    Raises OverLimit when it failed for want of memory under --memory-limit."""
    with open(stdout, "wb") as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, stdout=out, stderr=err, preexec_fn=_bounded, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        message = err.read().decode(errors="replace")
    process = Process(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)
    # A Python script prints the MemoryError's traceback; policyengine says a snapshot is
    # too large to parse in its memory (exit 3), or a later MemoryError is internal (4).
    out_of_memory = (
        "MemoryError" in message
        or "too large to parse in the memory" in message
        or child.returncode == 4
    )
    if MEMORY_LIMIT is not None and child.returncode not in (0, 1) and out_of_memory:
        raise OverLimit(message)
    return process, child.returncode, message


def example_run(argv: list[str], out: Path, env: dict[str, str] | None = None) -> Process:
    process, code, err = run_process(argv, out, env)
    if code not in (0, 1):
        raise SystemExit(f"policyengine exited {code} on the example:\n{err}")
    return process


def warm_up(out: Path) -> None:
    """One untimed run of each policy set, as any run after a machine's first finds: the
    parse tables, the syntax trees, the compiled policy sets and the dataclasses' code
    in the per-user cache (docs/ci.md, "What is kept between runs"). The example's run
    with an empty cache is timed apart."""
    for policy in ([], ["--policy", str(measure.POLICY)]):
        example_run([*policyengine_command(), "evaluate", *policy, str(EXAMPLE)], out)


def compile_bytecode() -> None:
    """policyengine's modules compiled to bytecode where they are imported from, as
    `pip install` leaves an installed package. An editable install writes its bytecode
    on first import, unless PYTHONDONTWRITEBYTECODE is set or the checkout is read-only:
    then every process compiles every module it imports again, about 0.4 s of CPU."""
    argv = [sys.executable, "-c", "import policyengine, sys; print(policyengine.__path__[0])"]
    package = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    if not compileall.compile_dir(package, quiet=1):
        raise SystemExit(f"could not compile the bytecode of {package}")


def policyengine_command() -> list[str]:
    found = shutil.which("policyengine", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("no `policyengine` command beside this Python: pip install -e .")
    return [found]


def end_to_end(engine: str, snapshot: Path, out: Path) -> tuple[Process, measure.Offenders]:
    if engine == "policyengine":
        argv = [
            *policyengine_command(),
            *("evaluate", "--format", "json", "--policy", str(measure.POLICY), str(snapshot)),
        ]
        process, code, err = run_process(argv, out)
        if code not in (0, 1):  # 1: findings at or above the threshold
            raise SystemExit(f"policyengine exited {code} on {snapshot}:\n{err}")
        return process, measure.offenders_of_report(json.loads(out.read_bytes()))
    argv = [sys.executable, str(HERE / "measure.py"), engine, str(snapshot)]
    process, code, err = run_process(argv, out)
    if code != 0:
        raise SystemExit(f"{engine} failed on {snapshot}:\n{err}")
    return process, json.loads(out.read_bytes())["offenders"]


def phases(engine: str, snapshot: Path, out: Path) -> dict[str, float]:
    argv = [sys.executable, str(HERE / "measure.py"), engine, str(snapshot)]
    _, code, err = run_process(argv, out)
    if code != 0:
        raise SystemExit(f"{engine} failed on {snapshot}:\n{err}")
    found: dict[str, float] = json.loads(out.read_bytes())["phases"]
    return found


def check(engine: str, n: int, found: measure.Offenders, want: dict[str, set[str]]) -> None:
    rules = baseline.BENCH_RULES
    expected = {rule: sorted(want[rule]) for rule in rules}
    got = {rule: sorted(found.get(rule, [])) for rule in rules}
    extra = sorted(set(found) - set(rules))
    if got != expected or extra:
        wrong = {r: (got[r], expected[r]) for r in rules if got[r] != expected[r]}
        raise SystemExit(
            f"FAILED: {engine} at N={n} disagrees with the generator's plants "
            f"(rule: (found, planted)): {wrong}; other outcomes: {extra}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="instances, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="which engines to run")
    parser.add_argument(
        "--regorus-max", type=int, default=100_000, help="the largest N regorus runs at"
    )
    parser.add_argument(
        "--phases",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time each engine's phases in one extra run",
    )
    parser.add_argument(
        "--memory-limit",
        type=float,
        default=None,
        metavar="GB",
        help="bound each engine's address space; an engine over it is reported, not run on",
    )
    parser.add_argument(
        "--example",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time `policyengine evaluate` on the bundled example",
    )
    args = parser.parse_args()
    global MEMORY_LIMIT
    if args.memory_limit is not None:
        MEMORY_LIMIT = int(args.memory_limit * 2**30)
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = [e for e in args.engines.split(",") if e]
    for e in engines:
        if e not in ENGINES:
            raise SystemExit(f"unknown engine {e}; one of {', '.join(ENGINES)}")

    if "policyengine" in engines:
        compile_bytecode()
    rows: dict[tuple[int, str], Row] = {}
    megabytes: dict[int, float] = {}
    counts: dict[int, int] = {}
    example: Row | None = None
    cold: Process | None = None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        if "policyengine" in engines:
            warm_up(out)
        if "policyengine" in engines and args.example:
            example = Row()
            argv = [*policyengine_command(), "evaluate", str(EXAMPLE)]
            for _ in range(args.repeat):
                example.runs.append(example_run(argv, out))
            # Once more as the first run on a machine: nothing kept from an earlier run.
            empty = {**os.environ, "XDG_CACHE_HOME": str(Path(tmp) / "empty-cache")}
            cold = example_run(argv, out, empty)
        for n in sizes:
            snapshot = Path(tmp) / f"account-{n}.json"
            want, counts[n] = generate.write(n, str(snapshot))
            megabytes[n] = snapshot.stat().st_size / 1e6
            measured = [e for e in engines if not (e == "regorus" and n > args.regorus_max)]
            for engine in measured:
                rows[n, engine] = Row()
            # The engines in turn, run after run: a slower spell of the shared machine
            # falls on each engine alike, not on whichever was being timed.
            for _ in range(args.repeat):
                for engine in measured:
                    row = rows[n, engine]
                    if row.over_limit:
                        continue
                    try:
                        process, found = end_to_end(engine, snapshot, out)
                    except OverLimit:
                        row.over_limit = True
                        print(f"  {engine} at N={n:,}: over --memory-limit", file=sys.stderr)
                        continue
                    check(engine, n, found, want)
                    row.runs.append(process)
            for engine in measured:
                row = rows[n, engine]
                if args.phases and not row.over_limit:
                    try:
                        row.phases = phases(engine, snapshot, out)
                    except OverLimit:
                        row.over_limit = True
                        continue
                print(f"  measured {engine} at N={n:,}", file=sys.stderr)
            snapshot.unlink()
    report(args.repeat, sizes, engines, rows, megabytes, counts, example, cold)


def report(
    repeat: int,
    sizes: list[int],
    engines: list[str],
    rows: dict[tuple[int, str], Row],
    megabytes: dict[int, float],
    counts: dict[int, int],
    example: Row | None,
    cold: Process | None = None,
) -> None:
    print(
        f"Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}, "
        f"{date.today().isoformat()}; end to end: median of {repeat} whole processes.\n"
    )
    print(
        "| instances | resources | snapshot | engine | end to end | CPU | peak memory "
        "| memory / snapshot |"
    )
    print("|---:|---:|---:|---|---:|---:|---:|---:|")
    for n in sizes:
        for engine in engines:
            row = rows.get((n, engine))
            if row is None:
                continue
            if row.over_limit:
                bound = f"{MEMORY_LIMIT / 2**30:g} GB" if MEMORY_LIMIT else "the limit"
                print(
                    f"| {n:,} | {counts[n]:,} | {megabytes[n]:.1f} MB | {engine} "
                    f"| did not finish | | over {bound} | |"
                )
                continue
            peak = row.median("peak_mb")
            print(
                f"| {n:,} | {counts[n]:,} | {megabytes[n]:.1f} MB | {engine} "
                f"| {row.median('wall'):.2f} s | {row.median('cpu'):.2f} s | {peak:.0f} MB "
                f"| {peak / megabytes[n]:.1f}x |"
            )
    rows = {key: row for key, row in rows.items() if not row.over_limit}
    print("\nPhases, CPU time in-process (one run):\n")
    for engine in engines:
        names = next((list(rows[n, engine].phases) for n in sizes if (n, engine) in rows), [])
        if not names:
            continue
        print(f"| {engine} | " + " | ".join(names) + " |")
        print("|---:|" + "---:|" * len(names))
        for n in sizes:
            row = rows.get((n, engine))
            if row is not None:
                cells = [f"{row.phases[k]:.3f} s" for k in names]
                print(f"| {n:,} | " + " | ".join(cells) + " |")
        print()
    print(
        "| instances | regorus / policyengine, wall | the same, CPU "
        "| policyengine / handwritten, wall | the same, CPU |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n in sizes:
        pe = rows.get((n, "policyengine"))
        if pe is None:
            continue
        cells = []
        for engine, over in (("regorus", True), ("handwritten", False)):
            other = rows.get((n, engine))
            for what in ("wall", "cpu"):
                if other is None:
                    cells.append("not run")
                    continue
                a, b = other.median(what), pe.median(what)
                cells.append(f"{a / b:.2f}x" if over else f"{b / a:.2f}x")
        print(f"| {n:,} | " + " | ".join(cells) + " |")
    print("\nGrowth per tenfold of instances, end to end (wall; CPU):\n")
    for engine in engines:
        have = [n for n in sizes if (n, engine) in rows]
        steps = []
        for a, b in zip(have, have[1:], strict=False):
            low, high = rows[a, engine], rows[b, engine]
            wall = high.median("wall") / low.median("wall")
            cpu = high.median("cpu") / low.median("cpu")
            steps.append(f"{a:,} -> {b:,}: {wall:.1f}x; {cpu:.1f}x")
        if steps:
            print(f"- {engine}: " + "; ".join(steps))
    print("\nTargets (wall time; CPU time in brackets):\n")
    for line in targets(rows, megabytes, example):
        print(f"- {line}")
    if example is not None:
        print(
            f"\nThe bundled example (`policyengine evaluate {EXAMPLE.relative_to(ROOT)}`, "
            f"the bundled packs), whole process: {example.median('wall'):.2f} s "
            f"(CPU {example.median('cpu'):.2f} s, peak {example.median('peak_mb'):.0f} MB)"
        )
    if cold is not None:
        print(
            f"The same with nothing kept from an earlier run (an empty per-user cache): "
            f"{cold.wall:.2f} s (CPU {cold.cpu:.2f} s)"
        )
    sys.stdout.flush()


def targets(
    rows: dict[tuple[int, str], Row], megabytes: dict[int, float], example: Row | None
) -> list[str]:
    """Each target of the engine, met or not and by how much, from this run's figures."""
    out: list[str] = []

    def ratio(n: int, top: str, bottom: str, what: str) -> float | None:
        a, b = rows.get((n, top)), rows.get((n, bottom))
        return None if a is None or b is None else a.median(what) / b.median(what)

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    for n, want in ((1_000, 2.0), (10_000, 10.0), (100_000, 10.0)):
        wall, cpu = (
            ratio(n, "regorus", "policyengine", "wall"),
            ratio(n, "regorus", "policyengine", "cpu"),
        )
        if wall is not None and cpu is not None:
            line = (
                f"at {n:,} instances, at least {want:g}x faster than regorus: "
                f"{verdict(wall >= want)}, {wall:.2f}x [{cpu:.2f}x]"
            )
            floor = ratio(n, "regorus", "projected", "wall")
            if wall < want and floor is not None:
                line += (
                    "; the hand-written rules over the projected decoding (`projected`) "
                    + ("meet it" if floor >= want else "do not either")
                    + f", {floor:.2f}x"
                )
            out.append(line)
    wall, cpu = (ratio(100_000, "policyengine", "handwritten", w) for w in ("wall", "cpu"))
    if wall is not None and cpu is not None:
        out.append(
            f"at 100,000, within 1.5x of the hand-written loop: {verdict(wall <= 1.5)}, "
            f"{wall:.2f}x [{cpu:.2f}x]"
        )
    low, high = rows.get((10_000, "policyengine")), rows.get((100_000, "policyengine"))
    if low is not None and high is not None:
        wall, cpu = (high.median(w) / low.median(w) for w in ("wall", "cpu"))
        out.append(
            f"growth from 10,000 to 100,000 at most 11x: {verdict(wall <= 11)}, "
            f"{wall:.1f}x [{cpu:.1f}x]"
        )
    for n in sorted(megabytes):
        row = rows.get((n, "policyengine"))
        if row is not None and n >= 100_000:
            times = row.median("peak_mb") / megabytes[n]
            out.append(
                f"at {n:,}, peak memory under 3x the snapshot file: {verdict(times < 3)}, "
                f"{times:.1f}x ({row.median('peak_mb'):.0f} MB for {megabytes[n]:.0f} MB)"
            )
    if example is not None:
        wall = example.median("wall")
        out.append(
            f"the bundled example under 0.25 s, whole process: {verdict(wall < 0.25)}, "
            f"{wall:.2f} s [{example.median('cpu'):.2f} s]"
        )
    return out


if __name__ == "__main__":
    main()
