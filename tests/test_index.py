"""service/index.py: what a batch says about its session, on known event lists of both formats
and on real streams recorded in Chromium (counted against the harness's own counts)."""

from __future__ import annotations

import json
import random
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext

from harness import adapters, events
from harness.drive import record
from harness.events import Interaction, rage_clicks
from harness.scenario import load_scenario
from harness.server import Batch
from harness.stream import whole_batches
from harness.worker import Worker
from service.index import (
    ACTIVE_GAP_MS,
    Click,
    Mark,
    Summary,
    active_ms,
    browser,
    combine,
    merge_spans,
    rage_marks,
    summarize,
)
from service.ingest import Batch as Accepted
from service.ingest import EventType as T
from service.ingest import Limits, Refusal, check_body

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).parent / "fixtures" / "record"
PAGE = 1_764_600_000_000.0  # a page's time origin (epoch ms)
URL = "https://shop.test/"

# Builtin: a button (id 5, "Pay now" in a span) in the snapshot, a text field 9, another 10.
SNAPSHOT = [0, 1, [[2, 2, "html", {}, [[2, 3, "body", {}, [
    [2, 5, "button", {"class": "pay"}, [[2, 6, "span", {}, [[3, 7, "  Pay\n now "]]]]],
    [2, 8, "input", {"aria-label": "Search"}, []],
    [2, 4, "script", {}, [[3, 11, "code()"]]],
]]]]]]  # fmt: skip


def builtin_page() -> list[list[Any]]:
    return [
        [T.NAVIGATION, 1, 0, URL],
        [T.META, 1, URL, "Shop", 1280, 720, 1],
        [T.SNAPSHOT, 1, SNAPSHOT, 0, 0],
        [T.MOUSE, 100, 0, 5, 40, 20],  # mousedown: activity, no click
        [T.MOUSE, 110, 2, 5, 40, 20],
        [T.MOUSE, 400, 2, 8, 90, 20],
        [T.MOUSE, 420, 3, 8, 90, 20],  # a dblclick: not a click
        *([T.INPUT, 500 + i, 9, "*" * i] for i in range(1, 4)),  # one edit, a key an event
        [T.INPUT, 600, 10, True],
        [T.INPUT, 700, 9, "****"],  # back to field 9: a new edit
        [T.NAVIGATION, 800, 1, URL + "cart"],  # pushState
        [T.NAVIGATION, 801, 2, URL + "cart"],  # replaceState to the same URL
        [T.NAVIGATION, 802, 4, URL + "cart#pay"],
        [T.ERROR, 900, "TypeError: x is undefined", "at pay (app.js:1)"],
        [T.CHECKPOINT, 950, "paid"],
        [T.VIEWPORT, 20_000, 800, 600],
        [T.MOUSE_MOVE, 30_000, [[1, 1, 0], [2, 2, 50], [3, 3, 12_000]]],
        [T.SCROLL, 60_000, 0, 0, 300],
        [T.IDENTIFY, 60_001, "u-42", {"plan": "pro", "seats": 3}],
        [T.IDENTIFY, 60_002, "u-42", {"plan": "team", "trial": False}],
        [T.END, 61_000, []],
    ]


def at(t: float) -> float:
    return PAGE + t


def test_a_builtin_batch_with_known_answers() -> None:
    s = summarize("builtin", PAGE, builtin_page())
    assert (s.start, s.end) == (at(1), at(61_000))
    assert s.urls == (URL, URL + "cart", URL + "cart#pay")
    assert s.clicks == (
        Click(at(110), 40, 20, 5, 'button "Pay now"', "button.pay", True, URL),
        Click(at(400), 90, 20, 8, 'input "Search"', "input", False, URL),  # a text field
    )
    assert (s.inputs, s.navigations, s.errors) == (3, 1, 1)  # pushState is no navigation
    assert s.marks == (
        Mark(at(1), "navigation", URL),
        Mark(at(900), "error", "TypeError: x is undefined"),
        Mark(at(950), "checkpoint", "paid"),
    )
    # Clicks and inputs 100-700 ms, pointer positions at 30 s, 30.05 s and 42 s, a scroll at 60 s.
    gap = ACTIVE_GAP_MS
    assert s.activity == (
        (at(110), at(700) + gap),
        (at(30_000), at(30_050) + gap),
        (at(42_000), at(42_000) + gap),
        (at(60_000), at(60_000) + gap),
    )
    assert s.viewport == (800, 600)  # the last one: the Viewport event after Meta's 1280x720
    assert s.user_id == "u-42"
    assert s.user_props == {"plan": "team", "seats": 3, "trial": False}
    assert s.ended


