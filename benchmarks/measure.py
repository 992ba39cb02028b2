"""Runs one engine once over one snapshot, in this process, and prints its phase timings
and the ids each rule of benchmarks/ecs-bench.policy finds failing, as JSON.

    python benchmarks/measure.py ENGINE SNAPSHOT

ENGINE is `handwritten` (benchmarks/baseline.py over orjson), `projected` (the same over
msgspec's decoding of only the fields it reads), `regorus` (the Rust Rego
engine's Python bindings, PyPI `hobofan_regorus`, over benchmarks/rego/ecs_bench.rego) or
`policyengine` (the steps `policyengine evaluate --format json` takes, one by one).
benchmarks/run.py runs each in a fresh process, so that the process's wall time, CPU time
and peak memory are that engine's alone, start-up included.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
POLICY = HERE / "ecs-bench.policy"
REGO = HERE / "rego" / "ecs_bench.rego"

Phases = dict[str, float]
Offenders = dict[str, list[str]]


# What an engine built, kept to the end of the process, which ends without freeing it
# (`main`): as `policyengine evaluate` ends its own once its report is written
# (policyengine/cli/leave.py), so that no engine pays for a teardown the others skip.
_KEPT: list[Any] = []


def _clock() -> float:
    return time.process_time()  # CPU time: the machine may be shared


def run_handwritten(path: Path) -> tuple[Phases, Offenders]:
    t0 = _clock()
    import gc

    import orjson

    # The floor a careful script reaches: no cyclic collection while it builds millions of
    # objects it keeps to its end (at 100,000 instances the collector is otherwise three
    # fifths of orjson's parse), as policyengine pauses it while it loads.
    gc.disable()

    sys.path.insert(0, str(HERE))
    import baseline

    t1 = _clock()
    data = orjson.loads(path.read_bytes())
    t2 = _clock()
    found = baseline.bench_offenders(data)
    t3 = _clock()
    _KEPT.append(data)
    phases = {"imports": t1 - t0, "read + parse": t2 - t1, "index + evaluate": t3 - t2}
    return phases, {rule: sorted(ids) for rule, ids in found.items()}


def run_projected(path: Path) -> tuple[Phases, Offenders]:
    """The hand-written rules over a decoding that builds only the fields they read, the
    rest of each resource skipped in C (msgspec's typed decoding, as policyengine reads a
    large snapshot): the least a Python program spends on these rules, unchecked and
    unexplained."""
    t0 = _clock()
    import gc
    from typing import TypedDict

    import msgspec

    gc.disable()
    sys.path.insert(0, str(HERE))
    import baseline

    # Built at run time from the fields' names (a class statement's annotations would be
    # looked up as module globals by msgspec).
    fields = dict.fromkeys(baseline.BENCH_FIELDS, Any)
    resource = TypedDict("resource", fields, total=False)  # type: ignore[misc]
    top = {"locations": dict[str, list[str]], "resources": list[resource]}  # type: ignore[valid-type]
    document = TypedDict("document", top, total=False)  # type: ignore[misc]  # noqa: UP013
    decode = msgspec.json.Decoder(document).decode
    t1 = _clock()
    data = decode(path.read_bytes())
    t2 = _clock()
    found = baseline.bench_offenders(data)
    t3 = _clock()
    _KEPT.append(data)
    phases = {"imports": t1 - t0, "read + parse": t2 - t1, "index + evaluate": t3 - t2}
    return phases, {rule: sorted(ids) for rule, ids in found.items()}


def run_regorus(path: Path) -> tuple[Phases, Offenders]:
    t0 = _clock()
    import hobofan_regorus

    t1 = _clock()
    engine = hobofan_regorus.Engine()
    engine.add_policy(REGO.name, REGO.read_text())
    t2 = _clock()
    engine.set_input_json(path.read_text())
    t3 = _clock()
    found = json.loads(engine.eval_rule_as_json("data.bench.offenders"))
    t4 = _clock()
    _KEPT.append(engine)
    phases = {
        "imports": t1 - t0,
        "compile": t2 - t1,
        "read + parse": t3 - t2,
        "index + evaluate": t4 - t3,
    }
    return phases, found


def run_policyengine(path: Path) -> tuple[Phases, Offenders]:
    """The steps of `policyengine evaluate --format json --policy POLICY SNAPSHOT`, timed
    one by one: the whole process is timed by running the command itself."""
    import gc

    t0 = _clock()
    import policyengine.cli  # noqa: F401  (what the command imports before any work)
    from policyengine.frontend.loader import load
    from policyengine.inputs import importers
    from policyengine.inputs.reads import attributes_read
    from policyengine.outputs import Format, needs_every_outcome, render
    from policyengine.results import report as reports

    t1 = _clock()
    loaded = load([POLICY])
    t2 = _clock()
    # As the command does: only the attributes the rules read are decoded (from a large
    # file), checked and converted.
    reads = attributes_read(loaded.plan)
    read = importers.read(path, "auto", loaded.plan.model, importers.Options(None), reads=reads)
    t3 = _clock()
    store = importers.to_store(read.snapshot, loaded.plan.model, None, reads)
    for rule in loaded.plan.rules:  # built on first use in a run: timed as what they are
        if rule.edge is not None:
            store.edge_index(rule.edge)
    gc.freeze()
    t4 = _clock()
    every = needs_every_outcome([Format.JSON], show_all=False)
    built = reports.build(loaded.plan, [store], every_outcome=every)
    t5 = _clock()
    text = render(Format.JSON, built, show_all=False)
    t6 = _clock()
    phases = {
        "imports": t1 - t0,
        "compile": t2 - t1,
        "read + parse": t3 - t2,
        "store + indexes": t4 - t3,
        "evaluate + findings": t5 - t4,
        "render": t6 - t5,
    }
    return phases, offenders_of_report(json.loads(text))


def offenders_of_report(report: dict[str, Any]) -> Offenders:
    """Rule name -> the ids of the resources failing it, from a JSON report."""
    found: dict[str, set[str]] = {}
    for r in report["results"]:
        if r["outcome"] == "fail":
            found.setdefault(r["rule"].split(".", 1)[1], set()).add(r["resource"]["id"])
        else:
            found.setdefault("(" + r["outcome"] + ")", set()).add(r["resource"]["id"])
    return {rule: sorted(ids) for rule, ids in found.items()}


def main() -> None:
    engine, path = sys.argv[1], Path(sys.argv[2])
    runs = {
        "handwritten": run_handwritten,
        "projected": run_projected,
        "regorus": run_regorus,
        "policyengine": run_policyengine,
    }
    if engine not in runs:
        raise SystemExit(f"unknown engine {engine}; one of {', '.join(runs)}")
    phases, found = runs[engine](path)
    print(json.dumps({"phases": phases, "offenders": found}))
    sys.stdout.flush()
    os._exit(0)  # nothing freed: see `_KEPT`


if __name__ == "__main__":
    main()
