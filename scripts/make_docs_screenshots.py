"""Take the screenshots docs/html-report.md shows, of the report the current code writes:
the example account's HTML report filtered to one region with the cross-zone disk opened
(docs/images/html-report.png), and that finding's picture alone
(docs/images/picture-disk-zone.png).

Headless Chromium driven by Playwright, as the browser tests use it (`.ci/run` installs
Debian's `chromium`; Playwright comes with the test dependencies):

    python scripts/make_docs_screenshots.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
# Relative, as a user names it: the report points into the file by this name.
EXAMPLE = "examples/ecs-account/snapshot.json"
IMAGES = ROOT / "docs" / "images"
RULE = "ecs_locations.disk_zone"
REGION = "cn-hangzhou"


def main() -> int:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    report = subprocess.run(
        [sys.executable, "-m", "policyengine", "evaluate", EXAMPLE, "--format", "html"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if report.returncode != 1 or not report.stdout:
        print(report.stderr, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_file = Path(tmp, "report.html")
        page_file.write_text(report.stdout, encoding="utf-8")
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(page_file.as_uri())
        page.select_option('select[data-filter="region"]', REGION)
        page.locator("tbody tr.finding td.rule", has_text=RULE).first.click()
        figure = page.locator("tr.detail svg.picture")
        figure.wait_for()
        bottom = page.evaluate(
            "() => document.querySelector('tr.detail').getBoundingClientRect().bottom"
        )
        height = int(bottom) + 160  # the opened finding and the rows just below it
        page.screenshot(
            path=str(IMAGES / "html-report.png"),
            clip={"x": 0, "y": 0, "width": 1280, "height": height},
            full_page=True,
        )
        figure.screenshot(path=str(IMAGES / "picture-disk-zone.png"))
        browser.close()
    print(f"wrote {IMAGES / 'html-report.png'} and {IMAGES / 'picture-disk-zone.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
