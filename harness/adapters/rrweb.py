"""rrweb 2.x (npm @rrweb/record and @rrweb/replay, pinned in package.json)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from harness.adapters.base import DIST, Adapter, Masks
from harness.events import Interaction
from harness.scenario import RecorderConfig
from harness.stream import Event, Stream, Timeline, decode_body

# rrweb's event and source numbers (@rrweb/types).
META, CUSTOM, INCREMENTAL = 4, 5, 3
SOURCE_MOUSE_MOVE, SOURCE_MOUSE_INTERACTION, SOURCE_SCROLL, SOURCE_INPUT = 1, 2, 3, 5
SOURCE_TOUCH_MOVE, SOURCE_DRAG = 6, 12
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

    def record_options(self, config: RecorderConfig) -> dict[str, Any]:
        # rrweb has no unmask and no PII detection: those keys have no effect on it.
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
