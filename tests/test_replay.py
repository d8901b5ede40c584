"""The built-in replayer in Chromium: hand-written streams in format v1 (recorder/src/format.ts)
rebuilt, mutated, seeked and played; sandboxing; overlays; real recordings when record.js exists."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page

from harness.adapters.builtin import BuiltinAdapter
from harness.compare import pixel
from harness.compare.dom import compare_dom
from harness.server import Server, script_tag
from harness.stream import decode
from harness.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "replay"

# format.ts: node kinds, event types and other enums, by value.
DOCUMENT, DOCTYPE, ELEMENT, TEXT, COMMENT = range(5)
(META, SNAPSHOT, MUTATION, INPUT, SCROLL, MOUSEMOVE, MOUSE, VIEWPORT, NAVIGATION, ERROR,
 CHECKPOINT, STYLESHEET, ADOPTED, FOCUS, CANVAS, DIALOG, STOP) = range(17)  # fmt: skip
CLICK = 2
LOAD, PUSH = 0, 1
OPEN, MODAL = 1, 2

T0 = 1_700_000_000_000  # absolute event times: epoch ms
HREF = "http://example.test/app/page.html"

Node = list[Any]
Event = list[Any]


class Tree:
    """Serialized nodes with fresh ids (the id is `node[1]`)."""

    def __init__(self) -> None:
        self._next = 0

    def _id(self) -> int:
        self._next += 1
        return self._next

    def el(
        self, tag: str, attrs: dict[str, str] | None = None, *children: Node, **extra: Any
    ) -> Node:
        node: Node = [ELEMENT, self._id(), tag, attrs or {}, list(children)]
        if extra:
            node.append(extra)
        return node

    def text(self, value: str) -> Node:
        return [TEXT, self._id(), value]

    def comment(self, value: str) -> Node:
        return [COMMENT, self._id(), value]

    def document(
        self, *body: Node, head: tuple[Node, ...] = (), doctype: bool = True, **extra: Any
    ) -> Node:
        kids: list[Node] = [[DOCTYPE, self._id(), "html", "", ""]] if doctype else []
        html = self.el("html", {}, self.el("head", {}, *head), self.el("body", {}, *body))
        node: Node = [DOCUMENT, self._id(), [*kids, html]]
        if "adopted" in extra:
            node.append(extra["adopted"])
        return node


def meta(t: int, width: int = 800, height: int = 600, href: str = HREF) -> Event:
    return [META, T0 + t, href, "title", width, height, 1]


def snapshot(t: int, root: Node, x: int = 0, y: int = 0) -> Event:
    return [SNAPSHOT, T0 + t, root, x, y]


def mutation(
    t: int,
    adds: list[Any] | None = None,
    removes: list[Any] | None = None,
    attrs: list[Any] | None = None,
    texts: list[Any] | None = None,
) -> Event:
    return [MUTATION, T0 + t, adds or [], removes or [], attrs or [], texts or []]


def png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


# --- browser plumbing ----------------------------------------------------------------------------


def bundle(entry: Path, global_name: str, out: Path) -> bytes:
    """`entry` bundled with build.mjs's options (here, so no other helper's bundle is rebuilt)."""
    subprocess.run(
        [
            str(ROOT / "node_modules" / ".bin" / "esbuild"),
            str(entry),
            "--bundle",
            "--minify",
            "--target=chrome100",
            "--format=iife",
            f"--global-name={global_name}",
            f"--outfile={out}",
            "--log-level=warning",
        ],
        check=True,
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def replay_url(worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A plain page served over HTTP with the replayer bundle loaded."""
    out = tmp_path_factory.mktemp("replay") / "replay.js"
    code = bundle(ROOT / "recorder" / "src" / "replay" / "index.ts", "replaycheckReplay", out)
    worker.server.add_asset("replay-test/replay.js", code, "text/javascript")
    html = (
        "<!doctype html><body style='margin:0'><div id=root></div>"
        "<script src='replay.js'></script></body>"
    )
    return worker.server.add_asset("replay-test/index.html", html, "text/html")


@pytest.fixture
def page(worker: Worker, replay_url: str) -> Iterator[Page]:
    context = worker.browser.new_context(viewport={"width": 1000, "height": 800})
    tab = context.new_page()
    tab.goto(replay_url)
    yield tab
    context.close()


def load(page: Page, events: list[Event], **options: Any) -> None:
    page.evaluate(
        """([events, options]) => {
             window.r = new replaycheckReplay.Replayer(events,
               {root: document.getElementById('root'), ...options});
           }""",
        [events, options],
    )


def seek(page: Page, offset: float) -> None:
    page.evaluate("(offset) => r.seek(offset)", offset)


def ev(page: Page, body: str) -> Any:
    """Evaluate `body` (an expression) with `doc` bound to the replayed document."""
    return page.evaluate(f"async () => {{ const doc = r.iframe.contentDocument; return {body}; }}")


def html(page: Page) -> str:
    value: str = ev(page, "doc.documentElement.outerHTML")
    return value


# --- rebuilding a snapshot -----------------------------------------------------------------------


def test_snapshot_rebuilds_each_node_kind_in_a_sized_sandboxed_iframe(page: Page) -> None:
    t = Tree()
    root = t.document(
        t.el(
            "p",
            {"id": "p", "class": "a b", "title": "x"},
            t.text("hello "),
            t.el("b", {}, t.text("you")),
        ),
        t.comment("a note"),
        t.el("svg", {"id": "svg", "viewBox": "0 0 10 10"}, t.el("circle", {"r": "4"}, ns=1), ns=1),
        t.el("math", {"id": "math"}, t.el("mi", {}, t.text("x"), ns=2), ns=2),
        t.el("template", {"id": "tpl"}, t.el("i", {}, t.text("inert"))),
        t.el("noscript", {"id": "ns"}, t.text("<img src=x>")),
        head=(t.el("title", {}, t.text("T")),),
    )
    load(page, [meta(0, 640, 480), snapshot(5, root)])
    got = ev(
        page,
        """({
          compat: doc.compatMode, doctype: doc.doctype.name,
          p: doc.getElementById('p').outerHTML,
          comment: doc.body.childNodes[1].nodeValue,
          svg: doc.getElementById('svg').namespaceURI,
          circle: doc.querySelector('circle').namespaceURI,
          mi: doc.querySelector('mi').namespaceURI,
          tpl: [doc.getElementById('tpl').childNodes.length,
                doc.getElementById('tpl').content.textContent],
          noscript: getComputedStyle(doc.getElementById('ns')).display,
          box: (({x, y, width, height}) => [x, y, width, height])(r.iframe.getBoundingClientRect()),
          border: getComputedStyle(r.iframe).borderTopWidth,
          sandbox: r.iframe.getAttribute('sandbox'),
          duration: r.duration,
        })""",
    )
    assert got == {
        "compat": "CSS1Compat",
        "doctype": "html",
        "p": '<p id="p" class="a b" title="x">hello <b>you</b></p>',
        "comment": "a note",
        "svg": "http://www.w3.org/2000/svg",
        "circle": "http://www.w3.org/2000/svg",
        "mi": "http://www.w3.org/1998/Math/MathML",
        "tpl": [0, "inert"],
        "noscript": "none",
        "box": [0, 0, 640, 480],
        "border": "0px",
        "sandbox": "allow-same-origin",
        "duration": 5,
    }


