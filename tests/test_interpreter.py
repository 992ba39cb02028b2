"""Semantics of evaluation, as tables: a rule, the resources, the outcomes it must give.

Each case writes a one-rule policy over the bundled `alicloud.ecs` model, loads it, builds
a store from a snapshot and evaluates. Nothing here renders: wording is for test_cli.py.
The rule of no silent passes runs through every table: what cannot be decided is `error`.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from differential import evaluate_both

from policyengine import Result, Store, evaluate, load, parse_snapshot, trace
from policyengine.frontend.loader import Loaded, bundled_policies
from policyengine.results.explain import evidence

HZ, SH = "cn-hangzhou", "cn-shanghai"
ZONE_H, ZONE_I = "cn-hangzhou-h", "cn-hangzhou-i"


# ---------------------------------------------------------------- building inputs


def rid(prefix: str, n: int, length: int = 20) -> str:
    """A well-formed id: the prefix and `length` lowercase alphanumerics."""
    return prefix + str(n).rjust(length, "0")


def instance(n: int, **attrs: Any) -> dict[str, Any]:
    return {"kind": "instance", "id": rid("i-", n), "region": HZ, "zone": ZONE_H, **attrs}


def disk(n: int, **attrs: Any) -> dict[str, Any]:
    return {"kind": "disk", "id": rid("d-", n), "region": HZ, "zone": ZONE_H, **attrs}


def image(n: int, region: str = HZ, **attrs: Any) -> dict[str, Any]:
    return {
        "kind": "image",
        "id": rid("m-", n),
        "region": region,
        "image_owner_alias": "self",
        "visibility": "custom",
        **attrs,
    }


def security_group(n: int, rules: list[dict[str, Any]], **attrs: Any) -> dict[str, Any]:
    return {"kind": "security_group", "id": rid("sg-", n), "region": HZ, "rules": rules, **attrs}


def sg_rule(port_range: str = "22/22", **attrs: Any) -> dict[str, Any]:
    return {
        "direction": "ingress",
        "policy": "Accept",
        "priority": 1,
        "ip_protocol": "TCP",
        "port_range": port_range,
        "source_cidr_ip": "0.0.0.0/0",
        **attrs,
    }


def key_pair(name: str, region: str) -> dict[str, Any]:
    return {"kind": "key_pair", "name": name, "region": region}


def ecs_snapshot(n: int, source_disk_id: str, region: str = HZ) -> dict[str, Any]:
    return {
        "kind": "snapshot",
        "id": rid("s-", n),
        "region": region,
        "source_disk_id": source_disk_id,
    }


POLICY = """use alicloud.ecs

