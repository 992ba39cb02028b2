"""Less knowledge never makes a pass. Over a normalized snapshot and a Terraform plan,
with the bundled packs: replacing any known value with a value not known yet, or removing
a resource, may turn a pass or a fail into `error` (or a skip), but never turns a rule's
fail or error on a resource into a pass, and never makes the outcome disappear. An input
the change makes invalid is refused (exit 3), which is no pass either.

A few examples per property run in the suite; HYPOTHESIS_PROFILE=long runs ten thousand.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from conftest import ROOT, run_cli
from hypothesis import example, given
from hypothesis import strategies as st

from policyengine.core.errors import InputError
from policyengine.frontend.loader import Loaded
from policyengine.inputs import importers
from policyengine.pipeline import engine
from policyengine.runtime import Result, Status, evaluate

SNAPSHOT = json.loads((ROOT / "examples" / "ecs-account" / "snapshot.json").read_text("utf-8"))
PLAN = json.loads((ROOT / "examples" / "terraform" / "plan.json").read_text("utf-8"))
FINDINGS = {Status.FAIL, Status.ERROR}
Outcomes = dict[tuple[str, object], set[Status]]


@cache
def bundled() -> Loaded:
    return engine.load_policies()


def _outcomes(document: dict[str, Any], removed: int | None = None) -> Outcomes | None:
    """Every rule's outcomes on each subject, by (rule, subject): a Terraform address, or
    the subject's index in the unchanged input (`removed`: the index taken out). None
    when the input is refused."""
    loaded = bundled()
    try:
        read = engine.read_input(Path("-"), loaded, stdin=json.dumps(document))
        store = importers.to_store(read.snapshot, loaded.plan.model)
    except InputError:
        return None
    out: Outcomes = defaultdict(set)
    for result in evaluate(loaded.plan, store):
        out[(result.rule.id, _subject(result, removed))].add(result.status)
    return out


def _subject(result: Result, removed: int | None) -> object:
    r = result.resource
    if r.address:
        return r.address
    if r.pointer.startswith("/resources/"):
        index = r.index
        return index + 1 if removed is not None and index >= removed else index
    return (r.kind, r.key)


def _no_finding_turned_into_a_pass(before: Outcomes, after: Outcomes | None, gone: object) -> None:
    if after is None:
        return  # refused as invalid input: exit 3, not a pass
    for (rule, subject), statuses in before.items():
        if subject == gone or not statuses & FINDINGS:
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


# ---------------------------------------------------------------- a normalized snapshot

# Every known value of every resource, but its kind (which chooses the rules, so it is
# never unknown in an input).
_SNAPSHOT_PLACES = [
    ("resources", i, *p)
    for i, r in enumerate(SNAPSHOT["resources"])
    for p in _paths(r)
    if p[0] != "kind"
]


@cache
def _snapshot_before() -> Outcomes:
    found = _outcomes(SNAPSHOT)
    assert found is not None
    assert any(s & FINDINGS for s in found.values())  # there is something to keep
    return found


@given(st.sampled_from(_SNAPSHOT_PLACES))
def test_an_unknown_value_in_a_snapshot_never_turns_a_finding_into_a_pass(
    place: tuple[Any, ...],
) -> None:
    document = copy.deepcopy(SNAPSHOT)
    _set(document, place, {"$unknown": "a value known later"})
    _no_finding_turned_into_a_pass(_snapshot_before(), _outcomes(document), None)


@given(st.integers(0, len(SNAPSHOT["resources"]) - 1))
def test_removing_a_resource_from_a_snapshot_never_turns_a_finding_into_a_pass(
    index: int,
) -> None:
    document = copy.deepcopy(SNAPSHOT)
    del document["resources"][index]
    _no_finding_turned_into_a_pass(_snapshot_before(), _outcomes(document, index), index)


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


# ---------------------------------------------------------------- a Terraform plan

assert len(PLAN["resource_changes"]) > 5


def _changes() -> list[tuple[int, tuple[Any, ...]]]:
    """Every known value after apply: (index in resource_changes, path in `after`)."""
    out = []
    for i, change in enumerate(PLAN["resource_changes"]):
        after = change.get("change", {}).get("after")
        if isinstance(after, dict):
            out.extend((i, p) for p in _paths(after))
    return out


_PLAN_PLACES = _changes()


@cache
def _plan_before() -> Outcomes:
    found = _outcomes(PLAN)
    assert found is not None
    assert any(s & FINDINGS for s in found.values())
    return found


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


@given(st.sampled_from(_PLAN_PLACES))
def test_an_unknown_value_in_a_plan_never_turns_a_finding_into_a_pass(
    place: tuple[int, tuple[Any, ...]],
) -> None:
    index, path = place
    document = copy.deepcopy(PLAN)
    _unknown_after_apply(document["resource_changes"][index]["change"], path)
    _no_finding_turned_into_a_pass(_plan_before(), _outcomes(document), None)


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


def _referenced() -> list[int]:
    """The resources another one refers to, by index in resource_changes. (Removing a
    resource that refers to others, such as a security-group rule, changes what the plan
    says, rather than what is known.)"""
    named = set(_references(PLAN["configuration"]))
    out = []
    for i, change in enumerate(PLAN["resource_changes"]):
        address = change["address"].rsplit("[", 1)[0]
        local = address.split(".")[-2:]  # a module's resources refer to each other by type.name
        if ".".join(local) in named or address in named:
            out.append(i)
    return out


_REFERENCED = _referenced()


def _part_of(subject: object, gone: str) -> bool:
    """Whether a subject is the removed resource or made of it (an instance's system disk)."""
    return isinstance(subject, str) and (subject == gone or subject.startswith(gone + "."))


_ADDRESSES = [c["address"] for c in PLAN["resource_changes"]]


@given(st.sampled_from(_REFERENCED))
# The one disk left of a `count` must not stand in for the removed one: an index computed
# by an expression is not guessed.
@example(_ADDRESSES.index("module.app.alicloud_ecs_disk.data[0]"))
def test_removing_a_referenced_resource_from_a_plan_never_turns_a_finding_into_a_pass(
    index: int,
) -> None:
    document = copy.deepcopy(PLAN)
    gone = document["resource_changes"].pop(index)["address"]
    before = {k: v for k, v in _plan_before().items() if not _part_of(k[1], gone)}
    _no_finding_turned_into_a_pass(before, _outcomes(document), None)
