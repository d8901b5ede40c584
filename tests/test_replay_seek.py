"""Seeking in real Chromium: a replayer seeked to many moments, forwards and backwards in random
order (from keyframes, from the snapshot, or forwards from where it was), shows exactly what a
fresh replayer seeked straight there shows. Streams: a generated long session
(bench/longsession.py) and recordings of bundled scenarios made by the harness."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from bench.longsession import long_session
from harness import adapters
from harness.drive import record
from harness.scenario import load_scenario
from harness.stream import whole_batches
from harness.worker import Worker
from tests.test_replay import bundle

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

# What the canonical DOM leaves out, read from the replayed document itself: the raw tree
# (every attribute as set, replayer classes included, text, open shadow roots, template
# contents, frames), form properties, scroll positions, focus, dialogs and the top layer,
# adopted sheets and each <style>'s CSSOM rules, and what a painted canvas shows.
STATE = """(doc) => {
  const win = doc.defaultView;
  const out = {tree: [], scroll: [], forms: [], dialogs: [], paints: [], sheets: []};
  const rules = (sheet) => { try { return Array.from(sheet.cssRules, (r) => r.cssText); }
                             catch { return ['unreadable']; } };
  const walk = (node, path, d) => {
    const t = node.nodeType;
    if (t === 1) {
      // In name order: the order attributes were set in shows nowhere (and a forward seek
      // puts the replayer's :hover class on before attributes set later, a fresh one after).
      const attrs = Array.from(node.attributes, (a) => a.name + '=' + a.value).sort();
      out.tree.push([path, node.localName, attrs]);
      if (node.scrollTop || node.scrollLeft)
        out.scroll.push([path, node.scrollLeft, node.scrollTop]);
      const tag = node.localName;
      if (tag === 'input' || tag === 'textarea' || tag === 'select')
        out.forms.push([path, node.value, node.checked ?? null, node.validity.customError]);
      if (tag === 'option') out.forms.push([path, node.selected]);
      if (tag === 'dialog') out.dialogs.push([path, node.open, node.matches(':modal')]);
      if (tag === 'style' && node.sheet) out.sheets.push([path, rules(node.sheet)]);
      const content = d.defaultView.getComputedStyle(node).content;
      if (content !== 'normal' && content !== 'none') out.paints.push([path, content]);
      if (node.shadowRoot) {
        out.sheets.push([path + '/#shadow', node.shadowRoot.adoptedStyleSheets.map(rules)]);
        kids(node.shadowRoot, path + '/#shadow', d);
      }
      if (tag === 'template') kids(node.content, path + '/#content', d);
      if (tag === 'iframe' && node.contentDocument) document_(node.contentDocument, path + '/#doc');
    } else if (t === 3 || t === 8) {
      out.tree.push([path, t, node.data]);
    } else if (t === 10) {
      out.tree.push([path, 'doctype', node.name, node.publicId, node.systemId]);
    }
    kids(node, path, d);
  };
  const kids = (node, path, d) => {
    let i = 0;
    for (let c = node.firstChild; c; c = c.nextSibling) walk(c, path + '/' + i++, d);
  };
  const document_ = (d, path) => {
    out.tree.push([path, 'document', d.compatMode]);
    out.sheets.push([path, d.adoptedStyleSheets.map(rules)]);
    out.scroll.push([path, d.defaultView.scrollX, d.defaultView.scrollY]);
    kids(d, path, d);
  };
  document_(doc, '');
  let active = doc.activeElement;
  while (active && active.shadowRoot && active.shadowRoot.activeElement)
    active = active.shadowRoot.activeElement;
  out.focus = active ? [active.localName, active.id, active.matches(':focus-visible')] : null;
  out.size = [win.innerWidth, win.innerHeight];
  return out;
}"""

# A replayer in a root of its own; `keyframes` as the option says.
OPEN = """([events, options]) => {
  const root = document.createElement('div');
  document.body.append(root);
  const r = new replaycheckReplay.Replayer(events, {root, showCursor: false, ...options});
  window.replayers.push(r);
  return window.replayers.length - 1;
}"""


@pytest.fixture(scope="module")
def replay_url(worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A plain page with the replayer (from source) and the harness's DOM canonicaliser."""
    tmp = tmp_path_factory.mktemp("seek")
    code = bundle(
        ROOT / "recorder" / "src" / "replay" / "index.ts", "replaycheckReplay", tmp / "r.js"
    )
    canon = bundle(ROOT / "harness" / "js" / "src" / "canonical.ts", "__rcCanon", tmp / "c.js")
    worker.server.add_asset("seek-test/replay.js", code, "text/javascript")
    worker.server.add_asset("seek-test/canon.js", canon, "text/javascript")
    html = (
        "<!doctype html><body style='margin:0'><script src='replay.js'></script>"
        "<script src='canon.js'></script><script>window.replayers = [];</script></body>"
    )
    return worker.server.add_asset("seek-test/index.html", html, "text/html")


