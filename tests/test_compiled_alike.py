"""A condition decided once per distinct value of what it reads of its subject
(`runtime/alike.py`): the same outcomes, reasons and counts as the interpreter, whatever
the values shared."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from differential import evaluate_both
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.core import plan
from policyengine.core.errors import InputError
from policyengine.frontend.loader import bundled_policies, load
from policyengine.inputs import importers
from policyengine.inputs.reads import attributes_read
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.runtime import alike

EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"
BENCH_POLICY = ROOT / "benchmarks" / "ecs-bench.policy"


@pytest.fixture
def every_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values gathered however few the subjects, however many their values."""
    monkeypatch.setattr(alike, "AT_LEAST", 1)
    monkeypatch.setattr(alike, "DISTINCT_SHARE", 1.0)


def _policy(tmp_path: Path, rules: str) -> plan.Plan:
    path = tmp_path / "p.policy"
    path.write_text(f'use alicloud.ecs\n\npolicy t "T" {{\n  severity high\n{rules}\n}}\n')
    loaded = load([path])
    assert not loaded.warnings
    return loaded.plan


def _store(doc: dict[str, Any], compiled: plan.Plan) -> Store:
    return Store(parse_snapshot(json.dumps(doc), "s.json"), compiled.model)


def _instance(i: int, zone: str | None, region: str, tags: dict[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "kind": "instance",
        "id": f"i-{i:020d}",
        "region": region,
        "tags": tags,
        "image_id": "m-" + "0" * 20,
        "security_group_ids": [],
        "instance_type": "ecs.g7.large" if i % 3 else "ecs.t6-c1m2.large",
    }
    if zone is not None:
        found["zone"] = zone
    return found


_LOCATIONS = {
    "cn-hangzhou": {"zones": ["cn-hangzhou-h", "cn-hangzhou-i"]},
    "cn-shanghai": {"zones": ["cn-shanghai-e"]},
}
_RULES = """
  rule zone_region "zone in its region" {
    for each instance require zone is set and region_of(zone) == region
  }
  rule tags "required tags" {
    for each instance require every t in ["owner", "cost-center"]: tags[t] is set
  }
  rule owner "an owner that is not nobody" {
    for each instance forbid tags["owner"] == "nobody"
  }
  rule type "a type of the g family" {
    for each instance require instance_type matches /^ecs[.]g/
  }
"""


@st.composite
def _accounts(draw: st.DrawFn) -> dict[str, Any]:
    """Instances in a few zones and regions (some a zone of another region, some none),
    with a few tag sets: many resources alike."""
    zones = st.sampled_from(["cn-hangzhou-h", "cn-hangzhou-i", "cn-shanghai-e", "cn-x-z", None])
    regions = st.sampled_from(["cn-hangzhou", "cn-shanghai"])
    tags = st.sampled_from(
        [
            {"owner": "a", "cost-center": "1"},
            {"owner": "nobody", "cost-center": "1"},
            {"owner": "a"},
            {"owner": "", "cost-center": "2"},
            {},
        ]
    )
    n = draw(st.integers(0, 40))
    resources = [_instance(i, draw(zones), draw(regions), draw(tags)) for i in range(n)]
    doc: dict[str, Any] = {"resources": resources}
    if draw(st.booleans()):
        doc["locations"] = _LOCATIONS
    return doc


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(doc=_accounts(), shared=st.booleans())
def test_rules_of_the_subjects_values_are_decided_alike_on_both_paths(
    tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any], shared: bool
) -> None:
    alike_before = (alike.AT_LEAST, alike.DISTINCT_SHARE)
    alike.AT_LEAST, alike.DISTINCT_SHARE = 1, 1.0  # type: ignore[misc]
    try:
        compiled = _policy(tmp_path_factory.mktemp("p"), _RULES)
        try:
            store = _store(doc, compiled)
        except InputError:
            return
        if shared:  # equal tag sets held once, as the reading of a large file holds them
            held: dict[str, Any] = {}
            for resource in store.resources:
                tags = resource.data.get("tags")
                if isinstance(tags, dict):
                    resource.data["tags"] = held.setdefault(json.dumps(tags), tags)
        evaluate_both(compiled, store)
    finally:
        alike.AT_LEAST, alike.DISTINCT_SHARE = alike_before  # type: ignore[misc]


def test_the_bundled_packs_decide_alike_on_both_paths(every_store: None) -> None:
    loaded = load(bundled_policies())
    store = Store(parse_snapshot(EXAMPLE.read_text(encoding="utf-8"), "s.json"), loaded.plan.model)
    assert len(evaluate_both(loaded.plan, store)) > 200


def test_a_generated_account_read_as_large_decides_alike(tmp_path: Path) -> None:
    """The benchmark's account, read as a large file is (tag sets held once), past the
    sizes at which values are gathered."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.pop(0)
    path = tmp_path / "a.json"
    generate.write(1000, str(path))
    loaded = load([BENCH_POLICY])
    reads = attributes_read(loaded.plan)
    read = importers.read(path, "auto", loaded.plan.model, importers.Options(None), reads=reads)
    store = importers.to_store(read.snapshot, loaded.plan.model, None, reads)
    assert len(store.by_kind["instance"]) >= alike.AT_LEAST
    evaluate_both(loaded.plan, store)


@pytest.mark.parametrize(
    ("condition", "names"),
    [
        ("zone is set and region_of(zone) == region", ("region", "zone")),
        ('every t in ["owner", "cost-center"]: tags[t] is set', ("tags",)),
        ('tags["owner"] == "x" or instance_type == "y"', ("instance_type", "tags")),
        ("any r in security_group_ids: r == image_id", ("image_id", "security_group_ids")),
        ("id matches kind format", None),  # the id is the resource's own
        ("count(this use image) > 0", None),  # a relation followed
    ],
)
def test_what_a_condition_reads_of_its_subject(
    tmp_path: Path, condition: str, names: tuple[str, ...] | None
) -> None:
    compiled = _policy(
        tmp_path, f'  rule r "R" {{\n    for each instance require {condition}\n  }}'
    )
    (rule,) = compiled.rules
    assert alike.read_of_subject(rule.condition) == names
