"""`recorder.privacy` presets: what each adapter is told, what the strict verdict fails, and what
the pixel score leaves out under strict. Real Chromium, real server, real recorders."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import adapters, masking
from harness.adapters.base import Readable
from harness.adapters.builtin import BuiltinAdapter
from harness.compare import pixel
from harness.drive import record
from harness.replay import replay
from harness.scenario import MEDIA_BLOCK, RecorderConfig, Scenario, load_paths, load_scenario
from harness.stream import Stream
from harness.worker import Worker

ROOT = Path(__file__).resolve().parent.parent
MASKING = sorted((ROOT / "scenarios" / "masking").glob("*.yaml"))

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Order 1815</title><style>
body { margin: 0; font: 16px/1.4 sans-serif; }
h1 { margin: 20px; font-size: 28px; }
.row { display: flex; gap: 20px; margin: 20px; align-items: flex-start; }
#swatch { width: 120px; height: 80px; background: #c33; }
#photo { width: 100px; height: 60px; display: block; }
p { margin: 20px; }
input { margin: 20px; border: 4px solid #36c; padding: 6px; font: inherit; }
</style></head><body>
<h1 id="title" title="Your order">Order summary</h1>
<!-- shipped by the night team -->
<div class="row"><div id="swatch"></div>
<canvas id="chart" width="160" height="90"></canvas>
<img id="photo" alt="Receipt photo" src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'
 width='100' height='60'%3E%3Crect width='100' height='60' fill='%2339a'/%3E%3C/svg%3E"></div>
<p id="note">Thank you for shopping with us</p>
<p id="price" class="price">42.00 EUR</p>
<input id="email" value="ada.lovelace@example.org">
<script>
const c = document.getElementById("chart").getContext("2d");
c.fillStyle = "#2a2"; c.fillRect(10, 10, 140, 70);
</script></body></html>
"""
SCENARIO = """page: strict.html
recorder:
  privacy: strict
  unmask: [".price"]
{extra}steps:
  - click: "#title"
  - checkpoint: end
"""


def strict_scenario(folder: Path, extra: str = "") -> Scenario:
    (folder / "strict.html").write_text(PAGE)
    path = folder / "strict.yaml"
    path.write_text(SCENARIO.format(extra=extra))
    return load_scenario(path)


def as_strict(scenario: Scenario) -> Scenario:
    """The scenario under `privacy: strict`, its own keys refining the preset."""
    balanced = RecorderConfig()
    keys = {
        f.name: getattr(scenario.recorder, f.name)
        for f in dataclasses.fields(RecorderConfig)
        if f.name != "privacy" and getattr(scenario.recorder, f.name) != getattr(balanced, f.name)
    }
    return dataclasses.replace(scenario, recorder=RecorderConfig.preset("strict", **keys))


# --- what each recorder is told -------------------------------------------------------------


def test_strict_maps_to_each_recorders_own_options() -> None:
    config = RecorderConfig.preset("strict", unmask=(".price",), block=(".ad",))
    builtin = adapters.get("builtin").record_options(config)
    assert (builtin["maskAllText"], builtin["maskAllInputs"], builtin["detectPii"]) == (
        True,
        True,
        True,
    )
    assert builtin["block"] == [*MEDIA_BLOCK, ".ad"] and builtin["unmask"] == [".price"]
    rrweb = adapters.get("rrweb").record_options(config)
    assert rrweb["maskAllInputs"] is True and rrweb["maskTextSelector"] == "*"
    assert rrweb["blockSelector"].split(", ") == [*MEDIA_BLOCK, ".ad"]


def test_relaxed_masks_passwords_and_pii_only() -> None:
    config = RecorderConfig.preset("relaxed")
    builtin = adapters.get("builtin").record_options(config)
    assert (builtin["maskAllInputs"], builtin["maskAllText"], builtin["detectPii"]) == (
        False,
        False,
        True,
    )
    # rrweb without maskAllInputs masks password fields only (its maskInputOptions default).
    assert adapters.get("rrweb").record_options(config)["maskAllInputs"] is False
    assert adapters.get("builtin").masks(config)["fields"] == ["input[type=password]"]


# --- the masking corpus under strict --------------------------------------------------------


# Every one: the lookalikes' UUID wraps at its hyphens, which builtin's stars keep for that.
@pytest.mark.parametrize("path", MASKING, ids=[p.stem for p in MASKING])
def test_every_masking_scenario_passes_with_builtin_under_strict(
    worker: Worker, path: Path
) -> None:
    [scenario] = load_paths([path])
    strict = as_strict(scenario)
    assert strict.recorder.strict and strict.recorder.mask_all_text
    result = worker.run(strict, "builtin", None)
    assert result.passed, result.failures
    assert result.secrets > 0 and result.coverage == 1.0
    assert not [leak for leak in result.leaks if leak.kind == masking.STRICT_KIND]


# --- the strict verdict ---------------------------------------------------------------------


