"""The HTML report and the pictures, opened in a real browser: headless Chromium driven by
Playwright. The page must load with no console error and no network request, list what
the JSON report lists, filter, and draw a cross-zone disk as two boxes in two zones
joined by an `attach` edge. The Markdown report's Mermaid blocks are rendered by
Mermaid's own build in a local page.

Where Chromium is not installed the tests are skipped, except in CI (`CI` set), where
`.ci/run` installs it and a missing browser fails the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli

EXAMPLE = ROOT / "examples" / "ecs-account" / "snapshot.json"
MERMAID = ROOT / "tests" / "browser" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _need(path: str | Path, what: str) -> None:
    if Path(path).exists():
        return
    message = f"{what} is not installed ({path}); .ci/run installs it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need(CHROMIUM, "Chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watched:
    """A page with every console error, page error and request it made recorded."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1300, "height": 1000})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: r.url != url and self.requests.append(r.url))
        self.page.goto(url)

    def clean(self) -> None:
        assert self.errors == []
        assert self.requests == []


def _report(tmp_path: Path, snapshot: Path, fmt: str) -> str:
    code, out, err = run_cli(["evaluate", str(snapshot), "--format", fmt])
    assert code == 1, err
    return out


def test_the_report_lists_filters_and_draws_the_example(browser: Any, tmp_path: Path) -> None:
    page_file = tmp_path / "report.html"
    page_file.write_text(_report(tmp_path, EXAMPLE, "html"))
    findings = json.loads(_report(tmp_path, EXAMPLE, "json"))["results"]
    watched = Watched(browser, page_file.as_uri())
    page = watched.page
    rows = page.locator("tbody tr.finding")
    assert rows.count() == len(findings) > 0  # fewer than a page: all listed
    assert page.get_attribute("body", "data-shown") == str(len(findings))
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

    rule = "ecs_locations.disk_zone"
    page.select_option('select[data-filter="rule"]', rule)
    visible = page.locator("tbody tr.finding td.rule")
    assert visible.all_inner_texts() == [f["rule"] for f in findings if f["rule"] == rule]

    visible.first.click()
    figure = page.locator("tr.detail svg.picture")
    figure.wait_for()
    nodes = figure.locator("g.node")
    assert nodes.count() == 2
    zones = figure.locator("g.group.zone")
    inside = []
    for i in range(nodes.count()):
        box = nodes.nth(i).locator("rect.frame").bounding_box()
        inside.append(
            [
                j
                for j in range(zones.count())
                if _contains(zones.nth(j).locator("rect").bounding_box(), box)
            ]
        )
    assert [len(z) for z in inside] == [1, 1] and inside[0] != inside[1]
    kinds = sorted(nodes.nth(i).get_attribute("data-kind") for i in range(2))
    assert kinds == ["disk", "instance"]
    link = figure.locator('g.link[data-relation="attach"]')
    assert link.count() == 1
    assert "≠" in (figure.text_content() or "")
    assert figure.get_attribute("role") == "img" and figure.locator("desc").count() == 1
    figure.screenshot(path=str(tmp_path / "picture.png"))

    page.keyboard.press("Tab")  # the table is reachable and opens from the keyboard
    page.locator("tbody tr.finding").first.focus()
    page.keyboard.press("Enter")
    page.locator("tr.finding[aria-expanded=true]").wait_for(state="detached")  # Enter closed it
    watched.clean()


