"""Drive a scenario in a live page with a recorder injected; capture each checkpoint."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from playwright.sync_api import Browser, BrowserContext, Page, Request
from playwright.sync_api import Error as PlaywrightError

from harness.adapters.base import Adapter, read_bundle
from harness.capture import (
    Capture,
    IsolatedWorld,
    canon_options,
    canonical_dom,
    ensure_harness,
    sensitive_content,
)
from harness.masking import Sensitive, page_errors
from harness.remote import RemoteIngest
from harness.scenario import PageRef, Scenario, ScenarioError, Step
from harness.server import Attempt, Batch, Server
from harness.stream import Stream

STEP_TIMEOUT_MS = 5000
NAVIGATION_TIMEOUT_MS = 15000
# Under faults (the ingest's or the browser offline), a flush before leaving a page or at a
# checkpoint waits no longer: a recorder may hold its batches for retries far longer than a
# user stays. Without faults, flushes have no deadline: its timer would be the page's
# setTimeout, which a page may have replaced.
FLUSH_DEADLINE_MS = 30_000
# At the end, how long the recorder has to deliver what it holds once the faults are over.
DELIVERY_DEADLINE_S = 60.0
# ... and the ingest has heard nothing new for this long.
QUIET_S = 0.5
# A closed page's request the browser still lists as open, after this long with nothing new.
CLOSED_WIRE_S = 5.0
# How a page's recorder tells what it recorded as the page goes (rrweb's harness recorder,
# harness/js/src/adapters/rrweb-record.ts): a call when its tab closes, and an entry in the
# tab's sessionStorage (read at the end) when it navigates.
EMITTED_BINDING = "__rcEmitted"
EMITTED_KEY = "__rcEmitted:"
_EMITTED = f"""() => {{
  const found = [];
  try {{
    const stats = window.__rcRecorder?.stats?.();
    if (stats) found.push(stats);
    for (let i = 0; i < sessionStorage.length; i++) {{
      const key = sessionStorage.key(i) ?? "";
      if (key.startsWith("{EMITTED_KEY}")) {{
        const events = Number(sessionStorage.getItem(key));
        found.push({{ page: key.slice({len(EMITTED_KEY)}), events }});
      }}
    }}
  }} catch {{
    // Storage blocked: what the batches say.
  }}
  return found;
}}"""


# How the recorder reaches the page: a script tag in the served HTML (as sites install it) or a
# Playwright init script (works on any URL). Pages from `url:` are not ours to rewrite.
Injection = Literal["init-script", "script-tag"]


class StepFailed(Exception):
    """A step could not be carried out on the page: the scenario fails (not bad input)."""


@dataclass
class Recording:
    stream: Stream
    checkpoints: list[Capture]
    page_errors: list[str] = field(default_factory=list)  # uncaught: message, then stack
    # Every request body the browser sent to the ingest (answered or not), in order.
    attempted: list[Batch] = field(default_factory=list)
    # The fault-injecting ingest's log (scenarios with ingest_faults only).
    attempts: list[Attempt] = field(default_factory=list)

    def page_content(self) -> list[Sensitive]:
        """What the live page held that could be private: each checkpoint's scan of the page,
        and the errors it threw."""
        scanned = [item for capture in self.checkpoints for item in capture.sensitive]
        return scanned + page_errors(self.page_errors)


def site_root(scenario: Scenario) -> Path:
    """The folder served for a scenario: its own, widened to hold every page it visits."""
    return Path(os.path.commonpath([scenario.file.parent, *scenario.pages()]))


@dataclass(frozen=True)
class Site:
    """Where a scenario's pages are served from, and the recorder markup first in their HTML."""

    server: Server
    root: Path
    head_html: str | None

    def url(self, page: PageRef) -> str:
        return self.server.url_for(page.file, self.root, self.head_html) + page.suffix


