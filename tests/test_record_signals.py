"""Console messages, failed requests and a site's own events (stream events 22-24,
recorder/src/format.ts) from the built-in recorder (recorder/dist/record.js, with its insights
plugin recorder/dist/insights.js for the console, the requests and click targets) in real
Chromium, read back from the real ingest server; and the built-in replayer skipping them."""

from __future__ import annotations

import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage

from harness.scenario import FaultRule
from harness.worker import Worker
from tests.test_record import ROOT, Recording, bundle

__all__ = ["bundle"]  # the bundle fixture (built by build.mjs), used here

META, MOUSE, NAVIGATION, CONSOLE, NETWORK, CUSTOM = 0, 6, 8, 22, 23, 24
CLICK, LOAD = 2, 0  # MouseKind.Click, NavigationKind.Load
PAGE = "<!doctype html><html lang=en><title>signals</title><h1>Signals</h1><p>hello</p></html>"
EMAIL = "jane.doe@corp.com"
SIGNALS = 20  # insights/index.ts: console events (and failed requests) per second per page
INSIGHTS = ROOT / "recorder" / "dist" / "insights.js"  # built by build.mjs with the bundle

Event = list[Any]
Record = Callable[..., Recording]


def init(bundle: str, config: str, before_record: str = "", insights: bool = True) -> str:
    """test_record's init script, with the bundle's global on the window for the page's calls
    (track), the insights plugin's where record() finds it (unless not `insights`), and
    `before_record` run between the bundles and record()."""
    plugin = f"{INSIGHTS.read_text()};window.replaycheckInsights=replaycheckInsights;"
    return (
        "(function(){if(window.top!==window||location.protocol==='about:')return;"
        f"{bundle};window.replaycheckRecord=replaycheckRecord;"
        f"{plugin if insights else ''}{before_record};"
        f"window.__rec=replaycheckRecord.record({config})}})()"
    )


@pytest.fixture
def record(worker: Worker, bundle: str) -> Iterator[Record]:
    """Record a small page served by the harness server."""
    contexts: list[BrowserContext] = []

    def record(
        before: str = "",
        before_record: str = "",
        page: str = PAGE,
        insights: bool = True,
        **options: Any,
    ) -> Recording:
        session = uuid.uuid4().hex
        context = worker.browser.new_context()
        contexts.append(context)
        if before:
            context.add_init_script(before)
        config = {"ingestUrl": worker.server.ingest_url(session), "session": session, **options}
        context.add_init_script(init(bundle, json.dumps(config), before_record, insights))
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(worker.server.add_asset(f"signals/{session}.html", page, "text/html"))
        return Recording(tab, session, worker.server, errors)

    yield record
    for context in contexts:
        context.close()


def of(events: list[Event], kind: int) -> list[Event]:
    return [e for e in events if e[0] == kind]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def failing(worker: Worker, **rule: Any) -> str:
    """An endpoint of the harness server that answers every request per `rule` (another
    session's ingest URL, with faults)."""
    session = uuid.uuid4().hex
    worker.server.set_faults(session, (FaultRule(**rule),), time.monotonic())
    return worker.server.ingest_url(session)


# Console -------------------------------------------------------------------------------------


CALLS = """() => {
  const cyclic = {a: 1};
  cyclic.self = cyclic;
  const hostile = new Proxy({}, {
    get() { throw new Error("get trap"); },
    getPrototypeOf() { throw new Error("proto trap"); },
    ownKeys() { throw new Error("keys trap"); },
    has() { throw new Error("has trap"); },
  });
  const calls = [
    ["error", ["plain", "text", 42]],
    ["warn", [new Error("boom")]],
    ["error", ["cyclic", cyclic]],
    ["warn", ["proxy", hostile]],
    ["error", [{a: [1, "b"]}, null, undefined, true]],
  ];
  const out = [];
  for (const [level, args] of calls) {
    try { out.push(String(console[level](...args))); } catch (e) { out.push("threw " + e); }
  }
  return out;
}"""


