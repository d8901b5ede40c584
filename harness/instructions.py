"""Recorder overhead as instruction counts: Chromium's renderer under valgrind's callgrind.

Wall time on a shared machine varies 10-20% from moment to moment; the number of instructions
the renderer executes for the same page load hardly varies at all, whatever else runs beside
it. So a few loads with the recorder off and a few with it on give an overhead figure with a
tight interval: slow to take (callgrind runs code some 50x slower), but few loads needed.

How a load is counted. Chromium starts each renderer through a wrapper script
(`--renderer-cmd-prefix`, with `--no-zygote` so that every renderer is started that way, and
`--renderer-process-limit=1` so that a context's pages share one renderer): web-content renderers
run under callgrind with instrumentation off (`--instr-atstart=no`: starting a context
instrumented took minutes here), the browser's own WebUI renderer runs natively. Once the
context's page shows a blank page from the harness's server, its renderer is the one renderer of
this browser that appeared (found by its callgrind output folder); its instrumentation is
switched on and its counters zeroed (`callgrind_control`, through vgdb), then the scenario page
is loaded from the same origin, so it stays in that process. Two gates split the windows without
depending on time: an init script (every arm) makes a synchronous request to a gate server once
the load event is over and again once the page is idle; the renderer's main thread waits in that
request while the gate dumps the counters.

- to load: navigation start to the end of the load event: the task after the first load
  listener, so recorders that start in a load listener (rrweb) count here, and builtin's loader
  (which fetches the recorder one task later) in the next window. A forced style and layout
  just before the gate puts the page's first layout in this window in every load.
- after load: from there until the page is idle and, with a recorder, the recorder has posted
  at least one batch to the ingest. Idle: IDLE_PERIODS idle callbacks in a row with a full idle
  period (nothing else queued). Timers the recorders keep (a 1 s flush tick) run a few more or
  fewer times with the wall time a load takes: part of the residual noise.

What makes the counts repeat (measured on the heavy table: the page's own count to load varied
3x between loads before these): the page renders nothing until it is parsed (RENDER_BLOCK in
every arm), else how many partial layouts the parser's yields let in depends on the machine's
speed; V8 compiles and collects garbage on the main thread (`--js-flags=--single-threaded`),
not on helper threads whose timing varies. The main thread's count (where the page's and the
recorder's scripts, style, layout and paint run) is the figure: it repeated to 0.2% over
loads; all threads' (compositor and raster too, which tick with wall time) to about 2%.

CPU throttling is left off: it stretches time, not work. Under valgrind everything a recorder
schedules by time (builtin slices its snapshot into 5 ms tasks) sees a machine 50x slower, so
it runs more, smaller slices, and their per-slice cost counts here more than natively.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from harness.adapters.base import Adapter
from harness.browser import CHROMIUM_ARGS, system_chromium
from harness.drive import Site, site_root
from harness.scenario import Scenario
from harness.server import Server
from harness.stats import t_quantile

CONFIDENCE = 0.95
IDLE_PERIODS = 8  # full idle periods in a row (50 ms each at most) that make the page idle
LOAD_TIMEOUT_S = 900.0  # one load under callgrind, worst case on a loaded machine
ASSET_STEM = "instructions-"  # a recorder's script tag loads /__rc/instructions-<name>.js
# Counted by callgrind: no per-instruction or jump data, only what the totals need.
CALLGRIND_OPTIONS = (
    "--tool=callgrind",
    # V8 writes and rewrites machine code in anonymous memory: valgrind must notice.
    "--smc-check=all-non-file",
    "--dump-instr=no",
    "--dump-line=no",
    "--collect-jumps=no",
    # Off until the page's load: starting a context under instrumentation took minutes here.
    "--instr-atstart=no",
    "--separate-threads=yes",  # the main thread's count apart: it repeats best
)
# First in the page's <head> in every arm: no rendering until the document is parsed. Else how
# many partial layouts the parser's yields let in depends on how slow the machine is (under
# callgrind, very): the page's own count varied 3x before the load event.
RENDER_BLOCK = '<link rel="expect" href="#__rc-never" blocking="render">'
# The gate: a synchronous request blocks the page's main thread until the counters are dumped.
GATE_SCRIPT = """(() => {
  if (window.top !== window || location.href !== %(page)s) return;
  const ask = (what) => {
    try {
      const x = new XMLHttpRequest();
      x.open("GET", %(gate)s + what, false);
      x.send();
      return x.responseText;
    } catch (e) {
      return "";
    }
  };
  // After every load listener (recorders start in theirs): the next task, queued first.
  addEventListener("load", () => setTimeout(() => {
    // Style and layout of the whole page before the gate, in every load (see RENDER_BLOCK).
    document.documentElement.getBoundingClientRect();
    ask("/load");
    let full = 0;
    const idle = (deadline) => {
      full = deadline.timeRemaining() >= 49 ? full + 1 : 0;
      if (full >= %(periods)d) {
        if (ask("/end") === "1") return;
        full = 0;
      }
      requestIdleCallback(idle);
    };
    requestIdleCallback(idle);
  }), { once: true });
})();"""


class InstructionsUnavailable(Exception):
    """Instruction counts cannot be taken here: one line saying why and what to do."""


@dataclass(frozen=True)
class Counts:
    """One load's renderer instructions (Ir) per window: of its main thread (where the page's
    and the recorder's scripts, style, layout and paint run) and of all its threads."""

    to_load: int  # main thread, navigation start to the load event
    after_load: int  # main thread, load event to the window's end (see the module's doc)
    all_to_load: int  # every thread of the renderer (compositor, raster, V8 helpers too)
    all_after_load: int
    batches: int  # request bodies the recorder posted by the end of the window
    seconds: float  # wall time of the load under callgrind, context start-up included

    @property
    def total(self) -> int:
        return self.to_load + self.after_load

    @property
    def all_total(self) -> int:
        return self.all_to_load + self.all_after_load


