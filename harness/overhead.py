"""Page-load overhead of recorders: paired, interleaved loads with the recorder off and on.

Loads come in blocks: one with the recorder off and one with each recorder on, in an order that
changes from block to block (off/on, on/off for one recorder; see arm_order), each in a fresh
browser context against the same warm server, under the same CPU throttling. Every recorder's
load is paired with the off load of its own block, so drift in the machine's speed cancels out
of each pair, and recorders measured together share their baseline. Blocks are added until
every recorder's share of main-thread time is known closely enough, the run count is reached,
or time is up (harness.stats.StopRule). Only the page load is measured: the scenario's steps
are not run. docs/overhead.md says how to read the results.

Per load: the page's Chrome trace, from which harness.trace attributes main-thread time to the
recorder (its share holds on a noisy machine, where wall-clock intervals stay wide);
navigation timing (load event end, DOMContentLoaded end), CDP Performance metrics
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

After the paired loads, a few loads per arm are clicked through (click_load): Event Timing's
latency of each interaction, worst per load, and the worst made while the recorder worked.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from playwright.sync_api import Browser, BrowserContext, CDPSession, Page
from playwright.sync_api import Error as PlaywrightError

from harness import calibration, stats, trace
from harness.calibration import Synthetic
from harness.drive import Injection, Site, site_root
from harness.progress import Progress
from harness.scenario import RecorderConfig, Scenario, ScenarioError
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
    # From the load's trace (harness.trace), up to the window's end. The share of main-thread
    # time the recorder caused, in percent of all of it in the same window: up to load, after
    # it, and both. With the recorder off it is what would be misattributed (0 on our pages).
    "share_load": "difference",
    "share_after": "difference",
    "share_total": "difference",
    "recorder_ms": "difference",  # the main-thread time attributed to the recorder
    "main_ms": "ratio",  # all main-thread task time, navigation start to the window's end
    "max_recorder_task_ms": "difference",  # the most recorder time in any one task
}
SHARE = "share_total"  # the adaptive stop watches its interval: it holds on a noisy machine
PRIMARY = "load_ms"  # the metric the budget and the pass are about
# Their worst load is reported too.
LONGEST = ("max_task_ms", "max_recorder_script_ms", "max_recorder_task_ms")

NAVIGATION_TIMEOUT_MS = 60_000  # a throttled heavy page with a slow recorder takes a while
LONG_TASK_MS = 50  # the part of a long task beyond this blocks input (TBT)
ASSET_STEM = "overhead-"  # a recorder's script tag loads /__rc/overhead-<name>.js

CLICK_EVERY_MS = 100  # in a latency load: about ten interactions a second
EVENT_TIMING_MIN_MS = 16  # Event Timing reports no event shorter than this

# Registered before anything of the page in BOTH arms. `buffered` also delivers entries that
# ended before the observer existed; takeRecords() picks up those not yet delivered.
PAGE_OBSERVERS = """(() => {
  if (window.top !== window) return;
  const tasks = [], scripts = [], events = [];
  const observe = (type, add, more) => {
    try {
      const observer = new PerformanceObserver((list) => list.getEntries().forEach(add));
      observer.observe({ type, buffered: true, ...more });
      return () => observer.takeRecords().forEach(add);
    } catch (e) {
      return () => {};
    }
  };
  const flushTasks = observe("longtask", (e) => tasks.push([e.startTime, e.duration]));
  const flushFrames = observe("long-animation-frame", (e) => {
    for (const s of e.scripts) scripts.push([s.sourceURL, s.startTime, s.duration]);
  });
  const flushEvents = observe("event",
    (e) => events.push([e.startTime, e.duration, e.interactionId]), { durationThreshold: 16 });
  Object.defineProperty(window, "__rcLongTasks", {
    value: () => { flushTasks(); flushFrames(); return { tasks, scripts }; },
  });
  Object.defineProperty(window, "__rcEvents", { value: () => { flushEvents(); return events; } });
})();"""
READ_EVENTS = "() => window.__rcEvents ? window.__rcEvents() : []"
LOADED = "() => document.readyState === 'complete'"

READ_TIMING = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const seen = window.__rcLongTasks ? window.__rcLongTasks() : { tasks: [], scripts: [] };
  return { load: nav.loadEventEnd, dcl: nav.domContentLoadedEventEnd, ...seen };
}"""