def test_console_error_and_warn_are_recorded_and_still_reach_the_console(record: Record) -> None:
    rec = record()
    seen: list[tuple[str, str]] = []

    def logged(m: ConsoleMessage) -> None:
        if not m.text.startswith("Failed to load"):  # the browser's own: a favicon's 404
            seen.append((m.type, m.text))

    rec.page.on("console", logged)
    results = rec.page.evaluate(CALLS)
    assert results == ["undefined"] * 5, "the page sees what the native console returns, no throw"
    events = of(rec.events(), CONSOLE)
    assert [e[2] for e in events] == ["error", "warn", "error", "warn", "error"]
    messages = [e[3] for e in events]
    assert messages[0] == "plain text 42"
    assert messages[1].startswith("Error: boom\n") and "    at " in messages[1], (
        "an Error: its stack"
    )
    assert messages[2] == "cyclic [object Object]"
    assert messages[3] == "proxy ?", "a Proxy that throws on every access"
    assert messages[4] == '{"a":[1,"b"]} null undefined true'
    # The original console got every call, the hostile Proxy's too.
    assert [t for t, _ in seen] == ["error", "warning", "error", "warning", "error"]
    assert seen[0][1] == "plain text 42"
    assert rec.errors == []


def test_the_page_console_method_runs_with_its_this_arguments_and_result(record: Record) -> None:
    # A console.warn the page (or a logging library) installed before the recorder started.
    before = """
      console.warn = function (...args) { window.__warned = {self: this, args}; return "kept"; };
    """
    rec = record(before=before)
    result = rec.page.evaluate(
        """() => {
          const self = {name: "logger"};
          const r = console.warn.call(self, "disk", 93, "% full");
          return [r, window.__warned.self === self, window.__warned.args];
        }"""
    )
    assert result == ["kept", True, ["disk", 93, "% full"]]
    assert [e[2:] for e in of(rec.events(), CONSOLE)] == [["warn", "disk 93 % full"]]


def test_console_messages_are_masked_like_page_text(record: Record) -> None:
    rec = record()
    rec.page.evaluate(f"() => console.error('login failed for {EMAIL} (retry)')")
    rec.page.evaluate("() => console.warn('x'.repeat(5000))")
    first, long = of(rec.events(), CONSOLE)
    assert first[3] == "login failed for " + "*" * len(EMAIL) + " (retry)"
    assert long[3] == "x" * 2000, "cut at 2,000 characters"
    assert EMAIL not in rec.raw()


def test_console_messages_are_all_stars_under_strict_masking(record: Record) -> None:
    rec = record(maskAllText=True)
    text = "Order 42 shipped to Jane Doe, arriving Tuesday"
    rec.page.evaluate(f"() => console.warn({json.dumps(text)})")
    [event] = of(rec.events(), CONSOLE)
    assert len(event[3]) == len(text) and re.fullmatch(r"[*\s-]+", event[3]), event[3]
    assert "Jane" not in rec.raw()


def test_a_console_storm_is_bounded_per_second(record: Record) -> None:
    rec = record()
    calls = rec.page.evaluate(
        """() => {
          const start = performance.now();
          for (let i = 0; i < 500; i++) console.error("loop", i);
          return performance.now() - start;
        }"""
    )
    assert calls < 900, "the loop ran within one second"
    time.sleep(1.1)
    rec.page.evaluate("() => console.warn('after the storm')")
    events = of(rec.events(), CONSOLE)
    assert [e[3] for e in events[:SIGNALS]] == [f"loop {i}" for i in range(SIGNALS)]
    assert events[SIGNALS:] == [events[-1]] and events[-1][3] == "after the storm"


# Failed requests -----------------------------------------------------------------------------


REQUESTS = """async ({notFound, error500, closed, hanging, ok}) => {
  const go = async (...args) => {
    try { return (await fetch(...args)).status; } catch (e) { return e.name; }
  };
  const xhr = (method, url) => new Promise((done) => {
    const x = new XMLHttpRequest();
    x.open(method, url);
    x.onloadend = () => done(x.status);
    x.send("body");
  });
  const out = [];
  out.push(await go(notFound));
  out.push(await go(error500, {method: "post", body: "secret body"}));
  out.push(await go(closed));
  const stop = new AbortController();
  const aborted = go(hanging, {method: "POST", body: "x", signal: stop.signal});
  setTimeout(() => stop.abort(), 100);
  out.push(await aborted);
  out.push(await go(new Request(error500, {method: "PUT", body: "y"})));
  out.push(await go(ok));
  out.push(await xhr("POST", error500));
  out.push(await xhr("GET", closed));
  out.push(await xhr("GET", ok));
  return out;
}"""


