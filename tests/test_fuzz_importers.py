"""Property and fuzz tests of the importers: whatever aliyun output or Terraform JSON a
user hands the engine — wrong types, missing fields, deep nesting, huge strings, unicode,
duplicate keys, NaN, numbers beyond int64, truncated files, a page removed — it is read
and evaluated, or refused with the input error (exit 3) naming the file and the JSON path.
Never any other exception. And converting aliyun output loses no field of a response
(`NOT_KEPT` says what is deliberately left out, and why).

A few dozen examples per property run in the suite; `--hypothesis-profile=long` runs ten
thousand.
"""

from __future__ import annotations

import json
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyengine.core.errors import InputError
from policyengine.core.model import NamedBy
from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs import importers
from policyengine.inputs.importers.aliyun import APIS, LIST_RENAMES, RENAMES, Api
from policyengine.results.report import build, render_json

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = {
    "aliyun-cli": ROOT / "tests" / "fixtures" / "aliyun-cli-export",
    "same-account": ROOT / "tests" / "fixtures" / "same-account" / "aliyun",
    "governance": ROOT / "tests" / "fixtures" / "aliyun-governance",
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


@pytest.mark.parametrize("depth", [110, 900])
def test_an_aliyun_value_nested_too_deep_is_refused(tmp_path: Path, depth: int) -> None:
    # The conversion must not exhaust the stack: a value nested past 100 levels is refused
    # where it starts; a document past the JSON depth limit (128) before it is read.
    data = json.loads((EXPORTS["aliyun-cli"] / "cn-hangzhou" / "DescribeKeyPairs.json").read_text())
    data["KeyPairs"]["KeyPair"][0]["Deep"] = _deep(depth)
    (tmp_path / "cn-hangzhou").mkdir()
    (tmp_path / "cn-hangzhou" / "DescribeKeyPairs.json").write_text(json.dumps(data))
    (problem,) = _refused(tmp_path)
    assert problem[0].endswith("cn-hangzhou/DescribeKeyPairs.json")
    if depth == 110:
        assert problem[1].startswith("/KeyPairs/KeyPair/0/Deep/0/A/0/A")
        assert problem[2] == "nested more than 100 levels deep"
    else:
        assert problem[1] == ""
        assert problem[2].startswith("nested deeper than 128 levels, the limit")


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


# ---------------------------------------------------------------- nothing lost

# The documented exceptions: leaves of an aliyun response item that the normalized snapshot
# deliberately does not hold, and why.
NOT_KEPT = {
    # DescribeZones fills the snapshot's `locations` table (region -> zone ids); the rest
    # of a zone's description (local name, resources on sale) is about the cloud, not the
    # account, and the snapshot format has no place for it.
    "DescribeZones": "every field but ZoneId",
    # An instance without a RAM role (`"RamRoleName": ""`) is listed with an empty role:
    # there is no attachment to record.
    "DescribeInstanceRamRole": "an item whose RamRoleName is empty",
}
# A top-level `"ZoneId": ""` (a regional reserved instance) means "no zone" and is not
# written; nor is a tag row's field other than its key and value.


def _snake(name: str) -> str:
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def _name(key: str, value: Any) -> str:
    if key in LIST_RENAMES and _one_key_list(value):
        return LIST_RENAMES[key]
    return RENAMES.get(key) or _snake(key)


def _one_key_list(value: Any) -> bool:
    return (
        isinstance(value, dict) and len(value) == 1 and isinstance(next(iter(value.values())), list)
    )


def _kept(old: Any, new: Any) -> bool:
    """Whether `new` is `old` as the importer writes it: the same, or a string converted
    to the number or boolean the model declares, or `""` for an optional value as none."""
    if type(old) is type(new) and old == new:
        return True
    if isinstance(old, str):
        if new is None:
            return old == ""
        if isinstance(new, bool):
            return old.strip().lower() == str(new).lower()
        if isinstance(new, int):
            return old.strip().lstrip("-").isdigit() and int(old) == new
    return False


def _leaves(value: Any, at: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Any]]:
    """Every leaf of an API value with the path it has in the normalized resource."""
    if _one_key_list(value):
        (inner,) = value.values()
        return _leaves(inner, at)
    if isinstance(value, dict):
        if not value:
            return [(at, {})]
        out = []
        for key, inner in value.items():
            if key == "Tags":
                out += _tag_leaves(inner, at)
            else:
                out += _leaves(inner, (*at, _name(key, inner)))
        return out
    if isinstance(value, list):
        if not value:
            return [(at, [])]
        return [leaf for i, inner in enumerate(value) for leaf in _leaves(inner, (*at, i))]
    return [(at, value)]


