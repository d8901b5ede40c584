"""What one stored whole batch says about its session: pure functions, no I/O.

`summarize(format, page, events)` reads one batch (builtin: positional arrays, `t` relative to
`page`, recorder/src/format.ts; rrweb: event objects with an absolute `timestamp`, as rrweb's
harness transport sends them, harness/adapters/rrweb.py) into a `Summary`; the store adds it to
its session's row. Every time in a Summary is absolute epoch ms.

Counts are the harness's (harness/events.py), read by the harness's own adapters
(`BuiltinAdapter.interactions`, `RrwebAdapter.interactions`), so the index and a harness run
count one recording the same:
- navigation: a document load, once per document, the first page included: a session of one
  page has navigations = 1. A same-document URL change (pushState, replaceState, a fragment) is
  no navigation, though its URL is in `urls`. Builtin: the Navigation(Load) event a page starts
  with; rrweb: a batch with a Meta (rrweb repeats Meta at every checkout: `combine` counts a
  page once, as the harness does);
- click: the browser's click events (a double click is two clicks, and a dblclick, which is not
  in `clicks`); rage clicks: `rage_marks`, the harness's rule over a session's clicks;
- input: one edit of one field, consecutive input events on one field counted once (`edits`).
  A batch counts the runs it holds; a run going on across a batch boundary is one edit, which
  `combine` (or a store using `first_input`/`last_input`) takes off. Unlike the harness, which
  sorts all inputs of a run together, a run never crosses a page load: node ids start afresh
  on every page, so the same id there is another field;
- error: builtin Error events (uncaught errors, unhandled rejections), mark label = message;
  rrweb: the harness's `replaycheck.error` custom events (rrweb records none itself);
- checkpoint: a Checkpoint event (builtin) or `replaycheck.checkpoint` custom event (rrweb).

Activity (`activity`, `active_ms`): each click, double click, input, scroll or pointer position
(mouse move, touch move, drag) at t makes [t, t + ACTIVE_GAP_MS] active; neither format has key
events (typing shows as input). Spans of all batches merge (`merge_spans`); `active_ms` clips them
to the session's end when given it.

The stream is the page's, not trusted: the ingest checked types and times only, so a field of
the wrong shape is skipped here, never an exception.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Literal, TypeGuard

from harness.adapters import builtin as B
from harness.adapters import rrweb as R
from harness.events import Interaction, edits, rage_bursts
from harness.server import Batch as WireBatch
from harness.stream import Stream
from service import fingerprint
from service.fingerprint import Kind as ErrorKind
from service.fingerprint import Occurrence
from service.signals import (
    Compound,
    Rules,
    ViewFact,
    matches,
    parse_selector,
    selector_parts,
    thin,
)

Format = Literal["builtin", "rrweb"]
Props = dict[str, str | int | float | bool]

ACTIVE_GAP_MS = 5000.0  # an activity keeps the session active this long after it
# What Identify may carry (the recorder clips the same way: recorder/src/record/index.ts).
MAX_USER_ID, MAX_PROPS, MAX_PROP_KEY, MAX_PROP_VALUE = 256, 50, 64, 256
MAX_LABEL = 120  # characters of a mark's or a click's label
ACTIVE_KINDS = frozenset({"click", "dblclick", "input", "scroll", "mouse_move"})

# Builtin codes (format.ts) the harness's adapter does not name.
META, SNAPSHOT, MUTATION, VIEWPORT, END, IDENTIFY = 0, 1, 2, 7, 19, 21
CONSOLE, NETWORK, CUSTOM = 22, 23, 24
# Events that show the page reacted (a dead click is a click followed by none of them): DOM,
# style, canvas and dialog changes, inputs, scrolls, navigations, a new page, the page's end.
REACTIONS = frozenset({0, 1, 2, 3, 4, 8, 11, 12, 14, 15, 18, 19})
NAV_PUSH, NAV_REPLACE, NAV_POP, NAV_HASH = 1, 2, 3, 4
MAX_EVENT_NAME = 256
# What a click is said to be on: the closest link, button or form control, by tag or ARIA role.
CLICKABLE_TAGS = frozenset({"a", "button", "input", "select", "textarea", "summary", "label"})
# Of those, what must show a reaction to a click (a dead click is one without): a text field, a
# select or a file input waits for the user (typing, choosing) and changes nothing at the click.
REACTING_INPUTS = frozenset({"button", "submit", "reset", "image", "checkbox", "radio"})
CLICKABLE_ROLES = frozenset({"button", "link", "checkbox", "radio", "switch", "tab", "menuitem",
                             "menuitemcheckbox", "menuitemradio", "option"})  # fmt: skip
ELEMENT, TEXT = 2, 3
# rrweb's (@rrweb/types): FullSnapshot, incremental Mutation and ViewportResize, node types.
RR_FULL_SNAPSHOT, RR_MUTATION, RR_VIEWPORT = 2, 0, 4
RR_SCROLL, RR_INPUT, RR_STYLE, RR_CANVAS = 3, 5, 8, 9
RR_ELEMENT, RR_TEXT = 2, 3


@dataclass(frozen=True)
class Click:
    t: float  # absolute epoch ms
    x: float | None
    y: float | None
    target: int | None  # the recorder's node id (None: unknown)
    label: str  # what was clicked when the batch shows that node (tag and text), else ""
    # The link, button or control the click was on (the node, or the closest such ancestor) as
    # a simple selector, and whether there was one (a dead click is only on those): known when
    # the batch shows the node, else "" and False.
    selector: str = ""
    clickable: bool = False
    url: str = ""  # the page's URL then, when the batch shows it


@dataclass(frozen=True)
class Mark:
    t: float  # absolute epoch ms
    kind: str  # "navigation" | "error" | "checkpoint" | "click" | "rage_click"
    label: str


@dataclass(frozen=True)
class Summary:
    start: float | None  # absolute epoch ms of the batch's first event
    end: float | None  # ... and of its last
    urls: tuple[str, ...]  # page URLs in order (Meta hrefs, same-document changes too)
    clicks: tuple[Click, ...]
    inputs: int
    navigations: int
    marks: tuple[Mark, ...]  # navigations (label: URL), errors (message), checkpoints (name)
    activity: tuple[tuple[float, float], ...]  # merged spans of user activity
    viewport: tuple[int, int] | None  # the last width and height the batch shows
    user_id: str | None  # the last Identify's id
    user_props: Props  # every Identify's props, a later value of a key replacing an earlier
    ended: bool  # an End event (19) seen
    # For `combine`: the batch's page (time origin), the pages whose load it counted, and the
    # node ids of its first and last input events (None: no input, or of no known field).
    page: float | None = None
    loads: tuple[float, ...] = ()
    first_input: int | None = None
    last_input: int | None = None
    errors: int = 0  # error marks, for convenience
    # For the signals (service/signals.py) and the Errors page: times the page reacted
    # (thinned: signals.thin), page views (loads and same-document URL changes), errors of
    # every kind (url "" when the batch does not show it: the store knows it), custom events.
    changes: tuple[float, ...] = ()
    views: tuple[ViewFact, ...] = ()
    occurrences: tuple[Occurrence, ...] = ()
    custom: tuple[tuple[float, str, Props], ...] = ()
    typed: tuple[tuple[float, str], ...] = ()  # each edit's start and its field's label


EMPTY = Summary(None, None, (), (), 0, 0, (), (), None, None, {}, False)


# Reading one batch ---------------------------------------------------------------------------


def summarize(
    format: Format, page: float, events: list[Any], rules: Rules | None = None
) -> Summary:
    """What one whole batch of the page loaded at `page` (epoch ms) says; `rules` are the
    project's (which clicks can be dead)."""
    ignore = [c for s in (rules or Rules()).dead_click_ignore for c in parse_selector(s)]
    if format == "builtin":
        return _builtin(page, [e for e in events if _builtin_ok(e)], ignore)
    kept = [e for e in events if isinstance(e, dict) and _num(e.get("timestamp"))]
    return _rrweb(page, kept, ignore)