class Recorder(Protocol):
    """What a measured recorder must do: a harness adapter, or the synthetic one."""

    @property
    def name(self) -> str: ...

    def init_script(self, config: RecorderConfig, ingest_url: str, session: str) -> str: ...

    def head_html(
        self,
        config: RecorderConfig,
        ingest_url: str,
        session: str,
        asset: Callable[[str, str], str],
    ) -> str: ...

    def flush(self, page: Page, deadline_ms: int | None = None) -> None: ...


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
    # Stop once every recorder's share interval is within +- this many points: the stop the
    # machine's noise lets us reach (the load interval's target only says what it would take).
    share_precision: float = 0.5
    interactions: int | None = None


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
    share_precision: float
    # Each block's load with the recorder off and with it on, in order: recorders measured in
    # the same blocks are compared load by load (versus()).
    off_samples: Sequence[Sample]
    on_samples: Sequence[Sample]
    interactions: Interactions | None
    known_ms: float | None = None  # the synthetic recorder's known cost, mean of its loads

    @property
    def runs(self) -> int:
        return self.metrics[PRIMARY].n

    @property
    def pairs_needed(self) -> int:
        """About how many pairs the load interval needs to reach the target width."""
        return stats.pairs_needed(self.metrics[PRIMARY], self.precision_pct)

    @property
    def share_pairs_needed(self) -> int:
        """About how many pairs the share's interval needs to reach `share_precision`: on a busy
        machine more than any time cap allows, which a user should see rather than guess."""
        return stats.pairs_needed(self.metrics[SHARE], self.share_precision)

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
            "share_precision": self.share_precision,
            "share_pairs_needed": self.share_pairs_needed,
            "interactions": None if self.interactions is None else self.interactions.to_json(),
            "known": None if self.known_ms is None else self.known(),
        }

    def known(self) -> dict[str, float]:
        """The synthetic recorder's known cost beside what the attribution found: per load, its
        loop's time and share of that load's main-thread time, and the attributed ones."""
        assert self.known_ms is not None
        shares = [100 * s["known_ms"] / s["main_ms"] for s in self.on_samples]
        found = self.metrics["recorder_ms"]
        return {
            "ms": round(self.known_ms, 1),
            "share": round(statistics.fmean(shares), 2),
            "found_ms": round(found.on, 1),
            "found_share": round(self.metrics[SHARE].on, 2),
        }


@dataclass(frozen=True)
class Interactions:
    """Interaction latency, Event Timing's duration (input to the next paint after it was
    handled) of the worst interaction of each load: `off` and `on` per load. `during` is the
    worst of those that started while the recorder was at work (between its first and last
    attributed span), 0 when none did."""

    clicks: int  # per load, about
    off: Sequence[float]
    on: Sequence[float]
    during: Sequence[float]

    def to_json(self) -> dict[str, Any]:
        def arm(values: Sequence[float]) -> dict[str, float]:
            return {"median": round(statistics.median(values), 1), "worst": round(max(values), 1)}

        return {
            "loads": len(self.on),
            "clicks_per_load": self.clicks,
            "off": arm(self.off),
            "on": arm(self.on),
            "during_recorder_work": arm(self.during),
        }


Sample = dict[str, float]


