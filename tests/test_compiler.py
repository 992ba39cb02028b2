"""The compiler, golden-tested through `plan.dump()`.

The dump shows what the compiler resolved: slots (`$0` is the subject, `$1` the edge's
other end or the first quantifier's element), `?` after each step of a read that may be
missing (so a missing value there is ordinary), quantifiers in parentheses, params folded
into constants, relations named, and the kinds each rule ranges over. Policies are loaded
through `loader.load`, the CLI's path, from a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from policyengine.core import plan
from policyengine.core.errors import UsageError
from policyengine.frontend.loader import Loaded, bundled_policies, load


def _load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, params: tuple[str, ...] = ()
) -> Loaded:
    monkeypatch.chdir(tmp_path)
    Path("case.policy").write_text(f"use alicloud.ecs\n\n{body}", encoding="utf-8")
    return load([Path("case.policy")], params)


def _dump(loaded: Loaded) -> str:
    lines = [plan.dump(loaded.plan)]
    for rule in loaded.plan.rules:
        if rule.excluded_kinds:
            lines.append(f"# {rule.id} leaves out: {', '.join(rule.excluded_kinds)}")
    return "\n".join(lines) + "\n"


def test_bundled_packs(text_snapshot: SnapshotAssertion) -> None:
    loaded = load(bundled_policies())
    assert loaded.warnings == ()
    assert _dump(loaded) == text_snapshot


def test_bundled_packs_index_rules_by_kind() -> None:
    p = load(bundled_policies()).plan
    for kind, rules in p.by_kind.items():
        assert all(kind in r.kinds for r in rules)
    assert sum(len(rules) for rules in p.by_kind.values()) == sum(len(r.kinds) for r in p.rules)
    assert [r.id for r in p.by_kind["disk"]][:2] == [
        "org_baseline.approved_region",
        "org_baseline.encrypted_disks",
    ]


SENTENCES = """\
policy sentences {
  rule zone { disk attach requires same zone }
  rule region_unless {
    instance use image requires same region unless image.visibility == "public"
  }
  rule where_on_the_subject {
    instance join security_group requires same region where status == "Running"
  }
  rule peer { security_group grant security_group as peer requires same region }
  rule peer_unless {
    security_group grant security_group as peer requires same region
    unless peer.vpc_id == vpc_id
  }
}
"""


def test_sentences_desugar_into_edges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    loaded = _load(tmp_path, monkeypatch, SENTENCES)
    zone = loaded.plan.rule("sentences.zone")
    assert zone is not None and zone.edge is not None
    assert zone.edge.name == "disk attach instance"
    assert zone.sentence == "disk attach requires same zone"
    assert isinstance(zone.condition, plan.SameLocationOp)
    assert zone.condition.span.text == "requires same zone"
    assert _dump(loaded) == text_snapshot


RESOURCES = """\
policy resources {
  param allowed: list of string = ["cn-hangzhou"]
  rule regions { for each resource require region in allowed }
  rule ids { for each resource require id matches kind format }
  rule tagged { for each resource require tags["owner"] is set }
  rule encrypted { for each resource where encrypted is present require encrypted == true }
}
"""


def test_for_each_resource_ranges_over_the_kinds_that_have_what_it_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    loaded = _load(tmp_path, monkeypatch, RESOURCES)
    regions = loaded.plan.rule("resources.regions")
    ids = loaded.plan.rule("resources.ids")
    assert regions is not None and ids is not None
    assert regions.excluded_kinds == ("ram_role",)  # global: no region
    assert ids.excluded_kinds == ()  # named and keyed kinds are skipped at run time
    assert set(ids.kinds) == set(loaded.plan.model.kinds)
    assert _dump(loaded) == text_snapshot


PARAMS = """\
policy params {
  param limit: int = 16
  param allowed_regions: list of string = ["cn-hangzhou", "cn-shanghai"]
  param required_tags: list of string = ["owner"]
  param strict: bool = true
  rule few_disks { for each instance require count(disk attach this) <= limit }
  rule regions { for each instance require region in allowed_regions }
  rule tags { for each instance require every t in required_tags: tags[t] is set }
  rule strict { for each disk require encrypted == strict }
}
"""


def test_params_fold_into_constants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    loaded = _load(tmp_path, monkeypatch, PARAMS)
    regions = loaded.plan.rule("params.regions")
    assert regions is not None and isinstance(regions.condition, plan.MemberOp)
    assert isinstance(regions.condition.collection, plan.Const)
    assert list(regions.condition.collection.value) == ["cn-hangzhou", "cn-shanghai"]
    assert _dump(loaded) == text_snapshot


def test_param_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    loaded = _load(
        tmp_path,
        monkeypatch,
        PARAMS,
        (
            "allowed_regions=cn-beijing",
            "params.limit=3",
            "required_tags=owner, cost-center",
            "strict=false",
        ),
    )
    regions = loaded.plan.rule("params.regions")
    assert regions is not None and isinstance(regions.condition, plan.MemberOp)
    assert isinstance(regions.condition.collection, plan.Const)
    assert list(regions.condition.collection.value) == ["cn-beijing"]
    assert _dump(loaded) == text_snapshot


def test_param_override_of_the_bundled_packs() -> None:
    loaded = load(bundled_policies(), ["allowed_regions=cn-beijing"])
    rule = loaded.plan.rule("org_baseline.approved_region")
    assert rule is not None and isinstance(rule.condition, plan.MemberOp)
    assert isinstance(rule.condition.collection, plan.Const)
    assert list(rule.condition.collection.value) == ["cn-beijing"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("limit=many", "--param limit: expected an integer, got `many`"),
        ("strict=yes", "--param strict: expected true or false, got `yes`"),
        ("limt=3", "no policy declares a param `limt`; did you mean `limit`?"),
        ("limit", "--param `limit` needs the form NAME=VALUE"),
    ],
)
def test_bad_param_overrides_are_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, override: str, message: str
) -> None:
    with pytest.raises(UsageError) as info:
        _load(tmp_path, monkeypatch, PARAMS, (override,))
    assert str(info.value) == message


CONDITIONS = """\
policy conditions {
  rule quantifiers {
    for each security_group
    forbid any r in rules where r.direction == "ingress" and r.policy == "Accept":
      r.port_range covers 22 and (no s in rules: s.priority < r.priority)
  }
  rule counts {
    for each instance
    require count(d in disk attach this where d.encrypted) <= 2
        and count(this join security_group) >= 1
  }
  rule relation_both_ways {
    for each disk require every i in disk attach instance: i.status is set
  }
  rule paths {
    for each instance
    require tags["cost center"] is set and vpc_attributes.vpc_id is not missing
        and key_pair_name matches /^kp-/ and not deletion_protection
  }
  rule functions {
    for each instance require region_of(zone) == region and len(security_group_ids) > 0
  }
  rule ranges {
    for each security_group
    require every r in rules: not (r.source_cidr_ip is set and "0.0.0.0/0" within r.source_cidr_ip)
  }
  rule forbid_unless {
    for each instance as vm forbid vm.status == "Stopped" unless vm.deletion_protection
  }
}
"""


def test_conditions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_snapshot: SnapshotAssertion
) -> None:
    loaded = _load(tmp_path, monkeypatch, CONDITIONS)
    quantifiers = loaded.plan.rule("conditions.quantifiers")
    assert quantifiers is not None
    assert quantifiers.slots == 3  # the subject, `r` and `s`
    assert _dump(loaded) == text_snapshot


OPTIONAL_MODEL = """\
model checker.case
kind box id "b-" + 8 located in zone {
  meta: optional { a: optional string, b: string }
  labels: map of { owner: string }
  items: list of { name: optional string }
}
"""

OPTIONAL_POLICY = """\
use checker.case