def rr(t: float, kind: int, **data: Any) -> dict[str, Any]:
    return {"type": kind, "timestamp": PAGE + t, "data": data}


def inc(t: float, source: int, **data: Any) -> dict[str, Any]:
    return rr(t, 3, source=source, **data)


RR_SNAPSHOT = {"type": 0, "id": 1, "childNodes": [{"type": 2, "id": 2, "tagName": "html",
    "attributes": {}, "childNodes": [{"type": 2, "id": 5, "tagName": "button", "attributes": {},
    "childNodes": [{"type": 3, "id": 6, "textContent": "Pay now"}]}]}]}  # fmt: skip


def rrweb_page() -> list[dict[str, Any]]:
    return [
        rr(1, 4, href=URL, width=1280, height=720),
        rr(1, 2, node=RR_SNAPSHOT, initialOffset={"left": 0, "top": 0}),
        inc(110, 2, type=2, id=5, x=40, y=20),
        inc(200, 2, type=2, id=5, x=41, y=20),
        inc(300, 2, type=2, id=5, x=40, y=22),
        inc(300, 2, type=4, id=5, x=40, y=22),  # dblclick
        inc(400, 5, id=20, text="pro", isChecked=True),
        inc(400, 5, id=21, text="basic", isChecked=False),  # its radio group: not input
        *(inc(500 + i, 5, id=9, text="*" * i, isChecked=False) for i in range(1, 4)),
        rr(600, 5, tag="replaycheck.error", payload={"message": "boom"}),
        rr(650, 5, tag="replaycheck.checkpoint", payload={"name": "c1"}),
        inc(700, 4, width=800, height=600),
        inc(20_000, 1, positions=[{"x": 1, "y": 1, "id": 2, "timeOffset": -400}]),
        inc(30_000, 3, id=1, x=0, y=300),
    ]


def test_an_rrweb_batch_with_known_answers() -> None:
    s = summarize("rrweb", PAGE, rrweb_page())
    assert (s.start, s.end) == (at(1), at(30_000))
    assert s.urls == (URL,)
    assert [c.t for c in s.clicks] == [at(110), at(200), at(300)]
    assert {c.label for c in s.clicks} == {'button "Pay now"'}
    assert (s.inputs, s.navigations, s.errors) == (2, 1, 1)
    assert s.marks == (
        Mark(at(1), "navigation", URL),
        Mark(at(600), "error", "boom"),
        Mark(at(650), "checkpoint", "c1"),
    )
    assert len(rage_marks(s.clicks)) == 1
    assert s.activity == (
        (at(110), at(503) + ACTIVE_GAP_MS),
        (at(19_600), at(19_600) + ACTIVE_GAP_MS),  # a position's offset counts from the event
        (at(30_000), at(30_000) + ACTIVE_GAP_MS),
    )
    assert s.viewport == (800, 600)
    assert (s.user_id, s.user_props, s.ended) == (None, {}, False)


def test_both_formats_count_one_session_as_the_harness_adapters_do() -> None:
    for fmt, batch in (("builtin", builtin_page()), ("rrweb", rrweb_page())):
        body = json.dumps({"session": "s", "page": PAGE, "seq": 0, "events": batch}).encode()
        adapter = adapters.get(fmt)
        counts = events.count(adapter.interactions(adapter.decode([Batch(body, "", "")])))
        s = summarize(fmt, PAGE, batch)  # type: ignore[arg-type]
        assert (len(s.clicks), s.inputs, s.navigations, s.errors) == (
            counts["click"],
            counts["input"],
            counts["navigation"],
            counts["error"],
        ), fmt


# Rage clicks --------------------------------------------------------------------------------


def clicks(*spec: tuple[float, int, float, float]) -> list[Click]:
    return [Click(t, x, y, target, "b") for t, target, x, y in spec]


def test_rage_is_three_clicks_within_1000_ms_and_30_px_one_mark_at_the_first() -> None:
    burst = clicks((5000, 1, 10, 10), (5500, 1, 28, 34), (6000, 1, 40, 10))  # 30 px, 1000 ms
    assert rage_marks(burst) == [Mark(5000, "rage_click", "3 clicks: b")]
    five = clicks(*[(i * 100.0, 1, 10.0, 10.0) for i in range(5)])
    assert rage_marks(reversed(five)) == [Mark(0, "rage_click", "5 clicks: b")]