def measure(
    browser: Browser,
    server: Server,
    scenario: Scenario,
    recorders: Sequence[Recorder],
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
        settings.share_precision,
        settings.max_seconds,
    )
    after_load_ms = (
        config.after_load_ms if settings.after_load_ms is None else settings.after_load_ms
    )
    clicking = config.interactions if settings.interactions is None else settings.interactions
    loader = Loader(browser, server, scenario, inject, throttle, after_load_ms)
    arms: list[Recorder | None] = [None, *recorders]
    started = time.monotonic()
    # Warm-up, not counted: server threads, file cache, browser code.
    warm = [loader.load(arm) for arm in arms]
    synthetic = [arm for arm in arms if isinstance(arm, Synthetic)]
    if synthetic:
        # The page's own time from a few loads: one alone may be a slow moment's.
        page_ms = statistics.median(
            [warm[0]["main_ms"], *(loader.load(None)["main_ms"] for _ in range(2))]
        )
        for arm in synthetic:
            calibration.calibrate(arm, page_ms, loader.cost_of)
    samples: list[list[Sample]] = [[] for _ in arms]
    pairs = 0
    while True:
        for i in arm_order(pairs, len(arms)):
            samples[i].append(loader.load(arms[i]))
        pairs += 1
        loads = [_compare(PRIMARY, samples[0], on) for on in samples[1:]] if pairs > 1 else []
        shares = [_compare(SHARE, samples[0], on) for on in samples[1:]] if pairs > 1 else []
        elapsed = time.monotonic() - started
        stopped = rule.reason(pairs, [c.half_width for c in shares], elapsed)
        if progress is not None:
            progress.show(_progress_line(scenario, recorders, shares, loads, pairs, elapsed))
        if stopped is not None:
            break
    # Latency loads come last and apart: their clicks are work the measured loads must not do.
    latencies: list[list[tuple[float, float]]] = [[] for _ in arms]
    for block in range(clicking):
        for i in arm_order(block, len(arms)):
            latencies[i].append(loader.click_load(arms[i], config.click_at))
        if progress is not None:
            progress.show(f"{scenario.name}: interaction loads {block + 1}/{clicking}")
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
            settings.share_precision,
            samples[0],
            on,
            Interactions(
                loader.clicks,
                [worst for worst, _ in latencies[0]],
                [worst for worst, _ in mine],
                [during for _, during in mine],
            )
            if clicking
            else None,
            statistics.fmean(s["known_ms"] for s in on) if isinstance(adapter, Synthetic) else None,
        )
        for adapter, on, mine in zip(recorders, samples[1:], latencies[1:], strict=True)
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
    recorders: Sequence[Recorder],
    shares: list[Comparison],
    loads: list[Comparison],
    pairs: int,
    elapsed: float,
) -> str:
    parts = [f"{scenario.name}: pair {pairs}, {elapsed:.0f}s"]
    for adapter, share, load in zip(recorders, shares, loads, strict=False):  # none at pair 1
        parts.append(
            f"{adapter.name} share {share.estimate:.1f}% +-{share.half_width:.2f},"
            f" load {load.estimate:+.1f}% +-{load.half_width:.1f}"
        )
    return " | ".join(parts)


