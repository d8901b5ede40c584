"""The built-in recorder (recorder/dist/record.js) in real Chromium, asserted on what it ships.

Events and nodes are the positional arrays of recorder/src/format.ts.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from harness.server import Server
from harness.stream import decode_body, whole_batches
from harness.worker import Worker
from service.ingest import EventType as T

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).parent / "fixtures" / "record"

Event = list[Any]
Node = list[Any]


DOCUMENT, DOCTYPE, ELEMENT, TEXT, COMMENT = range(5)


@pytest.fixture(scope="session")
def bundle() -> str:
    subprocess.run(["node", "build.mjs"], cwd=ROOT, check=True)
    return (ROOT / "recorder" / "dist" / "record.js").read_text()


@dataclass
class Recording:
    page: Page
    session: str
    server: Server
    errors: list[str]

    def flush(self) -> None:
        self.page.evaluate("window.__rec.flush()")

    def envelopes(self) -> list[dict[str, Any]]:
        """In sending order: batches compress concurrently, a small one can arrive first. A
        batch may come twice (sent at pagehide and again by the next page): kept once."""
        whole = whole_batches(self.server.batches(self.session))
        return [whole[key] for key in sorted(whole)]

    def events(self) -> list[Event]:
        self.flush()
        return [e for envelope in self.envelopes() for e in envelope["events"]]

    def raw(self) -> str:
        """Every batch as decoded text: what a leak scan reads."""
        return "\n".join(decode_body(b).decode() for b in self.server.batches(self.session))


Start = Callable[..., Recording]


def init_script(bundle: str, options: dict[str, Any]) -> str:
    # Top frame of a real page only: iframes are recorded from their parent, about:blank is noise.
    return (
        "(function(){if(window.top!==window||location.protocol==='about:')return;"
        f"{bundle};window.__rec=replaycheckRecord.record({json.dumps(options)})}})()"
    )


@pytest.fixture
def start(worker: Worker, bundle: str) -> Iterator[Start]:
    contexts: list[BrowserContext] = []

    def start(
        page: str, before: str = "", inject: bool = True, throttle: float = 1, **options: Any
    ) -> Recording:
        session = uuid.uuid4().hex
        context = worker.browser.new_context(viewport={"width": 800, "height": 600})
        contexts.append(context)
        if before:
            context.add_init_script(before)
        if inject:
            config = {"ingestUrl": worker.server.ingest_url(session), "session": session, **options}
            context.add_init_script(init_script(bundle, config))
        tab = context.new_page()
        if throttle != 1:
            cdp = context.new_cdp_session(tab)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(worker.server.mount(PAGES) + page)
        return Recording(tab, session, worker.server, errors)

    yield start
    for context in contexts:
        context.close()


# Tree helpers -------------------------------------------------------------------------------


def extra(n: Node) -> dict[str, Any]:
    return n[5] if n[0] == ELEMENT and len(n) > 5 else {}


def kids(n: Node) -> list[Node]:
    if n[0] == DOCUMENT:
        return list(n[2])
    if n[0] != ELEMENT:
        return []
    x = extra(n)
    return [*n[4], *x.get("shadow", []), *([x["frame"]] if x.get("frame") else [])]


def nodes(n: Node) -> Iterator[Node]:
    yield n
    for k in kids(n):
        yield from nodes(k)


def by_id(root: Node, html_id: str) -> Node:
    found = [n for n in nodes(root) if n[0] == ELEMENT and n[3].get("id") == html_id]
    assert found, f"no #{html_id} in the tree"
    return found[-1]


def text(n: Node) -> str:
    return "".join(k[2] for k in nodes(n) if k[0] == TEXT)


def masked_texts(n: Node) -> list[bool]:
    """For each text node under `n`: whether the recorder flagged it masked."""
    return [len(k) > 3 and k[3] == 1 for k in nodes(n) if k[0] == TEXT]


def of(events: list[Event], kind: T) -> list[Event]:
    return [e for e in events if e[0] == kind]


def snapshot(events: list[Event]) -> Node:
    snaps = of(events, T.SNAPSHOT)
    assert len(snaps) == 1
    root: Node = snaps[0][2]
    return root


def added(events: list[Event]) -> list[Node]:
    """Every node added by mutations, with its subtree."""
    return [n for e in of(events, T.MUTATION) for add in e[2] for n in nodes(add[2])]


# Full snapshot ------------------------------------------------------------------------------


def test_a_page_load_starts_with_navigation_meta_snapshot(start: Start) -> None:
    rec = start("snapshot.html")
    events = rec.events()
    url = rec.page.url
    assert events[0][:4] == [T.NAVIGATION, events[0][1], 0, url]
    assert events[1][0] == T.META and events[1][2:] == [url, "Snapshot fixture", 800, 600, 1]
    assert events[2][0] == T.SNAPSHOT and events[2][3:] == [0, 0]
    root = snapshot(events)
    assert root[0] == DOCUMENT and root[2][0][:3] == [DOCTYPE, root[2][0][1], "html"]
    assert any(n[0] == COMMENT and n[2] == " a comment " for n in nodes(root))
    assert text(by_id(root, "text")) == "Hello world"
    assert len({n[1] for n in nodes(root)}) == len(list(nodes(root))), "ids are unique"
    assert rec.errors == []


def test_snapshot_urls_are_absolute_and_scripts_are_not_carried(start: Start) -> None:
    rec = start("snapshot.html")
    root = snapshot(rec.events())
    base = rec.page.url.rsplit("/", 1)[0] + "/"
    assert by_id(root, "rel-link")[3]["href"] == base + "page.html?q=1"
    img = by_id(root, "img")[3]
    assert img["src"] == base + "img/a.png"
    assert img["srcset"] == f"{base}img/a.png 1x, {base}img/b.png 2x"
    assert by_id(root, "form")[3]["action"] == base + "submit"
    assert by_id(root, "video")[3]["poster"] == base + "img/poster.png"
    assert by_id(root, "styled")[3]["style"] == f'background-image: url("{base}img/bg.png")'
    # The link keeps its look (a[href], :link) without its code; on* handlers are dropped.
    assert by_id(root, "js-link")[3] == {"id": "js-link", "href": "javascript:"}
    scripts = [n for n in nodes(root) if n[0] == ELEMENT and n[2] == "script"]
    assert len(scripts) == 3
    assert all(s[4] == [] and "src" not in s[3] for s in scripts)


def test_snapshot_css_comes_from_the_cssom(start: Start) -> None:
    rec = start("snapshot.html")
    root = snapshot(rec.events())
    style = by_id(root, "inline-style")
    assert style[4] == [] and ".inserted { color: rgb(1, 2, 3); }" in extra(style)["css"]
    link = next(n for n in nodes(root) if n[0] == ELEMENT and n[2] == "link")
    base = rec.page.url.rsplit("/", 1)[0] + "/"
    assert extra(link)["css"].startswith(".linked { color: green;")
    assert f'url("{base}img/linked.png")' in extra(link)["css"]
    assert root[3] == ["body { margin: 3px; }"], "document adoptedStyleSheets"
    host = extra(by_id(root, "host"))
    assert text(host["shadow"][0]) == "shadow text"
    assert host["shadowSheets"] == ["span { color: blue; }"]


def test_snapshot_form_state_dialog_canvas_svg_details(start: Start) -> None:
    rec = start("snapshot.html", maskAllInputs=False)
    root = snapshot(rec.events())
    assert extra(by_id(root, "typed"))["value"] == "set by script"
    assert extra(by_id(root, "box"))["checked"] is True
    options = [n for n in nodes(by_id(root, "sel")) if n[2] == "option"]
    assert [extra(o).get("selected") for o in options] == [None, True]
    assert extra(by_id(root, "area")) == {"value": "area by script"}
    assert by_id(root, "area")[4] == []
    assert extra(by_id(root, "dlg"))["dialog"] == 2
    assert extra(by_id(root, "cv"))["canvas"].startswith("data:image/png;base64,")
    svg = by_id(root, "svg")
    assert extra(svg)["ns"] == 1 and extra(svg[4][0])["ns"] == 1
    assert "ns" not in extra(by_id(root, "text"))
    assert by_id(root, "details")[3]["open"] == ""


def test_snapshot_reads_scroll_positions_when_started_late(start: Start, bundle: str) -> None:
    rec = start("events.html", inject=False)
    rec.page.evaluate("window.scrollTo(0, 300); document.getElementById('pane').scrollTop = 150")
    options = {"ingestUrl": rec.server.ingest_url(rec.session), "session": rec.session}
    rec.page.evaluate(f"{bundle};window.__rec=replaycheckRecord.record({json.dumps(options)});0")
    events = rec.events()
    assert of(events, T.SNAPSHOT)[0][3:] == [0, 300]
    assert extra(by_id(snapshot(events), "pane"))["scroll"] == [0, 150]


def test_started_late_by_the_loader_the_snapshot_reads_what_it_saw_scroll(
    start: Start, bundle: str
) -> None:
    """The loader hears scrolls from the page's start (replaycheckLoader.scrolled); handed to
    record(), the snapshot reads those elements' positions, and every one where its listener
    cannot hear: inside a shadow root or a frame's document."""
    loader = (ROOT / "recorder" / "dist" / "loader.js").read_text()
    # As a page's first script would (an init script runs inside a function: its var is no global).
    loading = f"{loader}\nwindow.replaycheckLoader = replaycheckLoader;replaycheckLoader.load('x')"
    rec = start("events.html", before=loading, inject=False)
    rec.page.evaluate(
        """() => new Promise((done) => {
          const host = document.body.appendChild(document.createElement('div'));
          host.id = 'host';
          const root = host.attachShadow({ mode: 'open' });
          const wrap = root.appendChild(document.createElement('div'));
          const inner = wrap.appendChild(document.createElement('div'));
          inner.style.cssText = 'height: 50px; overflow: auto';
          inner.innerHTML = '<div style="height: 500px">inside</div>';
          window.scrollTo(0, 300);
          document.getElementById('pane').scrollTop = 150;
          inner.scrollTop = 40;
          const frame = document.body.appendChild(document.createElement('iframe'));
          frame.srcdoc = '<div id="fp" style="height: 50px; overflow: auto">' +
            '<div style="height: 500px">in the frame</div></div>';
          frame.onload = () => {
            frame.contentDocument.getElementById('fp').scrollTop = 30;
            // Scroll events fire with the next frame: the loader has heard them after two.
            requestAnimationFrame(() => requestAnimationFrame(() => done()));
          };
        })"""
    )
    options = {"ingestUrl": rec.server.ingest_url(rec.session), "session": rec.session}
    rec.page.evaluate(
        f"{bundle};window.__rec=replaycheckRecord.record({json.dumps(options)},"
        " replaycheckLoader.scrolled);0"
    )
    events = rec.events()
    assert of(events, T.SNAPSHOT)[0][3:] == [0, 300]
    root = snapshot(events)
    assert extra(by_id(root, "pane"))["scroll"] == [0, 150]
    [wrap] = extra(by_id(root, "host"))["shadow"]
    assert extra(wrap[4][0])["scroll"] == [0, 40]
    [frame] = [n for n in nodes(root) if n[0] == ELEMENT and n[2] == "iframe"]
    assert extra(by_id(extra(frame)["frame"], "fp"))["scroll"] == [0, 30]
    assert rec.errors == []


