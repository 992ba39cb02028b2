"""Pictures of cross-resource findings and of a whole account: what they hold, where the
layout puts the boxes, and that no value from the data can break out of a label."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli
from syrupy.assertion import SnapshotAssertion

from policyengine.frontend.loader import bundled_policies, load
from policyengine.inputs.snapshot import parse_snapshot
from policyengine.inputs.store import Store
from policyengine.outputs import picture

EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"


@pytest.fixture(scope="module")
def findings() -> list[dict[str, Any]]:
    _, out, _ = run_cli(["evaluate", str(EXAMPLE), "--format", "json"])
    results: list[dict[str, Any]] = json.loads(out)["results"]
    return results


def _one(findings: list[dict[str, Any]], rule: str) -> dict[str, Any]:
    return next(f for f in findings if f["rule"] == rule)


def _inside(inner: picture.Box, outer: picture.Box) -> bool:
    return (
        outer.x <= inner.x
        and outer.y <= inner.y
        and inner.x + inner.w <= outer.x + outer.w
        and inner.y + inner.h <= outer.y + outer.h
    )


def test_a_cross_zone_disk_is_two_boxes_in_two_zones(findings: list[dict[str, Any]]) -> None:
    drawn = picture.from_finding(_one(findings, "ecs_locations.disk_zone"))
    assert drawn is not None
    disk, instance = drawn.nodes
    assert (disk.kind, disk.zone, instance.kind, instance.zone) == (
        "disk",
        "cn-hangzhou-j",
        "instance",
        "cn-hangzhou-h",
    )
    assert disk.marks == ("is in zone cn-hangzhou-j",)  # the deciding value, on both ends
    assert instance.marks == ("is in zone cn-hangzhou-h",)
    (link,) = drawn.links
    assert (link.source, link.target, link.label) == (disk.key, instance.key, "attach")
    assert link.path == "via disk.instance_id, disk.attachments[*].instance_id"
    assert link.caption == "cn-hangzhou-j ≠ cn-hangzhou-h"

    placed = picture.layout(drawn)
    zones = [b for level, _, b in placed.groups if level == "zone"]
    (region,) = [b for level, _, b in placed.groups if level == "region"]
    homes = [[z for z in zones if _inside(placed.nodes[n.key], z)] for n in drawn.nodes]
    assert [len(h) for h in homes] == [1, 1] and homes[0] != homes[1]
    assert all(_inside(z, region) for z in zones)
    a, b = placed.nodes[disk.key], placed.nodes[instance.key]
    assert a.x + a.w < b.x  # laid out left to right, along the relation


def test_the_picture_as_mermaid(
    findings: list[dict[str, Any]], snapshot: SnapshotAssertion
) -> None:
    drawn = picture.from_finding(_one(findings, "ecs_locations.disk_zone"))
    assert drawn is not None
    assert picture.mermaid(drawn) == snapshot


def test_the_picture_says_in_words_what_it_shows(findings: list[dict[str, Any]]) -> None:
    drawn = picture.from_finding(_one(findings, "ecs_locations.image_region"))
    assert drawn is not None
    svg = picture.svg(drawn, "x")
    assert 'role="img"' in svg and 'aria-labelledby="x-t x-d"' in svg
    desc = re.search(r'<desc id="x-d">(.*?)</desc>', svg)
    assert desc is not None
    assert desc.group(1) == (
        "instance i-uf6mr2zctgvgo4luov7b in zone cn-shanghai-e of region cn-shanghai "
        "(is in region cn-shanghai). image m-bp1xtoz53tj2blh8kooo in region cn-hangzhou "
        "(is in region cn-hangzhou). instance i-uf6mr2zctgvgo4luov7b use image "
        "m-bp1xtoz53tj2blh8kooo (via instance.image_id): cn-shanghai ≠ cn-hangzhou."
    )


def test_a_finding_about_one_resource_has_no_picture(findings: list[dict[str, Any]]) -> None:
    assert picture.from_finding(_one(findings, "org_baseline.encrypted_disks")) is None


def test_no_value_breaks_out_of_a_label() -> None:
    hostile = 'x"]\n  click n0 href "https://example.invalid" --> <script>@team'
    drawn = picture.Picture(
        "t",
        (
            picture.Node("disk a", "disk", hostile, "r", "z", (hostile,)),
            picture.Node("instance b", "instance", "b", "r", "", ()),
        ),
        (picture.Link("disk a", "instance b", "attach", "", hostile, "fail"),),
    )
    text = picture.mermaid(drawn)
    statement = re.compile(
        r'\s*(subgraph \w+\["[^"<>]*"\]|n\d+\["[^"<>]*(<br/>[^"<>]*)*"\]|end'
        r'|n\d+ (-->|-\.->)\|"[^"<>]*(<br/>[^"<>]*)*"\| n\d+)'
    )
    # Every label stays one quoted string on its own line: no new statement, no markup.
    assert all(statement.fullmatch(line) for line in text.splitlines()[1:])
    for forbidden in ("<script", "@team", "\n  click"):
        assert forbidden not in text
    svg = picture.svg(drawn)
    assert "<script" not in svg and "&lt;script&gt;" in svg


def test_the_account_picture_holds_every_resource_and_reference() -> None:
    loaded = load(bundled_policies())
    store = Store(parse_snapshot(EXAMPLE.read_text(), str(EXAMPLE)), loaded.plan.model)
    fail = next(r for r in store.resources if r.kind == "disk")
    drawn = picture.of_account(store, {fail.index: "fail"})
    assert len(drawn.nodes) == len(store.resources)
    assert len({n.key for n in drawn.nodes}) == len(drawn.nodes)
    marked = [n for n in drawn.nodes if n.status]
    assert [(n.kind, n.name) for n in marked] == [("disk", fail.key)]
    attach = [link for link in drawn.links if link.label == "attach"]
    expected = {
        (f"disk {d.key}", f"instance {d.data['instance_id']}")
        for d in store.by_kind["disk"]
        if d.data.get("instance_id")
    }
    assert expected and expected <= {(link.source, link.target) for link in attach}
    placed = picture.layout(drawn)
    assert set(placed.nodes) == {n.key for n in drawn.nodes}


def test_the_documented_commands_and_picture_hold(
    findings: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = (ROOT / "docs" / "html-report.md").read_text()
    drawn = picture.from_finding(_one(findings, "ecs_locations.disk_zone"))
    assert drawn is not None
    assert f"```mermaid\n{picture.mermaid(drawn)}\n```" in doc
    monkeypatch.chdir(ROOT)
    block = re.search(r"```sh\n(.*?)```", doc, re.S)
    assert block is not None
    for line in block.group(1).splitlines():
        args = shlex.split(line.replace("report.html", str(tmp_path / "report.html")))
        if ">" in args:
            args = args[: args.index(">")]
        code, out, _ = run_cli(args[1:])
        assert code == (0 if "graph" in args else 1)
        written = out if ">" in line else (tmp_path / "report.html").read_text()
        assert written.startswith("<!doctype html>")


def test_the_account_picture_alone_is_a_standalone_svg() -> None:
    code, out, _ = run_cli(["snapshot", "graph", str(EXAMPLE), "--format", "svg"])
    assert code == 0
    assert out.startswith("<svg ") and "<style>" in out and out.rstrip().endswith("</svg>")