policy t "semantics" {{
  rule r {{
    {body}
  }}
}}
"""

_LOADED: dict[str, Loaded] = {}


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("policies")


def compile_rule(policy_dir: Path, body: str) -> Loaded:
    """Loads (parses, checks, compiles) a one-rule policy; each body only once."""
    if body not in _LOADED:
        path = policy_dir / f"{hashlib.sha1(body.encode()).hexdigest()[:12]}.policy"
        path.write_text(POLICY.format(body=body), encoding="utf-8")
        _LOADED[body] = load([path])
    return _LOADED[body]


def run(
    policy_dir: Path,
    body: str,
    resources: list[dict[str, Any]],
    locations: dict[str, list[str]] | None = None,
) -> list[Result]:
    loaded = compile_rule(policy_dir, body)
    doc: dict[str, Any] = {"resources": resources}
    if locations is not None:
        doc["locations"] = locations
    store = Store(parse_snapshot(json.dumps(doc), "snapshot.json"), loaded.plan.model)
    return evaluate_both(loaded.plan, store)


def outcomes(results: list[Result]) -> list[tuple[str, str | None, str]]:
    """(resource, related resource, status) per outcome, in evaluation order."""
    return [
        (r.resource.key, r.target.key if r.target is not None else None, str(r.status))
        for r in results
    ]


def single(policy_dir: Path, body: str, resources: list[dict[str, Any]], **kw: Any) -> Result:
    """The one outcome of the first resource (the subject of the table row)."""
    results = [r for r in run(policy_dir, body, resources, **kw) if r.resource.index == 0]
    assert len(results) == 1, outcomes(results)
    return results[0]


# ---------------------------------------------------------------- require / forbid


@pytest.mark.parametrize(
    ("body", "attrs", "expected"),
    [
        ("for each disk require encrypted == true", {"encrypted": True}, "pass"),
        ("for each disk require encrypted == true", {"encrypted": False}, "fail"),
        ("for each disk require encrypted == true", {}, "error"),
        ("for each disk require encrypted == true", {"encrypted": None}, "error"),
        ("for each disk forbid encrypted == false", {"encrypted": True}, "pass"),
        ("for each disk forbid encrypted == false", {"encrypted": False}, "fail"),
        ("for each disk forbid encrypted == false", {}, "error"),
        ("for each disk require encrypted", {"encrypted": True}, "pass"),
        ("for each disk forbid encrypted", {"encrypted": True}, "fail"),
        ("for each disk forbid encrypted", {}, "error"),
        ("for each disk require size >= 40", {"size": 40}, "pass"),
        ("for each disk require size >= 40", {"size": 39}, "fail"),
        ('for each disk require status != "Available"', {}, "error"),
    ],
)
def test_require_and_forbid(
    policy_dir: Path, body: str, attrs: dict[str, Any], expected: str
) -> None:
    assert single(policy_dir, body, [disk(1, **attrs)]).status == expected


def test_error_names_what_is_missing(policy_dir: Path) -> None:
    result = single(policy_dir, "for each disk require encrypted == true", [disk(1)])
    assert result.status == "error"
    assert "`encrypted`" in result.reason and rid("d-", 1) in result.reason


# ---------------------------------------------------------------- where / unless

WHERE_DATA = 'for each disk where type == "data" require encrypted == true'
UNLESS_SYSTEM = 'for each disk require encrypted == true unless type == "system"'
FORBID_UNLESS = 'for each disk forbid encrypted == false unless type == "system"'


@pytest.mark.parametrize(
    ("body", "attrs", "expected", "reason"),
    [
        (WHERE_DATA, {"type": "system", "encrypted": False}, "skipped", "where"),
        (WHERE_DATA, {"type": "data", "encrypted": False}, "fail", ""),
        (WHERE_DATA, {"type": "data", "encrypted": True}, "pass", ""),
        (WHERE_DATA, {"encrypted": True}, "error", "`type`"),  # the filter cannot be decided
        (UNLESS_SYSTEM, {"type": "system", "encrypted": False}, "skipped", "exempt"),
        (UNLESS_SYSTEM, {"type": "data", "encrypted": False}, "fail", ""),
        (UNLESS_SYSTEM, {"type": "data", "encrypted": True}, "pass", ""),
        (UNLESS_SYSTEM, {"encrypted": True}, "error", "`type`"),
        # `forbid c unless u` fails exactly when `c and not u`
        (FORBID_UNLESS, {"type": "data", "encrypted": False}, "fail", ""),
        (FORBID_UNLESS, {"type": "system", "encrypted": False}, "skipped", "exempt"),
        (FORBID_UNLESS, {"type": "data", "encrypted": True}, "pass", ""),
        (FORBID_UNLESS, {"type": "system", "encrypted": True}, "skipped", "exempt"),
    ],
)
def test_where_and_unless(
    policy_dir: Path, body: str, attrs: dict[str, Any], expected: str, reason: str
) -> None:
    result = single(policy_dir, body, [disk(1, **attrs)])
    assert result.status == expected
    assert reason in result.reason


def test_unless_is_decided_before_the_requirement(policy_dir: Path) -> None:
    # The requirement reads a missing value, but the exemption already holds.
    result = single(policy_dir, UNLESS_SYSTEM, [disk(1, type="system")])
    assert result.status == "skipped"


# ---------------------------------------------------------------- missing values


@pytest.mark.parametrize(
    ("body", "resource", "expected"),
    [
        # a missing non-optional attribute: never pass
        ('for each disk require status == "In_use"', disk(1), "error"),
        ('for each disk forbid status == "In_use"', disk(1), "error"),
        ('for each disk require status != "In_use"', disk(1), "error"),
        ('for each disk require category in ["cloud_essd"]', disk(1), "error"),
        ('for each disk require status == "In_use"', disk(1, status=None), "error"),
        # a map key that is absent: a comparison with it is false
        ('for each disk require tags["env"] == "prod"', disk(1, tags={}), "fail"),
        ('for each disk forbid tags["env"] == "prod"', disk(1, tags={}), "pass"),
        ('for each disk require tags["env"] != "prod"', disk(1, tags={}), "fail"),
        ('for each disk require tags["env"] == "prod"', disk(1, tags={"env": "prod"}), "pass"),
        pytest.param(
            'for each disk forbid tags["public"] == "true"',
            disk(1),
            "error",
            id="key-of-missing-map",
        ),
        pytest.param(
            'for each instance forbid metadata_options.http_tokens == "optional"',
            instance(1),
            "error",
            id="field-of-missing-record",
        ),
        (
            'for each instance forbid metadata_options.http_tokens == "optional"',
            instance(1, metadata_options={}),
            "pass",
        ),
        # a missing optional attribute: a comparison with it is false
        pytest.param(
            'for each disk require disk_charge_type == "PostPaid"',
            disk(1),
            "fail",
            id="optional-eq",
        ),
        pytest.param(
            'for each disk forbid disk_charge_type == "PostPaid"',
            disk(1),
            "pass",
            id="optional-forbid",
        ),
        pytest.param(
            'for each disk require disk_charge_type != "PostPaid"',
            disk(1),
            "fail",
            id="optional-ne",
        ),
        pytest.param(
            'for each instance require eip_address.ip_address == "1.2.3.4"',
            instance(1, eip_address={}),
            "fail",
            id="optional-nested",
        ),
        pytest.param(
            'for each disk where disk_charge_type == "PostPaid" require encrypted',
            disk(1, encrypted=False),
            "skipped",
            id="optional-in-where",
        ),
        # `!=` with a missing optional value is a comparison, so false; `not (==)` is true
        ('for each disk require not (disk_charge_type == "PostPaid")', disk(1), "pass"),
        # an optional field of a record that is present
        (
            'for each instance require metadata_options.http_tokens == "required"',
            instance(1, metadata_options={}),
            "fail",
        ),
    ],
)
def test_missing_values(
    policy_dir: Path, body: str, resource: dict[str, Any], expected: str
) -> None:
    assert single(policy_dir, body, [resource]).status == expected


# ---------------------------------------------------------------- presence tests

_ABSENT = object()
_PRESENCE_VALUES: dict[str, tuple[str, str, Any]] = {
    # name: (kind, attribute, value)
    "absent": ("disk", "disk_charge_type", _ABSENT),
    "null": ("disk", "disk_charge_type", None),
    "empty-string": ("disk", "disk_charge_type", ""),
    "string": ("disk", "disk_charge_type", "PostPaid"),
    "empty-list": ("instance", "public_ip_addresses", []),
    "list": ("instance", "public_ip_addresses", ["47.1.2.3"]),
    "absent-list": ("instance", "public_ip_addresses", _ABSENT),
    "empty-map": ("disk", "tags", {}),
    "map": ("disk", "tags", {"env": "prod"}),
    "absent-map": ("disk", "tags", _ABSENT),
}
_PRESENCE_TRUTH = {
    # (present, missing, set, empty)
    "absent": (False, True, False, False),
    "null": (False, True, False, False),
    "empty-string": (True, False, False, True),
    "string": (True, False, True, False),
    "empty-list": (True, False, False, True),
    "list": (True, False, True, False),
    "absent-list": (False, True, False, False),
    "empty-map": (True, False, False, True),
    "map": (True, False, True, False),
    "absent-map": (False, True, False, False),
}
_PRESENCE_CASES = [
    pytest.param(value, test, negated, id=f"{value}-is-{'not-' if negated else ''}{test}")
    for value in _PRESENCE_VALUES
    for i, test in enumerate(("present", "missing", "set", "empty"))
    for negated in (False, True)
]


@pytest.mark.parametrize(("value", "test", "negated"), _PRESENCE_CASES)
def test_presence(policy_dir: Path, value: str, test: str, negated: bool) -> None:
    kind, attribute, raw = _PRESENCE_VALUES[value]
    resource = (instance if kind == "instance" else disk)(1)
    if raw is not _ABSENT:
        resource[attribute] = raw
    body = f"for each {kind} require {attribute} is {'not ' if negated else ''}{test}"
    holds = _PRESENCE_TRUTH[value][("present", "missing", "set", "empty").index(test)]
    expected = "pass" if holds != negated else "fail"
    # Presence tests decide on a missing value: they never give error.
    assert single(policy_dir, body, [resource]).status == expected


# ---------------------------------------------------------------- Kleene logic

T, F, U = "size > 0", "size > 100", 'status == "In_use"'  # size 40, status missing


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (f"{F} and {U}", "fail"),  # false and unknown = false
        (f"{U} and {F}", "fail"),
        (f"{T} and {U}", "error"),  # true and unknown = unknown
        (f"{U} and {T}", "error"),
        (f"{T} or {U}", "pass"),  # true or unknown = true
        (f"{U} or {T}", "pass"),
        (f"{F} or {U}", "error"),  # false or unknown = unknown
        (f"not ({U})", "error"),
        (f"not ({F})", "pass"),
        (f"{T} and {T}", "pass"),
        (f"{F} or {F}", "fail"),
        (f"({F} and {U}) or {T}", "pass"),
    ],
)
def test_kleene_logic(policy_dir: Path, condition: str, expected: str) -> None:
    result = single(policy_dir, f"for each disk require {condition}", [disk(1, size=40)])
    assert result.status == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [(f"{F} and {U}", "pass"), (f"{T} or {U}", "fail"), (f"{T} and {U}", "error")],
)
def test_kleene_logic_under_forbid(policy_dir: Path, condition: str, expected: str) -> None:
    result = single(policy_dir, f"for each disk forbid {condition}", [disk(1, size=40)])
    assert result.status == expected


# ---------------------------------------------------------------- quantifiers over lists

OK_RULE, BAD_RULE = sg_rule(priority=1), sg_rule(priority=200)
NO_PRIORITY = {k: v for k, v in sg_rule().items() if k != "priority"}


@pytest.mark.parametrize(
    ("quantifier", "rules", "expected"),
    [
        ("every", [], "pass"),  # vacuously
        ("every", [OK_RULE], "pass"),
        ("every", [BAD_RULE], "fail"),
        ("every", [OK_RULE, BAD_RULE], "fail"),
        ("every", [NO_PRIORITY], "error"),
        ("every", [OK_RULE, NO_PRIORITY], "error"),
        ("every", [NO_PRIORITY, BAD_RULE], "fail"),  # one false decides `every`
        ("any", [], "fail"),
        ("any", [OK_RULE], "pass"),
        ("any", [BAD_RULE], "fail"),
        ("any", [NO_PRIORITY, OK_RULE], "pass"),  # one true decides `any`
        ("any", [NO_PRIORITY], "error"),
        ("any", [NO_PRIORITY, BAD_RULE], "error"),
        ("no", [], "pass"),
        ("no", [OK_RULE], "fail"),
        ("no", [BAD_RULE], "pass"),
        ("no", [NO_PRIORITY], "error"),
        ("no", [NO_PRIORITY, OK_RULE], "fail"),
    ],
)
def test_quantifier_over_a_list(
    policy_dir: Path, quantifier: str, rules: list[dict[str, Any]], expected: str
) -> None:
    body = f"for each security_group require {quantifier} r in rules: r.priority < 100"
    assert single(policy_dir, body, [security_group(1, rules)]).status == expected


@pytest.mark.parametrize(("limit", "expected"), [(3, "error"), (4, "pass")])
def test_quantifier_steps_past_the_limit_are_an_error_on_both_paths(
    policy_dir: Path, monkeypatch: pytest.MonkeyPatch, limit: int, expected: str
) -> None:
    monkeypatch.setenv("POLICYENGINE_MAX_OUTCOME_STEPS", str(limit))
    body = "for each security_group require every r in rules: r.priority < 100"
    result = single(policy_dir, body, [security_group(1, [OK_RULE] * 4)])
    assert result.status == expected
    if expected == "error":
        assert "POLICYENGINE_MAX_OUTCOME_STEPS" in result.reason


@pytest.mark.parametrize(
    ("body", "resource", "expected"),
    [
        (
            "for each security_group require every r in rules: r.priority < 100",
            {"kind": "security_group", "id": rid("sg-", 1), "region": HZ},
            "error",  # the list itself is missing
        ),
        (
            'for each security_group require any r in rules where r.direction == "ingress": '
            "r.priority < 100",
            security_group(1, [sg_rule(direction="egress")]),
            "fail",  # the only rule is filtered out
        ),
        (
            'for each security_group require any r in rules where r.direction == "ingress": '
            "r.priority < 100",
            security_group(1, [sg_rule(direction="egress"), sg_rule()]),
            "pass",
        ),
        (
            'for each instance require every g in security_group_ids: starts_with(g, "sg-")',
            instance(1, security_group_ids=[rid("sg-", 1), rid("sg-", 2)]),
            "pass",
        ),
        (
            'for each instance require every g in security_group_ids: starts_with(g, "sg-")',
            instance(1, security_group_ids=[rid("sg-", 1), "default"]),
            "fail",
        ),
        (
            'for each instance require every t in ["owner", "env"]: tags[t] is set',
            instance(1, tags={"owner": "a", "env": "prod"}),
            "pass",
        ),
        (
            'for each instance require every t in ["owner", "env"]: tags[t] is set',
            instance(1, tags={"owner": "a"}),
            "fail",
        ),
        (
            "for each security_group require count(rules) <= 1",
            security_group(1, [sg_rule(), sg_rule()]),
            "fail",
        ),
        (
            'for each security_group require count(r in rules where r.direction == "ingress") <= 1',
            security_group(1, [sg_rule(), sg_rule(direction="egress")]),
            "pass",
        ),
    ],
)
def test_quantifier_forms(
    policy_dir: Path, body: str, resource: dict[str, Any], expected: str
) -> None:
    assert single(policy_dir, body, [resource]).status == expected


# ---------------------------------------------------------------- quantifiers over relations

I1 = rid("i-", 1)


@pytest.mark.parametrize(
    ("condition", "disks", "expected"),
    [
        ("count(disk attach this) <= 1", [], "pass"),
        ("count(disk attach this) <= 1", [disk(1, instance_id=I1, attachments=[])], "pass"),
        (
            "count(disk attach this) <= 1",
            [disk(1, instance_id=I1, attachments=[]), disk(2, attachments=[{"instance_id": I1}])],
            "fail",
        ),
        (
            "count(d in disk attach this where d.encrypted == true) >= 1",
            [
                disk(1, instance_id=I1, attachments=[], encrypted=False),
                disk(2, instance_id=I1, attachments=[], encrypted=True),
            ],
            "pass",
        ),
        (
            "count(d in disk attach this where d.encrypted == true) >= 1",
            [disk(1, instance_id=I1, attachments=[], encrypted=False)],
            "fail",
        ),
        (
            "count(d in disk attach this where d.encrypted == true) >= 1",
            [disk(1, instance_id=I1, attachments=[])],
            "error",  # the filter cannot be decided for a disk without `encrypted`
        ),
        ("every d in disk attach this: d.encrypted == true", [], "pass"),
        (
            "every d in disk attach this: d.encrypted == true",
            [disk(1, instance_id=I1, attachments=[], encrypted=True)],
            "pass",
        ),
        (
            "every d in disk attach this: d.encrypted == true",
            [
                disk(1, instance_id=I1, attachments=[], encrypted=True),
                disk(2, instance_id=I1, attachments=[], encrypted=False),
            ],
            "fail",
        ),
        ("any d in disk attach this: d.encrypted", [], "fail"),
        (
            "any d in disk attach this: d.encrypted",
            [disk(1, instance_id=I1, attachments=[], encrypted=True)],
            "pass",
        ),
        ("no d in disk attach this: d.encrypted == false", [], "pass"),
        (
            "no d in disk attach this: d.encrypted == false",
            [disk(1, instance_id=I1, attachments=[], encrypted=False)],
            "fail",
        ),
    ],
)
def test_quantifier_over_a_reverse_relation(
    policy_dir: Path, condition: str, disks: list[dict[str, Any]], expected: str
) -> None:
    body = f"for each instance require {condition}"
    assert single(policy_dir, body, [instance(1), *disks]).status == expected


SG1, SG2 = rid("sg-", 1), rid("sg-", 2)


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([security_group(1, [], vpc_id="vpc-1")], "pass"),
        ([security_group(1, [], vpc_id="vpc-1"), security_group(2, [])], "fail"),
        ([], "pass"),  # no group: vacuously
    ],
)
def test_quantifier_over_a_forward_relation(
    policy_dir: Path, groups: list[dict[str, Any]], expected: str
) -> None:
    body = "for each instance require every g in this join security_group: g.vpc_id is set"
    subject = instance(1, security_group_ids=[g["id"] for g in groups])
    assert single(policy_dir, body, [subject, *groups]).status == expected


@pytest.mark.parametrize(
    ("groups", "expected"), [([], "fail"), ([security_group(1, [], vpc_id="vpc-1")], "pass")]
)
def test_count_over_a_forward_relation(
    policy_dir: Path, groups: list[dict[str, Any]], expected: str
) -> None:
    body = "for each instance require count(this join security_group) >= 1"
    subject = instance(1, security_group_ids=[g["id"] for g in groups])
    assert single(policy_dir, body, [subject, *groups]).status == expected


def test_quantifier_over_a_dangling_relation_is_an_error(policy_dir: Path) -> None:
    body = "for each instance require every g in this join security_group: g.vpc_id is set"
    resources = [instance(1, security_group_ids=[SG1, SG2]), security_group(1, [], vpc_id="v")]
    result = single(policy_dir, body, resources)
    assert result.status == "error"
    assert SG2 in result.reason and "not in the snapshot" in result.reason


@pytest.mark.parametrize(
    ("visibility", "expected"), [("public", "pass"), ("custom", "fail"), (None, "error")]
)
def test_quantifier_over_this_use_image(
    policy_dir: Path, visibility: str | None, expected: str
) -> None:
    body = 'for each instance require every img in this use image: img.visibility == "public"'
    resources = [instance(1, image_id=rid("m-", 1))]
    if visibility is not None:  # None: the image is not in the snapshot
        resources.append(image(1, visibility=visibility))
    assert single(policy_dir, body, resources).status == expected


# ---------------------------------------------------------------- sentences and edges

SAME_IMAGE_REGION = "instance use image requires same region"


def test_dangling_reference_is_an_error(policy_dir: Path) -> None:
    result = single(policy_dir, SAME_IMAGE_REGION, [instance(1, image_id=rid("m-", 9))])
    assert result.status == "error"
    assert rid("m-", 9) in result.reason and "not in the snapshot" in result.reason
    assert result.target is None


def test_may_dangle_relation_is_skipped_with_its_reason(policy_dir: Path) -> None:
    body = "snapshot back_up disk requires same region"
    result = single(policy_dir, body, [ecs_snapshot(1, rid("d-", 9))])
    assert result.status == "skipped"
    assert "the source disk may have been released" in result.reason


@pytest.mark.parametrize(
    ("body", "resource"),
    [
        ("snapshot back_up disk requires same region", ecs_snapshot(1, "")),
        ("snapshot back_up disk requires same region", ecs_snapshot(1, None)),  # type: ignore[arg-type]
        ("disk attach requires same zone", disk(1, instance_id="", attachments=[])),
        ("disk attach requires same zone", disk(1, attachments=[])),  # optional instance_id
    ],
)
def test_no_edge_is_skipped(policy_dir: Path, body: str, resource: dict[str, Any]) -> None:
    result = single(policy_dir, body, [resource])
    assert result.status == "skipped"
    assert "no `" in result.reason


@pytest.mark.parametrize(
    ("body", "resource", "attribute"),
    [
        # a required attribute on the relation's path is missing: the edge cannot be known,
        # so the subject is not "without an edge" but undecided (no silent passes)
        ("disk attach requires same zone", disk(1), "attachments"),
        ("disk attach requires same zone", disk(1, instance_id=""), "attachments"),
        (SAME_IMAGE_REGION, instance(1), "image_id"),
        ("instance join security_group requires same region", instance(1), "security_group_ids"),
    ],
)
def test_missing_required_relation_path_is_an_error(
    policy_dir: Path, body: str, resource: dict[str, Any], attribute: str
) -> None:
    result = single(policy_dir, body, [resource])
    assert result.status == "error"
    assert result.target is None
    assert f"`{attribute}`" in result.reason and resource["id"] in result.reason


def test_missing_required_relation_path_still_evaluates_the_edges_found(
    policy_dir: Path,
) -> None:
    # `attachments` is missing but `instance_id` names an instance: that edge is decided,
    # and the missing path is an error of its own
    resources = [disk(1, instance_id=I1), instance(1)]
    assert outcomes(run(policy_dir, "disk attach requires same zone", resources)) == [
        (rid("d-", 1), None, "error"),
        (rid("d-", 1), I1, "pass"),
    ]


@pytest.mark.parametrize(
    ("disk_zone", "instance_zone", "expected"),
    [(ZONE_H, ZONE_H, "pass"), (ZONE_H, ZONE_I, "fail"), (None, ZONE_H, "error")],
)
def test_same_zone(
    policy_dir: Path, disk_zone: str | None, instance_zone: str, expected: str
) -> None:
    attached = disk(1, zone=disk_zone, instance_id=I1, attachments=[{"instance_id": I1}])
    resources = [attached, instance(1, zone=instance_zone)]
    result = single(policy_dir, "disk attach requires same zone", resources)
    assert (result.status, result.target and result.target.key) == (expected, I1)


def test_same_region_unless_exempts_per_edge(policy_dir: Path) -> None:
    body = 'instance use image requires same region unless image.visibility == "public"'
    resources = [
        instance(1, image_id=rid("m-", 1)),
        instance(2, image_id=rid("m-", 2)),
        image(1, SH, visibility="public"),
        image(2, SH),
    ]
    assert outcomes(run(policy_dir, body, resources)) == [
        (rid("i-", 1), rid("m-", 1), "skipped"),
        (rid("i-", 2), rid("m-", 2), "fail"),
    ]


def test_multi_attach_disk_gives_one_outcome_per_edge(policy_dir: Path) -> None:
    i2 = rid("i-", 2)
    resources = [
        disk(1, attachments=[{"instance_id": I1}, {"instance_id": i2}]),
        instance(1, zone=ZONE_H),
        instance(2, zone=ZONE_I),
        # the same instance by both paths is one edge, not two
        disk(2, instance_id=I1, attachments=[{"instance_id": I1}]),
    ]
    assert outcomes(run(policy_dir, "disk attach requires same zone", resources)) == [
        (rid("d-", 1), I1, "pass"),
        (rid("d-", 1), i2, "fail"),
        (rid("d-", 2), I1, "pass"),
    ]


@pytest.mark.parametrize(
    ("key_pairs", "expected", "target_region"),
    [
        # a name in two regions resolves to the candidate in the instance's region
        ([key_pair("ops", SH), key_pair("ops", HZ)], "pass", HZ),
        ([key_pair("ops", HZ), key_pair("ops", SH)], "pass", HZ),
        # only in another region
        ([key_pair("ops", SH)], "fail", SH),
    ],
)
def test_key_pair_unique_per_region(
    policy_dir: Path, key_pairs: list[dict[str, Any]], expected: str, target_region: str
) -> None:
    body = "instance use key_pair requires same region"
    result = single(policy_dir, body, [instance(1, key_pair_name="ops"), *key_pairs])
    assert result.status == expected
    assert result.target is not None and result.target.region == target_region


@pytest.mark.parametrize(
    ("image_region", "locations", "expected"),
    [
        (HZ, {HZ: [ZONE_H]}, "pass"),
        (SH, {HZ: [ZONE_H]}, "fail"),
        (HZ, None, "error"),  # no region, and no table to learn it from
    ],
)
def test_same_region_learns_a_zone_region_from_locations(
    policy_dir: Path, image_region: str, locations: dict[str, list[str]] | None, expected: str
) -> None:
    located_by_zone_only = {"kind": "instance", "id": I1, "zone": ZONE_H, "image_id": rid("m-", 1)}
    result = single(
        policy_dir,
        SAME_IMAGE_REGION,
        [located_by_zone_only, image(1, image_region)],
        locations=locations,
    )
    assert result.status == expected
    if expected == "error":
        assert "has no region" in result.reason


# ---------------------------------------------------------------- built-ins and operators


def _template_version(zone_id: str) -> dict[str, Any]:
    return {
        "kind": "launch_template_version",
        "launch_template_id": rid("lt-", 1),
        "version_number": 1,
        "region": HZ,
        "default_version": True,
        "launch_template_data": {"zone_id": zone_id},
    }


@pytest.mark.parametrize(
    ("zone_id", "expected"),
    [(ZONE_H, "pass"), (ZONE_I, "fail"), ("cn-nowhere-z", "error")],
)
def test_region_of(policy_dir: Path, zone_id: str, expected: str) -> None:
    body = (
        "for each launch_template_version require region_of(launch_template_data.zone_id) == region"
    )
    # The location table knows cn-hangzhou-h and (wrongly for this case) puts -i in Shanghai.
    resources = [_template_version(zone_id), instance(1), instance(2, region=SH, zone=ZONE_I)]
    result = single(policy_dir, body, resources)
    assert result.status == expected
    if expected == "error":
        assert "cn-nowhere-z" in result.reason


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("/^i-[a-z0-9]{20}$/", rid("i-", 1), "pass"),
        ("/^i-[a-z0-9]{20}$/", rid("i-", 1) + "\n", "fail"),  # `$` is the very end
        ("/^i-[a-z0-9]{20}$/", rid("i-", 1) + "0", "fail"),
        ("/i-[a-z0-9]{20}/", "x" + rid("i-", 1), "fail"),  # full match without anchors
        ("/i-[a-z0-9]{20}/", rid("i-", 1), "pass"),
        ('"i-[0-9]+"', rid("i-", 1), "pass"),
        ('"i-[0-9]+"', "i-abc", "fail"),
    ],
)
def test_matches_is_a_full_match(policy_dir: Path, pattern: str, key: str, expected: str) -> None:
    result = single(
        policy_dir, f"for each instance require id matches {pattern}", [instance(1, id=key)]
    )
    assert result.status == expected


@pytest.mark.parametrize(
    ("port_range", "expected"),
    [
        ("22/22", "fail"),
        ("1/1024", "fail"),
        ("-1/-1", "fail"),  # every port
        ("22/23", "fail"),
        ("21/21", "pass"),
        ("23/100", "pass"),
        ("80/80", "pass"),
    ],
)
def test_covers_a_port(policy_dir: Path, port_range: str, expected: str) -> None:
    body = "for each security_group forbid any r in rules: r.port_range covers 22"
    result = single(policy_dir, body, [security_group(1, [sg_rule(port_range)])])
    assert result.status == expected


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ('r.port_range covers "20/30"', "1/1024", "pass"),
        ('r.port_range covers "20/30"', "22/22", "fail"),
        ('r.port_range covers "20/30"', "-1/-1", "pass"),
        ('r.port_range covers "1/65535"', "-1/-1", "pass"),
        ("22 within r.port_range", "1/100", "pass"),
        ("22 within r.port_range", "80/80", "fail"),
        ("22 within r.port_range", "-1/-1", "pass"),
    ],
)
def test_port_ranges(policy_dir: Path, condition: str, value: str, expected: str) -> None:
    body = f"for each security_group require every r in rules: {condition}"
    result = single(policy_dir, body, [security_group(1, [sg_rule(value)])])
    assert result.status == expected


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("10.0.0.0/8", "pass"),
        ("0.0.0.0/0", "pass"),
        ("10.1.0.0/16", "pass"),
        ("10.1.2.0/24", "fail"),
        ("192.168.0.0/16", "fail"),
        ("::/0", "fail"),  # another IP version never covers
    ],
)
def test_covers_a_cidr(policy_dir: Path, cidr: str, expected: str) -> None:
    body = 'for each security_group require every r in rules: r.source_cidr_ip covers "10.1.0.0/16"'
    result = single(policy_dir, body, [security_group(1, [sg_rule(source_cidr_ip=cidr)])])
    assert result.status == expected


PUBLIC_IMAGE = {
    "kind": "image",
    "id": "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
    "region": HZ,
    "image_owner_alias": "system",
    "visibility": "public",
}


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (instance(1), "pass"),
        (instance(1, id="i-" + "A" * 20), "fail"),  # upper case
        (instance(1, id="i-" + "a" * 19), "fail"),  # too short
        (instance(1, id="d-" + "a" * 20), "fail"),  # another kind's prefix
        (image(1), "pass"),
        ({"kind": "invocation", "id": rid("t-", 1, 16), "region": HZ}, "pass"),
        ({"kind": "invocation", "id": rid("t-", 1, 20), "region": HZ}, "fail"),
        (key_pair("ops", HZ), "skipped"),  # named kind
        ({"kind": "ram_role", "name": "EcsReader"}, "skipped"),  # named, global
        (_template_version(ZONE_H), "skipped"),  # keyed kind
        pytest.param(PUBLIC_IMAGE, "skipped", id="public-image"),
    ],
)
@pytest.mark.parametrize("mode", ["require", "forbid"])
def test_id_matches_kind_format(
    policy_dir: Path, resource: dict[str, Any], expected: str, mode: str
) -> None:
    """Forbidden, the format fails where it holds and passes where it does not; a kind
    without one, or an id that is a name, is skipped alike."""
    body = f"for each resource {mode} id matches kind format"
    result = single(policy_dir, body, [resource])
    if mode == "forbid":
        expected = {"pass": "fail", "fail": "pass"}.get(expected, expected)
    assert result.status == expected
    if resource is PUBLIC_IMAGE:
        # an id kind whose id is a name under a condition: the reason names that condition
        assert "its id is a name" in result.reason
        assert 'image_owner_alias == "system"' in result.reason
    elif expected == "skipped":
        assert "no id format" in result.reason


# ---------------------------------------------------------------- determinism


def _mixed_account() -> list[dict[str, Any]]:
    i2 = rid("i-", 2)
    return [
        instance(
            1,
            image_id=rid("m-", 1),
            key_pair_name="ops",
            security_group_ids=[SG1],
            tags={"owner": "a"},
            deletion_protection=False,
            instance_charge_type="PostPaid",
        ),
        instance(
            2,
            zone=ZONE_I,
            image_id=rid("m-", 2),
            key_pair_name="ops",
            security_group_ids=[SG1, SG2],
            tags={},
        ),
        instance(
            3, region="us-west-1", zone="us-west-1a", image_id=rid("m-", 9), security_group_ids=[]
        ),
        disk(1, instance_id=I1, attachments=[{"instance_id": I1}], encrypted=True, type="data"),
        disk(2, attachments=[{"instance_id": I1}, {"instance_id": i2}], encrypted=False),
        disk(3, zone=ZONE_I, instance_id=I1, attachments=[{"instance_id": I1}]),
        image(1),
        image(2, SH, visibility="public"),
        key_pair("ops", HZ),
        key_pair("ops", SH),
        security_group(1, [sg_rule("-1/-1"), sg_rule("443/443")]),
        security_group(2, [sg_rule("22/22", source_group_id=rid("sg-", 7))], region=SH),
        ecs_snapshot(1, rid("d-", 1)),
        ecs_snapshot(2, rid("d-", 8), SH),
        {"kind": "key_pair", "name": "legacy", "region": SH},
    ]


@pytest.fixture(scope="module")
def bundled() -> Loaded:
    return load(bundled_policies())


def _evaluate_bundled(loaded: Loaded, resources: list[dict[str, Any]]) -> list[Result]:
    text = json.dumps({"resources": resources})
    return evaluate_both(
        loaded.plan, Store(parse_snapshot(text, "account.json"), loaded.plan.model)
    )


def _rows(results: list[Result]) -> list[tuple[str, str, str, str, str, str]]:
    return [
        (
            r.rule.id,
            r.resource.kind,
            r.resource.key,
            r.edge.value if r.edge is not None else "",
            str(r.status),
            r.reason,
        )
        for r in results
    ]


def test_evaluation_is_deterministic(bundled: Loaded) -> None:
    first = _rows(_evaluate_bundled(bundled, _mixed_account()))
    second = _rows(_evaluate_bundled(bundled, _mixed_account()))
    assert first == second
    assert {row[4] for row in first} == {"pass", "fail", "error", "skipped"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_resource_order_does_not_change_outcomes(bundled: Loaded, seed: int) -> None:
    expected = _rows(_evaluate_bundled(bundled, _mixed_account()))
    shuffled = _mixed_account()
    random.Random(seed).shuffle(shuffled)
    got = _rows(_evaluate_bundled(bundled, shuffled))
    assert sorted(got) == sorted(expected)
    assert len(got) == len(expected)


# ---------------------------------------------------------------- incomplete data never passes


def test_a_relation_when_on_a_missing_attribute_is_an_error(policy_dir: Path) -> None:
    """Without `resource_type` nobody can tell whether a tag row tags an instance."""
    row = {"kind": "tag_binding", "tag_key": "env", "resource_id": rid("i-", 1), "region": HZ}
    result = single(
        policy_dir,
        "tag_binding tag instance requires same region",
        [row, instance(1, region="cn-shanghai", zone="cn-shanghai-e")],
    )
    assert result.status == "error"
    assert "`resource_type` of tag_binding env@" in result.reason


def test_a_reverse_relation_over_incomplete_sources_is_an_error(policy_dir: Path) -> None:
    """A disk without `attachments` may be attached to this instance: nothing to count on."""
    body = "for each instance forbid any d in disk attach this: d.encrypted == false"
    result = single(policy_dir, body, [instance(1), disk(1, encrypted=False)])
    assert result.status == "error"
    assert "`attachments` of disk" in result.reason


def test_forbid_any_records_every_witness(policy_dir: Path) -> None:
    """Each rule that opens the port is evidence, at its own place in the snapshot; the
    message names the first."""
    body = (
        'for each security_group forbid any r in rules where r.direction == "ingress": '
        'r.port_range covers 22 message "opens 22 in rule {r.priority}"'
    )
    group = security_group(
        1,
        [
            sg_rule("22/22", priority=1),
            sg_rule("443/443", priority=2),
            sg_rule("1/65535", priority=5),
        ],
    )
    loaded = compile_rule(policy_dir, body)
    store = Store(parse_snapshot(json.dumps({"resources": [group]}), "s.json"), loaded.plan.model)
    (result,) = evaluate(loaded.plan, store)
    assert result.status == "fail"
    proof = trace(store, result)
    assert proof.message == "opens 22 in rule 1"
    deciders = [f for f in evidence(proof) if f.kind == "element"]
    assert [(f.text, f.pointer) for f in deciders] == [
        ("decided by r = rules[0]", "/resources/0/rules/0"),
        ("decided by r = rules[2]", "/resources/0/rules/2"),
    ]
    assert "/resources/0/rules/2/port_range" in [f.pointer for f in evidence(proof)]


# ---------------------------------------------------------------- define, let, regions


def statuses(results: list[Result]) -> list[tuple[str, str]]:
    return [(r.resource.key, str(r.status)) for r in results]


DEFINE_POLICY = """use alicloud.ecs