class _Pages:
    """The page URL at each moment of one batch, as far as the batch shows it."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.urls: list[str] = []

    def add(self, t: float, url: str) -> None:
        self.times.append(t)
        self.urls.append(url)

    def at(self, t: float) -> str:
        i = next((k for k in range(len(self.times) - 1, -1, -1) if self.times[k] <= t), None)
        return self.urls[i] if i is not None else ""


def _builtin(page: float, events: list[list[Any]], ignore: list[Compound]) -> Summary:
    urls: list[str] = []
    marks: list[Mark] = []
    pages = _Pages()
    views: list[ViewFact] = []
    errors: list[tuple[float, ErrorKind, str, str]] = []  # t, kind, message, stack
    custom: list[tuple[float, str, Props]] = []
    told: dict[tuple[float, int | None], Target] = {}  # what the recorder said a click was on
    viewport: tuple[int, int] | None = None
    user_id: str | None = None
    props: Props = {}
    readable: list[list[Any]] = []  # what the harness's reader reads, well-formed, absolute times
    for e in events:
        kind, t = e[0], page + e[1]
        if kind == META:
            _url(urls, e, 2)
            viewport = _size(e, 4) or viewport
            if len(e) > 2 and isinstance(e[2], str):
                pages.add(t, e[2])
        elif kind == B.NAVIGATION and len(e) > 2:
            _url(urls, e, 3)
            readable.append([kind, t, e[2]])
            href = e[3] if len(e) > 3 and isinstance(e[3], str) else None
            if href is not None:
                pages.add(t, href)
                if e[2] in (B.NAVIGATION_LOAD, NAV_PUSH, NAV_POP, NAV_HASH):
                    # A load the recorder saw come from back/forward says so (1 after href).
                    back = e[2] == NAV_POP or (len(e) > 4 and e[4] == 1)
                    views.append(ViewFact(t, href, back))
            if e[2] == B.NAVIGATION_LOAD:
                marks.append(Mark(t, "navigation", _text(e, 3)))
        elif kind == VIEWPORT:
            viewport = _size(e, 2) or viewport
        elif kind == B.ERROR:
            readable.append([kind, t])
            marks.append(Mark(t, "error", _text(e, 2)))
            errors.append((t, "error", _str(e, 2), _str(e, 3)))
        elif kind == CONSOLE and len(e) > 3 and e[2] == "error":
            errors.append((t, "console", _str(e, 3), ""))
        elif kind == NETWORK and len(e) > 4 and _num(e[4]):
            status = int(e[4])
            if fingerprint.is_network_error(status):
                # As sent (the URL masked by the recorder); fingerprint.group names it.
                message = f"{(_str(e, 2) or 'GET').upper()[:16]} {_str(e, 3)} {status}"
                errors.append((t, "network", message, ""))
        elif kind == CUSTOM and len(e) > 2 and isinstance(e[2], str) and e[2]:
            custom.append((t, e[2][:MAX_EVENT_NAME], _props(e[3] if len(e) > 3 else None)))
        elif kind == B.CHECKPOINT:
            readable.append([kind, t])
            marks.append(Mark(t, "checkpoint", _text(e, 2)))
        elif kind == IDENTIFY and len(e) > 2 and isinstance(e[2], str):
            user_id = e[2][:MAX_USER_ID]
            props.update(_props(e[3] if len(e) > 3 else None))
        elif kind == B.MOUSE and len(e) > 5:
            readable.append([kind, t, e[2], _id(e[3]), _coord(e[4]), _coord(e[5])])
            if e[2] == B.CLICK and len(e) > 6:
                target = _told(e[6], ignore)
                if target is not None:
                    told[(t, _id(e[3]))] = target
        elif kind in (B.INPUT, B.SCROLL) and len(e) > 2:
            readable.append([kind, t, _id(e[2])])
        elif kind == B.MOUSE_MOVE and len(e) > 2 and isinstance(e[2], list):
            moves = [p[:3] for p in e[2] if isinstance(p, list) and len(p) > 2 and _num(p[2])]
            readable.append([kind, t, moves])
    found = B.BuiltinAdapter().interactions(Stream(readable, [], 0, 0, 0))
    times = [page + e[1] for e in events]
    ended = any(e[0] == END for e in events)
    labels = partial(_builtin_labels, events, ignore)
    summary = _summary(
        page, found, times, urls, marks, viewport, user_id, props, ended, labels, told
    )
    changes = thin(page + e[1] for e in events if e[0] in REACTIONS)
    return _facts(summary, pages, changes, views, errors, custom)


def _str(e: list[Any], at: int) -> str:
    return e[at] if len(e) > at and isinstance(e[at], str) else ""


def _facts(
    summary: Summary,
    pages: _Pages,
    changes: list[float],
    views: list[ViewFact],
    errors: list[tuple[float, ErrorKind, str, str]],
    custom: list[tuple[float, str, Props]],
) -> Summary:
    occurrences = tuple(
        Occurrence(t, kind, message[: fingerprint.MAX_MESSAGE], stack[: fingerprint.MAX_STACK],
                   pages.at(t))
        for t, kind, message, stack in errors
    )  # fmt: skip
    clicks = tuple(replace(c, url=pages.at(c.t)) for c in summary.clicks)
    return replace(
        summary,
        clicks=clicks,
        changes=tuple(changes),
        views=tuple(views),
        occurrences=occurrences,
        custom=tuple(custom),
    )


def _rrweb(page: float, events: list[dict[str, Any]], ignore: list[Compound]) -> Summary:
    urls: list[str] = []
    marks: list[Mark] = []
    pages = _Pages()
    views: list[ViewFact] = []
    errors: list[tuple[float, ErrorKind, str, str]] = []
    changes: list[float] = []
    viewport: tuple[int, int] | None = None
    readable: list[dict[str, Any]] = []
    metas: list[dict[str, Any]] = []
    for e in events:
        data = e.get("data")
        data = data if isinstance(data, dict) else {}
        kind, t = e.get("type"), float(e["timestamp"])
        if kind == R.META:
            metas.append({"type": R.META, "timestamp": t})
            href = data.get("href")
            if isinstance(href, str):
                _add_url(urls, href)
                pages.add(t, href)
                if not views or views[-1].url != href:  # rrweb repeats Meta at a checkout
                    views.append(ViewFact(t, href, False))
            changes.append(t)
            viewport = _pair(data.get("width"), data.get("height")) or viewport
        elif kind == R.CUSTOM:
            payload = data.get("payload")
            payload = payload if isinstance(payload, dict) else {}
            if data.get("tag") == R.ERROR_TAG:
                marks.append(Mark(t, "error", _clip(payload.get("message"))))
                message, stack = payload.get("message"), payload.get("stack")
                errors.append((t, "error", message if isinstance(message, str) else "",
                               stack if isinstance(stack, str) else ""))  # fmt: skip
            elif data.get("tag") == R.CHECKPOINT_TAG:
                marks.append(Mark(t, "checkpoint", _clip(payload.get("name"))))
            readable.append({"type": kind, "timestamp": t, "data": {"tag": data.get("tag")}})
        elif kind == RR_FULL_SNAPSHOT:
            changes.append(t)
        elif kind == R.INCREMENTAL:
            source = data.get("source")
            if source in (RR_MUTATION, RR_SCROLL, RR_INPUT, RR_STYLE, RR_CANVAS):
                changes.append(t)
            if source == RR_VIEWPORT:
                viewport = _pair(data.get("width"), data.get("height")) or viewport
            clean: dict[str, Any] = {"source": source, "id": _id(data.get("id"))}
            if source == R.SOURCE_MOUSE_INTERACTION:
                clean |= {"type": data.get("type"), "x": _coord(data.get("x"))}
                clean["y"] = _coord(data.get("y"))
            elif source == R.SOURCE_INPUT:
                clean["isChecked"] = data.get("isChecked")
            elif source in (R.SOURCE_MOUSE_MOVE, R.SOURCE_TOUCH_MOVE, R.SOURCE_DRAG):
                positions = data.get("positions")
                clean["positions"] = [
                    {"timeOffset": p.get("timeOffset", 0)}
                    for p in (positions if isinstance(positions, list) else [])
                    if isinstance(p, dict) and _num(p.get("timeOffset", 0))
                ]
            readable.append({"type": kind, "timestamp": t, "data": clean})
    # The reader finds page loads in the batches' envelopes: this batch's Metas, as one.
    body = json.dumps({"page": page, "events": metas}).encode()
    stream = Stream(readable, [WireBatch(body, "application/json", "")], 0, 0, 0)
    found = R.RrwebAdapter().interactions(stream)
    for item in found:
        if item.kind == "navigation":
            marks.append(Mark(item.time_ms, "navigation", urls[0] if urls else ""))
    times = [float(e["timestamp"]) for e in events]
    labels = partial(_rrweb_labels, events, ignore)
    summary = _summary(page, found, times, urls, marks, viewport, None, {}, False, labels)
    return _facts(summary, pages, thin(changes), views, errors, [])


def _summary(
    page: float,
    found: list[Interaction],
    times: list[float],
    urls: list[str],
    marks: list[Mark],
    viewport: tuple[int, int] | None,
    user_id: str | None,
    props: Props,
    ended: bool,
    labels: Callable[[set[int]], dict[int, Target]],
    told: dict[tuple[float, int | None], Target] | None = None,
) -> Summary:
    inputs = [i for i in found if i.kind == "input"]
    raw = [i for i in found if i.kind == "click"]
    told = told or {}
    unknown = {c.target for c in raw if c.target is not None and (c.time_ms, c.target) not in told}
    unknown |= {i.target for i in inputs if i.target is not None}
    named = labels(unknown) if unknown else {}
    clicks = tuple(
        _click(c, told.get((c.time_ms, c.target)) or (named.get(c.target) if c.target else None))
        for c in raw
    )
    navigations = sum(i.kind == "navigation" for i in found)
    marks.sort(key=lambda m: m.t)
    return Summary(
        start=min(times, default=None),
        end=max(times, default=None),
        urls=tuple(urls),
        clicks=clicks,
        inputs=edits(inputs),
        navigations=navigations,
        marks=tuple(marks),
        activity=merge_spans((), _spans(i.time_ms for i in found if i.kind in ACTIVE_KINDS)),
        viewport=viewport,
        user_id=user_id,
        user_props=props,
        ended=ended,
        page=page,
        loads=(page,) if navigations else (),
        first_input=inputs[0].target if inputs else None,
        last_input=inputs[-1].target if inputs else None,
        errors=sum(m.kind == "error" for m in marks),
        typed=_typed(inputs, named),
    )


def _typed(inputs: list[Interaction], named: dict[int, Target]) -> tuple[tuple[float, str], ...]:
    """Each edit's start (a run of input events on one field, as `edits` counts them) and the
    field, as the batch shows it ("" when it does not)."""
    out: list[tuple[float, str]] = []
    last: Interaction | None = None
    for i in sorted(inputs, key=lambda i: i.time_ms):
        if last is None or i.target is None or i.target != last.target:
            target = named.get(i.target) if i.target is not None else None
            out.append((i.time_ms, target.label if target else ""))
        last = i
    return tuple(out)


# Field checks: the ingest checked an event's type and time, nothing more.


def _num(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _builtin_ok(e: object) -> bool:
    return isinstance(e, list) and len(e) > 1 and isinstance(e[0], int) and _num(e[1])


def _id(value: object) -> int | None:
    """A node id: a positive integer (0 is "none" in the builtin format)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _coord(value: object) -> float | None:
    return float(value) if _num(value) else None