class Loader:
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
        self.clicks = 0  # in the last latency load
        # Which script runs are the recorder's, by URL, the same test in both arms: every
        # recorder's asset for a script tag; none of them has a URL as an init script.
        prefix = f"{server.origin}{ASSET_PREFIX}{ASSET_STEM}"
        self._is_recorder: Callable[[str], bool] = (
            (lambda url: url == "")
            if inject == "init-script"
            else (lambda url: url.startswith(prefix))
        )

    def load(self, adapter: Recorder | None) -> Sample:
        session = uuid.uuid4().hex
        context = self._context()
        try:
            url = self._url(context, adapter, session)
            page, cdp = self._page(context)
            with self._tracing(page) as traced:
                self._goto(page, url)
                # Chromium counts these per document, from 0: the page started at about:blank,
                # so the values at load are the scenario page's own.
                at_load = _cdp_metrics(cdp)
                page.wait_for_timeout(self._after_load_ms)
                timing = Timing(**page.evaluate(READ_TIMING))
                at_end = _cdp_metrics(cdp)
                if isinstance(adapter, Synthetic):  # its known cost, here and now
                    page.evaluate(calibration.CALIBRATE, list(adapter.calls().values()))
            loaded = page.url
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
            **self._trace_sample(traced.data, loaded),
            **(
                {"known_ms": calibration.cost_from_trace(traced.data)}
                if isinstance(adapter, Synthetic)
                else {}
            ),
        }

    def click_load(self, adapter: Recorder | None, at: tuple[float, float]) -> tuple[float, float]:
        """A load with a click every CLICK_EVERY_MS from the first byte to the window's end:
        the worst interaction latency, and the worst among those made while the recorder
        worked (0 when none was)."""
        context = self._context()
        try:
            url = self._url(context, adapter, uuid.uuid4().hex)
            page, _ = self._page(context)
            with self._tracing(page) as traced:
                self._goto(page, url, "commit")
                clicks, loaded_at = 0, None
                deadline = time.monotonic() + NAVIGATION_TIMEOUT_MS / 1000
                while True:
                    tick = time.monotonic()
                    page.mouse.click(*at)
                    clicks += 1
                    if loaded_at is None and page.evaluate(LOADED):
                        loaded_at = time.monotonic()
                    if loaded_at is not None and tick - loaded_at >= self._after_load_ms / 1000:
                        break
                    if tick > deadline:
                        raise ScenarioError(self._scenario.file, None, f"{url} never loaded")
                    time.sleep(max(0.0, CLICK_EVERY_MS / 1000 - (time.monotonic() - tick)))
                entries = page.evaluate(READ_EVENTS)
            loaded = page.url
        finally:
            context.close()
        self.clicks = clicks
        load = trace.read(traced.data, loaded, self._is_recorder)
        spans = [s for task in load.recorder for s in task]
        busy = (min(s.start for s in spans), max(s.end for s in spans)) if spans else None
        worst = _interactions(entries)
        during = [ms for start, ms in worst if busy and busy[0] <= start <= busy[1]]
        floor = float(EVENT_TIMING_MIN_MS)
        return max((ms for _, ms in worst), default=floor), max(
            during, default=floor if busy else 0.0
        )

    def cost_of(self, calls: list[int]) -> float:
        """The synthetic recorder's loop alone, `calls` (iterations each), on a blank page at
        the same throttle: ms of main-thread time."""
        context = self._browser.new_context()
        try:
            page, _ = self._page(context)
            with self._tracing(page) as traced:
                page.evaluate(calibration.CALIBRATE, calls)
        finally:
            context.close()
        return calibration.cost_from_trace(traced.data)

    def _trace_sample(self, data: bytes, url: str) -> Sample:
        load = trace.read(data, url, self._is_recorder)
        end = load.load + self._after_load_ms
        before, after = load.window(0.0, load.load), load.window(load.load, end)
        total = load.window(0.0, end)
        return {
            "share_load": 100 * before.share,
            "share_after": 100 * after.share,
            "share_total": 100 * total.share,
            "recorder_ms": total.recorder_ms,
            "main_ms": total.main_ms,
            "max_recorder_task_ms": load.longest_recorder_task(end),
        }

    def _context(self) -> BrowserContext:
        viewport = self._scenario.viewport
        context = self._browser.new_context(
            viewport={"width": viewport.width, "height": viewport.height}
        )
        context.add_init_script(PAGE_OBSERVERS)
        return context

    def _page(self, context: BrowserContext) -> tuple[Page, CDPSession]:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": self._throttle})
        cdp.send("Performance.enable")
        return page, cdp

    @contextmanager
    def _tracing(self, page: Page) -> Iterator[_Traced]:
        """Chrome's trace of what runs inside: always stopped, or the next load cannot trace."""
        traced = _Traced()
        self._browser.start_tracing(page=page, categories=list(trace.CATEGORIES))
        try:
            yield traced
        finally:
            traced.data = self._browser.stop_tracing()

    def _url(self, context: BrowserContext, adapter: Recorder | None, session: str) -> str:
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

    def _goto(self, page: Page, url: str, until: Literal["load", "commit"] = "load") -> None:
        file = self._scenario.file
        try:
            response = page.goto(url, wait_until=until, timeout=NAVIGATION_TIMEOUT_MS)
        except PlaywrightError as e:
            reason = str(e).splitlines()[0]
            raise ScenarioError(file, None, f"cannot load {url}: {reason}") from None
        if response is not None and response.status >= 400:
            raise ScenarioError(file, None, f"{url} answered HTTP {response.status}")


@dataclass
class _Traced:
    data: bytes = b""


def _interactions(entries: Sequence[tuple[float, float, int]]) -> list[tuple[float, float]]:
    """Event Timing entries (start, duration, interactionId) -> each interaction's start and
    latency, the longest duration of its events (as INP counts it). Entries under 16 ms are
    not reported: a load without any counts as 16."""
    grouped: dict[int, tuple[float, float]] = {}
    for start, duration, interaction in entries:
        if interaction:
            first, longest = grouped.get(interaction, (start, 0.0))
            grouped[interaction] = (min(first, start), max(longest, duration))
    return list(grouped.values())


def _cdp_metrics(cdp: CDPSession) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


# Output ------------------------------------------------------------------------------------