def test_stylesheets_links_adopted_sheets_and_shadow_roots(page: Page) -> None:
    t = Tree()
    host = t.el(
        "x-card",
        {"id": "host"},
        t.el("i", {}, t.text("light")),
        shadow=[t.el("b", {"id": "inner"}, t.text("shadow")), t.el("slot", {})],
        shadowSheets=["b { color: rgb(0, 0, 255); }"],
    )
    root = t.document(
        t.el("p", {"id": "p"}, t.text("styled")),
        t.el("h1", {}, t.text("adopted")),
        host,
        head=(
            # The CSSOM's rules win over the element's text (insertRule may have changed them).
            t.el("style", {}, t.text("p { color: red; }"), css="p { color: rgb(0, 128, 0); }"),
            t.el(
                "link",
                {"rel": "stylesheet", "href": "/missing.css", "media": "screen"},
                css="p { font-size: 31px; }",
            ),
        ),
        adopted=["h1 { margin-left: 17px; }"],
    )
    load(page, [meta(0), snapshot(1, root)])
    got = ev(
        page,
        """({
          color: getComputedStyle(doc.getElementById('p')).color,
          size: getComputedStyle(doc.getElementById('p')).fontSize,
          link: [doc.querySelectorAll('link').length, doc.head.lastElementChild.localName,
                 doc.head.lastElementChild.hasAttribute('href'), doc.head.lastElementChild.media],
          adopted: getComputedStyle(doc.querySelector('h1')).marginLeft,
          shadow: [doc.getElementById('host').shadowRoot.mode,
                   doc.getElementById('host').shadowRoot.getElementById('inner').textContent,
                   getComputedStyle(doc.getElementById('host').shadowRoot
                     .getElementById('inner')).color],
          light: doc.getElementById('host').textContent,
        })""",
    )
    assert got == {
        "color": "rgb(0, 128, 0)",
        "size": "31px",
        "link": [0, "style", False, "screen"],
        "adopted": "17px",
        "shadow": ["open", "shadow", "rgb(0, 0, 255)"],
        "light": "light",
    }


def test_same_origin_frame_is_built_into_the_nested_document(page: Page) -> None:
    t = Tree()
    inner = t.document(
        t.el("p", {"id": "deep"}, t.text("inside")),
        head=(t.el("style", {}, css="p { color: rgb(1, 2, 3); }"),),
    )
    frame = t.el(
        "iframe",
        {"id": "f", "src": "http://example.test/frame.html", "srcdoc": "<p>no</p>"},
        frame=inner,
    )
    load(page, [meta(0), snapshot(1, t.document(frame))])
    got = ev(
        page,
        """(() => { const f = doc.getElementById('f'); const d = f.contentDocument;
          return [f.hasAttribute('src'), f.hasAttribute('srcdoc'), d.compatMode,
                  d.getElementById('deep').textContent,
                  d.defaultView.getComputedStyle(d.getElementById('deep')).color]; })()""",
    )
    assert got == [False, False, "CSS1Compat", "inside", "rgb(1, 2, 3)"]


def test_unreadable_frame_is_an_unloaded_masked_frame_of_its_size(
    page: Page, worker: Worker
) -> None:
    # Recorded without its document (cross-origin): its src is a real URL the replay must not load.
    src = worker.server.add_asset("replay-test/third-party.html", "<p>third party</p>", "text/html")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    t = Tree()
    box = "width: 320px; height: 90px; border: 0"
    frame = t.el("iframe", {"id": "f", "src": src, "style": box})
    load(page, [meta(0), snapshot(1, t.document(frame))])
    page.wait_for_timeout(300)
    got = ev(
        page,
        """(() => { const f = doc.getElementById('f'); const box = f.getBoundingClientRect();
          return [f.getAttribute('src'), f.getAttribute('rc-src'), box.width, box.height,
                  r.maskedElements().map((e) => e.id)]; })()""",
    )
    assert got == [None, src, 320, 90, ["f"]]
    assert src not in requests


def test_form_state_comes_from_properties(page: Page) -> None:
    t = Tree()
    root = t.document(
        t.el("input", {"id": "text", "value": "default"}, value="typed"),
        t.el("input", {"id": "box", "type": "checkbox", "checked": ""}, checked=False),
        t.el("input", {"id": "radio", "type": "radio", "name": "r"}, checked=True),
        t.el("textarea", {"id": "area"}, t.text("initial"), value="edited"),
        t.el(
            "select",
            {"id": "one"},
            t.el("option", {"value": "a"}, t.text("A")),
            t.el("option", {"value": "b"}, t.text("B")),
            value="b",
        ),
        t.el(
            "select",
            {"id": "many", "multiple": ""},
            t.el("option", {"value": "a"}, t.text("A"), selected=True),
            t.el("option", {"value": "b"}, t.text("B")),
            t.el("option", {"value": "c"}, t.text("C"), selected=True),
            value="a",
        ),
    )
    load(page, [meta(0), snapshot(1, root)])
    got = ev(
        page,
        """[doc.getElementById('text').value, doc.getElementById('text').getAttribute('value'),
           doc.getElementById('box').checked, doc.getElementById('radio').checked,
           doc.getElementById('area').value, doc.getElementById('one').value,
           Array.from(doc.getElementById('many').selectedOptions, (o) => o.value)]""",
    )
    assert got == ["typed", "default", False, True, "edited", "b", ["a", "c"]]