# What the table reports, in order: the main thread by window, then the whole renderer.
WINDOWS: dict[str, Callable[[Counts], int]] = {
    "to load": lambda c: c.to_load,
    "after load": lambda c: c.after_load,
    "total": lambda c: c.total,
    "all threads": lambda c: c.all_total,
}


def check_valgrind() -> tuple[str, str]:
    """valgrind and callgrind_control, or InstructionsUnavailable saying how to get them."""
    valgrind = shutil.which("valgrind")
    control = shutil.which("callgrind_control")
    if valgrind is None or control is None:
        raise InstructionsUnavailable(
            "valgrind not found: install it (Debian: apt-get install valgrind) to count"
            " instructions"
        )
    try:
        version = subprocess.run(
            [valgrind, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        raise InstructionsUnavailable(f"{valgrind} does not run: {e}") from None
    if not re.fullmatch(r"valgrind-3\.\d+(\.\d+)?\S*", version):
        raise InstructionsUnavailable(f"{valgrind}: unexpected version {version!r}, need 3.x")
    return valgrind, control


class _Gate:
    """The gate server: dumps the renderer's counters when the page asks, while it waits."""

    def __init__(self, control: str) -> None:
        self._control = control
        self._lock = threading.Lock()
        self.pid = 0
        self.ready: Callable[[], bool] = lambda: True  # may the after-load window end?
        self.loaded = threading.Event()
        self.ended = threading.Event()
        self.error: str | None = None
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                answer = gate._answer(self.path)
                body = answer.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def arm(self, pid: int, ready: Callable[[], bool]) -> None:
        with self._lock:
            self.pid, self.ready, self.error = pid, ready, None
            self.loaded.clear()
            self.ended.clear()

    def _answer(self, path: str) -> str:
        with self._lock:
            if path == "/load" and not self.loaded.is_set():
                self._dump("load")
                self.loaded.set()
                return "1"
            if path == "/end" and self.loaded.is_set() and not self.ended.is_set():
                if not self.ready():
                    return "0"
                self._dump("end")
                self.ended.set()
                return "1"
            return "1"

    def _dump(self, name: str) -> None:
        try:
            control(self._control, self.pid, f"--dump={name}")
        except InstructionsUnavailable as e:
            self.error = str(e)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def control(callgrind_control: str, pid: int, *args: str) -> None:
    """Send a command to the callgrind of `pid` (through vgdb, which works while it sleeps)."""
    try:
        done = subprocess.run(
            [callgrind_control, *args, str(pid)], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise InstructionsUnavailable(f"callgrind_control {' '.join(args)}: {e}") from None
    if done.returncode != 0 or "OK" not in done.stdout:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise InstructionsUnavailable(
            f"callgrind_control {' '.join(args)} {pid} failed: {said[-1] if said else 'no answer'}"
        )


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    found: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        found.setdefault(ppid, []).append(int(entry.name))
    return found


def _counted_renderers(out: Path) -> set[int]:
    """Our processes (descendants of this one) that are renderers under callgrind writing to
    `out` (each Counter's browser has its own)."""
    children = _children()
    pending, found = [os.getpid()], set()
    while pending:
        for child in children.get(pending.pop(), []):
            pending.append(child)
            try:
                args = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            mine = f"--callgrind-out-file={out}/".encode()
            if b"--type=renderer" in args and any(a.startswith(mine) for a in args):
                found.add(child)
    return found


def _dumped(out: Path, pid: int) -> list[tuple[int, int]]:
    """(main thread, all threads) Ir of each of `pid`'s dumps, in order: cg.<pid>.<n>-<thread>
    (--separate-threads=yes; thread 1 is the renderer's main thread). Read files are removed."""
    totals = []
    for n in range(1, 100):
        files = sorted(out.glob(f"cg.{pid}.{n}-*"))
        if not files:
            break
        main = every = 0
        for file in files:
            match = re.search(
                r"^(?:summary|totals): *(\d+)", file.read_text(errors="replace"), re.M
            )
            count = int(match[1]) if match else 0
            every += count
            if file.name.endswith("-01"):
                main = count
            file.unlink()
        totals.append((main, every))
    return totals


class Counter:
    """A Chromium of its own whose renderers run under callgrind, and loads counted in it."""

    def __init__(self, browser: Browser, server: Server, gate: _Gate, out: Path, ctl: str):
        self._browser = browser
        self._server = server
        self._gate = gate
        self._out = out
        self._control = ctl
        self._blank = server.add_asset(
            f"{ASSET_STEM}blank.html", "<!doctype html><title>blank</title>", "text/html"
        )

    def load(self, scenario: Scenario, adapter: Adapter | None) -> Counts:
        """Load the scenario's page once, with the recorder as a script tag or none."""
        if scenario.page is None:
            raise InstructionsUnavailable(
                f"{scenario.file}: a page from url: cannot carry the recorder's script tag"
            )
        started = time.monotonic()
        session = uuid.uuid4().hex
        head_html = RENDER_BLOCK
        if adapter is not None:
            name = adapter.name

            def asset(suffix: str, body: str) -> str:
                return self._server.add_asset(
                    f"{ASSET_STEM}{name}{suffix}.js", body, "text/javascript"
                )

            ingest = self._server.ingest_url(session)
            head_html += adapter.head_html(scenario.recorder, ingest, session, asset)
        url = Site(self._server, site_root(scenario), head_html).url(scenario.page)
        before = _counted_renderers(self._out)
        viewport = scenario.viewport
        context = self._browser.new_context(
            viewport={"width": viewport.width, "height": viewport.height}
        )
        try:
            timeout_ms = LOAD_TIMEOUT_S * 1000
            context.set_default_timeout(timeout_ms)
            context.set_default_navigation_timeout(timeout_ms)
            gate_js = json.dumps(self._gate.origin)
            context.add_init_script(
                GATE_SCRIPT % {"gate": gate_js, "page": json.dumps(url), "periods": IDLE_PERIODS}
            )
            page = context.new_page()
            page.goto(self._blank, wait_until="load")
            pid = self._page_renderer(before)
            ready = (
                (lambda: True) if adapter is None else (lambda: bool(self._server.batches(session)))
            )
            self._gate.arm(pid, ready)
            control(self._control, pid, "--instr=on")
            control(self._control, pid, "--zero")
            try:
                page.goto(url, wait_until="load")
            except PlaywrightError as e:
                raise InstructionsUnavailable(
                    f"cannot load {url}: {str(e).splitlines()[0]}"
                ) from None
            self._wait(page, started)
            if pid not in _counted_renderers(self._out):
                raise InstructionsUnavailable("the page's renderer went away during the load")
            batches = len(self._server.batches(session))
        finally:
            context.close()
        totals = _dumped(self._out, pid)
        if self._gate.error:
            raise InstructionsUnavailable(self._gate.error)
        if len(totals) < 2:
            raise InstructionsUnavailable(f"renderer {pid}: {len(totals)} dumps, expected 2")
        (main_load, all_load), (main_after, all_after) = totals[:2]
        return Counts(
            main_load, main_after, all_load, all_after, batches, time.monotonic() - started
        )

    def _page_renderer(self, before: set[int]) -> int:
        new = _counted_renderers(self._out) - before
        if len(new) != 1:
            raise InstructionsUnavailable(
                f"expected one new renderer under callgrind for the page, found {len(new)}"
                f" ({sorted(new)}): is --renderer-cmd-prefix honoured (needs --no-zygote)?"
            )
        return new.pop()

    def _wait(self, page: Page, started: float) -> None:
        # The driver's own timer: nothing reaches the renderer while we wait.
        while not self._gate.ended.is_set():
            if time.monotonic() - started > LOAD_TIMEOUT_S:
                raise InstructionsUnavailable(
                    f"the after-load window did not end within {LOAD_TIMEOUT_S:.0f} s"
                )
            page.wait_for_timeout(250)


@contextmanager
def counter() -> Iterator[Counter]:
    """A Counter: its own Chromium (renderers under callgrind), server and gate."""
    valgrind, ctl = check_valgrind()
    executable = system_chromium()
    if executable is None or not executable.is_file():
        raise InstructionsUnavailable(
            "no system Chromium to run under valgrind (/usr/bin/chromium)"
        )
    with tempfile.TemporaryDirectory(prefix="rc-callgrind-") as tmp:
        out = Path(tmp)
        wrapper = out / "renderer.sh"
        options = " ".join(
            [*CALLGRIND_OPTIONS, f"--callgrind-out-file={out}/cg.%p", f"--log-file={out}/vg.%p.log"]
        )
        # The browser's WebUI renderer (headless's own) runs natively: it is not the page's.
        wrapper.write_text(
            "#!/bin/sh\n"
            'case " $* " in *" --top-chrome-webui "*) exec "$@" ;; esac\n'
            f'exec {valgrind} {options} "$@"\n'
        )
        wrapper.chmod(0o755)
        gate = _Gate(ctl)
        try:
            with sync_playwright() as playwright, Server() as server:
                try:
                    browser = playwright.chromium.launch(
                        executable_path=str(executable),
                        args=[
                            *CHROMIUM_ARGS,
                            "--no-zygote",
                            "--renderer-process-limit=1",
                            f"--renderer-cmd-prefix={wrapper}",
                            # Compile and collect garbage in the tasks that need it, not on
                            # helper threads whose timing varies: the same work, counted the same.
                            "--js-flags=--single-threaded",
                        ],
                        timeout=300_000,
                    )
                except PlaywrightError as e:
                    raise InstructionsUnavailable(
                        f"cannot start {executable} with its renderer under valgrind:"
                        f" {str(e).strip().splitlines()[0]}"
                    ) from None
                try:
                    yield Counter(browser, server, gate, out, ctl)
                finally:
                    browser.close()
        finally:
            gate.close()


# Overhead from counts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Added:
    """Instructions a recorder added in one window: mean on - mean off with a Welch t interval,
    and the same relative to the page's own (off) count."""

    off: float  # mean Ir with the recorder off
    on: float
    added: float
    lo: float
    hi: float
    se: float  # standard error of `added`
    df: float  # its Welch degrees of freedom (inf when both arms repeat exactly)
    off_spread: float  # (max - min) / mean of the off loads: how repeatable the counts were
    on_spread: float

    @property
    def ratio(self) -> float:
        """Added instructions over the page's own, in that window."""
        return self.added / self.off

    @property
    def ratio_lo(self) -> float:
        return self.lo / self.off

    @property
    def ratio_hi(self) -> float:
        return self.hi / self.off


def _spread(values: Sequence[float]) -> float:
    mean = math.fsum(values) / len(values)
    return (max(values) - min(values)) / mean if mean else 0.0


def _mean_var(values: Sequence[float]) -> tuple[float, float]:
    mean = math.fsum(values) / len(values)
    return mean, math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)


def added(off: Sequence[float], on: Sequence[float], confidence: float = CONFIDENCE) -> Added:
    """`on`'s mean minus `off`'s, with a Welch t interval (each arm needs 2 loads or more)."""
    if len(off) < 2 or len(on) < 2:
        raise ValueError("an interval needs at least 2 loads per arm")
    m_off, v_off = _mean_var(off)
    m_on, v_on = _mean_var(on)
    s_off, s_on = v_off / len(off), v_on / len(on)
    se = math.sqrt(s_off + s_on)
    df = (
        (s_off + s_on) ** 2 / (s_off**2 / (len(off) - 1) + s_on**2 / (len(on) - 1))
        if se > 0
        else math.inf
    )
    half = t_quantile(0.5 + confidence / 2, df) * se if se > 0 else 0.0
    diff = m_on - m_off
    return Added(m_off, m_on, diff, diff - half, diff + half, se, df, _spread(off), _spread(on))


@dataclass(frozen=True)
class Factor:
    """One recorder's added instructions over another's (builtin / rrweb), with an interval
    from the delta method on the two Welch estimates."""

    estimate: float
    lo: float
    hi: float


def factor(a: Added, b: Added, confidence: float = CONFIDENCE) -> Factor | None:
    """a.added / b.added; None when b added nothing measurable."""
    if b.added <= 0:
        return None
    r = a.added / b.added
    rel = math.hypot(a.se / a.added if a.added else 0.0, b.se / b.added)
    df = min(a.df, b.df)
    t = t_quantile(0.5 + confidence / 2, df) if math.isfinite(df) else 1.959964
    return Factor(r, r - t * abs(r) * rel, r + t * abs(r) * rel)


# Measuring and reporting ----------------------------------------------------------------------

Arm = Adapter | None


@dataclass(frozen=True)
class Overhead:
    """One recorder against the page alone on one scenario: every window's Added."""

    scenario: str
    recorder: str
    off: tuple[Counts, ...]
    on: tuple[Counts, ...]

    def window(self, name: str) -> Added:
        of = WINDOWS[name]
        return added([of(c) for c in self.off], [of(c) for c in self.on])


def count(
    scenario: Scenario,
    arms: Sequence[Arm],
    workers: int = 1,
    progress: Callable[[str, Counts], None] | None = None,
) -> list[Counts]:
    """One load per entry of `arms` (a recorder, or None for the page alone), in that order of
    starting, spread over `workers` browsers of their own that load at the same time: counts do
    not depend on how busy the machine is (wall time does). Counts in the order of `arms`."""
    pending = list(enumerate(arms))
    done: dict[int, Counts] = {}
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with counter() as c:
                while True:
                    with lock:
                        if not pending or failures:
                            return
                        i, arm = pending.pop(0)
                    counts = c.load(scenario, arm)
                    with lock:
                        done[i] = counts
                        if progress is not None:
                            progress(_name(arm), counts)
        except BaseException as e:  # raised again in the caller's thread
            with lock:
                failures.append(e)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return [done[i] for i in range(len(arms))]


def measure(
    scenario: Scenario,
    recorders: Sequence[Adapter],
    loads: int,
    workers: int = 1,
    progress: Callable[[str, Counts], None] | None = None,
) -> list[Overhead]:
    """`loads` loads with the recorder off and as many with each recorder on, the arms taking
    turns (see `count`)."""
    arms: list[Arm] = [arm for _ in range(loads) for arm in [None, *recorders]]
    counts = count(scenario, arms, workers, progress)
    by_arm: dict[str, list[Counts]] = {}
    for arm, c in zip(arms, counts, strict=True):
        by_arm.setdefault(_name(arm), []).append(c)
    off = tuple(by_arm["off"])
    return [Overhead(scenario.name, a.name, off, tuple(by_arm[a.name])) for a in recorders]


def _name(arm: Arm) -> str:
    return "off" if arm is None else arm.name


def _mega(ir: float) -> str:
    return f"{ir / 1e6:,.0f}M"


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def table(results: Sequence[Overhead]) -> str:
    """Per scenario, each recorder's added instructions side by side per window: Ir added
    (mean on - mean off) and as a share of the page's own count, with 95% intervals; then the
    ratio of the first two recorders' added instructions, and how repeatable the counts were."""
    lines: list[str] = []
    for scenario in dict.fromkeys(r.scenario for r in results):
        rows = [r for r in results if r.scenario == scenario]
        off = rows[0].off
        lines.append(
            f"{scenario}: renderer instructions under callgrind, {len(off)} loads off,"
            f" {', '.join(f'{len(r.on)} {r.recorder}' for r in rows)}"
        )
        head = f"  {'window':<12}{'page alone':>12}"
        for r in rows:
            head += f"  {r.recorder + ' added [95%]':<34}"
        pair = rows[:2] if len(rows) >= 2 else []
        if pair:
            head += f"  {pair[0].recorder}/{pair[1].recorder} added"
        lines.append(head)
        for name in WINDOWS:
            a = [r.window(name) for r in rows]
            line = f"  {name:<12}{_mega(a[0].off):>12}"
            for w in a:
                cell = (
                    f"{_mega(w.added):>7} {_pct(w.ratio)} [{_pct(w.ratio_lo)}, {_pct(w.ratio_hi)}]"
                )
                line += f"  {cell:<34}"
            if pair:
                f = factor(a[0], a[1])
                line += f"  {f.estimate:.2f} [{f.lo:.2f}, {f.hi:.2f}]" if f is not None else "  -"
            lines.append(line)
        spreads = ", ".join(
            f"{name} {100 * rows[0].window(name).off_spread:.2f}%" for name in WINDOWS
        )
        lines.append(f"  page alone, spread (max-min)/mean over its loads: {spreads}")
        for r in rows:
            spreads = ", ".join(f"{name} {100 * r.window(name).on_spread:.2f}%" for name in WINDOWS)
            lines.append(f"  {r.recorder}, spread over its loads: {spreads}")
    return "\n".join(lines)
