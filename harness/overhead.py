"""Page-load overhead of recorders: paired, interleaved loads with the recorder off and on.

Loads come in blocks: one with the recorder off and one with each recorder on, in an order that
changes from block to block (off/on, on/off for one recorder; see arm_order), each in a fresh
browser context against the same warm server, under the same CPU throttling. Every recorder's
load is paired with the off load of its own block, so drift in the machine's speed cancels out
of each pair, and recorders measured together share their baseline. Blocks are added until
the load-time interval of every recorder is narrow enough, the run count is reached, or time is
up (harness.stats.StopRule). Only the page load is measured: the scenario's steps are not run.

Per load: navigation timing (load event end, DOMContentLoaded end), CDP Performance metrics
(TaskDuration, ScriptDuration, JSHeapUsedSize), long tasks and long animation frames from
PerformanceObservers that an init script registers in both arms (so observing costs the same in
each), and the bytes the recorder posted to the ingest endpoint.

The longest long task is the page's as much as the recorder's: on a big static page the parser's
own task (about half a second at 4x) is the longest in both arms, so its on/off difference says
whether the recorder lengthens the worst task, not how long the recorder's own tasks are. Those
come from long-animation-frame script attribution: every run of the recorder's script (its
evaluation, a callback, a listener) of 5 ms or more, with the layout it forces, named by the
script's URL. The frames listed are those of 50 ms or more, so a run of 50 ms or more is always
seen; a shorter one only when its frame was long.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, CDPSession, Page
from playwright.sync_api import Error as PlaywrightError

from harness import stats
from harness.adapters.base import Adapter
from harness.drive import Injection, Site, site_root
from harness.progress import Progress
from harness.scenario import Scenario, ScenarioError
from harness.server import ASSET_PREFIX, Server
from harness.stats import Comparison, Kind, Stop, StopRule
from harness.worker import Worker

# Each metric's comparison: a ratio where a load always has some, a difference where 0 is a
# normal value (no long task, no script of the page's own, nothing uploaded with no recorder).
METRICS: dict[str, Kind] = {
    "load_ms": "ratio",  # load event end, from navigation start
    "dcl_ms": "ratio",  # DOMContentLoaded event end
    "task_ms": "ratio",  # main-thread task time up to load (CDP TaskDuration)
    # Script time up to load (CDP ScriptDuration). Chromium leaves out init scripts: with
    # --inject init-script the recorder's own start-up shows in task_ms only.
    "script_ms": "difference",
    "task_after_ms": "difference",  # task time in the window after load: deferred work
    "tbt_ms": "difference",  # total blocking time from navigation start to the window's end
    "tbt_after_ms": "difference",  # the part of tbt_ms in the window after load
    "long_tasks": "difference",  # long tasks from navigation start to the window's end
    "max_task_ms": "difference",  # the longest of them, 0 without one; whoever ran it
    # The recorder's longest script run in that time (see above); with the recorder off, 0 for a
    # script tag, and the harness's own observer callbacks for init scripts (no URL either).
    "max_recorder_script_ms": "difference",
    "heap_mb": "ratio",  # JS heap in use at the window's end, after a forced GC
    "upload_bytes": "difference",  # ingest request bodies, flushed at the window's end
}
PRIMARY = "load_ms"  # the metric the budget, the pass and the adaptive stop are about
LONGEST = ("max_task_ms", "max_recorder_script_ms")  # their worst load is reported too

NAVIGATION_TIMEOUT_MS = 60_000  # a throttled heavy page with a slow recorder takes a while
LONG_TASK_MS = 50  # the part of a long task beyond this blocks input (TBT)
ASSET_STEM = "overhead-"  # a recorder's script tag loads /__rc/overhead-<name>.js

# Registered before anything of the page in BOTH arms. `buffered` also delivers entries that
# ended before the observer existed; takeRecords() picks up those not yet delivered.
LONG_TASK_OBSERVER = """(() => {
  if (window.top !== window) return;
  const tasks = [], scripts = [];
  const observe = (type, add) => {
    try {
      const observer = new PerformanceObserver((list) => list.getEntries().forEach(add));
      observer.observe({ type, buffered: true });
      return () => observer.takeRecords().forEach(add);
    } catch (e) {
      return () => {};
    }
  };
  const flushTasks = observe("longtask", (e) => tasks.push([e.startTime, e.duration]));
  const flushFrames = observe("long-animation-frame", (e) => {
    for (const s of e.scripts) scripts.push([s.sourceURL, s.startTime, s.duration]);
  });
  Object.defineProperty(window, "__rcLongTasks", {
    value: () => { flushTasks(); flushFrames(); return { tasks, scripts }; },
  });
})();"""

READ_TIMING = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const seen = window.__rcLongTasks ? window.__rcLongTasks() : { tasks: [], scripts: [] };
  return { load: nav.loadEventEnd, dcl: nav.domContentLoadedEventEnd, ...seen };
}"""


