"""Runs one engine once over one snapshot and prints its timings as JSON.

    python benchmarks/measure.py ENGINE SNAPSHOT

ENGINE is `baseline`, `policyengine`, `policyengine-interpreted`, `rego` or
`rego-noregex`. Run in a fresh process per measurement, so that peak memory (the
process's maximum resident set) belongs to that engine alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POLICY = ROOT / "policies" / "alicloud" / "ecs-locations.policy"


def _clock() -> float:
    return time.perf_counter()


def run_baseline(path: Path) -> dict[str, Any]:
    import orjson

    sys.path.insert(0, str(HERE))
    import baseline

    t0 = _clock()
    data = orjson.loads(path.read_bytes())
    t1 = _clock()
    fails = baseline.evaluate(data)
    t2 = _clock()
    return {"load": t1 - t0, "compile": 0.0, "prepare": 0.0, "evaluate": t2 - t1, "fails": fails}


def run_policyengine(path: Path, compiled: bool) -> dict[str, Any]:
    import gc

    from policyengine.frontend.loader import load
    from policyengine.inputs.snapshot import parse_snapshot
    from policyengine.inputs.store import Store
    from policyengine.runtime import Status, evaluate, trace

    t0 = _clock()
    loaded = load([POLICY])
    t1 = _clock()
    snapshot = parse_snapshot(path.read_bytes(), str(path))
    t2 = _clock()
    store = Store(snapshot, loaded.plan.model)
    gc.freeze()  # as the command line does: loaded data is not garbage
    t3 = _clock()
    if compiled:
        results = evaluate(loaded.plan, store)
    else:
        from policyengine.runtime.rules import evaluate_interpreted

        results = evaluate_interpreted(loaded.plan, store)
    t4 = _clock()
    fails: dict[str, int] = {}
    for result in results:
        if result.status is Status.FAIL:
            trace(store, result)  # the evidence a report shows for each finding
            fails[result.rule.name] = fails.get(result.rule.name, 0) + 1
        elif result.status is Status.ERROR:
            fails["(error)"] = fails.get("(error)", 0) + 1
    t5 = _clock()
    return {
        "compile": t1 - t0,
        "load": t2 - t1,
        "prepare": t3 - t2,
        "evaluate": t4 - t3,
        "explain": t5 - t4,
        "fails": fails,
    }


def run_rego(path: Path, query: str) -> dict[str, Any]:
    import regopy

    t0 = _clock()
    rego = regopy.Interpreter()
    rego.add_module("ecs_locations", (HERE / "rego" / "ecs_locations.rego").read_text())
    t1 = _clock()
    rego.set_input_term(path.read_text())
    t2 = _clock()
    out = rego.query(f"x = data.ecs_locations.{query}")
    t3 = _clock()
    fails = json.loads(str(out.binding("x")))
    return {
        "compile": t1 - t0,
        "load": t2 - t1,
        "prepare": 0.0,
        "evaluate": t3 - t2,
        "fails": fails,
    }


def main() -> None:
    engine, path = sys.argv[1], Path(sys.argv[2])
    match engine:
        case "baseline":
            out = run_baseline(path)
        case "policyengine":
            out = run_policyengine(path, compiled=True)
        case "policyengine-interpreted":
            out = run_policyengine(path, compiled=False)
        case "rego":
            out = run_rego(path, "fails")
        case "rego-noregex":
            out = run_rego(path, "fails_without_regex")
        case _:
            raise SystemExit(f"unknown engine {engine}")
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main()
