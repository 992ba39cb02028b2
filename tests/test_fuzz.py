"""Property and fuzz tests: whatever a user or an attacker hands the engine, it answers
with an outcome or with its own error naming the place, never with a traceback; and the
answer does not depend on things that should not matter (order, names, strangers).

A few dozen examples per property run in the suite; `--hypothesis-profile=long` runs ten
thousand.
"""

from __future__ import annotations

import json
import random
import string
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from policyengine.core import model
from policyengine.core.diagnostics import DiagnosticError
from policyengine.core.errors import InputError, UsageError
from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.results.explain import render_proof_text
from policyengine.results.proof_json import proof_to_json
from policyengine.results.report import build, render_json, render_text
from policyengine.runtime import Result, Status, evaluate, trace

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_TEXT = (ROOT / "examples" / "ecs-account" / "snapshot.json").read_text(encoding="utf-8")
SOURCES = sorted(
    p
    for pattern in ("*.policy", "*.model")
    for folder in ("policies", "examples", "tests")
    for p in (ROOT / folder).rglob(pattern)
)


@cache
def bundled() -> Loaded:
    return load(bundled_policies())


def _load_text(text: str | bytes, suffix: str) -> Loaded:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return load([path])


def _accepted_or_diagnosed(text: str | bytes, suffix: str) -> None:
    try:
        _load_text(text, suffix)
    except DiagnosticError as exc:
        assert exc.diagnostics
        for diag in exc.diagnostics:
            assert diag.span.line >= 1 and diag.span.column >= 1, diag
    except UsageError as exc:
        assert str(exc)


# ---------------------------------------------------------------- broken policies

TOKENS = [
    "",
    " ",
    "\n",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    '"',
    "'",
    ":",
    ",",
    ".",
    "==",
    "!=",
    "<",
    ">=",
    "and",
    "or",
    "not",
    "every",
    "any",
    "no",
    "in",
    "matches",
    "covers",
    "within",
    "is",
    "set",
    "missing",
    "for each",
    "require",
    "forbid",
    "unless",
    "where",
    "rule",
    "policy",
    "use",
    "model",
    "kind",
    "relation",
    "via",
    "requires same zone",
    "as",
    "message",
    "severity",
    "param",
    "#",
    "\\",
    "\t",
    "\x00",
    "é",
    "𝔘",
    "[*]",
    "this",
    "count(",
    "999999999999999999999999",
    "-1",
    '"(a+)+$"',
    "/x/",
    "{id}",
    "{x.__class__}",
]


@given(
    source=st.sampled_from(SOURCES),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 6), st.sampled_from(TOKENS)), max_size=4
    ),
)
def test_a_mutated_policy_is_accepted_or_diagnosed(
    source: Path, edits: list[tuple[float, int, str]]
) -> None:
    text = source.read_text(encoding="utf-8")
    for where, cut, token in edits:
        at = int(where * len(text))
        text = text[:at] + token + text[at + cut :]
    _accepted_or_diagnosed(text, source.suffix)


@given(st.binary(max_size=400))
def test_random_bytes_are_diagnosed(data: bytes) -> None:
    _accepted_or_diagnosed(data, ".policy")


@given(st.text(max_size=300))
def test_random_text_is_diagnosed(text: str) -> None:
    _accepted_or_diagnosed("use alicloud.ecs\n" + text, ".policy")


# ---------------------------------------------------------------- generated valid policies


def _attributes(kind: model.Kind) -> list[tuple[str, str]]:
    """The scalar attributes a generated condition may read, with their scalar type."""
    out = []
    for name, typ in kind.attributes.fields:
        inner = typ.inner if isinstance(typ, model.OptionalT) else typ
        if name == "kind":
            continue
        if isinstance(inner, model.RefT):
            out.append((name, "string"))
        elif isinstance(inner, model.Scalar) and inner.name in ("string", "int", "bool"):
            out.append((name, inner.name))
    return out


WORDS = st.text(alphabet=string.ascii_lowercase + string.digits + "-_ ", max_size=10)
LITERAL = WORDS.map(lambda w: f'"{w}"')
REGEXES = ["^cn-", "[a-z]+-[0-9]", "(a+)+$", ".*", "x|y", "[[:alpha:]]+"]


