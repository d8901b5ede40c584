"""The README's screenshots of the HTML report, from a real run.

Run by hand: .venv/bin/python docs/screenshots.py

It runs `replaycheck run tests/fixtures/e2e/canvas.yaml tests/fixtures/e2e/plain.yaml
--recorder builtin --recorder rrweb --report <a temporary folder>` (rrweb's canvas replay fails
on purpose) and saves two screenshots taken in Chromium at 1280x800: docs/report.png, the index
with that failure on top (cut below the table), and docs/report-scenario.png, the failure's page.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from harness.browser import launch

DOCS = Path(__file__).resolve().parent
E2E = DOCS.parent / "tests" / "fixtures" / "e2e"
REPLAYCHECK = Path(sys.executable).with_name("replaycheck")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        report = Path(tmp)
        recorders = ["--recorder", "builtin", "--recorder", "rrweb"]
        scenarios = [str(E2E / "canvas.yaml"), str(E2E / "plain.yaml")]
        run = subprocess.run([REPLAYCHECK, "run", *scenarios, *recorders, "--report", tmp])
        if run.returncode != 1:
            sys.exit(f"expected exit 1 (rrweb fails the canvas), got {run.returncode}")
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto((report / "index.html").as_uri())
        table = page.locator("table").bounding_box()
        assert table is not None
        bottom = table["y"] + table["height"] + 24
        page.screenshot(
            path=DOCS / "report.png", clip={"x": 0, "y": 0, "width": 1280, "height": bottom}
        )
        page.goto(page.locator("tbody tr a").first.evaluate("a => a.href"))
        page.screenshot(path=DOCS / "report-scenario.png")
        browser.close()


if __name__ == "__main__":
    main()