@dataclass(frozen=True)
class Timing:
    """What the page saw, in ms from navigation start: READ_TIMING's answer."""

    load: float
    dcl: float
    tasks: Sequence[tuple[float, float]]  # long tasks: start, duration
    scripts: Sequence[tuple[str, float, float]]  # script runs in long frames: URL, start, duration


def timing_sample(timing: Timing, window_ms: float, is_recorder: Callable[[str], bool]) -> Sample:
    """The per-load metrics the page's own timing gives, up to the end of the after-load window:
    what starts later is left out, so every load is counted over the same span."""
    end = timing.load + window_ms
    tasks = [(start, duration) for start, duration in timing.tasks if start < end]
    blocking = [(start, max(0.0, duration - LONG_TASK_MS)) for start, duration in tasks]
    recorder = [d for url, start, d in timing.scripts if start < end and is_recorder(url)]
    return {
        "load_ms": timing.load,
        "dcl_ms": timing.dcl,
        "tbt_ms": sum(b for _, b in blocking),
        "tbt_after_ms": sum(b for start, b in blocking if start >= timing.load),
        "long_tasks": float(len(tasks)),
        "max_task_ms": max((d for _, d in tasks), default=0.0),
        "max_recorder_script_ms": max(recorder, default=0.0),
    }


@dataclass(frozen=True)
class Settings:
    """How to measure. None takes the scenario's `overhead:` value."""

    runs: int | None = None
    cpu_throttle: float | None = None
    budget_pct: float | None = None
    inject: Injection = "script-tag"
    min_pairs: int = 10
    precision_pct: float = 1.0  # stop once every load interval is within +- this many points
    max_seconds: float = 300.0  # per scenario, all its recorders together
    after_load_ms: int | None = None


@dataclass(frozen=True)
class OverheadResult:
    scenario: Scenario
    recorder: str
    inject: Injection
    cpu_throttle: float
    budget_pct: float
    metrics: dict[str, Comparison]
    stopped: Stop
    precision_pct: float  # the load interval's target half-width
    # The worst single load of each LONGEST metric, recorder off and on: a mean of per-load
    # maxima under 50 ms could hide a load over it.
    worst: dict[str, tuple[float, float]]

    @property
    def runs(self) -> int:
        return self.metrics[PRIMARY].n

    @property
    def pairs_needed(self) -> int:
        """About how many pairs the load interval needs to reach the target width."""
        return stats.pairs_needed(self.metrics[PRIMARY], self.precision_pct)

    @property
    def passed(self) -> bool:
        """SPEC: the upper end of the load-time interval is within the budget."""
        return self.metrics[PRIMARY].hi <= self.budget_pct

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "file": str(self.scenario.file),
            "recorder": self.recorder,
            "inject": self.inject,
            "runs": self.runs,
            "cpu_throttle": self.cpu_throttle,
            "metrics": {name: c.to_json() for name, c in self.metrics.items()},
            "budget_pct": self.budget_pct,
            "passed": self.passed,
            "stopped": self.stopped,
            "precision_pct": self.precision_pct,
            "pairs_needed": self.pairs_needed,
            "worst_load": {
                name: {"off": round(off, 3), "on": round(on, 3)}
                for name, (off, on) in self.worst.items()
            },
        }


Sample = dict[str, float]


