"""A realistic, deterministic 30-minute builtin recording: the batches a visit to a dashboard
app would send (stream format v1, docs/stream-format.md, recorder/src/format.ts).

`long_session(minutes=30, seed=1)` returns the batches as the recorder POSTs them (each its JSON
object, chunks already joined), in sending order. Three full page loads (each a Navigation,
Meta and Snapshot of a ~4,000-node DOM: styles, adopted sheets, shadow-DOM widgets, a form, a
canvas, an SVG chart, a dialog, a scrolled pane), SPA route changes that swap the main content
(~600 nodes out, ~600 in), and a user: pointer moves, clicks, typing, scrolls, a few mutations a
second with bursts (toasts, list growth, table refreshes), style sheet rules, canvas redraws,
dialogs, errors, a resize. Batches every ~1 s.

Run: .venv/bin/python bench/longsession.py [minutes] [seed]   (prints its size)
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# format.ts enums, by value.
DOCUMENT, DOCTYPE, ELEMENT, TEXT, COMMENT = range(5)
(META, SNAPSHOT, MUTATION, INPUT, SCROLL, MOUSEMOVE, MOUSE, VIEWPORT, NAVIGATION, ERROR,
 CHECKPOINT, STYLESHEET, ADOPTED, FOCUS, CANVAS, DIALOG, STOP, DEFINE, STATES,
 END) = range(20)  # fmt: skip
DOWN, UP, CLICK = 0, 1, 2
LOAD, PUSH = 0, 1
CLOSED, OPEN, MODAL = 0, 1, 2

Node = list[Any]
Event = list[Any]
ORIGIN = "https://app.example.test"
T0 = 1_764_590_400_000.0  # the first page's timeOrigin (epoch ms)
WIDTH, HEIGHT = 1280, 720
# A 1x1 PNG per colour: what canvas events carry (small, so the stream's size is the DOM's).
PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
WORDS = (  # noqa: SIM905
    "account order invoice shipped pending refund customer region north south east west total "
    "average revenue growth weekly monthly report export filter status active archived team "
    "project deadline review approved draft comment update latest open closed priority high low"
).split()
BASE_CSS = "\n".join(
    f".c{i} {{ margin: {i % 7}px; padding: {i % 5}px {i % 9}px; color: rgb({i * 7 % 255}, "
    f"{i * 13 % 255}, {i * 29 % 255}); }}\n"
    f".c{i}:hover {{ background: #f{i % 10}f{i % 10}f{i % 10}; }}"
    for i in range(300)
) + (
    "\nbody { font: 14px/1.4 system-ui, sans-serif; margin: 0 }"
    "\n.app { display: grid; grid-template-columns: 220px 1fr; }"
    "\nnav a { display: block; padding: 4px 12px; }"
    "\ntable { border-collapse: collapse } td, th { border: 1px solid #ddd; padding: 2px 6px }"
    "\n#pane { height: 200px; overflow: auto } .toast { position: fixed; right: 8px }"
)
WIDGET_CSS = (
    ":host { display: inline-block; border: 1px solid #ccc; padding: 4px } .v { font-weight: bold }"
)


@dataclass
class Dom:
    """Serialized nodes with fresh ids, per page load (ids are unique within one)."""

    next_id: int = 0

    def id(self) -> int:
        self.next_id += 1
        return self.next_id

    def el(self, tag: str, attrs: dict[str, str] | None = None, *kids: Node, **extra: Any) -> Node:
        node: Node = [ELEMENT, self.id(), tag, attrs or {}, list(kids)]
        if extra:
            node.append(extra)
        return node

    def text(self, value: str) -> Node:
        return [TEXT, self.id(), value]


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


@dataclass
class App:
    """One page load's DOM as built, and the ids the user's actions touch later."""

    root: Node
    links: list[int]
    buttons: list[int]
    fields: list[tuple[int, str]]  # (id, kind: text | checkbox | select | textarea)
    cells: list[int]  # Text node ids of table cells
    rows: list[int]  # <tr> ids
    tbody: int
    main: int
    content: list[int]  # ids of main's current route content (children)
    list_id: int
    items: list[int]
    widgets: list[int]  # shadow hosts
    widget_texts: list[int]
    clock: int  # Text node id
    pane: int
    canvas: int
    dialog: int
    ok: int  # the dialog's button
    toasts: int
    rule_style: int
    counter: int


def route_content(dom: Dom, rng: random.Random, title: str) -> list[Node]:
    """A route's main content: a heading, cards, a long article (~600 nodes)."""
    cards = [
        dom.el(
            "div",
            {"class": f"card c{rng.randrange(300)}"},
            dom.el("h3", {}, dom.text(words(rng, 3))),
            dom.el("p", {}, dom.text(words(rng, 18))),
            dom.el("a", {"href": f"{ORIGIN}/item/{rng.randrange(10_000)}"}, dom.text("details")),
        )
        for _ in range(40)
    ]
    paras = [
        dom.el("p", {"class": f"c{rng.randrange(300)}"}, dom.text(words(rng, 40)))
        for _ in range(60)
    ]
    return [
        dom.el("h2", {}, dom.text(title)),
        dom.el("section", {"class": "cards"}, *cards),
        *paras,
    ]


