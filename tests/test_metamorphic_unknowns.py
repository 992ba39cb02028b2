"""Less knowledge never makes a pass. Over normalized snapshots (the example account,
exports converted, each whole or cut to some regions) and Terraform plans, with every
bundled pack: replacing known values with values not known yet (any few of them, or all
of a resource's), removing resources another one refers to, or both at once, may turn a
pass or a fail into `error` (or a skip), but never turns a rule's fail or error on a
resource into a pass, and never makes the outcome disappear. An input the change makes
invalid is refused (exit 3), which is no pass either.

A few examples per property run in the suite; HYPOTHESIS_PROFILE=long runs ten thousand:

    HYPOTHESIS_PROFILE=long pytest tests/test_metamorphic_unknowns.py -n 0 \\
        --hypothesis-show-statistics
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from conftest import ROOT, run_cli
from hypothesis import assume, example, given
from hypothesis import strategies as st

from policyengine.core import plan
from policyengine.core.errors import InputError
from policyengine.frontend.loader import Loaded
from policyengine.inputs import importers
from policyengine.pipeline import engine
from policyengine.runtime import Result, Status, evaluate

SNAPSHOT = json.loads((ROOT / "examples" / "ecs-account" / "snapshot.json").read_text("utf-8"))
FINDINGS = {Status.FAIL, Status.ERROR}
Outcomes = dict[tuple[str, object], set[Status]]


@cache
def bundled() -> Loaded:
    return engine.load_policies()


def _outcomes(
    document: dict[str, Any], kept: list[int] | None = None, rules: plan.Plan | None = None
) -> Outcomes | None:
    """Every rule's outcomes on each subject, by (rule, subject): a Terraform address, or
    the subject's index in the unchanged input (`kept`: the unchanged input's index of
    each resource left, when some were removed). None when the input is refused. `rules`:
    only these (each rule's outcomes are its own, whatever else is evaluated)."""
    loaded = bundled()
    try:
        read = engine.read_input(Path("-"), loaded, stdin=json.dumps(document))
        store = importers.to_store(read.snapshot, loaded.plan.model)
    except InputError:
        return None
    out: Outcomes = defaultdict(set)
    for result in evaluate(rules or loaded.plan, store):
        out[(result.rule.id, _subject(result, kept))].add(result.status)
    return out


def _subject(result: Result, kept: list[int] | None) -> object:
    r = result.resource
    if r.address:
        return r.address
    if r.pointer.startswith("/resources/"):
        return r.index if kept is None else kept[r.index]
    return (r.kind, r.key)


def _finding_rules(before: Outcomes) -> plan.Plan:
    """The bundled rules with a fail or an error before the change: the only ones the
    property looks at afterwards, so the only ones evaluated again."""
    found = {rule for (rule, _), statuses in before.items() if statuses & FINDINGS}
    compiled = bundled().plan
    return plan.index_by_kind(compiled.model, tuple(r for r in compiled.rules if r.id in found))


def _no_finding_turned_into_a_pass(
    before: Outcomes, after: Outcomes | None, gone: Callable[[object], bool]
) -> None:
    if after is None:
        return  # refused as invalid input: exit 3, not a pass
    for (rule, subject), statuses in before.items():
        if gone(subject) or not statuses & FINDINGS:
            continue
        now = after.get((rule, subject))
        assert now, f"{rule} on {subject}: {sorted(statuses)} disappeared"
        assert now != {Status.PASS}, f"{rule} on {subject}: {sorted(statuses)} became a pass"


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a value: each key of an object and each item of a list, nested."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*at, key)
            yield from _paths(inner, (*at, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield (*at, i)
            yield from _paths(inner, (*at, i))


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        document = document[step]
    document[path[-1]] = value


# ---------------------------------------------------------------- normalized snapshots

# The inputs changed: the example account, the example export and the exports the tests
# hold (converted to the normalized snapshot, as `snapshot convert` does), each whole or
# cut to some of its regions.
_SNAPSHOT_SOURCES = (
    "examples/ecs-account/snapshot.json",
    "examples/aliyun-export",
    "tests/fixtures/aliyun-cli-export",
    "tests/fixtures/aliyun-governance",
    "tests/fixtures/same-account/snapshot.json",
)
_REGIONS = ("cn-hangzhou", "cn-shanghai", "ap-southeast-1")


def _marker(value: object) -> object:
    if isinstance(value, importers.UnknownValue):
        return value.to_json()
    raise TypeError(type(value).__name__)


@cache
def _converted(source: str) -> dict[str, Any]:
    read = engine.read_input(ROOT / source, bundled())
    document: dict[str, Any] = json.loads(json.dumps(read.converted.document, default=_marker))
    assert "$unknown" not in json.dumps(document)  # every value known to begin with
    return document


@cache
def _snapshot_base(source: str, regions: frozenset[str]) -> dict[str, Any]:
    """The input with only the resources of `regions` (and those of no region)."""
    document = copy.deepcopy(_converted(source))
    document["resources"] = [
        r for r in document["resources"] if r.get("region") in regions or not r.get("region")
    ]
    return document


@cache
def _snapshot_before(source: str, regions: frozenset[str]) -> Outcomes | None:
    return _outcomes(_snapshot_base(source, regions))


@cache
def _snapshot_rules(source: str, regions: frozenset[str]) -> plan.Plan:
    before = _snapshot_before(source, regions)
    assert before is not None
    return _finding_rules(before)


@cache
def _snapshot_places(source: str, regions: frozenset[str]) -> list[tuple[Any, ...]]:
    """Every known value of every resource, but its kind (which chooses the rules, so it is
    never unknown in an input)."""
    resources = _snapshot_base(source, regions)["resources"]
    return [
        ("resources", i, *p) for i, r in enumerate(resources) for p in _paths(r) if p[0] != "kind"
    ]


@cache
def _snapshot_referenced(source: str, regions: frozenset[str]) -> list[int]:
    """The resources another one names (by id, anywhere in its fields): removing one makes
    the input say less, rather than something else."""
    resources = _snapshot_base(source, regions)["resources"]
    named: dict[str, set[int]] = defaultdict(set)
    for i, r in enumerate(resources):
        for text in _strings(r):
            named[text].add(i)
    return [i for i, r in enumerate(resources) if named.get(r.get("id"), set()) - {i}]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def _outermost(places: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The places not inside another one (a value inside a value made unknown is gone)."""
    chosen: set[tuple[Any, ...]] = set()
    for place in sorted(places, key=len):
        if not any(place[:n] in chosen for n in range(1, len(place))):
            chosen.add(place)
    return sorted(chosen, key=len)


_UNKNOWN = {"$unknown": "a value known later"}


@st.composite
def _snapshot_changes(draw: st.DrawFn) -> tuple[str, frozenset[str], list[Any], list[int]]:
    """An input, some of its known values (or whole resources' values) to make unknown and
    some of its referenced resources to remove."""
    source = draw(st.sampled_from(_SNAPSHOT_SOURCES))
    regions = draw(st.sets(st.sampled_from(_REGIONS), min_size=1).map(frozenset))
    places = _snapshot_places(source, regions)
    assume(places)  # regions the input has resources in
    referenced = _snapshot_referenced(source, regions)
    resources = len(_snapshot_base(source, regions)["resources"])
    unknown = draw(st.lists(st.sampled_from(places), max_size=12, unique=True)) if places else []
    if resources:
        for index in draw(st.lists(st.integers(0, resources - 1), max_size=2, unique=True)):
            unknown += [p for p in places if p[1] == index and len(p) == 3]
    removed = (
        draw(st.lists(st.sampled_from(referenced), max_size=4, unique=True)) if referenced else []
    )
    if not unknown and not removed:
        unknown = [draw(st.sampled_from(places))]
    return source, regions, unknown, sorted(removed)


@given(_snapshot_changes())
def test_less_known_in_a_snapshot_never_turns_a_finding_into_a_pass(
    change: tuple[str, frozenset[str], list[tuple[Any, ...]], list[int]],
) -> None:
    """Values made unknown and referenced resources removed, together: a rule's fail or
    error on a resource that is still there is still a fail or an error (or an error now)."""
    source, regions, unknown, removed = change
    before = _snapshot_before(source, regions)
    assert before is not None, "the unchanged input is read"
    document = copy.deepcopy(_snapshot_base(source, regions))
    for place in _outermost(unknown):
        _set(document, place, dict(_UNKNOWN))
    kept = [i for i in range(len(document["resources"])) if i not in removed]
    document["resources"] = [document["resources"][i] for i in kept]
    after = _outcomes(document, kept, _snapshot_rules(source, regions))
    gone = set(removed)
    _no_finding_turned_into_a_pass(before, after, lambda subject: subject in gone)


def test_an_unknown_spelled_with_escapes_is_an_unknown(tmp_path: Path) -> None:
    """Unknowns are found in the parsed data: a key written `\\u0024unknown` is the key
    `$unknown`, and the rule that needs the value reports an error, never a pass."""
    document = copy.deepcopy(SNAPSHOT)
    disk = next(r for r in document["resources"] if r["kind"] == "disk")
    disk["encrypted"] = {"$unknown": "the disk's encryption"}
    text = json.dumps(document).replace('"$unknown"', '"\\u0024unknown"')
    assert "$unknown" not in text
    (tmp_path / "escaped.json").write_text(text, encoding="utf-8")
    code, out, _ = run_cli(
        ["evaluate", "--format", "json", "--rule", "*encrypt*", str(tmp_path / "escaped.json")]
    )
    assert code == 1
    errors = [
        r
        for r in json.loads(out)["results"]
        if r["resource"]["id"] == disk["id"] and r["outcome"] == "error"
    ]
    assert errors, out


# ---------------------------------------------------------------- Terraform plans

_PLANS = ("examples/terraform/plan.json", "tests/fixtures/same-account/plan.json")


@cache
def _plan(source: str) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((ROOT / source).read_text("utf-8"))
    return plan


def _changes(plan: dict[str, Any]) -> list[tuple[int, tuple[Any, ...]]]:
    """Every known value after apply: (index in resource_changes, path in `after`)."""
    out: list[tuple[int, tuple[Any, ...]]] = []
    for i, change in enumerate(plan["resource_changes"]):
        after = change.get("change", {}).get("after")
        if isinstance(after, dict):
            out.extend((i, p) for p in _paths(after))
    return out


@cache
def _plan_places(source: str) -> list[tuple[int, tuple[Any, ...]]]:
    return _changes(_plan(source))


@cache
def _plan_before(source: str) -> Outcomes:
    found = _outcomes(_plan(source))
    assert found is not None
    assert any(s & FINDINGS for s in found.values())
    return found


@cache
def _plan_rules(source: str) -> plan.Plan:
    return _finding_rules(_plan_before(source))


def _unknown_after_apply(change: dict[str, Any], path: tuple[Any, ...]) -> None:
    """What Terraform writes for a value known only after apply: null in `after`, true at
    its place in `after_unknown` (whose objects and lists mirror `after`'s)."""
    after, unknown = change["after"], change.setdefault("after_unknown", {})
    for step in path[:-1]:
        after = after[step]
        if isinstance(unknown, dict):
            shape: Any = [False] * len(after) if isinstance(after, list) else {}
            if not isinstance(unknown.get(step), dict | list):
                unknown[step] = shape
            unknown = unknown[step]
        else:
            if not isinstance(unknown[step], dict | list):
                unknown[step] = [False] * len(after) if isinstance(after, list) else {}
            unknown = unknown[step]
    after[path[-1]] = None
    unknown[path[-1]] = True


def _references(value: Any) -> Iterator[str]:
    """Every reference the plan's configuration makes (`alicloud_security_group.web.id`)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "references" and isinstance(inner, list):
                yield from (r for r in inner if isinstance(r, str))
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


@cache
def _referenced(source: str) -> list[int]:
    """The resources another one refers to, by index in resource_changes. (Removing a
    resource that refers to others, such as a security-group rule, changes what the plan
    says, rather than what is known.)"""
    plan = _plan(source)
    named = set(_references(plan["configuration"]))
    out = []
    for i, change in enumerate(plan["resource_changes"]):
        address = change["address"].rsplit("[", 1)[0]
        local = address.split(".")[-2:]  # a module's resources refer to each other by type.name
        if ".".join(local) in named or address in named:
            out.append(i)
    return out


def _part_of(subject: object, gone: set[str]) -> bool:
    """Whether a subject is a removed resource or made of one (an instance's system disk)."""
    return isinstance(subject, str) and any(
        subject == address or subject.startswith(address + ".") for address in gone
    )


@st.composite
def _plan_edits(draw: st.DrawFn) -> tuple[str, list[tuple[int, tuple[Any, ...]]], list[int]]:
    """A plan, some of its known values (or all of some resources' values) to make known
    only after apply, and some of its referenced resources to remove."""
    source = draw(st.sampled_from(_PLANS))
    places = _plan_places(source)
    unknown = draw(st.lists(st.sampled_from(places), max_size=12, unique=True))
    changes = len(_plan(source)["resource_changes"])
    for index in draw(st.lists(st.integers(0, changes - 1), max_size=2, unique=True)):
        unknown += [p for p in places if p[0] == index and len(p[1]) == 1]
    referenced = _referenced(source)
    removed = (
        draw(st.lists(st.sampled_from(referenced), max_size=4, unique=True)) if referenced else []
    )
    if not unknown and not removed:
        unknown = [draw(st.sampled_from(places))]
    return source, unknown, sorted(removed)


_EXAMPLE_PLAN = _plan(_PLANS[0])
_ADDRESSES = [c["address"] for c in _EXAMPLE_PLAN["resource_changes"]]
assert len(_ADDRESSES) > 5


@given(_plan_edits())
# The one disk left of a `count` must not stand in for the removed one: an index computed
# by an expression is not guessed.
@example((_PLANS[0], [], [_ADDRESSES.index("module.app.alicloud_ecs_disk.data[0]")]))
# A rule whose group is known only after apply, with nothing in the configuration to tell
# which group: the group does not look as if it had no rule.
@example((_PLANS[1], [(3, ("security_group_id",))], []))
# The group's own id known only after apply: the rule naming it by the id it had may be its.
@example((_PLANS[1], [(2, ("id",))], []))
def test_less_known_in_a_plan_never_turns_a_finding_into_a_pass(
    edit: tuple[str, list[tuple[int, tuple[Any, ...]]], list[int]],
) -> None:
    """Values made known only after apply and referenced resources removed, together."""
    source, unknown, removed = edit
    document = copy.deepcopy(_plan(source))
    changes = document["resource_changes"]
    for index, path in _outermost_after(unknown):
        _unknown_after_apply(changes[index]["change"], path)
    gone = {changes[i]["address"] for i in removed}
    document["resource_changes"] = [c for i, c in enumerate(changes) if i not in removed]
    _no_finding_turned_into_a_pass(
        _plan_before(source),
        _outcomes(document, rules=_plan_rules(source)),
        lambda subject: _part_of(subject, gone),
    )


def _outermost_after(
    places: list[tuple[int, tuple[Any, ...]]],
) -> list[tuple[int, tuple[Any, ...]]]:
    """The places not inside another one, each resource's own."""
    return [(p[0], p[1:]) for p in _outermost([(i, *path) for i, path in places])]