@pytest.fixture
def page(worker: Worker, replay_url: str) -> Iterator[Page]:
    context = worker.browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.goto(replay_url)
    yield tab
    context.close()


@pytest.fixture
def fresh_page(worker: Worker, replay_url: str) -> Iterator[Page]:
    """Where the fresh replayers go: a page of its own has a focus of its own."""
    context = worker.browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.goto(replay_url)
    yield tab
    context.close()


def events_of(page: Page, batches: list[dict[str, Any]]) -> list[Any]:
    """The events as the viewer gives them to the replayer: fromBatches of the batches."""
    events: list[Any] = page.evaluate(
        "(text) => replaycheckReplay.fromBatches(JSON.parse(text))", json.dumps(batches)
    )
    return events


def state(page: Page, replayer: int) -> dict[str, Any]:
    """The replayed document of replayer `replayer`: canonical DOM plus the raw STATE."""
    got: dict[str, Any] = page.evaluate(
        f"""async (i) => {{
          const r = window.replayers[i];
          const doc = r.iframe.contentDocument;
          // A <link> not yet replaced by its recorded rules loads its sheet: wait (1 s at most).
          for (let n = 0; n < 50 && Array.from(doc.querySelectorAll('link[rel~=stylesheet]'))
                 .some((l) => !l.sheet); n++) await new Promise((done) => setTimeout(done, 20));
          await r.ready();
          const opts = {{mask: [], block: [], maskAllInputs: false, maskAllText: false,
                        url: r.href}};
          return {{canon: JSON.stringify(__rcCanon.canonicalDom(doc, opts)),
                  raw: ({STATE})(doc), href: r.href, time: r.currentTime,
                  masked: r.maskedElements().length}};
        }}""",
        replayer,
    )
    return got


def check_seeks(
    page: Page, fresh_page: Page, events: list[Any], moments: list[float], every: int
) -> int:
    """Seek one replayer (keyframes every `every` ms of work) to `moments` in that order; at
    each, compare with a fresh replayer (no keyframes, in `fresh_page`) seeked straight there.
    Returns how many seeks started from a keyframe."""
    seeker = page.evaluate(OPEN, [events, {"keyframes": every}])
    assert page.evaluate(f"window.replayers[{seeker}].keyframesReady()") >= 1
    # Count the seeks that start from a keyframe: the path under test.
    page.evaluate(
        """(i) => { const r = window.replayers[i]; const restore = r.restore.bind(r);
                    window.restores = 0;
                    r.restore = (...a) => { window.restores++; return restore(...a); }; }""",
        seeker,
    )
    for k, at in enumerate(moments):
        path = moments[: k + 1]  # the seeks so far, for a failure's message
        page.evaluate("([i, at]) => window.replayers[i].seek(at)", [seeker, at])
        got = state(page, seeker)
        fresh = fresh_page.evaluate(OPEN, [events, {"keyframes": False}])
        fresh_page.evaluate("([i, at]) => window.replayers[i].seek(at)", [fresh, at])
        want = state(fresh_page, fresh)
        for key in ("canon", "href", "time", "masked"):
            assert got[key] == want[key], (path, key, first_difference(got[key], want[key]))
        for key, value in want["raw"].items():
            assert got["raw"][key] == value, (path, key, first_difference(got["raw"][key], value))
        fresh_page.evaluate(
            "(i) => { window.replayers[i].iframe.parentElement.parentElement.remove(); }", fresh
        )
    restores: int = page.evaluate("window.restores")
    return restores


def first_difference(got: Any, want: Any) -> str:
    """Where two states first differ, for the failure message."""
    a = got if isinstance(got, str) else json.dumps(got)
    b = want if isinstance(want, str) else json.dumps(want)
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    around = slice(max(0, at - 150), at + 150)
    return f"at {at}: got ...{a[around]}... want ...{b[around]}..."