def build_app(dom: Dom, rng: random.Random, path: str) -> App:
    links: list[int] = []
    nav_items = []
    for i in range(60):
        a = dom.el("a", {"href": f"{ORIGIN}/{path}/{i}", "class": f"c{i}"}, dom.text(words(rng, 2)))
        links.append(a[1])
        nav_items.append(dom.el("li", {}, a))
    buttons: list[int] = []
    toolbar = []
    for i in range(12):
        b = dom.el("button", {"type": "button", "class": f"btn c{i + 60}"}, dom.text(words(rng, 1)))
        buttons.append(b[1])
        toolbar.append(b)
    cells: list[int] = []
    rows: list[Node] = []
    for _ in range(150):
        tds = []
        for _ in range(6):
            t = dom.text(words(rng, 2))
            cells.append(t[1])
            tds.append(dom.el("td", {}, t))
        rows.append(dom.el("tr", {"class": f"c{rng.randrange(300)}"}, *tds))
    tbody = dom.el("tbody", {}, *rows)
    head = dom.el(
        "thead", {}, dom.el("tr", {}, *(dom.el("th", {}, dom.text(w)) for w in WORDS[:6]))
    )
    fields: list[tuple[int, str]] = []
    form_kids = []
    for i in range(8):
        inp = dom.el(
            "input",
            {"name": f"f{i}", "type": "text", "placeholder": words(rng, 2)},
            value=words(rng, 1),
        )
        fields.append((inp[1], "text"))
        form_kids.append(dom.el("label", {}, dom.text(f"field {i}"), inp))
    box = dom.el("input", {"type": "checkbox", "name": "agree"}, checked=False)
    fields.append((box[1], "checkbox"))
    options = [dom.el("option", {"value": w}, dom.text(w)) for w in WORDS[:8]]
    sel = dom.el("select", {"name": "region"}, *options, value=WORDS[0])
    fields.append((sel[1], "select"))
    area = dom.el("textarea", {"name": "note", "rows": "3"}, value="")
    fields.append((area[1], "textarea"))
    form = dom.el("form", {"action": f"{ORIGIN}/save"}, *form_kids, box, sel, area)
    widgets: list[int] = []
    widget_texts: list[int] = []
    widget_nodes = []
    for _ in range(10):
        v = dom.text(str(rng.randrange(1000)))
        widget_texts.append(v[1])
        host = dom.el(
            "rc-stat",
            {"label": words(rng, 1)},
            shadow=[dom.el("span", {"class": "v"}, v), dom.el("slot", {})],
            shadowSheets=[WIDGET_CSS],
            defined=1,
        )
        widgets.append(host[1])
        widget_nodes.append(host)
    items = [dom.el("li", {"class": "item"}, dom.text(words(rng, 6))) for _ in range(30)]
    feed = dom.el("ul", {"id": "feed"}, *items)
    pane = dom.el(
        "div",
        {"id": "pane"},
        *(dom.el("p", {}, dom.text(words(rng, 30))) for _ in range(40)),
        scroll=[0, 120],
    )
    canvas = dom.el("canvas", {"width": "300", "height": "120", "id": "chart"}, canvas=PNG)
    bars = [
        dom.el(
            "rect",
            {"x": str(i * 12), "y": "0", "width": "10", "height": str(rng.randrange(100))},
            ns=1,
        )
        for i in range(40)
    ]
    svg = dom.el("svg", {"width": "480", "height": "100", "viewBox": "0 0 480 100"}, *bars, ns=1)
    ok = dom.el("button", {}, dom.text("OK"))
    dialog = dom.el("dialog", {"id": "confirm"}, dom.el("p", {}, dom.text("Are you sure?")), ok)
    toasts = dom.el("div", {"id": "toasts"})
    clock = dom.text("00:00:00")
    counter = dom.text("0")
    rule_style = dom.el("style", {"id": "live-rules"}, css=".live { color: red }")
    main = dom.el("main", {"id": "main"}, *route_content(dom, rng, f"{path} home"))
    body = dom.el(
        "body",
        {"class": "app"},
        dom.el(
            "header",
            {},
            dom.el("h1", {}, dom.text("Dashboard")),
            dom.el("span", {"id": "clock"}, clock),
            dom.el("b", {}, counter),
        ),
        dom.el("nav", {}, dom.el("ul", {}, *nav_items)),
        dom.el("div", {"class": "toolbar"}, *toolbar, *widget_nodes),
        main,
        dom.el("table", {}, head, tbody),
        form,
        feed,
        pane,
        canvas,
        svg,
        dialog,
        toasts,
        dom.el("footer", {}, dom.text(words(rng, 12))),
    )
    heads = dom.el(
        "head",
        {},
        dom.el("meta", {"charset": "utf-8"}),
        dom.el("title", {}, dom.text(f"App - {path}")),
        dom.el("style", {}, css=BASE_CSS),
        rule_style,
    )
    html = dom.el("html", {"lang": "en"}, heads, body)
    root: Node = [
        DOCUMENT,
        dom.id(),
        [[DOCTYPE, dom.id(), "html", "", ""], html],
        [".adopted { outline: 1px dotted }"],
    ]
    return App(
        root=root,
        links=links,
        buttons=buttons,
        fields=fields,
        cells=cells,
        rows=[r[1] for r in rows],
        tbody=tbody[1],
        main=main[1],
        content=[n[1] for n in main[4]],
        list_id=feed[1],
        items=[n[1] for n in items],
        widgets=widgets,
        widget_texts=widget_texts,
        clock=clock[1],
        pane=pane[1],
        canvas=canvas[1],
        dialog=dialog[1],
        ok=ok[1],
        toasts=toasts[1],
        rule_style=rule_style[1],
        counter=counter[1],
    )


