"""Bad snapshots are input errors that name the file, the place (a JSON Pointer) and what
was expected; nothing is dropped quietly, and an empty export is not "0 violations".

Also: the committed JSON Schema (`schemas/snapshot.schema.json`) is the one the engine
generates, so it never goes stale.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from conftest import ROOT, run_cli
from syrupy.assertion import SnapshotAssertion

from policyengine import InputError, Store, load, parse_snapshot
from policyengine.core.errors import Problem
from policyengine.core.model import Model
from policyengine.inputs.snapshot_format import json_schema

FILE = "account.json"
DISK = {"kind": "disk", "id": "d-" + "a" * 20, "region": "cn-hangzhou", "zone": "cn-hangzhou-h"}
SCHEMA_FILE = ROOT / "schemas" / "snapshot.schema.json"


@pytest.fixture(scope="module")
def ecs(tmp_path_factory: pytest.TempPathFactory) -> Model:
    path = tmp_path_factory.mktemp("policy") / "any.policy"
    path.write_text(
        "use alicloud.ecs\n\npolicy p {\n  rule r {\n    for each disk require size > 0\n  }\n}\n"
    )
    return load([path]).plan.model


def problems_of(text: str, model: Model) -> list[Problem]:
    """Every problem the snapshot has, from the envelope check and the model check."""
    with pytest.raises(InputError) as caught:
        Store(parse_snapshot(text, FILE), model)
    assert caught.value.problems, "an InputError must carry its problems"
    assert str(caught.value) == "\n".join(p.render() for p in caught.value.problems)
    return caught.value.problems


def doc(*resources: dict[str, Any], **top: Any) -> str:
    return json.dumps({"resources": list(resources), **top})


# (input, [(pointer, words the message must hold), ...])
BAD_INPUTS: dict[str, tuple[str, list[tuple[str, tuple[str, ...]]]]] = {
    "invalid-json": ('{"resources": [', [("", ("not valid JSON", "line 1"))]),
    "trailing-comma": ('{"resources": [],}', [("", ("not valid JSON",))]),
    "top-level-array": ("[]", [("", ("expected an object", "`resources`", "found an array"))]),
    "top-level-string": ('"resources"', [("", ("expected an object", "found a string"))]),
    "resources-missing": ("{}", [("/resources", ("`resources` is required",))]),
    "resources-not-a-list": (
        '{"resources": {}}',
        [("/resources", ("expected an array", "found an object"))],
    ),
    "resources-empty": (
        '{"resources": []}',
        [("/resources", ("no resources", "cannot show that the account complies"))],
    ),
    "unknown-top-level-field": (
        doc(DISK, resource=[]),
        [("/resource", ("unknown field `resource`", "resources"))],
    ),
    "resource-without-kind": (
        doc({"id": "d-" + "a" * 20}),
        [("/resources/0/kind", ("`kind` is required",))],
    ),
    "resource-kind-not-a-string": (
        doc({"kind": 7, "id": "d-" + "a" * 20}),
        [("/resources/0/kind", ("string", "found an integer"))],
    ),
    "unknown-kind": (
        doc({**DISK, "kind": "dsk"}),
        [("/resources/0/kind", ("unknown kind `dsk`", "did you mean `disk`?"))],
    ),
    "missing-id": (
        doc({"kind": "disk", "region": "cn-hangzhou"}),
        [("/resources/0/id", ("identified by `id`", "found nothing"))],
    ),
    "empty-id": (
        doc({**DISK, "id": ""}),
        [("/resources/0/id", ("non-empty string",))],
    ),
    "missing-name": (
        doc({"kind": "key_pair", "id": "kp-1", "region": "cn-hangzhou"}),
        [("/resources/0/name", ("a key_pair is identified by `name`", "found nothing"))],
    ),
    "duplicate-id": (
        doc(DISK, {"kind": "instance", "id": "i-" + "a" * 20}, DISK),
        [("/resources/2", ("duplicate disk", DISK["id"], "/resources/0"))],
    ),
    "duplicate-name-in-region": (
        doc(
            {"kind": "key_pair", "name": "ops", "region": "cn-hangzhou"},
            {"kind": "key_pair", "name": "ops", "region": "cn-hangzhou"},
        ),
        [("/resources/1", ("duplicate key_pair `ops`", "cn-hangzhou", "/resources/0"))],
    ),
    "size-not-a-number": (
        doc({**DISK, "size": "40GiB"}),
        [("/resources/0/size", ("expected an integer", "found a string", "40GiB"))],
    ),
    "bool-not-true-or-false": (
        doc({**DISK, "encrypted": "no"}),
        [("/resources/0/encrypted", ("expected true or false", "found a string"))],
    ),
    "bad-port-range-and-cidr": (
        doc(
            {
                "kind": "security_group",
                "id": "sg-" + "a" * 20,
                "region": "cn-hangzhou",
                "rules": [
                    {"port_range": "22/22", "source_cidr_ip": "10.0.0.0/8"},
                    {"port_range": "22-22", "source_cidr_ip": "10.0.0.0/33"},
                ],
            }
        ),
        [
            ("/resources/0/rules/1/port_range", ("port range", '"22/22"', "22-22")),
            ("/resources/0/rules/1/source_cidr_ip", ("CIDR", "10.0.0.0/33")),
        ],
    ),
    "list-item-of-wrong-type": (
        doc({"kind": "instance", "id": "i-" + "a" * 20, "security_group_ids": ["sg-1", 2]}),
        [("/resources/0/security_group_ids/1", ("expected a string", "found an integer"))],
    ),
    "nan": (
        '{"resources": [{"kind": "disk", "id": "d-aaaaaaaaaaaaaaaaaaaa", "size": NaN}]}',
        [("", ("not valid JSON", "NaN"))],
    ),
    "infinity": (
        '{"resources": [{"kind": "disk", "id": "d-aaaaaaaaaaaaaaaaaaaa", "size": -Infinity}]}',
        [("", ("not valid JSON", "Infinity"))],
    ),
    "every-problem-at-once": (
        doc({**DISK, "size": "40GiB"}, {"kind": "nosuch", "id": "x"}, {"kind": "disk"}),
        [
            ("/resources/0/size", ("expected an integer",)),
            ("/resources/1/kind", ("unknown kind `nosuch`",)),
            ("/resources/2/id", ("identified by `id`",)),
        ],
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_names_file_pointer_and_expectation(case: str, ecs: Model) -> None:
    text, expected = BAD_INPUTS[case]
    got = problems_of(text, ecs)
    assert [p.pointer for p in got] == [pointer for pointer, _ in expected]
    for problem, (_, words) in zip(got, expected, strict=True):
        assert problem.file == FILE
        for word in words:
            assert word in problem.message, (word, problem.message)
        # the rendered line names the file and the place, so a person can find it
        assert problem.render().startswith(f"error: {FILE}")
        assert problem.pointer in problem.render()


@pytest.mark.parametrize(
    "case",
    [
        "invalid-json",
        "resources-missing",
        "unknown-kind",
        "duplicate-id",
        "bad-port-range-and-cidr",
        "resources-empty",
        "every-problem-at-once",
    ],
)
def test_rendered_problems(case: str, ecs: Model, text_snapshot: SnapshotAssertion) -> None:
    got = problems_of(BAD_INPUTS[case][0], ecs)
    assert "\n".join(p.render() for p in got) + "\n" == text_snapshot


def test_a_valid_snapshot_loads(ecs: Model) -> None:
    text = doc(
        DISK,
        {"kind": "key_pair", "name": "ops", "region": "cn-hangzhou"},
        locations={"cn-hangzhou": ["cn-hangzhou-h"]},
        captured_at="2024-05-01T00:00:00Z",
    )
    store = Store(parse_snapshot(text, FILE), ecs)
    assert [r.key for r in store.resources] == [DISK["id"], "ops"]


def test_same_name_in_two_regions_is_not_a_duplicate(ecs: Model) -> None:
    text = doc(
        {"kind": "key_pair", "name": "ops", "region": "cn-hangzhou"},
        {"kind": "key_pair", "name": "ops", "region": "cn-shanghai"},
    )
    assert len(Store(parse_snapshot(text, FILE), ecs).resources) == 2


# ---------------------------------------------------------------- the JSON Schema


def test_committed_schema_is_the_generated_one() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    assert json.loads(committed) == json_schema(), (
        "schemas/snapshot.schema.json is stale: regenerate it with "
        "`policyengine schema > schemas/snapshot.schema.json`"
    )
    code, out, _ = run_cli(["schema"])
    assert code == 0
    assert out == committed  # byte for byte what the command prints


def test_schema_is_a_valid_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_accepts_a_valid_snapshot() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    snapshot = {
        "version": 1,
        "account": "1234567890",
        "captured_at": "2024-05-01T00:00:00Z",
        "locations": {"cn-hangzhou": ["cn-hangzhou-h", "cn-hangzhou-i"]},
        "resources": [
            {**DISK, "size": 40, "tags": {"env": "prod"}},
            {"kind": "key_pair", "name": "ops", "region": "cn-hangzhou"},
        ],
    }
    jsonschema.validate(snapshot, schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    "bad",
    [
        {"account": "1234567890"},  # no resources
        {"resources": []},  # an empty export cannot show that the account complies
        {"resources": [{"id": "d-1"}]},  # a resource without kind
        {"resources": [DISK], "resource": []},  # an unknown top-level field
        {"resources": [{**DISK, "tags": {"env": 1}}]},  # a tag value that is not a string
    ],
)
def test_schema_rejects_a_bad_snapshot(bad: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


# ---------------------------------------------------------------- conversion on import


def _loaded_data(ecs: Model, *resources: dict[str, Any]) -> list[dict[str, Any]]:
    store = Store(parse_snapshot(doc(*resources), FILE), ecs)
    return [r.data for r in store.resources]


def _sg(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "security_group", "id": "sg-" + "a" * 20, "region": "cn-hangzhou",
            "rules": list(rules)}  # fmt: skip


def test_values_convert_to_their_declared_type(ecs: Model) -> None:
    [data] = _loaded_data(ecs, {**DISK, "size": "40", "encrypted": "false"})
    assert (data["size"], data["encrypted"]) == (40, False)
    [sg] = _loaded_data(ecs, _sg({"priority": "1", "port_range": "22/22"}))
    assert sg["rules"][0]["priority"] == 1
    assert sg["rules"][0]["port_range"] == "22/22"


@pytest.mark.parametrize(
    ("protocol", "expected"),
    [("TCP", "-1/-1"), ("UDP", "-1/-1"), ("ALL", "-1/-1"), ("ICMP", ""), ("GRE", "")],
)
def test_every_port_means_all_ports_or_none_by_protocol(
    ecs: Model, protocol: str, expected: str
) -> None:
    # "-1/-1" is every port for TCP, UDP and ALL; ICMP and GRE have no ports at all.
    [sg] = _loaded_data(ecs, _sg({"ip_protocol": protocol, "port_range": "-1/-1"}))
    assert sg["rules"][0]["port_range"] == expected


@pytest.mark.parametrize(
    ("rule", "pointer", "expected"),
    [
        ({"priority": "high"}, "/resources/0/rules/0/priority", "expected an integer"),
        ({"port_range": "22-23"}, "/resources/0/rules/0/port_range", "expected a port range"),
    ],
)
def test_a_value_that_does_not_convert_is_named_by_file_and_pointer(
    ecs: Model, rule: dict[str, Any], pointer: str, expected: str
) -> None:
    got = problems_of(doc(_sg(rule)), ecs)
    assert [(p.file, p.pointer) for p in got] == [(FILE, pointer)]
    assert expected in got[0].message


def test_a_kind_located_in_a_zone_only_when_its_guard_holds(ecs: Model) -> None:
    """`located in zone when scope == "Zone" else region`: a zone in the data is the
    resource's place only where the guard holds; elsewhere it is region-located."""
    base = {"kind": "reserved_instance", "region": "cn-hangzhou", "zone": "cn-hangzhou-h"}
    zonal = {**base, "id": "ecsri-bp1g7000000000000001", "scope": "Zone"}
    regional = {**base, "id": "ecsri-bp1g7000000000000002", "scope": "Region"}
    unknown = {**base, "id": "ecsri-bp1g7000000000000003"}
    store = Store(parse_snapshot(doc(zonal, regional, unknown), FILE), ecs)
    assert [r.zone for r in store.resources] == ["cn-hangzhou-h", None, None]


