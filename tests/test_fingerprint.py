"""Fingerprints: the identity of a finding that baselines and waivers key on.

Stable across runs and across the order of resources; different when a fact that
decided the finding changes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from policyengine import Store, parse_snapshot
from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.results.explain import fingerprint
from policyengine.results.report import build

EXAMPLE = Path(__file__).parent.parent / "examples" / "ecs-account" / "snapshot.json"


@pytest.fixture(scope="module")
def bundled() -> Loaded:
    return load(bundled_policies())


def fingerprints(bundled: Loaded, doc: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    store = Store(parse_snapshot(json.dumps(doc), "account.json"), bundled.plan.model)
    report = build(bundled.plan, [store])
    prints: dict[tuple[str, str, str], str] = {}
    for f in report.findings:
        if f.proof is None:
            continue
        r = f.result
        other = r.target.key if r.target is not None else str(r.edge.value if r.edge else "")
        key = (r.rule.id, r.resource.key, other)
        assert key not in prints, key
        prints[key] = fingerprint(f.proof)
    return prints


def example() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return doc


def test_every_finding_has_a_distinct_fingerprint(bundled: Loaded) -> None:
    prints = fingerprints(bundled, example())
    assert len(prints) >= 20
    assert len(set(prints.values())) == len(prints)


@pytest.mark.parametrize("seed", [1, 2])
def test_resource_order_does_not_change_fingerprints(bundled: Loaded, seed: int) -> None:
    doc = example()
    expected = fingerprints(bundled, doc)
    random.Random(seed).shuffle(doc["resources"])
    assert fingerprints(bundled, doc) == expected


def test_a_changed_deciding_value_changes_the_fingerprint(bundled: Loaded) -> None:
    doc = example()
    before = fingerprints(bundled, doc)
    key = next(k for k in before if k[0] == "ecs_locations.disk_zone")
    disk = next(r for r in doc["resources"] if r.get("id") == key[1])
    zones = doc["locations"][disk["region"]]
    target = next(r for r in doc["resources"] if r.get("id") == key[2])
    # Another zone that still differs from the instance's: the same rule still fails,
    # but on different facts, so a waiver bound to the old facts must not cover it.
    disk["zone"] = next(z for z in zones if z not in (disk["zone"], target["zone"]))
    after = fingerprints(bundled, doc)
    assert key in after
    assert after[key] != before[key]
    unchanged = [k for k in before if key[1] not in k and key[2] not in k]
    assert unchanged and all(after[k] == before[k] for k in unchanged)