@pytest.mark.parametrize("scrolled", ["[]", "'x'", "new Set()", "{ has: () => { throw 1; } }"])
def test_a_second_argument_that_is_no_weakset_is_ignored(
    start: Start, bundle: str, scrolled: str
) -> None:
    """record()'s second argument must be the loader's WeakSet; anything else is left alone
    rather than asked about each element (which would throw, and leave each one out)."""
    rec = start("events.html", inject=False)
    rec.page.evaluate("document.getElementById('pane').scrollTop = 150")
    options = {"ingestUrl": rec.server.ingest_url(rec.session), "session": rec.session}
    rec.page.evaluate(
        f"{bundle};window.__rec=replaycheckRecord.record({json.dumps(options)}, {scrolled});0"
    )
    root = snapshot(rec.events())
    assert extra(by_id(root, "pane"))["scroll"] == [0, 150]
    assert rec.errors == []


def test_same_origin_iframe_is_carried_and_recorded_inside(start: Start) -> None:
    rec = start("snapshot.html", maskAllInputs=False)
    frame = rec.page.frame_locator("#frame")
    frame.locator("#child-text").wait_for()
    rec.page.wait_for_timeout(50)
    events = rec.events()
    # Loaded after the snapshot, the iframe is sent again with its document; else it is in it.
    sent = [*nodes(snapshot(events)), *added(events)]
    doc = extra([n for n in sent if n[0] == ELEMENT and n[2] == "iframe"][-1])["frame"]
    assert doc[0] == DOCUMENT and text(by_id(doc, "child-text")) == "inside the frame"
    child = rec.page.frames[1]
    child.evaluate("document.getElementById('child-text').firstChild.data = 'changed in frame'")
    frame.locator("#child-input").fill("typed in frame")
    later = rec.events()[len(events) :]
    text_id = by_id(doc, "child-text")[4][0][1]
    assert [text_id, "changed in frame"] in [t for e in of(later, T.MUTATION) for t in e[5]]
    inputs = of(later, T.INPUT)
    assert inputs and inputs[-1][2:] == [by_id(doc, "child-input")[1], "typed in frame"]