@dataclass
class Recorder:
    """Events of one page load, cut into batches every ~1 s as the recorder sends them."""

    session: str
    page: float
    batches: list[dict[str, Any]]
    queue: list[Event] = field(default_factory=list)
    seq: int = 0
    sent: int = 0

    def add(self, event: Event) -> None:
        self.queue.append(event)

    def flush(self) -> None:
        if not self.queue:
            return
        self.batches.append(
            {
                "v": 1,
                "session": self.session,
                "page": self.page,
                "seq": self.seq,
                "first": self.sent,
                "events": self.queue,
            }
        )
        self.seq += 1
        self.sent += len(self.queue)
        self.queue = []


class User:
    """A visitor's actions on one page load, second by second."""

    def __init__(
        self, rng: random.Random, rec: Recorder, dom: Dom, app: App, start_ms: int
    ) -> None:
        self.rng, self.rec, self.dom, self.app = rng, rec, dom, app
        self.x, self.y = WIDTH // 2, HEIGHT // 2
        self.scroll_y = 0
        self.typing: tuple[int, str] | None = None
        self.dialog_until = 0  # a modal dialog is open until then (page time, ms)
        self.rules = 1
        self.start_ms = start_ms
        self.row_cells = _row_cells(app.root, app.tbody)  # <tr> id: its (td, Text) ids
        self.removals: list[tuple[int, int]] = []  # (time, toast id)

    def mutation(
        self,
        t: int,
        adds: Sequence[Any] = (),
        removes: Sequence[Any] = (),
        attrs: Sequence[Any] = (),
        texts: Sequence[Any] = (),
    ) -> None:
        self.rec.add([MUTATION, t, list(adds), list(removes), list(attrs), list(texts)])

    def second(self, t: int, active: bool) -> None:
        """One second of the visit from page time `t` (ms)."""
        rng, app = self.rng, self.app
        secs = (self.start_ms + t) // 1000
        self.mutation(
            t + 3, texts=[[app.clock, f"{secs // 3600:02}:{secs // 60 % 60:02}:{secs % 60:02}"]]
        )
        # Background updates: a live cell, a widget value, a class toggle.
        for _ in range(rng.randrange(1, 4)):
            dt = rng.randrange(10, 990)
            kind = rng.random()
            if kind < 0.4:
                self.mutation(t + dt, texts=[[rng.choice(app.cells), words(rng, 2)]])
            elif kind < 0.6:
                # Inside a shadow root: the Text node is one of the root's, by id.
                self.mutation(
                    t + dt, texts=[[rng.choice(app.widget_texts), str(rng.randrange(1000))]]
                )
            else:
                row = rng.choice(app.rows)
                self.mutation(
                    t + dt,
                    attrs=[
                        [
                            row,
                            "class",
                            f"c{rng.randrange(300)}{' sel' if rng.random() < 0.3 else ''}",
                        ]
                    ],
                )
        if not active:
            return
        self.move(t)
        if self.dialog_until:
            # A modal dialog: the rest of the page is inert, the user reads and confirms.
            if t >= self.dialog_until:
                for i, button in enumerate((DOWN, UP, CLICK)):
                    self.rec.add([MOUSE, t + 500 + i * 40, button, app.ok, self.x, self.y])
                self.rec.add([DIALOG, t + 590, app.dialog, CLOSED])
                self.rec.add([FOCUS, t + 590, 0])  # focus back where it was: nowhere
                self.dialog_until = 0
            return
        roll = rng.random()
        if roll < 0.25:
            self.click(t + rng.randrange(100, 900))
        elif roll < 0.45:
            self.scroll(t + rng.randrange(50, 950))
        if self.typing or roll > 0.93:
            self.type(t)
        if rng.random() < 0.05:
            self.burst(t + rng.randrange(0, 900))
        if rng.random() < 0.03:
            self.toast(t + rng.randrange(0, 900))
        if rng.random() < 0.02:
            self.table_refresh(t + rng.randrange(0, 900))
        if rng.random() < 0.1:
            self.rec.add([CANVAS, t + rng.randrange(0, 999), app.canvas, PNG])
        if rng.random() < 0.01:
            self.rules += 1
            css = "\n".join(f".live{i} {{ color: #{i:06x} }}" for i in range(self.rules))
            self.rec.add([STYLESHEET, t + 500, app.rule_style, css])
        if rng.random() < 0.01:
            host = rng.choice(app.widgets)
            self.rec.add(
                [
                    ADOPTED,
                    t + 600,
                    host,
                    [WIDGET_CSS, f".v {{ color: #{rng.randrange(1 << 24):06x} }}"],
                ]
            )
        if rng.random() < 0.01:
            # Shown modal: its focusing steps focus its button (the recorder sends that).
            self.rec.add([DIALOG, t + 700, app.dialog, MODAL])
            self.rec.add([FOCUS, t + 700, app.ok])
            self.typing = None
            self.dialog_until = t + rng.randrange(2_000, 6_000)
        if rng.random() < 0.008:
            prop = rng.choice(WORDS)
            message = f"TypeError: cannot read properties of undefined (reading '{prop}')"
            stack = f"at render ({ORIGIN}/assets/app.js:1:{rng.randrange(99_999)})"
            self.rec.add([ERROR, t + 800, message, stack])

    def move(self, t: int) -> None:
        positions = []
        for dt in range(0, 1000, 50 * self.rng.randrange(1, 4)):
            self.x = min(max(self.x + self.rng.randrange(-40, 41), 0), WIDTH - 1)
            self.y = min(max(self.y + self.rng.randrange(-30, 31), 0), HEIGHT - 1)
            positions.append([self.x, self.y, dt])
        self.rec.add([MOUSEMOVE, t, positions])

    def click(self, t: int) -> None:
        app, rng = self.app, self.rng
        target = rng.choice(app.buttons + app.links[:10] + [f for f, _ in app.fields])
        for i, button in enumerate((DOWN, UP, CLICK)):
            self.rec.add([MOUSE, t + i * 40, button, target, self.x, self.y])
        field_ids = dict(app.fields)
        if target in field_ids:
            self.rec.add([FOCUS, t + 41, target, 1])
            kind = field_ids[target]
            if kind == "checkbox":
                self.rec.add([INPUT, t + 80, target, rng.random() < 0.5])
            elif kind == "select":
                self.rec.add([INPUT, t + 80, target, rng.choice(WORDS[:8])])
            else:
                self.typing = (target, "")
        else:
            self.rec.add([FOCUS, t + 41, 0])
            self.mutation(t + 60, attrs=[[target, "aria-pressed", rng.choice(("true", "false"))]])
            if rng.random() < 0.02:
                self.rec.add([CHECKPOINT, t + 61, f"click-{target}"])

    def type(self, t: int) -> None:
        if not self.typing:
            text_fields = [f for f, kind in self.app.fields if kind in ("text", "textarea")]
            self.typing = (self.rng.choice(text_fields), "")
            self.rec.add([FOCUS, t, self.typing[0], 1])
        field_id, value = self.typing
        for dt in range(0, 1000, 120):
            value += self.rng.choice("abcdefghijklmnopqrstuvwxyz  ")
            self.rec.add([INPUT, t + dt + 5, field_id, value])
        self.typing = None if len(value) > 40 or self.rng.random() < 0.2 else (field_id, value)

    def scroll(self, t: int) -> None:
        if self.rng.random() < 0.7:
            for dt in range(0, 400, 100):
                self.scroll_y = max(0, self.scroll_y + self.rng.randrange(-200, 400))
                self.rec.add([SCROLL, t + dt, 0, 0, self.scroll_y])
        else:
            self.rec.add([SCROLL, t, self.app.pane, 0, self.rng.randrange(0, 1500)])

    def burst(self, t: int) -> None:
        """A feed refresh: 10-40 items prepended at once, the oldest removed."""
        app, dom, rng = self.app, self.dom, self.rng
        adds, new = [], []
        first = app.items[0] if app.items else 0
        for _ in range(rng.randrange(10, 41)):
            item = dom.el(
                "li",
                {"class": "item new"},
                dom.el("b", {}, dom.text(words(rng, 2))),
                dom.text(words(rng, 8)),
            )
            adds.append([app.list_id, first, item])
            new.append(item[1])
        old = app.items[len(app.items) - len(new) :] if len(app.items) > 60 else []
        app.items = new[::-1] + app.items[: len(app.items) - len(old)]
        self.mutation(t, adds=adds, removes=[[app.list_id, i] for i in old])

    def toast(self, t: int) -> None:
        app, dom, rng = self.app, self.dom, self.rng
        toast = dom.el(
            "div",
            {"class": "toast", "role": "status"},
            dom.el("strong", {}, dom.text("Saved")),
            dom.text(words(rng, 5)),
        )
        self.mutation(t, adds=[[app.toasts, 0, toast]])
        self.mutation(t + 50, attrs=[[toast[1], "style", "opacity: 1; transform: translateY(0)"]])
        # Gone 3 s later (see due_removals).
        self.removals.append((t + 3000, toast[1]))

    def due_removals(self, t: int) -> None:
        """Toasts whose time is up by the second starting at `t`."""
        due = [r for r in self.removals if r[0] < t + 1000]
        self.removals = [r for r in self.removals if r[0] >= t + 1000]
        for at, toast in due:
            self.mutation(max(at, t), removes=[[self.app.toasts, toast]])

    def table_refresh(self, t: int) -> None:
        """Re-sorting the table: every row removed and added again in another order (a move)."""
        app, rng = self.app, self.rng
        order = app.rows[:]
        rng.shuffle(order)
        removes = [[app.tbody, r] for r in app.rows]
        self.mutation(t, removes=removes, adds=self._readd(order))
        app.rows = order

    def _readd(self, order: list[int]) -> list[Any]:
        # A moved node is sent whole again with the same ids: rebuild the serialized rows.
        adds = []
        for i in range(len(order) - 1, -1, -1):
            row_id = order[i]
            cells = self.row_cells[row_id]
            tds = [[ELEMENT, td, "td", {}, [[TEXT, tx, words(self.rng, 2)]]] for td, tx in cells]
            nxt = order[i + 1] if i + 1 < len(order) else 0
            adds.append(
                [
                    self.app.tbody,
                    nxt,
                    [ELEMENT, row_id, "tr", {"class": f"c{self.rng.randrange(300)}"}, tds],
                ]
            )
        return adds

    def route(self, t: int, path: str, href: str) -> None:
        """An SPA route change: pushState, main's content swapped."""
        app, dom, rng = self.app, self.dom, self.rng
        self.rec.add([NAVIGATION, t, PUSH, href])
        content = route_content(dom, rng, path)
        removes = [[app.main, c] for c in app.content]
        adds = [[app.main, 0, c] for c in content]
        self.mutation(t + 30, adds=adds, removes=removes)
        app.content = [c[1] for c in content]


