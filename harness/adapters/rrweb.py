"""rrweb 2.x (npm @rrweb/record and @rrweb/replay, pinned in package.json)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from harness.adapters.base import (
    BUTTON_TYPES,
    DIST,
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
from harness.stream import Event, Stream, Timeline, decode_body

# rrweb's event, source and node numbers (@rrweb/types, rrweb-snapshot).
FULL_SNAPSHOT, META, CUSTOM, INCREMENTAL = 2, 4, 5, 3
SOURCE_MUTATION, SOURCE_MOUSE_MOVE, SOURCE_MOUSE_INTERACTION, SOURCE_SCROLL = 0, 1, 2, 3
SOURCE_INPUT, SOURCE_TOUCH_MOVE, SOURCE_STYLE_SHEET_RULE, SOURCE_CANVAS = 5, 6, 8, 9
SOURCE_DRAG, SOURCE_ADOPTED_STYLE_SHEET = 12, 15
NODE_DOCUMENT, NODE_ELEMENT, NODE_TEXT, NODE_COMMENT = 0, 2, 3, 5
INTERACTION_CLICK, INTERACTION_DBLCLICK = 2, 4
ERROR_TAG = "replaycheck.error"
CHECKPOINT_TAG = "replaycheck.checkpoint"  # harness/js/src/adapters/rrweb-record.ts

INPUTS = "input, textarea, select"


def _joined(selectors: tuple[str, ...]) -> str | None:
    return ", ".join(selectors) if selectors else None


class RrwebAdapter(Adapter):
    name = "rrweb"
    record_bundle = "rrweb-record.js"
    replay_bundle = "rrweb-replay.js"
    replay_css = (DIST / "rrweb-replay.css",)  # @rrweb/replay's style.css, copied by build.mjs
    checkpoint_settle_ms: ClassVar[int] = 150  # scroll events are throttled to 100 ms
    final_settle_ms: ClassVar[int] = 550  # mouse moves are batched for 500 ms
    timeline = Timeline(
        time_of=lambda e: float(e["timestamp"]),
        with_time=lambda e, t: e if e["timestamp"] == t else {**e, "timestamp": t},
        relative=False,
    )

    # What rrweb's options cannot keep out of a strict recording (its record options are JSON
    # here, as a deployed config is: no maskTextFn or maskInputFn callbacks).
    strict_gaps: ClassVar[dict[str, str]] = {
        "attr": "rrweb masks no attribute: title, alt, placeholder, aria-label and button "
        "labels go as they are",
        "comment": "rrweb records comments as they are",
        "css": "rrweb records CSS text as it is, content: strings included",
        "value": "rrweb's maskAllInputs masks the values of the input types it lists, not "
        "every value attribute: hidden inputs' and options' go as they are",
    }

    def record_options(self, config: RecorderConfig) -> dict[str, Any]:
        # rrweb has no unmask and no PII detection: those keys have no effect on it. Strict is
        # maskAllInputs, maskTextSelector "*" (every element's text; rrweb's maskTextClass
        # matches one class only) and blockSelector of the media tags (scenario.MEDIA_BLOCK):
        # rrweb's blocked elements replay as same-size placeholders.
        mask_text = "*" if config.mask_all_text else _joined(config.mask)
        options: dict[str, Any] = {"maskAllInputs": config.mask_all_inputs}
        if mask_text:
            options["maskTextSelector"] = mask_text
        if config.block:
            options["blockSelector"] = _joined(config.block)
        if config.ignore:
            options["ignoreSelector"] = _joined(config.ignore)
        return {**options, **config.options}

    def replay_options(self, config: RecorderConfig) -> dict[str, Any]:
        # rrweb draws recorded canvas frames only when told to (its docs: recordCanvas needs
        # UNSAFE_replayCanvas on the replayer); without it a faithful recording replays blank.
        if self.record_options(config).get("recordCanvas"):
            return {"UNSAFE_replayCanvas": True}
        return {}

    def masks(self, config: RecorderConfig) -> Masks:
        options = self.record_options(config)
        fields = [INPUTS if options.get("maskAllInputs") else "input[type=password]"]
        if isinstance(options.get("ignoreSelector"), str):
            # rrweb records no input on fields matching it: their replay shows something else.
            fields.append(f":is({options['ignoreSelector']}):is({INPUTS})")
        text, block = options.get("maskTextSelector"), options.get("blockSelector")
        return Masks(
            block=[block] if isinstance(block, str) else [],
            text=[text] if isinstance(text, str) else [],
            fields=fields,
            unmask=[],  # rrweb has no unmask
        )

    def readable(self, stream: Stream) -> list[Readable] | None:
        if not all(isinstance(e, dict) and "timestamp" in e for e in stream.events):
            return None
        return _RrwebReader().read(stream.events)

    def interactions(self, stream: Stream) -> list[Interaction]:
        found = _page_loads(stream)
        checked_at: float | None = None  # when a radio was last checked
        for event in stream.events:
            kind, data, time = event.get("type"), event.get("data") or {}, float(event["timestamp"])
            if kind == CUSTOM and data.get("tag") == ERROR_TAG:
                found.append(Interaction("error", time))
            elif self.is_checkpoint_mark(event):
                found.append(Interaction("checkpoint", time))
            elif kind == INCREMENTAL:
                source = data.get("source")
                if source == SOURCE_MOUSE_INTERACTION and data.get("type") in (
                    INTERACTION_CLICK,
                    INTERACTION_DBLCLICK,
                ):
                    click = "click" if data["type"] == INTERACTION_CLICK else "dblclick"
                    found.append(
                        Interaction(click, time, data.get("id"), data.get("x"), data.get("y"))
                    )
                elif source == SOURCE_INPUT:
                    if data.get("isChecked") is False and time == checked_at:
                        # rrweb adds an event for each radio its group unchecked: not input.
                        continue
                    checked_at = time if data.get("isChecked") is True else None
                    found.append(Interaction("input", time, data.get("id")))
                elif source == SOURCE_SCROLL:
                    found.append(Interaction("scroll", time, data.get("id")))
                elif source in (SOURCE_MOUSE_MOVE, SOURCE_TOUCH_MOVE, SOURCE_DRAG):
                    # One event carries a batch of positions; each is a move.
                    found.extend(
                        Interaction(
                            "mouse_move",
                            time + float(p.get("timeOffset", 0)),
                            None,
                            p.get("x"),
                            p.get("y"),
                        )
                        for p in data.get("positions", [])
                    )
        return found

    def is_checkpoint_mark(self, event: Event) -> bool:
        return (
            isinstance(event, dict)
            and event.get("type") == CUSTOM
            and (event.get("data") or {}).get("tag") == CHECKPOINT_TAG
        )


class _RrwebReader(StreamReader):
    """Walks an rrweb stream for what strict keeps out."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[Any, str] = {}  # node id -> tag (for text nodes: the parent's)

    def read(self, events: list[Any]) -> list[Readable]:
        for index, e in enumerate(events):
            self.at = f"event {index}"
            kind, data = e.get("type"), e.get("data") or {}
            if kind == FULL_SNAPSHOT:
                self.node(data.get("node") or {}, "")
            elif kind != INCREMENTAL:
                continue
            source = data.get("source")
            if source == SOURCE_MUTATION:
                for add in data.get("adds", []):
                    self.node(add.get("node") or {}, self.tags.get(add.get("parentId"), ""))
                for change in data.get("attributes", []):
                    tag = self.tags.get(change.get("id"), "")
                    for name, value in (change.get("attributes") or {}).items():
                        if isinstance(value, str):
                            self.attr(tag, change.get("id"), name, value, {})
                for change in data.get("texts", []):
                    if isinstance(change.get("value"), str):
                        self.text_node(self.tags.get(change.get("id"), ""), change, change["value"])
            elif source == SOURCE_INPUT and isinstance(data.get("text"), str):
                self.text(
                    "value", data["text"], f"input event on node {data.get('id')}", data.get("id")
                )
            elif source == SOURCE_STYLE_SHEET_RULE:
                for rule in data.get("adds", []):
                    self.css(str(rule.get("rule", "")), f"style sheet rule of {data.get('id')}")
            elif source == SOURCE_ADOPTED_STYLE_SHEET:
                for sheet in data.get("styles", []):
                    for rule in sheet.get("rules", []):
                        self.css(str(rule.get("rule", "")), "adopted style sheet")
            elif source == SOURCE_CANVAS:
                self.add("media", "canvas frame", f"canvas mutation of node {data.get('id')}")
        return self.found

    def attr(self, tag: str, node: Any, name: str, value: str, attrs: dict[str, Any]) -> None:
        short = name.lower().rsplit(":", 1)[-1]
        what = f"<{tag}> node {node} attribute {name}"
        button = tag == "input" and str(attrs.get("type", "")).lower() in BUTTON_TYPES
        if short in TEXT_ATTRS or (short == "value" and button):
            self.text(f"attr:{short}", value, what)
        elif short == "value" and tag in FIELD_TAGS:
            self.text("value", value, what, node)  # a field's value: strict masks them all
        elif short in ("style", "_csstext"):
            self.css(value, what)
        elif short == "rr_dataurl":
            self.add("media", f"{tag} pixels", what)

    def text_node(self, parent: str, n: dict[str, Any], text: str) -> None:
        what = f"<{parent}> text node {n.get('id')}"
        if parent == "style" or n.get("isStyle"):
            self.css(text, what)
        elif parent != "script":
            self.text("text", text, what)

    def node(self, n: dict[str, Any], parent: str) -> None:
        kind, node = n.get("type"), n.get("id")
        if kind == NODE_TEXT:
            self.tags[node] = parent
            self.text_node(parent, n, str(n.get("textContent", "")))
            return
        if kind == NODE_COMMENT:
            self.text("comment", str(n.get("textContent", "")), f"comment node {node}")
            return
        if kind not in (NODE_DOCUMENT, NODE_ELEMENT):
            return
        tag = str(n.get("tagName", "")).lower()
        attrs: dict[str, Any] = n.get("attributes") or {}
        if kind == NODE_ELEMENT:
            self.tags[node] = tag
            if "rr_width" in attrs:
                return  # a blocked element: a same-size placeholder
            image_input = tag == "input" and str(attrs.get("type", "")).lower() == "image"
            if tag in MEDIA_TAGS or image_input:
                self.add("media", tag, f"<{tag}> node {node} recorded, not blocked")
            for name, value in attrs.items():
                if isinstance(value, str):
                    self.attr(tag, node, name, value, attrs)
        for child in n.get("childNodes", []):
            self.node(child, tag)


def _page_loads(stream: Stream) -> list[Interaction]:
    """One navigation per recorded document: the first Meta its page sent. rrweb emits a Meta
    at every full snapshot, checkouts (`checkoutEveryNms`) included, so Metas alone overcount."""
    loads: dict[float, float] = {}  # page time origin -> its first Meta's timestamp
    for batch in stream.batches:
        envelope = json.loads(decode_body(batch))
        page = float(envelope["page"])
        metas = [float(e["timestamp"]) for e in envelope["events"] if e.get("type") == META]
        if metas:
            loads[page] = min([*metas, loads.get(page, metas[0])])
    return [Interaction("navigation", time) for _, time in sorted(loads.items())]