policy optional {
  rule steps {
    for each box
    require meta.b == "x" and meta.a is set and labels["k"].owner == "o"
        and every i in items: i.name is set
  }
}
"""


def test_each_step_that_may_be_missing_is_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `meta?.b`: `b` is required, but only once `meta` is there; a missing map key too.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "checker").mkdir()
    (tmp_path / "checker" / "case.model").write_text(OPTIONAL_MODEL, encoding="utf-8")
    Path("case.policy").write_text(OPTIONAL_POLICY, encoding="utf-8")
    assert plan.dump(load([Path("case.policy")]).plan).splitlines() == [
        "rule optional.steps [medium] over box",
        "  require ($0.meta?.b == 'x' and $0.meta?.a? is set"
        " and $0.labels[\"k\"]?.owner == 'o'"
        " and (every $1 in $0.items: $1.name? is set))",
    ]


def test_load_compiles_what_the_front_end_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """`load(checked=...)` neither parses nor checks again: it lowers the checker's
    resolved scopes into the same plan that a fresh `load` builds."""
    from policyengine.frontend import checker, loader

    paths = bundled_policies()
    checked = loader.front(paths)
    fresh = load(paths)

    def no_more(*args: object, **kwargs: object) -> object:
        raise AssertionError("parsed or checked twice")

    monkeypatch.setattr(loader, "parse", no_more)
    monkeypatch.setattr(checker, "check_policy_file", no_more)
    again = load(checked=checked)
    assert plan.dump(again.plan) == plan.dump(fresh.plan)
    assert again.warnings == fresh.warnings


def test_a_rule_in_two_files_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policyengine.core.diagnostics import DiagnosticError
    from policyengine.frontend.lint import lint
    from policyengine.frontend.loader import front

    monkeypatch.chdir(tmp_path)
    text = (
        "use alicloud.ecs\n\npolicy p {\n  rule r {\n    for each disk require size > 0\n  }\n}\n"
    )
    Path("a.policy").write_text(text, encoding="utf-8")
    Path("b.policy").write_text(text, encoding="utf-8")
    paths = [Path("a.policy"), Path("b.policy")]
    checked = front(paths)
    found = checked.diagnostics + lint(checked.checked, checked.vocabulary)
    assert [(d.code, d.message, d.span.file) for d in found] == [
        ("PE108", "rule `p.r` is declared twice", "b.policy")
    ]
    with pytest.raises(DiagnosticError) as raised:
        load(paths)
    assert [d.message for d in raised.value.diagnostics] == ["rule `p.r` is declared twice"]