def test_masked_values_keep_the_recorded_validity(page: Page) -> None:
    # extra.validity: 1 | 2 :invalid | 4 :out-of-range (format.ts Validity).
    t = Tree()
    root = t.document(
        t.el("input", {"id": "email", "type": "email"}, value="*******", validity=1),
        t.el("input", {"id": "bad", "type": "email"}, value="****", validity=3),
        t.el("input", {"id": "seats", "type": "number", "max": "10"}, value="**", validity=7),
        t.el("input", {"id": "code", "pattern": "[0-9]+"}, value="***", validity=3),
        t.el("input", {"id": "fine", "required": ""}, value="***", validity=3),
    )
    load(page, [meta(0), snapshot(1, root)])
    got = ev(
        page,
        """['email', 'bad', 'seats', 'code', 'fine'].map((id) => {
             const f = doc.getElementById(id);
             return [f.value !== '', f.matches(':invalid'), f.matches(':out-of-range')]; })""",
    )
    assert (
        got
        == [[True, False, False], [True, True, False], [True, True, True]]
        + [[True, True, False]] * 2
    )


def test_element_and_window_scroll_hold_while_images_load(page: Page, worker: Worker) -> None:
    # The tall image is the only thing that makes the page scrollable: until it has loaded the
    # window cannot scroll, so the replayer must apply the recorded position again afterwards.
    tall = worker.server.add_asset("replay-test/tall.png", png(10, 3000, (0, 0, 0)), "image/png")
    t = Tree()
    pane = t.el(
        "div",
        {"id": "pane", "style": "height: 100px; overflow: auto"},
        t.el("div", {"style": "height: 1000px"}),
        scroll=[0, 250],
    )
    root = t.document(pane, t.el("img", {"src": tall}))
    load(page, [meta(0), snapshot(1, root, 0, 1500), [SCROLL, T0 + 9, pane[1], 0, 300]])
    seek(page, 9)
    assert ev(page, "doc.getElementById('pane').scrollTop") == 300
    assert ev(page, "r.ready().then(() => doc.defaultView.scrollY)") == 1500
    seek(page, 1)
    assert ev(page, "doc.getElementById('pane').scrollTop") == 250


def test_dialogs_open_modal_and_close(page: Page) -> None:
    t = Tree()
    modal = t.el("dialog", {"id": "m", "open": ""}, t.text("modal"), dialog=MODAL)
    plain = t.el("dialog", {"id": "d"}, t.text("plain"), dialog=OPEN)
    events = [
        meta(0),
        snapshot(1, t.document(modal, plain)),
        [DIALOG, T0 + 10, modal[1], 0],
        [DIALOG, T0 + 20, plain[1], MODAL],
    ]
    load(page, events)
    state = (
        "['m', 'd'].map((id) => doc.getElementById(id)).map((d) => [d.open, d.matches(':modal')])"
    )
    assert ev(page, state) == [[True, True], [True, False]]
    seek(page, 10)
    assert ev(page, state) == [[False, False], [True, False]]
    seek(page, 20)
    assert ev(page, state) == [[False, False], [True, True]]


def color_at(page: Page, x: float, y: float) -> tuple[int, int, int]:
    shot = page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1})
    rgb = Image.open(io.BytesIO(shot)).convert("RGB").getpixel((0, 0))
    assert isinstance(rgb, tuple)
    return rgb[0], rgb[1], rgb[2]


def test_canvas_shows_its_recorded_image_at_its_bitmap_size(page: Page) -> None:
    def data_url(color: tuple[int, int, int]) -> str:
        return "data:image/png;base64," + base64.b64encode(png(4, 8, color)).decode()

    t = Tree()
    drawn = t.el(
        "canvas",
        {"id": "c", "class": "a", "width": "4", "height": "8"},
        canvas=data_url((255, 0, 0)),
    )
    blank = t.el("canvas", {"id": "b", "width": "30", "height": "15"})
    events = [
        meta(0),
        snapshot(1, t.document(drawn, blank)),
        [CANVAS, T0 + 5, drawn[1], data_url((0, 0, 255))],
        mutation(7, attrs=[[drawn[1], "class", "other"], [blank[1], "width", "50"]]),
    ]
    load(page, events)
    # Inside the sandbox a canvas shows fallback content only: not one painted pixel.
    boxes = """['c', 'b'].map((id) => doc.getElementById(id).getBoundingClientRect())
                          .map((b) => [b.left, b.top, b.width, b.height])"""
    assert ev(page, boxes) == [[8, 15, 4, 8], [12, 8, 30, 15]]  # on one baseline
    assert color_at(page, 10, 19) == (255, 0, 0)
    seek(page, 5)
    assert color_at(page, 10, 19) == (0, 0, 255)
    seek(page, 7)
    assert color_at(page, 10, 19) == (0, 0, 255)
    assert ev(page, "doc.getElementById('c').classList.contains('other')") is True
    assert ev(page, boxes)[1][2:] == [50, 15]
    assert color_at(page, 40, 10) == (255, 255, 255)  # an undrawn canvas is transparent
    seek(page, 1)
    assert color_at(page, 10, 19) == (255, 0, 0)


def test_blocked_element_is_a_placeholder_of_the_recorded_size(page: Page) -> None:
    t = Tree()
    ad = t.el("span", {"class": "ad", "style": "margin-left: 3px"}, blocked=[120, 40])
    load(page, [meta(0), snapshot(1, t.document(ad))])
    got = ev(
        page,
        """(() => { const el = doc.querySelector('.ad'); const box = el.getBoundingClientRect();
          const pattern = getComputedStyle(el).backgroundImage.startsWith('repeating-linear');
          return [el.localName, el.childNodes.length, box.width, box.height, box.left, pattern];
        })()""",
    )
    # The body's default 8px margin plus the recorded inline margin.
    assert got == ["span", 0, 120, 40, 11, True]