def test_failed_fetches_and_xhrs_are_recorded_with_masked_urls(
    record: Record, worker: Worker
) -> None:
    rec = record()
    origin = worker.server.origin
    urls = {
        "notFound": f"{origin}/__rc/nothing-here?email={EMAIL}&page=2",
        "error500": failing(worker, status=500),
        "closed": f"http://127.0.0.1:{closed_port()}/api",
        "hanging": failing(worker, hang_ms=3000),
        "ok": rec.page.url,
    }
    results = rec.page.evaluate(REQUESTS, urls)
    # What the page saw: the natives' results, untouched.
    # (The harness server has no PUT: 501.)
    assert results == [404, 500, "TypeError", "AbortError", 501, 200, 500, 0, 200]
    events = of(rec.events(), NETWORK)
    masked = f"{origin}/__rc/nothing-here?email={'*' * len(EMAIL)}&page=2"
    assert [e[2:5] for e in events] == [
        ["GET", masked, 404],
        ["POST", urls["error500"], 500],
        ["GET", urls["closed"], 0],
        ["POST", urls["hanging"], 0],
        ["PUT", urls["error500"], 501],
        ["POST", urls["error500"], 500],
        ["GET", urls["closed"], 0],
    ]
    for e in events:
        assert isinstance(e[1], int) and isinstance(e[5], int) and e[5] >= 0, e
    assert events[3][5] >= 90, "the aborted request's duration: until its abort"
    meta = of(rec.events(), META)[0]
    assert all(e[1] >= meta[1] for e in events), "t: the request's start, on the events' clock"
    raw = rec.raw()
    assert EMAIL not in raw and "secret body" not in raw
    assert rec.errors == []


def test_the_recorders_own_failing_posts_are_not_recorded(record: Record, worker: Worker) -> None:
    session_faults = (FaultRule(start=0, count=1, status=500),)
    rec = record()
    worker.server.set_faults(rec.session, session_faults, time.monotonic())
    rec.page.evaluate("() => fetch('/__rc/missing').then((r) => r.status)")
    events = rec.events()
    attempts = worker.server.attempts(rec.session)
    assert attempts and attempts[0].action == "500", "the ingest did fail a post"
    ingest = worker.server.ingest_url(rec.session)
    network = of(events, NETWORK)
    assert [e[3] for e in network] == [f"{worker.server.origin}/__rc/missing"]
    assert not any(ingest in json.dumps(e) for e in events if e[0] != META)


# Custom events -------------------------------------------------------------------------------


def test_track_sends_custom_events_with_props(record: Record) -> None:
    # 12 calls before record(): the last 10 are kept.
    rec = record(before_record="for(let i=0;i<12;i++)replaycheckRecord.track('early'+i,{i})")
    thrown = rec.page.evaluate(
        """() => {
          const hostile = new Proxy({}, {ownKeys() { throw new Error("no"); }});
          try {
            replaycheckRecord.track("checkout", {plan: "pro", seats: 3, trial: false,
              nested: {x: 1}, nan: NaN, ["k".repeat(65)]: 1, note: "v".repeat(300)});
            replaycheckRecord.track(42, {x: 1});
            replaycheckRecord.track("n".repeat(300));
            replaycheckRecord.track("hostile", hostile);
            window.__rec.track("from the recorder", {step: 2});
            return null;
          } catch (e) { return String(e); }
        }"""
    )
    assert thrown is None
    events = rec.events()
    t0 = of(events, META)[0][1]
    custom = of(events, CUSTOM)
    early = [e for e in custom if e[2].startswith("early")]
    assert [e[2:] for e in early] == [[f"early{i}", {"i": i}] for i in range(2, 12)]
    assert all(e[1] == t0 for e in early), "kept until recording starts, stamped with its start"
    late = [e[2:] for e in custom if not e[2].startswith("early")]
    assert late == [
        ["checkout", {"plan": "pro", "seats": 3, "trial": False, "note": "v" * 256}],
        ["n" * 256, {}],
        ["from the recorder", {"step": 2}],
    ]