def _pair(w: object, h: object) -> tuple[int, int] | None:
    if _num(w) and _num(h) and 0 <= w <= 1e6 and 0 <= h <= 1e6:
        return round(w), round(h)
    return None


def _size(e: list[Any], at: int) -> tuple[int, int] | None:
    return _pair(e[at], e[at + 1]) if len(e) > at + 1 else None


def _clip(value: object) -> str:
    return value[:MAX_LABEL] if isinstance(value, str) else ""


def _text(e: list[Any], at: int) -> str:
    return _clip(e[at]) if len(e) > at else ""


def _add_url(urls: list[str], url: str) -> None:
    if not urls or urls[-1] != url:  # a replaceState to the same URL, a Load and its Meta
        urls.append(url)


def _url(urls: list[str], e: list[Any], at: int) -> None:
    if len(e) > at and isinstance(e[at], str):
        _add_url(urls, e[at])


def _props(value: object) -> Props:
    """Identify's props as the recorder sends them; anything else left out, as it does."""
    out: Props = {}
    if not isinstance(value, dict):
        return out
    for key, v in value.items():
        if len(out) == MAX_PROPS:
            break
        if not isinstance(key, str) or len(key) > MAX_PROP_KEY:
            continue
        if isinstance(v, str):
            out[key] = v[:MAX_PROP_VALUE]
        elif isinstance(v, bool) or (isinstance(v, int | float) and math.isfinite(v)):
            out[key] = v
    return out