def test_masked_elements_are_those_the_stream_flags(page: Page) -> None:
    t = Tree()
    flagged_text = [*t.text("**** ****"), 1]
    inline = t.el("b", {"id": "b"}, flagged_text)
    field = t.el("input", {"id": "i"}, masked=1)
    later = t.text("plain")
    style = t.el("style", {"id": "s"}, masked=1, css='#drawn::after { content: "****" }')
    root = t.document(
        t.el("p", {"id": "p"}, t.text("to "), inline),
        field,
        t.el("p", {"id": "c"}, later),
        t.el("p", {"id": "title"}),
        t.el("p", {"id": "plain"}, t.text("nothing masked")),
        t.el("p", {"id": "drawn"}),
        head=(style,),
    )
    title = root[2][1][4][1][4][3][1]
    events = [
        meta(0),
        snapshot(1, root),
        mutation(50, attrs=[[title, "title", "***", 1]]),
        mutation(60, texts=[[later[1], "*****", 1]]),
    ]
    load(page, events)
    seek(page, 10)
    ids = "r.maskedElements().map((e) => e.id).sort()"
    assert ev(page, ids) == ["b", "drawn", "i", "s"]
    seek(page, 100)
    assert ev(page, ids) == ["b", "c", "drawn", "i", "s", "title"]
    seek(page, 10)  # back before the changes: only what the snapshot flagged
    assert ev(page, ids) == ["b", "drawn", "i", "s"]


# --- incremental events --------------------------------------------------------------------------


def test_mutations_remove_then_add_in_order_then_attrs_then_texts(page: Page) -> None:
    t = Tree()
    first = t.text("first")
    a = t.el("li", {"id": "a"}, first)
    b = t.el("li", {"id": "b"}, t.text("b"))
    c = t.el("li", {"id": "c"}, t.text("c"))
    ul = t.el("ul", {"id": "list"}, a, b, c)
    root = t.document(ul)
    new = t.el("li", {"id": "new"}, t.text("new"))
    child = t.el("em", {}, t.text("nested"))
    events = [
        meta(0),
        snapshot(1, root),
        mutation(
            10,
            # `new` goes before c; then `child` into `new`, added earlier in the same event.
            adds=[[ul[1], c[1], new], [new[1], 0, child], [ul[1], 0, t.el("li", {"id": "end"})]],
            removes=[[ul[1], b[1]]],
            attrs=[[a[1], "class", "x"], [c[1], "id", None], [new[1], "data-k", "v"]],
            texts=[[first[1], "changed"]],
        ),
    ]
    load(page, events)
    assert html(page).count("<li") == 3
    seek(page, 10)
    assert html(page).count("<li") == 4
    assert ev(page, "doc.getElementById('list').innerHTML") == (
        '<li id="a" class="x">changed</li><li id="new" data-k="v">new<em>nested</em></li>'
        '<li>c</li><li id="end"></li>'
    )


def test_input_events_set_values_checks_and_multi_selects(page: Page) -> None:
    t = Tree()
    text = t.el("input", {"id": "t"})
    box = t.el("input", {"id": "x", "type": "checkbox"})
    many = t.el(
        "select",
        {"id": "s", "multiple": ""},
        *(t.el("option", {"value": v}, t.text(v)) for v in "abc"),
    )
    events = [
        meta(0),
        snapshot(1, t.document(text, box, many)),
        [INPUT, T0 + 10, text[1], "hello"],
        [INPUT, T0 + 11, box[1], True],
        [INPUT, T0 + 12, many[1], ["b", "c"]],
    ]
    load(page, events)
    state = """[doc.getElementById('t').value, doc.getElementById('x').checked,
                Array.from(doc.getElementById('s').selectedOptions, (o) => o.value)]"""
    assert ev(page, state) == ["", False, []]
    seek(page, 12)
    assert ev(page, state) == ["hello", True, ["b", "c"]]


def test_stylesheet_adopted_sheets_and_viewport_events(page: Page) -> None:
    t = Tree()
    style = t.el("style", {}, t.text("p { color: red; }"), css="p { color: rgb(255, 0, 0); }")
    # Still loading when serialized: its rules come later, in a StyleSheet event.
    link = t.el("link", {"rel": "stylesheet", "href": "/slow.css", "media": "all"})
    host = t.el("div", {"id": "host"}, shadow=[t.el("b", {"id": "in"}, t.text("x"))])
    root = t.document(t.el("p", {"id": "p"}, t.text("p")), host, head=(style, link))
    events = [
        meta(0, 800, 600),
        snapshot(1, root),
        [STYLESHEET, T0 + 10, style[1], "p { color: rgb(0, 255, 0); }"],
        [STYLESHEET, T0 + 10, link[1], "p { font-size: 29px; }"],
        [ADOPTED, T0 + 11, 0, ["p { text-indent: 9px; }"]],
        [ADOPTED, T0 + 12, host[1], ["b { text-indent: 7px; }"]],
        [VIEWPORT, T0 + 13, 500, 400],
    ]
    load(page, events)
    state = """[getComputedStyle(doc.getElementById('p')).color,
                getComputedStyle(doc.getElementById('p')).textIndent,
                getComputedStyle(doc.getElementById('host').shadowRoot.getElementById('in')).textIndent,
                r.iframe.offsetWidth, r.iframe.offsetHeight,
                getComputedStyle(doc.getElementById('p')).fontSize,
                Array.from(doc.head.children, (e) => e.localName + ' ' + e.getAttributeNames())]"""
    before = ["style ", "link rel,href,media"]
    assert ev(page, state) == ["rgb(255, 0, 0)", "0px", "0px", 800, 600, "16px", before]
    seek(page, 13)
    after = ["style ", "style rel,media"]
    assert ev(page, state) == ["rgb(0, 255, 0)", "9px", "7px", 500, 400, "29px", after]


def test_focus_rings_where_the_recording_says_and_focus_zero_blurs(page: Page) -> None:
    t = Tree()
    field = t.el("input", {"id": "f"})
    button = t.el("button", {"id": "b"})
    events = [
        meta(0),
        snapshot(1, t.document(field, button)),
        [FOCUS, T0 + 5, field[1], 1],  # live, a text field rings however it was focused
        [FOCUS, T0 + 7, button[1]],  # clicked: no ring
        [FOCUS, T0 + 8, 0],
        [FOCUS, T0 + 9, button[1], 1],  # reached by keyboard: :focus-visible
        [FOCUS, T0 + 10, 0],
    ]
    load(page, events)
    state = "[doc.activeElement.localName, doc.activeElement.matches(':focus-visible')]"
    seek(page, 5)
    assert ev(page, state) == ["input", True]
    seek(page, 7)
    assert ev(page, state) == ["button", False]
    seek(page, 9)
    assert ev(page, state) == ["button", True]
    seek(page, 10)
    assert ev(page, state) == ["body", False]