def test_a_frame_document_that_throws_is_left_out_and_the_snapshot_goes_on(start: Start) -> None:
    rec = start("odd-frame.html")
    root = snapshot(rec.events())  # the snapshot's JSON text parses
    iframe = by_id(root, "odd")
    assert extra(iframe)["frame"] is None  # written as it was met: null stands for it
    assert text(by_id(root, "after")) == "after the frame"
    host = by_id(root, "host")
    assert host[3] == {"id": "host", "class": "card"}
    assert [k[2] for k in host[4]] == ["span"] and text(host[4][0]) == "light child"
    assert [k[2] for k in extra(host)["shadow"]] == ["b", "slot"]
    assert rec.errors == []


# Incremental events -------------------------------------------------------------------------


class MiniReplay:
    """Snapshot + mutations applied the way docs/stream-format.md says, to compare with the page."""

    def __init__(self, root: Node) -> None:
        self.nodes: dict[int, dict[str, Any]] = {}
        self.build(root)

    def build(self, sn: Node) -> dict[str, Any]:
        node: dict[str, Any] = {"kind": sn[0], "in": None, "kids": [], "shadow": None}
        if sn[0] == ELEMENT:
            node.update(tag=sn[2], attrs=dict(sn[3]))
            for k in sn[4]:
                self.put(node["kids"], self.build(k))
            if "shadow" in extra(sn):
                node["shadow"] = []
                for k in extra(sn)["shadow"]:
                    self.put(node["shadow"], self.build(k))
        elif sn[0] == DOCUMENT:
            for k in sn[2]:
                self.put(node["kids"], self.build(k))
        else:
            node["text"] = sn[2]
        self.nodes[sn[1]] = node
        return node

    @staticmethod
    def put(into: list[dict[str, Any]], node: dict[str, Any], before: Any = None) -> None:
        node["in"] = into
        at = next((i for i, n in enumerate(into) if n is before), len(into))
        into.insert(at, node)

    def apply(self, event: Event) -> None:
        _, _, adds, removes, attrs, texts = event
        for _, node_id in removes:
            node = self.nodes.get(node_id)
            if node and node["in"] is not None:
                node["in"][:] = [n for n in node["in"] if n is not node]
                node["in"] = None
        for parent, nxt, sn in adds:
            if parent < 0:
                host = self.nodes[-parent]
                if host["shadow"] is None:
                    host["shadow"] = []
                into = host["shadow"]
            else:
                into = self.nodes[parent]["kids"]
            self.put(into, self.build(sn), self.nodes.get(nxt) if nxt else None)
        for node_id, name, value in attrs:
            if value is None:
                self.nodes[node_id]["attrs"].pop(name, None)
            else:
                self.nodes[node_id]["attrs"][name] = value
        for node_id, value in texts:
            self.nodes[node_id]["text"] = value

    def dump(self, node: dict[str, Any]) -> Any:
        if node["kind"] != ELEMENT:
            return node.get("text")
        out = [node["tag"], node["attrs"], [self.dump(k) for k in node["kids"]]]
        if node["shadow"] is not None:
            out.append([self.dump(k) for k in node["shadow"]])
        return out