# Click labels: the clicked node as the batch's snapshot or added nodes show it.


@dataclass(frozen=True)
class Target:
    label: str
    selector: str
    clickable: bool


def _told(value: object, ignore: list[Compound]) -> Target | None:
    """A click's `[selector, label, control]` as the recorder sends it (format.ts MouseEvent),
    the project's ignore selectors applied to the selector."""
    if not (isinstance(value, list) and len(value) > 2 and isinstance(value[0], str)):
        return None
    selector, label = value[0][:MAX_LABEL], value[1] if isinstance(value[1], str) else ""
    tag, attrs = selector_parts(selector)
    control = value[2] == 1 and not (tag and matches(ignore, tag, attrs))
    words = SPACE.sub(" ", label).strip()[:MAX_LABEL]
    shown = f'{tag or "element"} "{words}"' if words else (tag or "")
    return Target(shown[:MAX_LABEL], selector, control)


def _click(c: Interaction, target: Target | None) -> Click:
    if target is None:
        return Click(c.time_ms, c.x, c.y, c.target, "")
    return Click(c.time_ms, c.x, c.y, c.target, target.label, target.selector, target.clickable)


# One element of a chain from the clicked node up: tag, attributes, its node (for its text).
Link = tuple[str, dict[str, str], Any]


def _attrs(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k).lower(): v for k, v in value.items() if isinstance(v, str)}


