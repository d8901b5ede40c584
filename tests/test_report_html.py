"""The HTML report as a CI user sees it, in Chromium: counts, failures first, filters, a page per
scenario and recorder with its images, overlay, DOM differences, leaks and stream, and untrusted
text shown as text."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from playwright.sync_api import Page, expect

from harness import report
from harness.masking import Leak
from harness.runner import CheckpointResult, ScenarioResult, run_scenario
from harness.scenario import load_scenario
from harness.worker import Worker
from tests.conftest import FIXTURES

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def index(worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of two real runs (plain passes with builtin, canvas fails with rrweb) and two
    made by hand: a known failure with a leak, and a failure whose texts are hostile HTML."""
    folder = tmp_path_factory.mktemp("report")
    plain = load_scenario(FIXTURES / "e2e" / "plain.yaml")
    canvas = load_scenario(FIXTURES / "e2e" / "canvas.yaml")
    passed = run_scenario(worker.browser, worker.server, plain, "builtin", folder)
    failed = run_scenario(worker.browser, worker.server, canvas, "rrweb", folder)
    assert passed.passed and not failed.passed, (passed.failures, failed.failures)
    leak = Leak("jane@acme-mail.com", "email", "event 3, data.text", "html > body > p#contact text")
    known = ScenarioResult(
        dataclasses.replace(plain, name="masked"),
        "rrweb",
        failures=["masking: email 'jane@acme-mail.com' leaked at event 3, data.text"],
        leaks=[leak],
        known_failure="rrweb masks only the text it is told of",
    )
    hostile = ScenarioResult(
        dataclasses.replace(plain, name=HOSTILE, description=HOSTILE),
        "builtin",
        failures=[f"checkpoint after: {HOSTILE}"],
        checkpoints=[
            CheckpointResult("after", 0.0, 0.5, 0.0, None, [f"html>body>p#x: text {HOSTILE}"])
        ],
        leaks=[Leak(HOSTILE, "declared", "event 1, data.text", "html>body>p#x text")],
    )
    return report.write_html([passed, known, failed, hostile], folder)


@pytest.fixture
def page(worker: Worker) -> Iterator[Page]:
    page = worker.browser.new_page()
    yield page
    page.close()


def _relative_links_only(page: Page) -> None:
    links = page.eval_on_selector_all(
        "[href], [src]", "els => els.map(e => e.getAttribute('href') ?? e.getAttribute('src'))"
    )
    assert links and all(":" not in link and not link.startswith("/") for link in links), links


def test_index_counts_orders_failures_first_and_filters(page: Page, index: Path) -> None:
    page.goto(index.as_uri())
    expect(page.locator("h1")).to_have_text("replaycheck: 2 failed, 1 known failure, 1 passed")
    rows = page.locator("tbody tr")
    expect(rows.locator("td:nth-child(1)")).to_have_text(["FAIL", "FAIL", "XFAIL", "PASS"])
    expect(rows.locator("td:nth-child(2)")).to_have_text(["canvas", HOSTILE, "masked", "plain"])
    expect(rows.first).to_contain_text("0.10597")
    expect(rows.nth(2)).to_contain_text("known: rrweb masks only the text it is told of")
    _relative_links_only(page)

    shown = page.locator("tbody tr:visible td:nth-child(2)")
    page.select_option("#status", "FAIL")
    expect(shown).to_have_text(["canvas", HOSTILE])
    page.select_option("#recorder", "rrweb")
    expect(shown).to_have_text(["canvas"])
    page.select_option("#status", "")
    expect(shown).to_have_text(["canvas", "masked"])
    page.select_option("#recorder", "")
    expect(shown).to_have_count(4)


def test_failing_row_opens_its_page_with_images_overlay_and_stream(page: Page, index: Path) -> None:
    page.goto(index.as_uri())
    page.locator("tbody tr").first.get_by_role("link").click()
    page.wait_for_url("**/canvas/rrweb/index.html")
    expect(page.locator("h1")).to_have_text("FAIL canvas [rrweb]")
    expect(page.locator(".failures li")).to_contain_text(["checkpoint chart: pixel mismatch"])
    diff = page.get_by_role("img", name="diff", exact=True)
    expect(diff).to_be_visible()
    assert diff.evaluate("img => img.complete && img.naturalWidth") == 1280
    _relative_links_only(page)

    over = page.get_by_role("img", name="replay over")
    slider = page.locator(".compare input[type=range]")
    slider.fill("0")
    expect(over).to_have_css("opacity", "0")
    slider.fill("100")
    expect(over).to_have_css("opacity", "1")
    page.get_by_role("button", name="flip").click()
    expect(over).to_have_css("opacity", "0")
    expect(slider).to_have_value("0")

    download = page.locator("a[download]")
    stream = Path(unquote(urlparse(download.evaluate("a => a.href")).path))
    assert stream == index.parent / "canvas" / "rrweb" / "stream.json"
    assert json.loads(stream.read_text())


def test_known_failure_page_lists_its_leaks(page: Page, index: Path) -> None:
    page.goto((index.parent / "masked" / "rrweb" / "index.html").as_uri())
    expect(page.locator("h1")).to_have_text("XFAIL masked [rrweb]")
    expect(page.locator(".leaks tbody tr")).to_have_text(
        ["html > body > p#contact text" + "jane@acme-mail.com" + "email" + "event 3, data.text"]
    )
    expect(page.locator("a[download]")).to_have_count(0)  # no run, so no stream.json


def test_hostile_text_is_shown_as_text(page: Page, index: Path) -> None:
    page.goto(index.as_uri())
    expect(page.locator("tbody")).to_contain_text(f"checkpoint after: {HOSTILE}")
    page.get_by_role("link", name=HOSTILE).click()
    page.wait_for_url("**/builtin/index.html")
    expect(page.locator("h1")).to_have_text(f"FAIL {HOSTILE} [builtin]")
    expect(page.locator(".failures li")).to_have_text([f"checkpoint after: {HOSTILE}"])
    expect(page.locator(".dom li")).to_have_text([f"html>body>p#x: text {HOSTILE}"])
    expect(page.locator(".leaks code").nth(1)).to_have_text(HOSTILE)
    expect(page.locator("img")).to_have_count(0)