LIVE_DUMP = """(id) => {
  const dump = (n) => {
    if (n.nodeType === 3) return n.data;
    const attrs = {};
    for (const a of n.attributes) attrs[a.name] = a.value;
    const out = [n.localName, attrs, Array.from(n.childNodes, dump)];
    if (n.shadowRoot) out.push(Array.from(n.shadowRoot.childNodes, dump));
    return out;
  };
  return dump(document.getElementById(id));
}"""


@pytest.mark.parametrize("seed", [1, 7])
def test_changes_during_a_sliced_snapshot_replay_to_the_live_dom(start: Start, seed: int) -> None:
    rec = start(f"churn.html?seed={seed}")
    rec.page.wait_for_function("window.churnDone", timeout=20000)
    events = rec.events()
    replay = MiniReplay(snapshot(events))
    for e in of(events, T.MUTATION):
        replay.apply(e)
    root = by_id(snapshot(events), "root")[1]
    assert replay.dump(replay.nodes[root]) == rec.page.evaluate(LIVE_DUMP, "root")
    assert rec.errors == []


def test_mutations_are_batched_lazy_and_ordered(start: Start) -> None:
    rec = start("events.html")
    before = len(rec.events())
    rec.page.evaluate(
        """() => {
        const list = document.getElementById('list');
        const first = document.getElementById('first'), second = document.getElementById('second');
        const gone = document.createElement('p'); gone.textContent = 'gone';
        list.append(gone); gone.remove();                 // costs nothing
        const added = document.createElement('p'); list.append(added);
        added.textContent = 'added later'; added.setAttribute('data-x', '1');  // serialized once
        list.append(first);                                // a move: remove + add
        second.setAttribute('title', 'changed');
        second.firstChild.data = 'second changed';
    }"""
    )
    events = rec.events()
    root = snapshot(events)
    first, second, list_ = by_id(root, "first"), by_id(root, "second"), by_id(root, "list")
    mutations = of(events[before:], T.MUTATION)
    assert len(mutations) == 1, "one observer callback, one event"
    _, _, adds, removes, attrs, texts = mutations[0]
    assert [a[2][1] for a in adds] == [first[1], adds[1][2][1]]
    assert adds[0][:2] == [list_[1], 0] and adds[1][:2] == [list_[1], first[1]]
    assert adds[1][2][2:5] == ["p", {"data-x": "1"}, [[TEXT, adds[1][2][4][0][1], "added later"]]]
    assert "gone" not in json.dumps(mutations)
    assert removes == [[list_[1], first[1]]]
    assert attrs == [[second[1], "title", "changed"]]
    assert texts == [[second[4][0][1], "second changed"]]