def test_mutations_inside_a_shadow_root_name_it_by_minus_its_host(page: Page) -> None:
    t = Tree()
    inner = t.el("b", {"id": "inner"}, t.text("old"))
    host = t.el("div", {"id": "host"}, t.el("i", {}, t.text("light")), shadow=[inner])
    added = t.el("u", {"id": "added"}, t.text("new"))
    events = [
        meta(0),
        snapshot(1, t.document(host)),
        mutation(5, adds=[[-host[1], inner[1], added]]),
        mutation(9, removes=[[-host[1], inner[1]]]),
    ]
    load(page, events)
    shadow = "doc.getElementById('host').shadowRoot.innerHTML"
    seek(page, 5)
    assert ev(page, shadow) == '<u id="added">new</u><b id="inner">old</b>'
    assert ev(page, "doc.getElementById('host').innerHTML") == "<i>light</i>"
    seek(page, 9)
    assert ev(page, shadow) == '<u id="added">new</u>'


# --- the timeline --------------------------------------------------------------------------------


def long_stream() -> tuple[list[Event], int]:
    """One page: a counter text changed every 10 ms and an element added, moved and styled."""
    t = Tree()
    counter = t.text("0")
    box = t.el("div", {"id": "box"})
    root = t.document(t.el("p", {"id": "n"}, counter), box)
    events = [meta(0), snapshot(0, root)]
    for i in range(1, 51):
        events.append(mutation(i * 10, texts=[[counter[1], str(i)]]))
        if i % 10 == 0:
            item = t.el("span", {"class": f"s{i}"}, t.text(f"item {i}"))
            events.append(
                mutation(i * 10, adds=[[box[1], 0, item]], attrs=[[box[1], "data-n", str(i)]])
            )
    events.append([CHECKPOINT, T0 + 500, "done"])
    return events, box[1]


def test_seeking_back_gives_exactly_the_earlier_state(page: Page) -> None:
    events, _ = long_stream()
    load(page, events)
    seek(page, 215)
    at_a = html(page)
    assert 'data-n="20"' in at_a and ">21<" in at_a
    # A forward seek within the page applies only the missing events: the document survives.
    page.evaluate("() => { r.iframe.contentDocument.getElementById('box').__mark = 1; }")
    seek(page, 480)
    assert ev(page, "doc.getElementById('box').__mark") == 1
    assert ">48<" in html(page)
    seek(page, 215)
    assert ev(page, "doc.getElementById('box').__mark") is None
    assert html(page) == at_a
    assert page.evaluate("r.currentTime") == 215


def test_multiple_page_loads_in_one_stream(page: Page) -> None:
    one, two = Tree(), Tree()
    events = [
        meta(0, 800, 600, "http://example.test/one.html"),
        snapshot(1, one.document(one.el("h1", {}, one.text("one")))),
        [NAVIGATION, T0 + 50, PUSH, "http://example.test/one.html#x"],
        [NAVIGATION, T0 + 90, LOAD, "http://example.test/two.html"],
        meta(100, 700, 500, "http://example.test/two.html"),
        # No doctype: the second document is in quirks mode, as it was live.
        snapshot(101, two.document(two.el("h2", {}, two.text("two")), doctype=False)),
    ]
    load(page, events)
    state = "[doc.body.textContent, doc.compatMode, r.iframe.offsetWidth, r.href]"
    assert ev(page, state) == ["one", "CSS1Compat", 800, "http://example.test/one.html"]
    seek(page, 200)
    assert ev(page, state) == ["two", "BackCompat", 700, "http://example.test/two.html"]
    seek(page, 60)
    assert ev(page, state) == ["one", "CSS1Compat", 800, "http://example.test/one.html#x"]
    seek(page, 100)  # the new page's Meta, before its snapshot: still the old document
    assert ev(page, "[doc.body.textContent, r.iframe.offsetWidth]") == ["one", 700]


def test_play_at_2x_takes_half_the_time_and_reports_checkpoints_and_end(page: Page) -> None:
    events, _ = long_stream()
    events.append([CHECKPOINT, T0 + 800, "late"])
    load(page, events)

    page.evaluate(
        """() => { window.seen = []; r.on('checkpoint', (name) => seen.push(name));
                   r.on('end', () => { seen.push('end'); window.ended(performance.now()); }); }"""
    )

    def play(speed: int) -> float:
        """Milliseconds from play() to the end callback, by the page's clock."""
        elapsed: float = page.evaluate(
            """(speed) => new Promise((done) => {
                 r.seek(0); r.setSpeed(speed);
                 const start = performance.now();
                 window.ended = (now) => done(now - start);
                 r.play();
               })""",
            speed,
        )
        return elapsed

    at_1x = play(1)
    assert page.evaluate("seen") == ["done", "late", "end"]
    assert ">50<" in html(page)
    at_2x = play(2)
    # 800 ms of stream: 800 ms at 1x, 400 ms at 2x, plus the lateness of the last frame (generous
    # bounds: a loaded machine delays frames; ignoring the speed would take 800 ms at 2x).
    assert 800 <= at_1x < 1600
    assert 400 <= at_2x < 800
    assert page.evaluate("r.currentTime") == 800


def test_pause_stops_the_clock(page: Page) -> None:
    events, _ = long_stream()
    # A 60 s stream at 1x: however late a loaded machine fires the timer, play is still mid-way.
    events.append([CHECKPOINT, T0 + 60_000, "late"])
    load(page, events)
    page.evaluate(
        "() => new Promise((done) => { r.play(); setTimeout(() => { r.pause(); done(); }, 30); })"
    )
    paused_at = page.evaluate("r.currentTime")
    assert 0 < paused_at < 60_000
    page.wait_for_timeout(100)
    assert page.evaluate("r.currentTime") == paused_at


# --- sandboxing ----------------------------------------------------------------------------------


