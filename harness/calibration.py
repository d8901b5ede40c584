"""A synthetic recorder that costs a known amount of main-thread work: the check that the
attribution (harness.trace) finds what a recorder costs, on this machine, in a real load.

It records nothing. Its script tag burns a fixed loop, split over every way a recorder's code
comes to run: its evaluation, a MutationObserver callback, DOMContentLoaded and load
listeners, a timer, an idle callback, an animation frame and a promise continuation. It forces
no layout: that would move the page's own pending layout into the recorder's runs, and the
known amount would no longer be known. How many iterations make the wanted share is calibrated
first: a load of the page with no recorder gives the page's own main-thread time, and the loop
alone on a blank page its cost per iteration, both at the same CPU throttle. The known cost of
each load is then that of the same calls, in the same order, made again in the same page and
trace once its window has ended (fresh functions, so the loop's first runs before V8 optimizes
it are in it as they are in the load; the same moment, so the machine's drift cancels).
`replaycheck overhead --calibrate` prints it beside what the attribution found.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page

from harness.scenario import RecorderConfig
from harness.server import script_tag

# Where the burn runs, and the share of the loop each gets (they sum to 1).
SLOTS = {
    "evaluate": 0.1,
    "mutation": 0.1,
    "domcontentloaded": 0.1,
    "load": 0.1,
    "timer": 0.2,
    "idle": 0.2,
    "frame": 0.1,
    "microtask": 0.1,
}
# The loop: integer work V8 cannot fold away, its result kept where the page can see it.
BURN = (
    "function __rcBurn(n) { var x = 1; for (var i = 0; i < n; i++) x = (x * 1103515245 + 12345)"
    " | 0; window.__rcBurned = x; }"
)
SCRIPT = """(function () {
  if (window.top !== window) return;
  var n = %(slots)s;
  %(burn)s
  function burn(slot) { __rcBurn(n[slot]); }
  burn("evaluate");
  var seen = false;
  var observer = new MutationObserver(function () {
    if (seen) return;
    seen = true;
    burn("mutation");
    observer.disconnect();
  });
  observer.observe(document, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", function () { burn("domcontentloaded"); });
  window.addEventListener("load", function () {
    burn("load");
    setTimeout(function () {
      burn("timer");
      Promise.resolve().then(function () { burn("microtask"); });
    }, 50);
    requestIdleCallback(function () { burn("idle"); }, { timeout: 500 });
    requestAnimationFrame(function () { burn("frame"); });
  });
  window.__rcRecorder = { checkpoint: function () {}, flush: function () {} };
})();"""


CALIBRATION_ITERATIONS = 20_000_000  # about 100 ms unthrottled here: timer noise is far below
CALIBRATION_LOADS = 3  # the median of these
# The loop alone in a timer (`calls`: the iterations of each call), on a blank page or after a
# load's window: its trace gives the time those calls take.
CALIBRATE = (
    "calls => new Promise(done => { "
    + BURN
    + "; setTimeout(function __rcCalibrate() { for (const n of calls) __rcBurn(n); done(); }, 0);"
    " })"
)


def cost_from_trace(data: bytes) -> float:
    """Main-thread time of the calibration timer, ms (its thread time; the last one)."""
    parsed: Any = json.loads(data)
    events = parsed["traceEvents"] if isinstance(parsed, dict) else parsed
    runs = [
        e
        for e in events
        if e.get("name") == "FunctionCall"
        and e.get("args", {}).get("data", {}).get("functionName") == "__rcCalibrate"
    ]
    if not runs:
        raise ValueError("the calibration trace has no run of the loop")
    return float(runs[-1].get("tdur", runs[-1]["dur"])) / 1000


def calibrate(synthetic: Synthetic, page_ms: float, cost: Callable[[list[int]], float]) -> None:
    """Set `synthetic` up for its share of a load whose page alone takes `page_ms`; `cost`
    gives the main-thread time of a list of calls on a blank page."""
    per_iteration = statistics.median(
        cost([CALIBRATION_ITERATIONS]) for _ in range(CALIBRATION_LOADS)
    )
    synthetic.calibrate(page_ms, per_iteration / CALIBRATION_ITERATIONS)


class Synthetic:
    """The synthetic recorder, measured like any other (harness.overhead.Recorder)."""

    name = "synthetic"

    def __init__(self, share: float) -> None:
        if not 0 < share < 1:
            raise ValueError(f"the synthetic recorder's share must be between 0 and 1, got {share}")
        self.share = share  # of all main-thread time in a load, once calibrated
        self.iterations = 0

    def calibrate(self, page_ms: float, ms_per_iteration: float) -> None:
        """Iterations for `share` of a load whose page alone takes `page_ms` of main-thread
        time: burn / (page + burn) = share."""
        self.iterations = round(page_ms * self.share / (1 - self.share) / ms_per_iteration)

    def calls(self) -> dict[str, int]:
        """The iterations of each call, in SLOTS order (the order they run in)."""
        return {slot: round(self.iterations * part) for slot, part in SLOTS.items()}

    def script(self) -> str:
        return SCRIPT % {"slots": json.dumps(self.calls()), "burn": BURN}

    def init_script(self, config: RecorderConfig, ingest_url: str, session: str) -> str:
        return self.script()

    def head_html(
        self,
        config: RecorderConfig,
        ingest_url: str,
        session: str,
        asset: Callable[[str, str], str],
    ) -> str:
        return script_tag(asset("", self.script()))

    def flush(self, page: Page, deadline_ms: int | None = None) -> None:
        """Nothing to send."""