# What a click was on (Mouse event, 7th element) ---------------------------------------------


CLICKS = """<!doctype html><html lang=en><title>clicks</title><body>
<button id="buy" class="btn primary big"><span id="in">Buy</span></button>
<div id="plain" class="card">  Plain
   words here </div>
<a id="go" href="#next"><b>Next   page</b></a>
<div id="user-jane-doe" class="secret x" role="button">Jane Doe, 12 Main St</div>
<input id="q" class="search" placeholder="Search products">
<input id="pw" type="password" value="hunter22">
<div id="deep" class="unmasked"><p>one <i>two</i> three</p></div>
</body></html>"""


def clicks_on(rec: Recording, *selectors: str) -> list[Event]:
    """Click each element (at its center, a real pointer click), then the click events' targets."""
    for sel in selectors:
        rec.page.click(sel)
    events = [e for e in of(rec.events(), MOUSE) if e[2] == CLICK]
    assert len(events) == len(selectors), events
    assert all(len(e) == 7 for e in events), events
    return [e[6] for e in events]


def test_a_click_says_what_it_was_on(record: Record) -> None:
    rec = record(page=CLICKS)
    assert clicks_on(rec, "#in", "#plain", "#go b", "#q", "#deep i") == [
        ["button#buy.btn.primary", "Buy", 1],  # the closest control, its first two classes
        ["div#plain.card", "Plain words here", 0],  # the target itself, whitespace collapsed
        ["a#go", "Next page", 1],
        ["input#q.search", "Search products", 1],  # no text: its placeholder
        ["i", "two", 0],  # no control around it: the target itself, no id or class
    ]


def test_a_click_target_is_masked_as_the_snapshot_masks_it(record: Record) -> None:
    rec = record(page=CLICKS, mask=[".secret"], block=["#pw"])
    [secret, pw, in_button] = clicks_on(rec, "#user-jane-doe", "#pw", "#in")
    # role=button: a control; its text masked (stars, spaces and hyphens kept).
    assert secret[0] == "div#user-jane-doe.secret.x" and secret[2] == 1
    assert re.fullmatch(r"[*\s,]+", secret[1]) and len(secret[1]) == len("Jane Doe, 12 Main St")
    assert set(secret[1]) <= {"*", " "}, secret
    assert pw == ["input#pw", "", 1], "a blocked element: its id, no label"
    assert in_button == ["button#buy.btn.primary", "Buy", 1]
    assert "Jane" not in rec.raw() and "hunter22" not in rec.raw()


def test_a_click_label_is_stars_under_mask_all_text(record: Record) -> None:
    rec = record(page=CLICKS, maskAllText=True)
    targets = clicks_on(rec, "#in", "#plain", "#go b", "#q")
    assert [t[0] for t in targets] == [
        "button#buy.btn.primary",
        "div#plain.card",
        "a#go",
        "input#q.search",
    ]
    for t in targets:
        assert t[1] and set(t[1]) <= {"*", " "}, t
    assert "Plain" not in rec.raw() and "Search" not in rec.raw()


def test_a_click_label_has_pii_starred_and_an_id_with_pii_is_left_out(record: Record) -> None:
    page = (
        f"<!doctype html><html lang=en><body><button id='{EMAIL}' class='ok {EMAIL}'>"
        f"Mail {EMAIL} now</button>"
        "<button id=long>" + "word " * 40 + "</button></body></html>"
    )
    rec = record(page=page)
    [mail, long] = clicks_on(rec, "button >> nth=0", "#long")
    assert mail == ["button.ok", "Mail " + "*" * len(EMAIL) + " now", 1]
    assert long == ["button#long", ("word " * 12).strip(), 1], "at most 60 characters"
    assert EMAIL not in rec.raw()