def test_recorded_scripts_handlers_and_javascript_urls_never_run(page: Page) -> None:
    t = Tree()
    pwn = "window.parent.__pwned = 1"
    link = t.el("a", {"id": "a", "href": " java\tscript:" + pwn, "onclick": pwn}, t.text("link"))
    root = t.document(
        t.el("script", {"src": "/evil.js"}, t.text(pwn)),
        t.el("img", {"id": "img", "src": "x", "onerror": pwn}),
        link,
        t.el("iframe", {"id": "f", "src": "javascript:" + pwn}),
        head=(t.el("meta", {"http-equiv": "refresh", "content": "0; url=http://example.test/"}),),
    )
    body = root[2][1][4][1]
    later = t.el("img", {"id": "later", "src": "y", "onload": pwn, "onerror": pwn})
    events = [
        meta(0),
        snapshot(1, root),
        mutation(5, adds=[[body[1], 0, later]], attrs=[[link[1], "onmouseover", pwn]]),
    ]
    load(page, events)
    seek(page, 5)
    page.evaluate("() => r.iframe.contentDocument.getElementById('a').click()")
    page.wait_for_timeout(300)  # the broken images' error events, the refresh if it were live
    got = ev(
        page,
        """[window.__pwned, doc.querySelector('script').textContent,
           doc.querySelector('script').getAttributeNames(),
           doc.getElementById('img').getAttributeNames(),
           doc.getElementById('later').getAttributeNames(),
           [...doc.getElementById('a').attributes].map((a) => a.name + '=' + a.value),
           doc.getElementById('f').getAttributeNames(),
           doc.querySelector('meta').getAttributeNames(),
           doc.getElementById('a').isConnected]""",
    )
    assert got == [
        None,
        "",
        [],
        ["id", "src"],
        ["id", "src"],
        ["id=a", "rc-href=javascript:", "href=#"],  # inert, still a link for :link and a[href]
        ["id", "rc-src"],  # a frame's document is never loaded: its src is kept inert
        ["rc-http-equiv", "content"],  # a pragma acts when inserted: it is kept inert
        True,
    ]
    # Kept URLs resolve against the recorded page, not against the replay's about:blank.
    assert ev(page, "doc.getElementById('img').getAttribute('src')") == "http://example.test/app/x"


def test_the_replay_loads_only_from_the_recorded_site_and_reports_what_it_blocked(
    page: Page, worker: Worker
) -> None:
    site = worker.server.origin
    ok = worker.server.add_asset("replay-test/ok.png", png(4, 4, (0, 128, 0)), "image/png")
    with Server(log_requests=True) as attacker:  # another port: another origin
        evil = f"{attacker.origin}/beacon.png"
        t = Tree()
        content = [
            t.el("img", {"id": "ok", "src": ok}),
            t.el("img", {"id": "evil", "src": evil}),
            t.el("div", {"style": f"height: 20px; background: url({attacker.origin}/bg.png)"}),
            t.el("style", {}, t.text(f"@import url({attacker.origin}/x.css);")),
        ]
        # Widened, the sandbox would let script run: the policy and the filters hold on their own.
        load(
            page,
            [meta(0, href=f"{site}/app/page.html"), snapshot(1, t.document(*content))],
            sandbox="allow-same-origin allow-scripts allow-forms allow-popups",
        )
        page.wait_for_timeout(500)
        loaded = ev(page, "['ok', 'evil'].map((id) => doc.getElementById(id).naturalWidth)")
        blocked = page.evaluate("() => [...r.blocked].sort()")
        assert loaded == [4, 0]
        assert attacker.requests() == [], "nothing reached another origin"
        assert f"{attacker.origin}/beacon.png" in blocked and f"{attacker.origin}/bg.png" in blocked
        # The replayed document's own policy, as the browser reports it enforcing.
        policy = page.evaluate(
            """(url) => new Promise((done) => {
                 const doc = r.iframe.contentDocument;
                 doc.addEventListener('securitypolicyviolation', (e) => done(e.originalPolicy));
                 const img = doc.createElement('img');
                 img.src = url;
                 doc.body.append(img);
               })""",
            f"{attacker.origin}/probe.png",
        )
        directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
        assert directives["default-src"] == ["'none'"] and directives["script-src"] == ["'none'"]
        assert directives["frame-src"] == directives["object-src"] == ["'none'"]
        assert directives["form-action"] == directives["base-uri"] == ["'none'"]
        assert directives["img-src"] == ["'self'", site, "data:", "blob:"]


def test_named_elements_do_not_shadow_the_methods_the_replayer_calls(page: Page) -> None:
    # Named <img>, <form> and <embed> elements shadow the document's own properties, and a
    # form's named controls shadow the form's: a replayer calling through them breaks.
    t = Tree()
    names = ["createElement", "createTextNode", "getElementById", "querySelectorAll", "fonts"]
    form = t.el(
        "form",
        {"id": "f"},
        *[t.el("input", {"name": n}) for n in ["setAttribute", "localName", "ownerDocument"]],
    )
    body = [*[t.el("img", {"name": n}) for n in names], form, t.el("p", {"id": "target"})]
    later = t.el("p", {"id": "later"}, t.text("added later"))
    load(
        page,
        [
            meta(0, href=HREF + "#target"),
            snapshot(1, t.document(*body)),
            mutation(2, adds=[[form[1], 0, later]], attrs=[[form[1], "class", "edited"]]),
        ],
    )
    seek(page, 2)
    got = ev(
        page,
        """((byId) => [byId('later')?.textContent, byId('f').className, byId('target').className,
           r.skipped])((id) => Document.prototype.getElementById.call(doc, id))""",
    )
    assert got == ["added later", "edited", ":target", 0]


WIDE_OPEN = "allow-same-origin allow-scripts allow-forms allow-popups allow-top-navigation"


def _gap(t: Tree, gap: str, attacker: str) -> tuple[Node, list[Event]]:
    """A document carrying one of the filter gaps once seen (the replayer as a security
    boundary), in the snapshot, and the mutations that carry it again."""
    pwn = "top.__pwned = 1"
    if gap == "doctype":
        # Markup after a doctype whose public id holds `>`, were the doctype written as text.
        doc = t.document(t.el("p", {"id": "x"}))
        doc[2][0] = [DOCTYPE, t._id(), "html", f'x"><img src="{attacker}/doctype"><b "', ""]
        return doc, []
    if gap == "nbsp-bom":
        kids = [
            t.el("iframe", {"src": f"{prefix}javascript:{pwn}"}) for prefix in ("\u00a0", "\ufeff")
        ]
        return t.document(*kids), []
    if gap == "script-case":
        kids = [t.el(tag, {}, t.text(pwn)) for tag in ("SCRIPT", "Script")]
        host = t.el("div", {}, shadow=[t.el("SCRIPT", {}, t.text(pwn))])
        return t.document(*kids, host), []
    if gap == "http-equiv":
        refresh = f"0; url={attacker}/refresh"
        first = t.el("meta", {"HTTP-EQUIV": "refresh", "content": refresh})
        second = t.el("meta", {"content": refresh, "http-equiv": "Refresh"})
        later = t.el("meta", {"id": "later"})
        doc = t.document(first, second, later)
        return doc, [
            mutation(2, attrs=[[later[1], "content", refresh], [later[1], "http-equiv", "refresh"]])
        ]
    # srcdoc, with the frame's own sandbox letting scripts run
    frame = t.el(
        "iframe",
        {"srcdoc": f"<script>{pwn}</script>", "sandbox": "allow-scripts allow-same-origin"},
    )
    return t.document(frame), []