def test_rage_near_misses() -> None:
    assert rage_marks(clicks((0, 1, 10, 10), (100, 1, 10, 10))) == []  # 2 clicks
    assert rage_marks(clicks((0, 1, 10, 10), (100, 1, 10, 10), (200, 1, 41, 10))) == []  # 31 px
    assert rage_marks(clicks((0, 1, 10, 10), (500, 1, 10, 10), (1001, 1, 10, 10))) == []
    assert rage_marks(clicks((0, 1, 10, 10), (100, 2, 10, 10), (200, 1, 10, 10))) == []


def test_rage_marks_are_the_harness_rage_clicks_on_random_clicks() -> None:
    rng = random.Random(11)
    for _ in range(300):
        spec = [
            (rng.uniform(0, 4000), rng.choice([1, 2]), rng.uniform(0, 60), rng.uniform(0, 60))
            for _ in range(rng.randint(0, 12))
        ]
        harness = [Interaction("click", t, target, x, y) for t, target, x, y in spec]
        assert len(rage_marks(clicks(*spec))) == rage_clicks(harness)


# Across batches -----------------------------------------------------------------------------


def test_spans_merge_across_batches() -> None:
    a = ((0.0, 5000.0), (20_000.0, 25_000.0))
    b = ((4000.0, 9000.0), (25_000.0, 30_000.0), (40_000.0, 45_000.0), (41_000.0, 42_000.0))
    merged = merge_spans(a, b)
    assert merged == ((0.0, 9000.0), (20_000.0, 30_000.0), (40_000.0, 45_000.0))
    assert merge_spans(b, a) == merged and merge_spans(merged, a) == merged
    assert active_ms(merged) == 9000 + 10_000 + 5000
    assert active_ms(merged, end=42_000) == 9000 + 10_000 + 2000  # not past the session's end
    # Two batches of one page: a click at the end of one, a scroll 3 s later in the next.
    first = summarize("builtin", PAGE, [[T.MOUSE, 1000, 2, 5, 1, 1]])
    second = summarize("builtin", PAGE, [[T.SCROLL, 4000, 0, 0, 10]])
    assert merge_spans(first.activity, second.activity) == ((at(1000), at(4000) + ACTIVE_GAP_MS),)
    assert combine([first, second]).activity == ((at(1000), at(4000) + ACTIVE_GAP_MS),)


def page_batches(page: float, *batches: list[list[Any]]) -> list[Summary]:
    return [summarize("builtin", page, events) for events in batches]


def test_combine_counts_an_edit_across_batches_once_and_a_page_load_once() -> None:
    load = [[T.NAVIGATION, 1, 0, URL], [T.META, 1, URL, "", 800, 600, 1]]
    typing = [[T.INPUT, 10, 9, "*"]], [[T.INPUT, 20, 9, "**"], [T.INPUT, 30, 10, "x"]]
    one = page_batches(PAGE, load, *typing, [[T.INPUT, 40, 10, "xy"]], [[T.SCROLL, 50, 0, 0, 1]])
    two = page_batches(PAGE + 1000, load, [[T.INPUT, 10, 10, "xyz"]], [[T.END, 20, []]])
    assert sum(s.inputs for s in one + two) == 5
    session = combine(one + two)
    # 9, then 10 over two batches; on the next page field 10 is another field (ids start afresh).
    assert (session.inputs, session.navigations, session.ended) == (3, 2, True)
    assert session.urls == (URL,)
    assert combine(one + two[:2]).ended is False
    # rrweb repeats Meta at a checkout: the page's load counts once, its mark too.
    checkout = [rr(5000, 4, href=URL, width=800, height=600), rr(5000, 2, node=RR_SNAPSHOT)]
    rrweb = [summarize("rrweb", PAGE, rrweb_page()), summarize("rrweb", PAGE, checkout)]
    assert [s.navigations for s in rrweb] == [1, 1]
    assert combine(rrweb).navigations == 1
    assert [m.kind for m in combine(rrweb).marks].count("navigation") == 1