def test_an_element_added_after_the_first_flush_is_reported(record: Record) -> None:
    rec = record()
    rec.flush()
    rec.page.evaluate(
        """() => {
          const b = document.createElement("button");
          b.id = "late"; b.className = "cta"; b.setAttribute("aria-label", "Open menu");
          b.innerHTML = "<svg width=20 height=20><rect width=20 height=20 /></svg>";
          document.body.append(b);
        }"""
    )
    rec.page.click("#late rect")
    [click] = [e for e in of(rec.events(), MOUSE) if e[2] == CLICK]
    assert click[6] == ["button#late.cta", "Open menu", 1], "no text: its aria-label"
    assert click[3] > 0, "the node has an id: the mutation carried it"


def test_a_click_on_the_document_and_other_mouse_events_carry_no_target(record: Record) -> None:
    rec = record()
    rec.page.evaluate("() => document.dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    rec.page.click("h1")
    mouse = of(rec.events(), MOUSE)
    clicks = [e for e in mouse if e[2] == CLICK]
    assert [len(e) for e in clicks] == [6, 7] and clicks[1][6] == ["h1", "Signals", 0]
    assert all(len(e) == 6 for e in mouse if e[2] != CLICK), "down and up: no target"


def test_without_the_insights_plugin_none_of_its_capture_is_recorded(
    record: Record, worker: Worker
) -> None:
    """record.js alone (a site that only replays): no console or network events, clicks without
    a target; track() is the core's and still sent, and the page's console and fetch work."""
    rec = record(page=CLICKS, insights=False)
    rec.flush()
    gone = failing(worker, status=500)
    statuses = rec.page.evaluate(
        """async (url) => {
          console.error("not recorded");
          window.replaycheckRecord.track("step", {n: 1});
          return [(await fetch(url, {method: "POST", body: "x"})).status];
        }""",
        gone,
    )
    assert statuses == [500]
    rec.page.click("#in")
    events = rec.events()
    assert of(events, CONSOLE) == [] and of(events, NETWORK) == []
    [click] = [e for e in of(events, MOUSE) if e[2] == CLICK]
    assert len(click) == 6, "no click target without the plugin"
    assert [e[2:] for e in of(events, CUSTOM)] == [["step", {"n": 1}]]
    assert rec.errors == []
    assert rec.errors == []


# The loader's `insights` option -------------------------------------------------------------


@pytest.mark.parametrize("insights", [True, False])
def test_the_loader_loads_the_plugin_beside_record_js(
    worker: Worker, bundle: str, insights: bool
) -> None:
    """replaycheckLoader.load(src, {insights: true}) fetches insights.js from beside `src` and
    starts recording once both ran; without the option, insights.js is never requested."""
    session = uuid.uuid4().hex
    base = f"loader-{session}"
    worker.server.add_asset(f"{base}/static/record.js", bundle, "text/javascript")
    plugin = worker.server.add_asset(
        f"{base}/static/insights.js", INSIGHTS.read_text(), "text/javascript"
    )
    options = {
        "ingestUrl": worker.server.ingest_url(session),
        "session": session,
        "flushIntervalMs": 100,
        **({"insights": True} if insights else {}),
    }
    loader = (ROOT / "recorder" / "dist" / "loader.js").read_text()
    page = (
        f"<!doctype html><html lang=en><head><script>{loader}\n"
        f"replaycheckLoader.load('static/record.js?v=1', {json.dumps(options)})</script></head>"
        "<body><button id=buy>Buy</button></body></html>"
    )
    context = worker.browser.new_context()
    try:
        tab = context.new_page()
        requested: list[str] = []
        tab.on("request", lambda r: requested.append(r.url))
        tab.goto(worker.server.add_asset(f"{base}/page.html", page, "text/html"))
        # Both scripts ran: record() starts in their load handlers, right after.
        tab.wait_for_function(
            "(insights) => window.replaycheckRecord && (!insights || window.replaycheckInsights)",
            arg=insights,
        )
        tab.wait_for_timeout(200)
        tab.evaluate("() => console.error('after the load')")
        tab.click("#buy")
        rec = Recording(tab, session, worker.server, [])
        events: list[Event] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            events = [e for env in rec.envelopes() for e in env["events"]]
            if [e for e in of(events, MOUSE) if e[2] == CLICK]:
                break
            time.sleep(0.1)
        [click] = [e for e in of(events, MOUSE) if e[2] == CLICK]
        fetched = [u for u in requested if u.split("?")[0].endswith("/insights.js")]
        if insights:
            assert fetched == [plugin], "beside record.js, its query left off"
            assert click[6] == ["button#buy", "Buy", 1]
            assert [e[2:] for e in of(events, CONSOLE)] == [["error", "after the load"]]
        else:
            assert fetched == [] and len(click) == 6 and of(events, CONSOLE) == []
    finally:
        context.close()


# A page load reached by back/forward ---------------------------------------------------------


def test_a_load_by_back_forward_says_so(worker: Worker, bundle: str) -> None:
    session = uuid.uuid4().hex
    config = {"ingestUrl": worker.server.ingest_url(session), "session": session}
    context = worker.browser.new_context()
    try:
        context.add_init_script(init(bundle, json.dumps(config)))
        # no-store: the back page is loaded again, not restored from the bfcache.
        nocache = {"Cache-Control": "no-store"}
        page = "<!doctype html><html lang=en><title>{0}</title><a href='{1}'>{1}</a></html>"
        a = worker.server.add_asset(
            f"nav/{session}/a.html", page.format("a", "b.html"), "text/html", nocache
        )
        b = worker.server.add_asset(
            f"nav/{session}/b.html", page.format("b", "a.html"), "text/html", nocache
        )
        tab = context.new_page()
        tab.goto(a)
        tab.evaluate("window.__rec.flush()")
        tab.click("a")
        tab.wait_for_url(b)
        tab.evaluate("window.__rec.flush()")
        tab.go_back()
        tab.wait_for_url(a)
        tab.wait_for_function("() => !!window.__rec")
        assert tab.evaluate("performance.getEntriesByType('navigation')[0].type") == "back_forward"
        tab.evaluate("window.__rec.flush()")
        rec = Recording(tab, session, worker.server, [])
        loads = [e for e in of(rec.events(), NAVIGATION) if e[2] == LOAD]
        assert [e[3:] for e in loads] == [[a], [b], [a, 1]], loads
    finally:
        context.close()


# The replayer --------------------------------------------------------------------------------


def test_the_builtin_replayer_skips_console_network_and_custom_events(
    record: Record, worker: Worker
) -> None:
    rec = record()
    rec.page.evaluate(
        """async () => {
          console.error("broken", 1);
          replaycheckRecord.track("step", {n: 1});
          await fetch("/__rc/missing").catch(() => 0);
          document.querySelector("p").textContent = "after";
        }"""
    )
    events = rec.events()
    assert {CONSOLE, NETWORK, CUSTOM} <= {e[0] for e in events}
    replay = _replay_asset(worker)
    tab = rec.page.context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    logged: list[ConsoleMessage] = []
    tab.on("console", lambda m: logged.append(m) if m.type == "error" else None)
    tab.goto(replay)
    text = tab.evaluate(
        """async (events) => {
          const r = new replaycheckReplay.Replayer(events, {root: document.getElementById("root")});
          await r.seek(events[events.length - 1][1] - events[0][1] + 1);
          const doc = r.iframe.contentDocument;
          return [doc.querySelector("h1").textContent, doc.querySelector("p").textContent];
        }""",
        events,
    )
    assert text == ["Signals", "after"]
    assert errors == [] and logged == []


def _replay_asset(worker: Worker) -> str:
    """The built replayer (recorder/dist/replay.js) on a page of the harness server."""
    code = (ROOT / "recorder" / "dist" / "replay.js").read_bytes()
    worker.server.add_asset("signals-replay/replay.js", code, "text/javascript")
    html = "<!doctype html><body><div id=root></div><script src='replay.js'></script></body>"
    return worker.server.add_asset("signals-replay/index.html", html, "text/html")
