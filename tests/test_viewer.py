"""The viewer of `replaycheck serve` in real Chromium: sessions recorded through a running
server's ingest, then the list (login, filters in the URL, sorting) and the player (play at
4x, pause, space, drag, markers, events panel, skip-inactivity, link to a moment) driven
through the UI, asserting what the page shows."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from urllib.request import Request, urlopen

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page

from harness.worker import Worker
from service.ingest import EventType
from tests.serve_helpers import Running, record_scenario, running_server

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
# The README's screenshots come from these tests, written only when asked for (a test run does
# not touch the checkout): REPLAYCHECK_SCREENSHOTS=1 pytest tests/test_viewer.py
SCREENSHOTS = os.environ.get("REPLAYCHECK_SCREENSHOTS") == "1"
IDLE_S = 7  # the pause on the catalogue page: longer than the viewer's 5 s inactivity

SHOP = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Catalogue</title>
<style>
body { margin: 0; font: 16px/1.5 Georgia, serif; background: #fbf5ec; color: #3b2a20; }
header { background: #6f3b1c; color: #fff; padding: 18px 32px; font-size: 22px; }
main { padding: 28px 32px; display: grid; grid-template-columns: repeat(3, 1fr); gap: 18px; }
.card { background: #fff; border-radius: 10px; padding: 18px; box-shadow: 0 1px 4px #0002; }
button, a.button { background: #d9732b; color: #fff; border: 0; border-radius: 6px;
  padding: 9px 15px; font-size: 15px; text-decoration: none; display: inline-block; }
</style></head><body>
<header>Acme Coffee · catalogue</header>
<main>
<div class="card"><h2>Yirgacheffe</h2><p>Floral, citrus.</p>
  <button id="add" onclick="this.textContent='Added'; added.showModal()">Add to cart</button></div>
<div class="card"><h2>Huila</h2><p>Caramel, red apple.</p><button>Add to cart</button></div>
<div class="card"><h2>Mandheling</h2><p>Earthy, cocoa.</p>
  <a class="button" id="to-cart" href="cart.html">Go to cart</a></div>
<p><input id="note" placeholder="A note for the roaster"></p>
</main>
<dialog id="added"><p>Added to your cart.</p>
  <button id="ok" onclick="added.close()">OK</button></dialog>
</body></html>
"""