def test_identify_props_are_read_as_the_recorder_sends_them() -> None:
    props: dict[str, Any] = {f"k{i}": i for i in range(60)}
    props |= {"s": "v" * 300, "x" * 65: 1, "nested": {"a": 1}, "list": [1], "none": None}
    s = summarize("builtin", PAGE, [[T.IDENTIFY, 1, "u" * 300, props]])
    assert s.user_id == "u" * 256
    assert s.user_props == {f"k{i}": i for i in range(50)}  # the first 50 kept
    s = summarize("builtin", PAGE, [[T.IDENTIFY, 1, "a", {"s": "v" * 300, "f": 1.5, "b": True}]])
    assert s.user_props == {"s": "v" * 256, "f": 1.5, "b": True}
    # A later id is the session's user; props add up, later values winning.
    second = summarize("builtin", PAGE, [[T.IDENTIFY, 2, "b", {"f": 2}]])
    assert (combine([s, second]).user_id, combine([s, second]).user_props["f"]) == ("b", 2)
    for bad in ([T.IDENTIFY, 1], [T.IDENTIFY, 1, 42, {}], [T.IDENTIFY, 1, None]):
        assert summarize("builtin", PAGE, [bad]).user_id is None
    assert summarize("builtin", PAGE, [[T.IDENTIFY, 1, "c", "props"]]).user_props == {}


def test_an_end_event_ends_and_nothing_else_does() -> None:
    assert summarize("builtin", PAGE, [[T.END, 5, [[3, 10, "held"]]]]).ended
    assert not summarize("builtin", PAGE, [[T.LOST, 5, []], [T.STOP, 6, "stopped"]]).ended
    assert not summarize("builtin", PAGE, []).ended
    assert summarize("builtin", PAGE, []).start is None


def test_events_of_the_wrong_shape_are_skipped_never_raised() -> None:
    junk: list[Any] = [None, 1, "x", {}, [], [1], ["a", 1], [T.META, "t"]]
    for code in range(25):
        junk += [
            [code, 1],
            [code, 1, None, None, None, None],
            [code, 1, [None], {"a": [1]}, "x", []],
        ]
        junk += [[code, 1, [[1], [2, 2, "b", {}, None]], [[None]], [[1, "a"]], [[1, "t"]]]]
    s = summarize("builtin", PAGE, junk)
    assert s.start == at(1)
    rr_junk: list[Any] = [None, [], {"type": 4}, {"type": 3, "timestamp": 1, "data": [1]}]
    for kind in range(9):
        rr_junk += [{"type": kind, "timestamp": PAGE, "data": {"source": src, "positions": [1, {}],
                     "id": [1], "x": "a", "adds": [1, {"node": []}], "payload": 3, "tag": [1]}}
                    for src in range(15)]  # fmt: skip
    assert summarize("rrweb", PAGE, rr_junk).end == PAGE


def test_browser_names_from_user_agents() -> None:
    win = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"  # noqa: E501
    cases = {
        f"{win} Chrome/131.0.6778.86 Safari/537.36": "Chrome 131",
        f"{win} Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70": "Edge 131",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0": "Firefox 133",
        f"{mac} Version/17.6 Safari/605.1.15": "Safari 17",
        f"{iphone} Version/17.5 Mobile/15E148 Safari/604.1": "Safari 17",
        f"{iphone} CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1": "Chrome 131",
        f"{iphone} FxiOS/133.0 Mobile/15E148 Safari/605.1.15": "Firefox 133",
        f"{win} Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0": "other",
        "curl/8.5.0": "other",
        "": "other",
    }
    assert {ua: browser(ua) for ua in cases} == cases


# In Chromium --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle() -> str:
    subprocess.run(["node", "build.mjs"], cwd=ROOT, check=True)
    return (ROOT / "recorder" / "dist" / "record.js").read_text()


@pytest.fixture
def contexts(worker: Worker) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def accepted(worker: Worker, session: str) -> list[Accepted]:
    """Every body the ingest received, through the service's own checks, whole batches only."""
    out = []
    for body in worker.server.batches(session):
        batch = check_body(body.body, Limits())
        assert not isinstance(batch, Refusal), batch.reason
        if batch.events is not None:
            out.append(batch)
    return sorted(out, key=lambda b: (b.page, b.seq))