def record(
    browser: Browser,
    server: Server,
    scenario: Scenario,
    adapter: Adapter,
    inject: Injection = "init-script",
    remote: RemoteIngest | None = None,
) -> Recording:
    """`remote`: batches go to a running `replaycheck serve` and come back from its store."""
    session = uuid.uuid4().hex
    if remote is not None and scenario.ingest_faults:
        raise ScenarioError(
            scenario.file, None, "ingest_faults need the harness's own ingest: run without --ingest"
        )
    ingest_to = remote or server
    context = browser.new_context(
        viewport={"width": scenario.viewport.width, "height": scenario.viewport.height}
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    config, ingest = scenario.recorder, ingest_to.ingest_url(session)
    if inject == "script-tag" and scenario.url is None:

        def asset(suffix: str, body: str) -> str:
            return server.add_asset(f"recorder-{session}{suffix}.js", body, "text/javascript")

        site = Site(server, site_root(scenario), adapter.head_html(config, ingest, session, asset))
    else:
        context.add_init_script(adapter.init_script(config, ingest, session))
        site = Site(server, site_root(scenario), None)
    page = context.new_page()
    # The harness's watchers first (harness/js/src/init.ts): they must see the page from its start,
    # in a world of their own that the page's scripts cannot reach (harness/capture.py).
    world = IsolatedWorld(page)
    world.add_init_script(read_bundle("harness-init.js"))
    errors: list[str] = []
    # The stack holds script URLs (and their query strings) the message does not.
    page.on("pageerror", lambda e: errors.append(f"{e.message}\n{e.stack or ''}".strip()))
    checkpoints: list[Capture] = []
    wire = _Wire(context, ingest)
    emitted: dict[str, int] = {}  # page -> events its recorder said it recorded
    # Told by the page as it leaves, never asked before a step that leaves: asking delayed the
    # leaving, and rrweb's last batch (a big change) then arrived in 16 of 17 runs, against 1
    # of 10 without the question.
    context.expose_binding(EMITTED_BINDING, lambda _source, stats: _note_emitted(emitted, stats))
    try:
        if scenario.ingest_faults:
            server.set_faults(session, scenario.ingest_faults, time.monotonic())
        first = Step("goto", {"page": scenario.page, "url": scenario.url}, 1)
        _navigate(page, scenario, first, site)
        for step in scenario.steps:
            if step.kind == "checkpoint":
                checkpoints.append(_checkpoint(page, world, scenario, adapter, step.args["name"]))
            else:
                _run_step(page, scenario, step, site, adapter)
        _deliver(page, server, ingest_to.batches, session, scenario, adapter, wire)
        if not page.is_closed():
            for stats in page.evaluate(_EMITTED):
                _note_emitted(emitted, stats)
        # Before the context closes: what its pages send as they are torn down is evidence
        # only when it arrives.
        attempted, attempts = list(wire.bodies), server.attempts(session)
    finally:
        server.clear_faults(session)
        context.close()
    stream = adapter.decode(ingest_to.batches(session), attempted, emitted)
    return Recording(stream, checkpoints, errors, attempted, attempts)


class _Wire:
    """The browser's side of the ingest: every body it sent there, and what is in flight."""

    def __init__(self, context: BrowserContext, ingest: str) -> None:
        self.bodies: list[Batch] = []
        self._open: set[Request] = set()
        self._ingest = ingest

        def sent(request: Request) -> None:
            if request.url == self._ingest and request.method == "POST":
                self._open.add(request)
                headers = request.headers
                body = request.post_data_buffer or b""
                self.bodies.append(
                    Batch(
                        body, headers.get("content-type", ""), headers.get("content-encoding", "")
                    )
                )

        context.on("request", sent)
        context.on("requestfinished", lambda request: self._open.discard(request))
        context.on("requestfailed", lambda request: self._open.discard(request))

    @property
    def in_flight(self) -> int:
        return len(self._open)


def _deliver(
    page: Page,
    server: Server,
    ingested: Callable[[str], list[Batch]],
    session: str,
    scenario: Scenario,
    adapter: Adapter,
    wire: _Wire,
) -> None:
    """The end of a recording: the faults run their course, then the recorder has until the
    deadline to deliver what it holds (its final flush gets the time left, so a hanging
    ingest cannot hold the run), and every request in flight is answered or given up. A
    closed page's last requests are out of the browser's log: the ingest going quiet tells."""
    deadline = time.monotonic() + DELIVERY_DEADLINE_S
    closed = page.is_closed()

    def wait(ms: int) -> None:
        if closed:
            time.sleep(ms / 1000)
        else:
            page.wait_for_timeout(ms)

    if not closed:
        wait(adapter.final_settle_ms)
    while not server.faults_over(session) and time.monotonic() < deadline:
        wait(100)
    if not closed:
        left_ms = int((deadline - time.monotonic()) * 1000)
        adapter.flush(page, max(left_ms, 1) if scenario.faulty else None)
    if not (closed or scenario.faulty):
        return  # the flush has seen every answer
    heard, quiet_since = -1, time.monotonic()
    heard_at = quiet_since
    while time.monotonic() < deadline:
        now = len(ingested(session)) + len(server.attempts(session))
        if now != heard:
            heard_at = time.monotonic()
        # The browser may never say a closed page's last request ended (a beacon sent as it
        # closed): one still open after CLOSED_WIRE_S of nothing new at the ingest is gone.
        open_wire = wire.in_flight and not (closed and time.monotonic() - heard_at >= CLOSED_WIRE_S)
        if now != heard or open_wire or server.in_flight(session):
            heard, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_S:
            return
        wait(100)


def _flush_deadline(scenario: Scenario) -> int | None:
    return FLUSH_DEADLINE_MS if scenario.faulty else None


def _navigate(page: Page, scenario: Scenario, step: Step, site: Site) -> None:
    ref: PageRef | None = step.args.get("page")
    url = site.url(ref) if ref else str(step.args["url"])
    try:
        response = page.goto(url, wait_until="load")
    except PlaywrightError as e:
        reason = str(e).splitlines()[0]
        if _crashed(page):
            raise StepFailed(
                f"the page crashed (its renderer process died) opening {url} (line {step.line})"
            ) from None
        raise ScenarioError(
            scenario.file, step.line, f"cannot load {url}: {reason}; check the address"
        ) from None
    if response is not None and response.status >= 400:
        raise ScenarioError(
            scenario.file, step.line, f"{url} answered HTTP {response.status}; check the address"
        )


def _crashed(page: Page) -> bool:
    """Whether the page's renderer is gone: navigation errors then say nothing of the address."""
    try:
        page.evaluate("0")
    except PlaywrightError as e:
        return is_crash(e)
    return False


def is_crash(error: PlaywrightError) -> bool:
    """A page's renderer or the whole browser went away (crashed, killed, closed)."""
    text = str(error)
    return "Target crashed" in text or "has been closed" in text or "Connection closed" in text


def _note_emitted(emitted: dict[str, int], stats: object) -> None:
    """Keep what a recorder says a page recorded ({page, events}: rrweb's harness recorder;
    the builtin recorder's batches count themselves, by `first` and End). What a page sends as
    it unloads is missing from the browser's request log: without this, a last batch lost
    then would be invisible."""
    if isinstance(stats, dict) and isinstance(stats.get("page"), str):
        label, count = stats["page"], stats.get("events")
        if isinstance(count, int | float) and not isinstance(count, bool):
            emitted[label] = max(int(count), emitted.get(label, 0))


def _run_step(page: Page, scenario: Scenario, step: Step, site: Site, adapter: Adapter) -> None:
    args = step.args
    try:
        match step.kind:
            case "goto":
                if args["flush"]:
                    adapter.flush(page, _flush_deadline(scenario))
                _navigate(page, scenario, step, site)
            case "click":
                page.locator(args["selector"]).first.click(
                    click_count=args["count"],
                    delay=args["delay_ms"],
                    button=args["button"],
                    position=args["position"],
                )
            case "dblclick":
                page.locator(args["selector"]).first.dblclick(
                    delay=args["delay_ms"], button=args["button"], position=args["position"]
                )
            case "fill":
                page.locator(args["selector"]).first.fill(args["value"])
            case "type":
                page.locator(args["selector"]).first.press_sequentially(
                    args["text"], delay=args["delay_ms"]
                )
            case "press":
                if args["selector"]:
                    page.locator(args["selector"]).first.press(args["key"])
                else:
                    page.keyboard.press(args["key"])
            case "select":
                page.locator(args["selector"]).first.select_option(args["value"])
            case "check":
                page.locator(args["selector"]).first.check()
            case "uncheck":
                page.locator(args["selector"]).first.uncheck()
            case "hover":
                page.locator(args["selector"]).first.hover()
            case "scroll":
                script = "(el, [x, y]) => el.scrollTo(x, y)"
                if args["selector"]:
                    page.locator(args["selector"]).first.evaluate(script, [args["x"], args["y"]])
                else:
                    page.evaluate("([x, y]) => window.scrollTo(x, y)", [args["x"], args["y"]])
            case "mouse":
                (x, y), *rest = args["path"]
                page.mouse.move(x, y)
                for x, y in rest:
                    page.mouse.move(x, y, steps=args["steps"])
            case "wait":
                page.wait_for_timeout(args["ms"])
            case "wait_for":
                page.locator(args["selector"]).first.wait_for(
                    state="visible", timeout=args["timeout_ms"]
                )
            case "eval":
                page.evaluate(args["script"])
            case "back":
                if args["flush"]:
                    adapter.flush(page, _flush_deadline(scenario))
                page.go_back(wait_until="load")
            case "reload":
                if args["flush"]:
                    adapter.flush(page, _flush_deadline(scenario))
                page.reload(wait_until="load")
            case "offline":
                # The browser's own offline emulation: requests fail at once, and
                # navigator.onLine and the online/offline events follow it.
                page.context.set_offline(args["offline"])
            case "close":
                # As a user closes the tab: beforeunload, pagehide and unload handlers run, and
                # the keepalive requests and beacons they send still go out.
                page.close(run_before_unload=True)
                if not page.is_closed():
                    page.wait_for_event("close")
            case _:
                raise ScenarioError(scenario.file, step.line, f"step {step.kind!r} is not runnable")
    except PlaywrightError as e:
        raise StepFailed(_explain(page, step, e)) from None


# Call-log lines that say what Playwright did, not what stopped it.
_PROGRESS = re.compile(
    r"^(waiting|retrying|attempting|scrolling|done scrolling|locator resolved|element is visible,"
    r" enabled and stable|\d+ \u00d7 )"
)


def _explain(page: Page, step: Step, error: PlaywrightError) -> str:
    """Which step, on which element, why it stopped (the last reason in Playwright's call log),
    and where the page was: a CI reader should not need to rerun the scenario to know."""
    text = str(error)
    first, *log = text.splitlines()
    target = f" {step.args['selector']!r}" if step.args.get("selector") else ""
    head = f"step {step.kind}{target} (line {step.line})"
    if is_crash(error):
        return f"{head} failed: the page or browser crashed ({first.strip()})"
    if "Timeout" not in first:
        return f"{head} failed: {first.strip()}"
    entries = [line.strip().removeprefix("- ") for line in log[1:]]
    resolved = next((e for e in entries if e.startswith("locator resolved to ")), None)
    reasons = [e for e in entries if e and not _PROGRESS.match(e)]
    if target and resolved is None:
        why = f"no element matches{target}"
    else:
        why = reasons[-1] if reasons else "it did not finish"
        if resolved:
            why += f" ({resolved.removeprefix('locator resolved to ')})"
    timeout = re.search(r"Timeout (\d+)ms", first)
    after = f" after {timeout[1]} ms" if timeout else ""
    return f"{head} timed out{after}: {why}; the page was {_where(page)}"


def _where(page: Page) -> str:
    try:
        title = page.title()
    except PlaywrightError:
        title = ""
    return page.url + (f" ({title!r})" if title else "")


def _checkpoint(
    page: Page, world: IsolatedWorld, scenario: Scenario, adapter: Adapter, name: str
) -> Capture:
    """Bring the page to a still state, mark the stream, and capture screenshot and DOM. The
    harness reads the page from its isolated world: the page's own code cannot break it."""
    ensure_harness(world)
    # Still first (scrolls ended, content loaded, animations finished), then the recorder's
    # throttled events of that final state (its scroll position) are out before the mark.
    world.call("() => globalThis.__rcHarness.settle(document)")
    page.wait_for_timeout(adapter.checkpoint_settle_ms)
    _wait_for_recorder(page)
    try:
        adapter.mark_checkpoint(page, name)
        adapter.flush(page, _flush_deadline(scenario))
    except PlaywrightError as e:
        if is_crash(e):
            raise
        # The recorder itself broke on this page (its own finding, not the harness's).
        reason = str(e).splitlines()[0]
        raise StepFailed(
            f"the {adapter.name} recorder failed at checkpoint {name!r}: {reason}"
        ) from None
    png = page.screenshot(caret="hide")
    selectors = adapter.masked_selectors(scenario.recorder)
    masks = adapter.masks(scenario.recorder)
    masked = world.call("m => globalThis.__rcHarness.maskedRects(document, m)", masks)
    dom = canonical_dom(world, "document", canon_options(scenario.recorder, selectors))
    world.call("() => globalThis.__rcHarness.resume()")
    sensitive = sensitive_content(world, scenario.recorder)
    return Capture(name, png, dom, page.url, [tuple(r) for r in masked], sensitive)


def _wait_for_recorder(page: Page) -> None:
    """A recorder installed by a loader starts after the load event: mark what it records.
    Polled from here, not by page.wait_for_function, whose injected code uses the page's
    MutationObserver and requestAnimationFrame (which pages replace)."""
    for _ in range(STEP_TIMEOUT_MS // 50):
        if page.evaluate("() => window.__rcRecorder !== undefined"):
            return
        page.wait_for_timeout(50)
    raise StepFailed(f"the recorder did not start within {STEP_TIMEOUT_MS} ms")