def _tag_leaves(value: Any, at: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], Any]]:
    rows = next(iter(value.values())) if _one_key_list(value) else value
    out = []
    for row in rows or []:
        key = row.get("TagKey", row.get("Key"))
        out.append(((*at, "tags", key), row.get("TagValue", row.get("Value")) or ""))
    return out


def _item_leaves(api: Api, kind: str, item: dict[str, Any]) -> list[tuple[tuple[Any, ...], Any]]:
    out: list[tuple[tuple[Any, ...], Any]] = []
    for key, value in item.items():
        if key == api.identity:
            named = isinstance(bundled().plan.model.kinds[kind].identity, NamedBy)
            out.append(((("name" if named else "id"),), value))
        elif key == "RegionId":
            out.append((("region",), value))
        elif key == "ZoneId" and bundled().plan.model.kinds[kind].may_have("zone"):
            if value != "":
                out.append((("zone",), value))
        elif key == "Tags":
            out += _tag_leaves(value, ())
        else:
            out += _leaves(value, (_name(key, value),))
    return out


def _at(resource: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(resource, dict) and part in resource:
            resource = resource[part]
        elif isinstance(resource, list) and isinstance(part, int) and part < len(resource):
            resource = resource[part]
        else:
            return MISSING
    return resource


MISSING = object()


def lost(folder: Path) -> list[str]:
    """Every leaf of a response item of the export that its normalized resource lacks."""
    m = bundled().plan.model
    document = importers.read(folder, "aliyun", m, importers.Options()).converted.document
    by_place = {
        (r["source"]["file"], r["source"]["pointer"]): r
        for r in document["resources"]
        if r.get("source", {}).get("format") == "aliyun"
    }
    groups = {
        (r["id"], r["region"]): r for r in document["resources"] if r["kind"] == "security_group"
    }
    apgs = {r["id"]: r for r in document["resources"] if r["kind"] == "auto_provisioning_group"}
    roles = {r["name"]: r for r in document["resources"] if r["kind"] == "ram_role"}
    instances = {
        (r["id"], r["region"]): r for r in document["resources"] if r["kind"] == "instance"
    }
    out = []
    for path in sorted(folder.rglob("*.json")):
        if path.name == "manifest.json":
            continue
        body = json.loads(path.read_text(encoding="utf-8"))
        api = APIS[path.name.split(".")[0]]
        outer, inner = api.items
        file = f"{folder}/{path.relative_to(folder).as_posix()}"
        for i, item in enumerate(_items(path.name, body)):
            pointer = f"/{outer}" if api.single else f"/{outer}/{inner}/{i}"
            if api.name == "DescribeZones" or (
                api.name == "DescribeInstanceRamRole" and item.get("RamRoleName") == ""
            ):
                continue  # NOT_KEPT
            if api.name == "DescribeSecurityGroupAttribute":
                group = groups[(body["SecurityGroupId"], path.parent.name)]
                candidates = group["rules"]
                leaves = _leaves(item, ())
            elif api.name == "GetRole":  # it completes the role ListRoles listed
                candidates = [roles[item["RoleName"]]]
                leaves = _item_leaves(api, "ram_role", item)
            elif api.name == "DescribeInstanceAutoRenewAttribute":  # the instance's renewal
                candidates = [instances[(item["InstanceId"], path.parent.name)]]
                renewal = {k: v for k, v in item.items() if k != "InstanceId"}
                leaves = _leaves(renewal, ("renewal",))
            elif api.name == "DescribeAutoProvisioningGroupInstances":
                apg = apgs[
                    path.name.split(".")[1] if path.name.count(".") > 1 else _apg_of(folder, path)
                ]
                candidates = apg["instances"]
                leaves = _leaves(item, ())
            else:
                assert api.kind is not None
                candidates = [by_place[(file, pointer)]]
                leaves = _item_leaves(api, api.kind, item)
            if not any(all(_kept(v, _at(c, p)) for p, v in leaves) for c in candidates):
                c = candidates[0] if candidates else {}
                out += [
                    f"{file}#{pointer}: {p} {v!r} -> {_at(c, p)!r}"
                    for p, v in leaves
                    if not _kept(v, _at(c, p))
                ]
    return out


def _apg_of(folder: Path, path: Path) -> str:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    line = manifest[path.relative_to(folder).as_posix()]
    return line.split("--AutoProvisioningGroupId ")[1].split()[0]


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_converting_an_aliyun_export_loses_no_field(name: str) -> None:
    assert lost(EXPORTS[name]) == []


WORDS = ["Alpha", "Beta", "ID", "IOPS", "Ipv6", "X", "Zone", "Name", "Tag", "V"]
EXTRA_KEYS = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(
    lambda words: "Extra" + "".join(words)
)
EXTRA_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from([t for t in STRANGE_TEXT if t != "\ud800"]),  # that one is refused
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(EXTRA_KEYS, inner, max_size=3),
    max_leaves=6,
)