def test_stylesheet_changes_and_adopted_sheets(start: Start) -> None:
    rec = start("events.html")
    before = len(rec.events())
    rec.page.evaluate(
        """() => {
        const sheet = document.getElementById('sheet').sheet;
        sheet.insertRule('.c { color: green; }', 0);
        sheet.cssRules[2].insertRule('.d { color: pink; }', 0);
    }"""
    )
    rec.page.evaluate(
        """() => {
        window.extraSheet = new CSSStyleSheet();
        extraSheet.replaceSync('.e { color: red; }');
        document.adoptedStyleSheets = [extraSheet];
    }"""
    )
    rec.page.evaluate("extraSheet.insertRule('.f { color: blue; }', 1)")
    rec.page.wait_for_timeout(20)
    rec.page.evaluate("document.getElementById('sheet').textContent = '.g { color: red; }'")
    rec.page.wait_for_timeout(20)
    events = rec.events()
    sheet_id = by_id(snapshot(events), "sheet")[1]
    sheets = of(events[before:], T.STYLE_SHEET)
    assert len(sheets[0]) == 4 and sheets[0][2] == sheet_id
    assert ".c { color: green; }" in sheets[0][3] and ".d { color: pink; }" in sheets[0][3]
    assert sheets[-1][2:] == [sheet_id, ".g { color: red; }"]
    adopted = [e[2:] for e in of(events[before:], T.ADOPTED_SHEETS)]
    assert [0, [".e { color: red; }"]] in adopted
    assert adopted[-1] == [0, [".e { color: red; }.f { color: blue; }"]]


def test_input_events_from_user_and_script(start: Start) -> None:
    rec = start("events.html", maskAllInputs=False)
    ids = {k: by_id(snapshot(rec.events()), k)[1] for k in ("field", "check", "choice")}
    rec.page.fill("#field", "hello")
    rec.page.evaluate("document.getElementById('field').value = 'from script'")
    rec.page.check("#check")
    rec.page.select_option("#choice", "y")
    rec.page.evaluate("document.getElementById('choice').selectedIndex = 0")
    inputs = [e[2:] for e in of(rec.events(), T.INPUT)]
    assert inputs == [
        [ids["field"], "hello"],
        [ids["field"], "from script"],
        # Left by the user (the check's click): :user-valid (16), sent alone.
        [ids["field"], "from script", 16],
        [ids["check"], True],
        [ids["check"], True, 16],  # its change event, after the input event
        [ids["choice"], "y"],
        [ids["choice"], "x"],
    ]


def test_pointer_scroll_focus_and_viewport(start: Start) -> None:
    rec = start("events.html")
    root = snapshot(rec.events())
    page = rec.page
    page.mouse.move(10, 10)
    page.mouse.move(200, 150, steps=5)
    page.wait_for_timeout(120)
    page.click("#btn")
    page.dblclick("#btn")
    page.click("#btn", button="right")
    page.click("#field")
    page.evaluate("window.scrollTo(0, 500); document.getElementById('pane').scrollTop = 200")
    page.wait_for_timeout(250)
    page.set_viewport_size({"width": 700, "height": 500})
    page.wait_for_timeout(250)
    events = rec.events()
    positions = [p[:2] for e in of(events, T.MOUSE_MOVE) for p in e[2]]
    assert [200, 150] in positions
    btn = by_id(root, "btn")[1]
    kinds = [e[2] for e in of(events, T.MOUSE) if e[3] == btn]
    assert kinds[:3] == [0, 1, 2] and 3 in kinds and 4 in kinds
    assert all(isinstance(e[4], int) and isinstance(e[5], int) for e in of(events, T.MOUSE))
    # Clicked: the button shows no focus ring, the text field does (:focus-visible, flag 1).
    focus = [e[2:] for e in of(events, T.FOCUS)]
    assert [btn] in focus and [by_id(root, "field")[1], 1] in focus
    scrolls = [e[2:] for e in of(events, T.SCROLL)]
    assert [0, 0, 500] in scrolls and [by_id(root, "pane")[1], 0, 200] in scrolls
    assert of(events, T.VIEWPORT)[-1][2:] == [700, 500]


