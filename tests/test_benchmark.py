"""The benchmark's command, on the smallest account it makes: every engine it runs names
exactly the resources the generator planted violations on (the script exits 1
otherwise), and it prints its tables. A correctness check of the benchmark, not a
timing: the figures it prints are not tested."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_benchmark_engines_agree_with_the_plants() -> None:
    engines = ["handwritten", "projected", "policyengine"]
    if importlib.util.find_spec("hobofan_regorus") is not None:  # the `bench` extra
        engines.append("regorus")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--sizes",
            "80",
            "--repeat",
            "1",
            "--engines",
            ",".join(engines),
            "--no-phases",
            "--no-example",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "| 80 | " in done.stdout
    assert "Targets" in done.stdout
    for engine in engines:
        assert f"measured {engine} at N=80" in done.stderr