CART = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cart</title>
<style>
body { margin: 0; font: 16px/1.5 Georgia, serif; background: #eef6f1; color: #20352a; }
header { background: #1f5c3d; color: #fff; padding: 18px 32px; font-size: 22px; }
main { padding: 28px 32px; display: flex; gap: 18px; }
section { background: #fff; border-radius: 10px; padding: 18px; flex: 1; }
button { background: #1f8a57; color: #fff; border: 0; border-radius: 6px; padding: 12px 20px;
  font-size: 16px; }
#dead { background: #c9a227; }
</style></head><body>
<header>Acme Coffee · your cart</header>
<main id="cart">
<section><h2>1 x Yirgacheffe</h2><p id="status">Ready to pay</p>
<button id="pay" onclick="document.getElementById('status').textContent='Paying';
  throw new Error('payment failed: card declined')">Pay now</button></section>
<section><h2>Need help?</h2><button id="dead">Contact us</button></section>
</main></body></html>
"""

SCENARIO = f"""name: viewer-shop
description: >
  A visit for the viewer's test: on the catalogue a click (a modal dialog confirms it) and a
  note, a pause of {IDLE_S} s, the cart, a payment that throws, then a rage click on a button
  that does nothing.
page: shop.html
steps:
  - click: "#add"
  - click: "#ok"
  - fill: {{selector: "#note", value: "no rush"}}
  - wait: {IDLE_S * 1000}
  - click: "#to-cart"
  - wait_for: "#cart"
  - click: "#pay"
  - wait: 400
  - click: {{selector: "#dead", count: 5, delay_ms: 0}}
  - wait: 400
  - checkpoint: done
"""


@dataclass
class Served:
    server: Running
    shop: str  # id of the builtin session through catalogue and cart
    billing: str  # id of the builtin rage-click session (one page, no error)
    rrweb: str  # id of a session recorded by rrweb: listed, not playable
    known: str  # a session whose page identified its user (u-42, plan pro), posted by hand


def post_identified(server: Running, session: str) -> None:
    """One batch as the recorder sends it, with Identify: the harness's recorder adapter has
    no identify() to call from a scenario."""
    href = "https://app.example/account"
    tree = [0, 1, [[2, 2, "html", {}, [[2, 3, "body", {}, [[3, 4, "My account"]]]]]]]
    events = [
        [EventType.NAVIGATION, 0, 0, href],
        [EventType.META, 0, href, "Account", 1024, 640, 1],
        [EventType.SNAPSHOT, 1, tree, 0, 0],
        [EventType.IDENTIFY, 2, "u-42", {"plan": "pro", "seats": 3}],
        [EventType.MOUSE, 400, 2, 4, 50, 30],
        [EventType.CHECKPOINT, 900, "end"],
    ]
    page = time.time() * 1000 - 1000  # the page's time origin: a second ago, the newest
    body = {"v": 1, "session": session, "page": page, "seq": 0, "first": 0, "events": events}
    request = Request(
        server.ingest_url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "text/plain", "Origin": "https://app.example"},
    )
    with urlopen(request, timeout=30) as answer:
        assert answer.status < 300


@pytest.fixture(scope="module")
def served(worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("viewer")
    site = tmp / "site"
    site.mkdir()
    (site / "shop.html").write_text(SHOP)
    (site / "cart.html").write_text(CART)
    (site / "viewer-shop.yaml").write_text(SCENARIO)
    with running_server(tmp) as server:
        _, shop = record_scenario(worker, server, site / "viewer-shop.yaml")
        _, billing = record_scenario(worker, server, ROOT / "scenarios/rage-click.yaml")
        _, rrweb = record_scenario(worker, server, ROOT / "scenarios/js-error.yaml", "rrweb")
        post_identified(server, "known-visit-1")
        yield Served(server, shop, billing, rrweb, "known-visit-1")


@pytest.fixture
def viewer(worker: Worker) -> Iterator[Page]:
    context = worker.browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Console errors: a CSP violation, a missing bundle, a failed request. The 401s the
    # redirect tests cause on purpose are the only ones expected.
    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and "401 (Unauthorized)" not in message.text:
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    yield page
    context.close()
    assert not errors, errors


def log_in(page: Page, served: Served, next_path: str = "/") -> None:
    page.goto(f"{served.server.base}/login?next={quote(next_path, safe='')}")
    page.fill("#login input[name=name]", served.server.user)
    page.fill("#login input[name=password]", served.server.password)
    page.click("#login-submit")
    page.wait_for_url(f"{served.server.base}{next_path}")


def open_player(page: Page, served: Served, session: str, query: str = "") -> None:
    page.goto(f"{served.server.base}/sessions/{session}{query}")
    page.wait_for_selector("#stage[data-ready]")


STATE = """() => ({time: __rcViewer.time(), playing: __rcViewer.playing(),
                   speed: __rcViewer.speed(), wall: performance.now(),
                   url: document.querySelector('#url').textContent,
                   shown: document.querySelector('#time').textContent})"""


def state(page: Page) -> dict[str, Any]:
    """The player's time and the page's clock read together, plus what the UI shows."""
    result: dict[str, Any] = page.evaluate(STATE)
    return result


def frame_state(page: Page) -> dict[str, Any]:
    """state() in an animation frame, after the replayer's tick of that frame: its time is
    the frame's, not a frame a busy machine delayed."""
    result: dict[str, Any] = page.evaluate(
        f"() => new Promise(done => requestAnimationFrame(() => done(({STATE})())))"
    )
    return result


def rows(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "table#sessions tbody tr[data-id]", "trs => trs.map(tr => tr.dataset.id)"
    )
    return ids


def wait_rows(page: Page, n: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('table#sessions tbody tr[data-id]').length === n", arg=n
    )


def query_is(page: Page, key: str, value: str) -> None:
    """Wait until the page's URL carries key=value (the list keeps its state there)."""
    page.wait_for_function(
        "([k, v]) => new URLSearchParams(location.search).get(k) === v", arg=[key, value]
    )


def first_is(page: Page, session: str) -> None:
    page.wait_for_function(
        "id => document.querySelector('table#sessions tbody tr')?.dataset.id === id", arg=session
    )


def shown(n: int, total: int = 4) -> str:
    """The pager's text for the n-th of `total` sessions alone on its page (an en dash)."""
    return f"{n}\u2013{n} of {total}"


def page_info_is(page: Page, text: str) -> None:
    page.wait_for_function("t => document.querySelector('#page-info').textContent === t", arg=text)


def markers(page: Page, kind: str) -> list[float]:
    times: list[float] = page.eval_on_selector_all(
        f".marker[data-kind={kind}]", "ms => ms.map(m => Number(m.dataset.t))"
    )
    return times


def test_without_login_pages_redirect_and_the_api_refuses(browser: Browser, served: Served) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        for path in ["/", f"/sessions/{served.shop}?t=1500"]:
            page.goto(served.server.base + path)
            page.wait_for_selector("#login")
            assert urlsplit(page.url).path == "/login"
            assert parse_qs(urlsplit(page.url).query)["next"] == [path]
        assert page.request.get(f"{served.server.base}/api/sessions").status == 401
        assert page.request.get(f"{served.server.base}/api/sessions/{served.shop}").status == 401
        # A wrong password says so and stays; the right one goes where `next` said.
        page.fill("#login input[name=name]", served.server.user)
        page.fill("#login input[name=password]", "not the password")
        page.click("#login-submit")
        page.wait_for_selector("#login-error:not([hidden])")
        assert "Wrong" in (page.text_content("#login-error") or "")
        page.fill("#login input[name=password]", served.server.password)
        page.click("#login-submit")
        page.wait_for_url(f"**/sessions/{served.shop}?t=1500")
        page.wait_for_selector("#stage[data-ready]")
        assert page.evaluate("__rcViewer.time()") == 1500
    finally:
        context.close()


@pytest.fixture(scope="module")
def browser(worker: Worker) -> Browser:
    return worker.browser


def test_list_filters_sorts_and_opens(viewer: Page, served: Served) -> None:
    page = viewer
    log_in(page, served)
    page.wait_for_selector("table#sessions tbody tr[data-id]")
    every = [served.known, served.rrweb, served.billing, served.shop]  # newest first
    assert rows(page) == every
    assert "4 sessions" in (page.text_content("#total") or "")
    rrweb_row = page.locator(f"table#sessions tr[data-id='{served.rrweb}']")
    assert "rrweb" in (rrweb_row.text_content() or "")
    shop_row = page.locator(f"table#sessions tr[data-id='{served.shop}']")
    assert "shop.html" in (shop_row.text_content() or "")
    known_row = page.locator(f"table#sessions tr[data-id='{served.known}'] td.user")
    assert "u-42" in (known_row.text_content() or "")
    assert "plan: pro" in (known_row.text_content() or "")
    if SCREENSHOTS:
        page.screenshot(path=str(DOCS / "viewer-list.png"))

    # Sorting by duration, longest first (the shop visit with its pause leads), then reversed.
    page.click("th[data-sort=duration] button")
    query_is(page, "sort", "-duration")
    first_is(page, served.shop)
    assert page.get_attribute("th[data-sort=duration]", "aria-sort") == "descending"
    page.click("th[data-sort=duration] button")
    query_is(page, "sort", "duration")
    page.wait_for_function(
        "id => [...document.querySelectorAll('table#sessions tbody tr')].at(-1)?.dataset.id === id",
        arg=served.shop,
    )
    assert page.get_attribute("th[data-sort=duration]", "aria-sort") == "ascending"

    # A filter narrows the list and lands in the URL; a reload keeps it.
    page.fill("#filters input[name=url]", "cart.html")
    page.press("#filters input[name=url]", "Enter")
    query_is(page, "url", "cart.html")
    wait_rows(page, 1)
    assert rows(page) == [served.shop]
    assert "1 session match" in (page.text_content("#total") or "")
    page.reload()
    page.wait_for_selector("table#sessions tbody tr[data-id]")
    assert rows(page) == [served.shop]
    assert page.input_value("#filters input[name=url]") == "cart.html"
    assert parse_qs(urlsplit(page.url).query)["sort"] == ["duration"]  # kept with the filter

    # Has error: the rage-click session and the identified one have none.
    page.click("#clear-filters")
    wait_rows(page, 4)
    page.check("#filters input[name=error]")
    query_is(page, "error", "1")
    wait_rows(page, 2)
    assert set(rows(page)) == {served.shop, served.rrweb}
    # And a minimum duration the one-page sessions do not reach: only the shop visit.
    page.fill("#filters input[name=min_duration]", str(IDLE_S))
    page.press("#filters input[name=min_duration]", "Enter")
    query_is(page, "min_duration", str(IDLE_S * 1000))
    wait_rows(page, 1)
    assert rows(page) == [served.shop]
    page.uncheck("#filters input[name=error]")
    page.fill("#filters input[name=min_duration]", "")
    page.check("#filters input[name=rage]")
    wait_rows(page, 2)
    assert set(rows(page)) == {served.shop, served.billing}

    # The user id and a user property, as the page identified its user.
    page.click("#clear-filters")
    wait_rows(page, 4)
    page.fill("#filters input[name=user]", "u-42")
    page.press("#filters input[name=user]", "Enter")
    wait_rows(page, 1)
    assert rows(page) == [served.known]
    page.fill("#filters input[name=user]", "")
    page.fill("#filters input[name=prop]", "plan:free")
    page.press("#filters input[name=prop]", "Enter")
    query_is(page, "prop", "plan:free")
    page.wait_for_selector("table#sessions tbody tr.empty")
    assert "No sessions match" in (page.text_content("table#sessions tbody") or "")
    page.fill("#filters input[name=prop]", "plan:pro")
    page.press("#filters input[name=prop]", "Enter")
    wait_rows(page, 1)
    assert rows(page) == [served.known]

    # The date range: from today on, everything; up to yesterday, nothing.
    page.click("#clear-filters")
    wait_rows(page, 4)
    today = page.evaluate("() => new Date().toLocaleDateString('sv')")  # yyyy-mm-dd, local
    yesterday = page.evaluate("() => new Date(Date.now() - 864e5).toLocaleDateString('sv')")
    page.fill("#filters input[name=from]", today)
    query_is(page, "from", str(page.evaluate("d => new Date(d + 'T00:00').getTime()", today)))
    wait_rows(page, 4)
    page.fill("#filters input[name=from]", "")
    page.fill("#filters input[name=to]", yesterday)
    page.wait_for_selector("table#sessions tbody tr.empty")

    # Paging, as a shared URL asks: one per page, newest first, then the next one.
    page.goto(f"{served.server.base}/?limit=1")
    wait_rows(page, 1)
    assert rows(page) == [served.known]
    assert page.text_content("#page-info") == shown(1)
    assert page.is_disabled("#prev") and not page.is_disabled("#next")
    for n in [2, 3, 4]:
        page.click("#next")
        page_info_is(page, shown(n))
        assert rows(page) == [every[n - 1]]
    query_is(page, "offset", "3")
    assert page.is_disabled("#next")
    page.go_back()  # history holds each page of the list
    page_info_is(page, shown(3))
    assert rows(page) == [served.billing]

    # A row opens its session.
    page.goto(served.server.base)
    wait_rows(page, 4)
    page.click(f"table#sessions tr[data-id='{served.shop}'] td.session")
    page.wait_for_url(f"**/sessions/{served.shop}")
    page.wait_for_selector("#stage[data-ready]")


def test_player_plays_seeks_and_links_to_a_moment(viewer: Page, served: Served) -> None:
    page = viewer
    log_in(page, served, f"/sessions/{served.shop}")
    page.wait_for_selector("#stage[data-ready]")
    duration = page.evaluate("Number(document.querySelector('#timeline').max)")
    assert duration > IDLE_S * 1000
    start = state(page)
    assert start["url"].endswith("/shop.html") and not start["playing"]
    # The replay shows the catalogue, as recorded.
    frame = page.frame_locator("#replay iframe")
    assert "catalogue" in (frame.locator("header").text_content() or "")

    # 4x, no skipping: the replay's clock runs four times the wall clock.
    page.uncheck("#skip-inactive")
    page.click("#speed button[data-speed='4']")
    assert page.get_attribute("#speed button[data-speed='4']", "aria-pressed") == "true"
    page.click("#play")
    before = frame_state(page)
    page.wait_for_timeout(1200)
    after = frame_state(page)
    assert before["playing"] and after["playing"] and after["speed"] == 4
    rate = (after["time"] - before["time"]) / (after["wall"] - before["wall"])
    assert 3.5 < rate < 4.5, rate
    # Playing, the replay focused the dialog, its button and the note's field of the
    # catalogue: the browser's focus stays in the player (keys in the inert replay frame would
    # go nowhere).
    assert page.evaluate("document.activeElement.tagName") != "IFRAME"
    page.click("#play")  # pause
    paused = state(page)
    page.wait_for_timeout(400)
    assert not paused["playing"] and state(page)["time"] == paused["time"]

    # Space plays and pauses (also with the play button focused: once, not twice).
    page.keyboard.press("Space")
    assert state(page)["playing"]
    page.keyboard.press("Space")
    assert not state(page)["playing"]

    # Dragging the timeline seeks while dragging, then stays where released.
    box = page.locator("#timeline").bounding_box()
    assert box
    y = box["y"] + box["height"] / 2

    def at(fraction: float) -> float:
        assert box
        return box["x"] + 7 + (box["width"] - 14) * fraction  # the thumb's travel: 7 px inset

    page.mouse.move(at(0.1), y)
    page.mouse.down()
    page.mouse.move(at(0.3), y, steps=5)
    page.wait_for_timeout(100)
    mid = state(page)["time"]
    assert abs(mid - 0.3 * duration) < 0.03 * duration, (mid, duration)
    page.mouse.move(at(0.6), y, steps=5)
    page.mouse.up()
    dropped = state(page)["time"]
    assert abs(dropped - 0.6 * duration) < 0.03 * duration, (dropped, duration)

    # An error marker: the time jumps to it, and the URL is the page the error was on.
    errors = markers(page, "error")
    assert errors, "no error marker"
    page.locator(".marker[data-kind=error]").first.click()
    hit = state(page)
    assert hit["time"] == pytest.approx(errors[0], abs=1)
    assert hit["url"].endswith("/cart.html"), hit["url"]
    assert "your cart" in (frame.locator("header").text_content() or "")
    for kind in ["navigation", "click", "rage_click", "checkpoint"]:
        assert markers(page, kind), f"no {kind} marker"
    # Each click says what it hit, even those the index could not name.
    clicked = page.eval_on_selector_all(
        "#events li[data-kind=click] .ev-label", "ls => ls.map(l => l.textContent)"
    )
    assert clicked[:4] == [
        'button "Add to cart"',
        'button "OK"',
        'a "Go to cart"',
        'button "Pay now"',
    ], clicked
    assert set(clicked[4:]) == {'button "Contact us"'}, clicked

    # The events panel: a navigation entry seeks to that navigation.
    nav = page.locator("#events li[data-kind=navigation]").last
    nav_t = float(nav.get_attribute("data-t") or "nan")
    nav.click()
    assert state(page)["time"] == pytest.approx(nav_t, abs=1)
    assert "current" in (nav.get_attribute("class") or "")

    # Back at the error, then a link to this moment opens there.
    page.locator("#events li[data-kind=error]").first.click()
    page.wait_for_timeout(300)
    if SCREENSHOTS:
        page.screenshot(path=str(DOCS / "viewer-player.png"))
    page.click("#copy-link")
    link = page.input_value("#moment-link")
    # Math.round, as the viewer rounds: Python's round() takes 7354.5 to 7354 (half to even).
    moment = math.floor(errors[0] + 0.5)
    assert link == f"{served.server.base}/sessions/{served.shop}?t={moment}"
    other = page.context.new_page()
    other.goto(link)
    other.wait_for_selector("#stage[data-ready]")
    opened = state(other)
    assert opened["time"] == moment and not opened["playing"]
    assert opened["url"].endswith("/cart.html")
    other.close()


def test_skip_inactivity_jumps_over_the_pause(viewer: Page, served: Served) -> None:
    page = viewer
    log_in(page, served, f"/sessions/{served.shop}")
    page.wait_for_selector("#stage[data-ready]")
    clicks = markers(page, "click")
    navs = markers(page, "navigation")
    # The pause: after the first click on the catalogue, before the cart's navigation.
    pause_from = clicks[0]
    pause_to = next(t for t in navs if t > pause_from)
    assert pause_to - pause_from > IDLE_S * 1000 - 500
    page.click("#speed button[data-speed='1']")
    for skip, far in [(False, False), (True, True)]:
        page.set_checked("#skip-inactive", skip)
        open_at = pause_from + 500
        page.evaluate("t => document.querySelector('#timeline').value = t", open_at)
        page.dispatch_event("#timeline", "change")
        assert state(page)["time"] == pytest.approx(open_at, abs=1)
        page.click("#play")
        page.wait_for_timeout(1500)
        now = state(page)["time"]
        page.click("#play")
        # At 1x, 1.5 s of wall time: 1.5 s of replay, unless the pause was jumped over.
        assert (now > pause_to - 1500) == far, (skip, now, pause_from, pause_to)


def test_rrweb_session_is_listed_but_does_not_play(viewer: Page, served: Served) -> None:
    page = viewer
    log_in(page, served, f"/sessions/{served.rrweb}")
    page.wait_for_selector("#unsupported")
    assert "builtin" in (page.text_content("#unsupported") or "")
    assert page.locator("#play").count() == 0


def test_delete_and_log_out_send_the_csrf_token(viewer: Page, served: Served) -> None:
    page = viewer
    post_identified(served.server, "doomed-visit")
    log_in(page, served, "/sessions/doomed-visit")
    page.wait_for_selector("#stage[data-ready]")
    assert "u-42" in (page.text_content("#session-meta") or "")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#delete-session")
    page.wait_for_url(f"{served.server.base}/")
    page.wait_for_selector("table#sessions tbody tr[data-id]")
    assert "doomed-visit" not in rows(page)
    assert served.server.api("/api/sessions/doomed-visit")[0] == 404
    page.click("#logout")
    page.wait_for_url("**/login")
    page.goto(served.server.base + "/")
    page.wait_for_selector("#login")
    assert urlsplit(page.url).path == "/login"


def test_an_api_401_sends_the_viewer_to_login_and_back(viewer: Page, served: Served) -> None:
    page = viewer
    log_in(page, served)
    page.wait_for_selector("table#sessions tbody tr[data-id]")
    page.context.clear_cookies()  # the login ends (expired, logged out elsewhere)
    # The list asks the API again: 401, and the page goes (check() would wait for the box).
    with page.expect_navigation(url="**/login?**"):
        page.click("#filters input[name=error]")
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/?error=1"]
    page.fill("#login input[name=name]", served.server.user)
    page.fill("#login input[name=password]", served.server.password)
    page.click("#login-submit")
    page.wait_for_url(f"{served.server.base}/?error=1")
    page.wait_for_selector("table#sessions tbody tr[data-id]")
    assert page.is_checked("#filters input[name=error]")
    assert set(rows(page)) == {served.shop, served.rrweb}
