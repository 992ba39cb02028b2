"""Same-location sentences run over a kind's sources in one loop (`where` and `unless`
about the target decided once per target, an edge's candidates ranked there) against the
runner of one source and the plan interpreter, on generated accounts: images listed in
some regions under one id, public or not, visibility missing, null or of another type,
sources without a place, several edges of one source, a source with a gap beside its
edge."""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from differential import evaluate_both
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.core.errors import InputError
from policyengine.frontend.loader import Loaded, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.runtime import compiled as fast
from policyengine.runtime.outcomes import Status

# More examples than the default profile's, as many as the long one's when it runs.
_EXAMPLES = max(100, settings.default.max_examples)

_POLICY = """use alicloud.ecs

policy t {
  rule public_unless {
    instance use image requires same region unless image.visibility == "public"
  }
  rule owned_where {
    instance use image requires same region where image.image_owner_alias != "system"
  }
  rule both {
    instance use image requires same region
      where image.status is set unless image.visibility in ["public", "shared"]
  }
  rule source_where {
    instance use image requires same region where instance.zone is set
  }
  rule disk_zone {
    disk attach requires same zone
  }
  rule groups {
    instance join security_group requires same region
  }
}
"""
# The rules whose sources run in one loop; `source_where` reads its source.
_BATCHED = ("t.public_unless", "t.owned_where", "t.both", "t.disk_zone", "t.groups")

_REGIONS = ["cn-hangzhou", "cn-shanghai", "ap-southeast-1"]
_ZONES = {"cn-hangzhou": "cn-hangzhou-h", "cn-shanghai": "cn-shanghai-e"}
_IMAGE_IDS = ["m-aaaaaaaaaaaaaaaaaaaa", "m-bbbbbbbbbbbbbbbbbbbb", "ubuntu_22_04_x64", "win2022"]
_ABSENT = object()


@cache
def _loaded() -> Loaded:
    path = Path(tempfile.mkdtemp()) / "t.policy"
    path.write_text(_POLICY, encoding="utf-8")
    return load([path])


def _put(record: dict[str, Any], name: str, value: object) -> None:
    if value is not _ABSENT:
        record[name] = value


@st.composite
def _accounts(draw: st.DrawFn) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    # Most values usable, some not: a source or target without a place is undecided.
    regions = st.sampled_from([*_REGIONS, *_REGIONS, None, _ABSENT])
    for image_id in _IMAGE_IDS:
        for region in draw(st.lists(st.sampled_from(_REGIONS), max_size=3, unique=True)):
            image: dict[str, Any] = {"kind": "image", "id": image_id, "region": region}
            system = not image_id.startswith("m-")
            _put(
                image,
                "image_owner_alias",
                "system" if system else draw(st.sampled_from(["self", "others", _ABSENT])),
            )
            _put(
                image,
                "visibility",
                draw(st.sampled_from(["public", "custom", "shared", "custom", None, _ABSENT])),
            )
            _put(image, "status", draw(st.sampled_from(["Available", "", None, _ABSENT])))
            resources.append(image)
    groups = [f"sg-{c * 20}" for c in "gh"]
    for group, region in zip(groups, draw(st.lists(regions, min_size=2, max_size=2)), strict=True):
        record: dict[str, Any] = {"kind": "security_group", "id": group, "rules": []}
        _put(record, "region", region)
        resources.append(record)
    instances = []
    for i in range(draw(st.integers(1, 8))):
        instance: dict[str, Any] = {"kind": "instance", "id": f"i-{i:020d}"}
        region = draw(regions)
        _put(instance, "region", region)
        zone = _ZONES.get(region) if isinstance(region, str) else None
        _put(instance, "zone", draw(st.sampled_from([zone, zone, zone, None, _ABSENT])))
        _put(
            instance,
            "image_id",
            draw(st.sampled_from([*_IMAGE_IDS, "m-cccccccccccccccccccc", _ABSENT])),
        )
        instance["security_group_ids"] = draw(st.lists(st.sampled_from(groups), max_size=2))
        instances.append(instance)
        resources.append(instance)
    for d in range(draw(st.integers(0, 4))):
        # A record without its instance id: a gap beside the edge `instance_id` makes.
        attachments = draw(
            st.sampled_from(
                [[], [], [{"device": "/dev/xvdb"}], [{"instance_id": instances[0]["id"]}]]
            )
        )
        disk: dict[str, Any] = {"kind": "disk", "id": f"d-{d:020d}", "attachments": attachments}
        _put(
            disk, "zone", draw(st.sampled_from([*_ZONES.values(), *_ZONES.values(), None, _ABSENT]))
        )
        _put(disk, "region", "cn-hangzhou")
        _put(disk, "instance_id", draw(st.sampled_from([i["id"] for i in instances] + [None])))
        resources.append(disk)
    order = draw(st.permutations(range(len(resources))))
    return {"resources": [resources[i] for i in order]}


@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=_EXAMPLES,
)
@given(_accounts())
def test_sentences_counted_in_one_loop_are_identical_on_both_paths(doc: dict[str, Any]) -> None:
    loaded = _loaded()
    try:
        store = Store(parse_snapshot(json.dumps(doc), "s.json"), loaded.plan.model)
    except InputError:
        return  # an account the loader rejects: nothing to evaluate
    evaluate_both(loaded.plan, store)


def test_the_sentences_are_run_in_one_loop_where_their_conditions_allow() -> None:
    """The differential test above goes through the loop for these rules: it is made
    for each, and not for a `where` about the source."""
    loaded = _loaded()
    doc = {"resources": [{"kind": "instance", "id": "i-" + "0" * 20, "region": "cn-hangzhou"}]}
    store = Store(parse_snapshot(json.dumps(doc), "s.json"), loaded.plan.model)
    plan = fast.compile_plan(loaded.plan)
    assert plan.fallbacks == ()

    def one(resource: Any, out: Any) -> None:
        raise AssertionError("not reached")

    made = {
        rule_id: fast._same_location_batch(found, store, {Status.PASS: 0}, one)
        for rule_id, found in plan.rules.items()
    }
    assert {rule_id for rule_id, batch in made.items() if batch is not None} == set(_BATCHED)


def test_a_source_with_a_gap_beside_its_one_edge_reports_the_gap() -> None:
    """A disk attached to an instance of its zone by `instance_id`, and a record of
    `attachments` without its instance id: the edge passes, the gap is an error."""
    instance = {"kind": "instance", "id": "i-" + "0" * 20, "region": "cn-hangzhou"}
    instance["zone"] = "cn-hangzhou-h"
    disk = {
        "kind": "disk",
        "id": "d-" + "0" * 20,
        "region": "cn-hangzhou",
        "zone": "cn-hangzhou-h",
        "instance_id": instance["id"],
        "attachments": [{"device": "/dev/xvdb"}],
    }
    loaded = _loaded()
    store = Store(
        parse_snapshot(json.dumps({"resources": [instance, disk]}), "s.json"), loaded.plan.model
    )
    found = [(r.rule.id, r.status) for r in evaluate_both(loaded.plan, store)]
    assert ("t.disk_zone", Status.ERROR) in found
    assert ("t.disk_zone", Status.PASS) in found