def moments_of(events: list[Any], n: int, seed: int) -> list[float]:
    """`n` moments in random order: event times (exactly at an event), and between them."""
    times = sorted({e[1] - events[0][1] for e in events})
    rng = random.Random(seed)
    picked = rng.sample(times, min(n // 2, len(times)))
    picked += [rng.uniform(0, times[-1]) for _ in range(n - len(picked))]
    rng.shuffle(picked)
    return picked


def test_generated_long_session_seeks_to_the_same_state_from_keyframes(
    page: Page, fresh_page: Page
) -> None:
    # Two minutes, two page loads: every kind of event the generator makes (shadow-root
    # texts, adopted sheets, style rules, dialogs, canvas, inputs, scrolls, focus, routes).
    events = events_of(page, long_session(minutes=2, seed=3, page_loads=2))
    restores = check_seeks(page, fresh_page, events, moments_of(events, 12, seed=5), every=3)
    assert restores >= 5


SCENARIO_NAMES = [
    "shadow-dom",
    "adopted-stylesheets",
    "css-in-js",
    "form",
    "scroll-container",
    "canvas",
    "dialog",
    "dynamic-list",
    "iframe",
    "multi-page",
]


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_recorded_scenario_seeks_to_the_same_state_from_keyframes(
    page: Page, fresh_page: Page, worker: Worker, name: str
) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    recording = record(worker.browser, worker.server, scenario, adapters.get("builtin"))
    batches = list(whole_batches(recording.stream.batches).values())
    events = events_of(page, batches)
    # A keyframe after every event: every state of the page is copied and built again.
    moments = moments_of(events, 20, seed=len(name))
    restores = check_seeks(page, fresh_page, events, moments, every=0)
    # Keyframes come after the snapshot, one per moment events happen at: a short stream (the
    # end event of a closed page comes late on a loaded machine, or not at all) has one.
    assert restores >= min(2, len({e[1] for e in events}) - 1)


def test_the_background_copy_runs_nothing_the_stream_holds(page: Page) -> None:
    # The hidden frame keyframes come from builds the same untrusted content: with scripts
    # allowed in both frames, the replayer's filters alone keep it inert there too.
    doc = [0, 1, [[1, 2, "html", "", ""], [2, 3, "html", {}, [
        [2, 4, "head", {}, []],
        [2, 5, "body", {"onload": "top.__pwned = 'onload'"}, [
            [2, 6, "script", {}, [[3, 7, "top.__pwned = 'script'"]]],
            [2, 8, "img", {"src": "data:,x", "onerror": "top.__pwned = 'onerror'"}, []],
            [2, 9, "a", {"id": "a", "href": "javascript:top.__pwned='href'"}, [[3, 10, "a"]]],
        ]],
    ]]]]  # fmt: skip
    t0 = 1_700_000_000_000
    events: list[Any] = [[0, t0, "http://example.test/", "t", 800, 600, 1], [1, t0, doc, 0, 0]]
    for i in range(20):
        add = [5, 0, [2, 100 + i, "img", {"src": "data:,y", "onerror": "top.__pwned='add'"}, []]]
        events.append([2, t0 + 10 * (i + 1), [add], [], [[9, "onclick", "top.__pwned='attr'"]], []])
    sandbox = "allow-same-origin allow-scripts"
    i = page.evaluate(OPEN, [events, {"keyframes": 0, "sandbox": sandbox}])
    assert page.evaluate(f"window.replayers[{i}].keyframesReady()") >= 20
    page.evaluate(f"window.replayers[{i}].seek(105)")
    page.wait_for_timeout(300)  # an image's error handler would have run by now
    # The replay's frame and its background copy's (private: reached as the replayer holds it).
    frames = f"[window.replayers[{i}].iframe, window.replayers[{i}].keys.iframe]"
    pwned = page.evaluate(
        f"""() => [window.__pwned, ...{frames}.map((f) =>
                    [f.contentWindow.__pwned, f.contentDocument.scripts[0].outerHTML,
                     f.contentDocument.querySelectorAll('img').length])]"""
    )
    # The replay at 105 ms holds 10 of the 20 added images, the copy (derived to the end) all.
    assert pwned == [None, [None, "<script></script>", 11], [None, "<script></script>", 21]]
    # The copy's frame is sandboxed as the replay's is, and not in the viewer's document tree.
    assert page.evaluate("() => document.querySelectorAll('iframe').length") == 1
    assert page.evaluate(f"{frames}.map((f) => f.getAttribute('sandbox'))") == [sandbox] * 2


def test_keyframes_by_default_only_for_long_page_loads(page: Page) -> None:
    long = events_of(page, long_session(minutes=3, seed=2, page_loads=1))
    short = events_of(page, long_session(minutes=0.2, seed=2, page_loads=1))
    counts = [
        page.evaluate(f"window.replayers[{page.evaluate(OPEN, [events, {}])}].keyframesReady()")
        for events in (long, short)
    ]
    assert counts[0] >= 1 and counts[1] == 0
    # Keyframes or not, a seek lands where it is asked to.
    assert (
        page.evaluate("(r => { r.seek(170000); return r.currentTime; })(window.replayers[0])")
        == 170000
    )
