"""Attribution of main-thread time to a recorder (harness.trace) on hand-made traces with known
answers: which task parts are the recorder's, thread time against wall time, windows."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness import trace
from harness.overhead import _interactions

PAGE = "http://127.0.0.1:1/page.html"
REC = "http://127.0.0.1:1/__rc/overhead-builtin.js"
PID, TID = 7, 1


def _x(name: str, ts: float, dur: float, tdur: float | None = None, url: str | None = None) -> Any:
    """A complete event on the page's main thread, times in ms."""
    e: dict[str, Any] = {"name": name, "ph": "X", "pid": PID, "tid": TID, "ts": ts * 1000}
    e["dur"] = dur * 1000
    e["tdur"] = (dur if tdur is None else tdur) * 1000
    if url is not None:
        e["args"] = {"data": {"url": url, "functionName": "f"}}
    return e


def _trace(*events: Any, load_at: float = 100.0) -> bytes:
    meta = [
        {
            "name": "thread_name",
            "ph": "M",
            "pid": PID,
            "tid": TID,
            "args": {"name": "CrRendererMain"},
        },
        {"name": "thread_name", "ph": "M", "pid": PID, "tid": 2, "args": {"name": "Compositor"}},
        {
            "name": "navigationStart",
            "ph": "R",
            "pid": PID,
            "tid": TID,
            "ts": 0,
            "args": {"data": {"documentLoaderURL": PAGE, "isOutermostMainFrame": True}},
        },
        {
            "name": "MarkLoad",
            "ph": "I",
            "pid": PID,
            "tid": TID,
            "ts": load_at * 1000,
            "args": {"data": {"isOutermostMainFrame": True}},
        },
    ]
    return json.dumps({"traceEvents": [*meta, *events]}).encode()


def _read(data: bytes) -> trace.LoadTrace:
    return trace.read(data, PAGE, lambda url: "/__rc/" in url)


def test_a_task_of_the_recorders_alone_is_its_whole() -> None:
    # A timer of the recorder's, then the microtasks it left (a CompressionStream's deflate).
    data = _trace(
        _x("RunTask", 10, 20),
        _x("TimerFire", 10.5, 15),
        _x("FunctionCall", 10.6, 14, url=REC),
        _x("RunMicrotasks", 26, 3.5),
    )
    load = _read(data)
    assert [round(sum(s.end - s.start for s in spans), 3) for spans in load.recorder] == [20]
    window = load.window(0, 100)
    assert (window.main_ms, window.recorder_ms, window.share) == (20, 20, 1.0)


def test_in_a_shared_task_only_the_recorders_runs_count() -> None:
    data = _trace(
        # a click: the page's listener and the recorder's in one dispatch
        _x("RunTask", 10, 30),
        _x("EventDispatch", 10, 30),
        _x("FunctionCall", 10, 20, url=PAGE),
        _x("FunctionCall", 30, 8, url=REC),
        # a frame: the recorder's animation-frame callback, then the page's style and layout
        _x("RunTask", 50, 30),
        _x("FireAnimationFrame", 50, 5),
        _x("FunctionCall", 50, 5, url=REC),
        _x("UpdateLayoutTree", 56, 10),
        _x("Layout", 66, 14),
        # the page's own script: nothing of it is the recorder's
        _x("RunTask", 85, 10),
        _x("FunctionCall", 85, 10, url=PAGE),
    )
    window = _read(data).window(0, 100)
    assert (window.main_ms, window.recorder_ms) == (70, 13)


def test_layout_a_recorder_forces_counts_with_it() -> None:
    data = _trace(
        _x("RunTask", 0, 40),
        _x("ParseHTML", 0, 10),
        _x("FunctionCall", 12, 25, url=REC),
        _x("Layout", 20, 15),  # nested in the recorder's run: it forced it
    )
    assert _read(data).window(0, 100).recorder_ms == 25


def test_a_dispatcher_whose_every_run_is_the_recorders_counts_whole() -> None:
    # Page parsing and, in the same task, microtasks that only run the recorder's code.
    data = _trace(
        _x("RunTask", 0, 50),
        _x("ParseHTML", 0, 30),
        _x("RunMicrotasks", 30, 20),
        _x("FunctionCall", 31, 8, url=REC),
        _x("FunctionCall", 40, 8, url=REC),
    )
    assert _read(data).window(0, 100).recorder_ms == 20


def test_native_compression_in_a_scriptless_task_is_the_recorders() -> None:
    data = _trace(
        _x("RunTask", 0, 12),
        _x("RunMicrotasks", 0.5, 11),
        _x("CompressionStream Deflate", 1, 10),
    )
    assert _read(data).window(0, 100).recorder_ms == 10


def test_shares_are_thread_time_and_windows_clip_pro_rata() -> None:
    # Descheduled half the time: wall 40, thread 20; the window holds its second half.
    data = _trace(
        _x("RunTask", 80, 40, tdur=20),
        _x("FunctionCall", 80, 40, tdur=20, url=REC),
        _x("RunTask", 130, 30, tdur=30),
        _x("FunctionCall", 130, 30, url=PAGE),
        load_at=100,
    )
    load = _read(data)
    assert load.load == 100
    before, after = load.window(0, load.load), load.window(load.load, 200)
    assert (before.main_ms, before.recorder_ms) == (10, 10)
    assert (after.main_ms, after.recorder_ms) == (40, 10)
    assert after.share == pytest.approx(0.25)
    # How long a task held the page is wall time: what a user waits for.
    assert load.longest_recorder_task(200) == 40


def test_tasks_before_the_navigation_and_other_threads_are_left_out() -> None:
    other = _x("RunTask", 10, 50)
    other["tid"] = 2
    data = _trace(_x("RunTask", -30, 20), other, _x("RunTask", 10, 5))
    assert _read(data).window(-100, 100).main_ms == 5


def test_a_trace_without_the_page_says_so() -> None:
    with pytest.raises(trace.TraceError, match="no navigation to http://elsewhere/"):
        trace.read(_trace(), "http://elsewhere/", lambda url: False)
    no_load = json.loads(_trace())
    no_load["traceEvents"] = [e for e in no_load["traceEvents"] if e["name"] != "MarkLoad"]
    with pytest.raises(trace.TraceError, match="no load event"):
        trace.read(json.dumps(no_load), PAGE, lambda url: False)


def test_an_interactions_latency_is_its_longest_event() -> None:
    # pointerdown and click of one interaction, a second one, and a pointermove (id 0: none).
    entries = [(100.0, 24.0, 1), (101.0, 40.0, 1), (300.0, 16.0, 2), (5.0, 30.0, 0)]
    assert sorted(_interactions(entries)) == [(100.0, 40.0), (300.0, 16.0)]