def _contains(outer: dict[str, float] | None, inner: dict[str, float] | None) -> bool:
    assert outer is not None and inner is not None
    return (
        outer["x"] <= inner["x"]
        and outer["y"] <= inner["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


def _big_account(path: Path, copies: int) -> None:
    """The example's resources copied with every id and name renamed per copy."""
    doc = json.loads(EXAMPLE.read_text())
    ids = {str(r[k]) for r in doc["resources"] for k in ("id", "name") if r.get(k)}
    text = json.dumps(doc["resources"])
    alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    # Split once, the ids at the odd places, then renamed per copy: scanning the text for
    # hundreds of ids once per copy was most of this function's time.
    parts = re.split(f"({alternatives})", text)
    resources: list[Any] = []
    for k in range(copies):
        renamed = [p if i % 2 == 0 else f"{p}-{k}" for i, p in enumerate(parts)]
        resources.extend(json.loads("".join(renamed)))
    doc["resources"] = resources
    path.write_text(json.dumps(doc))


def test_ten_thousand_findings_open_and_filter(browser: Any, tmp_path: Path) -> None:
    snapshot = tmp_path / "big.json"
    _big_account(snapshot, 140)
    page_file = tmp_path / "big.html"
    page_file.write_text(_report(tmp_path, snapshot, "html"))
    started = time.perf_counter()
    watched = Watched(browser, page_file.as_uri())
    opened = time.perf_counter() - started
    page = watched.page
    total = int(page.get_attribute("body", "data-shown") or 0)
    assert total >= 10_000
    took = page.evaluate(
        """() => {
        const sel = document.querySelector('select[data-filter="rule"]');
        sel.value = 'ecs_locations.disk_zone';
        const t0 = performance.now();
        sel.dispatchEvent(new Event('change'));
        document.body.getBoundingClientRect();
        return performance.now() - t0;
        }"""
    )
    shown = int(page.get_attribute("body", "data-shown") or 0)
    assert 0 < shown < total
    listed = page.locator("tbody tr.finding td.rule").all_inner_texts()
    assert set(listed) == {"ecs_locations.disk_zone"} and len(listed) == min(shown, 500)
    print(f"\n{total} findings: page opened in {opened:.2f} s, filtered in {took:.0f} ms")
    watched.clean()


def test_the_markdown_pictures_render_in_mermaid(browser: Any, tmp_path: Path) -> None:
    _need(MERMAID, "Mermaid (npm ci in tests/browser)")
    markdown = _report(tmp_path, EXAMPLE, "markdown")
    blocks = [
        "\n".join(line[2:] for line in block.splitlines())
        for block in re.findall(r"  ```mermaid\n(.*?)\n  ```", markdown, re.S)
    ]
    assert blocks, "a cross-resource finding is drawn"
    disk = [b for b in blocks if "attach" in b and "cn-hangzhou-j" in b]
    assert disk
    page_file = tmp_path / "mermaid.html"
    page_file.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<script>{MERMAID.read_text()}</script></head><body></body></html>"
    )
    watched = Watched(browser, page_file.as_uri())
    svgs = watched.page.evaluate(
        """async (blocks) => {
        mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
        const out = [];
        for (let i = 0; i < blocks.length; i++) {
            const {svg} = await mermaid.render('m' + i, blocks[i]);
            out.push(svg);
        }
        document.body.innerHTML = out.join('');
        return out;
        }""",
        blocks,
    )
    assert len(svgs) == len(blocks)
    assert all("Syntax error" not in s for s in svgs)
    watched.page.screenshot(path=str(tmp_path / "mermaid.png"), full_page=True)
    watched.clean()


def test_explain_draws_passes_too(browser: Any, tmp_path: Path) -> None:
    args = ["explain", str(EXAMPLE), "--resource", "d-bp16n7nazpipgv3zqhn8", "--format", "html"]
    code, out, err = run_cli(args)
    assert code == 1, err
    page_file = tmp_path / "explain.html"
    page_file.write_text(out)
    code, out, _ = run_cli([*args[:-1], "json"])
    explained = json.loads(out)["explanations"]
    watched = Watched(browser, page_file.as_uri())
    page = watched.page
    assert page.locator("tbody tr.finding").count() == len(explained)
    outcomes = page.locator("tbody tr.finding td.outcome").all_inner_texts()
    assert any("pass" in o for o in outcomes) and any("fail" in o for o in outcomes)
    page.locator("tbody tr.finding td.rule", has_text="ecs_locations.disk_zone").first.click()
    figure = page.locator("tr.detail svg.picture")
    figure.wait_for()  # explanations are unpacked asynchronously when a row opens
    assert figure.locator("g.link").count() == 1
    watched.clean()


def test_the_account_picture_filters_by_kind(browser: Any, tmp_path: Path) -> None:
    code, out, err = run_cli(["snapshot", "graph", str(EXAMPLE)])
    assert code == 0, err
    page_file = tmp_path / "graph.html"
    page_file.write_text(out)
    resources = json.loads(EXAMPLE.read_text())["resources"]
    watched = Watched(browser, page_file.as_uri())
    page = watched.page
    assert page.locator("svg g.node").count() == len(resources)
    assert page.locator("svg g.node.status-fail").count() > 0
    disks = page.locator('svg g.node[data-kind="disk"]')
    assert disks.count() == sum(1 for r in resources if r["kind"] == "disk")
    page.uncheck('input[data-kind="disk"]')
    assert page.locator('svg g.node.hidden[data-kind="disk"]').count() == disks.count()
    assert page.locator('svg g.link.hidden[data-relation="attach"]').count() > 0
    page.screenshot(path=str(tmp_path / "graph.png"), full_page=True)
    watched.clean()