@given(
    name=st.sampled_from(sorted(EXPORTS)),
    additions=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 100), EXTRA_KEYS, EXTRA_VALUES),
        min_size=1,
        max_size=6,
    ),
)
def test_converting_an_aliyun_export_with_more_fields_loses_none(
    name: str, additions: list[tuple[int, int, str, Any]]
) -> None:
    files = {rel: json.loads(json.dumps(data)) for rel, data in export(name)}
    items = [
        item
        for rel, body in sorted(files.items())
        if rel != "manifest.json"
        for item in _items(rel, body)
    ]
    for pick, inside, key, value in additions:
        item = items[pick % len(items)]
        # at the top of the item, or inside one of its objects (tags have their own shape)
        objects = [
            at for at in _nodes(item) if isinstance(_get(item, at), dict) and "Tags" not in at
        ]
        _get(item, objects[inside % len(objects)])[key] = value
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "export"
        for rel, body in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(json.dumps(body), encoding="utf-8")
        assert lost(root) == []


def _items(rel: str, body: Any) -> list[dict[str, Any]]:
    api = APIS[rel.rsplit("/", 1)[-1].split(".")[0]]
    outer, inner = api.items
    rows = [body[outer]] if api.single else body[outer][inner]
    return [i for i in rows if isinstance(i, dict)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"IOPS": 1, "Iops": 2}, "`Iops` and `IOPS` both become the attribute `iops`"),
        ({"Source": "x"}, "`Source` and `source` both become the attribute `source`"),
        (
            {"Options": {"IOPS": 1, "Iops": 2}},
            "`Iops` and `IOPS` both become the attribute `iops`",
        ),
    ],
    ids=["top", "a name the importer writes", "nested"],
)
def test_two_fields_that_become_one_attribute_are_refused(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    data = json.loads((EXPORTS["aliyun-cli"] / "cn-hangzhou" / "DescribeKeyPairs.json").read_text())
    data["KeyPairs"]["KeyPair"][0].update(fields)
    (tmp_path / "cn-hangzhou").mkdir()
    (tmp_path / "cn-hangzhou" / "DescribeKeyPairs.json").write_text(json.dumps(data))
    assert [m for _, _, m in _refused(tmp_path)] == [message]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda item: item["Tags"]["Tag"].append({"TagKey": "owner", "TagValue": 7}),
            "expected a string tag value, found an integer 7",
        ),
        (
            lambda item: item["Tags"]["Tag"].extend(
                [{"TagKey": "owner", "TagValue": "a"}, {"TagKey": "owner", "TagValue": "b"}]
            ),
            "tag `owner` is given twice",
        ),
        (lambda item: item.update(RegionId=5), "expected a region name, found an integer 5"),
    ],
    ids=["tag-value-not-a-string", "tag-given-twice", "region-not-a-string"],
)
def test_a_value_that_would_be_dropped_is_refused(tmp_path: Path, edit: Any, message: str) -> None:
    data = json.loads((EXPORTS["aliyun-cli"] / "cn-hangzhou" / "DescribeKeyPairs.json").read_text())
    edit(data["KeyPairs"]["KeyPair"][0])
    (tmp_path / "cn-hangzhou").mkdir()
    (tmp_path / "cn-hangzhou" / "DescribeKeyPairs.json").write_text(json.dumps(data))
    assert [m for _, _, m in _refused(tmp_path)] == [message]


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ('{"resources": [{"kind": "disk", "id": "\\ud800"}]}', "/resources/0/id"),
        ('{"resources": [{"kind": "disk", "\\udc00": 1}]}', "/resources/0"),
    ],
    ids=["in a value", "in a key"],
)
def test_a_lone_surrogate_is_refused_not_printed(tmp_path: Path, text: str, pointer: str) -> None:
    # Valid JSON syntax, but not text: a fingerprint or a terminal could not encode it.
    path = tmp_path / "snapshot.json"
    path.write_text(text)
    ((file, where, message),) = _refused(path)
    assert (file, where) == (str(path), pointer) and "unpaired UTF-16 surrogate" in message
    message.encode("utf-8")