def _leaf(attr: tuple[str, str]) -> st.SearchStrategy[str]:
    name, typ = attr
    if typ == "int":
        n = st.integers(-5, 500).map(str)
        op = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
        return st.tuples(op, n).map(lambda t: f"{name} {t[0]} {t[1]}")
    if typ == "bool":
        return st.sampled_from([name, f"{name} == true", f"{name} != false", f"not {name}"])
    return st.one_of(
        st.tuples(st.sampled_from(["==", "!="]), LITERAL).map(lambda t: f"{name} {t[0]} {t[1]}"),
        st.lists(LITERAL, min_size=1, max_size=3).map(lambda xs: f"{name} in [{', '.join(xs)}]"),
        st.sampled_from(REGEXES).map(lambda r: f'{name} matches "{r}"'),
        st.sampled_from(["set", "missing", "present", "empty", "not set"]).map(
            lambda t: f"{name} is {t}"
        ),
        LITERAL.map(lambda x: f"starts_with({name}, {x})"),
        st.integers(0, 30).map(lambda n: f"len({name}) > {n}"),
    )


def _condition(attrs: list[tuple[str, str]]) -> st.SearchStrategy[str]:
    leaves = st.sampled_from(attrs).flatmap(_leaf)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map(lambda t: f"({t[0]} and {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]} or {t[1]})"),
            inner.map(lambda c: f"not ({c})"),
        ),
        max_leaves=5,
    )


@st.composite
def _rules(draw: st.DrawFn) -> str:
    kinds = bundled().plan.model.kinds
    present = {r["kind"] for r in json.loads(EXAMPLE_TEXT)["resources"]}
    name = draw(st.sampled_from(sorted(k for k in kinds if k in present and _attributes(kinds[k]))))
    cond = _condition(_attributes(kinds[name]))
    where = draw(st.none() | cond)
    unless = draw(st.none() | cond)
    mode = draw(st.sampled_from(["require", "forbid"]))
    return (
        f"for each {name}"
        + (f" where {where}" if where else "")
        + f" {mode} {draw(cond)}"
        + (f" unless {unless}" if unless else "")
    )


@given(st.lists(_rules(), min_size=1, max_size=3))
def test_generated_policies_check_and_evaluate(rules: list[str]) -> None:
    body = "".join(f"  rule r{i} {{\n    {rule}\n  }}\n" for i, rule in enumerate(rules))
    loaded = _load_text(f"use alicloud.ecs\n\npolicy fuzz {{\n{body}}}\n", ".policy")
    store = Store(parse_snapshot(EXAMPLE_TEXT, "s.json"), loaded.plan.model)
    results = evaluate(loaded.plan, store)
    assert results
    for result in results:
        if result.status in (Status.FAIL, Status.ERROR):
            proof = trace(store, result)
            assert proof.result.status is result.status
            render_proof_text(proof)
            json.dumps(proof_to_json(proof))
    render_text(build(loaded.plan, [store]), show_all=True)


# ---------------------------------------------------------------- broken snapshots

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = ["kind", "id", "name", "region", "zone", "tags", "instance_id", "rules", "zone_id"]


def _answer(text: str) -> None:
    """What `evaluate` does with a snapshot: a report, or the input error (exit 3)."""
    try:
        store = Store(parse_snapshot(text, "s.json"), bundled().plan.model)
    except InputError as exc:
        assert exc.problems and all(p.file == "s.json" for p in exc.problems)
        return
    render_json(build(bundled().plan, [store]))


@given(
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(FIELDS), st.none() | JSON_VALUES),
        min_size=1,
        max_size=4,
    )
)
def test_a_mutated_snapshot_is_evaluated_or_rejected(
    edits: list[tuple[int, str, Any]],
) -> None:
    doc = json.loads(EXAMPLE_TEXT)
    for index, field, value in edits:
        resource = doc["resources"][index % len(doc["resources"])]
        if value is None:
            resource.pop(field, None)
        else:
            resource[field] = value
    _answer(json.dumps(doc))