def measure(
    browser: Browser,
    server: Server,
    scenario: Scenario,
    recorders: Sequence[Adapter],
    settings: Settings = Settings(),
    progress: Progress | None = None,
) -> list[OverheadResult]:
    """One result per recorder. Raises ScenarioError when the page cannot be loaded."""
    config = scenario.overhead
    throttle = config.cpu_throttle if settings.cpu_throttle is None else settings.cpu_throttle
    budget = config.budget_pct if settings.budget_pct is None else settings.budget_pct
    # A page from `url:` is not served by us: its HTML cannot carry our script tag.
    inject: Injection = "init-script" if scenario.url is not None else settings.inject
    rule = StopRule(
        config.runs if settings.runs is None else settings.runs,
        settings.min_pairs,
        settings.precision_pct,
        settings.max_seconds,
    )
    after_load_ms = (
        config.after_load_ms if settings.after_load_ms is None else settings.after_load_ms
    )
    loader = _Loader(browser, server, scenario, inject, throttle, after_load_ms)
    arms: list[Adapter | None] = [None, *recorders]
    started = time.monotonic()
    for arm in arms:
        loader.load(arm)  # warm-up, not counted: server threads, file cache, browser code
    samples: list[list[Sample]] = [[] for _ in arms]
    pairs = 0
    while True:
        for i in arm_order(pairs, len(arms)):
            samples[i].append(loader.load(arms[i]))
        pairs += 1
        loads = [_compare(PRIMARY, samples[0], on) for on in samples[1:]] if pairs > 1 else []
        elapsed = time.monotonic() - started
        stopped = rule.reason(pairs, [c.half_width for c in loads], elapsed)
        if progress is not None:
            progress.show(
                _progress_line(scenario, recorders, loads, pairs, elapsed, settings.precision_pct)
            )
        if stopped is not None:
            break
    return [
        OverheadResult(
            scenario,
            adapter.name,
            inject,
            throttle,
            budget,
            {name: _compare(name, samples[0], on) for name in METRICS},
            stopped,
            settings.precision_pct,
            {
                name: (max(s[name] for s in samples[0]), max(s[name] for s in on))
                for name in LONGEST
            },
        )
        for adapter, on in zip(recorders, samples[1:], strict=True)
    ]


