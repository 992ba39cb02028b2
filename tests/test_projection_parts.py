"""A large snapshot's resources decoded a part at a time, each part by one call as a JSON
array of the file's own bytes, read again from the file: the same document as decoding
them one by one and as reading the whole file, whatever the part's size, the layout, the
characters and escapes of the text, a resource the decoder of the `locations` refuses in
the middle of a part, or a resource nested as deep as the limit allows; a file that
changes before its parts are read again is read the usual way."""

from __future__ import annotations

import copy
import json
import os
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest

from policyengine.core import limits
from policyengine.core.errors import InputError
from policyengine.frontend.loader import Loaded, bundled_policies, load
from policyengine.inputs import projection, snapshot
from policyengine.inputs.reads import ENVELOPE, attributes_read

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402


@cache
def _policies() -> Loaded:
    return load([*bundled_policies(), ROOT / "benchmarks" / "ecs-bench.policy"])


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


@cache
def _odd_account() -> dict[str, Any]:
    """The generated account with what a part must decode as its resources alone do:
    characters beyond ASCII and escapes, tags spelt as null or empty, a `source`, records
    of other shapes, ids with a null, and a resource in a region its `locations` does
    not name, in the middle of the list (so in the middle of a part)."""
    doc = copy.deepcopy(generate.account(generate.MIN_INSTANCES))
    resources = doc["resources"]
    disks = [r for r in resources if r["kind"] == "disk"]
    instances = [r for r in resources if r["kind"] == "instance"]
    resources[len(resources) // 2]["region"] = "cn-elsewhere"
    resources[3]["tags"] = {"owner": 'caf\u00e9 "quoted" \\ \u2603', "cost-center": "\U0001f600"}
    resources[4]["id"] = "d-\u00e9\n\t/"
    resources[5]["tags"] = None
    resources[6]["tags"] = {}
    resources[7]["source"] = {"format": "aliyun", "pointer": "/x"}
    disks[1]["attachments"] = [None, 7, {"instance_id": "i-\u00e9", "device": ["/dev/xvda"]}]
    disks[2]["attachments"] = {"vpc_id": 5}
    instances[1]["vpc_attributes"] = ["odd"]
    instances[2]["security_group_ids"] = [None, "sg-missing", "sg-missing"]
    return doc


def _layouts() -> dict[str, bytes]:
    doc = _odd_account()
    return {
        "compact": json.dumps(doc, separators=(",", ":")).encode(),
        "escaped": json.dumps(doc).encode(),  # \u escapes for every character beyond ASCII
        "indented, not ASCII": json.dumps(doc, indent=2, ensure_ascii=False).encode(),
        "tabs and CRLF": json.dumps(doc, indent="\t").replace("\n", "\r\n").encode(),
    }


def _read(path: Path) -> projection.Projected | None:
    plan = _policies().plan
    return projection.read(path, str(path), attributes_read(plan), plan.model)


def _kept(text: bytes) -> list[dict[str, Any]]:
    """The resources with the fields the rules read, as orjson reads them."""
    kept = ENVELOPE.union(*attributes_read(_policies().plan).values())
    return [{k: v for k, v in r.items() if k in kept} for r in orjson.loads(text)["resources"]]


def _one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resources decoded one call each, as before parts were decoded together."""
    decoders = projection._decoders
    monkeypatch.setattr(
        projection,
        "_decoders",
        lambda *a: replace(decoders(*a), resources=None, located_resources=None),
    )


@pytest.mark.parametrize("layout", list(_layouts()))
def test_parts_decode_as_their_resources_one_by_one(
    layout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "LARGE", 0)
    text = _layouts()[layout]
    path = tmp_path / "s.json"
    path.write_bytes(text)
    found: dict[str, Any] = {}
    for part in (1, 2, 7, 64, 512, 1 << 20):
        monkeypatch.setattr(projection, "_PART", part)
        found[f"{part} a call"] = _read(path)
    _one_by_one(monkeypatch)
    found["one by one"] = _read(path)
    expected = _kept(text)
    first = found["one by one"]
    assert first is not None and not first.checked  # the resource with a `source`
    for name, projected in found.items():
        assert projected is not None, name
        assert projected.document["resources"] == expected, name
        assert projected.document.keys() == first.document.keys()
        assert (projected.checked, projected.unknowns) == (first.checked, first.unknowns)
        places, places_first = projected.text.places, first.text.places
        assert places is not None and places_first is not None
        assert places.offsets == places_first.offsets and places.lines == places_first.lines


def test_equal_values_of_parts_are_one_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Across parts and within one, before the part the decoder of the `locations`
    refused and from it on: regions, tag sets and lists of ids are each one object."""
    monkeypatch.setattr(snapshot, "LARGE", 0)
    monkeypatch.setattr(projection, "_PART", 5)
    path = tmp_path / "s.json"
    path.write_bytes(_layouts()["compact"])
    projected = _read(path)
    assert projected is not None
    resources = projected.document["resources"]
    refused = len(resources) // 2 // 5 * 5  # the part from which the general decoder decodes
    for half in (resources[:refused], resources[refused:]):
        regions = [r["region"] for r in half if r.get("region") is not None]
        tags = [json.dumps(r["tags"]) for r in half if r.get("tags")]
        objects = [id(r["tags"]) for r in half if r.get("tags")]
        lists = [r["security_group_ids"] for r in half if r.get("security_group_ids")]
        assert len(regions) > 8 and len(set(map(id, regions))) == len(set(regions))
        assert len(set(objects)) == len(set(tags)) < len(tags)
        assert len(set(map(id, lists))) == len({json.dumps(v) for v in lists}) < len(lists)


@pytest.mark.parametrize("part", [1, 3, 512])
def test_a_resource_as_deep_as_the_limit_is_decoded_in_its_part(
    part: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part is one level deeper than its resources alone: a resource nested as deep as
    the limit allows in a value read is decoded by itself, and the document is taken
    exactly where decoding its resources one by one takes it (never where the usual
    reading refuses it), as they are."""
    monkeypatch.setattr(snapshot, "LARGE", 0)
    monkeypatch.setattr(projection, "_PART", part)
    limit = limits.current().json_depth
    doc = copy.deepcopy(generate.account(generate.MIN_INSTANCES))
    disk = next(r for r in doc["resources"][5:] if r["kind"] == "disk")
    path = tmp_path / "s.json"
    taken: dict[str, list[bool]] = {"parts": [], "one by one": []}
    for levels in range(limit - 8, limit):
        disk["attachments"] = _deep(levels)  # a record: read as any value
        text = json.dumps(doc).encode()
        path.write_bytes(text)
        try:
            snapshot.load_json(text, "s.json")
        except InputError:
            usual = False
        else:
            usual = True
        for way in taken:
            with monkeypatch.context() as patched:
                if way == "one by one":
                    _one_by_one(patched)
                projected = _read(path)
            taken[way].append(projected is not None)
            assert projected is None or (usual and projected.document["resources"] == _kept(text))
    assert taken["parts"] == taken["one by one"]
    assert True in taken["parts"] and False in taken["parts"]


def test_a_document_whose_places_are_not_found_is_decoded_from_its_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`resources` spelt with an escape: where each resource starts is not found from the
    bytes, and the resources are decoded from their own texts, a part at a time."""
    monkeypatch.setattr(snapshot, "LARGE", 0)
    text = _layouts()["compact"].replace(b'"resources":', b'"resourc\\u0065s":', 1)
    path = tmp_path / "s.json"
    path.write_bytes(text)
    for part in (1, 7, 512):
        monkeypatch.setattr(projection, "_PART", part)
        projected = _read(path)
        assert projected is not None and projected.text.places is None
        assert projected.document["resources"] == _kept(text)


@pytest.mark.parametrize("change", ["same size", "shorter", "longer"])
def test_a_file_changed_before_its_parts_are_read_is_read_the_usual_way(
    change: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "LARGE", 0)
    text = _layouts()["compact"]
    path = tmp_path / "s.json"
    path.write_bytes(text)
    assert _read(path) is not None
    may_spell = projection._may_spell

    def rewrite(buffer: bytes) -> bool:
        """Runs between the file's reading and the reading again of its parts."""
        before = path.stat().st_mtime_ns
        changed = {
            "same size": text.replace(b'"disk"', b'"eni" ', 1),
            "shorter": text[: len(text) // 2],
            "longer": text + b" ",
        }[change]
        path.write_bytes(changed)
        os.utime(path, ns=(before + 10**9, before + 10**9))
        return may_spell(buffer)

    monkeypatch.setattr(projection, "_may_spell", rewrite)
    assert _read(path) is None


def test_parts_are_read_again_where_the_system_reads_only_into_new_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot, "LARGE", 0)
    monkeypatch.setattr(projection, "_PART", 7)
    monkeypatch.delattr(os, "preadv", raising=False)
    text = _layouts()["indented, not ASCII"]
    path = tmp_path / "s.json"
    path.write_bytes(text)
    projected = _read(path)
    assert projected is not None and projected.document["resources"] == _kept(text)
