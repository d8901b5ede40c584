"""replaycheck's own recorder and replayer (recorder/, stream format in recorder/src/format.ts)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

import recorder
from harness.adapters.base import Adapter, Masks
from harness.events import Interaction
from harness.scenario import RecorderConfig
from harness.stream import Event, Stream, Timeline

# EventType, MouseKind and NavigationKind numbers of recorder/src/format.ts.
INPUT, SCROLL, MOUSE_MOVE, MOUSE, NAVIGATION, ERROR, CHECKPOINT = 3, 4, 5, 6, 8, 9, 10
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
