"""A large snapshot file decoded into the fields the rules read alone: whatever it holds
besides them, the outcomes, the input errors (each at its place, in the same words) and
the reports, lines included, are those of reading the whole file; a file the projection
does not take as it is (bad JSON, an unknown field of the snapshot, a resource with no
kind) is read the usual way, which words its problem."""

from __future__ import annotations

import copy
import json
import os
import random
import sys
from array import array
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import run_cli
from differential import outcome_key

from policyengine.core.errors import InputError
from policyengine.core.files import FileText
from policyengine.core.positions import (
    FilePositions,
    Following,
    Positions,
    ResourcePlaces,
    number_code,
    places_from,
)
from policyengine.core.source import Source
from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs import importers, projection, snapshot
from policyengine.inputs.reads import ENVELOPE, attributes_read
from policyengine.pipeline import engine
from policyengine.runtime import evaluate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402


@cache
def _policies() -> Loaded:
    return load([*bundled_policies(), ROOT / "benchmarks" / "ecs-bench.policy"])


@cache
def _documents() -> tuple[dict[str, Any], ...]:
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    broken = copy.deepcopy(example)  # wrong types where the rules read: an input error
    disks = [r for r in broken["resources"] if r["kind"] == "disk"]
    disks[0]["encrypted"] = "sometimes"
    disks[-1]["attachments"] = {"not": "a list"}
    return (example, generate.account(generate.MIN_INSTANCES), broken)