def arm_order(block: int, arms: int) -> list[int]:
    """The order of the arms in a block: the rotations, then the rotations reversed. Over every
    2 * arms blocks each arm takes each position equally often and precedes each other arm as
    often as it follows it, so neither a first-load penalty nor drift favours an arm."""
    first = block % arms
    order = [*range(first, arms), *range(first)]
    return order[::-1] if (block // arms) % 2 else order


def _compare(name: str, off: list[Sample], on: list[Sample]) -> Comparison:
    return stats.compare(METRICS[name], [s[name] for s in off], [s[name] for s in on])


def _progress_line(
    scenario: Scenario,
    recorders: Sequence[Adapter],
    loads: list[Comparison],
    pairs: int,
    elapsed: float,
    precision: float,
) -> str:
    parts = [f"{scenario.name}: pair {pairs}, {elapsed:.0f}s"]
    if loads:
        for adapter, c in zip(recorders, loads, strict=True):
            parts.append(
                f"{adapter.name} load {c.estimate:+.1f}% +-{c.half_width:.1f}"
                f" ({_reaching(stats.pairs_needed(c, precision), precision)})"
            )
    return " | ".join(parts)


class _Loader:
    """Loads the scenario's page once per call, with one recorder or none, and measures it."""

    def __init__(
        self,
        browser: Browser,
        server: Server,
        scenario: Scenario,
        inject: Injection,
        throttle: float,
        after_load_ms: int,
    ) -> None:
        self._browser = browser
        self._server = server
        self._scenario = scenario
        self._inject = inject
        self._throttle = throttle
        self._after_load_ms = after_load_ms
        # Which script runs are the recorder's, by URL, the same test in both arms: every
        # recorder's asset for a script tag; none of them has a URL as an init script.
        prefix = f"{server.origin}{ASSET_PREFIX}{ASSET_STEM}"
        self._is_recorder: Callable[[str], bool] = (
            (lambda url: url == "")
            if inject == "init-script"
            else (lambda url: url.startswith(prefix))
        )

    def load(self, adapter: Adapter | None) -> Sample:
        session = uuid.uuid4().hex
        viewport = self._scenario.viewport
        context = self._browser.new_context(
            viewport={"width": viewport.width, "height": viewport.height}
        )
        try:
            context.add_init_script(LONG_TASK_OBSERVER)
            url = self._url(context, adapter, session)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": self._throttle})
            cdp.send("Performance.enable")
            self._goto(page, url)
            # Chromium counts these per document, from 0: the page started at about:blank, so
            # the values at load are the scenario page's own.
            at_load = _cdp_metrics(cdp)
            page.wait_for_timeout(self._after_load_ms)
            timing = Timing(**page.evaluate(READ_TIMING))
            at_end = _cdp_metrics(cdp)
            # Measured: the rest need not crawl. A forced GC leaves what the recorder keeps.
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
            cdp.send("HeapProfiler.collectGarbage")
            heap = _cdp_metrics(cdp)["JSHeapUsedSize"]
            if adapter is not None:
                adapter.flush(page)
            uploaded = sum(len(batch.body) for batch in self._server.batches(session))
        finally:
            context.close()
        return {
            **timing_sample(timing, self._after_load_ms, self._is_recorder),
            "task_ms": at_load["TaskDuration"] * 1000,
            "script_ms": at_load["ScriptDuration"] * 1000,
            "task_after_ms": (at_end["TaskDuration"] - at_load["TaskDuration"]) * 1000,
            "heap_mb": heap / 1e6,
            "upload_bytes": float(uploaded),
        }

    def _url(self, context: BrowserContext, adapter: Adapter | None, session: str) -> str:
        scenario = self._scenario
        head_html = None
        if adapter is not None:
            config, ingest = scenario.recorder, self._server.ingest_url(session)
            if self._inject == "init-script":
                context.add_init_script(adapter.init_script(config, ingest, session))
            else:
                # One asset name per recorder (and script it loads), replaced before each load:
                # one mount, not one per session (loads never overlap).
                def asset(suffix: str, body: str) -> str:
                    name = f"{ASSET_STEM}{adapter.name}{suffix}.js"
                    return self._server.add_asset(name, body, "text/javascript")

                head_html = adapter.head_html(config, ingest, session, asset)
        if scenario.page is None:
            assert scenario.url is not None
            return scenario.url
        return Site(self._server, site_root(scenario), head_html).url(scenario.page)

    def _goto(self, page: Page, url: str) -> None:
        file = self._scenario.file
        try:
            response = page.goto(url, wait_until="load", timeout=NAVIGATION_TIMEOUT_MS)
        except PlaywrightError as e:
            reason = str(e).splitlines()[0]
            raise ScenarioError(file, None, f"cannot load {url}: {reason}") from None
        if response is not None and response.status >= 400:
            raise ScenarioError(file, None, f"{url} answered HTTP {response.status}")


def _cdp_metrics(cdp: CDPSession) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


# Output ------------------------------------------------------------------------------------


def measure_each(
    jobs: Sequence[tuple[Scenario, Settings]], recorders: Sequence[Adapter]
) -> list[OverheadResult]:
    """Each scenario with its settings, one after another in one browser (never beside other
    browser work), with a progress display on stderr."""
    progress = Progress(sys.stderr)
    results: list[OverheadResult] = []
    with Worker() as worker:
        for scenario, settings in jobs:
            try:
                results += measure(
                    worker.browser, worker.server, scenario, recorders, settings, progress
                )
            finally:
                progress.clear()
    return results


def to_json(results: Sequence[OverheadResult]) -> dict[str, Any]:
    return {"version": 1, "overhead": [r.to_json() for r in results]}


def write_json(results: Sequence[OverheadResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(results), indent=2) + "\n")


def _interval(c: Comparison) -> str:
    return f"{c.estimate:+.1f} [{c.lo:+.1f}, {c.hi:+.1f}]"


def _longest(r: OverheadResult, name: str) -> str:
    """Mean per-load maximum off -> on, then the worst load's on the same way."""
    c, (worst_off, worst_on) = r.metrics[name], r.worst[name]
    return f"{c.off:.0f} -> {c.on:.0f} (worst {worst_off:.0f} -> {worst_on:.0f})"


def _reaching(pairs: int, precision: float) -> str:
    return f"~{pairs:,} pairs for +-{precision:g}"


def _stopped(r: OverheadResult) -> str:
    """Why the run ended; short of the target width, what reaching it would take."""
    if r.stopped == "precision":
        return r.stopped
    return f"{r.stopped} ({_reaching(r.pairs_needed, r.precision_pct)})"


def table(results: Sequence[OverheadResult]) -> str:
    """Scenarios and recorders down, the headline numbers across."""
    header = (
        "scenario",
        "recorder",
        "load overhead % [95% CI]",
        "task overhead % [95% CI]",
        # Precise where the load interval is not: measured within each load, in milliseconds.
        "script ms to load [95% CI]",
        "TBT diff ms [95% CI]",
        "longest task ms off -> on",
        "recorder's longest run ms",
        "pairs",
        "stopped",
        "pass",
    )
    rows = [header] + [
        (
            r.scenario.name,
            r.recorder,
            _interval(r.metrics["load_ms"]),
            _interval(r.metrics["task_ms"]),
            _interval(r.metrics["script_ms"]),
            _interval(r.metrics["tbt_ms"]),
            _longest(r, "max_task_ms"),
            _longest(r, "max_recorder_script_ms"),
            str(r.runs),
            _stopped(r),
            f"{'PASS' if r.passed else 'FAIL'} (budget {r.budget_pct:g}%)",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(line.rstrip() for line in lines)
