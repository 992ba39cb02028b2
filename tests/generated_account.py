"""A generated account of the benchmark's smallest size and the policies that read it
(the bundled packs and benchmarks/ecs-bench.policy), each made once for the tests that
compare ways of reading and loading it."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Any

from policyengine.frontend.loader import Loaded, bundled_policies, load

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402


@cache
def bench_policies() -> Loaded:
    return load([*bundled_policies(), ROOT / "benchmarks" / "ecs-bench.policy"])


@cache
def bench_account() -> dict[str, Any]:
    return generate.account(generate.MIN_INSTANCES)
