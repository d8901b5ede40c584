"""The built-in recorder ships no executable form of what a hostile page holds (issue 15, item 2):
script URLs however they are spelled, a frame's HTML in a data: URL, script text and source,
event handlers. Real Chromium records a page full of them, in its first snapshot and added by
mutations, through the built bundle and the harness server's ingest; every batch that arrived
is read the way the replayer would get it.

Nodes and events are the positional arrays of recorder/src/format.ts.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from harness.stream import whole_batches
from harness.worker import Worker

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT, MUTATION = 1, 2
ELEMENT = 2  # NodeKind.Element
CODE = "void'PWN'"  # harmless where the live page runs it; found in the stream it was shipped

# How `javascript:` reaches an attribute, as the page's markup spells it: the HTML parser decodes
# entities, the URL parser strips C0 controls and spaces at the ends and tab/newline anywhere.
# NBSP and BOM are not stripped by browsers (the URL is then relative), but are by String.trim.
SPELLINGS = [
    "javascript:",
    "JaVaScRiPt:",
    "&#1;javascript:",
    " &#31;&#x0B; javascript:",
    "\t\njavascript:",
    "java&#9;script:",
    "java&#10;scr&#13;ipt:",
    "&#xA0;javascript:",
    "&#xFEFF;javascript:",
    "javascript&colon;",
    "&#106;avascript:",
    "vbscript:",
]
VECTORS = [s + CODE for s in SPELLINGS] + ["javascript:" + CODE + "&#1; "]
# A document's markup for a frame, an object or a link to load.
DOCUMENTS = [
    "data:text/html,<b>PWN</b>",
    "DATA:Text/HTML;base64,PGI+UFdOPC9iPg==",
    "&#1;data:text/html,<b>PWN</b>",
    "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'><text>PWN</text></svg>",
    "data:application/xhtml+xml,<b>PWN</b>",
]

# Where a URL goes: (markup with {id} and {value}, attribute, value around the URL {v}).
SVG_A = '<svg width="20" height="20"><a id="{id}" {attr}="{value}"><text y="9">a</text></a></svg>'
URL_SLOTS = [
    ('<a id="{id}" href="{value}">a</a>', "href", "{v}"),
    ('<a id="{id}" href="#" ping="{value}">a</a>', "ping", "{v} ping.php"),
    ('<map><area id="{id}" shape="rect" coords="0,0,1,1" href="{value}"></map>', "href", "{v}"),
    ('<link id="{id}" rel="author" href="{value}">', "href", "{v}"),
    ('<link id="{id}" rel="preload" as="image" imagesrcset="{value}">', "imagesrcset", "{v} 2x"),
    ('<iframe id="{id}" width="20" height="20" src="{value}"></iframe>', "src", "{v}"),
    ('<embed id="{id}" width="20" height="20" src="{value}">', "src", "{v}"),
    ('<object id="{id}" width="20" height="20" data="{value}"></object>', "data", "{v}"),
    ('<img id="{id}" src="{value}">', "src", "{v}"),
    ('<img id="{id}" longdesc="{value}">', "longdesc", "{v}"),
    ('<img id="{id}" srcset="{value}">', "srcset", "a.png 1x, {v} 2x"),
    ('<picture><source id="{id}" srcset="{value}"><img></picture>', "srcset", "{v}"),
    ('<video id="{id}" poster="{value}"></video>', "poster", "{v}"),
    ('<video id="{id}" src="{value}"></video>', "src", "{v}"),
    ('<audio><source id="{id}" src="{value}"></audio>', "src", "{v}"),
    ('<video><track id="{id}" src="{value}"></video>', "src", "{v}"),
    ('<input id="{id}" type="image" src="{value}">', "src", "{v}"),
    ('<form id="{id}" action="{value}"></form>', "action", "{v}"),
    ('<form><button id="{id}" formaction="{value}">b</button></form>', "formaction", "{v}"),
    ('<form><input id="{id}" type="submit" formaction="{value}"></form>', "formaction", "{v}"),
    ('<blockquote id="{id}" cite="{value}">q</blockquote>', "cite", "{v}"),
    ('<q id="{id}" cite="{value}">q</q>', "cite", "{v}"),
    ('<del id="{id}" cite="{value}">d</del>', "cite", "{v}"),
    ('<table id="{id}" background="{value}"><tr><td>t</td></tr></table>', "background", "{v}"),
    ('<table><tr><td id="{id}" background="{value}">t</td></tr></table>', "background", "{v}"),
    ('<meta id="{id}" http-equiv="refresh" content="{value}">', "content", "3600;url={v}"),
    ('<meta id="{id}" content="{value}" http-equiv="Refresh">', "content", "3600; URL='{v}'"),
    (SVG_A.replace("{attr}", "href"), "href", "{v}"),
    (SVG_A.replace("{attr}", "xlink:href"), "xlink:href", "{v}"),
    ('<svg><use id="{id}" href="{value}"/></svg>', "href", "{v}"),
    ('<svg><image id="{id}" href="{value}"/></svg>', "href", "{v}"),
    ('<svg><image id="{id}" xlink:href="{value}"/></svg>', "xlink:href", "{v}"),
    # Animations of a link's target: clicking the replayed link would follow them.
    ('<svg><a href="#"><set id="{id}" attributeName="href" to="{value}"/></a></svg>', "to", "{v}"),
    (
        '<svg><a href="#"><animate id="{id}" attributeName="xlink:href" values="{value}"/>'
        "</a></svg>",
        "values",
        "#a;{v}",
    ),
    (
        '<svg><a href="#"><animate id="{id}" attributeName="href" from="{value}" to="#"/>'
        "</a></svg>",
        "from",
        "{v}",
    ),
    (
        '<svg><a href="#"><animateTransform id="{id}" attributeName="href" to="{value}"/>'
        "</a></svg>",
        "to",
        "{v}",
    ),
    # Its attributeName becomes href later (the mutation test sets it): the target is still one.
    ('<svg><a href="#"><set id="{id}" attributeName="fill" to="{value}"/></a></svg>', "to", "{v}"),
]
# Elements that load or navigate to a document.
FRAMES = r"(a|area|iframe|frame|object|embed|form|button|input|meta|set|animate\w*)"


def loads_document(markup: str, attr: str) -> bool:
    tag = re.search(r'<(\w+)[^>]*id="\{id\}"', markup)
    assert tag
    name = tag[1].lower()
    return bool(re.fullmatch(FRAMES, name)) and attr != "ping" and (name, attr) != ("input", "src")


# Scripts and handlers the HTML parser makes (the mutation test adds more that it cannot).
SCRIPTS = [
    '<script id="{id}">window.PWN=1</script>',
    '<SCRIPT id="{id}" src="pwn.js?PWN"></SCRIPT>',
    '<ScRiPt id="{id}">window.PWN=2</ScRiPt>',
    '<svg><script id="{id}">window.PWN=3</script></svg>',
    '<svg><script id="{id}" href="data:,window.PWN=4"/></svg>',
    '<svg><SCRIPT id="{id}" xlink:href="pwn.js?PWN"/></svg>',
    '<div id="{id}" onclick="window.PWN=5" ONMOUSEOVER="window.PWN=6">h</div>',
    '<svg id="{id}" onload="window.PWN=7" width="1" height="1"></svg>',
]
# What the page's script adds and changes after the first snapshot, in one go.
MUTATE = """([changes, sets, markup]) => {
  const XLINK = "http://www.w3.org/1999/xlink";
  const decode = document.createElement("div");
  for (const [id, name, quoted] of changes) {
    // The value as the HTML parser reads it from the markup.
    decode.innerHTML = '<i title="' + quoted + '"></i>';
    const value = decode.firstChild.title;
    const el = document.getElementById(id);
    if (name.startsWith("xlink:")) el.setAttributeNS(XLINK, name, value);
    else el.setAttribute(name, value);
  }
  for (const id of sets) document.getElementById(id).setAttribute("attributeName", "href");
  const box = document.getElementById("added");
  box.innerHTML = markup;
  const add = (ns, tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text) el.textContent = text;
    box.appendChild(el);
    return el;
  };
  const XHTML = "http://www.w3.org/1999/xhtml", SVG = "http://www.w3.org/2000/svg";
  // Not scripts here, but one for a replayer that makes them with createElement.
  add(XHTML, "SCRIPT", {id: "ns-1", src: "pwn.js?PWN"}, "window.PWN=8");
  add(SVG, "Script", {id: "ns-2", href: "pwn.js?PWN"}, "window.PWN=9");
  add(XHTML, "script", {id: "ns-3"}, "");  // its source and text come later (LATER)
  const svg = add(SVG, "svg", {id: "ns-4"}, "");
  const s = document.createElementNS(SVG, "script");
  s.setAttributeNS(XLINK, "xlink:href", "pwn.js?PWN");
  svg.appendChild(s);
  const h = add(XHTML, "div", {id: "ns-5"}, "h");
  h.setAttribute("onclick", "window.PWN=12");
  h.setAttributeNS(null, "ONFOCUS", "window.PWN=13");
  h.setAttributeNS("urn:x", "x:onclick", "window.PWN=14");
}"""
# Scripts already in the replay get their source and text.
LATER = """() => {
  const late = document.getElementById("ns-3");
  late.setAttribute("src", "pwn.js?PWN");
  late.appendChild(document.createTextNode("window.PWN=10"));
  document.querySelector("#ns-4 script").setAttribute("href", "data:,window.PWN=11");
  document.querySelector("#ps0").firstChild.data = "window.PWN=15";
}"""


def slots(prefix: str, safe: bool = False) -> list[tuple[str, str, str, str]]:
    """(element id, its markup, attribute, the attribute's value as markup) of every vector."""
    out = []
    for i, (markup, attr, around) in enumerate(URL_SLOTS):
        kinds = VECTORS + (DOCUMENTS if loads_document(markup, attr) else [])
        for j, vector in enumerate(kinds):
            el = f"{prefix}u{i}-{j}"
            value = around.replace("{v}", "ok.html" if safe else vector)
            quoted = value.replace('"', "&quot;")  # a quote would end the attribute
            out.append((el, markup.format(id=el, value=quoted), attr, quoted))
    return out


def scripts(prefix: str) -> list[tuple[str, str]]:
    return [
        (f"{prefix}s{i}", markup.format(id=f"{prefix}s{i}")) for i, markup in enumerate(SCRIPTS)
    ]


def page_html() -> str:
    snapshot = [m for _, m, _, _ in slots("p")] + [m for _, m in scripts("p")]
    # Clean copies the mutation test turns into vectors.
    clean = [m for _, m, _, _ in slots("c", safe=True)]
    body = "".join(snapshot + clean)
    return f'<!doctype html><title>vectors</title><body>{body}<div id="added"></div>'


def added_html() -> str:
    return "".join([m for _, m, _, _ in slots("a")] + [m for _, m in scripts("a")])


@pytest.fixture(scope="module")
def bundle() -> str:
    return (ROOT / "recorder" / "dist" / "record.js").read_text()


@pytest.fixture
def open_page(worker: Worker, bundle: str) -> Iterator[tuple[Page, str]]:
    session = uuid.uuid4().hex
    context: BrowserContext = worker.browser.new_context(viewport={"width": 800, "height": 600})
    config = {"ingestUrl": worker.server.ingest_url(session), "session": session}
    context.add_init_script(
        "(function(){if(window.top!==window||location.protocol==='about:')return;"
        f"{bundle};window.__rec=replaycheckRecord.record({json.dumps(config)})}})()"
    )
    url = worker.server.add_asset(f"record-security/{session}.html", page_html(), "text/html")
    page = context.new_page()
    page.goto(url)
    yield page, session
    context.close()


def shipped(worker: Worker, page: Page, session: str) -> list[Any]:
    page.evaluate("window.__rec.flush(20000)")
    whole = whole_batches(worker.server.batches(session))
    assert whole, "nothing arrived"
    return [e for key in sorted(whole) for e in whole[key]["events"]]


def elements(value: Any, out: dict[int, list[Any]]) -> None:
    """Every serialized element anywhere in `value`, by node id."""
    if isinstance(value, dict):
        for v in value.values():
            elements(v, out)
    elif isinstance(value, list):
        if len(value) >= 5 and value[0] == ELEMENT and isinstance(value[2], str):
            out[value[1]] = value
        for v in value:
            elements(v, out)


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


# What a lenient reader would drop: the URL parser's strip, and String.trim's too.
LENIENT = re.compile(r"[\s\x00-\x20\ufeff]")
SCRIPT_URL = re.compile(r"(url=)?['\"]?(java|vb)script:.*pwn")
DOCUMENT_URL = re.compile(r"data:[^,;]*(html|xml)")


def local(name: str) -> str:
    return name.lower().rsplit(":", 1)[-1]


def executable(events: list[Any], everything: list[Any]) -> list[str]:
    """Each executable form `events` hold, said with where it is (`everything`: all the events
    of the page, which name the elements their changes are to)."""
    found = []
    # A script URL with its code, anywhere (in a list of URLs too).
    for s in strings(events):
        for piece in re.split(r"[,;]", LENIENT.sub("", s).lower()):
            if SCRIPT_URL.match(piece):
                found.append(f"script URL {s!r}")
    nodes: dict[int, list[Any]] = {}
    elements(events, nodes)
    attrs = [(n, name, v) for n in nodes.values() for name, v in n[3].items()]
    elements(everything, (named := dict(nodes)))
    for e in events:
        if e[0] == MUTATION:
            attrs += [(named[c[0]], c[1], c[2]) for c in e[4] if c[2] is not None]
    for n, name, v in attrs:
        tag = n[2].lower()
        where = f"<{n[2]} id={n[3].get('id')}> {name}={v!r}"
        if local(name).startswith("on"):
            found.append("handler " + where)
        if tag == "script" and local(name) in ("src", "href"):
            found.append("script source " + where)
        if DOCUMENT_URL.search(LENIENT.sub("", v).lower()) and re.fullmatch(FRAMES, tag):
            found.append("document URL " + where)
    for n in nodes.values():
        if n[2].lower() == "script" and n[4]:
            found.append(f"script text <{n[2]} id={n[3].get('id')}> {n[4]}")
    for e in events:
        if e[0] == MUTATION:
            found += [f"script text {t}" for t in e[5] if "PWN" in t[1]]
    return found


def ids(events: list[Any]) -> set[str]:
    nodes: dict[int, list[Any]] = {}
    elements(events, nodes)
    return {str(n[3]["id"]) for n in nodes.values() if "id" in n[3]}


def test_the_first_snapshot_ships_no_executable_form(
    worker: Worker, open_page: tuple[Page, str]
) -> None:
    page, session = open_page
    events = shipped(worker, page, session)
    assert [e[0] for e in events].count(SNAPSHOT) == 1
    expected = {el for el, _, _, _ in slots("p")} | {el for el, _ in scripts("p")}
    assert expected <= ids(events), "every vector was recorded"
    found = executable(events, events)
    assert not found, "\n".join(found)


def test_mutations_ship_no_executable_form(worker: Worker, open_page: tuple[Page, str]) -> None:
    page, session = open_page
    before = len(shipped(worker, page, session))
    changes = [("c" + el[1:], attr, v) for el, _, attr, v in slots("p")]
    sets = [el for el, markup, _, _ in slots("c") if 'attributeName="fill"' in markup]
    page.evaluate(MUTATE, [changes, sets, added_html()])
    shipped(worker, page, session)
    page.evaluate(LATER)
    everything = shipped(worker, page, session)
    events = everything[before:]
    assert events and all(e[0] == MUTATION for e in events)
    added = {el for el, _, _, _ in slots("a")} | {el for el, _ in scripts("a")}
    assert added | {f"ns-{i}" for i in range(1, 6)} <= ids(events), "every vector was recorded"
    nodes: dict[int, list[Any]] = {}
    elements(everything, nodes)
    changed = {nodes[c[0]][3].get("id") for e in events for c in e[4]}
    assert {el for el, _, _ in changes} <= changed, "every attribute change was recorded"
    found = executable(events, everything)
    assert not found, "\n".join(found)