def _row_cells(root: Node, tbody: int) -> dict[int, list[tuple[int, int]]]:
    def find(node: Node) -> Node | None:
        if node[0] == ELEMENT and node[1] == tbody:
            return node
        kids = node[2] if node[0] == DOCUMENT else node[4] if node[0] == ELEMENT else []
        for kid in kids:
            hit = find(kid)
            if hit:
                return hit
        return None

    body = find(root)
    assert body is not None
    return {tr[1]: [(td[1], td[4][0][1]) for td in tr[4]] for tr in body[4]}


def long_session(minutes: float = 30, seed: int = 1, page_loads: int = 3) -> list[dict[str, Any]]:
    """Batches of a `minutes`-long visit (as POSTed, chunks joined), deterministic per seed.
    `page_loads` 1 is a single-page app's visit: one snapshot, then only mutations and routes."""
    rng = random.Random(seed)
    session = f"long-{seed}"
    batches: list[dict[str, Any]] = []
    total_ms = int(minutes * 60_000)
    # Full page loads at 0, ~40% and ~75% of the visit; SPA route changes in between.
    # Full page loads at 0, then spread over the visit (0.4 and 0.75 of it for 3); SPA route
    # changes in between.
    loads = [0] + [
        int(total_ms * (i / page_loads + rng.uniform(-0.05, 0.05))) for i in range(1, page_loads)
    ]
    paths = [["orders", "reports", "settings"][i % 3] for i in range(page_loads)]
    clock = 0  # ms since the visit started
    for n, start in enumerate(loads):
        end = loads[n + 1] if n + 1 < len(loads) else total_ms
        page = T0 + start
        rec = Recorder(session, page, batches)
        dom = Dom()
        href = f"{ORIGIN}/{paths[n]}"
        app = build_app(dom, rng, paths[n])
        user = User(rng, rec, dom, app, start)
        # The recorder starts at DOMContentLoaded.
        t = 120 + rng.randrange(80)
        rec.add([NAVIGATION, t, LOAD, href])
        rec.add([META, t, href, f"App - {paths[n]}", WIDTH, HEIGHT, 1])
        rec.add([SNAPSHOT, t, app.root, 0, 0])
        rec.add([DEFINE, t + 1, "rc-stat"])
        rec.flush()
        idle_until = 0
        routes = 0
        t = 1000
        while start + t < end:
            if rng.random() < 0.02:
                idle_until = t + rng.randrange(10_000, 60_000)  # reading: no input, page still live
            user.second(t, active=t >= idle_until)
            user.due_removals(t)
            if t >= idle_until and rng.random() < 0.006:
                routes += 1
                user.route(t + 900, f"{paths[n]} view {routes}", f"{href}/view/{routes}")
            if rng.random() < 0.002:
                rec.add(
                    [
                        VIEWPORT,
                        t + 950,
                        WIDTH - rng.randrange(0, 200),
                        HEIGHT - rng.randrange(0, 100),
                    ]
                )
            # Events within a batch in time order (the recorder queues them as they happen).
            rec.queue.sort(key=lambda e: e[1])
            rec.flush()
            t += 1000
        if n + 1 < len(loads):
            rec.add([MOUSE, t - 900, CLICK, app.links[0], user.x, user.y])
            rec.add([END, t - 800, []])
            rec.flush()
        clock = end
    assert clock == total_ms
    return batches


def main() -> None:
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    batches = long_session(minutes, seed)
    events = sum(len(b["events"]) for b in batches)
    size = len(json.dumps(batches, separators=(",", ":")))
    kinds: dict[int, int] = {}
    for b in batches:
        for e in b["events"]:
            kinds[e[0]] = kinds.get(e[0], 0) + 1
    print(
        f"{len(batches)} batches, {events} events, {size / 1e6:.1f} MB of JSON;"
        f" by type: {dict(sorted(kinds.items()))}"
    )


if __name__ == "__main__":
    main()