def test_a_document_too_large_for_the_memory_is_not_called_invalid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import orjson

    from policyengine.inputs import snapshot

    def out_of_memory(_: object) -> object:
        raise orjson.JSONDecodeError("Not enough memory to allocate buffer for parsing", "", 0)

    def never(*_: object, **__: object) -> object:
        raise AssertionError("the standard library needs more memory still: not tried")

    monkeypatch.setattr(snapshot.orjson, "loads", out_of_memory)
    monkeypatch.setattr(snapshot.json, "loads", never)
    with pytest.raises(InputError) as caught:
        snapshot.load_json('{"version": 1, "resources": []}', "big.json")
    (problem,) = caught.value.problems
    assert problem.file == "big.json"
    assert "too large to parse in the memory" in problem.message
    assert "not valid" not in problem.message


@pytest.mark.parametrize("large", [False, True])
def test_a_document_cut_off_inside_a_thousand_brackets_is_too_deep(large: bool) -> None:
    """Nested past what Python's own reader follows, and cut off: the depth limit is
    what it breaks, in the words any too-deep document gets, not the reader's recursion."""
    from policyengine.inputs import snapshot

    head = '{"version": 1, "resources": [{"kind": "instance", "x": "[[", "y": '
    pad = " " * snapshot.LARGE if large else ""
    text = head + pad + "[" * 990 + '"x'
    with pytest.raises(InputError) as caught:
        snapshot.load_json(text, "cut.json")
    (problem,) = caught.value.problems
    assert problem.message.startswith("nested deeper than 128 levels, the limit")
    assert snapshot._nesting(text) == 993  # the document, its resources, one, then 990