def test_navigation_errors_dialogs_canvas_and_checkpoints(start: Start) -> None:
    rec = start("events.html")
    page = rec.page
    page.evaluate("history.pushState({}, '', 'step-1'); history.pushState({}, '', 'step-2')")
    page.evaluate("history.replaceState({}, '', 'step-3')")
    page.go_back()
    page.evaluate("location.hash = 'part'")
    page.evaluate(
        "setTimeout(() => { throw new Error('boom') }, 0); void Promise.reject(new Error('nope'))"
    )
    page.evaluate("const d = document.getElementById('dlg'); d.showModal(); d.close(); d.show()")
    page.evaluate("document.getElementById('cv').getContext('2d').fillRect(0, 0, 5, 5)")
    page.wait_for_timeout(1200)  # the canvas is re-captured at most once a second
    page.evaluate("document.getElementById('cv').getContext('2d').fillRect(5, 5, 5, 5)")
    page.evaluate("window.__rec.checkpoint('after-draw')")
    events = rec.events()
    root = snapshot(events)
    base = page.url.split("#")[0].rsplit("/", 1)[0] + "/"
    navs = [e[2:] for e in of(events, T.NAVIGATION)]
    assert navs[1:] == [
        [1, base + "step-1"],
        [1, base + "step-2"],
        [2, base + "step-3"],
        [3, base + "step-1"],
        [4, base + "step-1#part"],
    ]
    errors = of(events, T.ERROR)
    assert any("boom" in e[2] and "Error: boom" in e[3] for e in errors)
    assert any(e[2] == "nope" and "Error: nope" in e[3] for e in errors)
    dlg = by_id(root, "dlg")[1]
    assert [e[2:] for e in of(events, T.DIALOG)] == [[dlg, 2], [dlg, 0], [dlg, 1]]
    canvas = [i for i, e in enumerate(events) if e[0] == T.CANVAS]
    checkpoint = next(i for i, e in enumerate(events) if e[0] == T.CHECKPOINT)
    assert len(canvas) == 2 and canvas[1] < checkpoint, "a checkpoint captures a drawn canvas first"
    assert events[canvas[0]][3] != events[canvas[1]][3]
    assert events[checkpoint][2] == "after-draw"


# Privacy ------------------------------------------------------------------------------------


def test_inputs_are_masked_by_default_and_passwords_always(start: Start) -> None:
    rec = start("masking.html", unmask=[".open"])
    rec.page.fill("#name", "Mary Major")
    rec.page.fill("#pass", "s3cret pass")
    rec.page.fill("#free", "visible value")
    events = rec.events()
    root = snapshot(events)
    name = by_id(root, "name")
    assert name[3]["value"] == "***" and extra(name)["masked"] == 1
    assert by_id(root, "pass")[3]["value"] == "*******", "unmask does not apply to passwords"
    assert by_id(root, "free")[3]["value"] == "free text"
    inputs = {e[2]: e[3] for e in of(events, T.INPUT)}
    assert inputs[name[1]] == "**** *****"
    assert inputs[by_id(root, "pass")[1]] == "****** ****"
    assert inputs[by_id(root, "free")[1]] == "visible value"
    raw = rec.raw()
    assert all(s not in raw for s in ("Ann", "Mary", "hunter2", "s3cret"))


def test_mask_unmask_block_and_ignore_selectors(start: Start) -> None:
    rec = start("masking.html", mask=[".pii"], unmask=[".open"], block=[".ad"], ignore=[".skip"])
    rec.flush()  # the snapshot is out: what follows are later changes
    rec.page.fill("#skipped", "not recorded")
    rec.page.evaluate(
        """() => {
        document.getElementById('secret').firstChild.data = 'Jane Doe moved away';
        const p = document.createElement('p'); p.className = 'pii'; p.textContent = 'Jane Roe';
        document.body.append(p, 'Public addition');
        document.querySelector('div.pii').append('Jane again');
    }"""
    )
    events = rec.events()
    root = snapshot(events)
    secret = by_id(root, "secret")
    assert text(secret) == "**** *** ***** ****" and all(masked_texts(secret))
    assert text(by_id(root, "nested")) == "****** ******"
    assert text(by_id(root, "exempt")) == "visible" and text(by_id(root, "public")) == "Public text"
    ad = by_id(root, "ad")
    assert ad[2:5] == ["div", {"id": "ad", "class": "ad banner"}, []]
    assert extra(ad)["blocked"] == [120, 40]
    assert "advert" not in rec.raw()
    assert by_id(root, "skipped")[1] not in [e[2] for e in of(events, T.INPUT)]
    texts = [t[1] for e in of(events, T.MUTATION) for t in e[5]]
    assert texts == ["**** *** ***** ****"]
    new = [text(n) for n in added(events) if n[0] in (ELEMENT, TEXT)]
    assert "**** ***" in new and "Public addition" in new and "**** *****" in new
    assert "Jane" not in rec.raw()


