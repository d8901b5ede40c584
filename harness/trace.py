"""Main-thread time a recorder caused, read from a Chrome trace of one page load.

Chromium's trace (the `devtools.timeline` and V8 categories, what DevTools' Performance panel
reads) has every task the page's main thread ran (RunTask), and inside it the script runs with
the URL of the script they belong to: a script's evaluation (EvaluateScript, v8.compile) and
every call into it (FunctionCall) from a timer, an observer, an event listener, an idle or
animation-frame callback. Style, layout and GC that a script forced are nested in its run, so
they count with it. Promise reactions are the exception: V8 runs them inside a microtask
checkpoint (RunMicrotasks) with no script run of their own, so they count as the recorder's
only inside a task that is the recorder's whole (below). V8's CPU profile in the trace would
say whose the others are (the fetch() calls of a recorder's requests, about 25 ms a load on
the 30,000-node table at 4x), but with the sampler on the recorder's own code ran 22% slower
(8 interleaved pairs): a measurement that moves what it measures, so it is not taken.

Attribution, per top-level task:
- a task whose every script run is the recorder's, and which did no rendering or parsing
  beside them, is the recorder's whole: the task's own cost, the microtasks it left (the native
  work of a CompressionStream it wrote to, say) and its GC;
- in any other task, the recorder's script runs, and each dispatcher (a timer firing, an event
  dispatch, a microtask checkpoint) all of whose script runs are the recorder's;
- native work a script starts that the trace does not tie to any script: a CompressionStream's
  deflate runs in microtasks of tasks with no script at all. Recorders compress their batches,
  pages seldom do: it is counted as the recorder's, and the loads without a recorder say how
  much of it the page has itself (their attributed time, which is otherwise 0).

The share is that time over all main-thread task time in the same window, both as thread time
(the trace's tdur: CPU time of the main thread, without the moments the OS gave the core to
something else). Both scale with how fast the machine is at that moment, so their ratio holds
where milliseconds do not. Under CDP's CPU throttling thread time is nearly wall time: Chromium's
throttler interrupts the main thread every 200 µs with a signal whose handler spins for
(rate - 1) times the wall time since the last one, in whatever task is running, so both sides
carry it alike (docs/overhead.md says how steady that leaves the share). How long a task
blocked the page is wall time (dur): that is what a user waits for.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# What Playwright's browser.start_tracing records: the task boundaries are in the
# disabled-by-default timeline category; script runs, layout and GC in devtools.timeline and V8.
CATEGORIES = (
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8.execute",
    "blink.user_timing",
)
TASK = "RunTask"
NATIVE = frozenset({"CompressionStream Deflate"})  # see above
# Script runs named by the script's URL (args.data.url).
SCRIPT_RUNS = frozenset({"FunctionCall", "EvaluateScript", "v8.compile", "v8.evaluateModule"})
# Work that is the page's own unless a script run forced it (then it is nested in that run).
RENDERING = frozenset(
    {
        "UpdateLayoutTree",
        "Layout",
        "PrePaint",
        "Paint",
        "Layerize",
        "Commit",
        "ParseHTML",
        "ParseAuthorStyleSheet",
        "HitTest",
        "Decode Image",
    }
)


@dataclass(frozen=True)
class Span:
    start: float  # wall clock, ms from navigation start
    end: float
    cpu: float  # thread time in it, ms

    def cpu_in(self, start: float, end: float) -> float:
        """The part of its thread time within [start, end), pro rata of its wall time."""
        wall = self.end - self.start
        inside = max(0.0, min(self.end, end) - max(self.start, start))
        return self.cpu * inside / wall if wall > 0 else 0.0


@dataclass(frozen=True)
class Window:
    """Main-thread time in [start, end), ms from navigation start."""

    start: float
    end: float
    main_ms: float  # every task's thread time
    recorder_ms: float  # the part attributed to the recorder

    @property
    def share(self) -> float:
        return self.recorder_ms / self.main_ms if self.main_ms else 0.0


@dataclass(frozen=True)
class LoadTrace:
    """One load's main thread: its tasks and the recorder's part of each."""

    load: float  # the load event, ms from navigation start
    tasks: Sequence[Span]
    recorder: Sequence[Sequence[Span]]  # per task, the spans attributed to the recorder

    def window(self, start: float, end: float) -> Window:
        main = sum(t.cpu_in(start, end) for t in self.tasks)
        mine = sum(s.cpu_in(start, end) for spans in self.recorder for s in spans)
        return Window(start, end, main, mine)

    def longest_recorder_task(self, end: float) -> float:
        """The most recorder time (wall clock) any one task before `end` held, ms: how long it
        kept the page from answering input."""
        return max(
            (
                sum(s.end - s.start for s in spans)
                for t, spans in zip(self.tasks, self.recorder, strict=True)
                if t.start < end
            ),
            default=0.0,
        )


class TraceError(ValueError):
    """The trace lacks what attribution needs (the page's navigation or load)."""


@dataclass
class _Node:
    name: str
    start: float  # µs
    end: float
    cpu: float  # thread time, µs
    url: str | None  # a script run's script URL, None for anything else
    children: list[_Node]


def read(data: bytes | str, page_url: str, is_recorder: Callable[[str], bool]) -> LoadTrace:
    """The load of `page_url` in a trace (Playwright's stop_tracing() bytes)."""
    parsed = json.loads(data)
    events: list[dict[str, Any]] = parsed["traceEvents"] if isinstance(parsed, dict) else parsed
    pid, nav = _navigation(events, page_url)
    tid = _main_thread(events, pid)
    load = _load(events, pid, nav)
    own = [e for e in events if e.get("pid") == pid and e.get("tid") == tid and e.get("ph") == "X"]
    tasks: list[Span] = []
    recorder: list[list[Span]] = []
    for task in _tree(own):
        if task.name != TASK or task.end <= nav:
            continue
        tasks.append(_span(task, nav))
        recorder.append([_span(n, nav) for n in attribute(task, is_recorder)])
    return LoadTrace((load - nav) / 1000, tasks, recorder)


def attribute(task: _Node, is_recorder: Callable[[str], bool]) -> list[_Node]:
    """The parts of `task` attributed to the recorder (see the module's docstring)."""
    runs = list(_script_runs(task))
    if runs and all(is_recorder(r.url or "") for r in runs) and not _renders(task):
        return [task]
    return list(_recorder_parts(task, is_recorder))


def _recorder_parts(node: _Node, is_recorder: Callable[[str], bool]) -> Iterator[_Node]:
    for child in node.children:
        if child.name in NATIVE:
            yield child
        elif child.url is not None:
            if is_recorder(child.url):
                yield child
            continue
        runs = list(_script_runs(child))
        if runs and all(is_recorder(r.url or "") for r in runs) and not _renders(child):
            yield child
        else:
            yield from _recorder_parts(child, is_recorder)


def _script_runs(node: _Node) -> Iterator[_Node]:
    """The outermost script runs under `node`."""
    for child in node.children:
        if child.url is not None:
            yield child
        else:
            yield from _script_runs(child)


def _renders(node: _Node) -> bool:
    """Rendering or parsing under `node` outside any script run: the page's work."""
    return any(c.url is None and (c.name in RENDERING or _renders(c)) for c in node.children)


def _tree(events: Iterable[dict[str, Any]]) -> list[_Node]:
    """Complete events of one thread, nested by time (a trace nests them properly)."""
    roots: list[_Node] = []
    stack: list[_Node] = []
    for e in sorted(events, key=lambda e: (e["ts"], -e.get("dur", 0))):
        start = float(e["ts"])
        wall = float(e.get("dur", 0))
        # A few events carry no thread time (tdur): counted as their wall time.
        node = _Node(e["name"], start, start + wall, float(e.get("tdur", wall)), _url(e), [])
        while stack and stack[-1].end <= start:
            stack.pop()
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    return roots


def _span(n: _Node, nav: float) -> Span:
    return Span((n.start - nav) / 1000, (n.end - nav) / 1000, n.cpu / 1000)


def _url(e: dict[str, Any]) -> str | None:
    if e["name"] not in SCRIPT_RUNS:
        return None
    data = e.get("args", {}).get("data")
    url = data.get("url") if isinstance(data, dict) else None
    return url if isinstance(url, str) else ""


def _navigation(events: Sequence[dict[str, Any]], page_url: str) -> tuple[int, float]:
    """The renderer process and the time (µs) of the page's navigation start."""
    found = [
        e
        for e in events
        if e.get("name") == "navigationStart"
        and e.get("args", {}).get("data", {}).get("documentLoaderURL") == page_url
    ]
    if not found:
        raise TraceError(f"the trace has no navigation to {page_url}")
    return int(found[-1]["pid"]), float(found[-1]["ts"])


def _main_thread(events: Sequence[dict[str, Any]], pid: int) -> int:
    for e in events:
        if (
            e.get("ph") == "M"
            and e.get("pid") == pid
            and e.get("name") == "thread_name"
            and e.get("args", {}).get("name") == "CrRendererMain"
        ):
            return int(e["tid"])
    raise TraceError(f"the trace has no main thread for renderer {pid}")


def _load(events: Sequence[dict[str, Any]], pid: int, nav: float) -> float:
    loads = [
        float(e["ts"])
        for e in events
        if e.get("name") == "MarkLoad"
        and e.get("pid") == pid
        and e["ts"] >= nav
        and e.get("args", {}).get("data", {}).get("isOutermostMainFrame")
    ]
    if not loads:
        raise TraceError("the trace has no load event of the page")
    return min(loads)