@pytest.mark.parametrize("gap", ["doctype", "nbsp-bom", "script-case", "http-equiv", "srcdoc"])
def test_a_filter_gap_once_seen_is_closed_without_the_sandbox(page: Page, gap: str) -> None:
    with Server(log_requests=True) as attacker:
        t = Tree()
        doc, later = _gap(t, gap, attacker.origin)
        load(page, [meta(0), snapshot(1, doc), *later], sandbox=WIDE_OPEN)
        seek(page, 2)
        page.wait_for_timeout(400)  # a refresh or a frame's load, were they live
        got = ev(
            page,
            """[window.__pwned, doc.compatMode, doc.querySelectorAll('img').length,
               [...doc.querySelectorAll('meta')].filter((m) => m.hasAttribute('http-equiv')).length,
               [...doc.querySelectorAll('iframe')].map((f) => f.getAttribute('src') ?? f.srcdoc),
               [...doc.querySelectorAll('script')].map((s) => s.textContent).join('')]""",
        )
        frames = [f for f in got[4] if f]
        assert got[:4] == [None, "CSS1Compat", 0, 0] and frames == [] and got[5] == ""
        assert attacker.requests() == []
        assert page.url.endswith("index.html"), "the page was not navigated"


@pytest.mark.parametrize("omit", [False, True])
def test_without_credentials_the_viewers_cookies_stay_home(page: Page, omit: bool) -> None:
    # Cookies ignore ports: a viewer on the recorded site's host sends its own cookies with
    # every image the replay loads from the site, unless the replay loads without credentials.
    viewer = page.url.split("/__rc/")[0] + "/"
    page.context.add_cookies([{"name": "viewer_session", "value": "secret", "url": viewer}])
    with Server(log_requests=True) as site:
        image = site.add_asset("x.png", png(4, 4, (0, 0, 255)), "image/png")
        t = Tree()
        events = [
            meta(0, href=f"{site.origin}/page.html"),
            snapshot(1, t.document(t.el("img", {"id": "i", "src": image}))),
        ]
        load(page, events, **({"credentials": "omit"} if omit else {}))
        page.wait_for_timeout(300)
        width = ev(page, "doc.getElementById('i').naturalWidth")
        cookie = site.cookie_sent("/__rc/x.png")
    assert width == 4, "the image still loads (the site answers with CORS)"
    assert cookie == (None if omit else "viewer_session=secret")