@given(
    cut=st.floats(0, 1),
    splice=st.sampled_from(
        [
            "",
            "NaN",
            "Infinity",
            "-Infinity",
            "1e999",
            "[" * 5000,
            '{"a": 1, "a": 2}',
            "\x00",
            '"\\ud800"',
            "123456789012345678901234567890",
            "null",
            "{}",
            "[]",
            '"' + "x" * 100_000,
        ]
    ),
)
def test_a_damaged_snapshot_file_is_rejected_or_evaluated(cut: float, splice: str) -> None:
    at = int(cut * len(EXAMPLE_TEXT))
    _answer(EXAMPLE_TEXT[:at] + splice + EXAMPLE_TEXT[at:])
    _answer(EXAMPLE_TEXT[:at])  # truncated


@given(st.sampled_from(["", "{}", "[]", '{"resources": []}', "null", "0", '"x"']))
def test_an_empty_snapshot_is_an_input_error(text: str) -> None:
    try:
        parse_snapshot(text, "s.json")
    except InputError:
        return
    raise AssertionError(f"{text!r} was accepted")


# ---------------------------------------------------------------- metamorphic


def _outcomes(text: str) -> list[Result]:
    return evaluate(bundled().plan, Store(parse_snapshot(text, "s.json"), bundled().plan.model))


def _row(r: Result, back: dict[str, str]) -> tuple[str, int, str, str, str]:
    other = r.target.index if r.target is not None else (r.edge.value if r.edge else "")
    reason = r.reason
    for new, old in back.items():
        reason = reason.replace(new, old)
    return (r.rule.id, r.resource.index, back.get(str(other), str(other)), str(r.status), reason)


@cache
def _baseline() -> list[tuple[str, int, str, str, str]]:
    return [_row(r, {}) for r in _outcomes(EXAMPLE_TEXT)]


def _rename(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_rename(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _rename(v, names) for k, v in value.items()}
    return value


@given(st.integers(0, 2**32))
def test_renaming_ids_consistently_changes_no_outcome(seed: int) -> None:
    rnd = random.Random(seed)
    doc = json.loads(EXAMPLE_TEXT)
    names: dict[str, str] = {}
    alphabet = string.ascii_lowercase + string.digits
    for resource in doc["resources"]:
        old = resource.get("id")
        if isinstance(old, str) and "-" in old and old not in names:
            prefix, tail = old.split("-", 1)
            new = old
            while new == old or new in names.values():  # one new id per old one
                new = f"{prefix}-" + "".join(rnd.choice(alphabet) for _ in tail)
            names[old] = new
    renamed = _rename(doc, names)
    back = {new: old for old, new in names.items()}
    assert [_row(r, back) for r in _outcomes(json.dumps(renamed))] == _baseline()


@given(st.permutations(range(len(json.loads(EXAMPLE_TEXT)["resources"]))))
def test_the_order_of_resources_changes_no_outcome(order: list[int]) -> None:
    doc = json.loads(EXAMPLE_TEXT)
    doc["resources"] = [doc["resources"][i] for i in order]
    rows = sorted(
        (rule, order[index], str(other), status, reason)
        for rule, index, other, status, reason in (_row(r, {}) for r in _outcomes(json.dumps(doc)))
    )
    # a target is named by its index too: map it back through the permutation
    fixed = sorted(
        (rule, idx, str(order[int(other)]) if other.isdigit() else other, status, reason)
        for rule, idx, other, status, reason in rows
    )
    assert fixed == sorted(_baseline())


@given(
    tail=st.text(alphabet=string.ascii_lowercase + string.digits, min_size=20, max_size=20),
    region=st.sampled_from(["cn-hangzhou", "cn-shanghai", "ap-southeast-1"]),
)
def test_an_unrelated_resource_changes_no_other_outcome(tail: str, region: str) -> None:
    doc = json.loads(EXAMPLE_TEXT)
    stranger = {
        "kind": "image",
        "id": f"m-{tail}",
        "region": region,
        "image_owner_alias": "self",
        "visibility": "custom",
    }
    doc["resources"].append(stranger)
    count = len(doc["resources"]) - 1
    rows = [_row(r, {}) for r in _outcomes(json.dumps(doc))]
    assert [row for row in rows if row[1] != count] == _baseline()
    assert [row[3] for row in rows if row[1] == count]  # the stranger is evaluated too