def measure_each(
    jobs: Sequence[tuple[Scenario, Settings]], recorders: Sequence[Recorder]
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
    entries = []
    for r in results:
        factors = versus(r, results)
        versus_json = {name: f.to_json() for name, f in factors.items()} if factors else None
        entries.append({**r.to_json(), f"versus_{REFERENCE}": versus_json})
    return {"version": 1, "overhead": entries}


def write_json(results: Sequence[OverheadResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(results), indent=2) + "\n")


def _interval(c: Comparison) -> str:
    return f"{c.estimate:+.1f} [{c.lo:+.1f}, {c.hi:+.1f}]"


def _longest(r: OverheadResult, name: str) -> str:
    """Mean per-load maximum off -> on, then the worst load's on the same way."""
    c, (worst_off, worst_on) = r.metrics[name], r.worst[name]
    return f"{c.off:.0f} -> {c.on:.0f} (worst {worst_off:.0f} -> {worst_on:.0f})"


REFERENCE = "rrweb"  # the recorder every other is compared with, when measured alongside
# What versus() compares: each as the recorder's value in a load minus the off load of its block.
VERSUS = {
    "recorder_ms": "recorder ms",  # attributed: the load's off arm holds ~0
    "main_ms": "added main-thread ms",
    "heap_mb": "added heap",
    "upload_bytes": "upload",
}


def versus(r: OverheadResult, results: Sequence[OverheadResult]) -> dict[str, stats.Factor]:
    """`r`'s cost as a multiple of REFERENCE's measured in the same blocks of loads (the same
    off samples), per VERSUS metric; {} without such a reference, or when it cost nothing."""
    ref = next(
        (
            x
            for x in results
            if x.recorder == REFERENCE and x is not r and x.off_samples is r.off_samples
        ),
        None,
    )
    if ref is None or len(ref.on_samples) < stats.MIN_PAIRS_FOR_INTERVAL:
        return {}
    factors: dict[str, stats.Factor] = {}
    for name in VERSUS:
        mine = [on[name] - off[name] for on, off in zip(r.on_samples, r.off_samples, strict=True)]
        theirs = [
            on[name] - off[name] for on, off in zip(ref.on_samples, ref.off_samples, strict=True)
        ]
        if math.fsum(theirs) > 0:
            factors[name] = stats.ratio_of_means(mine, theirs)
    return factors


def _factor(f: stats.Factor | None) -> str:
    return "-" if f is None else f"{f.estimate:.2f} [{f.lo:.2f}, {f.hi:.2f}]"


def _share(c: Comparison) -> str:
    return f"{c.estimate:.1f} [{c.lo:.1f}, {c.hi:.1f}]"


def _latency(r: OverheadResult) -> str:
    """Median over loads of each load's worst interaction, off -> on (on, during the recorder's
    work)."""
    i = r.interactions
    if i is None:
        return "-"
    med = statistics.median
    return f"{med(i.off):.0f} -> {med(i.on):.0f} ({med(i.during):.0f}; worst {max(i.during):.0f})"


def table(results: Sequence[OverheadResult]) -> str:
    """Two tables, scenarios and recorders down: first what holds on a noisy machine (shares of
    main-thread time within each load, multiples of rrweb's cost from the same blocks), then
    the wall-clock estimates with their intervals and what a target width would take."""
    steady = [
        (
            "scenario",
            "recorder",
            "share to load % [95% CI]",
            "share after load %",
            "share in all %",
            f"pairs for share +-{results[0].share_precision:g}" if results else "pairs needed",
            "recorder ms",
            *(f"{label} x {REFERENCE}" for label in VERSUS.values()),
            "longest recorder task ms (worst)",
            "interaction ms off -> on (during its work; worst)",
        )
    ]
    for r in results:
        factors = versus(r, results)
        steady.append(
            (
                r.scenario.name,
                r.recorder,
                _share(r.metrics["share_load"]),
                _share(r.metrics["share_after"]),
                _share(r.metrics["share_total"]),
                f"~{r.share_pairs_needed:,}",
                _interval(r.metrics["recorder_ms"]).lstrip("+"),
                *(_factor(factors.get(name)) for name in VERSUS),
                f"{r.metrics[LONGEST[2]].on:.0f} ({r.worst[LONGEST[2]][1]:.0f})",
                _latency(r),
            )
        )
    clock = [
        (
            "scenario",
            "recorder",
            "load overhead % [95% CI]",
            "task overhead % [95% CI]",
            "script ms to load [95% CI]",
            "TBT diff ms [95% CI]",
            "longest task ms off -> on",
            "recorder's longest run ms",
            "pairs",
            f"pairs for load +-{results[0].precision_pct:g}" if results else "pairs needed",
            "stopped",
            "pass",
        )
    ]
    for r in results:
        clock.append(
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
                f"~{r.pairs_needed:,}",
                r.stopped,
                f"{'PASS' if r.passed else 'FAIL'} (budget {r.budget_pct:g}%)",
            )
        )
    return (
        "Attributed to the recorder within each load (holds on a noisy machine):\n"
        + _grid(steady)
        + "\n\nWall clock, paired loads:\n"
        + _grid(clock)
    )


def _grid(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(line.rstrip() for line in lines)