define world_open(r: sg_rule) =
  r.direction == "ingress" and r.policy == "Accept" and r.source_cidr_ip == "0.0.0.0/0"

policy t "semantics" {{
  param ports: list of int = [22]
  define risky(r: sg_rule) = world_open(r) and any p in ports: r.port_range covers p
  rule r {{
    {body}
  }}
}}
"""


def run_define(tmp_path: Path, body: str, resources: list[dict[str, Any]]) -> list[Result]:
    path = tmp_path / "define.policy"
    path.write_text(DEFINE_POLICY.format(body=body), encoding="utf-8")
    loaded = load([path])
    store = Store(parse_snapshot(json.dumps({"resources": resources}), "s.json"), loaded.plan.model)
    return evaluate(loaded.plan, store)


def test_a_define_decides_like_its_body(tmp_path: Path) -> None:
    open_ssh = security_group(1, [sg_rule("22/22")])
    private = security_group(2, [sg_rule("22/22", source_cidr_ip="10.0.0.0/8")])
    other_port = security_group(3, [sg_rule("80/80")])
    results = run_define(
        tmp_path,
        "for each security_group forbid any r in rules: risky(r)",
        [open_ssh, private, other_port],
    )
    assert statuses(results) == [
        (open_ssh["id"], "fail"),
        (private["id"], "pass"),
        (other_port["id"], "pass"),
    ]


def test_a_define_needs_its_required_arguments(tmp_path: Path) -> None:
    # A rule without `policy` cannot be passed to a define that reads it: error, not pass.
    rule = sg_rule("22/22")
    del rule["policy"]
    [result] = run_define(
        tmp_path, "for each security_group forbid any r in rules: risky(r)",
        [security_group(1, [rule])],
    )  # fmt: skip
    assert str(result.status) == "error"
    assert "policy" in result.reason


def test_explaining_a_define_names_the_clause_inside_it(tmp_path: Path) -> None:
    sg = security_group(1, [sg_rule("22/22")])
    path = tmp_path / "define.policy"
    path.write_text(
        DEFINE_POLICY.format(body="for each security_group forbid any r in rules: risky(r)"),
        encoding="utf-8",
    )
    loaded = load([path])
    store = Store(parse_snapshot(json.dumps({"resources": [sg]}), "s.json"), loaded.plan.model)
    [result] = evaluate(loaded.plan, store)
    texts = [f.text for f in evidence(trace(store, result))]
    assert '`r.source_cidr_ip == "0.0.0.0/0"` is true' in texts
    assert '"22/22" covers 22' in texts


def test_let_is_computed_once_and_read_by_name(policy_dir: Path) -> None:
    body = "for each instance let n = count(this join security_group) require n <= 1 unless n == 0"
    sg1, sg2 = security_group(1, []), security_group(2, [])
    one = instance(1, security_group_ids=[sg1["id"]])
    two = instance(2, security_group_ids=[sg1["id"], sg2["id"]])
    none = instance(3, security_group_ids=[])
    results = [r for r in run(policy_dir, body, [sg1, sg2, one, two, none]) if r.rule.id == "t.r"]
    assert statuses(results) == [
        (one["id"], "pass"),
        (two["id"], "fail"),
        (none["id"], "skipped"),
    ]


def test_a_let_that_cannot_be_computed_is_an_error_where_it_is_used(policy_dir: Path) -> None:
    body = "for each instance let z = region_of(zone) require z == region"
    no_zone = instance(1)
    del no_zone["zone"]
    [result] = run(policy_dir, body, [no_zone, instance(2)])[:1]
    assert str(result.status) == "error"


def test_for_each_region_counts_what_is_located_in_it(policy_dir: Path) -> None:
    body = "for each region require count(instance located in this) <= 1"
    results = run(
        policy_dir,
        body,
        [instance(1), instance(2), instance(3, region=SH, zone="cn-shanghai-b")],
        locations={HZ: [ZONE_H], SH: ["cn-shanghai-b"], "cn-beijing": []},
    )
    # Every region of the snapshot is a subject, also one that holds nothing.
    assert statuses(results) == [(HZ, "fail"), (SH, "pass"), ("cn-beijing", "pass")]


def test_located_in_reads_the_region_a_zone_belongs_to(policy_dir: Path) -> None:
    # An instance with only a zone is counted in the region the location table gives it.
    body = "for each region require count(instance located in this) == 0"
    zoned = instance(1)
    del zoned["region"]
    results = run(policy_dir, body, [zoned], locations={HZ: [ZONE_H]})
    assert statuses(results) == [(HZ, "fail")]


# ---------------------------------------------------------------- built-ins and time


def run_at(
    policy_dir: Path, body: str, resources: list[dict[str, Any]], **top: Any
) -> list[Result]:
    loaded = compile_rule(policy_dir, body)
    now = top.pop("now", None)
    doc = {"resources": resources, **top}
    store = Store(parse_snapshot(json.dumps(doc), "s.json"), loaded.plan.model, now)
    return evaluate(loaded.plan, store)


def test_now_is_the_capture_time_never_the_clock(policy_dir: Path) -> None:
    from datetime import UTC, datetime

    body = 'for each instance require days_since("2024-01-01T00:00:00Z") <= 30'
    at = {"captured_at": "2024-01-31T12:00:00Z"}
    [early] = run_at(policy_dir, body, [instance(1)], **at)
    [late] = run_at(policy_dir, body, [instance(1)], captured_at="2024-02-01T00:00:00Z")
    assert (str(early.status), str(late.status)) == ("pass", "fail")
    # --now wins over the capture time.
    [overridden] = run_at(
        policy_dir, body, [instance(1)], now=datetime(2024, 6, 1, tzinfo=UTC), **at
    )
    assert str(overridden.status) == "fail"


def test_without_a_time_now_is_an_error_not_a_guess(policy_dir: Path) -> None:
    [result] = run_at(policy_dir, 'for each instance require days_until("2030-01-01") > 0', [
        instance(1)
    ])  # fmt: skip
    assert str(result.status) == "error"
    assert "captured_at" in result.reason


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('split("a,b,,c", ",") == ["a", "b", "", "c"]', "pass"),
        ('keys(tags) == ["a", "b"]', "pass"),
        ('is_private("10.1.0.0/16")', "pass"),
        ('is_private("0.0.0.0/0")', "fail"),
        ('is_private("172.32.0.0/16")', "fail"),
        ('is_private("fd00::/8")', "pass"),
        ('days_until("2024-01-03T00:00:00Z") == 1', "pass"),
    ],
)
def test_builtins(policy_dir: Path, condition: str, expected: str) -> None:
    [result] = run_at(
        policy_dir,
        f"for each instance require {condition}",
        [instance(1, tags={"b": "2", "a": "1"})],
        captured_at="2024-01-01T12:00:00Z",
    )
    assert str(result.status) == expected


# ---------------------------------------------------------------- relations of a model


JOIN_MODEL = """model shop.model
kind box id "b-" located in zone {
  shelf_id: optional id of shelf
  state: string
  owner: optional string from "DescribeOwners"
}
kind shelf id "s-" located in region {
  box_ids: list of id of box
  tall: bool
}
relation box on shelf via box.shelf_id, shelf.box_ids[*]
relation box near shelf on region when box.state == "ok" and shelf.tall == true
"""


def run_model(tmp_path: Path, body: str, resources: list[dict[str, Any]]) -> list[Result]:
    (tmp_path / "shop").mkdir(exist_ok=True)
    (tmp_path / "shop" / "model.model").write_text(JOIN_MODEL, encoding="utf-8")
    path = tmp_path / "rules.policy"
    path.write_text(f"use shop.model\npolicy t {{ rule r {{ {body} }} }}\n", encoding="utf-8")
    loaded = load([path])
    doc = json.dumps({"resources": resources, "locations": {HZ: [ZONE_H], SH: ["cn-shanghai-b"]}})
    return evaluate(loaded.plan, Store(parse_snapshot(doc, "s.json"), loaded.plan.model))


def box(n: str, **attrs: Any) -> dict[str, Any]:
    return {"kind": "box", "id": f"b-{n}", "zone": ZONE_H, "state": "ok", **attrs}


def shelf(n: str, region: str = HZ, **attrs: Any) -> dict[str, Any]:
    return {"kind": "shelf", "id": f"s-{n}", "region": region, "box_ids": [], "tall": True,
            **attrs}  # fmt: skip


def edges(results: list[Result]) -> list[tuple[str, str, str]]:
    return [(r.resource.key, r.target.key if r.target else "", str(r.status)) for r in results]


def test_paths_from_both_ends_make_one_edge_per_pair(tmp_path: Path) -> None:
    # b-1 names s-1, and s-1 lists b-1: one edge. s-2 lists b-1 (in another region): a
    # second edge, found only from the target end.
    resources = [
        box("1", shelf_id="s-1"),
        shelf("1", box_ids=["b-1"]),
        shelf("2", region=SH, box_ids=["b-1"]),
    ]
    results = run_model(tmp_path, "box on shelf requires same region", resources)
    assert edges(results) == [("b-1", "s-1", "pass"), ("b-1", "s-2", "fail")]
    assert results[0].edge is not None
    assert results[0].edge.paths == ("box.shelf_id", "shelf.box_ids[*]")


def test_a_join_on_keys_pairs_every_match_and_reads_when_at_both_ends(tmp_path: Path) -> None:
    resources = [
        box("1"),
        box("2", state="broken"),  # its side of `when` excludes it
        shelf("1"),
        shelf("2", tall=False),  # excluded by the target's side of `when`
        shelf("3", region=SH),  # another region: no edge
    ]
    results = run_model(tmp_path, "for each box require count(this near shelf) == 1", resources)
    assert edges(results) == [("b-1", "", "pass"), ("b-2", "", "fail")]


def test_an_attribute_from_an_api_the_export_lacks_is_an_error(tmp_path: Path) -> None:
    resources = [box("1"), box("2", owner=None), box("3", owner="ann")]
    results = run_model(tmp_path, "for each box require owner is set", resources)
    assert [(r.resource.key, str(r.status)) for r in results] == [
        ("b-1", "error"),  # absent: DescribeOwners was not called
        ("b-2", "fail"),  # null: called, and the box has no owner
        ("b-3", "pass"),
    ]
    assert "needs DescribeOwners" in results[0].reason