def test_builtin_strict_stream_holds_no_readable_text_but_what_is_unmasked(
    worker: Worker, tmp_path: Path
) -> None:
    scenario = strict_scenario(tmp_path)
    adapter = adapters.get("builtin")
    recording = record(worker.browser, worker.server, scenario, adapter)
    stream = recording.stream
    found = adapter.readable(stream)
    assert found is not None
    # The unmasked price is the one readable text; nothing else, no media.
    assert {r.text for r in found} == {"42.00 EUR"}
    secrets = masking.secrets(recording.page_content(), (), scenario.recorder)
    assert masking.scan(stream, secrets, adapter.is_checkpoint_mark) == []

    # One masked text node given back its text: strict fails, naming the event and the node.
    altered = copy.deepcopy(stream.events)
    snapshot = next(e for e in altered if e[0] == 1)

    def unmask(node: list[Any]) -> bool:
        if node[0] == 3 and node[2] == "*****" + " " + "*******":
            node[2] = "Order summary"
            return True
        kids: list[list[Any]] = node[2] if node[0] == 0 else node[4] if node[0] == 2 else []
        return any(unmask(kid) for kid in kids)

    assert unmask(snapshot[2])
    leaks = masking.scan(
        dataclasses.replace(stream, events=altered), secrets, adapter.is_checkpoint_mark
    )
    [leak] = [leak for leak in leaks if leak.kind == masking.STRICT_KIND]
    assert leak.value == "Order summary"
    assert leak.where.startswith(f"event {altered.index(snapshot)}, <h1> text node ")
    assert masking.coverage(secrets, leaks) < 1.0


def test_strict_fails_media_a_raw_option_lets_through(worker: Worker, tmp_path: Path) -> None:
    # The raw options replace the preset's block list: the image and canvas are recorded.
    scenario = strict_scenario(tmp_path, "  options: {block: []}\n")
    result = worker.run(scenario, "builtin", None)
    assert not result.passed
    media = [leak for leak in result.leaks if leak.source.endswith(", media")]
    assert {leak.value for leak in media} >= {"img", "canvas"}, result.failures
    assert any("recorded, not blocked" in f for f in result.failures)


def test_strict_with_rrweb_fails_on_what_rrweb_cannot_mask_as_its_known_gap(
    worker: Worker, tmp_path: Path
) -> None:
    result = worker.run(strict_scenario(tmp_path), "rrweb", None)
    assert not result.passed
    strict = {(leak.value, leak.source) for leak in result.leaks if leak.kind == "strict"}
    gap = "rrweb's known gap"
    assert any(v == "Your order" and "attr:title" in s and gap in s for v, s in strict)
    assert any(v.strip() == "shipped by the night team" and gap in s for v, s in strict)
    assert not any(v == "Receipt photo" for v, _ in strict)  # the image is blocked
    # Its text nodes are masked: what fails is the gaps, each named as one.
    assert all(gap in source for _, source in strict), strict
    assert any("rrweb's known gap" in f and "'Your order'" in f for f in result.failures)


def test_a_stream_no_adapter_reads_cannot_pass_strict() -> None:
    stream = Stream([("odd", 1)], [], 0, 0, 0)
    [leak] = masking.strict_leaks(stream, ())
    assert "cannot be verified" in leak.source


def test_an_unmasked_text_with_starred_pii_is_still_unmasked() -> None:
    found = [
        Readable("text", "Call *** * ** ** ** ** today", "event 1, <p> text node 4"),
        Readable("text", "Call me today", "event 1, <p> text node 5"),
    ]

    class Fake(BuiltinAdapter):
        def readable(self, stream: Stream) -> list[Readable]:
            return found

    fake = Fake()
    stream = Stream([], [], 0, 0, 0)
    leaks = masking.strict_leaks(stream, ["Call +33 6 12 34 56 78 today"], fake.is_checkpoint_mark)
    assert [leak.value for leak in leaks] == ["Call me today"]


# --- pixel exclusions under strict ----------------------------------------------------------


def test_strict_excludes_exactly_the_masked_and_blocked_regions(
    worker: Worker, tmp_path: Path
) -> None:
    scenario = strict_scenario(tmp_path)
    adapter = adapters.get("builtin")
    recording = record(worker.browser, worker.server, scenario, adapter)
    [live] = recording.checkpoints
    [rep] = replay(worker.browser, worker.server, scenario, adapter, recording.stream, [live])
    width, height = scenario.viewport.width, scenario.viewport.height
    page = worker.browser.new_page(viewport={"width": width, "height": height})
    try:
        page.goto(worker.server.mount(tmp_path) + "strict.html")
        boxes = page.evaluate(
            """() => {
              const box = (el) => { const r = el.getBoundingClientRect();
                return [r.left, r.top, r.width, r.height]; };
              const text = (el) => { const g = document.createRange();
                g.selectNodeContents(el.firstChild); const r = g.getBoundingClientRect();
                return [r.left, r.top, r.width, r.height]; };
              const e = document.getElementById("email"), s = getComputedStyle(e);
              const b = e.getBoundingClientRect(), w = parseFloat(s.borderLeftWidth);
              return {title: text(document.getElementById("title")),
                      note: text(document.getElementById("note")),
                      price: text(document.getElementById("price")),
                      swatch: box(document.getElementById("swatch")),
                      chart: box(document.getElementById("chart")),
                      photo: box(document.getElementById("photo")),
                      field: [b.left + w + 6, b.top + w + 6, b.width - 2 * w - 12,
                              b.height - 2 * w - 12],
                      border: [b.left, b.top, w, b.height]};
            }"""
        )
    finally:
        page.close()
    for side in (live.masked, [*live.masked, *rep.masked]):
        excluded = pixel._exclusion_mask(side, width, height)
        assert excluded is not None

        def share(box: list[float], excluded: np.ndarray = excluded) -> float:
            x, y, w, h = (round(v) for v in box)
            return float(excluded[y + 1 : y + h - 1, x + 1 : x + w - 1].mean())

        # Masked text, the masked field's content, the blocked canvas and image: all of them.
        for name in ("title", "note", "chart", "photo", "field"):
            assert share(boxes[name]) == 1.0, name
        # The unmasked price, a box with no text, the field's border: none of them.
        for name in ("price", "swatch", "border"):
            assert share(boxes[name]) == 0.0, name
    result = worker.run(scenario, "builtin", None)
    assert result.passed, result.failures
