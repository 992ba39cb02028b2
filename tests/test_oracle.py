"""A differential oracle for the ECS location pack: `benchmarks/baseline.py`, a plain-Python
implementation of each rule written without the engine, must count the same failures as
the engine on generated accounts with planted violations, and after random moves of
resources between regions and zones that plant more.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policyengine.frontend.loader import Loaded, bundled_root, load
from policyengine.inputs.snapshot import parse_document
from policyengine.inputs.store import Store
from policyengine.runtime import Status, evaluate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import baseline  # noqa: E402
import generate  # noqa: E402

MOVABLE = ("instance", "disk", "eni", "snapshot", "security_group", "ram_role_attachment")


@cache
def pack() -> Loaded:
    return load([bundled_root() / "alicloud" / "ecs-locations.policy"])


def _engine(doc: dict[str, Any]) -> dict[str, int]:
    store = Store(parse_document(doc, "generated.json"), pack().plan.model)
    fails = Counter(r.rule.name for r in evaluate(pack().plan, store) if r.status is Status.FAIL)
    return {rule: fails.get(rule, 0) for rule in generate.RULES}


def _move(doc: dict[str, Any], rnd: random.Random) -> None:
    """Moves one resource to another region (and a zone of it), or an instance or disk to
    a zone of another region while it keeps its region."""
    locations: dict[str, list[str]] = doc["locations"]
    resources = [r for r in doc["resources"] if r["kind"] in MOVABLE]
    resource = rnd.choice(resources)
    region = rnd.choice(sorted(locations))
    zone = rnd.choice(locations[region])
    if "zone" in resource and rnd.random() < 0.3:
        resource["zone"] = zone  # a zone that is not in the resource's region
        return
    resource["region"] = region
    if "zone" in resource:
        resource["zone"] = zone


@given(
    n=st.integers(generate.MIN_INSTANCES, generate.MIN_INSTANCES + 40),
    seed=st.integers(0, 2**32),
    moves=st.integers(0, 8),
)
def test_the_engine_agrees_with_an_independent_implementation(
    n: int, seed: int, moves: int
) -> None:
    doc = generate.account(n)
    rnd = random.Random(seed)
    for _ in range(moves):
        _move(doc, rnd)
    expected = baseline.evaluate(doc)
    assert _engine(doc) == expected
    if moves == 0:
        assert expected == generate.planted(n)  # the plants are what both find