def test_pii_is_masked_wherever_it_occurs(start: Start) -> None:
    rec = start("pii.html", mask=[".pii"])
    # The srcdoc frame may load after the snapshot (then its document comes in a later event).
    rec.page.wait_for_function(
        "document.getElementById('doc').contentDocument?.body?.textContent.includes('Reach')"
    )
    rec.flush()  # the snapshot is out: what follows are later changes
    rec.page.evaluate(
        """() => {
        document.getElementById('card').firstChild.data = 'Card of 5555 5555 5555 4444';
        document.getElementById('img').setAttribute('title', 'ring 555-123-4567');
        history.pushState(null, '', '?email=ann@acme-mail.org');
        document.styleSheets[0].insertRule('#mail::before { content: "078-05-1120" }', 0);
        setTimeout(() => { throw new Error('no account for ann@acme-mail.org'); });
    }"""
    )
    rec.page.wait_for_timeout(100)
    events = rec.events()
    stream = json.dumps(events)
    for pii in (
        "+44 20 7946 0958", "jane.doe@acme-mail.com", "4111 1111 1111 1111", "123-45-6789",
        "DE89 3704 0044 0532 0130 00", "jane%40acme-mail.com", "ann%2Bbilling%40acme-mail.org",
        "4111-1111-1111-1111", "Ada Lovelace", "grace@acme-mail.com", "5555 5555 5555 4444",
        "555-123-4567", "ann@acme-mail.org", "078-05-1120",
    ):  # fmt: skip
        assert pii not in stream, pii
    root = snapshot(events)
    # Masked in place, same length; what is not PII stays.
    assert of(events, T.META)[0][3] == "Call *** ** **** ****"
    assert text(by_id(root, "mail")) == "Write to ********************** about order 2024-000123."
    assert masked_texts(by_id(root, "addr")) == [True]
    img = by_id(root, "img")[3]
    assert img["alt"] == "SSN ***********" and img["title"] == "plain title"
    assert img["src"].endswith("x.png?email=********************&v=2")
    link = by_id(root, "link")[3]["href"]
    assert link.endswith("/profile?to=*****************************#*******************")
    assert by_id(root, "owner")[3]["style"] == "--owner: '*** ********'"
    # A srcdoc frame's markup is not shipped (its document is, masked like any other).
    frame = by_id(root, "doc")
    assert frame[3]["srcdoc"] == "" and "Reach me at *******************" in stream
    # A drawn `content:` string flags its sheet's element: the replayer finds what it draws.
    style = next(n for n in nodes(root) if n[0] == ELEMENT and n[2] == "style")
    assert '"**** **** **** ****"' in extra(style)["css"] and extra(style)["masked"] == 1
    # Later changes: text, attribute, URL, CSS rule, error.
    texts = [t for m in of(events, T.MUTATION) for t in m[5]]
    assert ["Card of **** **** **** ****", 1] in [t[1:] for t in texts]
    attrs = [a for m in of(events, T.MUTATION) for a in m[4]]
    assert [a[2:] for a in attrs if a[1] == "title"] == [["ring ************", 1]]
    assert of(events, T.NAVIGATION)[-1][3].endswith("?email=*****************")
    assert any('"***********"' in e[3] for e in of(events, T.STYLE_SHEET))
    assert [e[2] for e in of(events, T.ERROR)] == [
        "Uncaught Error: no account for *****************"
    ]


def test_pii_detection_off_and_length_hidden(start: Start) -> None:
    off = snapshot(start("pii.html", detectPii=False).events())
    assert text(by_id(off, "addr")) == "jane.doe@acme-mail.com"
    hidden = snapshot(start("pii.html", hideLength=True).events())
    assert text(by_id(hidden, "addr")) == "*****"
    assert by_id(hidden, "img")[3]["alt"] == "SSN *****"


def test_mask_all_text(start: Start) -> None:
    rec = start("masking.html", maskAllText=True)
    events = rec.events()
    root = snapshot(events)
    assert of(events, T.META)[0][3] == "******* *******", "the title is text too"
    assert text(by_id(root, "public")) == "****** ****"
    assert masked_texts(by_id(root, "public")) == [True]


# Safety and transport -----------------------------------------------------------------------


def test_a_page_replacing_builtins_keeps_working_and_recorded(start: Start) -> None:
    rec = start("overrides.html")
    rec.flush()  # the snapshot is out: the items are added later
    assert rec.page.evaluate("addItem('one') + addItem('two')") == 3
    rec.page.evaluate("window.scrollTo(0, 10)")
    events = rec.events()
    items = [text(n) for n in added(events) if n[0] == ELEMENT and n[2] == "li"]
    assert sorted(items) == ["one", "two"]
    assert rec.page.evaluate("pageLog.join(',')") == "one,two"
    assert rec.errors == []


def test_a_mutation_storm_stops_the_recorder_not_the_page(start: Start) -> None:
    rec = start("storm.html", mutationLimit=5000)
    snapshot(rec.events())
    assert rec.page.evaluate("storm(20000)") == "stormed"
    rec.page.evaluate("document.getElementById('after').textContent = 'after'")
    events = rec.events()
    stop = next(i for i, e in enumerate(events) if e[0] == T.STOP)
    assert "mutation limit" in events[stop][2]
    assert events[stop + 1 :] == [], "nothing after the stop"
    assert rec.page.text_content("#after") == "after"
    assert rec.errors == []