def selector(tag: str, attrs: dict[str, str]) -> str:
    """A short selector of one element: tag, #id, up to two classes (signals.matches reads it
    back), at most 120 characters."""
    out = tag.lower()
    ident = attrs.get("id", "")
    if re.fullmatch(r"[\w-]{1,60}", ident):
        out += f"#{ident}"
    out += "".join(
        f".{c}" for c in attrs.get("class", "").split()[:2] if re.fullmatch(r"[\w-]{1,40}", c)
    )
    return out[:MAX_LABEL]


def _is_clickable(tag: str, attrs: dict[str, str]) -> bool:
    tag = tag.lower()
    if tag == "a":
        return "href" in attrs
    if tag == "input":
        return attrs.get("type", "").lower() != "hidden"
    return tag in CLICKABLE_TAGS or attrs.get("role", "").lower() in CLICKABLE_ROLES


def _reacts(tag: str, attrs: dict[str, str]) -> bool:
    tag = tag.lower()
    if tag == "input":
        return attrs.get("type", "text").lower() in REACTING_INPUTS
    return tag not in ("select", "textarea", "label")


def _target(chain: list[Link], ignore: list[Compound], text: Callable[[Any], str]) -> Target:
    """What a click on chain[0] was on: the closest link, button or control, else the node;
    `clickable` when that one should react to a click (service/signals.py, dead clicks)."""
    at = next((i for i, (tag, attrs, _) in enumerate(chain) if _is_clickable(tag, attrs)), None)
    tag, attrs, node = chain[at or 0]
    reacts = at is not None and _reacts(tag, attrs)
    reacts = reacts and not any(matches(ignore, t, a) for t, a, _ in chain[: (at or 0) + 1])
    return Target(_label(tag, text(node), attrs), selector(tag, attrs), reacts)


