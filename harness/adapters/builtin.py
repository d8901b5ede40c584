"""replaycheck's own recorder and replayer (recorder/, stream format in recorder/src/format.ts)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

import recorder
from harness.adapters.base import (
    BUTTON_TYPES,
    FIELD_TAGS,
    MEDIA_TAGS,
    TEXT_ATTRS,
    Adapter,
    Masks,
    Readable,
    StreamReader,
)
from harness.events import Interaction
from harness.scenario import RecorderConfig
from harness.stream import Event, Stream, Timeline

# EventType, MouseKind, NavigationKind and NodeKind numbers of recorder/src/format.ts.
META, SNAPSHOT, MUTATION = 0, 1, 2
INPUT, SCROLL, MOUSE_MOVE, MOUSE, NAVIGATION, ERROR, CHECKPOINT = 3, 4, 5, 6, 8, 9, 10
STYLE_SHEET, ADOPTED_SHEETS, CANVAS = 11, 12, 14
NODE_DOCUMENT, NODE_ELEMENT, NODE_TEXT, NODE_COMMENT = 0, 2, 3, 4
CLICK, DBLCLICK = 2, 3
NAVIGATION_LOAD = 0

# Form fields, and contenteditable blocks: the recorder masks their text as input.
FIELDS = "input, textarea, select"
INPUTS = f"{FIELDS}, [contenteditable]:not([contenteditable=false])"


class BuiltinAdapter(Adapter):
    name = "builtin"
    record_bundle = "builtin-record.js"
    replay_bundle = "builtin-replay.js"
    checkpoint_settle_ms: ClassVar[int] = 150  # scroll is throttled to 100 ms (trailing call)
    final_settle_ms: ClassVar[int] = 150
    # Events are arrays [type, t, ...] with t in ms from the page's time origin.
    timeline = Timeline(
        time_of=lambda e: float(e[1]),
        with_time=lambda e, t: [e[0], t, *e[2:]],
        relative=True,
    )

    def record_options(self, config: RecorderConfig) -> dict[str, Any]:
        options: dict[str, Any] = {
            "maskAllInputs": config.mask_all_inputs,
            "maskAllText": config.mask_all_text,
            "detectPii": config.detect_pii,
            "piiRegion": getattr(config, "pii_region", None),  # national phone formats
            "mask": list(config.mask),
            "unmask": list(config.unmask),
            "block": list(config.block),
            "ignore": list(config.ignore),
        }
        return {**options, **config.options}

    def head_html(
        self,
        config: RecorderConfig,
        ingest_url: str,
        session: str,
        asset: Callable[[str, str], str],
    ) -> str:
        # Our recommended install: the loader inline (no request before the page can go on),
        # which fetches the recorder after the load event.
        main = asset("-main", self.init_script(config, ingest_url, session))
        loader = recorder.bundle("loader.js")
        return f"<script>{loader}\nreplaycheckLoader.load({json.dumps(main)});</script>"

    def check_bundles(self) -> None:
        super().check_bundles()
        recorder.bundle_path("loader.js")

    def masks(self, config: RecorderConfig) -> Masks:
        # Password fields stay masked whatever `unmask` says (the page's maskedRects).
        fields = [INPUTS if config.mask_all_inputs else "input[type=password]"]
        if config.ignore:
            # Fields under `ignore` (the recorder asks el.closest): the user's changes to them
            # are not recorded, so their replay shows something else.
            ignored = ", ".join(config.ignore)
            fields.append(f":is({ignored}):is({FIELDS}), :is({ignored}) :is({FIELDS})")
        text = ["*"] if config.mask_all_text else list(config.mask)
        return Masks(block=list(config.block), text=text, fields=fields, unmask=list(config.unmask))

    def masked_selectors(self, config: RecorderConfig) -> list[str]:
        # What the DOM comparison masks beyond maskAllText, which it applies itself.
        masks = self.masks(config)
        return [*masks["fields"], *config.mask, *masks["block"]]

    def interactions(self, stream: Stream) -> list[Interaction]:
        found: list[Interaction] = []
        for event in stream.events:
            kind, time = event[0], float(event[1])
            if kind == NAVIGATION and event[2] == NAVIGATION_LOAD:
                # A document load; history and hash changes are not navigations (events.py).
                found.append(Interaction("navigation", time))
            elif kind == MOUSE and event[2] in (CLICK, DBLCLICK):
                click = "click" if event[2] == CLICK else "dblclick"
                found.append(Interaction(click, time, event[3], event[4], event[5]))
            elif kind == INPUT:
                found.append(Interaction("input", time, event[2]))
            elif kind == SCROLL:
                found.append(Interaction("scroll", time, event[2]))
            elif kind == MOUSE_MOVE:
                found.extend(
                    Interaction("mouse_move", time + float(dt), None, x, y) for x, y, dt in event[2]
                )
            elif kind == ERROR:
                found.append(Interaction("error", time))
            elif kind == CHECKPOINT:
                found.append(Interaction("checkpoint", time))
        return found

    def is_checkpoint_mark(self, event: Event) -> bool:
        return isinstance(event, list) and event[:1] == [CHECKPOINT]

    def readable(self, stream: Stream) -> list[Readable] | None:
        if not all(isinstance(e, list) and e and isinstance(e[0], int) for e in stream.events):
            return None
        return _BuiltinReader().read(stream.events)


class _BuiltinReader(StreamReader):
    """Walks a builtin stream (recorder/src/format.ts) for what strict keeps out."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[int, str] = {}  # element id -> tag
        self.parents: dict[int, str] = {}  # text node id -> its parent's tag

    def read(self, events: list[Any]) -> list[Readable]:
        for index, e in enumerate(events):
            self.at = f"event {index}"
            kind = e[0]
            if kind == META:
                self.text("title", e[3], "document title")
            elif kind == SNAPSHOT:
                self.node(e[2], "")
            elif kind == MUTATION:
                for parent, _next, node in e[2]:
                    self.node(node, self.tags.get(parent, ""))
                for node, name, value, *_ in e[4]:
                    if isinstance(value, str):
                        self.attr(self.tags.get(node, ""), name, value, {}, node)
                for node, text, *_ in e[5]:
                    self.text_node(self.parents.get(node, ""), node, text)
            elif kind == INPUT and isinstance(e[3], str | list):
                for value in e[3] if isinstance(e[3], list) else [e[3]]:
                    self.text("value", str(value), f"input event on node {e[2]}", e[2])
            elif kind == STYLE_SHEET:
                self.css(e[3], f"style sheet of node {e[2]}")
            elif kind == ADOPTED_SHEETS:
                for css in e[3]:
                    self.css(css, f"adopted style sheet of {e[2]}")
            elif kind == CANVAS:
                self.add("media", "canvas frame", f"canvas event on node {e[2]}")
        return self.found

    def attr(self, tag: str, name: str, value: str, attrs: dict[str, str], node: int) -> None:
        short = name.lower().rsplit(":", 1)[-1]
        what = f"<{tag}> node {node} attribute {name}"
        button = tag == "input" and attrs.get("type", "").lower() in BUTTON_TYPES
        if short in TEXT_ATTRS or (short == "value" and button):
            self.text(f"attr:{short}", value, what)
        elif short == "value" and tag in FIELD_TAGS:
            self.text("value", value, what, node)  # a field's value: strict masks them all
        elif short == "style":
            self.css(value, what)

    def text_node(self, parent: str, node: int, text: str) -> None:
        if parent == "style":
            self.css(text, f"<style> text node {node}")
        elif parent != "script":
            self.text("text", text, f"<{parent}> text node {node}")

    def node(self, n: list[Any], parent: str) -> None:
        kind = n[0]
        if kind == NODE_DOCUMENT:
            for child in n[2]:
                self.node(child, "")
            for css in n[3] if len(n) > 3 else []:
                self.css(css, f"adopted style sheet of document {n[1]}")
        elif kind == NODE_TEXT:
            self.parents[n[1]] = parent
            self.text_node(parent, n[1], n[2])
        elif kind == NODE_COMMENT:
            self.text("comment", n[2], f"comment node {n[1]}")
        elif kind == NODE_ELEMENT:
            self.element(n)

    def element(self, n: list[Any]) -> None:
        node, tag, attrs = n[1], str(n[2]).lower(), n[3]
        extra: dict[str, Any] = n[5] if len(n) > 5 else {}
        self.tags[node] = tag
        if "blocked" in extra:
            return  # a same-size placeholder: nothing of it is recorded
        image_input = tag == "input" and attrs.get("type", "").lower() == "image"
        if tag in MEDIA_TAGS or image_input or "canvas" in extra:
            self.add("media", tag, f"<{tag}> node {node} recorded, not blocked")
        for name, value in attrs.items():
            self.attr(tag, name, value, attrs, node)
        if isinstance(extra.get("value"), str):
            self.text("value", extra["value"], f"<{tag}> node {node} value", node)
        if "css" in extra:
            self.css(extra["css"], f"<{tag}> node {node} style sheet")
        for css in extra.get("shadowSheets", []):
            self.css(css, f"<{tag}> node {node} shadow root sheet")
        for child in [*n[4], *extra.get("shadow", [])]:
            self.node(child, tag)
        if extra.get("frame"):  # null: the frame's document could not be read
            self.node(extra["frame"], tag)
