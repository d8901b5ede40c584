"""Open a stream in a fresh page and capture the replayed document at each checkpoint."""

from __future__ import annotations

from playwright.sync_api import Browser

from harness.adapters.base import Adapter
from harness.capture import Capture, PageWorld, canon_options, canonical_dom, ensure_harness
from harness.scenario import Scenario
from harness.server import Server
from harness.stream import Stream


class ReplayFailed(Exception):
    """The replayer could not rebuild or seek the stream: the scenario fails."""


def replay(
    browser: Browser,
    server: Server,
    scenario: Scenario,
    adapter: Adapter,
    stream: Stream,
    checkpoints: list[Capture],
) -> list[Capture]:
    """Replay captures matching the live `checkpoints`, one for one."""
    width, height = scenario.viewport.width, scenario.viewport.height
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(adapter.replay_url(server), wait_until="load")
        world = PageWorld(page)
        ensure_harness(world)
        adapter.load(page, stream, scenario.recorder)
        options = canon_options(scenario.recorder, adapter.masked_selectors(scenario.recorder))
        captures = []
        for live in checkpoints:
            name = live.name
            try:
                frame = adapter.seek(page, name)
            except Exception as e:
                raise ReplayFailed(f"replay could not seek to checkpoint {name!r}: {e}") from None
            # As on the live side: scrolls ended (a replayer's may be smooth), images, sprites and
            # fonts of every frame loaded, animations of every tree finished.
            page.evaluate("f => window.__rcHarness.settle(f.contentDocument, window)", frame)
            # Only the replayed page, at the live viewport's size, not what the replayer adds.
            box = frame.bounding_box()
            x, y = (box["x"], box["y"]) if box else (0.0, 0.0)
            png = page.screenshot(
                clip={"x": x, "y": y, "width": width, "height": height}, caret="hide"
            )
            dom = canonical_dom(world, "arg.contentDocument", {**options, "url": live.url}, frame)
            masked = adapter.replay_masked_rects(page, frame, scenario.recorder)
            captures.append(Capture(name, png, dom, live.url, masked))
        return captures
    finally:
        context.close()