SPACE = re.compile(r"\s+")
SKIP = frozenset({"script", "style", "noscript", "template"})
LABEL_ATTRS = ("aria-label", "title", "alt", "value", "placeholder", "name")


def _label(tag: str, text: str, attrs: object) -> str:
    words = SPACE.sub(" ", text).strip()
    if not words and isinstance(attrs, dict):
        words = next((a for a in (attrs.get(k) for k in LABEL_ATTRS) if isinstance(a, str)), "")
    label = f'{tag} "{words[:MAX_LABEL]}"' if words else tag
    return label[:MAX_LABEL]


def _builtin_children(n: list[Any]) -> Iterator[Any]:
    if n[0] == 0 and len(n) > 2 and isinstance(n[2], list):
        yield from n[2]
    elif n[0] == ELEMENT and len(n) > 4 and isinstance(n[4], list):
        yield from n[4]
        extra = n[5] if len(n) > 5 and isinstance(n[5], dict) else {}
        if isinstance(extra.get("shadow"), list):
            yield from extra["shadow"]
        if isinstance(extra.get("frame"), list):
            yield extra["frame"]


def _builtin_text(n: list[Any]) -> str:
    parts: list[str] = []
    stack = [n]
    size = 0
    while stack and size < MAX_LABEL * 2:
        k = stack.pop()
        if not (isinstance(k, list) and len(k) > 2):
            continue
        if k[0] == TEXT and isinstance(k[2], str):
            parts.append(k[2])
            size += len(k[2])
        elif k[0] != ELEMENT or not (isinstance(k[2], str) and k[2] in SKIP):
            stack.extend(reversed(list(_builtin_children(k))))
    return " ".join(parts)


