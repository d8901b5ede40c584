"""Issue 13's viewer pages in real Chromium, on sessions recorded through a running server's
ingest: the Errors page and an issue's sessions opening the player near the error with its
stack, the Frustration page ranking a rage click and a dead click, a funnel over three pages
with its drop-off, a segment built in the UI (URL, reload, saved by name) and the player's clip
export, all driven through the UI and asserted on what the pages show."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Response

from harness.worker import Worker
from tests.serve_helpers import Running, record_scenario, running_server

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
# The README's screenshots, written only when asked for:
# REPLAYCHECK_SCREENSHOTS=1 pytest tests/test_viewer_insights.py
SCREENSHOTS = os.environ.get("REPLAYCHECK_SCREENSHOTS") == "1"
DEAD_WAIT_MS = 7600  # past the 7 s after which a click with no reaction counts as dead

STYLE = """<style>
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; background: #f4f7fb; color: #1d2b3a; }
header { background: #24476b; color: #fff; padding: 16px 28px; font-size: 20px; }
main { padding: 24px 28px; display: flex; gap: 16px; }
section { background: #fff; border-radius: 10px; padding: 18px; flex: 1; }
a.next, button { display: inline-block; background: #2f7de1; color: #fff; border: 0;
  border-radius: 6px; padding: 10px 16px; font-size: 15px; text-decoration: none; }
#help { background: #9aa5b1; }
</style>"""


def flow_page(title: str, marker: str, body: str) -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
{STYLE}</head><body><header>Signup · {title}</header>
<main id="{marker}">{body}</main></body></html>
"""


PAGES = {
    "a.html": flow_page(
        "Plans",
        "page-a",
        '<section><h2>Pick a plan</h2><p>Pro, monthly.</p><a class="next" id="next" '
        'href="b.html">Continue</a></section>',
    ),
    "b.html": flow_page(
        "Details",
        "page-b",
        '<section><h2>Your details</h2><p>Name and e-mail.</p><a class="next" id="next" '
        'href="c.html">Continue</a></section><section id="questions"><h2>Questions?</h2></section>'
        # Looks like a button, does nothing: the dead click. Added by the page's script, so the
        # recorder sends the button's addition in the batch of the click on it.
        "<script>setTimeout(() => { const b = document.createElement('button'); b.id = 'help';"
        " b.textContent = 'Chat with us'; questions.append(b); }, 50);</script>",
    ),
    # A console error and a failed request on the last page: the Errors page's other kinds.
    "c.html": flow_page(
        "Done",
        "page-c",
        "<section><h2>Welcome aboard</h2></section><script>"
        "console.error('welcome banner failed for order 1815');"
        "fetch('http://127.0.0.1:1/banner').catch(() => undefined);</script>",
    ),
}

# Through the three pages (page steps: a page view is known whatever the batch).
FULL = """name: flow-full
page: a.html
steps:
  - click: "#next"
  - wait_for: "#page-b"
  - click: "#next"
  - wait_for: "#page-c"
  - wait: 300
  - checkpoint: done
"""

# Stops at b after a click that does nothing. The server knows what a click was on when its
# batch holds the node (the snapshot, or the node's addition), and decides that it was dead from
# a batch that spans the 7 s after it: here one batch after the snapshot, sent at the end.
DROP = f"""name: flow-drop
page: a.html
recorder:
  options: {{flushIntervalMs: 20000}}
steps:
  - click: "#next"
  - wait_for: "#help"
  - click: "#help"
  - wait: {DEAD_WAIT_MS}
  - checkpoint: done
"""


@dataclass
class Served:
    server: Running
    error: str  # scenarios/js-error.yaml: an uncaught error and a rejection
    rage: str  # scenarios/rage-click.yaml
    full: list[str]  # a -> b -> c, twice
    drop: str  # a -> b, a dead click on b, no c


@pytest.fixture(scope="module")
def served(worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("insights-viewer")
    site = tmp / "site"
    site.mkdir()
    for name, html in PAGES.items():
        (site / name).write_text(html)
    (site / "flow-full.yaml").write_text(FULL)
    (site / "flow-drop.yaml").write_text(DROP)
    with running_server(tmp) as server:
        _, error = record_scenario(worker, server, ROOT / "scenarios/js-error.yaml")
        _, rage = record_scenario(worker, server, ROOT / "scenarios/rage-click.yaml")
        full = [record_scenario(worker, server, site / "flow-full.yaml")[1] for _ in range(2)]
        _, drop = record_scenario(worker, server, site / "flow-drop.yaml")
        yield Served(server, error, rage, full, drop)


@dataclass
class Watch:
    """What went wrong in the page: errors, CSP violations, failed requests. A test names the
    refusals it causes on purpose."""

    origin: str  # the viewer's
    problems: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    # A recorded page's stylesheet the recorder did not inline (not loaded yet when the snapshot
    # was taken: scenarios/pages/common.css at times) is fetched by the replay from the recorded
    # site, which the viewer's CSP refuses. Kept apart: not the viewer's own requests.
    recorded: list[str] = field(default_factory=list)

    def allowed(self, text: str) -> bool:
        return any(e in text for e in self.expected)

    def foreign(self, text: str, url: str) -> bool:
        """A request of the replayed page to another origin, blocked by the CSP."""
        return not url.startswith(self.origin + "/") and "Content Security Policy" in text


@pytest.fixture
def watch(served: Served) -> Watch:
    return Watch(served.server.base)


@pytest.fixture
def viewer(worker: Worker, watch: Watch) -> Iterator[Page]:
    context = worker.browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda e: watch.problems.append(f"page error: {e}"))

    def console(message: ConsoleMessage) -> None:
        # A CSP violation, a failed request, an exception: each logs an error.
        if message.type != "error" or watch.allowed(message.text):
            return
        blocked = re.search(r"Loading the \w+ '([^']+)' violates", message.text)
        if blocked and watch.foreign(message.text, blocked.group(1)):
            watch.recorded.append(blocked.group(1))
        else:
            watch.problems.append(f"{message.text} ({message.location.get('url')})")

    def failed(request: Request) -> None:
        if request.failure == "csp" and not request.url.startswith(watch.origin + "/"):
            watch.recorded.append(request.url)
        elif request.failure == "net::ERR_ABORTED":
            # The page navigated (the test opened a session) before a fetch of the page it
            # left had its answer: the browser cancels it. No failure of the viewer's.
            return
        else:
            watch.problems.append(f"request failed: {request.url} {request.failure}")

    def answered(response: Response) -> None:
        if response.status >= 400 and not watch.allowed(response.url):
            watch.problems.append(f"{response.status} {response.url}")

    page.on("console", console)
    page.on("requestfailed", failed)
    page.on("response", answered)
    yield page
    context.close()
    assert not watch.problems, watch.problems


def log_in(page: Page, served: Served, next_path: str = "/") -> None:
    page.goto(f"{served.server.base}/login?next={quote(next_path, safe='')}")
    page.fill("#login input[name=name]", served.server.user)
    page.fill("#login input[name=password]", served.server.password)
    page.click("#login-submit")
    page.wait_for_url(f"{served.server.base}{next_path}")


def player_time(page: Page) -> float:
    page.wait_for_selector("#stage[data-ready]")
    t: float = page.evaluate("__rcViewer.time()")
    return t


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def list_rows(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "table#sessions tbody tr[data-id]", "trs => trs.map(tr => tr.dataset.id)"
    )
    return ids


def wait_list(page: Page, ids: list[str]) -> None:
    page.wait_for_function(
        """ids => JSON.stringify([...document.querySelectorAll('table#sessions tbody tr[data-id]')]
                 .map(tr => tr.dataset.id).sort()) === JSON.stringify(ids)""",
        arg=sorted(ids),
    )


def test_errors_page_lists_the_error_and_opens_the_player_at_it(
    viewer: Page, served: Served
) -> None:
    page = viewer
    log_in(page, served)
    # The nav bar is on every page and marks where one is.
    assert page.get_attribute("#nav-sessions", "aria-current") == "page"
    page.click("#nav-errors")
    page.wait_for_url("**/errors")
    assert page.get_attribute("#nav-errors", "aria-current") == "page"
    row = page.locator("#issues tbody tr[data-fp]", has_text="division by zero")
    row.wait_for()
    assert row.locator("td.count").text_content() == "1"
    assert row.locator("td.sessions-n").text_content() == "1"
    assert "JS error" in (row.text_content() or "")
    assert row.locator("svg.sparkline polyline").count() == 1
    # The rejection is an issue of its own; c's console error and failed request too.
    assert page.locator("#issues tbody tr[data-fp]").count() == 4
    for kind, title in [("network", "GET 127.0.0.1:1/banner"), ("console", "welcome banner")]:
        page.click(f"#issue-kind button[data-value={kind}]")
        page.wait_for_function(
            "k => [...document.querySelectorAll('#issues tbody tr[data-fp]')]"
            ".every(tr => tr.dataset.kind === k)",
            arg=kind,
        )
        only = page.locator("#issues tbody tr[data-fp]")
        assert only.count() == 1 and title in (only.text_content() or "")
        # Both visits through c: twice, in two sessions.
        assert only.locator("td.count").text_content() == "2"
        assert only.locator("td.sessions-n").text_content() == "2"
        assert query(page)["kind"] == [kind]
    page.click("#issue-kind button[data-value=all]")
    row.wait_for()
    if SCREENSHOTS:
        page.screenshot(path=str(DOCS / "viewer-errors.png"))

    fp = row.get_attribute("data-fp")
    row.locator("td.issue-title a").click()
    page.wait_for_url(f"**/errors/{fp}")
    page.wait_for_selector("#issue-title")
    assert "division by zero" in (page.text_content("#issue-title") or "")
    card = page.locator(f"#issue-sessions li[data-id='{served.error}']")
    card.wait_for()
    assert "division by zero" in (card.locator("pre.stack").text_content() or "")
    # The last actions before it: the page, then the click on the button that threw.
    before = card.locator("ol.before li .ev-kind").all_text_contents()
    assert before[-2:] == ["Navigation", "Click"], before
    open_at = float(card.get_attribute("data-open-at") or "nan")
    card.locator("a.open-moment").click()
    page.wait_for_url(f"**/sessions/{served.error}?*")
    assert query(page)["issue"] == [fp]
    assert player_time(page) == pytest.approx(open_at, abs=1)

    # The player's errors panel: this error shown expanded, with its stack.
    wanted = page.locator("#session-errors > li.wanted")
    wanted.wait_for()
    assert wanted.locator(".err-body").is_visible()
    assert "division by zero" in (wanted.locator("pre.stack").text_content() or "")
    assert "Compute totals" in (wanted.locator("ol.before").text_content() or "")
    error_t = float(wanted.get_attribute("data-t") or "nan")
    assert 0 <= error_t - open_at <= 5000  # opened a few seconds before it, at most
    # The other error (the rejection) is listed, folded; a click on it seeks there.
    other = page.locator("#session-errors > li:not(.wanted)").first
    assert not other.locator(".err-body").is_visible()
    other_t = float(other.get_attribute("data-t") or "nan")
    other.locator("button.err-head").click()
    assert other.locator(".err-body").is_visible()
    assert player_time(page) == pytest.approx(other_t, abs=1)


def first_signal_ends(page: Page, suffix: str) -> None:
    """Wait until the Frustration table's first row's key ends with `suffix`."""
    page.wait_for_function(
        "s => document.querySelector('#signals tbody tr[data-kind]')?.dataset.key?.endsWith(s)",
        arg=suffix,
    )


def test_frustration_ranks_rage_and_dead_clicks_and_opens_them(
    viewer: Page, served: Served
) -> None:
    page = viewer
    log_in(page, served, "/frustration")
    page.wait_for_selector("#signals tbody tr[data-kind]")
    page.click("#signal-kind button[data-value=rage_click]")
    rage = page.locator("#signals tbody tr[data-kind=rage_click]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#signals tbody tr[data-kind]')]"
        ".every(tr => tr.dataset.kind === 'rage_click')"
    )
    assert rage.count() == 1
    assert "rage-click.html" in (rage.get_attribute("data-key") or "")
    assert rage.locator("td.count").text_content() == "1"
    assert "5 clicks" in (rage.locator("td.example").text_content() or "")
    rage.locator("button.row-toggle").click()
    card = page.locator(f"#signal-sessions li[data-id='{served.rage}']")
    card.wait_for()
    open_at = float(card.get_attribute("data-open-at") or "nan")
    rage_link = card.locator("a.open-moment").get_attribute("href") or ""
    assert rage_link.startswith(f"/sessions/{served.rage}?t=")

    # Dead clicks: the help button on b, the only click nothing answered for 7 s; by selector.
    page.click("#signal-kind button[data-value=dead_click]")
    page.click("#signal-by button[data-value=selector]")
    dead = page.locator("#signals tbody tr[data-kind=dead_click]")
    first_signal_ends(page, "button#help")
    assert dead.get_attribute("data-key") == "button#help"
    assert query(page) == {"kind": ["dead_click"], "by": ["selector"]}
    assert dead.count() == 1 and page.locator("#signals tbody tr[data-kind]").count() == 1
    assert dead.locator("td.count").text_content() == "1"
    page.click("#signal-by button[data-value=page]")
    first_signal_ends(page, "/b.html")
    dead.locator("td.count").click()  # the row itself opens its sessions too
    dead_card = page.locator(f"#signal-sessions li[data-id='{served.drop}']")
    dead_card.wait_for()
    dead_at = float(dead_card.get_attribute("data-open-at") or "nan")
    if SCREENSHOTS:
        page.click("#signal-kind button[data-value=all]")
        page.wait_for_selector("#signals tbody tr[data-kind=rage_click]")
        page.locator("#signals tbody tr[data-kind=dead_click] button.row-toggle").click()
        page.wait_for_selector("#signal-sessions li")
        page.screenshot(path=str(DOCS / "viewer-frustration.png"))
        dead_card = page.locator(f"#signal-sessions li[data-id='{served.drop}']")
    dead_card.locator("a.open-moment").click()
    page.wait_for_url(f"**/sessions/{served.drop}?*")
    assert player_time(page) == pytest.approx(dead_at, abs=1)
    # The player marks the dead click, a couple of seconds after where it opened.
    marks = page.eval_on_selector_all(
        ".marker[data-kind=dead_click]", "ms => ms.map(m => Number(m.dataset.t))"
    )
    assert len(marks) == 1 and 0 <= marks[0] - dead_at <= 2000, (marks, dead_at)
    # Its marker is styled as a dead click and goes to the moment, on b.
    assert (
        page.eval_on_selector(
            ".marker[data-kind=dead_click]", "m => getComputedStyle(m).backgroundColor"
        )
        == "rgb(124, 58, 237)"
    )
    page.click(".marker[data-kind=dead_click]")
    assert (page.text_content("#url") or "").endswith("/b.html")

    # And the rage click's session opens at the rage click.
    page.goto(served.server.base + rage_link)
    assert player_time(page) == pytest.approx(open_at, abs=1)
    marks = page.eval_on_selector_all(
        ".marker[data-kind=rage_click]", "ms => ms.map(m => Number(m.dataset.t))"
    )
    assert len(marks) == 1 and 0 <= marks[0] - open_at <= 2000, (marks, open_at)


def step_counts(page: Page) -> list[int]:
    counts: list[int] = page.eval_on_selector_all(
        "#funnel-results .funnel-step", "ss => ss.map(s => Number(s.dataset.sessions))"
    )
    return counts


def test_a_funnel_counts_its_steps_and_its_dropoff_opens_a_session(
    viewer: Page, served: Served
) -> None:
    page = viewer
    log_in(page, served, "/funnels")
    steps = page.locator("#funnel-steps .step-value")
    steps.first.wait_for()
    assert steps.count() == 2
    assert page.is_disabled("#funnel-steps .step-remove >> nth=0")  # two steps at least
    # Built out of order, then reordered; a third step added.
    steps.nth(0).fill("/b.html")
    steps.nth(1).fill("/a.html")
    page.click("#funnel-steps .step-up >> nth=1")
    assert [steps.nth(i).input_value() for i in range(2)] == ["/a.html", "/b.html"]
    page.click("#add-step")
    steps.nth(2).fill("/c.html")
    page.click("#run-funnel")
    page.wait_for_selector("#funnel-results .funnel-step")
    assert step_counts(page) == [3, 3, 2]
    third = page.locator("#funnel-results .funnel-step[data-step='3']")
    assert "66.7% of step 1" in (third.text_content() or "")
    assert "66.7% of step 2" in (third.text_content() or "")
    second = page.locator("#funnel-results .funnel-step[data-step='2']")
    assert "100% of step 1" in (second.text_content() or "")
    assert "median" in (third.text_content() or "")
    assert "funnel" in query(page)

    # The link is the funnel: a reload runs it again.
    page.reload()
    page.wait_for_selector("#funnel-results .funnel-step")
    assert step_counts(page) == [3, 3, 2]
    assert page.locator("#funnel-steps .step-value").nth(2).input_value() == "/c.html"
    assert page.is_disabled("#funnel-results .dropoff-button[data-step='1']")  # no one lost

    page.click("#funnel-results .dropoff-button[data-step='2']")
    card = page.locator("#dropoff-sessions li[data-id]")
    card.first.wait_for()
    assert card.count() == 1 and card.first.get_attribute("data-id") == served.drop
    if SCREENSHOTS:
        page.screenshot(path=str(DOCS / "viewer-funnel.png"), full_page=True)
    open_at = float(card.first.get_attribute("data-open-at") or "nan")
    card.first.locator("a.open-moment").click()
    page.wait_for_url(f"**/sessions/{served.drop}?*")
    assert player_time(page) == pytest.approx(open_at, abs=1)
    # At step 2: the replay shows b.
    page.wait_for_function("() => document.querySelector('#url').textContent.endsWith('/b.html')")
    frame = page.frame_locator("#replay iframe")
    assert "Details" in (frame.locator("header").text_content() or "")


def test_a_funnel_takes_a_window_and_a_saved_segment(viewer: Page, served: Served) -> None:
    page = viewer
    dead = {"all": [{"field": "signal", "op": "had", "value": "dead_click"}]}
    status, _ = served.server.api("/api/segments/dead%20clickers", "PUT", body={"segment": dead})
    assert status == 200
    try:
        log_in(page, served, "/funnels")
        steps = page.locator("#funnel-steps .step-value")
        steps.nth(0).fill("/a.html")
        steps.nth(1).fill("/b.html")
        page.click("#add-step")
        steps.nth(2).fill("/c.html")
        # Only the sessions of the saved segment: the one that stopped at b.
        page.wait_for_selector("#funnel-segment option[value='dead clickers']", state="attached")
        page.select_option("#funnel-segment", "dead clickers")
        page.click("#run-funnel")
        page.wait_for_function("() => document.querySelector('#funnel-results .funnel-step')")
        assert step_counts(page) == [1, 1, 0]
        # A window shorter than a -> b (a few hundred ms): no one makes step 2 in time.
        page.select_option("#funnel-segment", "")
        page.fill("#funnel-window", "0.001")
        page.select_option("#funnel-window-unit", "60000")  # minutes: 60 ms
        page.click("#run-funnel")
        page.wait_for_function(
            "() => document.querySelector('#funnel-results .funnel-step[data-step=\"2\"]')"
            "?.dataset.sessions === '0'"
        )
        assert step_counts(page) == [3, 0, 0]
        # Removing a step: two are left, and two is the least.
        page.click("#funnel-steps .step-remove >> nth=2")
        assert page.locator("#funnel-steps .step").count() == 2
        assert page.is_disabled("#funnel-steps .step-remove >> nth=0")
        # Ten at most.
        for _ in range(8):
            page.click("#add-step")
        assert page.locator("#funnel-steps .step").count() == 10
        assert page.is_disabled("#add-step")
    finally:
        served.server.api("/api/segments/dead%20clickers", "DELETE")


def test_a_segment_built_in_the_ui_filters_and_is_saved(viewer: Page, served: Served) -> None:
    page = viewer
    every = [served.error, served.rage, *served.full, served.drop]
    log_in(page, served)
    wait_list(page, every)
    page.click("#segment-toggle")
    builder = page.locator("#segment-builder")
    # Visited a AND (had a dead click OR is the user "nobody").
    builder.locator(".seg-group.depth-1 > .seg-cond .seg-value").fill("/a.html")
    builder.locator(".seg-group.depth-1 > .seg-group-head .seg-add-group").click()
    nested = builder.locator(".seg-group.depth-2")
    assert nested.locator(".seg-join").input_value() == "any"
    nested.locator(".seg-cond .seg-field").select_option("signal")
    nested.locator(".seg-cond .seg-value").select_option("dead_click")
    nested.locator(".seg-add-cond").click()
    nested.locator(".seg-cond >> nth=1").locator(".seg-field").select_option("user")
    nested.locator(".seg-cond >> nth=1").locator(".seg-value").fill("nobody")
    nested.locator(".seg-cond >> nth=1").locator(".seg-value").press("Enter")  # applies
    wait_list(page, [served.drop])
    assert "segment" in query(page)
    assert "3 conditions" in (page.text_content("#segment-toggle") or "")
    # OR, not AND: the user condition alone would match nothing.
    nested.locator(".seg-join").select_option("all")
    page.click("#segment-apply")
    page.wait_for_selector("table#sessions tbody tr.empty")
    nested.locator(".seg-join").select_option("any")
    page.click("#segment-apply")
    wait_list(page, [served.drop])

    # The URL carries it: a reload filters the same and rebuilds the form.
    page.reload()
    wait_list(page, [served.drop])
    assert page.locator("#segment-builder .seg-cond").count() == 3
    assert page.locator("#segment-builder .seg-group.depth-2 .seg-join").input_value() == "any"
    # The simple filters still apply, on top of the segment.
    page.fill("#filters input[name=url]", "c.html")
    page.press("#filters input[name=url]", "Enter")
    page.wait_for_selector("table#sessions tbody tr.empty")
    page.fill("#filters input[name=url]", "")
    page.press("#filters input[name=url]", "Enter")
    wait_list(page, [served.drop])

    # Saved by name, cleared, loaded back; then deleted.
    page.fill("#segment-name", "stuck at b")
    page.click("#segment-save")
    page.wait_for_function(
        "() => document.querySelector('#segment-status').textContent.includes('Saved')"
    )
    page.click("#segment-clear")
    wait_list(page, every)
    assert "segment" not in query(page)
    page.select_option("#segment-saved", "stuck at b")
    page.click("#segment-load")
    wait_list(page, [served.drop])
    assert page.locator("#segment-builder .seg-cond").count() == 3
    # /segments lists it; its link opens the list it selects.
    page.click("#segments-link")
    page.wait_for_selector("#saved-segments tr[data-name='stuck at b'] a")
    page.click("#saved-segments tr[data-name='stuck at b'] a")
    wait_list(page, [served.drop])
    status, body = served.server.api("/api/segments")
    assert status == 200 and [s["name"] for s in body["segments"]] == ["stuck at b"]
    page.on("dialog", lambda dialog: dialog.accept())
    page.select_option("#segment-saved", "stuck at b")
    page.click("#segment-delete")
    page.wait_for_function(
        "() => ![...document.querySelectorAll('#segment-saved option')].some(o => o.value)"
    )
    assert served.server.api("/api/segments")[1]["segments"] == []


def test_the_player_exports_a_clip(viewer: Page, served: Served, watch: Watch) -> None:
    page = viewer
    log_in(page, served, f"/sessions/{served.full[0]}")
    player_time(page)
    page.fill("#clip-from", "0")
    page.fill("#clip-to", "0.5")
    with page.expect_download(timeout=60_000) as caught:
        page.click("#export-clip")
        assert "making clip" in (page.text_content("#clip-status") or "")
        assert page.is_disabled("#export-clip")
    download = caught.value
    assert download.suggested_filename == f"{served.full[0]}-0-500.webp"
    data = Path(download.path()).read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", data[:16]
    page.wait_for_selector("#clip-status.done")
    # A range the server refuses: its reason is shown.
    watch.expected += ["/clip?from=3000&to=1000", "400 (Bad Request)"]
    page.fill("#clip-from", "3")
    page.fill("#clip-to", "1")
    page.click("#export-clip")
    page.wait_for_selector("#clip-status.bad")
    assert "must be before" in (page.text_content("#clip-status") or "")
    assert not page.is_disabled("#export-clip")