def test_batches_are_numbered_gzipped_envelopes(start: Start) -> None:
    rec = start("events.html")
    for i in range(3):
        rec.page.evaluate(f"document.getElementById('first').textContent = 'step {i}'")
        rec.flush()
    batches = rec.server.batches(rec.session)
    envelopes = rec.envelopes()
    assert len(envelopes) >= 3
    assert [e["seq"] for e in envelopes] == list(range(len(envelopes)))
    assert {e["v"] for e in envelopes} == {1} and {e["session"] for e in envelopes} == {rec.session}
    assert len({e["page"] for e in envelopes}) == 1
    assert all(b.body[:2] == b"\x1f\x8b" for b in batches)
    assert all(b.content_encoding == "" for b in batches), "no header that needs a preflight"


def test_a_full_page_load_continues_the_session(start: Start) -> None:
    rec = start("nav-a.html")
    rec.page.click("#go")
    rec.page.wait_for_selector("#arrived")
    rec.flush()
    pages: dict[float, list[dict[str, Any]]] = {}
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:  # the first page's last batch is a beacon: it may lag
        pages = {}
        for envelope in rec.envelopes():
            pages.setdefault(envelope["page"], []).append(envelope)
        if len(pages) == 2 and any(e[0] == T.MOUSE for e in _events(min(pages.items())[1])):
            break
        time.sleep(0.05)
    assert len(pages) == 2
    (_, first), (_, second) = sorted(pages.items())
    for envelopes in (first, second):
        assert sorted(e["seq"] for e in envelopes) == list(range(len(envelopes)))
    assert any(e[0] == T.MOUSE and e[2] == 2 for e in _events(first)), "the click that left page A"
    b = _events(second)
    assert [e[0] for e in b[:3]] == [T.NAVIGATION, T.META, T.SNAPSHOT]
    assert b[0][2:] == [0, rec.page.url] and b[1][3] == "Page B"


def _events(envelopes: list[dict[str, Any]]) -> list[Event]:
    return [e for envelope in sorted(envelopes, key=lambda e: e["seq"]) for e in envelope["events"]]


def test_sampled_out_session_records_nothing(start: Start) -> None:
    rec = start("events.html", sampleRate=0)
    assert rec.page.evaluate("window.__rec") is None
    rec.page.wait_for_timeout(100)
    assert rec.server.batches(rec.session) == []


# Long tasks for the report; long animation frames to attribute script time: the page has no
# timers of its own but the heartbeat, whose ticks are tiny, so long timer scripts are the
# recorder's. The heartbeat shows whether the page got to run while the snapshot was taken.
PAGE_PROBES = """
window.__longTasks = []; window.__timerScripts = []; window.__beats = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
}).observe({ type: "longtask", buffered: true });
new PerformanceObserver((list) => {
  for (const frame of list.getEntries())
    for (const s of frame.scripts)
      if (s.invoker.startsWith("TimerHandler")) window.__timerScripts.push(s.duration);
}).observe({ type: "long-animation-frame", buffered: true });
document.addEventListener("DOMContentLoaded", () => {
  const beat = () => {
    __beats.push(performance.now());
    if (__beats.length < 1000) setTimeout(beat, 0);
  };
  setTimeout(beat, 0);
});
"""


def test_a_large_snapshot_is_sliced_into_short_tasks(start: Start) -> None:
    rec = start("table.html", before=PAGE_PROBES)
    deadline = time.monotonic() + 20
    # Let the sliced walk finish on its own: a flush would finish it in one go.
    while not (
        sent := [b["seq"] for b in rec.envelopes() if any(e[0] == T.SNAPSHOT for e in b["events"])]
    ):
        assert time.monotonic() < deadline, "no snapshot"
        time.sleep(0.05)
    events = rec.events()
    rows = [n for n in nodes(snapshot(events)) if n[0] == ELEMENT and n[2] == "tr"]
    assert len(rows) == 3000
    probes = rec.page.evaluate(
        """() => ({
        dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
        posts: performance.getEntriesByType('resource')
          .filter((r) => r.name.includes('/__ingest/')).map((r) => r.startTime),
        beats: __beats, tasks: __longTasks, ours: __timerScripts })"""
    )
    dcl, tasks = probes["dcl"], probes["tasks"]
    snapshot_sent = sorted(probes["posts"])[sent[0]]
    beats = [b for b in probes["beats"] if dcl <= b <= snapshot_sent]
    before, after = (
        [round(d) for s, d in tasks if s < dcl],
        [round(d) for s, d in tasks if s >= dcl],
    )
    print(
        f"\nsnapshot sent {snapshot_sent - dcl:.0f} ms after DOMContentLoaded, the page ran"
        f" {len(beats)} times meanwhile; long tasks before DOMContentLoaded: {before} ms, after:"
        f" {after} ms; recorder scripts in long frames: {[round(d) for d in probes['ours']]} ms"
    )
    # How long each slice takes depends on the machine's load: `make bench` reports the longest
    # recorder task; here the walk must have yielded to the page many times.
    assert len(beats) >= 10, "the walk did not yield to the page"