def _builtin_labels(
    events: list[list[Any]], ignore: list[Compound], ids: set[int]
) -> dict[int, Target]:
    roots: list[Any] = []
    for e in events:
        if e[0] == SNAPSHOT and len(e) > 2:
            roots.append(e[2])
        elif e[0] == MUTATION and len(e) > 2 and isinstance(e[2], list):
            roots.extend(a[2] for a in e[2] if isinstance(a, list) and len(a) > 2)
    found: dict[int, Target] = {}
    stack: list[tuple[Any, list[Link]]] = [(r, []) for r in roots[::-1]]
    while stack and len(found) < len(ids):
        n, up = stack.pop()
        if not (isinstance(n, list) and len(n) > 2 and isinstance(n[0], int)):
            continue
        chain = up
        if n[0] == ELEMENT and isinstance(n[2], str):
            chain = [(n[2], _attrs(n[3] if len(n) > 3 else None), n), *up[:30]]
            if isinstance(n[1], int) and n[1] in ids:
                found[n[1]] = _target(chain, ignore, _builtin_text)
        stack.extend((k, chain) for k in reversed(list(_builtin_children(n))))
    return found


def _rrweb_children(n: dict[str, Any]) -> list[Any]:
    kids = n.get("childNodes")
    return kids if isinstance(kids, list) else []


def _rrweb_text(n: dict[str, Any]) -> str:
    parts: list[str] = []
    stack: list[Any] = [n]
    size = 0
    while stack and size < MAX_LABEL * 2:
        k = stack.pop()
        if not isinstance(k, dict):
            continue
        if k.get("type") == RR_TEXT and isinstance(k.get("textContent"), str):
            parts.append(k["textContent"])
            size += len(k["textContent"])
        elif not (isinstance(k.get("tagName"), str) and k["tagName"] in SKIP):
            stack.extend(reversed(_rrweb_children(k)))
    return " ".join(parts)


def _rrweb_labels(
    events: list[dict[str, Any]], ignore: list[Compound], ids: set[int]
) -> dict[int, Target]:
    roots: list[Any] = []
    for e in events:
        data = e.get("data")
        if not isinstance(data, dict):
            continue
        if e.get("type") == RR_FULL_SNAPSHOT:
            roots.append(data.get("node"))
        elif e.get("type") == R.INCREMENTAL and data.get("source") == RR_MUTATION:
            adds = data.get("adds")
            roots.extend(a.get("node") for a in adds or [] if isinstance(a, dict))
    found: dict[int, Target] = {}
    stack: list[tuple[Any, list[Link]]] = [(r, []) for r in roots[::-1]]
    while stack and len(found) < len(ids):
        n, up = stack.pop()
        if not isinstance(n, dict):
            continue
        tag, nid, chain = n.get("tagName"), n.get("id"), up
        if n.get("type") == RR_ELEMENT and isinstance(tag, str):
            chain = [(tag, _attrs(n.get("attributes")), n), *up[:30]]
            if isinstance(nid, int) and nid in ids:
                found[nid] = _target(chain, ignore, _rrweb_text)
        stack.extend((k, chain) for k in reversed(_rrweb_children(n)))
    return found