def test_an_escaped_surrogate_pair_is_text(tmp_path: Path) -> None:
    doc = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    doc["resources"][0]["tags"]["owner"] = "\U0001f600"
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(doc))  # ensure_ascii: written as "\ud83d\ude00"
    assert "\\ud83d\\ude00" in path.read_text()
    answer(path)


@pytest.mark.parametrize(
    "name", ["ap-southeast-1/DescribeIn" + "[" * 5000 + ".json", "../outside.json", "/etc/hosts"]
)
def test_a_manifest_naming_no_file_of_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    # Names are compared with the folder's files, never looked up: a name longer than the
    # file system allows crashed the existence check.
    (tmp_path / "cn-hangzhou").mkdir()
    keypairs = EXPORTS["aliyun-cli"] / "cn-hangzhou" / "DescribeKeyPairs.json"
    (tmp_path / "cn-hangzhou" / "DescribeKeyPairs.json").write_text(keypairs.read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({name: "aliyun ecs DescribeKeyPairs"}))
    ((file, pointer, message),) = _refused(tmp_path)
    assert file.endswith("manifest.json") and pointer.startswith("/")
    assert message.startswith("no such file in the folder: ")


def test_a_bundle_entry_of_an_api_not_read_is_listed(tmp_path: Path) -> None:
    keypairs = json.loads(
        (EXPORTS["aliyun-cli"] / "cn-hangzhou" / "DescribeKeyPairs.json").read_text()
    )
    path = tmp_path / "bundle.json"
    entries = [
        {"command": "aliyun ecs DescribeKeyPairs --RegionId cn-hangzhou", "response": keypairs},
        {"command": "aliyun ecs DescribeNothing", "response": keypairs},
    ]
    path.write_text(json.dumps(entries))
    read = importers.read(path, "auto", bundled().plan.model, importers.Options())
    assert read.converted.document["not_read"] == [
        {"file": f"{path}#/1/response", "api": "DescribeNothing"}
    ]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("0", "`0` is not an API policyengine reads"),
        (7, "expected the command line, found an integer 7"),
    ],
)
def test_a_bundle_entry_with_a_command_it_cannot_read_is_refused(
    tmp_path: Path, command: Any, message: str
) -> None:
    keypairs = json.loads(
        (EXPORTS["aliyun-cli"] / "cn-hangzhou" / "DescribeKeyPairs.json").read_text()
    )
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps([{"command": command, "response": keypairs}]))
    ((file, pointer, problem),) = _refused(path)
    assert (file, pointer) == (str(path), "/0/command") and problem.startswith(message)