def test_identify_in_chromium(worker: Worker, bundle: str, contexts: list[BrowserContext]) -> None:
    session = uuid.uuid4().hex
    config = {"ingestUrl": worker.server.ingest_url(session), "session": session}
    context = worker.browser.new_context()
    contexts.append(context)
    # Before record(): kept, sent when recording starts.
    context.add_init_script(
        "if (location.protocol !== 'about:') {"
        f"{bundle};window.replaycheckRecord = replaycheckRecord;"
        "replaycheckRecord.identify('early', {a: 1});"
        f"window.__rec = replaycheckRecord.record({json.dumps(config)});}}"
    )
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(worker.server.mount(PAGES) + "events.html")
    result = tab.evaluate(
        """() => {
          const R = replaycheckRecord;
          R.identify(42); R.identify(null); R.identify();  // not a string id: nothing
          R.identify('p', 'not an object');
          R.identify('q', new Proxy({}, { ownKeys() { throw new Error('trap'); } }));
          R.identify('r', { get a() { throw new Error('getter'); } });
          const many = {};
          for (let i = 0; i < 60; i++) many['k' + i] = i;
          window.__rec.identify('u'.repeat(300), many);
          R.identify('u-42', { plan: 'pro', seats: 3, trial: false, s: 'v'.repeat(300),
            ['x'.repeat(65)]: 1, nan: NaN, inf: Infinity, obj: {}, arr: [1], nul: null, f: 1.5 });
          return 'no throw';
        }"""
    )
    assert result == "no throw"
    tab.evaluate("window.__rec.flush()")
    batches = accepted(worker, session)
    listed = [e for b in batches for e in (b.events or []) if isinstance(e, list)]
    found = [e for e in listed if e[0] == T.IDENTIFY]
    meta = next(e for e in listed if e[0] == T.META)
    assert found[0] == [21, meta[1], "early", {"a": 1}]  # stamped with the recording's start
    assert [e[2:] for e in found[1:]] == [
        ["p", {}],
        ["u" * 256, {f"k{i}": i for i in range(50)}],
        ["u-42", {"plan": "pro", "seats": 3, "trial": False, "s": "v" * 256, "f": 1.5}],
    ]
    assert errors == []
    index = combine(summarize("builtin", b.page, b.events or []) for b in batches)
    assert index.user_id == "u-42"
    assert index.user_props["plan"] == "pro" and index.user_props["k49"] == 49
    assert "k50" not in index.user_props


def test_an_edit_typed_across_many_batches_counts_once(
    worker: Worker, bundle: str, contexts: list[BrowserContext]
) -> None:
    session = uuid.uuid4().hex
    config = {"ingestUrl": worker.server.ingest_url(session), "session": session}
    context = worker.browser.new_context()
    contexts.append(context)
    options = json.dumps({**config, "flushIntervalMs": 50})
    context.add_init_script(
        f"if (location.protocol !== 'about:') {{{bundle};"
        f"window.__rec = replaycheckRecord.record({options});}}"
    )
    tab = context.new_page()
    tab.goto(worker.server.mount(PAGES) + "events.html")
    tab.evaluate("window.__rec.flush()")
    tab.type("#field", "typed slowly", delay=40)
    tab.click("#btn")
    tab.evaluate("window.__rec.flush()")
    batches = accepted(worker, session)
    summaries = [summarize("builtin", b.page, b.events or []) for b in batches]
    assert sum(s.inputs for s in summaries) > 1, "the edit did not span batches"
    adapter = adapters.get("builtin")
    counts = events.count(adapter.interactions(adapter.decode(worker.server.batches(session))))
    assert combine(summaries).inputs == counts["input"] == 1


SCENARIOS = ("rage-click", "multi-page", "form", "js-error")


@pytest.mark.parametrize("recorder", ["builtin", "rrweb"])
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_recorded_scenario_counts_as_the_harness_counts(
    worker: Worker, name: str, recorder: str
) -> None:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    adapter = adapters.get(recorder)
    stream = record(worker.browser, worker.server, scenario, adapter).stream
    counts = events.count(found := adapter.interactions(stream))
    whole = whole_batches(stream.batches)
    summaries = [
        summarize(recorder, page, whole[(page, seq)]["events"])  # type: ignore[arg-type]
        for page, seq in sorted(whole)
    ]
    index = combine(summaries)
    assert {
        "click": len(index.clicks),
        "input": index.inputs,
        "navigation": index.navigations,
        "error": index.errors,
        "rage_click": len(rage_marks(index.clicks)),
        "checkpoint": sum(m.kind == "checkpoint" for m in index.marks),
    } == {**{k: counts[k] for k in ("click", "input", "navigation", "error", "rage_click")},
          "checkpoint": sum(i.kind == "checkpoint" for i in found)}  # fmt: skip
    expected = {"rage-click": ("rage_click", 1), "multi-page": ("navigation", 3)}
    expected |= {"form": ("input", 10), "js-error": ("error", 2)}
    kind, least = expected[name]
    assert counts[kind] >= least, counts
    assert index.start is not None and index.end is not None and index.start < index.end
    assert index.urls and all(u.startswith("http") for u in index.urls)
    assert index.viewport == (scenario.viewport.width, scenario.viewport.height)
    assert index.activity and active_ms(index.activity, index.end) <= index.end - index.start