def _outcomes(path: Path, projected: bool, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The outcomes over the file, or the problems of its input error: read as `evaluate`
    reads it, with the projection (every file counts as large) or without it."""
    monkeypatch.setattr(snapshot, "LARGE", 0 if projected else 1 << 62)
    try:
        store = engine.read_snapshot(path, _policies())
    except InputError as exc:
        return [("input error", p.file, p.pointer, p.message) for p in exc.problems]
    assert isinstance(store.text, FileText) == projected
    return [outcome_key(r) for r in evaluate(_policies().plan, store)]


def _write(tmp_path: Path, doc: object, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_the_document_keeps_the_fields_read_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "LARGE", 0)
    reads = attributes_read(_policies().plan)
    path = _write(tmp_path, _documents()[1])
    found = projection.read(path, str(path), reads, _policies().plan.model)
    assert found is not None
    kept = ENVELOPE.union(*reads.values())
    resources = found.document["resources"]
    assert len(resources) == len(_documents()[1]["resources"])
    assert all(r.keys() <= kept for r in resources)
    whole = _documents()[1]["resources"]
    assert all(
        r == {k: v for k, v in w.items() if k in kept}
        for r, w in zip(resources, whole, strict=True)
    )
    assert any(w.keys() - kept for w in whole), "the account has fields no rule reads"
    assert found.text == FileText.of(path) and not found.unknowns
    assert found.text.places is not None
    # Ids checked by the decoder; records (`rules`: port ranges to convert) by the store.
    assert {"image_id", "security_group_ids"} <= found.typed and "rules" not in found.typed


def test_a_small_file_is_read_whole(tmp_path: Path) -> None:
    path = _write(tmp_path, _documents()[0])
    assert path.stat().st_size < snapshot.LARGE
    plan = _policies().plan
    assert projection.read(path, str(path), attributes_read(plan), plan.model) is None


@pytest.mark.parametrize("which", [0, 1, 2])
def test_projected_reading_gives_the_outcomes_and_errors_of_the_whole(
    which: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, _documents()[which])
    whole = _outcomes(path, False, monkeypatch)
    assert whole and _outcomes(path, True, monkeypatch) == whole


def _value(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of some shape: scalars, lists and objects, nested a few levels."""
    pick = rng.randrange(8 if depth < 3 else 5)
    scalars = [None, rng.random() < 0.5, rng.randint(-(2**70), 2**70), rng.random() * 1e6]
    if pick < 4:
        return scalars[pick]
    if pick == 4:
        return "".join(rng.choice('ab"\\/\u00e9\U0001f600{}[]') for _ in range(rng.randrange(6)))
    if pick < 6:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{i}": _value(rng, depth + 1) for i in range(rng.randrange(4))}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("which", [0, 2])
def test_unread_fields_of_any_shape_change_nothing_projected(
    which: int, seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fields of any name and shape (a declared attribute no rule reads with a wrong
    type included) decoded or skipped: the outcomes and errors of the whole document.
    Shapes drawn from a seeded generator: decoding under the recursion limit is kept out
    of property-test runners, which move that limit."""
    rng = random.Random(seed)
    doc = copy.deepcopy(_documents()[which])
    resources = doc["resources"]
    model = _policies().plan.model
    reads = attributes_read(_policies().plan)
    for _ in range(8):
        resource = rng.choice(resources)
        unread = sorted(model.kinds[resource["kind"]].declared - reads[resource["kind"]])
        name = rng.choice([*unread, "note", "Extra_Field", "~/weird key"])
        if name in model.kinds[resource["kind"]].declared and which == 2:
            continue  # the broken example's problems are of attributes read
        resource[name] = _value(rng)
    path = _write(tmp_path, doc)
    assert _outcomes(path, True, monkeypatch) == _outcomes(path, False, monkeypatch)


def _deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


def _bad_documents() -> list[tuple[str, str]]:
    example = _documents()[0]
    resources = example["resources"]

    def with_resource(extra: dict[str, Any]) -> str:
        return json.dumps({**example, "resources": [{**resources[0], **extra}, *resources[1:]]})

    text = json.dumps(example)
    return [
        ("unknown top-level field", json.dumps({**example, "owner": "x"})),
        ("no resources", json.dumps({**example, "resources": []})),
        ("resource without kind", json.dumps({**example, "resources": [{"id": "i-1"}]})),
        ("kind not a string", with_resource({"kind": 5})),
        ("resource not an object", json.dumps({**example, "resources": [5, *resources]})),
        ("bad JSON in an unread field", text.replace('"kind"', '"note": [1,,2], "kind"', 1)),
        ("lone surrogate, unread", text.replace('"kind"', '"note": "\\ud800", "kind"', 1)),
        ("deeper than the limit, unread", with_resource({"note": _deep(140)})),
        ("deeper than the limit, read", with_resource({"tags": {"a": _deep(140)}})),
        ("at the limit, read", with_resource({"security_group_ids": _deep(124)})),
        ("unknown kind", with_resource({"kind": "instanse"})),
        ("envelope problem", with_resource({"region": 5, "note": "x"})),
        ("empty kind", with_resource({"kind": ""})),
        ("tags not strings", with_resource({"tags": {"a": 1, "b": True}})),
        ("tags not an object", with_resource({"tags": ["a"]})),
        ("unknown id", with_resource({"id": {"$unknown": "module.x.id"}})),
        ("unknown zone", with_resource({"zone": {"$unknown": "module.x.zone"}})),
        ("null identity", with_resource({"id": None, "region": None, "tags": None})),
        ("a source", with_resource({"source": {"format": "aliyun", "pointer": "/x"}})),
        ("a bad source", with_resource({"source": {"format": 5}})),
        ("a number for a string read", with_resource({"instance_type": 5})),
        ("a number among ids read", with_resource({"security_group_ids": ["sg-1", 7]})),
        ("null among ids read", with_resource({"security_group_ids": [None, "sg-1"]})),
        ("a string for a boolean read", with_resource({"deletion_protection": "true"})),
        ("an integer beyond 64 bits", with_resource({"status": 2**70})),
        ("a repeated key", text.replace('"kind"', '"region": 1, "kind"', 1)),
        ("trailing text", text + " x"),
        ("not UTF-8", text.replace('"kind"', '"note": "\udcff", "kind"', 1)),
    ]


@pytest.mark.parametrize(
    "text", [t for _, t in _bad_documents()], ids=[n for n, _ in _bad_documents()]
)
def test_what_the_projection_does_not_take_is_read_and_worded_as_ever(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    runs = []
    for large in (0, 1 << 62):
        monkeypatch.setattr(snapshot, "LARGE", large)
        runs.append(run_cli(["evaluate", "--format", "json", str(path)]))
    assert runs[0] == runs[1]


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "--format", "sarif"],
        ["evaluate", "--format", "json"],
        ["evaluate"],
        ["explain"],
    ],
)
@pytest.mark.parametrize("layout", ["as given", "one line", "one line, not ASCII", "indented"])
def test_reports_point_at_the_same_lines_projected_or_not(
    args: list[str], layout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where each resource starts is found while the file is decoded, and a resource a
    finding points into is read again: the same report, byte for byte, as from the whole
    text (the example as given: findings on many lines; on one line, where columns count
    characters, not bytes, before and inside each resource)."""
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for i, resource in enumerate(doc["resources"]):
        if layout.endswith("not ASCII"):
            resource["note"] = "é" * (i % 3) + "😀"
            resource.setdefault("tags", {})["café"] = "ünïcode"
    texts = {
        "as given": EXAMPLE.read_text(encoding="utf-8"),
        "one line": json.dumps(doc, separators=(",", ":")),
        "one line, not ASCII": json.dumps(doc, ensure_ascii=False),
        "indented": json.dumps(doc, indent="\t", ensure_ascii=False),
    }
    path = tmp_path / "account.json"
    path.write_text(texts[layout], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runs = []
    for large in (0, 1 << 62):
        monkeypatch.setattr(snapshot, "LARGE", large)
        runs.append(run_cli([*args, "account.json"]))
    assert runs[0][0] in (0, 1) and ":" in runs[0][1]
    assert runs[0] == runs[1]


def test_a_file_changed_since_it_was_read_gives_no_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, {"resources": []})
    later = FileText.of(path)
    assert later.text() == path.read_text(encoding="utf-8")
    path.write_text("[" * 40, encoding="utf-8")
    os.utime(path, ns=(later.mtime_ns + 10**9, later.mtime_ns + 10**9))
    assert later.text() is None
    assert later.parts([(0, 1), (1, 1)]) == [None, None]


def test_the_parts_of_a_file_are_its_bytes_at_each_span(tmp_path: Path) -> None:
    """Several resources' texts through one opening: each span's bytes, decoded; a span
    past the end or cutting a character in two has none."""
    path = tmp_path / "s.json"
    path.write_bytes("ab\u00e9cd".encode())
    found = FileText.of(path).parts([(0, 2), (2, 2), (4, 2), (5, 9), (3, 1)])
    assert found == ["ab", "\u00e9", "cd", None, None]


def test_other_formats_and_the_whole_document_are_not_projected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commands that need the whole document (`snapshot`, `--diff`) read without `reads`;
    a format named is read by its importer."""
    monkeypatch.setattr(snapshot, "LARGE", 0)
    path = _write(tmp_path, _documents()[1])
    model = _policies().plan.model
    whole = importers.read(path, "auto", model, importers.Options())
    assert whole.converted.document == _documents()[1]
    reads = attributes_read(_policies().plan)
    kept = importers.read(path, "snapshot", model, importers.Options(), reads=reads)
    assert kept.converted.document != _documents()[1]
    assert isinstance(kept.snapshot.text, FileText)


class _Resources(msgspec.Struct):
    resources: list[msgspec.Raw] = []


def places_of(buffer: bytes) -> ResourcePlaces | None:
    """The places of a document's resources, from what a decoding finds of them (the
    first resource's text and each one's length), as the projected reading hands them."""
    raws = msgspec.json.decode(buffer, type=_Resources).resources
    return places_from(buffer, bytes(raws[0]), array("q", map(len, raws)))


@pytest.mark.parametrize(
    "text",
    [
        '{"resources":[{"kind":"a"},{"kind":"b"}]}',
        '{ "version": 1, "resources" : [ {"kind": "a"} ,\n\t{"kind": "b"}\r\n,{"kind":"c"} ] }',
        '{"resources": [{"kind": "é😀"}, {"kind": "b", "x": "\\\\"}, {"kind": "ü"}]}',
        '{"account": "]", "resources": [\n  {\n    "kind": "a,b"\n  },\n  {"kind": "[{"}\n]}',
        '{"resources":[{"kind":"é"},{"kind":"😀","x":"é"},{"kind":"ü"}],"account":"é"}',
        '{"resources":[{"kind":"a"}]}',
    ],
    ids=["compact", "spaces", "not ASCII", "indented", "compact, not ASCII", "one"],
)
def test_places_are_where_the_text_puts_each_resource(text: str, tmp_path: Path) -> None:
    places = places_of(text.encode("utf-8"))
    assert places is not None
    # Told whether the bytes are ASCII, and given lengths of the type of its offsets, as
    # the projected reading gives them: the same places.
    buffer = text.encode("utf-8")
    raws = msgspec.json.decode(buffer, type=_Resources).resources
    lengths = array(number_code(buffer), map(len, raws))
    told = places_from(buffer, bytes(raws[0]), lengths, buffer.isascii())
    assert told is not None
    fields = ("offsets", "lengths", "lines", "columns")
    assert [getattr(told, f) for f in fields] == [getattr(places, f) for f in fields]
    whole = Positions(Source("s.json", text))
    count = len(json.loads(text)["resources"])
    assert len(places.offsets) == count
    for i in range(count):
        assert (places.lines[i], places.columns[i]) == whole.find(f"/resources/{i}")
    path = tmp_path / "s.json"
    path.write_bytes(text.encode("utf-8"))
    # Read one by one as asked, or the resources findings point into read together.
    for wanted in ((), range(count), [count - 1, 0, count + 5]):
        again = FilePositions(FileText.of(path), places, wanted)
        for i in reversed(range(count)):
            assert again.resource(i) == whole.resource(i)
            assert again.find(f"/resources/{i}/kind") == whole.find(f"/resources/{i}/kind")
        assert again.resource(count) is None


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "indented"])
@pytest.mark.parametrize("part", [1, 7, 512])
def test_resources_read_again_a_part_at_a_time_are_each_its_own_bytes(
    indent: int | None, part: int, tmp_path: Path
) -> None:
    """The file's bytes are let go once the resources are found; each part is read
    again from the file and decoded from its own bytes, in order, whatever the parts."""
    rng = random.Random(7)
    resources = [
        {"kind": "disk", "id": f"d-{i}", "pad": "x" * rng.randrange(0, 300)} for i in range(400)
    ]
    text = json.dumps({"version": 1, "resources": resources}, indent=indent).encode()
    path = tmp_path / "s.json"
    path.write_bytes(text)
    decoded: list[int] = []

    def decode_one(raw: Any) -> Any:
        decoded.append(1)
        return json.loads(bytes(raw))

    def decode_many(raw: Any) -> Any:
        decoded.append(len(json.loads(bytes(raw))))
        return json.loads(bytes(raw))

    for many in (None, decode_many):
        decoded.clear()
        decoders = projection._Decoders(
            msgspec.json.Decoder(_Resources).decode, decode_one, str, None, many
        )
        read_each = projection._Reader(decoders, {"disk": ((), ())}, None, FileText.of(path), part)
        held = [text]
        found = read_each(held)
        assert read_each.places is not None and not held
        assert found.resources == resources
        sizes = [part] * (400 // part) + ([400 % part] if 400 % part else [])
        assert decoded == ([1] * 400 if many is None else sizes)


def test_columns_of_resources_on_one_line_are_one_past_their_offsets() -> None:
    """On one line of ASCII text, the columns are told from the offsets when asked for:
    each as an array of them would hold it, by index, from the end, by slice, in turn."""
    text = b'{"resources":[{"kind":"a"},{"kind":"b"},{"kind":"c"}]}'
    places = places_of(text)
    assert places is not None and isinstance(places.columns, Following)
    expected = [offset + 1 for offset in places.offsets]
    assert (
        list(places.columns) == expected == [text.index(b'{"kind"', at) + 1 for at in (0, 27, 40)]
    )
    assert len(places.columns) == 3 and places.columns[-1] == expected[-1]
    assert places.columns[1:] == expected[1:]
