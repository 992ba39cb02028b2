"""Property and fuzz tests of the importers: whatever aliyun output or Terraform JSON a
user hands the engine — wrong types, missing fields, deep nesting, huge strings, unicode,
duplicate keys, NaN, numbers beyond int64, truncated files, a page removed — it is read
and evaluated, or refused with the input error (exit 3) naming the file and the JSON path.
Never any other exception.

A few dozen examples per property run in the suite; `--hypothesis-profile=long` runs ten
thousand.
"""

from __future__ import annotations

import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyengine import importers
from policyengine.loader import Loaded, bundled_policies, load
from policyengine.report import build, render_json
from policyengine.snapshot import InputError

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = {
    "example": ROOT / "examples" / "aliyun-export",
    "same-account": ROOT / "tests" / "fixtures" / "same-account" / "aliyun",
}
SNAPSHOT = ROOT / "examples" / "ecs-account" / "snapshot.json"
TERRAFORM = {
    "plan": ROOT / "examples" / "terraform" / "plan.json",
    "state": ROOT / "examples" / "terraform" / "state.json",
    "same-account plan": ROOT / "tests" / "fixtures" / "same-account" / "plan.json",
}
Files = dict[str, str]  # a folder's files: relative path -> text


@cache
def bundled() -> Loaded:
    return load(bundled_policies())


@cache
def export(name: str) -> tuple[tuple[str, Any], ...]:
    """The parsed files of an export, in a fixed order."""
    root = EXPORTS[name]
    return tuple(
        (p.relative_to(root).as_posix(), json.loads(p.read_text(encoding="utf-8")))
        for p in sorted(root.rglob("*.json"))
    )


@cache
def terraform(name: str) -> Any:
    return json.loads(TERRAFORM[name].read_text(encoding="utf-8"))


def answer(path: Path, region: str | None = None) -> None:
    """What `evaluate` does with an input: a report, or the input error (exit 3) naming a
    file of the input and a JSON Pointer into it."""
    loaded = bundled()
    m = loaded.plan.model
    try:
        read = importers.read(path, "auto", m, importers.Options(region))
        store = importers.to_store(read.snapshot, m)
    except InputError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file.startswith(str(path)), problem
            assert problem.pointer == "" or problem.pointer.startswith("/"), problem
            assert problem.message, problem
            problem.render()
        return
    render_json(build(loaded.plan, [store]))


def answer_folder(files: Files) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "export"
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        root.mkdir(exist_ok=True)
        answer(root)


def answer_file(text: str, region: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.json"
        path.write_text(text, encoding="utf-8")
        answer(path, region)


# ---------------------------------------------------------------- mutations

HUGE = "x" * 200_000
STRANGE_TEXT = ["", " ", "é", "𝔘", "\u202e", "\x00", "\ud800", "日本語", "~/", "$unknown", HUGE]
STRANGE_NUMBERS = [2**63, -(2**63) - 1, 2**64, 10**400, -0.0, 1e308, 0.5]


def _deep(depth: int) -> Any:
    value: Any = "leaf"
    for i in range(depth):
        value = [value] if i % 2 else {"A": value}
    return value


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from(STRANGE_NUMBERS)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(STRANGE_TEXT),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["Tag", "TagKey", "Key", "Value", "RegionId", "ZoneId", "x", ""])
            | st.text(max_size=6),
            inner,
            max_size=3,
        )
    ),
    max_leaves=8,
) | st.sampled_from([_deep(40), _deep(200), {"Tag": [{"TagKey": "k"}]}, {"$unknown": "x"}])