def test_the_replay_page_sends_a_strict_policy(worker: Worker) -> None:
    url = BuiltinAdapter().replay_url(worker.server)
    with urllib.request.urlopen(url) as response:
        csp = response.headers["Content-Security-Policy"]
        referrer = response.headers["Referrer-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["script-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
    assert directives["default-src"] == ["'none'"] and directives["base-uri"] == ["'none'"]
    assert directives["form-action"] == ["'none'"] and "'unsafe-eval'" not in csp
    assert referrer == "no-referrer"


# --- overlays and hover --------------------------------------------------------------------------


def test_cursor_ripple_hover_and_hidden_overlays(page: Page) -> None:
    t = Tree()
    style = t.el(
        "style",
        {},
        css="#btn:hover { color: rgb(255, 0, 0); } div:hover > #btn { font-size: 21px; }",
    )
    btn = t.el("button", {"id": "btn", "style": "position: absolute; left: 100px; top: 100px"})
    root = t.document(t.el("div", {"id": "wrap"}, btn), head=(style,))
    events = [
        meta(0),
        snapshot(1, root),
        [MOUSEMOVE, T0 + 10, [[10, 10, 0], [105, 105, 20]]],
        [MOUSE, T0 + 40, CLICK, btn[1], 105, 105],
        [MOUSEMOVE, T0 + 100, [[600, 500, 0]]],
    ]
    load(page, events)
    hover = """[doc.getElementById('btn').className, doc.getElementById('wrap').className,
                getComputedStyle(doc.getElementById('btn')).color,
                getComputedStyle(doc.getElementById('btn')).fontSize]"""
    cursor = """(() => { const svg = r.iframe.parentElement.querySelector('svg');
                 return [svg.getBoundingClientRect().left, svg.getBoundingClientRect().top,
                         getComputedStyle(svg).display]; })()"""
    seek(page, 15)
    assert ev(page, cursor) == [10, 10, "block"]
    assert ev(page, hover)[:2] == ["", ""]
    seek(page, 30)
    assert ev(page, cursor)[:2] == [105, 105]
    assert ev(page, hover) == [":hover", ":hover", "rgb(255, 0, 0)", "21px"]
    # The page's own rule text is untouched: the twin selector comes after it.
    assert ev(page, "doc.querySelector('style').sheet.cssRules[0].selectorText") == (
        "#btn:hover, #btn.\\:hover"
    )
    seek(page, 100)
    assert ev(page, hover)[:3] == ["", "", "rgb(0, 0, 0)"]
    assert ev(page, "doc.getElementById('btn').hasAttribute('class')") is False
    # A ripple appears where a click plays (looked for every frame: it fades within 500 ms).
    rippled = page.evaluate(
        """() => new Promise((done) => {
             const overlay = r.iframe.nextElementSibling;
             const look = () => {
               if (overlay.querySelector('div')) done(true);
               else if (r.currentTime >= r.duration) done(false);
               else requestAnimationFrame(look);
             };
             r.seek(30); r.play(); look();
           })"""
    )
    assert rippled is True
    page.evaluate("r.pause()")
    page.evaluate("r.setOverlays(false)")
    assert ev(page, "getComputedStyle(r.iframe.nextElementSibling).display") == "none"
    assert ev(page, "getComputedStyle(r.iframe.nextElementSibling).pointerEvents") == "none"


def test_show_cursor_false_starts_with_overlays_hidden(page: Page) -> None:
    t = Tree()
    load(page, [meta(0), snapshot(1, t.document())], showCursor=False)
    assert ev(page, "getComputedStyle(r.iframe.nextElementSibling).display") == "none"
    page.evaluate("r.setOverlays(true)")
    assert ev(page, "getComputedStyle(r.iframe.nextElementSibling).display") == "block"


def test_checkpoint_time(page: Page) -> None:
    events, _ = long_stream()
    load(page, events)
    assert page.evaluate("[r.checkpointTime('done'), r.checkpointTime('nope')]") == [500, None]


def test_batches_replay_page_by_page_even_when_times_overlap(page: Page) -> None:
    # Page one's last batch was sent while page two loaded: its time is after page two's start.
    # Node ids restart per page load (both bodies have one id): interleaving would corrupt page two.
    one, two = Tree(), Tree()
    doc_one = one.document(one.el("h1", {}, one.text("one")))
    doc_two = two.document(two.el("h1", {}, two.text("two")))
    body = doc_one[2][1][4][1][1]
    assert body == doc_two[2][1][4][1][1]

    def batch(origin: int, seq: int, *events: Event) -> dict[str, Any]:
        # Times relative to the batch's page, as the recorder sends them.
        relative = [[e[0], e[1] - T0, *e[2:]] for e in events]
        return {"v": 1, "session": "s", "page": T0 + origin, "seq": seq, "events": relative}

    late = one.el("p", {}, one.text("late"))
    batches = [
        batch(1000, 0, meta(0), snapshot(1, doc_two)),
        batch(0, 1, mutation(1200, adds=[[body, 0, late]])),
        batch(0, 0, meta(0), snapshot(1, doc_one)),
    ]
    page.evaluate(
        """(batches) => { window.r = new replaycheckReplay.Replayer(
             replaycheckReplay.fromBatches(batches), {root: document.getElementById('root')}); }""",
        batches,
    )
    # Page two's Meta and Snapshot are raised to the late mutation's time and stay after it.
    assert page.evaluate("r.duration") == 1200
    assert ev(page, "doc.body.textContent") == "one"
    seek(page, 1200)
    assert ev(page, "doc.body.textContent") == "two"


# --- real recordings -----------------------------------------------------------------------------

RECORD_ENTRY = ROOT / "recorder" / "src" / "record" / "index.ts"


@pytest.fixture(scope="module")
def record_js(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if not RECORD_ENTRY.exists():
        pytest.skip("the recorder (recorder/src/record) is not there yet")
    return bundle(RECORD_ENTRY, "replaycheckRecord", tmp_path_factory.mktemp("rec") / "record.js")


@pytest.fixture(scope="module")
def canon_js(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The harness's DOM canonicaliser: live page and replay graded by the same walk."""
    out = tmp_path_factory.mktemp("canon") / "canon.js"
    code = bundle(ROOT / "harness" / "js" / "src" / "canonical.ts", "__rcCanon", out)
    return code + b"\n;globalThis.__rcCanon = __rcCanon; void 0;"


def canonical(page: Page, canon_js: bytes, target: str, url: str | None = None) -> Any:
    if not page.evaluate("typeof __rcCanon !== 'undefined'"):
        page.evaluate(canon_js.decode())
    options = {"mask": [], "block": [], "maskAllInputs": False, "maskAllText": False}
    if url is not None:
        options["url"] = url
    return json.loads(
        page.evaluate(f"(o) => JSON.stringify(__rcCanon.canonicalDom({target}, o))", options)
    )


def test_real_recording_replays_to_the_live_dom_and_pixels(
    worker: Worker, page: Page, record_js: bytes, canon_js: bytes
) -> None:
    session = "replay-e2e"
    config = {
        "ingestUrl": worker.server.ingest_url(session),
        "session": session,
        "maskAllInputs": False,
        "detectPii": False,
    }
    # The server puts the script into the iframe's page too: record the top page only.
    call = f"if (window === top) window.__rec = replaycheckRecord.record({json.dumps(config)});"
    start = record_js + b"\n;" + call.encode()
    script = worker.server.add_asset("replay-test/record-start.js", start, "text/javascript")
    url = worker.server.url_for(FIXTURES / "live.html", FIXTURES, head_html=script_tag(script))

    def checkpoint(name: str) -> tuple[Any, bytes]:
        live.evaluate("document.activeElement.blur()")
        live.wait_for_timeout(250)  # the recorder throttles scroll events
        live.evaluate("(name) => { __rec.checkpoint(name); return __rec.flush(); }", name)
        return canonical(live, canon_js, "document"), live.screenshot()

    context = worker.browser.new_context(viewport={"width": 800, "height": 600})
    live = context.new_page()
    live.goto(url)
    live.fill("#name", "Ada")
    live.check("#agree")
    live.select_option("#size", "M")
    live.fill("#note", "two\nlines")
    live.click("#go")
    live.click("#go")
    live.evaluate("document.getElementById('pane').scrollTop = 120")
    live.evaluate("document.getElementById('dlg').show()")
    live.hover("#go")  # the cursor rests on the button: its :hover rule shows live and in replay
    captured = {"first": checkpoint("first")}
    live.click("#next")
    live.wait_for_load_state("load")
    live.fill("#q", "typed")
    # Focus leaves the field for the button (the recorder sends focus but no blur events), and
    # the cursor leaves it: a UA stylesheet's :hover (a button's shade) cannot be simulated.
    live.click("#ok")
    live.mouse.move(700, 500)
    captured["second"] = checkpoint("second")
    context.close()

    load(page, decode(worker.server.batches(session), BuiltinAdapter.timeline).events)
    page.evaluate("r.setOverlays(false)")
    # Backwards across the page load, too.
    for name in ("second", "first"):
        page.evaluate("(name) => { r.seek(r.checkpointTime(name)); return r.ready(); }", name)
        live_dom, live_png = captured[name]
        replay_dom = canonical(page, canon_js, "r.iframe.contentDocument", page.evaluate("r.href"))
        result = compare_dom(live_dom, replay_dom)
        assert result.similarity == 1.0, (name, result.differences[:5])
        shot = page.locator("iframe").screenshot()
        diff = pixel.compare(pixel.decode_png(live_png), pixel.decode_png(shot))
        # A few anti-aliased corner pixels at most (the dialog's border joins).
        assert diff.mismatch < 0.0001, (name, diff.bbox)
    assert ev(page, "doc.getElementById('go').className") == ":hover"