# Across batches ------------------------------------------------------------------------------


def _spans(times: Iterable[float]) -> list[tuple[float, float]]:
    return [(t, t + ACTIVE_GAP_MS) for t in times]


def merge_spans(
    a: Iterable[tuple[float, float]], b: Iterable[tuple[float, float]]
) -> tuple[tuple[float, float], ...]:
    """The union of two sets of spans, as sorted spans that neither overlap nor touch."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted([*a, *b]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def active_ms(spans: Iterable[tuple[float, float]], end: float | None = None) -> float:
    """Total length of merged spans; with `end` (the session's last event), none past it: the
    activity at the very end does not make a session active longer than it lasted."""
    return sum(max(0.0, (b if end is None else min(b, end)) - a) for a, b in spans)


def rage_marks(clicks: Iterable[Click]) -> list[Mark]:
    """One mark per burst, at its first click: harness/events.py's rule (rage_bursts)."""
    pairs = [(Interaction("click", c.t, c.target, c.x, c.y), c) for c in clicks]
    click_of = {id(i): c for i, c in pairs}  # `pairs` keeps the interactions alive
    marks = []
    for first, n in rage_bursts(i for i, _ in pairs):
        c = click_of[id(first)]
        marks.append(Mark(c.t, "rage_click", f"{n} clicks" + (f": {c.label}" if c.label else "")))
    return marks


def combine(summaries: Iterable[Summary]) -> Summary:
    """A session's summary from its batches' summaries in (page, seq) order: counts added, except
    that a page's load counts once and an input run going on across a batch boundary is one edit
    (same page, same known field, nothing in between); spans merged; the last viewport and user
    id; props added up."""
    total = EMPTY
    for b in summaries:
        total = _join(total, b)
    return total


def _join(a: Summary, b: Summary) -> Summary:
    same_page = a.page is not None and a.page == b.page
    seen_load = bool(b.loads) and set(b.loads) <= set(a.loads)
    goes_on = same_page and b.first_input is not None and b.first_input == a.last_input
    last_input = b.last_input if b.inputs else (a.last_input if same_page else None)
    urls = list(a.urls)
    for url in b.urls:
        _add_url(urls, url)
    return replace(
        b,
        start=min((t for t in (a.start, b.start) if t is not None), default=None),
        end=max((t for t in (a.end, b.end) if t is not None), default=None),
        urls=tuple(urls),
        clicks=a.clicks + b.clicks,
        inputs=a.inputs + b.inputs - goes_on,
        navigations=a.navigations + (0 if seen_load else b.navigations),
        marks=a.marks + tuple(m for m in b.marks if not (seen_load and m.kind == "navigation")),
        activity=merge_spans(a.activity, b.activity),
        viewport=b.viewport or a.viewport,
        user_id=b.user_id or a.user_id,
        user_props={**a.user_props, **b.user_props},
        ended=b.ended or (a.ended and same_page),
        loads=tuple(dict.fromkeys(a.loads + b.loads)),
        first_input=a.first_input if a.inputs else b.first_input,
        last_input=last_input,
        errors=a.errors + b.errors,
    )


# Browsers ------------------------------------------------------------------------------------

# Checked in order: Edge and the others built on Chromium name Chrome too; iOS browsers name
# Safari's engine. Browsers we do not name (Opera, Samsung Internet...) are "other".
_BROWSERS = (
    (re.compile(r"\b(?:OPR|SamsungBrowser|YaBrowser|UCBrowser|Vivaldi)/"), ""),
    (re.compile(r"\b(?:Edg|EdgA|EdgiOS)/(\d+)"), "Edge"),
    (re.compile(r"\b(?:Firefox|FxiOS)/(\d+)"), "Firefox"),
    (re.compile(r"\b(?:HeadlessChrome|Chrome|CriOS)/(\d+)"), "Chrome"),
    (re.compile(r"\bVersion/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/"), "Safari"),
)


def browser(user_agent: str) -> str:
    """ "Chrome 131", "Firefox 133", "Safari 17", "Edge 131", else "other"."""
    for pattern, name in _BROWSERS:
        found = pattern.search(user_agent[:1000])
        if found:
            return f"{name} {found.group(1)}" if name else "other"
    return "other"