def _nodes(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside `value`, in document order."""
    out = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            out += _nodes(inner, (*at, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            out += _nodes(inner, (*at, i))
    return out


def _get(value: Any, at: tuple[Any, ...]) -> Any:
    for part in at:
        value = value[part]
    return value


# One edit of a JSON tree: (which node, what to do, the new value).
EDITS = st.tuples(
    st.integers(0, 100_000),
    st.sampled_from(["replace", "delete", "duplicate", "wrap in a list", "wrap in an object"]),
    JSON_VALUES,
)


def mutate(doc: Any, edits: list[tuple[int, str, Any]]) -> Any:
    """`doc` with each edit applied to the node it picks (the root is never deleted)."""
    doc = json.loads(json.dumps(doc))  # a copy
    for pick, what, shared in edits:
        new = json.loads(json.dumps(shared))  # never the drawn value itself: edits change it
        nodes = _nodes(doc)[1:] or [()]
        at = nodes[pick % len(nodes)]
        if not at:
            doc = new if what == "replace" else doc
            continue
        parent, key = _get(doc, at[:-1]), at[-1]
        match what:
            case "replace":
                parent[key] = new
            case "delete":
                del parent[key]
            case "duplicate" if isinstance(parent, list):
                parent.insert(key, json.loads(json.dumps(parent[key])))
            case "wrap in a list":
                parent[key] = [parent[key]]
            case "wrap in an object":
                parent[key] = {"Item": parent[key]}
    return doc


SPLICES = [
    "",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "[" * 5000,
    "[" * 600 + "]" * 600,
    '"\\ud800"',
    "\x00",
    "123456789012345678901234567890",
    "null",
    "{}",
    "[]",
    ",",
    '"' + "x" * 100_000,
]


def damage(text: str, cut: float, splice: str, truncate: bool) -> str:
    at = int(cut * len(text))
    return text[:at] if truncate else text[:at] + splice + text[at:]


def with_duplicate_key(doc: Any, pick: int, value: Any) -> str:
    """The JSON text of `doc` with one object's key given twice, the second time with
    `value` (a parser keeps one of the two)."""
    objects = [at for at in _nodes(doc) if isinstance(_get(doc, at), dict) and _get(doc, at)]
    if not objects:
        return json.dumps(doc)
    at = objects[pick % len(objects)]
    target = _get(doc, at)
    key = list(target)[pick % len(target)]
    marker = "\x01duplicate\x01"
    body = json.dumps(target)[:-1] + f", {json.dumps(key)}: {json.dumps(value)}}}"
    if not at:
        return body
    copy = json.loads(json.dumps(doc))
    _get(copy, at[:-1])[at[-1]] = marker
    return json.dumps(copy).replace(json.dumps(marker), body)


# ---------------------------------------------------------------- aliyun output


def _files(name: str) -> Files:
    return {rel: json.dumps(data, indent=1) for rel, data in export(name)}


@given(
    name=st.sampled_from(sorted(EXPORTS)),
    file=st.integers(0, 1000),
    edits=st.lists(EDITS, min_size=1, max_size=4),
)
def test_a_mutated_aliyun_response_is_read_or_refused(
    name: str, file: int, edits: list[tuple[int, str, Any]]
) -> None:
    files = _files(name)
    rel, data = export(name)[file % len(export(name))]
    files[rel] = json.dumps(mutate(data, edits))
    answer_folder(files)


@given(
    name=st.sampled_from(sorted(EXPORTS)),
    file=st.integers(0, 1000),
    cut=st.floats(0, 1),
    splice=st.sampled_from(SPLICES),
    truncate=st.booleans(),
)
def test_a_damaged_aliyun_file_is_read_or_refused(
    name: str, file: int, cut: float, splice: str, truncate: bool
) -> None:
    files = _files(name)
    rel = sorted(files)[file % len(files)]
    files[rel] = damage(files[rel], cut, splice, truncate)
    answer_folder(files)


@given(
    name=st.sampled_from(sorted(EXPORTS)),
    file=st.integers(0, 1000),
    pick=st.integers(0, 100_000),
    value=JSON_VALUES,
)
def test_an_aliyun_response_with_a_duplicate_key_is_read_or_refused(
    name: str, file: int, pick: int, value: Any
) -> None:
    files = _files(name)
    rel, data = export(name)[file % len(export(name))]
    files[rel] = with_duplicate_key(data, pick, value)
    answer_folder(files)


@given(
    name=st.sampled_from(sorted(EXPORTS)),
    removed=st.sets(st.integers(0, 1000), min_size=1, max_size=3),
    renamed=st.none()
    | st.tuples(
        st.integers(0, 1000),
        st.sampled_from(
            [
                "DescribeDisks.page3.json",
                "DescribeDisks.json",
                "global/x.json",
                "cn-x/y.json",
                "DescribeVSwitches.json",
                "manifest.json",
                "DescribeZones.vsw-x.json",
            ]
        ),
    ),
)
def test_an_aliyun_export_missing_files_or_pages_is_read_or_refused(
    name: str, removed: set[int], renamed: tuple[int, str] | None
) -> None:
    files = _files(name)
    names = sorted(files)
    for i in removed:
        files.pop(names[i % len(names)], None)
    if renamed is not None and files:
        old = sorted(files)[renamed[0] % len(files)]
        folder = old.rsplit("/", 1)[0] + "/" if "/" in old else ""
        files[renamed[1] if "/" in renamed[1] else folder + renamed[1]] = files.pop(old)
    answer_folder(files)


@given(
    name=st.sampled_from(sorted(EXPORTS)),
    manifest=st.dictionaries(
        st.sampled_from(["cn-hangzhou/DescribeDisks.json", "nope.json", "../x.json", ""]),
        st.sampled_from(
            [
                "aliyun ecs DescribeDisks --RegionId cn-beijing",
                "aliyun vpc DescribeVSwitches",
                "aliyun ecs DescribeNothing",
                "aliyun ecs 'unbalanced",
                "--RegionId",
                "",
            ]
        )
        | st.integers()
        | st.none(),
        max_size=3,
    )
    | JSON_VALUES,
)
def test_an_aliyun_export_with_a_strange_manifest_is_read_or_refused(
    name: str, manifest: Any
) -> None:
    files = _files(name)
    files["manifest.json"] = json.dumps(manifest)
    answer_folder(files)


@given(
    name=st.sampled_from(sorted(EXPORTS)),
    edits=st.lists(EDITS, max_size=3),
    region=st.none() | st.sampled_from(["cn-hangzhou", "", "x"]),
)
def test_a_mutated_bundle_of_responses_is_read_or_refused(
    name: str, edits: list[tuple[int, str, Any]], region: str | None
) -> None:
    bundle = [
        {
            "command": f"aliyun ecs {rel.rsplit('/', 1)[-1].split('.')[0]} --RegionId "
            + rel.split("/")[0],
            "response": data,
        }
        for rel, data in export(name)
        if rel != "manifest.json"
    ]
    answer_file(json.dumps(mutate(bundle, edits)), region)


@given(
    name=st.sampled_from(sorted(EXPORTS)),
    file=st.integers(0, 1000),
    edits=st.lists(EDITS, max_size=3),
    region=st.none() | st.sampled_from(["cn-hangzhou", "ap-southeast-1"]),
)
def test_a_single_mutated_response_is_read_or_refused(
    name: str, file: int, edits: list[tuple[int, str, Any]], region: str | None
) -> None:
    rel, data = export(name)[file % len(export(name))]
    answer_file(json.dumps(mutate(data, edits)), region)


# ---------------------------------------------------------------- Terraform


@given(
    name=st.sampled_from(sorted(TERRAFORM)),
    edits=st.lists(EDITS, min_size=1, max_size=4),
    region=st.none() | st.sampled_from(["cn-hangzhou", ""]),
)
def test_a_mutated_terraform_document_is_read_or_refused(
    name: str, edits: list[tuple[int, str, Any]], region: str | None
) -> None:
    answer_file(json.dumps(mutate(terraform(name), edits)), region)


@given(
    name=st.sampled_from(sorted(TERRAFORM)),
    cut=st.floats(0, 1),
    splice=st.sampled_from(SPLICES),
    truncate=st.booleans(),
)
def test_a_damaged_terraform_file_is_read_or_refused(
    name: str, cut: float, splice: str, truncate: bool
) -> None:
    answer_file(damage(json.dumps(terraform(name), indent=1), cut, splice, truncate))


@given(name=st.sampled_from(sorted(TERRAFORM)), pick=st.integers(0, 100_000), value=JSON_VALUES)
def test_a_terraform_document_with_a_duplicate_key_is_read_or_refused(
    name: str, pick: int, value: Any
) -> None:
    answer_file(with_duplicate_key(terraform(name), pick, value))


# Types of the alicloud provider the importer reads, swapped in for one another.
SWAPPED_TYPES = [
    "alicloud_instance",
    "alicloud_ecs_disk",
    "alicloud_ecs_disk_attachment",
    "alicloud_security_group_rule",
    "alicloud_ram_role_attachment",
    "alicloud_ecs_network_interface_attachment",
    "alicloud_vswitch",
    "alicloud_images",
    "aws_instance",
]


@given(
    name=st.sampled_from(sorted(TERRAFORM)),
    pick=st.integers(0, 1000),
    new_type=st.sampled_from(SWAPPED_TYPES),
)
def test_a_terraform_resource_of_another_type_is_read_or_refused(
    name: str, pick: int, new_type: str
) -> None:
    doc = json.loads(json.dumps(terraform(name)))
    typed = [at for at in _nodes(doc) if at and at[-1] == "type"]
    if typed:
        at = typed[pick % len(typed)]
        _get(doc, at[:-1])["type"] = new_type
    answer_file(json.dumps(doc))


# ---------------------------------------------------------------- the normalized snapshot


@given(edits=st.lists(EDITS, min_size=1, max_size=4))
def test_a_mutated_normalized_snapshot_is_read_or_refused(
    edits: list[tuple[int, str, Any]],
) -> None:
    answer_file(json.dumps(mutate(json.loads(SNAPSHOT.read_text(encoding="utf-8")), edits)))


# ---------------------------------------------------------------- cases the properties found


def _refused(path: Path, region: str | None = None) -> list[tuple[str, str, str]]:
    m = bundled().plan.model
    try:
        read = importers.read(path, "auto", m, importers.Options(region))
        importers.to_store(read.snapshot, m)
    except InputError as exc:
        return [(p.file, p.pointer, p.message) for p in exc.problems]
    raise AssertionError(f"{path} was accepted")


def test_an_aliyun_value_nested_too_deep_is_refused_where_it_starts(tmp_path: Path) -> None:
    # json reads nesting up to its own limit; the conversion must not exhaust the stack.
    data = json.loads((EXPORTS["example"] / "cn-hangzhou" / "DescribeKeyPairs.json").read_text())
    data["KeyPairs"]["KeyPair"][0]["Deep"] = _deep(900)
    (tmp_path / "cn-hangzhou").mkdir()
    (tmp_path / "cn-hangzhou" / "DescribeKeyPairs.json").write_text(json.dumps(data))
    (problem,) = _refused(tmp_path)
    assert problem[0].endswith("cn-hangzhou/DescribeKeyPairs.json")
    assert problem[1].startswith("/KeyPairs/KeyPair/0/Deep/0/A/0/A")
    assert problem[2] == "nested more than 100 levels deep"


@pytest.mark.parametrize(
    ("edit", "pointer", "message"),
    [
        (
            lambda d: d.update(resource_changes={"a": 1}),
            "/resource_changes",
            "expected an array of objects, found an object",
        ),
        (
            lambda d: d["resource_changes"].insert(0, None),
            "/resource_changes/0",
            "expected an object",
        ),
        (
            lambda d: d["configuration"]["root_module"]["resources"][0]["expressions"].update(
                image_id={"references": [None, 7]}
            ),
            "/configuration/root_module/resources/0/expressions/image_id/references/0",
            "expected a string",
        ),
        (
            lambda d: d["configuration"]["provider_config"].update(x=[]),
            "/configuration/provider_config/x",
            "expected an object, found an array",
        ),
        (
            lambda d: d["resource_changes"][0]["change"].update(actions="create"),
            "/resource_changes/0/change/actions",
            'expected an array of strings, found a string "create"',
        ),
    ],
    ids=["changes-object", "null-change", "reference-not-string", "provider-array", "actions"],
)
def test_a_plan_of_the_wrong_shape_is_refused_with_the_place(
    tmp_path: Path, edit: Any, pointer: str, message: str
) -> None:
    doc = json.loads(json.dumps(terraform("plan")))
    edit(doc)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    assert (str(path), pointer, message) in _refused(path)


def test_an_image_a_data_source_read_without_an_id_is_refused(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(terraform("plan")))
    images = next(
        r
        for r in doc["prior_state"]["values"]["root_module"]["resources"]
        if r["type"] == "alicloud_images"
    )
    images["values"]["images"][0].pop("id")
    images["values"]["images"][0].pop("image_id")
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    ((file, pointer, message),) = _refused(path)
    assert (
        pointer.endswith("/values/images/0") and message == "expected an image with an `id` string"
    )


def test_an_unknown_inside_a_list_is_reported_as_its_marker(tmp_path: Path) -> None:
    # A security group rule whose port range is not known yet: the JSON report shows the
    # `{"$unknown": ...}` marker where the value would be, rather than failing to print.
    doc = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    group = next(r for r in doc["resources"] if r["kind"] == "security_group" and r.get("rules"))
    group["rules"][0]["port_range"] = {"$unknown": "the port range"}
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(doc))
    m = bundled().plan.model
    store = importers.to_store(importers.read(path, "auto", m, importers.Options()).snapshot, m)
    report = json.loads(render_json(build(bundled().plan, [store])))
    values = [
        e["value"]
        for r in report["results"]
        for e in r["evidence"]
        if isinstance(e["value"], list) and e["value"] and isinstance(e["value"][0], dict)
    ]
    assert {"$unknown": "the port range"} in [v[0].get("port_range") for v in values]
